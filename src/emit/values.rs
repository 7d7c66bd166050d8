//! Helm values for chart-deployed apps, each leaf remembering where it came from.
//!
//! Layers, later ones winning: `apps/<app>/values/common.yaml`, then
//! `values/<environment>.yaml`, then `values/<clusterId>.yaml`, then the values fleetgen
//! derives from the contract and the cluster in the keys of the chart's convention
//! ([`super::charts`]: replicas, autoscaling, labels, identity, spread, resources, image,
//! service, probes). Mappings merge key by key; a list replaces the list below it whole;
//! `null` removes a key of the layers below. Not one of the chart's own defaults: the null is
//! not kept, so Helm merges the default back (Helm deletes a default only when the values it
//! is given carry the null, and Flux's server-side apply drops nulls from `spec.values`).

use serde_json::{Map, Value, json};

use crate::load::yaml::{self, Node};
use crate::load::{Sources, ValuesFile};
use crate::model::app::TopologySpread;
use crate::resolve::plan::{Origin, Placement};
use crate::source::{FileId, SourceMap};

/// A values tree whose every node knows its origin.
#[derive(Clone, Debug)]
pub enum Tree {
    Leaf(Value, Origin),
    Seq(Vec<Tree>, Origin),
    Map(Vec<(String, Tree)>, Origin),
}

impl Tree {
    pub(crate) fn from_node(node: &Node, file: FileId) -> Tree {
        let origin = Origin::Source(file, node.span.clone());
        match &node.value {
            yaml::Value::Map(entries) => Tree::Map(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), Tree::from_node(&e.value, file)))
                    .collect(),
                origin,
            ),
            yaml::Value::Seq(items) => Tree::Seq(items.iter().map(|n| Tree::from_node(n, file)).collect(), origin),
            _ => Tree::Leaf(node.to_json(), origin),
        }
    }

    pub(super) fn leaf(value: Value, origin: &Origin) -> Tree {
        Tree::Leaf(value, origin.clone())
    }

    pub(super) fn map(entries: Vec<(&str, Tree)>, origin: &Origin) -> Tree {
        Tree::Map(
            entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            origin.clone(),
        )
    }

    /// Lays `over` on top of `self`.
    pub fn merge(&mut self, over: Tree) {
        match (self, over) {
            (Tree::Map(base, _), Tree::Map(top, _)) => {
                for (k, v) in top {
                    let at = base.iter().position(|(bk, _)| *bk == k);
                    match (at, &v) {
                        (Some(i), Tree::Leaf(Value::Null, _)) => {
                            base.remove(i);
                        }
                        (None, Tree::Leaf(Value::Null, _)) => {}
                        (Some(i), _) => base[i].1.merge(v),
                        (None, _) => base.push((k, v)),
                    }
                }
            }
            (slot, over) => *slot = over,
        }
    }

    /// The node at a path of keys.
    pub fn get(&self, path: &[&str]) -> Option<&Tree> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        match self {
            Tree::Map(entries, _) => entries.iter().find(|(k, _)| k == first)?.1.get(rest),
            _ => None,
        }
    }

    /// A leaf's value and origin.
    pub fn leaf_value(&self) -> Option<(&Value, Origin)> {
        match self {
            Tree::Leaf(v, o) => Some((v, o.clone())),
            _ => None,
        }
    }

    /// Where the node at a JSON pointer's segments (keys and list indexes) came from: the
    /// deepest node of the path that exists.
    pub fn origin_at(&self, segments: &[String]) -> Origin {
        let origin = match self {
            Tree::Leaf(_, o) | Tree::Seq(_, o) | Tree::Map(_, o) => o.clone(),
        };
        let Some((first, rest)) = segments.split_first() else {
            return origin;
        };
        let child = match self {
            Tree::Map(entries, _) => entries.iter().find(|(k, _)| k == first).map(|(_, v)| v),
            Tree::Seq(items, _) => first.parse::<usize>().ok().and_then(|i| items.get(i)),
            Tree::Leaf(..) => None,
        };
        child.map_or(origin, |c| c.origin_at(rest))
    }

    pub fn to_json(&self) -> Value {
        match self {
            Tree::Leaf(v, _) => v.clone(),
            Tree::Seq(items, _) => Value::Array(items.iter().map(Tree::to_json).collect()),
            Tree::Map(entries, _) => {
                let mut m = Map::new();
                for (k, v) in entries {
                    m.insert(k.clone(), v.to_json());
                }
                Value::Object(m)
            }
        }
    }

    /// Every leaf as (dotted path, value, origin), in document order.
    pub fn leaves(&self) -> Vec<(String, Value, Origin)> {
        let mut out = Vec::new();
        self.collect(String::new(), &mut out);
        out
    }

    fn collect(&self, path: String, out: &mut Vec<(String, Value, Origin)>) {
        match self {
            Tree::Leaf(v, o) => out.push((path, v.clone(), o.clone())),
            Tree::Seq(items, o) if items.is_empty() => out.push((path, json!([]), o.clone())),
            Tree::Map(entries, o) if entries.is_empty() => out.push((path, json!({}), o.clone())),
            Tree::Seq(items, _) => {
                for (i, item) in items.iter().enumerate() {
                    item.collect(format!("{path}[{i}]"), out);
                }
            }
            Tree::Map(entries, _) => {
                for (k, v) in entries {
                    let simple = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    let key = if simple { k.clone() } else { format!("\"{k}\"") };
                    let p = if path.is_empty() { key } else { format!("{path}.{key}") };
                    v.collect(p, out);
                }
            }
        }
    }
}

