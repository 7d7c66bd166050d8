//! Chart conventions: which values a chart reads, so that the values fleetgen derives from
//! the contract are ones the chart really uses, never repeat the labels the chart sets
//! itself, keep the image pinned, and so that fleetgen knows the Service the chart makes (for
//! the route) and the kinds it renders (for the Argo CD project).
//!
//! - `helm-create`: the layout `helm create` scaffolds (helm v3/v4 `pkg/chart…/create.go`):
//!   `image.repository` + `image.tag` rendered as `repository:tag`, so a digest rides in the
//!   tag (`<version>@sha256:…`); labels from `_helpers.tpl` (`app.kubernetes.io/name`,
//!   `instance`, `version`, `managed-by`, `helm.sh/chart`) with `podLabels` pasted after
//!   them as text (a repeated key would be a duplicate YAML key); no PodDisruptionBudget and
//!   no topology spread of its own, so fleetgen renders the PodDisruptionBudget beside the
//!   chart and spreads by `affinity`.
//! - `bitnami`: Bitnami's `common` library: `image.registry`/`repository`/`digest` (a
//!   digest replaces the tag), `commonLabels` and `podLabels` merged as maps,
//!   `topologySpreadConstraints`, `pdb`, `containerPorts`, `service.ports`.
//!
//! Both name their Service `<release>` when the release name contains the chart's name, else
//! `<release>-<chart>`, and select pods by `app.kubernetes.io/name: <chart>` and
//! `app.kubernetes.io/instance: <release>`; the release is the app.

use serde_json::json;

use super::values::{self, Tree};
use crate::kube::{GroupKind, ImageRef};
use crate::model::app::{Chart, ChartConvention};
use crate::resolve::plan::{Origin, Placement, Resources};

/// Label keys a chart sets on its objects itself: fleetgen never sets them again.
const CHART_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
];

/// The chart of a placement, if it is deployed by one.
fn chart<'p>(p: &'p Placement) -> Option<&'p Chart> {
    p.app.value.chart.as_ref()
}

/// The labels the chart selects its pods by.
pub fn selector(chart: &Chart, release: &str) -> Vec<(String, String)> {
    vec![
        ("app.kubernetes.io/instance".to_string(), release.to_string()),
        ("app.kubernetes.io/name".to_string(), chart.name.to_string()),
    ]
}

/// The name of the Service (and Deployment) the chart makes: its `fullname`.
pub fn fullname(chart: &Chart, release: &str) -> String {
    let name = if release.contains(chart.name.as_str()) {
        release.to_string()
    } else {
        format!("{release}-{}", chart.name)
    };
    let cut: String = name.chars().take(63).collect();
    cut.trim_end_matches('-').to_string()
}

/// The built-in templates a chart app gets besides the chart: its namespace, route, network
/// policies and SecretProviderClass, and under `helm-create` the PodDisruptionBudget the
/// chart does not make.
pub fn builtins(convention: ChartConvention) -> &'static [&'static str] {
    match convention {
        ChartConvention::HelmCreate => &[
            "namespace.yaml.j2",
            "poddisruptionbudget.yaml.j2",
            "httproute.yaml.j2",
            "networkpolicy.yaml.j2",
            "secretproviderclass.yaml.j2",
        ],
        ChartConvention::Bitnami => &[
            "namespace.yaml.j2",
            "httproute.yaml.j2",
            "networkpolicy.yaml.j2",
            "secretproviderclass.yaml.j2",
        ],
    }
}

/// The value lists of the Deployment's extra volumes and mounts under a convention.
fn secrets_keys(convention: ChartConvention) -> (&'static str, &'static str) {
    match convention {
        ChartConvention::HelmCreate => ("volumes", "volumeMounts"),
        ChartConvention::Bitnami => ("extraVolumes", "extraVolumeMounts"),
    }
}

/// The derived lists that add to what the values files list instead of replacing it.
pub const APPENDED: &[&str] = &["volumes", "volumeMounts", "extraVolumes", "extraVolumeMounts"];

/// The name of the CSI volume of the app's secrets (`read-secret`) that fleetgen adds to the
/// chart's Deployment.
pub const SECRETS_VOLUME: &str = "secrets-store";

