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
    /// Ring → the release clusters of that ring run instead of `image`/`version`: how a
    /// release walks the rings (the newest at the top, later rings pinned until promoted).
    #[serde(default)]
    pub rings: std::collections::BTreeMap<Id, RingRelease>,
}

/// The image and version the clusters of one ring run.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RingRelease {
    pub image: String,
    pub version: String,
}

/// What one cluster runs of an app: its ring's release, else the contract's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Release<'a> {
    pub image: &'a str,
    pub version: &'a str,
    /// The ring whose entry of `application.rings` this is; `None` for the top-level pair.
    pub ring: Option<&'a str>,
}

impl Release<'_> {
    /// Where `field` (`image` or `version`) of this release is written in the contract.
    pub fn path<'p>(&self, field: &'p str) -> Vec<&'p str>
    where
        Self: 'p,
    {
        match self.ring {
            Some(ring) => vec!["application", "rings", ring, field],
            None => vec!["application", field],
        }
    }
}

impl Application {
    /// The release a cluster of `ring` (its `upgradeChannel`) runs.
    pub fn release(&self, ring: &str) -> Release<'_> {
        match self.rings.iter().find(|(name, _)| name.as_str() == ring) {
            Some((name, r)) => Release {
                image: &r.image,
                version: &r.version,
                ring: Some(name.as_str()),
            },
            None => Release {
                image: &self.image,
                version: &self.version,
                ring: None,
            },
        }
    }

    /// Every distinct image the contract names (the top-level one, then each ring's).
    pub fn images(&self) -> impl Iterator<Item = (&str, Vec<&str>)> {
        std::iter::once((self.image.as_str(), vec!["application", "image"])).chain(
            self.rings
                .iter()
                .map(|(ring, r)| (r.image.as_str(), vec!["application", "rings", ring.as_str(), "image"])),
        )
    }
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
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

#[derive(Clone, Debug, Hash, Deserialize)]
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
