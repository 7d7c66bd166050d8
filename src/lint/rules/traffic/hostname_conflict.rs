//! ## What it does
//! Flags a hostname that two apps both claim (`traffic.hostnames`) where one entry point
//! would have to serve both: the gateway of a cluster both land on, or the edge entry (a
//! Front Door profile or a Route 53 zone of fleet.yaml's `edge:`) that serves the hostname.
//!
//! ## Why is this bad?
//! A gateway given two HTTPRoutes for one hostname and path merges them by its own
//! precedence rules, and Front Door or Route 53 given one hostname twice keeps one route or
//! one record set: which app answers depends on the order of deployment, not on the
//! contracts. The app that loses sees no traffic and no error.
//!
//! ## Example
//! ```yaml
//! # apps/web/app.yaml
//! traffic: { exposure: public, routing: latency, hostnames: [www.example.com], port: 8080 }
//! # apps/web-next/app.yaml
//! traffic: { exposure: public, routing: latency, hostnames: [www.example.com], port: 8080 }
//! ```
//!
//! ## Use instead
//! One owner per hostname: give the new app its own hostname (`next.example.com`), or move
//! traffic between the two with weights inside one app's rollout.

use std::collections::BTreeSet;

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::resolve::edge;

rule!("FG150" "hostname-conflict", "traffic", Error, Lint, "a hostname served by two apps on one gateway or one edge entry (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let apps = &ctx.sources.apps;
    let routes = edge::routes(ctx.sources);
    for (i, first) in apps.iter().enumerate() {
        for second in &apps[i + 1..] {
            let (a, b) = (&first.value, &second.value);
            if a.traffic.exposure == crate::model::app::Exposure::None
                || b.traffic.exposure == crate::model::app::Exposure::None
            {
                continue;
            }
            for (j, host) in b.traffic.hostnames.iter().enumerate() {
                let Some(k) = a.traffic.hostnames.iter().position(|h| h == host) else { continue };
                let (an, bn) = (a.application.name.as_str(), b.application.name.as_str());
                let clusters_a: BTreeSet<&str> = ctx.active(an).filter(|p| p.gateway.is_some()).map(|p| p.cluster_id()).collect();
                let shared = ctx
                    .active(bn)
                    .filter(|p| p.gateway.is_some())
                    .map(|p| p.cluster_id())
                    .find(|c| clusters_a.contains(c));
                let entry = routes
                    .iter()
                    .filter(|r| r.app_name() == bn && r.host == host.as_str())
                    .find(|r| {
                        routes
                            .iter()
                            .any(|o| o.app_name() == an && o.host == host.as_str() && o.entry.at() == r.entry.at())
                    })
                    .map(|r| r.entry.describe());
                let place = match (shared, entry) {
                    (Some(c), _) => format!("the gateway of cluster `{c}`"),
                    (None, Some(e)) => e,
                    (None, None) => continue,
                };
                out.push(
                    Diagnostic::error(
                        &RULE.code,
                        &ctx.sources.files,
                        second.item_label(&["traffic", "hostnames"], j, "claimed again"),
                        format!("`{host}` is served by both `{an}` and `{bn}` on {place}"),
                    )
                    .with_secondary(first.item_label(&["traffic", "hostnames"], k, "first claimed here"))
                    .with_help("give each app its own hostname; one app owns a hostname")
                    .for_app(bn),
                );
            }
        }
    }
}
