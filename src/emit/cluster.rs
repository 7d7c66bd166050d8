//! One cluster's tree, `<clusterId>/`: each selected placement's folder ([`super::app`]),
//! the objects of every cluster backend that serves the cluster (in the backend's area:
//! `gitops/`, `policy/`), `cluster.yaml` (what the cluster resolved to), and the root
//! `kustomization.yaml`.
//!
//! Every placement of the cluster is rendered, selected or not: the GitOps objects list
//! every app and what it delivers (Argo CD's projects permit exactly those kinds), so a
//! partial render writes the same GitOps objects as a full one; only the selected apps'
//! folders are kept.
//!
//! The engine backend delivers what the other backends make: the root applies an area
//! itself, or (Argo CD: an Application per area, to the cluster's own API server) the
//! area gets a `kustomization.yaml` of its own that the engine's object points at.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use serde_json::{Value, json};

use super::app::{self, Outputs, Seen};
use super::backends::{self, ClusterContext};
use super::driver::{PlacementError, Run};
use super::tree::{RenderedObject, Selection, seal};
use super::{matrix, objects, yaml};
use crate::diag::{Diagnostic, Label, codes};
use crate::incremental::store::{ClusterEntry, NewClaim};
use crate::incremental::{Entry, Key, Stats, Sum};
use crate::kube::{GroupKind, Object};
use crate::layout::{self, Area};
use crate::load::Sources;
use crate::policy::enforce::Enforce;
use crate::resolve::labels;
use crate::resolve::plan::{ClusterPlan, Placement};

/// What rendering one cluster produced: its files and the files it knows by content each
/// in path order (sorted on the cluster's thread, so that the fleet's lists, one run per
/// cluster, are put in order in one pass).
pub(super) struct ClusterDone {
    pub files: Outputs,
    /// The content hash of each of `files`, in the same order, when the render has a cache
    /// (its entries record them; the output folder's update takes them from here rather
    /// than hashing every text again). Empty otherwise.
    pub sums: Vec<Sum>,
    /// Outputs that belong to an app outside its folder (its GitOps objects): path → app.
    pub apps: BTreeMap<String, String>,
    pub errors: Vec<PlacementError>,
    pub objects: Vec<RenderedObject>,
    /// Files of placements taken from the cache: known by content, not rendered.
    pub known: Vec<(String, Sum)>,
    /// What the cache holds for this cluster's placements after this render.
    pub entries: Vec<(Key, Arc<Entry>)>,
    /// And for its cluster-wide files.
    pub cluster_entry: Option<(Key, Arc<ClusterEntry>)>,
    pub stats: Stats,
}

/// A placement rendered now that the cache will hold: its entry's position, its files' in
/// the cluster's outputs, the kinds it delivers (group, kind) and its objects.
type Fresh = (usize, std::ops::Range<usize>, Vec<(String, String)>, Vec<NewClaim>);