/// What of the values files' own volumes and mounts Kubernetes refuses beside the secrets
/// volume and mount fleetgen appends to them (the chart pastes the lists into its Deployment
/// as they are): a volume of the same name (`volumes[…].name: Duplicate value`) and a mount
/// at the same path (`volumeMounts[…].mountPath: must be unique`; one spelt otherwise,
/// `/mnt/secrets/`, passes but hides the secrets or is hidden by them). Each as (problem,
/// label text, help, where the values file sets it); none when the app reads no secret.
pub fn secrets_collisions(p: &Placement, tree: &Tree) -> Vec<(String, &'static str, String, Origin)> {
    let Some(chart) = chart(p) else { return Vec::new() };
    if p.identity.secrets.is_none() {
        return Vec::new();
    }
    let (volumes, mounts) = secrets_keys(chart.convention);
    // The values files' items are mappings; fleetgen's own is one leaf.
    let texts = |list: &str, field: &str| -> Vec<(String, Origin)> {
        match tree.get(&[list]) {
            Some(Tree::Seq(items, _)) => (items.iter())
                .filter_map(|item| item.get(&[field])?.leaf_value())
                .filter_map(|(v, o)| Some((v.as_str()?.to_string(), o)))
                .collect(),
            _ => Vec::new(),
        }
    };
    let segments = |path: &str| -> Vec<String> {
        (path.split('/'))
            .filter(|s| !s.is_empty() && *s != ".")
            .map(str::to_string)
            .collect()
    };
    let mount_path = super::context::SECRETS_MOUNT_PATH;
    let mut out = Vec::new();
    for (name, at) in texts(volumes, "name") {
        if name == SECRETS_VOLUME {
            out.push((
                format!(
                    "`{volumes}` of `{}` has a volume named `{name}`, the name of the volume fleetgen adds for its secrets (`read-secret`): Kubernetes refuses a pod with two volumes of one name",
                    p.app_name()
                ),
                "the name of fleetgen's secrets volume",
                "rename this volume and the mounts that name it".to_string(),
                at,
            ));
        }
    }
    for (path, at) in texts(mounts, "mountPath") {
        if path.starts_with('/') && segments(&path) == segments(mount_path) {
            out.push((
                format!(
                    "`{mounts}` of `{}` mounts a volume at `{path}`, where fleetgen mounts its secrets (`read-secret`): Kubernetes refuses two mounts at one path, and spelt otherwise one hides the other",
                    p.app_name()
                ),
                "where fleetgen mounts the secrets",
                format!("mount it elsewhere: the secrets are the files of `{mount_path}`"),
                at,
            ));
        }
    }
    out
}

/// The kinds the chart can render under its convention, whatever the values switch on or
/// off: what the engine may apply from the chart source, so what an Argo CD project must
/// permit. A project that stopped permitting a kind when a value turned it off would hide
/// the live objects of that kind from Argo CD, which then never prunes them (its
/// controller drops the live objects of kinds the project does not permit before comparing);
/// and the chart's own defaults may turn on what fleetgen's values leave unset.
pub fn kinds(p: &Placement) -> Vec<GroupKind> {
    let Some(chart) = chart(p) else { return Vec::new() };
    let mut kinds = vec![
        ("apps", "Deployment"),
        ("", "Service"),
        ("", "ServiceAccount"),
        ("autoscaling", "HorizontalPodAutoscaler"),
        ("networking.k8s.io", "Ingress"),
    ];
    match chart.convention {
        ChartConvention::HelmCreate => kinds.push(("gateway.networking.k8s.io", "HTTPRoute")),
        ChartConvention::Bitnami => kinds.extend([
            ("policy", "PodDisruptionBudget"),
            ("networking.k8s.io", "NetworkPolicy"),
            ("", "ConfigMap"),
        ]),
    }
    kinds
        .into_iter()
        .map(|(group, kind)| GroupKind {
            group: group.to_string(),
            kind: kind.to_string(),
        })
        .collect()
}

/// The image a chart runs, read back from its merged values as its templates build it.
pub struct ChartImage {
    /// As the container runtime reads it (`<appVersion>` where the chart would fill in its own).
    pub image: String,
    /// The value that decided how it is pinned (the tag or digest), or its repository.
    pub pinned_at: Origin,
    /// The value that decided its registry.
    pub registry_at: Origin,
}

