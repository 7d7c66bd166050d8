//! A fleet repository as it is at a git revision, read from git objects (git2): nothing is
//! checked out and the working tree is never touched. Implements [`Files`] with the working
//! tree's rules: only the folders fleetgen reads are listed, a blob's size is read from its
//! object header before its content, and a symbolic link is followed when its target (looked
//! up in the same revision) stays inside the fleet folder.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Tree, TreeWalkMode, TreeWalkResult};

use super::files::{FileError, Files, MAX_FILE_BYTES, Walk};
use crate::layout::{self, Role};

/// Symbolic links followed one after another before giving up.
const MAX_LINKS: usize = 40;

/// The files of a revision under the folders fleetgen reads.
pub struct GitRevision {
    repo: Repository,
    files: Index,
    /// The revision as given, e.g. `HEAD~1`.
    pub name: String,
    /// Its commit id.
    pub commit: String,
}

impl GitRevision {
    /// Reads the fleet at `dir` (a repository, or a folder inside one) as of `rev`.
    pub fn open(dir: &Path, rev: &str) -> Result<GitRevision, String> {
        let (repo, prefix) = locate(dir)?;
        Self::open_in(repo, &prefix, rev)?.ok_or_else(|| format!("`{}` does not exist at `{rev}`", prefix.display()))
    }

    /// As [`GitRevision::open`], but `None` when the fleet is not there at `rev`: its folder
    /// does not exist then, or holds none of fleetgen's inputs (a revision from before the
    /// fleet was added). A folder with inputs but no `fleet.yaml` (one deleted by mistake) is
    /// there, and does not compile (FG001).
    pub fn open_if_present(dir: &Path, rev: &str) -> Result<Option<GitRevision>, String> {
        let (repo, prefix) = locate(dir)?;
        let revision = Self::open_in(repo, &prefix, rev)?;
        Ok(revision.filter(|r| !r.files.is_empty()))
    }

    /// The fleet in folder `prefix` of `repo` at `rev`; `None` when that folder does not exist
    /// (any other error reading it, such as an object a partial clone lacks, is an error).
    fn open_in(repo: Repository, prefix: &Path, rev: &str) -> Result<Option<GitRevision>, String> {
        let (files, commit_id) = {
            let commit = commit_at(&repo, rev)?;
            let mut tree = commit.tree().map_err(|e| e.message().to_string())?;
            if !prefix.as_os_str().is_empty() {
                let entry = match tree.get_path(prefix) {
                    Ok(entry) => entry,
                    Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
                    Err(e) => return Err(format!("cannot read `{rev}`: {}", e.message())),
                };
                tree = entry
                    .to_object(&repo)
                    .and_then(|o| o.peel_to_tree())
                    .map_err(|e| e.message().to_string())?;
            }
            let files = index(&repo, &tree).map_err(|e| format!("cannot read `{rev}`: {e}"))?;
            (files, commit.id().to_string())
        };
        Ok(Some(GitRevision {
            repo,
            files,
            name: rev.to_string(),
            commit: commit_id,
        }))
    }

    /// The fleet at a tree of `repo` (its top is the fleet folder), for tools that build
    /// trees without commits (the fuzz harness).
    pub fn from_tree(repo: Repository, tree: Oid, name: &str) -> Result<GitRevision, String> {
        let files = {
            let tree = repo.find_tree(tree).map_err(|e| e.message().to_string())?;
            index(&repo, &tree)?
        };
        Ok(GitRevision {
            repo,
            files,
            name: name.to_string(),
            commit: tree.to_string(),
        })
    }
}

