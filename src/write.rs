//! Stage 4, `write`: put a rendered tree on disk, atomically, and read one back.
//!
//! The new tree is written into a temporary folder beside the output folder, then swapped
//! in with one atomic exchange (`renameat2(RENAME_EXCHANGE)` on Linux): at every instant
//! the output folder is either the whole old tree or the whole new one, even if fleetgen
//! is killed. Elsewhere (or on a filesystem without the exchange) it falls back to two
//! renames, old aside and new in, which leaves a moment without an output folder. A
//! render that fails, or a write that fails half-way, leaves the old tree whole. Files of
//! clusters and apps that no longer exist disappear with the old tree. A whole render with
//! the cache writes into the tree before last instead ([`shadow`]), and swaps it in the
//! same way.
//!
//! What fleetgen refuses to touch:
//! - an output folder that is a symbolic link (it would write, list and delete wherever
//!   the link points), or one inside the folders it reads (`clusters/`, `apps/` …);
//! - a folder that fleetgen did not write (its `fleet.yaml` lacks fleetgen's header).
//!
//! Temporary folders are `.<out>.fleetgen-{new,old}-<pid>-<random>`, created exclusively
//! (a name planted in the parent folder is never reused or followed); ones left by a
//! process that no longer runs (a crash, or an earlier run in a container where every
//! run has the same pid) are removed before a write, and a clean-up that fails is
//! reported.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::emit::RenderedTree;
use crate::incremental::index::Stat;
use crate::layout::{self, MARK, MATRIX};

pub mod shadow;

/// What a write did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub files: usize,
    pub removed: usize,
    /// How the new tree replaced the old one.
    pub swap: Swap,
    /// Clean-ups that failed (the render itself succeeded): each says what is left where.
    pub warnings: Vec<String>,
}

/// How the new tree took the old one's place.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Swap {
    /// There was no old tree: one rename.
    #[default]
    Created,
    /// One atomic exchange of the two folders.
    Exchanged,
    /// Two renames (old aside, new in), where the exchange is not available.
    TwoRenames,
}

/// The largest rendered file `check` reads when the render did not produce a larger one:
/// the same limit as for input files.
pub const MAX_READ_BYTES: u64 = crate::load::files::MAX_FILE_BYTES;

fn is_fleetgen_output(dir: &Path) -> io::Result<bool> {
    if fs::read_dir(dir)?.next().is_none() {
        return Ok(true); // empty
    }
    holds_matrix(dir)
}

/// Whether `dir` holds fleetgen's placement matrix (`fleet.yaml` with fleetgen's mark): an
/// output folder fleetgen wrote.
fn holds_matrix(dir: &Path) -> io::Result<bool> {
    let matrix = dir.join(MATRIX);
    if fs::symlink_metadata(&matrix).is_ok_and(|m| !m.is_file()) {
        return Ok(false);
    }
    let mut head = vec![0; MARK.len()];
    match fs::File::open(&matrix) {
        Ok(mut f) => {
            let n = f.read(&mut head)?;
            Ok(head[..n] == *MARK.as_bytes())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Refuses an output folder that is a symbolic link.
pub fn refuse_link(out: &Path) -> Result<(), String> {
    match fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => Err(format!(
            "`{}` is a symbolic link; fleetgen does not write, list or delete through one (use the real folder as --out)",
            out.display()
        )),
        _ => Ok(()),
    }
}

/// Writes `files` (name, bytes) into folder `dir` (made when missing), each replacing the
/// file of its name, for the commands that write outside an output folder (`schema
/// --write`, `man --out`). Never through a link: a `dir` that is one, or an entry of a name
/// to write that is one (or not a regular file), is refused before anything is written. Each
/// file goes to a fresh temporary file beside it first and is renamed into place.
pub fn replace_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    use std::io::Write as _;
    let shown = dir.display();
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(format!(
                "`{shown}` is a symbolic link; fleetgen does not write through one"
            ));
        }
        Ok(m) if !m.is_dir() => return Err(format!("`{shown}` is not a folder")),
        Ok(_) => {}
        Err(_) => fs::create_dir_all(dir).map_err(|e| format!("cannot create `{shown}`: {e}"))?,
    }
    for (name, _) in files {
        match fs::symlink_metadata(dir.join(name)) {
            Ok(m) if !m.file_type().is_file() => {
                return Err(format!(
                    "`{}` is a symbolic link or not a regular file; fleetgen does not write through one (nothing written)",
                    dir.join(name).display()
                ));
            }
            _ => {}
        }
    }
    for (name, bytes) in files {
        let target = dir.join(name);
        let tmp = dir.join(format!(".{name}.fleetgen-new-{}", std::process::id()));
        let written = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .and_then(|mut f| f.write_all(bytes))
            .and_then(|()| fs::rename(&tmp, &target));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(format!("cannot write `{}`: {e}", target.display()));
        }
    }
    Ok(())
}

/// Where a folder fleetgen may write is, links resolved: its nearest existing ancestor's
/// real path, with the rest of its own (it may not exist yet).
pub fn resolved(dir: &Path) -> Option<PathBuf> {
    let mut existing = dir.to_path_buf();
    let mut rest = Vec::new();
    while fs::symlink_metadata(&existing).is_err() {
        match (existing.file_name().map(ToOwned::to_owned), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = if parent.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                };
            }
            _ => break,
        }
    }
    let mut real = fs::canonicalize(&existing).ok()?;
    for name in rest.into_iter().rev() {
        real.push(name);
    }
    Some(real)
}

