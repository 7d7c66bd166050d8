//! `fleetgen validate`: every check short of rendering; writes nothing.

use crate::api::{self, Format, Goal, Options};
use crate::cli::{RepoArg, Ui, open_repo, print};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    repo: RepoArg,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(args: Args, ui: &Ui) -> u8 {
    let Some(tree) = open_repo(&args.repo.repo) else {
        return 2;
    };
    let compiled = api::compile(&tree, &Options::new(Goal::Validate));
    let mut text = compiled.report(ui.style(args.format));
    if compiled.diagnostics().is_empty() && matches!(args.format, Format::Text | Format::Concise) && !ui.quiet {
        let c = compiled.counts();
        text = format!(
            "fleet is valid: {} clusters, {} apps, {} profiles, {} policy files\n",
            c.clusters, c.apps, c.profiles, c.policy_files
        );
    }
    print(&text);
    compiled.exit_code()
}
