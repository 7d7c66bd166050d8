//! ## What it does
//! Flags an app that asks for zone spread (`topologySpread: zone`) on a cluster with fewer
//! availability zones (the cluster's `zones`) than its replicas there need: each of the
//! first three replicas should have a zone of its own, so `min(replicas, 3)` zones are
//! needed. Clusters that do not declare `zones` are not checked.
//!
//! ## Why is this bad?
//! Zone spread is the promise that one zone's outage leaves most of the app running. On a
//! single-zone cluster the constraint is satisfied trivially and every replica shares the
//! zone; with two zones and three replicas, one zone's loss takes two thirds of the app.
//! The contract reads as zone-resilient and is not.
//!
//! ## Example
//! ```yaml
//! # clusters/azure-westus3-prod-standby-01.yaml: zones: 1
//! runtime: { minReplicasPerRegion: 3, topologySpread: zone }
//! ```
//!
//! ## Use instead
//! Run the app on clusters whose node pools span three zones (`zones: 3`), or say what the
//! cluster gives: `topologySpread: hostname`.

use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::query::{and_list, origin_label};
use crate::model::app::TopologySpread;
use crate::lint::rule;

rule!("FG132" "zone-spread-short", "capacity", Warning, Lint, "zone spread on a cluster with fewer zones than the replicas need (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    // app → the placements short of zones (their indices in the plan) and how, in plan order.
    let mut found: BTreeMap<&str, (Vec<usize>, Vec<String>)> = BTreeMap::new();
    for (i, p) in ctx.plan.placements.iter().enumerate() {
        if p.drained.is_some() || p.topology_spread.value != TopologySpread::Zone {
            continue;
        }
        let Some(zones) = p.cluster.value.zones else { continue };
        let replicas = ctx.workloads(p)
            .iter()
            .map(|w| w.replicas)
            .max()
            .unwrap_or(p.replicas.min);
        let need = replicas.min(3);
        if zones >= need {
            continue;
        }
        let entry = found.entry(p.app_name()).or_default();
        entry.0.push(i);
        entry.1.push(format!(
            "`{}` ({replicas} replicas, {zones} zone{})",
            p.cluster_id(),
            if zones == 1 { "" } else { "s" }
        ));
    }
    for (app, (short, clusters)) in found {
        let p = &ctx.plan.placements[short[0]];
        let label = origin_label(&p.topology_spread.origin, p.app, &["runtime"], "zone spread");
        let mut d = Diagnostic::error(
            &RULE.code,
            &ctx.sources.files,
            label,
            format!(
                "`{app}` asks for zone spread but runs on {} with fewer zones than its replicas need",
                and_list(&clusters)
            ),
        )
        .with_help("place it on clusters spanning three zones, or use `topologySpread: hostname`")
        .for_app(app);
        // Each cluster the message names, at its `zones`.
        for i in &short {
            d = d.with_secondary(ctx.plan.placements[*i].cluster.label(&["zones"], "zones of this cluster"));
        }
        if clusters.len() == 1 {
            d = d.on_cluster(p.cluster_id());
        }
        out.push(d);
    }
}
