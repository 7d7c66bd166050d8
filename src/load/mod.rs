//! Stage 1, `load`: walk the repository, parse every input file with spans, validate it
//! against its schema, and read it into the typed model. Every problem of every file is
//! reported; a bad file is left out of [`Sources`] and the others are still read.

pub mod builtin;
pub mod files;
pub mod git;
pub mod matrix;
pub mod memo;
pub mod schema;
pub mod yaml;

use serde::de::DeserializeOwned;

use crate::clock::Day;
use crate::diag::{Diagnostic, Label, codes};
use crate::layout::{self, Kind, Role};
use crate::model::{
    App, BackupProfile, Cluster, ClusterProfile, Fleet, IdentityProfile, ObservabilityProfile, PolicyExemption,
    PolicyIntent, PolicyProfile, TelemetryProfile,
};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use files::Files;
use yaml::Node;

/// One input file, read: where it is, its spanned tree, and its typed value.
#[derive(Debug)]
pub struct Doc<T> {
    pub file: FileId,
    pub node: Node,
    pub value: T,
}

/// The struct of an input kind: what a [`Doc`] holds.
pub trait Input {
    const KIND: Kind;
}

macro_rules! inputs {
    ($($ty:ty => $kind:ident),* $(,)?) => {
        $(impl Input for $ty {
            const KIND: Kind = Kind::$kind;
        })*
    };
}

inputs! {
    Fleet => Fleet,
    Cluster => Cluster,
    App => App,
    ClusterProfile => ClusterProfile,
    ObservabilityProfile => ObservabilityProfile,
    BackupProfile => BackupProfile,
    IdentityProfile => IdentityProfile,
    TelemetryProfile => TelemetryProfile,
    PolicyIntent => PolicyIntent,
    PolicyProfile => PolicyProfile,
    PolicyExemption => PolicyExemption,
}

impl<T: Input> Doc<T> {
    /// Paths name fields of the kind's schema. The span helpers fall back to the deepest part
    /// of a path that exists in the file (an optional field left out), so a misspelt path
    /// would point at a parent without a word; debug builds (the tests) refuse one, and
    /// `schema::tests` checks every literal path in the code.
    fn checked(path: &[&str]) {
        debug_assert!(
            schema::has_path(T::KIND, path),
            "{path:?} is not a path of the {} schema",
            T::KIND
        );
    }

    /// The span of the value at a path of keys (`["traffic", "routing"]`), or of the
    /// deepest part of it that exists.
    /// A scalar is shown by its value; a list or mapping by its key, which reads better.
    pub fn span(&self, path: &[&str]) -> Span {
        Self::checked(path);
        let mut node = &self.node;
        let mut key_span = None;
        for key in path {
            match node.entry(key) {
                Some(e) => {
                    key_span = Some(e.key_span.clone());
                    node = &e.value;
                }
                None => break,
            }
        }
        match (&node.value, key_span) {
            (yaml::Value::Map(_) | yaml::Value::Seq(_), Some(k)) => k,
            _ => node.span.clone(),
        }
    }

    /// A label at the last key of `path` (or the deepest part of it that exists).
    pub fn key_label(&self, path: &[&str], text: impl Into<String>) -> Label {
        Self::checked(path);
        let mut node = &self.node;
        let mut span = self.node.span.clone();
        for key in path {
            match node.entry(key) {
                Some(e) => {
                    span = e.key_span.clone();
                    node = &e.value;
                }
                None => break,
            }
        }
        Label::new(self.file, span, text)
    }

    /// A label at the value under `path`.
    pub fn label(&self, path: &[&str], text: impl Into<String>) -> Label {
        Label::new(self.file, self.span(path), text)
    }

    /// A label at item `index` of the list under `path`.
    pub fn item_label(&self, path: &[&str], index: usize, text: impl Into<String>) -> Label {
        self.item_field_label(path, index, None, text)
    }

