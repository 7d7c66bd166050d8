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
    #[serde(default = "yes", rename = "excludePlatformNamespaces")]
    pub exclude_platform_namespaces: bool,
    #[serde(default)]
    pub azure: Option<AzurePolicy>,
}

fn yes() -> bool {
    true
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
    /// Ring (fleet.yaml `rings`) → enforcement; wins over `byEnvironment`, so that a step
    /// (audit → deny) can walk the rings.
    #[serde(default)]
    pub by_ring: BTreeMap<Id, Enforcement>,
}

/// `policy-library/exemptions/<name>.yaml`: one intent (or finding code) off for one target
/// until a date.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "RawExemption")]
pub struct PolicyExemption {
    pub name: Id,
    pub intent: Option<Id>,
    pub rule: Option<String>,
    pub target: ExemptionTarget,
    pub owner: Id,
    pub reason: String,
    /// `YYYY-MM-DD`, the last day it holds.
    pub expires: String,
}

impl TryFrom<RawExemption> for PolicyExemption {
    type Error = String;
    fn try_from(r: RawExemption) -> Result<Self, String> {
        if r.intent.is_some() == r.rule.is_some() {
            return Err("an exemption names exactly one of `intent` and `rule`".into());
        }
        let t = &r.target;
        if t.app.is_none() && t.cluster.is_none() && t.namespace.is_none() {
            return Err("an exemption's `target` names an app, a cluster or a namespace".into());
        }
        Ok(PolicyExemption {
            name: r.name,
            intent: r.intent,
            rule: r.rule,
            target: r.target,
            owner: r.owner,
            reason: r.reason,
            expires: r.expires,
        })
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExemption {
    pub name: Id,
    #[serde(default)]
    pub intent: Option<Id>,
    #[serde(default)]
    pub rule: Option<String>,
    pub target: ExemptionTarget,
    pub owner: Id,
    pub reason: String,
    /// `YYYY-MM-DD`, the last day it holds.
    pub expires: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemptionTarget {
    #[serde(default)]
    pub app: Option<Id>,
    #[serde(default)]
    pub cluster: Option<Id>,
    #[serde(default)]
    pub namespace: Option<Id>,
}
