//! ## What it does
//! Checks the apiVersion of every object an app's templates render against the
//! `kubernetesVersion` of each cluster it lands on, as Pluto does: an API version the cluster
//! no longer serves is an error, one it serves as deprecated a warning. The table of
//! removals is `data/kubernetes-api-removals.json`, taken from the Kubernetes Deprecated API
//! Migration Guide (its source is recorded in the file).
//!
//! ## Why is this bad?
//! The GitOps engine applies the rendered object and the API server refuses it: the app's
//! sync fails on that cluster (and only on the clusters already upgraded, so the ring that
//! upgrades first finds it, in production if the rings are short). A deprecated version
//! works until the next upgrade removes it.
//!
//! ## Example
//! ```yaml
//! # apps/reports/templates/cronjob.yaml.j2, on a cluster with kubernetesVersion: "1.34"
//! apiVersion: batch/v1beta1     # removed in 1.25
//! kind: CronJob
//! ```
//!
//! ## Use instead
//! The version the table names (`batch/v1` here); `kubectl convert` or the migration guide
//! says what changed in the object.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::Value;

use crate::diag::{Diagnostic, Label};
use crate::lint::Context;
use crate::lint::query::{about, compare_versions, find_in, on_clusters};
use crate::lint::rule;

rule!("FG124" "removed-api", "drift", Error, Lint, "a rendered object whose apiVersion its cluster's Kubernetes version no longer serves (or serves as deprecated: a warning) (lint)");

/// One row of the table: an API version of some kinds, deprecated and removed in releases.
struct Removal {
    api_version: String,
    kinds: Vec<String>,
    deprecated: String,
    removed: String,
    instead: String,
}

fn table() -> &'static [Removal] {
    static TABLE: OnceLock<Vec<Removal>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let data: Value = serde_json::from_str(include_str!("../../../../data/kubernetes-api-removals.json"))
            .unwrap_or(Value::Null);
        let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
        data["apis"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| Removal {
                api_version: text(v, "apiVersion"),
                kinds: v["kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                deprecated: text(v, "deprecated"),
                removed: text(v, "removed"),
                instead: text(v, "use"),
            })
            .collect()
    })
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let versions: BTreeMap<&str, &str> = ctx
        .sources
        .clusters
        .iter()
        .map(|c| (c.value.cluster_id.as_str(), c.value.kubernetes_version.as_str()))
        .collect();
    // (template, apiVersion, kind, removed?) → (the row, apps, clusters)
    type Found<'t> = BTreeMap<(crate::source::FileId, String, String, bool), (&'t Removal, BTreeSet<String>, BTreeSet<String>)>;
    let mut found: Found = BTreeMap::new();
    for o in &ctx.tree.objects {
        let written = o.written();
        let Some(api_version) = written["apiVersion"].as_str() else {
            continue;
        };
        let kind = o.kind();
        let Some(row) = table()
            .iter()
            .find(|r| r.api_version == api_version && r.kinds.iter().any(|k| k == kind))
        else {
            continue;
        };
        let Some(version) = versions.get(o.cluster.as_str()) else {
            continue;
        };
        let removed = compare_versions(version, &row.removed).is_ge();
        if !removed && compare_versions(version, &row.deprecated).is_lt() {
            continue;
        }
        let entry = found
            .entry((o.template, api_version.to_string(), kind.to_string(), removed))
            .or_insert_with(|| (row, BTreeSet::new(), BTreeSet::new()));
        entry.1.insert(o.app.clone());
        entry.2.insert(o.cluster.clone());
    }
    for ((template, api_version, kind, removed), (row, apps, clusters)) in found {
        let span = find_in(&ctx.sources.files, template, &format!("apiVersion: {api_version}"));
        let (what, label) = if removed {
            (format!("removed in Kubernetes {}", row.removed), "not served")
        } else {
            (
                format!("deprecated since Kubernetes {} and removed in {}", row.deprecated, row.removed),
                "deprecated",
            )
        };
        let on: Vec<String> = clusters
            .iter()
            .map(|c| format!("{c} ({})", versions.get(c.as_str()).copied().unwrap_or("?")))
            .collect();
        let mut d = Diagnostic::error(
            &RULE.code,
            &ctx.sources.files,
            Label::new(template, span, label),
            format!(
                "{kind} `{api_version}` is {what}; it is rendered for {}: {}",
                on_clusters(&clusters),
                on.join(", ")
            ),
        )
        .with_help(format!("use {} (the Kubernetes deprecated API migration guide says what changed)", row.instead));
        if !removed {
            d = d.warning();
        }
        out.push(about(d, &apps, &clusters));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_reads_and_every_row_is_whole() {
        let rows = table();
        assert!(rows.len() >= 20, "{} rows", rows.len());
        for r in rows {
            assert!(r.api_version.contains('/') && !r.kinds.is_empty() && !r.instead.is_empty(), "{}", r.api_version);
            assert!(compare_versions(&r.deprecated, &r.removed).is_lt(), "{}: deprecated before removed", r.api_version);
        }
    }
}
