//! ## What it does
//! Flags an app with standby data (`pilot-light`, `warm-standby`, `hot-standby`) that, in
//! one of its environments, runs only as a standby: none of the undrained clusters it lands
//! on there is an active cluster in its write region (`data.writeRegions`); those left are
//! outside it, or `role: standby` clusters.
//!
//! ## Why is this bad?
//! The write region is named once for every environment, and each cluster outside it runs
//! the standby shape (one replica, a fraction of the minimum, or all of it, waiting for a
//! failover) over a replica of the data that takes no writes. In an environment where the
//! app does not land in the write region (a staging that has no cluster there, or the
//! writer drained), every cluster is a standby and nothing takes the app's writes: the
//! environment runs a copy of the app that cannot work, and a rehearsal of a release or a
//! failover there proves nothing.
//!
//! ## Example
//! ```yaml
//! placement: { environments: [staging, prod], regions: [azure:eastus, azure:westus3] }
//! data: { mode: warm-standby, writeRegions: [azure:westus3], … }
//! # staging has a cluster in eastus only
//! ```
//!
//! ## Use instead
//! Place the app in the write region in every environment it runs in (a cluster of that
//! environment there, or undrain it), or leave the environment out of
//! `placement.environments`.

use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::lint::query::and_list;
use crate::lint::rule;
use crate::lint::{Context, region_of};
use crate::model::app::DataMode;
use crate::model::cluster::ClusterRole;

rule!("FG167" "standby-only-environment", "placement", Error, Lint, "an app with standby data that, in one of its environments, runs only in standby regions: nothing there takes its writes (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let Some(data) = &app.data else { continue };
        if !matches!(
            data.mode,
            DataMode::PilotLight | DataMode::WarmStandby | DataMode::HotStandby
        ) || data.write_regions.is_empty()
        {
            continue;
        }
        let name = app.application.name.as_str();
        let writes: Vec<String> = data.write_regions.iter().map(ToString::to_string).collect();
        // Environment → the undrained clusters the app runs on there, and whether one of
        // them is an active cluster in a write region (a `role: standby` cluster runs the
        // standby shape wherever it is: with the writer drained, it may be all that is left).
        let mut by_env: BTreeMap<String, (Vec<String>, bool)> = BTreeMap::new();
        for p in ctx.running(name) {
            let entry = by_env.entry(p.cluster.value.environment.to_string()).or_default();
            entry.0.push(format!("`{}`", p.cluster_id()));
            entry.1 |= p.cluster.value.role == ClusterRole::Active && writes.contains(&region_of(p));
        }
        for (env, (clusters, writer)) in by_env {
            if writer {
                continue;
            }
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    doc.label(&["data", "writeRegions"], "the one write region, for every environment"),
                    format!(
                        "in `{env}`, `{name}` runs only as a standby, with no active cluster in its write region ({}): {} run{} the standby shape of `{}` data and nothing takes its writes",
                        writes.join(", "),
                        and_list(&clusters),
                        if clusters.len() == 1 { "s" } else { "" },
                        data.mode,
                    ),
                )
                .with_secondary(doc.label(&["placement"], "selects the clusters"))
                .with_help(format!(
                    "place `{name}` in its write region in `{env}` too (a cluster of `{env}` there, or undrain it), or leave `{env}` out of `placement.environments`"
                ))
                .for_app(name),
            );
        }
    }
}
