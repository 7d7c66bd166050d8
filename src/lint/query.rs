//! Questions several rules ask of the fleet: versions in order, where a value came from,
//! how many replicas a placement runs and what its PodDisruptionBudget allows, where an app
//! takes requests.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diag::{Diagnostic, Label};
use crate::emit::RenderedObject;
use crate::lint::{Context, region_of};
use crate::load::Doc;
use crate::model::{App, Environment};
use crate::resolve::edge;
use crate::resolve::plan::Origin;
use crate::source::{FileId, SourceMap, Span};

/// Compares versions as semantic versions are ordered: by their core, part by part
/// (`1.9.2` < `1.10.0`, `1.34` < `1.34.1`), then a release above its pre-releases
/// (`2.18.0-rc.1` < `2.18.0`), then the pre-release parts (`rc.9` < `rc.10`). A leading `v`
/// and build metadata (`+abc`) are ignored; parts that are not numbers compare as text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn split(v: &str) -> (&str, Option<&str>) {
        let v = v.split('+').next().unwrap_or(v).trim_start_matches('v');
        match v.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (v, None),
        }
    }
    let ((ca, pa), (cb, pb)) = (split(a), split(b));
    compare_parts(ca, cb).then_with(|| match (pa, pb) {
        (None, None) => Ordering::Equal,
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(x), Some(y)) => compare_parts(x, y),
    })
}

/// Dotted (or dashed) parts in order, numbers as numbers; more parts are newer.
fn compare_parts(a: &str, b: &str) -> Ordering {
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split(['.', '-']).collect(), b.split(['.', '-']).collect());
    for (x, y) in pa.iter().zip(&pb) {
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            _ => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    pa.len().cmp(&pb.len())
}

pub use crate::diag::and_list;

/// `cluster `x`` for one cluster, `3 clusters` for more.
pub fn on_clusters(clusters: &BTreeSet<String>) -> String {
    match clusters.iter().collect::<Vec<_>>()[..] {
        [one] => format!("cluster `{one}`"),
        _ => format!("{} clusters", clusters.len()),
    }
}

/// Names the app and the cluster a finding is about, when it is about exactly one.
pub fn about(mut d: Diagnostic, apps: &BTreeSet<String>, clusters: &BTreeSet<String>) -> Diagnostic {
    if let [app] = apps.iter().collect::<Vec<_>>()[..] {
        d = d.for_app(app.as_str());
    }
    if let [cluster] = clusters.iter().collect::<Vec<_>>()[..] {
        d = d.on_cluster(cluster.as_str());
    }
    d
}

/// A label where a resolved value came from; a built-in default is shown at `fallback`.
pub fn origin_label(origin: &Origin, app: &Doc<App>, fallback: &[&str], text: impl Into<String>) -> Label {
    match origin {
        Origin::Source(file, span) | Origin::Derived(file, span, _) => Label::new(*file, span.clone(), text),
        Origin::Default(_) => app.label(fallback, text),
    }
}

/// The first place `needle` appears in a source file (a template), or its start. A
/// `key: value` needle (`kind: Secret`) is found as YAML writes it: the key and the value
/// either plain or quoted (`"kind": 'Secret'`), with any spaces after the colon, and the
/// value whole (`kind: Secret` is not `kind: SecretProviderClass`).
pub fn find_in(files: &SourceMap, file: FileId, needle: &str) -> Span {
    let text = &files.get(file).text;
    let found = match needle.split_once(": ") {
        Some((key, value)) => find_entry(text, key, value),
        None => text.find(needle).map(|at| at..at + needle.len()),
    };
    found.unwrap_or(0..0)
}

