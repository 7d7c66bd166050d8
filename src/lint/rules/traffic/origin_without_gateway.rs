//! ## What it does
//! Flags a cluster that is an origin of a public hostname (the app runs there, not drained,
//! in the environment of the edge entry serving the hostname) but gives the edge nowhere to
//! send it: its registry entry has no `edge.origin`, the public host name of the gateway
//! the app's route attaches to.
//!
//! ## Why is this bad?
//! The edge templates cannot name an origin without a host name, so they leave the
//! cluster out: it runs the app and never gets its global traffic. Capacity is paid for,
//! failover is counted on, and nothing arrives; the first incident that takes the other
//! region out of rotation finds no origin left. (A Front Door route none of whose clusters
//! gives a name has an empty origin group, which Front Door refuses: `validate` reports that
//! as FG054.)
//!
//! ## Example
//! ```yaml
//! # clusters/eastus-prod-01.yaml, an origin of www.example.com, without `edge:`
//! clusterId: eastus-prod-01
//! entrypoint: application-gateway-for-containers
//! ```
//!
//! ## Use instead
//! ```yaml
//! edge:
//!   origin: eastus-gw.example.com   # the gateway's name in your domain (a CNAME to its frontend)
//! ```

use std::collections::BTreeSet;

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::resolve::edge;

rule!("FG153" "origin-without-gateway", "traffic", Error, Lint, "a cluster that is an edge origin but gives no host name of its gateway (`edge.origin`) (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let mut seen = BTreeSet::new();
    for route in edge::routes(ctx.sources) {
        for o in &route.origins {
            let id = o.id();
            let app = route.app_name();
            if o.host().is_none() && seen.insert(id.to_string()) {
                out.push(
                    Diagnostic::error(
                        &RULE.code,
                        &ctx.sources.files,
                        o.cluster.label(&["clusterId"], "no `edge.origin`"),
                        format!(
                            "cluster `{id}` is an origin of `{}` ({app}) behind {}, but gives no `edge.origin` for the edge to send it to",
                            route.host,
                            route.entry.describe()
                        ),
                    )
                    .with_secondary(route.app.item_label(&["traffic", "hostnames"], route.host_index, "served by the edge"))
                    .with_help("set `edge.origin` to the public host name of the cluster's gateway")
                    .on_cluster(id),
                );
            }
        }
    }
}
