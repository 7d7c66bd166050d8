//! ## What it does
//! Flags a Service of an app whose selector matches the pods of more than one of the app's
//! workloads on a cluster: a template that adds a second Deployment, StatefulSet, Job … to
//! the app. Every pod template of an app carries the app's managed labels, among them
//! `app.kubernetes.io/name`, which the built-in Service selects by.
//!
//! ## Why is this bad?
//! A Service sends its traffic to every ready pod its selector matches. The worker that was
//! added beside the app's server gets a share of the app's requests, on a port it may not
//! serve: clients see failed requests, a share of them, on every cluster the app runs on.
//!
//! ## Example
//! ```yaml
//! # apps/web/templates/worker.yaml.j2: a second Deployment in the web app
//! kind: Deployment
//! metadata: { name: web-worker }
//! spec:
//!   template:
//!     metadata:
//!       labels: {{ podLabels | tojson }}   # app.kubernetes.io/name: web, as the Service selects
//! ```
//!
//! ## Use instead
//! Give the worker a contract of its own (`apps/web-worker/app.yaml`, with `traffic.exposure:
//! none`): one workload per contract, with its own replicas, budget and identity. Or select
//! the app's own pods only: a label of the app's workload that the Service's selector names
//! (a Service template of the app's own).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diag::{Diagnostic, Label};
use crate::lint::Context;
use crate::lint::query::{and_list, find_in, pod_templates};
use crate::lint::rule;
use crate::source::FileId;

rule!("FG156" "service-selects-other-workloads", "traffic", Warning, Lint, "an app's Service that selects the pods of more than one of the app's workloads: its traffic reaches pods that were not meant to serve it (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    // (app, Service template, Service name) → (its workloads, as `Kind name`, with their
    // templates; the clusters)
    type Found = BTreeMap<(String, FileId, String), (BTreeSet<(String, FileId)>, BTreeSet<String>)>;
    let mut found: Found = BTreeMap::new();
    for p in ctx.plan.placements.iter().filter(|p| p.drained.is_none()) {
        let objects = ctx.objects_of(p);
        // Each object with a pod template, and the labels its pods carry (finished: the
        // managed labels merged).
        let pods: Vec<(String, FileId, Value)> = (objects.iter())
            .filter(|o| o.kind() != "Service")
            .flat_map(|o| {
                let finished = o.object();
                let written = o.written();
                let name = written["metadata"]["name"].as_str().unwrap_or_default().to_string();
                let kind = o.kind().to_string();
                pod_templates(&finished)
                    .into_iter()
                    .map(|(_, t)| t["metadata"]["labels"].clone())
                    .map(|labels| (format!("{kind} {name}"), o.template, labels))
                    .collect::<Vec<_>>()
            })
            .collect();
        for service in objects.iter().filter(|o| o.kind() == "Service") {
            let written = service.written();
            let Some(selector) = written["spec"]["selector"].as_object().filter(|s| !s.is_empty()) else {
                continue;
            };
            let selected: BTreeSet<(String, FileId)> = (pods.iter())
                .filter(|(_, _, labels)| selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
                .map(|(what, template, _)| (what.clone(), *template))
                .collect();
            if selected.len() < 2 {
                continue;
            }
            let name = written["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let entry = found.entry((p.app_name().to_string(), service.template, name)).or_default();
            entry.0.extend(selected);
            entry.1.insert(p.cluster_id().to_string());
        }
    }
    for ((app, template, service), (workloads, clusters)) in found {
        let files = &ctx.sources.files;
        let names: Vec<String> = workloads.iter().map(|(w, _)| format!("`{w}`")).collect();
        let clusters: Vec<String> = clusters.iter().map(|c| format!("`{c}`")).collect();
        let mut d = Diagnostic::error(
            &RULE.code,
            files,
            Label::new(template, find_in(files, template, "selector"), "selects every pod of the app"),
            format!(
                "Service `{service}` of `{app}` selects the pods of {} on {}: its traffic reaches all of them",
                and_list(&names),
                and_list(&clusters)
            ),
        )
        .with_help("give the other workloads a contract of their own (one workload per contract), or select the app's own pods only (a label of its workload the Service's selector names)")
        .for_app(app.as_str())
        .warning();
        for (what, other) in workloads.iter().filter(|(_, t)| *t != template) {
            d = d.with_secondary(Label::new(*other, find_in(files, *other, "kind:"), format!("{what}, selected too")));
        }
        out.push(d);
    }
}
