//! The admission backend (every cluster, EKS included): `<clusterId>/policy/`, one
//! ValidatingAdmissionPolicy and one ValidatingAdmissionPolicyBinding
//! (admissionregistration.k8s.io/v1) per intent of the cluster's policy profile that has an
//! admission form ([`crate::policy::checks::cel`]). `deny` binds with `validationActions:
//! [Deny]`, `audit` with `[Audit, Warn]`; the binding skips the same namespaces as the Azure
//! assignment: the system ones, the GitOps engine's and the intent's own. While fleet.yaml's
//! incident switches block image digests, `fleetgen-blocked-images` refuses them in every
//! namespace (`[Deny]`).

use serde_json::{Value, json};

use super::{ClusterBackend, ClusterContext};
use crate::kube::Object;
use crate::layout::Area;
use crate::load::Sources;

use crate::model::common::Enforcement;
use crate::policy::{self, checks};
use crate::resolve::plan::ClusterPlan;

pub struct Admission;

impl ClusterBackend for Admission {
    fn area(&self) -> Area<'static> {
        Area::Policy
    }

    fn sources(&self) -> &'static [&'static str] {
        &["policy-library/"]
    }

    fn cluster_objects(&self, ctx: &ClusterContext) -> Vec<Object> {
        objects(ctx.sources, ctx.plan, ctx.cluster)
    }

    /// Its objects are made from fleet-wide inputs (fleet.yaml and its incident switches,
    /// profiles, the policy library, the day), the cluster's file, and of the placements
    /// only the namespace on this cluster of each app an exemption names
    /// (`policy::cluster_exemptions`): a version or replicas change reuses them.
    fn key(&self, ctx: &ClusterContext, global: &crate::incremental::Key) -> Option<crate::incremental::Key> {
        let file = ctx.sources.files.get(ctx.cluster.doc.file);
        let namespaces = super::exempted_namespaces(ctx.sources, ctx.plan, ctx.cluster.id());
        let read = (file.path.as_str(), file.digest(), namespaces);
        Some(crate::incremental::Key::hashed(b"admission", global, &read))
    }
}

fn object(kind: &str, name: &str, spec: Value) -> Object {
    Object::new("admissionregistration.k8s.io/v1", kind, name, None, spec)
}

/// A ValidatingAdmissionPolicy for `rule` and its binding, skipping the `excluded`
/// namespaces (none, or an empty list: every namespace).
fn pair(
    name: &str,
    rule: &checks::CelRule,
    validations: Vec<(String, String)>,
    actions: Value,
    excluded: Option<Vec<String>>,
) -> [Object; 2] {
    // One rule per API group and version, listing its resources in the rule's order.
    let mut groups: Vec<((&str, &str), Vec<&str>)> = Vec::new();
    for (group, version, resource) in &rule.resources {
        match groups.iter_mut().find(|(gv, _)| *gv == (*group, *version)) {
            Some((_, resources)) => resources.push(resource),
            None => groups.push(((group, version), vec![resource])),
        }
    }
    let resource_rules: Vec<Value> = groups
        .into_iter()
        .map(|((group, version), resources)| {
            json!({
                "apiGroups": [group],
                "apiVersions": [version],
                "resources": resources,
                "operations": ["CREATE", "UPDATE"],
            })
        })
        .collect();
    let mut spec = json!({
        "failurePolicy": "Fail",
        "matchConstraints": {"resourceRules": resource_rules},
    });
    if !rule.variables.is_empty() {
        spec["variables"] = rule
            .variables
            .iter()
            .map(|(name, expression)| json!({"name": name, "expression": expression}))
            .collect();
    }
    // The API server refuses a message with a line break (a folded title, a reason written
    // as a YAML block): each run of whitespace becomes one space.
    spec["validations"] = validations
        .into_iter()
        .map(|(expression, message)| {
            let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
            json!({"expression": expression, "message": message})
        })
        .collect();
    let mut binding = json!({"policyName": name, "validationActions": actions});
    // `NotIn` with no values is refused by the API server: nothing excluded, no selector.
    if let Some(excluded) = excluded.filter(|e| !e.is_empty()) {
        binding["matchResources"] = json!({
            "namespaceSelector": {
                "matchExpressions": [{
                    "key": "kubernetes.io/metadata.name",
                    "operator": "NotIn",
                    "values": excluded,
                }],
            },
        });
    }
    [
        object("ValidatingAdmissionPolicy", name, spec),
        object("ValidatingAdmissionPolicyBinding", name, binding),
    ]
}

