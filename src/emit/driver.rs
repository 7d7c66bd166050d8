//! The render driver: every selected cluster rendered on its own thread ([`super::cluster`]),
//! the placement matrix meanwhile, then the fleet backends; problems of many placements
//! grouped into one diagnostic each.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::backends::{self, FleetContext};
use super::templates::Engine;
use super::tree::{RenderedTree, Selection, seal};
use super::{cluster, context::Contexts, matrix, objects};
use crate::diag::Diagnostic;
use crate::incremental::key::{Inputs, Keys};
use crate::incremental::store::ClusterEntry;
use crate::incremental::{Key, Store, Sum};
use crate::layout;
use crate::load::Sources;
use crate::policy::enforce;
use crate::resolve::plan::{ClusterPlan, Placement, Plan};
use crate::sorted::SortedMap;
use crate::source::{FileId, SourceMap};

/// Everything one render shares between clusters.
pub(super) struct Run<'a> {
    pub used: enforce::Used,
    pub sources: &'a Sources,
    pub plan: &'a Plan<'a>,
    pub engine: &'a Engine,
    /// Built when the first placement is rendered (a render the cache stands for wholly needs none).
    contexts: std::sync::OnceLock<Contexts<'a>>,
    pub cache: ParseCache,
    /// What the incremental cache offers, when it is used.
    pub reuse: Option<Reuse<'a>>,
    /// Each cluster's placements, by their positions in the plan.
    pub by_cluster: FxHashMap<&'a str, Vec<usize>>,
}

impl<'a> Run<'a> {
    /// The template contexts of every app and cluster.
    pub fn contexts(&self) -> &Contexts<'a> {
        self.contexts.get_or_init(|| Contexts::new(self.sources, self.plan))
    }

    /// The placements of cluster `id`, with their positions in the plan, in plan order.
    pub fn placements_of(&self, id: &str) -> impl Iterator<Item = (usize, &'a Placement<'a>)> + '_ {
        let plan = self.plan;
        self.by_cluster
            .get(id)
            .into_iter()
            .flatten()
            .map(move |&i| (i, &plan.placements[i]))
    }
}

/// The incremental cache's part in a render: the entries of the last one, and the keys of
/// this one's inputs.
pub(super) struct Reuse<'a> {
    pub store: &'a Store,
    pub keys: Keys,
    /// The cluster-wide files of each cluster's last render, by cluster id.
    pub previous: FxHashMap<&'a str, &'a ClusterEntry>,
}

/// A problem of one placement: the diagnostic, the app and the cluster.
pub(super) type PlacementError = (Diagnostic, String, String);

