//! `fleetgen check`: compare the tree the sources compile to with the one on disk, and say
//! what differs. Writes nothing.
//!
//! - missing: a file the render would write that is not on disk;
//! - orphaned: a file on disk that no cluster or app produces any more;
//! - stale: a file whose content differs (the sources changed and nobody re-rendered);
//! - edited by hand: a file whose body no longer matches the digest in its own header;
//! - not staged: a file that holds what was rendered but that git leaves out of a commit
//!   (the output folder is in a git repository whose index lacks the file, and git does not
//!   ignore it).

use std::path::Path;

use rayon::prelude::*;
use similar::TextDiff;

use crate::emit::{self, RenderedTree};
use crate::incremental::Sum;
use crate::incremental::index::{Disk, OnDisk};

/// How a file on disk differs from the render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Missing,
    Orphaned,
    Stale,
    EditedByHand,
    NotStaged,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Missing => "missing",
            Status::Orphaned => "orphaned",
            Status::Stale => "stale",
            Status::EditedByHand => "edited by hand",
            Status::NotStaged => "not staged",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Drift {
    pub path: String,
    pub status: Status,
    /// A unified diff from the file on disk to the rendered one (empty for orphans).
    pub diff: String,
}

/// Lines of diff shown per file.
pub const DIFF_LINES: usize = 40;

/// Lines of context shown around each change.
const CONTEXT: usize = 2;

fn unified(path: &str, old: &str, new: &str) -> String {
    // The lines both texts start and end with, past the context shown next to a change,
    // are not handed to the diff (splitting whole files into lines was most of a check's
    // diff time after a one-line change); the hunks' line numbers count those in front.
    let (skipped, old, new) = middle(old, new);
    let diff = TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(CONTEXT)
        .header(&format!("a/{path} (on disk)"), &format!("b/{path} (rendered)"))
        .to_string();
    let mut cut = String::with_capacity(text.len().min(8192));
    let mut lines = 0;
    for line in text.split_inclusive('\n') {
        lines += 1;
        if lines > DIFF_LINES {
            continue;
        }
        match line.strip_prefix("@@ -").filter(|_| skipped > 0) {
            Some(ranges) => cut.push_str(&shifted(ranges, skipped).unwrap_or_else(|| line.to_string())),
            None => cut.push_str(line),
        }
    }
    if lines > DIFF_LINES {
        cut.push_str(&format!("… {} more lines of diff\n", lines - DIFF_LINES));
    }
    cut
}

/// `old` and `new` less the lines they start with alike and end with alike, but for
/// [`CONTEXT`] of them next to what differs; and how many lines were left out in front
/// (the same in both).
fn middle<'a>(old: &'a str, new: &'a str) -> (usize, &'a str, &'a str) {
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let line_start = |text: &[u8], at: usize| text[..at].iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
    // The start of the first line that differs, then CONTEXT lines back.
    let same = shared_start(a, b);
    let mut start = line_start(a, same);
    for _ in 0..CONTEXT {
        if start == 0 {
            break;
        }
        start = line_start(a, start - 1);
    }
    let skipped = a[..start].iter().filter(|&&c| c == b'\n').count();
    let (a, b) = (&a[start..], &b[start..]);
    // The shared end, from a line that starts a line in both, then CONTEXT lines on.
    let mut shared = shared_end(a, b);
    let starts_line = |text: &[u8], shared: usize| {
        let at = text.len() - shared;
        at == 0 || text[at - 1] == b'\n'
    };
    if !(starts_line(a, shared) && starts_line(b, shared)) {
        let at = a.len() - shared;
        shared = match a[at..].iter().position(|&c| c == b'\n') {
            Some(i) => shared - (i + 1),
            None => 0,
        };
    }
    for _ in 0..CONTEXT {
        let at = a.len() - shared;
        shared = match a[at..].iter().position(|&c| c == b'\n') {
            Some(i) => shared - (i + 1),
            None => 0,
        };
    }
    // Cut after a newline (or at a text's start or end): on a character boundary.
    let old = &old[start..old.len() - shared];
    let new = &new[start..new.len() - shared];
    (skipped, old, new)
}

/// How many bytes `a` and `b` start with alike: whole blocks compared at once, then byte
/// by byte.
fn shared_start(a: &[u8], b: &[u8]) -> usize {
    let blocks = a.chunks_exact(64).zip(b.chunks_exact(64));
    let whole = 64 * blocks.take_while(|(x, y)| x == y).count();
    whole + a[whole..].iter().zip(&b[whole..]).take_while(|(x, y)| x == y).count()
}

/// How many bytes `a` and `b` end with alike.
fn shared_end(a: &[u8], b: &[u8]) -> usize {
    let blocks = a.rchunks_exact(64).zip(b.rchunks_exact(64));
    let whole = 64 * blocks.take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[..a.len() - whole], &b[..b.len() - whole]);
    whole + a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count()
}

