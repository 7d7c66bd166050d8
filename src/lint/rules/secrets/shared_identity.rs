//! ## What it does
//! Flags a cloud identity that apps of different teams (`application.owner`) use: one
//! identity profile (`identity.cloudPermissionsProfile`), or two profiles naming the same
//! identity in the cloud: the same Azure managed identity (subscription, resource group and
//! name) or client id, or the same IAM role of an account (its name), compared without case
//! as the clouds compare them (`Fleet-Checkout-Api` is the role `fleet-checkout-api`).
//!
//! ## Why is this bad?
//! An identity's grants are the union of what every app using it needs: each team's app can
//! read the other team's secrets and act as the other team's service. An incident in one
//! app (a leaked token, an identity revoked with `switches.revokeIdentity`) then reaches the
//! other team's, and no one team owns what the identity may do.
//!
//! ## Example
//! ```yaml
//! # apps/checkout-api/app.yaml (owner: checkout-team)
//! identity: { cloudPermissionsProfile: payments-api }
//! # apps/payments-api/app.yaml (owner: payments-team)
//! identity: { cloudPermissionsProfile: payments-api }
//! # profiles/identity/catalog-worker.yaml, of catalog-team's app, names checkout's role
//! aws: { roleName: fleet-checkout-api }
//! ```
//!
//! ## Use instead
//! Give each team's app its own identity profile (and cloud identity), with only the
//! permissions that app needs. Apps of one team may share one.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::load::Doc;
use crate::model::App;
use crate::resolve::cloud_identity::IdentityKey;

rule!("FG143" "shared-identity", "secrets", Error, Lint, "a cloud identity (identity profile, managed identity or IAM role) used by apps of different teams (lint)");

/// What apps share: an identity profile, or a cloud identity however profiles spell it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Shared<'a> {
    Profile(&'a str),
    /// An Azure client id, lowercased.
    Client(String),
    Cloud(IdentityKey),
}

/// A shared thing → (owner → the apps of that owner using it, in file order), and how the
/// first of them writes it.
type Users<'a> = BTreeMap<Shared<'a>, (BTreeMap<&'a str, Vec<&'a Doc<App>>>, String)>;

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let mut users: Users = BTreeMap::new();
    for doc in &ctx.sources.apps {
        let a = &doc.value;
        let Some(profile) = &a.identity.cloud_permissions_profile else {
            continue;
        };
        let mut shared: BTreeMap<Shared, String> = BTreeMap::new();
        shared.insert(Shared::Profile(profile.as_str()), profile.to_string());
        let profile_doc = ctx.sources.identity_profiles.iter().find(|d| d.value.name == *profile);
        // Every identity its placements federate with (drained ones come back), and the
        // Azure client ids its service accounts are annotated with.
        for p in ctx.placements_of(a.application.name.as_str()) {
            if let Some(federation) = &p.identity.federation {
                let (key, written) = federation.identity_key();
                let written = match &key {
                    IdentityKey::Azure(..) => format!("managed identity `{written}`"),
                    IdentityKey::Aws(account, _) => format!("IAM role `{written}` of account {account}"),
                };
                shared.entry(Shared::Cloud(key)).or_insert(written);
            }
            if p.cluster.value.provider == crate::model::Provider::Azure
                && let Some(azure) = profile_doc.and_then(|d| d.value.azure_in(p.cluster.value.environment).0)
            {
                shared
                    .entry(Shared::Client(azure.client_id.to_lowercase()))
                    .or_insert_with(|| format!("Azure client id `{}`", azure.client_id));
            }
        }
        for (key, written) in shared {
            users
                .entry(key)
                .or_insert_with(|| (BTreeMap::new(), written))
                .0
                .entry(a.application.owner.as_str())
                .or_default()
                .push(doc);
        }
    }
    // An app is flagged once, for the first thing it shares (its profile before its cloud
    // identities).
    let mut flagged: BTreeSet<&str> = BTreeSet::new();
    for (key, (owners, written)) in users {
        if owners.len() < 2 {
            continue;
        }
        let teams: Vec<String> = owners.keys().map(|t| format!("`{t}`")).collect();
        // The first app of the first team (by name) stands for it; every app of another team
        // is flagged.
        let mut teams_apps = owners.values();
        let Some(first) = teams_apps.next().and_then(|apps| apps.first()) else {
            continue;
        };
        let f = &first.value.application;
        let profile_of = |d: &Doc<App>| {
            d.value
                .identity
                .cloud_permissions_profile
                .as_ref()
                .map_or(String::new(), |p| p.to_string())
        };
        for other in teams_apps.flatten() {
            let a = &other.value.application;
            if !flagged.insert(a.name.as_str()) {
                continue;
            }
            let (message, help) = match &key {
                Shared::Profile(profile) => (
                    format!(
                        "identity profile `{profile}` is used by apps of {}: `{}` ({}) shares it with `{}` ({})",
                        crate::lint::query::and_list(&teams),
                        a.name,
                        a.owner,
                        f.name,
                        f.owner
                    ),
                    format!("give `{}` an identity profile of its own, with only what it needs", a.name),
                ),
                Shared::Client(_) | Shared::Cloud(_) => (
                    format!(
                        "{written} is used by apps of {}: `{}` ({}, identity profile `{}`) shares it with `{}` ({}, identity profile `{}`), and each gets the other's grants",
                        crate::lint::query::and_list(&teams),
                        a.name,
                        a.owner,
                        profile_of(other),
                        f.name,
                        f.owner,
                        profile_of(first)
                    ),
                    format!(
                        "give identity profile `{}` a cloud identity of its own (names are compared without case, as the cloud compares them)",
                        profile_of(other)
                    ),
                ),
            };
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    other.label(&["identity", "cloudPermissionsProfile"], format!("used by `{}` too", f.name)),
                    message,
                )
                .with_secondary(first.label(&["identity", "cloudPermissionsProfile"], format!("`{}`", f.owner)))
                .with_help(help)
                .for_app(a.name.as_str()),
            );
        }
    }
}
