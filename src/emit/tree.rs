//! What a render produces: the files by path, who owns each, the apps' objects for lint,
//! and the seal (a digest in each YAML file's header) by which `check` tells a hand edit
//! from a stale render.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::incremental::{Stats, Store, Sum};
use crate::kube::Object;
use crate::layout::{self, Output};
use crate::resolve::plan::Placement;
use crate::sorted::SortedMap;
use crate::source::FileId;

/// Rendered files by path relative to the output folder (`<clusterId>/apps/<app>/…`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RenderedTree {
    pub files: BTreeMap<String, String>,
    /// The app each file belongs to where its path does not say so (an app's GitOps objects
    /// in `gitops/`); files in `apps/<app>/` belong to that app.
    pub(crate) apps: BTreeMap<String, String>,
    /// The apps' objects, for lint rules; kept only when [`Selection::keep_objects`] asks.
    pub objects: Vec<RenderedObject>,
    /// Files of placements the incremental cache stood for: known by size and content hash
    /// (their text is in the output folder). Empty unless the render was given a cache.
    pub known: SortedMap<Sum>,
    /// How many placements were rendered and how many taken from the cache.
    pub stats: Stats,
    /// What the cache should hold after this render (when it was given one).
    pub store: Option<Store>,
    /// The content hash of each of `files` in their order, where the render made it (for
    /// the cache's entries): empty, or one for each file (see [`RenderedTree::sum_at`]).
    pub(crate) sums: Vec<Option<Sum>>,
}

impl RenderedTree {
    /// A tree from (path, text) pairs.
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        RenderedTree {
            files: files.into_iter().map(|(p, t)| (p.to_string(), t.to_string())).collect(),
            ..RenderedTree::default()
        }
    }

    /// The content hash of the `i`-th file of `files` (whose text is `text`): as the render
    /// made it for the cache's entries when it did, else hashed here. The output folder's
    /// update and `check`'s comparison take them rather than hashing the texts again (at
    /// 20 × 50 a render after a one-contract change hashed each changed cluster's files
    /// twice, 2.5% of its instructions).
    pub(crate) fn sum_at(&self, i: usize, text: &str) -> Sum {
        let made = (self.sums.len() == self.files.len()).then(|| self.sums[i]).flatten();
        debug_assert!(
            made.is_none_or(|s| s == Sum::of(text.as_bytes())),
            "file {i}: a stale sum"
        );
        made.unwrap_or_else(|| Sum::of(text.as_bytes()))
    }

    /// How many files the tree has, rendered or known.
    pub fn len(&self) -> usize {
        self.files.len() + self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ids of the clusters the tree has files of (rendered or known), sorted.
    pub fn clusters(&self) -> impl Iterator<Item = &str> {
        let mut ids = std::collections::BTreeSet::new();
        // A path in the folder of the cluster found last is that cluster's: the paths of a
        // map are in order, so each cluster's folder is classified once, not each file.
        let mut last: Option<&str> = None;
        for path in self.files.keys().chain(self.known.keys()) {
            let inside = |id: &str| path.strip_prefix(id).is_some_and(|rest| rest.starts_with('/'));
            if last.is_some_and(inside) {
                continue;
            }
            last = match layout::output_of(path) {
                Output::Cluster { id, .. } => Some(id),
                _ => None,
            };
            ids.extend(last);
        }
        ids.into_iter()
    }

    /// The app a file belongs to, if it belongs to one.
    pub fn app_of<'a>(&'a self, path: &'a str) -> Option<&'a str> {
        match layout::output_of(path) {
            Output::Cluster { app: Some(app), .. } => Some(app),
            _ => self.apps.get(path).map(String::as_str),
        }
    }

    /// The files a selection owns, in path order: everything for the whole fleet; for some
    /// clusters, their trees; for some apps, only those apps' files (their folders and their
    /// GitOps objects) on the selected clusters. This is what `render --stdout` prints.
    pub fn owned_by<'a>(&'a self, select: &'a Selection) -> impl Iterator<Item = (&'a String, &'a String)> + 'a {
        self.files.iter().filter(move |(path, _)| {
            if select.is_all() {
                return true;
            }
            match layout::output_of(path) {
                Output::Fleet => false,
                Output::Cluster { id, .. } => {
                    select.cluster(id) && (select.apps.is_empty() || self.app_of(path).is_some_and(|a| select.app(a)))
                }
            }
        })
    }
}

