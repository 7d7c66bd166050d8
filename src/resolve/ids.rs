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

    #[test]
    fn ids_come_from_the_file_or_app_folder() {
        assert_eq!(id_from_path("clusters/azure/eastus-01.yaml"), "eastus-01");
        assert_eq!(id_from_path("apps/web/app.yaml"), "web");
        assert_eq!(id_from_path("profiles/cluster/aks.yaml"), "aks");
    }
}