/// The values files that apply to a placement, in layer order.
pub fn layers<'s>(sources: &'s Sources, p: &Placement) -> Vec<&'s ValuesFile> {
    let files = &sources.files;
    let names = [
        "common".to_string(),
        p.cluster.value.environment.to_string(),
        p.cluster_id().to_string(),
    ];
    let mut out = Vec::new();
    for name in &names {
        let wanted = format!("apps/{}/values/{name}.yaml", p.app_name());
        out.extend(sources.values.iter().filter(|v| files.get(v.file).path == wanted));
    }
    out
}

/// The merged values of a chart app on one cluster.
pub fn values(sources: &Sources, p: &Placement) -> Tree {
    let mut tree = Tree::Map(Vec::new(), Origin::Default("empty values"));
    for layer in layers(sources, p) {
        if !matches!(layer.node.value, yaml::Value::Null) {
            tree.merge(Tree::from_node(&layer.node, layer.file));
        }
    }
    let mut derived = super::charts::derived(p);
    // Volumes fleetgen adds come after the values files' own, not instead of them.
    if let (Tree::Map(ours, _), Tree::Map(theirs, _)) = (&mut derived, &tree) {
        for (key, list) in ours.iter_mut() {
            if !super::charts::APPENDED.contains(&key.as_str()) {
                continue;
            }
            if let (Tree::Seq(items, _), Some((_, Tree::Seq(before, _)))) =
                (list, theirs.iter().find(|(k, _)| k == key))
            {
                items.splice(0..0, before.iter().cloned());
            }
        }
    }
    tree.merge(derived);
    tree
}

/// `tree` over the chart's own defaults (`apps/<app>/chart/values.yaml`, when vendored): the
/// values Helm hands the chart's templates and its schema.
pub fn with_chart_defaults(sources: &Sources, p: &Placement, tree: Tree) -> Tree {
    match sources.chart_defaults.iter().find(|d| d.app == p.app_name()) {
        Some(d) if matches!(d.node.value, yaml::Value::Map(_)) => {
            let mut base = Tree::from_node(&d.node, d.file);
            base.merge(tree);
            base
        }
        _ => tree,
    }
}

/// `s` as a container image tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, other characters as `-`.
pub fn tag_safe(s: &str) -> String {
    let mut tag: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(128)
        .collect();
    if tag.is_empty() || tag.starts_with(['.', '-']) {
        tag.insert(0, '_');
        tag.truncate(128);
    }
    tag
}

/// Topology key and `whenUnsatisfiable` for a contract's spread: zones are a promise
/// (DoNotSchedule), hosts a preference (ScheduleAnyway).
pub fn spread(s: TopologySpread) -> Option<(&'static str, &'static str)> {
    match s {
        TopologySpread::Zone => Some(("topology.kubernetes.io/zone", "DoNotSchedule")),
        TopologySpread::Hostname => Some(("kubernetes.io/hostname", "ScheduleAnyway")),
        TopologySpread::None => None,
    }
}

