//! The Argo CD backend (argoproj.io/v1alpha1), app of apps.
//!
//! In `<clusterId>/gitops/`, applied by the cluster root; every object lives in the `argocd`
//! namespace and its name starts with the cluster id, so one Argo CD instance can hold the
//! trees of several clusters:
//! - Application `<clusterId>-root`, path `rendered/<clusterId>` (the root manages itself),
//!   in AppProject `<clusterId>-fleet`, which may only create Applications and AppProjects;
//! - one AppProject `<clusterId>-<team>` per owner team, limited to this repository (and the
//!   team's chart repositories) and to the namespaces of the team's apps on this cluster;
//! - one Application `<clusterId>-<app>` per placed app: the app folder, or for chart apps
//!   two sources (the app folder, and the chart with `helm.valuesObject` = the rendered
//!   values); destination the registry's `gitops.apiServer` or in-cluster; automated sync
//!   with prune and self-heal; a sync wave one above the apps it depends on, the first for
//!   an app under a kill switch (a later wave waits for the earlier ones to be healthy).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{ClusterBackend, ClusterContext, PlacementContext};
use crate::kube::{GroupKind, Object};
use crate::layout::{self, Area};
use crate::model::GitopsEngine;
use crate::resolve::plan::ClusterPlan;

/// Where Argo CD and its objects live.
pub const NAMESPACE: &str = crate::kube::ARGOCD_NAMESPACE;
const IN_CLUSTER: &str = "https://kubernetes.default.svc";

pub struct ArgoCd;

impl ClusterBackend for ArgoCd {
    fn engine(&self) -> Option<(GitopsEngine, &'static str)> {
        Some((GitopsEngine::Argocd, NAMESPACE))
    }

    /// The root delivers only the GitOps objects, to the Argo CD instance (which may manage
    /// a remote cluster): every other area has an Application of its own that sends it to
    /// the cluster's API server.
    fn root_applies(&self, area: Area) -> bool {
        area == Area::Gitops
    }

    /// The cluster's projects and its own Applications, for `gitops/`.
    fn cluster_objects(&self, ctx: &ClusterContext) -> Vec<Object> {
        cluster(ctx)
    }

    /// What [`cluster`] reads: the cluster's file (its id and API server), the areas the
    /// other backends deliver with their kinds, and of each placement its app's owner team,
    /// chart repository, namespace and kinds; the repository is fleet.yaml's (in `global`).
    /// A one-app change leaves the projects of a cluster as they were (made again on every
    /// Argo CD cluster, with their files, they were a tenth of the instructions of a render
    /// after a one-contract change at 20 × 50).
    fn key(&self, ctx: &ClusterContext, global: &crate::incremental::Key) -> Option<crate::incremental::Key> {
        let id = ctx.cluster.id();
        let file = ctx.sources.files.get(ctx.cluster.doc.file);
        let kinds = |set: &BTreeSet<GroupKind>| -> Vec<(String, String)> {
            set.iter().map(|k| (k.group.clone(), k.kind.clone())).collect()
        };
        let delivered: Vec<_> = (ctx.delivered.iter())
            .map(|(area, set)| {
                (
                    area.in_root(""),
                    area.engine_folder(ctx.fleet.repository.path.as_deref(), id),
                    kinds(set),
                )
            })
            .collect();
        let placements: Vec<_> = (ctx.placements.iter())
            .map(|p| {
                (
                    p.app_name(),
                    p.app.value.application.owner.as_str(),
                    p.app.value.chart.as_ref().map(|c| c.repository.as_str()),
                    p.namespace.as_str(),
                    ctx.kinds.get(p.app_name()).map(kinds).unwrap_or_default(),
                )
            })
            .collect();
        let read = (file.path.as_str(), file.digest(), delivered, placements);
        Some(crate::incremental::Key::hashed(
            b"argocd cluster objects",
            global,
            &read,
        ))
    }

    /// A placed app's Application, for `gitops/`.
    fn placement_objects(&self, ctx: &PlacementContext) -> Vec<Object> {
        vec![application(ctx)]
    }
}

fn object(kind: &str, name: &str, metadata_extra: Value, spec: Value) -> Object {
    let mut object = Object::new("argoproj.io/v1alpha1", kind, name, Some(NAMESPACE), spec);
    if let (Value::Object(m), Value::Object(extra)) = (&mut object.value["metadata"], metadata_extra) {
        m.extend(extra);
    }
    object
}

/// An AppProject, with the finalizer that keeps it until no Application names it: the root
/// prunes a team's last Application and its project in one sync, and the Application's
/// cascade delete needs its project (Argo CD's `finalizeApplicationDeletion` fails without
/// it, and the root's sync waits on that deletion for ever).
fn project(name: &str, spec: Value) -> Object {
    object(
        "AppProject",
        name,
        json!({"finalizers": ["resources-finalizer.argocd.argoproj.io"]}),
        spec,
    )
}