pub(super) fn render(run: &Run, cluster: &ClusterPlan, select: &Selection) -> ClusterDone {
    let (sources, plan) = (run.sources, run.plan);
    let mut out: Outputs = Vec::new();
    let mut kept = select.keep_objects.then(Vec::new);
    let mut errors = Vec::new();
    let id = cluster.id();
    let enforce = Enforce::new(sources, &plan.fleet.value, &cluster.doc.value, &run.used);
    let mut seen = Seen::default();
    let mut kinds: BTreeMap<String, BTreeSet<GroupKind>> = BTreeMap::new();
    let mut known = Vec::new();
    let mut entries = Vec::new();
    let mut stats = Stats::default();
    // Placements rendered now that the cache will hold: their entry, files in `out`, the
    // kinds they deliver and their objects.
    let mut fresh: Vec<Fresh> = Vec::new();
    // (position in the plan, placement) of the cluster's placements.
    let range = plan.cluster_range(id);
    let placements: Vec<(usize, &Placement)> = range.clone().zip(&plan.placements[range]).collect();
    let keys = run.reuse.as_ref().map(|r| &r.keys);
    let store = run.reuse.as_ref().map(|r| r.store);
    // The cluster-wide files are made from the cluster and its placements and nothing else.
    let mut cluster_key = keys.and_then(|k| k.clusters.get(id).copied());
    if let Some(done) = unchanged(run, select, &placements, cluster_key) {
        return done;
    }
    for (i, p) in placements {
        let selected = select.placement(p);
        let key = keys.map(|k| k.placements[i]);
        let hit = key.and_then(|k| {
            let entry = store?.entries.get(&k)?;
            Some((k, entry, entry.detail()?))
        });
        // An entry stands for the placement unless one of its objects is already taken (then
        // a render says by whom).
        if let Some((key, entry, detail)) =
            hit.filter(|(_, _, d)| d.claims.iter().all(|(id, _)| !seen.contains_key(id)))
        {
            run.used.add(entry.exemptions.iter().map(String::as_str));
            for claim in &detail.claims {
                seen.insert(claim.0, (p.app_name(), detail.template(claim)));
            }
            let delivered = (detail.kinds.into_iter()).map(|(group, kind)| GroupKind {
                group: group.to_string(),
                kind: kind.to_string(),
            });
            kinds.insert(p.app_name().to_string(), delivered.collect());
            if selected {
                known.extend(entry.files.iter().cloned());
            }
            entries.push((key, Arc::clone(entry)));
            stats.reused += 1;
            continue;
        }
        enforce.take_exempted();
        let done = app::render(run, p, &mut seen, &enforce, kept.as_mut().filter(|_| selected));
        stats.rendered += 1;
        let exempted = enforce.take_exempted();
        // Only a placement without findings is cached (its findings must show every time).
        if let Some(key) = key.filter(|_| selected && done.errors.is_empty()) {
            let delivered = done.kinds.iter().map(|k| (k.group.clone(), k.kind.clone()));
            let range = out.len()..out.len() + done.files.len();
            fresh.push((entries.len(), range, delivered.collect(), done.claims));
            let mut entry = Entry::default();
            entry.exemptions = exempted;
            entries.push((key, Arc::new(entry)));
        }
        kinds.insert(p.app_name().to_string(), done.kinds);
        // An app rendered only for what it delivers: its errors count, its warnings are its team's.
        let found = done
            .errors
            .into_iter()
            .filter(|d| selected || d.severity == crate::diag::Severity::Error);
        errors.extend(found.map(|d| (d, p.app_name().to_string(), id.to_string())));
        if selected {
            out.extend(done.files);
        }
    }
    let mut apps = BTreeMap::new();
    let cached = cluster_key.and_then(|k| Some((k, run.reuse.as_ref()?.store.clusters.get(&k)?)));
    let mut cluster_entry = None;
    let cluster_files = out.len();
    let mut placed = Placed::default();
    match cached {
        Some((key, entry)) => {
            known.extend(entry.files.iter().cloned());
            apps.extend(entry.apps.iter().cloned());
            cluster_entry = Some((key, Arc::clone(entry)));
        }
        None => {
            let mine: Vec<&Placement> = run.placements_of(id).map(|(_, p)| p).collect();
            out.push((Area::Summary.path(id, ""), summary(sources, cluster, &mine)));
            placed = root(run, cluster, kinds, &mut apps, &mut out);
            // Not kept for the next render, which would take the files without the check.
            if !placed.errors.is_empty() {
                cluster_key = None;
            }
            errors.append(&mut placed.errors);
            known.extend(placed.known.iter().cloned());
            stats.objects_made = placed.made;
            stats.objects_reused = placed.reused;
            stats.own_made = placed.own_made;
            stats.own_reused = placed.own_reused;
        }
    }
    // Sealed here, on the cluster's thread, rather than one by one afterwards.
    for (path, text) in out.iter_mut() {
        if path.ends_with(".yaml") {
            *text = seal(text);
        }
    }
    // Each file's content hash, once, when the render has a cache.
    let mut sums: Vec<Sum> = match run.reuse {
        Some(_) => out.iter().map(|(_, text)| Sum::of(text.as_bytes())).collect(),
        None => Vec::new(),
    };
    // The fresh placements' entries, from their files as sealed.
    for (at, range, kinds, claims) in fresh {
        // Made here, not shared yet: `make_mut` does not copy it.
        let entry = Arc::make_mut(&mut entries[at].1);
        entry.files = (out[range.clone()].iter().zip(&sums[range]))
            .map(|((path, _), sum)| (path.clone(), *sum))
            .collect();
        by_path(&mut entry.files);
        entry.set_detail(&kinds, &claims);
    }
    if let (Some(key), None) = (cluster_key, &cluster_entry) {
        // The files made (in `out`), then those of placements' objects taken from the cache.
        let made = &out[cluster_files..];
        let at = |file: &At| -> u32 {
            let i = match *file {
                At::Out(i) => i - cluster_files,
                At::Known(i) => made.len() + i,
            };
            u32::try_from(i).unwrap_or(u32::MAX)
        };
        let entry = ClusterEntry {
            cluster: id.to_string(),
            files: (made.iter().zip(&sums[cluster_files..]))
                .map(|((p, _), sum)| (p.clone(), *sum))
                .chain(placed.known)
                .collect(),
            apps: apps.iter().map(|(p, a)| (p.clone(), a.clone())).collect(),
            placed: placed
                .keyed
                .iter()
                .map(|(key, files)| (*key, files.iter().map(at).collect()))
                .collect(),
            own: placed
                .owned
                .iter()
                .map(|(key, objects)| {
                    let objects = objects
                        .iter()
                        .map(|(file, kind)| (at(file), kind.group.clone(), kind.kind.clone()))
                        .collect();
                    (*key, objects)
                })
                .collect(),
        };
        cluster_entry = Some((key, Arc::new(entry)));
    }
    // Lint reads the objects, not the texts: a render for it keeps no text (its peak memory
    // is the objects).
    if select.keep_objects {
        (out, sums) = (Vec::new(), Vec::new());
    }
    let (out, sums) = by_path_with(out, sums);
    by_path(&mut known);
    ClusterDone {
        files: out,
        sums,
        apps,
        errors,
        objects: kept.unwrap_or_default(),
        known,
        entries,
        cluster_entry,
        stats,
    }
}

