//! The rule catalogue: one file per rule, grouped by family. A rule's `//!` doc comment is
//! its documentation (`fleetgen explain CODE` prints it) and its `rule!` line its code.
//! Adding a rule: its file, its name in its family's list below, its specs in
//! `tests/specs/<family>/<rule>/`.

macro_rules! families {
    ($($family:ident { $($rule:ident),* $(,)? })*) => {
        $(pub mod $family { $(pub mod $rule;)* })*
        /// Every rule, family by family.
        pub static ALL: &[&crate::lint::Rule] = &[$($(&$family::$rule::RULE,)*)*];
    };
}

families! {
    active_active {
        critical_single_region,
        cross_region_sync_call,
        failover_over_manual_promotion,
        fake_active_active,
        multi_region_claim,
        no_regional_key_vault,
        regional_without_routing_key,
        registry_without_replica,
        rpo_rto_unreachable,
        unsafe_multi_writer,
    }
    capacity {
        pdb_blocks_eviction,
        replicas_below_pdb_minimum,
        zone_spread_short,
    }
    drift {
        chart_version_range,
        later_ring_ahead,
        policy_skips_ring,
        profile_contradiction,
        region_without_earlier_ring,
        release_skips_ring,
        removed_api,
        ring_version_skew,
        template_limits,
        undocumented_cluster,
        unsupported_version,
        unused_ring_pin,
        upgrade_window_past,
    }
    labels {
        label_value,
        managed_label_override,
        missing_telemetry_label,
        selector_misses_pod_template,
    }
    placement {
        backup_rpo_unmet,
        cluster_below_app_criticality,
        critical_without_data,
        failover_headroom,
        placement_target_dropped,
        residency_violation,
        standby_only_environment,
        write_region_unserved,
    }
    secrets {
        credential_pattern,
        identity_across_environments,
        plaintext_credential,
        secret_object,
        shared_identity,
    }
    traffic {
        app_out_of_rotation,
        hostname_conflict,
        origin_without_gateway,
        probe_route_missing,
        proxy_namespace_unset,
        public_without_edge,
        service_selects_other_workloads,
        standby_takes_traffic,
        weights_without_total,
    }
}
