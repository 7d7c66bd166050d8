//! The JSON Schemas of every input kind, embedded from `schemas/`, and validation of a
//! parsed file against its schema with errors mapped back to YAML spans.

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use serde_json::Value as Json;

use crate::diag::{Diagnostic, Label, codes};
use crate::layout::Kind;
use crate::load::yaml::{Entry, Node};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::suggest;

/// The schema files, embedded: (kind, file name, text).
const SCHEMAS: &[(Kind, &str, &str)] = &[
    (
        Kind::Fleet,
        "fleet.schema.json",
        include_str!("../../schemas/fleet.schema.json"),
    ),
    (
        Kind::Cluster,
        "cluster.schema.json",
        include_str!("../../schemas/cluster.schema.json"),
    ),
    (
        Kind::App,
        "app.schema.json",
        include_str!("../../schemas/app.schema.json"),
    ),
    (
        Kind::ClusterProfile,
        "cluster-profile.schema.json",
        include_str!("../../schemas/cluster-profile.schema.json"),
    ),
    (
        Kind::ObservabilityProfile,
        "observability-profile.schema.json",
        include_str!("../../schemas/observability-profile.schema.json"),
    ),
    (
        Kind::BackupProfile,
        "backup-profile.schema.json",
        include_str!("../../schemas/backup-profile.schema.json"),
    ),
    (
        Kind::IdentityProfile,
        "identity-profile.schema.json",
        include_str!("../../schemas/identity-profile.schema.json"),
    ),
    (
        Kind::TelemetryProfile,
        "telemetry-profile.schema.json",
        include_str!("../../schemas/telemetry-profile.schema.json"),
    ),
    (
        Kind::PolicyIntent,
        "policy-intent.schema.json",
        include_str!("../../schemas/policy-intent.schema.json"),
    ),
    (
        Kind::PolicyProfile,
        "policy-profile.schema.json",
        include_str!("../../schemas/policy-profile.schema.json"),
    ),
    (
        Kind::PolicyExemption,
        "policy-exemption.schema.json",
        include_str!("../../schemas/policy-exemption.schema.json"),
    ),
];

/// The schema file name of a kind: `cluster-profile.schema.json`.
pub fn file_name(kind: Kind) -> &'static str {
    SCHEMAS[kind as usize].1
}

/// The JSON Schema of a kind, as `schemas/` holds it.
pub fn text(kind: Kind) -> &'static str {
    SCHEMAS[kind as usize].2
}

/// The shared definitions every kind refers to.
pub const COMMON: (&str, &str) = ("common.schema.json", include_str!("../../schemas/common.schema.json"));

/// Every schema file, shared definitions first: (file name, text).
pub fn files() -> Vec<(&'static str, &'static str)> {
    embedded().collect()
}

fn embedded() -> impl Iterator<Item = (&'static str, &'static str)> {
    std::iter::once(COMMON).chain(SCHEMAS.iter().map(|(_, file, text)| (*file, *text)))
}

/// Where the embedded schemas are registered: by the tests' run-time validators here, and
/// by the generated ones (the same base, written out in each `validator` attribute). Each
/// schema's `$id` is its own file name, a relative URI: resolved against this base, and
/// against the file's location in an editor or another validator, so `common.schema.json#/$defs/…` finds the file beside it
/// everywhere and nothing is ever fetched.
#[cfg(test)]
const BASE: &str = "file:///fleetgen/schemas/";

/// The embedded schema file of this name, by its `'static` name.
fn embedded_name(file: &str) -> Option<&'static str> {
    embedded().map(|(name, _)| name).find(|name| *name == file)
}

/// An embedded schema document, parsed when first needed.
fn document(file: &str) -> Option<&'static Json> {
    static DOCS: [OnceLock<Json>; 1 + SCHEMAS.len()] = [const { OnceLock::new() }; 1 + SCHEMAS.len()];
    let (at, (name, text)) = embedded().enumerate().find(|(_, (f, _))| *f == file)?;
    Some(DOCS[at].get_or_init(|| {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("embedded schema {name} is not JSON: {e}"))
    }))
}

/// The schema files `file` refers to, itself first, then those they refer to in turn.
#[cfg(test)]
fn with_references(file: &'static str) -> Vec<&'static str> {
    fn refs<'a>(value: &'a Json, out: &mut Vec<&'a str>) {
        match value {
            Json::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", Json::String(reference)) => {
                            let target = reference.split('#').next().unwrap_or_default();
                            if !target.is_empty() {
                                out.push(target);
                            }
                        }
                        _ => refs(value, out),
                    }
                }
            }
            Json::Array(items) => items.iter().for_each(|item| refs(item, out)),
            _ => {}
        }
    }
    let mut files = vec![file];
    let mut at = 0;
    while let Some(doc) = files.get(at).and_then(|f| document(f)) {
        at += 1;
        let mut found = Vec::new();
        refs(doc, &mut found);
        for target in found {
            if let Some(name) = embedded_name(target)
                && !files.contains(&name)
            {
                files.push(name);
            }
        }
    }
    files
}

/// A file's schema check, known by a digest of fleetgen's build, the file's kind and its
/// text: what the schema says of it cannot change while these do.
pub type Digest = [u8; 32];

/// The digests of files a run found valid: a later run with the cache does not validate
/// them again (nor compile the validators, when every file is among them).
pub type Valid = rustc_hash::FxHashSet<Digest>;

pub fn digest(kind: Kind, file: &SourceFile) -> Digest {
    let mut h = blake3::Hasher::new();
    for part in [env!("FLEETGEN_SOURCE_HASH"), "/schema-v1", file_name(kind)] {
        h.update(part.as_bytes());
        h.update(b"\0");
    }
    h.update(&file.digest());
    *h.finalize().as_bytes()
}

