//! Where things are: the folders fleetgen reads, each with the kind of its files, and the
//! paths it writes. Every other module asks here instead of spelling a path, so that a new
//! input folder or output area is one line of this file.

use std::fmt;

// ---------------------------------------------------------------------------------------
// Inputs

/// The kinds of input file, each with a JSON Schema in `schemas/` and a struct in `model`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Fleet,
    Cluster,
    App,
    ClusterProfile,
    ObservabilityProfile,
    BackupProfile,
    IdentityProfile,
    TelemetryProfile,
    PolicyIntent,
    PolicyProfile,
    PolicyExemption,
}

/// (kind, name, where its files live): the name is what `fleetgen schema KIND` takes and the
/// schema file is `schemas/<name>.schema.json`.
const KINDS: &[(Kind, &str, &str)] = &[
    (Kind::Fleet, "fleet", "fleet.yaml"),
    (Kind::Cluster, "cluster", "clusters/<clusterId>.yaml"),
    (Kind::App, "app", "apps/<app>/app.yaml"),
    (Kind::ClusterProfile, "cluster-profile", "profiles/cluster/<name>.yaml"),
    (
        Kind::ObservabilityProfile,
        "observability-profile",
        "profiles/observability/<name>.yaml",
    ),
    (Kind::BackupProfile, "backup-profile", "profiles/backup/<name>.yaml"),
    (
        Kind::IdentityProfile,
        "identity-profile",
        "profiles/identity/<name>.yaml",
    ),
    (
        Kind::TelemetryProfile,
        "telemetry-profile",
        "profiles/telemetry/<name>.yaml",
    ),
    (Kind::PolicyIntent, "policy-intent", "policy-library/intents/<id>.yaml"),
    (
        Kind::PolicyProfile,
        "policy-profile",
        "policy-library/profiles/<name>.yaml",
    ),
    (
        Kind::PolicyExemption,
        "policy-exemption",
        "policy-library/exemptions/<name>.yaml",
    ),
];

impl Kind {
    /// Every kind, in the order `fleetgen schema` lists them.
    pub const ALL: [Kind; 11] = [
        Kind::Fleet,
        Kind::Cluster,
        Kind::App,
        Kind::ClusterProfile,
        Kind::ObservabilityProfile,
        Kind::BackupProfile,
        Kind::IdentityProfile,
        Kind::TelemetryProfile,
        Kind::PolicyIntent,
        Kind::PolicyProfile,
        Kind::PolicyExemption,
    ];

