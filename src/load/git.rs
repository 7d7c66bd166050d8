//! A fleet repository as it is at a git revision, read from git objects (git2): nothing is
//! checked out and the working tree is never touched. Implements [`Files`] with the working
//! tree's rules: only the folders fleetgen reads are listed, a blob's size is read from its
//! object header before its content, and a symbolic link is followed when its target (looked
//! up in the same revision) stays inside the fleet folder.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Tree, TreeWalkMode, TreeWalkResult};

use super::files::{FileError, Files, MAX_FILE_BYTES, Walk};
use crate::layout;

/// Symbolic links followed one after another before giving up.
const MAX_LINKS: usize = 40;

/// The files of a revision under the folders fleetgen reads.
pub struct GitRevision {
    repo: Repository,
    files: BTreeMap<String, Result<Oid, FileError>>,
    /// The revision as given, e.g. `HEAD~1`.
    pub name: String,
    /// Its commit id.
    pub commit: String,
}

impl GitRevision {
    /// Reads the fleet at `dir` (a repository, or a folder inside one) as of `rev`.
    pub fn open(dir: &Path, rev: &str) -> Result<GitRevision, String> {
        let repo = Repository::discover(dir)
            .map_err(|e| format!("`{}` is not in a git repository: {}", dir.display(), e.message()))?;
        let workdir = repo.workdir().ok_or("the git repository has no working tree")?;
        let dir = std::fs::canonicalize(dir).map_err(|e| format!("cannot open `{}`: {e}", dir.display()))?;
        let workdir = std::fs::canonicalize(workdir).map_err(|e| format!("cannot open the repository: {e}"))?;
        let prefix = dir.strip_prefix(&workdir).unwrap_or(Path::new("")).to_path_buf();
        let (files, commit_id) = {
            let commit = repo
                .revparse_single(rev)
                .map_err(|e| format!("unknown revision `{rev}`: {}", e.message()))?
                .peel_to_commit()
                .map_err(|e| format!("`{rev}` is not a commit: {}", e.message()))?;
            let mut tree = commit.tree().map_err(|e| e.message().to_string())?;
            if !prefix.as_os_str().is_empty() {
                tree = tree
                    .get_path(&prefix)
                    .map_err(|_| format!("`{}` does not exist at `{rev}`", prefix.display()))?
                    .to_object(&repo)
                    .and_then(|o| o.peel_to_tree())
                    .map_err(|e| e.message().to_string())?;
            }
            let files = index(&repo, &tree).map_err(|e| format!("cannot read `{rev}`: {e}"))?;
            (files, commit.id().to_string())
        };
        Ok(GitRevision {
            repo,
            files,
            name: rev.to_string(),
            commit: commit_id,
        })
    }
}

/// Every file under the roots fleetgen reads, links resolved.
fn index(repo: &Repository, tree: &Tree) -> Result<BTreeMap<String, Result<Oid, FileError>>, String> {
    let mut files = BTreeMap::new();
    for root in layout::ROOTS {
        let Ok(entry) = tree.get_path(Path::new(root)) else {
            continue;
        };
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let sub = entry
                    .to_object(repo)
                    .and_then(|o| o.peel_to_tree())
                    .map_err(|e| e.message().to_string())?;
                add_tree(repo, tree, &sub, root, 0, &mut files);
            }
            _ => add_entry(repo, tree, root, entry.id(), entry.filemode(), 0, &mut files),
        }
    }
    Ok(files)
}

/// Adds the files of `sub`, listed under `at`.
fn add_tree(
    repo: &Repository,
    top: &Tree,
    sub: &Tree,
    at: &str,
    depth: usize,
    files: &mut BTreeMap<String, Result<Oid, FileError>>,
) {
    let mut found = Vec::new();
    let _ = sub.walk(TreeWalkMode::PreOrder, |dir, entry| {
        if let (Ok(name), Some(ObjectType::Blob)) = (entry.name(), entry.kind()) {
            found.push((format!("{at}/{dir}{name}"), entry.id(), entry.filemode()));
        }
        TreeWalkResult::Ok
    });
    for (path, id, mode) in found {
        add_entry(repo, top, &path, id, mode, depth, files);
    }
}

fn add_entry(
    repo: &Repository,
    top: &Tree,
    path: &str,
    id: Oid,
    mode: i32,
    depth: usize,
    files: &mut BTreeMap<String, Result<Oid, FileError>>,
) {
    if mode != 0o120000 {
        files.insert(path.to_string(), Ok(id));
        return;
    }
    // A symbolic link: its blob holds the target path.
    match follow(repo, top, path, id, depth) {
        Ok(Target::Blob(blob)) => {
            files.insert(path.to_string(), Ok(blob));
        }
        Ok(Target::Tree(tree)) => add_tree(repo, top, &tree, path, depth + 1, files),
        Err(problem) => {
            files.insert(path.to_string(), Err(problem));
        }
    }
}

enum Target<'r> {
    Blob(Oid),
    Tree(Tree<'r>),
}

