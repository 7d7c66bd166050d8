//! ## What it does
//! Flags a cluster that is ahead of an earlier ring on a policy intent, among the clusters
//! that run the same policy profile (profiles are separate tracks: a sandbox on the reference
//! profile that audits everything does not hold prod back):
//! - it denies with the intent while an earlier ring only audits it: every earlier ring with
//!   clusters of the profile must have a cluster that denies before a later ring may;
//! - it runs a newer version of the intent than an earlier ring: every earlier ring must
//!   have a cluster on that version or a newer one (`version` of the intent file, rings
//!   pinned to an older one with `versionByRing`).
//!
//! A cluster's enforcement is its policy profile's `byRing` entry for its ring, else
//! `byEnvironment`, else `enforcement` (and audit while an incident switch of fleet.yaml says
//! `auditOnly`). A cluster that an exemption frees from the intent as a whole (its `target`
//! names the cluster, or nothing) neither denies nor runs a version: a ring whose clusters are
//! all exempted has not taken the step to deny.
//!
//! ## Why is this bad?
//! Turning an intent from audit to deny, or changing what it checks, refuses workloads that
//! passed before. Rings exist so that the step meets staging's workloads, and the teams that
//! fix them, before it meets production's. A prod ring that takes the step first finds the
//! broken workloads at its own deploys.
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
//! Take the step in the earlier ring first (`byRing: {staging: deny}`; a new version of the
//! intent with the later rings pinned to the old one, `versionByRing: {prod: 1}`), then in
//! the next one; or keep the later ring where the earlier one is until then.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::load::Doc;
use crate::model::Cluster;
use crate::model::common::Enforcement;
use crate::policy;

rule!("FG126" "policy-skips-ring", "drift", Error, Lint, "a later ring ahead of an earlier ring running the same policy profile: it denies where that ring audits, or runs a newer version of the intent (lint)");

/// One cluster's view of one intent.
struct Enforced<'s> {
    doc: &'s Doc<Cluster>,
    ring: usize,
    profile: &'s str,
    intent: &'s str,
    enforcement: Enforcement,
    version: u32,
    /// An exemption frees the whole cluster from the intent: it neither denies nor runs a
    /// version, so it is ahead of no ring, and no witness that its ring took a step.
    exempt: bool,
}

impl Enforced<'_> {
    fn denies(&self) -> bool {
        !self.exempt && self.enforcement == Enforcement::Deny
    }

    /// The version of the intent it runs, if any.
    fn runs(&self) -> Option<u32> {
        (!self.exempt).then_some(self.version)
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let rings = &ctx.plan.fleet.value.rings;
    let position = |ring: &str| rings.iter().position(|r| r.name == *ring);
    let mut enforced = Vec::new();
    for doc in &ctx.sources.clusters {
        let c = &doc.value;
        let Some(ring) = position(c.upgrade_channel.as_str()) else { continue };
        for ci in policy::intents_for(ctx.sources, c) {
            enforced.push(Enforced {
                doc,
                ring,
                profile: c.policy_profile.as_str(),
                intent: ci.definition.id.as_str(),
                enforcement: ci.enforcement,
                version: ci.definition.version.unwrap_or(1),
                exempt: policy::exempted_on_cluster(ctx.sources, ci.definition.id.as_str(), c.cluster_id.as_str()),
            });
        }
    }
    for e in &enforced {
        // The clusters of an earlier ring `r` that run the same profile and intent.
        let peers = |r: usize| {
            enforced
                .iter()
                .filter(move |o| o.ring == r && o.profile == e.profile && o.intent == e.intent)
        };
        // The first earlier ring (in rollout order) that never denies, and the first whose
        // newest version is older.
        let Some(version) = e.runs() else { continue };
        let audits = (e.denies())
            .then(|| (0..e.ring).find(|&r| peers(r).next().is_some() && peers(r).all(|o| !o.denies())))
            .flatten();
        // Versions are compared among the clusters that run the intent: a ring exempted
        // from it altogether has no version to lag with (its step is the deny above).
        let running = |r: usize| peers(r).filter_map(Enforced::runs);
        let older = (0..e.ring).find(|&r| running(r).next().is_some() && running(r).all(|v| v < version));
        let c = &e.doc.value;
        let intent = e.intent;
        let profile = e.profile;
        if let Some(r) = audits {
            let earlier = rings[r].name.as_str();
            // A cluster that audits is the witness, else one the intent is exempted on.
            let witness = peers(r).min_by_key(|o| o.exempt);
            let does = match (peers(r).all(|o| o.exempt), peers(r).any(|o| o.exempt)) {
                (true, _) => "is exempted from",
                (false, true) => "only audits or is exempted from",
                (false, false) => "only audits",
            };
            out.push(finding(
                ctx,
                e.doc,
                witness.map(|w| w.doc),
                format!("denies `{intent}`"),
                format!(
                    "cluster `{}` in ring `{}` denies with `{intent}`, which ring `{earlier}` {does} (policy profile `{profile}`)",
                    c.cluster_id, c.upgrade_channel
                ),
                format!("`{{}}` in ring `{earlier}` {}", if witness.is_some_and(|w| w.exempt) { "is exempted from it" } else { "audits" }),
                format!(
                    "deny in ring `{earlier}` first (`byRing: {{{earlier}: deny}}` in its policy profile{}), or audit in ring `{}` until then (`byRing: {{{}: audit}}`)",
                    lift(does),
                    c.upgrade_channel,
                    c.upgrade_channel
                ),
            ));
        }
        if let Some(r) = older {
            let earlier = rings[r].name.as_str();
            let newest = running(r).max().unwrap_or(0);
            let witness = peers(r).find(|o| !o.exempt).map(|o| o.doc);
            out.push(finding(
                ctx,
                e.doc,
                witness,
                format!("version {version} of `{intent}`"),
                format!(
                    "cluster `{}` in ring `{}` runs version {version} of `{intent}`, which ring `{earlier}` has not run (it runs version {newest}; policy profile `{profile}`)",
                    c.cluster_id, c.upgrade_channel
                ),
                format!("`{{}}` in ring `{earlier}` runs version {newest}"),
                format!(
                    "move ring `{earlier}` to version {version} first (drop its `versionByRing` pin), or pin ring `{}` to version {newest} (`versionByRing: {{{}: {newest}}}`)",
                    c.upgrade_channel, c.upgrade_channel
                ),
            ));
        }
    }
}

/// The help's words for lifting the earlier ring's exemption, when one is why it lags.
fn lift(does: &str) -> &'static str {
    if does.contains("exempted") {
        " and lift its cluster-wide exemption"
    } else {
        ""
    }
}

/// A finding at `doc`'s policy profile, with the earlier ring's `witness` beside it
/// (`witness_text` has `{}` for its cluster id).
#[allow(clippy::too_many_arguments)]
fn finding(
    ctx: &Context,
    doc: &Doc<Cluster>,
    witness: Option<&Doc<Cluster>>,
    label: String,
    message: String,
    witness_text: String,
    help: String,
) -> Diagnostic {
    let mut d = Diagnostic::error(&RULE.code, &ctx.sources.files, doc.label(&["policyProfile"], label), message)
        .with_help(help)
        .on_cluster(doc.value.cluster_id.as_str());
    if let Some(w) = witness {
        d = d.with_secondary(w.label(
            &["policyProfile"],
            witness_text.replace("{}", w.value.cluster_id.as_str()),
        ));
    }
    d
}
