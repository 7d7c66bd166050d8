//! `profiles/<kind>/<name>.yaml`: what clusters and apps name instead of repeating.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::common::{Duration, Environment, Id, IdentityMode, Provider, Service, string_enum};

/// Fixes fields that every cluster naming this profile must match.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterProfile {
    pub name: Id,
    #[serde(default)]
    pub description: Option<String>,
    pub provider: Provider,
    pub service: Service,
    pub network_mode: Id,
    pub identity_mode: IdentityMode,
    pub entrypoint: Id,
    #[serde(default)]
    pub observability_profile: Option<Id>,
    #[serde(default)]
    pub policy_profile: Option<Id>,
    #[serde(default)]
    pub backup_profile: Option<Id>,
    #[serde(default)]
    pub environments: Vec<Environment>,
    #[serde(default)]
    pub gateway: Option<GatewayRef>,
    #[serde(default)]
    pub platform_namespaces: Vec<Id>,
}

#[derive(Clone, Debug, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct GatewayRef {
    pub name: Id,
    pub namespace: Id,
    /// The listener routes attach to (their `sectionName`): the Gateway's HTTPS listener.
    #[serde(default)]
    pub listener: Option<String>,
    /// Where the gateway's proxies connect to pods from, when they run outside the cluster
    /// (CIDRs); without it, from the namespace of its in-cluster proxy pods.
    #[serde(default)]
    pub source_ranges: Vec<String>,
    /// The namespace an in-cluster gateway's proxy pods run in, when not the Gateway's own
    /// (Envoy Gateway by default runs them in its controller's namespace).
    #[serde(default)]
    pub proxy_namespace: Option<Id>,
}

impl GatewayRef {
    /// The namespace of the in-cluster proxy pods, which the apps' NetworkPolicies admit.
    pub fn proxies_namespace(&self) -> &str {
        self.proxy_namespace.as_ref().unwrap_or(&self.namespace).as_str()
    }
}

string_enum!(MetricsBackend {
    AzureMonitorPrometheus = "azure-monitor-prometheus",
    AmazonManagedPrometheus = "amazon-managed-prometheus",
    Prometheus = "prometheus",
});
string_enum!(LogsBackend { AzureMonitorLogs = "azure-monitor-logs", CloudwatchLogs = "cloudwatch-logs", Loki = "loki" });
string_enum!(TracesBackend { ApplicationInsights = "application-insights", XRay = "x-ray", Otlp = "otlp" });

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservabilityProfile {
    pub name: Id,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub provider: Option<Provider>,
    pub metrics: Metrics,
    pub logs: Logs,
    #[serde(default)]
    pub traces: Option<Traces>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metrics {
    pub backend: MetricsBackend,
    pub scrape_interval: Duration,
    /// What scrapes the apps' metrics ports (the schema requires it except with Azure
    /// Monitor, whose add-on is the default: [`Metrics::scraper`]).
    #[serde(default)]
    pub scraper: Option<Scraper>,
}

impl Metrics {
    /// What scrapes the apps' metrics ports: the profile's scraper, or Azure Monitor's
    /// metrics add-on, whose replica (pods `rsName: ama-metrics` in kube-system) runs the
    /// scrape jobs of pod annotations (its per-node DaemonSet scrapes only the default
    /// targets).
    pub fn scraper(&self) -> Option<std::borrow::Cow<'_, Scraper>> {
        match (&self.scraper, self.backend) {
            (Some(s), _) => Some(std::borrow::Cow::Borrowed(s)),
            (None, MetricsBackend::AzureMonitorPrometheus) => Some(std::borrow::Cow::Owned(Scraper {
                namespace: Some(crate::kube::KUBE_SYSTEM.to_string()),
                pod_selector: BTreeMap::from([("rsName".to_string(), "ama-metrics".to_string())]),
                source_ranges: Vec::new(),
            })),
            (None, _) => None,
        }
    }
}

/// Where an app's metrics port is scraped from: pods in the cluster (a namespace, and the
/// labels of its pods) or addresses outside it (CIDRs).
#[derive(Clone, Debug, Hash, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scraper {
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub pod_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub source_ranges: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logs {
    pub backend: LogsBackend,
    pub retention: Duration,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Traces {
    pub backend: TracesBackend,
    #[serde(default)]
    pub sample_ratio: Option<f64>,
}

string_enum!(BackupTool { AzureBackup = "azure-backup", AwsBackup = "aws-backup", Velero = "velero" });

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupProfile {
    pub name: Id,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub provider: Option<Provider>,
    pub tool: BackupTool,
    pub schedule: String,
    pub retention: Duration,
    pub rpo: Duration,
}

/// Cloud permissions of a workload; per-cluster values are derived from it and the cluster.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityProfile {
    pub name: Id,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub azure: Option<AzureIdentity>,
    #[serde(default)]
    pub aws: Option<AwsIdentity>,
    /// What the workload needs, in capability words (`read-secret: orders/db-credentials`),
    /// not in the cloud's terms.
    #[serde(default, rename = "requiredPermissions")]
    pub required_permissions: Vec<Permission>,
    /// An environment's own cloud identity, in place of `azure` or `aws` on its clusters.
    #[serde(default)]
    pub environments: BTreeMap<crate::model::Environment, EnvironmentIdentity>,
}