/// The git repository `dir` is in (or is: a bare one).
fn discover(dir: &Path) -> Result<Repository, String> {
    Repository::discover(dir).map_err(|e| {
        // Git's own check of who owns the repository (`safe.directory`), as `lint` and
        // `check` say it: the repository is there, git refuses it.
        if e.code() == git2::ErrorCode::Owner {
            format!(
                "git refuses the repository of `{}`: it belongs to another user (git's `safe.directory`); run `git config --global --add safe.directory <the repository>`",
                dir.display()
            )
        } else {
            format!("`{}` is not in a git repository: {}", dir.display(), e.message())
        }
    })
}

/// The repository of the fleet at `dir`, and the fleet's folder inside its trees. In a bare
/// repository (a server's), which has no folders on disk, the fleet is at the top of its
/// trees, or in the folder a path under it names: `--repo site.git/infra/fleet`.
fn locate(dir: &Path) -> Result<(Repository, std::path::PathBuf), String> {
    if !dir.exists() {
        for above in dir.ancestors().skip(1).filter(|a| a.exists()) {
            if let Ok(repo) = Repository::open_bare(above)
                && let Ok(rest) = dir.strip_prefix(above)
            {
                return Ok((repo, rest.to_path_buf()));
            }
        }
    }
    let repo = discover(dir)?;
    let prefix = fleet_prefix(&repo, dir)?;
    Ok((repo, prefix))
}

/// Where the fleet at `dir` is inside its repository's trees: its folder under the working
/// tree, or the top of a bare repository.
fn fleet_prefix(repo: &Repository, dir: &Path) -> Result<std::path::PathBuf, String> {
    let Some(workdir) = repo.workdir() else {
        return Ok(Default::default());
    };
    let dir = std::fs::canonicalize(dir).map_err(|e| format!("cannot open `{}`: {e}", dir.display()))?;
    let workdir = std::fs::canonicalize(workdir).map_err(|e| format!("cannot open the repository: {e}"))?;
    Ok(dir.strip_prefix(&workdir).unwrap_or(Path::new("")).to_path_buf())
}

/// What a shallow clone lacks and how to fetch it.
const SHALLOW_HINT: &str = "\n  help: this clone is shallow and may not hold that history: fetch it (`git fetch \
     --deepen=N`, or `git fetch origin BRANCH`), or clone with its history (`fetch-depth: 0` with \
     actions/checkout)";

/// The commit `rev` names. A revision a shallow clone does not hold says how to fetch it.
fn commit_at<'r>(repo: &'r Repository, rev: &str) -> Result<git2::Commit<'r>, String> {
    let object = repo.revparse_single(rev).map_err(|e| {
        let mut message = format!("unknown revision `{rev}`: {}", e.message());
        if repo.is_shallow() {
            message.push_str(SHALLOW_HINT);
        }
        message
    })?;
    object
        .peel_to_commit()
        .map_err(|e| format!("`{rev}` is not a commit: {}", e.message()))
}

/// Whether `dir` is (in) a bare git repository: one without a working tree.
pub fn is_bare(dir: &Path) -> bool {
    locate(dir).is_ok_and(|(repo, _)| repo.is_bare())
}

/// The best common ancestor of the commits `a` and `b` name in the repository of `dir`, as
/// a commit id: where `git diff A...B` starts.
pub fn merge_base(dir: &Path, a: &str, b: &str) -> Result<String, String> {
    let (repo, _) = locate(dir)?;
    let (one, two) = (commit_at(&repo, a)?.id(), commit_at(&repo, b)?.id());
    repo.merge_base(one, two).map(|id| id.to_string()).map_err(|e| {
        // A shallow clone may hold both commits and not the history that joins them.
        match repo.is_shallow() {
            true => format!(
                "no common ancestor of `{a}` and `{b}` in this clone: {}{SHALLOW_HINT}",
                e.message()
            ),
            false => format!("`{a}` and `{b}` have no common ancestor: {}", e.message()),
        }
    })
}

/// Files found under the roots, by path: the blob to read, or why it cannot be read.
type Index = BTreeMap<String, Result<Oid, FileError>>;

