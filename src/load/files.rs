//! All reading of the repository goes through [`Files`], so that a working tree, a git
//! revision ([`super::git::GitRevision`]) and a repository in memory feed the same pipeline
//! and are judged by the same rules:
//!
//! - only the folders of [`crate::layout::ROOTS`] are read;
//! - a symbolic link is followed when it stays inside the repository and refused when it
//!   leaves it (in a git revision too, where the link's target is looked up in the same
//!   revision);
//! - a file over [`MAX_FILE_BYTES`] is refused before it is read;
//! - where fleetgen would read a file, anything else (a FIFO, a device, a socket, a git
//!   submodule) is refused without being opened, a file name that is not UTF-8 is
//!   refused, and an input folder that is a file (`clusters` as a regular file) too.
//!
//! Every reader reports problems as a [`FileError`], worded once in [`FileError::diagnostic`].

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::clock::Day;
use crate::diag::{Diagnostic, codes};

/// The largest input file fleetgen reads. Sources are hand-written YAML; anything bigger is
/// a mistake (or an attack) and is refused before it is read.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads `file` to its end, no further than `limit` bytes, into a buffer made for the
/// `expected` size (the file's stat): a file of that size takes two reads, its bytes and the
/// end. `Take` tells `read_to_end` no size, and a buffer grown from nothing read 32 bytes,
/// then 32, 64, 128… (938 `read` calls in a render of 134 inputs at 20 × 50).
pub fn read_bounded(file: impl Read, expected: u64, limit: u64) -> std::io::Result<Vec<u8>> {
    let capacity = usize::try_from(expected.min(limit).saturating_add(1)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Entries one walk of an input folder may visit (links can make a small tree look
/// exponentially large, and no fleet has a million files).
pub const MAX_ENTRIES: usize = 1_000_000;

/// Why a file (or folder) of the repository cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// There is no such file.
    NotFound,
    /// The operating system (or git) refused: the reason it gave.
    Unreadable(String),
    /// Larger than `MAX_FILE_BYTES` (1 MiB).
    TooLarge,
    /// A symbolic link whose target is outside the repository.
    LinkOutside,
    /// Symbolic links that lead back to themselves.
    LinkLoop,
    /// Where fleetgen reads a file, something else: "a FIFO", "a device", "a socket", "a
    /// git submodule".
    NotAFile(&'static str),
    /// Where fleetgen reads a folder (`clusters`), a file.
    NotAFolder,
    /// A file or folder name that is not valid UTF-8 (shown with U+FFFD in its place).
    NameNotUtf8,
    /// A folder (with what links add to it) of more than `MAX_ENTRIES` (a million) entries.
    TooManyEntries,
}

impl FileError {
    /// The diagnostic for this problem with the file at `path`, placed at 1:1.
    pub fn diagnostic(&self, path: &str) -> Diagnostic {
        match self {
            FileError::NotFound => Diagnostic::file_error(codes::UNREADABLE, path, "no such file"),
            FileError::Unreadable(reason) => {
                Diagnostic::file_error(codes::UNREADABLE, path, format!("cannot read: {reason}"))
            }
            FileError::TooLarge => Diagnostic::file_error(
                codes::FILE_TOO_LARGE,
                path,
                format!(
                    "file is larger than {} KiB; fleetgen does not read it",
                    MAX_FILE_BYTES / 1024
                ),
            ),
            FileError::LinkOutside => Diagnostic::file_error(
                codes::SYMLINK_OUTSIDE,
                path,
                "symbolic link points outside the repository; fleetgen does not follow it",
            )
            .with_help("copy the file into the repository, or link to a file inside it"),
            FileError::LinkLoop => Diagnostic::file_error(codes::UNREADABLE, path, "cannot read: symbolic link loop"),
            FileError::NotAFile(what) => Diagnostic::file_error(
                codes::UNREADABLE,
                path,
                format!("this is {what}, not a regular file; fleetgen does not open it"),
            )
            .with_help("input files are regular files (or links to regular files inside the repository)"),
            FileError::NotAFolder => Diagnostic::file_error(
                codes::UNREADABLE,
                path,
                "this is a file; fleetgen reads a folder of input files here",
            )
            .with_help(format!("move it into a folder: `{path}/<name>.yaml`")),
            FileError::NameNotUtf8 => Diagnostic::file_error(
                codes::UNREADABLE,
                path,
                "the file name is not valid UTF-8; fleetgen does not read it",
            )
            .with_help("rename it: file names become ids, paths and diagnostics, which are UTF-8"),
            FileError::TooManyEntries => Diagnostic::file_error(
                codes::UNREADABLE,
                path,
                format!("more than {MAX_ENTRIES} files and folders here (links included); fleetgen stopped reading"),
            )
            .with_help("look for symbolic links that lead back into the folders they are in"),
        }
    }
}

/// What a walk of one folder found: the files (sorted), and what could not be walked.
#[derive(Debug, Default)]
pub struct Walk {
    pub files: Vec<String>,
    pub problems: Vec<(String, FileError)>,
}

/// Read access to a fleet repository, by paths relative to its root (`/`-separated).
pub trait Files {
    /// Every file under `dir` (a folder of `layout::ROOTS`), sorted, and the
    /// entries that could not be walked.
    fn walk(&self, dir: &str) -> Walk;
    fn is_file(&self, path: &str) -> bool;
    /// The bytes of a file.
    fn read(&self, path: &str) -> Result<Vec<u8>, FileError>;
    /// Today's date, against which expiry dates are judged.
    fn today(&self) -> Day {
        crate::clock::today()
    }
}

/// A repository on disk.
#[derive(Debug)]
pub struct WorkTree {
    root: PathBuf,
    /// The real location of each folder a file was read from. A file that is not a link
    /// itself is where its folder really is: resolving every file's whole path cost a
    /// `readlink` per component (7,639 calls for the 989 inputs of a 200-cluster fleet).
    folders: std::sync::Mutex<Folders>,
}

/// Folders by path as asked, with their real location (or why there is none).
type Folders = rustc_hash::FxHashMap<PathBuf, Result<PathBuf, String>>;

impl WorkTree {
    /// Opens a repository folder; fails when it is not a readable folder.
    pub fn open(dir: &Path) -> Result<WorkTree, String> {
        let root = fs::canonicalize(dir).map_err(|e| format!("cannot open repository `{}`: {e}", dir.display()))?;
        if !root.is_dir() {
            return Err(format!("`{}` is not a folder", dir.display()));
        }
        fs::read_dir(&root).map_err(|e| format!("cannot read repository `{}`: {e}", dir.display()))?;
        Ok(WorkTree {
            root,
            folders: Default::default(),
        })
    }

    fn relative(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The real location of a path that is not a link itself: its folder's (resolved once
    /// per folder) and its name; refused when it leaves the repository.
    fn inside_folder(&self, path: &Path) -> Result<PathBuf, FileError> {
        let (Some(folder), Some(std::path::Component::Normal(name))) = (path.parent(), path.components().next_back())
        else {
            return self.inside(path);
        };
        let real = self.real_folder(folder).map_err(FileError::Unreadable)?.join(name);
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(FileError::LinkOutside)
        }
    }

    /// The real location of a folder: the root's is known, one that is not a link is its
    /// parent's and its name, anything else (a link, `..`) is resolved whole.
    fn real_folder(&self, folder: &Path) -> Result<PathBuf, String> {
        if folder == self.root {
            return Ok(self.root.clone());
        }
        let known = |folders: &Folders| folders.get(folder).cloned();
        if let Some(real) = known(&self.folders.lock().unwrap_or_else(std::sync::PoisonError::into_inner)) {
            return real;
        }
        let real = match (folder.parent(), folder.components().next_back()) {
            (Some(parent), Some(std::path::Component::Normal(name)))
                if parent.starts_with(&self.root)
                    && fs::symlink_metadata(folder).is_ok_and(|m| m.file_type().is_dir()) =>
            {
                self.real_folder(parent).map(|p| p.join(name))
            }
            _ => fs::canonicalize(folder).map_err(|e| e.to_string()),
        };
        self.folders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(folder.to_path_buf(), real.clone());
        real
    }

    /// The real location of a path, refused when it leaves the repository.
    fn inside(&self, path: &Path) -> Result<PathBuf, FileError> {
        let real = fs::canonicalize(path).map_err(|e| FileError::Unreadable(e.to_string()))?;
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(FileError::LinkOutside)
        }
    }
}

/// What a file system entry is, when it is neither a regular file nor a folder.
pub(crate) fn special_kind(t: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    let _ = t;
    "a special file"
}

impl Files for WorkTree {
    fn walk(&self, dir: &str) -> Walk {
        let mut walk = Walk::default();
        let start = self.root.join(dir);
        match fs::metadata(&start) {
            Err(_) if fs::symlink_metadata(&start).is_err() => return walk,
            Ok(m) if !m.is_dir() => {
                if let Err(problem) = self.inside(&start) {
                    walk.problems.push((dir.to_string(), problem));
                } else if m.is_file() {
                    walk.problems.push((dir.to_string(), FileError::NotAFolder));
                } else {
                    walk.problems
                        .push((dir.to_string(), FileError::NotAFile(special_kind(m.file_type()))));
                }
                return walk;
            }
            _ => {}
        }
        let mut it = walkdir::WalkDir::new(&start)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter();
        let mut visited = 0usize;
        while let Some(entry) = it.next() {
            visited += 1;
            if visited > MAX_ENTRIES {
                walk.problems.push((dir.to_string(), FileError::TooManyEntries));
                break;
            }
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let rel = e.path().map_or_else(|| dir.to_string(), |p| self.relative(p));
                    let problem = if e.loop_ancestor().is_some() {
                        FileError::LinkLoop
                    } else {
                        FileError::Unreadable(e.io_error().map_or_else(|| e.to_string(), ToString::to_string))
                    };
                    walk.problems.push((rel, problem));
                    continue;
                }
            };
            let rel = self.relative(entry.path());
            if entry.file_name().to_str().is_none() {
                // Reported where fleetgen would read a file, and for any folder (which could
                // hold such files), as the git reader does.
                if entry.file_type().is_dir() {
                    it.skip_current_dir();
                    walk.problems.push((rel, FileError::NameNotUtf8));
                } else if crate::layout::classify(&rel) != crate::layout::Role::Other {
                    walk.problems.push((rel, FileError::NameNotUtf8));
                }
                continue;
            }
            if entry.path_is_symlink()
                && let Err(problem) = self.inside(entry.path())
            {
                walk.problems.push((rel, problem));
                if entry.file_type().is_dir() {
                    it.skip_current_dir();
                }
                continue;
            }
            let t = entry.file_type();
            if t.is_dir() && crate::layout::reads_file(&rel) {
                // `apps/web/app.yaml/`: the contract is missing, said here rather than not at all.
                it.skip_current_dir();
                walk.problems.push((rel, FileError::NotAFile("a folder")));
            } else if t.is_file() {
                walk.files.push(rel);
            } else if !t.is_dir() && crate::layout::classify(&rel) != crate::layout::Role::Other {
                walk.problems.push((rel, FileError::NotAFile(special_kind(t))));
            }
        }
        walk
    }

    fn is_file(&self, path: &str) -> bool {
        self.root.join(path).is_file()
    }

    fn read(&self, rel: &str) -> Result<Vec<u8>, FileError> {
        let path = self.root.join(rel);
        // Nothing there, or nothing that can be looked at: not found (as `Path::exists`).
        let own = fs::symlink_metadata(&path).map_err(|_| FileError::NotFound)?;
        let unreadable = |e: std::io::Error| FileError::Unreadable(e.to_string());
        // Opening a FIFO would wait for a writer: look before opening.
        let (real, kind) = if own.file_type().is_symlink() {
            let real = self.inside(&path)?;
            let kind = fs::metadata(&real).map_err(unreadable)?.file_type();
            (real, kind)
        } else {
            (self.inside_folder(&path)?, own.file_type())
        };
        if kind.is_dir() {
            return Err(FileError::NotAFile("a folder"));
        }
        if !kind.is_file() {
            return Err(FileError::NotAFile(special_kind(kind)));
        }
        let file = fs::File::open(&real).map_err(unreadable)?;
        let size = file.metadata().map_err(unreadable)?.len();
        if size > MAX_FILE_BYTES {
            return Err(FileError::TooLarge);
        }
        let bytes = read_bounded(file, size, MAX_FILE_BYTES + 1).map_err(unreadable)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(FileError::TooLarge);
        }
        Ok(bytes)
    }
}

