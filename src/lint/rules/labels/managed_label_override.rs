//! ## What it does
//! Flags a template that writes one of the labels fleetgen manages (the required telemetry
//! labels, `app.kubernetes.io/managed-by`, and the identity labels of pod templates) with
//! a value other than the managed one.
//!
//! ## Why is this bad?
//! The managed value wins: fleetgen overwrites the template's value, so the template says
//! one thing and the cluster runs another. Whoever wrote `team: payments-oncall` believes
//! alerts route to that team; they route to the contract's `owner`.
//!
//! ## Example
//! ```yaml
//! # apps/web/templates/deployment.yaml.j2
//! metadata:
//!   labels:
//!     fleet.example.com/team: web-oncall     # the contract's owner is web-team
//! ```
//!
//! ## Use instead
//! Drop the label from the template and change the field that feeds it (here
//! `application.owner`), or use a label key fleetgen does not manage.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::diag::{Diagnostic, Label};
use crate::lint::Context;
use crate::lint::query::{about, find_in, on_clusters, pod_templates};
use crate::source::FileId;
use crate::lint::rule;

rule!("FG111" "managed-label-override", "labels", Warning, Lint, "a template writes a label fleetgen manages with another value, which fleetgen overwrites (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    // (template, label, written value, managed value) → (apps, clusters)
    type Key = (FileId, String, String, String);
    let mut found: BTreeMap<Key, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    // Pod templates of each template output, found once however many placements share it.
    let mut templates_of: HashMap<*const Value, Vec<String>> = HashMap::new();
    for o in &ctx.tree.objects {
        let Some(p) = ctx.placement(&o.app, &o.cluster) else {
            continue;
        };
        let written = o.written();
        let at = templates_of.entry(written as *const Value).or_insert_with(|| {
            pod_templates(written)
                .into_iter()
                .map(|(at, _)| format!("{at}/metadata/labels"))
                .collect()
        });
        let places = std::iter::once(("/metadata/labels", false)).chain(at.iter().map(|a| (a.as_str(), true)));
        // The finished object, made once and only for an object whose template wrote labels.
        let mut finished: Option<Value> = None;
        for (pointer, pod) in places {
            // Only labels the template itself wrote can be overridden.
            let Some(Value::Object(mine)) = written.pointer(pointer) else {
                continue;
            };
            let Some(Value::Object(kept)) = finished.get_or_insert_with(|| o.object()).pointer(pointer) else {
                continue;
            };
            let managed = p
                .labels
                .iter()
                .chain(pod.then_some(&p.identity.pod_labels).into_iter().flatten());
            for (key, _) in managed {
                let (Some(Value::String(mine)), Some(Value::String(kept))) = (mine.get(key), kept.get(key)) else {
                    continue;
                };
                if mine != kept {
                    let entry = found
                        .entry((o.template, key.to_string(), mine.to_string(), kept.to_string()))
                        .or_default();
                    entry.0.insert(o.app.clone());
                    entry.1.insert(o.cluster.clone());
                }
            }
        }
    }
    for ((template, key, written, kept), (apps, clusters)) in found {
        let span = find_in(&ctx.sources.files, template, &key);
        let on = on_clusters(&clusters);
        let d = Diagnostic::error(
            &RULE.code,
            &ctx.sources.files,
            Label::new(template, span, "overridden"),
            format!(
                "the template sets `{key}: {written}`, but fleetgen manages that label and writes `{kept}` (on {on})"
            ),
        )
        .with_help("drop the label from the template and change the contract field that feeds it");
        out.push(about(d, &apps, &clusters));
    }
}
