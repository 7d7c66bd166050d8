//! `fleetgen diff`: compile the fleet at two revisions (or a revision and the working tree)
//! and show what changes in each cluster.

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::api::{self, Files, Format, GitRevision, Goal, Options, RenderedTree, Selection, WorkTree};
use crate::cli::{Ui, print};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    /// Sized for a pull-request comment (at most 65,536 characters).
    Markdown,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// REV1 [REV2]: compare REV1 (default HEAD, or --base) with REV2 (default the working tree).
    #[arg(num_args = 0..=2, value_name = "REV")]
    revs: Vec<String>,
    /// The revision to compare against, e.g. `origin/main` in CI (same as giving REV1).
    #[arg(long, conflicts_with = "revs")]
    base: Option<String>,
    /// The fleet repository (the folder holding fleet.yaml), inside a git repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// How to print the diff.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Only this cluster (repeatable).
    #[arg(long = "cluster", value_name = "ID")]
    clusters: Vec<String>,
    /// Only this app (repeatable).
    #[arg(long = "app", value_name = "NAME")]
    apps: Vec<String>,
}

/// App name → (owner team, criticality), for the diff summary.
type AppOwners = std::collections::BTreeMap<String, (String, String)>;

/// Compiles one side of a diff; on errors, prints them (with the side's name) and gives
/// the exit code they call for (2 when an input could not be used, as for any command).
fn compile_side(files: &dyn Files, side: &str, ui: &Ui) -> Result<(RenderedTree, AppOwners), u8> {
    let compiled = api::compile(files, &Options::new(Goal::Render));
    let Some(tree) = compiled.tree else {
        eprintln!("error: the sources at {side} do not compile:");
        eprint!("{}", compiled.report(ui.style(Format::Text)));
        return Err(compiled.exit_code().max(1));
    };
    Ok((
        tree,
        compiled
            .sources
            .apps
            .iter()
            .map(|a| {
                let app = &a.value.application;
                (
                    app.name.to_string(),
                    (app.owner.to_string(), app.criticality.to_string()),
                )
            })
            .collect(),
    ))
}

fn open_revision(repo: &Path, rev: &str) -> Option<GitRevision> {
    GitRevision::open(repo, rev)
        .map_err(|message| eprintln!("error: {message}"))
        .ok()
}

pub fn run(args: Args, ui: &Ui) -> u8 {
    let from = args
        .base
        .clone()
        .or_else(|| args.revs.first().cloned())
        .unwrap_or_else(|| "HEAD".to_string());
    let to = args.revs.get(1).cloned();
    let select = Selection {
        clusters: args.clusters,
        apps: args.apps,
        ..Selection::default()
    };
    let Some(old_files) = open_revision(&args.repo, &from) else {
        return 2;
    };
    let (old, mut apps) = match compile_side(&old_files, &format!("`{from}`"), ui) {
        Ok(side) => side,
        Err(code) => return code,
    };
    let (new, to_name) = match &to {
        Some(rev) => {
            let Some(files) = open_revision(&args.repo, rev) else {
                return 2;
            };
            (compile_side(&files, &format!("`{rev}`"), ui), rev.clone())
        }
        None => {
            let files = match WorkTree::open(&args.repo) {
                Ok(t) => t,
                Err(message) => {
                    eprintln!("error: {message}");
                    return 2;
                }
            };
            (compile_side(&files, "the working tree", ui), "working tree".to_string())
        }
    };
    let (new, new_apps) = match new {
        Ok(side) => side,
        Err(code) => return code,
    };
    apps.extend(new_apps);
    let changes: Vec<crate::diff::FileChange> = crate::diff::compare(&old, &new)
        .into_iter()
        .filter(|c| select.clusters.is_empty() || select.clusters.contains(&c.cluster))
        .filter(|c| select.apps.is_empty() || c.app.as_ref().is_some_and(|a| select.apps.contains(a)))
        .collect();
    let summary = crate::diff::summary(&changes, &old, &new, &apps);
    let text = match args.format {
        DiffFormat::Text => crate::diff::text(&changes, &summary, &from, &to_name),
        DiffFormat::Markdown => crate::diff::markdown(&changes, &summary, &from, &to_name, 65_536),
        DiffFormat::Json => crate::diff::json(&changes, &summary, &from, &to_name),
    };
    print(&text);
    0
}