/// The first `key: value` entry of `text`, each plain or in single or double quotes.
fn find_entry(text: &str, key: &str, value: &str) -> Option<Span> {
    let quoted = |rest: &str, word: &str| -> Option<usize> {
        for quote in ["", "\"", "'"] {
            if let Some(after) = rest.strip_prefix(quote).and_then(|r| r.strip_prefix(word))
                && let Some(after) = after.strip_prefix(quote)
            {
                return Some(rest.len() - after.len());
            }
        }
        None
    };
    let mut from = 0;
    while let Some(found) = text[from..].find(key) {
        let at = from + found;
        from = at + key.len();
        // The key starts a word (or its quote does).
        let start = match text[..at].chars().next_back() {
            Some(q @ ('"' | '\'')) => at - q.len_utf8(),
            _ => at,
        };
        let before = text[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || "_-./".contains(c)) {
            continue;
        }
        let Some(key_len) = quoted(&text[start..], key) else {
            continue;
        };
        let Some(rest) = text[start + key_len..].strip_prefix(':') else {
            continue;
        };
        let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let rest = &rest[spaces..];
        let Some(value_len) = quoted(rest, value) else { continue };
        // The value whole: what follows it ends it.
        let after = rest[value_len..].chars().next();
        if after.is_some_and(|c| !(c.is_whitespace() || ",}]#".contains(c))) {
            continue;
        }
        let end = start + key_len + 1 + spaces + value_len;
        return Some(start..end);
    }
    None
}

/// Every pod template in an object, wherever the kind keeps it: a mapping under a
/// `template` key whose `spec` has `containers`. Returns (JSON pointer, template).
pub fn pod_templates(value: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    let mut at = Vec::new();
    walk(value, &mut at, &mut out);
    out
}

/// A step of the path [`walk`] is at: a key or a position.
enum Step<'v> {
    Key(&'v str),
    At(usize),
}

/// Depth-first; the path is kept as steps, and escaped and joined only for a template found.
fn walk<'v>(value: &'v Value, at: &mut Vec<Step<'v>>, out: &mut Vec<(String, &'v Value)>) {
    let pointer = |at: &[Step]| {
        let mut p = String::new();
        for step in at {
            p.push('/');
            match step {
                Step::Key(k) => p.push_str(&k.replace('~', "~0").replace('/', "~1")),
                Step::At(i) => p.push_str(&i.to_string()),
            }
        }
        p
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if !(v.is_object() || v.is_array()) {
                    continue;
                }
                at.push(Step::Key(k));
                if k == "template"
                    && v.get("spec")
                        .and_then(|s| s.get("containers"))
                        .is_some_and(Value::is_array)
                {
                    out.push((pointer(at), v));
                }
                walk(v, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                if !(v.is_object() || v.is_array()) {
                    continue;
                }
                at.push(Step::At(i));
                walk(v, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// The value a JSON pointer (`/spec/template/metadata/labels`) names, as
/// [`Value::pointer`] finds it, without its copy of every step: lint follows a pointer or
/// two for every rendered object.
pub fn pointer<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        return Some(value);
    }
    let mut at = value;
    for step in pointer.strip_prefix('/')?.split('/') {
        let step = if step.contains('~') {
            std::borrow::Cow::Owned(step.replace("~1", "/").replace("~0", "~"))
        } else {
            std::borrow::Cow::Borrowed(step)
        };
        at = match at {
            Value::Object(map) => map.get(step.as_ref())?,
            Value::Array(items) => {
                // As `Value::pointer` reads an index: digits, no sign, no leading zero.
                let leading_zero = step.len() > 1 && step.starts_with('0');
                if leading_zero || !step.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                items.get(step.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(at)
}

/// The regions (`provider:region`) where `app` takes requests in `env` while all is healthy,
/// among those that run it (not drained, not scaled down to zero): those of the edges'
/// first-priority origins as the contract routes them, every switch off (see
/// [`edge::first_priority`]: not `role: standby` clusters, weight-0 last resorts, or the
/// regions after the first under `failover`), and those where an app whose `dependsOn` names
/// it takes requests itself, since a dependent calls it in its own cluster. An app without
/// `traffic.routing` takes them wherever it runs.
pub fn serving_regions<'s>(ctx: &Context<'s>, app: &'s Doc<App>, env: Environment) -> BTreeSet<String> {
    serving(ctx, app, env, &mut Vec::new())
}

/// [`serving_regions`], through the dependents of the apps on `path` (a cycle of
/// `dependsOn`, FG027's, adds nothing).
fn serving<'s>(ctx: &Context<'s>, app: &'s Doc<App>, env: Environment, path: &mut Vec<&'s str>) -> BTreeSet<String> {
    let name = app.value.application.name.as_str();
    if path.contains(&name) {
        return BTreeSet::new();
    }
    // cluster id → region of the clusters that run it in `env`.
    let running: BTreeMap<&str, String> = (ctx.running(name))
        .filter(|p| p.cluster.value.environment == env)
        .map(|p| (p.cluster.value.cluster_id.as_str(), region_of(p)))
        .collect();
    let mut out: BTreeSet<String> = match app.value.traffic.routing {
        None => running.values().cloned().collect(),
        Some(routing) => {
            // Drained and scaled-down clusters are no origins: the next priority takes over.
            let origins: Vec<edge::Origin> = (edge::planned_origins(ctx.sources, app, env).into_iter())
                .filter(|o| running.contains_key(o.id()))
                .collect();
            (edge::first_priority(routing, &origins).into_iter())
                .map(|o| o.region.clone())
                .collect()
        }
    };
    path.push(name);
    for caller in &ctx.sources.apps {
        if caller.value.depends_on.iter().any(|d| d.service.as_str() == name) {
            let theirs = serving(ctx, caller, env, path);
            out.extend(theirs.into_iter().filter(|r| running.values().any(|mine| mine == r)));
        }
    }
    path.pop();
    out
}

/// A string label of a label mapping (what `/metadata/labels` points to), if there is one.
pub fn label_of<'v>(labels: Option<&'v Value>, key: &str) -> Option<&'v str> {
    labels?.get(key)?.as_str()
}

/// A workload of a placement with the replicas it runs and its PodDisruptionBudget.
pub struct Workload<'a> {
    /// `spec.replicas`, else the HorizontalPodAutoscaler's `minReplicas`, else 1.
    pub replicas: u32,
    pub budget: Option<Budget<'a>>,
}

/// A PodDisruptionBudget and what it allows.
pub struct Budget<'a> {
    pub object: &'a RenderedObject,
    /// The field of its spec that sets what it allows (`minAvailable`, `maxUnavailable`, or
    /// `selector` when another budget selects the same pods).
    pub field: &'static str,
    /// `minAvailable: 2` or `maxUnavailable: 25%`, as written.
    pub rule: String,
    /// How many pods it lets be evicted at once when all `replicas` are healthy.
    pub allowed: i64,
}

