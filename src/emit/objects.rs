//! From template output to finished objects: split the YAML stream, check each document
//! is a Kubernetes object, set its namespace, add the managed labels to it and to its pod
//! template, and put keys in conventional order.

use serde_json::{Map, Value};

use crate::diag::{Diagnostic, Label, codes};
pub use crate::kube::Object;
use crate::kube::{is_cluster_scoped, pod_template_path};
use crate::load::yaml;
use crate::source::{FileId, SourceFile, SourceMap};

/// The documents of one template's output, as objects. Empty documents are skipped.
pub fn parse(text: &str, template: FileId, files: &SourceMap) -> Result<Vec<Object>, Box<Diagnostic>> {
    let mut objects = Vec::new();
    let mut first_line = 1;
    for doc in split_documents(text) {
        let lines = doc.lines().count() + 1;
        let meaningful = doc.lines().any(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        });
        if meaningful {
            objects.push(parse_one(doc, first_line, template, files)?);
        }
        first_line += lines;
    }
    Ok(objects)
}

/// Splits at `---` lines (document markers); `...` ends nothing special here.
fn split_documents(text: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") {
            docs.push(&text[start..at]);
            start = at + line.len();
        }
        at += line.len();
    }
    docs.push(&text[start..]);
    docs
}

fn output_error(template: FileId, files: &SourceMap, message: String, help: String) -> Box<Diagnostic> {
    Box::new(
        Diagnostic::error(
            codes::RENDERED_OBJECT,
            files,
            Label::new(template, 0..0, "this template"),
            message,
        )
        .with_help(help),
    )
}

fn parse_one(doc: &str, first_line: usize, template: FileId, files: &SourceMap) -> Result<Object, Box<Diagnostic>> {
    // Read as the subset templates write, or else (a line table built) by the general parser.
    let value = match yaml::subset::parse(doc) {
        Some(value) => value,
        None => {
            let file = SourceFile::new("<output>", doc);
            yaml::parse_json_here(&file).map_err(|e| {
                let (line, col) = file.line_col(e.span.start);
                let text = doc.lines().nth(line.saturating_sub(1)).unwrap_or("").trim_end();
                output_error(
                    template,
                    files,
                    format!("the template's output is not valid YAML: {}", e.message),
                    format!(
                        "output line {}, column {col}: `{text}`; quote values with `| tojson`",
                        first_line + line - 1
                    ),
                )
            })?
        }
    };
    let field = |v: &Value, path: &[&str]| -> Option<String> {
        let mut cur = v;
        for p in path {
            cur = cur.get(p)?;
        }
        cur.as_str().map(str::to_string)
    };
    let missing: Vec<&str> = [
        ("apiVersion", &["apiVersion"][..]),
        ("kind", &["kind"]),
        ("metadata.name", &["metadata", "name"]),
    ]
    .iter()
    .filter(|(_, path)| field(&value, path).is_none_or(|s| s.is_empty()))
    .map(|(n, _)| *n)
    .collect();
    if !value.is_object() || !missing.is_empty() {
        let first = doc
            .lines()
            .find(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
            .unwrap_or("");
        return Err(output_error(
            template,
            files,
            format!("the template rendered a document without {}", missing.join(", ")),
            format!(
                "a template renders Kubernetes objects; this document starts at output line {first_line}: `{}`",
                first.trim_end()
            ),
        ));
    }
    let namespace = field(&value, &["metadata", "namespace"]);
    Ok(Object {
        api_version: field(&value, &["apiVersion"]).unwrap_or_default(),
        kind: field(&value, &["kind"]).unwrap_or_default(),
        name: field(&value, &["metadata", "name"]).unwrap_or_default(),
        namespace,
        value,
    })
}

/// Sets the namespace (when the kind has one and the template left it out), merges the
/// managed labels into the object's and pod template's labels (the managed value wins),
/// and orders keys.
pub fn finish(obj: &mut Object, namespace: &str, labels: &[(String, String)], pod_labels: &[(String, String)]) {
    let template_path = pod_template_path(&obj.kind, &obj.value);
    merge(
        obj,
        template_path,
        namespace,
        &mut Managed::once(labels),
        &mut Managed::once(pod_labels),
    );
    canonical(&mut obj.value, None);
}

/// Managed labels to merge into the label maps of one placement's objects, with what
/// merging them gave for each map met so far: most of a placement's templates write the
/// same labels, so a map is merged once and cloned after (a clone copies the map's hash
/// table; merging hashes every key).
pub struct Managed<'a> {
    labels: &'a [(String, String)],
    /// Keys left out of a Job's pod template (see [`Managed::but_in_jobs`]).
    not_in_jobs: &'a [String],
    /// (a template's label map, that map merged), the first few met.
    merged: Vec<(Map<String, Value>, Map<String, Value>)>,
    /// How many maps to remember.
    remember: usize,
}

