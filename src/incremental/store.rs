//! The placement store: for each placement key, what its folder was when it last rendered
//! without a diagnostic — each file's path, size and content hash, the kinds it delivers
//! and the objects it claims on its cluster. The texts are not stored: the output folder
//! holds them, and the stat index ([`super::index`]) says whether a file on disk still
//! has the recorded content.
//!
//! One binary file, `placements`, read and written a block at a time and replaced whole
//! (atomically); anything it cannot decode is an empty store, never an error.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::codec::{Part, Reader, Writer};
use super::key::Key;

/// A rendered file known by its content: size and BLAKE3 hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sum {
    pub size: u64,
    pub hash: Key,
}

impl Sum {
    pub fn of(text: &[u8]) -> Sum {
        Sum {
            size: text.len() as u64,
            hash: Key::of(text),
        }
    }
}

/// An object a placement rendered: its [`object_id`] and the template that rendered it
/// (a position in [`Entry::templates`]).
pub type Claim = (u128, u32);

/// An object a render has just rendered: its [`object_id`] and its template's path.
pub type NewClaim = (u128, String);

/// An object as the duplicate check knows it: the first 128 bits of the BLAKE3 hash of its
/// group, kind, namespace and name (a store of 357,311 objects keeps no strings for them).
pub fn object_id(group: &str, kind: &str, namespace: &str, name: &str) -> u128 {
    let mut h = blake3::Hasher::new();
    for part in [group, kind, namespace, name] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let mut first = [0; 16];
    first.copy_from_slice(&h.finalize().as_bytes()[..16]);
    u128::from_le_bytes(first)
}

/// What a placement's render produced, enough to stand for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its files (sealed, as written), in path order.
    pub files: Vec<(String, Sum)>,
    /// The policy exemptions that turned one of its findings off (still used when reused).
    pub exemptions: Vec<String>,
    /// Its [`Detail`], encoded: only a render of its cluster's cluster-wide files reads it,
    /// and in a check after a small change most clusters' are taken whole (decoding every
    /// entry's objects and kinds was 13% of a warm check's instructions at 200 × 500).
    /// Written back as it was read when the entry is kept.
    detail: Box<[u8]>,
}

/// What a render of a placement's cluster reads of the placement: the kinds its folder
/// delivers and the objects it rendered. Its strings are those of the entry's encoding,
/// not copies (a render after a one-contract change at 20 × 50 decoded the details of the
/// 980 placements it reused on the changed clusters, and copied each claim's template
/// again into the cluster's duplicate check).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Detail<'a> {
    /// The kinds its folder delivers: (group, kind).
    pub kinds: Vec<(&'a str, &'a str)>,
    /// The objects it rendered, for the duplicate check across the cluster's apps.
    pub claims: Vec<Claim>,
    /// The templates that rendered them.
    pub templates: Vec<&'a str>,
}

impl Default for Entry {
    fn default() -> Entry {
        Entry {
            files: Vec::new(),
            exemptions: Vec::new(),
            detail: Detail::default().encode(),
        }
    }
}

/// What a cluster's cluster-wide files were.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterEntry {
    /// The cluster's id.
    pub cluster: String,
    pub files: Vec<(String, Sum)>,
    /// Those that belong to an app (its GitOps objects): path → app.
    pub apps: Vec<(String, String)>,
    /// The files of each placement's own objects in the cluster root (its Kustomization or
    /// Application), by the key they were made under: positions in `files`. A render of the
    /// cluster whose key changed takes from here the objects of the placements whose own
    /// key did not.
    pub placed: Vec<(Key, Vec<u32>)>,
    /// The cluster's own objects of each backend that keys them (`ClusterBackend::key`),
    /// by that key: each object's file (a position in `files`) and (group, kind). A render
    /// of the cluster whose key changed takes them from here when the backend's did not.
    pub own: Vec<(Key, Vec<OwnObject>)>,
}

/// A cluster object of a keyed backend: its file's position in [`ClusterEntry::files`]
/// and its (group, kind), which the GitOps engine is told it delivers.
pub type OwnObject = (u32, String, String);

pub(crate) const MAGIC: &[u8] = b"fleetgen placements v11\n";

