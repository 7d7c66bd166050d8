//! ## What it does
//! Flags an app that an edge entry (a Front Door profile or a Route 53 zone) health-checks
//! on a cluster, when none of the app's rendered HTTPRoutes there answers the check: a
//! route for the cluster's origin name (`edge.origin`) that matches the app's probe path
//! (`/_fleetgen/probe/<app>`) and rewrites it to the app's own probe path. The built-in
//! `httproute` template renders that route (`<app>-probe`); a fleet's own
//! `templates/httproute.yaml.j2`, which replaces the built-in, may not.
//!
//! ## Why is this bad?
//! Front Door's probes and Route 53's checks carry the origin name as `Host`, and fleetgen's
//! edge templates probe `/_fleetgen/probe/<app>`. With no route for them, the gateway
//! answers 404 (or the app answers a path it does not serve), so the edge judges the app
//! unhealthy on every cluster at once. Front Door and Route 53 then treat every origin as
//! healthy: failover never happens, and a cluster whose app is down keeps its share of the
//! traffic.
//!
//! ## Example
//! ```yaml
//! # templates/httproute.yaml.j2: the app's own route only, for its hostnames
//! kind: HTTPRoute
//! spec:
//!   hostnames: {{ workload.hostnames | tojson }}
//!   rules:
//!     - matches: [{ path: { type: PathPrefix, value: / } }]
//! ```
//!
//! ## Use instead
//! Render the probe route from `workload.healthProbe` (none where no edge checks the app),
//! as the built-in template does:
//! ```yaml
//! {% if workload.healthProbe %}
//! ---
//! kind: HTTPRoute
//! metadata: { name: {{ (workload.name ~ "-probe") | tojson }} }
//! spec:
//!   hostnames: [{{ workload.healthProbe.host | tojson }}]
//!   rules:
//!     - matches: [{ path: { type: Exact, value: {{ workload.healthProbe.path | tojson }} } }]
//!       filters:
//!         - type: URLRewrite
//!           urlRewrite:
//!             path: { type: ReplaceFullPath, replaceFullPath: {{ workload.healthProbe.target | tojson }} }
//! {% endif %}
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diag::{Diagnostic, Label};
use crate::lint::Context;
use crate::lint::query::{and_list, find_in};
use crate::lint::rule;
use crate::resolve::edge::ProbeRoute;
use crate::source::FileId;

rule!("FG157" "probe-route-missing", "traffic", Error, Lint, "an app an edge health-checks on a cluster, with no rendered HTTPRoute that sends the check to its probe path (lint)");

/// Whether an HTTPRoute (as its template wrote it) sends the edge's check to the app: it
/// takes requests for the origin name (or for every name) and has a rule that matches the
/// probe path and rewrites it to the app's own.
fn answers(route: &Value, probe: &ProbeRoute) -> bool {
    let spec = &route["spec"];
    let for_host = match spec["hostnames"].as_array() {
        Some(hosts) if !hosts.is_empty() => hosts.iter().any(|h| h.as_str() == Some(probe.host.as_str())),
        _ => true,
    };
    let rules = spec["rules"].as_array().into_iter().flatten();
    for_host
        && rules.into_iter().any(|rule| {
            let matched = (rule["matches"].as_array().into_iter().flatten())
                .any(|m| m["path"]["value"].as_str() == Some(probe.path.as_str()));
            let rewritten = (rule["filters"].as_array().into_iter().flatten()).any(|f| {
                let path = &f["urlRewrite"]["path"];
                f["type"] == "URLRewrite"
                    && [&path["replaceFullPath"], &path["replacePrefixMatch"]]
                        .iter()
                        .any(|to| to.as_str() == Some(probe.target.as_str()))
            });
            matched && rewritten
        })
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    // (app, the template of its routes, if it renders any) → (clusters, the probe URLs)
    type Found = BTreeMap<(String, Option<FileId>), (BTreeSet<String>, BTreeSet<String>, String)>;
    let mut found: Found = BTreeMap::new();
    let placed = ctx.plan.placements.iter().filter(|p| p.drained.is_none() && p.gateway.is_some());
    for p in placed {
        let Some(probe) = &p.probe_route else { continue };
        let routes: Vec<_> = (ctx.objects_of(p).iter())
            .filter(|o| o.kind() == "HTTPRoute")
            .collect();
        if routes.iter().any(|o| answers(o.written(), probe)) {
            continue;
        }
        let template = routes.first().map(|o| o.template);
        let entry = found.entry((p.app_name().to_string(), template)).or_default();
        entry.0.insert(p.cluster_id().to_string());
        entry.1.insert(format!("`https://{}{}`", probe.host, probe.path));
        entry.2.clone_from(&probe.target);
    }
    for ((app, template), (clusters, urls, target)) in found {
        let doc = ctx.sources.apps.iter().find(|a| a.value.application.name.as_str() == app);
        let files = &ctx.sources.files;
        let at = match (template, doc) {
            (Some(t), _) => Label::new(t, find_in(files, t, "kind: HTTPRoute"), "no route answers the edge's checks"),
            (None, Some(doc)) => doc.label(&["traffic", "hostnames"], "checked by the edge, with no route"),
            (None, None) => continue,
        };
        let clusters: Vec<String> = clusters.iter().map(|c| format!("`{c}`")).collect();
        let urls: Vec<String> = urls.into_iter().collect();
        out.push(
            Diagnostic::error(
                &RULE.code,
                files,
                at,
                format!(
                    "the edge health-checks `{app}` on {} ({}), and no HTTPRoute of the app sends the check to its probe path `{target}`: the edge reads the gateway's 404, or the app's answer to a path it does not serve, and judges the app down on every cluster",
                    and_list(&clusters),
                    urls.join(", ")
                ),
            )
            .with_help("render the probe route from `workload.healthProbe` (`host`, `path`, `target`), as the built-in `httproute` template does")
            .for_app(app.as_str()),
        );
    }
}