/// Renders the selected part of the fleet, with the problems of every cluster (errors,
/// and warnings such as audit-level policy findings), calling `cluster_done` as each
/// cluster is rendered (from render threads, for a progress bar). With an error, the tree
/// is partial and must not be written.
pub fn render(
    sources: &Sources,
    plan: &Plan,
    engine: &Engine,
    select: &Selection,
    reuse: Option<&Store>,
    cluster_done: &(dyn Fn() + Sync),
) -> (RenderedTree, Vec<Diagnostic>) {
    let run = Run {
        reuse: reuse.map(|store| Reuse {
            store,
            keys: crate::trace::stage("keys", || Inputs::new(sources).keys(sources, plan)),
            previous: store.clusters.values().map(|e| (e.cluster.as_str(), &**e)).collect(),
        }),
        used: enforce::Used::default(),
        sources,
        plan,
        engine,
        contexts: std::sync::OnceLock::new(),
        cache: ParseCache::default(),
        by_cluster: {
            let mut by: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
            for (i, p) in plan.placements.iter().enumerate() {
                by.entry(p.cluster_id()).or_default().push(i);
            }
            by
        },
    };
    let clusters: Vec<&ClusterPlan> = plan.clusters.iter().filter(|c| select.cluster(c.id())).collect();
    let work = || {
        clusters
            .par_iter()
            .map(|c| {
                let done = cluster::render(&run, c, select);
                cluster_done();
                done
            })
            .collect::<Vec<_>>()
    };
    // The fleet files of a whole render may be those of the last one.
    let fleet_key = run.reuse.as_ref().filter(|_| select.is_all()).map(|r| r.keys.fleet);
    let fleet_cached = fleet_key.and_then(|key| run.reuse.as_ref()?.store.fleet.get(&key));
    // The placement matrix and the fleet backends' files (made from the plan, not from the
    // clusters' trees) are made meanwhile, on whichever thread is free. A backend with a
    // key of its own (see `FleetBackend::key`) that the store has is not made again.
    let ctx = FleetContext {
        sources,
        plan,
        selected: &|id| select.cluster(id),
    };
    let whole = run.reuse.as_ref().filter(|_| select.is_all());
    let fleet_files = || {
        let keyed = || -> Vec<Option<Key>> {
            let keys = |r: &Reuse| {
                backends::FLEET
                    .par_iter()
                    .map(|b| b.key(&ctx, &r.keys.global))
                    .collect()
            };
            whole.map_or_else(|| vec![None; backends::FLEET.len()], keys)
        };
        if fleet_cached.is_some() {
            return Fleet {
                keyed: keyed(),
                reused: backends::FLEET.len(),
                ..Fleet::default()
            };
        }
        let (matrix, backends) = rayon::join(
            || {
                crate::trace::stage("matrix", || {
                    // A placement's row is the last render's when its key is unchanged.
                    let cached = |i: usize| {
                        let reuse = run.reuse.as_ref()?;
                        reuse.store.rows.get(reuse.keys.placements.get(i)?).cloned()
                    };
                    let rows = matrix::rows(plan, &cached);
                    (seal(&matrix::render(sources, plan, &rows.rows)), rows)
                })
            },
            || {
                crate::trace::stage("fleet backends", || {
                    let keys = keyed();
                    let made: Vec<Made> = backends::FLEET
                        .par_iter()
                        .zip(&keys)
                        .map(|(backend, key)| {
                            if let Some(known) = key.and_then(|k| whole?.store.fleet.get(&k)) {
                                return Err(known);
                            }
                            let files = backend.render(&ctx);
                            Ok(files
                                .into_iter()
                                .map(|(path, text)| {
                                    let text = if path.ends_with(".yaml") { seal(&text) } else { text };
                                    (path, text)
                                })
                                .collect())
                        })
                        .collect();
                    (keys, made)
                })
            },
        );
        let (keyed, made) = backends;
        let (matrix, rows) = matrix;
        // Each text's content hash, once, when the render has a cache (its entries hold them).
        let sum = |text: &str| run.reuse.as_ref().map(|_| Sum::of(text.as_bytes()));
        let mut fleet = Fleet {
            sums: vec![sum(&matrix)],
            texts: vec![(layout::MATRIX.to_string(), matrix)],
            rows,
            keyed,
            ..Fleet::default()
        };
        for (files, key) in made.into_iter().zip(&fleet.keyed) {
            match files {
                Ok(files) => {
                    let sums: Vec<Option<Sum>> = files.iter().map(|(_, t)| sum(t)).collect();
                    if let Some(key) = key {
                        let sums = (files.iter().zip(&sums))
                            .map(|((p, t), s)| (p.clone(), s.unwrap_or_else(|| Sum::of(t.as_bytes()))))
                            .collect();
                        fleet.entries.push((*key, sums));
                    }
                    fleet.sums.extend(sums);
                    fleet.texts.extend(files);
                }
                Err(known) => {
                    fleet.reused += 1;
                    fleet.known.extend(known.iter().cloned());
                    fleet.entries.extend(key.map(|k| (k, known.clone())));
                }
            }
        }
        fleet
    };
    let (results, fleet) = crate::load::yaml::on_pool(|| rayon::join(work, fleet_files));
    let mut tree = RenderedTree::default();
    let mut problems = Vec::new();
    let mut store = run.reuse.as_ref().map(|_| Store {
        // The seats FG039 found within IAM's limits, for the next run's plan.
        iam_within_limits: (plan.iam_within_limits)
            .then(|| crate::incremental::key::seats(sources, &plan.placements, &plan.seats_digest)),
        ..Store::default()
    });
    // Gathered, then each map built once from its sorted items (inserting 357,311 paths one
    // by one, or appending map to map, costs more than the rest of a cached render).
    // Sized once: grown by doubling, the lists of a 30k-placement render touch twice the
    // memory they end with (and fresh memory costs a page fault per 4 KiB).
    let mut files = Vec::with_capacity(results.iter().map(|d| d.files.len()).sum::<usize>() + fleet.texts.len());
    // Each file's content hash where the render made one, beside `files`.
    let mut sums: Vec<Option<Sum>> = Vec::with_capacity(files.capacity());
    let mut known = Vec::with_capacity(
        results.iter().map(|d| d.known.len()).sum::<usize>() + fleet_cached.map_or(0, Vec::len) + fleet.known.len(),
    );
    let mut apps = Vec::with_capacity(results.iter().map(|d| d.apps.len()).sum());
    if let Some(store) = store.as_mut() {
        store.entries.reserve(results.iter().map(|d| d.entries.len()).sum());
        store.clusters.reserve(results.len());
    }
    // The fleet files known by content go where their paths sort among the clusters' (see
    // `gather_known`).
    let mut fleet_known: Vec<(String, Sum)> = fleet_cached
        .into_iter()
        .flatten()
        .chain(&fleet.known)
        .cloned()
        .collect();
    fleet_known.sort_by(|a, b| a.0.cmp(&b.0));
    let mut fleet_known = fleet_known.into_iter().peekable();
    for mut done in results {
        match done.sums.len() == done.files.len() {
            true => sums.extend(done.sums.into_iter().map(Some)),
            false => sums.resize(sums.len() + done.files.len(), None),
        }
        files.append(&mut done.files);
        gather_known(&mut known, &mut done.known, &mut fleet_known);
        apps.extend(done.apps);
        problems.append(&mut done.errors);
        tree.objects.append(&mut done.objects);
        tree.stats.rendered += done.stats.rendered;
        tree.stats.reused += done.stats.reused;
        tree.stats.objects_made += done.stats.objects_made;
        tree.stats.objects_reused += done.stats.objects_reused;
        tree.stats.own_made += done.stats.own_made;
        tree.stats.own_reused += done.stats.own_reused;
        if let Some(store) = store.as_mut() {
            store.entries.extend(done.entries);
            store.clusters.extend(done.cluster_entry);
        }
    }
    tree.stats.templates_rendered = run.cache.renders.load(Ordering::Relaxed);
    tree.stats.templates_reused = run.cache.reused.load(Ordering::Relaxed);
    tree.stats.backends_reused = fleet.reused;
    tree.stats.rows_reused = fleet.rows.reused;
    tree.stats.rows_written = fleet.rows.rows.len() - fleet.rows.reused;
    // The matrix's rows, by their placements' keys: those of this render, or of the last one
    // when the fleet files were its.
    if let (Some(store), Some(reuse)) = (store.as_mut(), run.reuse.as_ref()) {
        let keys = &reuse.keys.placements;
        store.rows = (keys.iter().enumerate())
            .filter_map(|(i, key)| {
                let row = fleet.rows.rows.get(i).or_else(|| reuse.store.rows.get(key))?;
                Some((*key, Arc::clone(row)))
            })
            .collect();
    }
    if let (Some(store), Some(key)) = (store.as_mut(), fleet_key) {
        let files = match fleet_cached {
            Some(files) => files.clone(),
            None => {
                let mut files: Vec<(String, Sum)> = (fleet.texts.iter().zip(&fleet.sums))
                    .map(|((p, t), s)| (p.clone(), s.unwrap_or_else(|| Sum::of(t.as_bytes()))))
                    .chain(fleet.known.iter().cloned())
                    .collect();
                files.sort_by(|a, b| a.0.cmp(&b.0));
                files
            }
        };
        store.fleet.insert(key, files);
        // Each keyed backend's files under its own key, for a later render whose fleet key
        // differs (with the fleet files reused whole, as the last render recorded them).
        match fleet_cached {
            Some(_) => {
                let old = whole.map(|r| &r.store.fleet);
                for key in fleet.keyed.iter().flatten() {
                    if let Some(files) = old.and_then(|old| old.get(key)) {
                        store.fleet.insert(*key, files.clone());
                    }
                }
            }
            None => store.fleet.extend(fleet.entries),
        }
    }
    known.extend(fleet_known);
    sums.extend(fleet.sums);
    files.extend(fleet.texts);
    // (Without a cache no file has one: the files alone, as they were before sums.)
    match sums.iter().any(Option::is_some) {
        true => (tree.files, tree.sums) = sorted_with(files, sums),
        false => tree.files = sorted_map(files),
    }
    tree.known = SortedMap::from_vec(known);
    tree.apps = sorted_map(apps);
    tree.store = store;
    let mut problems = group(problems);
    if select.is_all() {
        problems.extend(enforce::unused(sources, &run.used));
    }
    (tree, problems)
}

