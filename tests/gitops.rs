//! The GitOps trees, read the way the engines read them.
//!
//! Every cluster folder of the bundled `rendered/` and of every golden tree is walked from
//! its root `kustomization.yaml`: the root applies its resources; each Flux Kustomization
//! and each Argo CD Application applies the folder (or folders) its path names, through
//! that folder's `kustomization.yaml`. Every object file in the cluster folder must be
//! applied exactly once, and every path must exist.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Rendered trees to check: `rendered/` and every golden `expected/`.
fn trees() -> Vec<PathBuf> {
    let mut trees = vec![root().join("rendered")];
    for entry in fs::read_dir(root().join("tests/golden")).unwrap() {
        let expected = entry.unwrap().path().join("expected");
        if expected.is_dir() {
            trees.push(expected);
        }
    }
    trees.sort();
    trees
}

fn clusters(tree: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(tree)
        .unwrap()
        .map(|e| e.unwrap().path())
        // `_azure/` holds subscription-scope Azure templates, not a cluster.
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('_'))
        .collect();
    dirs.sort();
    dirs
}

/// Files of a cluster folder that hold objects a cluster receives (not kustomize's own file,
/// Helm values, the cluster summary or the Azure Policy template).
fn object_files(cluster: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(cluster).sort_by_file_name() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().is_file()
            && !["kustomization.yaml", "values.yaml", "cluster.yaml"].contains(&name.as_str())
        {
            let rel = entry.path().strip_prefix(cluster).unwrap();
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            // Azure Policy assignments are deployed to Azure, not applied to the cluster.
            if !rel.starts_with("azure/") {
                out.push(rel);
            }
        }
    }
    out
}

struct Walk<'a> {
    cluster: &'a Path,
    id: String,
    /// Object file → who applied it.
    applied: BTreeMap<String, Vec<String>>,
    problems: Vec<String>,
}

impl Walk<'_> {
    /// Applies the folder `dir` (relative to the cluster folder) on behalf of `owner`.
    fn apply_folder(&mut self, dir: &str, owner: &str) {
        let folder = if dir.is_empty() {
            self.cluster.to_path_buf()
        } else {
            self.cluster.join(dir)
        };
        let kustomization = folder.join("kustomization.yaml");
        if !kustomization.is_file() {
            self.problems
                .push(format!("{owner}: {} has no kustomization.yaml", folder.display()));
            return;
        }
        let k = load(&kustomization);
        for resource in k["resources"].as_array().into_iter().flatten() {
            let file = resource.as_str().unwrap();
            let rel = if dir.is_empty() {
                file.to_string()
            } else {
                format!("{dir}/{file}")
            };
            self.applied.entry(rel.clone()).or_default().push(owner.to_string());
            let path = self.cluster.join(&rel);
            if !path.is_file() {
                self.problems.push(format!("{owner}: resource {rel} does not exist"));
                continue;
            }
            self.follow(&load(&path), &rel);
        }
    }

    /// When `object` is an engine object, applies what it points at.
    fn follow(&mut self, object: &Value, at: &str) {
        let kind = object["kind"].as_str().unwrap_or("");
        let api = object["apiVersion"].as_str().unwrap_or("");
        let name = object["metadata"]["name"].as_str().unwrap_or("?");
        let mut paths = Vec::new();
        if api == "kustomize.toolkit.fluxcd.io/v1" && kind == "Kustomization" {
            paths.push(object["spec"]["path"].as_str().unwrap_or("").to_string());
        } else if api == "argoproj.io/v1alpha1" && kind == "Application" {
            let spec = &object["spec"];
            let sources: Vec<&Value> = match spec["sources"].as_array() {
                Some(list) => list.iter().collect(),
                None => vec![&spec["source"]],
            };
            // A chart source has no path: the engine renders the chart, nothing of this tree.
            paths.extend(sources.iter().filter_map(|s| s["path"].as_str()).map(str::to_string));
        } else {
            return;
        }
        for path in paths {
            let path = path.trim_start_matches("./");
            let prefix = format!("rendered/{}", self.id);
            let Some(rest) = path.strip_prefix(&prefix) else {
                self.problems
                    .push(format!("{at}: {kind} {name} points outside its cluster folder: {path}"));
                continue;
            };
            let rest = rest.trim_start_matches('/');
            if rest.is_empty() {
                // The root manages itself; walking it again would apply nothing new.
                continue;
            }
            self.apply_folder(rest, &format!("{kind} {name}"));
        }
    }
}