/// The entries, by key.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Store {
    pub entries: FxHashMap<Key, Arc<Entry>>,
    pub clusters: FxHashMap<Key, Arc<ClusterEntry>>,
    /// The fleet files (`fleet.yaml`, the fleet backends') of a whole render.
    pub fleet: FxHashMap<Key, Vec<(String, Sum)>>,
    /// Each placement's row of the placement matrix (`fleet.yaml`), by the placement's key:
    /// a row reads only what its key covers (the contract, the cluster file, the fleet-wide
    /// files and the placement as resolved).
    pub rows: FxHashMap<Key, Arc<str>>,
    /// The digest of the placements' seats (`incremental::key::seats`) when
    /// every AWS role's policies were within IAM's limits (FG039 found nothing to say).
    pub iam_within_limits: Option<Key>,
}

impl Entry {
    /// Its kinds and objects, decoded (`None` if they do not decode).
    pub fn detail(&self) -> Option<Detail<'_>> {
        Detail::decode(&self.detail)
    }

    /// Its detail replaced by these bytes, as a damaged one would be (tests).
    #[cfg(test)]
    pub(crate) fn set_detail_bytes(&mut self, bytes: &[u8]) {
        self.detail = bytes.into();
    }

    /// Records what a render made: the kinds its folder delivers and its objects (id,
    /// template each).
    pub fn set_detail(&mut self, kinds: &[(String, String)], claims: &[NewClaim]) {
        let mut templates: Vec<&str> = Vec::new();
        let claims = claims
            .iter()
            .map(|(id, template)| {
                let at = match templates.iter().position(|t| t == template) {
                    Some(at) => at,
                    None => {
                        templates.push(template);
                        templates.len() - 1
                    }
                };
                (*id, u32::try_from(at).unwrap_or(u32::MAX))
            })
            .collect();
        self.detail = Detail {
            kinds: kinds.iter().map(|(g, k)| (g.as_str(), k.as_str())).collect(),
            claims,
            templates,
        }
        .encode();
    }
}

/// An object's id and its template's position: 16 and 4 bytes.
const CLAIM_BYTES: usize = 16 + 4;

impl<'a> Detail<'a> {
    /// The template that rendered claim `claim`.
    pub fn template(&self, claim: &Claim) -> &'a str {
        self.templates.get(claim.1 as usize).copied().unwrap_or_default()
    }

    fn encode(&self) -> Box<[u8]> {
        let mut out = Vec::with_capacity(
            24 + self.claims.len() * CLAIM_BYTES
                + (self.kinds.iter().map(|(g, k)| g.len() + k.len() + 16)).sum::<usize>()
                + self.templates.iter().map(|t| t.len() + 8).sum::<usize>(),
        );
        Part::put_u64(&mut out, self.kinds.len() as u64);
        for (group, kind) in &self.kinds {
            Part::put_str(&mut out, group);
            Part::put_str(&mut out, kind);
        }
        Part::put_u64(&mut out, self.templates.len() as u64);
        for template in &self.templates {
            Part::put_str(&mut out, template);
        }
        Part::put_u64(&mut out, self.claims.len() as u64);
        for (id, template) in &self.claims {
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&template.to_le_bytes());
        }
        out.into_boxed_slice()
    }

    /// The detail encoded in `bytes`: every claim's template one of its templates, and
    /// nothing after the last claim.
    fn decode(bytes: &'a [u8]) -> Option<Detail<'a>> {
        let mut r = Part::of(bytes);
        let mut d = Detail::default();
        let count = r.count_of(16)?;
        d.kinds.reserve_exact(count);
        for _ in 0..count {
            d.kinds.push((r.str()?, r.str()?));
        }
        let count = r.count_of(8)?;
        d.templates.reserve_exact(count);
        for _ in 0..count {
            d.templates.push(r.str()?);
        }
        let count = r.count_of(CLAIM_BYTES)?;
        d.claims.reserve_exact(count);
        for _ in 0..count {
            let claim: [u8; CLAIM_BYTES] = r.array()?;
            let (id, template) = claim.split_first_chunk::<16>()?;
            let template = u32::from_le_bytes(template.try_into().ok()?);
            if template as usize >= d.templates.len() {
                return None;
            }
            d.claims.push((u128::from_le_bytes(*id), template));
        }
        r.finish().then_some(d)
    }
}