/// The cluster as the last render left it, when the cache has every placement on it and
/// its cluster-wide files: that render stored them together (the store keeps only the
/// entries of the last render, and a placement with a finding, a duplicate object
/// included, is never stored), so nothing is rendered and nothing needs the objects the
/// placements claim or the kinds they deliver.
fn unchanged(
    run: &Run,
    select: &Selection,
    placements: &[(usize, &Placement)],
    cluster_key: Option<Key>,
) -> Option<ClusterDone> {
    let reuse = run.reuse.as_ref()?;
    let cluster_key = cluster_key?;
    let cluster_entry = reuse.store.clusters.get(&cluster_key)?;
    let mut entries = Vec::with_capacity(placements.len());
    for &(i, _) in placements {
        let key = reuse.keys.placements[i];
        entries.push((key, Arc::clone(reuse.store.entries.get(&key)?)));
    }
    // Sized once (grown by doubling, 99,423 files were copied again and again).
    let files = entries.iter().map(|(_, e)| e.files.len()).sum::<usize>() + cluster_entry.files.len();
    let mut known = Vec::with_capacity(files);
    for ((_, p), (_, entry)) in placements.iter().zip(&entries) {
        run.used.add(entry.exemptions.iter().map(String::as_str));
        if select.placement(p) {
            known.extend(entry.files.iter().cloned());
        }
    }
    known.extend(cluster_entry.files.iter().cloned());
    by_path(&mut known);
    Some(ClusterDone {
        files: Vec::new(),
        sums: Vec::new(),
        apps: cluster_entry.apps.iter().cloned().collect(),
        errors: Vec::new(),
        objects: Vec::new(),
        known,
        stats: Stats {
            reused: entries.len(),
            ..Stats::default()
        },
        entries,
        cluster_entry: Some((cluster_key, Arc::clone(cluster_entry))),
    })
}