/// Appends a cluster's known files (in path order) to `known`, with the fleet files (in path
/// order, the rest of them) that sort before its last among them. Clusters come in the
/// order of their folders, so the list grows in path order and `SortedMap::from_vec` only
/// checks it: a fleet backend's folder (`_identity/`) goes before the clusters, a file it
/// writes in a cluster's folder (`<cluster>/azure/policy-assignments.json`) among that
/// cluster's, `fleet.yaml` after them all. (With the second appended after the clusters,
/// a warm check at 200 × 500 sorted 99,423 paths again, alone on one core.)
fn gather_known(
    known: &mut Vec<(String, Sum)>,
    cluster: &mut Vec<(String, Sum)>,
    fleet: &mut std::iter::Peekable<std::vec::IntoIter<(String, Sum)>>,
) {
    match (fleet.peek(), cluster.last()) {
        (Some(next), Some(last)) if next.0 < last.0 => {
            for item in cluster.drain(..) {
                while let Some(before) = fleet.next_if(|f| f.0 < item.0) {
                    known.push(before);
                }
                known.push(item);
            }
        }
        _ => known.append(cluster),
    }
}

/// A fleet backend's files: made (texts), or known from the store (sums).
type Made<'s> = Result<Vec<(String, String)>, &'s Vec<(String, Sum)>>;