    fn row(self) -> &'static (Kind, &'static str, &'static str) {
        &KINDS[self as usize]
    }

    /// `cluster-profile`: what `fleetgen schema` and diagnostics call it.
    pub fn name(self) -> &'static str {
        self.row().1
    }

    /// Where files of this kind live, as documentation.
    pub fn location(self) -> &'static str {
        self.row().2
    }

    /// A kind by name (`app`) or schema file name (`app.schema.json`).
    pub fn find(name: &str) -> Option<Kind> {
        let name = name.strip_suffix(".schema.json").unwrap_or(name);
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The file that makes a folder a fleet repository.
pub const FLEET_FILE: &str = "fleet.yaml";

/// The top-level entries fleetgen reads; nothing else of a repository is opened, in the
/// working tree or in a git revision.
pub const ROOTS: &[&str] = &[
    FLEET_FILE,
    "clusters",
    "apps",
    "profiles",
    "policy-library",
    "templates",
];

/// Folders whose `.yaml` files (at any depth) are all of one kind.
const KIND_FOLDERS: &[(&str, Kind)] = &[
    ("clusters", Kind::Cluster),
    ("profiles/cluster", Kind::ClusterProfile),
    ("profiles/observability", Kind::ObservabilityProfile),
    ("profiles/backup", Kind::BackupProfile),
    ("profiles/identity", Kind::IdentityProfile),
    ("profiles/telemetry", Kind::TelemetryProfile),
    ("policy-library/intents", Kind::PolicyIntent),
    ("policy-library/profiles", Kind::PolicyProfile),
    ("policy-library/exemptions", Kind::PolicyExemption),
];

/// Top-level folders that hold only kind folders: a YAML file elsewhere in them is stray.
const GROUPING_FOLDERS: &[&str] = &["profiles", "policy-library"];

/// What a path in the repository is to fleetgen.
#[derive(Debug, PartialEq, Eq)]
pub enum Role {
    Input(Kind),
    /// A Helm values file of the app whose folder holds it.
    Values(String),
    /// `apps/<app>/chart/values.schema.json`: the JSON Schema the app's chart ships, vendored
    /// so that the merged values are checked against it.
    ChartSchema(String),
    /// `apps/<app>/chart/values.yaml`: the chart's own defaults, vendored beside its schema
    /// (they complete the values the schema judges).
    ChartDefaults(String),
    /// A template: `templates/*.yaml.j2` (fleet-wide, replacing a built-in) or
    /// `apps/<app>/templates/*.yaml.j2` (the app's own objects).
    Template(Option<String>),
    /// A YAML file in an input folder that fleetgen does not read, with a hint.
    Stray(String),
    /// Anything else (READMEs, rendered output): not fleetgen's business here.
    Other,
}

/// Whether fleetgen reads a file at `path`: an input, values, a chart's files, a template
/// (a folder there is a mistake, reported, not walked).
pub fn reads_file(path: &str) -> bool {
    matches!(
        classify(path),
        Role::Input(_) | Role::Values(_) | Role::ChartDefaults(_) | Role::ChartSchema(_) | Role::Template(_)
    )
}

/// What fleetgen makes of the file at `path` (relative, `/`-separated).
pub fn classify(path: &str) -> Role {
    let parts: Vec<&str> = path.split('/').collect();
    let is_yaml = path.ends_with(".yaml");
    let looks_yaml = is_yaml || path.ends_with(".yml");
    if path == FLEET_FILE {
        return Role::Input(Kind::Fleet);
    }
    // `.yml`, and `.YAML`, `.Yaml` …: read by no one (and on a case-insensitive file system
    // `x.YAML` and `x.yaml` cannot both exist, so the rename loses nothing).
    if let Some((stem, extension)) = path.rsplit_once('.')
        && (extension.eq_ignore_ascii_case("yaml") || extension.eq_ignore_ascii_case("yml"))
        && extension != "yaml"
    {
        return Role::Stray(format!("fleetgen reads `.yaml` files only; rename it to `{stem}.yaml`"));
    }
    match parts.as_slice() {
        ["apps", _, "app.yaml"] => Role::Input(Kind::App),
        ["apps", app, "chart", "values.schema.json"] => Role::ChartSchema(app.to_string()),
        ["apps", app, "chart", "values.yaml"] => Role::ChartDefaults(app.to_string()),
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
            "an app folder holds `app.yaml`, `values/*.yaml`, `templates/*.yaml.j2` and `chart/values.schema.json`; did you mean `apps/{app}/app.yaml`?"
        )),
        ["apps", _] if looks_yaml => Role::Stray("a contract lives in `apps/<app>/app.yaml`".to_string()),
        _ => {
            for (folder, kind) in KIND_FOLDERS {
                if let Some(rest) = path.strip_prefix(folder).and_then(|r| r.strip_prefix('/')) {
                    return if is_yaml && !rest.is_empty() {
                        Role::Input(*kind)
                    } else {
                        Role::Other
                    };
                }
            }
            if looks_yaml && GROUPING_FOLDERS.contains(&parts[0]) {
                let folders: Vec<String> = KIND_FOLDERS
                    .iter()
                    .filter(|(f, _)| f.contains('/'))
                    .map(|(f, _)| f.to_string())
                    .collect();
                Role::Stray(format!("fleetgen reads {} only", crate::suggest::list(&folders)))
            } else {
                Role::Other
            }
        }
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

// ---------------------------------------------------------------------------------------
// Outputs

/// The first line of every YAML file fleetgen writes.
pub const HEADER: &str = "# Rendered by fleetgen; do not edit. Change the sources and run `fleetgen render`.\n";

/// How an output folder is recognised as fleetgen's: its `fleet.yaml` starts with this.
pub const MARK: &str = "# Rendered by fleetgen";

const _: () = assert!(HEADER.len() > MARK.len() && const_starts_with(HEADER.as_bytes(), MARK.as_bytes()));

const fn const_starts_with(s: &[u8], prefix: &[u8]) -> bool {
    let mut i = 0;
    while i < prefix.len() {
        if s[i] != prefix[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The output folder, at the top of the fleet unless `--out` says otherwise.
pub const OUTPUT: &str = "rendered";

/// The placement matrix, at the top of the output folder.
pub const MATRIX: &str = "fleet.yaml";

/// The line under [`HEADER`] naming the files an output came from.
pub fn header(sources: &[String]) -> String {
    format!("{HEADER}# sources: {}\n", sources.join(", "))
}

/// An area of a cluster's tree, `rendered/<clusterId>/…`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Area<'a> {
    /// `kustomization.yaml`: the cluster root, listing the engine's objects and the policies.
    Root,
    /// `cluster.yaml`: what the cluster resolved to, and what lands on it.
    Summary,
    /// `gitops/`: the GitOps engine's objects.
    Gitops,
    /// `policy/`: admission policies and bindings.
    Policy,
    /// `azure/`: Azure deployment templates of the cluster.
    Azure,
    /// `apps/<app>/`: an app's objects (or Helm values).
    App(&'a str),
}

impl Area<'_> {
    /// The path of `file` in this area of cluster `id`'s tree (`file` is ignored for the
    /// root files).
    pub fn path(self, id: &str, file: &str) -> String {
        match self {
            Area::Root => format!("{id}/kustomization.yaml"),
            Area::Summary => format!("{id}/cluster.yaml"),
            Area::Gitops => format!("{id}/gitops/{file}"),
            Area::Policy => format!("{id}/policy/{file}"),
            Area::Azure => format!("{id}/azure/{file}"),
            Area::App(app) => format!("{id}/apps/{app}/{file}"),
        }
    }

    /// The path of `file` relative to the cluster root, as the root kustomization lists it.
    pub fn in_root(self, file: &str) -> String {
        match self {
            Area::Root => "kustomization.yaml".into(),
            Area::Summary => "cluster.yaml".into(),
            Area::Gitops => format!("gitops/{file}"),
            Area::Policy => format!("policy/{file}"),
            Area::Azure => format!("azure/{file}"),
            Area::App(app) => format!("apps/{app}/{file}"),
        }
    }
}

/// The folder of a cluster's tree as the GitOps engine's source sees it, from the top of
/// the repository: `rendered/<id>` (`app` narrows it to `rendered/<id>/apps/<app>`), below
/// the fleet's folder there when it is not the top (`repository.path`: `infra/fleet/rendered/<id>`).
pub fn engine_path(base: Option<&str>, id: &str, app: Option<&str>) -> String {
    let base = base.map(|b| format!("{b}/")).unwrap_or_default();
    match app {
        Some(app) => format!("{base}rendered/{id}/apps/{app}"),
        None => format!("{base}rendered/{id}"),
    }
}

impl Area<'_> {
    /// The folder of an area as the engine's source sees it: `rendered/<id>/policy`.
    pub fn engine_folder(self, base: Option<&str>, id: &str) -> String {
        let file = self.in_root("");
        format!("{}/{}", engine_path(base, id, None), file.trim_end_matches('/'))
    }
}

/// A fleet-wide output folder: `_<name>/` (no cluster id starts with `_`: ids are DNS labels).
pub fn fleet_folder(name: &str, rest: &str) -> String {
    format!("_{name}/{rest}")
}

/// The global traffic layer's templates, `_edge/…`: an ARM template per Front Door profile
/// and a CloudFormation template per Route 53 hosted zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeFile<'a> {
    /// `_edge/frontdoor/<profile>.json`.
    FrontDoor(&'a str),
    /// `_edge/route53/<zone name>.json`.
    Route53(&'a str),
}

impl EdgeFile<'_> {
    pub fn path(self) -> String {
        match self {
            EdgeFile::FrontDoor(name) => fleet_folder("edge", &format!("frontdoor/{name}.json")),
            EdgeFile::Route53(zone) => fleet_folder("edge", &format!("route53/{zone}.json")),
        }
    }
}

/// The cloud side of app identities, `_identity/…`: what each cloud must hold for the
/// clusters' service accounts to act as the apps' identities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityFile<'a> {
    /// `_identity/azure/<subscriptionId>/<resourceGroup>.json`: an ARM template of the
    /// federated credentials of the managed identities in the resource group, and of the
    /// role assignments on its resources.
    Azure {
        subscription_id: &'a str,
        resource_group: &'a str,
    },
    /// `_identity/aws/<accountId>/iam.json`: a CloudFormation template of the account's app
    /// roles (trust and permissions).
    AwsRoles { account_id: &'a str },
    /// `_identity/aws/<accountId>/<region>.json`: a CloudFormation template of the region's
    /// EKS Pod Identity associations.
    AwsAssociations { account_id: &'a str, region: &'a str },
}

impl IdentityFile<'_> {
    pub fn path(self) -> String {
        match self {
            IdentityFile::Azure {
                subscription_id,
                resource_group,
            } => fleet_folder("identity", &format!("azure/{subscription_id}/{resource_group}.json")),
            IdentityFile::AwsRoles { account_id } => fleet_folder("identity", &format!("aws/{account_id}/iam.json")),
            IdentityFile::AwsAssociations { account_id, region } => {
                fleet_folder("identity", &format!("aws/{account_id}/{region}.json"))
            }
        }
    }
}

/// What an output path is, read back from the path alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output<'a> {
    /// `fleet.yaml` or a `_<name>/` folder: belongs to the whole fleet.
    Fleet,
    /// In cluster `id`'s tree; `app` when it is in `apps/<app>/`.
    Cluster { id: &'a str, app: Option<&'a str> },
}

