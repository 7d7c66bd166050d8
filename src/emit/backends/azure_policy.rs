//! The Azure Policy backend: `<clusterId>/azure/policy-assignments.json`, an ARM template
//! (resource-group scope, deployed into the AKS cluster's resource group: one resource group
//! per regional cluster, as the AKS baseline does) with one
//! `Microsoft.Authorization/policyAssignments` per intent of the cluster's policy profile
//! that maps to an Azure built-in.
//!
//! - name: `fg-<intent id>-<hash of the cluster id>`: names are unique per resource group,
//!   and two clusters may share one (at most 64 characters; a longer id is cut and hashed);
//! - displayName: `[<clusterId>] <intent title>`, at most 128 characters;
//! - effect: `Audit` or `Deny` from the profile's enforcement for the cluster's environment;
//! - excludedNamespaces: exactly the intent's own list (the system namespaces when it lists
//!   none), the cluster's platform namespaces (its profile's and the GitOps engine's) unless
//!   the intent sets `excludePlatformNamespaces: false`, and those exemptions free;
//! - allowedContainerImagesRegex (approved-registry): built from fleet.yaml's registries.
//!
//! With `policy.hoistAzureAssignments` in fleet.yaml, an assignment that every AKS cluster of
//! one subscription (two or more) gets with the same parameters is written once, at
//! subscription scope, in `_azure/<subscription>/policy-assignments.json` (the id compared
//! without case and written in lowercase, as Azure compares it), and left out of the
//! clusters' templates. (A subscription-scope assignment also covers the subscription's
//! clusters that are not in this fleet: AKS ones, and Arc-connected ones for the definitions
//! evaluated in the cluster, which target both.)

use serde_json::{Map, Value, json};

use super::{FleetBackend, FleetContext};
use crate::layout::{self, Area};
use crate::load::Sources;
use crate::model::Provider;
use crate::model::policy::Check;
use crate::policy::{self, azure};
use crate::resolve::plan::{ClusterPlan, Plan};

pub const API_VERSION: &str = "2024-04-01";

/// The file each AKS cluster (and a subscription, with hoisting) gets.
const FILE: &str = "policy-assignments.json";

pub struct AzurePolicy;

impl FleetBackend for AzurePolicy {
    fn render(&self, ctx: &FleetContext) -> Vec<(String, String)> {
        render(ctx.sources, ctx.plan, ctx.selected)
    }

    /// Its files are made from fleet-wide inputs (fleet.yaml, profiles, the policy library),
    /// each AKS cluster's file, and of the placements only the namespace of each app an
    /// exemption names on each AKS cluster (`policy::cluster_exemptions`): a version or
    /// replicas change reuses them.
    fn key(&self, ctx: &FleetContext, global: &crate::incremental::Key) -> Option<crate::incremental::Key> {
        let files = &ctx.sources.files;
        let read: Vec<_> = ctx
            .plan
            .clusters
            .iter()
            .filter(|c| c.doc.value.provider == Provider::Azure)
            .map(|c| {
                let file = files.get(c.doc.file);
                let namespaces = super::exempted_namespaces(ctx.sources, ctx.plan, c.id());
                (file.path.as_str(), &*file.text, namespaces)
            })
            .collect();
        Some(crate::incremental::Key::hashed(b"azure-policy", global, &read))
    }
}

/// The name of a resource of `what` (an intent or exemption id): `fg-<what>`, and for a
/// cluster's resource-group template `-<hash of the cluster id>` after it, because names are
/// unique per resource group and clusters may share one; at most 64 characters (a longer id
/// is cut and given a hash of its own).
pub fn resource_name(what: &str, cluster: Option<&str>) -> String {
    let suffix = cluster.map_or_else(String::new, |c| format!("-{:08x}", crate::emit::fnv1a64(c) as u32));
    let room = 64 - suffix.len();
    let base = format!("fg-{what}");
    let base = if base.len() <= room {
        base
    } else {
        format!("{}-{:08x}", &base[..room - 9], crate::emit::fnv1a64(what) as u32)
    };
    format!("{base}{suffix}")
}