/// A hunk header's ranges (`-12,5 +12,6 @@`, after `@@ -`) moved down `by` lines.
fn shifted(ranges: &str, by: usize) -> Option<String> {
    let (old, rest) = ranges.split_once(" +")?;
    let (new, tail) = rest.split_once(" @@")?;
    let shift = |range: &str| -> Option<String> {
        let (first, len) = match range.split_once(',') {
            Some((first, len)) => (first, Some(len)),
            None => (range, None),
        };
        let first = first.parse::<usize>().ok()? + by;
        Some(match len {
            Some(len) => format!("{first},{len}"),
            None => first.to_string(),
        })
    };
    Some(format!("@@ -{} +{} @@{tail}", shift(old)?, shift(new)?))
}

/// What differs between the render (`expected`) and the output folder as scanned (`disk`:
/// each file known by its content hash, its text there when it was read), reading the
/// text of a file only when it differs. `Err` with the files the cache stood for (known by
/// hash only) that differ (other than in CRLF line endings, [`crlf_of`]): saying how takes
/// their text, so the caller renders the placements they belong to again.
pub fn compare_disk(
    expected: &RenderedTree,
    disk: &Disk,
    out: &Path,
) -> std::io::Result<Result<Vec<Drift>, Vec<String>>> {
    // One pass over the output folder, with the known and rendered files beside it (the
    // maps are sorted alike: walked side by side, not looked up path by path): the files
    // the cache stood for that differ or are missing, and the files no render makes. In
    // pieces of the output folder on the pool (alone on one core at the end of a warm
    // `check`, comparing 99,423 paths took 10 ms), each with the known files from its first
    // path to the next piece's; the pieces' lists, gathered in order, are one pass's.
    let (listed, cached) = (disk.as_slice(), expected.known.as_slice());
    let pieces = if listed.len() < 8192 {
        1
    } else {
        4 * rayon::current_num_threads()
    };
    let starts: Vec<usize> = (0..=pieces).map(|i| i * listed.len() / pieces).collect();
    // Where in `cached` the piece from disk item `first` to `end` starts and ends: the
    // first piece takes the known files before the first path, the last those after the
    // last.
    let known_at = |at: usize| cached.partition_point(|(k, _)| *k < listed[at].0);
    let known_from = |first: usize| if first == 0 { 0 } else { known_at(first) };
    let known_to = |end: usize| {
        if end == listed.len() {
            cached.len()
        } else {
            known_at(end)
        }
    };
    let found: Vec<(Vec<String>, Vec<&String>, usize)> = (starts.windows(2))
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|range| {
            let (first, end) = (range[0], range[1]);
            let (mut unexplained, mut orphans, mut crlf) = (Vec::new(), Vec::new(), 0);
            let mut known = cached[known_from(first)..known_to(end)].iter().peekable();
            let mut files = Cursor::new(match listed.get(first) {
                Some((path, _)) => expected.files.range::<String, _>(path..),
                None => expected.files.range::<String, _>(..),
            });
            for (path, have) in &listed[first..end] {
                while let Some((gone, _)) = known.next_if(|(k, _)| k < path) {
                    unexplained.push(gone.clone());
                }
                match known.next_if(|(k, _)| k == path) {
                    Some((_, sum)) if have.sum != *sum => match crlf_of(out, path, have, sum) {
                        true => crlf += 1,
                        false => unexplained.push(path.clone()),
                    },
                    Some(_) => {}
                    None if files.find(path).is_none() => orphans.push(path),
                    None => {}
                }
            }
            unexplained.extend(known.map(|(gone, _)| gone.clone()));
            (unexplained, orphans, crlf)
        })
        .collect();
    let (mut unexplained, mut orphans, mut crlf_known) = (Vec::new(), Vec::new(), 0);
    for (mut gone, mut more, crlf) in found {
        unexplained.append(&mut gone);
        orphans.append(&mut more);
        crlf_known += crlf;
    }
    if !unexplained.is_empty() {
        return Ok(Err(unexplained));
    }
    if crlf_known > 0 {
        crate::trace::note("compare", || {
            format!("{crlf_known} files differ from the cache only in their CRLF line endings: read as LF")
        });
    }
    // The rendered files that are missing or differ, each read and diffed on the pool (a
    // one-contract change makes a few hundred such files, and a diff costs more than the
    // rest of the comparison). Each is looked for in the folder's files by bisection, on the
    // pool too: a cursor through the whole folder, alone on one core at the end of a warm
    // `check`, took 2 ms at 200 × 500 for 232 rendered files among 99,423.
    let rendered: Vec<(&String, &String)> = expected.files.iter().collect();
    let differing: Vec<(&String, &String, Option<&OnDisk>)> = (rendered.into_par_iter().enumerate())
        .filter_map(|(i, (path, want))| {
            let have = (listed.binary_search_by(|(p, _)| p.as_str().cmp(path)).ok()).map(|at| &listed[at].1);
            match have {
                None => Some((path, want, None)),
                Some(have) if have.sum != expected.sum_at(i, want) => Some((path, want, Some(have))),
                Some(_) => None,
            }
        })
        .collect();
    let found: Vec<std::io::Result<Option<Drift>>> = differing
        .into_par_iter()
        .map(|(path, want, have)| {
            let Some(have) = have else {
                return Ok(Some(Drift {
                    path: path.clone(),
                    status: Status::Missing,
                    diff: unified(path, "", want),
                }));
            };
            let text = match &have.text {
                Some(text) => text.clone(),
                // Read as the walk reads a file it hashes: bytes that are not UTF-8 (a
                // hand edit in another encoding) are a drift like any other, on every run,
                // not an error once the stat index knows the file.
                None => {
                    let file = out.join(path);
                    let bytes = std::fs::read(&file)
                        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", file.display())))?;
                    String::from_utf8_lossy(&bytes).into_owned()
                }
            };
            // CRLF line endings where fleetgen writes LF (git's `core.autocrlf` checks files
            // out so on Windows, and commits them with LF): the file is read as LF, and one
            // that differs in nothing else holds what was rendered.
            let text = match text.contains("\r\n") && !want.contains('\r') {
                true => text.replace("\r\n", "\n"),
                false => text,
            };
            if text == **want {
                return Ok(None);
            }
            Ok(Some(Drift {
                path: path.clone(),
                status: if emit::intact(&text) == Some(false) {
                    Status::EditedByHand
                } else {
                    Status::Stale
                },
                diff: unified(path, &text, want),
            }))
        })
        .collect();
    let found = found.into_iter().collect::<std::io::Result<Vec<Option<Drift>>>>()?;
    let crlf = found.iter().filter(|d| d.is_none()).count();
    if crlf > 0 {
        crate::trace::note("compare", || {
            format!("{crlf} files differ from the render only in their CRLF line endings: read as LF")
        });
    }
    let mut drifts: Vec<Drift> = found.into_iter().flatten().collect();
    drifts.extend(orphans.into_iter().map(|path| Drift {
        path: path.clone(),
        status: Status::Orphaned,
        diff: String::new(),
    }));
    drifts.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Ok(drifts))
}