/// A repository held in memory: for tests, and for tools that build fleets on the fly.
#[derive(Debug, Default, Clone)]
pub struct MemoryFiles {
    files: std::collections::BTreeMap<String, Vec<u8>>,
    today: Option<Day>,
}

impl MemoryFiles {
    pub fn insert(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), bytes.into());
    }

    /// Judges expiry dates against `day` instead of the clock.
    pub fn set_today(&mut self, day: Day) {
        self.today = Some(day);
    }

    /// Every file of a folder on disk, by relative path.
    pub fn from_dir(dir: &Path) -> std::io::Result<MemoryFiles> {
        let mut files = MemoryFiles::default();
        files.add_dir(dir)?;
        Ok(files)
    }

    /// Lays every file of a folder on disk over what is held (same path: replaced).
    pub fn add_dir(&mut self, dir: &Path) -> std::io::Result<()> {
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry?;
            if entry.file_type().is_file() {
                let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                self.insert(rel, fs::read(entry.path())?);
            }
        }
        Ok(())
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }
}

impl Files for MemoryFiles {
    fn walk(&self, dir: &str) -> Walk {
        let prefix = format!("{dir}/");
        Walk {
            files: self.files.keys().filter(|p| p.starts_with(&prefix)).cloned().collect(),
            problems: Vec::new(),
        }
    }

