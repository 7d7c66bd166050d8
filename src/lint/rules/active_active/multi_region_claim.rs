//! ## What it does
//! Flags an app that claims to be multi-region (`weighted-global`, `latency` or `geo`
//! routing, or `active-active` data) while its placement lands in a single region in its
//! highest environment (prod when it runs in prod, however many regions its staging is in).
//!
//! ## Why is this bad?
//! The contract reads as if the app survives a regional outage; the fleet runs it in one
//! region. Reviewers, incident responders and the data design all trust the claim. Usually
//! the placement lost a region (a typo, a cell or purpose filter, a drained cluster).
//!
//! ## Example
//! ```yaml
//! placement: { environments: [prod], regions: [azure:eastus, aws:us-east-1], purposes: [regulated] }
//! traffic:   { exposure: public, routing: latency, failover: automatic }   # only azure has `regulated`
//! ```
//!
//! ## Use instead
//! Fix the placement so it lands in every region it names, or say what it is:
//! `routing: single-region` and a single-region data mode.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::model::app::{DataMode, Routing};
use crate::lint::rule;

rule!("FG105" "multi-region-claim", "active-active", Warning, Lint, "multi-region routing or data over a placement that lands in one region (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let routed = matches!(
            app.traffic.routing,
            Some(Routing::WeightedGlobal | Routing::Latency | Routing::Geo)
        );
        let multi_writer = app.data.as_ref().is_some_and(|d| d.mode == DataMode::ActiveActive);
        if !routed && !multi_writer {
            continue;
        }
        let Some((env, regions)) = ctx.top_environment_regions(app.application.name.as_str()) else {
            continue;
        };
        if regions.len() != 1 {
            continue;
        }
        let (path, what): (&[&str], &str) = if routed {
            (&["traffic", "routing"], "routes across regions")
        } else {
            (&["data", "mode"], "writes in several regions")
        };
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(path, what),
                format!(
                    "`{}` claims to be multi-region but lands in {env} only in {}",
                    app.application.name, regions[0]
                ),
            )
            .with_secondary(doc.label(&["placement"], "lands in one region"))
            .with_help("fix the placement, or use `routing: single-region` and a single-region data mode"),
        );
    }
}
