//! The incremental engine: what a render can reuse from the last one.
//!
//! Each placement's folder is keyed by a content hash of every input it is made from
//! ([`key`]); a placement whose key is in the store ([`store`]) is not rendered again — its
//! files are known by size and hash, and the output folder, checked through its stat index
//! ([`index`]), holds their text. Placements with any diagnostic are never stored, so their
//! findings are reported on every run. A cluster's cluster-wide files (GitOps objects,
//! `cluster.yaml`, kustomizations) are keyed by the cluster and its placements' keys, the
//! fleet files by every cluster's key; a fleet backend that says what it reads of a
//! placement (the cloud identity backend: each placement's `Seat`) also by its own key, so
//! that a change it does not read leaves its files as they were. A whole render keeps the tree the output folder held
//! before as the *shadow* (`shadow/`, with `shadow.index`) and brings it up to the next one
//! (the writer's `shadow` module).
//!
//! The cache is derived data, in `.fleetgen/` beside `fleet.yaml` (or `$FLEETGEN_CACHE_DIR`):
//! ignored by git (its own `.gitignore`), tagged for backup tools (`CACHEDIR.TAG`), safe to
//! delete at any time, and never trusted without its key: a render with a cold cache is
//! byte-identical to one with a warm cache.

pub mod codec;
pub mod index;
pub mod key;
pub mod parsed;
pub mod store;

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

pub use index::Index;
pub use key::Key;
pub use store::{Entry, Store, Sum};

use crate::load::schema::{Digest as SchemaDigest, Valid as SchemaValid};
use codec::{Reader, Writer};

pub(crate) const VALID_MAGIC: &[u8] = b"fleetgen schema-valid v2\n";

/// How many placements a render rendered and how many it took from the cache; of the
/// clusters whose cluster-wide files were made again, for how many placements their own
/// objects in the cluster root (a Kustomization, an Application) were made and for how
/// many taken from the cache, and for how many the cluster's own objects of a backend
/// with a key (the admission policies) were made and for how many taken; how many fleet
/// backends with a key of their own it took from the cache; how many rows of the placement
/// matrix it wrote and how many it took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub rendered: usize,
    pub reused: usize,
    pub objects_made: usize,
    pub objects_reused: usize,
    pub own_made: usize,
    pub own_reused: usize,
    pub backends_reused: usize,
    /// Rows of the placement matrix written, and taken from the cache.
    pub rows_written: usize,
    pub rows_reused: usize,
    /// Template renders done, and taken from the render memo (another placement's render
    /// that read the same values).
    pub templates_rendered: usize,
    pub templates_reused: usize,
}

/// The cache folder of a fleet.
///
/// Only what this machine's fleetgen wrote is read. The `owner` file names the folder's own
/// identity (device, inode, time of birth) and each cache file's stamp as fleetgen left it
/// (device, inode, size, modification and birth times, to the nanosecond); a file whose
/// stamp differs, or that it does not list, is not read. So a cache folder that came from
/// elsewhere (committed to git and checked out, copied with the repository, restored by CI),
/// or a cache file git wrote into this one (`.fleetgen/` is ignored, and git writes over
/// ignored files on checkout), reads as absent: a doctored cache (a store pairing real keys
/// with a doctored tree's hashes, a parse memo with other trees) could otherwise make
/// `check` pass a tree the sources do not compile to. The first run that writes the cache in
/// a foreign folder removes fleetgen's files there, and only those.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
    /// The `owner` file as read (once) and kept up to date; `None` until first needed.
    owner: std::sync::Arc<std::sync::Mutex<Option<Owner>>>,
}

/// What the `owner` file says: whether it names this folder, and each file's stamp.
#[derive(Debug, Default)]
struct Owner {
    this_folder: bool,
    files: std::collections::BTreeMap<String, String>,
}

/// The cache folder's name in the fleet's root folder.
pub const DIR: &str = ".fleetgen";

/// The file in the cache folder that names the folder and its files (see [`Cache`]).
const OWNER: &str = "owner";

/// Why a cache folder is not used: it holds files, and nothing says they are fleetgen's.
const NOT_FLEETGENS: &str = "holds files, and no CACHEDIR.TAG or owner file of fleetgen's: it is not used as the cache";

