//! `fleet.yaml`: fleet-wide settings.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::app::Runtime;
use super::common::{Duration, Environment, Id, Provider, RegionTarget, string_enum};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Fleet {
    pub name: Id,
    #[serde(default)]
    pub description: Option<String>,
    pub repository: Repository,
    /// Rollout order: a change reaches `rings[0]` first.
    pub rings: Vec<Ring>,
    #[serde(default)]
    pub labels: Labels,
    pub registries: Vec<Registry>,
    #[serde(default)]
    pub policy: FleetPolicy,
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub lint: FleetLint,
    /// The global entry points in front of the regional gateways.
    #[serde(default)]
    pub edge: Edge,
    /// `provider:region` → the jurisdiction its data is under (`placement.residency`).
    #[serde(default)]
    pub jurisdictions: BTreeMap<RegionTarget, Id>,
    #[serde(default)]
    pub network: FleetNetwork,
    /// The incident controls of a bad release, each with why, who and until when.
    #[serde(default)]
    pub switches: IncidentSwitches,
    /// Managed Kubernetes service → the minor versions it supports and until when.
    #[serde(default)]
    pub support: BTreeMap<super::common::Service, Vec<SupportWindow>>,
    /// Capability word → how each cloud grants it: the provider mapping of identity
    /// profiles' `requiredPermissions`.
    #[serde(default)]
    pub permissions: BTreeMap<super::profiles::Capability, PermissionMapping>,
    /// How the CloudFormation templates (Route 53, IAM, Pod Identity) are deployed.
    #[serde(default)]
    pub cloud_formation: Option<CloudFormation>,
}

/// `cloudFormation:`: what the deploy commands of the CloudFormation templates need.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CloudFormation {
    /// The S3 bucket `aws cloudformation deploy --s3-bucket` uploads a template of more than
    /// 51,200 bytes to (CloudFormation takes no larger one inline); `{accountId}` and
    /// `{region}` stand for the stack's.
    pub template_bucket: String,
}

impl CloudFormation {
    /// The bucket of a stack of `account` in `region`; `None` where the name needs one that
    /// is not known (a Route 53 stack's, deployed in the CLI's own region).
    pub fn bucket(&self, account: Option<&str>, region: Option<&str>) -> Option<String> {
        let mut name = self.template_bucket.clone();
        for (key, value) in [("{accountId}", account), ("{region}", region)] {
            if name.contains(key) {
                name = name.replace(key, value?);
            }
        }
        Some(name)
    }
}

/// How the clouds grant one capability. Scopes and ARNs are templates: `{target}` (the
/// permission's target), `{targetName}` (the target with characters other than letters,
/// digits and `-` replaced by `-`, a Key Vault object name), `{region}`, `{subscriptionId}`,
/// `{resourceGroup}`, `{keyVault}`, `{accountId}`, `{clusterName}`, and any key of the cluster's
/// `azure.resources` / `aws.resources`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionMapping {
    #[serde(default)]
    pub azure: Option<AzureGrant>,
    #[serde(default)]
    pub aws: Option<AwsGrant>,
}

/// An Azure built-in (or custom) role assigned at a scope in the cluster's resource group.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AzureGrant {
    /// The role's name, for people (`Key Vault Secrets User`).
    pub role: String,
    /// The role definition's id (a GUID).
    pub role_definition_id: String,
    /// The resource the role is assigned on, relative to the resource group
    /// (`Microsoft.KeyVault/vaults/{keyVault}/secrets/{targetName}`).
    pub scope: String,
}

/// IAM actions on resources, a statement of the app role's policy.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsGrant {
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// An IAM condition block (operator → key → value), for grants an ARN cannot narrow
    /// (a KMS key by alias).
    #[serde(default)]
    pub condition: BTreeMap<String, BTreeMap<String, String>>,
}

/// One minor version of a managed service and the last day of its support.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SupportWindow {
    /// `1.34`.
    pub version: String,
    /// The last day of standard support.
    pub end: String,
    /// The last day of extended support (EKS) or long-term support (AKS), for clusters on
    /// the extended plan.
    #[serde(default)]
    pub extended_end: Option<String>,
}