impl<'a> Managed<'a> {
    /// For the label maps of a placement's objects: the first eight remembered.
    pub fn new(labels: &'a [(String, String)]) -> Self {
        Managed {
            labels,
            not_in_jobs: &[],
            merged: Vec::new(),
            remember: REMEMBERED,
        }
    }

    /// Pod labels whose `keys` stay out of a Job's pod template: a Job's `spec.template`
    /// is immutable (Kubernetes' `validateJobUpdate`), so a label that changes with each
    /// release (the version) would get every release refused, the app's whole sync with it.
    pub fn but_in_jobs(self, keys: &'a [String]) -> Self {
        Managed {
            not_in_jobs: keys,
            ..self
        }
    }

    /// For maps met about once (a placement's pod template): none remembered, as remembering
    /// one costs two copies.
    pub fn once(labels: &'a [(String, String)]) -> Self {
        Managed {
            remember: 0,
            ..Managed::new(labels)
        }
    }
}

/// How many label maps a [`Managed`] remembers.
const REMEMBERED: usize = 8;

/// [`finish`] for an object already in canonical order (template output is put in order
/// once, when it is parsed): only the maps the merge touched are ordered again.
#[cfg(test)]
pub fn finish_ordered(obj: &mut Object, namespace: &str, labels: &[(String, String)], pod_labels: &[(String, String)]) {
    finish_ordered_with(
        obj,
        namespace,
        &mut Managed::once(labels),
        &mut Managed::once(pod_labels),
    );
}

/// [`finish`] of an object in canonical order, for the objects of one placement, sharing what merging its labels gave.
pub fn finish_ordered_with(obj: &mut Object, namespace: &str, labels: &mut Managed, pod_labels: &mut Managed) {
    // Merging labels changes neither the kind nor where the pod template is.
    let template_path = pod_template_path(&obj.kind, &obj.value);
    merge(obj, template_path, namespace, labels, pod_labels);
    let Value::Object(root) = &mut obj.value else { return };
    order(root, None);
    reorder_metadata(root);
    if let Some(Value::Object(template)) = template_path.and_then(|path| pointer_mut(root, path)) {
        order(template, Some("template"));
        reorder_metadata(template);
    }
}

/// Orders `metadata` under `parent` and its labels.
fn reorder_metadata(parent: &mut Map<String, Value>) {
    if let Some(Value::Object(meta)) = parent.get_mut("metadata") {
        if let Some(Value::Object(labels)) = meta.get_mut("labels") {
            order(labels, Some("labels"));
        }
        order(meta, Some("metadata"));
    }
}

fn merge(
    obj: &mut Object,
    template_path: Option<&[&str]>,
    namespace: &str,
    labels: &mut Managed,
    pod_labels: &mut Managed,
) {
    let scoped = !is_cluster_scoped(&obj.kind);
    let Value::Object(root) = &mut obj.value else { return };
    let metadata = root.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(meta) = object_slot(metadata) {
        if scoped && obj.namespace.is_none() {
            meta.insert("namespace".into(), Value::String(namespace.to_string()));
            obj.namespace = Some(namespace.to_string());
        }
        if !scoped {
            obj.namespace = None;
        }
        merge_labels(meta, labels);
    }
    if let Some(Value::Object(template)) = template_path.and_then(|path| pointer_mut(root, path)) {
        let meta = template.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(meta) = object_slot(meta) {
            if obj.kind == "Job" && !pod_labels.not_in_jobs.is_empty() {
                let kept: Vec<(String, String)> = (pod_labels.labels.iter())
                    .filter(|(k, _)| !pod_labels.not_in_jobs.contains(k))
                    .cloned()
                    .collect();
                merge_labels(meta, &mut Managed::once(&kept));
            } else {
                merge_labels(meta, pod_labels);
            }
        }
    }
}

/// `slot` as a mapping: an empty `metadata:` (null) becomes `{}`.
fn object_slot(slot: &mut Value) -> &mut Value {
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot
}

