//! ## What it does
//! Flags a required telemetry label that a placement cannot fill: the contract or cluster
//! field that feeds it is missing (a cluster without `cell` while fleet.yaml requires the
//! `cell` label), or its value is not a valid Kubernetes label value (a `version` with a
//! `+`, a value over 63 characters). It runs in `fleetgen validate`, over every placement
//! (every app on every cluster it selects), so nothing renders while it fires.
//!
//! | label         | fed by                                          |
//! |---------------|-------------------------------------------------|
//! | cluster       | the cluster's `clusterId`                       |
//! | provider      | the cluster's `provider`                        |
//! | region        | the cluster's `region`                          |
//! | environment   | the cluster's `environment`                     |
//! | cell          | the cluster's `cell` (optional in the schema)   |
//! | namespace     | the contract's `application.namespace` or name  |
//! | service       | the contract's `application.name`               |
//! | version       | the contract's `application.version`            |
//! | team          | the contract's `application.owner`              |
//! | criticality   | the contract's `application.criticality`        |
//! | cluster-owner | the cluster's `ownerTeam` (only when listed)    |
//!
//! ## Why is this bad?
//! Every object fleetgen renders carries the required labels; dashboards, alerts and cost
//! reports select by them. A label that cannot be filled would either be left out (the
//! object vanishes from every fleet-wide query) or be rejected by the API server at sync
//! time, on the cluster, long after review.
//!
//! ## Example
//! ```yaml
//! # fleet.yaml: labels.required includes cell
//! clusterId: azure-eastus-prod-platform-01   # no `cell:`
//! ```
//!
//! ## Use instead
//! Add the field (`cell: cell-a`), or, if the fleet does not use that dimension, drop it
//! from `labels.required` in fleet.yaml.

use crate::diag::{Diagnostic, Label};
use crate::lint::rule;
use crate::load::Sources;
use crate::resolve::labels::{self, Owner};
use crate::resolve::placement::selects;
use crate::resolve::plan::Origin;

rule!("FG030" "label-value", "labels", Error, Validate, "a required label has no value, or a value Kubernetes does not accept in a label");

