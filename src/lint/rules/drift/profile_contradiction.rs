//! ## What it does
//! Flags a cluster that contradicts its cluster profile: a `provider`, `service`,
//! `networkMode`, `identityMode`, `entrypoint`, `observabilityProfile`, `policyProfile` or
//! `backupProfile` other than the one the profile fixes, or an `environment` the profile
//! does not allow. It runs in `fleetgen validate`, so nothing renders while it fires.
//!
//! ## Why is this bad?
//! A profile is the promise that every cluster naming it is built the same way; the
//! platform team reviews the profile, not each of the hundreds of clusters. A cluster that
//! quietly differs (another CNI, no workload identity, a laxer policy profile) is drift that
//! nobody reviewed, and it breaks exactly when a workload moves onto it.
//!
//! ## Example
//! ```yaml
//! # profiles/cluster/aks-prod-standard.yaml: policyProfile: restricted-prod
//! clusterId: azure-eastus-prod-platform-01
//! profile: aks-prod-standard
//! policyProfile: audit-only        # the profile fixes restricted-prod
//! ```
//!
//! ## Use instead
//! Match the profile (`policyProfile: restricted-prod`), or, when the cluster really
//! is different, give it a profile that says so and have that profile reviewed.

use crate::diag::Diagnostic;
use crate::load::Sources;
use crate::lint::rule;

rule!("FG025" "profile-contradiction", "drift", Error, Validate, "a cluster contradicts a field its cluster profile fixes");

/// Every cluster against its profile.
pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let map = &sources.files;
    for doc in &sources.clusters {
        let c = &doc.value;
        let Some(profile) = sources.cluster_profiles.iter().find(|p| p.value.name == c.profile) else {
            continue; // reported as an unknown reference
        };
        let p = &profile.value;
        let fixed: [(&str, Option<String>, String); 8] = [
            ("provider", Some(p.provider.to_string()), c.provider.to_string()),
            ("service", Some(p.service.to_string()), c.service.to_string()),
            (
                "networkMode",
                Some(p.network_mode.to_string()),
                c.network_mode.to_string(),
            ),
            (
                "identityMode",
                Some(p.identity_mode.to_string()),
                c.identity_mode.to_string(),
            ),
            ("entrypoint", Some(p.entrypoint.to_string()), c.entrypoint.to_string()),
            (
                "observabilityProfile",
                p.observability_profile.as_ref().map(ToString::to_string),
                c.observability_profile.to_string(),
            ),
            (
                "policyProfile",
                p.policy_profile.as_ref().map(ToString::to_string),
                c.policy_profile.to_string(),
            ),
            (
                "backupProfile",
                p.backup_profile.as_ref().map(ToString::to_string),
                c.backup_profile.to_string(),
            ),
        ];
        for (field, want, have) in fixed {
            let Some(want) = want else { continue };
            if want != have {
                out.push(
                    Diagnostic::error(
                        &RULE.code,
                        map,
                        doc.label(&[field], format!("profile fixes `{want}`")),
                        format!(
                            "cluster `{}` sets `{field}: {have}`, but its profile `{}` fixes `{want}`",
                            c.cluster_id, p.name
                        ),
                    )
                    .with_secondary(profile.label(&[field], "fixed here"))
                    .with_help(format!(
                        "set `{field}: {want}`, or move the cluster to a profile that allows `{have}`"
                    )),
                );
            }
        }
        if !p.environments.is_empty() && !p.environments.contains(&c.environment) {
            let allowed: Vec<String> = p.environments.iter().map(ToString::to_string).collect();
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    map,
                    doc.label(&["environment"], "not allowed by the profile"),
                    format!(
                        "cluster `{}` is in `{}`, which profile `{}` does not allow",
                        c.cluster_id, c.environment, p.name
                    ),
                )
                .with_secondary(profile.label(&["environments"], "allowed here"))
                .with_help(format!("the profile allows {}", crate::suggest::list(&allowed))),
            );
        }
    }
}
