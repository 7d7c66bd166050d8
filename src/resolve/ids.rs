//! Ids match their file names, and no id is declared twice.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Label, codes};
use crate::load::{Doc, Sources};
use crate::model::Id;
use crate::source::SourceMap;

pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let map = &sources.files;
    unique(
        map,
        "cluster",
        sources
            .clusters
            .iter()
            .map(|d| (d, &d.value.cluster_id, &["clusterId"][..])),
        out,
    );
    unique(
        map,
        "app",
        sources
            .apps
            .iter()
            .map(|d| (d, &d.value.application.name, &["application", "name"][..])),
        out,
    );
    macro_rules! named {
        ($what:literal, $list:ident) => {
            unique(
                map,
                $what,
                sources.$list.iter().map(|d| (d, &d.value.name, &["name"][..])),
                out,
            );
        };
    }
    named!("cluster profile", cluster_profiles);
    named!("observability profile", observability_profiles);
    named!("backup profile", backup_profiles);
    named!("identity profile", identity_profiles);
    named!("telemetry profile", telemetry_profiles);
    named!("policy profile", policy_profiles);
    named!("policy exemption", policy_exemptions);
    unique(
        map,
        "policy intent",
        sources.policy_intents.iter().map(|d| (d, &d.value.id, &["id"][..])),
        out,
    );

    // One API server is one cluster: two entries naming it would have one Argo CD instance
    // send two trees (and two sets of same-named admission policies) to it.
    let mut servers: BTreeMap<&str, &Doc<crate::model::Cluster>> = BTreeMap::new();
    for doc in &sources.clusters {
        let Some(server) = doc.value.gitops.api_server.as_deref() else {
            continue;
        };
        if let Some(first) = servers.insert(server, doc) {
            out.push(
                Diagnostic::error(
                    codes::DUPLICATE_ID,
                    map,
                    doc.label(&["gitops", "apiServer"], "named again here"),
                    format!(
                        "clusters `{}` and `{}` name the same API server",
                        first.value.cluster_id, doc.value.cluster_id
                    ),
                )
                .with_secondary(first.label(&["gitops", "apiServer"], "first named here"))
                .with_help("an API server is one cluster: give each registry entry its own"),
            );
        }
    }

    clouds_unique(sources, out);
    gitops_names_unique(sources, out);

    if let Some(fleet) = &sources.fleet {
        let f = &fleet.value;
        unique_items(
            fleet,
            "ring",
            "rings",
            f.rings.iter().map(|r| r.name.to_string()),
            map,
            out,
        );
        unique_items(
            fleet,
            "registry",
            "registries",
            f.registries.iter().map(|r| r.name.to_string()),
            map,
            out,
        );
        unique_items(
            fleet,
            "registry host",
            "registries",
            f.registries.iter().map(|r| r.host.clone()),
            map,
            out,
        );
    }
}

