//! ## What it does
//! Flags an AKS cluster that runs apps with a cloud identity (`identity.cloudPermissionsProfile`)
//! but has no regional Key Vault: `azure.keyVault` is missing, or another cluster in a
//! different region names the same vault; and one running such apps whose regional
//! resources (`azure.resources`: the Service Bus namespace, storage account … that the
//! permission mapping grants on) name one that a cluster of another region names too. Names
//! are compared as Azure does, without case: `KV-EastUS-Prod-01` is `kv-eastus-prod-01`.
//! (AWS ARNs carry the region, so `aws.resources` values are not compared.)
//!
//! ## Why is this bad?
//! Apps with a cloud identity read their secrets and certificates from the cluster's Key
//! Vault. A vault in another region (or none, with secrets copied in by hand) makes every
//! secret read a cross-region dependency: the region that should survive an outage cannot
//! start pods while the vault's region is down. The multi-region AKS baseline gives every
//! regional stamp its own vault for this reason. The same holds for every resource the
//! apps' grants are scoped to: the standby that reads the primary's vault, queue or bucket
//! has its data but not its secrets and grants when the primary's region fails.
//!
//! ## Example
//! ```yaml
//! # clusters/azure-westeurope-prod-regulated-01.yaml
//! region: westeurope
//! azure: { subscriptionId: …, resourceGroup: rg-aks-westeurope-prod-regulated-01, keyVault: kv-eastus-prod-01 }
//! ```
//!
//! ## Use instead
//! Give each region's clusters a vault in that region
//! (`keyVault: kv-westeurope-prod-01`), with the secrets the apps need replicated into it,
//! and regional resources of their own region (`resources: {serviceBus: sb-westeurope-prod}`).

use std::collections::BTreeSet;

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::model::Provider;
use crate::lint::rule;

rule!("FG109" "no-regional-key-vault", "active-active", Error, Lint, "an AKS cluster running apps with a cloud identity without a Key Vault of its own region, or whose regional resources (azure.resources) are another region's (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for cp in &ctx.plan.clusters {
        let doc = cp.doc;
        let c = &doc.value;
        let apps: BTreeSet<&str> = ctx
            .plan
            .placements
            .iter()
            .filter(|p| p.cluster_id() == cp.id() && p.drained.is_none())
            .filter(|p| p.app.value.identity.cloud_permissions_profile.is_some())
            .map(|p| p.app_name())
            .collect();
        if apps.is_empty() {
            continue;
        }
        let names: Vec<String> = apps.iter().map(|a| format!("`{a}`")).collect();
        shared_resources(ctx, doc, &names, out);
        if c.provider != Provider::Azure {
            continue;
        }
        let vault = c.azure.as_ref().and_then(|a| a.key_vault.as_deref());
        let Some(vault) = vault else {
            let path: &[&str] = if c.azure.is_some() { &["azure"] } else { &["region"] };
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    doc.label(path, "no keyVault"),
                    format!(
                        "cluster `{}` runs {} with a cloud identity but has no Key Vault",
                        c.cluster_id,
                        names.join(", ")
                    ),
                )
                .with_help(format!("set `azure.keyVault` to a vault in {}", c.region))
                .on_cluster(c.cluster_id.as_str()),
            );
            continue;
        };
        let elsewhere = ctx
            .sources
            .clusters
            .iter()
            .filter(|o| o.value.provider == Provider::Azure && o.value.region != c.region)
            .find_map(|o| {
                let theirs = o.value.azure.as_ref().and_then(|a| a.key_vault.as_deref())?;
                same_name(theirs, vault).then_some((o, theirs))
            });
        let Some((other, theirs)) = elsewhere else { continue };
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(&["azure", "keyVault"], "shared across regions"),
                format!(
                    "cluster `{}` in {} shares Key Vault `{vault}` with `{}` in {}{}: the vault is not regional, so {} {} on another region",
                    c.cluster_id,
                    c.region,
                    other.value.cluster_id,
                    other.value.region,
                    spelt(theirs, vault),
                    names.join(", "),
                    if names.len() == 1 { "depends" } else { "depend" }
                ),
            )
            .with_secondary(other.label(&["azure", "keyVault"], "the same vault"))
            .with_help(format!("give the clusters in {} a vault in {}", c.region, c.region))
            .on_cluster(c.cluster_id.as_str()),
        );
    }
}

/// Whether two Azure resource names name one resource: Azure compares them without case
/// (`KV-EastUS-Prod-01` is the vault `kv-eastus-prod-01`; its DNS name is the same).
fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// ` (spelt `X` there)` when the other cluster writes the name in other letters.
fn spelt(theirs: &str, mine: &str) -> String {
    if theirs == mine { String::new() } else { format!(" (spelt `{theirs}` there)") }
}

/// The cluster's regional resources by key: `azure.resources`, whose values name globally
/// unique resources (namespaces, storage accounts). AWS ARNs carry `{region}`, so one
/// `aws.resources` value in every region is the usual case, not a shared resource.
fn resources(c: &crate::model::Cluster) -> Option<(&'static str, &std::collections::BTreeMap<String, String>)> {
    match c.provider {
        Provider::Azure => c.azure.as_ref().map(|a| ("azure", &a.resources)),
        Provider::Aws => None,
    }
}

/// A regional resource of `doc` that a cluster of another region of its cloud names too.
fn shared_resources(ctx: &Context, doc: &crate::load::Doc<crate::model::Cluster>, names: &[String], out: &mut Vec<Diagnostic>) {
    let c = &doc.value;
    let Some((section, mine)) = resources(c) else { return };
    for (key, value) in mine {
        let other = ctx.sources.clusters.iter().find_map(|o| {
            if o.value.provider != c.provider || o.value.region == c.region {
                return None;
            }
            let theirs = resources(&o.value)?.1.get(key)?;
            same_name(theirs, value).then_some((o, theirs))
        });
        let Some((other, theirs)) = other else { continue };
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(&[section, "resources", key], "shared across regions"),
                format!(
                    "cluster `{}` in {} names `{value}` as its `{key}`, as `{}` in {} does{}: the grants of {} there depend on another region",
                    c.cluster_id,
                    c.region,
                    other.value.cluster_id,
                    other.value.region,
                    spelt(theirs, value),
                    names.join(", ")
                ),
            )
            .with_secondary(other.label(&[section, "resources", key], "the same resource"))
            .with_help(format!("give the clusters in {} a `{key}` in {}", c.region, c.region))
            .on_cluster(c.cluster_id.as_str()),
        );
    }
}
