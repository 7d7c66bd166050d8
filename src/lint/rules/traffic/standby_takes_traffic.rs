//! ## What it does
//! Flags an app with `routing: failover` whose standby gets traffic in normal operation:
//! the region the edge puts first (the first region of `placement.regions` that has a
//! cluster in the edge entry's environment) is not a write region of `data.writeRegions`,
//! or the first region of the placement has no cluster there, so a later one is promoted
//! without anyone deciding it.
//!
//! ## Why is this bad?
//! Failover routing promises one primary and standbys that stay idle until the primary
//! fails. When the edge's first priority is a standby, every request goes to the replica:
//! writes fail or land on data that a promotion will discard, and the failover runbook,
//! which moves traffic *to* the standby, does nothing.
//!
//! ## Example
//! ```yaml
//! placement: { environments: [prod], regions: [azure:westus3, azure:eastus] }
//! traffic:   { exposure: public, routing: failover, failover: manual-confirmed,
//!              hostnames: [ledger.example.com], port: 8080 }
//! data:      { mode: warm-standby, writeRegions: [azure:eastus], rpo: 15m, rto: 1h }
//! ```
//!
//! ## Use instead
//! List the write region first: `regions: [azure:eastus, azure:westus3]`.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::model::app::Routing;
use crate::resolve::edge;

rule!("FG152" "standby-takes-traffic", "traffic", Error, Lint, "a failover app whose standby region gets the edge's traffic in normal operation (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::BTreeSet::new();
    for route in edge::routes(ctx.sources) {
        if route.routing != Routing::Failover || route.origins.is_empty() {
            continue;
        }
        let a = &route.app.value;
        let name = a.application.name.as_str();
        // Normal operation: every switch off, the lowest priority takes the traffic.
        let first = route.origins.iter().map(|o| o.rank).min().unwrap_or(0);
        let Some(primary) = route.origins.iter().find(|o| o.rank == first) else { continue };
        let planned = a.placement.regions.first().map(ToString::to_string).unwrap_or_default();
        let env = route.entry.environment();
        // A primary whose clusters are all drained is a kill switch at work, not a design.
        let planned_has_cluster = ctx.sources.clusters.iter().any(|c| {
            let v = &c.value;
            v.environment == env
                && format!("{}:{}", v.provider, v.region) == planned
                && crate::resolve::placement::selects(a, v)
        });
        let message = if primary.region != planned && planned_has_cluster {
            continue;
        } else if primary.region != planned {
            format!(
                "`{name}` fails over from `{planned}`, which has no cluster in {env}: standby region `{}` takes all of its traffic behind {}",
                primary.region,
                route.entry.describe()
            )
        } else if let Some(data) = &a.data
            && !data.write_regions.is_empty()
            && !data.write_regions.iter().any(|w| w.to_string() == primary.region)
        {
            format!(
                "`{name}` sends its traffic to `{}` first, but its data is written in {}: the standby takes the traffic",
                primary.region,
                data.write_regions.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ")
            )
        } else {
            continue;
        };
        if !seen.insert(message.clone()) {
            continue;
        }
        let mut d = Diagnostic::error(
            &RULE.code,
            &ctx.sources.files,
            route.app.label(&["placement", "regions"], "the first region is the primary"),
            message,
        )
        .with_help("list the primary (write) region first in `placement.regions`, with a cluster in every environment the edge serves")
        .for_app(name);
        if a.data.as_ref().is_some_and(|d| !d.write_regions.is_empty()) {
            d = d.with_secondary(route.app.label(&["data", "writeRegions"], "written here"));
        }
        out.push(d);
    }
}