/// Refuses a cache folder (`FLEETGEN_CACHE_DIR`) where fleetgen reads its inputs or writes
/// the output folder `out`: its files (the shadow, a copy of the whole tree, above all)
/// would be read as sources, or be the output's.
pub fn refuse_cache_dir(repo: &Path, cache: &Path, out: &Path) -> Result<(), String> {
    // The default cache folder is the repository's: a link there (which a pull request can
    // commit) would have the cache written, and the old tree moved, wherever it points.
    if cache == repo.join(crate::incremental::DIR) && fs::symlink_metadata(cache).is_ok_and(|m| !m.is_dir()) {
        return Err(format!(
            "`{}` is not a folder (a link, or a file): fleetgen keeps its cache in a folder of that name and writes nothing through a link; remove it (the cache is derived data), or set FLEETGEN_CACHE_DIR",
            cache.display()
        ));
    }
    // However it is spelt (`.fleetgen`, `./x/../.fleetgen`, an absolute path), a cache folder
    // in the repository is reached through no link of the repository's.
    if let (Some(lexical), Some(repo_lexical)) = (lexical(cache), lexical(repo)) {
        let mut at = repo_lexical.clone();
        for part in lexical
            .strip_prefix(&repo_lexical)
            .into_iter()
            .flat_map(Path::components)
        {
            at.push(part);
            if fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(format!(
                    "the cache folder `{}` is reached through the link `{}` in the repository: fleetgen writes nothing through a link; remove it, or set FLEETGEN_CACHE_DIR outside the repository",
                    cache.display(),
                    at.display()
                ));
            }
        }
    }
    // The default folder is the repository's `.fleetgen`, which the user did not name.
    let named = match cache == repo.join(crate::incremental::DIR) {
        true => "the cache folder",
        false => "FLEETGEN_CACHE_DIR",
    };
    let (Some(repo), Some(real)) = (fs::canonicalize(repo).ok(), resolved(cache)) else {
        return Ok(());
    };
    let shown = cache.display();
    if repo.starts_with(&real) {
        return Err(format!("{named} `{shown}` is the repository or holds it"));
    }
    // An output folder in the cache would be taken for the cache's own (its shadow tree).
    if resolved(out).is_some_and(|out| out.starts_with(&real)) {
        return Err(format!(
            "the output folder `{}` is inside {named} `{shown}`, which fleetgen manages; write the output elsewhere",
            out.display()
        ));
    }
    if let Ok(inside) = real.strip_prefix(&repo)
        && let Some(first) = inside.components().next()
        && layout::ROOTS.iter().any(|r| first.as_os_str() == *r)
    {
        return Err(format!(
            "{named} `{shown}` is inside `{}`, a folder fleetgen reads; keep the cache outside the sources",
            first.as_os_str().to_string_lossy()
        ));
    }
    if resolved(out).is_some_and(|out| real.starts_with(&out)) {
        return Err(format!(
            "{named} `{shown}` is inside the output folder `{}`; keep the cache outside it",
            out.display()
        ));
    }
    Ok(())
}

/// `path` made absolute and its `.` and `..` resolved by name, not through the file system.
fn lexical(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in std::path::absolute(path).ok()?.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// Refuses an output folder inside a folder fleetgen reads (`clusters/`, `apps/` …), or
/// one that is the repository or holds it: writing there would change the sources. Also one
/// inside `.git`, or inside another output folder of fleetgen's (see
/// [`refuse_inside_output`]).
pub fn refuse_inside_inputs(repo: &Path, out: &Path) -> Result<(), String> {
    let Ok(repo) = fs::canonicalize(repo) else {
        return Ok(()); // the repository is refused on its own
    };
    // The output folder may not exist yet: judged by its nearest existing ancestor.
    let Some(real) = resolved(out) else {
        return Ok(());
    };
    if repo.starts_with(&real) {
        return Err(format!(
            "`{}` is the repository or holds it; fleetgen writes its output beside the sources, not over them",
            out.display()
        ));
    }
    if real == repo.join(layout::FLEET_FILE) {
        return Err(format!(
            "`{}` is the fleet's `{}`, which fleetgen reads; choose an output folder",
            out.display(),
            layout::FLEET_FILE
        ));
    }
    if let Ok(inside) = real.strip_prefix(&repo)
        && let Some(first) = inside.components().next()
        && layout::ROOTS.iter().any(|r| first.as_os_str() == *r)
    {
        return Err(format!(
            "`{}` is inside `{}`, a folder fleetgen reads; choose an output folder outside {}",
            out.display(),
            first.as_os_str().to_string_lossy(),
            crate::suggest::list(
                &layout::ROOTS
                    .iter()
                    .filter(|r| **r != layout::FLEET_FILE)
                    .map(|r| format!("{r}/"))
                    .collect::<Vec<_>>()
            )
        ));
    }
    if let Ok(inside) = real.strip_prefix(&repo)
        && inside
            .components()
            .next()
            .is_some_and(|first| first.as_os_str() == ".git")
    {
        return Err(format!(
            "`{}` is inside `.git`, git's own folder; choose an output folder outside it",
            out.display()
        ));
    }
    refuse_inside_output(&repo, out, &real)
}

/// Refuses an output folder inside another one fleetgen wrote (`rendered/preview`): the next
/// render of the outer folder removes what it did not write, this folder with it, and a
/// `check` of the outer one finds this one's files orphaned. `real` is `out` resolved.
fn refuse_inside_output(repo: &Path, out: &Path, real: &Path) -> Result<(), String> {
    for outer in real.ancestors().skip(1) {
        if holds_matrix(outer).unwrap_or(false) {
            let shown = outer.strip_prefix(repo).unwrap_or(outer);
            return Err(format!(
                "`{}` is inside `{}`, an output folder of fleetgen's: a render of it would remove this one, \
                 and a check of it would find these files orphaned; choose an output folder outside it",
                out.display(),
                shown.display()
            ));
        }
    }
    Ok(())
}

/// Relative, `/`-separated paths of the regular files under `dir`, sorted. Symbolic links
/// are neither followed nor listed, `dir` itself included.
pub fn list_tree(dir: &Path) -> io::Result<Vec<String>> {
    Ok(walk(dir, false)?.into_iter().map(|(path, _)| path).collect())
}

/// A file a [`walk`] found: its relative path, and its stat when asked for.
pub type Walked = (String, Option<Stat>);

/// The regular files under `dir` (relative paths, `/`-separated, sorted), each with its
/// stat when `stat` asks: listed folder by folder in parallel, each file stat'ed relative
/// to its folder (`fstatat`: no path walk from the root for each of 357,311 files). No
/// symbolic link is followed (`dir` itself included); a missing `dir` has no files.
pub fn walk(dir: &Path, stat: bool) -> io::Result<Vec<Walked>> {
    walk_as(
        dir,
        How {
            stat,
            strict: false,
            others: false,
        },
    )
}

/// [`walk`] with each file's stat, and with what is neither a file nor a folder (a
/// symbolic link, a FIFO, a socket, a device) listed as a file with no stat, never followed
/// or opened: what `check` compares with a render, which makes regular files only.
pub fn walk_all(dir: &Path) -> io::Result<Vec<Walked>> {
    walk_as(
        dir,
        How {
            stat: true,
            strict: false,
            others: true,
        },
    )
}

/// What a [`walk`] asks of each entry.
#[derive(Clone, Copy)]
struct How {
    /// Each file's stat.
    stat: bool,
    /// Only what fleetgen writes: regular files with UTF-8 names, folders that hold
    /// something. Anything else (a link, a FIFO, an empty folder) is an error.
    strict: bool,
    /// What is neither a file nor a folder listed too (with no stat), not skipped.
    others: bool,
}

/// The error of a strict walk that met something fleetgen does not write.
fn not_ours(rel: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("`{rel}` is not what fleetgen writes"),
    )
}