/// Sorts a cluster's files by path, stably (of a path given twice the last stays last). A
/// placement's entry lists its files in path order, so these are a few long runs.
fn by_path<V>(items: &mut [(String, V)]) {
    items.sort_by(|a, b| a.0.cmp(&b.0));
}

/// [`by_path`] for files with their sums (when there are any, one per file).
fn by_path_with(files: Outputs, sums: Vec<Sum>) -> (Outputs, Vec<Sum>) {
    if sums.len() != files.len() {
        let mut files = files;
        by_path(&mut files);
        return (files, sums);
    }
    let mut both: Vec<(String, (String, Sum))> = files.into_iter().zip(sums).map(|((p, t), s)| (p, (t, s))).collect();
    by_path(&mut both);
    both.into_iter().map(|(p, (t, s))| ((p, t), s)).unzip()
}

/// Where a file of the cluster root is: made (a position in the cluster's outputs), or
/// taken from the cache (a position in [`Placed::known`]).
enum At {
    Out(usize),
    Known(usize),
}

/// What the cluster root's placement objects were made from, for the cache.
#[derive(Default)]
struct Placed {
    /// The files of placements' objects taken from the cache.
    known: Vec<(String, Sum)>,
    /// The files of each placement's objects, by the key they are made under.
    keyed: Vec<(Key, Vec<At>)>,
    /// How many placements' objects were made, and how many taken from the cache.
    made: usize,
    reused: usize,
    /// The cluster's own objects of each backend that keys them, by that key.
    owned: Vec<(Key, Vec<(At, GroupKind)>)>,
    /// How many keyed backends' cluster objects were made, and how many taken.
    own_made: usize,
    own_reused: usize,
    /// Objects written to one file (see [`root`]).
    errors: Vec<PlacementError>,
}