/// The fleet files of a render: those made (texts), those a keyed backend's entry stood for
/// (sums), and each keyed backend's entry for the next store.
#[derive(Default)]
struct Fleet {
    texts: Vec<(String, String)>,
    /// Each text's content hash, when the render has a cache.
    sums: Vec<Option<Sum>>,
    known: Vec<(String, Sum)>,
    /// Each fleet backend's own key, when it has one and the render is whole and cached.
    keyed: Vec<Option<Key>>,
    entries: Vec<(Key, Vec<(String, Sum)>)>,
    /// Each placement's row of the matrix, in plan order (none when the matrix was not made).
    rows: matrix::Rows,
    /// How many backends were not made again.
    reused: usize,
}

/// A map of `items`, given as each cluster's files in path order (see `cluster::ClusterDone`).
/// `BTreeMap`'s `from_iter` sorts them stably (of a path given twice the last wins, as
/// with inserting) and builds the map in one pass; its sort finds the clusters' runs,
/// already in order but for a fleet file or two, and merges what is left.
fn sorted_map<V>(items: Vec<(String, V)>) -> std::collections::BTreeMap<String, V> {
    items.into_iter().collect()
}

/// [`sorted_map`] of `items` and, in the map's order, what `beside` has for each (one for
/// each item, in their order).
fn sorted_with<V: Sync, W: Sync>(
    items: Vec<(String, V)>,
    beside: Vec<W>,
) -> (std::collections::BTreeMap<String, V>, Vec<W>) {
    let both: Vec<(String, (V, W))> = items.into_iter().zip(beside).map(|((k, v), w)| (k, (v, w))).collect();
    // Sorted, and of a key given twice the last kept, as `BTreeMap`'s `from_iter` does.
    let both = SortedMap::from_vec(both).into_vec();
    let (items, beside): (Vec<(String, V)>, Vec<W>) = both.into_iter().map(|(k, (v, w))| ((k, v), w)).unzip();
    (items.into_iter().collect(), beside)
}

