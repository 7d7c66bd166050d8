//! Exemptions are data: `policy-library/exemptions/<name>.yaml` names an intent (or a policy
//! finding code), a target (app, cluster, namespace: every field given must match), an
//! owner, a reason and the last day it holds.
//!
//! An active exemption turns off, for its target only, the compile-time finding, the
//! admission binding (the target's namespace joins the binding's excluded namespaces; a
//! cluster-wide exemption drops the binding) and the Azure assignment (the namespace joins
//! `excludedNamespaces`; a cluster-wide one becomes a `policyExemptions` resource with
//! `expiresOn`). An expired exemption is an error and exempts nothing; one expiring within
//! 14 days is a warning. "Today" is [`Sources::today`]: the UTC date, or
//! `FLEETGEN_TODAY=YYYY-MM-DD`.

use crate::diag::{Diagnostic, codes};
use crate::load::{Doc, Sources};
use crate::model::PolicyExemption;
use crate::suggest;

pub use crate::clock::parse_date;

/// Whether the exemption is still in force on `today`.
pub fn active(ex: &PolicyExemption, today: crate::clock::Day) -> bool {
    parse_date(&ex.expires).is_some_and(|last| today <= last)
}

/// The policy finding codes a `rule:` may name.
fn rule_code(rule: &str) -> Option<&'static crate::diag::Code> {
    let code = codes::find(rule)?;
    ("FG060"..="FG071").contains(&code.id).then_some(code)
}

/// Whether `rule:` names a policy finding, which compile-time enforcement exempts (rather
/// than a lint rule that honours exemptions itself).
pub fn is_policy_rule(rule: &str) -> bool {
    rule_code(rule).is_some()
}

/// Whether `ex` covers a finding of `intent` (with `code`) for `app` on `cluster` in `namespace`.
pub fn covers(ex: &PolicyExemption, intent: &str, code: &str, app: &str, cluster: &str, namespace: &str) -> bool {
    let what = match (&ex.intent, &ex.rule) {
        (Some(i), _) => i.as_str() == intent,
        (None, Some(r)) => rule_code(r).is_some_and(|c| c.id == code),
        (None, None) => false,
    };
    let t = &ex.target;
    what && t.app.as_ref().is_none_or(|a| a.as_str() == app)
        && t.cluster.as_ref().is_none_or(|c| c.as_str() == cluster)
        && t.namespace.as_ref().is_none_or(|n| n.as_str() == namespace)
}

