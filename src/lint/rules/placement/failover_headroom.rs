//! ## What it does
//! Checks N-1 failover headroom of tier-0 and tier-1 apps: for each region the app runs in
//! (per environment), the other regions' `maxReplicasPerRegion` together must cover the app's
//! demand, the replicas its serving regions run at their minimum. A standby region (under
//! `pilot-light`, `warm-standby` or `hot-standby`, a region outside `data.writeRegions`) is
//! idle capacity, not demand: its replicas wait for the write region's load, and its maximum
//! (the contract's, which the planner keeps for that) is there to absorb it. Drained
//! placements do not count.
//!
//! ## Why is this bad?
//! When a region fails, its traffic moves to the survivors, and their autoscalers can grow
//! only to their maximum. A maximum sized for one region's share leaves the survivors
//! saturated exactly when the business most needs the app: the failover "works" and the app
//! is down anyway.
//!
//! ## Example
//! ```yaml
//! application: { criticality: tier-1, … }
//! placement:   { environments: [prod], regions: [azure:eastus, aws:us-east-1] }
//! runtime:     { minReplicasPerRegion: 4, maxReplicasPerRegion: 6 }   # one survivor: 6 < 8
//! ```
//!
//! ## Use instead
//! Raise `maxReplicasPerRegion` so that the regions left after any one fails can run the
//! whole demand (here at least 8), or add a region.

use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::lint::query::{and_list, origin_label};
use crate::lint::rule;
use crate::lint::{Context, region_of};
use crate::model::Criticality;

rule!("FG163" "failover-headroom", "placement", Error, Lint, "a tier-0/1 app whose other regions cannot absorb one failed region (N-1) (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        if !matches!(app.application.criticality, Criticality::Tier0 | Criticality::Tier1) {
            continue;
        }
        let name = app.application.name.as_str();
        // environment → region → (demand, max) of the region: its minimum, or nothing for a
        // standby region (the planner's standby shape), whose replicas serve no load of their
        // own. Its maximum is the contract's, so a standby region can absorb the write regions'.
        let mut by_env: BTreeMap<String, BTreeMap<String, (u32, u32)>> = BTreeMap::new();
        let mut origin = None;
        for p in ctx.running(name) {
            origin.get_or_insert_with(|| p.replicas.max_origin.clone());
            let demand = if p.replicas.standby.is_some() { 0 } else { p.replicas.region_min };
            by_env
                .entry(p.cluster.value.environment.to_string())
                .or_default()
                .insert(region_of(p), (demand, p.replicas.region_max));
        }
        let Some(origin) = origin else { continue };
        for (env, regions) in by_env {
            if regions.len() < 2 {
                continue; // one region is FG104's
            }
            let demand: u32 = regions.values().map(|(min, _)| min).sum();
            let total: u32 = regions.values().map(|(_, max)| max).sum();
            let short: Vec<(String, u32)> = regions
                .iter()
                .map(|(r, (_, max))| (r.clone(), total - max))
                .filter(|(_, left)| *left < demand)
                .collect();
            let Some(worst) = short.iter().map(|(_, left)| *left).min() else {
                continue;
            };
            let failed: Vec<String> = short.iter().map(|(r, _)| format!("`{r}`")).collect();
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    origin_label(&origin, doc, &["runtime"], "the most each region can run"),
                    format!(
                        "`{name}` ({}) needs {demand} replicas in {env}, but when {} fails the other regions can run only {worst}",
                        app.application.criticality,
                        and_list(&failed).replace(" and ", " or ")
                    ),
                )
                .with_secondary(doc.label(&["placement", "regions"], format!("{} regions in {env}", regions.len())))
                .with_help(format!(
                    "raise `maxReplicasPerRegion` so that the regions left after any one fails can run {demand} replicas, or add a region"
                ))
                .for_app(name),
            );
        }
    }
}
