//! The stat index of an output folder, as git's index is of a work tree: for each file its
//! size, modification and change times, inode and content hash, recorded when fleetgen last
//! wrote or read it. A file whose stat is unchanged has the recorded content and is not
//! read again — unless it was modified so close to the recording that a later edit in the
//! same clock tick would leave the stat unchanged ("racy git"): such entries are re-hashed.
//!
//! Files are known by a 128-bit digest of their path rather than the path: the index of a
//! large tree (357,311 files) then loads as fixed-size records, without a string each. The
//! records are kept in path order, the order of a walk: a walk of a tree that kept its files
//! finds each one at the position after the last, reading the index front to back (looked up
//! by digest, 357,311 lookups cost more than the walk's own work: each one a cache and TLB
//! miss in a table of tens of megabytes). The digest table is built only when the order
//! does not answer, on the first file found out of place.

use std::fs;
use std::io;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::codec::{Reader, Writer};
use super::key::Key;
use super::store::Sum;
use crate::load::files::read_bounded;

/// What the index compares: a file's stat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub inode: u64,
    /// It has an executable bit, which fleetgen never writes and git records (`100755`): a
    /// file with one is not as rendered, whatever its content. Never recorded in an index
    /// (which holds files as fleetgen wrote them), so such a file is never known by its stat.
    /// Only where the bit counts ([`track_exec`]).
    pub exec: bool,
}

fn nanos(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX),
    }
}