/// The workloads among a placement's objects: a Deployment, StatefulSet or ReplicaSet, and
/// any other kind with a pod template at `spec.template` (an Argo Rollout, an OpenKruise
/// CloneSet) that sets `spec.replicas` or that a HorizontalPodAutoscaler scales: their pods
/// are evicted through the same API. Not a DaemonSet (a drain skips its pods), a Job or a
/// CronJob (no replicas to keep).
pub fn workloads<'a>(objects: &[&'a RenderedObject]) -> Vec<Workload<'a>> {
    let mut out = Vec::new();
    for o in objects {
        // Finishing an object changes its labels and namespace only: kinds, names and specs
        // are read as written, pod labels (which the managed labels join) finished.
        let kind = o.kind();
        let written = o.written();
        let built_in = matches!(kind, "Deployment" | "StatefulSet" | "ReplicaSet");
        if !built_in
            && (matches!(kind, "DaemonSet" | "Job" | "CronJob" | "Pod")
                || crate::kube::pod_template_path(kind, written) != Some(&["spec", "template"][..]))
        {
            continue;
        }
        let name = written["metadata"]["name"].as_str().unwrap_or_default();
        let hpa = objects.iter().find(|h| {
            h.kind() == "HorizontalPodAutoscaler"
                && h.written()["spec"]["scaleTargetRef"]["kind"] == kind
                && h.written()["spec"]["scaleTargetRef"]["name"] == name
        });
        let replicas = written["spec"]["replicas"]
            .as_u64()
            .or_else(|| hpa.and_then(|h| h.written()["spec"]["minReplicas"].as_u64()));
        // Another kind's default replicas are its own: without either, it is not judged.
        if replicas.is_none() && !built_in {
            continue;
        }
        let replicas = replicas.map_or(1, |n| u32::try_from(n).unwrap_or(u32::MAX));
        let finished = o.object();
        let pod_labels = &finished["spec"]["template"]["metadata"]["labels"];
        let mut budgets = (objects.iter())
            .filter(|b| b.kind() == "PodDisruptionBudget")
            .filter(|b| selects(&b.written()["spec"]["selector"], pod_labels));
        let budget = match (budgets.next(), budgets.next()) {
            (Some(b), None) => budget(b, replicas),
            // The eviction API refuses (500) to evict a pod that more than one budget selects.
            (Some(_), Some(second)) => Some(Budget {
                object: second,
                field: "selector",
                rule: format!("one of {} that select the same pods", 2 + budgets.count()),
                allowed: 0,
            }),
            (None, _) => None,
        };
        out.push(Workload { replicas, budget });
    }
    out
}