fn automated(suspended: bool) -> Value {
    if suspended {
        json!({})
    } else {
        json!({"automated": {"prune": true, "selfHeal": true}})
    }
}

/// Argo CD's Helm repository URL for a chart repository: OCI registries without the scheme
/// and without a trailing `/` (Argo CD pulls `oci://<repoURL>/<chart>`, and `charts//shop`
/// is no OCI reference), as Flux's OCIRepository URL is made.
fn chart_repo_url(repository: &str) -> String {
    match repository.strip_prefix("oci://") {
        Some(rest) => rest.trim_end_matches('/').to_string(),
        None => repository.to_string(),
    }
}

/// The API server the cluster's Applications deliver to.
fn server<'a>(cluster: &'a ClusterPlan) -> &'a str {
    cluster.doc.value.gitops.api_server.as_deref().unwrap_or(IN_CLUSTER)
}

fn cluster(ctx: &ClusterContext) -> Vec<Object> {
    let id = ctx.cluster.id();
    let repo = &ctx.fleet.repository;
    let server = server(ctx.cluster);
    let mut out = vec![
        project(
            &format!("{id}-fleet"),
            json!({
                "description": format!("The GitOps objects of cluster {id}: AppProjects and Applications only."),
                "sourceRepos": [repo.url],
                "destinations": [{"server": IN_CLUSTER, "namespace": NAMESPACE}],
                "namespaceResourceWhitelist": [
                    {"group": "argoproj.io", "kind": "Application"},
                    {"group": "argoproj.io", "kind": "AppProject"},
                ],
            }),
        ),
        object(
            "Application",
            &format!("{id}-root"),
            json!({"finalizers": ["resources-finalizer.argocd.argoproj.io"]}),
            json!({
                "project": format!("{id}-fleet"),
                "source": {"repoURL": repo.url, "targetRevision": repo.branch, "path": layout::engine_path(repo.path.as_deref(), id, None)},
                "destination": {"server": IN_CLUSTER, "namespace": NAMESPACE},
                "syncPolicy": automated(false),
            }),
        ),
    ];
    // The cluster's own areas (its admission policies): a project permitting exactly their
    // kinds, and an Application per area to the cluster's API server.
    if !ctx.delivered.is_empty() {
        let kinds: BTreeSet<&GroupKind> = ctx.delivered.values().flatten().collect();
        let mut spec = json!({
            "description": format!("What cluster {id} gets besides its apps: its admission policies."),
            "sourceRepos": [repo.url],
            "destinations": [{"server": server, "namespace": "*"}],
        });
        permit(&mut spec, kinds);
        out.push(project(&format!("{id}-fleet-policy"), spec));
        for area in ctx.delivered.keys() {
            let name = area.in_root("").trim_end_matches('/').to_string();
            out.push(object(
                "Application",
                &format!("{id}-{name}"),
                json!({"finalizers": ["resources-finalizer.argocd.argoproj.io"]}),
                json!({
                    "project": format!("{id}-fleet-policy"),
                    "source": {"repoURL": repo.url, "targetRevision": repo.branch, "path": area.engine_folder(repo.path.as_deref(), id)},
                    "destination": {"server": server},
                    "syncPolicy": automated(false),
                }),
            ));
        }
    }
    // One project per owner team, limited to what that team's apps deliver here: their
    // repositories, their namespaces, the kinds of their objects (and of their charts).
    #[derive(Default)]
    struct Team<'k> {
        repos: BTreeSet<String>,
        namespaces: BTreeSet<String>,
        kinds: BTreeSet<&'k GroupKind>,
    }
    let mut teams: BTreeMap<&str, Team> = BTreeMap::new();
    for p in &ctx.placements {
        let team = teams.entry(p.app.value.application.owner.as_str()).or_default();
        team.repos.insert(repo.url.clone());
        if let Some(chart) = &p.app.value.chart {
            team.repos.insert(chart_repo_url(&chart.repository));
        }
        team.namespaces.insert(p.namespace.clone());
        team.kinds.extend(ctx.kinds.get(p.app_name()).into_iter().flatten());
    }
    for (name, team) in teams {
        let destinations: Vec<Value> = team
            .namespaces
            .iter()
            .map(|ns| json!({"server": server, "namespace": ns}))
            .collect();
        let mut spec = json!({
            "description": format!("Apps of {name} on cluster {id}."),
            "sourceRepos": team.repos,
            "destinations": destinations,
        });
        permit(&mut spec, team.kinds);
        out.push(project(&format!("{id}-{name}"), spec));
    }
    out
}

