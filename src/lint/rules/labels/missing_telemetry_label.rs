//! ## What it does
//! Reads every object rendered for an app and flags one that lacks a required telemetry
//! label (fleet.yaml `labels.required`, with `labels.prefix`), or carries it empty, on its
//! own metadata or on any pod template inside it, wherever the kind keeps it.
//!
//! fleetgen adds the labels itself to every object and to its pod template: where the
//! built-in kinds keep it (a CronJob's under `jobTemplate`), and at `spec.template` of any
//! other kind (an Argo Rollout); a Job's pod template goes without the `version` label,
//! which changes with each release, as Kubernetes refuses any change to a Job's
//! `spec.template`. This rule catches what that cannot reach: a pod template
//! elsewhere in a custom resource (a KEDA ScaledJob's `spec.jobTargetRef.template` …) that
//! an app's own template renders. A contract or cluster field that
//! should feed a label but is missing is `label-value` (FG030), found by `fleetgen
//! validate`. Objects a Helm chart renders are the chart's and are not seen here.
//!
//! ## Why is this bad?
//! Dashboards, alerts, cost reports and incident tooling select by these labels. Pods
//! without `team` or `service` page nobody and cost nobody; a fleet-wide query for one
//! region silently misses them.
//!
//! ## Example
//! ```yaml
//! # apps/web/templates/scaledjob.yaml.j2
//! apiVersion: keda.sh/v1alpha1
//! kind: ScaledJob
//! spec:
//!   jobTargetRef:
//!     template:
//!       metadata: { labels: {{ selector | tojson }} }   # no telemetry labels
//! ```
//!
//! ## Use instead
//! Put the managed labels on the pod template yourself:
//! `labels: {{ podLabels | tojson }}` (the template context has `labels` and `podLabels`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diag::{Diagnostic, Label};
use crate::emit::RenderedObject;
use crate::lint::{Context, EachObject};
use crate::lint::query::{self, about, and_list, find_in, label_of, on_clusters, pod_templates};
use crate::source::FileId;
use crate::lint::rule;

rule!("FG110" "missing-telemetry-label", "labels", Error, Objects, "a rendered object or pod template without a required telemetry label (lint)");

/// (template, kind, name, where) → (missing labels, apps, clusters)
type Key = (FileId, String, String, String);
type Names = BTreeSet<String>;

#[derive(Default)]
pub struct Pass {
    /// The labels fleet.yaml requires, with its prefix (known at the first object).
    required: Option<Vec<String>>,
    /// The labels that change with each release (known at the first object).
    release: Option<Vec<String>>,
    found: BTreeMap<Key, (Names, Names, Names)>,
}

impl EachObject for Pass {
    fn object(&mut self, ctx: &Context, o: &RenderedObject, value: &Value) {
        let required = self.required.get_or_insert_with(|| {
            let fleet = &ctx.plan.fleet.value;
            (fleet.labels.required.iter())
                .map(|d| format!("{}{}", fleet.labels.prefix, d.as_str()))
                .collect()
        });
        let mut places = vec![("/metadata/labels".to_string(), "metadata".to_string())];
        places.extend(
            pod_templates(value)
                .into_iter()
                .map(|(at, _)| (format!("{at}/metadata/labels"), format!("the pod template at {at}"))),
        );
        let release = self
            .release
            .get_or_insert_with(|| crate::resolve::labels::release_keys(&ctx.plan.fleet.value));
        let job = value["kind"] == "Job";
        for (pointer, place) in places {
            // The labels looked up once for every required one (a pointer is parsed anew
            // by each lookup).
            let labels = query::pointer(value, &pointer);
            // A Job's pod template goes without the version: Kubernetes refuses any change
            // to it, and the version changes with each release.
            let exempt = |k: &String| job && pointer == "/spec/template/metadata/labels" && release.contains(k);
            let missing: Vec<&String> = required
                .iter()
                .filter(|k| !exempt(k) && label_of(labels, k).is_none_or(str::is_empty))
                .collect();
            if missing.is_empty() {
                continue;
            }
            let key = (
                o.template,
                value["kind"].as_str().unwrap_or_default().to_string(),
                value["metadata"]["name"].as_str().unwrap_or_default().to_string(),
                place,
            );
            let entry = self.found.entry(key).or_default();
            entry.0.extend(missing.into_iter().cloned());
            entry.1.insert(o.app.clone());
            entry.2.insert(o.cluster.clone());
        }
    }

    fn report(self: Box<Self>, ctx: &Context, out: &mut Vec<Diagnostic>) {
        for ((template, kind, name, place), (missing, apps, clusters)) in self.found {
            let missing: Vec<String> = missing.into_iter().map(|m| format!("`{m}`")).collect();
            let span = find_in(&ctx.sources.files, template, &format!("kind: {kind}"));
            let on = on_clusters(&clusters);
            let d = Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                Label::new(template, span, "renders it"),
                format!(
                    "{kind} `{name}` lacks {} on {place} (on {on})",
                    and_list(&missing)
                ),
            )
            .with_help("add the managed labels: `labels: {{ podLabels | tojson }}` on pod templates, `{{ labels | tojson }}` on objects");
            out.push(about(d, &apps, &clusters));
        }
    }
}