    /// A label at `field` of item `index` of the list under `path` (or at the item itself).
    pub fn item_field_label(&self, path: &[&str], index: usize, field: Option<&str>, text: impl Into<String>) -> Label {
        if cfg!(debug_assertions) {
            let mut full: Vec<&str> = path.iter().copied().chain(["*"]).collect();
            full.extend(field);
            Self::checked(&full);
        }
        let mut node = &self.node;
        for key in path {
            match node.get(key) {
                Some(n) => node = n,
                None => return Label::new(self.file, node.span.clone(), text),
            }
        }
        let item = node.index(index);
        let span = match (item, field) {
            (Some(item), Some(field)) => item.get(field).unwrap_or(item).span.clone(),
            (Some(item), None) => item.span.clone(),
            (None, _) => node.span.clone(),
        };
        Label::new(self.file, span, text)
    }

    /// A label at entry `entry` of list `field` of item `index` of the list under `path` (or
    /// at the list, when it has no such entry).
    pub fn item_entry_label(
        &self,
        path: &[&str],
        index: usize,
        field: &str,
        entry: usize,
        text: impl Into<String>,
    ) -> Label {
        let list = self.item_field_label(path, index, Some(field), "");
        let mut node = &self.node;
        for key in path {
            match node.get(key) {
                Some(n) => node = n,
                None => {
                    return Label {
                        text: text.into(),
                        ..list
                    };
                }
            }
        }
        match node
            .index(index)
            .and_then(|item| item.get(field))
            .and_then(|l| l.index(entry))
        {
            Some(n) => Label::new(self.file, n.span.clone(), text),
            None => Label {
                text: text.into(),
                ..list
            },
        }
    }
}

/// A Helm values file of a chart app.
#[derive(Debug)]
pub struct ValuesFile {
    pub app: String,
    pub file: FileId,
    pub node: Node,
}

/// The JSON Schema of an app's chart (`apps/<app>/chart/values.schema.json`), compiled.
pub struct ChartSchema {
    pub app: String,
    pub file: FileId,
    pub validator: std::sync::Arc<jsonschema::Validator>,
}

impl std::fmt::Debug for ChartSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChartSchema")
            .field("app", &self.app)
            .field("file", &self.file)
            .finish()
    }
}

/// Everything read from the repository.
#[derive(Debug, Default)]
pub struct Sources {
    pub files: SourceMap,
    /// The day expiry dates are judged against ([`Files::today`]).
    pub today: Day,
    pub fleet: Option<Doc<Fleet>>,
    pub clusters: Vec<Doc<Cluster>>,
    pub apps: Vec<Doc<App>>,
    pub cluster_profiles: Vec<Doc<ClusterProfile>>,
    pub observability_profiles: Vec<Doc<ObservabilityProfile>>,
    pub backup_profiles: Vec<Doc<BackupProfile>>,
    pub identity_profiles: Vec<Doc<IdentityProfile>>,
    pub telemetry_profiles: Vec<Doc<TelemetryProfile>>,
    pub policy_intents: Vec<Doc<PolicyIntent>>,
    pub policy_profiles: Vec<Doc<PolicyProfile>>,
    pub policy_exemptions: Vec<Doc<PolicyExemption>>,
    pub values: Vec<ValuesFile>,
    /// Charts' own schemas and defaults, vendored beside an app (`apps/<app>/chart/`).
    pub chart_schemas: Vec<ChartSchema>,
    pub chart_defaults: Vec<ValuesFile>,
    /// Templates from the repository, in path order; built-ins are added by `emit`.
    pub templates: Vec<TemplateFile>,
    /// Files that could not be read into the model: (kind, the id their path implies). Later
    /// checks treat these ids as existing, so one broken file gives one error, not a cascade.
    pub failed: Vec<(Kind, String)>,
    /// Files an earlier run found valid against their schema ([`schema::digest`]).
    pub valid_before: schema::Valid,
    /// The digests of the input files valid against their schema, found so now or before.
    pub valid: Vec<schema::Digest>,
    /// How many input files were validated against their schema (not known valid before).
    pub validated: usize,
    /// With a parse memo: the tree of every YAML file that parsed, by digest, encoded (for
    /// the next run's memo, [`memo`]).
    pub parsed: Vec<(memo::Digest, std::sync::Arc<[u8]>)>,
    /// How many YAML files were parsed, and how many decoded from the memo.
    pub reparsed: usize,
    pub from_memo: usize,
}

