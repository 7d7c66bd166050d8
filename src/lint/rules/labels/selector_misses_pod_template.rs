//! ## What it does
//! Flags a workload (a Deployment, StatefulSet, DaemonSet, ReplicaSet, a Job with its own
//! selector, or any kind with `spec.selector` and a pod template at `spec.template`) whose
//! `spec.selector` does not select its own rendered pod template: most often because the
//! selector uses a label key fleetgen manages (`app.kubernetes.io/name`, the telemetry
//! labels), whose value in the pod template fleetgen overwrites with the managed one.
//!
//! It also flags an `apps/v1` workload (Deployment, StatefulSet, DaemonSet, ReplicaSet) or
//! an Argo Rollout whose selector names a label that changes with every release of the app
//! (`app.kubernetes.io/version` and the `version` dimension), as a selector copied from
//! `podLabels` does.
//!
//! ## Why is this bad?
//! Kubernetes refuses the object ("`selector` does not match template `labels`"), and the
//! engines apply an app's objects together: Flux dry-runs every object of the app's
//! Kustomization and stops at the first refusal, Argo CD fails the sync, so nothing of the
//! app is applied, not only this workload.
//!
//! An `apps/v1` workload's selector cannot change once it is created, nor, since Argo
//! Rollouts 1.9, a Rollout's (its CRD's validation refuses the change): the next release
//! changes the version in it, the API server refuses the update ("field is immutable"), and
//! the app's whole sync fails with it until the workload is deleted and created again (Flux
//! `force`, Argo CD `Replace=true`), which takes every pod down at once.
//!
//! ## Example
//! ```yaml
//! # apps/web/templates/worker.yaml.j2: fleetgen writes `app.kubernetes.io/name: web`
//! kind: Deployment
//! spec:
//!   selector:
//!     matchLabels: { app.kubernetes.io/name: web-worker }
//!   template:
//!     metadata:
//!       labels: { app.kubernetes.io/name: web-worker }
//! ```
//!
//! ## Use instead
//! Select on a label key fleetgen does not manage, and set it on the pod template:
//! `app.kubernetes.io/component: worker` in both. Build a selector from the template's
//! `selector` (the app's labels that never change), not from `podLabels`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diag::{Diagnostic, Label};
use crate::emit::RenderedObject;
use crate::lint::query::{about, and_list, on_clusters, selects};
use crate::lint::rule;
use crate::lint::{Context, EachObject};
use crate::source::{FileId, SourceMap, Span};

rule!("FG112" "selector-misses-pod-template", "labels", Error, Objects, "a workload whose selector does not select its rendered pod template, as fleetgen overwrote a managed label it selects on (lint)");

/// (template, kind, name) → (overwritten labels as `key: written → kept`, apps, clusters)
type Key = (FileId, String, String);
type Names = BTreeSet<String>;

#[derive(Default)]
pub struct Pass {
    found: BTreeMap<Key, (Names, Names, Names)>,
    /// Selectors on a label that changes with each release: (the keys, apps, clusters).
    on_release: BTreeMap<Key, (Names, Names, Names)>,
    /// The keys of those labels, asked of the fleet once.
    release: Option<Vec<String>>,
}

/// Whether the API server refuses to change the `spec.selector` of a `kind` of
/// `api_version`: the workloads of `apps/v1`, and an Argo Rollout, whose CRD makes its
/// selector immutable since Argo Rollouts 1.9 (argoproj/argo-rollouts#4084, "to match the
/// behavior of the Deployment kind").
fn immutable_selector(api_version: &Value, kind: &str) -> bool {
    match api_version.as_str() {
        Some("apps/v1") => matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"),
        Some(version) => version.starts_with("argoproj.io/") && kind == "Rollout",
        None => false,
    }
}

