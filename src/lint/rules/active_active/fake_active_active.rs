//! ## What it does
//! Flags an app whose traffic goes to two or more regions of one environment at once while
//! its data is not written in each of them: a single-writer mode (a standby mode,
//! `backup-restore`, `pilot-light`, `warm-standby`, `hot-standby`, or
//! `regional-primary-with-standby`), a single `writeRegions` entry, or `active-active` or
//! `regional` data whose `writeRegions` leave out a region that takes traffic (a `regional`
//! app without `writeRegions` writes its tenants in every region).
//!
//! The regions that take traffic are those of the clusters the edges put first, as the
//! contract routes them (every kill switch off), per environment: under `latency`,
//! `weighted-global` and `single-region` (which the edges serve like weighted routing: one
//! Front Door priority, equal Route 53 weights), every region the app runs in except its
//! `role: standby` clusters and, under `traffic.weights`, the clusters they give no weight,
//! which Front Door puts one priority later; under `geo`, every region (each gets its
//! continent's traffic); under `failover`, the first region only. The finding names the
//! highest environment where this holds.
//!
//! ## Why is this bad?
//! It looks active-active and is not. Every region takes requests, but writes from all but
//! the writing regions cross the world to a writer: each write pays the inter-region
//! latency, and when that writer's region fails, the regions that wrote through it fail
//! with it. The design promises the availability of active-active and delivers the blast
//! radius of a single region, which is the anti-pattern the architecture notes call "fake
//! active-active". `routing: single-region` does not make it honest: over a placement in
//! several regions, every region still takes traffic. Nor does a `traffic.routingKey`: the
//! edges send a request to a region by latency, weight or continent, not by its tenant, so a
//! region that takes traffic but holds no partition sends every write to another region.
//!
//! ## Example
//! ```yaml
//! placement: { environments: [prod], regions: [azure:eastus, aws:us-east-1] }
//! traffic:   { exposure: public, routing: weighted-global, failover: automatic }
//! data:      { mode: regional-primary-with-standby, writeRegions: [azure:eastus], rpo: 5m, rto: 30m }
//! ```
//!
//! ## Use instead
//! Say what the design really is:
//! - active-passive: `routing: failover` sends traffic to the write region and moves it on failover;
//! - single-region: `routing: single-region` over a placement in one region;
//! - partitioned: `mode: regional` with a `traffic.routingKey`, each region that takes traffic
//!   writing its own tenants (in `writeRegions`, when it is given);
//! - true multi-writer: `mode: active-active` with every region that takes traffic in
//!   `writeRegions`, `conflictResolution` and `idempotentWrites: true`.

use std::collections::BTreeSet;

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::query::and_list;
use crate::lint::rule;
use crate::model::Environment;
use crate::model::app::DataMode;
use crate::resolve::edge;

rule!("FG100" "fake-active-active", "active-active", Error, Lint, "traffic routed to several regions of an environment while data is not written in each (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let (Some(routing), Some(data)) = (app.traffic.routing, &app.data) else {
            continue;
        };
        let single_writer = match data.mode {
            DataMode::BackupRestore
            | DataMode::PilotLight
            | DataMode::WarmStandby
            | DataMode::HotStandby
            | DataMode::RegionalPrimaryWithStandby => true,
            DataMode::Regional | DataMode::ActiveActive => data.write_regions.len() == 1,
            DataMode::Stateless => continue,
        };
        let name = app.application.name.as_str();
        // Every environment a cluster of the placement is in: the design, whatever switch is on.
        let envs: BTreeSet<Environment> = (ctx.placements_of(name).iter()).map(|p| p.cluster.value.environment).collect();
        // The highest environment where it holds (prod before staging): one finding per app.
        for env in envs.into_iter().rev() {
            let origins = edge::planned_origins(ctx.sources, doc, env);
            let regions: BTreeSet<&str> = edge::first_priority(routing, &origins)
                .into_iter()
                .map(|o| o.region.as_str())
                .collect();
            if regions.len() < 2 {
                continue;
            }
            let unwritten: Vec<String> = if single_writer {
                Vec::new()
            } else if !data.write_regions.is_empty() {
                // `active-active`, or `regional` with its partitions' regions: each region that
                // takes traffic needs a writer of its own, whatever the routing key says (the
                // edges route by latency, weight or continent, not by tenant).
                let written: BTreeSet<String> = data.write_regions.iter().map(ToString::to_string).collect();
                let unwritten: Vec<String> = (regions.iter())
                    .filter(|r| !written.contains(**r))
                    .map(|r| format!("`{r}`"))
                    .collect();
                if unwritten.is_empty() {
                    continue;
                }
                unwritten
            } else {
                // `regional` without `writeRegions`: each region writes its own tenants.
                continue;
            };
            let list = regions.iter().copied().collect::<Vec<_>>().join(", ");
            let routes = doc.label(
                &["traffic", "routing"],
                format!("routes to {} regions in {env}", regions.len()),
            );
            let d = if unwritten.is_empty() {
                let writes = match data.write_regions.as_slice() {
                    [one] => format!("`{one}`"),
                    _ => "one region".to_string(),
                };
                let mut d = Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    routes,
                    format!(
                        "fake active-active: `{name}` takes traffic in {} regions ({list}) in {env} but writes its data in {writes}",
                        regions.len(),
                    ),
                )
                .with_secondary(doc.label(&["data", "mode"], format!("`{}`: one write region", data.mode)))
                .with_help(
                    "route with `routing: failover` (active-passive), partition with `mode: regional` and a \
                     `traffic.routingKey`, or write in every region with `mode: active-active`, \
                     `conflictResolution` and `idempotentWrites: true`",
                );
                if data.write_regions.len() == 1 {
                    d = d.with_secondary(doc.item_label(&["data", "writeRegions"], 0, "the only write region"));
                }
                d
            } else {
                let written: Vec<String> = data.write_regions.iter().map(|w| format!("`{w}`")).collect();
                let (have, its) = if unwritten.len() == 1 { ("has", "its") } else { ("have", "their") };
                Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    routes,
                    format!(
                        "fake active-active: `{name}` takes traffic in {} regions ({list}) in {env} but writes its data in {} only: {} {have} no writer, so {its} writes cross to another region",
                        regions.len(),
                        and_list(&written),
                        and_list(&unwritten),
                    ),
                )
                .with_secondary(doc.label(
                    &["data", "writeRegions"],
                    format!("no {}", and_list(&unwritten).replace(" and ", " or ")),
                ))
                .with_help(
                    "write in every region that takes traffic (add it to `writeRegions`), or stop routing to the \
                     regions that do not write (`placement.regions`, or `routing: failover`)",
                )
            };
            out.push(d);
            break;
        }
    }
}
