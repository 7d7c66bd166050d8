//! ## What it does
//! Reads each rendered workload with its PodDisruptionBudget and flags a budget that allows
//! no eviction at the workload's replica count on that cluster: `minAvailable` equal to
//! (or above) the replicas, or `maxUnavailable: 0`. A workload is a Deployment, StatefulSet
//! or ReplicaSet, or any other kind with a pod template at `spec.template` that sets
//! `spec.replicas` or that a HorizontalPodAutoscaler scales (an Argo Rollout, an OpenKruise
//! CloneSet): a drain evicts their pods alike. Replicas are the workload's `spec.replicas`,
//! else its HorizontalPodAutoscaler's `minReplicas`. Two budgets that select the same pods
//! allow none either: the eviction API refuses to evict a pod more than one budget selects.
//! A budget selects the pods its `selector` does as the eviction API reads it: every
//! `matchLabels` entry and every `matchExpressions` requirement (`In`, `NotIn`, `Exists`,
//! `DoesNotExist`; `NotIn` and `DoesNotExist` hold on a pod without the key); a budget with
//! an empty selector selects none.
//!
//! ## Why is this bad?
//! A node drain evicts pods through the budget. A budget that allows no eviction makes
//! every drain wait forever: node-pool upgrades, Kubernetes upgrades and spot or
//! maintenance evictions stall on that cluster until someone deletes the budget by hand,
//! usually in the middle of the upgrade window.
//!
//! ## Example
//! ```yaml
//! # apps/web/templates/poddisruptionbudget.yaml.j2, for a workload with 2 replicas
//! spec:
//!   minAvailable: 2
//! ```
//!
//! ## Use instead
//! `maxUnavailable: 1` (fleetgen's built-in budget), or a `minAvailable` below the
//! replicas each cluster runs.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Label};
use crate::lint::Context;
use crate::lint::query::{and_list, find_in};
use crate::source::FileId;
use crate::lint::rule;

rule!("FG130" "pdb-blocks-eviction", "capacity", Error, Lint, "a PodDisruptionBudget that allows no eviction at the replicas a cluster runs (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    // (app, budget template, budget field, budget rule) → clusters with their replicas
    type Found<'a> = BTreeMap<(String, FileId, &'a str, String), BTreeSet<(String, u32)>>;
    let mut found: Found = BTreeMap::new();
    // Drained or scaled to zero: no pods for a budget to hold.
    for p in ctx.plan.placements.iter().filter(|p| p.drained.is_none() && p.scaled_down.is_none()) {
        for w in ctx.workloads(p) {
            let Some(b) = &w.budget else { continue };
            if b.allowed > 0 {
                continue;
            }
            found
                .entry((p.app_name().to_string(), b.object.template, b.field, b.rule.clone()))
                .or_default()
                .insert((p.cluster_id().to_string(), w.replicas));
        }
    }
    for ((app, template, field, rule), clusters) in found {
        let span = find_in(&ctx.sources.files, template, field);
        let list: Vec<String> = clusters.iter().map(|(c, r)| format!("`{c}` ({r})")).collect();
        let mut d = Diagnostic::error(
            &RULE.code,
            &ctx.sources.files,
            Label::new(template, span, rule.clone()),
            format!(
                "the PodDisruptionBudget of `{app}` ({rule}) allows no eviction at the replicas it runs on {}: node drains there never finish",
                and_list(&list)
            ),
        )
        .with_help(if field == "selector" {
            "keep one PodDisruptionBudget for these pods (fleetgen renders one when `runtime.podDisruptionBudget` is `required`)"
        } else {
            "use `maxUnavailable: 1`, or a minAvailable below every cluster's replicas"
        })
        .for_app(app.as_str());
        if let [(cluster, _)] = clusters.iter().collect::<Vec<_>>()[..] {
            d = d.on_cluster(cluster.as_str());
        }
        out.push(d);
    }
}