/// The image the chart runs with these values.
pub fn image(p: &Placement, values: &Tree) -> Option<ChartImage> {
    let chart = chart(p)?;
    let leaf = |path: &[&str]| values.get(path).and_then(Tree::leaf_value);
    let text =
        |path: &[&str]| leaf(path).and_then(|(v, o)| v.as_str().filter(|s| !s.is_empty()).map(|s| (s.to_string(), o)));
    let (repository, repository_at) = text(&["image", "repository"])?;
    Some(match chart.convention {
        ChartConvention::HelmCreate => {
            // `repository:tag`; an absent tag becomes the chart's appVersion, which nothing pins.
            let (image, pinned_at) = match text(&["image", "tag"]) {
                Some((tag, at)) => (format!("{repository}:{tag}"), at),
                None => (format!("{repository}:<appVersion>"), repository_at.clone()),
            };
            ChartImage {
                image,
                pinned_at,
                registry_at: repository_at,
            }
        }
        ChartConvention::Bitnami => {
            // `global.imageRegistry`, when set, wins over `image.registry` (common.images.image).
            let (name, registry_at) = match text(&["global", "imageRegistry"]).or_else(|| text(&["image", "registry"]))
            {
                Some((registry, at)) => (format!("{registry}/{repository}"), at),
                None => (repository, repository_at.clone()),
            };
            // A digest replaces the tag.
            let (image, pinned_at) = match (text(&["image", "digest"]), text(&["image", "tag"])) {
                (Some((digest, at)), _) => (format!("{name}@{digest}"), at),
                (None, Some((tag, at))) => (format!("{name}:{tag}"), at),
                (None, None) => (format!("{name}:<appVersion>"), repository_at),
            };
            ChartImage {
                image,
                pinned_at,
                registry_at,
            }
        }
    })
}

fn resource_list(list: &Resources) -> Tree {
    let mut entries = Vec::new();
    for (name, v) in [("cpu", &list.cpu), ("memory", &list.memory)] {
        if let Some(v) = v {
            entries.push((name, Tree::leaf(json!(v.value), &v.origin)));
        }
    }
    Tree::map(entries, &Origin::Default("set by fleetgen"))
}

