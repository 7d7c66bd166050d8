//! `policy-library/`: policy intents and the profiles that pick them.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::common::{Enforcement, Environment, Id, string_enum};

string_enum!(
    /// The compile-time check fleetgen runs over rendered workloads for an intent.
    Check {
        RunAsNonRoot = "run-as-non-root",
        NoHostNetwork = "no-host-network",
        ImageDigest = "image-digest",
        ApprovedRegistry = "approved-registry",
        ResourceRequests = "resource-requests",
        ResourceLimits = "resource-limits",
        ReadinessProbe = "readiness-probe",
        WorkloadIdentity = "workload-identity",
        NoAutomountToken = "no-automount-token",
        HttpsIngress = "https-ingress",
        InternalLoadBalancer = "internal-load-balancer",
        ReadOnlyRootFilesystem = "read-only-root-filesystem",
    }
);

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyIntent {
    pub id: Id,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub check: Check,
    #[serde(default)]
    pub azure: Option<AzurePolicy>,
}

string_enum!(AzurePolicyKind { PolicyDefinition = "policyDefinition", PolicySetDefinition = "policySetDefinition" });

// string_enum! cannot mark a #[default] variant.
#[allow(clippy::derivable_impls)]
impl Default for AzurePolicyKind {
    fn default() -> Self {
        AzurePolicyKind::PolicyDefinition
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AzurePolicy {
    pub definition_id: String,
    #[serde(default)]
    pub kind: AzurePolicyKind,
    #[serde(default)]
    pub parameters: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyProfile {
    pub name: Id,
    #[serde(default)]
    pub description: Option<String>,
    pub intents: Vec<IntentChoice>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IntentChoice {
    pub intent: Id,
    pub enforcement: Enforcement,
    #[serde(default)]
    pub by_environment: BTreeMap<Environment, Enforcement>,
}