fn pointer_mut<'a>(root: &'a mut Map<String, Value>, path: &[&str]) -> Option<&'a mut Value> {
    let (first, rest) = path.split_first()?;
    let mut cur = root.get_mut(*first)?;
    for p in rest {
        cur = cur.get_mut(*p)?;
    }
    Some(cur)
}

fn merge_labels(meta: &mut Map<String, Value>, managed: &mut Managed) {
    let entry = meta.entry("labels").or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(map) = entry {
        // The same entries in the same order: merged the same.
        let same =
            |seen: &Map<String, Value>| seen.len() == map.len() && seen.iter().zip(map.iter()).all(|(a, b)| a == b);
        if let Some((_, merged)) = managed.merged.iter().find(|(seen, _)| same(seen)) {
            *map = merged.clone();
            return;
        }
        let seen = (managed.merged.len() < managed.remember).then(|| map.clone());
        // Merged as a list and put in the order `order` gives labels (by key, when every
        // value is a string), then made a map once: inserting each label and then ordering
        // the map hashed every key twice (3% of a render's instructions).
        let mut merged: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
        for (k, v) in managed.labels {
            match merged.iter_mut().find(|(key, _)| key == k) {
                Some((_, slot)) => *slot = Value::String(v.clone()),
                None => merged.push((k.clone(), Value::String(v.clone()))),
            }
        }
        if merged.iter().all(|(_, v)| v.is_string()) {
            merged.sort_by(|a, b| a.0.cmp(&b.0));
        }
        map.extend(merged);
        if let Some(seen) = seen {
            managed.merged.push((seen, map.clone()));
        }
    }
}

/// Keys first in this order, the rest as the template wrote them.
fn leading_keys(parent: Option<&str>) -> &'static [&'static str] {
    match parent {
        None => &["apiVersion", "kind", "metadata", "spec"],
        Some("metadata") => &["name", "namespace", "labels", "annotations"],
        Some("template") => &["metadata", "spec"],
        _ => &[],
    }
}

/// Maps whose order means nothing: sorted by key.
fn is_unordered_map(key: &str) -> bool {
    matches!(
        key,
        "labels" | "annotations" | "matchLabels" | "nodeSelector" | "selector"
    )
}

/// Puts every map of `v` in conventional order (see [`order`]).
pub fn canonical(v: &mut Value, parent: Option<&str>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                canonical(child, Some(k.as_str()));
            }
            order(map, parent);
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                canonical(item, parent);
            }
        }
        _ => {}
    }
}

/// Puts one map in conventional order: label-like maps of strings by key, others with
/// their leading keys first and the rest as the template wrote them.
fn order(map: &mut Map<String, Value>, parent: Option<&str>) {
    let by_name = parent.is_some_and(is_unordered_map) && map.values().all(Value::is_string);
    let lead = leading_keys(parent);
    let rank = |k: &str| lead.iter().position(|l| *l == k).unwrap_or(lead.len());
    // Most maps are in order already (templates write them so): leave those alone.
    let ordered = if by_name {
        map.keys().zip(map.keys().skip(1)).all(|(a, b)| a <= b)
    } else {
        map.keys().zip(map.keys().skip(1)).all(|(a, b)| rank(a) <= rank(b))
    };
    if ordered {
        return;
    }
    let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
    if by_name {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
    } else {
        // A stable sort keeps the template's order among the other keys.
        entries.sort_by_key(|(k, _)| rank(k));
    }
    map.extend(entries);
}

