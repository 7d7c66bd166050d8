//! ## What it does
//! Flags a synchronous dependency (`dependsOn: [{ service: X, call: sync }]`) that is not
//! placed in every region and environment its caller runs in: somewhere the caller runs,
//! each request waits on a call to another region.
//!
//! Three more ways a call crosses a boundary are flagged too:
//! - a synchronous dependency whose data keeps a standby (`pilot-light`, `warm-standby`,
//!   `hot-standby`, `regional-primary-with-standby`) and whose caller does not run in the
//!   dependency's standby regions (placed regions outside its `writeRegions`): in every day
//!   operation the call stays in its region, but once the dependency fails over, every call
//!   reaches another region;
//! - a synchronous dependency that is only a standby in a region where its caller takes
//!   requests: a standby region of its data as above, or a region where it runs on
//!   `role: standby` clusters only. The caller takes requests there while all is healthy (one
//!   of the edges' first-priority origins, as FG100 reads them, or a region where an app that
//!   calls it takes requests), and calls the dependency in its own cluster: every request
//!   there waits on a replica that takes no writes, whose writes cross to the write region;
//! - any dependency, `sync` or `async`, that crosses a data residency boundary: the caller
//!   has `placement.residency` and the dependency runs in a region outside it (the caller's
//!   data leaves its jurisdictions), or the dependency has one and the caller runs outside it.
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
//! ```yaml
//! # apps/reporting-api: regions [azure:eastus]
//! dependsOn: [{ service: ledger-api, call: sync }]
//! # apps/ledger-api: warm-standby, writeRegions [azure:eastus], also placed in azure:westus3
//! ```
//!
//! ## Use instead
//! Place the dependency in every region of its caller, or make the call asynchronous
//! (`call: async`, through a queue) where it may cross regions. A caller of a standby
//! dependency runs in the dependency's standby regions too but takes requests only where the
//! dependency writes, so that it fails over with it: `routing: failover` with the same first
//! region, or `role: standby` clusters there. Or make the dependency write where its caller
//! takes requests (`active-active`, or `regional` with a `traffic.routingKey`). Keep both ends
//! of a call with residency inside the same jurisdictions.

use std::collections::BTreeSet;

use crate::diag::Diagnostic;
use crate::lint::query::{and_list, serving_regions};
use crate::lint::{Context, region_of};
use crate::model::app::{CallKind, DataMode};
use crate::model::cluster::ClusterRole;
use crate::lint::rule;

