//! ## What it does
//! Flags a hostname of an app with `exposure: public` that no entry of fleet.yaml's `edge:`
//! serves (no Front Door profile lists a domain holding it, no Route 53 zone holds it),
//! once the fleet has an `edge:` section at all.
//!
//! ## Why is this bad?
//! The fleet declared its global entry points; a public hostname outside them gets no
//! custom domain, no health-checked origins, no failover and no kill switch. Someone will
//! point DNS at one regional gateway by hand, and the multi-region claim of the contract
//! becomes one region that nobody drills.
//!
//! ## Example
//! ```yaml
//! # fleet.yaml
//! edge:
//!   frontDoor:
//!     - { name: afd-prod, resourceGroup: rg-edge, endpoint: prod, domains: [example.com] }
//! # apps/web/app.yaml
//! traffic: { exposure: public, routing: latency, hostnames: [www.example.org], port: 8080 }
//! ```
//!
//! ## Use instead
//! Add the domain to a profile (`domains: [example.com, example.org]`) or a Route 53 zone
//! (`route53: [{ name: example.org, zoneId: Z… }]`), or make the app `exposure: internal`.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::model::app::Exposure;
use crate::resolve::edge;

rule!("FG151" "public-without-edge", "traffic", Error, Lint, "a public app's hostname that no edge entry (Front Door profile, Route 53 zone) serves (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let fleet = ctx.plan.fleet;
    let entries = edge::entries(&fleet.value);
    if entries.is_empty() {
        return;
    }
    for doc in &ctx.sources.apps {
        let a = &doc.value;
        if a.traffic.exposure != Exposure::Public || ctx.active(a.application.name.as_str()).next().is_none() {
            continue;
        }
        for (i, host) in a.traffic.hostnames.iter().enumerate() {
            if edge::any_serves(&entries, host) {
                continue;
            }
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    doc.item_label(&["traffic", "hostnames"], i, "no edge entry serves it"),
                    format!("`{host}` of public app `{}` is served by no Front Door profile or Route 53 zone", a.application.name),
                )
                .with_secondary(fleet.label(&["edge"], "the fleet's entry points"))
                .with_help("add its domain to an `edge.frontDoor` profile's `domains` or an `edge.route53` zone, or set `exposure: internal`")
                .for_app(a.application.name.as_str()),
            );
        }
    }
}