/// The policies and bindings of one cluster.
fn objects(sources: &Sources, plan: &crate::resolve::plan::Plan, cluster_plan: &ClusterPlan) -> Vec<Object> {
    let cluster = &cluster_plan.doc.value;
    let platform = super::platform_namespaces(cluster_plan);
    let ctx = checks::Context::for_cluster(&plan.fleet.value, cluster);
    let mut out = Vec::new();
    for ci in policy::intents_for(sources, cluster) {
        let intent = &ci.definition;
        let Some(rule) = checks::cel(intent.check, &ci.maximum, &ctx) else {
            continue;
        };
        let exempt = policy::cluster_exemptions(sources, plan, intent.id.as_str(), cluster);
        if !exempt.cluster_wide.is_empty() {
            continue; // exempted on this whole cluster until the exemption expires
        }
        let name = format!("fleetgen-{}", intent.id);
        let message = format!("{} ({}): {}", intent.title, intent.id, rule.message);
        let actions = match ci.enforcement {
            Enforcement::Deny => json!(["Deny"]),
            Enforcement::Audit => json!(["Audit", "Warn"]),
        };
        let excluded = policy::excluded_namespaces(intent, &platform, &exempt.namespaces);
        let [mut policy, binding] = pair(
            &name,
            &rule,
            vec![(rule.expression.clone(), message)],
            actions,
            Some(excluded),
        );
        // The version of the intent this ring runs, when the intent file gives one.
        if let Some(version) = intent.version {
            policy.value["metadata"]["annotations"] = json!({"fleetgen.io/intent-version": version.to_string()});
        }
        out.extend([policy, binding]);
    }
    // Incident switch: the blocked image digests, refused in every namespace.
    // One validation per digest, so that the refusal names the digest and the incident.
    let blocked = crate::resolve::incidents::blocked(&plan.fleet.value, sources.today);
    if !blocked.is_empty() {
        let rules: Vec<checks::CelRule> = blocked
            .iter()
            .map(|b| checks::blocked_images_cel(&[b.digest.as_str()]))
            .collect();
        let validations: Vec<(String, String)> = rules
            .iter()
            .zip(&blocked)
            .map(|(rule, b)| {
                (
                    rule.expression.clone(),
                    format!("image digest {} is blocked: {}", b.digest, b.reason),
                )
            })
            .collect();
        // Every digest's rule matches the same resources with the same variables.
        out.extend(pair(
            "fleetgen-blocked-images",
            &rules[0],
            validations,
            json!(["Deny"]),
            None,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{cluster_objects, find};
    use super::*;
    use crate::load::fixture;

    #[test]
    fn one_policy_and_binding_per_intent_with_the_clusters_enforcement() {
        let sources = fixture::sources(&[]);
        for (cluster, actions, engine) in [
            ("eastus-prod-01", json!(["Deny"]), "flux-system"),
            ("eastus-staging-01", json!(["Audit", "Warn"]), "flux-system"),
            ("useast1-prod-01", json!(["Deny"]), "argocd"),
        ] {
            let objects = cluster_objects(&sources, &Admission, cluster);
            assert_eq!(objects.len(), 4, "two intents, each a policy and a binding");
            assert!(objects.iter().all(|(app, _)| app.is_none()));
            let policy = find(
                &objects,
                "ValidatingAdmissionPolicy",
                "fleetgen-must-pin-image-by-digest",
            );
            assert_eq!(policy["spec"]["failurePolicy"], "Fail");
            assert!(
                policy["spec"]["validations"][0]["expression"]
                    .as_str()
                    .unwrap()
                    .contains("@sha256:")
            );
            let binding = find(
                &objects,
                "ValidatingAdmissionPolicyBinding",
                "fleetgen-must-pin-image-by-digest",
            );
            assert_eq!(binding["spec"]["validationActions"], actions, "{cluster}");
            let skipped = &binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0]["values"];
            assert!(
                skipped.as_array().unwrap().contains(&json!(engine)),
                "{cluster}: {skipped}"
            );
            assert!(
                skipped.as_array().unwrap().contains(&json!("kube-system")),
                "{cluster}: {skipped}"
            );
        }
    }

    /// What the API server refuses is never written: a `NotIn` selector without values (an
    /// intent that excludes no namespace) and a message with a line break.
    #[test]
    fn no_empty_selector_and_no_line_break_in_a_message() {
        let rule = checks::blocked_images_cel(&["sha256:00"]);
        let validations = vec![(
            rule.expression.clone(),
            "blocked:\n  INC-1,\nsee the runbook\n".to_string(),
        )];
        let [policy, binding] = pair("p", &rule, validations.clone(), json!(["Deny"]), Some(Vec::new()));
        assert!(
            binding.value["spec"].get("matchResources").is_none(),
            "{}",
            binding.value
        );
        assert_eq!(
            policy.value["spec"]["validations"][0]["message"],
            "blocked: INC-1, see the runbook"
        );
        let [_, binding] = pair(
            "p",
            &rule,
            validations,
            json!(["Deny"]),
            Some(vec!["kube-system".into()]),
        );
        assert_eq!(
            binding.value["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0]["values"],
            json!(["kube-system"])
        );
    }
}