/// Whether a file's executable bit counts ([`Stat::exec`]): where git records it (the fleet
/// is in a repository with `core.fileMode`, which `git init` turns off on a file system that
/// cannot keep modes: SMB shares, vfat, WSL's `/mnt/c` show every file as executable). Set
/// once a run, before the output folder is read; off unless set.
static TRACK_EXEC: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Says whether a file's executable bit counts this run (see [`TRACK_EXEC`]).
pub fn track_exec(on: bool) {
    TRACK_EXEC.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Whether `mode` has an executable bit that counts.
pub fn executable(mode: u32) -> bool {
    mode & 0o111 != 0 && TRACK_EXEC.load(std::sync::atomic::Ordering::Relaxed)
}

impl Stat {
    pub fn of(meta: &fs::Metadata) -> Stat {
        #[cfg(unix)]
        let (ctime_ns, inode, exec) = {
            use std::os::unix::fs::MetadataExt;
            (
                meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
                meta.ino(),
                executable(meta.mode()),
            )
        };
        #[cfg(not(unix))]
        let (ctime_ns, inode, exec) = (0, 0, false);
        Stat {
            size: meta.len(),
            mtime_ns: meta.modified().map_or(0, nanos),
            ctime_ns,
            inode,
            exec,
        }
    }
}

/// How close to the recording a modification makes an entry untrusted, on a file system
/// whose timestamps have whole seconds only: wider than any such granularity (FAT's is two
/// seconds).
const RACY_NS: i64 = 3_000_000_000;

/// The same for a timestamp with a fraction of a second: wider than the kernel's clock tick
/// (timestamps come from a clock that moves once a tick, 1–10 ms), so that a file changed
/// after the recording has a later modification time than the one recorded.
const RACY_FINE_NS: i64 = 50_000_000;

/// How close to the recording a file modified at `mtime_ns` must not be, to be trusted.
fn racy_window(mtime_ns: i64) -> i64 {
    if mtime_ns.rem_euclid(1_000_000_000) == 0 {
        RACY_NS
    } else {
        RACY_FINE_NS
    }
}

pub(crate) const MAGIC: &[u8] = b"fleetgen stat index v4\n";

/// A file's path, as the index knows it: its 128-bit XXH3 hash. Two paths with one id
/// would cost a read, not a wrong answer: an entry is trusted only when the file's stat,
/// its inode and change time included, is the one recorded.
pub type PathId = u128;

pub fn path_id(path: &str) -> PathId {
    xxhash_rust::xxh3::xxh3_128(path.as_bytes())
}

/// The index of one output folder.
#[derive(Default, Debug)]
pub struct Index {
    /// The output folder it describes (its canonical path).
    pub root: String,
    /// When it was recorded.
    pub recorded_ns: i64,
    /// Each file's path digest, stat and content, in path order.
    pub files: Vec<(PathId, Stat, Sum)>,
    /// Where each digest is in `files`, made when first needed.
    at: OnceLock<FxHashMap<PathId, u32>>,
}

impl Index {
    /// The index at `path` if it describes `root`, else an empty one.
    pub fn load(path: &Path, root: &str) -> Index {
        let read = Reader::open(path, MAGIC).and_then(decode_from);
        match read {
            Some(index) if index.root == root => index,
            _ => Index {
                root: root.to_string(),
                ..Index::default()
            },
        }
    }

    /// An index of these files (in path order), recorded at `recorded_ns`.
    pub fn new(root: String, recorded_ns: i64, files: Vec<(PathId, Stat, Sum)>) -> Index {
        Index {
            root,
            recorded_ns,
            files,
            at: OnceLock::new(),
        }
    }

    /// Where the file with digest `path` is in [`Index::files`]: at `hint` when it is there
    /// (a walk in path order of a tree that kept its files), else looked up.
    fn position(&self, hint: usize, path: PathId) -> Option<usize> {
        if self.files.get(hint).is_some_and(|f| f.0 == path) {
            return Some(hint);
        }
        let at = self.at.get_or_init(|| {
            let mut at = FxHashMap::default();
            at.reserve(self.files.len());
            for (i, f) in self.files.iter().enumerate() {
                at.insert(f.0, u32::try_from(i).unwrap_or(u32::MAX));
            }
            at
        });
        at.get(&path).map(|&i| i as usize)
    }

    /// How many of the files with these path digests (in path order) the index has: each
    /// looked for just after the one found before it, and looked up only when it is not
    /// there (two trees of a fleet share most of their paths).
    pub fn count_of(&self, paths: impl Iterator<Item = PathId>) -> usize {
        let mut hint = 0;
        paths
            .filter(|&path| match self.position(hint, path) {
                Some(at) => {
                    hint = at + 1;
                    true
                }
                None => false,
            })
            .count()
    }

    /// What the index knows of a file with this stat, if it can be trusted; and the file's
    /// position in [`Index::files`], the hint for the next file in path order.
    pub fn known(&self, hint: usize, path: PathId, stat: &Stat) -> (Option<Sum>, Option<usize>) {
        let (recorded, at) = self.recorded(hint, path, stat);
        (recorded.known(), at)
    }

    /// What the index recorded of a file with this stat, trusted or not; and its position
    /// (see [`Index::known`]).
    pub fn recorded(&self, hint: usize, path: PathId, stat: &Stat) -> (Recorded, Option<usize>) {
        let Some(at) = self.position(hint, path) else {
            return (Recorded::Unknown, None);
        };
        let (_, recorded, sum) = &self.files[at];
        let what = if recorded != stat {
            Recorded::Unknown
        } else if stat.mtime_ns < self.recorded_ns.saturating_sub(racy_window(stat.mtime_ns)) {
            Recorded::Known(*sum)
        } else {
            Recorded::Racy(*sum)
        };
        (what, Some(at))
    }

    /// The index's encoding, in memory, recorded at `now_ns`.
    pub fn encode(&self, now_ns: i64) -> Vec<u8> {
        self.write_to(Vec::new(), now_ns).unwrap_or_default()
    }

    /// Writes the index's encoding, recorded at `now_ns`, to `out`.
    pub fn write_to<W: io::Write>(&self, out: W, now_ns: i64) -> io::Result<W> {
        let mut w = Writer::to(out, MAGIC);
        w.str(&self.root);
        w.u64(now_ns as u64);
        w.u64(self.files.len() as u64);
        for (path, s, sum) in &self.files {
            w.bytes(&path.to_le_bytes());
            for n in [s.size, s.mtime_ns as u64, s.ctime_ns as u64, s.inode, sum.size] {
                w.u64(n);
            }
            w.bytes(&sum.hash.0);
        }
        w.finish()
    }
}

/// The index encoded in `bytes`, if they hold one.
#[cfg(any(test, fuzzing))]
pub(crate) fn decode(bytes: &[u8]) -> Option<Index> {
    decode_from(Reader::of(bytes, MAGIC)?)
}

/// The encoded size of one file of the index.
const RECORD: usize = 16 + 5 * 8 + 32;

fn decode_from<R: io::Read>(mut r: Reader<R>) -> Option<Index> {
    let root = r.str()?;
    let recorded_ns = r.u64()? as i64;
    // Each file: its path digest, four stat numbers, its size and hash, taken whole (one
    // call per file rather than seven).
    let count = r.count_of(RECORD as u64)?;
    let mut files = Vec::with_capacity(count);
    for _ in 0..count {
        let record: [u8; RECORD] = r.array()?;
        let (path, rest) = record.split_first_chunk::<16>()?;
        let (numbers, hash) = rest.split_at(5 * 8);
        let n = |i: usize| Some(u64::from_le_bytes(numbers.get(i * 8..i * 8 + 8)?.try_into().ok()?));
        let stat = Stat {
            size: n(0)?,
            mtime_ns: n(1)? as i64,
            ctime_ns: n(2)? as i64,
            inode: n(3)?,
            exec: false,
        };
        files.push((
            u128::from_le_bytes(*path),
            stat,
            Sum {
                size: n(4)?,
                hash: Key(hash.try_into().ok()?),
            },
        ));
    }
    r.finish().then(|| Index::new(root, recorded_ns, files))
}

/// The current time, for [`Index::encode`].
pub fn now_ns() -> i64 {
    nanos(SystemTime::now())
}

/// A file of the output folder as a scan found it.
#[derive(Debug)]
pub struct OnDisk {
    pub sum: Sum,
    /// Its text, when the scan had to read it (its stat changed, or it is new to the index).
    pub text: Option<String>,
}

/// A file of the output folder with its stat, as the index knows it (`None`: its stat
/// changed, or the index does not have it).
#[derive(Debug)]
pub struct Stated {
    pub rel: String,
    pub id: PathId,
    pub stat: Stat,
    pub recorded: Recorded,
    /// A regular file (not a symbolic link, a FIFO …, which is never opened).
    pub regular: bool,
}

impl Stated {
    /// Its content, when the index knows it by its stat.
    pub fn known(&self) -> Option<Sum> {
        self.recorded.known()
    }
}

/// What an index recorded of a file with the stat it has now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Its content, trusted: the stat is the one recorded, outside the racy window.
    Known(Sum),
    /// The content recorded with this very stat, too close to the recording to be trusted:
    /// most likely still the file's, and certainly no other content the index did not see
    /// unless the file changed within the clock tick of its writing.
    Racy(Sum),
    /// Its stat changed, or the index does not have it.
    Unknown,
}

