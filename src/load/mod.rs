//! Stage 1, `load`: walk the repository, parse every input file with spans, validate it
//! against its schema, and read it into the typed model. Every problem of every file is
//! reported; a bad file is left out of [`Sources`] and the others are still read.

pub mod files;
pub mod git;
pub mod yaml;

use serde::de::DeserializeOwned;

use crate::diag::{Diagnostic, Label, codes};
use crate::model::{
    App, BackupProfile, Cluster, ClusterProfile, Fleet, IdentityProfile, ObservabilityProfile, PolicyExemption,
    PolicyIntent, PolicyProfile, TelemetryProfile,
};
use crate::schema::{self, Kind};
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

impl<T> Doc<T> {
    /// The span of the value at a path of keys (`["traffic", "routing"]`), or of the
    /// deepest part of it that exists.
    /// A scalar is shown by its value; a list or mapping by its key, which reads better.
    pub fn span(&self, path: &[&str]) -> Span {
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
}

/// A Helm values file of a chart app.
#[derive(Debug)]
pub struct ValuesFile {
    pub app: String,
    pub file: FileId,
    pub node: Node,
}

/// Everything read from the repository.
#[derive(Debug, Default)]
pub struct Sources {
    pub files: SourceMap,
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
    /// Templates from the repository, in path order; built-ins are added by `emit`.
    pub templates: Vec<TemplateFile>,
    /// Files that could not be read into the model: (kind, the id their path implies). Later
    /// checks treat these ids as existing, so one broken file gives one error, not a cascade.
    pub failed: Vec<(&'static str, String)>,
}

impl Sources {
    /// Whether a file of `kind` whose path implies `id` failed to load.
    pub fn failed(&self, kind: &str, id: &str) -> bool {
        self.failed.iter().any(|(k, i)| *k == kind && i == id)
    }

