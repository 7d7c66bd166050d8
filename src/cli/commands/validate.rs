//! `fleetgen validate`: every check short of rendering; writes nothing.

use crate::api::{self, Format, Goal, Options};
use crate::cli::{FleetArgs, Ui, print};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    fleet: FleetArgs,
}

pub fn run(args: Args, ui: &Ui) -> u8 {
    let Some(fleet) = args.fleet.open() else {
        return 2;
    };
    let format = args.fleet.format;
    let compiled = api::compile(&fleet.files, &Options::new(Goal::Validate));
    let mut text = compiled.report(&ui.stdout_style(format, &fleet.path_prefix));
    crate::cli::warn_repository_path(&fleet.root, &compiled);
    if compiled.diagnostics().is_empty() && matches!(format, Format::Text | Format::Concise) && !ui.quiet {
        let c = compiled.counts();
        let count = crate::diag::count;
        text = format!(
            "fleet is valid: {}, {}, {}, {}\n",
            count(c.clusters, "cluster"),
            count(c.apps, "app"),
            count(c.profiles, "profile"),
            count(c.policy_files, "policy file")
        );
    }
    print(&text);
    compiled.exit_code()
}