/// The cluster backends' objects and the cluster root `kustomization.yaml` (and those of
/// the areas the engine delivers through objects of its own), added to `out`; records in
/// `apps` the files that belong to an app. A placement's own objects are taken from the
/// cache when the cluster's last render made them under the same key: the placement's, its
/// dependencies and wave on the cluster, the engine.
fn root(
    run: &Run,
    cluster: &ClusterPlan,
    kinds: BTreeMap<String, BTreeSet<GroupKind>>,
    apps: &mut BTreeMap<String, String>,
    out: &mut Outputs,
) -> Placed {
    let (sources, plan) = (run.sources, run.plan);
    let files = &sources.files;
    let id = cluster.id();
    let c = &cluster.doc.value;
    let mine: Vec<(usize, &Placement)> = run.placements_of(id).collect();
    let mut ctx = ClusterContext {
        sources,
        plan,
        fleet: &plan.fleet.value,
        cluster,
        placements: mine.iter().map(|(_, p)| *p).collect(),
        kinds,
        delivered: BTreeMap::new(),
    };
    let base = vec![
        files.get(cluster.doc.file).path.clone(),
        files.get(plan.fleet.file).path.clone(),
    ];
    let own: Vec<(String, String)> = labels::managed(
        &plan.fleet.value,
        labels::Owner {
            cluster: cluster.doc,
            app: None,
        },
    )
    .into_iter()
    .map(|(k, v)| (k, v.value))
    .collect();
    // The cluster's last render, and its placement objects by their key.
    let reuse = run.reuse.as_ref();
    let previous = reuse.and_then(|r| r.previous.get(id).copied());
    let cached: FxHashMap<Key, &[u32]> = previous
        .iter()
        .flat_map(|e| e.placed.iter().map(|(key, at)| (*key, at.as_slice())))
        .collect();
    let mut placed = Placed::default();
    // (area, file name) of every cluster object. The engine backend runs last: it delivers
    // what the others made, so it is told the areas and kinds they filled.
    let mut made: Vec<(Area, String)> = Vec::new();
    let (engines, others): (Vec<_>, Vec<_>) = backends::serving(c).partition(|b| b.engine().is_some());
    let placements: Vec<_> = ctx.placements.iter().map(|p| ctx.placement(p)).collect();
    for backend in others.into_iter().chain(engines.iter().copied()) {
        let area = backend.area();
        // Writes an object of the backend as a file of the cluster root.
        let file = |mut object: Object, placement: Option<&Placement>| {
            let mut srcs = base.clone();
            srcs.extend(backend.sources().iter().map(|s| s.to_string()));
            let labels = match placement {
                Some(p) => {
                    srcs.insert(0, files.get(p.app.file).path.clone());
                    p.labels.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect()
                }
                None => own.clone(),
            };
            objects::finish(&mut object, "", &labels, &[]);
            let name = objects::file_name(&object);
            let mut text = layout::header(&srcs);
            yaml::write(&mut text, &object.value);
            (area.path(id, &name), name, text, GroupKind::of(&object))
        };
        // The cluster's own objects: taken from the cluster's last render when the backend
        // keys them and the key is the same, else made (and, keyed, kept for the next).
        let own_key = reuse.and_then(|r| backend.key(&ctx, &r.keys.global));
        let taken = own_key.and_then(|k| {
            let previous = previous?;
            let prefix = area.path(id, "");
            let (_, objects) = previous.own.iter().find(|(key, _)| *key == k)?;
            objects
                .iter()
                .map(|(i, group, kind)| {
                    let file = previous.files.get(*i as usize)?;
                    let name = file.0.strip_prefix(&prefix)?;
                    Some((file, name, group, kind))
                })
                .collect::<Option<Vec<_>>>()
        });
        let mut own = Vec::new();
        match taken {
            Some(objects) => {
                for ((path, sum), name, group, kind) in objects {
                    let kind = GroupKind {
                        group: group.clone(),
                        kind: kind.clone(),
                    };
                    if backend.engine().is_none() {
                        ctx.delivered.entry(area).or_default().insert(kind.clone());
                    }
                    made.push((area, name.to_string()));
                    own.push((At::Known(placed.known.len()), kind));
                    placed.known.push((path.clone(), *sum));
                }
                placed.own_reused += 1;
            }
            None => {
                for object in backend.cluster_objects(&ctx) {
                    let (path, name, text, kind) = file(object, None);
                    if backend.engine().is_none() {
                        ctx.delivered.entry(area).or_default().insert(kind.clone());
                    }
                    own.push((At::Out(out.len()), kind));
                    made.push((area, name));
                    out.push((path, text));
                }
                placed.own_made += usize::from(own_key.is_some());
            }
        }
        if let Some(key) = own_key {
            placed.owned.push((key, own));
        }
        for (pctx, (i, p)) in placements.iter().zip(&mine) {
            // Only the engine's are cached: the kinds of another backend's objects are what the
            // engine is told it delivers.
            let key = backend.engine().and_then(|(engine, _)| {
                let placement = reuse?.keys.placements[*i];
                let neighbours = (engine.as_str(), &pctx.dependencies, pctx.wave as u64);
                Some(Key::hashed(b"placement objects", &placement, &neighbours))
            });
            let taken = key.and_then(|k| {
                let previous = previous?;
                let prefix = area.path(id, "");
                let files: Vec<&(String, Sum)> = cached
                    .get(&k)?
                    .iter()
                    .map(|&i| previous.files.get(i as usize))
                    .collect::<Option<_>>()?;
                let names: Vec<&str> = files
                    .iter()
                    .map(|(path, _)| path.strip_prefix(&prefix))
                    .collect::<Option<_>>()?;
                Some((files, names))
            });
            let mut at = Vec::new();
            match taken {
                Some((files, names)) => {
                    for ((path, sum), name) in files.into_iter().zip(names) {
                        apps.insert(path.clone(), p.app_name().to_string());
                        made.push((area, name.to_string()));
                        at.push(At::Known(placed.known.len()));
                        placed.known.push((path.clone(), *sum));
                    }
                    placed.reused += 1;
                }
                None => {
                    let objects = backend.placement_objects(pctx);
                    if !objects.is_empty() {
                        placed.made += 1;
                    }
                    for object in objects {
                        let (path, name, text, kind) = file(object, Some(*p));
                        if backend.engine().is_none() {
                            ctx.delivered.entry(area).or_default().insert(kind);
                        }
                        apps.insert(path.clone(), p.app_name().to_string());
                        made.push((area, name));
                        at.push(At::Out(out.len()));
                        out.push((path, text));
                    }
                }
            }
            if let Some(key) = key {
                placed.keyed.push((key, at));
            }
        }
    }
    // Two objects written to one file: the second would overwrite the first and the root
    // list it twice (kustomize refuses). The names fleetgen makes are checked when the fleet
    // is read (`resolve::ids`); this keeps a gap there an error, not a lost object.
    let mut files_made: BTreeSet<(Area, &str)> = BTreeSet::new();
    for (area, name) in &made {
        if files_made.insert((*area, name.as_str())) {
            continue;
        }
        let path = area.path(id, name);
        let app = apps
            .get(&path)
            .and_then(|a| mine.iter().find(|(_, p)| p.app_name() == a.as_str()));
        let label = match app {
            Some((_, p)) => Label::new(p.app.file, p.app.span(&["application", "name"]), "this app"),
            None => cluster.doc.label(&["clusterId"], "this cluster"),
        };
        let diagnostic = Diagnostic::error(
            codes::DUPLICATE_OBJECT,
            files,
            label,
            format!("two GitOps objects of cluster `{id}` would be written to `{path}`"),
        )
        .with_help("rename the app or team whose object takes the name of another");
        let app = app.map(|(_, p)| p.app_name().to_string()).unwrap_or_default();
        placed.errors.push((diagnostic, app, id.to_string()));
    }
    // What the root applies itself, and the areas the engine delivers through its objects
    // (each with a kustomization of its own).
    let root_applies = |area: Area| engines.iter().all(|e| e.root_applies(area));
    let mut resources: Vec<String> = made
        .iter()
        .filter(|(a, _)| root_applies(*a))
        .map(|(a, f)| a.in_root(f))
        .collect();
    resources.sort();
    let mut delivered: BTreeMap<Area, Vec<String>> = BTreeMap::new();
    for (area, file) in made.iter().filter(|(a, _)| !root_applies(*a)) {
        delivered.entry(*area).or_default().push(file.clone());
    }
    for (area, mut listed) in delivered {
        listed.sort();
        let mut text = format!(
            "{}# sources: {}, fleet.yaml; the objects of this folder, which the {} objects deliver to the cluster\n",
            layout::HEADER,
            files.get(cluster.doc.file).path,
            c.gitops.engine
        );
        yaml::write(
            &mut text,
            &json!({
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": listed,
            }),
        );
        out.push((area.path(id, "kustomization.yaml"), text));
    }
    let also = if root_applies(Area::Policy) {
        ", and its admission policies"
    } else {
        ""
    };
    let mut text = format!(
        "{}# sources: {}, fleet.yaml; the {} objects that reconcile this cluster{also}\n",
        layout::HEADER,
        files.get(cluster.doc.file).path,
        c.gitops.engine
    );
    yaml::write(
        &mut text,
        &json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        }),
    );
    out.push((Area::Root.path(id, ""), text));
    placed
}