/// One diagnostic per problem: the same template error on many clusters is reported once,
/// naming them all.
fn group(errors: Vec<PlacementError>) -> Vec<Diagnostic> {
    let mut groups: Vec<(Diagnostic, Vec<(String, String)>)> = Vec::new();
    for (d, app, cluster) in errors {
        let same = |g: &Diagnostic| {
            g.code == d.code
                && g.message == d.message
                && g.primary.as_ref().map(|l| (l.file, l.span.clone()))
                    == d.primary.as_ref().map(|l| (l.file, l.span.clone()))
        };
        match groups.iter_mut().find(|(g, _)| same(g)) {
            Some((_, at)) => at.push((app, cluster)),
            None => groups.push((d, vec![(app, cluster)])),
        }
    }
    groups
        .into_iter()
        .map(|(mut d, at)| {
            let apps: BTreeSet<&str> = at.iter().map(|(a, _)| a.as_str()).collect();
            let clusters: BTreeSet<&str> = at.iter().map(|(_, c)| c.as_str()).collect();
            let quoted = |set: &BTreeSet<&str>| set.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ");
            let what = match apps.len() {
                1 => format!("app {}", quoted(&apps)),
                _ => format!("apps {}", quoted(&apps)),
            };
            let on = match clusters.len() {
                1 => format!("cluster {}", quoted(&clusters)),
                n => format!("{n} clusters: {}", quoted(&clusters)),
            };
            d.message = format!("{} ({what} on {on})", d.message);
            if let [app] = apps.iter().collect::<Vec<_>>()[..] {
                d.app = Some(app.to_string());
            }
            if let [cluster] = clusters.iter().collect::<Vec<_>>()[..] {
                d.cluster = Some(cluster.to_string());
            }
            d
        })
        .collect()
}

