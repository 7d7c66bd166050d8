//! ## What it does
//! Flags a public hostname every one of whose clusters is out of rotation: each origin the
//! edge has for it is taken out by a traffic kill switch (a cluster's `edge.inRotation:
//! false`, a region in fleet.yaml's `edge.outOfRotation`, or the app's own
//! `traffic.switches`).
//!
//! ## Why is this bad?
//! Taking a cluster or a region out of rotation is the normal incident lever, and fleetgen
//! only warns about it (FG050). Taking out all of them is an outage: Front Door has no
//! enabled origin and Route 53 no record, so the hostname stops answering although every
//! workload still runs. That is never the intent of a single switch; it is two switches
//! meeting.
//!
//! ## Example
//! ```yaml
//! # clusters/eastus-prod-01.yaml
//! edge: { origin: gw-eastus.example.net, inRotation: false, reason: INC-1234 }
//! # fleet.yaml
//! edge: { outOfRotation: [{ region: aws:us-east-1, reason: INC-1240 }] }
//! ```
//!
//! ## Use instead
//! Keep at least one cluster of each public app in rotation; to take an app off the
//! internet on purpose, remove its hostnames or set `exposure: internal`.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::resolve::edge;

rule!("FG154" "app-out-of-rotation", "traffic", Error, Lint, "every cluster behind a public hostname is out of rotation: the app is down (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for route in edge::routes(ctx.sources) {
        if route.origins.is_empty() || route.in_rotation().next().is_some() {
            continue;
        }
        let mut d = Diagnostic::error(
            &RULE.code,
            &ctx.sources.files,
            route.app.item_label(&["traffic", "hostnames"], route.host_index, "no origin in rotation"),
            format!(
                "every cluster of `{}` behind `{}` ({}) is out of rotation: the app is down",
                route.app_name(),
                route.host,
                route.entry.describe()
            ),
        )
        .with_help("bring one cluster or region back (remove its switch), or drain the app on purpose")
        .for_app(route.app_name());
        let mut labelled = std::collections::BTreeSet::new();
        for o in &route.origins {
            if let Some(s) = &o.out
                && let Some(label) = s.label(Some(ctx.plan.fleet), format!("takes `{}` out", o.id()))
                && labelled.insert(s.describe())
            {
                d = d.with_secondary(label);
            }
        }
        out.push(d);
    }
}