/// One cluster in the cloud is one cluster file: two naming the same OIDC issuer would share
/// one federated credential per service account (the second cluster's silently merged into
/// the first's), and two naming the same EKS cluster of one account and region would each
/// get a Pod Identity association for it, which EKS refuses.
fn clouds_unique(sources: &Sources, out: &mut Vec<Diagnostic>) {
    // (what is named, the key) → the first cluster naming it.
    let mut seen: BTreeMap<(&str, String), &Doc<crate::model::Cluster>> = BTreeMap::new();
    for doc in &sources.clusters {
        let c = &doc.value;
        let mut names: Vec<(&str, String, &[&str])> = Vec::new();
        if let Some(issuer) = c.azure.as_ref().and_then(|z| z.oidc_issuer_url.as_ref()) {
            // An issuer URL is compared as Entra compares it, bar a trailing `/`.
            names.push((
                "the same OIDC issuer",
                issuer.trim_end_matches('/').to_string(),
                &["azure", "oidcIssuerUrl"],
            ));
        }
        if let Some(aws) = &c.aws {
            if let Some(provider) = &aws.oidc_provider {
                names.push((
                    "the same IAM OIDC provider",
                    format!("{} {provider}", aws.account_id),
                    &["aws", "oidcProvider"],
                ));
            }
            // Pod Identity associates per EKS cluster (`aws.clusterName`, else the id; two equal
            // ids are reported above).
            if c.identity_mode == crate::model::common::IdentityMode::EksPodIdentity {
                let name = aws.cluster_name.as_deref().unwrap_or(c.cluster_id.as_str());
                let path: &[&str] = if aws.cluster_name.is_some() {
                    &["aws", "clusterName"]
                } else {
                    &["clusterId"]
                };
                names.push((
                    "the same EKS cluster",
                    format!("{} {} {name}", aws.account_id, c.region),
                    path,
                ));
            }
        }
        for (what, key, path) in names {
            match seen.get(&(what, key.clone())) {
                Some(first) if first.value.cluster_id == c.cluster_id => {}
                Some(first) => {
                    let first_path: &[&str] = match (what, first.value.aws.as_ref()) {
                        ("the same EKS cluster", Some(a)) if a.cluster_name.is_none() => &["clusterId"],
                        _ => path,
                    };
                    out.push(
                        Diagnostic::error(
                            codes::DUPLICATE_ID,
                            &sources.files,
                            doc.label(path, "named again here"),
                            format!("clusters `{}` and `{}` name {what}", first.value.cluster_id, c.cluster_id),
                        )
                        .with_secondary(first.label(first_path, "first named here"))
                        .with_help("a cluster in the cloud is one cluster file: give each its own (its federated credentials and Pod Identity associations are per cluster)"),
                    );
                }
                None => {
                    seen.insert((what, key), doc);
                }
            }
        }
    }
}