#[test]
fn every_object_is_applied_exactly_once() {
    let mut problems = Vec::new();
    let mut walked = 0;
    for tree in trees() {
        for cluster in clusters(&tree) {
            let id = cluster.file_name().unwrap().to_string_lossy().into_owned();
            let mut walk = Walk {
                cluster: &cluster,
                id,
                applied: BTreeMap::new(),
                problems: Vec::new(),
            };
            walk.apply_folder("", "the cluster root");
            for file in object_files(&cluster) {
                match walk.applied.get(&file).map(Vec::len) {
                    Some(1) => {}
                    None => walk.problems.push(format!("{file} is applied by nothing")),
                    Some(_) => walk
                        .problems
                        .push(format!("{file} is applied by {:?}", walk.applied[&file])),
                }
            }
            walked += walk.applied.len();
            problems.extend(walk.problems.into_iter().map(|p| format!("{}: {p}", cluster.display())));
        }
    }
    assert!(walked > 300, "walked only {walked} objects");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_cluster_tree_has_its_engine_wiring() {
    for tree in trees() {
        for cluster in clusters(&tree) {
            let summary = load(&cluster.join("cluster.yaml"));
            let engine = summary["gitopsEngine"].as_str().unwrap();
            let root = load(&cluster.join("kustomization.yaml"));
            let resources: Vec<&str> = root["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            let kinds: Vec<String> = resources
                .iter()
                .map(|r| load(&cluster.join(r))["kind"].as_str().unwrap().to_string())
                .collect();
            let apps = summary["apps"].as_array().map_or(0, Vec::len);
            match engine {
                "flux" => {
                    assert_eq!(
                        kinds.iter().filter(|k| *k == "GitRepository").count(),
                        1,
                        "{}",
                        cluster.display()
                    );
                    // The root Kustomization plus one per app.
                    assert_eq!(
                        kinds.iter().filter(|k| *k == "Kustomization").count(),
                        apps + 1,
                        "{}",
                        cluster.display()
                    );
                }
                "argocd" => {
                    // The root, one per app, and one delivering the admission policies.
                    let policies = cluster.join("policy").is_dir();
                    assert_eq!(
                        kinds.iter().filter(|k| *k == "Application").count(),
                        apps + 1 + usize::from(policies),
                        "{}",
                        cluster.display()
                    );
                    assert!(kinds.iter().any(|k| k == "AppProject"), "{}", cluster.display());
                    assert!(
                        !resources.iter().any(|r| r.starts_with("policy/")),
                        "{}: the root goes to the Argo CD instance, the policies to the cluster",
                        cluster.display()
                    );
                }
                other => panic!("unknown engine {other}"),
            }
        }
    }
}

/// An object file with the names of its cluster replaced, so that two clusters compare.
fn normalized(path: &Path, names: &[(&str, &str)]) -> String {
    // The digest line hashes the body, which names the cluster.
    let mut text: String = fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("# digest: "))
        .map(|l| format!("{l}\n"))
        .collect();
    for (from, to) in names {
        text = text.replace(from, to);
    }
    text
}

#[test]
fn one_contract_gives_the_same_objects_on_flux_and_argo_cd() {
    // eastus-prod-01 (Flux) and eastus-prod-02 (Argo CD): one region, one profile.
    let tree = root().join("tests/golden/charts-and-templates/expected");
    let (flux, argo) = (tree.join("eastus-prod-01"), tree.join("eastus-prod-02"));
    assert_eq!(load(&flux.join("cluster.yaml"))["gitopsEngine"], "flux");
    assert_eq!(load(&argo.join("cluster.yaml"))["gitopsEngine"], "argocd");
    let names = [
        ("eastus-prod-01", "<cluster>"),
        ("eastus-prod-02", "<cluster>"),
        ("cell-a", "<cell>"),
        ("cell-b", "<cell>"),
        ("argocd", "<engine>"),
        ("flux", "<engine>"),
    ];
    let flux_only = ["helmrelease-", "ocirepository-", "helmrepository-"];
    let mut compared = 0;
    for app in ["api", "shop", "web"] {
        let (a, b) = (flux.join("apps").join(app), argo.join("apps").join(app));
        let files = |dir: &Path| -> Vec<String> {
            let mut f: Vec<String> = fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| !flux_only.iter().any(|p| n.starts_with(p)))
                .filter(|n| n != "kustomization.yaml" && n != "values.yaml")
                .collect();
            f.sort();
            f
        };
        assert_eq!(files(&a), files(&b), "{app}: different objects");
        for file in files(&a) {
            assert_eq!(
                normalized(&a.join(&file), &names),
                normalized(&b.join(&file), &names),
                "{app}/{file} differs between the engines"
            );
            compared += 1;
        }
    }
    assert!(compared >= 15, "compared {compared} files");
    // Chart values: each engine hands Helm exactly the rendered values.yaml of its cluster.
    let release = load(&flux.join("apps/shop/helmrelease-shop.yaml"));
    assert_eq!(release["spec"]["values"], load(&flux.join("apps/shop/values.yaml")));
    let application = load(&argo.join("gitops/application-eastus-prod-02-shop.yaml"));
    let chart_source = application["spec"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s.get("chart").is_some())
        .unwrap();
    assert_eq!(
        chart_source["helm"]["valuesObject"],
        load(&argo.join("apps/shop/values.yaml"))
    );
}

