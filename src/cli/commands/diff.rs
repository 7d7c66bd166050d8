//! `fleetgen diff`: compile the fleet at two revisions (or a revision and the working tree)
//! and show what changes in each cluster.

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::api::{self, Files, Format, GitRevision, Goal, Options, RenderedTree, Selection, WorkTree};
use crate::cli::{Progress, Ui, print};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  the diff was shown (with --exit-code: nothing changed)
  1  with --exit-code: something changed; or a side's sources do not compile and it has
     no committed rendered/ to fall back to
  2  the input or the command could not be used (unknown revision, not a git repository)";

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
    /// The fleet repository (the folder holding fleet.yaml), inside a git repository
    /// [default: the nearest folder holding fleet.yaml, from the working directory up].
    #[arg(long)]
    repo: Option<PathBuf>,
    /// How to print the diff.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Only this cluster (repeatable).
    #[arg(long = "cluster", value_name = "ID")]
    clusters: Vec<String>,
    /// Only this app (repeatable).
    #[arg(long = "app", value_name = "NAME")]
    apps: Vec<String>,
    /// Exit 1 when something changed (as `git diff --exit-code`).
    #[arg(long)]
    exit_code: bool,
}

/// App name → (owner team, criticality), for the diff summary.
type AppOwners = std::collections::BTreeMap<String, (String, String)>;

/// One side of a diff.
enum Side {
    Compiled(Box<RenderedTree>, AppOwners),
    /// The sources do not compile: the report to print, and the exit code it calls for
    /// (2 when an input could not be used, as for any command).
    Broken(String, u8),
}

/// Compiles one side of a diff. The second side reuses what the first rendered: a
/// placement whose inputs are the same in both revisions is not rendered again (its files'
/// texts are the first side's).
fn compile_side(files: &dyn Files, ui: &Ui, progress: &Progress, first: Option<&Side>) -> Side {
    let tick = |total| progress.tick(total);
    let empty = api::Store::default();
    let reuse = match first {
        Some(Side::Compiled(tree, _)) => tree.store.as_ref(),
        Some(Side::Broken(..)) => None,
        None => Some(&empty),
    };
    let compile = |reuse| {
        api::compile(
            files,
            &Options {
                on_cluster: Some(&tick),
                reuse,
                ..Options::new(Goal::Render)
            },
        )
    };
    let mut compiled = compile(reuse);
    if let (Some(tree), Some(Side::Compiled(old, _))) = (compiled.tree.as_mut(), first)
        && !tree.known.is_empty()
    {
        // Known files are the first side's files with the same content.
        let known = std::mem::take(&mut tree.known);
        for (path, sum) in &known {
            match old.files.get(path).filter(|t| api::Sum::of(t.as_bytes()) == *sum) {
                Some(text) => {
                    tree.files.insert(path.clone(), text.clone());
                }
                None => {
                    compiled = compile(None);
                    break;
                }
            }
        }
    }
    let Some(tree) = compiled.tree else {
        return Side::Broken(
            compiled.report(&ui.stderr_style(Format::Text, "")),
            compiled.exit_code().max(1),
        );
    };
    let owners = compiled
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
        .collect();
    Side::Compiled(Box::new(tree), owners)
}

/// The rendered tree committed at `rev` (`None`: the working tree's folder on disk).
fn committed(repo: &Path, rev: Option<&str>) -> Option<RenderedTree> {
    let out = crate::layout::OUTPUT;
    match rev {
        Some(rev) => {
            let files = crate::load::git::committed_folder(repo, rev, out).ok()??;
            Some(RenderedTree::from_files(
                files.iter().map(|(p, t)| (p.as_str(), t.as_str())),
            ))
        }
        None => {
            let dir = repo.join(out);
            dir.is_dir().then(|| crate::write::read_tree(&dir).ok()).flatten()
        }
    }
}

fn open_revision(repo: &Path, rev: &str) -> Option<GitRevision> {
    GitRevision::open(repo, rev)
        .map_err(|message| eprintln!("error: {message}"))
        .ok()
}

