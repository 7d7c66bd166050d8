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
pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let Some(fleet) = &sources.fleet else { return };
    for app in &sources.apps {
        let namespace = labels::namespace(&app.value);
        for cluster in sources.clusters.iter().filter(|c| selects(&app.value, &c.value)) {
            let owner = Owner {
                cluster,
                app: Some((app, namespace)),
            };
            for required in labels::required(&fleet.value, owner) {
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