impl Store {
    /// The store without the entries that stand for any of `paths`: a render with it
    /// renders again (with their texts) the placements, clusters and fleet files those
    /// files belong to, and reuses the rest.
    pub fn without(&self, paths: &[String]) -> Store {
        let gone: rustc_hash::FxHashSet<&str> = paths.iter().map(String::as_str).collect();
        self.keeping(|files| !files.iter().any(|(p, _)| gone.contains(p.as_str())))
    }

    /// The store with the entries whose files `keep` keeps (and every row).
    fn keeping(&self, keep: impl Fn(&[(String, Sum)]) -> bool) -> Store {
        Store {
            entries: self
                .entries
                .iter()
                .filter(|(_, e)| keep(&e.files))
                .map(|(k, e)| (*k, Arc::clone(e)))
                .collect(),
            clusters: self
                .clusters
                .iter()
                .filter(|(_, e)| keep(&e.files))
                .map(|(k, e)| (*k, Arc::clone(e)))
                .collect(),
            fleet: self
                .fleet
                .iter()
                .filter(|(_, files)| keep(files))
                .map(|(k, f)| (*k, f.clone()))
                .collect(),
            rows: self.rows.clone(),
            iam_within_limits: self.iam_within_limits,
        }
    }

    /// What of this store, a render's, an output folder backs whose files `drifted` differ
    /// from the render (stale, missing or edited by hand; each with the size and hash the
    /// render gave it): the store without the entries that stand for any of them. `None`
    /// when writing it over `before`, the store the render reused, would give a later run
    /// nothing to reuse that `before` does not, and leave in it nothing the folder
    /// contradicts: when it has no placement, cluster or fleet entry `before` lacks, and
    /// `before` has none under a key whose entry it leaves out. (After a one-contract change
    /// the changed placements' entries are all the render adds, and their files are the ones
    /// that drifted.) The matrix's rows are not counted: a row is remade from its placement
    /// in microseconds.
    pub fn backed_over(&self, drifted: &[(&str, Sum)], before: Option<&Store>) -> Option<Store> {
        // A file is looked for by its hash first, which its entry holds inline: the paths
        // of 99,423 files are not read to find 196 (they were most of this call's 8 ms).
        let hashes: rustc_hash::FxHashSet<Key> = drifted.iter().map(|(_, sum)| sum.hash).collect();
        let paths: rustc_hash::FxHashSet<&str> = drifted.iter().map(|(path, _)| *path).collect();
        let backed = |files: &[(String, Sum)]| {
            !files
                .iter()
                .any(|(path, sum)| hashes.contains(&sum.hash) && paths.contains(path.as_str()))
        };
        // An entry the render took from `before` (the same allocation) holds no drifted
        // file: a file the cache stood for that differs on disk makes `check` render its
        // placement again first. Only the entries it made are looked into.
        fn differ<V: PartialEq>(
            all: &FxHashMap<Key, V>,
            before: &FxHashMap<Key, V>,
            taken: impl Fn(&V, &V) -> bool,
            backed: impl Fn(&V) -> bool,
        ) -> bool {
            all.iter().any(|(key, v)| match before.get(key) {
                Some(old) if taken(old, v) => false,
                Some(old) => !backed(v) || old != v,
                None => backed(v),
            })
        }
        let changes = before.is_none_or(|before| {
            differ(&self.entries, &before.entries, Arc::ptr_eq, |e| backed(&e.files))
                || differ(&self.clusters, &before.clusters, Arc::ptr_eq, |e| backed(&e.files))
                || differ(&self.fleet, &before.fleet, |_, _| false, |files| backed(files))
                || self.iam_within_limits != before.iam_within_limits
        });
        changes.then(|| self.keeping(backed))
    }

    pub fn load(path: &Path) -> Store {
        Reader::open(path, MAGIC).and_then(decode_from).unwrap_or_default()
    }

    /// The store's encoding, in memory.
    pub fn encode(&self) -> Vec<u8> {
        self.write_to(Vec::new()).unwrap_or_default()
    }

