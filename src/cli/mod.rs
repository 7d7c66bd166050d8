//! The command line: parse arguments, run one command (`commands/<command>.rs`, each over
//! [`crate::api::compile`]), print, return the exit code.

mod commands;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::api::{Compiled, Format, Selection, Style, WorkTree};

pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0  no errors (warnings may have been printed)
  1  the input has errors (unknown references, duplicate ids, placements no cluster serves …)
  2  the input or the command could not be used (unreadable repository, bad YAML, schema
     violation, unknown flag)";

/// Compiler and linter for multi-cluster GitOps repositories.
#[derive(Debug, Parser)]
#[command(name = "fleetgen", version, about, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// When to colour the output: `auto` colours a stream that is a terminal, unless
    /// `NO_COLOR` is set (non-empty), `CLICOLOR=0` or `TERM=dumb`; `FORCE_COLOR` or
    /// `CLICOLOR_FORCE` colour it anyway (`FORCE_COLOR=0`: never).
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    /// Print diagnostics only: no progress bar, no summary lines.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Say on stderr what each stage took and did (files read, placements rendered or
    /// unchanged, files compared and written); `version --verbose` prints one field a line.
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a fleet repository: fleet.yaml, a cluster, an app, profiles, a policy profile,
    /// the schemas, a pre-commit configuration and a CI workflow.
    #[command(after_help = EXIT_CODES)]
    Init(commands::init::Args),
    /// Check the fleet without writing: schemas, references, placements, templates, labels.
    #[command(after_help = EXIT_CODES)]
    Validate(commands::validate::Args),
    /// Compile the fleet: write rendered/<clusterId>/… for every cluster (or print it).
    #[command(after_help = EXIT_CODES)]
    Render(commands::render::Args),
    /// Check that rendered/ is what the sources compile to (stale, missing, orphaned or
    /// hand-edited files); writes nothing.
    #[command(
        after_help = commands::check::EXIT_CODES,
        mut_arg("format", |a| a
            .help("How to print drift and diagnostics: text, concise, json or github (sarif and junit are refused: `fleetgen lint --format sarif` is for code scanning)")
            .hide_possible_values(true))
    )]
    Check(commands::check::Args),
    /// Show what a change does to each cluster: compile the fleet at two git revisions (or a
    /// revision and the working tree) and compare the rendered trees. Reads git objects only.
    #[command(after_help = commands::diff::EXIT_CODES)]
    Diff(commands::diff::Args),
    /// Run the rule catalogue over the whole fleet (and every validate check).
    #[command(after_help = commands::lint::EXIT_CODES)]
    Lint(commands::lint::Args),
    /// List the lint rules: code, name, family, default severity.
    Rules,
    /// Print the documentation of a rule (or the summary of any diagnostic code).
    Explain {
        /// A code (FG100) or name (fake-active-active).
        code: String,
    },
    /// Print the JSON Schema of an input kind, list the kinds, or write every schema to a
    /// folder (for editors and other validators).
    #[command(after_help = EXIT_CODES)]
    Schema(commands::schema::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = commands::meta::COMPLETIONS_HELP)]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one per command into a folder.
    Man {
        /// Write fleetgen.1 and fleetgen-<command>.1 into this folder instead.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Print the version and the commit fleetgen was built from (with `--verbose`, one
    /// `key: value` per line: release, commit-hash, commit-date, target, for scripts).
    Version,
}

/// Colour and width of one output stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stream {
    pub color: bool,
    pub width: usize,
}

/// What every command needs of the terminal: colour and width are decided per stream, so
/// that diagnostics on stderr follow stderr's terminal, not stdout's.
pub(crate) struct Ui {
    pub quiet: bool,
    pub stdout: Stream,
    pub stderr: Stream,
}

impl Ui {
    fn style(&self, stream: Stream, format: Format, path_prefix: &str) -> Style {
        Style {
            format,
            color: stream.color,
            width: stream.width,
            path_prefix: path_prefix.to_string(),
            quiet: self.quiet,
            deny_warnings: false,
        }
    }

