//! The rule catalogue: one file per rule, grouped by family. A rule's `//!` doc comment is
//! its documentation (`fleetgen explain CODE` prints it).

pub mod active_active {
    pub mod critical_single_region;
    pub mod failover_over_manual_promotion;
    pub mod fake_active_active;
    pub mod multi_region_claim;
    pub mod regional_without_routing_key;
    pub mod unsafe_multi_writer;
}