/// The file name of an object in its app folder: `deployment-web.yaml`.
pub fn file_name(obj: &Object) -> String {
    format!("{}-{}.yaml", obj.kind.to_ascii_lowercase(), obj.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_documents_and_skips_empty_ones() {
        let docs = split_documents("a: 1\n---\n\n--- # c\nb: 2\n");
        assert_eq!(docs, vec!["a: 1\n", "\n", "b: 2\n"]);
    }

    #[test]
    fn finish_adds_namespace_labels_and_orders_keys() {
        let mut obj = Object {
            kind: "Deployment".into(),
            name: "web".into(),
            namespace: None,
            api_version: "apps/v1".into(),
            value: json!({"spec": {"template": {"spec": {}}}, "metadata": {"labels": {"z": "1", "team": "mine"}, "name": "web"}, "kind": "Deployment", "apiVersion": "apps/v1"}),
        };
        let labels = vec![("team".to_string(), "t".to_string())];
        let pod = vec![
            ("team".to_string(), "t".to_string()),
            ("use".to_string(), "true".to_string()),
        ];
        finish(&mut obj, "ns", &labels, &pod);
        let text = serde_json::to_string(&obj.value).unwrap();
        assert_eq!(
            text,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns","labels":{"team":"t","z":"1"}},"spec":{"template":{"metadata":{"labels":{"team":"t","use":"true"}},"spec":{}}}}"#
        );
        assert_eq!(obj.namespace.as_deref(), Some("ns"));
    }

    /// A placement's objects finished with one [`Managed`] (maps met before are cloned, not
    /// merged again) come out as each finished on its own: the same map in another order,
    /// a map with one more label or another value, or none, is merged anew.
    #[test]
    fn remembered_merges_are_the_merges() {
        let object = |labels: Option<Value>| {
            let mut metadata = json!({"name": "web"});
            if let Some(labels) = labels {
                metadata["labels"] = labels;
            }
            Object {
                kind: "Deployment".into(),
                name: "web".into(),
                namespace: None,
                api_version: "apps/v1".into(),
                value: json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": {"template": {"spec": {"containers": []}}}}),
            }
        };
        let maps = [
            Some(json!({"a": "1", "team": "x"})),
            Some(json!({"team": "x", "a": "1"})),
            Some(json!({"a": "1", "team": "x"})),
            Some(json!({"a": "2", "team": "x"})),
            Some(json!({"a": 1, "team": "x"})),
            None,
            Some(json!({"a": "1", "team": "x", "b": "3"})),
            Some(json!({"a": "1", "team": "x"})),
            None,
        ];
        let managed = vec![
            ("team".to_string(), "t".to_string()),
            ("z".to_string(), "m".to_string()),
        ];
        let pod = vec![("use".to_string(), "true".to_string())];
        let (mut shared, mut shared_pod) = (Managed::new(&managed), Managed::new(&pod));
        for labels in maps {
            let mut alone = object(labels.clone());
            finish_ordered(&mut alone, "ns", &managed, &pod);
            let mut together = object(labels);
            finish_ordered_with(&mut together, "ns", &mut shared, &mut shared_pod);
            assert_eq!(
                serde_json::to_string(&together.value).unwrap(),
                serde_json::to_string(&alone.value).unwrap()
            );
        }
        // Six distinct maps (no labels at all is an empty map): the three repeats were
        // answered from what was remembered, not merged again.
        assert_eq!(shared.merged.len(), 6);
    }

    /// A label map with a value that is not a string keeps the template's order: a managed
    /// label replaces its value in place, the others follow; `finish` and `finish_ordered`
    /// (template output already in order) agree, labels sorted or not.
    #[test]
    fn managed_labels_merge_in_place_and_sort_only_string_maps() {
        let object = |labels: Value| Object {
            kind: "Deployment".into(),
            name: "web".into(),
            namespace: None,
            api_version: "apps/v1".into(),
            value: json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": labels}, "spec": {"template": {"metadata": {"labels": {"z": "1", "a": "2"}}, "spec": {"containers": []}}}}),
        };
        let managed = vec![
            ("team".to_string(), "t".to_string()),
            ("b".to_string(), "x".to_string()),
        ];
        let labels_of = |obj: &Object, at: &[&str]| -> Vec<String> {
            let map = at.iter().try_fold(&obj.value, |v, k| v.get(k)).unwrap();
            map.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect()
        };
        for finisher in [finish, finish_ordered] {
            let mut mixed = object(json!({"z": 3, "team": "mine", "c": "y"}));
            finisher(&mut mixed, "ns", &managed, &managed);
            assert_eq!(
                labels_of(&mixed, &["metadata", "labels"]),
                ["z=3", r#"team="t""#, r#"c="y""#, r#"b="x""#]
            );
            let mut strings = object(json!({"z": "3", "team": "mine"}));
            finisher(&mut strings, "ns", &managed, &managed);
            assert_eq!(
                labels_of(&strings, &["metadata", "labels"]),
                [r#"b="x""#, r#"team="t""#, r#"z="3""#]
            );
            assert_eq!(
                labels_of(&strings, &["spec", "template", "metadata", "labels"]),
                [r#"a="2""#, r#"b="x""#, r#"team="t""#, r#"z="1""#]
            );
        }
    }
}
