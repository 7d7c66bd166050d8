//! `fleetgen diff`: compile the fleet at two revisions (or a revision and the working tree)
//! and show what changes in each cluster.

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::api::{self, Files, Format, GitRevision, Goal, Options, RenderedTree, Selection, WorkTree};
use crate::cli::{Progress, Ui, print};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  the diff was shown (with --exit-code: nothing changed)
  1  with --exit-code: something changed, or REV2's sources do not compile (its committed
     rendered/ was compared); or a side's sources do not compile and it has no committed
     rendered/ to fall back to
  2  the input or the command could not be used (unknown revision, a range beside a
     revision, an --app or --cluster neither side has, not a git repository, a bare
     repository without two revisions)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    /// Sized for a pull-request comment (at most 65,536 characters).
    Markdown,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// REV1 [REV2]: compare REV1 (default HEAD, or --base) with REV2 (default the working
    /// tree); or one range, as git diff reads it: `A..B` (A with B), `A...B` (the merge base
    /// of A and B with B).
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
    /// Exit 1 when something changed (as `git diff --exit-code`); with --quiet, print
    /// nothing (as `git diff --quiet`).
    #[arg(long)]
    exit_code: bool,
    /// Do not use the incremental cache (`.fleetgen/`): render every placement of both
    /// revisions. A diff only reads the cache, never writes it.
    #[arg(long)]
    no_cache: bool,
}

/// App name → (owner team, criticality), for the diff summary.
type AppOwners = std::collections::BTreeMap<String, (String, String)>;

/// One side of a diff.
enum Side {
    /// The tree, each app's owner and criticality, and the ids of the clusters.
    Compiled(Box<RenderedTree>, AppOwners, Vec<String>),
    /// The sources do not compile: the report to print, and the exit code it calls for
    /// (2 when an input could not be used, as for any command).
    Broken(String, u8),
}

/// What the fleet's cache lends a diff, read and never written: its placement store (the
/// first side renders only placements whose inputs the last `render` or `check` did not
/// see), its parse and schema memos, and the folder that may hold the texts of files the
/// store knows by hash only (the output folder, which the last `render` wrote).
struct Lent {
    store: api::Store,
    parsed: api::Parsed,
    valid: api::SchemaValid,
    folders: Vec<PathBuf>,
}

impl Lent {
    fn of(repo: &Path) -> Lent {
        let cache = api::Cache::for_fleet(repo);
        Lent {
            store: cache.store(),
            parsed: cache.parsed(),
            valid: cache.schema_valid(),
            folders: vec![repo.join(crate::layout::OUTPUT)],
        }
    }
}

/// Compiles one side of a diff. The first reuses the cache's store (`lent`), the second
/// what the first rendered: a placement whose inputs are the same in both revisions is
/// not rendered again. Files known by hash only are settled by [`settle`].
fn compile_side(files: &dyn Files, progress: &Progress, lent: Option<&Lent>, first: Option<&Side>) -> api::Compiled {
    let tick = |total| progress.tick(total);
    let empty = api::Store::default();
    let reuse = match first {
        Some(Side::Compiled(tree, ..)) => tree.store.as_ref(),
        Some(Side::Broken(..)) => None,
        None => Some(lent.map_or(&empty, |l| &l.store)),
    };
    api::compile(
        files,
        &Options {
            on_cluster: Some(&tick),
            reuse,
            parsed: lent.map(|l| &l.parsed),
            valid: lent.map(|l| &l.valid),
            ..Options::new(Goal::Render)
        },
    )
}

/// The file at `path` in one of `folders` whose content is `sum`, read only when its size is
/// (or could be with CRLF line endings, as git's `core.autocrlf` checks files out: read as LF,
/// as `check` reads them).
fn text_in(folders: &[PathBuf], path: &str, sum: &api::Sum) -> Option<String> {
    folders.iter().find_map(|dir| {
        let file = dir.join(path);
        let meta = std::fs::symlink_metadata(&file).ok()?;
        let crlf = crate::check::may_be_crlf(meta.len(), sum);
        if !meta.is_file() || (meta.len() != sum.size && !crlf) {
            return None;
        }
        let text = std::fs::read_to_string(&file).ok()?;
        match crlf {
            true => crate::check::as_lf(&text, sum),
            false => (api::Sum::of(text.as_bytes()) == *sum).then_some(text),
        }
    })
}