/// Whether a file the cache stands for (`want`, known by hash), which differs on disk, holds
/// it with CRLF line endings (git's `core.autocrlf`): read as LF it is what was rendered, so
/// nothing is rendered again to say so. Its text is read when the scan did not (its stat was
/// unchanged: the index recorded the CRLF text), and only when its size could be that of the
/// text with a CR before each line feed.
fn crlf_of(out: &Path, path: &str, have: &OnDisk, want: &Sum) -> bool {
    if !may_be_crlf(have.sum.size, want) {
        return false;
    }
    let read;
    let text = match &have.text {
        Some(text) => text,
        None => {
            // No more than a CRLF text can hold: the file may have grown since its stat.
            let limit = want.size.saturating_mul(2) + 1;
            let opened = std::fs::File::open(out.join(path));
            match opened.and_then(|f| crate::load::files::read_bounded(f, have.sum.size, limit)) {
                Ok(bytes) => read = bytes,
                Err(_) => return false,
            }
            match std::str::from_utf8(&read) {
                Ok(text) => text,
                Err(_) => return false,
            }
        }
    };
    as_lf(text, want).is_some()
}

/// Whether a file of `size` bytes could be the text `want` stands for with a CR before
/// each line feed: larger, at most twice as large.
pub(crate) fn may_be_crlf(size: u64, want: &Sum) -> bool {
    size > want.size && size <= want.size.saturating_mul(2)
}

/// `text` read as LF, when it has CRLF line endings and then is the text `want` stands for.
pub(crate) fn as_lf(text: &str, want: &Sum) -> Option<String> {
    let lf = text.contains("\r\n").then(|| text.replace("\r\n", "\n"))?;
    (Sum::of(lf.as_bytes()) == *want).then_some(lf)
}