/// Where the link at `path` (whose blob is `id`) leads, inside the fleet folder `top`.
fn follow<'r>(repo: &'r Repository, top: &Tree, path: &str, id: Oid, depth: usize) -> Result<Target<'r>, FileError> {
    let mut path = path.to_string();
    let mut id = id;
    for _ in depth..MAX_LINKS {
        let blob = repo
            .find_blob(id)
            .map_err(|e| FileError::Unreadable(e.message().to_string()))?;
        let target = std::str::from_utf8(blob.content()).map_err(|_| FileError::LinkOutside)?;
        let resolved = resolve(&path, target).ok_or(FileError::LinkOutside)?;
        let entry = top.get_path(Path::new(&resolved)).map_err(|_| FileError::NotFound)?;
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let tree = entry
                    .to_object(repo)
                    .and_then(|o| o.peel_to_tree())
                    .map_err(|e| FileError::Unreadable(e.message().to_string()))?;
                return Ok(Target::Tree(tree));
            }
            Some(ObjectType::Blob) if entry.filemode() == 0o120000 => {
                path = resolved;
                id = entry.id();
            }
            Some(ObjectType::Blob) => return Ok(Target::Blob(entry.id())),
            _ => return Err(FileError::NotFound),
        }
    }
    Err(FileError::LinkLoop)
}

/// The target of a link at `link` (a path in the fleet folder), normalised; `None` when it
/// leaves the fleet folder.
fn resolve(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

impl Files for GitRevision {
    fn walk(&self, dir: &str) -> Walk {
        let prefix = format!("{dir}/");
        let mut walk = Walk::default();
        for (path, entry) in self.files.range(prefix.clone()..) {
            if !path.starts_with(&prefix) {
                break;
            }
            match entry {
                Ok(_) => walk.files.push(path.clone()),
                Err(problem) => walk.problems.push((path.clone(), problem.clone())),
            }
        }
        walk
    }

    fn is_file(&self, path: &str) -> bool {
        matches!(self.files.get(path), Some(Ok(_)))
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, FileError> {
        let id = match self.files.get(path) {
            Some(Ok(id)) => *id,
            Some(Err(problem)) => return Err(problem.clone()),
            None => return Err(FileError::NotFound),
        };
        let unreadable = |e: git2::Error| FileError::Unreadable(e.message().to_string());
        let (size, _) = self
            .repo
            .odb()
            .and_then(|odb| odb.read_header(id))
            .map_err(unreadable)?;
        if size as u64 > MAX_FILE_BYTES {
            return Err(FileError::TooLarge);
        }
        Ok(self.repo.find_blob(id).map_err(unreadable)?.content().to_vec())
    }
}

/// The files committed under `folder` (the output folder, `rendered`) of the fleet at `dir`
/// as of `rev`, by path inside it: what `fleetgen diff` compares when a revision's sources
/// no longer compile. `None` when the revision has no such folder.
pub fn committed_folder(dir: &Path, rev: &str, folder: &str) -> Result<Option<BTreeMap<String, String>>, String> {
    let revision = GitRevision::open(dir, rev)?;
    let repo = &revision.repo;
    let dir = std::fs::canonicalize(dir).map_err(|e| format!("cannot open `{}`: {e}", dir.display()))?;
    let workdir = repo.workdir().ok_or("the git repository has no working tree")?;
    let workdir = std::fs::canonicalize(workdir).map_err(|e| format!("cannot open the repository: {e}"))?;
    let at = dir.strip_prefix(&workdir).unwrap_or(Path::new("")).join(folder);
    let commit = repo
        .revparse_single(&revision.commit)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| e.message().to_string())?;
    let root = commit.tree().map_err(|e| e.message().to_string())?;
    let Ok(entry) = root.get_path(&at) else {
        return Ok(None);
    };
    let tree = entry
        .to_object(repo)
        .and_then(|o| o.peel_to_tree())
        .map_err(|e| e.message().to_string())?;
    let mut found = Vec::new();
    let _ = tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        if let (Ok(name), Some(ObjectType::Blob)) = (entry.name(), entry.kind()) {
            found.push((format!("{dir}{name}"), entry.id()));
        }
        TreeWalkResult::Ok
    });
    let mut files = BTreeMap::new();
    for (path, id) in found {
        let blob = repo.find_blob(id).map_err(|e| e.message().to_string())?;
        let text = String::from_utf8_lossy(blob.content()).into_owned();
        files.insert(path, text);
    }
    Ok(Some(files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_targets_resolve_inside_the_fleet_folder_only() {
        assert_eq!(resolve("clusters/b.yaml", "a.yaml").as_deref(), Some("clusters/a.yaml"));
        assert_eq!(
            resolve("apps/web/app.yaml", "../api/app.yaml").as_deref(),
            Some("apps/api/app.yaml")
        );
        assert_eq!(resolve("clusters/b.yaml", "../../etc/passwd"), None);
        assert_eq!(resolve("clusters/b.yaml", "/etc/passwd"), None);
    }
}