rule!("FG107" "cross-region-sync-call", "active-active", Error, Lint, "a synchronous dependency that does not run in every region of its caller, is only a standby where its caller takes requests, crosses regions after its failover, or a dependency across a residency boundary (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let name = app.application.name.as_str();
        let runs: BTreeSet<(String, String)> = ctx
            .running(name)
            .map(|p| (p.cluster.value.environment.to_string(), region_of(p)))
            .collect();
        for (i, dep) in app.depends_on.iter().enumerate() {
            if dep.service.as_str() == name {
                continue;
            }
            residency(ctx, doc, i, out);
            if dep.call != CallKind::Sync {
                continue;
            }
            failover_only(ctx, doc, i, &runs, out);
            calls_a_standby(ctx, doc, i, out);
            let there: BTreeSet<(String, String)> = ctx
                .running(dep.service.as_str())
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

/// A call between the caller and its `i`th dependency that carries data across a residency
/// boundary (either end's `placement.residency`).
fn residency(ctx: &Context, doc: &crate::load::Doc<crate::model::App>, i: usize, out: &mut Vec<Diagnostic>) {
    let fleet = &ctx.plan.fleet.value;
    let app = &doc.value;
    let name = app.application.name.as_str();
    let dep = &app.depends_on[i];
    let Some(callee) = ctx.sources.apps.iter().find(|a| a.value.application.name == dep.service) else {
        return;
    };
    let outside = |residency: &[crate::model::Id], regions: Vec<String>| -> Vec<String> {
        regions
            .into_iter()
            .filter(|r| !fleet.jurisdiction_of(r).is_some_and(|j| residency.contains(j)))
            .map(|r| format!("`{r}`"))
            .collect()
    };
    let mine = &app.placement.residency;
    let theirs = &callee.value.placement.residency;
    // (the residency crossed, the regions outside it, who runs there, whose residency it is)
    let mut found = None;
    if !mine.is_empty() {
        let o = outside(mine, ctx.served_regions(dep.service.as_str()));
        if !o.is_empty() {
            found = Some((mine, o, format!("`{}` runs", dep.service), doc));
        }
    }
    if found.is_none() && !theirs.is_empty() {
        let o = outside(theirs, ctx.served_regions(name));
        if !o.is_empty() {
            found = Some((theirs, o, format!("`{name}` runs"), callee));
        }
    }
    let Some((bound, regions, whose, owner)) = found else {
        return;
    };
    let within: Vec<String> = bound.iter().map(|j| format!("`{j}`")).collect();
    out.push(
        Diagnostic::error(
            &RULE.code,
            &ctx.sources.files,
            doc.item_field_label(&["dependsOn"], i, Some("service"), format!("called `{}`", dep.call)),
            format!(
                "`{name}` calls `{}` ({}) across a residency boundary: data must stay in {}, but {whose} in {}",
                dep.service,
                dep.call,
                and_list(&within),
                and_list(&regions)
            ),
        )
        .with_secondary(owner.label(&["placement", "residency"], "this residency"))
        .with_help("keep both ends of the call in the same jurisdictions, or drop the dependency")
        .for_app(name),
    );
}

/// An app's data when it keeps a standby (a standby mode, with the regions it writes in).
fn standby_data(app: &crate::model::App) -> Option<&crate::model::app::Data> {
    app.data.as_ref().filter(|d| {
        !d.write_regions.is_empty()
            && matches!(
                d.mode,
                DataMode::PilotLight | DataMode::WarmStandby | DataMode::HotStandby | DataMode::RegionalPrimaryWithStandby
            )
    })
}

/// A synchronous call to a dependency that keeps a standby, from a caller that does not run
/// in the dependency's standby regions: on the dependency's failover, every call crosses.
fn failover_only(
    ctx: &Context,
    doc: &crate::load::Doc<crate::model::App>,
    i: usize,
    runs: &BTreeSet<(String, String)>,
    out: &mut Vec<Diagnostic>,
) {
    let app = &doc.value;
    let name = app.application.name.as_str();
    let dep = &app.depends_on[i];
    let Some(callee) = ctx.sources.apps.iter().find(|a| a.value.application.name == dep.service) else {
        return;
    };
    let Some(data) = standby_data(&callee.value) else { return };
    let writes: BTreeSet<String> = data.write_regions.iter().map(ToString::to_string).collect();
    let envs: BTreeSet<&str> = runs.iter().map(|(e, _)| e.as_str()).collect();
    // (environment, standby region) of the dependency where the caller does not run.
    let mut missing = BTreeSet::new();
    for p in ctx.active(dep.service.as_str()) {
        let env = p.cluster.value.environment.to_string();
        let region = region_of(p);
        if envs.contains(env.as_str()) && !writes.contains(&region) && !runs.contains(&(env, region.clone())) {
            missing.insert(region);
        }
    }
    if missing.is_empty() {
        return;
    }
    let standby: Vec<String> = missing.iter().map(|r| format!("`{r}`")).collect();
    out.push(
        Diagnostic::error(
            &RULE.code,
            &ctx.sources.files,
            doc.item_field_label(&["dependsOn"], i, Some("service"), "called synchronously"),
            format!(
                "`{name}` calls `{}` synchronously, and `{}` fails over to {} where `{name}` does not run: after a failover those calls cross regions",
                dep.service,
                dep.service,
                and_list(&standby)
            ),
        )
        .with_secondary(callee.label(&["data", "mode"], "fails over to its standby regions"))
        .with_help(format!(
            "place `{name}` in {} too, so that it fails over with `{}`, or make the call `async`",
            and_list(&standby),
            dep.service
        ))
        .for_app(name),
    );
}

/// A synchronous call to a dependency that is only a standby in a region where the caller
/// takes requests: a standby region of its data (outside `writeRegions`), or one where it runs
/// on `role: standby` clusters only. The caller calls it in its own cluster, so every request
/// there reaches a replica that takes no writes.
fn calls_a_standby<'s>(
    ctx: &Context<'s>,
    doc: &'s crate::load::Doc<crate::model::App>,
    i: usize,
    out: &mut Vec<Diagnostic>,
) {
    let app = &doc.value;
    let name = app.application.name.as_str();
    let dep = &app.depends_on[i];
    let Some(callee) = ctx.sources.apps.iter().find(|a| a.value.application.name == dep.service) else {
        return;
    };
    let standby_data = standby_data(&callee.value);
    let writes: BTreeSet<String> = standby_data.map_or_else(BTreeSet::new, |d| {
        d.write_regions.iter().map(ToString::to_string).collect()
    });
    // environment → region → whether the dependency is only a standby there.
    let mut standby: std::collections::BTreeMap<crate::model::Environment, std::collections::BTreeMap<String, bool>> =
        std::collections::BTreeMap::new();
    for p in ctx.running(dep.service.as_str()) {
        let region = region_of(p);
        let waits = (standby_data.is_some() && !writes.contains(&region)) || p.cluster.value.role == ClusterRole::Standby;
        let only = standby.entry(p.cluster.value.environment).or_default().entry(region).or_insert(true);
        *only &= waits;
    }
    // (region, environments) where the caller takes requests and the dependency only waits.
    let mut found: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for (env, regions) in &standby {
        let serves = serving_regions(ctx, doc, *env);
        for (region, _) in regions.iter().filter(|(r, only)| **only && serves.contains(*r)) {
            found.entry(region.clone()).or_default().push(env.to_string());
        }
    }
    if found.is_empty() {
        return;
    }
    let listed: Vec<String> = found.iter().map(|(r, envs)| format!("`{r}` ({})", envs.join(", "))).collect();
    let regions: Vec<String> = found.keys().map(|r| format!("`{r}`")).collect();
    let mut d = Diagnostic::error(
        &RULE.code,
        &ctx.sources.files,
        doc.item_field_label(&["dependsOn"], i, Some("service"), "called synchronously"),
        format!(
            "`{name}` takes requests in {} and calls `{}` synchronously there, where `{}` is only a standby: each of those requests waits on a standby that takes no writes",
            and_list(&listed),
            dep.service,
            dep.service,
        ),
    )
    .with_secondary(doc.item_field_label(&["dependsOn"], i, Some("call"), "sync"));
    if let Some(data) = standby_data {
        d = d.with_secondary(callee.label(&["data", "mode"], format!("`{}`: writes in {}", data.mode, {
            let w: Vec<String> = data.write_regions.iter().map(|w| format!("`{w}`")).collect();
            and_list(&w)
        })));
    }
    out.push(
        d.with_help(format!(
            "route `{name}` only where `{}` writes (`routing: failover` with the same first region, or `role: standby` clusters in {}), make `{}` write there (`active-active`, or `regional` with a `traffic.routingKey`), or make the call `async`",
            dep.service,
            and_list(&regions).replace(" and ", " or "),
            dep.service,
        ))
        .for_app(name),
    );
}