fn walk_as(dir: &Path, how: How) -> io::Result<Vec<Walked>> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
        Ok(m) if !m.is_dir() => return Ok(Vec::new()),
        Ok(_) => {}
    }
    let mut folders = Vec::new();
    #[cfg(target_os = "linux")]
    at::walk_root(dir, how, &mut folders)?;
    #[cfg(not(target_os = "linux"))]
    walk_dir(dir, "", how, &mut folders)?;
    // Each folder's files gathered once into one list (appending folder lists up the tree
    // copied each entry once per level).
    let mut found = Vec::with_capacity(folders.iter().map(Vec::len).sum());
    for mut files in folders {
        found.append(&mut files);
    }
    // The Linux walk lists in path order; the portable one in the order of its listings.
    #[cfg(not(target_os = "linux"))]
    found.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    debug_assert!(found.is_sorted_by(|a, b| a.0 < b.0));
    Ok(found)
}

/// One folder of [`walk`]: its files pushed to `found` as one list, and its subfolders'
/// (each on the pool). The portable walk: on Linux the tests hold [`at`]'s to it.
#[cfg_attr(all(target_os = "linux", not(test)), allow(dead_code))]
fn walk_dir(dir: &Path, prefix: &str, how: How, found: &mut Vec<Vec<Walked>>) -> io::Result<()> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let name = entry.file_name();
        let mut rel = String::with_capacity(prefix.len() + name.len());
        rel.push_str(prefix);
        rel.push_str(&name.to_string_lossy());
        if how.strict && (name.to_str().is_none() || !(kind.is_file() || kind.is_dir())) {
            return Err(not_ours(&rel));
        }
        if kind.is_file() {
            let stat = if how.stat {
                Some(Stat::of(&entry.metadata()?))
            } else {
                None
            };
            files.push((rel, stat));
        } else if kind.is_dir() {
            rel.push('/');
            dirs.push((entry.path(), rel));
        } else if how.others {
            files.push((rel, None));
        }
    }
    if how.strict && files.is_empty() && dirs.is_empty() && !prefix.is_empty() {
        return Err(not_ours(prefix));
    }
    found.push(files);
    let below: Vec<io::Result<Vec<Vec<Walked>>>> = dirs
        .into_par_iter()
        .map(|(path, rel)| {
            let mut mine = Vec::new();
            walk_dir(&path, &rel, how, &mut mine).map(|()| mine)
        })
        .collect();
    for more in below {
        found.append(&mut more?);
    }
    Ok(())
}

/// [`walk`] on Linux, with the calls `find` makes: each folder opened relative to its parent
/// and read with `getdents64` into a buffer, each file stat'ed relative to its folder. What
/// `std::fs::read_dir` adds per entry (a `CString` of its name, an `OsString` copy, a
/// `PathBuf` for each folder opened from the root again) was a third of the walk's own
/// CPU in a 99,423-file `check`.
#[cfg(target_os = "linux")]
mod at {
    use std::ffi::CString;
    use std::io;
    use std::mem::MaybeUninit;
    use std::os::fd::OwnedFd;
    use std::path::Path;