    /// How diagnostics printed on stdout look.
    pub fn stdout_style(&self, format: Format, path_prefix: &str) -> Style {
        self.style(self.stdout, format, path_prefix)
    }

    /// How diagnostics printed on stderr look.
    pub fn stderr_style(&self, format: Format, path_prefix: &str) -> Style {
        self.style(self.stderr, format, path_prefix)
    }

    /// Prints a compile's diagnostics, if any, on stderr.
    pub fn report(&self, compiled: &Compiled, format: Format, path_prefix: &str) {
        if !compiled.diagnostics().is_empty() {
            eprint!("{}", compiled.report(&self.stderr_style(format, path_prefix)));
        }
    }
}

/// Whether to colour a stream: `--color`, then `CLICOLOR_FORCE` or `FORCE_COLOR` (set and
/// not empty or `0`), then `FORCE_COLOR=0` (or `false`: no colour, as Node's
/// supports-color reads it), `NO_COLOR` (set and not empty), `CLICOLOR=0` or `TERM=dumb`,
/// then whether the stream is a terminal. `var` reads the environment.
pub(crate) fn use_color(choice: Color, terminal: bool, var: &dyn Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
    let forced = |name: &str| var(name).is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto if forced("CLICOLOR_FORCE") || forced("FORCE_COLOR") => true,
        Color::Auto if matches!(var("FORCE_COLOR").as_deref(), Some("0" | "false")) => false,
        Color::Auto if set("NO_COLOR") => false,
        Color::Auto if var("CLICOLOR").as_deref() == Some("0") || var("TERM").as_deref() == Some("dumb") => false,
        Color::Auto => terminal,
    }
}

/// The width to wrap a stream at: `COLUMNS` when set, else the terminal's width, else 80.
pub(crate) fn width(terminal: Option<usize>, var: &dyn Fn(&str) -> Option<String>) -> usize {
    var("COLUMNS")
        .and_then(|c| c.trim().parse().ok())
        .filter(|w| *w > 0)
        .or(terminal)
        .unwrap_or(80)
}