/// Every name fleetgen writes in the cache folder (and the temporaries `<name>.tmp-<pid>`):
/// the only ones it ever removes there.
const NAMES: &[&str] = &[
    "placements",
    "rendered.index",
    "shadow",
    "shadow.index",
    "shadow.lock",
    "schema-valid",
    "parsed",
    OWNER,
    ".gitignore",
    "CACHEDIR.TAG",
    "lock",
];

const TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by fleetgen: derived data, safe to delete.\n# For information about cache directory tags see https://bford.info/cachedir/\n";

/// A file's or folder's stamp: device, inode, size, modification and birth times (ns).
fn stamp(meta: &fs::Metadata) -> String {
    let ns = |t: io::Result<std::time::SystemTime>| {
        t.ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or_else(|| "-".to_string(), |d| d.as_nanos().to_string())
    };
    #[cfg(unix)]
    let (dev, ino) = {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    };
    #[cfg(not(unix))]
    let (dev, ino) = (0u64, 0u64);
    format!(
        "{dev}:{ino}:{}:{}:{}",
        meta.len(),
        ns(meta.modified()),
        ns(meta.created())
    )
}

impl Cache {
    /// `$FLEETGEN_CACHE_DIR`, else `.fleetgen/` in the fleet's root folder.
    pub fn for_fleet(root: &Path) -> Cache {
        let dir = match std::env::var_os("FLEETGEN_CACHE_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => root.join(DIR),
        };
        Cache {
            dir,
            owner: std::sync::Arc::default(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The first line of the `owner` file: the folder's identity (its stamp without its size
    /// and modification time, which change with every file written in it).
    fn identity(&self) -> Option<String> {
        // Through a link only where one is the user's choice: `refuse_cache_dir` refuses one
        // in the repository.
        let meta = fs::metadata(&self.dir).ok().filter(fs::Metadata::is_dir)?;
        let whole = stamp(&meta);
        let parts: Vec<&str> = whole.split(':').collect();
        Some(format!("fleetgen cache folder {}:{}:{}", parts[0], parts[1], parts[4]))
    }

    /// The `owner` file, read the first time it is needed.
    fn owner(&self) -> std::sync::MutexGuard<'_, Option<Owner>> {
        let mut guard = self.owner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.is_none() {
            // A regular file of sensible size only: never a link (to /dev/zero, a FIFO).
            let path = self.dir.join(OWNER);
            let text = match fs::symlink_metadata(&path) {
                Ok(m) if m.is_file() && m.len() <= 1 << 20 => fs::read_to_string(&path).unwrap_or_default(),
                _ => String::new(),
            };
            let mut lines = text.lines();
            let this_folder = lines.next().is_some() && text.lines().next().map(str::to_string) == self.identity();
            let files = lines
                .filter_map(|l| l.split_once(' '))
                .map(|(name, stamp)| (name.to_string(), stamp.to_string()))
                .collect();
            *guard = Some(Owner { this_folder, files });
        }
        guard
    }

    /// Writes the `owner` file: this folder's identity and the stamps of `files`.
    fn write_owner(&self, owner: &Owner) -> io::Result<()> {
        let identity = self
            .identity()
            .ok_or_else(|| io::Error::other("the cache folder is not a folder"))?;
        let mut text = format!("{identity}\n");
        for (name, stamp) in &owner.files {
            text.push_str(&format!("{name} {stamp}\n"));
        }
        replace(&self.dir.join(OWNER), |f| f.write_all(text.as_bytes()))
    }

    /// Records the stamps of the cache files `names` as they are now (one that is gone is
    /// dropped), after fleetgen wrote them.
    fn record(&self, names: &[&str]) -> io::Result<()> {
        let mut guard = self.owner();
        let owner = guard.get_or_insert_with(Owner::default);
        if !owner.this_folder {
            return Ok(()); // not adopted: nothing written here is read
        }
        for name in names {
            match fs::symlink_metadata(self.dir.join(name)) {
                Ok(meta) if meta.is_file() => owner.files.insert(name.to_string(), stamp(&meta)),
                _ => owner.files.remove(*name),
            };
        }
        self.write_owner(owner)
    }

    /// Makes a foreign folder this machine's: fleetgen's files in it (all but the lock file,
    /// which the caller may hold) are removed, nothing else, and its `owner` file written.
    fn adopt(&self) -> io::Result<()> {
        let mut guard = self.owner();
        if guard.as_ref().is_some_and(|o| o.this_folder) {
            return Ok(());
        }
        // A folder (through a link only where `refuse_cache_dir` lets one be), before
        // anything in it is touched.
        self.identity()
            .ok_or_else(|| io::Error::other("the cache folder is not a folder"))?;
        // Only a folder that is empty (but the lock) or fleetgen's own is adopted: one of the
        // user's, that holds a `.gitignore` or a `shadow` of its own, is left as it is.
        let names: Vec<String> = fs::read_dir(&self.dir)?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<io::Result<_>>()?;
        let fleetgens = |name: &str, prefix: &str| {
            let path = self.dir.join(name);
            fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() <= 1 << 20)
                && fs::read_to_string(&path).is_ok_and(|t| t.starts_with(prefix))
        };
        let empty = names.iter().all(|n| n == "lock");
        if !empty && !fleetgens("CACHEDIR.TAG", TAG) && !fleetgens(OWNER, "fleetgen cache folder ") {
            return Err(io::Error::other(NOT_FLEETGENS));
        }
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let stem = name.split_once(".tmp-").map_or(name.as_str(), |(stem, _)| stem);
            if name == "lock" || !NAMES.contains(&stem) {
                continue;
            }
            // Never followed: a link is removed as a link, a folder with what is in it.
            match entry.file_type()?.is_dir() {
                true => fs::remove_dir_all(entry.path())?,
                false => fs::remove_file(entry.path())?,
            }
        }
        let owner = Owner {
            this_folder: true,
            files: Default::default(),
        };
        self.write_owner(&owner)?;
        *guard = Some(owner);
        Ok(())
    }