/// The largest blob read as a symbolic link's target (Linux's `PATH_MAX`).
const MAX_LINK_BYTES: usize = 4096;

/// Entries a revision's walk may visit before giving up (links can make a small tree look
/// exponentially large); the working tree has the same limit.
pub const MAX_ENTRIES: usize = super::files::MAX_ENTRIES;

/// A folder still to list: its path, its tree, the trees it is inside (for loops), and how
/// many links led here.
struct Pending {
    at: String,
    tree: Oid,
    ancestors: Vec<Oid>,
    links: usize,
}

/// Every file under the roots fleetgen reads that fleetgen would read (by its path's
/// role in [`layout::classify`]), links resolved, with what cannot be read.
fn index(repo: &Repository, tree: &Tree) -> Result<Index, String> {
    let mut files = Index::new();
    let mut pending = Vec::new();
    for root in layout::ROOTS {
        let Ok(entry) = tree.get_path(Path::new(root)) else {
            continue;
        };
        let folder = *root != layout::FLEET_FILE;
        let found = resolve_entry(repo, tree, root, entry.id(), entry.filemode(), entry.kind(), 0);
        match (found, folder) {
            (Ok(Target::Tree(id)), true) => pending.push(Pending {
                at: root.to_string(),
                tree: id,
                ancestors: vec![tree.id()],
                links: 0,
            }),
            (Ok(Target::Tree(_)), false) => {
                files.insert(root.to_string(), Err(FileError::NotAFile("a folder")));
            }
            (Ok(Target::Blob(id)), false) => {
                files.insert(root.to_string(), Ok(id));
            }
            (Ok(Target::Blob(_)), true) => {
                files.insert(root.to_string(), Err(FileError::NotAFolder));
            }
            (Err(problem), _) => {
                files.insert(root.to_string(), Err(problem));
            }
        }
    }
    let mut visited = 0usize;
    while let Some(dir) = pending.pop() {
        let sub = repo.find_tree(dir.tree).map_err(|e| e.message().to_string())?;
        for entry in sub.iter() {
            visited += 1;
            if visited > MAX_ENTRIES {
                files.insert(dir.at.clone(), Err(FileError::TooManyEntries));
                return Ok(files);
            }
            let name = String::from_utf8_lossy(entry.name_bytes());
            let path = format!("{}/{name}", dir.at);
            if entry.name().is_err() {
                if layout::classify(&path) != Role::Other || entry.kind() == Some(ObjectType::Tree) {
                    files.insert(path, Err(FileError::NameNotUtf8));
                }
                continue;
            }
            match resolve_entry(repo, tree, &path, entry.id(), entry.filemode(), entry.kind(), dir.links) {
                Ok(Target::Tree(_)) if layout::reads_file(&path) => {
                    files.insert(path, Err(FileError::NotAFile("a folder")));
                }
                Ok(Target::Tree(id)) => {
                    if dir.ancestors.contains(&id) || id == dir.tree {
                        files.insert(path, Err(FileError::LinkLoop));
                        continue;
                    }
                    let mut ancestors = dir.ancestors.clone();
                    ancestors.push(dir.tree);
                    let links = dir.links + usize::from(entry.filemode() == LINK);
                    pending.push(Pending {
                        at: path,
                        tree: id,
                        ancestors,
                        links,
                    });
                }
                Ok(Target::Blob(id)) => {
                    if layout::classify(&path) != Role::Other {
                        files.insert(path, Ok(id));
                    }
                }
                // A link that cannot be followed is reported wherever it is, as in the
                // working tree; a submodule too (the working tree reads its files, which the
                // revision's objects do not hold: a `diff` would silently leave them out);
                // anything else only where fleetgen would read a file.
                Err(problem) => {
                    if entry.filemode() == LINK
                        || entry.kind() == Some(ObjectType::Commit)
                        || layout::classify(&path) != Role::Other
                    {
                        files.insert(path, Err(problem));
                    }
                }
            }
        }
    }
    Ok(files)
}

