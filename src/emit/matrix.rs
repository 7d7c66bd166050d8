//! `fleet.yaml` at the top of the output: the placement matrix, every app × cluster with
//! its environment, region, ring, version, data mode, delivery, replicas and state (and
//! `standby` in a standby region); the traffic kill switches in force (out of rotation,
//! temporary weights), with their reasons; and fleet.yaml's incident switches in force.

use std::sync::Arc;

use rayon::prelude::*;
use serde_json::{Value, json};

use super::yaml;
use crate::layout;
use crate::load::Sources;
use crate::resolve::edge::{self, Action};
use crate::resolve::plan::{Placement, Plan};

/// Replicas on the cluster (minimum, maximum): none where the app is drained or scaled down.
pub(super) fn replica_range(p: &Placement) -> (u32, u32) {
    match (&p.drained, &p.scaled_down) {
        (None, None) => (p.replicas.min, p.replicas.max),
        _ => (0, 0),
    }
}

/// How the app is delivered: `helm` (a chart) or `manifests` (templates).
pub(super) fn delivery(p: &Placement) -> &'static str {
    if p.app.value.chart.is_some() {
        "helm"
    } else {
        "manifests"
    }
}

/// `active`, or the kill switch that is on: `drained`, `scaled-down` or `suspended`.
pub(super) fn state(p: &Placement) -> &'static str {
    match (&p.drained, &p.scaled_down, &p.suspended) {
        (Some(_), _, _) => "drained",
        (None, Some(_), _) => "scaled-down",
        (None, None, Some(_)) => "suspended",
        (None, None, None) => "active",
    }
}

/// A placement's row of the matrix, as an item of the `placements:` list: written entry by
/// entry rather than built as a `serde_json` map and written (a third of the time a warm
/// `check` spent on this file).
pub(super) fn row(p: &Placement) -> String {
    use yaml::Scalar::{Null, Str, Uint};
    let c = &p.cluster.value;
    let (min, max) = replica_range(p);
    let region = format!("{}:{}", c.provider, c.region);
    let data_mode = p.app.value.data.as_ref().map_or(Null, |d| Str(d.mode.as_str()));
    let mut text = String::with_capacity(320);
    text.push_str("  - ");
    let mut entry = |key, value| yaml::entry(&mut text, 4, key, value);
    entry("app", Some(Str(p.app_name())));
    entry("cluster", Some(Str(p.cluster_id())));
    entry("environment", Some(Str(c.environment.as_str())));
    entry("region", Some(Str(&region)));
    entry("ring", Some(Str(c.upgrade_channel.as_str())));
    entry("version", Some(Str(p.release().version)));
    entry("dataMode", Some(data_mode));
    entry("delivery", Some(Str(delivery(p))));
    entry("replicas", None);
    yaml::entry(&mut text, 6, "min", Some(Uint(min.into())));
    yaml::entry(&mut text, 6, "max", Some(Uint(max.into())));
    let mut entry = |key, value| yaml::entry(&mut text, 4, key, value);
    entry("state", Some(Str(state(p))));
    if let Some(mode) = p.replicas.standby {
        entry("standby", Some(Str(mode.as_str())));
    }
    text
}

/// Each placement's [`row`] (see [`Rows`]): taken from `cached` where it has the row
/// (looked up by the placement's position in the plan), else written (in parallel: 30,678
/// rows at 1000×2000, and a list item's text does not depend on its neighbours).
pub(super) fn rows(plan: &Plan, cached: &(dyn Fn(usize) -> Option<Arc<str>> + Sync)) -> Rows {
    let (rows, taken): (Vec<Arc<str>>, Vec<bool>) = (plan.placements.par_iter().enumerate())
        .map(|(i, p)| match cached(i) {
            Some(row) => (row, true),
            None => (Arc::from(row(p)), false),
        })
        .unzip();
    let reused = taken.iter().filter(|t| **t).count();
    Rows { rows, reused }
}

/// Each placement's row, in plan order, and how many were taken from a cache.
#[derive(Default)]
pub(super) struct Rows {
    pub rows: Vec<Arc<str>>,
    pub reused: usize,
}

/// `fleet.yaml`: every placement, sorted by app then cluster, each by its row in `rows`
/// (see [`rows`]).
pub(super) fn render(sources: &Sources, plan: &Plan, rows: &[Arc<str>]) -> String {
    // The plan is in cluster order, then app order: sorted by app alone, stably, each app's
    // placements stay in cluster order.
    let mut order: Vec<(&str, usize)> = (0..plan.placements.len().min(rows.len()))
        .map(|i| (plan.placements[i].app_name(), i))
        .collect();
    order.sort_by(|a, b| a.0.cmp(b.0));
    let items: Vec<&str> = order.into_iter().map(|(_, i)| &*rows[i]).collect();
    // The traffic switches in force, in the order they are written (clusters, fleet, apps).
    let switches: Vec<Value> = edge::switches(sources)
        .into_iter()
        .filter(|s| s.active(sources.today))
        .map(|s| {
            let mut v = json!({
                "switch": match s.action {
                    Action::OutOfRotation => "out-of-rotation".to_string(),
                    Action::Weight(_) => "weight".to_string(),
                },
            });
            if let Some(app) = s.app() {
                v["app"] = json!(app);
            }
            if let Some(c) = s.cluster {
                v["cluster"] = json!(c);
            }
            if let Some(r) = &s.region {
                v["region"] = json!(r);
            }
            if let Action::Weight(w) = s.action {
                v["weight"] = json!(w);
            }
            v["reason"] = json!(s.reason);
            if let Some(e) = s.expires {
                v["expires"] = json!(e);
            }
            v["source"] = json!(s.file_path(sources));
            v
        })
        .collect();
    let mut text = format!("{}# sources: fleet.yaml, clusters/, apps/\n", layout::HEADER);
    yaml::write(&mut text, &json!({ "fleet": plan.fleet.value.name.as_str() }));
    if items.is_empty() {
        yaml::write(&mut text, &json!({ "placements": [] }));
    } else {
        text.push_str("placements:\n");
        text.reserve(items.iter().map(|i| i.len()).sum());
        for item in items {
            text.push_str(item);
        }
    }
    if !switches.is_empty() {
        yaml::write(&mut text, &json!({ "trafficSwitches": switches }));
    }
    let incidents = incident_switches(sources);
    if !incidents.is_empty() {
        yaml::write(&mut text, &json!({ "incidentSwitches": incidents }));
    }
    text
}