fn take_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// One cluster's assignments and exemptions, before they are laid out in files.
struct ClusterPolicy<'a> {
    cluster: &'a ClusterPlan<'a>,
    /// (intent id, what must be equal to hoist it, the resource).
    assignments: Vec<(String, Value, Value)>,
    /// (intent id, exemption resource without its assignment id).
    exemptions: Vec<(String, Value)>,
}

fn cluster_policy<'a>(sources: &Sources, plan: &Plan, cluster: &'a ClusterPlan<'a>) -> Option<ClusterPolicy<'a>> {
    let c = &cluster.doc.value;
    if c.provider != Provider::Azure {
        return None;
    }
    let catalog = azure::catalog();
    let mut result = ClusterPolicy {
        cluster,
        assignments: Vec::new(),
        exemptions: Vec::new(),
    };
    for ci in policy::intents_for(sources, c) {
        let intent = &ci.definition;
        let Some(mapping) = &intent.azure else { continue };
        let Some(definition) = catalog.find(&mapping.definition_id) else {
            continue;
        };
        let Some(effect) = definition.effect(ci.enforcement) else {
            continue;
        };
        let mut parameters = Map::new();
        for (name, value) in &mapping.parameters {
            parameters.insert(name.clone(), json!({"value": value}));
        }
        let exempt = policy::cluster_exemptions(sources, plan, intent.id.as_str(), c);
        if definition.parameters.contains_key("excludedNamespaces") {
            parameters.insert(
                "excludedNamespaces".into(),
                json!({"value": policy::excluded_namespaces(intent, &super::platform_namespaces(cluster), &exempt.namespaces)}),
            );
        }
        if intent.check == Check::ApprovedRegistry && definition.parameters.contains_key("allowedContainerImagesRegex")
        {
            parameters.insert(
                "allowedContainerImagesRegex".into(),
                json!({"value": policy::image_regex(&plan.fleet.value, c)}),
            );
        }
        if definition.parameters.contains_key("effect") {
            parameters.insert("effect".into(), json!({"value": effect}));
        }
        // The maxima the compile-time check and the admission policy use.
        if let Some(maximum) = intent
            .maximum
            .as_ref()
            .filter(|_| intent.check == Check::ResourceLimits)
        {
            for (field, value) in [("cpu", &maximum.cpu), ("memory", &maximum.memory)] {
                let parameter = crate::policy::intents::maximum_parameter(field);
                if let Some(value) = value
                    && definition.parameters.contains_key(parameter)
                {
                    parameters.insert(parameter.into(), json!({"value": value}));
                }
            }
        }
        // Parameters in name order: the output does not depend on the intent file's order.
        let mut sorted: Vec<(String, Value)> = parameters.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let parameters = Value::Object(sorted.into_iter().collect());
        let description = intent
            .description
            .clone()
            .unwrap_or_else(|| definition.description.clone());
        let assignment = resource_name(intent.id.as_str(), Some(c.cluster_id.as_str()));
        for ex in &exempt.cluster_wide {
            let ex = &ex.value;
            result.exemptions.push((
                intent.id.to_string(),
                json!({
                    "type": "Microsoft.Authorization/policyExemptions",
                    "apiVersion": "2022-07-01-preview",
                    "name": resource_name(ex.name.as_str(), Some(c.cluster_id.as_str())),
                    "properties": {
                        "exemptionCategory": "Waiver",
                        "displayName": take_chars(&format!("[{}] {} exempted: {}", c.cluster_id, intent.id, ex.name), 128),
                        "description": take_chars(&format!("{} (owner: {})", ex.reason, ex.owner), 512),
                        "expiresOn": format!("{}T23:59:59Z", ex.expires),
                        "metadata": {"generatedBy": "fleetgen", "exemption": ex.name.as_str(), "owner": ex.owner.as_str()},
                    },
                }),
            ));
        }
        let mut metadata = json!({
            "generatedBy": "fleetgen",
            "intent": intent.id.as_str(),
            "enforcement": ci.enforcement.as_str(),
            "policyProfile": c.policy_profile.as_str(),
        });
        if let Some(version) = intent.version {
            metadata["intentVersion"] = json!(version);
        }
        let key = json!({"definition": definition.resource_id(), "parameters": parameters});
        result.assignments.push((
            intent.id.to_string(),
            key,
            json!({
                "type": "Microsoft.Authorization/policyAssignments",
                "apiVersion": API_VERSION,
                "name": assignment,
                "properties": {
                    "displayName": take_chars(&format!("[{}] {}", c.cluster_id, intent.title), 128),
                    "description": take_chars(description.trim(), 512),
                    "policyDefinitionId": definition.resource_id(),
                    "enforcementMode": "Default",
                    "parameters": parameters,
                    "metadata": metadata,
                },
            }),
        ));
    }
    // An exemption by `rule:` covers every intent whose check gives that finding: one
    // exemption resource per intent it covers here, each named after the exemption and the
    // intent, as names are unique per scope (ARM refuses a template defining one twice). One
    // that covers a single intent keeps the exemption's name alone, as before. The two are
    // joined by `_`, which neither an exemption's name nor an intent's id (DNS labels) holds
    // and ARM allows: with `-`, exemption `batch` over intent `x` took the name of another
    // exemption named `batch-x`.
    let exemption_of = |resource: &Value| {
        resource["properties"]["metadata"]["exemption"]
            .as_str()
            .map(str::to_string)
    };
    let names: Vec<Option<String>> = result.exemptions.iter().map(|(_, r)| exemption_of(r)).collect();
    for (intent, resource) in &mut result.exemptions {
        let name = exemption_of(resource);
        if let Some(name) = name.filter(|n| names.iter().filter(|m| m.as_deref() == Some(n)).count() > 1) {
            resource["name"] = json!(resource_name(&format!("{name}_{intent}"), Some(c.cluster_id.as_str())));
        }
    }
    Some(result)
}

