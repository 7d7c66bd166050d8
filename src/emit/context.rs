//! What a template sees: `fleet`, `app` and `cluster` (the source files as written), and
//! `workload` (the placement as resolved: namespace, replicas, resources, probes, identity,
//! gateway, network), `labels`, `podLabels` and `selector`.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::load::Sources;
use crate::load::yaml::Node;
use crate::resolve::plan::{Placement, Plan};

use super::values;

/// Where the Deployment mounts the app's secrets (one file per secret).
pub use crate::resolve::plan::SECRETS_MOUNT_PATH;

/// Template contexts of every app and cluster: each made when a template first needs it (a
/// render after a one-contract change renders a few placements, which read one app and a
/// few clusters; making all of them was as much work as those renders).
pub(super) struct Contexts<'a> {
    pub fleet: minijinja::Value,
    apps: HashMap<&'a str, Lazy<'a>>,
    clusters: HashMap<&'a str, Lazy<'a>>,
}

/// A source file's node and, once asked for, its template context.
struct Lazy<'a> {
    node: &'a Node,
    made: OnceLock<minijinja::Value>,
}

impl<'a> Lazy<'a> {
    fn new(node: &'a Node) -> Lazy<'a> {
        Lazy {
            node,
            made: OnceLock::new(),
        }
    }

    fn get(&self) -> minijinja::Value {
        self.made.get_or_init(|| to_mj(self.node.to_json())).clone()
    }
}

impl<'a> Contexts<'a> {
    pub fn new(sources: &'a Sources, plan: &Plan) -> Contexts<'a> {
        let f = &plan.fleet.value;
        Contexts {
            fleet: to_mj(json!({
                "name": f.name.as_str(),
                "repository": {"url": f.repository.url, "branch": f.repository.branch},
            })),
            apps: (sources.apps.iter())
                .map(|a| (a.value.application.name.as_str(), Lazy::new(&a.node)))
                .collect(),
            clusters: (sources.clusters.iter())
                .map(|c| (c.value.cluster_id.as_str(), Lazy::new(&c.node)))
                .collect(),
        }
    }

    /// The context of app `name`.
    pub fn app(&self, name: &str) -> Option<minijinja::Value> {
        self.apps.get(name).map(Lazy::get)
    }

    /// The context of cluster `id`.
    pub fn cluster(&self, id: &str) -> Option<minijinja::Value> {
        self.clusters.get(id).map(Lazy::get)
    }
}

pub(super) fn pairs_json(pairs: &[(String, String)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.clone(), Value::String(v.clone()));
    }
    Value::Object(m)
}

/// The labels that select a placement's pods: a chart's selector, or the app's name.
pub(super) fn pod_selector(p: &Placement) -> Vec<(String, String)> {
    match &p.app.value.chart {
        Some(chart) => super::charts::selector(chart, p.app_name()),
        None => vec![("app.kubernetes.io/name".to_string(), p.app_name().to_string())],
    }
}

/// Whether a placement attaches a route to the cluster's gateway (the built-in route's test).
pub(super) fn routes(p: &Placement) -> bool {
    let t = &p.app.value.traffic;
    p.gateway.is_some()
        && t.port.is_some()
        && t.exposure != crate::model::app::Exposure::None
        && !t.hostnames.is_empty()
}

/// The port the app's metrics are scraped at: its telemetry profile's, else the app's own.
pub(super) fn metrics_port(p: &Placement) -> Option<u16> {
    let t = p.telemetry?;
    t.metrics.port.map(|p| p.0).or(p.app.value.traffic.port.map(|p| p.0))
}

/// What the app's NetworkPolicies allow (`workload.network`), or `None` when fleet.yaml
/// turns them off: traffic from the gateway (an exposed app with a route), from the apps on
/// the cluster that depend on it, from the cluster's metrics scraper to its metrics port (an
/// app with a telemetry profile), to the ones it depends on, to its cloud's APIs (an app with
/// a cloud identity), to `network.egress`; DNS is in the template. What it reads of another
/// placement is part of the placement's cache key (`incremental::key`): keep the two alike.
fn network(plan: &Plan, p: &Placement) -> Value {
    if !plan.fleet.value.network.policies {
        return Value::Null;
    }
    let a = &p.app.value;
    let port = a.traffic.port.map(|p| p.0);
    let peer = |q: &Placement| {
        json!({
            "name": q.app_name(),
            "namespace": q.namespace,
            "selector": pairs_json(&pod_selector(q)),
            "port": q.app.value.traffic.port.map(|p| p.0),
        })
    };
    let mut calls: Vec<Value> = Vec::new();
    for q in plan.callees(p).filter(|q| q.app.value.traffic.port.is_some()) {
        let v = peer(q);
        if !calls.contains(&v) {
            calls.push(v);
        }
    }
    calls.sort_by(|x, y| x["name"].as_str().cmp(&y["name"].as_str()));
    let mut callers: Vec<Value> = plan.callers(p).map(peer).collect();
    callers.sort_by(|x, y| x["name"].as_str().cmp(&y["name"].as_str()));
    let gateway = p
        .gateway
        .filter(|_| routes(p))
        .map(|g| json!({"namespace": g.proxies_namespace(), "sourceRanges": g.source_ranges}));
    let egress: Vec<Value> = a
        .network
        .egress
        .iter()
        .map(|e| json!({"cidr": e.cidr, "ports": e.ports.iter().map(|p| p.0).collect::<Vec<_>>()}))
        .collect();
    // A cloud identity needs its token endpoint and the cloud's APIs: public HTTPS addresses
    // that NetworkPolicy (no host names) cannot name more narrowly than "anywhere on 443";
    // EKS Pod Identity also needs its node agent at 169.254.170.23:80 ([fd00:ec2::23] over
    // IPv6). IPv4 always: a pod of an IPv6 EKS cluster still reaches IPv4 addresses through
    // its node (the VPC CNI's egress-only IPv4), and the SDKs call the IPv4 endpoints unless
    // told to use the dual-stack ones; IPv6 too where pods have IPv6 addresses.
    let cloud = a.identity.cloud_permissions_profile.is_some().then(|| {
        let v6 = p.cluster.value.ip_family.v6();
        let of = |v4: &str, six: &str| {
            let mut cidrs = vec![v4.to_string()];
            if v6 {
                cidrs.push(six.to_string());
            }
            cidrs
        };
        json!({
            "podIdentityAgent": p.cluster.value.identity_mode == crate::model::common::IdentityMode::EksPodIdentity,
            "anywhere": of("0.0.0.0/0", "::/0"),
            "podIdentityAgentCidrs": of("169.254.170.23/32", "fd00:ec2::23/128"),
        })
    });
    // The scraper of an app with a metrics endpoint, at its port.
    let scraper = (metrics_port(p).zip(p.scraper.as_deref())).map(|(port, s)| {
        json!({
            "port": port,
            "namespace": s.namespace,
            "selector": s.pod_selector,
            "sourceRanges": s.source_ranges,
        })
    });
    json!({
        "port": port,
        "gateway": gateway,
        "scraper": scraper,
        "cloud": cloud,
        "calls": calls,
        "callers": if port.is_some() { callers } else { Vec::new() },
        "egress": egress,
    })
}

/// The derived view of a placement that templates use as `workload`, made as template
/// values directly: made as JSON and converted, with every key hashed twice, it was 7% of a
/// render's instructions. Each value is what the JSON had made of it (a non-negative integer
/// unsigned, a missing one none, a map in this key order); the parts made as JSON (network,
/// secrets) are converted as before.
pub(super) fn workload(plan: &Plan, p: &Placement) -> minijinja::Value {
    use minijinja::Value as Mj;
    fn map<'k>(entries: impl IntoIterator<Item = (&'k str, minijinja::Value)>) -> minijinja::Value {
        minijinja::Value::from_pairs(entries)
    }
    let opt = |v: Option<Mj>| v.unwrap_or_else(|| Mj::from(()));
    let port_of = |port: Option<u16>| opt(port.map(|p| Mj::from(u64::from(p))));
    let a = &p.app.value;
    let list = |l: &crate::resolve::plan::Resources| {
        let entries: Vec<(&str, Mj)> = [("cpu", &l.cpu), ("memory", &l.memory)]
            .into_iter()
            .filter_map(|(name, v)| Some((name, Mj::from(v.as_ref()?.value.as_str()))))
            .collect();
        (!entries.is_empty()).then(|| map(entries))
    };
    let resources: Vec<(&str, Mj)> = [("requests", list(&p.requests)), ("limits", list(&p.limits))]
        .into_iter()
        .filter_map(|(name, v)| Some((name, v?)))
        .collect();
    let port = a.traffic.port.map(|p| p.0);
    let metrics = p.telemetry.zip(metrics_port(p)).map(|(t, port)| {
        map([
            ("port", Mj::from(u64::from(port))),
            ("path", Mj::from(t.metrics.path.as_str())),
        ])
    });
    let annotations: Vec<(&str, &str)> = (p.identity.service_account_annotations.iter())
        .map(|(k, v)| (k.as_str(), v.value.as_str()))
        .collect();
    let secrets = p.identity.secrets.as_ref().map(|s| {
        to_mj(json!({
            "name": format!("{}-secrets", p.app_name()),
            "provider": s.provider,
            "parameters": s.parameters.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "mountPath": SECRETS_MOUNT_PATH,
        }))
    });
    let path = |s: &Option<crate::resolve::plan::Sourced<String>>| opt(s.as_ref().map(|s| Mj::from(s.value.as_str())));
    // The Service a route points at: the app's own, or the one its chart makes.
    let (service, service_port) = match super::charts::service(p) {
        Some((name, port)) => (Mj::from(name), Some(port)),
        None => (Mj::from(p.app_name()), port),
    };
    let release = p.release();
    map([
        ("name", Mj::from(p.app_name())),
        ("namespace", Mj::from(p.namespace.as_str())),
        ("image", Mj::from(p.image())),
        ("version", Mj::from(release.version)),
        ("owner", Mj::from(a.application.owner.as_str())),
        ("criticality", Mj::from(a.application.criticality.as_str())),
        ("exposure", Mj::from(a.traffic.exposure.as_str())),
        ("port", port_of(port)),
        (
            "hostnames",
            Mj::from_iter(a.traffic.hostnames.iter().map(|h| Mj::from(h.as_str()))),
        ),
        // The Front Door id the route requires, when a profile locks its origins.
        ("frontDoorId", opt(p.front_door_id.as_deref().map(Mj::from))),
        // The route the edge's health checks take: the cluster's origin name, the app's own
        // probe path there, and the app's path it is rewritten to.
        (
            "healthProbe",
            opt(p.probe_route.as_ref().map(|r| {
                map([
                    ("host", Mj::from(r.host.as_str())),
                    ("path", Mj::from(r.path.as_str())),
                    ("target", Mj::from(r.target.as_str())),
                    ("onAppHostnames", Mj::from(r.on_app_hostnames)),
                ])
            })),
        ),
        (
            "replicas",
            map([
                ("min", Mj::from(u64::from(p.replicas.min))),
                ("max", Mj::from(u64::from(p.replicas.max))),
                ("share", Mj::from(u64::from(p.replicas.share))),
            ]),
        ),
        // Incident switch: 0 replicas and no autoscaler here, with the reason.
        ("scaledDown", opt(p.scaled_down.as_deref().map(Mj::from))),
        // `read-secret`: the SecretProviderClass and where the Deployment mounts it.
        ("secrets", opt(secrets)),
        ("podDisruptionBudget", Mj::from(p.pod_disruption_budget.value)),
        (
            "topologySpread",
            opt(values::spread(p.topology_spread.value)
                .map(|(key, when)| map([("topologyKey", Mj::from(key)), ("whenUnsatisfiable", Mj::from(when))]))),
        ),
        ("resources", map(resources)),
        (
            "probes",
            map([
                ("readinessPath", path(&p.readiness_path)),
                ("livenessPath", path(&p.liveness_path)),
            ]),
        ),
        (
            "serviceAccount",
            map([
                ("name", Mj::from(p.app_name())),
                ("annotations", Mj::from_pairs(annotations)),
                ("automountToken", Mj::from(p.identity.automount_token)),
            ]),
        ),
        (
            "gateway",
            opt(p.gateway.map(|g| {
                map([
                    ("name", Mj::from(g.name.as_str())),
                    ("namespace", Mj::from(g.namespace.as_str())),
                    ("listener", opt(g.listener.as_deref().map(Mj::from))),
                ])
            })),
        ),
        ("service", map([("name", service), ("port", port_of(service_port))])),
        ("metrics", opt(metrics)),
        // The pod template's `fleetgen.io/identity-digest`: a new identity rolls the pods.
        ("identityDigest", opt(p.identity.injected_digest().map(Mj::from))),
        ("network", to_mj(network(plan, p))),
    ])
}

