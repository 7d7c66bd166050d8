//! ## What it does
//! Flags a workload (a Deployment, StatefulSet, DaemonSet, ReplicaSet, a Job with its own
//! selector, or any kind with `spec.selector` and a pod template at `spec.template`) whose
//! `spec.selector` does not select its own rendered pod template: most often because the
//! selector uses a label key fleetgen manages (`app.kubernetes.io/name`, the telemetry
//! labels), whose value in the pod template fleetgen overwrites with the managed one.
//!
//! ## Why is this bad?
//! Kubernetes refuses the object ("`selector` does not match template `labels`"), and the
//! engines apply an app's objects together: Flux dry-runs every object of the app's
//! Kustomization and stops at the first refusal, Argo CD fails the sync, so nothing of the
//! app is applied, not only this workload.
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
//! `app.kubernetes.io/component: worker` in both.

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
}

impl EachObject for Pass {
    fn object(&mut self, _ctx: &Context, o: &RenderedObject, finished: &Value) {
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
        let key = (
            o.template,
            o.kind().to_string(),
            finished["metadata"]["name"].as_str().unwrap_or_default().to_string(),
        );
        let entry = self.found.entry(key).or_default();
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
    }
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
