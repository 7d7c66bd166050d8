//! What a template sees: `fleet`, `app` and `cluster` (the source files as written), and
//! `workload` (the placement as resolved: namespace, replicas, resources, probes, identity,
//! gateway), `labels`, `podLabels` and `selector`.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::load::Sources;
use crate::resolve::plan::{Placement, Plan};

use super::values;

/// Template contexts of every app and cluster, built once.
pub(super) struct Contexts {
    pub fleet: minijinja::Value,
    pub apps: HashMap<String, minijinja::Value>,
    pub clusters: HashMap<String, minijinja::Value>,
}

impl Contexts {
    pub fn new(sources: &Sources, plan: &Plan) -> Contexts {
        let f = &plan.fleet.value;
        Contexts {
            fleet: to_mj(json!({
                "name": f.name.as_str(),
                "repository": {"url": f.repository.url, "branch": f.repository.branch},
            })),
            apps: sources
                .apps
                .iter()
                .map(|a| (a.value.application.name.to_string(), to_mj(a.node.to_json())))
                .collect(),
            clusters: sources
                .clusters
                .iter()
                .map(|c| (c.value.cluster_id.to_string(), to_mj(c.node.to_json())))
                .collect(),
        }
    }
}

pub(super) fn pairs_json(pairs: &[(String, String)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.clone(), Value::String(v.clone()));
    }
    Value::Object(m)
}

/// The derived view of a placement that templates use as `workload`.
pub(super) fn workload(p: &Placement) -> Value {
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
        "image": a.application.image,
        "version": a.application.version,
        "owner": a.application.owner.as_str(),
        "criticality": a.application.criticality.as_str(),
        "exposure": a.traffic.exposure.as_str(),
        "port": port,
        "hostnames": a.traffic.hostnames,
        // The Front Door id the route requires, when a profile locks its origins.
        "frontDoorId": p.front_door_id,
        "replicas": {"min": p.replicas.min, "max": p.replicas.max, "share": p.replicas.share},
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
    })
}

/// A JSON value as a template value.
pub(super) fn to_mj(v: Value) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(v))
}