/// Reads an output path back: the fleet's, or which cluster (and app folder) it is in.
pub fn output_of(path: &str) -> Output<'_> {
    let mut parts = path.split('/');
    let first = parts.next().unwrap_or("");
    if path == MATRIX || first.starts_with('_') || !path.contains('/') {
        return Output::Fleet;
    }
    let app = match (parts.next(), parts.next()) {
        (Some("apps"), Some(app)) => Some(app),
        _ => None,
    };
    Output::Cluster { id: first, app }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_classified_by_folder() {
        assert_eq!(classify("fleet.yaml"), Role::Input(Kind::Fleet));
        assert_eq!(classify("clusters/azure/eastus-01.yaml"), Role::Input(Kind::Cluster));
        assert_eq!(classify("apps/web/app.yaml"), Role::Input(Kind::App));
        assert_eq!(classify("apps/web/values/prod.yaml"), Role::Values("web".into()));
        assert_eq!(
            classify("apps/web/templates/extra.yaml.j2"),
            Role::Template(Some("web".into()))
        );
        assert_eq!(
            classify("profiles/backup/nightly.yaml"),
            Role::Input(Kind::BackupProfile)
        );
        assert_eq!(
            classify("policy-library/intents/x.yaml"),
            Role::Input(Kind::PolicyIntent)
        );
        assert_eq!(classify("apps/web/README.md"), Role::Other);
        assert_eq!(
            classify("apps/web/chart/values.schema.json"),
            Role::ChartSchema("web".into())
        );
        assert!(matches!(classify("apps/web/app.yml"), Role::Stray(_)));
        // Any case of the extension but `.yaml` is read by no one, and said so.
        for path in [
            "clusters/x.YAML",
            "clusters/x.Yaml",
            "clusters/a/x.YML",
            "apps/web/values/prod.YAML",
        ] {
            let Role::Stray(hint) = classify(path) else {
                panic!("{path} is not stray")
            };
            let stem = path.rsplit_once('.').unwrap().0;
            assert!(hint.ends_with(&format!("rename it to `{stem}.yaml`")), "{hint}");
        }
        assert!(matches!(classify("apps/web/app.YAML"), Role::Stray(_)));
        assert!(matches!(classify("apps/web/deploy.yaml"), Role::Stray(_)));
        assert!(matches!(classify("profiles/network/x.yaml"), Role::Stray(_)));
    }

    #[test]
    fn every_kind_has_one_row_and_a_folder_or_file() {
        for (i, kind) in Kind::ALL.iter().enumerate() {
            assert_eq!(KINDS[i].0, *kind);
            assert_eq!(Kind::find(kind.name()), Some(*kind));
            let placed = *kind == Kind::Fleet || *kind == Kind::App || KIND_FOLDERS.iter().any(|(_, k)| k == kind);
            assert!(placed, "{kind} has no place in the repository");
        }
        for (folder, _) in KIND_FOLDERS {
            let top = folder.split('/').next().unwrap();
            assert!(ROOTS.contains(&top), "{folder} is not under a root fleetgen reads");
        }
    }

    #[test]
    fn output_paths_read_back() {
        assert_eq!(output_of("fleet.yaml"), Output::Fleet);
        assert_eq!(output_of("_azure/sub/policy-assignments.json"), Output::Fleet);
        assert_eq!(output_of(&EdgeFile::FrontDoor("afd").path()), Output::Fleet);
        assert_eq!(
            EdgeFile::Route53("example.com").path(),
            "_edge/route53/example.com.json"
        );
        assert_eq!(
            output_of(&Area::App("web").path("c1", "deployment-web.yaml")),
            Output::Cluster {
                id: "c1",
                app: Some("web")
            }
        );
        assert_eq!(
            output_of(&Area::Gitops.path("c1", "kustomization-web.yaml")),
            Output::Cluster { id: "c1", app: None }
        );
        assert_eq!(
            output_of(&Area::Root.path("c1", "")),
            Output::Cluster { id: "c1", app: None }
        );
    }
}