/// What fleetgen derives from the contract and the cluster, in the keys the chart's
/// convention reads.
pub fn derived(p: &Placement) -> Tree {
    let Some(chart) = chart(p) else {
        return Tree::map(Vec::new(), &Origin::Default("no chart"));
    };
    let app = &p.app.value;
    let at_app = |path: &[&str]| Origin::Source(p.app.file, p.app.span(path));
    let fixed = Origin::Default("set by fleetgen");
    let r = &p.replicas;
    let convention = chart.convention;
    // An incident scale-down (fleet.yaml `switches.scaleDown`): 0 replicas, no autoscaling.
    let scaled = Origin::Default("incident switch: scaled down");
    let mut top: Vec<(&str, Tree)> = match p.scaled_down {
        Some(_) => vec![("replicaCount", Tree::leaf(json!(0), &scaled))],
        None => vec![("replicaCount", Tree::leaf(json!(r.min), &r.min_origin))],
    };
    let target_cpu = match convention {
        ChartConvention::HelmCreate => "targetCPUUtilizationPercentage",
        ChartConvention::Bitnami => "targetCPU",
    };
    let hpa = || {
        vec![
            match p.scaled_down {
                Some(_) => ("enabled", Tree::leaf(json!(false), &scaled)),
                None => ("enabled", Tree::leaf(json!(true), &fixed)),
            },
            ("minReplicas", Tree::leaf(json!(r.min), &r.min_origin)),
            ("maxReplicas", Tree::leaf(json!(r.max), &r.max_origin)),
            (target_cpu, Tree::leaf(json!(70), &fixed)),
        ]
    };
    let mut autoscaling = hpa();
    if convention == ChartConvention::Bitnami {
        // Bitnami charts read one of two layouts (14 of the 31 with autoscaling at
        // bitnami/charts 5165628 read `autoscaling.hpa.*`, beside `autoscaling.vpa`); each
        // ignores the other's keys, so both are set.
        autoscaling.push(("hpa", Tree::map(hpa(), &fixed)));
    }
    top.push(("autoscaling", Tree::map(autoscaling, &fixed)));
    let release = p.release();
    let image_origin = at_app(&release.path("image"));
    let image = ImageRef::parse(p.image());
    let leaf = |v: &str| Tree::leaf(json!(v), &image_origin);
    let image_tree = match convention {
        ChartConvention::HelmCreate => {
            // helm-create renders `repository:tag`: a digest rides in the tag.
            let version = values::tag_safe(release.version);
            let tag = match (&image.digest, &image.tag) {
                (Some(digest), Some(tag)) => format!("{tag}@{digest}"),
                (Some(digest), None) => format!("{version}@{digest}"),
                (None, Some(tag)) => tag.clone(),
                (None, None) => version,
            };
            Tree::map(
                vec![("repository", leaf(&image.name())), ("tag", leaf(&tag))],
                &image_origin,
            )
        }
        ChartConvention::Bitnami => {
            let mut entries = Vec::new();
            if let Some(registry) = &image.registry {
                entries.push(("registry", leaf(registry)));
            }
            entries.push(("repository", leaf(&image.repository)));
            match (&image.digest, &image.tag) {
                (Some(digest), _) => entries.push(("digest", leaf(digest))),
                (None, Some(tag)) => entries.push(("tag", leaf(tag))),
                (None, None) => entries.push(("tag", leaf(&values::tag_safe(release.version)))),
            }
            Tree::map(entries, &image_origin)
        }
    };
    top.push(("image", image_tree));
    // Labels the chart does not set itself: the telemetry labels and the identity's pod labels.
    let own = |k: &str| !CHART_LABELS.contains(&k);
    let telemetry: Vec<(&str, Tree)> = p
        .labels
        .iter()
        .filter(|(k, _)| own(k))
        .map(|(k, v)| (k.as_str(), Tree::leaf(json!(v.value), &v.origin)))
        .collect();
    let identity: Vec<(&str, Tree)> = p
        .identity
        .pod_labels
        .iter()
        .filter(|(k, _)| own(k))
        .map(|(k, v)| (k.as_str(), Tree::leaf(json!(v.value), &v.origin)))
        .collect();
    match convention {
        ChartConvention::HelmCreate => {
            let mut pod_labels: Vec<(&str, Tree)> = telemetry.into_iter().chain(identity).collect();
            pod_labels.sort_by(|a, b| a.0.cmp(b.0));
            top.push(("podLabels", Tree::map(pod_labels, &fixed)));
        }
        ChartConvention::Bitnami => {
            // commonLabels go on every object and (merged with podLabels) on the pods.
            let mut common = telemetry;
            common.sort_by(|a, b| a.0.cmp(b.0));
            top.push(("commonLabels", Tree::map(common, &fixed)));
            let mut pod_labels = identity;
            pod_labels.sort_by(|a, b| a.0.cmp(b.0));
            top.push(("podLabels", Tree::map(pod_labels, &fixed)));
        }
    }
    // The identity the webhooks inject at pod creation only: a new one rolls the pods out
    // (both conventions read `podAnnotations` into the pod template).
    if let Some(digest) = p.identity.injected_digest() {
        let o = Origin::Default("the digest of the identity the pods are given");
        top.push((
            "podAnnotations",
            Tree::map(
                vec![(
                    crate::resolve::plan::IDENTITY_DIGEST_ANNOTATION,
                    Tree::leaf(json!(digest), &o),
                )],
                &o,
            ),
        ));
    }
    let annotations: Vec<(&str, Tree)> = p
        .identity
        .service_account_annotations
        .iter()
        .map(|(k, v)| (k.as_str(), Tree::leaf(json!(v.value), &v.origin)))
        .collect();
    let automount = match convention {
        ChartConvention::HelmCreate => "automount",
        ChartConvention::Bitnami => "automountServiceAccountToken",
    };
    if convention == ChartConvention::Bitnami {
        // The pod's own setting (false by default) wins over the ServiceAccount's.
        top.push((
            "automountServiceAccountToken",
            Tree::leaf(json!(p.identity.automount_token), &fixed),
        ));
        // fleetgen's own NetworkPolicies are the app's: the chart's (on by default) admits
        // anything on the app port and lets the pods reach anywhere, and policies add up.
        let policies = Origin::Default("fleetgen renders the app's NetworkPolicies");
        top.push((
            "networkPolicy",
            Tree::map(vec![("enabled", Tree::leaf(json!(false), &policies))], &policies),
        ));
        // The image is the contract's (a registry of fleet.yaml's), which bitnami/common
        // refuses to render unless told (`common.errors.insecureImages`).
        let registry = Origin::Default("the contract's image, from a registry of fleet.yaml");
        top.push((
            "global",
            Tree::map(
                vec![(
                    "security",
                    Tree::map(
                        vec![("allowInsecureImages", Tree::leaf(json!(true), &registry))],
                        &registry,
                    ),
                )],
                &registry,
            ),
        ));
    }
    top.push((
        "serviceAccount",
        Tree::map(
            vec![
                ("create", Tree::leaf(json!(true), &fixed)),
                (
                    "name",
                    Tree::leaf(json!(p.app_name()), &at_app(&["application", "name"])),
                ),
                (automount, Tree::leaf(json!(p.identity.automount_token), &fixed)),
                ("annotations", Tree::map(annotations, &fixed)),
            ],
            &fixed,
        ),
    ));
    // `read-secret`: the SecretProviderClass (rendered beside the chart) as a CSI volume and
    // its mount, in the lists the chart adds to its Deployment (after the values files' own,
    // see [`APPENDED`]).
    if p.identity.secrets.is_some() {
        let (volumes, mounts) = secrets_keys(convention);
        let o = Origin::Default("read-secret: the SecretProviderClass mounted by fleetgen");
        let volume = json!({
            "name": SECRETS_VOLUME,
            "csi": {
                "driver": "secrets-store.csi.k8s.io",
                "readOnly": true,
                "volumeAttributes": {"secretProviderClass": format!("{}-secrets", p.app_name())},
            },
        });
        let mount = json!({"name": SECRETS_VOLUME, "mountPath": super::context::SECRETS_MOUNT_PATH, "readOnly": true});
        top.push((volumes, Tree::Seq(vec![Tree::leaf(volume, &o)], o.clone())));
        top.push((mounts, Tree::Seq(vec![Tree::leaf(mount, &o)], o.clone())));
    }
    let mut resources = Vec::new();
    if !p.requests.is_empty() {
        resources.push(("requests", resource_list(&p.requests)));
    }
    if !p.limits.is_empty() {
        resources.push(("limits", resource_list(&p.limits)));
    }
    if !resources.is_empty() {
        top.push(("resources", Tree::map(resources, &fixed)));
    }
    let selector: Vec<(String, String)> = selector(chart, p.app_name());
    if let Some((key, when)) = values::spread(p.topology_spread.value) {
        let o = &p.topology_spread.origin;
        let match_labels = Tree::map(
            selector
                .iter()
                .map(|(k, v)| (k.as_str(), Tree::leaf(json!(v), o)))
                .collect(),
            o,
        );
        match convention {
            ChartConvention::HelmCreate => {
                // No topologySpreadConstraints in the chart: its `affinity` spreads instead.
                top.push((
                    "affinity",
                    Tree::map(
                        vec![(
                            "podAntiAffinity",
                            Tree::map(
                                vec![(
                                    "preferredDuringSchedulingIgnoredDuringExecution",
                                    Tree::Seq(
                                        vec![Tree::map(
                                            vec![
                                                ("weight", Tree::leaf(json!(100), o)),
                                                (
                                                    "podAffinityTerm",
                                                    Tree::map(
                                                        vec![
                                                            ("topologyKey", Tree::leaf(json!(key), o)),
                                                            (
                                                                "labelSelector",
                                                                Tree::map(vec![("matchLabels", match_labels)], o),
                                                            ),
                                                        ],
                                                        o,
                                                    ),
                                                ),
                                            ],
                                            o,
                                        )],
                                        o.clone(),
                                    ),
                                )],
                                o,
                            ),
                        )],
                        o,
                    ),
                ));
            }
            ChartConvention::Bitnami => top.push((
                "topologySpreadConstraints",
                Tree::Seq(
                    vec![Tree::map(
                        vec![
                            ("maxSkew", Tree::leaf(json!(1), o)),
                            ("topologyKey", Tree::leaf(json!(key), o)),
                            ("whenUnsatisfiable", Tree::leaf(json!(when), o)),
                            ("labelSelector", Tree::map(vec![("matchLabels", match_labels)], o)),
                        ],
                        o,
                    )],
                    o.clone(),
                ),
            )),
        }
    }
    if convention == ChartConvention::Bitnami {
        let pdb = &p.pod_disruption_budget;
        // `minAvailable: ""` (false to a template) clears one from the values files or the
        // chart's defaults: Bitnami's pdb.yaml renders `minAvailable` whenever it is set,
        // beside `maxUnavailable` (which the API server refuses: "minAvailable and
        // maxUnavailable cannot be both set") or instead of it (the `else if` form).
        top.push((
            "pdb",
            Tree::map(
                vec![
                    ("create", Tree::leaf(json!(pdb.value), &pdb.origin)),
                    ("minAvailable", Tree::leaf(json!(""), &fixed)),
                    ("maxUnavailable", Tree::leaf(json!(1), &fixed)),
                ],
                &pdb.origin,
            ),
        ));
    }
    let port = app.traffic.port.map(|port| (port.0, at_app(&["traffic", "port"])));
    let mut service = vec![("type", Tree::leaf(json!("ClusterIP"), &fixed))];
    if let Some((port, at)) = &port {
        match convention {
            // The container listens on `service.port` too (its port named `http`).
            ChartConvention::HelmCreate => service.push(("port", Tree::leaf(json!(port), at))),
            ChartConvention::Bitnami => {
                top.push((
                    "containerPorts",
                    Tree::map(vec![("http", Tree::leaf(json!(port), at))], at),
                ));
                service.push(("ports", Tree::map(vec![("http", Tree::leaf(json!(port), at))], at)));
            }
        }
    }
    top.push(("service", Tree::map(service, &fixed)));
    if let Some(ready) = &p.readiness_path {
        let probe = match convention {
            ChartConvention::HelmCreate => Tree::map(
                vec![(
                    "httpGet",
                    Tree::map(
                        vec![
                            ("path", Tree::leaf(json!(ready.value), &ready.origin)),
                            ("port", Tree::leaf(json!("http"), &fixed)),
                        ],
                        &ready.origin,
                    ),
                )],
                &ready.origin,
            ),
            ChartConvention::Bitnami => Tree::map(
                vec![
                    ("enabled", Tree::leaf(json!(true), &fixed)),
                    ("path", Tree::leaf(json!(ready.value), &ready.origin)),
                ],
                &ready.origin,
            ),
        };
        top.push(("readinessProbe", probe));
    }
    // helm-create probes liveness at `/` unless told: the contract's path instead.
    if let (ChartConvention::HelmCreate, Some(live)) = (convention, &p.liveness_path) {
        let http_get = Tree::map(
            vec![
                ("path", Tree::leaf(json!(live.value), &live.origin)),
                ("port", Tree::leaf(json!("http"), &fixed)),
            ],
            &live.origin,
        );
        top.push(("livenessProbe", Tree::map(vec![("httpGet", http_get)], &live.origin)));
    }
    Tree::map(top, &fixed)
}

