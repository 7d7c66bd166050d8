//! A whole render with the cache writes only what changed, and still swaps the output
//! folder in whole.
//!
//! The tree the output folder held before the last render is kept in the cache folder (the
//! *shadow*, `.fleetgen/shadow/`). A render brings the shadow up to the new tree file by
//! file: a file whose stat the shadow's index knows, with the content the new tree has, is
//! kept; one the new tree does not have is removed; the rest are written (the placements
//! that rendered) or copied from the output folder (what the cache knows by content,
//! checked there through the output folder's index). The shadow is then exchanged with the
//! output folder in one `renameat2(RENAME_EXCHANGE)`, as a fresh tree would be: at every
//! instant the output folder is the whole old tree or the whole new one. The old tree is
//! now the shadow, for the next render, and its index goes with it. So a render writes
//! the files that changed in this render and the last one, not a directory entry per file
//! of the fleet, and removes no old tree. The first render with an empty shadow copies the
//! whole tree once.
//!
//! Nothing in the shadow is trusted without its stat: a file changed there (by hand, or by
//! a render killed half-way) differs from its index entry and is replaced. A shadow with
//! anything fleetgen does not write in it (a link, a FIFO, an empty folder, a name that is
//! not UTF-8) is removed and built again. One render at a time uses it (a lock file of its
//! own, besides the cache's lock that a render holds from its start: see `Cache::lock`); one
//! that cannot, or a cache folder on another file system than the output folder, renders
//! the classic way (a fresh tree beside the output folder).

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{How, Written, clean_stale, list_tree, remove_tree, swap, target, walk_as};
use crate::emit::RenderedTree;
use crate::incremental::Sum;
use crate::incremental::index::{self, Index, PathId, Recorded, Stat, Stated, path_id};
use crate::load::files::read_bounded;

/// The shadow folder of one output folder, held for one render.
pub struct Shadow {
    dir: PathBuf,
    /// Locked while the shadow is read, changed and exchanged.
    _lock: fs::File,
}