    /// Writes the store's encoding to `out`.
    pub fn write_to<W: std::io::Write>(&self, out: W) -> std::io::Result<W> {
        let mut w = Writer::to(out, MAGIC);
        let mut keys: Vec<&Key> = self.entries.keys().collect();
        keys.sort();
        w.u64(keys.len() as u64);
        for key in keys {
            let e = &self.entries[key];
            w.bytes(&key.0);
            files(&mut w, &e.files);
            w.u64(e.detail.len() as u64);
            w.bytes(&e.detail);
            w.u64(e.exemptions.len() as u64);
            for name in &e.exemptions {
                w.str(name);
            }
        }
        let mut keys: Vec<&Key> = self.clusters.keys().collect();
        keys.sort();
        w.u64(keys.len() as u64);
        for key in keys {
            let e = &self.clusters[key];
            w.bytes(&key.0);
            w.str(&e.cluster);
            files(&mut w, &e.files);
            w.u64(e.apps.len() as u64);
            for (path, app) in &e.apps {
                w.str(path);
                w.str(app);
            }
            w.u64(e.placed.len() as u64);
            for (key, at) in &e.placed {
                w.bytes(&key.0);
                w.u64(at.len() as u64);
                for i in at {
                    w.u64(u64::from(*i));
                }
            }
            w.u64(e.own.len() as u64);
            for (key, objects) in &e.own {
                w.bytes(&key.0);
                w.u64(objects.len() as u64);
                for (i, group, kind) in objects {
                    w.u64(u64::from(*i));
                    w.str(group);
                    w.str(kind);
                }
            }
        }
        let mut keys: Vec<&Key> = self.fleet.keys().collect();
        keys.sort();
        w.u64(keys.len() as u64);
        for key in keys {
            w.bytes(&key.0);
            files(&mut w, &self.fleet[key]);
        }
        let mut keys: Vec<&Key> = self.rows.keys().collect();
        keys.sort();
        w.u64(keys.len() as u64);
        for key in keys {
            w.bytes(&key.0);
            w.str(&self.rows[key]);
        }
        match &self.iam_within_limits {
            Some(key) => {
                w.u64(1);
                w.bytes(&key.0);
            }
            None => w.u64(0),
        }
        w.finish()
    }
}

fn files<W: std::io::Write>(w: &mut Writer<W>, files: &[(String, Sum)]) {
    w.u64(files.len() as u64);
    for (path, sum) in files {
        w.str(path);
        w.u64(sum.size);
        w.bytes(&sum.hash.0);
    }
}

/// The least encoded size of a file: its path's length, size and hash.
const FILE_BYTES: u64 = 8 + 8 + 32;

fn read_files<R: Read>(r: &mut Reader<R>) -> Option<Vec<(String, Sum)>> {
    let count = r.count_of(FILE_BYTES)?;
    let mut files = Vec::with_capacity(count);
    for _ in 0..count {
        let path = r.str()?;
        // Its size and hash, taken whole.
        let sum: [u8; 8 + 32] = r.array()?;
        let (size, hash) = sum.split_first_chunk::<8>()?;
        let (size, hash) = (u64::from_le_bytes(*size), Key(hash.try_into().ok()?));
        files.push((path, Sum { size, hash }));
    }
    Some(files)
}

/// The store encoded in `bytes`, if they hold one.
#[cfg(any(test, fuzzing))]
pub(crate) fn decode(bytes: &[u8]) -> Option<Store> {
    decode_from(Reader::of(bytes, MAGIC)?)
}

