//! ## What it does
//! Flags an app placed in a region where the container registry its image comes from (the
//! fleet.yaml `registries` entry whose `host` the image starts with) has no replica.
//!
//! ## Why is this bad?
//! Every pod start in that region pulls across regions: slower scale-out, egress cost, and
//! a hard dependency on the registry's home region. When that region is down, the app
//! cannot start a single new pod in the region that was meant to take over — a failover
//! that fails at the first image pull.
//!
//! ## Example
//! ```yaml
//! # fleet.yaml: contoso-ecr (111122223333.dkr.ecr.us-east-1.amazonaws.com) replicaRegions [aws:us-east-1]
//! application: { image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/catalog/worker@sha256:… }
//! placement:   { regions: [aws:us-east-1, aws:eu-west-1] }
//! ```
//!
//! ## Use instead
//! Add a replica in the region (`replicaRegions: [aws:us-east-1, aws:eu-west-1]`, with
//! the registry's geo-replication or cross-region replication set up to match), or pull
//! from a registry that has one there. An ECR registry's replica is the same account's
//! registry in that region, with a host of its own: the region's clusters pull from it
//! (fleetgen writes its host into their images), so the replication must reach it.

use std::collections::BTreeSet;

use crate::diag::Diagnostic;
use crate::lint::query::and_list;
use crate::lint::{Context, region_of};
use crate::lint::rule;

rule!("FG108" "registry-without-replica", "active-active", Error, Lint, "an app placed in a region where its image's registry has no replica (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let fleet = ctx.plan.fleet;
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let name = app.application.name.as_str();
        // Each image the contract names (per ring too), checked where it runs.
        let mut seen = BTreeSet::new();
        for (image, path) in app.application.images() {
        if !seen.insert(image) {
            continue;
        }
        // An image from no listed registry is the approved-registry policy's business.
        let Some((index, registry)) = fleet.value.registries.iter().enumerate().find(|(_, r)| {
            image
                .strip_prefix(r.host.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
        }) else {
            continue;
        };
        let replicas: BTreeSet<String> = registry.replica_regions.iter().map(ToString::to_string).collect();
        let missing: BTreeSet<String> = ctx
            .active(name)
            .filter(|p| p.release().image == image)
            .map(region_of)
            .filter(|r| !replicas.contains(r))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let missing: Vec<String> = missing.into_iter().map(|r| format!("`{r}`")).collect();
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(&path, format!("from `{}`", registry.name)),
                format!(
                    "`{name}` runs in {} but its registry `{}` has no replica there",
                    and_list(&missing),
                    registry.name
                ),
            )
            .with_secondary(fleet.item_field_label(&["registries"], index, Some("replicaRegions"), "replicas here"))
            .with_help(format!(
                "add {} to `{}`'s replicaRegions (and replicate it), or pull from a registry with a replica there",
                and_list(&missing),
                registry.name
            ))
            .for_app(name),
        );
        }
    }
}