/// The subscription a cluster's hoisted assignments go to, in lowercase: Azure compares
/// subscription ids without case (a registry may copy one from the portal in capitals), so
/// two spellings of one GUID are one subscription, one template and one stack.
fn subscription_key(cluster: &ClusterPlan) -> String {
    (cluster.doc.value.azure.as_ref()).map_or_else(String::new, |a| a.subscription_id.to_ascii_lowercase())
}

/// The Azure files: `<clusterId>/azure/policy-assignments.json` for every selected AKS
/// cluster and, with `policy.hoistAzureAssignments`, `_azure/<subscription>/policy-assignments.json`
/// holding what every AKS cluster of a subscription (two or more) shares.
fn render(sources: &Sources, plan: &Plan, selected: &dyn Fn(&str) -> bool) -> Vec<(String, String)> {
    let catalog = azure::catalog();
    let policies: Vec<ClusterPolicy> = plan
        .clusters
        .iter()
        .filter_map(|c| cluster_policy(sources, plan, c))
        .collect();
    let subscription = |p: &ClusterPolicy| subscription_key(p.cluster);
    // (subscription, intent id) hoisted to the subscription.
    let mut hoisted: std::collections::BTreeMap<(String, String), Value> = std::collections::BTreeMap::new();
    if plan.fleet.value.policy.hoist_azure_assignments {
        let mut subscriptions: std::collections::BTreeMap<String, Vec<&ClusterPolicy>> =
            std::collections::BTreeMap::new();
        for p in &policies {
            subscriptions.entry(subscription(p)).or_default().push(p);
        }
        for (sub, members) in &subscriptions {
            if members.len() < 2 || sub.is_empty() {
                continue;
            }
            for (intent, key, resource) in &members[0].assignments {
                let shared = members[1..]
                    .iter()
                    .all(|m| m.assignments.iter().any(|(i, k, _)| i == intent && k == key));
                if shared {
                    let mut resource = resource.clone();
                    // One assignment in the subscription: its name needs no cluster's.
                    resource["name"] = json!(resource_name(intent, None));
                    let title = resource["properties"]["displayName"]
                        .as_str()
                        .and_then(|d| d.split_once("] ").map(|(_, t)| t.to_string()))
                        .unwrap_or_default();
                    resource["properties"]["displayName"] =
                        json!(take_chars(&format!("[{}] {title}", plan.fleet.value.name), 128));
                    resource["properties"]["metadata"]["hoistedFrom"] =
                        json!(members.iter().map(|m| m.cluster.id()).collect::<Vec<_>>());
                    hoisted.insert((sub.clone(), intent.clone()), resource);
                }
            }
        }
    }
    let mut files = Vec::new();
    for p in policies.iter().filter(|p| selected(p.cluster.id())) {
        let c = &p.cluster.doc.value;
        let sub = subscription(p);
        let is_hoisted = |intent: &str| hoisted.contains_key(&(sub.clone(), intent.to_string()));
        // Scoped to the AKS cluster, not its resource group: an assignment at the group covers
        // every cluster in it, and two clusters may share one (each would enforce the other's
        // assignments, namespaces excluded for the other's GitOps engine included).
        let aks = c
            .azure
            .as_ref()
            .and_then(|a| a.cluster_name.as_deref())
            .unwrap_or(c.cluster_id.as_str());
        let scope = format!("Microsoft.ContainerService/managedClusters/{aks}");
        let scoped = |resource: &Value| {
            let mut out = Map::new();
            for key in ["type", "apiVersion", "name"] {
                out.insert(key.into(), resource[key].clone());
            }
            out.insert("scope".into(), json!(scope));
            out
        };
        let mut resources: Vec<Value> = p
            .assignments
            .iter()
            .filter(|(intent, _, _)| !is_hoisted(intent))
            .map(|(_, _, r)| {
                let mut out = scoped(r);
                out.insert("properties".into(), r["properties"].clone());
                Value::Object(out)
            })
            .collect();
        for (intent, exemption) in &p.exemptions {
            // A hoisted assignment lives in the subscription, deployed before this template.
            let hoisted_here = is_hoisted(intent);
            let assignment = resource_name(intent, (!hoisted_here).then_some(c.cluster_id.as_str()));
            let id = if hoisted_here {
                format!("[subscriptionResourceId('Microsoft.Authorization/policyAssignments', '{assignment}')]")
            } else {
                format!(
                    "[extensionResourceId(resourceId('Microsoft.ContainerService/managedClusters', '{aks}'), 'Microsoft.Authorization/policyAssignments', '{assignment}')]"
                )
            };
            let mut out = scoped(exemption);
            if !hoisted_here {
                out.insert("dependsOn".into(), json!([id.clone()]));
            }
            let mut properties = Map::new();
            properties.insert("policyAssignmentId".into(), json!(id));
            if let Value::Object(rest) = &exemption["properties"] {
                properties.extend(rest.clone());
            }
            out.insert("properties".into(), Value::Object(properties));
            resources.push(Value::Object(out));
        }
        let azure = c.azure.as_ref();
        let path = Area::Azure.path(c.cluster_id.as_str(), FILE);
        let template = json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "metadata": {
                "generatedBy": "fleetgen; do not edit. Change the sources and run `fleetgen render`.",
                "sources": [sources.files.get(p.cluster.doc.file).path.clone(), "policy-library/".to_string()],
                "cluster": c.cluster_id.as_str(),
                "subscriptionId": azure.map(|a| a.subscription_id.as_str()),
                "resourceGroup": azure.map(|a| a.resource_group.as_str()),
                "azurePolicySource": format!("{}@{}", catalog.source.repository, catalog.source.commit),
                // A deployment stack, one per cluster (two may share a resource group), not
                // a plain deployment (which is incremental): an assignment or exemption a newer
                // template drops is deleted in Azure, not left enforcing.
                // The path from the output folder, as every other template's command says it.
                "deploy": format!(
                    "az stack group create --name fleetgen-policy-{} --subscription {} --resource-group {} --template-file {path} {flags}",
                    c.cluster_id,
                    azure.map_or("<subscription>", |a| a.subscription_id.as_str()),
                    azure.map_or("<resource-group>", |a| a.resource_group.as_str()),
                    flags = super::STACK_FLAGS,
                ),
            },
            "resources": resources,
        });
        files.push((path, super::json_text(&template)));
    }
    // With hoisting, every subscription of the fleet's AKS clusters has its template, even
    // with nothing hoisted: its stack then deletes what an earlier template hoisted (a
    // cluster gone, parameters no longer shared), where a missing file would leave it.
    let mut by_subscription: std::collections::BTreeMap<String, Vec<Value>> = std::collections::BTreeMap::new();
    if plan.fleet.value.policy.hoist_azure_assignments {
        for p in &policies {
            if p.cluster.doc.value.azure.is_some() {
                by_subscription.entry(subscription(p)).or_default();
            }
        }
    }
    for ((sub, _), resource) in &hoisted {
        by_subscription.entry(sub.clone()).or_default().push(resource.clone());
    }
    // One location for every subscription's stack, as fleet.yaml gives it: a stack's cannot
    // change, and the region of a cluster of the subscription (the first) would move with the
    // clusters.
    let location = (plan.fleet.value.policy.azure_stack_location.as_deref()).unwrap_or("<location>");
    for (sub, resources) in by_subscription {
        let path = layout::fleet_folder("azure", &format!("{sub}/{FILE}"));
        let template = json!({
            "$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "metadata": {
                "generatedBy": "fleetgen; do not edit. Change the sources and run `fleetgen render`.",
                "sources": ["fleet.yaml", "clusters/", "policy-library/"],
                "subscriptionId": sub,
                "azurePolicySource": format!("{}@{}", catalog.source.repository, catalog.source.commit),
                // One stack per subscription, as the clusters' templates are. `deploy` is a
                // command to run as it is; when to run it is said beside it.
                "deploy": format!(
                    "az stack sub create --name fleetgen-policy --subscription {sub} --location {location} --template-file {path} {flags}",
                    flags = super::STACK_FLAGS,
                ),
                "deployOrder": "stacks that add an assignment before stacks that remove one: before the clusters' resource-group stacks when an assignment moves here, after them when one leaves (fleetgen diff says which)",
            },
            "resources": resources,
        });
        files.push((path, super::json_text(&template)));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_names_fit_in_64_characters_and_stay_distinct() {
        assert_eq!(
            resource_name("must-pin-image-by-digest", None),
            "fg-must-pin-image-by-digest"
        );
        // Two clusters in one resource group: two names.
        let (a, b) = (
            resource_name("must-pin-image-by-digest", Some("eastus-prod-01")),
            resource_name("must-pin-image-by-digest", Some("eastus-prod-02")),
        );
        assert_ne!(a, b);
        assert!(a.starts_with("fg-must-pin-image-by-digest-"), "{a}");
        let long_a = format!("{}-a", "x".repeat(61));
        let long_b = format!("{}-b", "x".repeat(61));
        for cluster in [None, Some("c1")] {
            assert!(resource_name(&long_a, cluster).len() <= 64);
            assert_ne!(resource_name(&long_a, cluster), resource_name(&long_b, cluster));
        }
    }
}

