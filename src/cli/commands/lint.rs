//! `fleetgen lint`: every validate check, the render's findings, and the rule catalogue.

use crate::api::{self, Goal, LintFilter, Options};
use crate::cli::{FleetArgs, Ui, print};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  no error findings (warnings may have been printed)
  1  error findings (or warnings, with --deny-warnings)
  2  the input or the command could not be used";

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    fleet: FleetArgs,
    /// Only these rules (codes or names, comma-separated; a code prefix like FG1 selects a family).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Not these rules.
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Exit 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
}

pub fn run(args: Args, ui: &Ui) -> u8 {
    let Some(tree) = args.fleet.open() else {
        return 2;
    };
    let filter = LintFilter {
        select: args.select,
        ignore: args.ignore,
        deny_warnings: args.deny_warnings,
    };
    if let Err(message) = filter.check() {
        eprintln!("error: {message}");
        return 2;
    }
    let compiled = api::compile(&tree, &Options::new(Goal::Lint));
    let (code, text) = api::lint_report(compiled, &filter, ui.style(args.fleet.format), ui.quiet);
    print(&text);
    code
}