/// Label pairs as a template map, made directly rather than as a JSON map converted (which
/// hashes every key twice).
pub(super) fn pairs_mj(pairs: &[(String, String)]) -> minijinja::Value {
    minijinja::Value::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// A JSON value as a template value.
pub(super) fn to_mj(v: Value) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::fixture;

    /// Each of `workload`'s values as a template tells it apart, in key order.
    fn kinds(w: &minijinja::Value) -> String {
        let env = minijinja::Environment::new();
        let t = "{% macro kind(v) %}{% if v is none %}none{% elif v is mapping %}{{ '{' }}\
                 {% for k, x in v|items %}{{ k }}={{ kind(x) }},{% endfor %}{{ '}' }}\
                 {% elif v is sequence %}[{% for x in v %}{{ kind(x) }},{% endfor %}]\
                 {% elif v is boolean %}bool{% elif v is integer %}int{% elif v is float %}float\
                 {% elif v is string %}str{% else %}other{% endif %}{% endmacro %}{{ kind(w) }}";
        env.render_str(t, minijinja::context! { w => w }).unwrap()
    }

    #[test]
    fn workload_holds_the_values_templates_read_in_their_kinds_and_order() {
        // With a cloud identity: service account annotations, the cloud APIs' egress.
        let web = fixture::text("apps/web/app.yaml").replace(
            "observability:",
            "identity:\n  cloudPermissionsProfile: api\nobservability:",
        );
        let sources = fixture::sources(&[("apps/web/app.yaml", &web)]);
        let (plan, problems) = crate::resolve::plan::plan(&sources);
        assert!(problems.is_empty(), "{problems:?}");
        let plan = plan.unwrap();
        let w = workload(&plan, plan.placement("web", "eastus-prod-01").unwrap());
        assert_eq!(
            kinds(&w),
            "{name=str,namespace=str,image=str,version=str,owner=str,criticality=str,exposure=str,\
             port=int,hostnames=[str,],frontDoorId=none,healthProbe=none,replicas={min=int,max=int,share=int,},\
             scaledDown=none,secrets=none,podDisruptionBudget=bool,topologySpread={topologyKey=str,\
             whenUnsatisfiable=str,},resources={requests={cpu=str,memory=str,},limits={cpu=str,\
             memory=str,},},probes={readinessPath=str,livenessPath=str,},serviceAccount={name=str,\
             annotations={azure.workload.identity/client-id=str,\
             azure.workload.identity/tenant-id=str,},automountToken=bool,},gateway={name=str,\
             namespace=str,listener=none,},service={name=str,port=int,},metrics={port=int,path=str,},\
             identityDigest=str,network={port=int,gateway={namespace=str,sourceRanges=[str,],},scraper={port=int,namespace=str,\
             selector={app.kubernetes.io/name=str,},sourceRanges=[],},cloud={podIdentityAgent=bool,anywhere=[str,],\
             podIdentityAgentCidrs=[str,],},\
             calls=[{name=str,namespace=str,selector={app.kubernetes.io/name=str,},port=int,},],\
             callers=[],egress=[],},}"
        );
        let env = minijinja::Environment::new();
        let json = env
            .render_str("{{ w|tojson }}", minijinja::context! { w => w })
            .unwrap();
        let expected = json!({
            "name": "web",
            "namespace": "web",
            "image": "registry.example.com/web@sha256:b9bd1f75820c6a6411c58300534b89faef06c015ebb0791ec0b4508e9c77cf49",
            "version": "2026.07.03-1421",
            "owner": "web-team",
            "criticality": "tier-1",
            "exposure": "public",
            "port": 8080,
            "hostnames": ["www.example.com"],
            "frontDoorId": null,
            "healthProbe": null,
            "replicas": {"min": 2, "max": 10, "share": 1},
            "scaledDown": null,
            "secrets": null,
            "podDisruptionBudget": true,
            "topologySpread": {
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule",
            },
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"cpu": "1000m", "memory": "512Mi"},
            },
            "probes": {
                "readinessPath": "/healthz/ready",
                "livenessPath": "/healthz/live",
            },
            "serviceAccount": {
                "name": "web",
                "annotations": {
                    "azure.workload.identity/client-id": "00000000-0000-0000-0000-0000000000c1",
                    "azure.workload.identity/tenant-id": "00000000-0000-0000-0000-0000000000aa",
                },
                "automountToken": false,
            },
            "gateway": {
                "name": "agc-gateway",
                "namespace": "agc-system",
                "listener": null,
            },
            "service": {"name": "web", "port": 8080},
            "metrics": {"port": 9090, "path": "/metrics"},
            "identityDigest": "c66ee541bdb8d5fa",
            "network": {
                "port": 8080,
                "gateway": {"namespace": "agc-system", "sourceRanges": ["10.225.0.0/24"]},
                "scraper": {
                    "port": 9090,
                    "namespace": "monitoring",
                    "selector": {"app.kubernetes.io/name": "prometheus"},
                    "sourceRanges": [],
                },
                "cloud": {
                    "podIdentityAgent": false,
                    "anywhere": ["0.0.0.0/0"],
                    "podIdentityAgentCidrs": ["169.254.170.23/32"],
                },
                "calls": [
                    {
                        "name": "api",
                        "namespace": "api",
                        "selector": {"app.kubernetes.io/name": "api"},
                        "port": 8080,
                    },
                ],
                "callers": [],
                "egress": [],
            },
        });
        assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), expected);
    }

    #[test]
    fn the_identity_digest_follows_what_the_webhooks_inject() {
        let web = fixture::text("apps/web/app.yaml").replace(
            "observability:",
            "identity:\n  cloudPermissionsProfile: api\nobservability:",
        );
        let digest = |profile: &str, cluster: &str| {
            let sources = fixture::sources(&[("apps/web/app.yaml", &web), ("profiles/identity/api.yaml", profile)]);
            let (plan, problems) = crate::resolve::plan::plan(&sources);
            let plan = plan.unwrap_or_else(|| panic!("{problems:?}"));
            let w = workload(&plan, plan.placement("web", cluster).unwrap());
            w.get_attr("identityDigest").unwrap().as_str().map(str::to_string)
        };
        let profile = fixture::text("profiles/identity/api.yaml");
        let other_client = profile.replace("0000000000c1", "0000000000c9");
        let other_role = profile.replace("roleName: base-api", "roleName: base-api-2");
        for cluster in ["eastus-prod-01", "useast1-prod-01"] {
            let before = digest(&profile, cluster);
            assert!(before.as_ref().is_some_and(|d| d.len() == 16), "{before:?}");
            assert_eq!(before, digest(&profile, cluster));
            let changed = if cluster.starts_with("eastus") {
                &other_client
            } else {
                &other_role
            };
            assert_ne!(before, digest(changed, cluster), "{cluster}");
        }
        // No identity, no digest.
        let none = fixture::sources(&[]);
        let (plan, _) = crate::resolve::plan::plan(&none);
        let plan = plan.unwrap();
        let w = workload(&plan, plan.placement("web", "eastus-prod-01").unwrap());
        assert!(w.get_attr("identityDigest").unwrap().is_none());
    }

    #[test]
    fn the_gateway_is_admitted_from_its_proxies_namespace_or_its_source_ranges() {
        let aks = "profiles/cluster/aks-standard.yaml";
        let gateway_of = |profile: &str| {
            let sources = fixture::sources(&[(aks, profile)]);
            let (plan, problems) = crate::resolve::plan::plan(&sources);
            assert!(problems.is_empty(), "{problems:?}");
            let plan = plan.unwrap();
            network(&plan, plan.placement("web", "eastus-prod-01").unwrap())["gateway"].clone()
        };
        let text = fixture::text(aks);
        assert_eq!(
            gateway_of(&text),
            json!({"namespace": "agc-system", "sourceRanges": ["10.225.0.0/24"]})
        );
        // Envoy Gateway's proxies run in its controller's namespace, not the Gateway's.
        let envoy = text
            .replace(
                "entrypoint: application-gateway-for-containers",
                "entrypoint: envoy-gateway",
            )
            .replace(
                "  sourceRanges: [10.225.0.0/24]\n",
                "  proxyNamespace: envoy-gateway-system\n",
            );
        assert!(envoy.contains("proxyNamespace"));
        assert_eq!(
            gateway_of(&envoy),
            json!({"namespace": "envoy-gateway-system", "sourceRanges": []})
        );
    }

    /// `workload.network.scraper` of `web` on `eastus-prod-01` with the observability profile's
    /// `metrics:` lines replaced by `metrics`, and with `telemetry`'s in place of the
    /// telemetry profile's.
    fn scraper_of(metrics: &str, telemetry: Option<&str>) -> Value {
        let profile = fixture::text("profiles/observability/standard.yaml");
        let start = profile.find("metrics:\n").unwrap();
        let end = profile.find("logs:\n").unwrap();
        let profile = format!("{}{metrics}{}", &profile[..start], &profile[end..]);
        let mut overlay = vec![("profiles/observability/standard.yaml", profile.as_str())];
        let http = telemetry.map(|m| {
            let t = fixture::text("profiles/telemetry/http-service.yaml");
            let old = "metrics:\n  port: 9090\n  path: /metrics\n";
            assert!(t.contains(old));
            t.replace(old, m)
        });
        if let Some(http) = &http {
            overlay.push(("profiles/telemetry/http-service.yaml", http));
        }
        let sources = fixture::sources(&overlay);
        let (plan, problems) = crate::resolve::plan::plan(&sources);
        assert!(problems.is_empty(), "{problems:?}");
        let plan = plan.unwrap();
        network(&plan, plan.placement("web", "eastus-prod-01").unwrap())["scraper"].clone()
    }

    #[test]
    fn the_metrics_scraper_is_the_profile_s_or_azure_monitor_s_add_on_at_the_metrics_port() {
        // Azure Monitor without a scraper: the add-on's replica in kube-system.
        let azure = "metrics:\n  backend: azure-monitor-prometheus\n  scrapeInterval: 30s\n";
        assert_eq!(
            scraper_of(azure, None),
            json!({"port": 9090, "namespace": "kube-system", "selector": {"rsName": "ama-metrics"}, "sourceRanges": []})
        );
        // A scraper outside the cluster, by its addresses.
        let amp = "metrics:\n  backend: amazon-managed-prometheus\n  scrapeInterval: 30s\n  \
                   scraper: {sourceRanges: [10.0.32.0/19]}\n";
        assert_eq!(
            scraper_of(amp, None),
            json!({"port": 9090, "namespace": null, "selector": {}, "sourceRanges": ["10.0.32.0/19"]})
        );
        // The app's own port when its telemetry profile names none.
        let no_port = "metrics:\n  path: /metrics\n";
        assert_eq!(scraper_of(amp, Some(no_port))["port"], json!(8080));
    }
}