/// An environment's own cloud identity (`environments.<env>` of an identity profile).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentIdentity {
    #[serde(default)]
    pub azure: Option<AzureIdentity>,
    #[serde(default)]
    pub aws: Option<AwsIdentity>,
}

impl IdentityProfile {
    /// The Azure identity of the profile's apps on clusters of `env` (the environment's own,
    /// else the profile's), with its path in the file.
    pub fn azure_in(&self, env: crate::model::Environment) -> (Option<&AzureIdentity>, Vec<&'static str>) {
        match self.environments.get(&env).and_then(|e| e.azure.as_ref()) {
            Some(own) => (Some(own), vec!["environments", env.as_str(), "azure"]),
            None => (self.azure.as_ref(), vec!["azure"]),
        }
    }

    /// The IAM role of the profile's apps on clusters of `env`, with its path in the file.
    pub fn aws_in(&self, env: crate::model::Environment) -> (Option<&AwsIdentity>, Vec<&'static str>) {
        match self.environments.get(&env).and_then(|e| e.aws.as_ref()) {
            Some(own) => (Some(own), vec!["environments", env.as_str(), "aws"]),
            None => (self.aws.as_ref(), vec!["aws"]),
        }
    }

    /// The path of the managed identity named `name` in the file: an environment's own
    /// (`environments.<env>.azure`), else the profile's `azure`.
    pub fn azure_path_of(&self, name: &str) -> Vec<&'static str> {
        self.environments
            .iter()
            .find(|(_, e)| e.azure.as_ref().and_then(|a| a.name.as_deref()) == Some(name))
            .map_or_else(|| vec!["azure"], |(env, _)| vec!["environments", env.as_str(), "azure"])
    }

    /// The path of the IAM role named `role` in the file, as [`Self::azure_path_of`].
    pub fn aws_path_of(&self, role: &str) -> Vec<&'static str> {
        self.environments
            .iter()
            .find(|(_, e)| e.aws.as_ref().is_some_and(|a| a.role_name == role))
            .map_or_else(|| vec!["aws"], |(env, _)| vec!["environments", env.as_str(), "aws"])
    }
}

/// `path` with `field` after it, for a span.
pub fn field_path<'p>(path: &[&'p str], field: &'p str) -> Vec<&'p str> {
    let mut out = path.to_vec();
    out.push(field);
    out
}

string_enum!(
    /// A capability a workload needs. Each maps (fleet.yaml `permissions`) to a cloud role or
    /// IAM actions on a regional resource; `read-secret` also mounts the secret through a
    /// SecretProviderClass on the cluster's regional store.
    Capability {
        ReadSecret = "read-secret",
        PublishEvent = "publish-event",
        ConsumeEvent = "consume-event",
        ReadObject = "read-object",
        WriteObject = "write-object",
        UseKey = "use-key",
    }
);

/// One required permission: a capability and its target (`read-secret: orders/db-credentials`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "BTreeMap<String, String>")]
pub struct Permission {
    pub capability: Capability,
    pub target: String,
}

impl TryFrom<BTreeMap<String, String>> for Permission {
    type Error = String;
    fn try_from(map: BTreeMap<String, String>) -> Result<Self, String> {
        let mut entries = map.into_iter();
        match (entries.next(), entries.next()) {
            (Some((capability, target)), None) => {
                let Some(capability) = Capability::ALL.iter().copied().find(|c| c.as_str() == capability) else {
                    let words: Vec<&str> = Capability::ALL.iter().map(|c| c.as_str()).collect();
                    return Err(format!(
                        "`{capability}` is not a capability word ({})",
                        words.join(", ")
                    ));
                };
                if target.is_empty() {
                    return Err("a permission names its target".into());
                }
                Ok(Permission { capability, target })
            }
            _ => Err("a permission is one `capability: target` pair".into()),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AzureIdentity {
    pub client_id: String,
    /// The user-assigned managed identity's resource: fleetgen adds a federated credential
    /// per AKS cluster to it and grants its role assignments to it.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub resource_group: Option<String>,
    #[serde(default)]
    pub subscription_id: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AwsIdentity {
    pub role_name: String,
}

#[derive(Clone, Debug, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryProfile {
    pub name: Id,
    #[serde(default)]
    pub description: Option<String>,
    pub metrics: AppMetrics,
    #[serde(default)]
    pub tracing: Option<Tracing>,
    pub logs: AppLogs,
}

#[derive(Clone, Debug, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppMetrics {
    #[serde(default)]
    pub port: Option<super::app::Port>,
    pub path: String,
}

#[derive(Clone, Debug, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tracing {
    pub enabled: bool,
}

string_enum!(LogFormat { Json = "json", Text = "text" });

#[derive(Clone, Debug, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppLogs {
    pub format: LogFormat,
}
