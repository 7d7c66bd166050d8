//! `fleetgen render`: compile the fleet (or part of it) into the output folder, or print it.

use std::path::PathBuf;

use std::path::Path;

use crate::api::{self, Cache, Format, Goal, Options, RenderedTree, Selection};
use crate::cli::{FleetArgs, Progress, Ui, check_selection, print};
use crate::incremental::Index;
use crate::incremental::index::Stated;
use crate::write::shadow::{Failed, Plan, Shadow};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    fleet: FleetArgs,
    /// Output folder [default: <repo>/rendered]. Replaced whole and atomically.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Render only this cluster (repeatable); the rest of the output folder is kept.
    #[arg(long = "cluster", value_name = "ID")]
    clusters: Vec<String>,
    /// Render only this app, on every cluster it lands on (repeatable), and print where it lands.
    #[arg(long = "app", value_name = "NAME")]
    apps: Vec<String>,
    /// Print the rendered files as one YAML stream instead of writing them.
    #[arg(long, conflicts_with = "out")]
    stdout: bool,
    /// Print each Helm value of a chart app on a cluster with the file and line it came from.
    #[arg(long, num_args = 2, value_names = ["APP", "CLUSTER"], conflicts_with_all = ["stdout", "out", "clusters", "apps"])]
    explain_values: Option<Vec<String>>,
    /// Neither use nor refresh the incremental cache (`.fleetgen/`): render every placement.
    #[arg(long)]
    no_cache: bool,
}

