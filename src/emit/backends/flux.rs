//! The Flux backend (current APIs only: source.toolkit.fluxcd.io/v1,
//! kustomize.toolkit.fluxcd.io/v1, helm.toolkit.fluxcd.io/v2).
//!
//! In `<clusterId>/gitops/`, applied by the cluster root:
//! - GitRepository `fleet` (this repository, checked out sparsely: only `rendered/<clusterId>`);
//! - Kustomization `fleet-root`, path `./rendered/<clusterId>`: the root manages itself, so
//!   after one `kubectl apply -k rendered/<clusterId>` Flux keeps the cluster in step;
//! - one Kustomization per placed app, path `./rendered/<clusterId>/apps/<app>`, with `prune`,
//!   `wait`, `timeout`, `targetNamespace` and `dependsOn` the apps it depends on that are
//!   placed on the same cluster (not one whose sync is stopped, and none for a drained or
//!   scaled-down app: a switch must not wait behind them).
//!
//! A chart app's folder also holds its chart source (an OCIRepository for `oci://` charts,
//! else a HelmRepository) and a HelmRelease whose inline `values` are the rendered
//! values.yaml, so the app's Kustomization owns everything of the app.

use serde_json::{Value, json};

use super::{ClusterBackend, ClusterContext, PlacementContext};
use crate::kube::Object;
use crate::layout;
use crate::model::fleet::{AuthProvider, Fleet, SourceAuth};
use crate::model::{Criticality, GitopsEngine};
use crate::resolve::plan::Placement;

/// Where Flux's controllers and objects live.
pub const NAMESPACE: &str = crate::kube::FLUX_NAMESPACE;
/// The cluster root's Kustomization (an app's Kustomization is named after the app).
pub const ROOT: &str = crate::kube::FLUX_ROOT;

pub struct Flux;

impl ClusterBackend for Flux {
    fn engine(&self) -> Option<(GitopsEngine, &'static str)> {
        Some((GitopsEngine::Flux, NAMESPACE))
    }

    /// The cluster's source and root Kustomization, for `gitops/`.
    fn cluster_objects(&self, ctx: &ClusterContext) -> Vec<Object> {
        cluster(ctx)
    }

    /// What [`cluster`] reads: the cluster's id (its file) and fleet.yaml's repository (in
    /// `global`).
    fn key(&self, ctx: &ClusterContext, global: &crate::incremental::Key) -> Option<crate::incremental::Key> {
        let file = ctx.sources.files.get(ctx.cluster.doc.file);
        let read = (file.path.as_str(), file.digest());
        Some(crate::incremental::Key::hashed(b"flux cluster objects", global, &read))
    }

    /// A placed app's Kustomization, for `gitops/`.
    fn placement_objects(&self, ctx: &PlacementContext) -> Vec<Object> {
        vec![kustomization(ctx)]
    }

    /// A chart app's source and HelmRelease, in its own folder and namespace.
    fn chart_objects(&self, fleet: &Fleet, p: &Placement, values: &Value) -> Vec<Object> {
        chart_objects(fleet, p, values.clone())
    }
}

fn object(api_version: &str, kind: &str, name: &str, namespace: &str, spec: Value) -> Object {
    Object::new(api_version, kind, name, Some(namespace), spec)
}

fn cluster(ctx: &ClusterContext) -> Vec<Object> {
    let id = ctx.cluster.id();
    let fleet = &ctx.fleet.repository;
    let mut source = json!({
        "interval": "1m",
        "url": fleet.url,
        "ref": {"branch": fleet.branch},
        "sparseCheckout": [layout::engine_path(fleet.path.as_deref(), id, None)],
    });
    authenticate(&mut source, fleet.auth.as_ref());
    vec![
        object(
            "source.toolkit.fluxcd.io/v1",
            "GitRepository",
            "fleet",
            NAMESPACE,
            source,
        ),
        object(
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            ROOT,
            NAMESPACE,
            json!({
                "interval": "10m",
                "retryInterval": "2m",
                "timeout": "5m",
                "prune": true,
                "wait": true,
                "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                "path": format!("./{}", layout::engine_path(fleet.path.as_deref(), id, None)),
            }),
        ),
    ]
}