impl EachObject for Pass {
    fn object(&mut self, ctx: &Context, o: &RenderedObject, finished: &Value) {
        let spec = &finished["spec"];
        let Some(selector) = spec.get("selector").filter(|s| s.is_object()) else {
            return;
        };
        // A label selector (a Service's `spec.selector` is a plain map, and has no template).
        if selector.get("matchLabels").is_none() && selector.get("matchExpressions").is_none() {
            return;
        }
        let Some(template) = spec.get("template").filter(|t| t.is_object()) else {
            return;
        };
        if immutable_selector(&finished["apiVersion"], o.kind()) {
            let release = (self.release)
                .get_or_insert_with(|| crate::resolve::labels::release_keys(&ctx.plan.fleet.value));
            let keys: Names = selector_keys(selector)
                .filter(|k| release.iter().any(|r| r == k))
                .map(|k| format!("`{k}`"))
                .collect();
            if !keys.is_empty() {
                let entry = self.on_release.entry(key_of(o, finished)).or_default();
                entry.0.extend(keys);
                entry.1.insert(o.app.clone());
                entry.2.insert(o.cluster.clone());
            }
        }
        let labels = &template["metadata"]["labels"];
        if selects(selector, labels) {
            return;
        }
        // What fleetgen changed of the labels the template wrote on its pod template.
        let written = &o.written()["spec"]["template"]["metadata"]["labels"];
        let overwritten: Names = written
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, mine)| {
                let kept = labels.get(k)?;
                (kept != mine).then(|| format!("`{k}: {}` → `{}`", plain(mine), plain(kept)))
            })
            .collect();
        let entry = self.found.entry(key_of(o, finished)).or_default();
        entry.0.extend(overwritten);
        entry.1.insert(o.app.clone());
        entry.2.insert(o.cluster.clone());
    }

    fn report(self: Box<Self>, ctx: &Context, out: &mut Vec<Diagnostic>) {
        let files = &ctx.sources.files;
        for ((template, kind, name), (overwritten, apps, clusters)) in self.found {
            let on = on_clusters(&clusters);
            let why = if overwritten.is_empty() {
                "the template's own labels do not match it".to_string()
            } else {
                let list: Vec<String> = overwritten.into_iter().collect();
                format!("fleetgen manages the pod template's {}", and_list(&list))
            };
            let d = Diagnostic::error(
                &RULE.code,
                files,
                Label::new(template, selector_span(files, template), "selects the pods"),
                format!(
                    "the selector of {kind} `{name}` does not select its rendered pod template: {why}; Kubernetes refuses it, and the app's whole sync with it (on {on})"
                ),
            )
            .with_help("select on a label key fleetgen does not manage (e.g. `app.kubernetes.io/component`), set on the pod template too");
            out.push(about(d, &apps, &clusters));
        }
        for ((template, kind, name), (keys, apps, clusters)) in self.on_release {
            let keys: Vec<String> = keys.into_iter().collect();
            let d = Diagnostic::error(
                &RULE.code,
                files,
                Label::new(template, selector_span(files, template), "selects on the version"),
                format!(
                    "the selector of {kind} `{name}` selects on {}, which fleetgen changes with every release: Kubernetes refuses to change a {kind}'s selector (field is immutable), so the next release fails the app's whole sync (on {})",
                    and_list(&keys),
                    on_clusters(&clusters)
                ),
            )
            .with_help("build the selector from the template's `selector` (the app's labels that never change), not from `podLabels`, and add a key of your own such as `app.kubernetes.io/component`");
            out.push(about(d, &apps, &clusters));
        }
    }
}

/// (template, kind, name) of a rendered object.
fn key_of(o: &RenderedObject, finished: &Value) -> Key {
    (
        o.template,
        o.kind().to_string(),
        finished["metadata"]["name"].as_str().unwrap_or_default().to_string(),
    )
}

/// The label keys a label selector names: its `matchLabels` keys and its
/// `matchExpressions` keys.
fn selector_keys(selector: &Value) -> impl Iterator<Item = &str> {
    let labels = selector["matchLabels"].as_object().into_iter().flatten().map(|(k, _)| k.as_str());
    let expressions = (selector["matchExpressions"].as_array().into_iter().flatten())
        .filter_map(|e| e["key"].as_str());
    labels.chain(expressions)
}

/// A label value as text (a string without its quotes).
fn plain(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// The template's `selector:` key (the first one: a workload's comes before its pod template).
fn selector_span(files: &SourceMap, template: FileId) -> Span {
    let text = &files.get(template).text;
    match text.find("selector:") {
        Some(at) => at..at + "selector".len(),
        None => 0..0,
    }
}
