//! `fleetgen check`: render in memory and compare with the output folder; writes nothing.

use std::path::PathBuf;

use crate::api::{self, Format, Goal, Options};
use crate::cli::{FleetArgs, Ui, print};

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
    let out = args.fleet.out(args.out);
    let format = args.fleet.format;
    let Some(files) = args.fleet.open() else {
        return 2;
    };
    let compiled = api::compile(&files, &Options::new(Goal::Render));
    ui.report(&compiled, format);
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
    let shown = out.display().to_string();
    let shown = shown.strip_prefix("./").unwrap_or(&shown);
    match (format, drifts.is_empty()) {
        (Format::Json, _) => print(&crate::check::json(&drifts)),
        (_, true) if ui.quiet => {}
        (_, true) => print(&format!("{shown}/ is up to date: {} files\n", rendered.files.len())),
        (_, false) => print(&crate::check::text(&drifts, shown)),
    }
    u8::from(!drifts.is_empty())
}
