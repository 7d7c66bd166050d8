//! `apps/<app>/app.yaml`: the workload contract.

use serde::Deserialize;

use super::common::{Criticality, Duration, Environment, Id, RegionTarget, string_enum};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct App {
    pub application: Application,
    pub placement: PlacementSpec,
    pub traffic: Traffic,
    #[serde(default)]
    pub runtime: Runtime,
    #[serde(default)]
    pub identity: IdentitySpec,
    #[serde(default)]
    pub data: Option<Data>,
    pub observability: Observability,
    #[serde(default)]
    pub depends_on: Vec<Dependency>,
    #[serde(default)]
    pub gitops: AppGitops,
    #[serde(default)]
    pub chart: Option<Chart>,
    #[serde(default)]
    pub network: Network,
}

/// What the app's NetworkPolicies allow beyond what the contract implies (gateway, DNS,
/// `dependsOn` on the same cluster).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Destinations outside the cluster the app connects to (its database, a cloud API).
    #[serde(default)]
    pub egress: Vec<EgressRule>,
}

/// One destination outside the cluster: an IP range and the TCP ports on it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgressRule {
    pub cidr: String,
    pub ports: Vec<Port>,
    #[serde(default)]
    pub description: Option<String>,
}

/// Kill switches of an app.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppGitops {
    #[serde(default)]
    pub suspend: Option<AppSuspend>,
    #[serde(default)]
    pub drain: Vec<Drain>,
}

/// Stop sync of the app on `clusters` (all when empty).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSuspend {
    pub reason: String,
    #[serde(default)]
    pub clusters: Vec<Id>,
}

/// Take the app out of one cluster, keeping its namespace.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drain {
    pub cluster: Id,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: Id,
    #[serde(default)]
    pub description: Option<String>,
    pub owner: Id,
    pub criticality: Criticality,
    pub image: String,
    pub version: String,
    #[serde(default)]
    pub namespace: Option<Id>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementSpec {
    pub environments: Vec<Environment>,
    pub regions: Vec<RegionTarget>,
    #[serde(default)]
    pub cells: Vec<Id>,
    #[serde(default)]
    pub purposes: Vec<Id>,
    /// Jurisdictions (fleet.yaml `jurisdictions`) the app's data may live in.
    #[serde(default)]
    pub residency: Vec<Id>,
}

string_enum!(Exposure { Public = "public", Internal = "internal", None = "none" });
string_enum!(Routing {
    WeightedGlobal = "weighted-global",
    Latency = "latency",
    Geo = "geo",
    Failover = "failover",
    SingleRegion = "single-region",
});
string_enum!(Failover { Automatic = "automatic", ManualConfirmed = "manual-confirmed", None = "none" });

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Traffic {
    pub exposure: Exposure,
    #[serde(default)]
    pub routing: Option<Routing>,
    #[serde(default)]
    pub failover: Option<Failover>,
    #[serde(default)]
    pub hostnames: Vec<String>,
    #[serde(default)]
    pub port: Option<Port>,
    #[serde(default)]
    pub routing_key: Option<String>,
    /// Shares of global traffic by `provider:region` or cluster id (weighted-global).
    #[serde(default)]
    pub weights: std::collections::BTreeMap<String, u32>,
    #[serde(default)]
    pub health_probe: Option<HealthProbe>,
    /// Traffic kill switches of this app.
    #[serde(default)]
    pub switches: Vec<TrafficSwitch>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthProbe {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub interval: Option<Duration>,
}

/// A cluster or region of an app out of rotation, or at a temporary weight.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrafficSwitch {
    #[serde(default)]
    pub cluster: Option<Id>,
    #[serde(default)]
    pub region: Option<RegionTarget>,
    /// Always `false` when given (the schema allows nothing else).
    #[serde(default)]
    pub in_rotation: Option<bool>,
    #[serde(default)]
    pub weight: Option<u32>,
    pub reason: String,
    #[serde(default)]
    pub expires: Option<String>,
}

/// A TCP port, 1–65535.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u64")]
pub struct Port(pub u16);