impl Shadow {
    /// Shadow folder `dir` for output folder `out` (which exists), locked through file
    /// `lock`; `None` when it cannot serve: another render holds it, the two are on
    /// different file systems, or one is inside the other.
    pub fn open(dir: PathBuf, lock: &Path, out: &Path) -> Option<Shadow> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let parent = dir.parent()?;
            let (out_meta, cache_meta) = (fs::symlink_metadata(out).ok()?, fs::metadata(parent).ok()?);
            if !out_meta.is_dir() || out_meta.dev() != cache_meta.dev() {
                return None;
            }
            let (real_out, real_cache) = (fs::canonicalize(out).ok()?, fs::canonicalize(parent).ok()?);
            if real_out.starts_with(&real_cache) || real_cache.starts_with(&real_out) {
                return None;
            }
            let lock = crate::incremental::open_lock(lock).ok()?;
            lock.try_lock().ok()?;
            // Anything but a folder in its place (a link above all: it would be written
            // through) is removed, never followed.
            if fs::symlink_metadata(&dir).is_ok_and(|m| !m.is_dir()) {
                fs::remove_file(&dir).ok()?;
            }
            Some(Shadow { dir, _lock: lock })
        }
        #[cfg(not(unix))]
        {
            let _ = (dir, lock, out);
            None
        }
    }

    /// The shadow's files, each looked up in `index` (the shadow's): what it holds, found
    /// without the render (a render runs this while the sources compile). A shadow with
    /// anything a render does not leave in it is removed first; `None` when it cannot be
    /// (the render then writes a fresh tree: what is left in the shadow would be exchanged
    /// into the output folder with the new tree).
    pub fn scan(&self, index: &Index) -> Option<Vec<Stated>> {
        let walked = match walk_as(
            &self.dir,
            How {
                stat: true,
                strict: true,
                others: false,
            },
        ) {
            Ok(walked) => walked,
            // Built again from nothing.
            Err(_) => return remove_tree(&self.dir).ok().map(|()| Vec::new()),
        };
        index::lookup(&self.dir, index, walked).ok()
    }

    /// What bringing the shadow (its files `scanned`) up to `tree` takes, found without
    /// writing: each file it lacks that the cache knows by content is looked up in `out`
    /// through `live_index`.
    pub fn plan<'a>(&self, scanned: &[Stated], out: &Path, tree: &'a RenderedTree, live_index: &Index) -> Plan<'a> {
        let mut shadow = scanned.iter().peekable();
        let files: Vec<(&String, &String)> = tree.files.iter().collect();
        let texts: Vec<(&String, &String, Sum)> = (files.par_iter().enumerate())
            .map(|(i, &(path, text))| (path, text, tree.sum_at(i, text)))
            .collect();
        // The new index's entries are made here, each kept file's with the stat it has in
        // the shadow, and only the files not kept have a task. (A list of every file with
        // what becomes of it, 144 bytes a file, and of each file's stat after the update
        // had been 17 MB of fresh memory at 200 × 500: page faults, dear on these machines.)
        let mut index = Vec::with_capacity(texts.len() + tree.known.len());
        let mut steps = Vec::new();
        let mut gone = Vec::new();
        for (path, sum, text) in merged(&texts, &tree.known) {
            while let Some(old) = shadow.next_if(|s| s.rel.as_str() < path) {
                gone.push(old.rel.clone());
            }
            let at = index.len();
            let act = |text: Option<&'a str>| text.map_or(Act::Copy, Act::Write);
            let (id, stat, task) = match shadow.next_if(|s| s.rel == path) {
                // (A file with an executable bit is never known, and is written again.)
                Some(old) if old.known() == Some(sum) && !old.stat.exec => (old.id, old.stat, None),
                // Not known by its stat (changed since, or recorded too soon after it was
                // written to tell): read to see, unless there is a text to write and the
                // index recorded another content with this stat. A render records its index
                // just after writing what changed, so the shadow's files the render before
                // last wrote are all too recent to trust; those that change again are written
                // without a look (at 20 × 50, 261 files of a one-contract change were read
                // only to find each changed).
                Some(old)
                    if old.known().is_none()
                        && !old.stat.exec
                        && old.stat.size == sum.size
                        && (text.is_none() || !matches!(old.recorded, Recorded::Racy(r) if r != sum)) =>
                {
                    (old.id, old.stat, Some((true, Step::Look(text))))
                }
                Some(old) => (old.id, old.stat, Some((true, Step::Do(act(text))))),
                None => (path_id(path), Stat::default(), Some((false, Step::Do(act(text))))),
            };
            index.push((id, stat, sum));
            if let Some((present, step)) = task {
                steps.push((at, path, present, step));
            }
        }
        gone.extend(shadow.map(|s| s.rel.clone()));
        // Each file to look at is read: found as it is, it is kept and has no task.
        let tasks: Vec<Task> = (steps.into_par_iter())
            .filter_map(|(at, path, present, step)| {
                let act = match step {
                    Step::Do(act) => act,
                    Step::Look(text) => {
                        let sum = index[at].2;
                        let read =
                            fs::File::open(self.dir.join(path)).and_then(|f| read_bounded(f, sum.size, sum.size + 1));
                        if read.is_ok_and(|bytes| Sum::of(&bytes) == sum) {
                            return None;
                        }
                        text.map_or(Act::Copy, Act::Write)
                    }
                };
                Some(Task { at, path, present, act })
            })
            .collect();
        let missing = tasks
            .par_iter()
            .filter(|task| matches!(task.act, Act::Copy))
            .filter(|task| !holds(out, task.path, index[task.at], live_index))
            .map(|task| task.path.to_string())
            .collect();
        let removed = if live_index.files.is_empty() {
            let new = |p: &String| tree.files.contains_key(p) || tree.known.contains_key(p);
            list_tree(out).map_or(0, |old| old.iter().filter(|p| !new(p)).count())
        } else {
            // The index and the new tree are both in path order (no set of the new tree's
            // digests is made to count what the index has that it lacks).
            let kept = live_index.count_of(index.iter().map(|f| f.0));
            live_index.files.len().saturating_sub(kept)
        };
        Plan {
            dir: self.dir.clone(),
            tree,
            index,
            tasks,
            gone,
            missing,
            removed,
        }
    }
}