/// `switches:`: fleet-wide kill switches for a bad release. Each holds until its `expires`
/// date (the last day it holds); past it, every run fails until it is renewed or removed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IncidentSwitches {
    /// Stop GitOps sync of every app, on the clusters of `rings` (all when empty).
    #[serde(default)]
    pub freeze: Vec<Freeze>,
    /// Image digests no cluster may run.
    #[serde(default)]
    pub block_images: Vec<BlockImage>,
    /// An app at zero replicas on named clusters, without deleting it.
    #[serde(default)]
    pub scale_down: Vec<ScaleDown>,
    /// A policy intent that audits instead of denying, everywhere, until a date.
    #[serde(default)]
    pub audit_only: Vec<AuditOnly>,
    /// An app's cloud identity taken away on named clusters (all when empty): no identity
    /// annotations or label, no secrets mounted.
    #[serde(default)]
    pub revoke_identity: Vec<RevokeIdentity>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeIdentity {
    pub app: Id,
    #[serde(default)]
    pub clusters: Vec<Id>,
    pub reason: String,
    pub owner: Id,
    #[serde(default)]
    pub expires: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    #[serde(default)]
    pub rings: Vec<Id>,
    pub reason: String,
    pub owner: Id,
    #[serde(default)]
    pub expires: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockImage {
    /// `sha256:<64 hex>`.
    pub digest: String,
    pub reason: String,
    pub owner: Id,
    #[serde(default)]
    pub expires: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleDown {
    pub app: Id,
    pub clusters: Vec<Id>,
    pub reason: String,
    pub owner: Id,
    #[serde(default)]
    pub expires: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditOnly {
    pub intent: Id,
    pub reason: String,
    pub owner: Id,
    /// Required: enforcement comes back on its own after this day.
    pub expires: String,
}

/// Network isolation of every app.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FleetNetwork {
    /// Render each app's default-deny NetworkPolicy and the allows its contract implies.
    #[serde(default = "yes")]
    pub policies: bool,
}

fn yes() -> bool {
    true
}

impl Default for FleetNetwork {
    fn default() -> Self {
        FleetNetwork { policies: true }
    }
}

impl Fleet {
    /// The jurisdiction of a `provider:region`, if the table names it.
    pub fn jurisdiction_of(&self, region: &str) -> Option<&Id> {
        self.jurisdictions
            .iter()
            .find(|(r, _)| r.to_string() == region)
            .map(|(_, j)| j)
    }
}

/// `edge:`: Front Door profiles, Route 53 hosted zones, and regions out of rotation.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Edge {
    #[serde(default)]
    pub front_door: Vec<FrontDoorProfile>,
    #[serde(default)]
    pub route53: Vec<HostedZone>,
    #[serde(default)]
    pub out_of_rotation: Vec<RegionSwitch>,
}

string_enum!(FrontDoorSku { Standard = "standard", Premium = "premium" });

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FrontDoorProfile {
    pub name: Id,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub subscription_id: Option<String>,
    pub resource_group: String,
    pub endpoint: String,
    #[serde(default)]
    pub sku: Option<FrontDoorSku>,
    #[serde(default)]
    pub environment: Option<Environment>,
    pub domains: Vec<String>,
    #[serde(default)]
    pub waf_policy_id: Option<String>,
    #[serde(default)]
    pub lock_origins: bool,
    #[serde(default)]
    pub front_door_id: Option<String>,
    #[serde(default)]
    pub health_probe: Option<ProbeDefaults>,
    #[serde(default)]
    pub load_balancing: Option<LoadBalancing>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeDefaults {
    #[serde(default)]
    pub interval: Option<Duration>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoadBalancing {
    #[serde(default)]
    pub sample_size: Option<u32>,
    #[serde(default)]
    pub successful_samples_required: Option<u32>,
    /// `50ms`, `0s`, `1s`: milliseconds, 0–1000.
    #[serde(default)]
    pub additional_latency: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostedZone {
    pub name: String,
    pub zone_id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub environment: Option<Environment>,
    #[serde(default)]
    pub ttl: Option<Duration>,
    #[serde(default)]
    pub health_check: Option<HealthCheckDefaults>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HealthCheckDefaults {
    #[serde(default)]
    pub interval: Option<Duration>,
    #[serde(default)]
    pub failure_threshold: Option<u32>,
}

/// A region out of global traffic for every app.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSwitch {
    pub region: RegionTarget,
    pub reason: String,
    #[serde(default)]
    pub expires: Option<String>,
}

/// Settings of `fleetgen lint`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FleetLint {
    /// Rule (code or name) → level; the rest keep their default.
    #[serde(default)]
    pub severity: BTreeMap<String, LintLevel>,
    /// The shortest RPO/RTO each data mode can promise, by mode as fleet.yaml spells it.
    #[serde(default)]
    pub data_modes: BTreeMap<String, ModeLimits>,
}

string_enum!(LintLevel { Error = "error", Warning = "warning", Off = "off" });

#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeLimits {
    #[serde(default)]
    pub rpo: Option<Duration>,
    #[serde(default)]
    pub rto: Option<Duration>,
}

/// How policy outputs are laid out.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FleetPolicy {
    /// Write assignments that every AKS cluster of a subscription shares once, at
    /// subscription scope.
    #[serde(default)]
    pub hoist_azure_assignments: bool,
    /// Where the subscription-scope stacks keep their metadata (it cannot change once a
    /// stack exists; the schema requires it with hoisting).
    #[serde(default)]
    pub azure_stack_location: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repository {
    pub url: String,
    #[serde(default = "default_branch")]
    pub branch: String,
    #[serde(default)]
    pub auth: Option<SourceAuth>,
    /// The fleet's folder in the repository when it is not the top (`infra/fleet` in a
    /// monorepo): the engines' paths start there.
    #[serde(default)]
    pub path: Option<String>,
}

/// How a GitOps engine authenticates to a private source: a Secret, or a platform identity.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "AuthFields")]
pub enum SourceAuth {
    SecretRef(Id),
    Provider(AuthProvider),
    /// `provider: github` with the Secret holding the GitHub App's id, installation id and
    /// private key: source-controller refuses the provider without it.
    GithubApp(Id),
}

/// `auth` as written: one of the two, or both for a GitHub App (the schema says which;
/// `provider: github` alone is FG035, in `resolve::sources`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AuthFields {
    #[serde(default)]
    secret_ref: Option<Id>,
    #[serde(default)]
    provider: Option<AuthProvider>,
}

impl TryFrom<AuthFields> for SourceAuth {
    type Error = &'static str;

    fn try_from(fields: AuthFields) -> Result<Self, Self::Error> {
        match (fields.secret_ref, fields.provider) {
            (Some(secret), None) => Ok(SourceAuth::SecretRef(secret)),
            (None, Some(provider)) => Ok(SourceAuth::Provider(provider)),
            (Some(secret), Some(AuthProvider::Github)) => Ok(SourceAuth::GithubApp(secret)),
            (Some(_), Some(_)) => Err("`secretRef` goes with `provider` only for `github`"),
            (None, None) => Err("`auth` needs `secretRef` or `provider`"),
        }
    }
}

string_enum!(
    /// A platform identity a source controller can authenticate with.
    AuthProvider { Azure = "azure", Aws = "aws", Github = "github" }
);

fn default_branch() -> String {
    "main".to_string()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ring {
    pub name: Id,
    #[serde(default)]
    pub description: Option<String>,
}

/// The telemetry label dimensions fleetgen knows how to fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelDimension {
    Cluster,
    Provider,
    Region,
    Environment,
    Namespace,
    Service,
    Version,
    Team,
    Criticality,
    Cell,
    /// The cluster's `ownerTeam`: who is paged for the cluster.
    #[serde(rename = "cluster-owner")]
    ClusterOwner,
}

impl LabelDimension {
    /// The dimension as fleet.yaml spells it, which is also the label's name after the prefix.
    pub fn as_str(self) -> &'static str {
        match self {
            LabelDimension::Cluster => "cluster",
            LabelDimension::Provider => "provider",
            LabelDimension::Region => "region",
            LabelDimension::Environment => "environment",
            LabelDimension::Namespace => "namespace",
            LabelDimension::Service => "service",
            LabelDimension::Version => "version",
            LabelDimension::Team => "team",
            LabelDimension::Criticality => "criticality",
            LabelDimension::Cell => "cell",
            LabelDimension::ClusterOwner => "cluster-owner",
        }
    }

    /// The ten that are required by default; `cluster-owner` only where the fleet asks.
    pub const ALL: [LabelDimension; 10] = [
        LabelDimension::Cluster,
        LabelDimension::Provider,
        LabelDimension::Region,
        LabelDimension::Environment,
        LabelDimension::Namespace,
        LabelDimension::Service,
        LabelDimension::Version,
        LabelDimension::Team,
        LabelDimension::Criticality,
        LabelDimension::Cell,
    ];
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    #[serde(default)]
    pub prefix: String,
    #[serde(default = "all_dimensions")]
    pub required: Vec<LabelDimension>,
}

