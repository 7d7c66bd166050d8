//! The command line: parse arguments, run one command (`commands/<command>.rs`, each over
//! [`crate::api::compile`]), print, return the exit code.

mod commands;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

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
struct Cli {
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    /// Print diagnostics only: no progress bar, no summary lines.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the fleet without writing: schemas, references, placements, templates, labels.
    #[command(after_help = EXIT_CODES)]
    Validate(commands::validate::Args),
    /// Compile the fleet: write rendered/<clusterId>/… for every cluster (or print it).
    #[command(after_help = EXIT_CODES)]
    Render(commands::render::Args),
    /// Check that rendered/ is what the sources compile to (stale, missing, orphaned or
    /// hand-edited files); writes nothing.
    #[command(after_help = commands::check::EXIT_CODES)]
    Check(commands::check::Args),
    /// Show what a change does to each cluster: compile the fleet at two git revisions (or a
    /// revision and the working tree) and compare the rendered trees. Reads git objects only.
    #[command(after_help = EXIT_CODES)]
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
    /// Print the JSON Schema of an input kind, or list the kinds.
    #[command(after_help = EXIT_CODES)]
    Schema {
        /// An input kind (`fleetgen schema` lists them).
        kind: Option<String>,
    },
}

/// What every command needs of the terminal.
pub(crate) struct Ui {
    pub color: bool,
    pub quiet: bool,
    pub width: usize,
}

impl Ui {
    /// How diagnostics are printed in `format`.
    pub fn style(&self, format: Format) -> Style {
        Style {
            format,
            color: self.color,
            width: self.width,
        }
    }

    /// Prints a compile's diagnostics, if any, on stderr.
    pub fn report(&self, compiled: &Compiled, format: Format) {
        if !compiled.diagnostics().is_empty() {
            eprint!("{}", compiled.report(self.style(format)));
        }
    }
}

/// Runs fleetgen with the process arguments and returns the exit code.
pub fn run() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let ui = Ui {
        color: match cli.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        },
        quiet: cli.quiet,
        width: std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(80),
    };
    match cli.command {
        Command::Validate(args) => commands::validate::run(args, &ui),
        Command::Render(args) => commands::render::run(args, &ui),
        Command::Check(args) => commands::check::run(args, &ui),
        Command::Diff(args) => commands::diff::run(args, &ui),
        Command::Lint(args) => commands::lint::run(args, &ui),
        Command::Rules => commands::explain::rules(),
        Command::Explain { code } => commands::explain::explain(&code),
        Command::Schema { kind } => commands::schema::run(kind.as_deref()),
    }
}

/// What every command that reads a fleet's working tree takes.
#[derive(Debug, clap::Args)]
pub(crate) struct FleetArgs {
    /// The fleet repository (the folder holding fleet.yaml).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// How to print diagnostics (and the command's findings).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

impl FleetArgs {
    /// Opens the working tree, or says why not.
    pub fn open(&self) -> Option<WorkTree> {
        WorkTree::open(&self.repo)
            .map_err(|message| eprintln!("error: {message}"))
            .ok()
    }

    /// The output folder: `--out`, else `<repo>/rendered`.
    pub fn out(&self, out: Option<PathBuf>) -> PathBuf {
        out.unwrap_or_else(|| self.repo.join("rendered"))
    }
}

/// Checks that every `--cluster` and `--app` names something that exists.
pub(crate) fn check_selection(compiled: &Compiled, select: &Selection) -> Result<(), String> {
    let (clusters, apps) = compiled.ids();
    for (kind, wanted, known) in [("cluster", &select.clusters, &clusters), ("app", &select.apps, &apps)] {
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

/// Writes to stdout; a closed pipe (`fleetgen … | head`) is not an error.
pub(crate) fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// A progress bar on stderr for a render that takes more than a moment: shown only on a
/// terminal, without `--quiet`, and only once the render has run for half a second, so
/// that CI logs and quick renders look the same as without it.
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: std::time::Instant,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} clusters ({elapsed})")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message("rendering");
            bar
        });
        Progress {
            bar,
            start: std::time::Instant::now(),
        }
    }

    fn show_if_slow(&self, bar: &indicatif::ProgressBar) {
        if bar.is_hidden() && self.start.elapsed() > std::time::Duration::from_millis(500) {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
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
