//! The policy outputs, checked against facts from outside fleetgen.

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load_json(path: &str) -> Value {
    let text = fs::read_to_string(root().join(path)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The `excludedNamespaces` the AKS baseline passes each assignment (cluster-stamp.bicep
/// lines 1399–1541, mspnp/aks-baseline-multi-region @ 7e1c1fe0).
fn baseline_excluded(guid: &str) -> &'static [&'static str] {
    match guid {
        // paAKSLinuxRestrictive, paEnforceResourceLimits
        "42b8ef37-b724-4e24-bbc8-7a7708edfe00" | "e345eecc-fa47-480f-9e88-67dcc122b164" => &[
            "kube-system",
            "gatekeeper-system",
            "azure-arc",
            "flux-system",
            "cluster-baseline-settings",
        ],
        // paEnforceHttpsIngress, paEnforceInternalLoadBalancers
        "1a5b4dca-0b6f-4cf5-907c-56316bc1bf3d" | "3fc4dc25-5baf-40d8-9b05-7fe74c1bc64e" => &[],
        // paRoRootFilesystem, paEnforceImageSource
        _ => &["kube-system", "gatekeeper-system", "azure-arc", "flux-system"],
    }
}

/// The six assignments of Microsoft's multi-region AKS baseline (mspnp/aks-baseline-multi-region
/// cluster-stamp.bicep lines 1399–1541): definition, kind, effect, and what the parameters hold.
#[test]
fn the_reference_profile_reproduces_the_aks_baseline_assignments() {
    // The bundled AKS sandbox runs the `aks-baseline-reference` policy profile.
    let template = load_json("rendered/azure-eastus-sandbox-platform-01/azure/policy-assignments.json");
    let resources = template["resources"].as_array().unwrap();
    let expected = [
        ("policySetDefinitions", "42b8ef37-b724-4e24-bbc8-7a7708edfe00", "Audit"),
        ("policyDefinitions", "1a5b4dca-0b6f-4cf5-907c-56316bc1bf3d", "Deny"),
        ("policyDefinitions", "3fc4dc25-5baf-40d8-9b05-7fe74c1bc64e", "Deny"),
        ("policyDefinitions", "df49d893-a74c-421d-bc95-c663042e5b80", "Audit"),
        ("policyDefinitions", "e345eecc-fa47-480f-9e88-67dcc122b164", "Deny"),
        ("policyDefinitions", "febd0533-8e55-448f-b837-bd0e06f16469", "Deny"),
    ];
    assert_eq!(resources.len(), expected.len(), "{template:#}");
    for (collection, guid, effect) in expected {
        let id = format!("/providers/Microsoft.Authorization/{collection}/{guid}");
        let a = resources
            .iter()
            .find(|r| r["properties"]["policyDefinitionId"] == id.as_str())
            .unwrap_or_else(|| panic!("no assignment of {id}"));
        assert_eq!(a["type"], "Microsoft.Authorization/policyAssignments");
        let p = &a["properties"]["parameters"];
        assert_eq!(p["effect"]["value"], effect, "{guid}");
        // The excluded namespaces, as the baseline passes them (compared as sets).
        let mut excluded: Vec<&str> = p["excludedNamespaces"]["value"]
            .as_array()
            .unwrap_or_else(|| panic!("{guid}: no excludedNamespaces"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        excluded.sort_unstable();
        let mut want: Vec<&str> = baseline_excluded(guid).to_vec();
        want.sort_unstable();
        assert_eq!(excluded, want, "{guid}: excludedNamespaces");
        assert!(a["name"].as_str().unwrap().len() <= 64);
        assert!(a["properties"]["displayName"].as_str().unwrap().chars().count() <= 128);
    }
    let by_guid = |guid: &str| {
        resources
            .iter()
            .find(|r| r["properties"]["policyDefinitionId"].as_str().unwrap().ends_with(guid))
            .unwrap()["properties"]["parameters"]
            .clone()
    };
    let limits = by_guid("e345eecc-fa47-480f-9e88-67dcc122b164");
    assert_eq!(limits["cpuLimit"]["value"], "1000m");
    assert_eq!(limits["memoryLimit"]["value"], "512Mi");
    // paEnforceImageSource: the registry (ACR) and mcr.microsoft.com, nothing else.
    let regex = by_guid("febd0533-8e55-448f-b837-bd0e06f16469")["allowedContainerImagesRegex"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        regex.contains(r"contosofleet\.azurecr\.io") && regex.contains(r"mcr\.microsoft\.com"),
        "{regex}"
    );
    assert!(
        !regex.contains("dkr.ecr"),
        "an AKS cluster does not pull from ECR: {regex}"
    );
    // The initiative takes only its own parameters (no member-only ones like cpuLimit).
    let restricted = by_guid("42b8ef37-b724-4e24-bbc8-7a7708edfe00");
    let names: Vec<&String> = restricted.as_object().unwrap().keys().collect();
    assert_eq!(names, vec!["effect", "excludedNamespaces"]);
}

#[test]
fn only_aks_clusters_get_azure_assignments() {
    for entry in fs::read_dir(root().join("rendered")).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let has = dir.join("azure/policy-assignments.json").is_file();
        assert_eq!(has, name.starts_with("azure-"), "{name}");
    }
}

/// Two AKS clusters in one resource group (tests/golden/shared-resource-group): assignment
/// names are unique per resource group, so each cluster's template names its own, and
/// deploying one does not overwrite the other's Deny or Audit.
#[test]
fn clusters_sharing_a_resource_group_get_distinct_assignment_names() {
    let tree = "tests/golden/shared-resource-group/expected";
    let names = |cluster: &str| -> Vec<String> {
        let template = load_json(&format!("{tree}/{cluster}/azure/policy-assignments.json"));
        assert_eq!(template["metadata"]["resourceGroup"], "rg-eastus-prod-01");
        template["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (a, b) = (names("eastus-prod-01"), names("eastus-prod-02"));
    assert!(!a.is_empty() && !b.is_empty());
    for name in &a {
        assert!(!b.contains(name), "{name} is in both clusters' templates");
        assert!(name.len() <= 64, "{name}");
    }
}

/// Every cluster's assignments and exemptions are scoped to its AKS cluster, not to its
/// resource group, where they would cover every cluster of the group: two clusters sharing
/// one (one Flux, one Argo CD) would each enforce the other's assignments, whose excluded
/// namespaces name the other's GitOps engine. An exemption names its assignment there.
#[test]
fn assignments_are_scoped_to_their_cluster_not_its_resource_group() {
    let mut checked = 0;
    for tree in [
        "rendered",
        "tests/golden/shared-resource-group/expected",
        "tests/golden/policy-exemptions/expected",
    ] {
        for entry in fs::read_dir(root().join(tree)).unwrap() {
            let cluster = entry.unwrap().file_name().to_string_lossy().into_owned();
            let path = root().join(tree).join(&cluster).join("azure/policy-assignments.json");
            if !path.exists() {
                continue;
            }
            let template = load_json(path.strip_prefix(root()).unwrap().to_str().unwrap());
            // The registry's `azure.clusterName`, else the cluster id.
            let input = match tree {
                "rendered" => root().join(format!("clusters/{cluster}.yaml")),
                _ => root()
                    .join(tree.replace("/expected", "/input"))
                    .join(format!("clusters/{cluster}.yaml")),
            };
            let input = fs::read_to_string(&input).unwrap_or_else(|_| {
                fs::read_to_string(root().join(format!("tests/fixtures/base/clusters/{cluster}.yaml"))).unwrap()
            });
            let name = input
                .lines()
                .find_map(|l| l.strip_prefix("  clusterName: "))
                .unwrap_or(&cluster);
            let scope = format!("Microsoft.ContainerService/managedClusters/{name}");
            for r in template["resources"].as_array().unwrap() {
                assert_eq!(r["scope"], scope.as_str(), "{tree}/{cluster}: {r}");
                if r["type"] == "Microsoft.Authorization/policyExemptions" {
                    let id = r["properties"]["policyAssignmentId"].as_str().unwrap();
                    assert!(
                        id.starts_with("[subscriptionResourceId(")
                            || id.contains(&format!(
                                "resourceId('Microsoft.ContainerService/managedClusters', '{cluster}')"
                            )),
                        "{tree}/{cluster}: {id}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "{checked}");
}

/// ARM refuses a template that defines one resource twice (InvalidTemplate), and names are
/// unique per type and scope: no template of the bundled tree or a golden one holds two
/// resources of one type, scope and name. A `rule:` exemption covering two intents of a
/// cluster once gave two `policyExemptions` of one name (golden case `policy-exemptions`:
/// `staging-root` covers both run-as-non-root intents on eastus-staging-01), and joined to
/// the intent by `-` one of them took the name of exemption `staging-root-must-run-as-non-root`.
#[test]
fn no_template_defines_a_resource_twice() {
    let mut trees = vec![root().join("rendered")];
    for case in fs::read_dir(root().join("tests/golden")).unwrap() {
        trees.push(case.unwrap().path().join("expected"));
    }
    let mut checked = 0;
    for tree in trees {
        for entry in walkdir::WalkDir::new(&tree).sort_by_file_name() {
            let entry = entry.unwrap();
            if entry.path().extension().is_none_or(|e| e != "json") {
                continue;
            }
            let template: Value = serde_json::from_str(&fs::read_to_string(entry.path()).unwrap()).unwrap();
            let Some(resources) = template["resources"].as_array() else {
                continue;
            };
            let mut seen = std::collections::BTreeSet::new();
            for r in resources {
                let key = (r["type"].to_string(), r["scope"].to_string(), r["name"].to_string());
                assert!(seen.insert(key), "{}: {} twice", entry.path().display(), r["name"]);
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "{checked}");
    let staging = load_json("tests/golden/policy-exemptions/expected/eastus-staging-01/azure/policy-assignments.json");
    let exemptions: Vec<(&str, &str)> = (staging["resources"].as_array().unwrap().iter())
        .filter(|r| r["properties"]["metadata"]["exemption"] == "staging-root")
        .map(|r| {
            let assignment = r["properties"]["policyAssignmentId"].as_str().unwrap();
            (
                r["name"].as_str().unwrap(),
                assignment.split('\'').nth(7).unwrap_or(assignment),
            )
        })
        .collect();
    assert_eq!(
        exemptions,
        [
            (
                "fg-staging-root_must-run-as-non-root-1e0f87f8",
                "fg-must-run-as-non-root-1e0f87f8"
            ),
            (
                "fg-staging-root_must-meet-pod-security-restricted-1e0f87f8",
                "fg-must-meet-pod-security-restricted-1e0f87f8"
            ),
        ]
    );
    // An exemption of one intent keeps the exemption's name alone.
    assert!(
        staging["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "fg-staging-non-root-1e0f87f8")
    );
}
