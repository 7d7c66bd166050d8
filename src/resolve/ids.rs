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

    #[test]
    fn ids_come_from_the_file_or_app_folder() {
        assert_eq!(id_from_path("clusters/azure/eastus-01.yaml"), "eastus-01");
        assert_eq!(id_from_path("apps/web/app.yaml"), "web");
        assert_eq!(id_from_path("profiles/cluster/aks.yaml"), "aks");
    }
}