fn all_dimensions() -> Vec<LabelDimension> {
    LabelDimension::ALL.to_vec()
}

impl Default for Labels {
    fn default() -> Self {
        Labels {
            prefix: String::new(),
            required: all_dimensions(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Registry {
    pub name: Id,
    pub host: String,
    #[serde(default)]
    pub provider: Option<Provider>,
    pub replica_regions: Vec<RegionTarget>,
    #[serde(default)]
    pub auth: Option<SourceAuth>,
}

impl Registry {
    /// An Amazon ECR private registry's host (`<account>.dkr.ecr.<region>.amazonaws.com`)
    /// split around its region: a registry of one account and region, whose replicas are the
    /// same account's registries in other regions, each with a host of its own.
    fn ecr_parts(&self) -> Option<(&str, &str, &str)> {
        let (account, rest) = self.host.split_once(".dkr.ecr.")?;
        let (region, domain) = rest.split_once('.')?;
        let domain_ok = matches!(domain, "amazonaws.com" | "amazonaws.com.cn");
        (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && domain_ok && !region.is_empty())
            .then_some((account, region, domain))
    }

    /// The host a cluster in `region` (of `provider`) pulls this registry's images from: the
    /// registry's own, except for an ECR registry replicated there (`replicaRegions`), whose
    /// replica in that region has a host of its own.
    pub fn host_in(&self, provider: Provider, region: &str) -> std::borrow::Cow<'_, str> {
        match self.ecr_parts() {
            Some((account, home, domain))
                if provider == Provider::Aws
                    && home != region
                    && self
                        .replica_regions
                        .iter()
                        .any(|r| r.provider == provider && r.region == region) =>
            {
                format!("{account}.dkr.ecr.{region}.{domain}").into()
            }
            _ => self.host.as_str().into(),
        }
    }
}

impl Fleet {
    /// The image a cluster in `region` (of `provider`) pulls for `image`: from its registry's
    /// replica there when that replica has a host of its own (ECR), else `image` itself.
    pub fn image_in<'i>(&self, image: &'i str, provider: Provider, region: &str) -> std::borrow::Cow<'i, str> {
        let found = self.registries.iter().find_map(|r| {
            let rest = image.strip_prefix(r.host.as_str())?.strip_prefix('/')?;
            Some((r, rest))
        });
        match found {
            Some((registry, rest)) => match registry.host_in(provider, region) {
                std::borrow::Cow::Owned(host) => format!("{host}/{rest}").into(),
                std::borrow::Cow::Borrowed(_) => image.into(),
            },
            None => image.into(),
        }
    }

    /// The registry whose host serves `url` (`oci://host/…`, `https://host/…`), if any.
    pub fn registry_of(&self, url: &str) -> Option<&Registry> {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let host = rest.split('/').next().unwrap_or(rest);
        self.registries.iter().find(|r| r.host == host)
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default)]
    pub runtime: Runtime,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(host: &str, replicas: &[&str]) -> Registry {
        Registry {
            name: Id::try_from("r".to_string()).unwrap(),
            host: host.to_string(),
            provider: None,
            replica_regions: replicas
                .iter()
                .map(|r| RegionTarget::try_from(r.to_string()).unwrap())
                .collect(),
            auth: None,
        }
    }