/// Each kind's validator, generated from its schema when fleetgen is built (jsonschema's
/// `validator` attribute): nothing is compiled at run time. Compiling the app contract's
/// validator took 14 M instructions of a render after a one-contract change, and all eleven
/// a fifth of a `validate` of the bundled fleet. Each registers the schema files its own
/// refers to, under the base the tests' run-time validators use (`file:///fleetgen/schemas/`);
/// the tests hold the two to the same errors.
mod generated {
    #[jsonschema::validator(
        path = "schemas/fleet.schema.json",
        base_uri = "file:///fleetgen/schemas/fleet.schema.json",
        resources = {
            "file:///fleetgen/schemas/app.schema.json" => { path = "schemas/app.schema.json" },
            "file:///fleetgen/schemas/common.schema.json" => { path = "schemas/common.schema.json" },
        }
    )]
    pub struct Fleet;
    #[jsonschema::validator(
        path = "schemas/cluster.schema.json",
        base_uri = "file:///fleetgen/schemas/cluster.schema.json",
        resources = {
            "file:///fleetgen/schemas/cluster-profile.schema.json" => { path = "schemas/cluster-profile.schema.json" },
            "file:///fleetgen/schemas/common.schema.json" => { path = "schemas/common.schema.json" },
        }
    )]
    pub struct Cluster;
    #[jsonschema::validator(
        path = "schemas/app.schema.json",
        base_uri = "file:///fleetgen/schemas/app.schema.json",
        resources = {
            "file:///fleetgen/schemas/common.schema.json" => { path = "schemas/common.schema.json" },
        }
    )]
    pub struct App;
    #[jsonschema::validator(
        path = "schemas/cluster-profile.schema.json",
        base_uri = "file:///fleetgen/schemas/cluster-profile.schema.json",
        resources = {
            "file:///fleetgen/schemas/common.schema.json" => { path = "schemas/common.schema.json" },
        }
    )]
    pub struct ClusterProfile;
    #[jsonschema::validator(
        path = "schemas/observability-profile.schema.json",
        base_uri = "file:///fleetgen/schemas/observability-profile.schema.json",
        resources = {
            "file:///fleetgen/schemas/common.schema.json" => { path = "schemas/common.schema.json" },
        }
    )]
    pub struct ObservabilityProfile;
    #[jsonschema::validator(
        path = "schemas/backup-profile.schema.json",
        base_uri = "file:///fleetgen/schemas/backup-profile.schema.json",
        resources = {
            "file:///fleetgen/schemas/common.schema.json" => { path = "schemas/common.schema.json" },
        }
    )]
    pub struct BackupProfile;
    #[jsonschema::validator(
        path = "schemas/identity-profile.schema.json",
        base_uri = "file:///fleetgen/schemas/identity-profile.schema.json",
        resources = {
            "file:///fleetgen/schemas/common.schema.json" => { path = "schemas/common.schema.json" },
        }
    )]
    pub struct IdentityProfile;
    #[jsonschema::validator(
        path = "schemas/telemetry-profile.schema.json",
        base_uri = "file:///fleetgen/schemas/telemetry-profile.schema.json",
        resources = {
            "file:///fleetgen/schemas/common.schema.json" => { path = "schemas/common.schema.json" },
        }
    )]
    pub struct TelemetryProfile;
    #[jsonschema::validator(
        path = "schemas/policy-intent.schema.json",
        base_uri = "file:///fleetgen/schemas/policy-intent.schema.json",
        resources = {
            "file:///fleetgen/schemas/common.schema.json" => { path = "schemas/common.schema.json" },
        }
    )]
    pub struct PolicyIntent;
    #[jsonschema::validator(
        path = "schemas/policy-profile.schema.json",
        base_uri = "file:///fleetgen/schemas/policy-profile.schema.json",
        resources = {
            "file:///fleetgen/schemas/common.schema.json" => { path = "schemas/common.schema.json" },
        }
    )]
    pub struct PolicyProfile;
    #[jsonschema::validator(
        path = "schemas/policy-exemption.schema.json",
        base_uri = "file:///fleetgen/schemas/policy-exemption.schema.json",
        resources = {
            "file:///fleetgen/schemas/common.schema.json" => { path = "schemas/common.schema.json" },
        }
    )]
    pub struct PolicyExemption;
}

/// The schema errors of `json` as a file of `kind`.
fn errors(kind: Kind, json: &Json) -> jsonschema::ErrorIterator<'_> {
    match kind {
        Kind::Fleet => generated::Fleet::iter_errors(json),
        Kind::Cluster => generated::Cluster::iter_errors(json),
        Kind::App => generated::App::iter_errors(json),
        Kind::ClusterProfile => generated::ClusterProfile::iter_errors(json),
        Kind::ObservabilityProfile => generated::ObservabilityProfile::iter_errors(json),
        Kind::BackupProfile => generated::BackupProfile::iter_errors(json),
        Kind::IdentityProfile => generated::IdentityProfile::iter_errors(json),
        Kind::TelemetryProfile => generated::TelemetryProfile::iter_errors(json),
        Kind::PolicyIntent => generated::PolicyIntent::iter_errors(json),
        Kind::PolicyProfile => generated::PolicyProfile::iter_errors(json),
        Kind::PolicyExemption => generated::PolicyExemption::iter_errors(json),
    }
}

/// A kind's validator compiled at run time from the embedded documents: what the generated
/// ones are held to.
#[cfg(test)]
fn validator(kind: Kind) -> &'static jsonschema::Validator {
    static VALIDATORS: OnceLock<Vec<OnceLock<jsonschema::Validator>>> = OnceLock::new();
    let cells = VALIDATORS.get_or_init(|| Kind::ALL.iter().map(|_| OnceLock::new()).collect());
    let file = file_name(kind);
    cells[kind as usize].get_or_init(|| {
        // Only the files the kind's schema refers to are registered (its own and the shared
        // definitions, mostly): registering all twelve parsed and crawled every one of them
        // to check a single changed contract.
        let documents = with_references(file).into_iter();
        let registry = jsonschema::Registry::new()
            .extend(documents.filter_map(|f| Some((format!("{BASE}{f}"), document(f)?))))
            .and_then(|b| b.prepare())
            .unwrap_or_else(|e| panic!("the schemas {file} refers to do not form a registry: {e}"));
        jsonschema::draft202012::options()
            .with_registry(&registry)
            .with_base_uri(format!("{BASE}{file}"))
            .offline()
            .build(document(file).expect("kind schema is embedded"))
            .unwrap_or_else(|e| panic!("embedded schema {file} does not compile: {e}"))
    })
}

/// Validates a parsed file against its kind's schema; every violation becomes a diagnostic
/// at the key or value it concerns.
pub fn validate(kind: Kind, file: FileId, sources: &SourceMap, root: &Node, json: &Json) -> Vec<Diagnostic> {
    diagnose(kind, file, sources, root, json, errors(kind, json))
}