/// One object a template rendered for a placement, as the template wrote it and what
/// fleetgen adds to it. The finished object is made on demand ([`RenderedObject::object`]):
/// lint keeps every object of the fleet (250,000 at 30,000 placements), and the template's
/// output is shared by every placement that rendered the same text, where a finished copy
/// of each would not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedObject {
    pub cluster: String,
    pub app: String,
    /// The template that rendered it.
    pub template: FileId,
    /// Its file, relative to the output folder.
    pub path: String,
    /// What the placement adds to each of its objects (shared by them).
    pub(crate) finish: Arc<Finish>,
    /// The template's output this object came from (shared by every placement that
    /// rendered the same text) and its position there.
    pub(crate) output: Arc<Vec<Object>>,
    pub(crate) index: usize,
}

/// A placement's namespace and managed labels, which [`super::objects::finish_ordered`]
/// adds to each object it renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finish {
    pub namespace: String,
    pub labels: Vec<(String, String)>,
    pub pod_labels: Vec<(String, String)>,
    /// The pod labels a Job's pod template goes without (they change with each release).
    pub not_in_jobs: Vec<String>,
}

impl RenderedObject {
    /// The object as the template wrote it, before fleetgen added anything.
    pub fn written(&self) -> &Value {
        &self.output[self.index].value
    }

    /// Its kind (the same written and finished).
    pub fn kind(&self) -> &str {
        &self.output[self.index].kind
    }

    /// The finished object, as written to its file: namespace set, managed labels merged,
    /// keys in order. Made anew by each call.
    pub fn object(&self) -> Value {
        let mut obj = self.output[self.index].clone();
        let f = &*self.finish;
        let pod_labels = &mut super::objects::Managed::once(&f.pod_labels).but_in_jobs(&f.not_in_jobs);
        super::objects::finish_ordered_with(
            &mut obj,
            &f.namespace,
            &mut super::objects::Managed::once(&f.labels),
            pod_labels,
        );
        obj.value
    }
}

/// Which clusters and apps to render; empty means all.
#[derive(Debug, Default, Clone)]
pub struct Selection {
    pub clusters: Vec<String>,
    pub apps: Vec<String>,
    /// Keep the apps' objects in [`RenderedTree::objects`] (lint reads them), and no file
    /// texts of the clusters (lint does not read them).
    pub keep_objects: bool,
}

impl Selection {
    pub fn is_all(&self) -> bool {
        self.clusters.is_empty() && self.apps.is_empty()
    }
    pub fn cluster(&self, id: &str) -> bool {
        self.clusters.is_empty() || self.clusters.iter().any(|c| c == id)
    }
    pub fn app(&self, name: &str) -> bool {
        self.apps.is_empty() || self.apps.iter().any(|a| a == name)
    }
    pub fn placement(&self, p: &Placement) -> bool {
        self.cluster(p.cluster_id()) && self.app(p.app_name())
    }

    /// Whether a partial render of this selection replaces the file at `path` of an existing
    /// output folder: the fleet-wide files (rendered anew every time), the selected clusters'
    /// trees — but, with apps selected, of the app folders only those of the selected apps
    /// (the cluster-wide files list every app and are rendered whole).
    pub fn replaces(&self, path: &str) -> bool {
        match layout::output_of(path) {
            Output::Fleet => true,
            Output::Cluster { id, app: Some(app) } => self.cluster(id) && self.app(app),
            Output::Cluster { id, app: None } => self.cluster(id),
        }
    }
}

pub use crate::model::common::fnv1a64;

const DIGEST: &str = "# digest: fnv1a64:";

/// Splits a rendered YAML file into its leading comment lines and its body.
fn split_header(text: &str) -> (&str, &str) {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if !line.starts_with('#') {
            break;
        }
        at += line.len();
    }
    text.split_at(at)
}

