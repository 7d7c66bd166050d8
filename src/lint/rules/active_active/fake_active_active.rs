//! ## What it does
//! Flags an app whose traffic is routed to two or more regions at once (`weighted-global`,
//! `latency` or `geo` routing over a placement that lands in several regions) while its data
//! is written in one region only: a standby data mode (`backup-restore`, `pilot-light`,
//! `warm-standby`, `hot-standby`), `regional-primary-with-standby`, or a single
//! `writeRegions` entry.
//!
//! ## Why is this bad?
//! It looks active-active and is not. Every region takes requests, but writes from all but
//! one region cross the world to the single writer: each write pays the inter-region latency,
//! and when the write region fails, every region fails with it. The design promises the
//! availability of active-active and delivers the blast radius of a single region, which is
//! the anti-pattern the architecture notes call "fake active-active".
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
//! - partitioned: `mode: regional` with a `traffic.routingKey`, each region writing its own tenants;
//! - true multi-writer: `mode: active-active` with every placed region in `writeRegions`,
//!   `conflictResolution` and `idempotentWrites: true`.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::model::app::{DataMode, Routing};
use crate::lint::rule;

rule!("FG100" "fake-active-active", "active-active", Error, Lint, "traffic routed to several regions while data is written in one (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let (Some(routing), Some(data)) = (app.traffic.routing, &app.data) else {
            continue;
        };
        if !matches!(routing, Routing::WeightedGlobal | Routing::Latency | Routing::Geo) {
            continue;
        }
        let regions = ctx.served_regions(app.application.name.as_str());
        if regions.len() < 2 {
            continue;
        }
        let single_writer = match data.mode {
            DataMode::BackupRestore
            | DataMode::PilotLight
            | DataMode::WarmStandby
            | DataMode::HotStandby
            | DataMode::RegionalPrimaryWithStandby => true,
            DataMode::Regional | DataMode::ActiveActive => data.write_regions.len() == 1,
            DataMode::Stateless => false,
        };
        if !single_writer {
            continue;
        }
        let writes = match data.write_regions.as_slice() {
            [one] => format!("`{one}`"),
            _ => "one region".to_string(),
        };
        let mut d = Diagnostic::error(
            &RULE.code,
            &ctx.sources.files,
            doc.label(&["traffic", "routing"], format!("routes to {} regions", regions.len())),
            format!(
                "fake active-active: `{}` takes traffic in {} regions ({}) but writes its data in {writes}",
                app.application.name,
                regions.len(),
                regions.join(", ")
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
        out.push(d);
    }
}
