//! ## What it does
//! Flags an app that lands on a prod cluster of a lower criticality tier than its own: a
//! tier-0 app on a tier-1 cluster, a tier-1 app on a tier-2 cluster. Only prod clusters are
//! compared; staging and sandbox clusters run critical apps by design.
//!
//! ## Why is this bad?
//! A cluster's `criticality` decides how the platform runs it: its upgrade care, its on-call
//! rota, its capacity reserve, its support plan. An app placed on a cluster of a lower tier
//! gets that lower tier's care, whatever its own contract says.
//!
//! ## Example
//! ```yaml
//! # apps/payments-api/app.yaml
//! application: { name: payments-api, criticality: tier-0, … }
//! # clusters/azure-eastus-prod-platform-01.yaml
//! criticality: tier-1
//! ```
//!
//! ## Use instead
//! Raise the cluster's `criticality` to the highest tier it carries (and run it so), or
//! select clusters of the app's tier with `placement.cells` or `purposes`.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::model::common::Environment;

rule!("FG166" "cluster-below-app-criticality", "placement", Error, Lint, "an app on a prod cluster of a lower criticality tier than its own (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for p in ctx.plan.placements.iter().filter(|p| p.drained.is_none()) {
        let c = &p.cluster.value;
        let a = &p.app.value.application;
        // Tiers sort tier-0 first: a greater cluster tier is a lower criticality.
        if c.environment != Environment::Prod || c.criticality <= a.criticality {
            continue;
        }
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                p.app.label(&["application", "criticality"], a.criticality.as_str()),
                format!(
                    "`{}` is {} but lands on `{}`, a {} cluster",
                    a.name, a.criticality, c.cluster_id, c.criticality
                ),
            )
            .with_secondary(p.cluster.label(&["criticality"], c.criticality.as_str()))
            .with_help("raise the cluster's `criticality` to the tiers it carries, or place the app on clusters of its tier")
            .for_app(a.name.as_str())
            .on_cluster(c.cluster_id.as_str()),
        );
    }
}