/// Adds a digest of the body to a rendered YAML file's header, so that `fleetgen check` can
/// tell a hand edit (body and digest disagree) from a stale render.
pub fn seal(text: &str) -> String {
    let (header, body) = split_header(text);
    format!("{header}{DIGEST}{:016x}\n{body}", fnv1a64(body))
}

/// Whether a sealed file's body still matches its digest; `None` when it has no digest.
pub fn intact(text: &str) -> Option<bool> {
    let (header, body) = split_header(text);
    let recorded = header.lines().find_map(|l| l.strip_prefix(DIGEST))?;
    Some(recorded == format!("{:016x}", fnv1a64(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> RenderedTree {
        let mut t = RenderedTree::from_files([
            ("fleet.yaml", "m"),
            ("_azure/s/policy-assignments.json", "a"),
            ("c1/kustomization.yaml", "r"),
            ("c1/gitops/kustomization-api.yaml", "k"),
            ("c1/gitops/kustomization-pay-api.yaml", "k"),
            ("c1/apps/api/deployment-api.yaml", "d"),
            ("c1/apps/pay-api/deployment-pay-api.yaml", "d"),
            ("c2/apps/api/deployment-api.yaml", "d"),
        ]);
        t.apps.insert("c1/gitops/kustomization-api.yaml".into(), "api".into());
        t.apps
            .insert("c1/gitops/kustomization-pay-api.yaml".into(), "pay-api".into());
        t
    }

    fn owned(t: &RenderedTree, select: &Selection) -> Vec<String> {
        t.owned_by(select).map(|(p, _)| p.clone()).collect()
    }

    #[test]
    fn an_app_owns_its_folder_and_its_gitops_objects_only() {
        let t = tree();
        let select = Selection {
            apps: vec!["api".into()],
            ..Selection::default()
        };
        assert_eq!(
            owned(&t, &select),
            vec![
                "c1/apps/api/deployment-api.yaml",
                "c1/gitops/kustomization-api.yaml",
                "c2/apps/api/deployment-api.yaml"
            ]
        );
    }

    #[test]
    fn a_cluster_owns_its_tree_and_the_fleet_owns_the_rest() {
        let t = tree();
        let select = Selection {
            clusters: vec!["c2".into()],
            ..Selection::default()
        };
        assert_eq!(owned(&t, &select), vec!["c2/apps/api/deployment-api.yaml"]);
        assert_eq!(owned(&t, &Selection::default()).len(), t.files.len());
    }

    #[test]
    fn the_clusters_are_the_folders_of_rendered_and_known_files_once_each() {
        let mut t = RenderedTree::from_files([
            ("_azure/s/policy-assignments.json", "{}"),
            ("a-b/z.yaml", "z"),
            ("a/x.yaml", "x"),
            ("a/y.yaml", "y"),
            ("fleet.yaml", "f"),
        ]);
        let known = ["a/k.yaml", "ab/k.yaml", "b/apps/web/k.yaml", "b/k.yaml", "zz.yaml"];
        t.known = known.iter().map(|k| (k.to_string(), Sum::of(b"k"))).collect();
        assert_eq!(t.clusters().collect::<Vec<_>>(), ["a", "a-b", "ab", "b"]);
    }

    #[test]
    fn a_partial_render_replaces_the_fleet_files_and_what_it_rendered() {
        let select = Selection {
            clusters: vec!["c1".into()],
            apps: vec!["api".into()],
            ..Selection::default()
        };
        assert!(select.replaces("fleet.yaml"));
        assert!(select.replaces("_azure/s/policy-assignments.json"));
        assert!(select.replaces("c1/gitops/kustomization-pay-api.yaml"));
        assert!(select.replaces("c1/apps/api/deployment-api.yaml"));
        assert!(!select.replaces("c1/apps/pay-api/deployment-pay-api.yaml"));
        assert!(!select.replaces("c2/apps/api/deployment-api.yaml"));
    }

    #[test]
    fn seal_detects_a_changed_body() {
        let sealed = seal("# Rendered by fleetgen\nkind: A\n");
        assert_eq!(intact(&sealed), Some(true));
        assert_eq!(intact(&sealed.replace("kind: A", "kind: B")), Some(false));
        assert_eq!(intact("kind: A\n"), None);
    }
}
