//! ## What it does
//! Flags clusters of one cluster profile and one ring (`upgradeChannel`) that run different
//! Kubernetes versions, or different versions of an add-on (or a controller) they both run.
//! The version most of the group runs (the newer one on a tie) is taken as the group's; the
//! others are flagged. One version spelt two ways (`v2.17.2` and `2.17.2`) is not a skew.
//!
//! ## Why is this bad?
//! A profile and a ring together say "these clusters are built and upgraded the same way".
//! When they are not, a change validated on one of them meets a different cluster on the
//! next, and the ring no longer predicts anything. Skew usually means an upgrade stopped
//! halfway and nobody noticed.
//!
//! ## Example
//! ```yaml
//! # both: profile aks-prod-standard, upgradeChannel prod
//! clusters/azure-westeurope-prod-platform-01.yaml: kubernetesVersion: "1.33"
//! clusters/azure-westus3-prod-standby-01.yaml:     kubernetesVersion: "1.32"
//! ```
//!
//! ## Use instead
//! Finish the upgrade so the group runs one version, or move the odd cluster to the ring
//! (or profile) whose versions it really has.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::query::compare_versions;
use crate::load::Doc;
use crate::model::Cluster;
use crate::lint::rule;

rule!("FG120" "ring-version-skew", "drift", Warning, Lint, "clusters of one profile and ring on different Kubernetes or add-on versions (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let mut groups: BTreeMap<(&str, &str), Vec<&Doc<Cluster>>> = BTreeMap::new();
    for doc in &ctx.sources.clusters {
        let c = &doc.value;
        groups
            .entry((c.profile.as_str(), c.upgrade_channel.as_str()))
            .or_default()
            .push(doc);
    }
    for ((profile, ring), members) in groups {
        if members.len() < 2 {
            continue;
        }
        compare(
            ctx,
            out,
            profile,
            ring,
            "Kubernetes",
            &members,
            |c| Some(c.kubernetes_version.as_str()),
            &["kubernetesVersion"],
        );
        let addons: std::collections::BTreeSet<&str> = members
            .iter()
            .flat_map(|d| d.value.addons.keys().map(|k| k.as_str()))
            .collect();
        for addon in addons {
            compare(
                ctx,
                out,
                profile,
                ring,
                addon,
                &members,
                |c| {
                    c.addons
                        .iter()
                        .find(|(k, _)| k.as_str() == addon)
                        .map(|(_, v)| v.as_str())
                },
                &["addons", addon],
            );
        }
        let controllers: std::collections::BTreeSet<&str> = members
            .iter()
            .flat_map(|d| d.value.controllers.keys().map(|k| k.as_str()))
            .collect();
        for controller in controllers {
            compare(
                ctx,
                out,
                profile,
                ring,
                controller,
                &members,
                |c| {
                    c.controllers
                        .iter()
                        .find(|(k, _)| k.as_str() == controller)
                        .map(|(_, v)| v.as_str())
                },
                &["controllers", controller],
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn compare(
    ctx: &Context,
    out: &mut Vec<Diagnostic>,
    profile: &str,
    ring: &str,
    what: &str,
    members: &[&Doc<Cluster>],
    version: impl Fn(&Cluster) -> Option<&str>,
    path: &[&str],
) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for d in members {
        if let Some(v) = version(&d.value) {
            *counts.entry(v).or_default() += 1;
        }
    }
    if counts.len() < 2 {
        return;
    }
    let Some(&common) = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| compare_versions(a.0, b.0)))
        .map(|(v, _)| v)
    else {
        return;
    };
    let Some(reference) = members.iter().find(|d| version(&d.value) == Some(common)) else {
        return;
    };
    for d in members {
        let Some(v) = version(&d.value) else { continue };
        // The same version spelt otherwise (`v2.17.2`, `2.17.02`) is no skew.
        let direction = match compare_versions(v, common) {
            Ordering::Equal => continue,
            Ordering::Less => "behind",
            Ordering::Greater => "ahead of",
        };
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                d.label(path, format!("{what} {v}")),
                format!(
                    "cluster `{}` runs {what} {v}, {direction} the {common} of the other `{profile}` clusters in ring `{ring}`",
                    d.value.cluster_id
                ),
            )
            .with_secondary(reference.label(path, format!("`{}` runs {common}", reference.value.cluster_id)))
            .with_help(format!(
                "upgrade the ring to one version, or move `{}` to the ring it belongs to",
                d.value.cluster_id
            ))
            .on_cluster(d.value.cluster_id.as_str()),
        );
    }
}
