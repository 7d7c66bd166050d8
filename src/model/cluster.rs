//! `clusters/<clusterId>.yaml`: the cluster registry.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::common::{Criticality, Environment, GitopsEngine, Id, IdentityMode, Provider, Service, string_enum};

string_enum!(
    /// Whether a cluster serves traffic or waits as a disaster-recovery standby.
    ClusterRole { Active = "active", Standby = "standby" }
);

// string_enum! cannot mark a #[default] variant.
#[allow(clippy::derivable_impls)]
impl Default for ClusterRole {
    fn default() -> Self {
        ClusterRole::Active
    }
}

string_enum!(
    /// The address family of the cluster's pods: IPv4, IPv6 (an EKS cluster created with
    /// `ipFamily: ipv6`), or both (dual-stack).
    IpFamily { Ipv4 = "ipv4", Ipv6 = "ipv6", DualStack = "dual-stack" }
);

#[allow(clippy::derivable_impls)]
impl Default for IpFamily {
    fn default() -> Self {
        IpFamily::Ipv4
    }
}

impl IpFamily {
    /// Whether pods have IPv6 addresses.
    pub fn v6(self) -> bool {
        self != IpFamily::Ipv4
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
    pub cluster_id: Id,
    pub provider: Provider,
    pub service: Service,
    pub region: String,
    pub environment: Environment,
    pub owner_team: Id,
    pub purpose: Id,
    /// Why the cluster exists.
    #[serde(default)]
    pub description: Option<String>,
    pub criticality: Criticality,
    /// The cell (failure domain) the cluster belongs to; required when the `cell` label is.
    #[serde(default)]
    pub cell: Option<Id>,
    /// How many availability zones the nodes span; unknown when `None`.
    #[serde(default)]
    pub zones: Option<u32>,
    #[serde(default)]
    pub role: ClusterRole,
    pub profile: Id,
    pub network_mode: Id,
    /// The address family of its pods (default IPv4).
    #[serde(default)]
    pub ip_family: IpFamily,
    pub identity_mode: IdentityMode,
    pub entrypoint: Id,
    pub observability_profile: Id,
    pub policy_profile: Id,
    pub backup_profile: Id,
    /// The ring: one of fleet.yaml's rings.
    pub upgrade_channel: Id,
    pub kubernetes_version: String,
    #[serde(default)]
    pub addons: BTreeMap<Id, String>,
    /// Controllers the platform team installs (not the provider's add-ons), name → version.
    #[serde(default)]
    pub controllers: BTreeMap<Id, String>,
    /// The upgrade registry: version policy, next window, risk.
    #[serde(default)]
    pub upgrade: Option<Upgrade>,
    pub gitops: Gitops,
    #[serde(default)]
    pub azure: Option<AzureCluster>,
    #[serde(default)]
    pub aws: Option<AwsCluster>,
    /// The cluster as a global origin.
    #[serde(default)]
    pub edge: Option<ClusterEdge>,
}

string_enum!(
    /// AKS's automatic upgrade channel (`autoUpgradeProfile.upgradeChannel`).
    AutoUpgradeChannel { None = "none", Patch = "patch", Stable = "stable", Rapid = "rapid", NodeImage = "node-image" }
);
string_enum!(
    /// The provider's support plan: `standard`, or `extended` (EKS extended support, AKS
    /// long-term support).
    SupportPlan { Standard = "standard", Extended = "extended" }
);
string_enum!(
    /// How safe the next upgrade looks to the platform team.
    UpgradeRisk { Ok = "ok", AtRisk = "at-risk", Blocked = "blocked" }
);

/// `upgrade:` of a cluster: the upgrade registry entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Upgrade {
    #[serde(default)]
    pub auto_upgrade_channel: Option<AutoUpgradeChannel>,
    #[serde(default)]
    pub support_plan: Option<SupportPlan>,
    /// `YYYY-MM-DD`: the first day of the next planned upgrade window.
    #[serde(default)]
    pub next_window: Option<String>,
    #[serde(default)]
    pub risk: Option<UpgradeRisk>,
    #[serde(default)]
    pub risk_note: Option<String>,
}

/// `edge:` of a cluster: its gateway's public host name, and whether it is in rotation.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterEdge {
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub alias_hosted_zone_id: Option<String>,
    #[serde(default = "in_rotation")]
    pub in_rotation: bool,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub expires: Option<String>,
}

fn in_rotation() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Gitops {
    pub engine: GitopsEngine,
    #[serde(default)]
    pub api_server: Option<String>,
    /// Kill switch: stop sync of the whole cluster.
    #[serde(default)]
    pub suspend: Option<KillSwitch>,
}

/// A kill switch that is on, with why.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillSwitch {
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AzureCluster {
    pub subscription_id: String,
    #[serde(default)]
    pub tenant_id: Option<String>,
    pub resource_group: String,
    /// The AKS cluster's name in Azure (default: the cluster id): the scope of its Azure
    /// Policy assignments and exemptions.
    #[serde(default)]
    pub cluster_name: Option<String>,
    #[serde(default)]
    pub key_vault: Option<String>,
    /// The cluster's OIDC issuer (`az aks show --query oidcIssuerProfile.issuerUrl`): the
    /// issuer of the federated identity credentials of the apps' identities.
    #[serde(default)]
    pub oidc_issuer_url: Option<String>,
    /// The regional resources the permission mapping's scopes name (`{serviceBus}` →
    /// `resources.serviceBus`), all in the cluster's resource group.
    #[serde(default)]
    pub resources: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AwsCluster {
    pub account_id: String,
    /// The app secrets live in this region's AWS Secrets Manager (the regional secret store
    /// `read-secret` permissions read from).
    #[serde(default)]
    pub secrets_manager: bool,
    /// The EKS cluster's name in AWS, for Pod Identity associations (default: the cluster id).
    #[serde(default)]
    pub cluster_name: Option<String>,
    /// The cluster's IAM OIDC provider (`oidc.eks.<region>.amazonaws.com/id/<id>`), which an
    /// IRSA role's trust policy names.
    #[serde(default)]
    pub oidc_provider: Option<String>,
    /// The regional resources the permission mapping's ARNs name (`{bucket}` → `resources.bucket`).
    #[serde(default)]
    pub resources: BTreeMap<String, String>,
}
