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
pub const SECRETS_MOUNT_PATH: &str = "/mnt/secrets";

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

/// What the app's NetworkPolicies allow (`workload.network`), or `None` when fleet.yaml
/// turns them off: traffic from the gateway (an exposed app with a route), from the apps on
/// the cluster that depend on it, to the ones it depends on, to its cloud's APIs (an app with
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
        .map(|g| json!({"namespace": g.namespace.as_str(), "sourceRanges": g.source_ranges}));
    let egress: Vec<Value> = a
        .network
        .egress
        .iter()
        .map(|e| json!({"cidr": e.cidr, "ports": e.ports.iter().map(|p| p.0).collect::<Vec<_>>()}))
        .collect();
    // A cloud identity needs its token endpoint and the cloud's APIs: public HTTPS addresses
    // that NetworkPolicy (no host names) cannot name more narrowly than "anywhere on 443";
    // EKS Pod Identity also needs its node agent at 169.254.170.23:80.
    let cloud = a.identity.cloud_permissions_profile.is_some().then(|| {
        json!({
            "podIdentityAgent": p.cluster.value.identity_mode == crate::model::common::IdentityMode::EksPodIdentity,
        })
    });
    json!({
        "port": port,
        "gateway": gateway,
        "cloud": cloud,
        "calls": calls,
        "callers": if port.is_some() { callers } else { Vec::new() },
        "egress": egress,
    })
}

/// The derived view of a placement that templates use as `workload`.
pub(super) fn workload(plan: &Plan, p: &Placement) -> Value {
    let a = &p.app.value;
    let list = |l: &crate::resolve::plan::Resources| {
        let mut m = Map::new();
        for (name, v) in [("cpu", &l.cpu), ("memory", &l.memory)] {
            if let Some(v) = v {
                m.insert(name.into(), json!(v.value));
            }
        }
        (!m.is_empty()).then_some(Value::Object(m))
    };
    let mut resources = Map::new();
    if let Some(r) = list(&p.requests) {
        resources.insert("requests".into(), r);
    }
    if let Some(l) = list(&p.limits) {
        resources.insert("limits".into(), l);
    }
    let port = a.traffic.port.map(|p| p.0);
    let metrics = p.telemetry.and_then(|t| {
        t.metrics
            .port
            .map(|p| p.0)
            .or(port)
            .map(|mp| json!({"port": mp, "path": t.metrics.path}))
    });
    let annotations: Vec<(String, String)> = p
        .identity
        .service_account_annotations
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    json!({
        "name": p.app_name(),
        "namespace": p.namespace,
        "image": p.release().image,
        "version": p.release().version,
        "owner": a.application.owner.as_str(),
        "criticality": a.application.criticality.as_str(),
        "exposure": a.traffic.exposure.as_str(),
        "port": port,
        "hostnames": a.traffic.hostnames,
        // The Front Door id the route requires, when a profile locks its origins.
        "frontDoorId": p.front_door_id,
        "replicas": {"min": p.replicas.min, "max": p.replicas.max, "share": p.replicas.share},
        // Incident switch: 0 replicas and no autoscaler here, with the reason.
        "scaledDown": p.scaled_down,
        // `read-secret`: the SecretProviderClass and where the Deployment mounts it.
        "secrets": p.identity.secrets.as_ref().map(|s| json!({
            "name": format!("{}-secrets", p.app_name()),
            "provider": s.provider,
            "parameters": s.parameters.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "mountPath": SECRETS_MOUNT_PATH,
        })),
        "podDisruptionBudget": p.pod_disruption_budget.value,
        "topologySpread": values::spread(p.topology_spread.value)
            .map(|(key, when)| json!({"topologyKey": key, "whenUnsatisfiable": when})),
        "resources": resources,
        "probes": {
            "readinessPath": p.readiness_path.as_ref().map(|s| &s.value),
            "livenessPath": p.liveness_path.as_ref().map(|s| &s.value),
        },
        "serviceAccount": {
            "name": p.app_name(),
            "annotations": pairs_json(&annotations),
            "automountToken": p.identity.automount_token,
        },
        "gateway": p.gateway.map(|g| json!({"name": g.name.as_str(), "namespace": g.namespace.as_str(), "listener": g.listener})),
        // The Service a route points at: the app's own, or the one its chart makes.
        "service": match super::charts::service(p) {
            Some((name, port)) => json!({"name": name, "port": port}),
            None => json!({"name": p.app_name(), "port": port}),
        },
        "metrics": metrics,
        "network": network(plan, p),
    })
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