/// The diagnostics of `errors` (found in `json`, parsed from `root`).
fn diagnose<'i>(
    kind: Kind,
    file: FileId,
    sources: &SourceMap,
    root: &Node,
    json: &'i Json,
    errors: impl Iterator<Item = jsonschema::ValidationError<'i>>,
) -> Vec<Diagnostic> {
    // Every kind is a mapping: a file that is not one gets that said, and not what else its
    // schema's branches make of it (a cluster file that is a list broke every `not:
    // {required: …}` as well).
    let mapping = json.is_object();
    let root_type = |e: &jsonschema::ValidationError| {
        e.instance_path().as_str().is_empty() && matches!(e.kind(), ValidationErrorKind::Type { .. })
    };
    let errors = errors.filter(move |e| mapping || root_type(e));
    let mut out = Vec::new();
    let keys = Keys::default();
    for error in errors {
        let path: Vec<Segment> = error
            .instance_path()
            .segments()
            .map(|s| match s {
                LocationSegment::Property(p) => Segment::Key(p.to_string()),
                LocationSegment::Index(i) => Segment::Index(i),
            })
            .collect();
        let context = Context {
            kind,
            file,
            sources,
            root,
            keys: &keys,
            schema_path: error.schema_path().as_str(),
        };
        // A key of a mapping that fails `propertyNames`: a validator compiled at run time
        // wraps its failure (`PropertyNames`); a generated one gives the failure itself, at the
        // mapping, with the key as its instance. Either is described as a key's failure.
        let a_key = matches!(error.kind(), ValidationErrorKind::PropertyNames { .. })
            || json
                .pointer(error.instance_path().as_str())
                .is_some_and(|value| value != error.instance().as_ref());
        if a_key {
            let key = match error.kind() {
                ValidationErrorKind::PropertyNames { error } => error.instance().as_ref().as_str(),
                _ => error.instance().as_ref().as_str(),
            };
            let (node, span) = locate(root, &keys, &path);
            let span = (key.zip(node))
                .and_then(|(key, node)| keys.entry(node, key))
                .map_or(span, |e| e.key_span.clone());
            let field = if path.is_empty() {
                "the file".to_string()
            } else {
                dotted(&path)
            };
            let message = match key {
                Some(key) => format!(
                    "`{}` is not a valid key of `{field}`",
                    short(&Json::String(key.to_string()))
                ),
                None => error.to_string(),
            };
            let mut d = Diagnostic::error(
                codes::SCHEMA,
                sources,
                Label::new(file, span, "not a key here"),
                message,
            );
            d.help = description(kind, &path);
            out.push(d);
            continue;
        }
        out.extend(describe(
            &context,
            &path,
            error.kind(),
            error.instance(),
            &error.to_string(),
        ));
    }
    out
}

#[derive(Clone, Debug)]
enum Segment {
    Key(String),
    Index(usize),
}

/// `traffic.hostnames[0]` for a path, or `the file` for the root.
fn dotted(path: &[Segment]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Segment::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Segment::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn in_where(path: &[Segment]) -> String {
    if path.is_empty() {
        "at the top level".to_string()
    } else {
        format!("in `{}`", dotted(path))
    }
}

/// The node at a path, and the span that best shows it: a scalar's value, else its key.
fn locate<'n>(root: &'n Node, keys: &Keys<'n>, path: &[Segment]) -> (Option<&'n Node>, Span) {
    let mut node = root;
    let mut key_span = None;
    for seg in path {
        let next = match seg {
            Segment::Key(k) => keys.entry(node, k).map(|e| {
                key_span = Some(e.key_span.clone());
                &e.value
            }),
            Segment::Index(i) => {
                key_span = None;
                node.index(*i)
            }
        };
        match next {
            Some(n) => node = n,
            None => return (None, key_span.unwrap_or(node.span.clone())),
        }
    }
    let span = match (&node.value, key_span) {
        (crate::load::yaml::Value::Map(_) | crate::load::yaml::Value::Seq(_), Some(k)) => k,
        (crate::load::yaml::Value::Map(entries), None) => {
            entries.first().map_or(node.span.clone(), |e| e.key_span.clone())
        }
        _ => node.span.clone(),
    };
    (Some(node), span)
}

/// Resolves the schema that applies at an instance path (following `$ref`s through the
/// embedded documents), for descriptions and the names a field may take. Also returns the
/// schema as written at that place, whose own `description` beats the referenced one.
fn schema_at(kind: Kind, path: &[Segment]) -> Option<&'static Json> {
    schema_and_site(kind, path).map(|(resolved, _)| resolved)
}

fn schema_and_site(kind: Kind, path: &[Segment]) -> Option<(&'static Json, &'static Json)> {
    let root = document(file_name(kind))?;
    let (mut file, mut node) = deref(file_name(kind), root)?;
    let mut site = root;
    for seg in path {
        site = match seg {
            Segment::Key(k) => node
                .get("properties")
                .and_then(|p| p.get(k))
                .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))?,
            Segment::Index(_) => node.get("items")?,
        };
        (file, node) = deref(file, site)?;
    }
    Some((node, site))
}

/// Whether the kind's schema has a place at `path` (keys of mappings; `*` for any item of a
/// list): what a located diagnostic may name. Follows `$ref`s, maps of any key
/// (`additionalProperties`, `patternProperties`) and the branches of `allOf`/`anyOf`/`oneOf`
/// and `if`/`then`/`else`.
pub fn has_path(kind: Kind, path: &[&str]) -> bool {
    let file = file_name(kind);
    document(file).is_some_and(|root| path_in(file, root, path, 0))
}

fn path_in(file: &'static str, node: &'static Json, path: &[&str], depth: usize) -> bool {
    let Some((file, node)) = deref(file, node) else {
        return false;
    };
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    if depth > 32 {
        return false;
    }
    let next = |child: &'static Json| path_in(file, child, rest, depth + 1);
    // A mapping of free-form content (`{"type": "object"}` and nothing more) holds any path.
    let free_form = node.get("type").and_then(Json::as_str) == Some("object")
        && [
            "properties",
            "additionalProperties",
            "patternProperties",
            "$ref",
            "allOf",
            "anyOf",
            "oneOf",
        ]
        .iter()
        .all(|k| node.get(*k).is_none());
    if free_form || node.get("additionalProperties") == Some(&Json::Bool(true)) {
        return true;
    }
    let here = if *first == "*" {
        node.get("items").is_some_and(next)
    } else {
        node.get("properties").and_then(|p| p.get(*first)).is_some_and(next)
            || node
                .get("additionalProperties")
                .filter(|a| a.is_object())
                .is_some_and(next)
            || node
                .get("patternProperties")
                .and_then(Json::as_object)
                .is_some_and(|p| p.values().any(next))
    };
    here || ["allOf", "anyOf", "oneOf"]
        .iter()
        .filter_map(|k| node.get(*k).and_then(Json::as_array))
        .flatten()
        .chain(["if", "then", "else"].iter().filter_map(|k| node.get(*k)))
        .any(|branch| path_in(file, branch, path, depth + 1))
}

