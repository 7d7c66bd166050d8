//! ## What it does
//! Flags an app whose `minReplicasPerRegion`, spread over the clusters of a region (each
//! gets its share, rounded up), leaves a cluster with so few replicas that its
//! PodDisruptionBudget lets all of them be evicted at once: typically one replica under
//! fleetgen's `maxUnavailable: 1`. The budget's minimum, one pod still serving during a
//! drain, cannot be kept.
//!
//! ## Why is this bad?
//! `podDisruptionBudget: required` promises that voluntary disruptions (node drains,
//! upgrades) never take the app down on a cluster. With one replica on a cluster, the first
//! drain evicts it and the app is down there until it is rescheduled and ready; traffic
//! routed to that cluster fails meanwhile. Adding a cluster to a region quietly halves
//! every app's share, which is how this usually happens.
//!
//! Placements in a standby region (`pilot-light`, `warm-standby`: see the standby shape in
//! the README) are not flagged: they run few replicas by design and take no traffic until
//! a failover, when the autoscaler grows them. Nor are placements an incident switch scales
//! down to no replicas (`switches.scaleDown`): a drain has nothing to evict there. Nor is a
//! workload whose replicas are not the cluster's share of the contract's (a template's own
//! one-replica worker beside the app): raising the contract's minimum would not change it.
//! A chart app's workload is the chart's, with the replicas fleetgen gives it
//! (`replicaCount`) and its budget of `maxUnavailable: 1`.
//!
//! ## Example
//! ```yaml
//! # two prod clusters in aws:us-east-1
//! runtime: { minReplicasPerRegion: 2, podDisruptionBudget: required }   # 1 replica per cluster
//! ```
//!
//! ## Use instead
//! Give the region at least two replicas per cluster (`minReplicasPerRegion: 4`), or
//! narrow the placement (cells, purposes) so fewer clusters share the region's replicas.

use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::lint::query::{and_list, origin_label};
use crate::lint::{Context, region_of};
use crate::lint::rule;

rule!("FG131" "replicas-below-pdb-minimum", "capacity", Warning, Lint, "a region's replicas spread so thin that a cluster's PodDisruptionBudget cannot keep one running (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    // app → (a placement, cluster descriptions)
    let mut found: BTreeMap<&str, (usize, Vec<String>)> = BTreeMap::new();
    for (i, p) in ctx.plan.placements.iter().enumerate() {
        let scaled_down = matches!(
            p.replicas.standby,
            Some(crate::model::app::DataMode::PilotLight | crate::model::app::DataMode::WarmStandby)
        );
        if p.drained.is_some() || scaled_down {
            continue;
        }
        // (replicas, what the budget lets a drain evict at once) of each workload: the
        // rendered ones, or a chart app's, which the chart renders from `replicaCount` beside
        // the budget of `maxUnavailable: 1` fleetgen gives it (its own PodDisruptionBudget,
        // or a Bitnami chart's `pdb`).
        let mut shapes: Vec<(u32, i64)> = (ctx.workloads(p).iter())
            .filter_map(|w| Some((w.replicas, w.budget.as_ref()?.allowed)))
            .collect();
        if p.app.value.chart.is_some() && p.pod_disruption_budget.value && p.scaled_down.is_none() {
            shapes.push((p.replicas.min, 1));
        }
        for (replicas, allowed) in shapes {
            // Scaled down to none on purpose (an incident switch): nothing for a drain to evict.
            // A workload whose replicas are not the cluster's share of the contract's (a
            // template's own one-replica worker) is not the spread's doing.
            if replicas == 0 || replicas != p.replicas.min || allowed < i64::from(replicas) || allowed <= 0 {
                continue;
            }
            let entry = found.entry(p.app_name()).or_insert((i, Vec::new()));
            entry.1.push(format!(
                "`{}` ({} of {} in {} {}, over {} cluster{})",
                p.cluster_id(),
                replicas,
                p.replicas.min * p.replicas.share.max(1),
                region_of(p),
                p.cluster.value.environment,
                p.replicas.share,
                if p.replicas.share == 1 { "" } else { "s" }
            ));
        }
    }
    for (app, (i, clusters)) in found {
        let p = &ctx.plan.placements[i];
        let label = origin_label(
            &p.replicas.min_origin,
            p.app,
            &["runtime"],
            "spread over the region's clusters",
        );
        let mut d = Diagnostic::error(
            &RULE.code,
            &ctx.sources.files,
            label,
            format!(
                "`{app}` runs so few replicas on {} that its PodDisruptionBudget lets a drain evict all of them",
                and_list(&clusters)
            ),
        )
        .with_help(
            "raise minReplicasPerRegion to at least two per cluster of the region, or place the app on fewer clusters",
        )
        .for_app(app);
        if clusters.len() == 1 {
            d = d.on_cluster(p.cluster_id());
        }
        out.push(d);
    }
}
