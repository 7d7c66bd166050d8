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
use crate::emit::RenderedObject;
use crate::lint::{Context, EachObject};
use crate::lint::query::{self, about, find_in, on_clusters, pod_templates};
use crate::source::FileId;
use crate::lint::rule;

rule!("FG111" "managed-label-override", "labels", Warning, Objects, "a template writes a label fleetgen manages with another value, which fleetgen overwrites (lint)");

/// (template, label, written value, managed value, on a pod template) → (apps, clusters)
type Key = (FileId, String, String, String, bool);

#[derive(Default)]
pub struct Pass {
    found: BTreeMap<Key, (BTreeSet<String>, BTreeSet<String>)>,
    /// Pod templates of each template output, found once however many placements share it
    /// (by its address: the outputs live as long as the lint run).
    templates_of: HashMap<usize, Vec<String>>,
}

impl EachObject for Pass {
    fn object(&mut self, ctx: &Context, o: &RenderedObject, finished: &Value) {
        let Some(p) = ctx.placement(&o.app, &o.cluster) else {
            return;
        };
        let written = o.written();
        let at = self.templates_of.entry(std::ptr::from_ref(written).addr()).or_insert_with(|| {
            pod_templates(written)
                .into_iter()
                .map(|(at, _)| format!("{at}/metadata/labels"))
                .collect()
        });
        let places = std::iter::once(("/metadata/labels", false)).chain(at.iter().map(|a| (a.as_str(), true)));
        for (pointer, pod) in places {
            // Only labels the template itself wrote can be overridden.
            let Some(Value::Object(mine)) = query::pointer(written, pointer) else {
                continue;
            };
            let Some(Value::Object(kept)) = query::pointer(finished, pointer) else {
                continue;
            };
            let managed = p
                .labels
                .iter()
                .chain(pod.then_some(&p.identity.pod_labels).into_iter().flatten());
            // The template's few labels, each looked for among the managed ones.
            for (key, mine) in mine {
                let Value::String(mine) = mine else { continue };
                if !managed.clone().any(|(k, _)| k == key) {
                    continue;
                }
                let Some(Value::String(kept)) = kept.get(key) else {
                    continue;
                };
                if mine != kept {
                    let entry = self
                        .found
                        .entry((o.template, key.to_string(), mine.to_string(), kept.to_string(), pod))
                        .or_default();
                    entry.0.insert(o.app.clone());
                    entry.1.insert(o.cluster.clone());
                }
            }
        }
    }

    fn report(self: Box<Self>, ctx: &Context, out: &mut Vec<Diagnostic>) {
        for ((template, key, written, kept, pod), (apps, clusters)) in self.found {
            // A pod template's label after its `template:`, not the selector's before it.
            let span = match pod {
                true => find_after(&ctx.sources.files, template, "template:", &key),
                false => find_in(&ctx.sources.files, template, &key),
            };
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
}

/// `needle` after the first `mark` of the file (else its first occurrence).
fn find_after(files: &crate::source::SourceMap, file: FileId, mark: &str, needle: &str) -> crate::source::Span {
    let text = &files.get(file).text;
    match text.find(mark).and_then(|m| Some(m + text[m..].find(needle)?)) {
        Some(at) => at..at + needle.len(),
        None => find_in(files, file, needle),
    }
}
