//! `fleetgen check`: render in memory and compare with the output folder; writes nothing.

use std::path::PathBuf;

use crate::api::{self, Format, Goal, Options};
use crate::cli::{RepoArg, Ui, open_repo, print};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  rendered/ is exactly what the sources compile to
  1  it is not (stale, missing, orphaned or hand-edited files), or the sources have errors
  2  the input or the command could not be used";

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    repo: RepoArg,
    /// The rendered tree to check [default: <repo>/rendered].
    #[arg(long)]
    out: Option<PathBuf>,
    /// How to print the result (diagnostics use the same format).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(args: Args, ui: &Ui) -> u8 {
    let repo = &args.repo.repo;
    let out = args.out.clone().unwrap_or_else(|| repo.join("rendered"));
    let Some(files) = open_repo(repo) else {
        return 2;
    };
    let compiled = api::compile(&files, &Options::new(Goal::Render));
    ui.report(&compiled, args.format);
    let Some(rendered) = &compiled.tree else {
        return compiled.exit_code().max(1);
    };
    let on_disk = match crate::write::read_tree(&out) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", out.display());
            return 2;
        }
    };
    let drifts = crate::check::compare(rendered, &on_disk);
    let shown = out.display().to_string();
    let shown = shown.strip_prefix("./").unwrap_or(&shown);
    match (args.format, drifts.is_empty()) {
        (Format::Json, _) => print(&crate::check::json(&drifts)),
        (_, true) if ui.quiet => {}
        (_, true) => print(&format!("{shown}/ is up to date: {} files\n", rendered.files.len())),
        (_, false) => print(&crate::check::text(&drifts, shown)),
    }
    u8::from(!drifts.is_empty())
}