/// Gives both sides the text of every file that differs between them (and of the files
/// the summary reads: the placement matrix, and each cluster's `cluster.yaml`, which says
/// whose a change to the cluster's own files is). A file one side knows by hash only (the
/// cache stood for it) that is the same on the other side changes nothing and leaves both;
/// one that differs takes its text from a folder holding that content. `false`, with
/// both trees as they were, when some text was found nowhere.
fn settle(old: &mut RenderedTree, new: &mut RenderedTree, folders: &[PathBuf]) -> bool {
    let sum_of = |t: &RenderedTree, path: &str| {
        t.known
            .get(path)
            .copied()
            .or_else(|| t.files.get(path).map(|text| api::Sum::of(text.as_bytes())))
    };
    let mut same = Vec::new();
    let mut found: [Vec<(String, String)>; 2] = Default::default();
    for (at, (this, other)) in [(&*old, &*new), (&*new, &*old)].into_iter().enumerate() {
        for (path, sum) in &this.known {
            if sum_of(other, path) == Some(*sum) {
                if !crate::diff::summary_reads(path) {
                    same.push(path.clone());
                    continue;
                }
                if let Some(text) = other.files.get(path) {
                    found[at].push((path.clone(), text.clone()));
                    continue;
                }
            }
            match text_in(folders, path, sum) {
                Some(text) => found[at].push((path.clone(), text)),
                None => return false,
            }
        }
    }
    let [old_texts, new_texts] = found;
    for (side, texts) in [(&mut *old, old_texts), (&mut *new, new_texts)] {
        side.known = Default::default();
        side.files.extend(texts);
        // The render's hashes stood for its files in their order, which this changes.
        side.sums.clear();
    }
    for path in &same {
        old.files.remove(path);
        new.files.remove(path);
    }
    true
}

/// A compiled side as a [`Side`].
fn side(compiled: api::Compiled, ui: &Ui) -> Side {
    let clusters = compiled.ids().0;
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
    Side::Compiled(Box::new(tree), owners, clusters)
}

