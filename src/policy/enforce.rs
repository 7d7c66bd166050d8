//! Compile-time enforcement: every object a render makes is checked against the intents of
//! its cluster's policy profile before anything is written. Deny-level findings are errors,
//! audit-level ones warnings; an exemption in force turns a finding off for its target and
//! is remembered as used, so that an exemption that turned nothing off can be reported
//! (FG092) once the whole fleet has rendered.

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::diag::{Diagnostic, Label, codes};
use crate::kube::Object;
use crate::load::{Doc, Sources};
use crate::model::PolicyExemption;
use crate::model::policy::Check;
use crate::resolve::plan::Placement;
use crate::source::{FileId, SourceMap};

use super::{ClusterIntent, checks, exemptions};

/// Names of the exemptions that turned a finding off, shared by every cluster of a render.
#[derive(Default)]
pub struct Used(Mutex<BTreeSet<String>>);

impl Used {
    pub fn add<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        let mut used = self.0.lock().unwrap_or_else(|e| e.into_inner());
        used.extend(names.into_iter().map(str::to_string));
    }

    fn contains(&self, name: &str) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).contains(name)
    }
}

/// The policy intents one cluster enforces.
pub struct Enforce<'s> {
    intents: Vec<ClusterIntent<'s>>,
    ctx: checks::Context<'s>,
    /// Exemptions in force today.
    exemptions: Vec<&'s Doc<PolicyExemption>>,
    used: &'s Used,
    /// The image digests an incident switch blocks today (fleet.yaml `switches.blockImages`).
    blocked: Vec<&'s str>,
    /// The exemptions that turned a finding off since [`Enforce::take_exempted`] (the cache
    /// records them with the placement, so that a reused placement still uses them: FG092).
    exempted: std::cell::RefCell<Vec<String>>,
}

impl<'s> Enforce<'s> {
    /// The names of the exemptions that turned a finding off since the last call, sorted.
    pub fn take_exempted(&self) -> Vec<String> {
        let mut names = std::mem::take(&mut *self.exempted.borrow_mut());
        names.sort();
        names.dedup();
        names
    }

    /// The enforcement of `cluster`'s policy profile, recording exemptions it uses in `used`.
    pub fn new(
        sources: &'s Sources,
        fleet: &'s crate::model::Fleet,
        cluster: &crate::model::Cluster,
        used: &'s Used,
    ) -> Self {
        Enforce {
            intents: super::intents_for(sources, cluster),
            ctx: checks::Context::for_cluster(fleet, cluster),
            exemptions: sources
                .policy_exemptions
                .iter()
                .filter(|e| exemptions::active(&e.value, sources.today))
                .collect(),
            used,
            blocked: crate::resolve::incidents::blocked(fleet, sources.today)
                .into_iter()
                .map(|b| b.digest.as_str())
                .collect(),
            exempted: std::cell::RefCell::default(),
        }
    }

    /// FG057 for each container of `obj` that runs a blocked digest, but the contract's own
    /// image (which `resolve` reports at the contract, once for the app).
    fn blocked(&self, p: &Placement, obj: &Object, label: &dyn Fn() -> Label, files: &SourceMap) -> Vec<Diagnostic> {
        if self.blocked.is_empty() {
            return Vec::new();
        }
        checks::blocked_images(&obj.value, None, &self.blocked)
            .into_iter()
            .filter(|v| v.image.as_deref() != Some(p.image()))
            .map(|v| {
                Diagnostic::error(
                    codes::BLOCKED_IMAGE,
                    files,
                    label(),
                    format!("{} {} on `{}`: {}", obj.kind, obj.name, p.cluster_id(), v.what),
                )
                .with_help("remove the image from the template or values, or pick another release of it")
                .for_app(p.app_name())
                .on_cluster(p.cluster_id())
            })
            .collect()
    }

    /// The findings of `obj`, rendered by `template` for placement `p`.
    pub fn check(&self, p: &Placement, obj: &Object, template: FileId, files: &SourceMap) -> Vec<Diagnostic> {
        let mut out = self.judge(p, obj, &|_| true, &|ci, v| {
            super::finding(p, ci, obj, v, template, files)
        });
        let at = || {
            Label::new(
                template,
                super::kind_line(files, template, &obj.kind),
                "rendered by this template",
            )
        };
        out.extend(self.blocked(p, obj, &at, files));
        out
    }