impl TryFrom<u64> for Port {
    type Error = String;
    fn try_from(n: u64) -> Result<Self, String> {
        match u16::try_from(n) {
            Ok(p) if p > 0 => Ok(Port(p)),
            _ => Err(format!("{n} is not a port (1-65535)")),
        }
    }
}

/// A replica count, 1–10000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "u64")]
pub struct ReplicaCount(pub u32);

impl TryFrom<u64> for ReplicaCount {
    type Error = String;
    fn try_from(n: u64) -> Result<Self, String> {
        match n {
            1..=10_000 => Ok(ReplicaCount(n as u32)),
            _ => Err(format!("{n} replicas is outside 1-10000")),
        }
    }
}

string_enum!(PodDisruptionBudget { Required = "required", None = "none" });
string_enum!(TopologySpread { Zone = "zone", Hostname = "hostname", None = "none" });

/// Replicas and pod shape; every field may come from fleet.yaml's `defaults.runtime`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Runtime {
    #[serde(default)]
    pub min_replicas_per_region: Option<ReplicaCount>,
    #[serde(default)]
    pub max_replicas_per_region: Option<ReplicaCount>,
    #[serde(default)]
    pub pod_disruption_budget: Option<PodDisruptionBudget>,
    #[serde(default)]
    pub topology_spread: Option<TopologySpread>,
    #[serde(default)]
    pub resources: Option<ResourceSpec>,
    #[serde(default)]
    pub probes: Option<Probes>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceSpec {
    #[serde(default)]
    pub requests: Option<ResourceList>,
    #[serde(default)]
    pub limits: Option<ResourceList>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceList {
    #[serde(default)]
    pub cpu: Option<String>,
    #[serde(default)]
    pub memory: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Probes {
    #[serde(default)]
    pub readiness_path: Option<String>,
    #[serde(default)]
    pub liveness_path: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IdentitySpec {
    #[serde(default)]
    pub cloud_permissions_profile: Option<Id>,
    #[serde(default)]
    pub automount_service_account_token: bool,
}

string_enum!(
    /// Data strategy across regions, from backup-restore (cheapest, slowest) to active-active.
    DataMode {
        BackupRestore = "backup-restore",
        PilotLight = "pilot-light",
        WarmStandby = "warm-standby",
        HotStandby = "hot-standby",
        RegionalPrimaryWithStandby = "regional-primary-with-standby",
        Regional = "regional",
        ActiveActive = "active-active",
        Stateless = "stateless",
    }
);
string_enum!(ConflictResolution {
    LastWriterWins = "last-writer-wins",
    Crdt = "crdt",
    ApplicationMerge = "application-merge",
});

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Data {
    pub mode: DataMode,
    #[serde(default)]
    pub write_regions: Vec<RegionTarget>,
    /// Required unless the mode is `stateless` (the schema says so); 0 there.
    #[serde(default)]
    pub rpo: Duration,
    #[serde(default)]
    pub rto: Duration,
    /// warm-standby: the share of the primary's replicas a standby region runs.
    #[serde(default)]
    pub standby_fraction: Option<f64>,
    #[serde(default)]
    pub conflict_resolution: Option<ConflictResolution>,
    #[serde(default)]
    pub idempotent_writes: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Observability {
    #[serde(default)]
    pub slo: Option<f64>,
    pub telemetry_profile: Id,
}

string_enum!(CallKind { Sync = "sync", Async = "async" });

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    pub service: Id,
    pub call: CallKind,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chart {
    pub repository: String,
    pub name: Id,
    pub version: String,
    #[serde(default)]
    pub convention: ChartConvention,
}

string_enum!(
    /// The values layout a chart reads (see `emit::charts`).
    ChartConvention { HelmCreate = "helm-create", Bitnami = "bitnami" }
);

// string_enum! takes no attributes on variants, so `#[default]` cannot be derived.
#[allow(clippy::derivable_impls)]
impl Default for ChartConvention {
    fn default() -> Self {
        ChartConvention::HelmCreate
    }
}
