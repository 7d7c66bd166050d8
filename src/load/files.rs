//! All reading of the repository goes through [`Files`], so that a working tree and (later)
//! a git revision feed the same pipeline. [`WorkTree`] is the working-tree implementation.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, codes};

/// The largest input file fleetgen reads. Sources are hand-written YAML; anything bigger is
/// a mistake (or an attack) and is refused before it is read.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Read access to a fleet repository, by paths relative to its root (`/`-separated).
pub trait Files {
    /// Every file under `dir`, sorted; problems (unreadable folders, links leaving the
    /// repository) are reported as diagnostics and the walk goes on.
    fn walk(&self, dir: &str, diagnostics: &mut Vec<Diagnostic>) -> Vec<String>;
    fn is_file(&self, path: &str) -> bool;
    /// The bytes of a file, or a diagnostic saying why it cannot be used.
    fn read(&self, path: &str) -> Result<Vec<u8>, Box<Diagnostic>>;
}

/// A repository on disk.
#[derive(Debug)]
pub struct WorkTree {
    root: PathBuf,
}

impl WorkTree {
    /// Opens a repository folder; fails when it is not a readable folder.
    pub fn open(dir: &Path) -> Result<WorkTree, String> {
        let root = fs::canonicalize(dir).map_err(|e| format!("cannot open repository `{}`: {e}", dir.display()))?;
        if !root.is_dir() {
            return Err(format!("`{}` is not a folder", dir.display()));
        }
        fs::read_dir(&root).map_err(|e| format!("cannot read repository `{}`: {e}", dir.display()))?;
        Ok(WorkTree { root })
    }

    fn relative(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The real location of a path, refused when it leaves the repository.
    fn inside(&self, rel: &str, path: &Path) -> Result<PathBuf, Box<Diagnostic>> {
        let real = fs::canonicalize(path).map_err(|e| {
            Box::new(Diagnostic::file_error(
                codes::UNREADABLE,
                rel,
                format!("cannot resolve: {e}"),
            ))
        })?;
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(Box::new(
                Diagnostic::file_error(
                    codes::SYMLINK_OUTSIDE,
                    rel,
                    "symbolic link points outside the repository; fleetgen does not follow it",
                )
                .with_help("copy the file into the repository, or link to a file inside it"),
            ))
        }
    }
}

impl Files for WorkTree {
    fn walk(&self, dir: &str, diagnostics: &mut Vec<Diagnostic>) -> Vec<String> {
        let start = self.root.join(dir);
        if !start.exists() {
            return Vec::new();
        }
        let mut files = Vec::new();
        let mut it = walkdir::WalkDir::new(&start)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = it.next() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let rel = e.path().map_or_else(|| dir.to_string(), |p| self.relative(p));
                    let reason = if e.loop_ancestor().is_some() {
                        "symbolic link loop".to_string()
                    } else {
                        e.io_error().map_or_else(|| e.to_string(), ToString::to_string)
                    };
                    diagnostics.push(Diagnostic::file_error(
                        codes::UNREADABLE,
                        rel,
                        format!("cannot read: {reason}"),
                    ));
                    continue;
                }
            };
            let rel = self.relative(entry.path());
            if entry.path_is_symlink()
                && let Err(d) = self.inside(&rel, entry.path())
            {
                diagnostics.push(*d);
                if entry.file_type().is_dir() {
                    it.skip_current_dir();
                }
                continue;
            }
            if entry.file_type().is_file() {
                files.push(rel);
            }
        }
        files
    }

    fn is_file(&self, path: &str) -> bool {
        self.root.join(path).is_file()
    }

    fn read(&self, rel: &str) -> Result<Vec<u8>, Box<Diagnostic>> {
        let real = self.inside(rel, &self.root.join(rel))?;
        let unreadable = |e: std::io::Error| {
            Box::new(Diagnostic::file_error(
                codes::UNREADABLE,
                rel,
                format!("cannot read: {e}"),
            ))
        };
        let file = fs::File::open(&real).map_err(unreadable)?;
        let size = file.metadata().map_err(unreadable)?.len();
        let too_large = || {
            Box::new(Diagnostic::file_error(
                codes::FILE_TOO_LARGE,
                rel,
                format!(
                    "file is larger than {} KiB; fleetgen does not read it",
                    MAX_FILE_BYTES / 1024
                ),
            ))
        };
        if size > MAX_FILE_BYTES {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(unreadable)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(too_large());
        }
        Ok(bytes)
    }
}

/// A repository held in memory: for tests, and for tools that build fleets on the fly.
#[derive(Debug, Default, Clone)]
pub struct MemoryFiles {
    files: std::collections::BTreeMap<String, Vec<u8>>,
}

impl MemoryFiles {
    pub fn insert(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), bytes.into());
    }

    /// Every file of a folder on disk, by relative path.
    pub fn from_dir(dir: &Path) -> std::io::Result<MemoryFiles> {
        let mut files = MemoryFiles::default();
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry?;
            if entry.file_type().is_file() {
                let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                files.insert(rel, fs::read(entry.path())?);
            }
        }
        Ok(files)
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }
}

impl Files for MemoryFiles {
    fn walk(&self, dir: &str, _diagnostics: &mut Vec<Diagnostic>) -> Vec<String> {
        let prefix = format!("{dir}/");
        self.files.keys().filter(|p| p.starts_with(&prefix)).cloned().collect()
    }

    fn is_file(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, Box<Diagnostic>> {
        let bytes = self
            .files
            .get(path)
            .ok_or_else(|| Box::new(Diagnostic::file_error(codes::UNREADABLE, path, "no such file")))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(Box::new(Diagnostic::file_error(
                codes::FILE_TOO_LARGE,
                path,
                "file is too large",
            )));
        }
        Ok(bytes.clone())
    }
}
