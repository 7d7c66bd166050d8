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

/// One intent as a ring runs it: the current definition, or one of the `previous` versions
/// the file keeps while a ring is pinned to it (`versionByRing` of a policy profile).
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "RawIntent")]
pub struct PolicyIntent {
    pub id: Id,
    pub title: String,
    pub description: Option<String>,
    pub check: Check,
    pub exclude_platform_namespaces: bool,
    pub azure: Option<AzurePolicy>,
    /// For `resource-limits`: the largest limits a container may set.
    pub maximum: Option<Maximum>,
    /// The version of this definition, when the file gives one.
    pub version: Option<u32>,
    /// Earlier versions, newest first, each a whole definition (with the same id).
    pub previous: Vec<PolicyIntent>,
}

impl PolicyIntent {
    /// The definition of `version` (`None`: the current one), if the file keeps it.
    pub fn revision(&self, version: Option<u32>) -> Option<&PolicyIntent> {
        match version {
            None => Some(self),
            Some(v) if self.version.unwrap_or(1) == v => Some(self),
            Some(v) => self.previous.iter().find(|p| p.version == Some(v)),
        }
    }

    /// Every version the file keeps, the current one first.
    pub fn versions(&self) -> Vec<u32> {
        std::iter::once(self.version.unwrap_or(1))
            .chain(self.previous.iter().filter_map(|p| p.version))
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawIntent {
    id: Id,
    title: String,
    #[serde(default)]
    description: Option<String>,
    check: Check,
    #[serde(default = "yes")]
    exclude_platform_namespaces: bool,
    #[serde(default)]
    azure: Option<AzurePolicy>,
    #[serde(default)]
    maximum: Option<Maximum>,
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    previous: Vec<RawRevision>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRevision {
    version: u32,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    check: Check,
    #[serde(default = "yes")]
    exclude_platform_namespaces: bool,
    #[serde(default)]
    azure: Option<AzurePolicy>,
    #[serde(default)]
    maximum: Option<Maximum>,
}

/// The largest limits of `resource-limits` (Kubernetes quantities).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Maximum {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

impl TryFrom<RawIntent> for PolicyIntent {
    type Error = String;
    fn try_from(r: RawIntent) -> Result<Self, String> {
        // The schema requires `version` beside `previous`; that each previous version is older
        // and told once is checked with the policy library (`policy::intents`), at its line.
        if !r.previous.is_empty() && r.version.is_none() {
            return Err("an intent that keeps `previous` versions says its own `version`".into());
        }
        let previous = r
            .previous
            .into_iter()
            .map(|p| PolicyIntent {
                id: r.id.clone(),
                title: p.title.unwrap_or_else(|| r.title.clone()),
                description: p.description.or_else(|| r.description.clone()),
                check: p.check,
                exclude_platform_namespaces: p.exclude_platform_namespaces,
                azure: p.azure,
                maximum: p.maximum,
                version: Some(p.version),
                previous: Vec::new(),
            })
            .collect();
        Ok(PolicyIntent {
            id: r.id,
            title: r.title,
            description: r.description,
            check: r.check,
            exclude_platform_namespaces: r.exclude_platform_namespaces,
            azure: r.azure,
            maximum: r.maximum,
            version: r.version,
            previous,
        })
    }
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
    /// Ring → the version of the intent it runs (one the intent file keeps in `previous`);
    /// other rings run the current one.
    #[serde(default)]
    pub version_by_ring: BTreeMap<Id, u32>,
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
