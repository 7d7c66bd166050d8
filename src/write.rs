//! Stage 4, `write`: put a rendered tree on disk, atomically.
//!
//! The new tree is written into a temporary folder beside the output folder, then swapped
//! in with two renames; a render that fails, or a write that fails half-way, leaves the
//! old tree whole. Files of clusters and apps that no longer exist disappear with the old
//! tree. A folder that fleetgen did not write is never replaced.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::emit::RenderedTree;
use crate::layout::{MARK, MATRIX};

/// What a write did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub files: usize,
    pub removed: usize,
}

fn is_fleetgen_output(dir: &Path) -> io::Result<bool> {
    if fs::read_dir(dir)?.next().is_none() {
        return Ok(true); // empty
    }
    match fs::read_to_string(dir.join(MATRIX)) {
        Ok(text) => Ok(text.starts_with(MARK)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Relative, `/`-separated paths of the files under `dir`, sorted.
pub fn list_tree(dir: &Path) -> io::Result<Vec<String>> {
    let mut paths = Vec::new();
    if !dir.exists() {
        return Ok(paths);
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(io::Error::other)?;
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(dir).map_err(io::Error::other)?;
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            paths.push(rel.join("/"));
        }
    }
    Ok(paths)
}

/// Files of an existing output folder, by relative path (read in parallel).
pub fn read_tree(dir: &Path) -> io::Result<RenderedTree> {
    let paths = list_tree(dir)?;
    let texts: Vec<io::Result<String>> = paths.par_iter().map(|rel| fs::read_to_string(dir.join(rel))).collect();
    let mut tree = RenderedTree::default();
    for (rel, text) in paths.into_iter().zip(texts) {
        tree.files.insert(rel, text?);
    }
    Ok(tree)
}

/// Removes a folder tree, its files in parallel.
fn remove_tree(dir: &Path) -> io::Result<()> {
    let paths = list_tree(dir)?;
    paths.par_iter().try_for_each(|rel| fs::remove_file(dir.join(rel)))?;
    fs::remove_dir_all(dir)
}

/// Writes `tree` as the whole content of `out`, or, when only part of the fleet was
/// rendered, over the files of the old content that `keep` accepts (by relative path).
pub fn write(out: &Path, tree: &RenderedTree, keep: Option<&dyn Fn(&str) -> bool>) -> Result<Written, String> {
    let shown = out.display();
    let name = out
        .file_name()
        .ok_or_else(|| format!("`{shown}` cannot be an output folder"))?
        .to_string_lossy()
        .into_owned();
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let exists = out.exists();
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
    } else {
        fs::create_dir_all(&parent).map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
    }
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
        .filter(|k| !tree.files.contains_key(*k) && !tree.known.contains_key(*k) && !kept.contains_key(*k))
        .count();

    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.fleetgen-new-{pid}"));
    let backup = parent.join(format!(".{name}.fleetgen-old-{pid}"));
    let _ = fs::remove_dir_all(&tmp);
    let result = (|| -> io::Result<()> {
        fs::create_dir_all(&tmp)?;
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
        tree.known.par_iter().try_for_each(|(path, _)| {
            let (old, new) = (out.join(path), tmp.join(path));
            fs::hard_link(&old, &new).or_else(|_| fs::copy(&old, &new).map(|_| ()))
        })
    })();
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&tmp);
        return Err(format!(
            "cannot write the new tree beside `{shown}`: {e}; `{shown}` is unchanged"
        ));
    }
    if exists {
        if let Err(e) = fs::rename(out, &backup) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(format!("cannot move `{shown}` aside: {e}; it is unchanged"));
        }
        if let Err(e) = fs::rename(&tmp, out) {
            let _ = fs::rename(&backup, out);
            let _ = fs::remove_dir_all(&tmp);
            return Err(format!(
                "cannot move the new tree into `{shown}`: {e}; the old tree is back"
            ));
        }
        let _ = remove_tree(&backup);
    } else if let Err(e) = fs::rename(&tmp, out) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(format!("cannot create `{shown}`: {e}"));
    }
    Ok(Written {
        files: files.len() + tree.known.len(),
        removed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> RenderedTree {
        RenderedTree::from_files(files.iter().copied())
    }

    #[test]
    fn replaces_the_whole_tree_and_drops_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("rendered");
        let first = tree(&[("fleet.yaml", "# Rendered by fleetgen\n"), ("a/apps/x/k.yaml", "1\n")]);
        assert_eq!(write(&out, &first, None).unwrap().files, 2);
        let second = tree(&[("fleet.yaml", "# Rendered by fleetgen\n"), ("b/apps/y/k.yaml", "2\n")]);
        let w = write(&out, &second, None).unwrap();
        assert_eq!(w, Written { files: 2, removed: 1 });
        assert_eq!(read_tree(&out).unwrap(), second);
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("rendered")]);
    }

    #[test]
    fn keeps_what_a_partial_render_does_not_own() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("rendered");
        let full = tree(&[
            ("fleet.yaml", "# Rendered by fleetgen\n"),
            ("a/apps/x/k.yaml", "1\n"),
            ("a/apps/y/k.yaml", "1\n"),
        ]);
        write(&out, &full, None).unwrap();
        let part = tree(&[
            ("fleet.yaml", "# Rendered by fleetgen v2\n"),
            ("a/apps/x/n.yaml", "2\n"),
        ]);
        let keep = |path: &str| !path.starts_with("a/apps/x/");
        write(&out, &part, Some(&keep)).unwrap();
        let now = read_tree(&out).unwrap();
        let paths: Vec<&str> = now.files.keys().map(String::as_str).collect();
        assert_eq!(paths, vec!["a/apps/x/n.yaml", "a/apps/y/k.yaml", "fleet.yaml"]);
    }

    #[test]
    fn refuses_a_folder_fleetgen_did_not_write() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let err = write(dir.path(), &tree(&[("fleet.yaml", "x")]), None).unwrap_err();
        assert!(err.contains("was not written by fleetgen"), "{err}");
        assert_eq!(fs::read_to_string(dir.path().join("notes.txt")).unwrap(), "mine");
    }
}