pub fn run(args: Args, ui: &Ui) -> u8 {
    let format = args.fleet.format;
    let Some(fleet) = args.fleet.open() else {
        return 2;
    };
    crate::incremental::index::track_exec(crate::cli::modes_recorded(&fleet.root));
    let out = fleet.out(args.out);
    let prefix = fleet.path_prefix.as_str();
    let files = &fleet.files;
    if let Some(v) = &args.explain_values {
        return explain_values(files, &v[0], &v[1], format, prefix, ui);
    }
    let select = Selection {
        clusters: args.clusters,
        apps: args.apps,
        ..Selection::default()
    };
    let progress = Progress::new(ui.quiet || args.stdout, "rendering");
    let tick = |total| progress.tick(total);
    // A whole render into the output folder reuses what did not change: the old tree (or
    // the shadow) holds the text of what the cache knows by hash (checked through the stat
    // indexes).
    // The output folder itself first: one render refuses (`.`, a folder it reads) is said
    // so, not blamed on the cache folder inside it.
    if !args.stdout
        && let Err(message) = crate::write::output_folder(&fleet.root, &out)
    {
        eprintln!("error: {message}");
        return 2;
    }
    let cache = (!args.no_cache && !args.stdout && select.is_all()).then(|| Cache::for_fleet(&fleet.root));
    if let Some(cache) = &cache
        && let Err(message) = crate::write::refuse_cache_dir(&fleet.root, cache.dir(), &out)
    {
        eprintln!("error: {message}");
        return 2;
    }
    // One run at a time reads and writes the output folder and the cache's account of it
    // (a render without the cache too: it replaces the tree another run may be reading).
    let _lock = (!args.stdout).then(|| crate::incremental::lock_for(&fleet.root, cache.as_ref()));
    // Input files the last run found valid against their schema are not validated again.
    let valid = cache.as_ref().map(Cache::schema_valid);
    // Nor parsed again, when their text did not change.
    let parsed = cache.as_ref().map(Cache::parsed);
    // What the committed matrix says against the sources (FG051).
    let committed = crate::cli::committed_matrix(&out);
    let compile = |reuse: Option<&crate::incremental::Store>| {
        api::compile(
            files,
            &Options {
                goal: Goal::Render,
                select: select.clone(),
                on_cluster: Some(&tick),
                reuse,
                valid: valid.as_ref(),
                parsed: parsed.as_ref(),
                exit_after: true,
                committed: Some(&committed),
            },
        )
    };
    // The tree the output folder held before, brought up to the new one (only what changed
    // is written) and exchanged with it; a first render writes a fresh tree.
    let shadow = cache.as_ref().and_then(|cache| {
        let (dir, lock) = cache.shadow()?;
        Shadow::open(dir, &lock, &out).map(|shadow| (shadow, cache))
    });
    // The output folder's index and the shadow looked up in its own: none of it needs the
    // render, so it runs while the sources compile, on threads of its own.
    let scan = || {
        let live = cache.as_ref().map(|cache| cache.index(&out)).unwrap_or_default();
        let scanned = shadow
            .as_ref()
            .and_then(|(shadow, cache)| shadow.scan(&cache.shadow_index(&out)));
        (live, scanned)
    };
    let (store, (live, scanned), mut compiled) = std::thread::scope(|scope| {
        let walker = cache.as_ref().and_then(|_| {
            // A pool of its own, this thread one of its threads (as many as the cores, as
            // the compile's): not queued behind the compile's work on the shared pool, and
            // not left on one thread when the compile ends first. The walk of the shadow
            // (99,423 files at 200 × 500) took longer than the compile after a one-contract
            // change, and on a pool of this thread alone it ran on one core after the compile
            // had ended: 385 → 305 ms for that render (nine interleaved runs each), the same
            // at 20 × 50 (64.1 against 63.9 ms, fifteen each), where the two take as long.
            let on_its_pool = || match rayon::ThreadPoolBuilder::new()
                .thread_name(|i| format!("fleetgen-walk-{i}"))
                .use_current_thread()
                .build()
            {
                Ok(pool) => pool.install(scan),
                Err(_) => scan(),
            };
            std::thread::Builder::new()
                .name("fleetgen-walk".into())
                .spawn_scoped(scope, move || crate::trace::stage("walk", on_its_pool))
                .ok()
        });
        // The store is read once the walk has started (on the other core).
        let store = crate::trace::stage("store", || cache.as_ref().map(Cache::store));
        let compiled = compile(store.as_ref());
        let scanned = match walker {
            Some(handle) => handle.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            None => scan(),
        };
        (store, scanned, compiled)
    });
    let fell_back = || {
        crate::trace::note("verify", || {
            "the output folder does not hold what the cache knows: rendering without it".into()
        });
    };
    if let (None, true, Some(tree)) = (&shadow, cache.is_some(), &compiled.tree)
        && !tree.known.is_empty()
        && !crate::trace::stage("verify", || on_disk(&out, &live, tree))
    {
        fell_back();
        compiled = compile(None);
    }
    let shadow_scanned = shadow.as_ref().map(|(shadow, _)| shadow).zip(scanned.as_deref());
    let mut plan = plan_for(shadow_scanned, &out, compiled.tree.as_ref(), &live);
    // Files the cache knows that neither tree holds (the store of a `check` that found
    // `rendered/` stale, say): what they belong to is rendered again, the rest reused, as
    // `check` does; without the cache only if that is not enough.
    let narrowed = plan
        .as_ref()
        .filter(|plan| !plan.missing.is_empty())
        .map(|plan| store.as_ref().map(|s| s.without(&plan.missing)));
    if let Some(narrowed) = &narrowed {
        drop(plan);
        crate::trace::note("verify", || {
            "cached files differ: rendering what they belong to again".into()
        });
        compiled = compile(narrowed.as_ref());
        plan = plan_for(shadow_scanned, &out, compiled.tree.as_ref(), &live);
        if plan.as_ref().is_some_and(|plan| !plan.missing.is_empty()) {
            drop(plan);
            fell_back();
            compiled = compile(None);
            plan = plan_for(shadow_scanned, &out, compiled.tree.as_ref(), &live);
        }
    }
    // A selection naming nothing is refused (and what rendered is dropped).
    if compiled.exit_code() == 0
        && let Err(message) = check_selection(&compiled, &select)
    {
        progress.done();
        ui.report(&compiled, format, prefix);
        eprintln!("error: {message}");
        return 2;
    }
    ui.report(&compiled, format, prefix);
    crate::cli::warn_repository_path(&fleet.root, &compiled);
    let Some(rendered) = &compiled.tree else {
        progress.done();
        return compiled.exit_code().max(1);
    };
    if args.stdout {
        let mut text = String::new();
        for (path, body) in rendered.owned_by(&select) {
            text.push_str(&format!("---\n# {path}\n{body}"));
        }
        print(&text);
        return 0;
    }
    progress.writing();
    // A shell whose working directory is inside the output folder is left in the old tree
    // when the new one takes its place (a render exchanges the folders): said below.
    let cwd_inside = std::env::current_dir()
        .and_then(|cwd| cwd.canonicalize())
        .is_ok_and(|cwd| out.canonicalize().is_ok_and(|out| cwd.starts_with(out)));
    // A partial render says what it changed: the old tree is read before it is replaced.
    let before = (!select.is_all() && !ui.quiet)
        .then(|| crate::write::read_tree(&out).ok())
        .flatten();
    let keep = |path: &str| !select.replaces(path);
    let classic = |rendered: &RenderedTree| {
        crate::trace::stage("write", || {
            crate::write::write(
                &fleet.root,
                &out,
                rendered,
                (!select.is_all()).then_some(&keep as &dyn Fn(&str) -> bool),
            )
        })
    };
    let (mut exchanged, mut fresh) = (None, None);
    let (written, store_saved) = std::thread::scope(|scope| {
        // Through the shadow, the placement store is written meanwhile: it stands for no file
        // that is not checked on disk, so a write that then fails leaves it harmless.
        let saver = match (&cache, &plan, &rendered.store) {
            (Some(cache), Some(_), Some(store)) => std::thread::Builder::new()
                .name("fleetgen-save".into())
                .spawn_scoped(scope, move || cache.save(Some(store), None))
                .ok(),
            _ => None,
        };
        let written = match plan {
            None => classic(rendered),
            Some(plan) => match crate::trace::stage("write", || plan.write(&fleet.root, &out)) {
                Ok((written, index)) => {
                    exchanged = Some(index);
                    Ok(written)
                }
                Err(Failed::Refused(message)) => Err(message),
                Err(Failed::Shadow(message)) => {
                    // Only speed is lost: the whole tree is rendered and written afresh.
                    crate::trace::note("write", || format!("{message}: writing a fresh tree"));
                    match &fresh.insert(compile(None)).tree {
                        Some(tree) => classic(tree),
                        None => Err(format!("{message}, and rendering again failed")),
                    }
                }
            },
        };
        let saved = saver.map(|handle| handle.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        (written, saved)
    });
    // Derived data: a cache that cannot be written costs speed, never a result.
    let unsaved = |cache: &Cache, e: std::io::Error| {
        crate::trace::note("cache", || format!("not saved in `{}`: {e}", cache.dir().display()));
    };
    // Whether the store was written meanwhile (or tried to be: it is not tried again).
    let store_saved = match (&cache, store_saved) {
        (Some(cache), Some(Err(e))) => {
            unsaved(cache, e);
            true
        }
        (_, saved) => saved.is_some(),
    };
    let rendered = fresh
        .as_ref()
        .and_then(|c: &api::Compiled| c.tree.as_ref())
        .unwrap_or(rendered);
    progress.done();
    // A clean-up that failed: the render succeeded, but something is left beside it.
    for warning in written.iter().flat_map(|w| &w.warnings) {
        eprintln!("warning: {warning}");
    }
    if cwd_inside && written.as_ref().is_ok_and(|w| w.swap != crate::write::Swap::Created) {
        eprintln!(
            "note: the working directory is inside `{}`, which this render replaced: run `cd \"$PWD\"` to see the new files",
            crate::write::normal(&out).display()
        );
    }
    if let (Some(cache), Some(before), Ok(_)) = (&cache, &valid, &written) {
        let compiled = fresh.as_ref().unwrap_or(&compiled);
        if let Err(e) = cache.save_schema_valid(before, compiled.schema_valid()) {
            unsaved(cache, e);
        }
        if let Some(parsed) = &parsed
            && let Err(e) = cache.save_parsed(parsed, compiled.parsed())
        {
            unsaved(cache, e);
        }
    }
    if let (Some(cache), Ok(_), Some(index)) = (&cache, &written, &exchanged) {
        let store = rendered.store.as_ref().filter(|_| !store_saved);
        if let Err(e) = crate::trace::stage("index", || cache.save_exchanged(store, index)) {
            unsaved(cache, e);
        }
    } else if let (Some(cache), Ok(_)) = (&cache, &written) {
        let index = crate::trace::stage("index", || {
            let sums = rendered
                .files
                .iter()
                .map(|(p, t)| (p, api::Sum::of(t.as_bytes())))
                .chain(rendered.known.iter().map(|(p, s)| (p, *s)));
            crate::incremental::index::record(&out, sums.collect())
        });
        if let Err(e) = cache.save(rendered.store.as_ref(), index.as_ref()) {
            unsaved(cache, e);
        }
    }
    let code = match written {
        Ok(_) if ui.quiet => 0,
        Ok(w) => {
            let mut text = String::new();
            if !select.apps.is_empty() {
                for l in &compiled.landings {
                    text.push_str(&format!(
                        "{} → {} ({}, ring {})\n",
                        l.app, l.cluster, l.environment, l.ring
                    ));
                }
            }
            let clusters = rendered.clusters().count();
            let landed = (compiled.landings.iter().map(|l| l.cluster.as_str()))
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            let count = crate::diag::count;
            let removed = if w.removed > 0 {
                format!(", {} removed", count(w.removed, "stale file"))
            } else {
                String::new()
            };
            if select.is_all() {
                text.push_str(&format!(
                    "rendered {} on {}: {} in {}{removed}\n",
                    count(compiled.landings.len(), "placement"),
                    count(clusters, "cluster"),
                    count(w.files, "file"),
                    crate::write::normal(&out).display(),
                ));
            } else {
                let written = rendered.files.len();
                let changed = match &before {
                    Some(old) => rendered
                        .files
                        .iter()
                        .filter(|(path, text)| old.files.get(*path) != Some(*text))
                        .count(),
                    None => written,
                };
                text.push_str(&format!(
                    "rendered {} on {}: wrote {} of {} ({changed} changed){removed} in {}, kept {} of the rest of the fleet\n",
                    count(compiled.landings.len(), "placement"),
                    // Where the selected apps land; the files written are those of every
                    // cluster the selection touches (a cluster's own files, its GitOps root).
                    count(landed, "cluster"),
                    count(written, "file"),
                    count(clusters, "cluster"),
                    crate::write::normal(&out).display(),
                    count(w.files - written, "file"),
                ));
                if compiled.landings.is_empty() {
                    eprintln!(
                        "note: no selected app lands on a selected cluster (the placement matrix, `fleet.yaml` in the output folder, lists where each app lands)"
                    );
                }
            }
            print(&text);
            0
        }
        Err(message) => {
            eprintln!("error: {message}");
            2
        }
    };
    // The process ends with this command: its memory goes back to the system whole, which is
    // faster than freeing hundreds of thousands of paths and entries one by one.
    std::mem::forget((compiled, fresh, store, fleet));
    code
}

fn explain_values(files: &api::WorkTree, app: &str, cluster: &str, format: Format, prefix: &str, ui: &Ui) -> u8 {
    let compiled = api::compile(files, &Options::new(Goal::Validate));
    let select = Selection {
        clusters: vec![cluster.to_string()],
        apps: vec![app.to_string()],
        ..Selection::default()
    };
    if let Err(message) = check_selection(&compiled, &select) {
        eprintln!("error: {message}");
        return 2;
    }
    ui.report(&compiled, format, prefix);
    if compiled.exit_code() != 0 {
        return compiled.exit_code();
    }
    match compiled.explain_values(app, cluster) {
        None => {
            eprintln!("error: `{app}` does not land on cluster `{cluster}`");
            2
        }
        Some(Err(message)) => {
            eprintln!("error: {message}");
            2
        }
        Some(Ok(text)) => {
            print(&text);
            0
        }
    }
}

/// How to bring the shadow (with its files `scanned`) up to `tree`, when there are both.
fn plan_for<'a>(
    shadow: Option<(&Shadow, &[Stated])>,
    out: &Path,
    tree: Option<&'a RenderedTree>,
    live: &Index,
) -> Option<Plan<'a>> {
    let ((shadow, scanned), tree) = shadow.zip(tree)?;
    Some(crate::trace::stage("verify", || shadow.plan(scanned, out, tree, live)))
}

/// Whether every file the cache stood for is in the output folder with the content it knows.
fn on_disk(out: &Path, index: &Index, tree: &RenderedTree) -> bool {
    if crate::write::refuse_link(out).is_err() {
        return false;
    }
    let paths = tree.known.keys().map(|p| (p.clone(), None)).collect();
    let limit = |path: &str| Some(crate::write::MAX_READ_BYTES.max(tree.known.get(path)?.size));
    match crate::incremental::index::scan(out, index, paths, &limit) {
        Ok((disk, _)) => tree
            .known
            .iter()
            .all(|(path, sum)| disk.get(path).map(|d| d.sum) == Some(*sum)),
        Err(_) => false,
    }
}