/// Whether a label selector selects a pod with `labels`, as the eviction API reads it
/// (`metav1.LabelSelectorAsSelector`): every `matchLabels` entry and every `matchExpressions`
/// requirement holds. A selector with neither selects nothing (eviction skips an empty
/// one), nor does one the API server refuses (an unknown operator, `In` or `NotIn` without
/// values, `Exists` or `DoesNotExist` with some).
pub fn selects(selector: &Value, labels: &Value) -> bool {
    let no_labels = serde_json::Map::new();
    let want = match selector.get("matchLabels") {
        None | Some(Value::Null) => &no_labels,
        Some(Value::Object(want)) => want,
        Some(_) => return false,
    };
    let expressions: &[Value] = match selector.get("matchExpressions") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(expressions)) => expressions,
        Some(_) => return false,
    };
    if want.is_empty() && expressions.is_empty() {
        return false;
    }
    want.iter().all(|(k, v)| labels.get(k) == Some(v))
        && expressions.iter().all(|e| requirement_holds(e, labels) == Some(true))
}

/// Whether one `matchExpressions` requirement holds on `labels`, with Kubernetes' meaning:
/// `NotIn` and `DoesNotExist` hold on a pod without the key. `None` for a requirement the
/// API server refuses.
fn requirement_holds(requirement: &Value, labels: &Value) -> Option<bool> {
    let key = requirement.get("key")?.as_str()?;
    let values: Vec<&str> = match requirement.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => values.iter().map(Value::as_str).collect::<Option<_>>()?,
        Some(_) => return None,
    };
    let has = labels.get(key).and_then(Value::as_str);
    match (requirement.get("operator")?.as_str()?, values.is_empty()) {
        ("In", false) => Some(has.is_some_and(|v| values.contains(&v))),
        ("NotIn", false) => Some(has.is_none_or(|v| !values.contains(&v))),
        ("Exists", true) => Some(has.is_some()),
        ("DoesNotExist", true) => Some(has.is_none()),
        _ => None,
    }
}

fn budget(b: &RenderedObject, replicas: u32) -> Option<Budget<'_>> {
    let (field, rule, allowed) = allows(&b.written()["spec"], replicas)?;
    Some(Budget {
        object: b,
        field,
        rule,
        allowed,
    })
}