/// The Service a chart app's route points at: the chart's `fullname` and the port fleetgen
/// gives it (the contract's `traffic.port`).
pub fn service(p: &Placement) -> Option<(String, u16)> {
    let chart = chart(p)?;
    Some((fullname(chart, p.app_name()), p.app.value.traffic.port?.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::fixture;
    use crate::model::common::Id;
    use serde_json::Value;

    /// The base fleet's `web` (with a cloud identity, probes, spread and a PDB) deployed by
    /// a chart of `convention`: the values fleetgen derives for it on an AKS cluster.
    fn derived_for(convention: &str) -> Value {
        let sources = secret_reading_chart(convention, None);
        let (plan, problems) = crate::resolve::plan::plan(&sources);
        assert!(problems.is_empty(), "{problems:?}");
        let plan = plan.unwrap();
        derived(plan.placement("web", "eastus-prod-01").unwrap()).to_json()
    }

    #[test]
    fn the_secrets_volume_comes_after_the_values_files_volumes() {
        let common = "volumes:\n  - name: cache\n    emptyDir: {}\n";
        let sources = secret_reading_chart("helm-create", Some(common));
        let (plan, _) = crate::resolve::plan::plan(&sources);
        let plan = plan.unwrap();
        let values = super::super::values::values(&sources, plan.placement("web", "eastus-prod-01").unwrap()).to_json();
        let names: Vec<&str> = values["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["cache", "secrets-store"]);
        assert_eq!(values["volumeMounts"].as_array().unwrap().len(), 1);
    }

    /// The base fleet with `web` as a chart app of `convention` whose identity reads a
    /// secret, and `common` as its common values file.
    fn secret_reading_chart(convention: &str, common: Option<&str>) -> crate::load::Sources {
        let web = format!(
            "{}chart:\n  repository: oci://registry.example.com/charts\n  name: web\n  version: 1.2.3\n  convention: {convention}\n",
            fixture::text("apps/web/app.yaml").replace(
                "observability:",
                "identity:\n  cloudPermissionsProfile: api\nobservability:"
            )
        );
        // The identity reads a secret: the chart mounts it.
        let profile = fixture::text("profiles/identity/api.yaml").replace(
            "aws:",
            "  name: id-api\n  resourceGroup: rg-identities\n  subscriptionId: 00000000-0000-0000-0000-000000000001\naws:",
        ) + "requiredPermissions:\n  - read-secret: web/token\n";
        let eks = fixture::text("clusters/useast1-prod-01.yaml") + "  secretsManager: true\n";
        let mut overlay = vec![
            ("apps/web/app.yaml", web.as_str()),
            ("profiles/identity/api.yaml", profile.as_str()),
            ("clusters/useast1-prod-01.yaml", eks.as_str()),
        ];
        overlay.extend(common.map(|c| ("apps/web/values/common.yaml", c)));
        fixture::sources(&overlay)
    }

    /// Every key fleetgen derives is one the convention's charts read, in the shape they
    /// read it (`data/chart-conventions/<convention>.values.schema.json`).
    #[test]
    fn derived_values_fit_the_conventions_schema() {
        for (convention, schema) in [
            (
                "helm-create",
                include_str!("../../data/chart-conventions/helm-create.values.schema.json"),
            ),
            (
                "bitnami",
                include_str!("../../data/chart-conventions/bitnami.values.schema.json"),
            ),
        ] {
            let mut schema: Value = serde_json::from_str(schema).unwrap();
            // Strict at the top too: fleetgen adds no key the convention does not know.
            schema["additionalProperties"] = json!(false);
            let validator = jsonschema::validator_for(&schema).unwrap();
            let values = derived_for(convention);
            let errors: Vec<String> = validator
                .iter_errors(&values)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{convention}: {errors:?}\n{values:#}");
            let (volumes, mounts) = secrets_keys(if convention == "bitnami" {
                ChartConvention::Bitnami
            } else {
                ChartConvention::HelmCreate
            });
            assert_eq!(
                values[volumes][0]["csi"]["volumeAttributes"]["secretProviderClass"],
                "web-secrets"
            );
            assert_eq!(values[mounts][0]["mountPath"], "/mnt/secrets");
        }
    }

    #[test]
    fn no_label_the_chart_sets_is_set_again() {
        for convention in ["helm-create", "bitnami"] {
            let values = derived_for(convention);
            for key in ["podLabels", "commonLabels"] {
                for label in values[key].as_object().into_iter().flat_map(|m| m.keys()) {
                    assert!(!CHART_LABELS.contains(&label.as_str()), "{convention}: {key}.{label}");
                }
            }
        }
    }

    #[test]
    fn the_digest_stays_in_the_image_the_chart_renders() {
        let helm = derived_for("helm-create");
        let tag = helm["image"]["tag"].as_str().unwrap();
        assert!(tag.starts_with("2026.07.03-1421@sha256:"), "{tag}");
        let bitnami = derived_for("bitnami");
        assert_eq!(bitnami["image"]["registry"], "registry.example.com");
        assert_eq!(bitnami["image"]["repository"], "web");
        assert!(bitnami["image"]["digest"].as_str().unwrap().starts_with("sha256:"));
        assert!(
            bitnami["image"].get("tag").is_none(),
            "a Bitnami digest replaces the tag"
        );
        assert_eq!(
            bitnami["service"]["type"], "ClusterIP",
            "Bitnami's default is a public LoadBalancer"
        );
        assert_eq!(bitnami["pdb"]["create"], true);
        assert_eq!(
            bitnami["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"],
            json!({"app.kubernetes.io/instance": "web", "app.kubernetes.io/name": "web"})
        );
        // The chart's own permissive NetworkPolicy is off (fleetgen's are the app's), the
        // pod's own token setting follows the identity, and the contract's registry renders.
        assert_eq!(bitnami["networkPolicy"], json!({"enabled": false}));
        assert_eq!(
            bitnami["automountServiceAccountToken"],
            bitnami["serviceAccount"]["automountServiceAccountToken"]
        );
        assert_eq!(bitnami["global"]["security"]["allowInsecureImages"], true);
        // Both of Bitnami's autoscaling layouts, the same; helm-create's has no `hpa`.
        let flat = &bitnami["autoscaling"];
        assert_eq!(flat["enabled"], true);
        for key in ["enabled", "minReplicas", "maxReplicas", "targetCPU"] {
            assert_eq!(flat["hpa"][key], flat[key], "{key}: {flat}");
        }
        assert!(derived_for("helm-create")["autoscaling"].get("hpa").is_none());
        // helm-create probes liveness at the contract's path, not `/`.
        let helm_create = derived_for("helm-create");
        assert_eq!(helm_create["livenessProbe"]["httpGet"]["port"], "http");
        assert!(
            helm_create["livenessProbe"]["httpGet"]["path"]
                .as_str()
                .is_some_and(|p| p != "/"),
            "{helm_create:#}"
        );
    }

    /// A `pdb.minAvailable` of a values file (or the chart's defaults) is cleared: Bitnami's
    /// pdb.yaml would render it beside fleetgen's `maxUnavailable: 1`, a budget the API
    /// server refuses, or instead of it.
    #[test]
    fn a_bitnami_budget_never_has_min_available() {
        let sources = secret_reading_chart("bitnami", Some("pdb:\n  minAvailable: 1\n"));
        let (plan, _) = crate::resolve::plan::plan(&sources);
        let plan = plan.unwrap();
        let p = plan.placement("web", "eastus-prod-01").unwrap();
        let values = super::super::values::values(&sources, p).to_json();
        assert_eq!(
            values["pdb"],
            json!({"minAvailable": "", "create": true, "maxUnavailable": 1}),
            "{values:#}"
        );
    }

    /// `nameOverride` / `fullnameOverride` in a values file is FG036 at its line: the route,
    /// the PodDisruptionBudget and the NetworkPolicies name the chart's objects by the release
    /// and chart names.
    #[test]
    fn a_values_file_may_not_rename_the_charts_objects() {
        for key in ["nameOverride", "fullnameOverride"] {
            let common = format!("{key}: shop\n");
            let sources = secret_reading_chart("helm-create", Some(&common));
            let (plan, _) = crate::resolve::plan::plan(&sources);
            let plan = plan.unwrap();
            let p = plan.placement("web", "eastus-prod-01").unwrap();
            let tree = super::super::values::values(&sources, p);
            let found = super::super::app::renamed_chart_objects(p, &tree, &sources.files);
            assert_eq!(found.len(), 1, "{key}");
            assert_eq!(found[0].code, crate::diag::codes::CHART_VALUES);
            assert!(found[0].message.contains(key), "{}", found[0].message);
        }
    }

    /// A values file's volume named as fleetgen's secrets volume, or mount at its path (as
    /// written or spelt otherwise), is FG036 at its line; neither is when the app reads no
    /// secret (fleetgen adds no volume then), nor is another path or name.
    #[test]
    fn a_values_file_may_not_take_the_secrets_volume_s_name_or_path() {
        let found = |convention: &str, common: &str, secrets: bool| -> Vec<String> {
            let sources = if secrets {
                secret_reading_chart(convention, Some(common))
            } else {
                let web = fixture::text("apps/web/app.yaml")
                    + "chart:\n  repository: oci://r.example.com/charts\n  name: web\n  version: 1.0.0\n";
                fixture::sources(&[("apps/web/app.yaml", &web), ("apps/web/values/common.yaml", common)])
            };
            let (plan, _) = crate::resolve::plan::plan(&sources);
            let plan = plan.unwrap();
            let p = plan.placement("web", "eastus-prod-01").unwrap();
            assert_eq!(p.identity.secrets.is_some(), secrets);
            let tree = super::super::values::values(&sources, p);
            secrets_collisions(p, &tree).into_iter().map(|(m, ..)| m).collect()
        };
        let helm = "volumes:\n  - name: secrets-store\n    emptyDir: {}\nvolumeMounts:\n  - name: secrets-store\n    mountPath: /mnt/secrets\n  - name: secrets-store\n    mountPath: /mnt/secrets-cache\n";
        let messages = found("helm-create", helm, true);
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].starts_with("`volumes` of `web` has a volume named `secrets-store`"),
            "{messages:?}"
        );
        assert!(
            messages[1].starts_with("`volumeMounts` of `web` mounts a volume at `/mnt/secrets`"),
            "{messages:?}"
        );
        assert!(found("helm-create", helm, false).is_empty());
        let bitnami = "extraVolumes:\n  - name: cache\n    emptyDir: {}\nextraVolumeMounts:\n  - name: cache\n    mountPath: //mnt/./secrets/\n";
        let messages = found("bitnami", bitnami, true);
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("`extraVolumeMounts` of `web` mounts a volume at `//mnt/./secrets/`"),
            "{messages:?}"
        );
        // Under helm-create, Bitnami's keys are no lists the chart reads.
        assert!(found("helm-create", bitnami, true).is_empty());
    }

    fn chart(name: &str) -> Chart {
        Chart {
            repository: "oci://r.example.com/charts".into(),
            name: Id::try_from(name.to_string()).unwrap(),
            version: "1.0.0".into(),
            convention: ChartConvention::HelmCreate,
        }
    }

    #[test]
    fn the_service_is_the_release_or_release_dash_chart() {
        assert_eq!(fullname(&chart("shop"), "shop"), "shop");
        assert_eq!(fullname(&chart("shop"), "eu-shop"), "eu-shop");
        assert_eq!(fullname(&chart("docs-site"), "docs"), "docs-docs-site");
        let long = "a".repeat(60);
        assert_eq!(fullname(&chart("web"), &long).len(), 63);
    }
}
