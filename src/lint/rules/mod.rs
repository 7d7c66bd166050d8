//! The rule catalogue: one file per rule, grouped by family. A rule's `//!` doc comment is
//! its documentation (`fleetgen explain CODE` prints it).

pub mod active_active {
    pub mod critical_single_region;
    pub mod cross_region_sync_call;
    pub mod failover_over_manual_promotion;
    pub mod fake_active_active;
    pub mod multi_region_claim;
    pub mod no_regional_key_vault;
    pub mod regional_without_routing_key;
    pub mod registry_without_replica;
    pub mod rpo_rto_unreachable;
    pub mod unsafe_multi_writer;
}

pub mod labels {
    pub mod label_value;
    pub mod managed_label_override;
    pub mod missing_telemetry_label;
}

pub mod capacity {
    pub mod pdb_blocks_eviction;
    pub mod replicas_below_pdb_minimum;
    pub mod zone_spread_short;
}

pub mod drift {
    pub mod later_ring_ahead;
    pub mod profile_contradiction;
    pub mod region_without_earlier_ring;
    pub mod ring_version_skew;
    pub mod undocumented_cluster;
}
