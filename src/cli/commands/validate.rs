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
        text = format!(
            "fleet is valid: {} clusters, {} apps, {} profiles, {} policy files\n",
            c.clusters, c.apps, c.profiles, c.policy_files
        );
    }
    print(&text);
    compiled.exit_code()
}
