//! ## What it does
//! Flags a cloud identity federated with clusters of more than one environment: an Azure
//! managed identity with federated credentials for a staging and a prod cluster, or an IAM
//! role of one account trusted by clusters of both. An app's identity is its identity
//! profile's `azure` or `aws`, or the environment's own (`environments.<env>`). An Azure
//! identity is its client id too, which the service accounts of AKS workload identity
//! clusters carry: one client id on staging and prod is flagged even when the profile has
//! no `azure.name` (its credentials federated outside fleetgen).
//!
//! ## Why is this bad?
//! A grant follows the identity, not the cluster. Every cluster federated with it can get a
//! token for it and use every grant it holds: a staging pod can read the prod vault's
//! secrets and write to prod's queues, and anyone who can deploy to staging holds prod's
//! data. Environments are there to keep a mistake (or a compromise) in staging out of
//! production.
//!
//! ## Example
//! ```yaml
//! # profiles/identity/ledger-api.yaml, used by an app placed in staging and prod
//! azure: { clientId: …, name: id-ledger-api, resourceGroup: rg-fleet-identities, subscriptionId: … }
//! ```
//!
//! ## Use instead
//! Give each lower environment an identity of its own in the profile (the permissions stay
//! the profile's, granted on that environment's resources):
//! ```yaml
//! environments:
//!   staging:
//!     azure: { clientId: …, name: id-ledger-api-staging, resourceGroup: rg-fleet-identities-staging, subscriptionId: … }
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::model::Environment;
use crate::model::profiles::field_path;
use crate::resolve::cloud_identity::IdentityKey as Key;

rule!("FG144" "identity-across-environments", "secrets", Error, Lint, "a cloud identity (managed identity or its client id, or IAM role of one account) federated with clusters of more than one environment: the lower one can use the higher one's grants (lint)");

/// An identity as its cloud tells identities apart: the managed identity or IAM role a
/// federation names, or the Azure client id (lowercased) an AKS workload identity service
/// account is annotated with, which is all there is of a profile without `azure.name`.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Identity {
    Cloud(Key),
    Client(String),
}

/// Environment → the clusters using an identity there; the identity profiles that name it;
/// it as first written.
type Users<'a> = (BTreeMap<Environment, BTreeSet<&'a str>>, BTreeSet<&'a str>, &'a str);

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let mut by_identity: BTreeMap<Identity, Users> = BTreeMap::new();
    for p in ctx.plan.placements.iter().filter(|p| p.drained.is_none()) {
        let Some(profile) = p.app.value.identity.cloud_permissions_profile.as_ref() else {
            continue;
        };
        let federated = p.identity.federation.as_ref().map(|f| {
            let (key, written) = f.identity_key();
            (Identity::Cloud(key), written)
        });
        // The client id the workload identity webhook gives the pods (none when revoked).
        let client = (p.identity.service_account_annotations.iter())
            .find(|(k, _)| k == "azure.workload.identity/client-id")
            .map(|(_, v)| (Identity::Client(v.value.to_lowercase()), v.value.as_str()));
        for (key, written) in federated.into_iter().chain(client) {
            let entry = by_identity.entry(key).or_insert_with(|| (BTreeMap::new(), BTreeSet::new(), written));
            entry
                .0
                .entry(p.cluster.value.environment)
                .or_default()
                .insert(p.cluster_id());
            entry.1.insert(profile.as_str());
        }
    }
    // A managed identity federated with both environments is reported once, by its name,
    // not again by its client id: (profile, cloud, lower environment).
    let mut reported: BTreeSet<(&str, &str, Environment)> = BTreeSet::new();
    for (key, (envs, profiles, written)) in by_identity {
        let Some(&top) = envs.keys().last().filter(|_| envs.len() > 1) else {
            continue;
        };
        let Some(doc) = profiles
            .iter()
            .find_map(|n| ctx.sources.identity_profiles.iter().find(|d| d.value.name.as_str() == *n))
        else {
            continue;
        };
        let lower: Vec<Environment> = envs.keys().copied().filter(|e| *e != top).collect();
        let cloud = if matches!(key, Identity::Cloud(Key::Aws(..))) { "aws" } else { "azure" };
        if !reported.insert((doc.value.name.as_str(), cloud, lower[0])) {
            continue;
        }
        let (what, at) = match key {
            Identity::Cloud(Key::Azure(..)) => (
                format!("managed identity `{written}` is federated with"),
                field_path(&doc.value.azure_in(lower[0]).1, "name"),
            ),
            Identity::Client(_) => (
                format!("Azure client id `{written}` is given to the service accounts on"),
                field_path(&doc.value.azure_in(lower[0]).1, "clientId"),
            ),
            Identity::Cloud(Key::Aws(account, _)) => (
                format!("IAM role `{written}` of account {account} is trusted by"),
                field_path(&doc.value.aws_in(lower[0]).1, "roleName"),
            ),
        };
        let clusters: Vec<String> = envs
            .iter()
            .map(|(env, ids)| {
                let ids: Vec<String> = ids.iter().map(|c| format!("`{c}`")).collect();
                format!("{env} ({})", crate::lint::query::and_list(&ids))
            })
            .collect();
        let lower_names: Vec<String> = lower.iter().map(|e| format!("`{e}`")).collect();
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(&at, format!("one identity for {} environments", envs.len())),
                format!(
                    "{what} clusters of {}: a pod in {} can take it and use every grant it holds in `{top}`",
                    crate::lint::query::and_list(&clusters),
                    crate::lint::query::and_list(&lower_names).replace(" and ", " or "),
                ),
            )
            .with_help(format!(
                "give {} an identity of its own in identity profile `{}` (`environments.{}.{cloud}`)",
                crate::lint::query::and_list(&lower_names),
                doc.value.name,
                lower[0]
            )),
        );
    }
}
