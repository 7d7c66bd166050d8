//! ## What it does
//! Flags a cluster that denies with a policy intent while an earlier ring running the same
//! policy profile only audits it: every earlier ring with clusters of the profile must have a
//! cluster that denies, before a later ring may deny. (Profiles are separate tracks: a
//! sandbox on the reference profile that audits everything does not hold prod back.) The
//! enforcement of a cluster is its
//! policy profile's `byRing` entry for its ring, else `byEnvironment`, else `enforcement`
//! (and audit while an incident switch of fleet.yaml says `auditOnly`).
//!
//! ## Why is this bad?
//! Turning an intent from audit to deny refuses every workload that breaks it from then on.
//! Rings exist so that the step meets staging's workloads, and the teams that fix them,
//! before it meets production's. A prod ring that denies first finds the broken workloads
//! at its own deploys.
//!
//! ## Example
//! ```yaml
//! # rings: [staging, prod]
//! # policy-library/profiles/restricted.yaml, run by staging and prod clusters
//! intents:
//!   - intent: read-only-root-filesystem
//!     enforcement: deny
//!     byEnvironment: { staging: audit }
//! ```
//! Prod is the first ring that refuses a writable root filesystem.
//!
//! ## Use instead
//! Take the step in the earlier ring first (`byRing: {staging: deny}`, or the staging
//! profile's enforcement), then in the next one; or keep the later ring auditing
//! (`byRing: {prod: audit}`) until the earlier one denies.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::model::common::Enforcement;
use crate::policy;

rule!("FG126" "policy-skips-ring", "drift", Error, Lint, "a later ring denies with a policy intent that an earlier ring enforcing it only audits (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let rings = &ctx.plan.fleet.value.rings;
    let position = |ring: &str| rings.iter().position(|r| r.name == *ring);
    // (cluster, ring position, policy profile, intent, enforcement)
    let mut enforced = Vec::new();
    for doc in &ctx.sources.clusters {
        let c = &doc.value;
        let Some(ring) = position(c.upgrade_channel.as_str()) else { continue };
        let profile = c.policy_profile.as_str();
        for ci in policy::intents_for(ctx.sources, c) {
            enforced.push((doc, ring, profile, ci.intent.value.id.as_str(), ci.enforcement));
        }
    }
    for &(doc, ring, profile, intent, enforcement) in &enforced {
        if enforcement != Enforcement::Deny {
            continue;
        }
        // The first earlier ring (in rollout order) that enforces the intent and never denies.
        let skipped = (0..ring).find(|&r| {
            let here: Vec<Enforcement> = enforced
                .iter()
                .filter(|(_, er, ep, ei, _)| *er == r && *ep == profile && *ei == intent)
                .map(|(.., e)| *e)
                .collect();
            !here.is_empty() && !here.contains(&Enforcement::Deny)
        });
        let Some(skipped) = skipped else { continue };
        let c = &doc.value;
        let earlier = rings[skipped].name.as_str();
        let witness = enforced
            .iter()
            .find(|(_, er, ep, ei, _)| *er == skipped && *ep == profile && *ei == intent)
            .map(|(d, ..)| *d);
        let mut d = Diagnostic::error(
            &RULE.code,
            &ctx.sources.files,
            doc.label(&["policyProfile"], format!("denies `{intent}`")),
            format!(
                "cluster `{}` in ring `{}` denies with `{intent}`, which ring `{earlier}` only audits (policy profile `{profile}`)",
                c.cluster_id, c.upgrade_channel
            ),
        )
        .with_help(format!(
            "deny in ring `{earlier}` first (`byRing: {{{earlier}: deny}}` in its policy profile), or audit in ring `{}` until then (`byRing: {{{}: audit}}`)",
            c.upgrade_channel, c.upgrade_channel
        ))
        .on_cluster(c.cluster_id.as_str());
        if let Some(w) = witness {
            d = d.with_secondary(w.label(
                &["policyProfile"],
                format!("`{}` in ring `{earlier}` audits", w.value.cluster_id),
            ));
        }
        out.push(d);
    }
}
