//! ## What it does
//! Flags a synchronous dependency (`dependsOn: [{ service: X, call: sync }]`) that is not
//! placed in every region and environment its caller runs in: somewhere the caller runs,
//! each request waits on a call to another region.
//!
//! ## Why is this bad?
//! A synchronous cross-region call adds the inter-region round trip to every request and
//! ties the caller's availability to two regions instead of one: when the remote region
//! fails, the "healthy" region fails too. It also defeats failover, since the region that
//! takes the traffic still depends on the one that went down.
//!
//! ## Example
//! ```yaml
//! # apps/checkout-api: placement.regions [azure:eastus, azure:westeurope]
//! dependsOn: [{ service: payments-api, call: sync }]   # payments-api runs in azure:eastus only
//! ```
//!
//! ## Use instead
//! Place the dependency in every region of its caller, or make the call asynchronous
//! (`call: async`, through a queue) where it may cross regions.

use std::collections::BTreeSet;

use crate::diag::Diagnostic;
use crate::lint::query::and_list;
use crate::lint::{Context, region_of};
use crate::model::app::CallKind;
use crate::lint::rule;

rule!("FG107" "cross-region-sync-call", "active-active", Error, Lint, "a synchronous dependency that does not run in every region of its caller (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let name = app.application.name.as_str();
        let runs: BTreeSet<(String, String)> = ctx
            .active(name)
            .map(|p| (p.cluster.value.environment.to_string(), region_of(p)))
            .collect();
        for (i, dep) in app.depends_on.iter().enumerate() {
            if dep.call != CallKind::Sync || dep.service.as_str() == name {
                continue;
            }
            let there: BTreeSet<(String, String)> = ctx
                .active(dep.service.as_str())
                .map(|p| (p.cluster.value.environment.to_string(), region_of(p)))
                .collect();
            let mut by_region: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
            for (env, region) in runs.difference(&there) {
                by_region.entry(region.as_str()).or_default().push(env.as_str());
            }
            let missing: Vec<String> = by_region
                .iter()
                .map(|(region, envs)| format!("`{region}` ({})", envs.join(", ")))
                .collect();
            if missing.is_empty() {
                continue;
            }
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    doc.item_field_label(&["dependsOn"], i, Some("service"), "called synchronously"),
                    format!(
                        "`{name}` calls `{}` synchronously, but `{}` does not run in {}: those calls cross regions",
                        dep.service,
                        dep.service,
                        and_list(&missing)
                    ),
                )
                .with_secondary(doc.item_field_label(&["dependsOn"], i, Some("call"), "sync"))
                .with_help(format!(
                    "place `{}` in every region of `{name}`, or make the call `async`",
                    dep.service
                ))
                .for_app(name),
            );
        }
    }
}
