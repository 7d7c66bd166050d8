//! `fleetgen lint`: every validate check, the render's findings, and the rule catalogue.
//! Given paths (or `-` for standard input), it reports on those files only, with the rest
//! of the fleet as context: what an editor integration runs on the buffer being edited.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::api::{self, FileError, Files, Format, Goal, LintFilter, Options, Severity, WorkTree};
use crate::cli::{FleetArgs, Progress, Ui, print};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  no error findings (warnings may have been printed)
  1  error findings (or warnings, with --deny-warnings)
  2  the input or the command could not be used";

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    fleet: FleetArgs,
    /// Report only on these files or folders (the rest of the fleet is still read, as
    /// context); `-` reads one file from standard input, named by --stdin-filename.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The file standard input stands for (with `-`), e.g. the editor's buffer.
    #[arg(long, value_name = "PATH")]
    stdin_filename: Option<PathBuf>,
    /// Only these rules (codes or names, comma-separated; a code prefix like FG1 selects a family).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Not these rules.
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Exit 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// Report only findings that this baseline file (from --write-baseline) does not record.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    baseline: Option<PathBuf>,
    /// Record the current rule and policy findings in FILE (JSON) and exit 0: the baseline
    /// a later `--baseline FILE` compares with. FILE is new or a baseline, not a link.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
}

/// The working tree with one file's content replaced (or added) by what came on stdin.
struct WithStdin<'a> {
    tree: &'a WorkTree,
    path: String,
    bytes: Vec<u8>,
}

impl Files for WithStdin<'_> {
    fn walk(&self, dir: &str) -> crate::load::files::Walk {
        let mut walk = self.tree.walk(dir);
        if self.path.starts_with(&format!("{dir}/")) && !walk.files.contains(&self.path) {
            walk.files.push(self.path.clone());
            walk.files.sort();
        }
        walk
    }

    fn is_file(&self, path: &str) -> bool {
        path == self.path || self.tree.is_file(path)
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, FileError> {
        if path != self.path {
            return self.tree.read(path);
        }
        if self.bytes.len() as u64 > crate::load::files::MAX_FILE_BYTES {
            return Err(FileError::TooLarge);
        }
        Ok(self.bytes.clone())
    }

    fn today(&self) -> crate::api::Day {
        self.tree.today()
    }
}

/// `path` (relative to the working directory) as a path of the fleet at `root`, `/`-separated.
fn in_fleet(root: &Path, path: &Path) -> Result<String, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    let root = std::fs::canonicalize(root).map_err(|e| format!("cannot open `{}`: {e}", root.display()))?;
    // Lexically, so that a file that does not exist yet (an unsaved buffer) has a place;
    // through the real folder above it, so that links in the way are seen through.
    let absolute = cwd.join(path);
    let mut normal = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            c => normal.push(c),
        }
    }
    let (dir, name) = match (normal.parent(), normal.file_name()) {
        (Some(dir), Some(name)) => (std::fs::canonicalize(dir).unwrap_or(dir.to_path_buf()), Some(name)),
        _ => (normal.clone(), None),
    };
    let full = match name {
        Some(name) => dir.join(name),
        None => dir,
    };
    let rel = full
        .strip_prefix(&root)
        .map_err(|_| format!("`{}` is not inside the fleet at `{}`", path.display(), root.display()))?;
    Ok(rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/"))
}