fn env_var(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// Runs fleetgen with the process arguments and returns the exit code.
pub fn run() -> u8 {
    small_pages();
    crate::load::yaml::make_global_pool();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let columns = |size: Option<(terminal_size::Width, terminal_size::Height)>| size.map(|(w, _)| usize::from(w.0));
    let ui = Ui {
        quiet: cli.quiet,
        stdout: Stream {
            color: use_color(cli.color, stdout.is_terminal(), &env_var),
            width: width(columns(terminal_size::terminal_size_of(&stdout)), &env_var),
        },
        stderr: Stream {
            color: use_color(cli.color, stderr.is_terminal(), &env_var),
            width: width(columns(terminal_size::terminal_size_of(&stderr)), &env_var),
        },
    };
    if cli.verbose {
        crate::trace::enable();
    }
    if cli.quiet {
        crate::trace::set_quiet();
    }
    let code = match cli.command {
        Command::Init(args) => commands::init::run(args, &ui),
        Command::Validate(args) => commands::validate::run(args, &ui),
        Command::Render(args) => commands::render::run(args, &ui),
        Command::Check(args) => commands::check::run(args, &ui),
        Command::Diff(args) => commands::diff::run(args, &ui),
        Command::Lint(args) => commands::lint::run(args, &ui),
        Command::Rules => commands::explain::rules(),
        Command::Explain { code } => commands::explain::explain(&code),
        Command::Schema(args) => commands::schema::run(args),
        Command::Completions { shell } => commands::meta::completions(shell),
        Command::Man { out } => commands::meta::man(out.as_deref()),
        Command::Version => commands::meta::version(cli.verbose),
    };
    if cli.verbose {
        eprint!("{}", crate::trace::take());
    }
    stdout_written(code)
}

/// The folder holding fleet.yaml: `dir` itself or the nearest folder above it, as git finds
/// `.git` and cargo `Cargo.toml`. A `fleet.yaml` that is not a file counts (its folder is
/// the fleet, and reading it says what is wrong), rather than looking further up. The
/// placement matrix fleetgen writes, `rendered/fleet.yaml`, does not: a file whose first
/// line is fleetgen's header ([`crate::layout::HEADER`]) is skipped, so that a command run
/// inside `rendered/` finds the fleet, the one whose `rendered/` it is (`Err` with the
/// output folder when the fleet above is another's, `Err(None)` when there is none).
pub(crate) fn find_root(dir: &Path) -> Result<PathBuf, Option<PathBuf>> {
    // The innermost output folder passed on the way up (its `fleet.yaml` is the matrix).
    let mut output: Option<&Path> = None;
    for d in dir.ancestors() {
        let file = d.join(crate::layout::FLEET_FILE);
        if std::fs::symlink_metadata(&file).is_err() {
            continue;
        }
        if is_rendered_matrix(&file) {
            output.get_or_insert(d);
            continue;
        }
        // Above an output folder, only the fleet whose own output folder it is: one
        // rendered elsewhere (`--out`) under another fleet is not that fleet's.
        return match output {
            Some(out) if out != d.join(crate::layout::OUTPUT) => Err(Some(out.to_path_buf())),
            _ => Ok(d.to_path_buf()),
        };
    }
    Err(output.map(Path::to_path_buf))
}

/// Whether `file` is a regular file that starts with fleetgen's header line: a source
/// fleet.yaml never does (fleetgen writes it once, at `init`, without the header).
fn is_rendered_matrix(file: &Path) -> bool {
    use std::io::Read;
    let header = crate::layout::HEADER.as_bytes();
    if !std::fs::symlink_metadata(file).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = Vec::with_capacity(header.len());
    let read = std::fs::File::open(file).and_then(|f| f.take(header.len() as u64).read_to_end(&mut head));
    read.is_ok() && head == header
}

/// The fleet to work on: `--repo`, or the folder holding fleet.yaml found from the working
/// directory up.
pub(crate) fn fleet_root(repo: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(repo) = repo {
        return Ok(repo.to_path_buf());
    }
    let cwd = std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    let found = find_root(&cwd).map_err(|output| match output {
        Some(output) => format!(
            "`{}` is the placement matrix fleetgen rendered, not a fleet, and no fleet above it has `{}` as its \
             output folder; pass --repo DIR",
            output.join(crate::layout::FLEET_FILE).display(),
            output.display()
        ),
        None => format!(
            "no {} in `{}` or any folder above it; run `fleetgen init` to start a fleet, or pass --repo DIR",
            crate::layout::FLEET_FILE,
            cwd.display()
        ),
    })?;
    // Relative to the working directory where it can be, so that messages stay short.
    Ok(match found.strip_prefix(&cwd) {
        Ok(rest) if rest.as_os_str().is_empty() => PathBuf::from("."),
        _ => found,
    })
}

/// The fleet folder's place in its git repository, `infra/fleet/` (empty at the root or
/// outside git): what the machine formats put before paths.
pub(crate) fn git_prefix(root: &Path) -> String {
    match git_folder(root) {
        Ok(folder) => prefix_of(&folder.unwrap_or_default()),
        Err(e) => {
            // Git's own check of who owns the repository (`safe.directory`): common in CI
            // containers that run as another user. Silent, the paths would quietly lose the
            // fleet's folder and land annotations on the wrong files.
            if e.code() == git2::ErrorCode::Owner {
                eprintln!(
                    "warning: git refuses the repository of `{}`: it belongs to another user (git's `safe.directory`); paths are shown from the fleet's folder, not the repository's top: run `git config --global --add safe.directory <the repository>`, or pass --path-prefix",
                    crate::diag::escape::line(&root.display().to_string())
                );
            }
            String::new()
        }
    }
}

/// Whether git records the executable bit of the fleet's files: in a repository whose
/// `core.fileMode` is on (git's default, which `git init` turns off where a file system
/// cannot keep modes); outside git, no one does.
pub(crate) fn modes_recorded(root: &Path) -> bool {
    let Ok(repo) = git2::Repository::discover(root) else {
        return false;
    };
    repo.config().and_then(|c| c.get_bool("core.fileMode")).unwrap_or(true)
}

/// The fleet folder's place in its git repository, `infra/fleet` (empty at its top); `None`
/// outside git, or in a bare repository or one git cannot place it in.
fn git_folder(root: &Path) -> Result<Option<String>, git2::Error> {
    let repo = git2::Repository::discover(root)?;
    let (Some(workdir), Ok(root)) = (repo.workdir(), std::fs::canonicalize(root)) else {
        return Ok(None);
    };
    let Ok(workdir) = std::fs::canonicalize(workdir) else {
        return Ok(None);
    };
    Ok(root.strip_prefix(&workdir).ok().and_then(|rel| {
        let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
        parts.map(|parts| parts.join("/"))
    }))
}

/// The committed matrix of output folder `out` (its `fleet.yaml`), for
/// [`crate::api::Options::committed`]: read when the compile asks, with the new matrix's
/// size; none when there is none, it is not UTF-8, or it is over the input limit and four
/// times the new matrix (a fleet's matrix grows with its placements: 2.2 MB at 200 × 500).
pub(crate) fn committed_matrix(out: &Path) -> impl Fn(u64) -> Option<String> + Sync + use<> {
    let path = out.join(crate::layout::MATRIX);
    move |new_size| {
        let limit = crate::write::MAX_READ_BYTES.max(new_size.saturating_mul(4));
        let read = std::fs::File::open(&path).and_then(|f| crate::load::files::read_bounded(f, 0, limit + 1));
        let whole = read.ok().filter(|bytes| bytes.len() as u64 <= limit);
        whole.and_then(|bytes| String::from_utf8(bytes).ok())
    }
}

/// A warning when the fleet's folder in its git repository is not the one fleet.yaml's
/// `repository.path` names: the GitOps engines read `<path>/rendered/` from the top of the
/// repository they clone. Said, not refused: the rendered tree may be published to another
/// repository.
pub(crate) fn warn_repository_path(root: &Path, compiled: &crate::api::Compiled) {
    let Some(declared) = compiled.repository_path() else {
        return;
    };
    let Ok(Some(actual)) = git_folder(root) else {
        return;
    };
    let declared = declared.unwrap_or_default();
    if actual == declared {
        return;
    }
    let at = if actual.is_empty() {
        "at the top".to_string()
    } else {
        format!("in `{actual}`")
    };
    let set = if crate::cli::commands::init::is_repository_path(&actual) {
        format!("set `repository.path: {actual}`")
    } else {
        // A folder name the schema refuses (a space, say): the folder has to change.
        "rename the fleet's folder (letters, digits, `.`, `_` and `-`) and set `repository.path` to it".to_string()
    };
    let (says, fix) = match (declared.is_empty(), actual.is_empty()) {
        (true, _) => (
            "fleet.yaml's `repository` has no `path`, so the GitOps engines look for `rendered/` at the repository's top".to_string(),
            set,
        ),
        (false, true) => (
            format!("fleet.yaml's `repository.path` is `{declared}`, so the GitOps engines look for `{declared}/rendered/`"),
            "remove `repository.path`".to_string(),
        ),
        (false, false) => (
            format!("fleet.yaml's `repository.path` is `{declared}`, so the GitOps engines look for `{declared}/rendered/`"),
            set,
        ),
    };
    eprintln!(
        "warning: the fleet is {at} of its git repository, but {says}: {fix} in fleet.yaml (unless the rendered tree is published to another repository)"
    );
}

/// `infra/fleet` → `infra/fleet/`; empty stays empty.
fn prefix_of(path: &str) -> String {
    let path = path.trim_matches('/');
    if path.is_empty() || path == "." {
        String::new()
    } else {
        format!("{path}/")
    }
}

/// What every command that reads a fleet's working tree takes.
#[derive(Debug, clap::Args)]
pub(crate) struct FleetArgs {
    /// The fleet repository (the folder holding fleet.yaml) [default: the nearest folder
    /// holding fleet.yaml, from the working directory up].
    #[arg(long)]
    pub repo: Option<PathBuf>,
    /// How to print diagnostics (and the command's findings).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Put this before every path in concise, JSON, GitHub, JUnit and SARIF output
    /// [default: the fleet's folder relative to the root of its git repository].
    #[arg(long, value_name = "PREFIX")]
    pub path_prefix: Option<String>,
}

/// A fleet opened for a command: its files, its folder, and the prefix of its paths.
pub(crate) struct Fleet {
    pub files: WorkTree,
    pub root: PathBuf,
    pub path_prefix: String,
}

impl FleetArgs {
    /// Finds and opens the working tree, or says why not (on stderr).
    pub fn open(&self) -> Option<Fleet> {
        let root = fleet_root(self.repo.as_deref()).or_else(|message| {
            // In a machine format, no fleet from the working directory up is said in that
            // format: the load of the working directory reports its missing fleet.yaml
            // (FG001) and writes nothing. (A text report keeps the longer message.)
            let nowhere = || std::env::current_dir().is_ok_and(|cwd| matches!(find_root(&cwd), Err(None)));
            if self.format != Format::Text && self.repo.is_none() && nowhere() {
                Ok(PathBuf::from("."))
            } else {
                Err(message)
            }
        });
        let opened = root.and_then(|root| Ok((WorkTree::open(&root)?, root)));
        let (files, root) = opened.map_err(|message| eprintln!("error: {message}")).ok()?;
        let path_prefix = match (&self.path_prefix, self.format) {
            (Some(p), _) => prefix_of(p),
            // Text reports keep paths relative to the fleet: no need to look for git.
            (None, Format::Text) => String::new(),
            (None, _) => git_prefix(&root),
        };
        Some(Fleet {
            files,
            root,
            path_prefix,
        })
    }
}

/// Transparent huge pages off for this process (Linux), before anything is allocated in
/// earnest. mimalloc asks the kernel for 2 MiB pages (`madvise(MADV_HUGEPAGE)`), and a
/// short-lived process pays for every one it touches in full: the kernel zeroes all 2 MiB,
/// and on a virtual machine whose host has taken back the guest's free memory a fresh huge
/// page costs ten or thirty times what a warm one does (a small C program touching 64 MiB:
/// 7.6–9.8 ms warm, 245–272 ms the first time after a pause; with 4 KiB pages 23–32 ms).
/// Pre-commit hooks and CI jobs run fleetgen after such pauses: interleaved runs of the
/// bundled `check` on the Intel machine, each after a pause of 2 s, took 41.6 ms with huge
/// pages and 23.0 ms without (medians of sixteen; two of three earlier rounds of ten went the
/// same way); back to back the two are alike. A small fleet used to keep them: measured
/// back to back only, they saved it a few page faults.
fn small_pages() {
    // Best effort: a kernel without the setting runs as before.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

impl Fleet {
    /// The output folder: `--out`, else `<root>/rendered`.
    pub fn out(&self, out: Option<PathBuf>) -> PathBuf {
        out.unwrap_or_else(|| self.root.join(crate::layout::OUTPUT))
    }
}

/// Checks that every `--cluster` and `--app` names something that exists.
pub(crate) fn check_selection(compiled: &Compiled, select: &Selection) -> Result<(), String> {
    let (clusters, apps) = compiled.ids();
    check_names(select, &clusters, &apps)
}

/// Checks that every `--cluster` and `--app` is one of `clusters` and `apps`.
pub(crate) fn check_names(select: &Selection, clusters: &[String], apps: &[String]) -> Result<(), String> {
    for (kind, wanted, known) in [("cluster", &select.clusters, clusters), ("app", &select.apps, apps)] {
        for w in wanted {
            if !known.contains(w) {
                let hint = match crate::suggest::closest(w, known.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("{kind}s: {}", crate::suggest::list(known)),
                };
                return Err(format!("no {kind} `{w}`; {hint}"));
            }
        }
    }
    Ok(())
}

/// The first failed write to stdout other than a closed pipe, said at the end of the run.
static STDOUT_FAILED: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Writes to stdout. A closed pipe (`fleetgen … | head`) is not an error; any other failure
/// (a full disk, `> /dev/full`) is, at the end of the run: exit 2, not a truncated report
/// that exits 0 (a SARIF file cut short would be uploaded as a clean run).
pub(crate) fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        let mut failed = STDOUT_FAILED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        failed.get_or_insert_with(|| e.to_string());
    }
}

