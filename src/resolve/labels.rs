//! The managed labels, derived in one place: the telemetry labels fleet.yaml requires
//! (`labels.required`, each with where its value comes from) and `app.kubernetes.io/*`.
//! An app's objects carry every dimension; objects that belong to a cluster (the GitOps
//! engine's, the admission policies) carry those the cluster alone decides.

use crate::load::Doc;
use crate::model::fleet::{Fleet, LabelDimension};
use crate::model::{App, Cluster};

use super::plan::{Origin, Sourced};

/// An object's owner, for its labels: a cluster, and the app when the object is an app's.
#[derive(Clone, Copy)]
pub struct Owner<'s> {
    pub cluster: &'s Doc<Cluster>,
    /// The app and its namespace.
    pub app: Option<(&'s Doc<App>, &'s str)>,
}

/// A required label as derived for one owner.
pub struct Required {
    pub dimension: LabelDimension,
    /// `<prefix><dimension>`.
    pub key: String,
    /// `None` when the owner has no value for it (a cluster without `cell`).
    pub value: Option<String>,
    pub origin: Origin,
}

/// The namespace an app's objects live in: `application.namespace`, else its name.
pub fn namespace(app: &App) -> &str {
    app.application
        .namespace
        .as_ref()
        .unwrap_or(&app.application.name)
        .as_str()
}

/// The required labels that apply to `owner` (an app's dimensions only when it is an app's).
pub fn required(fleet: &Fleet, owner: Owner) -> Vec<Required> {
    let cluster = owner.cluster;
    let c = &cluster.value;
    let at_cluster = |path: &[&str]| Origin::Source(cluster.file, cluster.span(path));
    let prefix = &fleet.labels.prefix;
    let mut out = Vec::with_capacity(fleet.labels.required.len());
    for dim in &fleet.labels.required {
        let found: Option<(Option<String>, Origin)> = match dim {
            LabelDimension::Cluster => Some((Some(c.cluster_id.to_string()), at_cluster(&["clusterId"]))),
            LabelDimension::Provider => Some((Some(c.provider.to_string()), at_cluster(&["provider"]))),
            LabelDimension::Region => Some((Some(c.region.clone()), at_cluster(&["region"]))),
            LabelDimension::Environment => Some((Some(c.environment.to_string()), at_cluster(&["environment"]))),
            LabelDimension::Cell => Some((c.cell.as_ref().map(ToString::to_string), at_cluster(&["cell"]))),
            LabelDimension::ClusterOwner => Some((Some(c.owner_team.to_string()), at_cluster(&["ownerTeam"]))),
            _ => owner
                .app
                .and_then(|(app, ns)| of_app(*dim, app, ns, c.upgrade_channel.as_str()))
                .map(|(v, o)| (Some(v), o)),
        };
        if let Some((value, origin)) = found {
            out.push(Required {
                dimension: *dim,
                key: [prefix.as_str(), dim.as_str()].concat(),
                value,
                origin,
            });
        }
    }
    out
}

/// The value of an app's dimension, and where it comes from.
fn of_app(dim: LabelDimension, app: &Doc<App>, namespace: &str, ring: &str) -> Option<(String, Origin)> {
    let a = &app.value.application;
    let release = a.release(ring);
    let at = |path: &[&str]| Origin::Source(app.file, app.span(path));
    Some(match dim {
        LabelDimension::Namespace if a.namespace.is_some() => {
            (namespace.to_string(), at(&["application", "namespace"]))
        }
        LabelDimension::Namespace => (namespace.to_string(), at(&["application", "name"])),
        LabelDimension::Service => (a.name.to_string(), at(&["application", "name"])),
        LabelDimension::Version => (release.version.to_string(), at(&release.path("version"))),
        LabelDimension::Team => (a.owner.to_string(), at(&["application", "owner"])),
        LabelDimension::Criticality => (a.criticality.to_string(), at(&["application", "criticality"])),
        _ => return None,
    })
}

/// Every managed label of an object of `owner`: the required labels that have a valid
/// value (an invalid one is reported by `label-value`, FG030), then `app.kubernetes.io/name`
/// and `version` for an app's objects, and `app.kubernetes.io/managed-by`.
pub fn managed(fleet: &Fleet, owner: Owner) -> Vec<(String, Sourced<String>)> {
    // The required ones, then up to three of `app.kubernetes.io/`.
    let mut labels: Vec<(String, Sourced<String>)> = Vec::with_capacity(fleet.labels.required.len() + 3);
    labels.extend(required(fleet, owner).into_iter().filter_map(|r| {
        let value = r.value.filter(|v| is_label_value(v))?;
        Some((
            r.key,
            Sourced {
                value,
                origin: r.origin,
            },
        ))
    }));
    if let Some((app, _)) = owner.app {
        let a = &app.value.application;
        let at = |path: &[&str]| Origin::Source(app.file, app.span(path));
        labels.push((
            "app.kubernetes.io/name".into(),
            Sourced {
                value: a.name.to_string(),
                origin: at(&["application", "name"]),
            },
        ));
        let release = a.release(owner.cluster.value.upgrade_channel.as_str());
        if is_label_value(release.version) {
            labels.push((
                "app.kubernetes.io/version".into(),
                Sourced {
                    value: release.version.to_string(),
                    origin: at(&release.path("version")),
                },
            ));
        }
    }
    labels.push((
        "app.kubernetes.io/managed-by".into(),
        Sourced {
            value: "fleetgen".into(),
            origin: Origin::Default("fleetgen manages the object"),
        },
    ));
    labels
}

/// Whether Kubernetes accepts `v` as a label value: at most 63 characters of
/// `[A-Za-z0-9._-]`, beginning and ending alphanumeric (empty is allowed by Kubernetes,
/// but a required label must say something).
pub fn is_label_value(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_what_kubernetes_accepts() {
        assert!(is_label_value("2026.07.03-1421"));
        assert!(is_label_value("a"));
        assert!(!is_label_value(""));
        assert!(!is_label_value("1.4+build"));
        assert!(!is_label_value("-a"));
        assert!(!is_label_value(&"a".repeat(64)));
    }
}
