//! ## What it does
//! Checks N-1 failover headroom of tier-0 and tier-1 apps: for each region the app runs in
//! (per environment), the other regions' `maxReplicasPerRegion` together must cover the app's
//! demand, the replicas its serving regions run at their minimum.
//!
//! A serving region takes requests while all is healthy: one of the edges' first-priority
//! origins (as FG100 reads them: under `failover` the first region only; under `latency`,
//! `weighted-global` and `single-region` not `role: standby` clusters nor weight-0 last
//! resorts; under `geo` every region), or one where an app whose `dependsOn` names it takes
//! requests, since a dependent calls it in its own cluster. An app without `traffic.routing`
//! serves wherever it runs. The other regions are idle capacity, not demand, and so is a
//! standby region of the data (under `pilot-light`, `warm-standby` or `hot-standby`, a region
//! outside `data.writeRegions`): their replicas wait for the serving regions' load, and their
//! maximum (the contract's, which the planner keeps for that) is there to absorb it. Drained
//! and scaled-down placements do not count.
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
//! whole demand (here at least 8), or add a region. An active-passive design (`routing:
//! failover`, or a `role: standby` cluster) whose passive region no dependent calls needs
//! only the active region's demand.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::Diagnostic;
use crate::lint::query::{and_list, origin_label, serving_regions};
use crate::lint::rule;
use crate::lint::{Context, region_of};
use crate::model::{Criticality, Environment};

rule!("FG163" "failover-headroom", "placement", Error, Lint, "a tier-0/1 app whose other regions cannot absorb one failed region (N-1) (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        if !matches!(app.application.criticality, Criticality::Tier0 | Criticality::Tier1) {
            continue;
        }
        let name = app.application.name.as_str();
        // environment → region → (demand, max) of the region: its minimum where it serves,
        // else nothing: a region that takes no requests (no first-priority origin, no
        // dependent calling there) or a standby region (the planner's standby shape) serves no
        // load of its own. Its maximum is the contract's, so it can absorb the serving regions'.
        let mut by_env: BTreeMap<String, BTreeMap<String, (u32, u32)>> = BTreeMap::new();
        let mut serving: BTreeMap<Environment, BTreeSet<String>> = BTreeMap::new();
        let mut origin = None;
        for p in ctx.running(name) {
            origin.get_or_insert_with(|| p.replicas.max_origin.clone());
            let env = p.cluster.value.environment;
            let serves = serving.entry(env).or_insert_with(|| serving_regions(ctx, doc, env));
            let region = region_of(p);
            let demand = if p.replicas.standby.is_some() || !serves.contains(&region) {
                0
            } else {
                p.replicas.region_min
            };
            by_env.entry(env.to_string()).or_default().insert(region, (demand, p.replicas.region_max));
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