/// The run's exit code, 2 when a write to stdout failed (see [`print`]).
fn stdout_written(code: u8) -> u8 {
    let failed = STDOUT_FAILED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match failed.as_deref() {
        Some(e) => {
            eprintln!("error: cannot write standard output: {e}");
            code.max(2)
        }
        None => code,
    }
}

/// A progress bar on stderr for a command that renders the fleet (render, check, lint,
/// diff) and takes more than a moment: shown only on a terminal, without `--quiet`, and only
/// once the render has run for half a second, so that CI logs and quick runs look the same
/// as without it.
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: std::time::Instant,
}

impl Progress {
    /// A bar that says `doing` (`rendering`, `linting` …) while clusters are rendered.
    pub fn new(quiet: bool, doing: &str) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} clusters ({elapsed})")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(doing.to_string());
            bar
        });
        Progress {
            bar,
            start: std::time::Instant::now(),
        }
    }

    fn show_if_slow(&self, bar: &indicatif::ProgressBar) {
        // Half a second; `FLEETGEN_PROGRESS_AFTER_MS` changes it, so that tests can see the
        // bar on a small fleet.
        let after = std::env::var("FLEETGEN_PROGRESS_AFTER_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(500);
        if bar.is_hidden() && self.start.elapsed() >= std::time::Duration::from_millis(after) {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }

    /// Says what is being done now (`compiling HEAD~1` …).
    pub fn doing(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_string());
            bar.set_position(0);
            bar.unset_length();
        }
    }

    /// A cluster of `total` is rendered (called from render threads).
    pub fn tick(&self, total: usize) {
        if let Some(bar) = &self.bar {
            if bar.length().is_none() {
                bar.set_length(total as u64);
            }
            bar.inc(1);
            self.show_if_slow(bar);
        }
    }

    pub fn writing(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message("writing");
            self.show_if_slow(bar);
        }
    }

    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A path as a shell reads it back: quoted when it holds anything but letters, digits and
