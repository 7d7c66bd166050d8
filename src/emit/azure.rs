//! The Azure Policy backend: `<clusterId>/azure/policy-assignments.json`, an ARM template
//! (resource-group scope, deployed into the AKS cluster's resource group: one resource group
//! per regional cluster, as the AKS baseline does) with one
//! `Microsoft.Authorization/policyAssignments` per intent of the cluster's policy profile
//! that maps to an Azure built-in.
//!
//! - name: `fg-<intent id>` (at most 64 characters; a longer id is cut and given a hash);
//! - displayName: `[<clusterId>] <intent title>`, at most 128 characters;
//! - effect: `Audit` or `Deny` from the profile's enforcement for the cluster's environment;
//! - excludedNamespaces: the system namespaces, the GitOps engine's, and the intent's own;
//! - allowedContainerImagesRegex (approved-registry): built from fleet.yaml's registries.

use serde_json::{Map, Value, json};

use crate::load::Sources;
use crate::model::Provider;
use crate::model::policy::Check;
use crate::policy::{self, azure};
use crate::resolve::plan::{ClusterPlan, Plan};

pub const API_VERSION: &str = "2024-04-01";

/// A short, stable hash (FNV-1a, 64 bits) for names that must be cut.
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `fg-<id>`, at most 64 characters.
pub fn assignment_name(intent_id: &str) -> String {
    let name = format!("fg-{intent_id}");
    if name.len() <= 64 {
        return name;
    }
    format!("{}-{:08x}", &name[..55], fnv(intent_id) as u32)
}

fn take_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The assignment template of an AKS cluster, or `None` for other clusters.
pub fn assignments(sources: &Sources, plan: &Plan, cluster: &ClusterPlan) -> Option<String> {
    let c = &cluster.doc.value;
    if c.provider != Provider::Azure {
        return None;
    }
    let catalog = azure::catalog();
    let mut resources = Vec::new();
    let mut exemptions = Vec::new();
    for ci in policy::intents_for(sources, c) {
        let intent = &ci.intent.value;
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
                json!({"value": policy::excluded_namespaces(intent, c, &exempt.namespaces)}),
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
        // Parameters in name order: the output does not depend on the intent file's order.
        let mut sorted: Vec<(String, Value)> = parameters.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let description = intent
            .description
            .clone()
            .unwrap_or_else(|| definition.description.clone());
        let assignment = assignment_name(intent.id.as_str());
        for ex in &exempt.cluster_wide {
            let ex = &ex.value;
            exemptions.push(json!({
                "type": "Microsoft.Authorization/policyExemptions",
                "apiVersion": "2022-07-01-preview",
                "name": take_chars(&format!("fg-{}", ex.name), 64),
                "dependsOn": [format!("[resourceId('Microsoft.Authorization/policyAssignments', '{assignment}')]")],
                "properties": {
                    "policyAssignmentId": format!("[resourceId('Microsoft.Authorization/policyAssignments', '{assignment}')]"),
                    "exemptionCategory": "Waiver",
                    "displayName": take_chars(&format!("[{}] {} exempted: {}", c.cluster_id, intent.id, ex.name), 128),
                    "description": take_chars(&format!("{} (owner: {})", ex.reason, ex.owner), 512),
                    "expiresOn": format!("{}T23:59:59Z", ex.expires),
                    "metadata": {"generatedBy": "fleetgen", "exemption": ex.name.as_str(), "owner": ex.owner.as_str()},
                },
            }));
        }
        resources.push(json!({
            "type": "Microsoft.Authorization/policyAssignments",
            "apiVersion": API_VERSION,
            "name": assignment,
            "properties": {
                "displayName": take_chars(&format!("[{}] {}", c.cluster_id, intent.title), 128),
                "description": take_chars(description.trim(), 512),
                "policyDefinitionId": definition.resource_id(),
                "enforcementMode": "Default",
                "parameters": Value::Object(sorted.into_iter().collect()),
                "metadata": {
                    "generatedBy": "fleetgen",
                    "intent": intent.id.as_str(),
                    "enforcement": ci.enforcement.as_str(),
                    "policyProfile": c.policy_profile.as_str(),
                },
            },
        }));
    }
    let files = &sources.files;
    let azure = c.azure.as_ref();
    let template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "metadata": {
            "generatedBy": "fleetgen; do not edit. Change the sources and run `fleetgen render`.",
            "sources": [files.get(cluster.doc.file).path.clone(), "policy-library/".to_string()],
            "cluster": c.cluster_id.as_str(),
            "subscriptionId": azure.map(|a| a.subscription_id.as_str()),
            "resourceGroup": azure.map(|a| a.resource_group.as_str()),
            "azurePolicySource": format!("{}@{}", catalog.source.repository, catalog.source.commit),
            "deploy": format!(
                "az deployment group create --subscription {} --resource-group {} --template-file policy-assignments.json",
                azure.map_or("<subscription>", |a| a.subscription_id.as_str()),
                azure.map_or("<resource-group>", |a| a.resource_group.as_str())
            ),
        },
        "resources": resources.into_iter().chain(exemptions).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&template).unwrap_or_default();
    text.push('\n');
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_names_fit_in_64_characters_and_stay_distinct() {
        assert_eq!(
            assignment_name("must-pin-image-by-digest"),
            "fg-must-pin-image-by-digest"
        );
        let long_a = format!("{}-a", "x".repeat(61));
        let long_b = format!("{}-b", "x".repeat(61));
        assert!(assignment_name(&long_a).len() <= 64);
        assert_ne!(assignment_name(&long_a), assignment_name(&long_b));
    }
}
