//! ## What it does
//! Flags a cluster profile whose clusters run Envoy Gateway (`entrypoint: envoy-gateway`)
//! and route apps, when its `gateway` names neither `proxyNamespace` nor `sourceRanges` and
//! fleet.yaml keeps NetworkPolicies on. Each routed app's `allow-from-gateway` policy then
//! admits the Gateway's own namespace, and in Envoy Gateway's standard deployment mode the
//! proxies are not there: it creates them in its controller's namespace (typically
//! `envoy-gateway-system`). Only in Gateway Namespace Mode do they run in each Gateway's
//! namespace.
//!
//! ## Why is this bad?
//! With the proxies in another namespace, the app's default-deny NetworkPolicy drops every
//! request the gateway forwards: the routes are accepted, the pods are ready, and every
//! request through the gateway times out. Nothing in the rendered tree is wrong by its
//! schema, so only the first request after the sync shows it.
//!
//! ## Example
//! ```yaml
//! # profiles/cluster/aks-envoy.yaml
//! entrypoint: envoy-gateway
//! gateway:
//!   name: public
//!   namespace: gateway-system
//! ```
//!
//! ## Use instead
//! Name the namespace the proxies run in: the controller's in the standard mode, or the
//! Gateway's own in Gateway Namespace Mode (which says that the default is meant).
//! ```yaml
//! gateway:
//!   name: public
//!   namespace: gateway-system
//!   proxyNamespace: envoy-gateway-system
//! ```

use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::model::app::Exposure;

rule!("FG158" "proxy-namespace-unset", "traffic", Warning, Lint, "an Envoy Gateway profile with routed apps that names no `gateway.proxyNamespace`: its NetworkPolicies admit the Gateway's namespace, not the proxies' (lint)");

/// The entrypoint whose proxies run, by default, in its controller's namespace.
const ENVOY_GATEWAY: &str = "envoy-gateway";

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    if !ctx.plan.fleet.value.network.policies {
        return;
    }
    // Each such profile (by name, for a stable order) with the clusters where an app is routed.
    let mut found: BTreeMap<&str, (&crate::load::Doc<crate::model::profiles::ClusterProfile>, Vec<&str>)> =
        BTreeMap::new();
    for cluster in &ctx.plan.clusters {
        let Some(profile) = cluster.profile else { continue };
        let Some(gateway) = profile.value.gateway.as_ref() else { continue };
        if profile.value.entrypoint.as_str() != ENVOY_GATEWAY
            || gateway.proxy_namespace.is_some()
            || !gateway.source_ranges.is_empty()
        {
            continue;
        }
        let routed = ctx.plan.on_cluster(cluster.id()).iter().any(|p| {
            let t = &p.app.value.traffic;
            t.port.is_some() && t.exposure != Exposure::None && !t.hostnames.is_empty()
        });
        if routed {
            found
                .entry(profile.value.name.as_str())
                .or_insert((profile, Vec::new()))
                .1
                .push(cluster.id());
        }
    }
    for (name, (profile, clusters)) in found {
        let gateway = profile.value.gateway.as_ref().map_or("", |g| g.namespace.as_str());
        let shown = match clusters.as_slice() {
            [one] => format!("cluster `{one}`"),
            [first, rest @ ..] => format!("clusters `{first}` and {} more", rest.len()),
            [] => continue,
        };
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                profile.label(&["gateway"], "no `proxyNamespace`"),
                format!(
                    "profile `{name}` runs Envoy Gateway, whose proxies run in its controller's namespace unless it is in Gateway Namespace Mode, and names no `gateway.proxyNamespace`: the NetworkPolicies of the apps routed on {shown} admit only the Gateway's namespace `{gateway}`"
                ),
            )
            .with_secondary(profile.label(&["entrypoint"], "Envoy Gateway"))
            .with_help(format!(
                "set `gateway.proxyNamespace` to the namespace of the Envoy proxies: `envoy-gateway-system` in the standard mode, `{gateway}` in Gateway Namespace Mode"
            )),
        );
    }
}