/// The files of output folder `out` among `paths` (relative to it, on disk, holding what was
/// rendered) that a commit would leave out: `out` is in the working tree of a git repository
/// whose index has no entry for the file (at any stage), and git does not ignore it. A
/// pre-commit hook runs with such files on disk (pre-commit stashes only unstaged changes to
/// tracked files), so `check` would pass a commit whose kustomizations list files it lacks.
/// Read from the index `index_file` (a commit hook's `GIT_INDEX_FILE`: the index git is
/// committing, a temporary one for `git commit -a` or `git commit PATH`), else the
/// repository's; never its objects or a remote. Nothing outside a repository, in a bare one
/// or one git will not open (another user's: `safe.directory`).
pub fn untracked<'a>(out: &Path, index_file: Option<&Path>, paths: impl Iterator<Item = &'a str>) -> Vec<String> {
    let Ok(repo) = git2::Repository::discover(out) else {
        return Vec::new();
    };
    let Some(workdir) = repo.workdir() else {
        return Vec::new();
    };
    let (Ok(workdir), Ok(folder)) = (std::fs::canonicalize(workdir), std::fs::canonicalize(out)) else {
        return Vec::new();
    };
    let Ok(inside) = folder.strip_prefix(&workdir) else {
        return Vec::new();
    };
    // The folder's path in the index: components joined by '/', as git writes them.
    let parts: Option<Vec<&str>> = inside.components().map(|c| c.as_os_str().to_str()).collect();
    let Some(parts) = parts else {
        return Vec::new();
    };
    let prefix: String = parts.iter().map(|p| format!("{p}/")).collect();
    let index = match index_file {
        // git gives a hook `.git/index` relative to the top of the working tree, where the
        // hook starts (it may have moved into the fleet's folder since).
        Some(file) if file.is_relative() && !file.exists() => git2::Index::open(&workdir.join(file)),
        Some(file) => git2::Index::open(file),
        None => repo.index(),
    };
    let Ok(index) = index else {
        return Vec::new();
    };
    paths
        .filter(|path| {
            let at = format!("{prefix}{path}");
            let at = Path::new(&at);
            // Stage 0, or a conflict's stages: git knows the file either way.
            let indexed = (0..=3).any(|stage| index.get_path(at, stage).is_some());
            !indexed && !repo.is_path_ignored(at).unwrap_or(false)
        })
        .map(str::to_string)
        .collect()
}

/// A walk through a sorted map that finds keys asked for in ascending order.
struct Cursor<'a, V: 'a, I: Iterator<Item = (&'a String, &'a V)>> {
    items: std::iter::Peekable<I>,
}

impl<'a, V: 'a, I: Iterator<Item = (&'a String, &'a V)>> Cursor<'a, V, I> {
    fn new(items: I) -> Self {
        Cursor {
            items: items.peekable(),
        }
    }

    /// The value of `key`, which is not less than any key asked for before.
    fn find(&mut self, key: &str) -> Option<&'a V> {
        while self.items.next_if(|(k, _)| k.as_str() < key).is_some() {}
        self.items.peek().filter(|(k, _)| k.as_str() == key).map(|(_, v)| *v)
    }
}

/// The report for people: each drifted file with its diff, then (unless `quiet`) the count
/// and `next`, what to do (see [`next_step`]).
pub fn text(drifts: &[Drift], out: &str, next: &str, quiet: bool) -> String {
    let mut text = String::new();
    for d in drifts {
        // A file name (or a line of a file) may hold control characters: escaped, so that
        // it cannot forge a line or move the terminal's cursor.
        let path = crate::diag::escape::line(&d.path);
        text.push_str(&format!("{}: {out}/{path}\n", d.status.as_str()));
        match d.status {
            Status::EditedByHand => {
                text.push_str("  the file was changed after fleetgen wrote it; change the sources instead\n")
            }
            Status::Orphaned => text.push_str("  no cluster or app produces this file any more\n"),
            Status::NotStaged => text.push_str(
                "  it holds what was rendered, but git does not track it: a commit leaves it out, and the kustomization listing it fails; `git add` it\n",
            ),
            _ => {}
        }
        for line in d.diff.lines() {
            text.push_str("  ");
            text.push_str(&crate::diag::escape::line(line));
            text.push('\n');
        }
    }
    if !quiet {
        text.push_str(&count_line(drifts, out, next));
    }
    text
}

/// What to do about drift: run `render` (the render command, `fleetgen render --repo
/// infra/fleet` for a check given `--repo infra/fleet`), and stage its output `folder` (as
/// the working directory names it): a pre-commit hook checks what is staged (pre-commit
/// stashes the rest), and a commit takes only that.
pub fn next_step(render: &str, folder: &str) -> String {
    // A quoted folder (`'my fleet/rendered'`) takes its slash inside the quotes.
    let staged = match folder.strip_suffix('\'') {
        Some(open) => format!("{open}/'"),
        None => format!("{folder}/"),
    };
    format!("run `{render}` and stage `{staged}` (`git add {folder}`) to bring it up to date")
}

fn count_line(drifts: &[Drift], out: &str, next: &str) -> String {
    let count = |s: Status| drifts.iter().filter(|d| d.status == s).count();
    let unstaged = count(Status::NotStaged);
    if unstaged == drifts.len() {
        return format!(
            "{out}/ is what the sources compile to, but git does not track {} of it: a commit leaves them out\n{next}\n",
            crate::diag::count(unstaged, "file")
        );
    }
    let unstaged = match unstaged {
        0 => String::new(),
        n => format!(", {n} not staged"),
    };
    format!(
        "{out}/ is not what the sources compile to: {} stale, {} edited by hand, {} missing, {} orphaned{unstaged}\n{next}\n",
        count(Status::Stale),
        count(Status::EditedByHand),
        count(Status::Missing),
        count(Status::Orphaned),
    )
}