impl Recorded {
    pub fn known(self) -> Option<Sum> {
        match self {
            Recorded::Known(sum) => Some(sum),
            Recorded::Racy(_) | Recorded::Unknown => None,
        }
    }
}

/// The fewest files of a [`lookup`] one task takes: each task finds its first file by
/// digest at worst, then each next one after the last.
const CHUNK: usize = 4096;

/// The first half of a [`scan`], which needs no render: each file (relative paths in path
/// order, each with its stat when the caller has it) stat'ed where it is not, and looked up
/// in the index. `check` runs it while the sources compile. A path that is not a regular
/// file (a symbolic link, not followed) keeps no stat, and the index never knows it.
pub fn lookup(out: &Path, index: &Index, mut paths: Vec<(String, Option<Stat>)>) -> io::Result<Vec<Stated>> {
    paths
        .par_iter_mut()
        .filter(|(_, stat)| stat.is_none())
        .try_for_each(|(rel, stat)| -> io::Result<()> {
            let meta = fs::symlink_metadata(out.join(&*rel))?;
            *stat = meta.is_file().then(|| Stat::of(&meta));
            Ok(())
        })?;
    // Written straight into one list (each task's list appended to a whole afterwards held
    // the 99,423 entries of a 200 × 500 fleet three times: 32 MB of fresh pages).
    let mut stated = Vec::with_capacity(paths.len());
    paths
        .par_iter_mut()
        .enumerate()
        .with_min_len(CHUNK)
        // A task's files come in path order: each one is looked for after the one before,
        // the first at its own place (where it is when the index has the walk's files).
        .map_init(
            || (usize::MAX, 0),
            |(next, hint), (i, (rel, stat))| {
                let regular = stat.is_some();
                let stat = stat.unwrap_or(NO_STAT);
                let id = path_id(rel);
                let from = if *next == i { *hint } else { i };
                let (recorded, at) = index.recorded(from, id, &stat);
                (*next, *hint) = (i + 1, at.map_or(from, |at| at + 1));
                Stated {
                    rel: std::mem::take(rel),
                    id,
                    stat,
                    recorded,
                    regular,
                }
            },
        )
        .collect_into_vec(&mut stated);
    Ok(stated)
}