    /// Cache file `name`, when fleetgen wrote it here and it is as fleetgen left it (else
    /// there is nothing to read).
    fn own(&self, name: &str) -> Option<PathBuf> {
        let guard = self.owner();
        let owner = guard.as_ref()?;
        let path = self.dir.join(name);
        let now = fs::symlink_metadata(&path).ok().filter(fs::Metadata::is_file)?;
        (owner.this_folder && owner.files.get(name) == Some(&stamp(&now))).then_some(path)
    }

    /// The placement store (empty when there is none, or it cannot be read).
    pub fn store(&self) -> Store {
        self.own("placements").map(|p| Store::load(&p)).unwrap_or_default()
    }

    /// Whether there is a placement store (a cache a render or check left).
    pub fn has_store(&self) -> bool {
        self.own("placements").is_some_and(|p| p.is_file())
    }

    /// The stat index of output folder `out` (empty when it describes another folder).
    pub fn index(&self, out: &Path) -> Index {
        self.own("rendered.index")
            .map(|p| Index::load(&p, &root_name(out)))
            .unwrap_or_default()
    }

    /// The cache folder, made when missing: ignored by git, tagged for backup tools.
    fn make(&self) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        self.adopt()?;
        for (name, text) in [
            (".gitignore", "# fleetgen's cache: derived data, safe to delete\n*\n"),
            ("CACHEDIR.TAG", TAG),
        ] {
            // Written through a rename, which replaces a link rather than follows it.
            let path = self.dir.join(name);
            if fs::symlink_metadata(&path).is_err() {
                replace(&path, |f| f.write_all(text.as_bytes()))?;
            }
        }
        Ok(())
    }

    /// Waits for, then holds until dropped, the lock that one run at a time takes while it
    /// reads and writes the output folder and the cache's account of it (the stat indexes,
    /// the shadow): two renders at once, or a render beside a `check`, would pair one tree's
    /// stats with the other's contents, and `check` would then trust a stale file. `make`:
    /// make the cache folder when it is missing (else there is nothing to lock, and `None`).
    pub fn lock(&self, make: bool) -> io::Result<Option<fs::File>> {
        if make {
            fs::create_dir_all(&self.dir)?;
        } else if !fs::symlink_metadata(&self.dir).is_ok_and(|m| m.is_dir()) {
            return Ok(None);
        }
        let path = self.dir.join("lock");
        let file = open_lock(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                if !crate::trace::quiet() {
                    eprintln!(
                        "fleetgen: waiting for another fleetgen run to finish with `{}`",
                        path.display()
                    );
                }
                file.lock()?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        // A foreign folder is adopted under the lock, so that no other run is writing it; one
        // that cannot be costs the cache (nothing is read from it, its writes fail), never
        // the lock.
        match make.then(|| self.make()) {
            Some(Err(e)) if e.to_string() == NOT_FLEETGENS => {
                eprintln!("warning: the cache folder `{}` {e}", self.dir.display())
            }
            Some(Err(e)) => crate::trace::note("cache", || format!("`{}` not usable: {e}", self.dir.display())),
            _ => {}
        }
        Ok(Some(file))
    }

    /// Where the shadow of the output folder is kept (see the writer's `shadow` module),
    /// and the file whose lock says a render is using it; `None` until the cache folder
    /// exists (a first render, which may fail, makes nothing).
    pub fn shadow(&self) -> Option<(PathBuf, PathBuf)> {
        if !self.dir.is_dir() {
            return None;
        }
        self.make().ok()?;
        Some((self.dir.join("shadow"), self.dir.join("shadow.lock")))
    }

    /// The shadow's stat index for output folder `out` (empty when it describes another).
    pub fn shadow_index(&self, out: &Path) -> Index {
        self.own("shadow.index")
            .map(|p| Index::load(&p, &root_name(out)))
            .unwrap_or_default()
    }

    /// After the shadow was exchanged with the output folder: the output folder's index
    /// becomes the shadow's (the files it describes are in the shadow now), and `index`
    /// the output folder's.
    pub fn save_exchanged(&self, store: Option<&Store>, index: &Index) -> io::Result<()> {
        let (live, shadow) = (self.dir.join("rendered.index"), self.dir.join("shadow.index"));
        // Only an index fleetgen wrote moves on (it is trusted under its new name).
        if self.own("rendered.index").is_none() {
            match fs::remove_file(&live) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        match fs::rename(&live, &shadow) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::remove_file(&shadow) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            },
            other => other?,
        }
        self.record(&["shadow.index"])?;
        self.save(store, Some(index))
    }

    /// The digests of the input files the last run found valid against their schema
    /// (empty when there are none, or they cannot be read).
    pub fn schema_valid(&self) -> SchemaValid {
        let Some(path) = self.own("schema-valid") else {
            return SchemaValid::default();
        };
        Reader::open(&path, VALID_MAGIC)
            .and_then(decode_schema_valid)
            .unwrap_or_default()
    }

    /// Records the digests of the input files valid against their schema, unless they are
    /// those `before` has.
    pub fn save_schema_valid(&self, before: &SchemaValid, valid: &[SchemaDigest]) -> io::Result<()> {
        if valid.len() == before.len() && valid.iter().all(|d| before.contains(d)) {
            return Ok(());
        }
        self.make()?;
        let mut sorted = valid.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        replace(&self.dir.join("schema-valid"), |f| {
            encode_schema_valid(f, &sorted).map(drop)
        })?;
        self.record(&["schema-valid"])
    }

    /// The trees of the YAML files the last run parsed (empty when there are none, or
    /// they cannot be read).
    pub fn parsed(&self) -> parsed::Parsed {
        self.own("parsed").map(|p| parsed::load(&p)).unwrap_or_default()
    }

    /// Records the trees of the YAML files that parsed, unless they are those `before` has.
    pub fn save_parsed(
        &self,
        before: &parsed::Parsed,
        now: &[(parsed::Digest, std::sync::Arc<[u8]>)],
    ) -> io::Result<()> {
        if before.holds_exactly(now.iter().map(|(d, _)| d)) {
            return Ok(());
        }
        self.make()?;
        let memo = parsed::Parsed::of(now.iter().cloned());
        replace(&self.dir.join("parsed"), |f| parsed::write_to(&memo, f).map(drop))?;
        self.record(&["parsed"])
    }

    /// Records the store and the index (each replaced atomically).
    pub fn save(&self, store: Option<&Store>, index: Option<&Index>) -> io::Result<()> {
        self.make()?;
        if let Some(store) = store {
            replace(&self.dir.join("placements"), |f| store.write_to(f).map(drop))?;
            self.record(&["placements"])?;
        }
        if let Some(index) = index {
            replace(&self.dir.join("rendered.index"), |f| {
                index.write_to(f, index::now_ns()).map(drop)
            })?;
            self.record(&["rendered.index"])?;
        }
        Ok(())
    }
}

