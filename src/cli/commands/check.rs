//! `fleetgen check`: render in memory and compare with the output folder; writes nothing.

use std::path::PathBuf;

use crate::api::{self, Format, Goal, Options};
use crate::check::Drift;
use crate::cli::{FleetArgs, Progress, Ui, print};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  rendered/ is exactly what the sources compile to
  1  it is not (stale, missing, orphaned or hand-edited files), or the sources have errors
  2  the input or the command could not be used";

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    fleet: FleetArgs,
    /// The rendered tree to check [default: <repo>/rendered].
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args, ui: &Ui) -> u8 {
    let format = args.fleet.format;
    if matches!(format, Format::Sarif | Format::Junit) {
        eprintln!(
            "error: `fleetgen check` reports drift as text, concise, json or github; for code scanning use `fleetgen lint --format sarif`"
        );
        return 2;
    }
    let Some(fleet) = args.fleet.open() else {
        return 2;
    };
    let out = fleet.out(args.out);
    let prefix = fleet.path_prefix.as_str();
    // The output folder as the report names it: relative to the fleet when it is inside.
    let shown = out
        .strip_prefix(&fleet.root)
        .ok()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(&out)
        .display()
        .to_string();
    let shown = shown.strip_prefix("./").unwrap_or(&shown).to_string();
    if !out.exists() {
        let message = format!("{shown}/ does not exist: run `fleetgen render` to create it");
        match format {
            Format::Json => print(&crate::check::json(&[Drift {
                path: String::new(),
                status: crate::check::Status::Missing,
                diff: String::new(),
            }])),
            Format::Github => print(&format!(
                "::error file={prefix}{shown},title=fleetgen check::{message}\n"
            )),
            _ => print(&format!("{message}\n")),
        }
        return 1;
    }
    let progress = Progress::new(ui.quiet, "checking");
    let tick = |total| progress.tick(total);
    let options = Options {
        on_cluster: Some(&tick),
        ..Options::new(Goal::Render)
    };
    let compiled = api::compile(&fleet.files, &options);
    progress.done();
    ui.report(&compiled, format, prefix);
    let Some(rendered) = &compiled.tree else {
        return compiled.exit_code().max(1);
    };
    let on_disk = match crate::write::read_for_check(&out, rendered) {
        Ok(t) => t,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let drifts = crate::check::compare(rendered, &on_disk);
    match (format, drifts.is_empty()) {
        (Format::Json, _) => print(&crate::check::json(&drifts)),
        (_, true) if ui.quiet => {}
        (Format::Github, true) => {}
        (_, true) => print(&format!("{shown}/ is up to date: {} files\n", rendered.files.len())),
        (Format::Concise, false) => print(&crate::check::concise(&drifts, &shown)),
        (Format::Github, false) => print(&crate::check::github(&drifts, &format!("{prefix}{shown}"))),
        (_, false) => print(&crate::check::text(&drifts, &shown)),
    }
    u8::from(!drifts.is_empty())
}