/// One line per file: `rendered/c/apps/a/x.yaml: stale`, then (unless `quiet`) the count.
pub fn concise(drifts: &[Drift], out: &str, next: &str, quiet: bool) -> String {
    let mut text = String::new();
    for d in drifts {
        let path = crate::diag::escape::line(&d.path);
        text.push_str(&format!("{out}/{path}: {}\n", d.status.as_str()));
    }
    if !quiet {
        text.push_str(&count_line(drifts, out, next));
    }
    text
}

/// GitHub Actions workflow commands: an error annotation on each file (`out` is the output
/// folder's path from the top of the git repository, or after `--path-prefix`), saying to
/// run `render` (the render command) and commit the result.
pub fn github(drifts: &[Drift], out: &str, render: &str) -> String {
    let prop = |s: &str| {
        crate::diag::escape::line(s)
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
            .replace(':', "%3A")
            .replace(',', "%2C")
    };
    let render = crate::diag::escape::line(render)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    let mut text = String::new();
    for d in drifts {
        let todo = match d.status {
            Status::NotStaged => "git does not track it: `git add` it".to_string(),
            _ => format!("run `{render}`"),
        };
        text.push_str(&format!(
            "::error file={},title=fleetgen check::{}: {todo} and commit the result\n",
            prop(&format!("{out}/{}", d.path)),
            d.status.as_str(),
        ));
    }
    text
}