/// The name an index records for output folder `out`: its canonical path.
pub fn root_name(out: &Path) -> String {
    fs::canonicalize(out)
        .unwrap_or_else(|_| out.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

/// The lock of [`Cache::lock`] for a run on the fleet in `root`: through `cache` (made when
/// missing), or, for a run without the cache, the fleet's cache folder when it is there.
/// `None` when it cannot be taken: the run goes on, as it would without a cache. A folder
/// without fleet.yaml gets no cache folder: nothing is rendered there (the load says why),
/// and a run on bad input writes nothing.
pub fn lock_for(root: &Path, cache: Option<&Cache>) -> Option<fs::File> {
    let fleet = fs::symlink_metadata(root.join(crate::layout::FLEET_FILE)).is_ok();
    let locked = match cache {
        Some(cache) => cache.lock(fleet),
        None => Cache::for_fleet(root).lock(false),
    };
    locked.unwrap_or_else(|e| {
        crate::trace::note("cache", || format!("not locked: {e}"));
        None
    })
}

/// Opens (making it when missing) lock file `path`, never through a link: one in its place
/// is removed first.
pub fn open_lock(path: &Path) -> io::Result<fs::File> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path)?,
        Ok(m) if !m.is_file() => fs::remove_file(path)?,
        _ => {}
    }
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

