//! A fleet repository as it is at a git revision, read from git objects (git2): nothing is
//! checked out and the working tree is never touched. Implements [`Files`], so a revision
//! goes through exactly the pipeline the working tree does.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{ObjectType, Repository, TreeWalkMode, TreeWalkResult};

use super::files::{Files, MAX_FILE_BYTES};
use crate::diag::{Diagnostic, codes};

enum Entry {
    Blob(Vec<u8>),
    /// A symbolic link: refused, as links are never followed out of a revision.
    Link,
    TooLarge,
}

/// The files of a revision under the folders fleetgen reads.
pub struct GitRevision {
    files: BTreeMap<String, Entry>,
    /// The revision as given, e.g. `HEAD~1`.
    pub name: String,
    /// Its commit id.
    pub commit: String,
}

const ROOTS: &[&str] = &[
    "fleet.yaml",
    "clusters",
    "apps",
    "profiles",
    "policy-library",
    "templates",
];

impl GitRevision {
    /// Reads the fleet at `dir` (a repository, or a folder inside one) as of `rev`.
    pub fn open(dir: &Path, rev: &str) -> Result<GitRevision, String> {
        let repo = Repository::discover(dir)
            .map_err(|e| format!("`{}` is not in a git repository: {}", dir.display(), e.message()))?;
        let workdir = repo.workdir().ok_or("the git repository has no working tree")?;
        let dir = std::fs::canonicalize(dir).map_err(|e| format!("cannot open `{}`: {e}", dir.display()))?;
        let workdir = std::fs::canonicalize(workdir).map_err(|e| format!("cannot open the repository: {e}"))?;
        let prefix = dir.strip_prefix(&workdir).unwrap_or(Path::new(""));
        let object = repo
            .revparse_single(rev)
            .map_err(|e| format!("unknown revision `{rev}`: {}", e.message()))?;
        let commit = object
            .peel_to_commit()
            .map_err(|e| format!("`{rev}` is not a commit: {}", e.message()))?;
        let mut tree = commit.tree().map_err(|e| e.message().to_string())?;
        if !prefix.as_os_str().is_empty() {
            let entry = tree
                .get_path(prefix)
                .map_err(|_| format!("`{}` does not exist at `{rev}`", prefix.display()))?;
            tree = entry
                .to_object(&repo)
                .and_then(|o| o.peel_to_tree())
                .map_err(|e| e.message().to_string())?;
        }
        let mut files = BTreeMap::new();
        let mut failure = None;
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            let Ok(name) = entry.name() else {
                return TreeWalkResult::Skip;
            };
            let path = format!("{dir}{name}");
            let top = path.split('/').next().unwrap_or("");
            if !ROOTS.contains(&top) {
                return TreeWalkResult::Skip;
            }
            if entry.kind() != Some(ObjectType::Blob) {
                return TreeWalkResult::Ok;
            }
            if entry.filemode() == 0o120000 {
                files.insert(path, Entry::Link);
                return TreeWalkResult::Ok;
            }
            match repo.find_blob(entry.id()) {
                Ok(blob) if blob.size() as u64 > MAX_FILE_BYTES => {
                    files.insert(path, Entry::TooLarge);
                }
                Ok(blob) => {
                    files.insert(path, Entry::Blob(blob.content().to_vec()));
                }
                Err(e) => {
                    failure = Some(format!("cannot read `{path}` at `{rev}`: {}", e.message()));
                    return TreeWalkResult::Abort;
                }
            }
            TreeWalkResult::Ok
        })
        .map_err(|e| failure.clone().unwrap_or_else(|| e.message().to_string()))?;
        if let Some(f) = failure {
            return Err(f);
        }
        Ok(GitRevision {
            files,
            name: rev.to_string(),
            commit: commit.id().to_string(),
        })
    }
}

impl Files for GitRevision {
    fn walk(&self, dir: &str, _diagnostics: &mut Vec<Diagnostic>) -> Vec<String> {
        let prefix = format!("{dir}/");
        self.files.keys().filter(|p| p.starts_with(&prefix)).cloned().collect()
    }

    fn is_file(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, Box<Diagnostic>> {
        match self.files.get(path) {
            Some(Entry::Blob(bytes)) => Ok(bytes.clone()),
            Some(Entry::Link) => Err(Box::new(
                Diagnostic::file_error(
                    codes::SYMLINK_OUTSIDE,
                    path,
                    "a symbolic link in a git revision is not followed",
                )
                .with_help("commit the file itself"),
            )),
            Some(Entry::TooLarge) => Err(Box::new(Diagnostic::file_error(
                codes::FILE_TOO_LARGE,
                path,
                format!("file is larger than {MAX_FILE_BYTES} bytes"),
            ))),
            None => Err(Box::new(Diagnostic::file_error(
                codes::UNREADABLE,
                path,
                "no such file",
            ))),
        }
    }
}