thread_local! {
    /// The bytes [`read_key`] writes, kept between renders on each thread.
    static KEY_TEXT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Each template's distinct outputs and what they parse to, by a 128-bit XXH3 of the text. The
/// text is kept and compared, so a hash that two texts share (XXH3 is fast, not collision
/// resistant: BLAKE3, the cache's hash, took 2% of a render's instructions here) costs a parse,
/// never the wrong objects.
type ParsedOutputs = FxHashMap<(FileId, u128), (String, Arc<Vec<objects::Object>>)>;

/// Each template's parsed outputs by a BLAKE3 of what it read of its context (as
/// [`read_key`] writes it), like the incremental cache's keys never compared to more.
type RenderedOutputs = FxHashMap<(FileId, [u8; 32]), Arc<Vec<objects::Object>>>;

/// Template output, shared by all clusters. Managed labels are added after parsing, so
/// most templates render the same text on every cluster an app lands on (the Service, the
/// autoscaler of one replica share …): a template is rendered once for each distinct value
/// of what it reads of its context ([`Engine::reads`]), and each distinct text is parsed
/// once.
pub(super) struct ParseCache {
    parsed: Mutex<ParsedOutputs>,
    rendered: Mutex<RenderedOutputs>,
    /// Templates rendered, and taken from `rendered`.
    pub renders: AtomicUsize,
    pub reused: AtomicUsize,
    /// Off (`FLEETGEN_RENDER_MEMO=off`): every template rendered for every placement, a
    /// check that the memo changes nothing.
    memo: bool,
}

impl Default for ParseCache {
    fn default() -> ParseCache {
        ParseCache {
            parsed: Mutex::default(),
            rendered: Mutex::default(),
            renders: AtomicUsize::new(0),
            reused: AtomicUsize::new(0),
            memo: std::env::var_os("FLEETGEN_RENDER_MEMO").is_none_or(|v| v != "off"),
        }
    }
}

/// Builtin functions a template may call whose results depend on their arguments only
/// (minijinja's `debug()` shows the whole context).
const PURE_GLOBALS: &[&str] = &["range", "dict", "namespace", "cycler", "joiner"];

/// What a template reads of `ctx` at `paths` ([`Engine::reads`], in order), written out:
/// for each path the kind of each value on the way (an attribute of a map is its entry, of
/// anything else undefined or an error, by kind alone) and the value at its end ([`feed`]).
/// The paths are the template's own, so only the values are written; a path that shares
/// its start with the one before it starts from the value found there. `None` when the
/// template reads a name the context lacks that is not a pure builtin, or a value that is
/// not plain data.
fn read_key(ctx: &minijinja::Value, paths: &[Vec<String>], out: &mut Vec<u8>) -> Option<[u8; 32]> {
    out.clear();
    // The values along the path before: `found[i]` is at its first `i + 1` names.
    let mut found: Vec<minijinja::Value> = Vec::new();
    let mut previous: &[String] = &[];
    for path in paths {
        let shared = path.iter().zip(previous).take_while(|(a, b)| a == b).count();
        previous = path;
        found.truncate(shared);
        if found.is_empty() {
            let first = path.first()?;
            match ctx.get_attr(first).ok().filter(|v| !v.is_undefined()) {
                Some(value) => found.push(value),
                None if PURE_GLOBALS.contains(&first.as_str()) => {
                    out.push(b'g');
                    continue;
                }
                None => return None,
            }
        }
        for attr in &path[found.len()..] {
            let parent = found.last()?;
            out.push(parent.kind() as u8);
            match parent.get_attr(attr) {
                Ok(next) => found.push(next),
                Err(_) => {
                    out.push(b'!');
                    break;
                }
            }
        }
        match found.len() == path.len() {
            true => feed(out, found.last()?)?,
            // Cut short by an error: the next path starts afresh.
            false => found.clear(),
        }
    }
    Some(*blake3::hash(out).as_bytes())
}

/// The render memo's key of what a template reading `paths` reads of `ctx` (for the
/// `templates` fuzz target, which checks that renders with equal keys render the same).
#[cfg(fuzzing)]
pub(crate) fn memo_key(ctx: &minijinja::Value, paths: &[Vec<String>]) -> Option<[u8; 32]> {
    read_key(ctx, paths, &mut Vec::new())
}

/// `bytes`, length first.
fn bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// A context value, unambiguously: its kind, then what a template can tell apart (a safe
/// string from another, an integer from a float, each entry of a map in order). `None` for
/// a value that is not plain data (an iterator, an object, a function).
fn feed(out: &mut Vec<u8>, value: &minijinja::Value) -> Option<()> {
    use minijinja::value::ValueKind;
    let kind = value.kind();
    out.push(kind as u8);
    match kind {
        ValueKind::Undefined | ValueKind::None => {}
        ValueKind::Bool => out.push(u8::from(value.is_true())),
        ValueKind::Number => {
            out.push(u8::from(value.is_integer()));
            bytes(out, value.to_string().as_bytes());
        }
        ValueKind::String => {
            out.push(u8::from(value.is_safe()));
            bytes(out, value.as_str()?.as_bytes());
        }
        ValueKind::Bytes => bytes(out, value.as_bytes()?),
        ValueKind::Seq | ValueKind::Map => {
            let object = value.as_object()?;
            out.extend_from_slice(&u32::try_from(object.enumerator_len()?).ok()?.to_le_bytes());
            for (key, item) in object.try_iter_pairs()? {
                feed(out, &key)?;
                feed(out, &item)?;
            }
        }
        _ => return None,
    }
    Some(())
}

impl ParseCache {
    /// The objects template `name` renders with `ctx`: from an earlier render that read the
    /// same values, or rendered and parsed now.
    pub fn render(
        &self,
        engine: &Engine,
        name: &str,
        template: FileId,
        ctx: &minijinja::Value,
        files: &SourceMap,
    ) -> Result<Arc<Vec<objects::Object>>, Box<Diagnostic>> {
        let key = match engine.reads(name).filter(|_| self.memo) {
            Some(paths) => KEY_TEXT.with_borrow_mut(|text| read_key(ctx, paths, text)),
            None => None,
        };
        if let Some(key) = key
            && let Some(hit) = self
                .rendered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&(template, key))
        {
            self.reused.fetch_add(1, Ordering::Relaxed);
            return Ok(Arc::clone(hit));
        }
        self.renders.fetch_add(1, Ordering::Relaxed);
        let objects = self.parse(engine.render(name, ctx, files)?, template, files)?;
        if let Some(key) = key {
            let mut rendered = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
            rendered.entry((template, key)).or_insert_with(|| Arc::clone(&objects));
        }
        Ok(objects)
    }

    pub fn parse(
        &self,
        text: String,
        template: FileId,
        files: &SourceMap,
    ) -> Result<Arc<Vec<objects::Object>>, Box<Diagnostic>> {
        let key = (template, xxhash_rust::xxh3::xxh3_128(text.as_bytes()));
        if let Some((known, hit)) = self.parsed.lock().unwrap_or_else(|e| e.into_inner()).get(&key)
            && *known == text
        {
            return Ok(Arc::clone(hit));
        }
        let mut parsed = objects::parse(&text, template, files)?;
        // Put in order once here, not on every cluster (see `objects::finish_ordered`).
        for obj in &mut parsed {
            objects::canonical(&mut obj.value, None);
        }
        let objects = Arc::new(parsed);
        // The first text with this hash keeps its place.
        self.parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_insert_with(|| (text, Arc::clone(&objects)));
        Ok(objects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each file's sum stays with its file through the sort, and of a path given twice the
    /// last is kept with its own sum, as `BTreeMap` keeps the last text.
    #[test]
    fn files_sorted_with_their_sums_keep_each_sum_with_its_file() {
        let items: Vec<(String, String)> = [("b", "1"), ("a", "2"), ("c", "3"), ("a", "4")]
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        let sums = vec![Some(1), None, Some(3), Some(4)];
        let (map, beside) = sorted_with(items.clone(), sums);
        assert_eq!(map, items.into_iter().collect::<std::collections::BTreeMap<_, _>>());
        assert_eq!(map.values().map(String::as_str).collect::<Vec<_>>(), ["4", "1", "3"]);
        assert_eq!(beside, [Some(4), Some(1), Some(3)]);
    }

    #[test]
    fn parse_cache_shares_a_text_once_parsed_and_never_answers_for_another_text() {
        let mut files = SourceMap::default();
        let template = files.add(crate::source::SourceFile::new("templates/x.yaml.j2", ""));
        let doc = |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
        let cache = ParseCache::default();
        let a = cache.parse(doc("a"), template, &files).unwrap();
        assert!(Arc::ptr_eq(&a, &cache.parse(doc("a"), template, &files).unwrap()));
        let b = cache.parse(doc("b"), template, &files).unwrap();
        assert_eq!((a[0].name.as_str(), b[0].name.as_str()), ("a", "b"));
        // Another text under c's hash (as two texts sharing a hash would be): c is parsed.
        let c = doc("c");
        let key = (template, xxhash_rust::xxh3::xxh3_128(c.as_bytes()));
        cache.parsed.lock().unwrap().insert(key, (doc("a"), Arc::clone(&a)));
        let parsed = cache.parse(c, template, &files).unwrap();
        assert_eq!(parsed[0].name, "c");
        assert!(
            Arc::ptr_eq(&cache.parsed.lock().unwrap()[&key].1, &a),
            "the first keeps its place"
        );
    }

    /// The key of what a template reads tells apart every two values a template can tell
    /// apart, and only what it reads.
    #[test]
    fn a_read_key_tells_apart_what_a_template_can_and_ignores_what_it_does_not_read() {
        let key = |ctx: serde_json::Value, paths: &[&str]| {
            let paths: Vec<Vec<String>> = paths
                .iter()
                .map(|p| p.split('.').map(str::to_string).collect())
                .collect();
            read_key(
                &minijinja::Value::from(minijinja::value::Serde(ctx)),
                &paths,
                &mut Vec::new(),
            )
        };
        let port = |v: serde_json::Value| {
            key(
                serde_json::json!({ "workload": { "port": v, "name": "web" } }),
                &["workload.port"],
            )
        };
        let values = [
            serde_json::json!(1),
            serde_json::json!(1.0),
            serde_json::json!("1"),
            serde_json::json!(null),
            serde_json::json!(true),
            serde_json::json!([1]),
            serde_json::json!({ "1": 1 }),
            serde_json::json!({ "a": 1, "b": 2 }),
            serde_json::json!({ "b": 2, "a": 1 }),
        ];
        let keys: Vec<_> = values.iter().map(|v| port(v.clone()).unwrap()).collect();
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate() {
                assert_eq!(i == j, a == b, "{} and {}", values[i], values[j]);
            }
        }
        // A missing entry (undefined) is not a null one.
        let missing = key(serde_json::json!({ "workload": { "name": "web" } }), &["workload.port"]);
        assert_ne!(missing, port(serde_json::json!(null)));
        // What the template does not read does not count.
        let other = key(
            serde_json::json!({ "workload": { "port": 1, "name": "api" } }),
            &["workload.port"],
        );
        assert_eq!(other, Some(keys[0]));
        // A path that shares its start with the one before it.
        let both = |name: &str| {
            key(
                serde_json::json!({ "workload": { "port": 1, "name": name } }),
                &["workload.name", "workload.port"],
            )
        };
        assert_ne!(both("web"), both("api"));
        // A pure builtin counts for nothing; another name the context lacks, no key.
        assert!(
            key(
                serde_json::json!({ "workload": { "port": 1 } }),
                &["range", "workload.port"]
            )
            .is_some()
        );
        assert_eq!(key(serde_json::json!({}), &["debug"]), None);
    }

    #[test]
    fn known_files_gathered_cluster_by_cluster_come_in_path_order() {
        let sum = Sum::of(b"");
        let list = |paths: &[&str]| -> Vec<(String, Sum)> { paths.iter().map(|p| (p.to_string(), sum)).collect() };
        let clusters = [
            list(&[
                "a-prod/apps/web/deploy.yaml",
                "a-prod/cluster.yaml",
                "a-prod/kustomization.yaml",
            ]),
            list(&[]),
            list(&["b-prod/apps/web/deploy.yaml", "b-prod/cluster.yaml"]),
            list(&["c-prod/cluster.yaml"]),
        ];
        let cases: [&[&str]; 5] = [
            &[],
            // Before the clusters, after them all.
            &["_identity/aws/roles.json", "fleet.yaml"],
            // Among a cluster's files, between two clusters, after a cluster's last.
            &[
                "a-prod/azure/policy-assignments.json",
                "b-prod/azure/policy-assignments.json",
            ],
            &[
                "a-prod/zz.json",
                "b-prod/apps/a.json",
                "b-prod/zz.json",
                "c-prod/azure/x.json",
            ],
            &[
                "_identity/x.json",
                "a-prod/azure/x.json",
                "a-prod/zz.json",
                "c-prod/azure/x.json",
                "fleet.yaml",
            ],
        ];
        for fleet in cases {
            let mut known = Vec::new();
            let mut rest = list(fleet).into_iter().peekable();
            for cluster in &clusters {
                gather_known(&mut known, &mut cluster.clone(), &mut rest);
            }
            known.extend(rest);
            let mut want: Vec<(String, Sum)> = clusters.iter().flatten().cloned().chain(list(fleet)).collect();
            want.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(known, want, "{fleet:?}");
        }
    }
}