/// Sets a project's resource lists to exactly `kinds`, cluster-scoped and namespaced apart.
/// An empty namespaced list is written (`[]`): Argo CD reads it as "none", an absent one as
/// "any".
fn permit<'k>(spec: &mut Value, kinds: impl IntoIterator<Item = &'k GroupKind>) {
    let entry = |k: &GroupKind| json!({"group": k.group, "kind": k.kind});
    let (cluster, namespaced): (Vec<&GroupKind>, Vec<&GroupKind>) =
        kinds.into_iter().partition(|k| k.is_cluster_scoped());
    spec["clusterResourceWhitelist"] = cluster.into_iter().map(entry).collect();
    spec["namespaceResourceWhitelist"] = namespaced.into_iter().map(entry).collect();
}

fn application(ctx: &PlacementContext) -> Object {
    let p = ctx.placement;
    let id = ctx.cluster.id();
    let server = server(ctx.cluster);
    let repo = &ctx.fleet.repository;
    let app = p.app_name();
    let folder = json!({"repoURL": repo.url, "targetRevision": repo.branch, "path": layout::engine_path(repo.path.as_deref(), id, Some(app))});
    let mut spec = json!({
        "project": format!("{id}-{}", p.app.value.application.owner),
        "destination": {"server": server, "namespace": p.namespace},
        "syncPolicy": automated(p.suspended.is_some()),
    });
    match (&p.app.value.chart, p.drained.is_some()) {
        (Some(chart), false) => {
            let mut source = json!({
                "repoURL": chart_repo_url(&chart.repository),
                "chart": chart.name.as_str(),
                "targetRevision": chart.version,
                "helm": {"releaseName": app},
            });
            // Moved in, not through `json!` (which copies each value it is given).
            source["helm"]["valuesObject"] = ctx.values();
            spec["sources"] = Value::Array(vec![folder, source]);
        }
        _ => spec["source"] = folder,
    }
    let wave = ctx.wave;
    object(
        "Application",
        &format!("{id}-{app}"),
        json!({
            "annotations": {"argocd.argoproj.io/sync-wave": wave.to_string()},
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        }),
        spec,
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::{cluster_objects, find};
    use super::*;
    use crate::load::fixture;

    const ID: &str = "useast1-prod-01";
    const SERVER: &str = "https://0123456789ABCDEF0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com";

    #[test]
    fn names_start_with_the_cluster_and_apps_go_to_its_api_server() {
        let sources = fixture::sources(&[]);
        let objects = cluster_objects(&sources, &ArgoCd, ID);
        for (_, o) in &objects {
            assert!(o["metadata"]["name"].as_str().unwrap().starts_with(ID), "{o}");
            assert_eq!(o["metadata"]["namespace"], NAMESPACE);
        }
        let root = find(&objects, "Application", "useast1-prod-01-root");
        assert_eq!(root["spec"]["source"]["path"], "rendered/useast1-prod-01");
        let web = find(&objects, "Application", "useast1-prod-01-web");
        assert_eq!(
            web["spec"]["destination"],
            json!({"server": SERVER, "namespace": "web"})
        );
        assert_eq!(web["spec"]["project"], "useast1-prod-01-web-team");
        assert_eq!(web["spec"]["source"]["path"], "rendered/useast1-prod-01/apps/web");
        assert_eq!(
            web["spec"]["syncPolicy"],
            json!({"automated": {"prune": true, "selfHeal": true}})
        );
    }

    /// A fleet in a folder of its repository (`repository.path`): every Application's
    /// path starts there.
    #[test]
    fn paths_start_at_the_fleets_folder_in_its_repository() {
        let fleet = fixture::text("fleet.yaml").replace("  branch: main\n", "  branch: main\n  path: infra/fleet\n");
        let sources = fixture::sources(&[("fleet.yaml", &fleet)]);
        let objects = cluster_objects(&sources, &ArgoCd, ID);
        let root = find(&objects, "Application", "useast1-prod-01-root");
        assert_eq!(root["spec"]["source"]["path"], "infra/fleet/rendered/useast1-prod-01");
        let web = find(&objects, "Application", "useast1-prod-01-web");
        assert_eq!(
            web["spec"]["source"]["path"],
            "infra/fleet/rendered/useast1-prod-01/apps/web"
        );
        let paths: Vec<&str> = (objects.iter())
            .filter(|(_, o)| o["kind"] == "Application")
            .filter_map(|(_, o)| o["spec"]["source"]["path"].as_str())
            .collect();
        assert!(
            paths.iter().all(|p| p.starts_with("infra/fleet/rendered/")),
            "{paths:?}"
        );
    }

    #[test]
    fn each_team_gets_a_project_limited_to_its_namespaces() {
        let sources = fixture::sources(&[]);
        let objects = cluster_objects(&sources, &ArgoCd, ID);
        let team = find(&objects, "AppProject", "useast1-prod-01-api-team");
        assert_eq!(
            team["spec"]["destinations"],
            json!([{"server": SERVER, "namespace": "api"}])
        );
        assert_eq!(
            team["spec"]["sourceRepos"],
            json!(["https://github.com/example/fleet.git"])
        );
    }

    /// Every project waits for the Applications that name it: pruned with its team's last
    /// Application in one sync, it would leave that Application's cascade delete without a
    /// project (argo-cd#4369).
    #[test]
    fn every_project_has_the_finalizer() {
        let sources = fixture::sources(&[]);
        let objects = cluster_objects(&sources, &ArgoCd, ID);
        let projects: Vec<_> = objects.iter().filter(|(_, o)| o["kind"] == "AppProject").collect();
        assert!(projects.len() >= 3, "{projects:?}");
        for (_, o) in projects {
            assert_eq!(
                o["metadata"]["finalizers"],
                json!(["resources-finalizer.argocd.argoproj.io"]),
                "{o}"
            );
        }
    }

    #[test]
    fn a_dependency_puts_an_app_in_a_later_wave() {
        let sources = fixture::sources(&[]);
        let objects = cluster_objects(&sources, &ArgoCd, ID);
        let wave = |name: &str| {
            find(&objects, "Application", name)["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"].clone()
        };
        assert_eq!(wave("useast1-prod-01-api"), "0");
        assert_eq!(wave("useast1-prod-01-web"), "1");
    }

    /// An app under a kill switch is in the first wave: a later wave is applied only once
    /// the earlier ones are healthy, and the switch must not wait for a degraded dependency.
    #[test]
    fn an_app_under_a_switch_is_in_the_first_wave() {
        // `web`'s wave with `extra` appended to the contract of `app` (web calls api).
        let wave_of_web = |app: &str, extra: &str| {
            let path = format!("apps/{app}/app.yaml");
            let text = format!("{}{extra}", fixture::text(&path));
            let sources = fixture::sources(&[(path.as_str(), &text)]);
            let objects = cluster_objects(&sources, &ArgoCd, ID);
            find(&objects, "Application", "useast1-prod-01-web")["metadata"]["annotations"]
                ["argocd.argoproj.io/sync-wave"]
                .clone()
        };
        let suspend = "gitops:\n  suspend:\n    reason: incident 42\n";
        assert_eq!(wave_of_web("web", ""), "1");
        assert_eq!(wave_of_web("web", suspend), "0");
        let drain = format!("gitops:\n  drain:\n    - {{ cluster: {ID}, reason: \"CHG-1: move\" }}\n");
        assert_eq!(wave_of_web("web", &drain), "0");
        // Nor does an app wait for a dependency whose sync is stopped.
        assert_eq!(wave_of_web("api", suspend), "0");
    }

    /// An `oci://` repository written with a trailing `/` names the same registry folder.
    #[test]
    fn an_oci_repository_loses_its_trailing_slash() {
        let web = format!(
            "{}chart:\n  repository: oci://registry.example.com/charts/\n  name: web\n  version: 1.2.3\n",
            fixture::text("apps/web/app.yaml")
        );
        let sources = fixture::sources(&[("apps/web/app.yaml", &web)]);
        let objects = cluster_objects(&sources, &ArgoCd, ID);
        let app = find(&objects, "Application", "useast1-prod-01-web");
        assert_eq!(app["spec"]["sources"][1]["repoURL"], "registry.example.com/charts");
        let team = find(&objects, "AppProject", "useast1-prod-01-web-team");
        assert_eq!(
            team["spec"]["sourceRepos"],
            json!(["https://github.com/example/fleet.git", "registry.example.com/charts"])
        );
    }

    #[test]
    fn a_chart_app_has_two_sources_and_its_values_inline() {
        let web = format!(
            "{}chart:\n  repository: oci://registry.example.com/charts\n  name: web\n  version: 1.2.3\n",
            fixture::text("apps/web/app.yaml")
        );
        let sources = fixture::sources(&[("apps/web/app.yaml", &web)]);
        let objects = cluster_objects(&sources, &ArgoCd, ID);
        let app = find(&objects, "Application", "useast1-prod-01-web");
        let chart = &app["spec"]["sources"][1];
        assert_eq!(chart["repoURL"], "registry.example.com/charts");
        assert_eq!(chart["chart"], "web");
        assert_eq!(chart["targetRevision"], "1.2.3");
        assert_eq!(chart["helm"]["valuesObject"]["replicaCount"], json!(2));
        let team = find(&objects, "AppProject", "useast1-prod-01-web-team");
        assert_eq!(
            team["spec"]["sourceRepos"],
            json!(["https://github.com/example/fleet.git", "registry.example.com/charts"])
        );
    }
}