/// `<clusterId>/cluster.yaml`: the cluster as resolved, and what lands on it.
fn summary(sources: &Sources, c: &ClusterPlan, placements: &[&Placement]) -> String {
    let files = &sources.files;
    let v = &c.doc.value;
    let mut srcs = vec![files.get(c.doc.file).path.clone()];
    if let Some(p) = c.profile {
        srcs.push(files.get(p.file).path.clone());
    }
    // What the Gateway must admit: the namespaces whose routes attach to it.
    let routed: Vec<&str> = placements
        .iter()
        .filter(|p| p.drained.is_none() && super::context::routes(p))
        .map(|p| p.namespace.as_str())
        .collect();
    let gateway = c.gateway().map(|g| {
        let mut gw = json!({"name": g.name.as_str(), "namespace": g.namespace.as_str()});
        if let Some(listener) = &g.listener {
            gw["listener"] = json!(listener);
        }
        gw["allowRoutesFrom"] = json!(routed);
        gw
    });
    let mut text = layout::header(&srcs);
    let mut summary = json!({
        "clusterId": v.cluster_id.as_str(),
        "provider": v.provider.as_str(),
        "region": v.region,
        "environment": v.environment.as_str(),
        "ownerTeam": v.owner_team.as_str(),
        "criticality": v.criticality.as_str(),
        "ring": v.upgrade_channel.as_str(),
        "role": v.role.as_str(),
        "profile": v.profile.as_str(),
        "gitopsEngine": v.gitops.engine.as_str(),
        "kubernetesVersion": v.kubernetes_version,
    });
    // The upgrade registry (what the cluster file says; absent keys stay absent).
    let versions =
        |m: &std::collections::BTreeMap<crate::model::common::Id, String>| -> serde_json::Map<String, Value> {
            m.iter().map(|(k, ver)| (k.to_string(), json!(ver))).collect()
        };
    if !v.addons.is_empty() {
        summary["addons"] = Value::Object(versions(&v.addons));
    }
    if !v.controllers.is_empty() {
        summary["controllers"] = Value::Object(versions(&v.controllers));
    }
    if let Some(u) = &v.upgrade {
        let mut up = serde_json::Map::new();
        let mut put = |k: &str, val: Option<&str>| {
            if let Some(val) = val {
                up.insert(k.to_string(), json!(val));
            }
        };
        put("autoUpgradeChannel", u.auto_upgrade_channel.map(|c| c.as_str()));
        put("supportPlan", u.support_plan.map(|p| p.as_str()));
        put("nextWindow", u.next_window.as_deref());
        put("risk", u.risk.map(|r| r.as_str()));
        put("riskNote", u.risk_note.as_deref());
        summary["upgrade"] = Value::Object(up);
    }
    summary["gateway"] = json!(gateway);
    yaml::write(&mut text, &summary);
    summary_apps(&mut text, placements);
    text
}