pub fn run(args: Args, ui: &Ui) -> u8 {
    let repo = match crate::cli::fleet_root(args.repo.as_deref()) {
        Ok(r) => r,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
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
    let Some(old_files) = open_revision(&repo, &from) else {
        return 2;
    };
    let new_files: Box<dyn Files> = match &to {
        Some(rev) => match open_revision(&repo, rev) {
            Some(f) => Box::new(f),
            None => return 2,
        },
        None => match WorkTree::open(&repo) {
            Ok(t) => Box::new(t),
            Err(message) => {
                eprintln!("error: {message}");
                return 2;
            }
        },
    };
    let to_name = to.clone().unwrap_or_else(|| "working tree".to_string());
    let progress = Progress::new(ui.quiet, "");
    progress.doing(&format!("compiling {from}"));
    let old = compile_side(&old_files, ui, &progress, None);
    progress.doing(&format!("compiling {to_name}"));
    let new = compile_side(new_files.as_ref(), ui, &progress, Some(&old));
    progress.done();
    let mut apps = AppOwners::new();
    let mut note = None;
    let (old, new) = match (old, new) {
        (Side::Compiled(old, a), Side::Compiled(new, b)) => {
            apps.extend(a);
            apps.extend(b);
            (*old, *new)
        }
        (old, new) => {
            // A revision whose sources this fleetgen no longer reads (an older schema, say)
            // still has the tree it rendered then: compare the committed trees instead.
            let broken_at = |side: &Side, name: &str| matches!(side, Side::Broken(..)).then(|| format!("`{name}`"));
            let working_tree_broken = to.is_none() && matches!(new, Side::Broken(..));
            let fallback = (!working_tree_broken)
                .then(|| Some((committed(&repo, Some(&from))?, committed(&repo, to.as_deref())?)))
                .flatten();
            match fallback {
                Some((old_tree, new_tree)) => {
                    let broken: Vec<String> = [broken_at(&old, &from), broken_at(&new, &to_name)]
                        .into_iter()
                        .flatten()
                        .collect();
                    for side in [&old, &new] {
                        if let Side::Compiled(_, owners) = side {
                            apps.extend(owners.clone());
                        }
                    }
                    let other = match &to {
                        Some(rev) => format!("at `{rev}`"),
                        None => format!("in the working tree's {}/", crate::layout::OUTPUT),
                    };
                    note = Some(format!(
                        "{} does not compile with this fleetgen (fleetgen {}); comparing the rendered trees committed at `{from}` and {other} instead",
                        broken.join(" and "),
                        env!("CARGO_PKG_VERSION"),
                    ));
                    (old_tree, new_tree)
                }
                None => {
                    let new_name = match &to {
                        Some(rev) => format!("`{rev}`"),
                        None => "the working tree".to_string(),
                    };
                    let mut code = 1;
                    for (side, name) in [(&old, format!("`{from}`")), (&new, new_name)] {
                        if let Side::Broken(report, exit) = side {
                            eprintln!("error: the sources at {name} do not compile:");
                            eprint!("{report}");
                            code = code.max(*exit);
                        }
                    }
                    return code;
                }
            }
        }
    };
    if let Some(note) = &note {
        eprintln!("note: {note}");
    }
    let matrices = crate::diff::Matrices::of(&old, &new);
    let changes: Vec<crate::diff::FileChange> = crate::diff::compare(&old, &new, &matrices)
        .into_iter()
        .filter(|c| select.clusters.is_empty() || select.clusters.contains(&c.cluster))
        .filter(|c| select.apps.is_empty() || c.app.as_ref().is_some_and(|a| select.apps.contains(a)))
        .collect();
    let summary = crate::diff::summary(&changes, &matrices, &apps, &select.clusters, &select.apps);
    // What a reader runs to see it all: the same revisions, said so that git takes them.
    let again = match &to {
        Some(rev) => format!("fleetgen diff {from} {rev}"),
        None => format!("fleetgen diff {from}"),
    };
    let text = match args.format {
        DiffFormat::Text => crate::diff::text(&changes, &summary, &from, &to_name),
        DiffFormat::Markdown => {
            let md = crate::diff::Markdown {
                again: &again,
                note: note.as_deref(),
                limit: 65_536,
            };
            crate::diff::markdown(&changes, &summary, &from, &to_name, &md)
        }
        DiffFormat::Json => crate::diff::json(&changes, &summary, &from, &to_name, note.as_deref()),
    };
    print(&text);
    u8::from(args.exit_code && !changes.is_empty())
}