/// The report for machines: one object per file, its `path` in the output folder and its
/// `file` as the other formats name it (`out` is the output folder's path from the top of
/// the git repository, or after `--path-prefix`).
pub fn json(drifts: &[Drift], out: &str) -> String {
    let items: Vec<serde_json::Value> = drifts
        .iter()
        .map(|d| {
            let file = if d.path.is_empty() {
                out.to_string()
            } else {
                format!("{out}/{}", d.path)
            };
            serde_json::json!({"path": d.path, "file": file, "status": d.status.as_str(), "diff": d.diff})
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&items).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The folder to stage ends in a slash inside its quotes when it is quoted.
    #[test]
    fn the_folder_to_stage_keeps_its_slash_inside_its_quotes() {
        let quoted = next_step("fleetgen render", "'infra/my fleet/rendered'");
        assert!(
            quoted.contains("stage `'infra/my fleet/rendered/'` (`git add 'infra/my fleet/rendered'`)"),
            "{quoted}"
        );
        let plain = next_step("fleetgen render", "infra/fleet/rendered");
        assert!(
            plain.contains("stage `infra/fleet/rendered/` (`git add infra/fleet/rendered`)"),
            "{plain}"
        );
    }

    fn tree(files: &[(&str, &str)]) -> RenderedTree {
        RenderedTree::from_files(files.iter().copied())
    }

    /// An output folder as a scan that read every file found it.
    fn disk(files: &[(&str, &str)]) -> Disk {
        let on_disk = |t: &str| OnDisk {
            sum: Sum::of(t.as_bytes()),
            text: Some(t.to_string()),
        };
        files.iter().map(|(p, t)| (p.to_string(), on_disk(t))).collect()
    }

    fn compare(expected: &RenderedTree, disk: &Disk) -> Vec<Drift> {
        compare_disk(expected, disk, Path::new("/nonexistent"))
            .expect("every text was read")
            .expect("no file is known by hash only")
    }

    /// Git's `core.autocrlf` checks files out with CRLF line endings (and commits them with
    /// LF): such a file holds what was rendered; one edited besides is diffed as LF, its
    /// digest checked as LF, and shows only the edit.
    #[test]
    fn a_file_checked_out_with_crlf_line_endings_is_read_as_lf() {
        let render = emit::tree::seal("# Rendered by fleetgen\na: 1\nb: 2\n");
        let crlf = |t: &str| t.replace('\n', "\r\n");
        let expected = tree(&[("same.yaml", &render), ("edited.yaml", &render), ("lf.yaml", &render)]);
        let actual = disk(&[
            ("edited.yaml", &crlf(&render.replace("b: 2", "b: 3"))),
            ("lf.yaml", &render),
            ("same.yaml", &crlf(&render)),
        ]);
        let d = compare(&expected, &actual);
        let got: Vec<(&str, &Status)> = d.iter().map(|d| (d.path.as_str(), &d.status)).collect();
        assert_eq!(got, vec![("edited.yaml", &Status::EditedByHand)]);
        assert!(!d[0].diff.contains('\r'), "{}", d[0].diff);
        assert!(
            d[0].diff.contains("-b: 3\n+b: 2\n") && !d[0].diff.contains("-a: 1"),
            "{}",
            d[0].diff
        );
        // A lone CR is not a line ending fleetgen forgives.
        let lone = disk(&[
            ("edited.yaml", &render),
            ("lf.yaml", &render),
            ("same.yaml", &render.replace('\n', "\r")),
        ]);
        assert_eq!(compare(&expected, &lone).len(), 1);
    }

    /// The same for files the cache stands for (known by hash only): read as LF, from the scan
    /// or from the folder when the scan knew them by their stat, they need no render to say
    /// so; an edit besides, or a lone CR, still does.
    #[test]
    fn a_file_the_cache_knows_checked_out_with_crlf_needs_no_render() {
        let dir = tempfile::tempdir().unwrap();
        let lf = emit::tree::seal("# Rendered by fleetgen\na: 1\nb: 2\n");
        let crlf = lf.replace('\n', "\r\n");
        // (path, text in the folder, whether the scan read it: else it knew it by its stat)
        let files = [
            ("edited.yaml", crlf.replace("b: 2", "b: 3"), false),
            ("lf.yaml", lf.clone(), false),
            ("lone.yaml", lf.replace('\n', "\r"), true),
            ("read.yaml", crlf.clone(), true),
            ("stat.yaml", crlf.clone(), false),
        ];
        for (path, text, _) in &files {
            std::fs::write(dir.path().join(path), text).unwrap();
        }
        let compare = |but: &[&str]| {
            let kept = || files.iter().filter(|(path, ..)| !but.contains(path));
            let mut expected = tree(&[]);
            expected.known = kept()
                .map(|(path, ..)| (path.to_string(), Sum::of(lf.as_bytes())))
                .collect();
            let disk: Disk = kept()
                .map(|(path, text, read)| {
                    let sum = Sum::of(text.as_bytes());
                    (
                        path.to_string(),
                        OnDisk {
                            sum,
                            text: read.then(|| text.clone()),
                        },
                    )
                })
                .collect();
            compare_disk(&expected, &disk, dir.path()).unwrap()
        };
        assert_eq!(compare(&[]).unwrap_err(), ["edited.yaml", "lone.yaml"]);
        // Without those two, the folder holds what the cache knows.
        assert!(compare(&["edited.yaml", "lone.yaml"]).unwrap().is_empty());
        // A file gone from the folder since its scan is not what the cache knows.
        std::fs::remove_file(dir.path().join("stat.yaml")).unwrap();
        assert_eq!(compare(&["edited.yaml", "lone.yaml"]).unwrap_err(), ["stat.yaml"]);
    }

    #[test]
    fn tells_stale_from_edited_by_hand() {
        let old_render = emit::tree::seal("# Rendered by fleetgen\na: 1\n");
        let new_render = emit::tree::seal("# Rendered by fleetgen\na: 2\n");
        let hand = old_render.replace("a: 1", "a: 3");
        let expected = tree(&[("x.yaml", &new_render), ("y.yaml", &new_render), ("new.yaml", "n\n")]);
        let actual = disk(&[("x.yaml", &old_render), ("y.yaml", &hand), ("gone.yaml", "g\n")]);
        let d = compare(&expected, &actual);
        let got: Vec<(&str, &Status)> = d.iter().map(|d| (d.path.as_str(), &d.status)).collect();
        assert_eq!(
            got,
            vec![
                ("gone.yaml", &Status::Orphaned),
                ("new.yaml", &Status::Missing),
                ("x.yaml", &Status::Stale),
                ("y.yaml", &Status::EditedByHand),
            ]
        );
        assert!(
            d[2].diff.contains("-a: 1") && d[2].diff.contains("+a: 2"),
            "{}",
            d[2].diff
        );
        let same: Vec<(&str, &str)> = expected.files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        assert!(compare(&expected, &disk(&same)).is_empty());
    }

    #[test]
    fn a_file_known_by_hash_is_compared_by_hash_and_asks_for_its_text_when_it_differs() {
        let mut expected = tree(&[("a.yaml", "a\n")]);
        expected.known = [("k.yaml".to_string(), Sum::of(b"k\n"))].into_iter().collect();
        let same = disk(&[("a.yaml", "a\n"), ("k.yaml", "k\n")]);
        let found = compare_disk(&expected, &same, Path::new("/nonexistent")).expect("nothing to read");
        assert_eq!(found.map(|d| d.len()), Ok(0));
        for changed in [
            disk(&[("a.yaml", "a\n"), ("k.yaml", "edited\n")]),
            disk(&[("a.yaml", "a\n")]),
            Disk::default(),
        ] {
            let found = compare_disk(&expected, &changed, Path::new("/nonexistent")).expect("nothing to read");
            assert_eq!(
                found.map(|d| d.len()),
                Err(vec!["k.yaml".to_string()]),
                "a differing cached file needs a render to be explained, and is named"
            );
        }
    }

    #[test]
    fn one_pass_names_each_differing_cached_file_and_each_orphan_wherever_they_sort() {
        let mut expected = tree(&[("a.yaml", "a\n"), ("d.yaml", "d\n")]);
        let known = ["b.yaml", "c.yaml", "e.yaml"];
        expected.known = known.iter().map(|k| (k.to_string(), Sum::of(k.as_bytes()))).collect();
        let held = |files: &[&str], extra: &[(&str, &str)]| {
            let mut all: Vec<(&str, &str)> = files.iter().map(|f| (*f, *f)).collect();
            all.extend_from_slice(extra);
            disk(&all)
        };
        let rendered = [("a.yaml", "a\n"), ("d.yaml", "d\n")];
        let unexplained = |d: &Disk| {
            compare_disk(&expected, d, Path::new("/nonexistent"))
                .expect("nothing to read")
                .err()
        };
        // Cached files missing or changed before, between and after the others: (cached
        // files held, the other files held, the cached files named).
        type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a [&'a str]);
        let cases: [Case; 3] = [
            (&["c.yaml", "e.yaml"], &rendered, &["b.yaml"]),
            (
                &["b.yaml", "e.yaml"],
                &[rendered[0], rendered[1], ("c.yaml", "edited")],
                &["c.yaml"],
            ),
            (
                &["b.yaml", "c.yaml"],
                &[rendered[0], rendered[1], ("z.yaml", "z")],
                &["e.yaml"],
            ),
        ];
        for (files, extra, want) in cases {
            let want: Vec<String> = want.iter().map(|p| p.to_string()).collect();
            assert_eq!(unexplained(&held(files, extra)), Some(want));
        }
        // Everything cached is there: orphans before, among and after the rest, a missing and
        // a stale rendered file.
        let on_disk = held(
            &["b.yaml", "c.yaml", "e.yaml"],
            &[("0.yaml", "x"), ("bb.yaml", "x"), ("d.yaml", "old\n"), ("z.yaml", "x")],
        );
        let found: Vec<(String, Status)> = compare(&expected, &on_disk)
            .into_iter()
            .map(|d| (d.path, d.status))
            .collect();
        let want = [
            ("0.yaml", Status::Orphaned),
            ("a.yaml", Status::Missing),
            ("bb.yaml", Status::Orphaned),
            ("d.yaml", Status::Stale),
            ("z.yaml", Status::Orphaned),
        ];
        assert_eq!(found, want.map(|(p, s)| (p.to_string(), s)));
    }

    /// Numbers below `n` (at least 1) from a xorshift generator started at `seed`: the same
    /// cases on every run.
    fn xorshift(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |n| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        }
    }

    /// A large output folder is compared in pieces on the pool: the cached files that
    /// differ or are missing and the orphans are those of one pass over the whole, wherever
    /// the pieces start (a missing cached file just before or after a piece's first path, an
    /// orphan first or last in a piece, runs of either across several pieces).
    #[test]
    fn pieces_of_a_large_folder_find_what_one_pass_would() {
        let mut random = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut next = |n: u64| random(n as usize) as u64;
        for round in 0..40 {
            let paths: Vec<String> = (0..20_000).map(|i| format!("c/apps/a{:05}/f.yaml", i * 2)).collect();
            let rendered: Vec<(String, String)> = (0..50)
                .map(|_| (format!("c/apps/a{:05}/r.yaml", next(40_000)), "r\n".into()))
                .collect();
            let mut expected = RenderedTree::from_files(rendered.iter().map(|(p, t)| (p.as_str(), t.as_str())));
            expected.known = paths.iter().map(|p| (p.clone(), Sum::of(p.as_bytes()))).collect();
            // Most rounds only orphans; the others also missing and changed cached files.
            let damage = if round % 2 == 0 { 0 } else { 1 + next(30) };
            let (mut gone, mut changed) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
            for _ in 0..damage {
                let at = next(paths.len() as u64) as usize;
                match next(2) {
                    0 => gone.insert(at),
                    _ => changed.insert(at),
                };
            }
            // Runs of missing files across whole pieces, now and then.
            if round % 4 == 1 {
                let from = next(paths.len() as u64 / 2) as usize;
                gone.extend(from..from + 6000);
            }
            let mut on_disk: Vec<(String, OnDisk)> = Vec::new();
            let mut orphans = Vec::new();
            for (at, path) in paths.iter().enumerate() {
                if next(500) == 0 {
                    // An orphan right before a cached file (between two of them).
                    let orphan = format!("c/apps/a{:05}/o.yaml", at * 2 - at.min(1));
                    orphans.push(orphan.clone());
                    on_disk.push((
                        orphan,
                        OnDisk {
                            sum: Sum::of(b"o"),
                            text: Some("o".into()),
                        },
                    ));
                }
                if gone.contains(&at) {
                    continue;
                }
                let text = if changed.contains(&at) {
                    "changed".to_string()
                } else {
                    path.clone()
                };
                on_disk.push((
                    path.clone(),
                    OnDisk {
                        sum: Sum::of(text.as_bytes()),
                        text: Some(text),
                    },
                ));
            }
            for (path, text) in &rendered {
                on_disk.push((
                    path.clone(),
                    OnDisk {
                        sum: Sum::of(text.as_bytes()),
                        text: Some(text.clone()),
                    },
                ));
            }
            let disk = Disk::from_vec(on_disk);
            let found = compare_disk(&expected, &disk, Path::new("/nonexistent")).expect("every text was read");
            let want: Vec<String> = gone.union(&changed).map(|at| paths[*at].clone()).collect();
            if want.is_empty() {
                let mut orphans: Vec<String> = orphans
                    .into_iter()
                    .filter(|o| !expected.files.contains_key(o))
                    .collect();
                orphans.sort();
                orphans.dedup();
                let drifts = found.expect("nothing cached differs");
                assert!(drifts.iter().all(|d| d.status == Status::Orphaned), "round {round}");
                assert_eq!(
                    drifts.into_iter().map(|d| d.path).collect::<Vec<_>>(),
                    orphans,
                    "round {round}"
                );
            } else {
                assert_eq!(found.err(), Some(want), "round {round}");
            }
        }
    }

    /// The diff of two whole texts, as `unified` made it before it left out what they
    /// share: the reference it must match.
    fn whole(path: &str, old: &str, new: &str) -> String {
        let text = TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(CONTEXT)
            .header(&format!("a/{path} (on disk)"), &format!("b/{path} (rendered)"))
            .to_string();
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        if lines.len() <= DIFF_LINES {
            return text;
        }
        format!(
            "{}… {} more lines of diff\n",
            lines[..DIFF_LINES].concat(),
            lines.len() - DIFF_LINES
        )
    }

    /// Leaving out the lines both texts start and end with changes nothing in a diff: the
    /// same hunks, line numbers, context and cut, whether the change is at the start, the
    /// end or both, a line's end or start is shared, a text lacks its last newline or is
    /// empty. Lines are distinct (edits replace, insert and remove; nothing moves), so only
    /// one diff is right.
    #[test]
    fn a_diff_of_the_middle_is_the_diff_of_the_whole() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut checked = 0;
        for case in 0..3000 {
            let count = next(70);
            let old: Vec<String> = (0..count).map(|i| format!("line {i}")).collect();
            let mut new = old.clone();
            for edit in 0..1 + next(3) {
                let at = next(new.len() + 1);
                match next(4) {
                    // A line whose end is the old one's, or whose start is.
                    0 if at < new.len() => new[at] = format!("x{}", new[at]),
                    1 if at < new.len() => new[at] = format!("{}x", new[at]),
                    2 if at < new.len() => {
                        new.remove(at);
                    }
                    _ => new.insert(at, format!("new {case}.{edit}")),
                }
            }
            let join = |lines: &[String], newline_at_end: bool| {
                let mut text = lines.join("\n");
                if newline_at_end && !text.is_empty() {
                    text.push('\n');
                }
                text
            };
            let (old, new) = (join(&old, next(5) != 0), join(&new, next(5) != 0));
            let got = unified("f.yaml", &old, &new);
            assert_eq!(got, whole("f.yaml", &old, &new), "{old:?}\n→ {new:?}");
            checked += usize::from(old != new && middle(&old, &new).0 > 0);
        }
        // Most cases did leave lines out in front (and moved the hunks' numbers).
        assert!(checked > 1500, "{checked}");
        // A change in the tenth line of twenty: two lines of context each side, numbered
        // as in the whole file.
        let old: String = (1..=20).map(|i| format!("l{i}\n")).collect();
        let new = old.replace("l10\n", "l10 changed\n");
        assert_eq!(
            unified("f", &old, &new),
            "--- a/f (on disk)\n+++ b/f (rendered)\n@@ -8,5 +8,5 @@\n l8\n l9\n-l10\n+l10 changed\n l11\n l12\n"
        );
        assert_eq!(
            middle(&old, &new),
            (7, "l8\nl9\nl10\nl11\nl12\n", "l8\nl9\nl10 changed\nl11\nl12\n")
        );
        assert_eq!(unified("f", &old, &old), "");
    }

    #[test]
    fn long_diffs_are_cut() {
        let old: String = (0..200).map(|i| format!("line {i}\n")).collect();
        let d = unified("f", &old, "");
        assert!(d.lines().count() <= DIFF_LINES + 1);
        assert!(d.contains("more lines of diff"));
    }
}