    /// Whether any file of `kind` failed to load.
    pub fn any_failed(&self, kind: &str) -> bool {
        self.failed.iter().any(|(k, _)| *k == kind)
    }
}

/// The id a file's path implies: `clusters/a/b.yaml` → `b`; `apps/web/app.yaml` → `web`.
pub fn id_from_path(path: &str) -> &str {
    let mut parts = path.rsplit('/');
    let last = parts.next().unwrap_or(path);
    if last == "app.yaml" {
        parts.next().unwrap_or(last)
    } else {
        last.trim_end_matches(".yaml")
    }
}

/// Folders fleetgen reads, with the kind of the `.yaml` files in them.
const PROFILE_FOLDERS: &[(&str, &Kind)] = &[
    ("profiles/cluster", schema::CLUSTER_PROFILE),
    ("profiles/observability", schema::OBSERVABILITY_PROFILE),
    ("profiles/backup", schema::BACKUP_PROFILE),
    ("profiles/identity", schema::IDENTITY_PROFILE),
    ("profiles/telemetry", schema::TELEMETRY_PROFILE),
    ("policy-library/intents", schema::POLICY_INTENT),
    ("policy-library/profiles", schema::POLICY_PROFILE),
    ("policy-library/exemptions", schema::POLICY_EXEMPTION),
];

/// What a path in the repository is to fleetgen.
#[derive(Debug, PartialEq)]
enum Role {
    Input(&'static Kind),
    Values(String),
    /// A template: `templates/*.yaml.j2` (fleet-wide, replacing a built-in) or
    /// `apps/<app>/templates/*.yaml.j2` (the app's own objects).
    Template(Option<String>),
    /// A YAML file in an input folder that fleetgen does not read, with a hint.
    Stray(String),
    /// Anything else (READMEs, rendered output): not fleetgen's business here.
    Other,
}

fn classify(path: &str) -> Role {
    let parts: Vec<&str> = path.split('/').collect();
    let is_yaml = path.ends_with(".yaml");
    let looks_yaml = is_yaml || path.ends_with(".yml");
    if path == "fleet.yaml" {
        return Role::Input(schema::FLEET);
    }
    if path.ends_with(".yml") {
        return Role::Stray(format!(
            "fleetgen reads `.yaml` files only; rename it to `{}.yaml`",
            path.trim_end_matches(".yml")
        ));
    }
    match parts.as_slice() {
        ["clusters", .., _] if is_yaml => Role::Input(schema::CLUSTER),
        ["apps", _, "app.yaml"] => Role::Input(schema::APP),
        ["apps", app, "values", .., _] if is_yaml => Role::Values(app.to_string()),
        ["apps", app, "templates", name] if name.ends_with(".yaml.j2") => Role::Template(Some(app.to_string())),
        ["templates", name] if name.ends_with(".yaml.j2") => Role::Template(None),
        ["templates", ..] => Role::Stray(
            "the template folder holds `<name>.yaml.j2` files directly, named after the built-in they replace"
                .to_string(),
        ),
        ["apps", _, "templates", ..] => {
            Role::Stray("an app's templates are `apps/<app>/templates/<name>.yaml.j2` files".to_string())
        }
        ["apps", app, ..] if looks_yaml => Role::Stray(format!(
            "an app folder holds `app.yaml`, `values/*.yaml` and `templates/*.yaml.j2`; did you mean `apps/{app}/app.yaml`?"
        )),
        ["apps", _] if looks_yaml => Role::Stray("a contract lives in `apps/<app>/app.yaml`".to_string()),
        _ => {
            for (folder, kind) in PROFILE_FOLDERS {
                if let Some(rest) = path.strip_prefix(folder).and_then(|r| r.strip_prefix('/')) {
                    return if is_yaml && !rest.is_empty() {
                        Role::Input(kind)
                    } else {
                        Role::Other
                    };
                }
            }
            if looks_yaml && (parts[0] == "profiles" || parts[0] == "policy-library") {
                let folders: Vec<String> = PROFILE_FOLDERS.iter().map(|(f, _)| f.to_string()).collect();
                Role::Stray(format!("fleetgen reads {} only", crate::suggest::list(&folders)))
            } else {
                Role::Other
            }
        }
    }
}

/// A template file of the repository.
#[derive(Debug)]
pub struct TemplateFile {
    /// `None` for the fleet-wide folder `templates/` (and built-ins), else the app whose folder holds it.
    pub app: Option<String>,
    /// Shipped with fleetgen rather than read from the repository.
    pub builtin: bool,
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
        Err(d) => {
            diagnostics.push(*d);
            return;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => {
            let file = sources.files.add(SourceFile::new(path, text));
            let name = path.rsplit('/').next().unwrap_or(path).to_string();
            sources.templates.push(TemplateFile {
                app,
                name,
                file,
                builtin: false,
            });
        }
        Err(_) => diagnostics.push(
            Diagnostic::file_error(codes::UNREADABLE, path, "the template is not valid UTF-8")
                .with_help("save the file as UTF-8"),
        ),
    }
}

/// Adds the built-in templates that the repository's `templates/` folder does not replace.
fn add_builtin_templates(sources: &mut Sources) {
    for (name, text) in crate::emit::builtin::TEMPLATES {
        let replaced = sources.templates.iter().any(|t| t.app.is_none() && t.name == *name);
        if !replaced {
            let file = sources
                .files
                .add(SourceFile::new(crate::emit::builtin::display_path(name), *text));
            sources.templates.push(TemplateFile {
                app: None,
                name: name.to_string(),
                file,
                builtin: true,
            });
        }
    }
}

/// Loads a whole repository. Diagnostics are returned unsorted.
pub fn load(files: &dyn Files) -> (Sources, Vec<Diagnostic>) {
    // The schema validators compile on another thread meanwhile (they are needed from the
    // first file on; whichever thread gets to one first compiles it, the other waits).
    std::thread::scope(|s| {
        s.spawn(schema::warm);
        load_files(files)
    })
}

fn load_files(files: &dyn Files) -> (Sources, Vec<Diagnostic>) {
    let mut sources = Sources::default();
    let mut diagnostics = Vec::new();
    if !files.is_file("fleet.yaml") {
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
    let mut paths = vec!["fleet.yaml".to_string()];
    for dir in ["clusters", "apps", "profiles", "policy-library", "templates"] {
        paths.extend(files.walk(dir, &mut diagnostics));
    }
    for path in paths {
        match classify(&path) {
            Role::Input(kind) => read_input(files, &path, kind, &mut sources, &mut diagnostics),
            Role::Values(app) => {
                if let Some((file, node)) = read_yaml(files, &path, &mut sources.files, &mut diagnostics) {
                    sources.values.push(ValuesFile { app, file, node });
                }
            }
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

/// Reads and parses one YAML file into the source map.
fn read_yaml(
    files: &dyn Files,
    path: &str,
    map: &mut SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(FileId, Node)> {
    let bytes = match files.read(path) {
        Ok(b) => b,
        Err(d) => {
            diagnostics.push(*d);
            return None;
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
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
    };
    let file = map.add(SourceFile::new(path, text));
    match yaml::parse(map.get(file)) {
        Ok(node) => Some((file, node)),
        Err(e) => {
            let label = Label::new(file, e.span, "");
            diagnostics.push(Diagnostic::error(e.code, map, label, e.message));
            None
        }
    }
}

fn read_input(
    files: &dyn Files,
    path: &str,
    kind: &'static Kind,
    sources: &mut Sources,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let before = diagnostics.len();
    read_typed(files, path, kind, sources, diagnostics);
    if diagnostics.len() > before {
        sources.failed.push((kind.name, id_from_path(path).to_string()));
    }
}

fn read_typed(
    files: &dyn Files,
    path: &str,
    kind: &'static Kind,
    sources: &mut Sources,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some((file, node)) = read_yaml(files, path, &mut sources.files, diagnostics) else {
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
                format!("the {} file is empty", kind.name),
            )
            .with_help(format!(
                "a {} file needs {}",
                kind.name,
                required.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
            )),
        );
        return;
    }
    let json = node.to_json();
    let errors = schema::validate(kind, file, &sources.files, &node, &json);
    if !errors.is_empty() {
        diagnostics.extend(errors);
        return;
    }
    let value = match parse_typed(kind, &json) {
        Ok(v) => v,
        Err(e) => {
            diagnostics.push(typed_error(&e, file, &node, &sources.files));
            return;
        }
    };
    match value {
        Typed::Fleet(value) => sources.fleet = Some(Doc { file, node, value }),
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
    Fleet(Fleet),
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
pub fn parse_typed(
    kind: &Kind,
    json: &serde_json::Value,
) -> Result<Typed, serde_path_to_error::Error<serde_json::Error>> {
    fn de<T: DeserializeOwned>(json: &serde_json::Value) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
        serde_path_to_error::deserialize(json)
    }
    Ok(match kind.name {
        "fleet" => Typed::Fleet(de(json)?),
        "cluster" => Typed::Cluster(Box::new(de(json)?)),
        "app" => Typed::App(Box::new(de(json)?)),
        "cluster-profile" => Typed::ClusterProfile(de(json)?),
        "observability-profile" => Typed::ObservabilityProfile(de(json)?),
        "backup-profile" => Typed::BackupProfile(de(json)?),
        "identity-profile" => Typed::IdentityProfile(de(json)?),
        "telemetry-profile" => Typed::TelemetryProfile(de(json)?),
        "policy-intent" => Typed::PolicyIntent(de(json)?),
        "policy-profile" => Typed::PolicyProfile(de(json)?),
        "policy-exemption" => Typed::PolicyExemption(de(json)?),
        other => unreachable!("kind {other} is in schema::KINDS but has no struct"),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_classified_by_folder() {
        assert_eq!(classify("fleet.yaml"), Role::Input(schema::FLEET));
        assert_eq!(classify("clusters/azure/eastus-01.yaml"), Role::Input(schema::CLUSTER));
        assert_eq!(classify("apps/web/app.yaml"), Role::Input(schema::APP));
        assert_eq!(classify("apps/web/values/prod.yaml"), Role::Values("web".into()));
        assert_eq!(
            classify("apps/web/templates/extra.yaml.j2"),
            Role::Template(Some("web".into()))
        );
        assert_eq!(
            classify("profiles/backup/nightly.yaml"),
            Role::Input(schema::BACKUP_PROFILE)
        );
        assert_eq!(
            classify("policy-library/intents/x.yaml"),
            Role::Input(schema::POLICY_INTENT)
        );
        assert_eq!(classify("apps/web/README.md"), Role::Other);
        assert!(matches!(classify("apps/web/app.yml"), Role::Stray(_)));
        assert!(matches!(classify("apps/web/deploy.yaml"), Role::Stray(_)));
        assert!(matches!(classify("profiles/network/x.yaml"), Role::Stray(_)));
    }
}