/// Writes `path` through a temporary file beside it and a rename.
fn replace(path: &Path, write: impl FnOnce(&mut fs::File) -> io::Result<()>) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!("{name}.tmp-{}", std::process::id()));
    let written = fs::File::create(&tmp).and_then(|mut f| write(&mut f));
    written.and_then(|()| fs::rename(&tmp, path)).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// The schema memo read by `r`: the digests it holds.
fn decode_schema_valid<R: io::Read>(mut r: Reader<R>) -> Option<SchemaValid> {
    let count = r.count_of(32)?;
    let mut valid = SchemaValid::default();
    valid.reserve(count);
    for _ in 0..count {
        valid.insert(r.array()?);
    }
    r.finish().then_some(valid)
}

/// The schema memo encoded in `bytes`, if they hold one.
#[cfg(any(test, fuzzing))]
pub(crate) fn decode_schema_valid_bytes(bytes: &[u8]) -> Option<SchemaValid> {
    decode_schema_valid(Reader::of(bytes, VALID_MAGIC)?)
}

/// Writes the schema memo of these digests (sorted, without repeats) to `out`.
pub(crate) fn encode_schema_valid<W: io::Write>(out: W, sorted: &[SchemaDigest]) -> io::Result<W> {
    let mut w = Writer::to(out, VALID_MAGIC);
    w.u64(sorted.len() as u64);
    for digest in sorted {
        w.bytes(digest);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema memo reads back what was written; every cut and every flipped bit is
    /// refused (an empty memo: every file validated again), and nothing panics.
    #[test]
    fn schema_memo_round_trips_and_refuses_damage() {
        let sorted: Vec<SchemaDigest> = vec![[1; 32], [2; 32], [7; 32]];
        let bytes = encode_schema_valid(Vec::new(), &sorted).expect("in memory");
        let back = decode_schema_valid_bytes(&bytes).expect("decodes");
        assert_eq!(back, sorted.iter().copied().collect::<SchemaValid>());
        crate::incremental::codec::assert_refuses_damage(&bytes, |b| decode_schema_valid_bytes(b).is_some());
    }
}
