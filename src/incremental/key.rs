//! Cache keys: a content hash of every input a placement's output is made from.
//!
//! A placement's folder (`<clusterId>/apps/<app>/`) is a function of: fleetgen itself (the
//! build's own source hash, templates and chart conventions included), the day (exemptions
//! and expiry dates), the fleet-wide inputs (fleet.yaml, every profile, the policy library,
//! every template — a template may include another), the app's own files (contract, values
//! layers, vendored chart schema and defaults), the cluster's file, and the placement as
//! resolved from all of them (replicas shared in a region, gateway, identity, kill switches;
//! its labels are made from those files alone). Each of those is hashed with its path, so a
//! file that moves changes the key.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::layout::{self, Kind, Role};
use crate::load::Sources;
use crate::resolve::plan::{Placement, Plan};
use crate::source::FileId;

/// A BLAKE3 digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub [u8; 32]);

impl Key {
    pub fn of(bytes: &[u8]) -> Key {
        Key(*blake3::hash(bytes).as_bytes())
    }

    /// The key of `value` as [`Hash`](std::hash::Hash) writes it, under `global`, in
    /// `domain` (so that two kinds of value never share a key).
    pub fn hashed<T: std::hash::Hash + ?Sized>(domain: &[u8], global: &Key, value: &T) -> Key {
        let mut h = Feed::new();
        std::hash::Hash::hash(&(domain, &global.0, value), &mut h);
        Key(h.digest())
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// What fleetgen itself contributes to every key: its sources at build time (see
/// `build.rs`), and the cache format.
pub const BUILD: &str = concat!(env!("FLEETGEN_SOURCE_HASH"), "/cache-v1");

/// The digest of the placements' cloud identity seats (`resolve::cloud_identity::seats`)
/// under fleetgen's build, kept in `digest` (the plan's [`Plan::seats_digest`]): the key of
/// the cloud identity files and of FG039's verdict that every AWS role is within IAM's limits.
pub fn seats(sources: &Sources, placements: &[Placement], digest: &std::sync::OnceLock<[u8; 32]>) -> Key {
    Key(*digest.get_or_init(|| {
        let build = Key::of(BUILD.as_bytes());
        Key::hashed(
            b"seats",
            &build,
            &crate::resolve::cloud_identity::seats(sources, placements),
        )
        .0
    }))
}

/// The hashes of the inputs, by what reads them; computed once per compile.
pub struct Inputs {
    /// fleetgen, the day and every fleet-wide file.
    global: Key,
    /// An app's own files, by each of those files (a placement looks its contract up here:
    /// finding the contract's app folder from its path for each placement was 7 M
    /// instructions of a warm check at 200 × 500).
    apps: FxHashMap<FileId, Key>,
    /// Each cluster file.
    clusters: FxHashMap<FileId, Key>,
}

fn feed(h: &mut impl Sink, path: &str, text: &[u8]) {
    h.put(&(path.len() as u64).to_le_bytes());
    h.put(path.as_bytes());
    h.put(&(text.len() as u64).to_le_bytes());
    h.put(text);
}

/// What bytes are hashed into: BLAKE3 itself (large texts), or a [`Feed`] that gathers
/// small pieces first (BLAKE3's work per call costs more than hashing a few dozen bytes).
/// The hash is that of the bytes in order either way.
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for blake3::Hasher {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Sink for Feed {
    fn put(&mut self, bytes: &[u8]) {
        std::hash::Hasher::write(self, bytes);
    }
}

/// The app folder a file belongs to (`apps/<app>/…`), if it is one of an app's own files.
fn app_folder(path: &str) -> Option<&str> {
    let own = matches!(
        layout::classify(path),
        Role::Input(Kind::App) | Role::Values(_) | Role::ChartSchema(_) | Role::ChartDefaults(_)
    );
    let rest = path.strip_prefix("apps/")?;
    own.then(|| rest.split('/').next()).flatten()
}

impl Inputs {
    pub fn new(sources: &Sources) -> Inputs {
        let mut global = blake3::Hasher::new();
        global.update(BUILD.as_bytes());
        global.update(sources.today.to_string().as_bytes());
        let mut apps: FxHashMap<&str, blake3::Hasher> = FxHashMap::default();
        let mut app_files: Vec<(FileId, &str)> = Vec::new();
        let mut clusters = FxHashMap::default();
        // Each file by its path and its text's digest (made once, when the file was loaded
        // and looked up in the parse memo).
        for (id, file) in sources.files.iter() {
            let text = file.digest();
            if let Some(app) = app_folder(&file.path) {
                feed(apps.entry(app).or_default(), &file.path, &text);
                app_files.push((id, app));
            } else if matches!(layout::classify(&file.path), Role::Input(Kind::Cluster)) {
                let mut h = blake3::Hasher::new();
                feed(&mut h, &file.path, &text);
                clusters.insert(id, Key(*h.finalize().as_bytes()));
            } else {
                feed(&mut global, &file.path, &text);
            }
        }
        let apps: FxHashMap<&str, Key> = (apps.into_iter())
            .map(|(app, h)| (app, Key(*h.finalize().as_bytes())))
            .collect();
        Inputs {
            global: Key(*global.finalize().as_bytes()),
            apps: (app_files.into_iter())
                .filter_map(|(id, app)| Some((id, *apps.get(app)?)))
                .collect(),
            clusters,
        }
    }

    /// The keys of a render: every placement's, each cluster's cluster-wide files
    /// (`cluster.yaml`, its GitOps and policy objects, kustomizations: made from the cluster
    /// and its placements), and the fleet files' (the matrix, the fleet backends': made from
    /// every cluster).
    pub fn keys(&self, sources: &Sources, plan: &Plan) -> Keys {
        let peers = Peers::of(plan);
        let placements: Vec<Key> = (plan.placements.par_iter().enumerate())
            .map(|(at, p)| self.placement(sources, &peers, at, p))
            .collect();
        let mut by_cluster: FxHashMap<&str, Vec<Key>> = FxHashMap::default();
        for (p, key) in plan.placements.iter().zip(&placements) {
            by_cluster.entry(p.cluster_id()).or_default().push(*key);
        }
        let mut fleet = blake3::Hasher::new();
        fleet.update(b"fleet");
        fleet.update(&self.global.0);
        let mut clusters = FxHashMap::default();
        for c in &plan.clusters {
            let mut h = Feed::new();
            h.put(b"cluster");
            h.put(&self.global.0);
            h.put(&self.clusters.get(&c.doc.file).map_or([0; 32], |k| k.0));
            for key in by_cluster.get(c.id()).into_iter().flatten() {
                h.put(&key.0);
            }
            let key = Key(h.digest());
            fleet.update(&key.0);
            clusters.insert(c.id().to_string(), key);
        }
        Keys {
            placements,
            clusters,
            fleet: Key(*fleet.finalize().as_bytes()),
            global: self.global,
        }
    }

    /// The key of placement `p`'s folder (at `at` in the plan): the fleet-wide files, the
    /// app's own, its cluster file, the placement as resolved and what it reads of its
    /// neighbours on the cluster.
    fn placement(&self, sources: &Sources, peers: &Peers, at: usize, p: &Placement) -> Key {
        let mut h = Feed::new();
        h.put(&self.global.0);
        let contract = &sources.files.get(p.app.file).path;
        let app = self.apps.get(&p.app.file);
        h.put(&app.map_or([0; 32], |k| k.0));
        h.put(&self.clusters.get(&p.cluster.file).map_or([0; 32], |k| k.0));
        h.put(&(contract.len() as u64).to_le_bytes());
        h.put(contract.as_bytes());
        resolved(p, &mut h);
        // What its output reads of other placements on the cluster: its NetworkPolicy peers
        // (`Plan::callees`, then `Plan::callers`), by what `emit::context::network` takes of each.
        for &q in peers.callees[at].iter().chain(&peers.callers[at]) {
            let (name, digest) = &peers.digests[q];
            feed(&mut h, name, digest);
        }
        Key(h.digest())
    }
}

/// Each placement's NetworkPolicy peers, as positions in the plan, and what its peers
/// read of it: found once for the whole plan (asking `Plan::callers` of each placement
/// scanned its cluster's placements each time, and each edge formatted its peer again).
struct Peers<'p> {
    /// `Plan::callees` of each placement.
    callees: Vec<Vec<usize>>,
    /// `Plan::callers` of each placement, in app order.
    callers: Vec<Vec<usize>>,
    /// Each placement's app name and what a peer reads of it.
    digests: Vec<(&'p str, [u8; 32])>,
}

impl<'p> Peers<'p> {
    fn of(plan: &'p Plan) -> Peers<'p> {
        let all = &plan.placements;
        // Where `app`'s placement on `cluster` is.
        let find = |app: &str, cluster: &str| {
            let range = plan.cluster_range(cluster);
            let here = &all[range.clone()];
            here.binary_search_by(|q| q.app_name().cmp(app))
                .ok()
                .map(|i| range.start + i)
        };
        let callees: Vec<Vec<usize>> = all
            .par_iter()
            .map(|p| {
                (p.app.value.depends_on.iter())
                    .filter(|d| d.service.as_str() != p.app_name())
                    .filter_map(|d| find(d.service.as_str(), p.cluster_id()))
                    .filter(|&q| all[q].drained.is_none())
                    .collect()
            })
            .collect();
        // Each undrained placement is a caller of the services it depends on, once each;
        // callers are found in plan order, which on one cluster is app order.
        let mut callers: Vec<Vec<usize>> = vec![Vec::new(); all.len()];
        for (at, q) in all.iter().enumerate().filter(|(_, q)| q.drained.is_none()) {
            for d in q
                .app
                .value
                .depends_on
                .iter()
                .filter(|d| d.service.as_str() != q.app_name())
            {
                if let Some(p) = find(d.service.as_str(), q.cluster_id())
                    && callers[p].last() != Some(&at)
                {
                    callers[p].push(at);
                }
            }
        }
        let digests = all
            .par_iter()
            .map(|q| {
                // Fed to BLAKE3 through `Hash`, as `resolved` is (formatting it with `Debug`
                // first cost 2% of a warm check's instructions after a change at 200 × 500).
                let mut peer = Feed::new();
                let read = (&q.namespace, q.app.value.traffic.port, &q.app.value.chart);
                std::hash::Hash::hash(&read, &mut peer);
                (q.app_name(), peer.digest())
            })
            .collect();
        Peers {
            callees,
            callers,
            digests,
        }
    }
}

/// The keys of one render (see [`Inputs::keys`]).
pub struct Keys {
    /// By the placement's position in the plan.
    pub placements: Vec<Key>,
    /// By cluster id.
    pub clusters: FxHashMap<String, Key>,
    pub fleet: Key,
    /// fleetgen, the day and every fleet-wide file: what a fleet backend's own key
    /// (`FleetBackend::key`, in `emit::backends`) is made under.
    pub global: Key,
}

/// How much a [`Feed`] gathers before hashing it.
const BLOCK: usize = 4096;

/// The placement as resolved, values only (where each came from is for diagnostics, and
/// file ids change when a file is added), written to its key's feed through `Hash`, which
/// writes each string with an end mark and each list with its length, so what follows it
/// cannot run into it (formatting it with `Debug` first cost 12% of a warm `check` at
/// 200 × 500; a digest of its own, hashed into the key, another 1.6%).
///
/// Not its managed labels: they are made from fleet.yaml (in the global key), the contract
/// (in the app's) and the cluster file with its ring (in the cluster's) and nothing else
/// (`labels::Part::of_cluster`, `labels::Part::of_app`), and were half the bytes hashed
/// here. A label that read anything else would show in `tests/incremental.rs`, whose sweep
/// edits the fleet's scalars one at a time (every line with `FLEETGEN_SWEEP=all`) and
/// compares a warm render with a cold one.
fn resolved(p: &Placement, h: &mut Feed) {
    fn values<'p>(
        list: impl IntoIterator<Item = &'p (String, crate::resolve::plan::Sourced<String>)>,
    ) -> Vec<(&'p str, &'p str)> {
        list.into_iter().map(|(k, v)| (k.as_str(), v.value.as_str())).collect()
    }
    fn resources(r: &crate::resolve::plan::Resources) -> (Option<&str>, Option<&str>) {
        (
            r.cpu.as_ref().map(|v| v.value.as_str()),
            r.memory.as_ref().map(|v| v.value.as_str()),
        )
    }
    std::hash::Hash::hash(
        &(
            p.cluster_id(),
            &p.gateway,
            &p.namespace,
            (p.replicas.min, p.replicas.max, p.replicas.share),
            p.pod_disruption_budget.value,
            &p.topology_spread.value,
            (resources(&p.requests), resources(&p.limits)),
            (
                p.readiness_path.as_ref().map(|v| &v.value),
                p.liveness_path.as_ref().map(|v| &v.value),
            ),
            (
                values(&p.identity.service_account_annotations),
                values(&p.identity.pod_labels),
                p.identity.automount_token,
            ),
            (&p.telemetry, &p.scraper),
            (&p.suspended, &p.drained),
        ),
        h,
    );
}

/// BLAKE3 as a `Hasher` (for `Hash`): what is written, gathered in blocks of [`BLOCK`]
/// bytes (a value writes many pieces of a few bytes; fed one by one, the hasher's per-call
/// work would cost more than the hashing). Integers are written little-endian.
struct Feed {
    hasher: blake3::Hasher,
    block: Vec<u8>,
}

impl Feed {
    fn new() -> Feed {
        Feed {
            hasher: blake3::Hasher::new(),
            block: Vec::with_capacity(BLOCK),
        }
    }

    fn digest(mut self) -> [u8; 32] {
        self.hasher.update(&self.block);
        *self.hasher.finalize().as_bytes()
    }
}

impl std::hash::Hasher for Feed {
    fn write(&mut self, bytes: &[u8]) {
        if self.block.len() + bytes.len() > BLOCK {
            self.hasher.update(&self.block);
            self.block.clear();
        }
        if bytes.len() > BLOCK {
            self.hasher.update(bytes);
        } else {
            self.block.extend_from_slice(bytes);
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.write(&[n]);
    }
    fn write_u16(&mut self, n: u16) {
        self.write(&n.to_le_bytes());
    }
    fn write_u32(&mut self, n: u32) {
        self.write(&n.to_le_bytes());
    }
    fn write_u64(&mut self, n: u64) {
        self.write(&n.to_le_bytes());
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_isize(&mut self, n: isize) {
        self.write_u64(n as u64);
    }
    /// The first eight bytes of the digest so far (the keys use [`Feed::digest`]).
    fn finish(&self) -> u64 {
        let mut h = self.hasher.clone();
        h.update(&self.block);
        let mut first = [0; 8];
        first.copy_from_slice(&h.finalize().as_bytes()[..8]);
        u64::from_le_bytes(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The peers found once for the whole plan are, for every placement of the bundled
    /// fleet, what `Plan::callees` and `Plan::callers` say, in their order.
    #[test]
    fn peers_found_once_are_the_plan_s_callees_and_callers() {
        let sources = crate::load::fixture::sources(&[]);
        let (plan, problems) = crate::resolve::plan::plan(&sources);
        assert!(problems.is_empty(), "{problems:?}");
        let plan = plan.unwrap();
        let peers = Peers::of(&plan);
        let at = |q: &Placement| (q.cluster_id().to_string(), q.app_name().to_string());
        let (mut callees, mut callers) = (0, 0);
        for (i, p) in plan.placements.iter().enumerate() {
            let want: Vec<_> = plan.callees(p).map(at).collect();
            let got: Vec<_> = peers.callees[i].iter().map(|&q| at(&plan.placements[q])).collect();
            assert_eq!(got, want, "callees of {:?}", at(p));
            let want: Vec<_> = plan.callers(p).map(at).collect();
            let got: Vec<_> = peers.callers[i].iter().map(|&q| at(&plan.placements[q])).collect();
            assert_eq!(got, want, "callers of {:?}", at(p));
            assert_eq!(peers.digests[i].0, p.app_name());
            callers += want.len();
            callees += peers.callees[i].len();
        }
        assert!(callees > 0 && callers > 0, "the bundled fleet has dependencies");
    }

    /// What `Hash` writes reaches BLAKE3 whole and in order, however it is cut: and since
    /// strings end with a mark and lists start with their length, values that would print
    /// the same run together do not share a digest.
    #[test]
    fn hashed_values_are_their_bytes_and_do_not_run_together() {
        fn of<T: std::hash::Hash>(value: &T) -> [u8; 32] {
            let mut h = Feed::new();
            value.hash(&mut h);
            h.digest()
        }
        /// The bytes `Hash` writes, as the feed is told them.
        struct Bytes(Vec<u8>);
        impl std::hash::Hasher for Bytes {
            fn write(&mut self, bytes: &[u8]) {
                self.0.extend_from_slice(bytes);
            }
            fn finish(&self) -> u64 {
                0
            }
        }
        use std::hash::Hash;
        let long: Vec<String> = (0..2000).map(|i| format!("label-{i}")).collect();
        let value = (("cluster", 3u32, Some("x")), &long, true);
        let mut bytes = Bytes(Vec::new());
        value.hash(&mut bytes);
        assert!(bytes.0.len() > 2 * BLOCK);
        assert_eq!(of(&value), *blake3::hash(&bytes.0).as_bytes());
        assert_ne!(of(&("ab", "c")), of(&("a", "bc")));
        assert_ne!(of(&(vec!["a"], vec!["b"])), of(&(vec!["a", "b"], Vec::<&str>::new())));
        assert_ne!(of(&(Some(1u32), None::<u32>)), of(&(None::<u32>, Some(1u32))));
        assert_eq!(of(&value), of(&value.clone()));
    }
}