/// Whether output folder `out` has the file at `path` with the content of its new index
/// entry: known by its stat in `index`, else read (no further than that content's size) and
/// hashed.
fn holds(out: &Path, path: &str, (id, _, sum): (PathId, Stat, Sum), index: &Index) -> bool {
    let path = out.join(path);
    let Ok(meta) = fs::symlink_metadata(&path) else {
        return false;
    };
    let stat = Stat::of(&meta);
    if !meta.is_file() || meta.len() != sum.size || stat.exec {
        return false;
    }
    if let (Some(known), _) = index.known(usize::MAX, id, &stat) {
        return known == sum;
    }
    let read = fs::File::open(&path).and_then(|f| read_bounded(f, sum.size, sum.size + 1));
    read.is_ok_and(|bytes| Sum::of(&bytes) == sum)
}

/// The new tree's files in path order: each with its content, and its text when it was
/// rendered (`None`: the cache knows it by content).
fn merged<'a, 'b>(
    texts: &'b [(&'a String, &'a String, Sum)],
    known: &'a crate::sorted::SortedMap<Sum>,
) -> impl Iterator<Item = (&'a str, Sum, Option<&'a str>)> + 'b
where
    'a: 'b,
{
    let mut texts = texts.iter().copied().peekable();
    let mut known = known.iter().peekable();
    std::iter::from_fn(move || match (texts.peek(), known.peek()) {
        (Some((tp, _, _)), Some((kp, _))) if kp < tp => known.next().map(|(p, s)| (p.as_str(), *s, None)),
        (Some(_), _) => texts.next().map(|(p, t, s)| (p.as_str(), s, Some(t.as_str()))),
        (None, _) => known.next().map(|(p, s)| (p.as_str(), *s, None)),
    })
}

/// What a file of the new tree that the shadow may not have as it is needs while the plan
/// is made.
enum Step<'a> {
    /// The shadow has a file of its size with the stat of its index entry, not known by it:
    /// to read, and then to keep, or to write with the text (copy when there is none).
    Look(Option<&'a str>),
    Do(Act<'a>),
}

/// What becomes of a file of the new tree that the shadow does not have as it is.
enum Act<'a> {
    /// Written with this text.
    Write(&'a str),
    /// Copied from the output folder. Not linked: a file the two trees shared would
    /// change its stat (its change time) in one whenever it is linked or removed in the
    /// other, and each index would stop knowing it.
    Copy,
}

/// A file of the new tree to read, write or copy into the shadow.
struct Task<'a> {
    /// Its place in the new index.
    at: usize,
    path: &'a str,
    /// Whether the shadow has a file at this path (to remove first when it is replaced).
    present: bool,
    act: Act<'a>,
}

/// How to bring the shadow up to a new tree.
pub struct Plan<'a> {
    dir: PathBuf,
    /// The new tree.
    tree: &'a RenderedTree,
    /// The new index's entries, in path order: each file of the new tree, its content, and
    /// its stat in the shadow (for a file a task writes or copies, found when it is).
    index: Vec<(PathId, Stat, Sum)>,
    /// The files written or copied (once the plan is made), in path order.
    tasks: Vec<Task<'a>>,
    /// The shadow's files the new tree does not have.
    gone: Vec<String>,
    /// The files the cache knows by content that are neither in the shadow nor in the
    /// output folder as it knows them: the render must render what they belong to.
    pub missing: Vec<String>,
    /// How many files of the output folder the new tree does not have.
    removed: usize,
}