/// The mode of a symbolic link in a git tree.
const LINK: i32 = 0o120000;

/// What an entry of the revision is, links followed.
fn resolve_entry(
    repo: &Repository,
    top: &Tree,
    path: &str,
    id: Oid,
    mode: i32,
    kind: Option<ObjectType>,
    links: usize,
) -> Result<Target, FileError> {
    match kind {
        Some(ObjectType::Tree) => Ok(Target::Tree(id)),
        Some(ObjectType::Blob) if mode == LINK => follow(repo, top, path, id, links),
        Some(ObjectType::Blob) => Ok(Target::Blob(id)),
        Some(ObjectType::Commit) => Err(FileError::NotAFile("a git submodule")),
        _ => Err(FileError::NotAFile("a special entry")),
    }
}

enum Target {
    Blob(Oid),
    Tree(Oid),
}

/// Where the link at `path` (whose blob is `id`) leads, inside the fleet folder `top`.
fn follow(repo: &Repository, top: &Tree, path: &str, id: Oid, links: usize) -> Result<Target, FileError> {
    let unreadable = |e: git2::Error| FileError::Unreadable(e.message().to_string());
    let odb = repo.odb().map_err(unreadable)?;
    let mut path = path.to_string();
    let mut id = id;
    for _ in links..MAX_LINKS {
        // A link's blob is its target's path: never read a large one whole.
        let (size, _) = odb.read_header(id).map_err(unreadable)?;
        if size > MAX_LINK_BYTES {
            return Err(FileError::Unreadable(format!(
                "a symbolic link whose target is {size} bytes long"
            )));
        }
        let blob = repo.find_blob(id).map_err(unreadable)?;
        let target = std::str::from_utf8(blob.content()).map_err(|_| FileError::LinkOutside)?;
        let resolved = resolve(&path, target).ok_or(FileError::LinkOutside)?;
        let entry = top.get_path(Path::new(&resolved)).map_err(|_| FileError::NotFound)?;
        match entry.kind() {
            Some(ObjectType::Tree) => return Ok(Target::Tree(entry.id())),
            Some(ObjectType::Blob) if entry.filemode() == LINK => {
                path = resolved;
                id = entry.id();
            }
            Some(ObjectType::Blob) => return Ok(Target::Blob(entry.id())),
            Some(ObjectType::Commit) => return Err(FileError::NotAFile("a git submodule")),
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
        // The folder itself could not be listed (a file, a link out of the fleet).
        if let Some(Err(problem)) = self.files.get(dir) {
            walk.problems.push((dir.to_string(), problem.clone()));
            return walk;
        }
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
/// no longer compile. `None` when the revision has no such folder. Only regular files are
/// read, each after its size is read from its object header: a file over the input limit
/// (or a symbolic link) makes the folder unusable, as it would be for `check`.
pub fn committed_folder(dir: &Path, rev: &str, folder: &str) -> Result<Option<BTreeMap<String, String>>, String> {
    let revision = GitRevision::open(dir, rev)?;
    let repo = &revision.repo;
    let at = locate(dir)?.1.join(folder);
    let commit = commit_at(repo, &revision.commit)?;
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
            found.push((format!("{dir}{name}"), entry.id(), entry.filemode()));
        }
        TreeWalkResult::Ok
    });
    let odb = repo.odb().map_err(|e| e.message().to_string())?;
    let mut files = BTreeMap::new();
    for (path, id, mode) in found {
        if mode != 0o100644 && mode != 0o100755 {
            return Err(format!("`{folder}/{path}` is not a regular file"));
        }
        let (size, _) = odb.read_header(id).map_err(|e| e.message().to_string())?;
        if size as u64 > MAX_FILE_BYTES {
            return Err(format!("`{folder}/{path}` is over {MAX_FILE_BYTES} bytes"));
        }
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
