//! ## What it does
//! Checks each cluster's `kubernetesVersion` against its managed service's support windows in
//! fleet.yaml `support` (AKS, EKS): a minor version the table does not list, or one past the
//! last day of its support, is an error. A cluster on the extended plan
//! (`upgrade.supportPlan: extended`: EKS extended support, AKS long-term support) is
//! supported until the version's `extendedEnd`. A service without a table is not checked.
//!
//! ## Why is this bad?
//! A version out of support gets no security fixes; EKS charges extended support and then
//! upgrades the control plane on its own, AKS moves it to platform support (no Kubernetes
//! fixes) and upgrades it later. Either way the upgrade happens on the provider's schedule,
//! not on the rings'.
//!
//! ## Example
//! ```yaml
//! # fleet.yaml
//! support:
//!   eks:
//!     - { version: "1.33", end: "2026-07-29", extendedEnd: "2027-07-29" }
//! # clusters/aws-us-east-1-prod-platform-01.yaml (today 2026-12-02)
//! kubernetesVersion: "1.33"          # standard support ended 2026-07-29
//! ```
//!
//! ## Use instead
//! Upgrade the cluster (ring by ring), or record that it runs on the extended plan
//! (`upgrade: {supportPlan: extended}`) while the upgrade is planned. Keep the table current
//! with the provider's calendar.

use crate::clock::parse_date;
use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::model::cluster::SupportPlan;

rule!("FG127" "unsupported-kubernetes-version", "drift", Error, Lint, "a cluster on a Kubernetes version its managed service no longer supports, per fleet.yaml `support` (lint)");

/// `1.34` of `1.34.2` (or `v1.34`).
fn minor(version: &str) -> String {
    version.trim_start_matches('v').split('.').take(2).collect::<Vec<_>>().join(".")
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let fleet = ctx.plan.fleet;
    let today = ctx.sources.today;
    for doc in &ctx.sources.clusters {
        let c = &doc.value;
        let Some((service, windows)) = fleet.value.support.iter().find(|(s, _)| **s == c.service) else {
            continue;
        };
        let version = minor(&c.kubernetes_version);
        let files = &ctx.sources.files;
        let Some(index) = windows.iter().position(|w| w.version == version) else {
            let listed: Vec<String> = windows.iter().map(|w| format!("`{}`", w.version)).collect();
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    files,
                    doc.label(&["kubernetesVersion"], "not in the support table"),
                    format!(
                        "cluster `{}` runs Kubernetes {version}, which fleet.yaml `support.{service}` does not list ({})",
                        c.cluster_id,
                        listed.join(", ")
                    ),
                )
                .with_help(format!(
                    "add {version} with its support dates from the provider's calendar, or move the cluster to a listed version"
                ))
                .on_cluster(c.cluster_id.as_str()),
            );
            continue;
        };
        let w = &windows[index];
        let extended = c.upgrade.as_ref().and_then(|u| u.support_plan) == Some(SupportPlan::Extended);
        let (last, plan) = match (&w.extended_end, extended) {
            (Some(e), true) => (e.as_str(), "extended support"),
            _ => (w.end.as_str(), "standard support"),
        };
        let field = if plan == "standard support" { "end" } else { "extendedEnd" };
        let Some(day) = parse_date(last) else {
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    files,
                    fleet.item_field_label(&["support", service.as_str()], index, Some(field), "no such day"),
                    format!("`{last}` is not a date, so the support of Kubernetes {version} on {service} cannot be judged"),
                )
                .with_help("write the provider's date as YYYY-MM-DD")
                .on_cluster(c.cluster_id.as_str()),
            );
            continue;
        };
        if today <= day {
            continue;
        }
        let mut help = format!("upgrade `{}` past {version}", c.cluster_id);
        if !extended && w.extended_end.as_deref().and_then(parse_date).is_some_and(|e| today <= e) {
            help.push_str(", or record that it runs on the extended plan (`upgrade: {supportPlan: extended}`) until it is upgraded");
        }
        out.push(
            Diagnostic::error(
                &RULE.code,
                files,
                doc.label(&["kubernetesVersion"], format!("{plan} ended {last}")),
                format!(
                    "cluster `{}` runs Kubernetes {version}, whose {plan} on {service} ended on {last}",
                    c.cluster_id
                ),
            )
            .with_secondary(fleet.item_field_label(
                &["support", service.as_str()],
                index,
                Some(field),
                "last day",
            ))
            .with_help(help)
            .on_cluster(c.cluster_id.as_str()),
        );
    }
}