/// What a GitOps object of fleetgen's is rendered for: the cluster's own wiring (or the
/// engine's bootstrap), a placed app, or the project of an app's owner team.
#[derive(Clone, Copy, PartialEq, Eq)]
enum For<'a> {
    Own(&'static str),
    App(&'a str),
    Team(&'a str),
}

/// The GitOps objects fleetgen renders are named after the apps and teams: none may take the
/// name of another in the same engine's namespace, where the second file would overwrite the
/// first (or the cluster root would list it twice). A Flux cluster has its own flux-system
/// namespace: Kustomization `<app>` beside fleetgen's `fleet-root` and bootstrap's
/// `flux-system`. Argo CD clusters may share one instance (which ones the fleet does not
/// say, so all are taken to): Application `<cluster>-<app>` beside each cluster's
/// `<cluster>-root` and `<cluster>-<area>` (its admission policies), AppProject
/// `<cluster>-<team>` beside `<cluster>-fleet` and `<cluster>-fleet-policy`, across every
/// Argo CD cluster (cluster `useast1` with app `prod-01-api` meets cluster `useast1-prod-01`
/// with app `api`).
fn gitops_names_unique(sources: &Sources, out: &mut Vec<Diagnostic>) {
    use crate::layout::Area;
    use crate::model::GitopsEngine;
    let policy_area = Area::Policy.in_root("");
    let policy_area = policy_area.trim_end_matches('/');
    // (instance, kind, name) → (cluster, what it is for, where).
    type Seen<'a> = BTreeMap<(&'a str, &'static str, String), (&'a str, For<'a>, Label)>;
    let mut seen: Seen = BTreeMap::new();
    let mut reported: Vec<(crate::source::FileId, crate::source::Span)> = Vec::new();
    let mut clusters: Vec<&Doc<crate::model::Cluster>> = sources.clusters.iter().collect();
    clusters.sort_by(|a, b| a.value.cluster_id.cmp(&b.value.cluster_id));
    for doc in clusters {
        let c = &doc.value;
        let id = c.cluster_id.as_str();
        let argo = c.gitops.engine == GitopsEngine::Argocd;
        let instance = if argo { "the Argo CD instance" } else { id };
        let here = |what: &str| doc.label(&["clusterId"], what.to_string());
        let mut names: Vec<(&'static str, String, For, Label)> = Vec::new();
        if argo {
            for (kind, own, local) in [
                ("Application", "root", "root"),
                ("Application", "policy", policy_area),
                ("AppProject", "fleet", "fleet"),
                ("AppProject", "fleet-policy", "fleet-policy"),
            ] {
                names.push((kind, format!("{id}-{local}"), For::Own(own), here("the cluster")));
            }
        } else {
            for own in [crate::kube::FLUX_ROOT, crate::kube::FLUX_BOOTSTRAP] {
                names.push(("Kustomization", own.to_string(), For::Own(own), here("the cluster")));
            }
        }
        for app in &sources.apps {
            if !super::placement::selects(&app.value, c) {
                continue;
            }
            let a = &app.value.application;
            let (name, owner) = (a.name.as_str(), a.owner.as_str());
            if argo {
                let label = app.label(&["application", "name"], "this app");
                names.push(("Application", format!("{id}-{name}"), For::App(name), label));
                let label = app.label(&["application", "owner"], "this team");
                names.push(("AppProject", format!("{id}-{owner}"), For::Team(owner), label));
            } else {
                let label = app.label(&["application", "name"], "this app");
                names.push(("Kustomization", name.to_string(), For::App(name), label));
            }
        }
        for (kind, name, what, label) in names {
            let key = (instance, kind, name);
            let Some((first_cluster, first_what, first_label)) = seen.get(&key) else {
                seen.insert(key, (id, what, label));
                continue;
            };
            if (*first_cluster, *first_what) == (id, what) {
                continue;
            }
            let describe = |cluster: &str, what: For| match what {
                For::Own("root") => format!("the root Application of cluster `{cluster}`"),
                For::Own("fleet") => format!("the project of cluster `{cluster}`'s GitOps objects"),
                For::Own("fleet-policy") => format!("the project of cluster `{cluster}`'s admission policies"),
                For::Own(n) if n == crate::kube::FLUX_ROOT => format!("the root Kustomization of cluster `{cluster}`"),
                For::Own(n) if n == crate::kube::FLUX_BOOTSTRAP => {
                    format!("Flux bootstrap's own Kustomization on cluster `{cluster}`")
                }
                For::Own(_) => format!("the Application of cluster `{cluster}`'s admission policies"),
                For::App(app) => format!("app `{app}` on cluster `{cluster}`"),
                For::Team(team) => format!("the project of team `{team}` on cluster `{cluster}`"),
            };
            let (first, second) = (describe(first_cluster, *first_what), describe(id, what));
            // The app's (or team's) name is where it is fixed: the primary label.
            let (primary, secondary) = match what {
                For::Own(_) => (first_label.clone(), label),
                _ => (label, first_label.clone()),
            };
            let at = (primary.file, primary.span.clone());
            if reported.contains(&at) {
                continue;
            }
            reported.push(at);
            let (key_kind, key_name) = (key.1, &key.2);
            let where_ = if argo {
                "in the Argo CD namespace (clusters may share an instance)"
            } else {
                "in the cluster's flux-system namespace"
            };
            out.push(
                Diagnostic::error(
                    codes::DUPLICATE_ID,
                    &sources.files,
                    primary,
                    format!("{key_kind} `{key_name}` would be rendered twice {where_}: for {first} and for {second}"),
                )
                .with_secondary(secondary)
                .with_help(if argo {
                    format!(
                        "rename the app or team: Argo CD clusters keep `<cluster>-root` and `<cluster>-{policy_area}` (Applications), `<cluster>-fleet` and `<cluster>-fleet-policy` (AppProjects), and `<cluster>-<name>` must differ across clusters"
                    )
                } else {
                    format!(
                        "rename the app: a Flux cluster keeps Kustomizations `{}` (fleetgen's root) and `{}` (Flux bootstrap's)",
                        crate::kube::FLUX_ROOT,
                        crate::kube::FLUX_BOOTSTRAP
                    )
                }),
            );
        }
    }
}

/// Checks one kind: the id equals the file (or app folder) name, and ids are unique.
fn unique<'a, T: crate::load::Input + 'a>(
    map: &SourceMap,
    what: &str,
    docs: impl Iterator<Item = (&'a Doc<T>, &'a Id, &'static [&'static str])>,
    out: &mut Vec<Diagnostic>,
) {
    let mut seen: BTreeMap<&str, Label> = BTreeMap::new();
    for (doc, id, path) in docs {
        let file_path = &map.get(doc.file).path;
        let expected = crate::layout::id_from_path(file_path);
        if expected != id.as_str() {
            let thing = if file_path.ends_with("/app.yaml") {
                "folder"
            } else {
                "file"
            };
            out.push(
                Diagnostic::error(
                    codes::ID_MISMATCH,
                    map,
                    doc.label(path, format!("the {thing} is named `{expected}`")),
                    format!("{what} id `{id}` does not match its {thing} name `{expected}`"),
                )
                .with_help(format!("rename the {thing} to `{id}` or set the id to `{expected}`")),
            );
        }
        let label = doc.label(path, "declared again here");
        match seen.get(id.as_str()) {
            Some(first) => out.push(
                Diagnostic::error(
                    codes::DUPLICATE_ID,
                    map,
                    label,
                    format!("{what} `{id}` is declared twice"),
                )
                .with_secondary(Label::new(first.file, first.span.clone(), "first declared here")),
            ),
            None => {
                seen.insert(id.as_str(), label);
            }
        }
    }
}

fn unique_items<T: crate::load::Input>(
    doc: &Doc<T>,
    what: &str,
    list: &str,
    names: impl Iterator<Item = String>,
    map: &SourceMap,
    out: &mut Vec<Diagnostic>,
) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, name) in names.enumerate() {
        if let Some(&first) = seen.get(&name) {
            out.push(
                Diagnostic::error(
                    codes::DUPLICATE_ID,
                    map,
                    doc.item_label(&[list], i, "declared again here"),
                    format!("{what} `{name}` is declared twice in `{list}`"),
                )
                .with_secondary(doc.item_label(&[list], first, "first declared here")),
            );
        } else {
            seen.insert(name, i);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::layout::id_from_path;

    /// The FG022 messages of the base fleet with these files laid over it.
    fn duplicates(overlay: &[(&str, &str)]) -> Vec<String> {
        let sources = crate::load::fixture::sources(overlay);
        let mut out = Vec::new();
        super::check(&sources, &mut out);
        out.into_iter()
            .filter(|d| d.code.id == "FG022")
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn two_clusters_naming_one_cluster_in_the_cloud_are_refused() {
        let base = crate::load::fixture::text("clusters/eastus-prod-01.yaml");
        // A second cluster file with the first one's OIDC issuer.
        let twin = base.replace("eastus-prod-01", "eastus-prod-02");
        assert_eq!(
            duplicates(&[("clusters/eastus-prod-02.yaml", &twin)]),
            ["clusters `eastus-prod-01` and `eastus-prod-02` name the same OIDC issuer"]
        );
        let own = twin.replace("-000000000001/\n", "-000000000102/\n");
        assert!(duplicates(&[("clusters/eastus-prod-02.yaml", &own)]).is_empty());
        // Two Pod Identity clusters naming one EKS cluster of an account and region.
        let eks = crate::load::fixture::text("clusters/useast1-prod-01.yaml")
            .replace("identityMode: irsa", "identityMode: eks-pod-identity");
        let second = eks
            .replace("useast1-prod-01", "useast1-prod-02")
            .replace("/id/", "/id/02")
            .replace("0123456789ABCDEF.gr7", "0123456789ABCDEE.gr7")
            + "  clusterName: useast1-prod-01\n";
        assert_eq!(
            duplicates(&[
                ("clusters/useast1-prod-01.yaml", &eks),
                ("clusters/useast1-prod-02.yaml", &second)
            ]),
            ["clusters `useast1-prod-01` and `useast1-prod-02` name the same EKS cluster"]
        );
    }

    /// `apps/api/app.yaml` as app `name` of team `owner`.
    fn api_as(name: &str, owner: &str) -> (String, String) {
        let text = crate::load::fixture::text("apps/api/app.yaml")
            .replace("  name: api\n", &format!("  name: {name}\n"))
            .replace("  owner: api-team\n", &format!("  owner: {owner}\n"));
        (format!("apps/{name}/app.yaml"), text)
    }

    #[test]
    fn an_app_or_team_named_like_a_gitops_object_of_fleetgens_is_refused() {
        // On the Argo CD cluster: the root Application, the policies' Application, the
        // project of the GitOps objects.
        let (path, root) = api_as("root", "api-team");
        assert_eq!(
            duplicates(&[(&path, &root)]),
            [
                "Application `useast1-prod-01-root` would be rendered twice in the Argo CD namespace (clusters may share an instance): for the root Application of cluster `useast1-prod-01` and for app `root` on cluster `useast1-prod-01`"
            ]
        );
        let (path, policy) = api_as("policy", "api-team");
        assert_eq!(duplicates(&[(&path, &policy)]).len(), 1);
        let (path, fleet) = api_as("api2", "fleet");
        assert_eq!(
            duplicates(&[(&path, &fleet)]),
            [
                "AppProject `useast1-prod-01-fleet` would be rendered twice in the Argo CD namespace (clusters may share an instance): for the project of cluster `useast1-prod-01`'s GitOps objects and for the project of team `fleet` on cluster `useast1-prod-01`"
            ]
        );
        // On the Flux clusters: the root Kustomization and Flux bootstrap's (reported once,
        // at the app, though it is on two Flux clusters).
        let (path, fleet_root) = api_as("fleet-root", "api-team");
        let found = duplicates(&[(&path, &fleet_root)]);
        assert_eq!(
            found,
            [
                "Kustomization `fleet-root` would be rendered twice in the cluster's flux-system namespace: for the root Kustomization of cluster `eastus-prod-01` and for app `fleet-root` on cluster `eastus-prod-01`"
            ]
        );
        let (path, bootstrap) = api_as("flux-system", "api-team");
        assert_eq!(duplicates(&[(&path, &bootstrap)]).len(), 1);
        // Names fleetgen does not make are free.
        let (path, fine) = api_as("fleet", "policy");
        assert!(duplicates(&[(&path, &fine)]).is_empty());
    }

    #[test]
    fn argo_cd_names_meeting_across_clusters_are_refused() {
        // Cluster `useast1` (its own API server, cell-c) and app `prod-01-api` placed on it:
        // Application `useast1-prod-01-api`, as app `api` on cluster `useast1-prod-01`.
        let cluster = crate::load::fixture::text("clusters/useast1-prod-01.yaml")
            .replace("useast1-prod-01", "useast1")
            .replace("cell: cell-b", "cell: cell-c")
            .replace(
                "0123456789ABCDEF0123456789ABCDEF.gr7",
                "0123456789ABCDEF0123456789ABCDEE.gr7",
            )
            .replace("/id/735", "/id/736");
        let (path, app) = api_as("prod-01-api", "api-team");
        let app = app.replace("placement:\n", "placement:\n  cells: [cell-c]\n");
        assert_eq!(
            duplicates(&[("clusters/useast1.yaml", &cluster), (&path, &app)]),
            [
                "Application `useast1-prod-01-api` would be rendered twice in the Argo CD namespace (clusters may share an instance): for app `prod-01-api` on cluster `useast1` and for app `api` on cluster `useast1-prod-01`"
            ]
        );
    }

    #[test]
    fn ids_come_from_the_file_or_app_folder() {
        assert_eq!(id_from_path("clusters/azure/eastus-01.yaml"), "eastus-01");
        assert_eq!(id_from_path("apps/web/app.yaml"), "web");
        assert_eq!(id_from_path("profiles/cluster/aks.yaml"), "aks");
    }
}