/// The objects a folder of a cluster tree builds to (through its `kustomization.yaml`).
fn built(cluster: &Path, dir: &str) -> Vec<Value> {
    let folder = cluster.join(dir);
    let k = load(&folder.join("kustomization.yaml"));
    k["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| load(&folder.join(r.as_str().unwrap())))
        .collect()
}

fn group_of(object: &Value) -> &str {
    object["apiVersion"]
        .as_str()
        .unwrap_or("")
        .rsplit_once('/')
        .map_or("", |(g, _)| g)
}

/// Kinds without a namespace among those a fleet tree holds.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
];

fn listed(list: &Value, group: &str, kind: &str) -> bool {
    list.as_array().into_iter().flatten().any(|e| {
        let glob = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        glob(e["group"].as_str().unwrap_or(""), group) && glob(e["kind"].as_str().unwrap_or(""), kind)
    })
}

/// Argo CD's project rules, as `AppProject.IsGroupKindNamePermitted` and the sync's
/// destination check apply them (argo-cd v3.5 pkg/apis/application/v1alpha1,
/// controller/sync.go): a cluster-scoped kind only when `clusterResourceWhitelist` lists it;
/// a namespaced one when `namespaceResourceWhitelist` is absent or lists it (an empty list
/// permits none); a namespaced object's namespace must be a destination of the project on
/// the Application's server. One refused object fails the whole sync. The cluster's own
/// projects permit exactly what their Applications deliver; a team's may permit more (every
/// kind its apps' templates and charts can render, so that a switch or a values change
/// never hides live objects from Argo CD). Every Application of one cluster but the root
/// (which goes to the Argo CD instance) sends its objects to one server.
#[test]
fn argo_cd_projects_permit_what_their_applications_deliver() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for tree in trees() {
        for cluster in clusters(&tree) {
            let gitops: Vec<Value> = fs::read_dir(cluster.join("gitops"))
                .unwrap()
                .map(|e| load(&e.unwrap().path()))
                .collect();
            let projects: BTreeMap<String, &Value> = gitops
                .iter()
                .filter(|o| o["kind"] == "AppProject")
                .map(|o| (o["metadata"]["name"].as_str().unwrap().to_string(), &o["spec"]))
                .collect();
            if projects.is_empty() {
                continue;
            }
            let id = cluster.file_name().unwrap().to_string_lossy().into_owned();
            let mut used: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
            let mut servers = std::collections::BTreeSet::new();
            let mut with_charts = std::collections::BTreeSet::new();
            for app in gitops.iter().filter(|o| o["kind"] == "Application") {
                let name = app["metadata"]["name"].as_str().unwrap();
                let spec = &app["spec"];
                let project_name = spec["project"].as_str().unwrap();
                let Some(project) = projects.get(project_name) else {
                    problems.push(format!("{id}: {name}: no project {project_name}"));
                    continue;
                };
                let server = spec["destination"]["server"].as_str().unwrap();
                let dest_ns = spec["destination"]["namespace"].as_str().unwrap_or("");
                let permits_destination = |ns: &str| {
                    project["destinations"].as_array().unwrap().iter().any(|d| {
                        (d["server"] == server || d["server"] == "*") && (d["namespace"] == ns || d["namespace"] == "*")
                    })
                };
                if !permits_destination(dest_ns) {
                    problems.push(format!("{id}: {name}: destination {server} {dest_ns} not permitted"));
                }
                let sources: Vec<&Value> = match spec["sources"].as_array() {
                    Some(list) => list.iter().collect(),
                    None => vec![&spec["source"]],
                };
                for source in sources {
                    if source.get("chart").is_some() {
                        with_charts.insert(project_name.to_string());
                        continue;
                    }
                    let path = source["path"].as_str().unwrap();
                    let dir = path
                        .strip_prefix(&format!("rendered/{id}"))
                        .unwrap()
                        .trim_start_matches('/');
                    for o in built(&cluster, dir) {
                        let (group, kind) = (group_of(&o), o["kind"].as_str().unwrap());
                        let namespaced = !CLUSTER_SCOPED.contains(&kind);
                        let permitted = if namespaced {
                            project
                                .get("namespaceResourceWhitelist")
                                .is_none_or(|wl| listed(wl, group, kind))
                        } else {
                            listed(&project["clusterResourceWhitelist"], group, kind)
                        };
                        let what = format!("{id}: {name}: {kind}/{}", o["metadata"]["name"]);
                        if !permitted {
                            problems.push(format!("{what} is not permitted by project {project_name}"));
                        }
                        let ns = o["metadata"]["namespace"].as_str().unwrap_or(dest_ns);
                        if namespaced && !permits_destination(ns) {
                            problems.push(format!("{what}: namespace {ns} is not a destination of {project_name}"));
                        }
                        used.entry(project_name.to_string())
                            .or_default()
                            .push((group.to_string(), kind.to_string()));
                        if !dir.is_empty() && group != "argoproj.io" {
                            servers.insert(server.to_string());
                        }
                        checked += 1;
                    }
                }
            }
            if servers.len() > 1 {
                problems.push(format!("{id}: objects go to several servers: {servers:?}"));
            }
            // Exactly, for the cluster's own projects: nothing permitted that no Application
            // delivers.
            for (name, project) in &projects {
                let own = [format!("{id}-fleet"), format!("{id}-fleet-policy")];
                if with_charts.contains(name) || !own.contains(name) {
                    continue;
                }
                let delivered = used.get(name).cloned().unwrap_or_default();
                for list in ["clusterResourceWhitelist", "namespaceResourceWhitelist"] {
                    for e in project[list].as_array().into_iter().flatten() {
                        let (g, k) = (e["group"].as_str().unwrap(), e["kind"].as_str().unwrap());
                        if !delivered.iter().any(|(dg, dk)| dg == g && dk == k) {
                            problems.push(format!(
                                "{id}: project {name} permits {g}/{k}, which none of its Applications delivers"
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 100, "checked {checked} objects");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Flux's `targetNamespace` moves every namespaced object of a Kustomization into that
/// namespace: every object an app's Kustomization applies is already there (or is that
/// Namespace), so the move changes nothing and Flux and Argo CD put the objects in the same
/// place.
#[test]
fn flux_target_namespaces_change_nothing() {
    let mut checked = 0;
    for tree in trees() {
        for cluster in clusters(&tree) {
            let Ok(entries) = fs::read_dir(cluster.join("gitops")) else {
                continue;
            };
            for entry in entries {
                let ks = load(&entry.unwrap().path());
                let Some(target) = ks["spec"]["targetNamespace"].as_str() else {
                    continue;
                };
                let id = cluster.file_name().unwrap().to_string_lossy().into_owned();
                let dir = ks["spec"]["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches(&format!("./rendered/{id}/"))
                    .to_string();
                for o in built(&cluster, &dir) {
                    let kind = o["kind"].as_str().unwrap();
                    let what = format!("{}/{dir}: {kind}/{}", cluster.display(), o["metadata"]["name"]);
                    if kind == "Namespace" {
                        assert_eq!(o["metadata"]["name"], target, "{what}");
                    } else {
                        assert!(!CLUSTER_SCOPED.contains(&kind), "{what} is cluster-scoped");
                        assert_eq!(o["metadata"]["namespace"], target, "{what}");
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "checked {checked} objects");
}

/// Every chart app's values fit what its chart convention reads: each key fleetgen writes
/// in the shape the chart's templates use (`data/chart-conventions/`), and no label the
/// chart sets itself repeated in `podLabels`/`commonLabels` (helm create pastes podLabels
/// after its own labels as text: a repeated key is a duplicate YAML key).
#[test]
fn chart_values_fit_their_convention() {
    let mut checked = 0;
    for tree in trees() {
        for cluster in clusters(&tree) {
            let summary = load(&cluster.join("cluster.yaml"));
            for app in summary["apps"].as_array().into_iter().flatten() {
                let Some(convention) = app["chart"]["convention"].as_str() else {
                    continue;
                };
                let name = app["name"].as_str().unwrap();
                let values_file = cluster.join("apps").join(name).join("values.yaml");
                if !values_file.is_file() {
                    continue; // drained: the chart is not deployed
                }
                let schema_file = root().join(format!("data/chart-conventions/{convention}.values.schema.json"));
                let mut schema: Value = serde_json::from_str(&fs::read_to_string(schema_file).unwrap()).unwrap();
                // A values file may set the chart's other keys: only the convention's are judged.
                schema.as_object_mut().unwrap().remove("additionalProperties");
                let validator = jsonschema::validator_for(&schema).unwrap();
                let values = load(&values_file);
                let errors: Vec<String> = validator
                    .iter_errors(&values)
                    .map(|e| format!("{}: {e}", e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{}: {errors:?}", values_file.display());
                for key in ["podLabels", "commonLabels"] {
                    for label in values[key].as_object().into_iter().flat_map(|m| m.keys()) {
                        assert!(
                            !label.starts_with("app.kubernetes.io/") && !label.starts_with("helm.sh/"),
                            "{}: {key} repeats the chart's own label {label}",
                            values_file.display()
                        );
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 5, "checked {checked} chart apps");
}