fn decode_from<R: Read>(mut r: Reader<R>) -> Option<Store> {
    // An entry is at least its key, its files' count, its detail's length and its
    // exemptions' count.
    let count = r.count_of(32 + 3 * 8)?;
    let mut entries = FxHashMap::default();
    entries.reserve(count);
    for _ in 0..count {
        let key = Key(r.array()?);
        let files = read_files(&mut r)?;
        // Kept encoded: checked when decoded (`Entry::detail`).
        let detail = r.blob()?.into_boxed_slice();
        let count = r.count_of(8)?;
        let mut exemptions = Vec::with_capacity(count);
        for _ in 0..count {
            exemptions.push(r.str()?);
        }
        let e = Entry {
            files,
            exemptions,
            detail,
        };
        entries.insert(key, Arc::new(e));
    }
    let mut clusters = FxHashMap::default();
    for _ in 0..r.count()? {
        let key = Key(r.array()?);
        let mut e = ClusterEntry {
            cluster: r.str()?,
            files: read_files(&mut r)?,
            ..ClusterEntry::default()
        };
        for _ in 0..r.count()? {
            e.apps.push((r.str()?, r.str()?));
        }
        for _ in 0..r.count_of(32 + 8)? {
            let key = Key(r.array()?);
            let mut at = Vec::new();
            for _ in 0..r.count()? {
                let i = u32::try_from(r.u64()?).ok().filter(|&i| (i as usize) < e.files.len())?;
                at.push(i);
            }
            e.placed.push((key, at));
        }
        for _ in 0..r.count_of(32 + 8)? {
            let key = Key(r.array()?);
            let mut objects = Vec::new();
            for _ in 0..r.count_of(3 * 8)? {
                let i = u32::try_from(r.u64()?).ok().filter(|&i| (i as usize) < e.files.len())?;
                objects.push((i, r.str()?, r.str()?));
            }
            e.own.push((key, objects));
        }
        clusters.insert(key, Arc::new(e));
    }
    let mut fleet = FxHashMap::default();
    for _ in 0..r.count()? {
        let key = Key(r.array()?);
        fleet.insert(key, read_files(&mut r)?);
    }
    // A row is at least its key and its length.
    let count = r.count_of(32 + 8)?;
    let mut rows = FxHashMap::default();
    rows.reserve(count);
    for _ in 0..count {
        let key = Key(r.array()?);
        rows.insert(key, Arc::from(r.str()?));
    }
    let iam_within_limits = match r.u64()? {
        0 => None,
        1 => Some(Key(r.array()?)),
        _ => return None,
    };
    r.finish().then_some(Store {
        entries,
        clusters,
        fleet,
        rows,
        iam_within_limits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A placement's entry: one file, a Deployment's kind, `claims` and `exemptions`.
    fn entry(file: &str, claims: Vec<NewClaim>, exemptions: Vec<String>) -> Entry {
        let mut e = Entry {
            files: vec![(file.into(), Sum::of(file.as_bytes()))],
            exemptions,
            ..Entry::default()
        };
        e.set_detail(&[("apps".into(), "Deployment".into())], &claims);
        e
    }

    /// Cluster `id`'s entry: its summary, and app `app`'s GitOps object taken by its key.
    fn cluster_of(id: &str, app: &str) -> Arc<ClusterEntry> {
        let object = format!("{id}/gitops/kustomization-{app}.yaml");
        Arc::new(ClusterEntry {
            cluster: id.into(),
            files: vec![
                (format!("{id}/cluster.yaml"), Sum::of(id.as_bytes())),
                (object.clone(), Sum::of(app.as_bytes())),
            ],
            apps: vec![(object, app.into())],
            placed: vec![(Key::of(app.as_bytes()), vec![1])],
            own: vec![(
                Key::of(id.as_bytes()),
                vec![(
                    0,
                    "admissionregistration.k8s.io".into(),
                    "ValidatingAdmissionPolicy".into(),
                )],
            )],
        })
    }

    #[test]
    fn round_trips_and_refuses_what_it_did_not_write() {
        let mut store = Store::default();
        store.entries.insert(
            Key::of(b"k"),
            Arc::new(entry(
                "c/apps/a/x.yaml",
                vec![(object_id("apps", "Deployment", "a", "a"), "t.j2".into())],
                vec!["legacy-root".into()],
            )),
        );
        store.clusters.insert(Key::of(b"c"), cluster_of("c", "a"));
        store
            .fleet
            .insert(Key::of(b"f"), vec![("fleet.yaml".into(), Sum::of(b"matrix"))]);
        store
            .rows
            .insert(Key::of(b"k"), Arc::from("  - app: a\n    cluster: c\n"));
        let bytes = store.encode();
        let back = decode(&bytes).expect("decodes");
        assert_eq!(back, store);
        // Written in blocks: a store larger than one block reads back whole too.
        let mut large = Store::default();
        let files = (0..5000)
            .map(|i| (format!("c/apps/a/{i}.yaml"), Sum::of(&[i as u8])))
            .collect();
        large.fleet.insert(Key::of(b"f"), files);
        let encoded = large.encode();
        assert!(encoded.len() > 3 * 64 * 1024, "{}", encoded.len());
        assert_eq!(decode(&encoded).as_ref(), Some(&large));
        // Truncated, extended or altered: no store rather than a wrong one.
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
        assert!(decode(&[bytes.as_slice(), b"x"].concat()).is_none());
        let mut flipped = bytes.clone();
        flipped[MAGIC.len() + 12] ^= 1;
        assert!(decode(&flipped).is_none());
        assert!(decode(b"").is_none());
    }

    /// An entry's kinds and objects are kept encoded and decoded on demand: each template
    /// once, each object pointing at its own; a detail whose object points past its
    /// templates, or with bytes after its last object, decodes to nothing.
    #[test]
    fn an_entry_decodes_its_detail_on_demand_and_refuses_a_wrong_one() {
        let deployment = object_id("apps", "Deployment", "a", "api");
        let service = object_id("", "Service", "a", "api");
        let mut e = Entry::default();
        assert_eq!(e.detail(), Some(Detail::default()));
        let kinds = vec![
            ("apps".to_string(), "Deployment".to_string()),
            (String::new(), "Service".to_string()),
        ];
        e.set_detail(
            &kinds,
            &[
                (deployment, "d.yaml.j2".into()),
                (service, "s.yaml.j2".into()),
                (object_id("", "Service", "a", "api-headless"), "s.yaml.j2".into()),
            ],
        );
        let detail = e.detail().expect("decodes");
        assert_eq!(detail.kinds, [("apps", "Deployment"), ("", "Service")]);
        assert_eq!(detail.templates, ["d.yaml.j2", "s.yaml.j2"]);
        assert_eq!(detail.claims.len(), 3);
        assert_eq!(detail.template(&detail.claims[0]), "d.yaml.j2");
        assert_eq!(detail.template(&detail.claims[2]), "s.yaml.j2");
        // Through the store's encoding, unchanged.
        let mut store = Store::default();
        store.entries.insert(Key::of(b"k"), Arc::new(e.clone()));
        let back = decode(&store.encode()).expect("decodes");
        assert_eq!(back.entries[&Key::of(b"k")].detail(), Some(detail.clone()));
        // A claim whose template is not one of the entry's.
        let mut wrong = detail.clone();
        wrong.claims[1].1 = 2;
        assert_eq!(Detail::decode(&wrong.encode()), None);
        wrong.claims[1].1 = 1;
        assert_eq!(Detail::decode(&wrong.encode()), Some(detail.clone()));
        // Cut anywhere, or followed by anything: nothing.
        let bytes = detail.encode();
        for cut in 0..bytes.len() {
            assert_eq!(Detail::decode(&bytes[..cut]), None, "cut at {cut}");
        }
        assert_eq!(Detail::decode(&[&bytes[..], &[0]].concat()), None);
    }

    /// The store is decoded as it is read and its checksum checked last: whatever a
    /// damaged file's counts and lengths say, every cut and every flipped bit is refused,
    /// and nothing panics.
    #[test]
    fn every_cut_and_every_flipped_bit_is_refused() {
        let mut store = Store::default();
        for app in ["api", "web"] {
            store.entries.insert(
                Key::of(app.as_bytes()),
                Arc::new(entry(
                    &format!("c/apps/{app}/d.yaml"),
                    vec![(object_id("apps", "Deployment", app, app), "d.yaml.j2".into())],
                    vec![],
                )),
            );
        }
        store.clusters.insert(Key::of(b"c"), cluster_of("c", "api"));
        store.rows.insert(Key::of(b"api"), Arc::from("  - app: api\n"));
        let bytes = store.encode();
        assert_eq!(decode(&bytes).as_ref(), Some(&store));
        // A placement's objects are files of the entry, or the store is refused.
        let mut beyond = Store {
            entries: store.entries.clone(),
            clusters: store.clusters.clone(),
            fleet: store.fleet.clone(),
            rows: store.rows.clone(),
            iam_within_limits: None,
        };
        let entry = beyond.clusters.values_mut().next().unwrap();
        Arc::make_mut(entry).placed[0].1 = vec![2];
        assert!(decode(&beyond.encode()).is_none());
        // So are a keyed backend's own objects.
        let entry = beyond.clusters.values_mut().next().unwrap();
        Arc::make_mut(entry).placed[0].1 = vec![1];
        assert!(decode(&beyond.encode()).is_some());
        let entry = beyond.clusters.values_mut().next().unwrap();
        Arc::make_mut(entry).own[0].1[0].0 = 2;
        assert!(decode(&beyond.encode()).is_none());
        crate::incremental::codec::assert_refuses_damage(&bytes, |b| decode(b).is_some());
    }

    /// A render's store is written as far as the output folder backs it, and only when that
    /// changes what a later run reuses.
    #[test]
    fn a_store_is_written_as_far_as_the_folder_backs_it() {
        let placement = |app: &str| {
            let file = format!("c/apps/{app}/d.yaml");
            (Key::of(file.as_bytes()), Arc::new(entry(&file, vec![], vec![])))
        };
        let store_of = |apps: &[&str]| Store {
            entries: apps.iter().map(|a| placement(a)).collect(),
            clusters: [(Key::of(b"c"), cluster_of("c", "api"))].into_iter().collect(),
            ..Store::default()
        };
        let render = store_of(&["api", "web"]);
        // Each drifted path with the size and hash the render gave it.
        let drifted = |paths: &[&'static str]| -> Vec<(&'static str, Sum)> {
            let files =
                (render.entries.values().flat_map(|e| &e.files)).chain(render.clusters.values().flat_map(|e| &e.files));
            let sums: FxHashMap<&str, Sum> = files.map(|(p, s)| (p.as_str(), *s)).collect();
            paths.iter().map(|p| (*p, sums[p])).collect()
        };
        // A first run: all of it the folder backs.
        assert_eq!(render.backed_over(&[], None), Some(store_of(&["api", "web"])));
        // The store it reused holds all of it: nothing to write.
        assert_eq!(render.backed_over(&[], Some(&store_of(&["api", "web"]))), None);
        // A store the folder does not contradict, with more in it (an older render's
        // entries): kept as it is.
        assert_eq!(render.backed_over(&[], Some(&store_of(&["api", "web", "old"]))), None);
        // web is new (a changed contract) and the folder holds the render's web: written.
        let before = store_of(&["api"]);
        assert_eq!(render.backed_over(&[], Some(&before)), Some(store_of(&["api", "web"])));
        // web is new and the folder holds another web (a stale tree): the render adds
        // nothing the folder backs, and nothing is written.
        assert_eq!(
            render.backed_over(&drifted(&["c/apps/web/d.yaml"]), Some(&before)),
            None
        );
        // web's file was edited by hand: the render made web again (check does, to show the
        // diff), and the store it reused has web: written without it.
        let reused = store_of(&["api", "web"]);
        let backed = render.backed_over(&drifted(&["c/apps/web/d.yaml"]), Some(&reused));
        assert_eq!(backed, Some(store_of(&["api"])));
        // An entry the render took from the store it reused (the same allocation) is not
        // looked into: check never gets here with such an entry's file drifted.
        assert_eq!(
            render.backed_over(&drifted(&["c/apps/web/d.yaml"]), Some(&render)),
            None
        );
        // A cluster whose file drifted is left out too; an entry under the same key that is
        // not the same is written.
        let mut without_cluster = store_of(&["api", "web"]);
        without_cluster.clusters.clear();
        assert_eq!(
            render.backed_over(&drifted(&["c/cluster.yaml"]), Some(&reused)),
            Some(without_cluster)
        );
        let mut other = store_of(&["api", "web"]);
        let (key, _) = placement("web");
        other
            .entries
            .insert(key, Arc::new(entry("c/apps/web/e.yaml", vec![], vec![])));
        assert_eq!(render.backed_over(&[], Some(&other)), Some(store_of(&["api", "web"])));
        // A file with a drifted file's content but another path does not drop its entry.
        let mut twin = store_of(&["api", "web"]);
        let web = render.entries[&placement("web").0].files[0].1;
        let twin_entry = Entry {
            files: vec![("c/apps/twin/d.yaml".into(), web)],
            ..Entry::default()
        };
        twin.entries.insert(Key::of(b"twin"), Arc::new(twin_entry));
        let kept = twin
            .backed_over(&drifted(&["c/apps/web/d.yaml"]), None)
            .expect("a first run");
        assert!(kept.entries.contains_key(&Key::of(b"twin")));
        assert!(!kept.entries.contains_key(&placement("web").0));
    }
}