/// Whether `--write-baseline` may write `path`: never through a symbolic link, over a file
/// that is not a baseline (`fleet.yaml` for `fleet-baseline.json` would replace the
/// fleet), or into a folder fleetgen reads (the next run would read the baseline as a
/// source), writes (`rendered/`: a render removes it, `check` calls it orphaned) or caches in.
fn baseline_target(root: &Path, path: &Path) -> Result<(), String> {
    let shown = path.display();
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(format!(
                "`{shown}` is a symbolic link; fleetgen does not write through one"
            ));
        }
        Ok(m) if !m.is_file() => return Err(format!("`{shown}` exists and is not a file")),
        Ok(m) => {
            let text = (m.len() <= crate::load::files::MAX_FILE_BYTES)
                .then(|| std::fs::read_to_string(path).ok())
                .flatten();
            if text.is_none_or(|t| crate::lint::baseline::read(&t).is_err()) {
                return Err(format!(
                    "`{shown}` exists and is not a fleetgen baseline; fleetgen overwrites only a baseline it wrote"
                ));
            }
        }
        Err(_) => {}
    }
    // A cache folder, wherever it is (`FLEETGEN_CACHE_DIR`), and the fleet's `.fleetgen/`
    // whichever cache is set: each ignores its files (`.gitignore` `*`), so the baseline
    // would never be committed, and the cache's first write in `.fleetgen/` removes what
    // is there.
    let cache = crate::api::Cache::for_fleet(root);
    let target = real_place(path);
    for dir in [cache.dir().to_path_buf(), root.join(crate::incremental::DIR)] {
        if let (Some(target), Ok(dir)) = (&target, std::fs::canonicalize(&dir))
            && target.starts_with(&dir)
        {
            return Err(format!(
                "`{shown}` is inside `{}`, a folder fleetgen caches in (its files are ignored by git, so the baseline would never be committed); keep the baseline beside the sources (`fleetgen-baseline.json`, say)",
                dir.display()
            ));
        }
    }
    // Outside the fleet is the user's choice; inside, only beside the sources.
    let Ok(rel) = in_fleet(root, path) else {
        return Ok(());
    };
    let first = rel.split('/').next().unwrap_or_default();
    let role = if rel.contains('/') && crate::layout::ROOTS.contains(&first) {
        "fleetgen reads"
    } else if first == crate::layout::OUTPUT {
        "fleetgen writes"
    } else {
        return Ok(());
    };
    Err(format!(
        "`{shown}` is inside `{first}/`, a folder {role}; keep the baseline beside the sources (`fleetgen-baseline.json`, say)"
    ))
}

/// Where `path` is, through the real folder above it (which exists: the file may not yet).
fn real_place(path: &Path) -> Option<PathBuf> {
    let absolute = std::env::current_dir().ok()?.join(path);
    let name = absolute.file_name()?;
    let dir = std::fs::canonicalize(absolute.parent()?).ok()?;
    Some(dir.join(name))
}