/// No file's stat (every path has one by the time it is looked up; an index never records
/// it, so it is never trusted).
const NO_STAT: Stat = Stat {
    size: u64::MAX,
    mtime_ns: i64::MAX,
    ctime_ns: i64::MAX,
    inode: u64::MAX,
    exec: false,
};

/// Every file under `out` (relative paths, each with its stat when the caller has it),
/// each known by the index when its stat is unchanged, else read and hashed; and the index
/// brought up to date, `None` when it is unchanged (every file it has was found as it
/// recorded it, and no file was read). `limit` says how much of a file may be read: `None`
/// for a file no render makes (listed, never read), else a size past which the file is not
/// read (it differs by its size alone) and is shown as a one-line note. Only files read
/// whole enter the new index.
pub fn scan(
    out: &Path,
    index: &Index,
    paths: Vec<(String, Option<Stat>)>,
    limit: &(dyn Fn(&str) -> Option<u64> + Sync),
) -> io::Result<(Disk, Option<Index>)> {
    finish(out, index, lookup(out, index, paths)?, limit)
}

/// The files of an output folder as a scan found them, in path order.
pub type Disk = crate::sorted::SortedMap<OnDisk>;

/// The second half of a [`scan`]: the files the index does not know read (within `limit`).
pub fn finish(
    out: &Path,
    index: &Index,
    stated: Vec<Stated>,
    limit: &(dyn Fn(&str) -> Option<u64> + Sync),
) -> io::Result<(Disk, Option<Index>)> {
    // The files the index does not know (after a one-contract change, none): each one with
    // the stat to record when it is to be in the index, and what it is. Those it knows are
    // taken as they are, with no list of their own.
    let unknown: Vec<&Stated> = stated.iter().filter(|s| s.known().is_none()).collect();
    let found: Vec<io::Result<(Option<Stat>, OnDisk)>> = unknown
        .into_par_iter()
        .map(|Stated { rel, stat, regular, .. }| {
            let unread = |text: Option<String>| OnDisk {
                sum: Sum {
                    size: stat.size,
                    hash: Key([0; 32]),
                },
                text,
            };
            let Some(max) = limit(rel) else {
                return Ok((None, unread(None)));
            };
            if !regular {
                let what = match fs::symlink_metadata(out.join(rel)) {
                    Ok(m) if m.file_type().is_symlink() => "a symbolic link",
                    Ok(m) => crate::load::files::special_kind(m.file_type()),
                    Err(_) => "not a regular file",
                };
                return Ok((
                    None,
                    unread(Some(format!("({what}; fleetgen writes regular files only)\n"))),
                ));
            }
            if stat.exec {
                // Not read: its sum is no content's, so it differs from any render.
                let note = "(a file with an executable bit, which git records and fleetgen never writes)\n";
                return Ok((None, unread(Some(note.to_string()))));
            }
            if stat.size > max {
                let note = format!(
                    "(a file of {} bytes, larger than fleetgen would write; not read)\n",
                    stat.size
                );
                return Ok((None, unread(Some(note))));
            }
            let bytes = read_bounded(fs::File::open(out.join(rel))?, stat.size, max + 1)?;
            let sum = Sum::of(&bytes);
            let text = String::from_utf8_lossy(&bytes).into_owned();
            // Recorded with the stat from before the read: a file rewritten meanwhile is read
            // again next time.
            Ok((Some(*stat), OnDisk { sum, text: Some(text) }))
        })
        .collect();
    let found: Vec<(Option<Stat>, OnDisk)> = found.into_iter().collect::<io::Result<_>>()?;
    let kept = stated.len() - found.len();
    let read = found.iter().any(|(_, d)| d.text.is_some());
    let next = (read || kept != index.files.len()).then(|| {
        let mut unknown = found.iter();
        let files = stated
            .iter()
            .filter_map(|s| match s.known() {
                Some(sum) => Some((s.id, s.stat, sum)),
                None => {
                    let (stat, disk) = unknown.next()?;
                    Some((s.id, (*stat)?, disk.sum))
                }
            })
            .collect();
        Index::new(index.root.clone(), 0, files)
    });
    // The files known by their stat moved into the scan on the pool (at the end of a warm
    // check, alone on one core, this took 13 ms at 200 × 500), then those read put in their
    // places. The walk's order is the map's: it is only checked.
    let unknown_at: Vec<usize> = (stated.iter().enumerate())
        .filter(|(_, s)| s.known().is_none())
        .map(|(at, _)| at)
        .collect();
    let mut items = Vec::with_capacity(stated.len());
    stated
        .into_par_iter()
        .with_min_len(CHUNK)
        .map(|Stated { rel, recorded, .. }| {
            let sum = recorded.known().unwrap_or(Sum {
                size: 0,
                hash: Key([0; 32]),
            });
            (rel, OnDisk { sum, text: None })
        })
        .collect_into_vec(&mut items);
    for (at, (_, disk)) in unknown_at.into_iter().zip(found) {
        items[at].1 = disk;
    }
    Ok((Disk::from_vec(items), next))
}