fn deref(file: &'static str, mut node: &'static Json) -> Option<(&'static str, &'static Json)> {
    let mut file = file;
    for _ in 0..8 {
        let Some(reference) = node.get("$ref").and_then(Json::as_str) else {
            return Some((file, node));
        };
        let (target, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        if !target.is_empty() {
            file = embedded_name(target)?;
        }
        node = document(file)?.pointer(pointer)?;
    }
    None
}

fn description(kind: Kind, path: &[Segment]) -> Option<String> {
    let (resolved, site) = schema_and_site(kind, path)?;
    site.get("description")
        .or_else(|| resolved.get("description"))
        .and_then(Json::as_str)
        .map(str::to_string)
}

fn short(value: &Json) -> String {
    let s = match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(59).collect::<String>())
    } else {
        s
    }
}

/// Where a schema error happened.
struct Context<'a, 'n> {
    kind: Kind,
    file: FileId,
    sources: &'a SourceMap,
    root: &'n Node,
    /// The file's mappings by key, shared by all its errors.
    keys: &'a Keys<'n>,
    /// JSON pointer of the failing keyword in the kind's schema, e.g. `/allOf/0/then/required`.
    schema_path: &'a str,
}

/// The entries of a file's mappings by key, each mapping indexed when first asked about. A
/// file's errors are each placed by walking to their key: scanning a mapping of 100,000
/// unknown keys for each of them took 26 s.
#[derive(Default)]
struct Keys<'n> {
    maps: std::cell::RefCell<rustc_hash::FxHashMap<*const Node, rustc_hash::FxHashMap<&'n str, &'n Entry>>>,
}

impl<'n> Keys<'n> {
    /// Mappings smaller than this are scanned.
    const SCANNED: usize = 16;