/// The Kustomization of a placed app: its folder, into its namespace, after the apps it
/// depends on here.
fn kustomization(ctx: &PlacementContext) -> Object {
    let p = ctx.placement;
    let base = ctx.fleet.repository.path.as_deref();
    let mut spec = json!({
        "interval": "10m",
        "retryInterval": "2m",
        "timeout": timeout(p),
        "prune": true,
        "wait": true,
        "sourceRef": {"kind": "GitRepository", "name": "fleet"},
        "path": format!("./{}", layout::engine_path(base, ctx.cluster.id(), Some(p.app_name()))),
        "targetNamespace": p.namespace,
    });
    // Not a suspended dependency, nor any for a drained or scaled-down app (see
    // `ClusterContext::placement`).
    if !ctx.dependencies.is_empty() {
        spec["dependsOn"] = Value::Array(ctx.dependencies.iter().map(|d| json!({"name": d})).collect());
    }
    if p.suspended.is_some() {
        spec["suspend"] = json!(true);
    }
    object(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        p.app_name(),
        NAMESPACE,
        spec,
    )
}

/// The OCIRepository `ref` of chart version `version`: an exact version is a tag, as Helm
/// pushes it (`+` build metadata becomes `_`, which an OCI tag cannot hold); anything else
/// (`3.8.x`, `^3.8`, `>=3.8 <4`) is a range, which `ref.semver` takes (`ref.tag` is literal,
/// and would never be found). Argo CD's `targetRevision` and a HelmRepository's
/// `chart.spec.version` take either as it is.
fn oci_ref(version: &str) -> Value {
    let core = version.strip_prefix('v').unwrap_or(version);
    let (core, _) = core.split_once('+').unwrap_or((core, ""));
    let (core, pre) = core.split_once('-').unwrap_or((core, ""));
    let numbers: Vec<&str> = core.split('.').collect();
    let exact = numbers.len() == 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && pre.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !version.contains(' ');
    match exact {
        true => json!({"tag": version.replace('+', "_")}),
        false => json!({"semver": version}),
    }
}

/// How long a Kustomization waits for its objects to become ready.
fn timeout(p: &Placement) -> &'static str {
    if p.app.value.chart.is_some() { "10m" } else { "5m" }
}

/// Sets a source's credentials: `secretRef`, or `provider` (a platform identity), or both
/// for a GitHub App (`provider: github`, whose keys the Secret holds).
fn authenticate(spec: &mut Value, auth: Option<&SourceAuth>) {
    match auth {
        Some(SourceAuth::SecretRef(name)) => spec["secretRef"] = json!({"name": name.as_str()}),
        Some(SourceAuth::Provider(provider)) => spec["provider"] = json!(provider.as_str()),
        Some(SourceAuth::GithubApp(name)) => {
            spec["provider"] = json!(AuthProvider::Github.as_str());
            spec["secretRef"] = json!({"name": name.as_str()});
        }
        None => {}
    }
}