/// The clusters and apps a tree has folders of (a committed tree, when a side does not
/// compile).
fn names_in(tree: &RenderedTree) -> (Vec<String>, Vec<String>) {
    let (mut clusters, mut apps) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
    for path in tree.files.keys().chain(tree.known.keys()) {
        if let crate::layout::Output::Cluster { id, app } = crate::layout::output_of(path) {
            clusters.insert(id.to_string());
            apps.extend(app.map(str::to_string));
        }
    }
    (clusters.into_iter().collect(), apps.into_iter().collect())
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

/// The two sides a diff's arguments name: REV1 (default HEAD, or --base) and REV2 (`None`:
/// the working tree). One argument may be a range, read as `git diff` reads it: `A..B` is
/// `A B`, and `A...B` starts at the merge base of A and B (what a branch B changed since it
/// left A); a side left out of a range is HEAD. The merge base is named by its commit id.
fn revisions(repo: &Path, args: &Args) -> Result<(String, Option<String>), String> {
    let (first, second) = match (&args.base, &args.revs[..]) {
        (Some(base), _) => (base.clone(), None),
        (None, []) => ("HEAD".to_string(), None),
        (None, [one]) => (one.clone(), None),
        (None, [one, two, ..]) => (one.clone(), Some(two.clone())),
    };
    let Some(at) = first.find("..") else {
        return match second.as_deref().and_then(|two| two.find("..").map(|_| two)) {
            Some(two) => Err(format!(
                "`{two}` is a range, which takes the place of both revisions: give `fleetgen diff {first} REV` or a range alone"
            )),
            None => Ok((first, second)),
        };
    };
    if second.is_some() {
        return Err(format!(
            "`{first}` is a range, which takes the place of both revisions: give the range alone or two revisions"
        ));
    }
    let three = first[at..].starts_with("...");
    let (a, b) = (&first[..at], &first[at + if three { 3 } else { 2 }..]);
    let or_head = |rev: &str| {
        if rev.is_empty() {
            "HEAD".to_string()
        } else {
            rev.to_string()
        }
    };
    let (a, b) = (or_head(a), or_head(b));
    if three {
        let base = crate::load::git::merge_base(repo, &a, &b)?;
        return Ok((base[..12].to_string(), Some(b)));
    }
    Ok((a, Some(b)))
}

/// The fleet at `rev`, `Ok(None)` when it is not there (says so on stderr), `Err(())`
/// when the revision cannot be read (said on stderr).
fn open_revision(repo: &Path, rev: &str, quiet: bool) -> Result<Option<GitRevision>, ()> {
    let opened = GitRevision::open_if_present(repo, rev).map_err(|message| eprintln!("error: {message}"))?;
    if opened.is_none() && !quiet {
        // A revision from before the fleet was added (the pull request that adds it): an
        // empty fleet, every file added, rather than an error that fails that request's CI.
        eprintln!(
            "note: there is no fleet at `{rev}` (none of its files in `{}` there): comparing with an empty fleet",
            crate::diag::escape::line(&repo.display().to_string())
        );
    }
    Ok(opened)
}

/// A side without a fleet: nothing rendered, nothing owned, no clusters.
fn empty_side() -> Side {
    Side::Compiled(Box::default(), AppOwners::new(), Vec::new())
}

pub fn run(args: Args, ui: &Ui) -> u8 {
    let repo = match crate::cli::fleet_root(args.repo.as_deref()) {
        Ok(r) => r,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let (from, to) = match revisions(&repo, &args) {
        Ok(both) => both,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let select = Selection {
        clusters: args.clusters,
        apps: args.apps,
        ..Selection::default()
    };
    let Ok(old_files) = open_revision(&repo, &from, ui.quiet) else {
        return 2;
    };
    let new_files: Option<Box<dyn Files>> = match &to {
        Some(rev) => match open_revision(&repo, rev, ui.quiet) {
            Ok(f) => f.map(|f| Box::new(f) as Box<dyn Files>),
            Err(()) => return 2,
        },
        None if crate::load::git::is_bare(&repo) => {
            eprintln!(
                "error: `{}` is a bare git repository, which has no working tree: give two revisions, as in `fleetgen diff HEAD~1 HEAD`",
                repo.display()
            );
            return 2;
        }
        None => match WorkTree::open(&repo) {
            Ok(t) => Some(Box::new(t)),
            Err(message) => {
                eprintln!("error: {message}");
                return 2;
            }
        },
    };
    // No fleet on either side is a folder that never held one (a misspelt `--repo` in a bare
    // repository, whose path is not checked against a working tree), not "no change".
    if old_files.is_none() && new_files.is_none() {
        eprintln!(
            "error: there is no fleet at `{from}` nor at `{}` in `{}`: is `--repo` the fleet's folder?",
            to.as_deref().unwrap_or("the working tree"),
            crate::diag::escape::line(&repo.display().to_string())
        );
        return 2;
    }
    let to_name = to.clone().unwrap_or_else(|| "working tree".to_string());
    let progress = Progress::new(ui.quiet, "");
    let lent = (!args.no_cache).then(|| Lent::of(&repo));
    let compile_both = |lent: Option<&Lent>| {
        progress.doing(&format!("compiling {from}"));
        let old = match &old_files {
            Some(files) => side(compile_side(files, &progress, lent, None), ui),
            None => empty_side(),
        };
        progress.doing(&format!("compiling {to_name}"));
        // After an empty side, the second is the first to use the cache.
        let first = old_files.is_some().then_some(&old);
        let new = match &new_files {
            Some(files) => side(compile_side(files.as_ref(), &progress, lent, first), ui),
            None => empty_side(),
        };
        (old, new)
    };
    let (mut old, mut new) = compile_both(lent.as_ref());
    // What `--cluster` and `--app` may name: a cluster or app of either side (one a change
    // adds or removes included), gathered before the sides drop the files they share.
    let (mut clusters, mut app_names) = (Vec::new(), Vec::new());
    for side in [&old, &new] {
        if let Side::Compiled(_, owners, ids) = side {
            clusters.extend(ids.iter().cloned());
            app_names.extend(owners.keys().cloned());
        }
    }
    // Files known by hash only: their texts where they differ. Should one be found nowhere
    // (the output folder edited, or the sources changed and checked but not rendered, since
    // the cache was saved), both sides are compiled again without the cache, as a diff
    // without one would; then the second side's known files are the first's, unless a
    // placement's key failed to say a difference (a bug), which costs the second side a
    // render of its own.
    let settled = |old: &mut Side, new: &mut Side, folders: &[PathBuf]| match (old, new) {
        (Side::Compiled(a, ..), Side::Compiled(b, ..)) => settle(a, b, folders),
        _ => true,
    };
    let folders = lent.as_ref().map_or(&[][..], |l| &l.folders[..]);
    if !settled(&mut old, &mut new, folders) {
        if lent.is_some() {
            crate::trace::note("cache", || {
                "a file the cache stood for is not on disk: compiling again".into()
            });
            (old, new) = compile_both(None);
        }
        if !settled(&mut old, &mut new, &[])
            && let Some(files) = &new_files
        {
            new = side(compile_side(files.as_ref(), &progress, None, None), ui);
        }
    }
    progress.done();
    let mut apps = AppOwners::new();
    let mut note = None;
    // REV2's sources do not compile, and its committed tree stood in for them: with
    // --exit-code that is not "nothing changed", whatever the trees say.
    let mut newer_broken = false;
    // The diagnostics of a side that does not compile, shown under the note of a comparison
    // of committed trees: why it does not.
    let mut why = String::new();
    let (old, new) = match (old, new) {
        (Side::Compiled(old, a, _), Side::Compiled(new, b, _)) => {
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
                    for tree in [&old_tree, &new_tree] {
                        let (ids, names) = names_in(tree);
                        clusters.extend(ids);
                        app_names.extend(names);
                    }
                    newer_broken = matches!(new, Side::Broken(..));
                    let broken: Vec<String> = [broken_at(&old, &from), broken_at(&new, &to_name)]
                        .into_iter()
                        .flatten()
                        .collect();
                    for side in [&old, &new] {
                        match side {
                            Side::Compiled(_, owners, _) => apps.extend(owners.clone()),
                            Side::Broken(report, _) => why.push_str(report),
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
    clusters.sort_unstable();
    clusters.dedup();
    app_names.sort_unstable();
    app_names.dedup();
    if let Err(message) = crate::cli::check_names(&select, &clusters, &app_names) {
        eprintln!("error: {message}");
        return 2;
    }
    if let Some(note) = &note {
        eprintln!("note: {note}");
        eprint!("{why}");
    }
    let matrices = crate::diff::Matrices::of(&old, &new);
    let changes = crate::diff::select(
        crate::diff::compare(&old, &new, &matrices),
        &matrices,
        &select.clusters,
        &select.apps,
    );
    let summary = crate::diff::summary(&changes, &matrices, &apps, &select.clusters, &select.apps);
    // A subscription's Azure Policy template that drops an assignment: the stacks' order;
    // an identity template no longer rendered: its stack to delete; a resource the cloud
    // refuses beside the one it replaces: two steps.
    let mut order = crate::diff::deploy_order(&old, &new);
    order.extend(crate::diff::stacks_to_delete(&old, &new));
    order.extend(crate::diff::two_step_deploys(&old, &new));
    for line in &order {
        eprintln!("note: {line}");
    }
    let note = (note.iter().chain(&order))
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("\nnote: ");
    let note = (!note.is_empty()).then_some(note);
    // What a reader runs to see it all: the same revisions, said as they were given, in the
    // same fleet, with the same filters (the rest of what this comment shows).
    let revs = match &args.base {
        Some(base) => std::slice::from_ref(base),
        None => &args.revs[..],
    };
    let given = args.repo.as_ref().map(|r| r.display().to_string());
    let again = crate::diff::again(
        revs,
        given.as_deref(),
        &select.clusters,
        &select.apps,
        crate::cli::shell_word,
    );
    let text = match args.format {
        // The note leads the report, as it does in the other formats (and on stderr).
        DiffFormat::Text => {
            let text = crate::diff::text(&changes, &summary, &from, &to_name);
            match &note {
                Some(note) => format!("note: {note}\n{text}"),
                None => text,
            }
        }
        DiffFormat::Markdown => {
            let md = crate::diff::Markdown {
                marker: &crate::diff::marker(given.as_deref()),
                again: &again,
                note: note.as_deref(),
                limit: 65_536,
            };
            crate::diff::markdown(&changes, &summary, &from, &to_name, &md)
        }
        DiffFormat::Json => crate::diff::json(&changes, &summary, &from, &to_name, note.as_deref()),
    };
    // `--quiet --exit-code` answers with the exit code alone, as `git diff --quiet` does.
    if !(ui.quiet && args.exit_code) {
        print(&text);
    }
    u8::from(args.exit_code && (newer_broken || !changes.is_empty()))
}
