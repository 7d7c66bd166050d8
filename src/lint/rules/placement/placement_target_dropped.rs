//! ## What it does
//! Warns when a region or an environment that `placement` names gets no placement at all,
//! although clusters serve it: `placement.cells` or `placement.purposes` filtered every one
//! of them out.
//!
//! ## Why is this bad?
//! The contract says the app runs in that region (or environment), and reviewers read it so;
//! a filter elsewhere in the same block silently takes it away. A region dropped this way is
//! often the one the app is meant to fail over to.
//!
//! ## Example
//! ```yaml
//! # the only westeurope clusters have purpose `regulated`
//! placement: { environments: [prod], regions: [azure:eastus, azure:westeurope], purposes: [shared-apps] }
//! ```
//!
//! ## Use instead
//! Remove the region (or environment) from the contract if the app is not meant to run
//! there, or widen `cells`/`purposes` so that a cluster of it is selected.

use crate::diag::Diagnostic;
use crate::lint::rule;
use crate::lint::{Context, region_of};
use crate::model::App;
use crate::model::common::Environment;

rule!("FG161" "placement-target-dropped", "placement", Warning, Lint, "a region or environment the placement names that its cells or purposes filter out entirely (lint)");

/// The secondary labels: the filters that took the target away.
fn filters(doc: &crate::load::Doc<App>) -> Vec<crate::diag::Label> {
    let p = &doc.value.placement;
    let mut out = Vec::new();
    if !p.cells.is_empty() {
        out.push(doc.label(&["placement", "cells"], "filters by cell"));
    }
    if !p.purposes.is_empty() {
        out.push(doc.label(&["placement", "purposes"], "filters by purpose"));
    }
    out
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let clusters: Vec<&crate::model::Cluster> = ctx.sources.clusters.iter().map(|d| &d.value).collect();
    // Each cluster's `provider:region`, made once rather than for each app and region.
    let regions: Vec<String> = clusters.iter().map(|c| format!("{}:{}", c.provider, c.region)).collect();
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let name = app.application.name.as_str();
        let placed = ctx.placements_of(name);
        for (i, region) in app.placement.regions.iter().enumerate() {
            let region = region.to_string();
            let served = (clusters.iter().zip(&regions))
                .any(|(c, r)| *r == region && app.placement.environments.contains(&c.environment));
            if !served || placed.iter().any(|p| region_of(p) == region) {
                continue; // unserved is FG024
            }
            let mut d = Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.item_label(&["placement", "regions"], i, "no cluster of this region is selected"),
                format!("`{name}` names region `{region}`, but its placement selects no cluster there"),
            )
            .with_help("drop the region from the contract, or widen `cells`/`purposes` to a cluster of it")
            .for_app(name);
            for l in filters(doc) {
                d = d.with_secondary(l);
            }
            out.push(d);
        }
        for (i, env) in app.placement.environments.iter().enumerate() {
            let served = clusters.iter().any(|c| {
                c.environment == *env
                    && app
                        .placement
                        .regions
                        .iter()
                        .any(|r| r.provider == c.provider && r.region == c.region)
            });
            let env: Environment = *env;
            if !served || placed.iter().any(|p| p.cluster.value.environment == env) {
                continue;
            }
            let mut d = Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.item_label(&["placement", "environments"], i, "no cluster of this environment is selected"),
                format!("`{name}` names environment `{env}`, but its placement selects no cluster there"),
            )
            .with_help("drop the environment from the contract, or widen `cells`/`purposes` to a cluster of it")
            .for_app(name);
            for l in filters(doc) {
                d = d.with_secondary(l);
            }
            out.push(d);
        }
    }
}