    use rayon::prelude::*;
    use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags, RawDir, StatxFlags, StatxTimestamp};

    use super::{How, Walked, not_ours};
    use crate::incremental::index::Stat;

    /// What a walk asks `statx` for.
    const WANTED: StatxFlags = StatxFlags::TYPE
        .union(StatxFlags::SIZE)
        .union(StatxFlags::MTIME)
        .union(StatxFlags::CTIME)
        .union(StatxFlags::INO);

    /// Folders are opened as folders, never through a symbolic link.
    fn open_dir(fd: impl std::os::fd::AsFd, name: impl rustix::path::Arg) -> io::Result<OwnedFd> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        Ok(rustix::fs::openat(fd, name, flags, Mode::empty())?)
    }

    fn nanos(t: StatxTimestamp) -> i64 {
        t.tv_sec
            .saturating_mul(1_000_000_000)
            .saturating_add(i64::from(t.tv_nsec))
    }

    /// A name's first eight bytes as a number that orders as the names do when they differ
    /// there (a shorter name is padded with zeros, a byte no name holds, so it sorts first,
    /// as a prefix does). Most names of a folder differ in them, and comparing two numbers
    /// costs less than a call to compare two slices (the sort of each folder's names was a
    /// twentieth of the walk's instructions, most of them in `memcmp`).
    pub(super) fn name_prefix(name: &[u8]) -> u64 {
        let mut bytes = [0; 8];
        let n = name.len().min(8);
        bytes[..n].copy_from_slice(&name[..n]);
        u64::from_be_bytes(bytes)
    }

    pub(super) fn walk_root(dir: &Path, how: How, found: &mut Vec<Vec<Walked>>) -> io::Result<()> {
        walk_dir(open_dir(CWD, dir)?, "", how, found)
    }

    /// A folder's entry, by its path (a folder's with its trailing `/`).
    enum Entry {
        File(Walked),
        Folder(CString, String),
    }

    /// Pushes the folder's files to `found` in path order, a list per run of files between
    /// subfolders: entries sorted by name, a folder's name with its `/` (`apps-x`, `apps.yaml`,
    /// `apps/…`, `apps0` is the order of their paths), each subfolder's lists (walked on the
    /// pool) in its place. The lists concatenated are sorted, with no sort of the whole.
    fn walk_dir(dir: OwnedFd, prefix: &str, how: How, found: &mut Vec<Vec<Walked>>) -> io::Result<()> {
        let stat = how.stat;
        let (mut entries, mut files) = (Vec::with_capacity(16), 0);
        let mut buf = [MaybeUninit::<u8>::uninit(); 16 * 1024];
        let mut listing = RawDir::new(&dir, &mut buf);
        while let Some(entry) = listing.next() {
            let entry = entry?;
            let name = entry.file_name();
            if matches!(name.to_bytes(), b"." | b"..") {
                continue;
            }
            let mut kind = entry.file_type();
            // A file system that does not say the type in the listing is asked with `statx`.
            let looked = if kind == FileType::Unknown || (stat && kind == FileType::RegularFile) {
                let s = rustix::fs::statx(&dir, name, AtFlags::SYMLINK_NOFOLLOW, WANTED)?;
                kind = FileType::from_raw_mode(u32::from(s.stx_mode));
                Some(Stat {
                    size: s.stx_size,
                    mtime_ns: nanos(s.stx_mtime),
                    ctime_ns: nanos(s.stx_ctime),
                    inode: s.stx_ino,
                    exec: crate::incremental::index::executable(u32::from(s.stx_mode)),
                })
            } else {
                None
            };
            let utf8 = std::str::from_utf8(name.to_bytes());
            let shown = match utf8 {
                Ok(name) => std::borrow::Cow::Borrowed(name),
                Err(_) => String::from_utf8_lossy(name.to_bytes()),
            };
            let mut rel = String::with_capacity(prefix.len() + shown.len() + 1);
            rel.push_str(prefix);
            rel.push_str(&shown);
            let strange = !matches!(kind, FileType::RegularFile | FileType::Directory);
            if how.strict && (strange || utf8.is_err()) {
                return Err(not_ours(&rel));
            }
            match kind {
                FileType::RegularFile => {
                    files += 1;
                    entries.push(Entry::File((rel, looked.filter(|_| stat))));
                }
                FileType::Directory => {
                    rel.push('/');
                    entries.push(Entry::Folder(name.to_owned(), rel));
                }
                _ if how.others => {
                    files += 1;
                    entries.push(Entry::File((rel, None)));
                }
                _ => {}
            }
        }
        if how.strict && entries.is_empty() && !prefix.is_empty() {
            return Err(not_ours(prefix));
        }
        fn path(e: &Entry) -> &str {
            match e {
                Entry::File((rel, _)) | Entry::Folder(_, rel) => rel,
            }
        }
        // By name (every path here starts with `prefix`), sorting names and places rather
        // than the entries themselves; names are compared by their first eight bytes first.
        let mut order: Vec<(u64, &[u8], u32)> = (entries.iter().zip(0..))
            .map(|(e, at)| {
                let name = &path(e).as_bytes()[prefix.len()..];
                (name_prefix(name), name, at)
            })
            .collect();
        order.sort_unstable();
        let order: Vec<u32> = order.into_iter().map(|(_, _, at)| at).collect();
        let mut entries: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
        let entries = order.into_iter().filter_map(|at| entries[at as usize].take());
        // Runs of files, and where each subfolder goes between them.
        let mut left = files;
        let mut runs: Vec<Option<Vec<Walked>>> = Vec::new();
        let mut run = Vec::with_capacity(left);
        let mut folders = Vec::new();
        for entry in entries {
            match entry {
                Entry::File(file) => {
                    run.push(file);
                    left -= 1;
                }
                Entry::Folder(name, rel) => {
                    if !run.is_empty() {
                        runs.push(Some(std::mem::replace(&mut run, Vec::with_capacity(left))));
                    }
                    runs.push(None);
                    folders.push((name, rel));
                }
            }
        }
        if !run.is_empty() {
            runs.push(Some(run));
        }
        let below: Vec<io::Result<Vec<Vec<Walked>>>> = folders
            .into_par_iter()
            .map(|(name, rel)| {
                let mut mine = Vec::new();
                walk_dir(open_dir(&dir, name.as_c_str())?, &rel, how, &mut mine).map(|()| mine)
            })
            .collect();
        let mut below = below.into_iter();
        for run in runs {
            match run {
                Some(files) => found.push(files),
                None => {
                    if let Some(more) = below.next() {
                        found.append(&mut more?);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Files of an existing output folder, by relative path (read in parallel). Refuses a
/// symbolic link as the folder; an error names the file (one that is not UTF-8, say).
pub fn read_tree(dir: &Path) -> io::Result<RenderedTree> {
    refuse_link(dir).map_err(io::Error::other)?;
    let paths = list_tree(dir)?;
    let read =
        |rel: &String| fs::read_to_string(dir.join(rel)).map_err(|e| io::Error::new(e.kind(), format!("{rel}: {e}")));
    let texts: Vec<io::Result<String>> = paths.par_iter().map(read).collect();
    let mut tree = RenderedTree::default();
    for (rel, text) in paths.into_iter().zip(texts) {
        tree.files.insert(rel, text?);
    }
    Ok(tree)
}

/// Removes a folder tree, its files in parallel; a symbolic link is removed, not followed.
fn remove_tree(dir: &Path) -> io::Result<()> {
    if fail_point("remove") {
        return Err(io::Error::other("injected failure"));
    }
    if fs::symlink_metadata(dir)?.file_type().is_symlink() {
        return fs::remove_file(dir);
    }
    // The files in parallel first; what that misses (a name that is not UTF-8, which the
    // listing shows lossily; a FIFO or a link, which it does not list) goes with the folders.
    let paths = list_tree(dir)?;
    paths.par_iter().for_each(|rel| {
        let _ = fs::remove_file(dir.join(rel));
    });
    fs::remove_dir_all(dir)
}

/// The prefix of the temporary folders of output folder `name`.
fn temp_prefix(name: &str, which: &str) -> String {
    format!(".{name}.fleetgen-{which}-")
}

/// Whether the process of a temporary folder's name no longer runs (or is this one: with
/// the same pid as an earlier run, as in a container, a leftover cannot be ours yet).
fn is_stale(rest: &str) -> bool {
    let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
    match pid {
        None => true,
        Some(pid) if pid == std::process::id() => true,
        Some(pid) => {
            let proc = Path::new("/proc");
            !proc.is_dir() || !proc.join(pid.to_string()).exists()
        }
    }
}

/// Removes the temporary folders of `name` in `parent` that earlier runs left behind.
fn clean_stale(parent: &Path, name: &str, warnings: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let prefixes = [temp_prefix(name, "new"), temp_prefix(name, "old")];
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = prefixes.iter().find_map(|p| file_name.strip_prefix(p.as_str())) else {
            continue;
        };
        if !is_stale(rest) {
            continue;
        }
        if let Err(e) = remove_tree(&entry.path()) {
            warnings.push(format!(
                "could not remove `{}`, left by an earlier run: {e}",
                entry.path().display()
            ));
        }
    }
}

/// A new, empty folder with an unpredictable name beside the output folder, created
/// exclusively.
fn temp_dir(parent: &Path, name: &str, which: &str) -> io::Result<PathBuf> {
    if fail_point("temp") {
        return Err(io::Error::other("injected failure"));
    }
    let dir = tempfile::Builder::new()
        .prefix(&format!("{}{}-", temp_prefix(name, which), std::process::id()))
        .rand_bytes(12)
        .tempdir_in(parent)
        .map_err(without_path)?;
    Ok(dir.keep())
}

/// tempfile's error without the ` at path "…"` it appends to the system's (a random name,
/// Debug-quoted, made absolute with `/./` in it; its own type, private, keeps the system's
/// error out of reach): the messages name the output folder instead.
fn without_path(e: io::Error) -> io::Error {
    let text = e.to_string();
    match text.find(" at path \"") {
        Some(at) => io::Error::new(e.kind(), &text[..at]),
        None => e,
    }
}

/// `path` without its `.` components: `./rendered` is `rendered`.
pub(crate) fn normal(path: &Path) -> PathBuf {
    let kept: PathBuf = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    if kept.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        kept
    }
}

/// Puts `new` in the place of `out` (which exists): one atomic exchange where the system
/// has it; otherwise the old tree is moved aside first. Returns how, and where the old
/// tree now is.
fn swap(parent: &Path, name: &str, new: &Path, out: &Path) -> io::Result<(Swap, PathBuf)> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        if !fail_point("exchange") {
            match renameat_with(CWD, new, CWD, out, RenameFlags::EXCHANGE) {
                // The exchange left the old tree where the new one was.
                Ok(()) => return Ok((Swap::Exchanged, new.to_path_buf())),
                // Not supported by this kernel or filesystem: fall back below.
                Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let backup = temp_dir(parent, name, "old")?;
    // The empty folder reserves the name; the rename replaces it.
    fs::rename(out, &backup)?;
    if let Err(e) = fs::rename(new, out) {
        let _ = fs::rename(&backup, out);
        return Err(e);
    }
    Ok((Swap::TwoRenames, backup))
}

/// An output folder fleetgen may write: its name, the folder it is in, and whether it
/// exists.
struct Target {
    name: String,
    parent: PathBuf,
    exists: bool,
}

/// Checks that `out` is an output folder fleetgen may replace (see the module's notes),
/// creating the folder it is in when it does not exist.
fn target(repo: &Path, out: &Path) -> Result<Target, String> {
    let exists = output_folder(repo, out)?;
    let name = out.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !exists {
        fs::create_dir_all(&parent).map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
    }
    Ok(Target { name, parent, exists })
}

/// Checks that `out` can be an output folder of the fleet at `repo`: a folder with a name,
/// not a symbolic link, outside the folders fleetgen reads, and either missing, empty or
/// written by fleetgen. Whether it exists. `render` writes only such a folder, and `check`
/// compares only such a folder with a render.
pub fn output_folder(repo: &Path, out: &Path) -> Result<bool, String> {
    let shown = out.display();
    if out.file_name().is_none() {
        return Err(format!("`{shown}` cannot be an output folder"));
    }
    refuse_link(out)?;
    refuse_inside_inputs(repo, out)?;
    let exists = fs::symlink_metadata(out).is_ok();
    if exists {
        if !out.is_dir() {
            return Err(format!("`{shown}` exists and is not a folder"));
        }
        match is_fleetgen_output(out) {
            Ok(true) => {}
            Ok(false) => {
                return Err(format!(
                    "`{shown}` exists and was not written by fleetgen (no fleet.yaml of fleetgen's); \
                     remove it or choose another --out"
                ));
            }
            Err(e) => return Err(format!("cannot read `{shown}`: {e}")),
        }
    }
    Ok(exists)
}

/// Writes `tree` as the whole content of `out`, or, when only part of the fleet was
/// rendered, over the files of the old content that `keep` accepts (by relative path).
/// `repo` is the repository the tree was rendered from: `out` may not be inside the
/// folders it reads.
pub fn write(
    repo: &Path,
    out: &Path,
    tree: &RenderedTree,
    keep: Option<&dyn Fn(&str) -> bool>,
) -> Result<Written, String> {
    let shown = normal(out);
    let shown = shown.display();
    let Target { name, parent, exists } = target(repo, out)?;
    let mut warnings = Vec::new();
    clean_stale(&parent, &name, &mut warnings);
    let unreadable = |e: io::Error| format!("cannot read `{shown}`: {e}");
    // Only a partial render needs the old files' contents (to keep what it does not own).
    let kept: BTreeMap<String, String> = match keep {
        Some(keep) => read_tree(out)
            .map_err(unreadable)?
            .files
            .into_iter()
            .filter(|(path, _)| keep(path) && !tree.files.contains_key(path))
            .collect(),
        None => BTreeMap::new(),
    };
    let files: Vec<(&String, &String)> = tree.files.iter().chain(kept.iter()).collect();
    let old_paths = list_tree(out).map_err(unreadable)?;
    let removed = old_paths
        .iter()
        .filter(|k| !tree.files.contains_key(*k) && !tree.known.contains_key(k) && !kept.contains_key(*k))
        .count();

    let tmp = temp_dir(&parent, &name, "new")
        .map_err(|e| format!("cannot create a folder beside `{shown}`: {e}; `{shown}` is unchanged"))?;
    let result = (|| -> io::Result<()> {
        let dirs: BTreeSet<&str> = files
            .iter()
            .map(|(path, _)| path.as_str())
            .chain(tree.known.keys().map(String::as_str))
            .filter_map(|path| path.rsplit_once('/').map(|(dir, _)| dir))
            .collect();
        for dir in dirs {
            fs::create_dir_all(tmp.join(dir))?;
        }
        files
            .par_iter()
            .try_for_each(|(path, text)| fs::write(tmp.join(path), text))?;
        // What the incremental cache stood for is in the old tree: linked, not rewritten.
        tree.known.as_slice().par_iter().try_for_each(|(path, _)| {
            let (old, new) = (out.join(path), tmp.join(path));
            fs::hard_link(&old, &new).or_else(|_| fs::copy(&old, &new).map(|_| ()))
        })
    })();
    let discard = |dir: &Path, warnings: &mut Vec<String>| {
        if let Err(e) = remove_tree(dir) {
            warnings.push(format!("could not remove `{}`: {e}", dir.display()));
        }
    };
    if let Err(e) = result {
        discard(&tmp, &mut warnings);
        return Err(format!(
            "cannot write the new tree beside `{shown}`: {e}; `{shown}` is unchanged{}",
            warnings.iter().map(|w| format!("; {w}")).collect::<String>()
        ));
    }
    let swap = if exists {
        match swap(&parent, &name, &tmp, out) {
            Ok((how, old)) => {
                discard(&old, &mut warnings);
                how
            }
            Err(e) => {
                discard(&tmp, &mut warnings);
                return Err(format!("cannot move the new tree into `{shown}`: {e}; it is unchanged"));
            }
        }
    } else {
        if let Err(e) = fs::rename(&tmp, out) {
            discard(&tmp, &mut warnings);
            return Err(format!("cannot create `{shown}`: {e}"));
        }
        Swap::Created
    };
    Ok(Written {
        files: files.len() + tree.known.len(),
        removed,
        swap,
        warnings,
    })
}

/// Test hook: whether the named step should fail (set by the tests of this module).
#[cfg(test)]
fn fail_point(step: &str) -> bool {
    tests::FAIL.with(|f| f.borrow().contains(&step.to_string()))
}

#[cfg(not(test))]
fn fail_point(_: &str) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        pub static FAIL: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    pub(super) fn failing<R>(steps: &[&str], f: impl FnOnce() -> R) -> R {
        FAIL.with(|v| *v.borrow_mut() = steps.iter().map(|s| s.to_string()).collect());
        let r = f();
        FAIL.with(|v| v.borrow_mut().clear());
        r
    }

    fn tree(files: &[(&str, &str)]) -> RenderedTree {
        RenderedTree::from_files(files.iter().copied())
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A repository folder for `write`'s input check (the output goes beside it).
    fn repo(dir: &Path) -> PathBuf {
        let repo = dir.join("repo");
        fs::create_dir_all(repo.join("clusters")).unwrap();
        repo
    }

    /// A folder that cannot be made beside the output (a read-only file system, here a
    /// parent that is gone) is said as the system says it, without tempfile's `at path "…"`.
    #[test]
    fn a_temporary_folder_that_cannot_be_made_is_said_without_its_random_path() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let e = temp_dir(&gone, "rendered", "new").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        #[cfg(target_os = "linux")]
        assert_eq!(e.to_string(), io::Error::from_raw_os_error(2).to_string());
        assert!(!e.to_string().contains("at path"), "{e}");
        assert_eq!(normal(Path::new("./rendered")), Path::new("rendered"));
        assert_eq!(normal(Path::new("/x/./rendered")), Path::new("/x/rendered"));
        assert_eq!(normal(Path::new(".")), Path::new("."));
    }

    #[test]
    fn replaces_the_whole_tree_and_drops_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repo(dir.path());
        let out = dir.path().join("rendered");
        let first = tree(&[("fleet.yaml", "# Rendered by fleetgen\n"), ("a/apps/x/k.yaml", "1\n")]);
        let w = write(&repo, &out, &first, None).unwrap();
        assert_eq!((w.files, w.swap), (2, Swap::Created));
        let second = tree(&[("fleet.yaml", "# Rendered by fleetgen\n"), ("b/apps/y/k.yaml", "2\n")]);
        let w = write(&repo, &out, &second, None).unwrap();
        assert_eq!((w.files, w.removed), (2, 1));
        assert_eq!(read_tree(&out).unwrap(), second);
        assert_eq!(entries(dir.path()), ["rendered", "repo"]);
    }

    /// Names ordered by their first eight bytes, then whole, are in the order of the names:
    /// shorter and longer than eight bytes, alike in them and not, a prefix of another, bytes
    /// above ASCII, a folder's trailing `/`.
    #[cfg(target_os = "linux")]
    #[test]
    fn names_ordered_by_their_first_eight_bytes_keep_the_order_of_names() {
        let names: [&[u8]; 16] = [
            b"",
            b"a",
            b"app",
            b"app\x01",
            b"apps-x",
            b"apps.yaml",
            b"apps/",
            b"apps0",
            b"abcdefg",
            b"abcdefgh",
            b"abcdefgh/",
            b"abcdefghi",
            b"abcdefgz",
            b"kustomization-app-0002.yaml",
            b"kustomization-app-0010.yaml",
            b"\xef\xbf\xbdx",
        ];
        let mut by_name = names.to_vec();
        by_name.sort();
        for turn in 0..names.len() {
            let mut keyed: Vec<(u64, &[u8])> = (names.iter().cycle().skip(turn).take(names.len()))
                .map(|n| (at::name_prefix(n), *n))
                .collect();
            keyed.sort_unstable();
            assert_eq!(keyed.into_iter().map(|(_, n)| n).collect::<Vec<_>>(), by_name);
        }
        // And the numbers alone order names that differ in their first eight bytes.
        assert!(at::name_prefix(b"app") < at::name_prefix(b"app\x01"));
        assert!(at::name_prefix(b"apps/") < at::name_prefix(b"apps0"));
        assert!(at::name_prefix(b"abcdefg") < at::name_prefix(b"abcdefgh"));
        assert_eq!(at::name_prefix(b"abcdefgh"), at::name_prefix(b"abcdefghi"));
    }

    /// The Linux walk (`getdents64`, `statx` relative to each folder) finds what the portable
    /// one finds, with the same stats: nested and empty folders, a name that is not UTF-8,
    /// links to a file and to a folder (neither followed nor listed), a FIFO (not a file),
    /// a folder of more entries than one `getdents64` buffer holds.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_linux_walk_finds_what_the_portable_walk_finds() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        for folder in ["a/apps/x", "a/apps/y", "b", "empty/deeper"] {
            fs::create_dir_all(root.join(folder)).unwrap();
        }
        for (path, text) in [
            ("fleet.yaml", "f\n"),
            ("a/apps/x/k.yaml", "k\n"),
            ("a/apps/y/z", ""),
            ("b/c", "cc"),
        ] {
            fs::write(root.join(path), text).unwrap();
        }
        fs::write(root.join("b").join(std::ffi::OsStr::from_bytes(b"not-utf8-\xff")), "x").unwrap();
        // Beside folder `a/apps/`, names that sort before and after it.
        for name in ["apps-x", "apps.yaml", "apps0", "app"] {
            fs::write(root.join("a").join(name), "").unwrap();
        }
        for i in 0..700 {
            fs::write(root.join("a").join(format!("many-{i:04}-{}", "n".repeat(40))), "").unwrap();
        }
        std::os::unix::fs::symlink(root.join("fleet.yaml"), root.join("b/link-to-file")).unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("b/link-to-folder")).unwrap();
        let fifo = std::process::Command::new("mkfifo").arg(root.join("b/fifo")).status();
        for stat in [true, false] {
            let fast = walk(&root, stat).unwrap();
            let mut portable = Vec::new();
            let how = How {
                stat,
                strict: false,
                others: false,
            };
            walk_dir(&root, "", how, &mut portable).unwrap();
            let mut portable: Vec<Walked> = portable.into_iter().flatten().collect();
            portable.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(fast, portable);
            assert_eq!(fast.len(), 709);
            assert!(fast.iter().any(|(p, _)| p == "b/not-utf8-\u{fffd}"));
            assert!(!fast.iter().any(|(p, _)| p.starts_with("b/link") || p == "b/fifo"));
            assert_eq!(fast.iter().all(|(_, s)| s.is_some()), stat);
        }
        assert!(fifo.is_ok_and(|s| s.success()), "mkfifo made the FIFO");
        // `check`'s walk lists the links and the FIFO too, with no stat, and follows no link.
        let all = walk_all(&root).unwrap();
        let mut portable = Vec::new();
        let how = How {
            stat: true,
            strict: false,
            others: true,
        };
        walk_dir(&root, "", how, &mut portable).unwrap();
        let mut portable: Vec<Walked> = portable.into_iter().flatten().collect();
        portable.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(all, portable);
        let odd: Vec<&Walked> = all.iter().filter(|(_, s)| s.is_none()).collect();
        let odd_paths: Vec<&str> = odd.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(odd_paths, ["b/fifo", "b/link-to-file", "b/link-to-folder"]);
        assert_eq!(all.len(), 709 + 3);
        // A strict walk (of the shadow) refuses what fleetgen does not write, on both walks;
        // over what it writes it finds what a walk finds.
        let strict = How {
            stat: true,
            strict: true,
            others: false,
        };
        let portable = |dir: &Path| {
            let mut found = Vec::new();
            walk_dir(dir, "", strict, &mut found).map(|()| found)
        };
        let clean = root.join("a/apps");
        assert_eq!(walk_as(&clean, strict).unwrap(), walk(&clean, true).unwrap());
        assert_eq!(portable(&clean).unwrap().concat().len(), 2);
        for odd in ["link", "fifo", "empty folder", "name"] {
            let dir = root.join("strict").join(odd);
            fs::create_dir_all(dir.join("sub")).unwrap();
            fs::write(dir.join("sub/ok.yaml"), "ok\n").unwrap();
            assert_eq!(walk_as(&dir, strict).unwrap().len(), 1, "{odd}: clean");
            match odd {
                "link" => std::os::unix::fs::symlink("ok.yaml", dir.join("sub/link")).unwrap(),
                "fifo" => assert!(
                    std::process::Command::new("mkfifo")
                        .arg(dir.join("sub/fifo"))
                        .status()
                        .is_ok_and(|s| s.success())
                ),
                "empty folder" => fs::create_dir(dir.join("sub/empty")).unwrap(),
                _ => fs::write(dir.join("sub").join(std::ffi::OsStr::from_bytes(b"odd-\xfe")), "").unwrap(),
            }
            for found in [walk_as(&dir, strict).map(drop), portable(&dir).map(drop)] {
                let e = found.expect_err(odd);
                assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{odd}: {e}");
            }
            assert_eq!(walk(&dir, true).unwrap().len(), 1 + usize::from(odd == "name"), "{odd}");
        }
        // A walk of a link to a folder lists nothing.
        assert!(walk(&root.join("b/link-to-folder"), true).unwrap().is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_swap_is_one_atomic_exchange_and_the_folder_never_disappears() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repo(dir.path());
        let out = dir.path().join("rendered");
        let t = tree(&[("fleet.yaml", "# Rendered by fleetgen\n"), ("a/k.yaml", "1\n")]);
        write(&repo, &out, &t, None).unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        let missing = std::thread::scope(|s| {
            let watcher = s.spawn(|| {
                let mut missing = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if fs::symlink_metadata(out.join("fleet.yaml")).is_err() {
                        missing += 1;
                    }
                }
                missing
            });
            for _ in 0..200 {
                let w = write(&repo, &out, &t, None).unwrap();
                assert_eq!(w.swap, Swap::Exchanged);
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            watcher.join().unwrap()
        });
        assert_eq!(missing, 0, "the output folder was missing {missing} times");
        assert_eq!(entries(dir.path()), ["rendered", "repo"]);
    }

    #[test]
    fn without_the_exchange_two_renames_still_leave_a_whole_tree() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repo(dir.path());
        let out = dir.path().join("rendered");
        write(&repo, &out, &tree(&[("fleet.yaml", "# Rendered by fleetgen\n")]), None).unwrap();
        let second = tree(&[("fleet.yaml", "# Rendered by fleetgen 2\n")]);
        let w = failing(&["exchange"], || write(&repo, &out, &second, None)).unwrap();
        assert_eq!(w.swap, Swap::TwoRenames);
        assert_eq!(read_tree(&out).unwrap(), second);
        assert_eq!(entries(dir.path()), ["rendered", "repo"]);
    }

    #[test]
    fn keeps_what_a_partial_render_does_not_own() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repo(dir.path());
        let out = dir.path().join("rendered");
        let full = tree(&[
            ("fleet.yaml", "# Rendered by fleetgen\n"),
            ("a/apps/x/k.yaml", "1\n"),
            ("a/apps/y/k.yaml", "1\n"),
        ]);
        write(&repo, &out, &full, None).unwrap();
        let part = tree(&[
            ("fleet.yaml", "# Rendered by fleetgen v2\n"),
            ("a/apps/x/n.yaml", "2\n"),
        ]);
        let keep = |path: &str| !path.starts_with("a/apps/x/");
        write(&repo, &out, &part, Some(&keep)).unwrap();
        let now = read_tree(&out).unwrap();
        let paths: Vec<&str> = now.files.keys().map(String::as_str).collect();
        assert_eq!(paths, vec!["a/apps/x/n.yaml", "a/apps/y/k.yaml", "fleet.yaml"]);
    }

    #[test]
    fn refuses_a_folder_fleetgen_did_not_write() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repo(dir.path());
        let out = dir.path().join("mine");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        let err = write(&repo, &out, &tree(&[("fleet.yaml", "x")]), None).unwrap_err();
        assert!(err.contains("was not written by fleetgen"), "{err}");
        assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
    }

    #[cfg(unix)]
    /// A partial render reads the files it keeps: one that is not UTF-8 (a hand edit) is
    /// named, where the error named only the folder.
    #[test]
    fn a_file_that_is_not_utf8_is_named_when_the_tree_is_read() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("c1/apps")).unwrap();
        fs::write(dir.path().join("c1/apps/a.yaml"), b"caf\xe9\n").unwrap();
        let err = read_tree(dir.path()).unwrap_err().to_string();
        assert!(err.starts_with("c1/apps/a.yaml: "), "{err}");
    }

    #[test]
    fn an_output_folder_that_is_a_link_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repo(dir.path());
        let target = dir.path().join("elsewhere");
        fs::create_dir(&target).unwrap();
        // A folder fleetgen would otherwise accept as its own.
        fs::write(target.join("fleet.yaml"), "# Rendered by fleetgen\n").unwrap();
        fs::write(target.join("precious.txt"), "keep me").unwrap();
        let out = dir.path().join("rendered");
        std::os::unix::fs::symlink(&target, &out).unwrap();
        let err = write(&repo, &out, &tree(&[("fleet.yaml", "# Rendered by fleetgen\n")]), None).unwrap_err();
        assert!(err.contains("symbolic link"), "{err}");
        assert!(read_tree(&out).is_err());
        assert!(refuse_link(&out).is_err(), "check refuses it too");
        assert_eq!(entries(&target), ["fleet.yaml", "precious.txt"]);
        assert!(list_tree(&out).unwrap().is_empty(), "a link is not listed through");
    }

    #[test]
    fn an_output_folder_inside_the_inputs_or_over_the_repository_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repo(dir.path());
        let t = tree(&[("fleet.yaml", "# Rendered by fleetgen\n")]);
        for inside in [
            "clusters/out",
            "apps/web/out",
            "profiles/x",
            "policy-library/out",
            "templates/out",
        ] {
            let err = write(&repo, &repo.join(inside), &t, None).unwrap_err();
            assert!(err.contains("a folder fleetgen reads"), "{inside}: {err}");
        }
        for over in [repo.clone(), dir.path().to_path_buf()] {
            let err = write(&repo, &over, &t, None).unwrap_err();
            assert!(err.contains("holds it"), "{err}");
        }
        assert_eq!(entries(&repo), ["clusters"]);
        // Beside the inputs is fine.
        write(&repo, &repo.join("rendered"), &t, None).unwrap();
    }

    #[test]
    fn temporary_folders_are_unpredictable_and_stale_ones_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repo(dir.path());
        let out = dir.path().join("rendered");
        let pid = std::process::id();
        // What a crash leaves, in a container where every run has this pid: the old
        // names were fixed, so the next render failed with ENOTEMPTY.
        for which in ["new", "old"] {
            let stale = dir.path().join(format!(".rendered.fleetgen-{which}-{pid}"));
            fs::create_dir_all(stale.join("x")).unwrap();
            fs::write(stale.join("x/file.yaml"), "old").unwrap();
        }
        let t = tree(&[("fleet.yaml", "# Rendered by fleetgen\n")]);
        write(&repo, &out, &t, None).unwrap();
        let w = write(&repo, &out, &t, None).unwrap();
        assert!(w.warnings.is_empty(), "{:?}", w.warnings);
        assert_eq!(entries(dir.path()), ["rendered", "repo"]);
        // Two temporary folders of one process get different names.
        let a = temp_dir(dir.path(), "rendered", "new").unwrap();
        let b = temp_dir(dir.path(), "rendered", "new").unwrap();
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(&format!(".rendered.fleetgen-new-{pid}-")) && name.len() > 30,
            "{name}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_with_a_temporary_name_receives_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repo(dir.path());
        let out = dir.path().join("rendered");
        let victim = dir.path().join("victim");
        fs::create_dir(&victim).unwrap();
        fs::write(victim.join("keep.txt"), "mine").unwrap();
        let pid = std::process::id();
        for which in ["new", "old"] {
            std::os::unix::fs::symlink(&victim, dir.path().join(format!(".rendered.fleetgen-{which}-{pid}"))).unwrap();
        }
        let t = tree(&[("fleet.yaml", "# Rendered by fleetgen\n"), ("a/b.yaml", "x\n")]);
        write(&repo, &out, &t, None).unwrap();
        write(&repo, &out, &t, None).unwrap();
        assert_eq!(entries(&victim), ["keep.txt"]);
        assert_eq!(entries(dir.path()), ["rendered", "repo", "victim"]);
    }

    #[test]
    fn a_failed_clean_up_is_reported_and_a_failed_write_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repo(dir.path());
        let out = dir.path().join("rendered");
        let t = tree(&[("fleet.yaml", "# Rendered by fleetgen\n")]);
        write(&repo, &out, &t, None).unwrap();
        let w = failing(&["remove"], || write(&repo, &out, &t, None)).unwrap();
        assert_eq!(w.warnings.len(), 1, "{:?}", w.warnings);
        assert!(w.warnings[0].starts_with("could not remove"), "{:?}", w.warnings);
        let err = failing(&["temp"], || {
            write(
                &repo,
                &out,
                &tree(&[("fleet.yaml", "# Rendered by fleetgen 2\n")]),
                None,
            )
        })
        .unwrap_err();
        assert!(err.contains("is unchanged"), "{err}");
        assert_eq!(read_tree(&out).unwrap(), t);
    }
}