pub fn run(args: Args, ui: &Ui) -> u8 {
    let Some(fleet) = args.fleet.open() else {
        return 2;
    };
    let stdin_wanted = args.paths.iter().any(|p| p.as_os_str() == "-");
    let mut wanted = Vec::new();
    for path in args.paths.iter().filter(|p| p.as_os_str() != "-") {
        // A path that names nothing reports nothing: refused, as a typo would otherwise pass
        // as "no findings" (a file standard input stands for may be new: `--stdin-filename`).
        if let Err(e) = std::fs::symlink_metadata(path) {
            eprintln!("error: cannot lint `{}`: {e}", path.display());
            return 2;
        }
        match in_fleet(&fleet.root, path) {
            Ok(rel) => wanted.push(rel),
            Err(message) => {
                eprintln!("error: {message}");
                return 2;
            }
        }
    }
    let stdin = match (stdin_wanted, &args.stdin_filename) {
        (false, None) => None,
        (false, Some(_)) => {
            eprintln!("error: --stdin-filename names the file `-` stands for; give `-` as a path too");
            return 2;
        }
        (true, None) => {
            eprintln!("error: `-` reads a file from standard input: say which with --stdin-filename PATH");
            return 2;
        }
        (true, Some(name)) => {
            let rel = match in_fleet(&fleet.root, name) {
                Ok(rel) => rel,
                Err(message) => {
                    eprintln!("error: {message}");
                    return 2;
                }
            };
            let mut bytes = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
                eprintln!("error: cannot read standard input: {e}");
                return 2;
            }
            wanted.push(rel.clone());
            Some(WithStdin {
                tree: &fleet.files,
                path: rel,
                bytes,
            })
        }
    };
    let files: &dyn Files = match &stdin {
        Some(s) => s,
        None => &fleet.files,
    };
    let progress = Progress::new(ui.quiet, "linting");
    let tick = |total| progress.tick(total);
    // What the committed matrix says against the sources (FG051).
    let committed = crate::cli::committed_matrix(&fleet.out(None));
    let options = Options {
        on_cluster: Some(&tick),
        exit_after: true,
        committed: Some(&committed),
        ..Options::new(Goal::Lint)
    };
    let mut compiled = api::compile(files, &options);
    progress.done();
    if let Some(path) = &args.write_baseline {
        if compiled.exit_code() == 2 {
            print(
                &api::lint_report(
                    compiled,
                    &LintFilter::default(),
                    &ui.stdout_style(args.fleet.format, &fleet.path_prefix),
                    ui.quiet,
                )
                .1,
            );
            eprintln!("error: the fleet has input errors: no baseline written");
            return 2;
        }
        if let Err(message) = baseline_target(&fleet.root, path) {
            eprintln!("error: {message}; no baseline written");
            return 2;
        }
        let text = crate::lint::baseline::write(&compiled.sources.files, compiled.diagnostics());
        let count = crate::lint::baseline::read(&text).map_or(0, |s| s.len());
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            return 2;
        }
        if !ui.quiet {
            eprintln!(
                "wrote a baseline of {} to `{}`",
                crate::diag::count(count, "finding"),
                path.display()
            );
        }
        return 0;
    }
    if let Some(path) = &args.baseline {
        let recorded = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))
            .and_then(|text| crate::lint::baseline::read(&text).map_err(|e| format!("{}:{e}", path.display())));
        let recorded = match recorded {
            Ok(recorded) => recorded,
            Err(message) => {
                eprintln!("error: {message}");
                return 2;
            }
        };
        let held = crate::lint::baseline::sift(&recorded, compiled.diagnostics(), &compiled.sources.files);
        let mut held_each = held.held.into_iter();
        compiled.retain(|_| !held_each.next().unwrap_or(false));
        let gone = held.gone;
        if gone > 0 && !ui.quiet {
            eprintln!(
                "note: {gone} finding{} of the baseline `{}` no longer occur{}: rewrite it with --write-baseline",
                if gone == 1 { "" } else { "s" },
                path.display(),
                if gone == 1 { "s" } else { "" }
            );
        }
    }
    let filter = LintFilter {
        select: args.select,
        ignore: args.ignore,
        deny_warnings: args.deny_warnings,
        paths: wanted,
    };
    if let Err(message) = filter.check() {
        eprintln!("error: {message}");
        return 2;
    }
    let elsewhere = compiled
        .diagnostics()
        .iter()
        .filter(|d| d.severity == Severity::Error && !filter.in_paths(&d.path))
        .count();
    let linted = compiled.linted;
    let style = crate::api::Style {
        deny_warnings: filter.deny_warnings,
        ..ui.stdout_style(args.fleet.format, &fleet.path_prefix)
    };
    let (code, mut text) = api::lint_report(compiled, &filter, &style, ui.quiet);
    // Errors that stop the compile before it renders stop the rules too (they read the
    // rendered fleet): no rule finding is then not "no finding".
    let stopped = "the lint rules did not run: these errors stop the compile before it renders; fix them and run `fleetgen lint` again";
    if !linted && args.fleet.format == Format::Sarif {
        text = crate::diag::sarif::rules_skipped(&text, stopped);
    }
    print(&text);
    if elsewhere > 0 {
        eprintln!(
            "note: {elsewhere} error{} in other files of the fleet (not shown; `fleetgen lint` lists them); {}",
            if elsewhere == 1 { "" } else { "s" },
            if linted {
                "while the fleet has errors, some rules may not have run"
            } else {
                stopped
            }
        );
    } else if !linted && code != 0 {
        eprintln!("note: {stopped}");
    }
    code
}