/// What a budget with `spec` allows at `replicas` healthy pods: the field that says, as
/// written, and how many pods may go at once. `None` when it sets neither field, or sets
/// what the API server refuses (both, a negative number, a percentage not 0–100%).
fn allows(spec: &Value, replicas: u32) -> Option<(&'static str, String, i64)> {
    let r = i64::from(replicas);
    // Kubernetes scales percentages against the expected pods, rounding up.
    let scaled = |v: &Value| -> Option<i64> {
        match v {
            Value::Number(n) => n.as_i64().filter(|n| *n >= 0),
            Value::String(s) => {
                let digits = s
                    .strip_suffix('%')
                    .filter(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()))?;
                let pct: i64 = digits.parse().ok().filter(|p| *p <= 100)?;
                Some((pct * r + 99) / 100)
            }
            _ => None,
        }
    };
    let (field, v) = match (spec.get("minAvailable"), spec.get("maxUnavailable")) {
        (Some(v), None) => ("minAvailable", v),
        (None, Some(v)) => ("maxUnavailable", v),
        _ => return None,
    };
    let n = scaled(v)?;
    let shown = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let allowed = if field == "minAvailable" { r - n } else { n };
    Some((field, format!("{field}: {shown}"), allowed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_compare_by_number() {
        assert_eq!(compare_versions("1.9.2", "1.10.0"), Ordering::Less);
        assert_eq!(compare_versions("v1.34", "1.34"), Ordering::Equal);
        assert_eq!(compare_versions("1.34.1", "1.34"), Ordering::Greater);
        assert_eq!(compare_versions("2.16.1", "2.17.2"), Ordering::Less);
        // A release above its pre-releases, the pre-releases in order, metadata ignored.
        assert_eq!(compare_versions("2.18.0-rc.1", "2.18.0"), Ordering::Less);
        assert_eq!(compare_versions("2.17.2", "2.17.2-rc.1"), Ordering::Greater);
        assert_eq!(compare_versions("1.4.0-rc.9", "1.4.0-rc.10"), Ordering::Less);
        assert_eq!(compare_versions("2026.07.03-0955", "2026.07.03-1421"), Ordering::Less);
        assert_eq!(compare_versions("v2.17.02+build.7", "2.17.2"), Ordering::Equal);
    }

    /// Budgets as the disruption controller counts them (percentages rounded up); what the
    /// API server refuses allows nothing to judge, and never overflows.
    #[test]
    fn budgets_allow_what_kubernetes_allows() {
        let allowed = |spec: Value, replicas| allows(&spec, replicas).map(|(_, _, n)| n);
        assert_eq!(allowed(json!({"minAvailable": 2}), 3), Some(1));
        assert_eq!(allowed(json!({"minAvailable": "60%"}), 2), Some(0));
        assert_eq!(allowed(json!({"minAvailable": "50%"}), 3), Some(1));
        assert_eq!(allowed(json!({"maxUnavailable": "25%"}), 3), Some(1));
        assert_eq!(allowed(json!({"maxUnavailable": 0}), 3), Some(0));
        assert_eq!(allowed(json!({"minAvailable": 5}), 3), Some(-2));
        for refused in [
            json!({"minAvailable": "9223372036854775807%"}),
            json!({"minAvailable": "101%"}),
            json!({"maxUnavailable": "-50%"}),
            json!({"maxUnavailable": "+50%"}),
            json!({"maxUnavailable": "%"}),
            json!({"minAvailable": i64::MIN}),
            json!({"minAvailable": -1}),
            json!({"minAvailable": 1, "maxUnavailable": 1}),
            json!({}),
        ] {
            assert_eq!(allowed(refused.clone(), u32::MAX), None, "{refused}");
        }
        let (field, rule, _) = allows(&json!({"maxUnavailable": "25%"}), 3).unwrap();
        assert_eq!((field, rule.as_str()), ("maxUnavailable", "maxUnavailable: 25%"));
    }

    /// Selectors as the eviction API matches them: `matchLabels` and `matchExpressions` both
    /// hold; `NotIn` and `DoesNotExist` hold without the key; an empty or refused selector
    /// selects nothing.
    #[test]
    fn selectors_select_as_the_eviction_api_does() {
        let pod = json!({"app": "api", "tier": "web"});
        let selects = |selector: Value| selects(&selector, &pod);
        let expr =
            |key: &str, operator: &str, values: Value| json!({"key": key, "operator": operator, "values": values});
        assert!(selects(json!({"matchLabels": {"app": "api"}})));
        assert!(!selects(json!({"matchLabels": {"app": "web"}})));
        assert!(selects(
            json!({"matchExpressions": [expr("app", "In", json!(["web", "api"]))]})
        ));
        assert!(!selects(
            json!({"matchExpressions": [expr("app", "In", json!(["web"]))]})
        ));
        assert!(!selects(
            json!({"matchExpressions": [expr("zone", "In", json!(["a"]))]})
        ));
        assert!(selects(
            json!({"matchExpressions": [expr("app", "NotIn", json!(["web"]))]})
        ));
        assert!(!selects(
            json!({"matchExpressions": [expr("app", "NotIn", json!(["api"]))]})
        ));
        assert!(selects(
            json!({"matchExpressions": [expr("zone", "NotIn", json!(["a"]))]})
        ));
        assert!(selects(
            json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]})
        ));
        assert!(!selects(
            json!({"matchExpressions": [{"key": "zone", "operator": "Exists"}]})
        ));
        assert!(selects(
            json!({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]})
        ));
        assert!(!selects(
            json!({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]})
        ));
        // Both parts must hold.
        let both = |app: &str, tier: &str| json!({"matchLabels": {"app": app}, "matchExpressions": [expr("tier", "In", json!([tier]))]});
        assert!(selects(both("api", "web")));
        assert!(!selects(both("api", "db")));
        assert!(!selects(both("web", "web")));
        // Empty, or refused by the API server: nothing.
        for nothing in [
            json!({}),
            json!({"matchLabels": {}}),
            json!({"matchLabels": {}, "matchExpressions": []}),
            json!({"matchExpressions": [expr("app", "In", json!([]))]}),
            json!({"matchExpressions": [{"key": "app", "operator": "In"}]}),
            json!({"matchExpressions": [expr("app", "Exists", json!(["api"]))]}),
            json!({"matchExpressions": [expr("app", "Gt", json!(["1"]))]}),
            json!({"matchExpressions": [{"operator": "Exists"}]}),
            json!({"matchExpressions": [expr("app", "In", json!([1]))]}),
            json!({"matchExpressions": {"key": "app"}}),
            json!({"matchLabels": ["app"]}),
        ] {
            assert!(!selects(nothing.clone()), "{nothing}");
        }
    }

    #[test]
    fn finds_pod_templates_of_any_kind() {
        let rollout = json!({"kind": "Rollout", "spec": {"template": {"metadata": {}, "spec": {"containers": []}}}});
        let found = pod_templates(&rollout);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "/spec/template");
        assert!(pod_templates(&json!({"spec": {"template": {"spec": {}}}})).is_empty());
    }

    /// `apiVersion: X` and `kind: X` are found however the template quotes them, and only
    /// as a whole entry.
    #[test]
    fn finds_an_entry_plain_or_quoted() {
        fn at<'t>(text: &'t str, needle: &str) -> Option<&'t str> {
            let (key, value) = needle.split_once(": ").unwrap();
            find_entry(text, key, value).map(|s| &text[s])
        }
        let text = "{# a comment #}\napiVersion: \"autoscaling/v2beta2\"\nkind:   'HorizontalPodAutoscaler'\n";
        assert_eq!(
            at(text, "apiVersion: autoscaling/v2beta2"),
            Some("apiVersion: \"autoscaling/v2beta2\"")
        );
        assert_eq!(
            at(text, "kind: HorizontalPodAutoscaler"),
            Some("kind:   'HorizontalPodAutoscaler'")
        );
        assert_eq!(
            at("{\"kind\": \"Secret\"}", "kind: Secret"),
            Some("\"kind\": \"Secret\"")
        );
        assert_eq!(at("kind: Secret", "kind: Secret"), Some("kind: Secret"));
        // Not another kind that starts the same, another key that ends the same, or
        // quotes that do not pair.
        let text = "kind: SecretProviderClass\nsubkind: Secret\nkind: \"Secret'\n---\nkind: Secret # here\n";
        assert_eq!(
            find_entry(text, "kind", "Secret").map(|s| s.start),
            text.find("kind: Secret #")
        );
        assert_eq!(at("kind: Deployment", "kind: Secret"), None);
    }

    #[test]
    fn a_pointer_finds_what_serde_json_finds() {
        let v = json!({
            "spec": {"template": {"metadata": {"labels": {"a": "1"}}}},
            "a/b": {"c~d": [10, 11, {"e": null}]},
            "": {"": 1},
        });
        for p in [
            "",
            "/spec/template/metadata/labels",
            "/spec/template/metadata/labels/a",
            "/a~1b/c~0d/1",
            "/a~1b/c~0d/2/e",
            "/a~1b/c~0d/01",
            "/a~1b/c~0d/+1",
            "/a~1b/c~0d/3",
            "/a~1b/c~0d/-",
            "/spec/missing",
            "/spec/template/metadata/labels/a/deeper",
            "/",
            "//",
            "spec",
        ] {
            assert_eq!(pointer(&v, p), v.pointer(p), "{p}");
        }
    }
}