/// Why a shadow write failed.
#[derive(Debug)]
pub enum Failed {
    /// The output folder may not be written (the same refusals as a classic write).
    Refused(String),
    /// The shadow could not be brought up to date or exchanged; the output folder is
    /// unchanged and a classic write can take over.
    Shadow(String),
}

impl Plan<'_> {
    /// How many files it writes or copies (the rest are kept).
    pub fn writes(&self) -> usize {
        self.tasks.len()
    }

    /// Brings the shadow up to the new tree and exchanges it with `out` (rendered from
    /// `repo`). Returns what was written and the index of the new output folder (to be
    /// recorded: each file's stat and content).
    pub fn write(mut self, repo: &Path, out: &Path) -> Result<(Written, Index), Failed> {
        let shown = out.display();
        let t = target(repo, out).map_err(Failed::Refused)?;
        if !t.exists || !self.missing.is_empty() {
            return Err(Failed::Shadow(format!("`{shown}` does not hold what the cache knows")));
        }
        let mut warnings = Vec::new();
        clean_stale(&t.parent, &t.name, &mut warnings);
        let failed =
            |dir: &Path, what: &str, e: io::Error| Failed::Shadow(format!("cannot {what} `{}`: {e}", dir.display()));
        self.update(out).map_err(|e| failed(&self.dir, "bring up to date", e))?;
        crate::trace::note("write", || {
            let (writes, gone) = (self.writes(), self.gone.len());
            let kept = self.index.len() - writes;
            format!("{writes} files written or copied, {gone} removed, {kept} kept from the tree before last")
        });
        let (how, old) = swap(&t.parent, &t.name, &self.dir, out).map_err(|e| failed(&self.dir, "exchange", e))?;
        if old != self.dir {
            // Two renames: the old tree went aside; it becomes the shadow.
            if let Err(e) = fs::rename(&old, &self.dir) {
                let _ = remove_tree(&old);
                warnings.push(format!("the old tree was not kept in `{}`: {e}", self.dir.display()));
            }
        }
        let written = Written {
            files: self.index.len(),
            removed: self.removed,
            swap: how,
            warnings,
        };
        Ok((written, Index::new(crate::incremental::root_name(out), 0, self.index)))
    }

    /// Removes, writes and copies the shadow's files, and puts the stat of each file
    /// written or copied in its index entry.
    fn update(&mut self, out: &Path) -> io::Result<()> {
        let dir = &self.dir;
        if super::fail_point("shadow") {
            return Err(io::Error::other("injected failure"));
        }
        fs::create_dir_all(dir)?;
        // Replaced files are removed, never written over: a classic render may have linked
        // them into the output folder.
        let replaced = self.tasks.iter().filter(|task| task.present);
        let doomed: Vec<&str> = self
            .gone
            .iter()
            .map(String::as_str)
            .chain(replaced.map(|task| task.path))
            .collect();
        doomed.par_iter().try_for_each(|p| fs::remove_file(dir.join(p)))?;
        // Folders left empty, deepest first (reverse path order puts a folder after what
        // is in it).
        let mut empty: Vec<&str> = self.gone.iter().flat_map(|p| ancestors(p)).collect();
        empty.sort_unstable();
        empty.dedup();
        empty.retain(|folder| !self.has_folder(folder));
        for folder in empty.iter().rev() {
            fs::remove_dir(dir.join(folder))?;
        }
        let mut needed: Vec<&str> = self
            .tasks
            .iter()
            .filter(|task| !task.present)
            .filter_map(|task| task.path.rsplit_once('/').map(|(folder, _)| folder))
            .collect();
        needed.dedup();
        for folder in needed {
            fs::create_dir_all(dir.join(folder))?;
        }
        let stats: Vec<Stat> = self
            .tasks
            .par_iter()
            .map(|task| match task.act {
                Act::Write(text) => {
                    let mut file = fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(dir.join(task.path))?;
                    file.write_all(text.as_bytes())?;
                    Ok(Stat::of(&file.metadata()?))
                }
                Act::Copy => {
                    fs::copy(out.join(task.path), dir.join(task.path))?;
                    Ok(Stat::of(&fs::symlink_metadata(dir.join(task.path))?))
                }
            })
            .collect::<io::Result<_>>()?;
        for (task, stat) in self.tasks.iter().zip(stats) {
            self.index[task.at].1 = stat;
        }
        Ok(())
    }

    /// Whether a file of the new tree is in `folder` (or below it).
    fn has_folder(&self, folder: &str) -> bool {
        let prefix = format!("{folder}/");
        let from = (std::ops::Bound::Included(prefix.as_str()), std::ops::Bound::Unbounded);
        let rendered = self.tree.files.range::<str, _>(from).next();
        let known = self.tree.known.as_slice();
        let at = known.partition_point(|(p, _)| p.as_str() < prefix.as_str());
        rendered.is_some_and(|(p, _)| p.starts_with(&prefix))
            || known.get(at).is_some_and(|(p, _)| p.starts_with(&prefix))
    }
}