/// Every required label of every placement (the labels `resolve::labels` derives).
///
/// A cluster's dimensions are derived from the cluster alone and an app's from the app and
/// the cluster's ring, so a placement on a cluster whose own labels are fine is fine when
/// another placement of the app in that ring was: only the first is derived in full (at
/// 8,628 placements deriving every one cost 3% of a warm `check`). What is reported is
/// what deriving every placement would report.
pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let Some(fleet) = &sources.fleet else { return };
    let fine = |required: &[labels::Required]| {
        required
            .iter()
            .all(|r| r.value.as_deref().is_some_and(labels::is_label_value))
    };
    let cluster_fine: Vec<bool> = sources
        .clusters
        .iter()
        .map(|cluster| fine(&labels::required(&fleet.value, Owner { cluster, app: None })))
        .collect();
    // Each cluster's ring, as a position among the fleet's rings (a few).
    let mut rings: Vec<&str> = Vec::new();
    let ring_of: Vec<usize> = (sources.clusters.iter())
        .map(|cluster| {
            let ring = cluster.value.upgrade_channel.as_str();
            rings.iter().position(|r| *r == ring).unwrap_or_else(|| {
                rings.push(ring);
                rings.len() - 1
            })
        })
        .collect();
    for app in &sources.apps {
        let namespace = labels::namespace(&app.value);
        // Whether the app's placements are fine in a ring, where its clusters' labels are.
        let mut fine_in_ring: Vec<Option<bool>> = vec![None; rings.len()];
        for ((cluster, cluster_fine), &ring) in sources.clusters.iter().zip(&cluster_fine).zip(&ring_of) {
            // Asked first: whether the app lands on the cluster then need not be (asked of
            // each of 500 apps on each of 200 clusters, it was most of this rule's work).
            if *cluster_fine && fine_in_ring[ring] == Some(true) {
                continue;
            }
            if !selects(&app.value, &cluster.value) {
                continue;
            }
            let owner = Owner {
                cluster,
                app: Some((app, namespace)),
            };
            let required = labels::required(&fleet.value, owner);
            if *cluster_fine {
                fine_in_ring[ring].get_or_insert_with(|| fine(&required));
            }
            for required in required {
                let name = required.dimension.as_str();
                let key = &required.key;
                match required.value {
                    None => out.push(
                        Diagnostic::error(
                            &RULE.code,
                            &sources.files,
                            cluster.label(&["clusterId"], format!("this cluster has no `{name}`")),
                            format!(
                                "required label `{key}` has no value on cluster `{}`",
                                cluster.value.cluster_id
                            ),
                        )
                        .with_help(format!(
                            "add `{name}:` to the cluster, or drop `{name}` from `labels.required` in fleet.yaml"
                        ))
                        .with_secondary(fleet.label(&["labels", "required"], "required here")),
                    ),
                    Some(v) if !labels::is_label_value(&v) => {
                        let label = match &required.origin {
                            Origin::Source(file, span) | Origin::Derived(file, span, _) => {
                                Label::new(*file, span.clone(), "not a valid label value")
                            }
                            Origin::Default(_) => fleet.label(&["labels", "required"], "required here"),
                        };
                        out.push(
                            Diagnostic::error(
                                &RULE.code,
                                &sources.files,
                                label,
                                format!("`{v}` cannot be the value of label `{key}`"),
                            )
                            .with_help(
                                "a label value is at most 63 characters of letters, digits, `-`, `_` and `.`, \
                                 beginning and ending with a letter or digit",
                            ),
                        );
                    }
                    Some(_) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::fixture;

    /// What deriving every placement's labels reports: (message, file) of each bad label.
    fn every_placement(sources: &Sources) -> Vec<(String, String)> {
        let fleet = sources.fleet.as_ref().expect("a fleet");
        let mut found = Vec::new();
        for app in &sources.apps {
            let namespace = labels::namespace(&app.value);
            for cluster in sources.clusters.iter().filter(|c| selects(&app.value, &c.value)) {
                let owner = Owner {
                    cluster,
                    app: Some((app, namespace)),
                };
                for r in labels::required(&fleet.value, owner) {
                    let bad = match &r.value {
                        None => Some(format!(
                            "required label `{}` has no value on cluster `{}`",
                            r.key, cluster.value.cluster_id
                        )),
                        Some(v) if !labels::is_label_value(v) => {
                            Some(format!("`{v}` cannot be the value of label `{}`", r.key))
                        }
                        Some(_) => None,
                    };
                    found.extend(bad.map(|m| (m, cluster.value.cluster_id.to_string())));
                }
            }
        }
        found.sort();
        found
    }

    /// Skipping placements known fine reports what deriving every one does: a version bad
    /// in one ring only (staging here, the other ring fine), a cluster without `cell`, both.
    #[test]
    fn reports_what_deriving_every_placement_reports() {
        let staging_plus = fixture::web_bad_in_staging();
        let prod_plus =
            fixture::text("apps/web/app.yaml").replace("  version: 2026.07.03-1421\n", "  version: 2026.07.03+1421\n");
        let no_cell = fixture::cluster_without_cell();
        let cases: Vec<Vec<(&str, &str)>> = vec![
            vec![],
            vec![("apps/web/app.yaml", &staging_plus)],
            vec![("apps/web/app.yaml", &prod_plus)],
            vec![("clusters/useast1-prod-01.yaml", &no_cell)],
            vec![("apps/web/app.yaml", &staging_plus), ("clusters/useast1-prod-01.yaml", &no_cell)],
            vec![("apps/web/app.yaml", &prod_plus), ("clusters/useast1-prod-01.yaml", &no_cell)],
        ];
        let mut reported = 0;
        for overlay in cases {
            let sources = fixture::sources(&overlay);
            let mut out = Vec::new();
            check(&sources, &mut out);
            let expected = every_placement(&sources);
            // Each diagnostic's message, with the cluster it is about (missing values name
            // it; a bad app value is reported once per cluster, each alike).
            let mut got: Vec<String> = out.iter().map(|d| d.message.clone()).collect();
            got.sort();
            let mut want: Vec<String> = expected.iter().map(|(m, _)| m.clone()).collect();
            want.sort();
            assert_eq!(got, want, "{overlay:?}");
            reported += out.len();
        }
        assert!(reported >= 6, "the cases report something: {reported}");
    }
}
