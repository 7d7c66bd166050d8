//! ## What it does
//! Flags a cluster in a later ring that runs a Kubernetes version, or an add-on or controller
//! version, newer than an earlier ring runs: every earlier ring with clusters of the same
//! service (AKS with AKS, EKS with EKS; for an add-on or controller, the clusters that have
//! it) must have a cluster on that version or newer. A version that one earlier ring runs
//! and another skipped is flagged at the ring it skipped. An add-on or controller that no
//! earlier cluster of the service runs is compared with the earlier clusters of every
//! service that run it (a controller tried on EKS has been tried), and one that no cluster of
//! an earlier ring runs at all is flagged too: the later ring is the first to run it.
//! Versions are ordered as semantic versions: a release above its pre-releases
//! (`2.18.0-rc.1` < `2.18.0`), a leading `v` and build metadata ignored.
//!
//! ## Why is this bad?
//! Rings exist so that a version meets the sandbox and staging clusters before it meets
//! production. A prod cluster ahead of an earlier ring runs a version that ring has not
//! tried: the rollout order was skipped, and that ring's test happens in front of customers.
//! A component that first appears in prod skips every ring at once.
//!
//! ## Example
//! ```yaml
//! # rings: [sandbox, staging, prod]
//! clusters/aws-us-east-1-sandbox-platform-01.yaml: { upgradeChannel: sandbox, kubernetesVersion: "1.35" }
//! clusters/aws-us-east-1-staging-platform-01.yaml: { upgradeChannel: staging, kubernetesVersion: "1.34" }
//! clusters/aws-eu-west-1-prod-platform-01.yaml:    { upgradeChannel: prod,    kubernetesVersion: "1.35",
//!                                                    addons: { istio: "1.27.1" } }
//! ```
//! Sandbox ran 1.35, but staging did not: prod is the first place 1.35 meets staging's apps.
//! No earlier cluster runs istio at all: prod is the first to run it.
//!
//! ## Use instead
//! Upgrade the ring that was skipped first (`staging` to 1.35), then let the version move on
//! ring by ring; or put the cluster back on the version the earlier rings run. Add a new
//! add-on or controller to the first ring's clusters, then ring by ring.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::query::compare_versions;
use crate::load::Doc;
use crate::model::Cluster;
use crate::lint::rule;

rule!("FG121" "later-ring-ahead", "drift", Error, Lint, "a later ring runs a Kubernetes, add-on or controller version (or an add-on or controller) that an earlier ring has not run (lint)");

/// The clusters of `docs` that run add-on or controller `name` (`field`: `addons` or
/// `controllers`), each with the version it runs.
fn runs_of<'a>(
    docs: impl Iterator<Item = &'a Doc<Cluster>>,
    field: &str,
    name: &str,
) -> Vec<(&'a Doc<Cluster>, &'a str)> {
    docs.filter_map(|o| {
        let list = if field == "addons" { &o.value.addons } else { &o.value.controllers };
        list.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| (o, v.as_str()))
    })
    .collect()
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let rings = &ctx.plan.fleet.value.rings;
    let ring_of = |c: &Cluster| rings.iter().position(|r| r.name == c.upgrade_channel);
    for doc in &ctx.sources.clusters {
        let c = &doc.value;
        let Some(ring) = ring_of(c) else { continue };
        let earlier: Vec<&Doc<Cluster>> = ctx
            .sources
            .clusters
            .iter()
            .filter(|o| o.value.service == c.service && ring_of(&o.value).is_some_and(|r| r < ring))
            .collect();
        if earlier.is_empty() {
            continue;
        }
        // (what, path in the cluster file, version here, (earlier cluster, its version))
        type Item<'d> = (String, Vec<&'d str>, &'d str, Vec<(&'d Doc<Cluster>, &'d str)>);
        let mut items: Vec<Item> = vec![(
            "Kubernetes".to_string(),
            vec!["kubernetesVersion"],
            c.kubernetes_version.as_str(),
            earlier
                .iter()
                .map(|o| (*o, o.value.kubernetes_version.as_str()))
                .collect(),
        )];
        // Add-ons, then controllers: each compared with the earlier clusters of the service
        // that run it; when none does, with the earlier clusters of any service that run it
        // (the same software, tried there); when none at all, this ring is the first.
        let components = c
            .addons
            .iter()
            .map(|(k, v)| ("addons", k, v))
            .chain(c.controllers.iter().map(|(k, v)| ("controllers", k, v)));
        for (field, name, version) in components {
            let mut runs = runs_of(earlier.iter().copied(), field, name.as_str());
            if runs.is_empty() {
                let any_service = ctx.sources.clusters.iter().filter(|o| ring_of(&o.value).is_some_and(|r| r < ring));
                runs = runs_of(any_service, field, name.as_str());
            }
            if runs.is_empty() {
                let first = &rings[0].name;
                out.push(
                    Diagnostic::error(
                        &RULE.code,
                        &ctx.sources.files,
                        doc.label(&[field, name.as_str()], format!("{name} {version}")),
                        format!(
                            "{name} {version} runs on `{}` in ring `{}`, and no cluster of an earlier ring runs {name}",
                            c.cluster_id, c.upgrade_channel
                        ),
                    )
                    .with_help(format!(
                        "run {name} on a cluster of ring `{first}` first and let it move on ring by ring, or remove it from `{}`",
                        c.cluster_id
                    ))
                    .on_cluster(c.cluster_id.as_str()),
                );
                continue;
            }
            items.push((name.to_string(), vec![field, name.as_str()], version.as_str(), runs));
        }
        for (what, path, version, runs) in items {
            // The first earlier ring (in ring order) whose newest cluster is behind.
            let behind = (0..ring).find_map(|r| {
                let (doc, newest) = runs
                    .iter()
                    .filter(|(o, _)| ring_of(&o.value) == Some(r))
                    .max_by(|a, b| compare_versions(a.1, b.1))?;
                compare_versions(version, newest).is_gt().then_some((*doc, *newest))
            });
            let Some((newest_doc, newest)) = behind else {
                continue;
            };
            let skipped = &newest_doc.value.upgrade_channel;
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    doc.label(&path, format!("{what} {version}")),
                    format!(
                        "cluster `{}` in ring `{}` runs {what} {version}, which ring `{skipped}` has not run (newest there: {newest})",
                        c.cluster_id, c.upgrade_channel
                    ),
                )
                .with_secondary(newest_doc.label(
                    &path,
                    format!("`{}` in ring `{}`", newest_doc.value.cluster_id, newest_doc.value.upgrade_channel),
                ))
                .with_help(format!(
                    "roll {what} {version} out to ring `{skipped}` first, or keep `{}` on {newest}",
                    c.cluster_id
                ))
                .on_cluster(c.cluster_id.as_str()),
            );
        }
    }
}