/// Load-time checks: references, dates, expiry. `lint_rules` are the lint rules that
/// honour exemptions (by name), which a `rule:` may name besides the policy findings.
pub fn check(sources: &Sources, lint_rules: &[&crate::diag::Code], out: &mut Vec<Diagnostic>) {
    let files = &sources.files;
    let today = sources.today;
    let intents: Vec<&str> = sources.policy_intents.iter().map(|d| d.value.id.as_str()).collect();
    let apps: Vec<&str> = sources.apps.iter().map(|d| d.value.application.name.as_str()).collect();
    let clusters: Vec<&str> = sources.clusters.iter().map(|d| d.value.cluster_id.as_str()).collect();
    for doc in &sources.policy_exemptions {
        let ex = &doc.value;
        let unknown = |path: &[&str], what: &str, name: &str, known: &[&str], out: &mut Vec<Diagnostic>| {
            if known.contains(&name) {
                return;
            }
            let help = match suggest::closest(name, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("no {what} of this name"),
            };
            out.push(
                Diagnostic::error(
                    codes::EXEMPTION_INVALID,
                    files,
                    doc.label(path, format!("no such {what}")),
                    format!("unknown {what} `{name}`"),
                )
                .with_help(help),
            );
        };
        if let Some(i) = &ex.intent {
            unknown(&["intent"], "intent", i.as_str(), &intents, out);
        }
        if let Some(r) = &ex.rule
            && rule_code(r).is_none()
            && !lint_rules.iter().any(|c| c.named_by(r))
        {
            out.push(
                Diagnostic::error(
                    codes::EXEMPTION_INVALID,
                    files,
                    doc.label(&["rule"], "not a finding this can turn off"),
                    format!("`{r}` is not a policy finding code or a lint rule"),
                )
                .with_help(format!(
                    "a rule is a policy finding, FG060-FG071 (or its name, e.g. `mounts-token`), or a lint rule by code or name{}; `fleetgen rules` lists them",
                    crate::suggest::closest(r, lint_rules.iter().map(|c| c.name))
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default()
                )),
            );
        }
        if let Some(a) = &ex.target.app {
            unknown(&["target", "app"], "app", a.as_str(), &apps, out);
        }
        if let Some(c) = &ex.target.cluster {
            unknown(&["target", "cluster"], "cluster", c.as_str(), &clusters, out);
        }
        match parse_date(&ex.expires) {
            // An input error, as an impossible date is everywhere else (FG012, exit 2).
            None => out.push(Diagnostic::error(
                codes::INVALID_VALUE,
                files,
                doc.label(&["expires"], "no such day"),
                format!("`{}` is not a date", ex.expires),
            )),
            Some(last) if last < today => out.push(
                Diagnostic::error(
                    codes::EXEMPTION_EXPIRED,
                    files,
                    doc.label(&["expires"], "expired"),
                    format!(
                        "exemption `{}` expired on {} (owner `{}`)",
                        ex.name, ex.expires, ex.owner
                    ),
                )
                .with_help("renew it with a new date and reason, or remove it and fix the finding"),
            ),
            Some(last) if crate::clock::expires_within(last, today).is_some() => out.push(
                Diagnostic::error(
                    codes::EXEMPTION_EXPIRING,
                    files,
                    doc.label(&["expires"], "expires soon"),
                    format!(
                        "exemption `{}` expires on {} ({}; owner `{}`)",
                        ex.name,
                        ex.expires,
                        crate::clock::expires_within(last, today).unwrap_or_default(),
                        ex.owner
                    ),
                )
                .warning(),
            ),
            Some(_) => {}
        }
    }
}

/// Exemptions in force for a cluster and intent: (the exemption, the namespace it frees, or
/// `None` when it frees the whole cluster).
pub fn for_cluster<'s>(
    sources: &'s Sources,
    intent: &str,
    cluster: &str,
    namespace_of: &dyn Fn(&str) -> Option<String>,
) -> Vec<(&'s Doc<PolicyExemption>, Option<String>)> {
    let today = sources.today;
    // The finding code of the intent's check: a `rule:` exemption names it, as it does for
    // the compile-time finding (`covers`).
    let code = sources
        .policy_intents
        .iter()
        .find(|d| d.value.id.as_str() == intent)
        .map(|d| super::checks::code(d.value.check).id);
    let mut out = Vec::new();
    for doc in &sources.policy_exemptions {
        let ex = &doc.value;
        let names_it = match (&ex.intent, &ex.rule) {
            (Some(i), _) => i.as_str() == intent,
            (None, Some(r)) => rule_code(r).is_some_and(|c| Some(c.id) == code),
            (None, None) => false,
        };
        if !names_it || !active(ex, today) {
            continue;
        }
        if ex.target.cluster.as_ref().is_some_and(|c| c.as_str() != cluster) {
            continue;
        }
        // Every field given must match: an app and a namespace free the namespace only when
        // the app runs there on this cluster.
        let namespace = match (&ex.target.namespace, &ex.target.app) {
            (Some(ns), None) => Some(ns.to_string()),
            (Some(ns), Some(app)) => match namespace_of(app.as_str()) {
                Some(there) if there == ns.as_str() => Some(there),
                _ => continue,
            },
            (None, Some(app)) => match namespace_of(app.as_str()) {
                Some(ns) => Some(ns),
                None => continue, // the app does not land on this cluster
            },
            (None, None) => None,
        };
        out.push((doc, namespace));
    }
    out
}