/// The folders a relative path is in, the outermost first: `a/b/c` → `a`, `a/b`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(at, _)| &path[..at])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incremental::root_name;
    use crate::write::{Swap, read_tree, write};

    const HEAD: &str = "# Rendered by fleetgen\n";

    /// A fleet folder and an output folder beside it, with a cache folder.
    struct Place {
        _dir: tempfile::TempDir,
        repo: PathBuf,
        out: PathBuf,
        cache: PathBuf,
    }

    fn place() -> Place {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        fs::create_dir_all(repo.join("clusters")).unwrap();
        let (out, cache) = (dir.path().join("rendered"), repo.join(".fleetgen"));
        fs::create_dir_all(&cache).unwrap();
        Place {
            _dir: dir,
            repo,
            out,
            cache,
        }
    }

    impl Place {
        fn shadow(&self) -> Shadow {
            Shadow::open(self.cache.join("shadow"), &self.cache.join("shadow.lock"), &self.out).expect("usable")
        }
    }

    /// A tree of these rendered files, and of these files known by content only.
    fn tree(files: &[(&str, &str)], known: &[(&str, &str)]) -> RenderedTree {
        let mut tree = RenderedTree::from_files(files.iter().copied().chain([("fleet.yaml", HEAD)]));
        tree.known = known
            .iter()
            .map(|(p, t)| (p.to_string(), Sum::of(t.as_bytes())))
            .collect();
        tree
    }

    /// An index recorded long after these files were written: every one trusted by its stat.
    fn index_of(out: &Path, files: Vec<(PathId, Stat, Sum)>) -> Index {
        Index::new(root_name(out), i64::MAX / 2, files)
    }

    /// The index of a folder as it is on disk.
    fn index_now(dir: &Path, out: &Path) -> Index {
        let tree = read_tree(dir).unwrap();
        let files = tree
            .files
            .iter()
            .map(|(p, t)| {
                let stat = Stat::of(&fs::symlink_metadata(dir.join(p)).unwrap());
                (path_id(p), stat, Sum::of(t.as_bytes()))
            })
            .collect();
        index_of(out, files)
    }

    /// Renders `tree` through the shadow, as `fleetgen render` does: returns how many files
    /// it wrote or copied, and the output folder's new index.
    fn render(place: &Place, tree: &RenderedTree, shadow_index: &Index, live: &Index) -> (usize, Index) {
        let (writes, index, _) = render_counted(place, tree, shadow_index, live);
        (writes, index)
    }

    /// [`render`], and how many files of the output folder it said the new tree lacks.
    fn render_counted(place: &Place, tree: &RenderedTree, shadow_index: &Index, live: &Index) -> (usize, Index, usize) {
        let shadow = place.shadow();
        let scanned = shadow.scan(shadow_index).expect("a shadow that can be emptied");
        let plan = shadow.plan(&scanned, &place.out, tree, live);
        assert_eq!(plan.missing, Vec::<String>::new());
        let writes = plan.writes();
        let (written, index) = plan.write(&place.repo, &place.out).unwrap();
        assert_eq!((written.files, written.swap), (tree.len(), Swap::Exchanged));
        (writes, index_of(&place.out, index.files), written.removed)
    }

    /// The texts of a tree with known files: those read from `from`.
    fn texts(tree: &RenderedTree, from: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut all = tree.files.clone();
        all.extend(from.iter().map(|(p, t)| (p.to_string(), t.to_string())));
        all
    }

    use std::collections::BTreeMap;

    #[test]
    fn a_render_writes_only_what_changed_since_the_tree_before_last_and_swaps_it_in_whole() {
        let place = place();
        let one = tree(
            &[("a/x/1.yaml", "1\n"), ("a/x/2.yaml", "2\n"), ("b/y/3.yaml", "3\n")],
            &[],
        );
        write(&place.repo, &place.out, &one, None).unwrap();
        let live = index_now(&place.out, &place.out);
        // The first render through the shadow fills it: every file is written or copied.
        let cached = [("a/x/1.yaml", "1\n"), ("b/y/3.yaml", "3\n")];
        let two = tree(&[("a/x/2.yaml", "two\n")], &cached);
        let (writes, live2, removed) = render_counted(&place, &two, &Index::default(), &live);
        assert_eq!((writes, removed), (4, 0));
        assert_eq!(read_tree(&place.out).unwrap().files, texts(&two, &cached));
        assert_eq!(
            read_tree(&place.cache.join("shadow")).unwrap(),
            one,
            "the old tree is the shadow"
        );
        // Then only what changed in this render and the last: 2.yaml (changed last time),
        // 1.yaml (changed now); b/ goes, c/ and a/x/1.yaml/ (a file become a folder) come.
        let cached = [("a/x/2.yaml", "two\n")];
        let three = tree(&[("a/x/1.yaml/in", "one\n"), ("c/4.yaml", "4\n")], &cached);
        let (writes, live3, removed) = render_counted(&place, &three, &live, &live2);
        assert_eq!(
            writes, 3,
            "1.yaml/in and 4.yaml written, 2.yaml copied; fleet.yaml kept"
        );
        // Of the output folder's four files, 1.yaml and 3.yaml are not in the new tree (and
        // its 2.yaml is found past a new file: looked up, not where 1.yaml was).
        assert_eq!(removed, 2);
        assert_eq!(read_tree(&place.out).unwrap().files, texts(&three, &cached));
        assert!(!place.out.join("b").exists(), "a folder left empty is removed");
        assert_eq!(
            read_tree(&place.cache.join("shadow")).unwrap().files,
            texts(&two, &[("a/x/1.yaml", "1\n"), ("b/y/3.yaml", "3\n")])
        );
        // Nothing changed: nothing written, and the indexes know every file.
        let (writes, live4) = render(&place, &three, &live2, &live3);
        assert_eq!(writes, 2, "the tree before last lacks this render's new files");
        let (writes, live5, removed) = render_counted(&place, &three, &live3, &live4);
        assert_eq!((writes, removed), (0, 0));
        assert_eq!(read_tree(&place.out).unwrap().files, texts(&three, &cached));
        // Where the exchange is not available: two renames, and the old tree still becomes
        // the shadow.
        let shadow = place.shadow();
        let scanned = shadow.scan(&live4).unwrap();
        let four = tree(&[("d/5.yaml", "5\n")], &cached);
        let plan = shadow.plan(&scanned, &place.out, &four, &live5);
        assert_eq!(plan.removed, 2, "1.yaml/in and 4.yaml are not in the new tree");
        let failing = super::super::tests::failing;
        let (written, _) = failing(&["exchange"], || plan.write(&place.repo, &place.out)).unwrap();
        assert_eq!(written.swap, Swap::TwoRenames);
        assert_eq!(read_tree(&place.out).unwrap().files, texts(&four, &cached));
        assert_eq!(
            read_tree(&place.cache.join("shadow")).unwrap().files,
            texts(&three, &cached)
        );
        let parent = place.out.parent().unwrap();
        assert_eq!(fs::read_dir(parent).unwrap().count(), 2, "repo and rendered only");
    }

    /// A tree of two files written the classic way, then rendered once through the shadow,
    /// which that fills: the place, the tree, and the output folder's index before and after.
    fn shadowed() -> (Place, RenderedTree, Index, Index) {
        let place = place();
        let one = tree(&[("a/1.yaml", "1\n"), ("a/2.yaml", "2\n")], &[]);
        write(&place.repo, &place.out, &one, None).unwrap();
        let live = index_now(&place.out, &place.out);
        let (_, live2) = render(&place, &one, &Index::default(), &live);
        (place, one, live, live2)
    }

    #[test]
    fn what_changed_in_the_shadow_is_replaced_and_what_is_not_ours_rebuilds_it() {
        let (place, one, live, live2) = shadowed();
        // A file of the shadow changed by hand, its size kept: not known by its stat, read,
        // and replaced.
        let shadow = place.cache.join("shadow");
        fs::write(shadow.join("a/1.yaml"), "9\n").unwrap();
        let (writes, live3) = render(&place, &one, &live, &live2);
        assert_eq!(writes, 1);
        assert_eq!(read_tree(&place.out).unwrap(), one);
        // A link, an empty folder, a FIFO, or a name that is not UTF-8 in the shadow: it is
        // built again from nothing, with nothing of it left.
        use std::os::unix::ffi::OsStrExt;
        let not_utf8 = std::ffi::OsStr::from_bytes(b"a/x\xffy");
        for odd in ["link", "empty", "fifo", "not-utf8"] {
            let shadow_index = index_now(&shadow, &place.out);
            match odd {
                "link" => std::os::unix::fs::symlink("/etc", shadow.join("a/link")).unwrap(),
                "empty" => fs::create_dir(shadow.join("empty")).unwrap(),
                "fifo" => assert!(
                    std::process::Command::new("mkfifo")
                        .arg(shadow.join("a/fifo"))
                        .status()
                        .unwrap()
                        .success()
                ),
                _ => fs::write(shadow.join(not_utf8), "x\n").unwrap(),
            }
            let (writes, _) = render(&place, &one, &shadow_index, &live3);
            assert_eq!(writes, 3, "{odd}: every file written or copied");
            assert_eq!(read_tree(&place.out).unwrap(), one);
            for planted in [
                Path::new("a/link"),
                Path::new("empty"),
                Path::new("a/fifo"),
                Path::new(not_utf8),
            ] {
                assert!(
                    fs::symlink_metadata(place.out.join(planted)).is_err(),
                    "{odd}: {}",
                    planted.display()
                );
            }
            // Back to the shadow it was: the next round plants the other.
            let back = index_now(&place.out, &place.out);
            render(&place, &one, &back, &back);
        }
    }

    /// `index` as if recorded as its files were written (it trusts none by its stat), with
    /// `changed`'s content recorded as the one given.
    fn untrusting(index: &Index, changed: Option<(&str, &str)>) -> Index {
        let mut files = index.files.clone();
        if let Some((path, content)) = changed {
            let file = files.iter_mut().find(|f| f.0 == path_id(path)).unwrap();
            file.2 = Sum::of(content.as_bytes());
        }
        Index::new(index.root.clone(), 0, files)
    }

    #[test]
    fn a_file_not_trusted_by_its_stat_is_read_unless_its_text_replaces_another_content() {
        let (place, _, live, live2) = shadowed();
        // The shadow's index, recorded as its files were written, trusts none of them by its
        // stat: each is read, found as it was, and kept.
        let cached = [("a/2.yaml", "2\n")];
        let two = tree(&[("a/1.yaml", "1\n")], &cached);
        let (writes, live3) = render(&place, &two, &untrusting(&live, None), &live2);
        assert_eq!(writes, 0);
        // A file with a text to write whose index recorded another content with its stat
        // (what a render that changed it leaves to the render after next) is written without
        // a look: 1.yaml, as this index has it.
        let changed = untrusting(&live2, Some(("a/1.yaml", "x\n")));
        let (writes, live4) = render(&place, &two, &changed, &live3);
        assert_eq!(writes, 1);
        // Not a file the cache knows by content (no text): 2.yaml is read and kept.
        let changed = untrusting(&live3, Some(("a/2.yaml", "x\n")));
        let (writes, live5) = render(&place, &two, &changed, &live4);
        assert_eq!(writes, 0);
        // Changed by hand in the shadow, its size kept: read, found changed, and copied from
        // the output folder.
        fs::write(place.cache.join("shadow/a/2.yaml"), "9\n").unwrap();
        let (writes, _) = render(&place, &two, &untrusting(&live4, None), &live5);
        assert_eq!(writes, 1);
        assert_eq!(read_tree(&place.out).unwrap().files, texts(&two, &cached));
    }

    #[test]
    fn a_folder_stays_while_the_new_tree_has_a_file_in_it_rendered_or_known_by_content() {
        // The shadow holds a/1.yaml and a/2.yaml; the new tree lacks 2.yaml, and a/ keeps
        // 1.yaml, rendered (kept as the shadow has it) or known by content: a/ is not
        // removed (it could not be: the update would fail and the render go the classic way).
        for known in [false, true] {
            let (place, _, live, live2) = shadowed();
            let two = match known {
                false => tree(&[("a/1.yaml", "1\n")], &[]),
                true => tree(&[], &[("a/1.yaml", "1\n")]),
            };
            let (writes, _) = render(&place, &two, &live, &live2);
            assert_eq!(writes, 0, "known: {known}");
            let files = read_tree(&place.out).unwrap().files;
            assert_eq!(
                files.keys().collect::<Vec<_>>(),
                ["a/1.yaml", "fleet.yaml"],
                "known: {known}"
            );
        }
    }

    #[test]
    fn a_cached_file_neither_tree_holds_is_missing_and_a_failed_update_changes_nothing() {
        let place = place();
        let one = tree(&[("a/1.yaml", "1\n")], &[]);
        write(&place.repo, &place.out, &one, None).unwrap();
        let live = index_now(&place.out, &place.out);
        let shadow = place.shadow();
        let scanned = shadow.scan(&Index::default()).unwrap();
        let two = tree(&[], &[("a/1.yaml", "other\n")]);
        assert_eq!(shadow.plan(&scanned, &place.out, &two, &live).missing, ["a/1.yaml"]);
        // A link in the shadow's place is removed, not written through.
        drop(shadow);
        let elsewhere = place.cache.join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        fs::remove_dir_all(place.cache.join("shadow")).ok();
        std::os::unix::fs::symlink(&elsewhere, place.cache.join("shadow")).unwrap();
        let (writes, _) = render(&place, &one, &Index::default(), &live);
        assert_eq!(writes, 2);
        assert!(
            fs::read_dir(&elsewhere).unwrap().next().is_none(),
            "nothing written through the link"
        );
        assert!(fs::symlink_metadata(place.cache.join("shadow")).unwrap().is_dir());
        let shadow = place.shadow();
        let scanned = shadow.scan(&Index::default()).unwrap();
        // One render at a time.
        assert!(Shadow::open(place.cache.join("shadow"), &place.cache.join("shadow.lock"), &place.out).is_none());
        let three = tree(&[("a/1.yaml", "3\n")], &[]);
        let plan = shadow.plan(&scanned, &place.out, &three, &live);
        let failed = super::super::tests::failing(&["shadow"], || plan.write(&place.repo, &place.out));
        assert!(matches!(failed, Err(Failed::Shadow(_))), "{failed:?}");
        assert_eq!(read_tree(&place.out).unwrap(), one);
    }
}