fn chart_objects(fleet: &Fleet, p: &Placement, values: Value) -> Vec<Object> {
    let Some(chart) = &p.app.value.chart else {
        return Vec::new();
    };
    let app = p.app_name();
    let ns = p.namespace.as_str();
    let (retries, remediate_last) = match p.app.value.application.criticality {
        Criticality::Tier0 | Criticality::Tier1 => (3, true),
        Criticality::Tier2 => (2, true),
        Criticality::Tier3 => (1, false),
    };
    let mut release = json!({
        "interval": "10m",
        "releaseName": app,
        "install": {"remediation": {"retries": retries}},
        "upgrade": {
            "cleanupOnFail": true,
            "remediation": {"retries": retries, "strategy": "rollback", "remediateLastFailure": remediate_last},
        },
        "driftDetection": {"mode": "enabled"},
        "values": values,
    });
    let auth = fleet.registry_of(&chart.repository).and_then(|r| r.auth.as_ref());
    let source = if let Some(rest) = chart.repository.strip_prefix("oci://") {
        release["chartRef"] = json!({"kind": "OCIRepository", "name": app});
        let mut spec = json!({
            "interval": "10m",
            "url": format!("oci://{}/{}", rest.trim_end_matches('/'), chart.name),
            "ref": oci_ref(chart.version.as_str()),
            "layerSelector": {
                "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                "operation": "copy",
            },
        });
        authenticate(&mut spec, auth);
        object("source.toolkit.fluxcd.io/v1", "OCIRepository", app, ns, spec)
    } else {
        release["chart"] = json!({
            "spec": {
                "chart": chart.name.as_str(),
                "version": chart.version,
                "sourceRef": {"kind": "HelmRepository", "name": app},
                "interval": "1h",
            }
        });
        // An https:// Helm repository takes a basic-auth Secret; a cloud identity is for OCI.
        let mut spec = json!({"interval": "1h", "url": chart.repository});
        authenticate(&mut spec, auth.filter(|a| matches!(a, SourceAuth::SecretRef(_))));
        object("source.toolkit.fluxcd.io/v1", "HelmRepository", app, ns, spec)
    };
    vec![
        source,
        object("helm.toolkit.fluxcd.io/v2", "HelmRelease", app, ns, release),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testing::{cluster_objects, find};
    use super::*;
    use crate::load::fixture;

    /// A GitHub App: source-controller refuses `provider: github` without the Secret of the
    /// app's keys, so fleet.yaml takes both and the GitRepository gets both.
    #[test]
    fn a_github_app_is_the_provider_and_its_secret() {
        let fleet = fixture::text("fleet.yaml").replace(
            "  branch: main\n",
            "  branch: main\n  auth:\n    provider: github\n    secretRef: fleet-github-app\n",
        );
        let sources = fixture::sources(&[("fleet.yaml", &fleet)]);
        let objects = cluster_objects(&sources, &Flux, "eastus-prod-01");
        let repo = find(&objects, "GitRepository", "fleet");
        assert_eq!(repo["spec"]["provider"], "github");
        assert_eq!(repo["spec"]["secretRef"], json!({"name": "fleet-github-app"}));
    }

    /// A fleet in a folder of its repository (`repository.path`): the source checks out
    /// that folder's tree and every path starts there, as the engine reads them from the
    /// repository's top.
    #[test]
    fn paths_start_at_the_fleets_folder_in_its_repository() {
        let fleet = fixture::text("fleet.yaml").replace("  branch: main\n", "  branch: main\n  path: infra/fleet\n");
        let sources = fixture::sources(&[("fleet.yaml", &fleet)]);
        let objects = cluster_objects(&sources, &Flux, "eastus-prod-01");
        let repo = find(&objects, "GitRepository", "fleet");
        assert_eq!(
            repo["spec"]["sparseCheckout"],
            json!(["infra/fleet/rendered/eastus-prod-01"])
        );
        let root = find(&objects, "Kustomization", "fleet-root");
        assert_eq!(root["spec"]["path"], "./infra/fleet/rendered/eastus-prod-01");
        let web = find(&objects, "Kustomization", "web");
        assert_eq!(web["spec"]["path"], "./infra/fleet/rendered/eastus-prod-01/apps/web");
    }

    #[test]
    fn the_root_tracks_its_own_folder_and_each_app_its_folder_in_order() {
        let sources = fixture::sources(&[]);
        let objects = cluster_objects(&sources, &Flux, "eastus-prod-01");
        let repo = find(&objects, "GitRepository", "fleet");
        assert_eq!(repo["spec"]["sparseCheckout"], json!(["rendered/eastus-prod-01"]));
        assert_eq!(repo["spec"]["url"], "https://github.com/example/fleet.git");
        let root = find(&objects, "Kustomization", "fleet-root");
        assert_eq!(root["spec"]["path"], "./rendered/eastus-prod-01");
        let web = find(&objects, "Kustomization", "web");
        assert_eq!(web["spec"]["path"], "./rendered/eastus-prod-01/apps/web");
        assert_eq!(web["spec"]["targetNamespace"], "web");
        assert_eq!(
            web["spec"]["dependsOn"],
            json!([{"name": "api"}]),
            "web calls api synchronously"
        );
        assert!(
            find(&objects, "Kustomization", "api")["spec"]
                .get("dependsOn")
                .is_none()
        );
        let owners: Vec<Option<&str>> = objects.iter().map(|(app, _)| app.as_deref()).collect();
        assert_eq!(owners, [None, None, Some("api"), Some("web")]);
    }

    #[test]
    fn a_suspended_app_stops_syncing() {
        let web = format!(
            "{}gitops:\n  suspend:\n    reason: incident 42\n",
            fixture::text("apps/web/app.yaml")
        );
        let sources = fixture::sources(&[("apps/web/app.yaml", &web)]);
        let objects = cluster_objects(&sources, &Flux, "eastus-prod-01");
        assert_eq!(find(&objects, "Kustomization", "web")["spec"]["suspend"], json!(true));
        assert!(find(&objects, "Kustomization", "api")["spec"].get("suspend").is_none());
    }

    /// No Kustomization waits for one whose sync is stopped (it never applies the next
    /// revision, and Flux would hold its dependents), and a drained app waits for none.
    #[test]
    fn nothing_waits_for_a_stopped_dependency_nor_a_drained_app_for_any() {
        let depends = |overrides: &[(&str, &str)]| {
            let sources = fixture::sources(overrides);
            let objects = cluster_objects(&sources, &Flux, "eastus-prod-01");
            find(&objects, "Kustomization", "web")["spec"].get("dependsOn").cloned()
        };
        assert_eq!(depends(&[]), Some(json!([{"name": "api"}])));
        let api = format!(
            "{}gitops:\n  suspend:\n    reason: incident 42\n    clusters: [eastus-prod-01]\n",
            fixture::text("apps/api/app.yaml")
        );
        assert_eq!(depends(&[("apps/api/app.yaml", &api)]), None);
        let web = format!(
            "{}gitops:\n  drain:\n    - {{ cluster: eastus-prod-01, reason: \"CHG-1: move\" }}\n",
            fixture::text("apps/web/app.yaml")
        );
        assert_eq!(depends(&[("apps/web/app.yaml", &web)]), None);
    }

    /// An exact chart version is an OCI tag as Helm pushes it; a range is `ref.semver`.
    #[test]
    fn an_oci_chart_version_is_a_tag_or_a_range() {
        assert_eq!(oci_ref("1.2.3"), json!({"tag": "1.2.3"}));
        assert_eq!(oci_ref("1.2.3-rc.1"), json!({"tag": "1.2.3-rc.1"}));
        assert_eq!(oci_ref("1.2.3+build.5"), json!({"tag": "1.2.3_build.5"}));
        for range in ["3.8.x", "^3.8.0", "~3.8", ">=3.8.0 <4.0.0", "3.8", "*"] {
            assert_eq!(oci_ref(range), json!({"semver": range}), "{range}");
        }
    }

    #[test]
    fn a_chart_comes_from_an_oci_repository_or_a_helm_repository() {
        for (repository, source_kind) in [
            ("oci://registry.example.com/charts", "OCIRepository"),
            ("https://charts.example.com", "HelmRepository"),
        ] {
            let web = format!(
                "{}chart:\n  repository: {repository}\n  name: web\n  version: 1.2.3\n",
                fixture::text("apps/web/app.yaml")
            );
            let sources = fixture::sources(&[("apps/web/app.yaml", &web)]);
            let (plan, _) = crate::resolve::plan::plan(&sources);
            let plan = plan.unwrap();
            let p = plan.placements.iter().find(|p| p.app_name() == "web").unwrap();
            let objects = Flux.chart_objects(&plan.fleet.value, p, &json!({"replicaCount": 2}));
            let kinds: Vec<&str> = objects.iter().map(|o| o.kind.as_str()).collect();
            assert_eq!(kinds, [source_kind, "HelmRelease"]);
            let release = &objects[1].value["spec"];
            assert_eq!(release["values"], json!({"replicaCount": 2}));
            match source_kind {
                "OCIRepository" => {
                    assert_eq!(release["chartRef"], json!({"kind": "OCIRepository", "name": "web"}));
                    assert_eq!(objects[0].value["spec"]["url"], "oci://registry.example.com/charts/web");
                    assert_eq!(objects[0].value["spec"]["ref"], json!({"tag": "1.2.3"}));
                }
                _ => assert_eq!(
                    release["chart"]["spec"]["sourceRef"],
                    json!({"kind": "HelmRepository", "name": "web"})
                ),
            }
        }
    }
}