    /// An ECR registry's replicas are the same account's registries in other regions, each
    /// with a host of its own (replication keeps the repository and digest): a cluster pulls
    /// from the one in its region where `replicaRegions` has it, else from the home host.
    /// A registry with one login server for every region (ACR, Harbor) keeps its host.
    #[test]
    fn an_ecr_replica_is_pulled_from_the_clusters_region() {
        let ecr = registry(
            "111122223333.dkr.ecr.us-east-1.amazonaws.com",
            &["aws:us-east-1", "aws:eu-west-1"],
        );
        assert_eq!(
            ecr.host_in(Provider::Aws, "eu-west-1"),
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com"
        );
        assert_eq!(ecr.host_in(Provider::Aws, "us-east-1"), ecr.host);
        assert_eq!(
            ecr.host_in(Provider::Aws, "ap-south-1"),
            ecr.host,
            "not replicated there"
        );
        let china = registry(
            "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn",
            &["aws:cn-northwest-1"],
        );
        assert_eq!(
            china.host_in(Provider::Aws, "cn-northwest-1"),
            "111122223333.dkr.ecr.cn-northwest-1.amazonaws.com.cn"
        );
        for host in [
            "contosofleet.azurecr.io",
            "registry.contoso.io",
            "12345.dkr.ecr.eu-west-1.amazonaws.com",
        ] {
            let one = registry(host, &["aws:eu-west-1", "azure:westeurope"]);
            assert_eq!(one.host_in(Provider::Aws, "eu-west-1"), host);
        }
        let mut fleet: Fleet = serde_saphyr::from_str(
            "name: f\nrepository: {url: https://example.com/f.git}\nrings: [{name: prod}]\nregistries: []\n",
        )
        .unwrap();
        fleet.registries = vec![ecr];
        let image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/catalog/worker@sha256:00";
        assert_eq!(
            fleet.image_in(image, Provider::Aws, "eu-west-1"),
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com/catalog/worker@sha256:00"
        );
        assert_eq!(fleet.image_in(image, Provider::Aws, "us-east-1"), image);
        let elsewhere = "111122223333.dkr.ecr.us-east-1.amazonaws.com.evil.io/x:1";
        assert_eq!(fleet.image_in(elsewhere, Provider::Aws, "eu-west-1"), elsewhere);
    }
}
