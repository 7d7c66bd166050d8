//! ## What it does
//! Flags a public hostname every one of whose clusters is out of rotation: each origin the
//! edge has for it is taken out by a traffic kill switch (a cluster's `edge.inRotation:
//! false`, a region in fleet.yaml's `edge.outOfRotation`, or the app's own
//! `traffic.switches`), or scaled down to zero replicas by an incident switch
//! (`switches.scaleDown` on every cluster of the app in an environment the edge serves).
//! Under Route 53 latency routing, a `role: standby` cluster left in rotation does not
//! count: Route 53 gives it no latency record, so it never answers (Front Door keeps it as
//! an origin one priority later, which it sends traffic to when nothing else is left).
//!
//! ## Why is this bad?
//! Taking a cluster or a region out of rotation is the normal incident lever, and fleetgen
//! only warns about it (FG050). Taking out all of them is an outage: Front Door has no
//! enabled origin and Route 53 no record, so the hostname stops answering although every
//! workload still runs. That is never the intent of a single switch; it is two switches
//! meeting. Scaling the app down everywhere is the same outage, and worse at the edge: with
//! no origin left, the hostname's route and custom domain leave the edge's template, and a
//! deployment stack deletes them (a custom domain is validated again when it comes back).
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
//! Keep at least one cluster of each public app in rotation (behind a Route 53 latency
//! record, one that is not `role: standby`); to take an app off the internet on purpose,
//! remove its hostnames or set `exposure: internal`.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::query::and_list;
use crate::lint::rule;
use crate::model::Environment;
use crate::model::app::Exposure;
use crate::resolve::{edge, incidents};

rule!("FG154" "app-out-of-rotation", "traffic", Error, Lint, "every cluster behind a public hostname is out of rotation: the app is down (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for route in edge::routes(ctx.sources) {
        if route.origins.is_empty() || route.answering().next().is_some() {
            continue;
        }
        // In rotation but never answered with: a standby under Route 53 latency routing.
        let unanswered: Vec<_> = route.in_rotation().collect();
        let (message, help) = if unanswered.is_empty() {
            (
                format!(
                    "every cluster of `{}` behind `{}` ({}) is out of rotation: the app is down",
                    route.app_name(),
                    route.host,
                    route.entry.describe()
                ),
                "bring one cluster or region back (remove its switch), or drain the app on purpose",
            )
        } else {
            let names: Vec<String> = unanswered.iter().map(|o| format!("`{}`", o.id())).collect();
            (
                format!(
                    "every cluster of `{}` behind `{}` ({}) is out of rotation but {}, which latency routing gives no record (`role: standby`): the hostname has no answer and the app is down",
                    route.app_name(),
                    route.host,
                    route.entry.describe(),
                    and_list(&names)
                ),
                "bring an active cluster or region back (remove its switch): Route 53 latency routing never answers with a standby cluster",
            )
        };
        let mut d = Diagnostic::error(
            &RULE.code,
            &ctx.sources.files,
            route.app.item_label(
                &["traffic", "hostnames"],
                route.host_index,
                if unanswered.is_empty() { "no origin in rotation" } else { "no record in rotation" },
            ),
            message,
        )
        .with_help(help)
        .for_app(route.app_name());
        for o in &unanswered {
            d = d.with_secondary(o.cluster.label(&["role"], "a standby: no latency record"));
        }
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
    scaled_down_everywhere(ctx, out);
}

/// An incident switch (`switches.scaleDown`) that scales a public app to zero on every
/// cluster of an environment an edge entry serves it in: the edge is left no origin there
/// (its route and custom domain leave the edge's template), so the hostname stops answering.
fn scaled_down_everywhere(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let fleet = ctx.plan.fleet;
    let entries = edge::entries(&fleet.value);
    let switches = &fleet.value.switches.scale_down;
    for doc in &ctx.sources.apps {
        let a = &doc.value;
        let name = a.application.name.as_str();
        if a.traffic.exposure != Exposure::Public {
            continue;
        }
        // Environment → the clusters the app is deployed on there, those scaled down to
        // zero, and the scale-downs that do it.
        let mut by_env: BTreeMap<Environment, (usize, usize, BTreeSet<usize>)> = BTreeMap::new();
        for p in ctx.active(name) {
            let entry = by_env.entry(p.cluster.value.environment).or_default();
            entry.0 += 1;
            if p.scaled_down.is_some() {
                entry.1 += 1;
                // The switch in force, as the plan found it (an expired one naming the cluster
                // too is not it).
                let holding = incidents::scaled_down(&fleet.value, name, p.cluster_id(), ctx.sources.today);
                entry.2.extend(switches.iter().position(|s| holding.is_some_and(|h| std::ptr::eq(h, s))));
            }
        }
        for (env, (deployed, scaled, scale_downs)) in by_env {
            if scaled < deployed {
                continue;
            }
            for (i, host) in a.traffic.hostnames.iter().enumerate() {
                let Some(entry) = edge::serving(&entries, host, env) else { continue };
                let mut d = Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    doc.item_label(&["traffic", "hostnames"], i, "no origin left"),
                    format!(
                        "every cluster of `{name}` in `{env}` is scaled down to 0 replicas, so `{host}` ({}) has no origin: the app is down, and the hostname's route and custom domain leave the edge's template",
                        entry.describe()
                    ),
                )
                .with_help("keep one cluster running (scale down fewer), or take the app off the internet on purpose (remove its hostnames)")
                .for_app(name);
                for s in &scale_downs {
                    d = d.with_secondary(fleet.item_label(&["switches", "scaleDown"], *s, "scales it down"));
                }
                out.push(d);
            }
        }
    }
}