/// The incident switches of fleet.yaml in force today, in the order written (freeze,
/// blocked images, scale-downs, audit-only).
fn incident_switches(sources: &Sources) -> Vec<Value> {
    let Some(fleet) = &sources.fleet else {
        return Vec::new();
    };
    let today = sources.today;
    let s = &fleet.value.switches;
    let holds = |expires: Option<&str>| crate::resolve::incidents::holds(expires, today);
    let with = |mut v: Value, reason: &str, owner: &str, expires: Option<&str>| {
        v["reason"] = json!(reason);
        v["owner"] = json!(owner);
        if let Some(e) = expires {
            v["expires"] = json!(e);
        }
        v
    };
    let mut out = Vec::new();
    for f in s.freeze.iter().filter(|f| holds(f.expires.as_deref())) {
        let rings: Vec<&str> = match f.rings.is_empty() {
            true => fleet.value.rings.iter().map(|r| r.name.as_str()).collect(),
            false => f.rings.iter().map(|r| r.as_str()).collect(),
        };
        out.push(with(
            json!({"switch": "freeze", "rings": rings}),
            &f.reason,
            f.owner.as_str(),
            f.expires.as_deref(),
        ));
    }
    for b in s.block_images.iter().filter(|b| holds(b.expires.as_deref())) {
        out.push(with(
            json!({"switch": "block-image", "digest": b.digest}),
            &b.reason,
            b.owner.as_str(),
            b.expires.as_deref(),
        ));
    }
    for d in s.scale_down.iter().filter(|d| holds(d.expires.as_deref())) {
        let v = json!({"switch": "scale-down", "app": d.app.as_str(), "clusters": d.clusters.iter().map(|c| c.as_str()).collect::<Vec<_>>()});
        out.push(with(v, &d.reason, d.owner.as_str(), d.expires.as_deref()));
    }
    for r in s.revoke_identity.iter().filter(|r| holds(r.expires.as_deref())) {
        let mut v = json!({"switch": "revoke-identity", "app": r.app.as_str()});
        if !r.clusters.is_empty() {
            v["clusters"] = json!(r.clusters.iter().map(|c| c.as_str()).collect::<Vec<_>>());
        }
        out.push(with(v, &r.reason, r.owner.as_str(), r.expires.as_deref()));
    }
    for a in s.audit_only.iter().filter(|a| holds(Some(&a.expires))) {
        out.push(with(
            json!({"switch": "audit-only", "intent": a.intent.as_str()}),
            &a.reason,
            a.owner.as_str(),
            Some(&a.expires),
        ));
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::load::fixture;
    use crate::model::app::DataMode;

    /// Replicas on the cluster as a map, as the matrix and the cluster summary were built.
    pub(in crate::emit) fn replicas(p: &Placement) -> Value {
        let (min, max) = replica_range(p);
        json!({"min": min, "max": max})
    }

    /// Adds `standby: <data mode>` to a row of a placement in a standby region of its app.
    pub(in crate::emit) fn mark_standby(row: &mut Value, p: &Placement) {
        if let Some(mode) = p.replicas.standby {
            row["standby"] = json!(mode.as_str());
        }
    }

    /// A row as the general writer makes it of a `serde_json` map, as the matrix was
    /// written before [`row`].
    fn row_as_map(p: &Placement) -> String {
        let c = &p.cluster.value;
        let mut row = json!({
            "app": p.app_name(),
            "cluster": p.cluster_id(),
            "environment": c.environment.as_str(),
            "region": format!("{}:{}", c.provider, c.region),
            "ring": c.upgrade_channel.as_str(),
            "version": p.release().version,
            "dataMode": p.app.value.data.as_ref().map(|d| d.mode.as_str()),
            "delivery": if p.app.value.chart.is_some() { "helm" } else { "manifests" },
            "replicas": replicas(p),
            "state": state(p),
        });
        mark_standby(&mut row, p);
        let mut text = String::new();
        yaml::write(&mut text, &json!({ "placements": [row] }));
        text.strip_prefix("placements:\n").unwrap_or_default().to_string()
    }

    /// Every row of the fixture fleet, and of it with kill switches on and standby regions,
    /// is what the general writer makes of it.
    #[test]
    fn rows_are_what_the_general_writer_makes_of_them() {
        let sources = fixture::sources(&[]);
        let (plan, problems) = crate::resolve::plan::plan(&sources);
        let mut plan = plan.unwrap_or_else(|| panic!("{problems:?}"));
        assert!(plan.placements.len() >= 4, "{}", plan.placements.len());
        for p in &plan.placements {
            assert_eq!(row(p), row_as_map(p));
        }
        for (i, p) in plan.placements.iter_mut().enumerate() {
            match i % 4 {
                0 => p.drained = Some("incident".into()),
                1 => p.scaled_down = Some("incident".into()),
                2 => p.suspended = Some("freeze".into()),
                _ => p.replicas.standby = Some(DataMode::WarmStandby),
            }
        }
        for p in &plan.placements {
            assert_eq!(row(p), row_as_map(p));
        }
    }
}