/// `/._-+:@,=`.
pub(crate) fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:@,=".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        crate::diag::escape::line(word).into_owned()
    } else {
        crate::diag::escape::line(&format!("'{}'", word.replace('\'', "'\\''"))).into_owned()
    }
}

/// `path` as the working directory names it: relative where it is below it (`./` dropped),
/// `../` steps up to it where it is inside a folder above it; shell-quoted.
pub(crate) fn from_cwd(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let relative = match (path.is_absolute(), cwd) {
        (true, Some(cwd)) => match path.strip_prefix(&cwd) {
            Ok(rest) => Some(rest.to_path_buf()),
            // Not through `/`: a path in no folder above but the root stays absolute.
            Err(_) => cwd.ancestors().enumerate().skip(1).find_map(|(up, above)| {
                above.parent()?;
                let rest = path.strip_prefix(above).ok()?;
                Some(Path::new(&"../".repeat(up)).join(rest))
            }),
        },
        _ => Some(path.to_path_buf()),
    };
    let shown = relative.unwrap_or_else(|| path.to_path_buf()).display().to_string();
    let shown = shown.strip_prefix("./").unwrap_or(&shown).trim_end_matches('/');
    // The working directory itself (a command run inside the folder named).
    shell_word(if shown.is_empty() { "." } else { shown })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `FORCE_COLOR=0` means no colour, as Node's supports-color reads it, even on a
    /// terminal; `FORCE_COLOR=1` colours a stream that is not one.
    #[test]
    fn force_color_0_turns_colour_off() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        assert!(!use_color(Color::Auto, true, &env(&[("FORCE_COLOR", "0")])));
        assert!(!use_color(Color::Auto, true, &env(&[("FORCE_COLOR", "false")])));
        assert!(use_color(Color::Auto, false, &env(&[("FORCE_COLOR", "1")])));
        assert!(use_color(Color::Auto, true, &env(&[])));
        assert!(use_color(Color::Always, true, &env(&[("FORCE_COLOR", "0")])));
    }
}