    /// The findings of the image intents for the image a chart runs (`image`, as its values
    /// render it), placed `at` the value that decided it: a values file's line, or the
    /// contract's image.
    pub fn check_chart_image(
        &self,
        p: &Placement,
        image: &str,
        at: &dyn Fn(Check) -> Label,
        files: &SourceMap,
    ) -> Vec<Diagnostic> {
        let pod = Object::new(
            "v1",
            "Pod",
            p.app_name(),
            Some(&p.namespace),
            serde_json::json!({"containers": [{"name": p.app_name(), "image": image}]}),
        );
        let images = |check: Check| matches!(check, Check::ImageDigest | Check::ApprovedRegistry);
        let mut out = self.blocked(p, &pod, &|| at(Check::ImageDigest), files);
        out.extend(self.judge(p, &pod, &images, &|ci, v| {
            let help = match ci.definition.check {
                Check::ImageDigest => {
                    "pin the image by digest in the contract (`registry/repo@sha256:…`), and override no image tag in a values file"
                }
                _ => "use a registry of fleet.yaml's `registries` that serves this cluster's provider",
            };
            super::finding_at(p, ci, ("chart", p.app_name()), v, at(ci.definition.check), help, files)
        }));
        out
    }

    /// The findings of every intent for `obj`, made by `make`, but those an exemption in
    /// force turns off (which it remembers as used).
    fn judge(
        &self,
        p: &Placement,
        obj: &Object,
        only: &dyn Fn(Check) -> bool,
        make: &dyn Fn(&ClusterIntent, &checks::Violation) -> Diagnostic,
    ) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        debug_assert_eq!(
            obj.value.get("kind").and_then(serde_json::Value::as_str).unwrap_or(""),
            obj.kind
        );
        let pod = crate::kube::pod_spec_of(&obj.kind, &obj.value);
        for ci in self.intents.iter().filter(|ci| only(ci.definition.check)) {
            let check = ci.definition.check;
            let found = if check == Check::WorkloadIdentity {
                let has_identity = !p.identity.service_account_annotations.is_empty();
                checks::workload_identity(&obj.value, has_identity, p.cluster.value.provider)
            } else {
                checks::violations_in(check, &ci.maximum, &obj.value, &obj.kind, pod, &self.ctx)
            };
            let code = checks::code(check).id;
            let namespace = obj.namespace.as_deref().unwrap_or(&p.namespace);
            let exempted: Vec<&str> = self
                .exemptions
                .iter()
                .filter(|e| {
                    exemptions::covers(
                        &e.value,
                        ci.definition.id.as_str(),
                        code,
                        p.app_name(),
                        p.cluster_id(),
                        namespace,
                    )
                })
                .map(|e| e.value.name.as_str())
                .collect();
            if !exempted.is_empty() {
                if !found.is_empty() {
                    self.exempted
                        .borrow_mut()
                        .extend(exempted.iter().map(|s| s.to_string()));
                    self.used.add(exempted);
                }
                continue;
            }
            for v in found {
                out.push(make(ci, &v));
            }
        }
        out
    }
}

/// FG092: the exemptions in force that turned no finding off in a render of the whole fleet.
pub fn unused(sources: &Sources, used: &Used) -> Vec<Diagnostic> {
    // An exemption that keeps an admission policy off a cluster too old to serve one turns
    // FG029 off there: in use, whatever its workloads do.
    let lifting = super::lifting_unsupported_admission(sources);
    sources
        .policy_exemptions
        .iter()
        // Exemptions of lint rules are judged by `fleetgen lint`, not by a render.
        .filter(|doc| doc.value.rule.as_deref().is_none_or(exemptions::is_policy_rule))
        .filter(|doc| !lifting.contains(doc.value.name.as_str()))
        .filter(|doc| exemptions::active(&doc.value, sources.today) && !used.contains(doc.value.name.as_str()))
        .map(|doc| {
            Diagnostic::error(
                codes::EXEMPTION_UNUSED,
                &sources.files,
                doc.label(&["name"], "matched no finding"),
                format!("exemption `{}` turned no finding off", doc.value.name),
            )
            .with_help("remove it if the finding is fixed (fleetgen does not check the objects a Helm chart renders: an exemption for them only frees the namespace on the cluster)")
            .warning()
        })
        .collect()
}
