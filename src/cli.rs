//! The command line: parse arguments, run one command, print, return the exit code.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diag::{self, Format};
use crate::load::files::WorkTree;
use crate::schema;

const EXIT_CODES: &str = "\
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
    /// Load every input file, check it against its schema and check references between files.
    #[command(after_help = EXIT_CODES)]
    Validate {
        /// The fleet repository (the folder holding fleet.yaml).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the JSON Schema of an input kind, or list the kinds.
    #[command(after_help = EXIT_CODES)]
    Schema {
        /// An input kind (`fleetgen schema` lists them).
        kind: Option<String>,
    },
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
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    match cli.command {
        Command::Validate { repo, format } => validate(&repo, format, color),
        Command::Schema { kind } => print_schema(kind.as_deref()),
    }
}

fn validate(repo: &std::path::Path, format: Format, color: bool) -> u8 {
    let tree = match WorkTree::open(repo) {
        Ok(t) => t,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let (sources, diagnostics) = crate::validate(&tree);
    let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(80);
    let mut text = diag::render(&diagnostics, &sources.files, format, color, width);
    if diagnostics.is_empty() && format != Format::Json {
        text = format!(
            "fleet is valid: {} clusters, {} apps, {} profiles, {} policy files\n",
            sources.clusters.len(),
            sources.apps.len(),
            sources.cluster_profiles.len()
                + sources.observability_profiles.len()
                + sources.backup_profiles.len()
                + sources.identity_profiles.len()
                + sources.telemetry_profiles.len(),
            sources.policy_intents.len() + sources.policy_profiles.len(),
        );
    }
    print(&text);
    diag::exit_code(&diagnostics)
}

fn print_schema(kind: Option<&str>) -> u8 {
    match kind {
        None => {
            let mut out = String::from("input kinds (fleetgen schema KIND prints one):\n");
            for k in schema::KINDS {
                out.push_str(&format!("  {:<22} {}\n", k.name, k.location));
            }
            out.push_str(&format!(
                "\nshared definitions: {} (fleetgen schema common)\n",
                schema::COMMON.0
            ));
            print(&out);
            0
        }
        Some("common") => {
            print(schema::COMMON.1);
            0
        }
        Some(name) => match schema::find(name) {
            Some(k) => {
                print(k.text);
                0
            }
            None => {
                let names: Vec<String> = schema::KINDS.iter().map(|k| k.name.to_string()).collect();
                let hint = match crate::suggest::closest(name, names.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("kinds: {}", crate::suggest::list(&names)),
                };
                eprintln!("error: unknown input kind `{name}`; {hint}");
                2
            }
        },
    }
}

/// Writes to stdout; a closed pipe (`fleetgen … | head`) is not an error.
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