    fn is_file(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, FileError> {
        let bytes = self.files.get(path).ok_or(FileError::NotFound)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(FileError::TooLarge);
        }
        Ok(bytes.clone())
    }

    fn today(&self) -> Day {
        self.today.unwrap_or_else(crate::clock::today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bounded read gives the file's bytes up to the limit whatever size it expected: the
    /// stat's, one that is stale (the file grew or shrank since), or none.
    #[test]
    fn bounded_reads_give_the_bytes_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let text: Vec<u8> = (0..5000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let path = dir.path().join("f");
        fs::write(&path, &text).unwrap();
        let read = |expected: u64, limit: u64| read_bounded(fs::File::open(&path).unwrap(), expected, limit).unwrap();
        assert_eq!(read(5000, 5001), text);
        assert_eq!(read(0, 5001), text);
        assert_eq!(read(10, u64::MAX), text);
        assert_eq!(read(1 << 40, 5001), text);
        assert_eq!(read(5000, 4000), text[..4000]);
        assert_eq!(read(5000, 0), b"");
        fs::write(&path, b"").unwrap();
        assert_eq!(read(5000, 5001), b"");
    }

    /// A file of the expected size is read in two calls, its bytes and the end (a buffer
    /// grown from nothing took one call per doubling: ten for these 5,000 bytes).
    #[test]
    fn a_file_of_the_expected_size_takes_two_reads() {
        /// Gives all it has to any call, and counts the calls.
        struct Counted<'a>(&'a [u8], usize);
        impl Read for Counted<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.1 += 1;
                let n = buf.len().min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let text = vec![b'x'; 5000];
        let mut counted = Counted(&text, 0);
        assert_eq!(read_bounded(&mut counted, 5000, MAX_FILE_BYTES + 1).unwrap(), text);
        assert_eq!(counted.1, 2);
    }

    #[cfg(unix)]
    #[test]
    fn links_inside_are_followed_and_links_outside_refused() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret.yaml"), "x: 1\n").unwrap();
        let repo = tempfile::tempdir().unwrap();
        fs::create_dir_all(repo.path().join("clusters")).unwrap();
        fs::write(repo.path().join("clusters/a.yaml"), "a: 1\n").unwrap();
        std::os::unix::fs::symlink("a.yaml", repo.path().join("clusters/b.yaml")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.yaml"), repo.path().join("clusters/c.yaml")).unwrap();
        let tree = WorkTree::open(repo.path()).unwrap();
        let walk = tree.walk("clusters");
        assert_eq!(walk.files, vec!["clusters/a.yaml", "clusters/b.yaml"]);
        assert_eq!(
            walk.problems,
            vec![("clusters/c.yaml".to_string(), FileError::LinkOutside)]
        );
        assert_eq!(tree.read("clusters/b.yaml").unwrap(), b"a: 1\n");
        assert_eq!(tree.read("clusters/c.yaml"), Err(FileError::LinkOutside));
        assert_eq!(tree.read("clusters/none.yaml"), Err(FileError::NotFound));
        // A file is read through its folder's real location: a linked folder inside is
        // followed, one outside refused, `..` resolved as the system does. Twice each: the
        // second read finds the folder remembered.
        fs::create_dir_all(repo.path().join("apps/web/values")).unwrap();
        fs::write(repo.path().join("apps/web/values/common.yaml"), "a: 1\n").unwrap();
        std::os::unix::fs::symlink("web", repo.path().join("apps/alias")).unwrap();
        std::os::unix::fs::symlink(outside.path(), repo.path().join("apps/away")).unwrap();
        for _ in 0..2 {
            assert_eq!(tree.read("apps/alias/values/common.yaml").unwrap(), b"a: 1\n");
            assert_eq!(tree.read("apps/web/values/../values/common.yaml").unwrap(), b"a: 1\n");
            assert_eq!(tree.read("apps/away/secret.yaml"), Err(FileError::LinkOutside));
            assert_eq!(
                tree.read("apps/web/values/../../away/secret.yaml"),
                Err(FileError::LinkOutside)
            );
            assert_eq!(tree.read("apps/web/values"), Err(FileError::NotAFile("a folder")));
            assert_eq!(tree.read("apps/web/values/common.yaml/x"), Err(FileError::NotFound));
        }
    }

    #[test]
    fn every_reader_refuses_a_large_file_the_same_way() {
        let mut files = MemoryFiles::default();
        files.insert("apps/x/app.yaml", vec![b' '; MAX_FILE_BYTES as usize + 1]);
        let err = files.read("apps/x/app.yaml").unwrap_err();
        assert_eq!(err, FileError::TooLarge);
        let d = err.diagnostic("apps/x/app.yaml");
        assert_eq!(d.code, codes::FILE_TOO_LARGE);
        assert_eq!(d.message, "file is larger than 1024 KiB; fleetgen does not read it");
    }
}
