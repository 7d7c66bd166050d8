//! ## What it does
//! Flags a cloud identity (an identity profile, `identity.cloudPermissionsProfile`) that apps
//! of different teams (`application.owner`) use.
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
//! ```
//!
//! ## Use instead
//! Give each team's app its own identity profile (and cloud identity), with only the
//! permissions that app needs. Apps of one team may share one.

use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;

rule!("FG143" "shared-identity", "secrets", Error, Lint, "a cloud identity (identity profile) used by apps of different teams (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    // identity profile → (owner → the apps of that owner using it, in file order)
    let mut users: BTreeMap<&str, BTreeMap<&str, Vec<&crate::load::Doc<crate::model::App>>>> = BTreeMap::new();
    for doc in &ctx.sources.apps {
        let a = &doc.value;
        if let Some(profile) = &a.identity.cloud_permissions_profile {
            users
                .entry(profile.as_str())
                .or_default()
                .entry(a.application.owner.as_str())
                .or_default()
                .push(doc);
        }
    }
    for (profile, owners) in users {
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
        for other in teams_apps.flatten() {
            let a = &other.value.application;
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    other.label(&["identity", "cloudPermissionsProfile"], format!("used by `{}` too", first.value.application.name)),
                    format!(
                        "identity profile `{profile}` is used by apps of {}: `{}` ({}) shares it with `{}` ({})",
                        crate::lint::query::and_list(&teams),
                        a.name,
                        a.owner,
                        first.value.application.name,
                        first.value.application.owner
                    ),
                )
                .with_secondary(first.label(&["identity", "cloudPermissionsProfile"], format!("`{}`", first.value.application.owner)))
                .with_help(format!("give `{}` an identity profile of its own, with only what it needs", a.name))
                .for_app(a.name.as_str()),
            );
        }
    }
}