/// `fleetgen render --explain-values`: each leaf with where it came from.
pub fn explain(sources: &Sources, p: &Placement, files: &SourceMap) -> String {
    let mut out = format!(
        "# Helm values of `{}` on `{}`; later layers win:\n",
        p.app_name(),
        p.cluster_id()
    );
    let layer_names = [
        format!("apps/{}/values/common.yaml", p.app_name()),
        format!("apps/{}/values/{}.yaml", p.app_name(), p.cluster.value.environment),
        format!("apps/{}/values/{}.yaml", p.app_name(), p.cluster_id()),
    ];
    let present = layers(sources, p);
    for (i, name) in layer_names.iter().enumerate() {
        let found = present.iter().any(|v| files.get(v.file).path == *name);
        out.push_str(&format!(
            "#   {}. {name}{}\n",
            i + 1,
            if found { "" } else { " (absent)" }
        ));
    }
    out.push_str("#   4. derived by fleetgen from the contract and the cluster\n");
    let tree = values(sources, p);
    let rows: Vec<(String, String)> = tree
        .leaves()
        .into_iter()
        .map(|(path, value, origin)| (format!("{path} = {value}"), origin.describe(files)))
        .collect();
    let width = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0).min(72);
    for (left, origin) in rows {
        let pad = width.saturating_sub(left.chars().count());
        out.push_str(&format!("{left}{}  # {origin}\n", " ".repeat(pad)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::fixture;
    use crate::resolve::plan;

    /// web as a chart app, with values in every layer.
    fn chart_fleet() -> Sources {
        let web = format!(
            "{}chart:\n  repository: oci://registry.example.com/charts\n  name: web\n  version: 1.2.3\n",
            fixture::text("apps/web/app.yaml")
        );
        fixture::sources(&[
            ("apps/web/app.yaml", &web),
            (
                "apps/web/values/common.yaml",
                "ingress:\n  enabled: false\nextraEnv: [a, b]\nreplicaCount: 99\nfeature:\n  x: 1\n  y: 2\n",
            ),
            ("apps/web/values/prod.yaml", "extraEnv: [c]\nfeature:\n  y: null\n"),
            ("apps/web/values/eastus-prod-01.yaml", "feature:\n  x: 3\n"),
        ])
    }

    #[test]
    fn layers_merge_in_order_lists_replace_null_removes_and_fleetgen_wins() {
        let sources = chart_fleet();
        let (plan, _) = plan::plan(&sources);
        let plan = plan.unwrap();
        let p = plan.placement("web", "eastus-prod-01").unwrap();
        let names: Vec<&str> = layers(&sources, p)
            .iter()
            .map(|v| sources.files.get(v.file).path.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "apps/web/values/common.yaml",
                "apps/web/values/prod.yaml",
                "apps/web/values/eastus-prod-01.yaml"
            ]
        );
        let v = values(&sources, p).to_json();
        assert_eq!(v["extraEnv"], json!(["c"]), "a list replaces the list below it");
        assert_eq!(v["feature"], json!({"x": 3}), "maps merge by key; null removes");
        assert_eq!(v["ingress"], json!({"enabled": false}), "untouched keys stay");
        assert_eq!(v["replicaCount"], json!(2), "fleetgen's derived values win");
        // helm-create renders `repository:tag`: the digest rides in the tag, after the version.
        assert_eq!(
            v["image"]["tag"].as_str(),
            Some("2026.07.03-1421@sha256:b9bd1f75820c6a6411c58300534b89faef06c015ebb0791ec0b4508e9c77cf49")
        );
        // The staging cluster does not read prod.yaml.
        let staging = plan.placement("web", "eastus-staging-01").unwrap();
        assert_eq!(values(&sources, staging).to_json()["extraEnv"], json!(["a", "b"]));
    }

    #[test]
    fn explain_names_the_file_and_line_of_each_value() {
        let sources = chart_fleet();
        let (plan, _) = plan::plan(&sources);
        let plan = plan.unwrap();
        let p = plan.placement("web", "eastus-prod-01").unwrap();
        let text = explain(&sources, p, &sources.files);
        let line = |key: &str| {
            text.lines()
                .find(|l| l.starts_with(key))
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            line("feature.x = 3").ends_with("# apps/web/values/eastus-prod-01.yaml:2:6"),
            "{text}"
        );
        assert!(line("replicaCount = 2").contains("# fleet.yaml:"), "{text}");
        assert!(text.contains("#   2. apps/web/values/prod.yaml\n"), "{text}");
    }

    #[test]
    fn a_tagged_image_keeps_its_tag_and_a_registry_port_is_not_one() {
        for (image, repo, tag) in [
            (
                "registry.example.com:5000/web",
                "registry.example.com:5000/web",
                "2026.07.03-1421",
            ),
            (
                "registry.example.com:5000/web:1.2",
                "registry.example.com:5000/web",
                "1.2",
            ),
        ] {
            let web = fixture::text("apps/web/app.yaml")
                .replace(
                    "registry.example.com/web@sha256:b9bd1f75820c6a6411c58300534b89faef06c015ebb0791ec0b4508e9c77cf49",
                    image,
                )
                .replace(
                    "traffic:",
                    "chart:\n  repository: oci://r.example.com/c\n  name: web\n  version: 1.0.0\ntraffic:",
                );
            let sources = fixture::sources(&[("apps/web/app.yaml", &web)]);
            let (plan, _) = plan::plan(&sources);
            let plan = plan.unwrap();
            let p = plan.placements.iter().find(|p| p.app_name() == "web").unwrap();
            let v = values(&sources, p).to_json();
            assert_eq!(
                (v["image"]["repository"].as_str(), v["image"]["tag"].as_str()),
                (Some(repo), Some(tag))
            );
        }
    }
}