#[cfg(test)]
mod assignment_tests {
    use super::*;
    use crate::load::fixture;

    fn files(overlay: &[(&str, &str)]) -> Vec<(String, Value)> {
        let sources = fixture::sources(overlay);
        let (plan, _) = crate::resolve::plan::plan(&sources);
        let plan = plan.unwrap();
        render(&sources, &plan, &|_| true)
            .into_iter()
            .map(|(path, text)| (path, serde_json::from_str(&text).unwrap()))
            .collect()
    }

    #[test]
    fn aks_clusters_get_an_assignment_per_mapped_intent_and_eks_none() {
        // must-run-as-non-root maps to an Azure built-in; must-pin-image-by-digest does not.
        let files = files(&[]);
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "eastus-prod-01/azure/policy-assignments.json",
                "eastus-staging-01/azure/policy-assignments.json"
            ]
        );
        let prod = &files[0].1;
        let assignment = &prod["resources"][0];
        assert_eq!(
            assignment["name"],
            resource_name("must-run-as-non-root", Some("eastus-prod-01"))
        );
        assert_eq!(assignment["properties"]["parameters"]["effect"]["value"], "Deny");
        let staging = &files[1].1["resources"][0];
        assert_eq!(staging["properties"]["parameters"]["effect"]["value"], "Audit");
        let excluded = &assignment["properties"]["parameters"]["excludedNamespaces"]["value"];
        assert!(
            excluded.as_array().unwrap().contains(&json!("flux-system")),
            "{excluded}"
        );
    }

    #[test]
    fn shared_assignments_are_hoisted_to_the_subscription() {
        let fleet =
            fixture::text("fleet.yaml") + "policy:\n  hoistAzureAssignments: true\n  azureStackLocation: westeurope\n";
        // Same enforcement on both clusters, and both in one subscription.
        let profile = fixture::text("policy-library/profiles/restricted.yaml")
            .replace("      staging: audit\n", "      staging: deny\n");
        let staging =
            fixture::text("clusters/eastus-staging-01.yaml").replace("0000-000000000002", "0000-000000000001");
        let files = files(&[
            ("fleet.yaml", &fleet),
            ("policy-library/profiles/restricted.yaml", &profile),
            ("clusters/eastus-staging-01.yaml", &staging),
        ]);
        let hoisted = files
            .iter()
            .find(|(p, _)| p == "_azure/00000000-0000-0000-0000-000000000001/policy-assignments.json");
        let (_, hoisted) = hoisted.expect("a subscription template");
        assert_eq!(hoisted["resources"][0]["name"], "fg-must-run-as-non-root");
        assert_eq!(
            hoisted["resources"][0]["properties"]["metadata"]["hoistedFrom"],
            json!(["eastus-prod-01", "eastus-staging-01"])
        );
        let prod = &files.iter().find(|(p, _)| p.starts_with("eastus-prod-01/")).unwrap().1;
        assert_eq!(
            prod["resources"],
            json!([]),
            "the cluster leaves it to the subscription"
        );
        // Each template deploys as a stack of its own, which deletes what it no longer holds.
        let deploy = |t: &Value| t["metadata"]["deploy"].as_str().unwrap().to_string();
        assert!(
            deploy(prod).starts_with("az stack group create --name fleetgen-policy-eastus-prod-01 "),
            "{}",
            deploy(prod)
        );
        // At fleet.yaml's location, not a cluster's region (a stack's cannot change).
        assert!(deploy(hoisted).starts_with(
            "az stack sub create --name fleetgen-policy --subscription 00000000-0000-0000-0000-000000000001 --location westeurope "
        ));
        for t in [prod, hoisted] {
            assert!(
                deploy(t).contains(" --action-on-unmanage deleteResources "),
                "{}",
                deploy(t)
            );
        }
    }

    #[test]
    fn a_subscription_with_nothing_shared_keeps_an_empty_template_for_its_stack() {
        // Hoisting on, the two clusters in different subscriptions: nothing is shared, and
        // each subscription's stack is told so by a template with no resources.
        let fleet =
            fixture::text("fleet.yaml") + "policy:\n  hoistAzureAssignments: true\n  azureStackLocation: eastus\n";
        let hoisting = files(&[("fleet.yaml", &fleet)]);
        let subscriptions: Vec<(&str, &Value)> = (hoisting.iter())
            .filter(|(p, _)| p.starts_with("_azure/"))
            .map(|(p, t)| (p.as_str(), &t["resources"]))
            .collect();
        assert_eq!(
            subscriptions,
            [
                (
                    "_azure/00000000-0000-0000-0000-000000000001/policy-assignments.json",
                    &json!([])
                ),
                (
                    "_azure/00000000-0000-0000-0000-000000000002/policy-assignments.json",
                    &json!([])
                ),
            ]
        );
        // Without hoisting, no subscription template.
        assert!(files(&[]).iter().all(|(p, _)| !p.starts_with("_azure/")));
    }
}