/// The summary's last entry, `apps:`, each app written entry by entry (as the matrix's rows
/// are) rather than built as a `serde_json` map, copied into the summary and written (a
/// render after a one-contract change at 20 × 50 spent 7% of its instructions on them).
fn summary_apps(text: &mut String, placements: &[&Placement]) {
    if placements.is_empty() {
        text.push_str("apps: []\n");
        return;
    }
    text.push_str("apps:\n");
    for p in placements {
        summary_app(text, p);
    }
}

/// A placement's item of the summary's `apps:` list: what `yaml::write` makes of the map
/// `{name, namespace, version, delivery, replicas: {min, max}, state, standby?, chart?}`.
fn summary_app(text: &mut String, p: &Placement) {
    use yaml::Scalar::{Str, Uint};
    let (min, max) = matrix::replica_range(p);
    text.push_str("  - ");
    let entry = |text: &mut String, key, value| yaml::entry(text, 4, key, value);
    entry(text, "name", Some(Str(p.app_name())));
    entry(text, "namespace", Some(Str(&p.namespace)));
    entry(text, "version", Some(Str(p.release().version)));
    entry(text, "delivery", Some(Str(matrix::delivery(p))));
    entry(text, "replicas", None);
    yaml::entry(text, 6, "min", Some(Uint(min.into())));
    yaml::entry(text, 6, "max", Some(Uint(max.into())));
    entry(text, "state", Some(Str(matrix::state(p))));
    if let Some(mode) = p.replicas.standby {
        entry(text, "standby", Some(Str(mode.as_str())));
    }
    if let Some(chart) = &p.app.value.chart {
        entry(text, "chart", None);
        yaml::entry(text, 6, "name", Some(Str(chart.name.as_str())));
        yaml::entry(text, 6, "version", Some(Str(&chart.version)));
        yaml::entry(text, 6, "convention", Some(Str(chart.convention.as_str())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::files::MemoryFiles;
    use crate::model::app::DataMode;

    /// Rendered without the checks of the fleet (which refuse the name first, FG022): an
    /// app named `root` on the Argo CD cluster would write its Application over the cluster's
    /// root Application; the render says so instead.
    #[test]
    fn two_gitops_objects_in_one_file_are_an_error_not_an_overwrite() {
        let root = crate::load::fixture::text("apps/api/app.yaml").replace("  name: api\n", "  name: root\n");
        let sources = crate::load::fixture::sources(&[("apps/root/app.yaml", &root)]);
        let (engine, _) = crate::emit::templates::Engine::new(&sources);
        let (plan, problems) = crate::resolve::plan::plan(&sources);
        let plan = plan.unwrap_or_else(|| panic!("{problems:?}"));
        let (_, errors) = crate::emit::render(&sources, &plan, &engine, &Selection::default(), None, &|| {});
        let found: Vec<&str> = (errors.iter())
            .filter(|d| d.code.id == "FG043")
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(
            found,
            [
                "two GitOps objects of cluster `useast1-prod-01` would be written to `useast1-prod-01/gitops/application-useast1-prod-01-root.yaml` (app `root` on cluster `useast1-prod-01`)"
            ]
        );
    }

    /// The summary's `apps:` as the general writer makes it of `serde_json` maps, as the
    /// summary was written before [`summary_app`].
    fn apps_as_maps(placements: &[Placement]) -> String {
        let apps: Vec<Value> = placements
            .iter()
            .map(|p| {
                let mut app = json!({
                    "name": p.app_name(),
                    "namespace": p.namespace,
                    "version": p.release().version,
                    "delivery": if p.app.value.chart.is_some() { "helm" } else { "manifests" },
                    "replicas": matrix::tests::replicas(p),
                    "state": matrix::state(p),
                });
                matrix::tests::mark_standby(&mut app, p);
                if let Some(chart) = &p.app.value.chart {
                    app["chart"] = json!({
                        "name": chart.name.as_str(),
                        "version": chart.version,
                        "convention": chart.convention.as_str(),
                    });
                }
                app
            })
            .collect();
        let mut text = String::new();
        yaml::write(&mut text, &json!({ "apps": apps }));
        text
    }

    fn apps_written(placements: &[Placement]) -> String {
        let mut text = String::new();
        summary_apps(&mut text, &placements.iter().collect::<Vec<_>>());
        text
    }

    /// The base fixture with a golden case's input laid over it, as the golden test renders.
    fn sources(case: Option<&str>) -> Sources {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = MemoryFiles::from_dir(&root.join("tests/fixtures/base")).expect("the fixture is readable");
        if let Some(case) = case {
            let input = root.join("tests/golden").join(case).join("input");
            files.add_dir(&input).expect("the case is readable");
        }
        files.set_today(crate::clock::parse_date("2026-11-22").expect("a date"));
        let (sources, problems) = crate::load::load(&files, None, None);
        assert!(problems.is_empty(), "{case:?} does not load: {problems:?}");
        sources
    }

    fn placements(sources: &Sources) -> Vec<Placement<'_>> {
        let (plan, problems) = crate::resolve::plan::plan(sources);
        plan.unwrap_or_else(|| panic!("{problems:?}")).placements
    }

    /// Each app of a cluster summary is what the general writer makes of its map: apps with
    /// and without a chart, with each kill switch on, in a standby region.
    #[test]
    fn summary_apps_are_what_the_general_writer_makes_of_them() {
        let sources_with_charts = sources(Some("chart-conventions"));
        let charts = placements(&sources_with_charts);
        assert!(charts.iter().any(|p| p.app.value.chart.is_some()));
        assert!(charts.iter().any(|p| p.app.value.chart.is_none()));
        assert_eq!(apps_written(&charts), apps_as_maps(&charts));
        let base_sources = sources(None);
        let mut base = placements(&base_sources);
        assert!(base.len() >= 4, "{}", base.len());
        assert_eq!(apps_written(&base), apps_as_maps(&base));
        for (i, p) in base.iter_mut().enumerate() {
            match i % 4 {
                0 => p.drained = Some("incident".into()),
                1 => p.scaled_down = Some("incident".into()),
                2 => p.suspended = Some("freeze".into()),
                _ => p.replicas.standby = Some(DataMode::WarmStandby),
            }
        }
        assert_eq!(apps_written(&base), apps_as_maps(&base));
        // No app: an empty list.
        assert_eq!(apps_written(&[]), apps_as_maps(&[]));
    }
}