impl Sources {
    /// Whether a file of `kind` whose path implies `id` failed to load (or the folder of
    /// every file of `kind` could not be listed).
    pub fn failed(&self, kind: Kind, id: &str) -> bool {
        self.failed.iter().any(|(k, i)| *k == kind && (i == id || i == "*"))
    }

    /// Whether any file of `kind` failed to load.
    pub fn any_failed(&self, kind: Kind) -> bool {
        self.failed.iter().any(|(k, _)| *k == kind)
    }
}

/// A template file of the repository.
#[derive(Debug)]
pub struct TemplateFile {
    /// `None` for the fleet-wide folder `templates/` (and built-ins), else the app whose folder holds it.
    pub app: Option<String>,
    /// The file name, e.g. `deployment.yaml.j2`.
    pub name: String,
    pub file: FileId,
}

fn read_template(
    files: &dyn Files,
    path: &str,
    app: Option<String>,
    sources: &mut Sources,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let bytes = match files.read(path) {
        Ok(b) => b,
        Err(e) => {
            diagnostics.push(e.diagnostic(path));
            return;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => {
            let file = sources.files.add(SourceFile::new(path, text));
            let name = path.rsplit('/').next().unwrap_or(path).to_string();
            sources.templates.push(TemplateFile { app, name, file });
        }
        Err(_) => diagnostics.push(
            Diagnostic::file_error(codes::UNREADABLE, path, "the template is not valid UTF-8")
                .with_help("save the file as UTF-8"),
        ),
    }
}

/// Adds the built-in templates that the repository's `templates/` folder does not replace.
fn add_builtin_templates(sources: &mut Sources) {
    for (name, text) in builtin::TEMPLATES {
        let replaced = sources.templates.iter().any(|t| t.app.is_none() && t.name == *name);
        if !replaced {
            let file = sources.files.add(SourceFile::new(builtin::display_path(name), *text));
            sources.templates.push(TemplateFile {
                app: None,
                name: name.to_string(),
                file,
            });
        }
    }
}

/// Loads a whole repository. Diagnostics are returned unsorted.
/// Files whose digest is in `valid` (an earlier run's [`Sources::valid`]) are not validated
/// against their schema again.
/// YAML files whose tree is in `memo` (an earlier run's [`Sources::parsed`]) are not parsed
/// again; with a memo, [`Sources::parsed`] is this run's.
pub fn load(
    files: &dyn Files,
    valid: Option<&schema::Valid>,
    memo: Option<&memo::Parsed>,
) -> (Sources, Vec<Diagnostic>) {
    // Validators are generated when fleetgen is built: none is compiled here.
    load_files(files, valid.cloned().unwrap_or_default(), memo)
}

fn load_files(
    files: &dyn Files,
    valid_before: schema::Valid,
    memo: Option<&memo::Parsed>,
) -> (Sources, Vec<Diagnostic>) {
    let mut sources = Sources {
        today: files.today(),
        valid_before,
        ..Sources::default()
    };
    let mut diagnostics = Vec::new();
    if !files.is_file(layout::FLEET_FILE) {
        // There, but not a file fleetgen can read (a folder, a FIFO, a link out of the repository).
        match files.read(layout::FLEET_FILE) {
            Err(files::FileError::NotFound) | Ok(_) => {}
            Err(e) => {
                diagnostics.push(e.diagnostic(layout::FLEET_FILE));
                return (sources, diagnostics);
            }
        }
        diagnostics.push(
            Diagnostic::file_error(
                codes::UNREADABLE,
                "fleet.yaml",
                "no fleet.yaml: this is not a fleetgen repository",
            )
            .with_help("run fleetgen in the repository root, or pass --repo DIR"),
        );
        return (sources, diagnostics);
    }
    let mut paths = vec![layout::FLEET_FILE.to_string()];
    for dir in layout::ROOTS.iter().filter(|r| **r != layout::FLEET_FILE) {
        let walk = files.walk(dir);
        for (path, _) in &walk.problems {
            // A folder that could not be listed (a root, `profiles/cluster`): the kinds that
            // live in it count as failed, so that what depends on them is not reported as a
            // cascade of missing references. An app's folder: that app.
            sources.failed.extend(
                Kind::ALL
                    .iter()
                    .filter(|k| k.location().starts_with(&format!("{path}/")))
                    .map(|k| (*k, "*".to_string())),
            );
            if let ["apps", app] = path.split('/').collect::<Vec<_>>().as_slice() {
                sources.failed.push((Kind::App, (*app).to_string()));
            }
            // An input that is there but cannot be read (a folder named `app.yaml`, say)
            // failed: what refers to it is not reported as missing too.
            if let Role::Input(kind) = layout::classify(path) {
                sources.failed.push((kind, layout::id_from_path(path).to_string()));
            }
        }
        paths.extend(walk.files);
        diagnostics.extend(walk.problems.iter().map(|(path, e)| e.diagnostic(path)));
        if *dir == "apps" {
            diagnostics.extend(apps_without_contract(&paths, &walk.problems));
        }
    }
    let (mut ahead, trees) = read_ahead(files, &paths, memo);
    if memo.is_some() {
        sources.reparsed = trees.iter().filter(|t| t.fresh).count();
        sources.from_memo = trees.iter().filter(|t| !t.fresh && t.encoded.is_some()).count();
        sources.parsed = trees.into_iter().filter_map(|t| t.encoded).collect();
    }
    for path in paths {
        let mut yaml = || {
            ahead
                .remove(&path)
                .unwrap_or(Ahead::Unreadable(files::FileError::NotFound))
        };
        match layout::classify(&path) {
            Role::Input(kind) => read_input(yaml(), &path, kind, &mut sources, &mut diagnostics),
            Role::Values(app) => {
                if let Some((file, node)) = read_yaml(yaml(), &path, &mut sources.files, &mut diagnostics) {
                    // Helm values are a mapping (or nothing); anything else would be dropped.
                    if matches!(node.value, yaml::Value::Map(_) | yaml::Value::Null) {
                        sources.values.push(ValuesFile { app, file, node });
                    } else {
                        let label = Label::new(file, node.span.clone(), format!("{} here", node.type_name()));
                        diagnostics.push(
                            Diagnostic::error(
                                codes::WRONG_TYPE,
                                &sources.files,
                                label,
                                format!("a values file is a mapping of Helm values, not {}", node.type_name()),
                            )
                            .with_help("write the values as `key: value` lines (an empty file is no values)"),
                        );
                    }
                }
            }
            Role::ChartDefaults(app) => {
                if let Some((file, node)) = read_yaml(yaml(), &path, &mut sources.files, &mut diagnostics) {
                    sources.chart_defaults.push(ValuesFile { app, file, node });
                }
            }
            Role::ChartSchema(app) => read_chart_schema(files, &path, app, &mut sources, &mut diagnostics),
            Role::Stray(help) => diagnostics.push(
                Diagnostic::file_error(codes::UNEXPECTED_FILE, &path, "fleetgen does not read this file")
                    .with_help(help)
                    .warning(),
            ),
            Role::Template(app) => read_template(files, &path, app, &mut sources, &mut diagnostics),
            Role::Other => {}
        }
    }
    add_builtin_templates(&mut sources);
    (sources, diagnostics)
}

/// A warning for each app folder with files but no `app.yaml` (the contract removed, its
/// values left behind): fleetgen reads nothing in it, which would otherwise go unsaid. None
/// for a folder whose `app.yaml` is there but could not be read (that is said already).
fn apps_without_contract(paths: &[String], problems: &[(String, files::FileError)]) -> Vec<Diagnostic> {
    let app_of = |p: &str| p.strip_prefix("apps/")?.split_once('/').map(|(app, _)| app.to_string());
    let contracts: std::collections::BTreeSet<String> = (paths.iter().map(String::as_str))
        .chain(problems.iter().map(|(p, _)| p.as_str()))
        .filter(|p| p.ends_with("/app.yaml"))
        .filter_map(app_of)
        .collect();
    let folders: std::collections::BTreeSet<String> = paths.iter().filter_map(|p| app_of(p)).collect();
    folders
        .difference(&contracts)
        .map(|app| {
            Diagnostic::file_error(
                codes::UNEXPECTED_FILE,
                format!("apps/{app}/"),
                "an app folder without `app.yaml`: fleetgen reads nothing in it",
            )
            .with_help(format!(
                "write the app's contract in `apps/{app}/app.yaml`, or remove the folder"
            ))
            .warning()
        })
        .collect()
}

/// Reads a chart's vendored JSON Schema and compiles it (offline: a `$ref` out of the file
/// does not resolve).
fn read_chart_schema(
    files: &dyn Files,
    path: &str,
    app: String,
    sources: &mut Sources,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let bytes = match files.read(path) {
        Ok(b) => b,
        Err(e) => {
            diagnostics.push(e.diagnostic(path));
            return;
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        diagnostics.push(Diagnostic::file_error(
            codes::UNREADABLE,
            path,
            "the file is not valid UTF-8",
        ));
        return;
    };
    let file = sources.files.add(SourceFile::new(path, text));
    let schema: serde_json::Value = match serde_json::from_str(&sources.files.get(file).text) {
        Ok(v) => v,
        Err(e) => {
            let f = sources.files.get(file);
            let at = f.offset(e.line(), e.column());
            let label = Label::new(file, at..at, "here");
            diagnostics.push(Diagnostic::error(
                codes::YAML_SYNTAX,
                &sources.files,
                label,
                format!("the chart's schema is not valid JSON: {e}"),
            ));
            return;
        }
    };
    match jsonschema::validator_for(&schema) {
        Ok(validator) => sources.chart_schemas.push(ChartSchema {
            app,
            file,
            validator: std::sync::Arc::new(validator),
        }),
        Err(e) => diagnostics.push(
            Diagnostic::error(
                codes::SCHEMA,
                &sources.files,
                Label::new(file, 0..0, "this schema"),
                format!("the chart's values.schema.json does not compile: {e}"),
            )
            .with_help("vendor the chart's schema as it ships; fleetgen resolves no `$ref` outside the file"),
        ),
    }
}

/// A YAML input file read, and parsed on the parser pool, before it joins the source map.
enum Ahead {
    Unreadable(files::FileError),
    NotUtf8(std::string::FromUtf8Error),
    Parsed(SourceFile, Result<Node, yaml::YamlError>),
}

/// What [`read_ahead`] did for one YAML file: parsed it or decoded its tree, and with a
/// memo, the tree's digest and encoding (when it parsed).
struct Tree {
    fresh: bool,
    encoded: Option<(memo::Digest, std::sync::Arc<[u8]>)>,
}

/// Reads the YAML files among `paths` (in order, through `files`, which need not be
/// shareable between threads) and parses them on the parser pool: a few threads with large
/// stacks, not one per file. A file whose tree `memo` holds is decoded, not parsed.
fn read_ahead(
    files: &dyn Files,
    paths: &[String],
    memo: Option<&memo::Parsed>,
) -> (std::collections::HashMap<String, Ahead>, Vec<Tree>) {
    let yaml: Vec<(&String, Result<Vec<u8>, files::FileError>)> = paths
        .iter()
        .filter(|p| {
            matches!(
                layout::classify(p),
                Role::Input(_) | Role::Values(_) | Role::ChartDefaults(_)
            )
        })
        .map(|p| (p, files.read(p)))
        .collect();
    let parse = |(path, bytes): (&String, Result<Vec<u8>, files::FileError>)| {
        let mut tree = Tree {
            fresh: false,
            encoded: None,
        };
        let ahead = match bytes.map(String::from_utf8) {
            Err(e) => Ahead::Unreadable(e),
            Ok(Err(e)) => Ahead::NotUtf8(e),
            Ok(Ok(text)) => {
                let file = SourceFile::new(path.as_str(), text);
                let node = match memo {
                    None => {
                        tree.fresh = true;
                        yaml::parse_here(&file)
                    }
                    Some(memo) => {
                        let digest = memo::digest(&file);
                        let known = memo
                            .encoded(&digest)
                            .and_then(|e| Some((memo::decode_tree(e, file.text.len())?, e.clone())));
                        match known {
                            Some((node, encoded)) => {
                                tree.encoded = Some((digest, encoded));
                                Ok(node)
                            }
                            None => {
                                tree.fresh = true;
                                let node = yaml::parse_here(&file);
                                if let Ok(node) = &node {
                                    tree.encoded = Some((digest, memo::encode_tree(node).into()));
                                }
                                node
                            }
                        }
                    }
                };
                Ahead::Parsed(file, node)
            }
        };
        ((path.clone(), ahead), tree)
    };
    yaml::on_pool(|| {
        use rayon::prelude::*;
        yaml.into_par_iter().map(parse).unzip()
    })
}

/// Adds one YAML file, read and parsed ahead, to the source map.
fn read_yaml(
    ahead: Ahead,
    path: &str,
    map: &mut SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(FileId, Node)> {
    let (file, parsed) = match ahead {
        Ahead::Unreadable(e) => {
            diagnostics.push(e.diagnostic(path));
            return None;
        }
        Ahead::NotUtf8(e) => {
            // Show the file as far as it can be shown, with the bad byte marked.
            let at = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = map.add(SourceFile::new(path, lossy));
            let label = Label::new(file, at..at + '\u{fffd}'.len_utf8(), "this byte");
            diagnostics.push(
                Diagnostic::error(codes::UNREADABLE, map, label, "the file is not valid UTF-8")
                    .with_help("save the file as UTF-8"),
            );
            return None;
        }
        Ahead::Parsed(file, parsed) => (map.add(file), parsed),
    };
    match parsed {
        Ok(node) => Some((file, node)),
        Err(e) => {
            let label = Label::new(file, e.span, "");
            diagnostics.push(Diagnostic::error(e.code, map, label, e.message));
            None
        }
    }
}

fn read_input(ahead: Ahead, path: &str, kind: Kind, sources: &mut Sources, diagnostics: &mut Vec<Diagnostic>) {
    let before = diagnostics.len();
    read_typed(ahead, path, kind, sources, diagnostics);
    if diagnostics.len() > before {
        sources.failed.push((kind, layout::id_from_path(path).to_string()));
    }
}

fn read_typed(ahead: Ahead, path: &str, kind: Kind, sources: &mut Sources, diagnostics: &mut Vec<Diagnostic>) {
    let Some((file, node)) = read_yaml(ahead, path, &mut sources.files, diagnostics) else {
        return;
    };
    if node.value == yaml::Value::Null {
        let required = schema::required_fields(kind);
        let label = Label::new(file, 0..0, "nothing here");
        diagnostics.push(
            Diagnostic::error(
                codes::MISSING_FIELD,
                &sources.files,
                label,
                format!("the {kind} file is empty"),
            )
            .with_help(format!(
                "a {kind} file needs {}",
                required.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
            )),
        );
        return;
    }
    let json = node.to_json();
    let digest = schema::digest(kind, sources.files.get(file));
    if !sources.valid_before.contains(&digest) {
        sources.validated += 1;
        let errors = schema::validate(kind, file, &sources.files, &node, &json);
        if !errors.is_empty() {
            diagnostics.extend(errors);
            return;
        }
    }
    sources.valid.push(digest);
    let value = match parse_typed(kind, json) {
        Ok(v) => v,
        Err(e) => {
            diagnostics.push(typed_error(&e, file, &node, &sources.files));
            return;
        }
    };
    match value {
        Typed::Fleet(value) => {
            sources.fleet = Some(Doc {
                file,
                node,
                value: *value,
            })
        }
        Typed::Cluster(value) => sources.clusters.push(Doc {
            file,
            node,
            value: *value,
        }),
        Typed::App(value) => sources.apps.push(Doc {
            file,
            node,
            value: *value,
        }),
        Typed::ClusterProfile(value) => sources.cluster_profiles.push(Doc { file, node, value }),
        Typed::ObservabilityProfile(value) => sources.observability_profiles.push(Doc { file, node, value }),
        Typed::BackupProfile(value) => sources.backup_profiles.push(Doc { file, node, value }),
        Typed::IdentityProfile(value) => sources.identity_profiles.push(Doc { file, node, value }),
        Typed::TelemetryProfile(value) => sources.telemetry_profiles.push(Doc { file, node, value }),
        Typed::PolicyIntent(value) => sources.policy_intents.push(Doc { file, node, value }),
        Typed::PolicyProfile(value) => sources.policy_profiles.push(Doc { file, node, value }),
        Typed::PolicyExemption(value) => sources.policy_exemptions.push(Doc { file, node, value }),
    }
}

/// A file read into the struct of its kind.
#[derive(Debug)]
pub enum Typed {
    Fleet(Box<Fleet>),
    Cluster(Box<Cluster>),
    App(Box<App>),
    ClusterProfile(ClusterProfile),
    ObservabilityProfile(ObservabilityProfile),
    BackupProfile(BackupProfile),
    IdentityProfile(IdentityProfile),
    TelemetryProfile(TelemetryProfile),
    PolicyIntent(PolicyIntent),
    PolicyProfile(PolicyProfile),
    PolicyExemption(PolicyExemption),
}

/// Reads JSON into the struct of `kind`, independently of the schema: with the schema
/// check before it, a failure here means the struct and the schema disagree.
///
/// A number with no fractional part reads as an integer (`replicas: 3.0`, `10.`, `1e1`):
/// JSON Schema's `integer` counts it as one, and so does Kubernetes' own YAML reading (it
/// goes through JSON numbers), so a struct field that holds an integer takes it too.
pub fn parse_typed(
    kind: Kind,
    mut json: serde_json::Value,
) -> Result<Typed, serde_path_to_error::Error<serde_json::Error>> {
    fn de<T: DeserializeOwned>(json: serde_json::Value) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
        serde_path_to_error::deserialize(json)
    }
    whole_numbers_as_integers(&mut json);
    Ok(match kind {
        Kind::Fleet => Typed::Fleet(Box::new(de(json)?)),
        Kind::Cluster => Typed::Cluster(Box::new(de(json)?)),
        Kind::App => Typed::App(Box::new(de(json)?)),
        Kind::ClusterProfile => Typed::ClusterProfile(de(json)?),
        Kind::ObservabilityProfile => Typed::ObservabilityProfile(de(json)?),
        Kind::BackupProfile => Typed::BackupProfile(de(json)?),
        Kind::IdentityProfile => Typed::IdentityProfile(de(json)?),
        Kind::TelemetryProfile => Typed::TelemetryProfile(de(json)?),
        Kind::PolicyIntent => Typed::PolicyIntent(de(json)?),
        Kind::PolicyProfile => Typed::PolicyProfile(de(json)?),
        Kind::PolicyExemption => Typed::PolicyExemption(de(json)?),
    })
}

/// Turns each float with no fractional part that an `i64` or `u64` holds into that
/// integer (a float field still reads an integer); larger ones stay floats, which every
/// integer field's `maximum` in the schemas refuses first.
fn whole_numbers_as_integers(json: &mut serde_json::Value) {
    use serde_json::Value;
    match json {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0) {
                // The casts are exact: `f` is whole and inside the range checked (`u64::MAX as f64`
                // is 2^64, the range's open end).
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    clippy::cast_precision_loss
                )]
                let whole = if (i64::MIN as f64..0.0).contains(&f) {
                    Some(serde_json::Number::from(f as i64))
                } else if (0.0..u64::MAX as f64).contains(&f) {
                    Some(serde_json::Number::from(f as u64))
                } else {
                    None
                };
                if let Some(whole) = whole {
                    *n = whole;
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(entries) => entries.values_mut().for_each(whole_numbers_as_integers),
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

/// Locates a struct error at the field it names; never a panic.
fn typed_error(
    e: &serde_path_to_error::Error<serde_json::Error>,
    file: FileId,
    node: &Node,
    map: &SourceMap,
) -> Diagnostic {
    let mut target = node;
    for segment in e.path().iter() {
        let next = match segment {
            serde_path_to_error::Segment::Map { key } | serde_path_to_error::Segment::Enum { variant: key } => {
                target.get(key)
            }
            serde_path_to_error::Segment::Seq { index } => target.index(*index),
            serde_path_to_error::Segment::Unknown => None,
        };
        match next {
            Some(n) => target = n,
            None => break,
        }
    }
    Diagnostic::error(
        codes::SCHEMA,
        map,
        Label::new(file, target.span.clone(), ""),
        format!("`{}`: {}", e.path(), e.inner()),
    )
}

/// Fleets for unit tests: the base fixture fleet (`tests/fixtures/base`) with files laid over
/// it, loaded from memory on a fixed day.
#[cfg(test)]
pub mod fixture {
    use super::{Sources, load};
    use crate::load::files::MemoryFiles;

    /// The base fleet with `overlay`'s (path, text) files laid over it (same path: replaced).
    pub fn sources(overlay: &[(&str, &str)]) -> Sources {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/base");
        let mut files = MemoryFiles::from_dir(&root).expect("the base fixture is readable");
        for (path, text) in overlay {
            files.insert(*path, *text);
        }
        files.set_today(crate::clock::parse_date("2026-11-22").expect("a date"));
        let (sources, problems) = load(&files, None, None);
        assert!(problems.is_empty(), "the fixture does not load: {problems:?}");
        sources
    }

    /// The text of a base fixture file, for overlays that change a line of it.
    pub fn text(path: &str) -> String {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/base");
        std::fs::read_to_string(root.join(path)).expect("a base fixture file")
    }

    /// `apps/web/app.yaml` with a staging ring whose version Kubernetes refuses as a label
    /// value (`+`), the other rings' fine.
    pub fn web_bad_in_staging() -> String {
        text("apps/web/app.yaml").replace(
            "  version: 2026.07.03-1421\n",
            "  version: 2026.07.03-1421\n  rings:\n    staging:\n      image: registry.example.com/web@sha256:b9bd1f75820c6a6411c58300534b89faef06c015ebb0791ec0b4508e9c77cf49\n      version: 2026.07.04+1\n",
        )
    }

    /// `clusters/useast1-prod-01.yaml` without its `cell`.
    pub fn cluster_without_cell() -> String {
        text("clusters/useast1-prod-01.yaml").replace("cell: cell-b\n", "")
    }

    /// A YAML text's tree, parsed on this thread.
    pub fn parse(text: &str) -> crate::load::yaml::Node {
        crate::load::yaml::parse_here(&crate::source::SourceFile::new("x.yaml", text)).expect("parses")
    }
}