/// The index of an output folder just written with files of these contents: each file's
/// stat, and its content hash (`None` when a file cannot be stat'ed).
pub fn record(out: &Path, mut sums: Vec<(&String, Sum)>) -> Option<Index> {
    // In path order, the order of a walk (the caller's may be several sorted lists).
    sums.par_sort_unstable_by(|a, b| a.0.cmp(b.0));
    let files: Vec<Option<(PathId, Stat, Sum)>> = sums
        .par_iter()
        .map(|(p, sum)| {
            let stat = Stat::of(&fs::symlink_metadata(out.join(p)).ok()?);
            Some((path_id(p), stat, *sum))
        })
        .collect();
    Some(Index::new(
        super::root_name(out),
        0,
        files.into_iter().collect::<Option<_>>()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusts_an_unchanged_stat_only_outside_the_racy_window() {
        let stat = Stat {
            size: 4,
            mtime_ns: 10_000_000_000,
            ctime_ns: 10_000_000_000,
            inode: 7,
            exec: false,
        };
        let sum = Sum::of(b"text");
        let (a, b) = (path_id("a"), path_id("b"));
        let mut index = Index::new("/r".into(), 20_000_000_000, vec![(a, stat, sum)]);
        assert_eq!(index.known(0, a, &stat), (Some(sum), Some(0)));
        assert_eq!(index.known(0, a, &Stat { inode: 8, ..stat }), (None, Some(0)));
        assert_eq!(index.known(0, a, &Stat { size: 5, ..stat }), (None, Some(0)));
        assert_eq!(index.known(0, b, &stat), (None, None));
        index.recorded_ns = stat.mtime_ns + 1;
        assert_eq!(index.known(0, a, &stat).0, None, "modified as it was recorded: racy");
        // Whole seconds: the window is three seconds; a fraction: one of 50 ms.
        index.recorded_ns = stat.mtime_ns + 2_900_000_000;
        assert_eq!(index.known(0, a, &stat).0, None, "whole seconds, 2.9 s before");
        let fine = Stat {
            mtime_ns: stat.mtime_ns + 1,
            ..stat
        };
        let fine_index = Index::new("/r".into(), fine.mtime_ns + 60_000_000, vec![(a, fine, sum)]);
        assert_eq!(fine_index.known(0, a, &fine).0, Some(sum), "a fraction, 60 ms before");
        let fine_index = Index::new("/r".into(), fine.mtime_ns + 40_000_000, vec![(a, fine, sum)]);
        assert_eq!(fine_index.known(0, a, &fine).0, None, "a fraction, 40 ms before: racy");
        index.recorded_ns = 20_000_000_000;
        let back = decode(&index.encode(20_000_000_000)).expect("decodes");
        assert_eq!(back.files, index.files);
        assert_eq!((back.root.as_str(), back.recorded_ns), ("/r", 20_000_000_000));
    }

    /// Decoded as it is read, the checksum checked last: every cut and every flipped bit
    /// of an index is refused, and nothing panics.
    #[test]
    fn every_cut_and_every_flipped_bit_is_refused() {
        let files = (0..3u64)
            .map(|i| {
                let stat = Stat {
                    size: 10 + i,
                    mtime_ns: 1_000 + i as i64,
                    ctime_ns: 2_000 + i as i64,
                    inode: 77 + i,
                    exec: false,
                };
                (path_id(&format!("c/{i}.yaml")), stat, Sum::of(&[i as u8]))
            })
            .collect();
        let bytes = Index::new("/repo/rendered".into(), 5, files).encode(9_000);
        let back = decode(&bytes).expect("decodes");
        assert_eq!(
            (back.root.as_str(), back.recorded_ns, back.files.len()),
            ("/repo/rendered", 9_000, 3)
        );
        crate::incremental::codec::assert_refuses_damage(&bytes, |b| decode(b).is_some());
    }

    /// A file is found wherever it is in the index, whatever the hint: at the hint, before
    /// it or after it (files added to or removed from the tree since), or past the end.
    #[test]
    fn finds_a_file_at_the_hint_or_anywhere_else() {
        let stat = |inode| Stat {
            size: 1,
            mtime_ns: 1,
            ctime_ns: 1,
            inode,
            exec: false,
        };
        let names = ["a", "b", "c", "d", "e"];
        let files = names
            .iter()
            .enumerate()
            .map(|(i, n)| (path_id(n), stat(i as u64), Sum::of(n.as_bytes())))
            .collect();
        let index = Index::new("/r".into(), 10_000_000_000, files);
        for (i, n) in names.iter().enumerate() {
            for hint in [i, 0, 4, 99] {
                let (known, at) = index.known(hint, path_id(n), &stat(i as u64));
                assert_eq!((known, at), (Some(Sum::of(n.as_bytes())), Some(i)), "{n} from {hint}");
            }
        }
        assert_eq!(index.known(2, path_id("z"), &stat(0)), (None, None));
    }

    /// A lookup in path order of a tree that gained and lost files since the index was
    /// recorded knows every file the index has with its stat, in chunks as in one.
    #[test]
    fn a_lookup_knows_the_files_the_index_has_whatever_changed_around_them() {
        let stat = |i: usize| Stat {
            size: i as u64,
            mtime_ns: 1,
            ctime_ns: 1,
            inode: i as u64,
            exec: false,
        };
        let name = |i: usize| format!("f{i:06}");
        // Recorded: every even file. Walked: every file but each tenth.
        let n = CHUNK * 3 + 17;
        let recorded = (0..n)
            .filter(|i| i.is_multiple_of(2))
            .map(|i| (path_id(&name(i)), stat(i), Sum::of(name(i).as_bytes())))
            .collect();
        let index = Index::new("/r".into(), 10_000_000_000, recorded);
        let walked: Vec<(String, Option<Stat>)> = (0..n)
            .filter(|i| i % 10 != 3)
            .map(|i| (name(i), Some(stat(i))))
            .collect();
        let stated = lookup(Path::new("/nonexistent"), &index, walked.clone()).unwrap();
        assert_eq!(stated.len(), walked.len());
        for (s, (rel, _)) in stated.iter().zip(&walked) {
            let i: usize = rel[1..].parse().unwrap();
            assert_eq!(&s.rel, rel);
            let want = i.is_multiple_of(2).then(|| Sum::of(rel.as_bytes()));
            assert_eq!(s.known(), want, "{rel}");
        }
    }

    #[test]
    fn a_scan_reads_no_file_past_its_limit_and_no_file_no_render_makes() {
        let max = crate::load::files::MAX_FILE_BYTES;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        fs::write(out.join("big.yaml"), vec![b'x'; max as usize + 10]).unwrap();
        fs::write(out.join("orphan.yaml"), vec![b'y'; max as usize * 3]).unwrap();
        fs::write(out.join("small.yaml"), "a: 1\n").unwrap();
        let expected = |p: &str| (p != "orphan.yaml").then_some(max.max(5));
        let paths = ["big.yaml", "orphan.yaml", "small.yaml"].map(|p| (p.to_string(), None));
        let (found, index) = scan(out, &Index::default(), paths.into(), &expected).unwrap();
        let index = index.expect("a file was read: the index changed");
        let text = |p: &str| found.get(p).and_then(|d| d.text.as_deref());
        assert!(
            text("big.yaml").is_some_and(|t| t.contains("not read")),
            "{:?}",
            text("big.yaml")
        );
        assert_eq!(text("orphan.yaml"), None);
        assert_eq!(text("small.yaml"), Some("a: 1\n"));
        assert_eq!(found.get("small.yaml").map(|d| d.sum), Some(Sum::of(b"a: 1\n")));
        // Only what was read whole is recorded.
        let recorded: Vec<PathId> = index.files.iter().map(|f| f.0).collect();
        assert_eq!(recorded, [path_id("small.yaml")]);
    }

    #[test]
    fn a_scan_gives_each_file_what_the_index_knows_of_it_or_what_it_read() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let names: Vec<String> = (0..12).map(|i| format!("f{i:02}.yaml")).collect();
        for name in &names {
            fs::write(out.join(name), format!("{name}\n")).unwrap();
        }
        let walked: Vec<(String, Option<Stat>)> = (names.iter())
            .map(|n| (n.clone(), Some(Stat::of(&fs::symlink_metadata(out.join(n)).unwrap()))))
            .collect();
        // The index knows every third file, with a sum no file has: taken as recorded.
        let recorded = |rel: &str| Sum::of(format!("recorded {rel}").as_bytes());
        let files = walked
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 == 1)
            .map(|(_, (rel, stat))| (path_id(rel), stat.unwrap(), recorded(rel)))
            .collect();
        let index = Index::new("/r".into(), i64::MAX, files);
        let (disk, next) = scan(out, &index, walked.clone(), &|_: &str| Some(1024)).unwrap();
        assert_eq!(disk.len(), names.len());
        for (i, ((rel, found), name)) in disk.iter().zip(&names).enumerate() {
            assert_eq!(rel, name);
            if i % 3 == 1 {
                assert_eq!((found.sum, found.text.as_deref()), (recorded(rel), None), "{rel}");
            } else {
                let text = format!("{rel}\n");
                assert_eq!(
                    (found.sum, found.text.as_deref()),
                    (Sum::of(text.as_bytes()), Some(text.as_str()))
                );
            }
            assert_eq!(disk.get(rel).map(|d| d.sum), Some(found.sum));
        }
        assert!(disk.get("f.yaml").is_none() && disk.get("g.yaml").is_none());
        // Files were read: the index comes back with every file, in path order, each with
        // what was known or read.
        let next = next.expect("files were read");
        let want: Vec<(PathId, Sum)> = disk.iter().map(|(rel, d)| (path_id(rel), d.sum)).collect();
        let got: Vec<(PathId, Sum)> = next.files.iter().map(|(id, _, sum)| (*id, *sum)).collect();
        assert_eq!(got, want);
        // Everything known: nothing read, the index unchanged.
        let (_, again) = scan(out, &next_trusted(next), walked, &|_: &str| Some(1024)).unwrap();
        assert!(again.is_none());
    }

    /// `index` as if recorded long after its files were written.
    fn next_trusted(index: Index) -> Index {
        Index::new(index.root, i64::MAX, index.files)
    }

    #[test]
    fn a_disk_is_in_path_order_however_its_files_came() {
        let on_disk = |t: &str| OnDisk {
            sum: Sum::of(t.as_bytes()),
            text: None,
        };
        let disk: Disk = ["b/c", "a", "b", "a/b"]
            .iter()
            .map(|p| (p.to_string(), on_disk(p)))
            .collect();
        let paths: Vec<&str> = disk.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["a", "a/b", "b", "b/c"]);
        for p in paths {
            assert_eq!(disk.get(p).map(|d| d.sum), Some(Sum::of(p.as_bytes())));
        }
        assert!(disk.get("a/").is_none() && disk.get("c").is_none());
    }
}
