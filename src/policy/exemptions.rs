//! Exemptions are data: `policy-library/exemptions/<name>.yaml` names an intent (or a policy
//! finding code), a target (app, cluster, namespace: every field given must match), an
//! owner, a reason and the last day it holds.
//!
//! An active exemption turns off, for its target only, the compile-time finding, the
//! admission binding (the target's namespace joins the binding's excluded namespaces; a
//! cluster-wide exemption drops the binding) and the Azure assignment (the namespace joins
//! `excludedNamespaces`; a cluster-wide one becomes a `policyExemptions` resource with
//! `expiresOn`). An expired exemption is an error and exempts nothing; one expiring within
//! 14 days is a warning. "Today" is the UTC date, or `FLEETGEN_TODAY=YYYY-MM-DD`.

use crate::diag::{Diagnostic, codes};
use crate::load::{Doc, Sources};
use crate::model::PolicyExemption;
use crate::suggest;

/// Days from 1970-01-01 of a `YYYY-MM-DD` date, if it exists.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.split('-');
    let (y, m, d) = (
        parts.next()?.parse::<i64>().ok()?,
        parts.next()?.parse::<i64>().ok()?,
        parts.next()?.parse::<i64>().ok()?,
    );
    if parts.next().is_some() || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if d > days_in_month[(m - 1) as usize] {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Today (UTC) in days from 1970-01-01; `FLEETGEN_TODAY=YYYY-MM-DD` pins it.
pub fn today() -> i64 {
    if let Some(day) = std::env::var("FLEETGEN_TODAY").ok().and_then(|s| parse_date(&s)) {
        return day;
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    secs.div_euclid(86_400)
}

/// Days of warning before an exemption expires.
pub const WARN_DAYS: i64 = 14;

/// Whether the exemption is still in force on `today`.
pub fn active(ex: &PolicyExemption, today: i64) -> bool {
    parse_date(&ex.expires).is_some_and(|last| today <= last)
}

/// The finding codes a `rule:` may name.
fn rule_code(rule: &str) -> Option<&'static crate::diag::Code> {
    let code = codes::find(rule)?;
    ("FG060"..="FG071").contains(&code.id).then_some(code)
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

/// Load-time checks: references, dates, expiry.
pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let files = &sources.files;
    let today = today();
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
        {
            out.push(
                Diagnostic::error(
                    codes::EXEMPTION_INVALID,
                    files,
                    doc.label(&["rule"], "not a policy finding"),
                    format!("`{r}` is not a policy finding code"),
                )
                .with_help(
                    "a rule is one of FG060-FG071 (or its name, e.g. `mounts-token`); `fleetgen explain` lists them",
                ),
            );
        }
        if let Some(a) = &ex.target.app {
            unknown(&["target", "app"], "app", a.as_str(), &apps, out);
        }
        if let Some(c) = &ex.target.cluster {
            unknown(&["target", "cluster"], "cluster", c.as_str(), &clusters, out);
        }
        match parse_date(&ex.expires) {
            None => out.push(Diagnostic::error(
                codes::EXEMPTION_INVALID,
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
            Some(last) if last - today < WARN_DAYS => out.push(
                Diagnostic::error(
                    codes::EXEMPTION_EXPIRING,
                    files,
                    doc.label(&["expires"], "expires soon"),
                    format!(
                        "exemption `{}` expires on {} (in {} days; owner `{}`)",
                        ex.name,
                        ex.expires,
                        last - today,
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
    let today = today();
    let mut out = Vec::new();
    for doc in &sources.policy_exemptions {
        let ex = &doc.value;
        if ex.intent.as_ref().is_none_or(|i| i.as_str() != intent) || !active(ex, today) {
            continue;
        }
        if ex.target.cluster.as_ref().is_some_and(|c| c.as_str() != cluster) {
            continue;
        }
        let namespace = match (&ex.target.namespace, &ex.target.app) {
            (Some(ns), _) => Some(ns.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_and_refuse_days_that_do_not_exist() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2026-11-22"), Some(20_779));
        assert_eq!(parse_date("2024-02-29").map(|d| d + 1), parse_date("2024-03-01"));
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("26-1-1x"), None);
    }
}
