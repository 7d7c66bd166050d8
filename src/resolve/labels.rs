//! The managed labels, derived in one place: the telemetry labels fleet.yaml requires
//! (`labels.required`, each with where its value comes from) and `app.kubernetes.io/*`.
//! An app's objects carry every dimension; objects that belong to a cluster (the GitOps
//! engine's, the admission policies) carry those the cluster alone decides.

use std::sync::Arc;

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
    let ring = cluster.value.upgrade_channel.as_str();
    let prefix = &fleet.labels.prefix;
    let mut out = Vec::with_capacity(fleet.labels.required.len());
    for dim in &fleet.labels.required {
        let found: Option<(Option<String>, Origin)> = of_cluster(*dim, cluster).or_else(|| {
            owner
                .app
                .and_then(|(app, ns)| of_app(*dim, app, ns, ring))
                .map(|(v, o)| (Some(v), o))
        });
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

/// The value of a dimension the cluster alone decides (none: a cluster without `cell`), and
/// where it comes from; None for an app's dimension.
fn of_cluster(dim: LabelDimension, cluster: &Doc<Cluster>) -> Option<(Option<String>, Origin)> {
    let c = &cluster.value;
    let at = |path: &[&str]| Origin::Source(cluster.file, cluster.span(path));
    Some(match dim {
        LabelDimension::Cluster => (Some(c.cluster_id.to_string()), at(&["clusterId"])),
        LabelDimension::Provider => (Some(c.provider.to_string()), at(&["provider"])),
        LabelDimension::Region => (Some(c.region.clone()), at(&["region"])),
        LabelDimension::Environment => (Some(c.environment.to_string()), at(&["environment"])),
        LabelDimension::Cell => (c.cell.as_ref().map(ToString::to_string), at(&["cell"])),
        LabelDimension::ClusterOwner => (Some(c.owner_team.to_string()), at(&["ownerTeam"])),
        _ => return None,
    })
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

/// The keys of the managed labels whose value changes with each release of an app (its
/// `version` dimension and `app.kubernetes.io/version`): a Job's pod template goes without
/// them, as Kubernetes refuses any change to it.
pub fn release_keys(fleet: &Fleet) -> Vec<String> {
    let mut keys = vec!["app.kubernetes.io/version".to_string()];
    if fleet.labels.required.contains(&LabelDimension::Version) {
        keys.push([fleet.labels.prefix.as_str(), LabelDimension::Version.as_str()].concat());
    }
    keys
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
        labels.extend(own(app, owner.cluster.value.upgrade_channel.as_str()));
    }
    labels.push(managed_by());
    labels
}

/// One label (`(key, value)`) per required dimension, where valid.
type Dimensions = Vec<Option<(String, Sourced<String>)>>;

/// A placement's managed labels in two parts, each derived once for all the placements
/// that share it: its cluster's (the dimensions the cluster decides) and its app's in the
/// cluster's ring (the app's dimensions, `app.kubernetes.io/name` and `/version`).
/// A placement's [`Labels`] join its cluster's part and its app's.
pub struct Part {
    dimensions: Dimensions,
    /// `app.kubernetes.io/name` and `/version` (an app's part).
    own: Vec<(String, Sourced<String>)>,
}

/// `(key, value)` of a required dimension's label, if its value is valid.
fn label(
    fleet: &Fleet,
    dim: LabelDimension,
    value: Option<String>,
    origin: Origin,
) -> Option<(String, Sourced<String>)> {
    let value = value.filter(|v| is_label_value(v))?;
    Some((
        [fleet.labels.prefix.as_str(), dim.as_str()].concat(),
        Sourced { value, origin },
    ))
}

impl Part {
    /// The cluster's part of its placements' labels.
    pub fn of_cluster(fleet: &Fleet, cluster: &Doc<Cluster>) -> Part {
        let dimensions = fleet
            .labels
            .required
            .iter()
            .map(|dim| of_cluster(*dim, cluster).and_then(|(v, o)| label(fleet, *dim, v, o)))
            .collect();
        Part {
            dimensions,
            own: Vec::new(),
        }
    }

    /// The app's part of its placements' labels in ring `ring`.
    pub fn of_app(fleet: &Fleet, app: &Doc<App>, namespace: &str, ring: &str) -> Part {
        let dimensions = fleet
            .labels
            .required
            .iter()
            .map(|dim| of_app(*dim, app, namespace, ring).and_then(|(v, o)| label(fleet, *dim, Some(v), o)))
            .collect();
        Part {
            dimensions,
            own: own(app, ring),
        }
    }
}

/// A placement's managed labels: its cluster's [`Part`] and its app's in the cluster's
/// ring, each shared by every placement that has it, joined as they are read (each
/// dimension from whichever part decides it, then the app's own labels, then
/// `app.kubernetes.io/managed-by`): the same as [`managed`] of the placement. A list
/// joined for each placement was 3% of a warm check's instructions at 200 × 500, for
/// labels that the placements' keys hash and only the placements rendered again read.
#[derive(Clone)]
pub struct Labels {
    cluster: Arc<Part>,
    app: Arc<Part>,
}

impl Labels {
    pub fn new(cluster: Arc<Part>, app: Arc<Part>) -> Labels {
        Labels { cluster, app }
    }

    /// The labels, in order.
    pub fn iter(&self) -> impl Iterator<Item = &(String, Sourced<String>)> + Clone {
        (self.cluster.dimensions.iter().zip(&self.app.dimensions))
            .filter_map(|(mine, theirs)| mine.as_ref().or(theirs.as_ref()))
            .chain(&self.app.own)
            .chain(std::iter::once(&*MANAGED_BY))
    }
}

impl std::fmt::Debug for Labels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// An app's `app.kubernetes.io/name`, and `/version` in ring `ring` when it is a valid value.
fn own(app: &Doc<App>, ring: &str) -> Vec<(String, Sourced<String>)> {
    let a = &app.value.application;
    let at = |path: &[&str]| Origin::Source(app.file, app.span(path));
    let mut own = vec![(
        "app.kubernetes.io/name".to_string(),
        Sourced {
            value: a.name.to_string(),
            origin: at(&["application", "name"]),
        },
    )];
    let release = a.release(ring);
    if is_label_value(release.version) {
        own.push((
            "app.kubernetes.io/version".into(),
            Sourced {
                value: release.version.to_string(),
                origin: at(&release.path("version")),
            },
        ));
    }
    own
}

/// `app.kubernetes.io/managed-by`, as every placement's [`Labels`] end.
static MANAGED_BY: std::sync::LazyLock<(String, Sourced<String>)> = std::sync::LazyLock::new(managed_by);

fn managed_by() -> (String, Sourced<String>) {
    (
        "app.kubernetes.io/managed-by".into(),
        Sourced {
            value: "fleetgen".into(),
            origin: Origin::Default("fleetgen manages the object"),
        },
    )
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
    fn a_placement_s_labels_are_its_cluster_s_and_its_app_s_parts_joined() {
        use crate::load::fixture;
        // A version Kubernetes refuses in one ring only; a cluster without `cell`.
        let staging_plus = fixture::web_bad_in_staging();
        let no_cell = fixture::cluster_without_cell();
        let cases: Vec<Vec<(&str, &str)>> = vec![
            vec![],
            vec![
                ("apps/web/app.yaml", &staging_plus),
                ("clusters/useast1-prod-01.yaml", &no_cell),
            ],
        ];
        let mut seen = std::collections::BTreeSet::new();
        for overlay in cases {
            let sources = fixture::sources(&overlay);
            let (plan, problems) = crate::resolve::plan::plan(&sources);
            let plan = plan.unwrap_or_else(|| panic!("{problems:?}"));
            assert!(plan.placements.len() > 4);
            for p in &plan.placements {
                let owner = Owner {
                    cluster: p.cluster,
                    app: Some((p.app, namespace(&p.app.value))),
                };
                let want = managed(&plan.fleet.value, owner);
                let got = |l: &[(String, Sourced<String>)]| -> Vec<(String, String, String)> {
                    l.iter()
                        .map(|(k, v)| (k.clone(), v.value.clone(), format!("{:?}", v.origin)))
                        .collect()
                };
                let labels: Vec<(String, Sourced<String>)> = p.labels.iter().cloned().collect();
                assert_eq!(got(&labels), got(&want), "{} on {}", p.app_name(), p.cluster_id());
                seen.insert(labels.len());
            }
        }
        // Placements with and without the cell and the version label were among them.
        assert!(seen.len() >= 3, "{seen:?}");
    }

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