    /// The entry for `key` when `node` is a mapping (the first, if a key is repeated).
    fn entry(&self, node: &'n Node, key: &str) -> Option<&'n Entry> {
        let crate::load::yaml::Value::Map(entries) = &node.value else {
            return None;
        };
        if entries.len() < Self::SCANNED {
            return entries.iter().find(|e| e.key == key);
        }
        let mut maps = self.maps.borrow_mut();
        let index = maps
            .entry(node as *const Node)
            .or_insert_with(|| entries.iter().rev().map(|e| (e.key.as_str(), e)).collect());
        index.get(key).copied()
    }
}

/// The fields a kind requires at the top level, for help texts.
pub fn required_fields(kind: Kind) -> Vec<String> {
    document(file_name(kind))
        .and_then(|d| d.get("required"))
        .and_then(Json::as_array)
        .map(|r| r.iter().filter_map(Json::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn describe(
    cx: &Context,
    path: &[Segment],
    error: &ValidationErrorKind,
    instance: &Json,
    fallback: &str,
) -> Vec<Diagnostic> {
    let Context {
        kind,
        file,
        sources,
        root,
        keys,
        ..
    } = *cx;
    let (node, span) = locate(root, keys, path);
    let field = if path.is_empty() {
        "the file".to_string()
    } else {
        dotted(path)
    };
    // As a message names it: the field in backticks, or the file.
    let named = if path.is_empty() {
        field.clone()
    } else {
        format!("`{field}`")
    };
    let at = |span: Span, text: String| Label::new(file, span, text);
    let diag = match error {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed: Vec<String> = schema_at(kind, path)
                .and_then(|s| s.get("properties"))
                .and_then(Json::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            return unexpected
                .iter()
                .map(|key| {
                    let key_span = node
                        .and_then(|n| keys.entry(n, key))
                        .map_or(span.clone(), |e| e.key_span.clone());
                    let mut d = Diagnostic::error(
                        codes::UNKNOWN_FIELD,
                        sources,
                        at(key_span, "not a field here".into()),
                        format!("unknown field `{key}` {}", in_where(path)),
                    );
                    d.help = Some(match suggest::closest(key, allowed.iter().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("the fields allowed here are {}", suggest::list(&allowed)),
                    });
                    d
                })
                .collect();
        }
        ValidationErrorKind::Required { property } => {
            let property = short(property);
            // Inside an `if`/`then`, or a `dependentRequired` (`podSelector` needs `namespace`).
            let mut needed_by = None;
            let when = condition(cx, path)
                .or_else(|| {
                    // The keyword's path ends at `dependentRequired`: the field set is the one
                    // whose list names the missing one.
                    let deps = (cx.schema_path.ends_with("/dependentRequired"))
                        .then(|| schema_at(kind, path)?.get("dependentRequired")?.as_object())??;
                    let (set, _) = deps.iter().find(|(set, needs)| {
                        node.is_some_and(|n| keys.entry(n, set).is_some())
                            && needs
                                .as_array()
                                .is_some_and(|l| l.iter().any(|f| f.as_str() == Some(&property)))
                    })?;
                    needed_by = Some(set.clone());
                    Some(format!("when `{set}` is set"))
                })
                .map_or(String::new(), |c| format!(" {c}"));
            let mut d = Diagnostic::error(
                codes::MISSING_FIELD,
                sources,
                at(span, format!("`{property}` is missing")),
                format!("missing field `{property}` {}{when}", in_where(path)),
            );
            let mut child = path.to_vec();
            child.push(Segment::Key(property.clone()));
            d.help = match needed_by {
                Some(set) => Some(format!("set `{property}`, or remove `{set}`")),
                None => description(kind, &child).map(|desc| format!("`{property}`: {desc}")),
            };
            d
        }
        ValidationErrorKind::Type { kind: expected } => {
            let expected = match expected {
                TypeKind::Single(t) => type_name(&t.to_string()),
                TypeKind::Multiple(ts) => ts
                    .iter()
                    .map(|t| type_name(&t.to_string()))
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            let found = node.map_or("nothing", Node::type_name);
            let mut d = Diagnostic::error(
                codes::WRONG_TYPE,
                sources,
                at(span.clone(), format!("this is {found}")),
                format!("{named} must be {expected}, found {found}"),
            );
            if expected == "a string" && matches!(instance, Json::Number(_) | Json::Bool(_)) {
                let written = &sources.get(file).text[span];
                d.help = Some(format!("quote it: \"{written}\""));
            }
            // `03`: fleetgen reads a leading zero as text (YAML 1.1 would read an octal).
            if let Json::String(text) = instance
                && (expected.contains("an integer") || expected.contains("a number"))
            {
                let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
                let leading_zero =
                    digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit());
                if leading_zero {
                    let sign = if text.starts_with('-') { "-" } else { "" };
                    let number = digits.trim_start_matches('0');
                    let number = if number.is_empty() { "0" } else { number };
                    d.help = Some(format!(
                        "a number with a leading zero is read as text (YAML 1.1 would read it as octal): write {sign}{number}"
                    ));
                }
            }
            d
        }
        ValidationErrorKind::Enum { options } => {
            let options: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(short).collect())
                .unwrap_or_default();
            let value = short(instance);
            // A conditional list (`then`: AKS takes `ipv4` or `dual-stack`) says its condition
            // and every value it takes: the value is most likely not a typo of one of them.
            let parent = &path[..path.len().saturating_sub(1)];
            let when = condition(cx, parent);
            let mut d = Diagnostic::error(
                codes::INVALID_VALUE,
                sources,
                at(span, "not an allowed value".into()),
                match &when {
                    Some(when) => format!("`{value}` is not a valid `{}` {when}", last_key(path)),
                    None => format!("`{value}` is not a valid `{}`", last_key(path)),
                },
            );
            let closest = suggest::closest(&value, options.iter().map(String::as_str)).filter(|_| when.is_none());
            d.help = Some(match closest {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("expected one of {}", suggest::list(&options)),
            });
            d
        }
        ValidationErrorKind::Constant { expected_value } => {
            let parent = &path[..path.len().saturating_sub(1)];
            Diagnostic::error(
                codes::INVALID_VALUE,
                sources,
                at(span, format!("expected `{}`", short(expected_value))),
                format!(
                    "{named} must be `{}` {}, found `{}`",
                    short(expected_value),
                    condition(cx, parent).unwrap_or_else(|| "here".to_string()),
                    short(instance)
                ),
            )
        }
        ValidationErrorKind::Pattern { .. } | ValidationErrorKind::Format { .. } => {
            let mut d = Diagnostic::error(
                codes::INVALID_VALUE,
                sources,
                at(span, "does not have the required form".into()),
                format!("`{}` is not a valid `{}`", short(instance), last_key(path)),
            );
            // The type's description says what form is wanted; the field's says what it is for.
            d.help = schema_at(kind, path)
                .and_then(|s| s.get("description"))
                .and_then(Json::as_str)
                .map(str::to_string)
                .or_else(|| description(kind, path));
            d
        }
        ValidationErrorKind::Not { schema } => {
            // The schemas use `not: {required: [x]}` to forbid a field in some cases.
            let forbidden = schema
                .get("required")
                .and_then(|r| r.get(0))
                .and_then(Json::as_str)
                .map(str::to_string);
            match forbidden {
                Some(key) => {
                    let key_span = node
                        .and_then(|n| keys.entry(n, &key))
                        .map_or(span, |e| e.key_span.clone());
                    Diagnostic::error(
                        codes::SCHEMA,
                        sources,
                        at(key_span, "not allowed here".into()),
                        format!(
                            "`{key}` is not allowed {}",
                            condition(cx, path).unwrap_or_else(|| "here".to_string())
                        ),
                    )
                }
                None => Diagnostic::error(codes::SCHEMA, sources, at(span, String::new()), fallback.to_string()),
            }
        }
        // Not a mapping where one is wanted: the type error says so, and which fields it
        // would set means nothing yet.
        ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::OneOfMultipleValid { .. }
            if !instance.is_object()
                && schema_at(kind, path).and_then(|s| s.get("type")) == Some(&Json::from("object")) =>
        {
            return Vec::new();
        }
        ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::OneOfMultipleValid { .. } => {
            match one_of_fields(cx, path) {
                Some(fields) => {
                    let set: Vec<&String> = (fields.iter())
                        .filter(|f| node.is_some_and(|n| keys.entry(n, f).is_some()))
                        .collect();
                    let found = match set.as_slice() {
                        [] => "none of them".to_string(),
                        _ => set.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(" and "),
                    };
                    let choices: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
                    Diagnostic::error(
                        codes::SCHEMA,
                        sources,
                        at(span, format!("sets {found}")),
                        format!("{} sets exactly one of {}, found {found}", named, choices.join(" or ")),
                    )
                }
                None => Diagnostic::error(codes::SCHEMA, sources, at(span, String::new()), fallback.to_string()),
            }
        }
        ValidationErrorKind::Minimum { .. }
        | ValidationErrorKind::Maximum { .. }
        | ValidationErrorKind::ExclusiveMinimum { .. }
        | ValidationErrorKind::ExclusiveMaximum { .. }
        | ValidationErrorKind::MinLength { .. }
        | ValidationErrorKind::MaxLength { .. }
        | ValidationErrorKind::MinItems { .. }
        | ValidationErrorKind::MaxItems { .. }
        | ValidationErrorKind::UniqueItems
        | ValidationErrorKind::MinProperties { .. } => {
            let message = match error {
                ValidationErrorKind::UniqueItems => format!("{named} lists the same item twice"),
                ValidationErrorKind::MinItems { limit } => {
                    format!(
                        "{named} needs at least {limit} item{}",
                        if *limit == 1 { "" } else { "s" }
                    )
                }
                ValidationErrorKind::MaxItems { limit } => {
                    // Inside an `if`/`then` the condition is read from the list's mapping.
                    let parent = &path[..path.len().saturating_sub(1)];
                    let when = condition(cx, path).or_else(|| condition(cx, parent));
                    format!(
                        "{named} lists at most {limit} item{}{}",
                        if *limit == 1 { "" } else { "s" },
                        when.map_or(String::new(), |w| format!(" {w}"))
                    )
                }
                ValidationErrorKind::MinProperties { .. } => {
                    format!("{named} sets too few fields")
                }
                // Its length, not the value: the library's message quotes the whole string,
                // which made a line of a report as long as the value.
                ValidationErrorKind::MaxLength { limit } => {
                    let length = instance.as_str().map_or(0, |s| s.chars().count());
                    format!(
                        "{named} is {length} characters long, more than {limit}: `{}`",
                        short(instance)
                    )
                }
                _ => format!("{named}: {fallback}"),
            };
            Diagnostic::error(codes::INVALID_VALUE, sources, at(span, "out of range".into()), message)
        }
        _ => Diagnostic::error(codes::SCHEMA, sources, at(span, String::new()), fallback.to_string()),
    };
    vec![diag]
}

/// The fields a failing `oneOf` chooses between, when each of its branches requires one
/// field (and may forbid the others): `cluster` or `region`. `None` for any other `oneOf`.
fn one_of_fields(cx: &Context, path: &[Segment]) -> Option<Vec<String>> {
    let object = schema_at(cx.kind, path)?;
    // The failing keyword: the object's own `oneOf`, or one inside its `allOf`.
    let tail: Vec<&str> = cx.schema_path.rsplit('/').take(3).collect();
    let one_of = match tail.as_slice() {
        ["oneOf", i, "allOf"] => object.get("allOf")?.get(i.parse::<usize>().ok()?)?.get("oneOf")?,
        ["oneOf", ..] => object.get("oneOf")?,
        _ => return None,
    };
    let fields: Option<Vec<String>> = (one_of.as_array()?.iter())
        .map(|branch| match branch.get("required")?.as_array()?.as_slice() {
            [only] => only.as_str().map(str::to_string),
            _ => None,
        })
        .collect();
    fields.filter(|f| f.len() >= 2)
}

/// For failures inside an `if`/`then`: "when `provider` is `azure`", read from the `if`
/// beside the failing `then` and the values in the file.
fn condition(cx: &Context, path: &[Segment]) -> Option<String> {
    let then = cx.schema_path.find("/then/")?;
    let if_pointer = format!("{}/if", &cx.schema_path[..then]);
    let condition = document(file_name(cx.kind))?.pointer(&if_pointer)?;
    let (node, _) = locate(cx.root, cx.keys, path);
    let node = node?;
    let parts: Vec<String> = condition
        .get("properties")?
        .as_object()?
        .keys()
        .filter_map(|key| {
            // A string as written; a flag or a number as its JSON.
            let value = node.get_str(key).map(str::to_string).or_else(|| {
                let json = node.get(key)?.to_json();
                (json.is_boolean() || json.is_number()).then(|| json.to_string())
            })?;
            Some(format!("`{key}` is `{value}`"))
        })
        .collect();
    (!parts.is_empty()).then(|| format!("when {}", parts.join(" and ")))
}

fn last_key(path: &[Segment]) -> String {
    path.iter()
        .rev()
        .find_map(|s| match s {
            Segment::Key(k) => Some(k.clone()),
            Segment::Index(_) => None,
        })
        .unwrap_or_default()
}

fn type_name(json_type: &str) -> String {
    match json_type {
        "object" => "a mapping".to_string(),
        "array" => "a list".to_string(),
        "integer" => "an integer".to_string(),
        "null" => "null".to_string(),
        other => format!("a {other}"),
    }
}

#[cfg(test)]
mod tests {
    use rayon::prelude::*;

    use super::*;

    /// `value` changed in each way a hand-edited file goes wrong, once each: every field
    /// removed, a field no schema names added to every mapping, every value replaced by one
    /// of each other shape (and by the empty, negative and repeated values limits are about).
    fn mutations(value: &Json) -> Vec<Json> {
        let replacements = [
            Json::Null,
            Json::Bool(true),
            serde_json::json!(0),
            serde_json::json!(-1),
            serde_json::json!(1.5),
            serde_json::json!(""),
            serde_json::json!("Not A Name!"),
            serde_json::json!([]),
            serde_json::json!(["x", "x"]),
            serde_json::json!({}),
        ];
        let mut out: Vec<Json> = replacements.iter().filter(|r| *r != value).cloned().collect();
        match value {
            Json::Object(map) => {
                let mut extra = map.clone();
                extra.insert("notAField".into(), serde_json::json!(1));
                out.push(Json::Object(extra));
                for key in map.keys() {
                    let mut less = map.clone();
                    less.shift_remove(key);
                    out.push(Json::Object(less));
                    for changed in mutations(&map[key]) {
                        let mut more = map.clone();
                        more[key] = changed;
                        out.push(Json::Object(more));
                    }
                }
            }
            Json::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    for changed in mutations(item) {
                        let mut more = items.clone();
                        more[i] = changed;
                        out.push(Json::Array(more));
                    }
                }
            }
            _ => {}
        }
        out
    }

    /// The validators fleetgen is built with give the diagnostics that validators compiled at
    /// run time from the same documents give: for every input of the bundled fleet and of the
    /// base fixture and every file of `tests/fixtures/schema-invalid/`, each also changed in
    /// every way [`mutations`] makes (written as JSON, which is YAML, and parsed again). The two
    /// list some errors in another order; diagnostics are sorted before they are shown
    /// (`diag::sort`), so they are compared sorted.
    #[test]
    fn generated_validators_diagnose_what_run_time_ones_do() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut cases: Vec<(Kind, std::path::PathBuf)> = Vec::new();
        for base in [root.to_path_buf(), root.join("tests/fixtures/base")] {
            // The fleet's folders only (not the build, git, the tests or the output).
            let fleet_part = |e: &walkdir::DirEntry| {
                let name = e.file_name().to_string_lossy();
                e.depth() != 1 || !["target", ".git", "tests", "rendered", "fuzz"].contains(&&*name)
            };
            for entry in walkdir::WalkDir::new(&base).into_iter().filter_entry(fleet_part) {
                let entry = entry.unwrap();
                let rel = entry
                    .path()
                    .strip_prefix(&base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                if let crate::layout::Role::Input(kind) = crate::layout::classify(&rel) {
                    cases.push((kind, entry.path().to_path_buf()));
                }
            }
        }
        // The first file of each kind of the fleets, in path order (all of them took a debug
        // build 25 s and found nothing more).
        cases.sort();
        let mut taken = std::collections::BTreeMap::<Kind, usize>::new();
        cases.retain(|(kind, _)| {
            let n = taken.entry(*kind).or_default();
            *n += 1;
            *n <= 1
        });
        let invalid = root.join("tests/fixtures/schema-invalid");
        for kind in Kind::ALL {
            for entry in std::fs::read_dir(invalid.join(kind.name())).unwrap() {
                cases.push((kind, entry.unwrap().path()));
            }
        }
        let kinds: std::collections::BTreeSet<&str> = cases.iter().map(|(kind, _)| kind.name()).collect();
        let mut values = Vec::new();
        for (kind, path) in &cases {
            let text = std::fs::read_to_string(path).unwrap();
            let file = crate::source::SourceFile::new(path.to_string_lossy(), text);
            let json = crate::load::yaml::parse(&file).unwrap().to_json();
            values.extend(
                std::iter::once(json.clone())
                    .chain(mutations(&json))
                    .map(|v| (*kind, path, v)),
            );
        }
        // (compared, failing, with a key failing `propertyNames`), on every core: a debug
        // build parses each value's text slowly.
        let (compared, failing, keys) = values
            .par_iter()
            .map(|(kind, path, value)| {
                let kind = *kind;
                let mut sources = SourceMap::default();
                let text = serde_json::to_string_pretty(value).unwrap();
                let file = sources.add(crate::source::SourceFile::new(path.to_string_lossy(), text));
                let node = crate::load::yaml::parse(sources.get(file)).unwrap();
                let json = node.to_json();
                let shown = |mut found: Vec<Diagnostic>| {
                    let mut shown: Vec<String> = found.drain(..).map(|d| format!("{d:?}")).collect();
                    shown.sort();
                    shown
                };
                let generated = shown(validate(kind, file, &sources, &node, &json));
                let compiled = validator(kind).iter_errors(&json);
                let compiled = shown(diagnose(kind, file, &sources, &node, &json, compiled));
                assert_eq!(generated, compiled, "{}: {value}", path.display());
                let key = validator(kind)
                    .iter_errors(&json)
                    .any(|e| matches!(e.kind(), ValidationErrorKind::PropertyNames { .. }));
                (1, usize::from(!generated.is_empty()), usize::from(key))
            })
            .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
        // Every kind, and valid values, failing ones and keys that fail `propertyNames`, in
        // numbers.
        assert_eq!(kinds.len(), Kind::ALL.len());
        assert!(
            compared > 5_000 && failing > compared / 2 && keys > 100,
            "{compared}, {failing}, {keys}"
        );
    }

    /// Each of a file's many unknown keys is placed at its key, and the mapping is indexed
    /// once for all of them instead of scanned for each (100,000 keys took 26 s).
    #[test]
    fn many_unknown_keys_are_placed_through_one_index() {
        let mut text = crate::load::fixture::text("clusters/eastus-prod-01.yaml");
        for i in 0..200 {
            text.push_str(&format!("k{i}: 1\n"));
        }
        let mut sources = SourceMap::default();
        let file = sources.add(SourceFile::new("clusters/eastus-prod-01.yaml", text.clone()));
        let root = crate::load::yaml::parse(sources.get(file)).unwrap();
        let json = root.to_json();
        let keys = Keys::default();
        let cx = Context {
            kind: Kind::Cluster,
            file,
            sources: &sources,
            root: &root,
            keys: &keys,
            schema_path: "/additionalProperties",
        };
        let unexpected: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
        let error = ValidationErrorKind::AdditionalProperties { unexpected };
        let found = describe(&cx, &[], &error, &json, "");
        assert_eq!(found.len(), 200);
        for (i, d) in found.iter().enumerate() {
            let span = d.primary.as_ref().unwrap().span.clone();
            assert_eq!(&text[span], format!("k{i}"));
        }
        assert_eq!(keys.maps.borrow().len(), 1, "the file's mapping is indexed once");
    }

    /// A string longer than its schema allows is said by its length, not quoted whole: a
    /// 200,000-character description made a report line as long.
    #[test]
    fn an_over_long_string_is_said_by_its_length() {
        let text = crate::load::fixture::text("clusters/eastus-prod-01.yaml");
        let mut text: String = (text.lines())
            .filter(|l| !l.starts_with("description:"))
            .map(|l| format!("{l}\n"))
            .collect();
        text.push_str(&format!("description: {}\n", "x".repeat(5000)));
        let mut sources = SourceMap::default();
        let file = sources.add(SourceFile::new("clusters/eastus-prod-01.yaml", text));
        let root = crate::load::yaml::parse(sources.get(file)).unwrap();
        let found = validate(Kind::Cluster, file, &sources, &root, &root.to_json());
        let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].starts_with("`description` is 5000 characters long, more than ") && messages[0].len() < 200,
            "{}",
            &messages[0][..messages[0].len().min(300)]
        );
    }

    #[test]
    fn every_schema_compiles() {
        for kind in Kind::ALL {
            let _ = validator(kind);
            assert_eq!(file_name(kind), format!("{}.schema.json", kind.name()));
        }
    }

    /// A kind's validator registers its schema and every file that one refers to, in turn
    /// (the fleet's refers to the app's, which refers to the shared definitions), and no
    /// other: each kind compiles (above) with only these.
    #[test]
    fn a_kind_s_registry_holds_the_files_its_schema_refers_to_in_turn() {
        let mut fleet = with_references("fleet.schema.json");
        assert_eq!(fleet.remove(0), "fleet.schema.json");
        fleet.sort_unstable();
        assert_eq!(fleet, ["app.schema.json", "common.schema.json"]);
        let mut cluster = with_references("cluster.schema.json");
        cluster.sort_unstable();
        assert_eq!(
            cluster,
            [
                "cluster-profile.schema.json",
                "cluster.schema.json",
                "common.schema.json"
            ]
        );
        assert_eq!(
            with_references("app.schema.json"),
            ["app.schema.json", "common.schema.json"]
        );
        assert_eq!(with_references("common.schema.json"), ["common.schema.json"]);
    }

    #[test]
    fn paths_are_checked_against_the_schema() {
        assert!(has_path(Kind::App, &["traffic", "routing"]));
        assert!(has_path(Kind::App, &["dependsOn", "*", "service"]));
        assert!(has_path(Kind::Cluster, &["azure", "keyVault"]));
        assert!(has_path(Kind::Fleet, &["lint", "severity", "FG100"]));
        assert!(has_path(Kind::PolicyIntent, &["azure", "parameters", "anything"]));
        assert!(!has_path(Kind::App, &["traffic", "routnig"]));
        assert!(!has_path(Kind::Cluster, &["routing"]));
    }

    /// Every path a located diagnostic names in the source (`label(&["traffic", "routing"], …)`)
    /// exists in some kind's schema, so that a typo cannot silently fall back to a parent node.
    #[test]
    fn every_path_in_the_code_is_in_a_schema() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut checked = 0;
        for entry in walkdir::WalkDir::new(&src) {
            let entry = entry.unwrap();
            if entry.path().extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for (at, _) in text.match_indices("(&[\"") {
                let before = &text[..at];
                let callee = before
                    .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("");
                if !["span", "label", "key_label", "item_label", "item_field_label"].contains(&callee) {
                    continue;
                }
                let list = &text[at + 3..];
                let list = &list[..list.find(']').unwrap()];
                let mut path: Vec<&str> = list
                    .split(',')
                    .map(|p| p.trim())
                    .filter(|p| !p.is_empty())
                    .map(|p| p.strip_prefix('"').and_then(|p| p.strip_suffix('"')).unwrap_or("*"))
                    .collect();
                if callee.starts_with("item") {
                    path.push("*");
                }
                let any_key = |kind: Kind| {
                    // A non-literal element is a map key or list item the code computes.
                    let literal: Vec<&str> = path.iter().copied().take_while(|p| *p != "*").collect();
                    has_path(kind, &path) || (literal.len() < path.len() && has_path(kind, &literal))
                };
                assert!(
                    Kind::ALL.into_iter().any(any_key),
                    "{}: `{callee}(&[{list}])` names a path no schema has",
                    entry.path().display()
                );
                checked += 1;
            }
        }
        assert!(checked > 40, "checked {checked}");
    }

    #[test]
    fn schema_lookup_follows_refs_across_files() {
        let s = schema_at(
            Kind::App,
            &[Segment::Key("runtime".into()), Segment::Key("topologySpread".into())],
        )
        .unwrap();
        assert!(s.get("enum").is_some());
        let s = schema_at(Kind::Cluster, &[Segment::Key("clusterId".into())]).unwrap();
        assert!(s.get("pattern").is_some());
    }

    /// The `cidr` form takes exactly what Rust's address parsers take (IPv4 without leading
    /// zeros, IPv6 with `::` and a trailing IPv4) with a prefix of the family's range and
    /// no leading zero: over fixed cases and 200,000 generated strings of both families.
    #[test]
    fn the_cidr_form_is_an_address_and_a_prefix_of_its_family() {
        use std::net::{Ipv4Addr, Ipv6Addr};
        let pattern = document("common.schema.json").unwrap()["$defs"]["cidr"]["pattern"]
            .as_str()
            .unwrap();
        let form = regex::Regex::new(pattern).unwrap();
        let parses = |s: &str| {
            let Some((address, prefix)) = s.rsplit_once('/') else {
                return false;
            };
            let prefix = match prefix.as_bytes() {
                [b'0'..=b'9'] | [b'1'..=b'9', b'0'..=b'9'] | [b'1'..=b'9', b'0'..=b'9', b'0'..=b'9'] => {
                    prefix.parse::<u32>().unwrap()
                }
                _ => return false,
            };
            match (address.parse::<Ipv4Addr>(), address.parse::<Ipv6Addr>()) {
                (Ok(_), _) => prefix <= 32,
                (_, Ok(_)) => prefix <= 128,
                _ => false,
            }
        };
        for (s, ok) in [
            ("10.0.0.0/8", true),
            ("0.0.0.0/0", true),
            ("255.255.255.255/32", true),
            ("::/0", true),
            ("fd00:10::/48", true),
            ("::ffff:10.0.0.0/104", true),
            ("1:2:3:4:5:6:7:8/128", true),
            ("1:2:3:4:5:6:1.2.3.4/96", true),
            ("10.225.0.0/99", false),
            ("300.1.1.1/24", false),
            ("010.0.0.0/8", false),
            ("10.0.0.0/08", false),
            ("10.0.0/8", false),
            ("fd00::10::/48", false),
            ("fd00::/129", false),
            (":/999", false),
            ("1:2:3:4:5:6:7:8:9/64", false),
            ("10.0.0.0", false),
        ] {
            assert_eq!(form.is_match(s), ok, "{s}");
            assert_eq!(parses(s), ok, "{s} (the parsers)");
        }
        // Strings near both forms: groups of 1 to 5 hex digits, `::` anywhere, a trailing
        // IPv4 part, numbers up to 300 with leading zeros, prefixes up to 140.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let (mut taken, hex) = (0, b"0123456789abcdefABCDEF");
        for _ in 0..200_000 {
            let mut s = String::new();
            let v4 = |next: &mut dyn FnMut(u64) -> u64| {
                let parts = [3, 4, 4, 4, 5][next(5) as usize];
                let part = |next: &mut dyn FnMut(u64) -> u64| match next(3) {
                    0 => format!("0{}", next(10)),
                    1 => next(301).to_string(),
                    _ => next(256).to_string(),
                };
                (0..parts).map(|_| part(next)).collect::<Vec<_>>().join(".")
            };
            if next(3) == 0 {
                s.push_str(&v4(&mut next));
            } else {
                let groups = 1 + next(9);
                let mut parts: Vec<String> = (0..groups)
                    .map(|_| (0..1 + next(5)).map(|_| hex[next(22) as usize] as char).collect())
                    .collect();
                if next(10) < 3 {
                    *parts.last_mut().unwrap() = v4(&mut next);
                }
                s = parts.join(":");
                if next(10) < 6 {
                    let at = next(s.len() as u64 + 1) as usize;
                    if s.is_char_boundary(at) {
                        s.insert_str(at, "::");
                    }
                }
            }
            s.push('/');
            s.push_str(&match next(4) {
                0 => format!("0{}", next(10)),
                1 => next(34).to_string(),
                _ => next(141).to_string(),
            });
            let ok = parses(&s);
            taken += usize::from(ok);
            assert_eq!(form.is_match(&s), ok, "{s}");
        }
        assert!(taken > 5_000, "too few valid ranges generated: {taken}");
    }
}
