//! `fleetgen check`: render in memory and compare with the output folder; writes nothing.

use std::path::{Path, PathBuf};

use crate::api::{self, Cache, Format, Goal, Options};
use crate::check::Drift;
use crate::cli::{FleetArgs, Progress, Ui, print};
use crate::incremental::Index;
use crate::incremental::index::Disk;

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
    /// Neither use nor refresh the incremental cache (`.fleetgen/`): render every placement
    /// and read every file.
    #[arg(long)]
    no_cache: bool,
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
    crate::incremental::index::track_exec(crate::cli::modes_recorded(&fleet.root));
    let out = fleet.out(args.out.clone());
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
    // As the machine formats name it: from the top of the git repository (or after
    // `--path-prefix`), as `lint` names files, so that annotations land on them.
    let located = format!("{prefix}{shown}");
    // Only what `render` would write: not a file, a link, a folder it reads, or one it did
    // not write (which would be all "orphaned" or "missing").
    let exists = match crate::write::output_folder(&fleet.root, &out) {
        Ok(exists) => exists,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let cache = (!args.no_cache).then(|| Cache::for_fleet(&fleet.root));
    if let Some(cache) = &cache
        && let Err(message) = crate::write::refuse_cache_dir(&fleet.root, cache.dir(), &out)
    {
        eprintln!("error: {message}");
        return 2;
    }
    // Not while a render replaces the output folder (see `Cache::lock`).
    let _lock = crate::incremental::lock_for(&fleet.root, cache.as_ref());
    // The render to run, with the `--repo` and `--out` this check was given (from the top of
    // a monorepo, a plain `fleetgen render` finds no fleet), and the output folder as the
    // working directory names it, to stage.
    let render = render_command(args.fleet.repo.as_deref(), args.out.as_deref());
    let folder = crate::cli::from_cwd(&out);
    if !exists {
        // Sources that do not compile are said first, as `render` would say them (bad YAML
        // is exit 2), rather than sending the user to a render that fails.
        let compiled = api::compile(&fleet.files, &Options::new(Goal::Validate));
        if compiled.exit_code() != 0 {
            report_stop(ui, &compiled, format, prefix);
            return compiled.exit_code();
        }
        let message = format!("{shown}/ does not exist: run `{render}` to create it");
        match format {
            Format::Json => print(&crate::check::json(
                &[Drift {
                    path: String::new(),
                    status: crate::check::Status::Missing,
                    diff: String::new(),
                }],
                &located,
            )),
            Format::Github => print(&format!("::error file={located},title=fleetgen check::{message}\n")),
            _ => print(&format!("{message}\n")),
        }
        return 1;
    }
    let progress = Progress::new(ui.quiet, "checking");
    let tick = |total| progress.tick(total);
    // Input files the last run found valid against their schema are not validated again.
    let valid = cache.as_ref().map(Cache::schema_valid);
    // Nor parsed again, when their text did not change.
    let parsed = cache.as_ref().map(Cache::parsed);
    // What the committed matrix says against the sources (FG051).
    let committed = crate::cli::committed_matrix(&out);
    let compile = |reuse: Option<&crate::incremental::Store>| {
        api::compile(
            &fleet.files,
            &Options {
                on_cluster: Some(&tick),
                reuse,
                valid: valid.as_ref(),
                parsed: parsed.as_ref(),
                exit_after: true,
                committed: Some(&committed),
                ..Options::new(Goal::Render)
            },
        )
    };
    // A narrower store, should a cached file differ on disk (see below).
    let narrowed: Option<crate::incremental::Store>;
    // While the sources compile, the output folder is walked, each file stat'ed and looked
    // up in the stat index: none of that needs the render. No symbolic link is followed.
    // With a placement store (a warm cache) the compile is short and has stretches on one
    // core (decoding the store, loading the sources), and the walk runs on threads of its
    // own at the lowest priority: in those stretches and after the compile, rather than
    // queued ahead of the compile's work on the shared pool (a warm check after a change,
    // nine interleaved runs each: 264 → 241 ms at 200×500; 848 → 788 ms at 1000×2000, five
    // each; 41 → 36 ms at 20×50, eleven each). Without a store the compile is long and keeps
    // both cores busy, a walk of low priority would wait for its end (a cold check at
    // 200×500: 2.23 → 2.40 s), and the walk shares the pool with it.
    let low_priority = cfg!(target_os = "linux") && cache.as_ref().is_some_and(Cache::has_store);
    let (store, mut compiled, walked) = std::thread::scope(|scope| {
        let walker = std::thread::Builder::new()
            .name("fleetgen-walk".into())
            .spawn_scoped(scope, || {
                // The index is read on this thread, at the default priority: on a pool thread
                // of low priority it waited behind the compile's first stretch, beside a
                // core left idle.
                let index = crate::trace::stage("index", || match &cache {
                    Some(cache) => cache.index(&out),
                    None => Index::default(),
                });
                let walk = || {
                    crate::write::refuse_link(&out)?;
                    crate::trace::stage("walk", || {
                        let paths = crate::write::walk_all(&out)?;
                        crate::incremental::index::lookup(&out, &index, paths)
                    })
                    .map_err(|e| format!("cannot read `{}`: {e}", out.display()))
                };
                let pool = low_priority.then(|| {
                    rayon::ThreadPoolBuilder::new()
                        .thread_name(|i| format!("fleetgen-walk-{i}"))
                        // Best effort: at the default priority the walk only shares the cores.
                        .start_handler(|_| {
                            #[cfg(target_os = "linux")]
                            let _ = rustix::process::setpriority_process(None, 19);
                        })
                        .build()
                });
                let stated = match pool {
                    Some(Ok(pool)) => pool.install(walk),
                    _ => walk(),
                };
                stated.map(|stated| (index, stated))
            });
        let store = crate::trace::stage("store", || cache.as_ref().map(Cache::store));
        let compiled = compile(store.as_ref());
        let walked = match walker {
            Ok(handle) => handle.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            Err(e) => Err(format!("cannot start a thread: {e}")),
        };
        (store, compiled, walked)
    });
    progress.done();
    if compiled.tree.is_none() {
        report_stop(ui, &compiled, format, prefix);
        crate::cli::warn_repository_path(&fleet.root, &compiled);
        return compiled.exit_code().max(1);
    }
    ui.report(&compiled, format, prefix);
    crate::cli::warn_repository_path(&fleet.root, &compiled);
    let (index, stated) = match walked {
        Ok(walked) => walked,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    // What the last run knew of the input files is saved while the output folder is read
    // and compared. Derived data: a cache that cannot be written costs speed, never a
    // result. What did not change is not written again.
    let saved_or_not = |saved: std::io::Result<()>| {
        if let (Err(e), Some(cache)) = (saved, &cache) {
            crate::trace::note("cache", || format!("not saved in `{}`: {e}", cache.dir().display()));
        }
    };
    let save_inputs = |compiled: &api::Compiled| {
        let Some(cache) = &cache else {
            return;
        };
        saved_or_not(crate::trace::stage("save", || {
            if let Some(before) = &valid {
                cache.save_schema_valid(before, compiled.schema_valid())?;
            }
            match &parsed {
                Some(before) => cache.save_parsed(before, compiled.parsed()),
                None => Ok(()),
            }
        }));
    };
    // A file the cache stood for (known by its hash) differs on disk: saying how takes the
    // text it should have, so the placements (or cluster-wide or fleet files) it belongs to
    // are rendered again and the rest reused; should that not explain it, everything is.
    let compare = |compiled: &api::Compiled, disk: &Disk| -> Result<Result<Vec<Drift>, Vec<String>>, u8> {
        let Some(rendered) = &compiled.tree else {
            return Err(compiled.exit_code().max(1));
        };
        crate::trace::stage("compare", || crate::check::compare_disk(rendered, disk, &out)).map_err(|e| {
            eprintln!("error: cannot read `{}`: {e}", out.display());
            2
        })
    };
    let (scanned, first) = std::thread::scope(|scope| {
        // On a thread of its own from here: the schema and parse memos are written while the
        // files the index does not know are read, and the trees compared (the placement store
        // waits for the comparison, below).
        let saver = std::thread::Builder::new()
            .name("fleetgen-save".into())
            .spawn_scoped(scope, || save_inputs(&compiled));
        // Nothing is read past what the render makes (a larger file is stale by its size
        // alone); files no render makes are listed, not read.
        let scanned = {
            let Some(rendered) = &compiled.tree else {
                unreachable!("checked above")
            };
            let limit = |path: &str| {
                let size = rendered
                    .files
                    .get(path)
                    .map(|t| t.len() as u64)
                    .or_else(|| rendered.known.get(path).map(|s| s.size))?;
                Some(crate::write::MAX_READ_BYTES.max(size))
            };
            crate::trace::stage("read", || {
                crate::incremental::index::finish(&out, &index, stated, &limit)
            })
        };
        let first = scanned.as_ref().ok().map(|(disk, next)| {
            crate::trace::note("read", || {
                let read = disk.iter().filter(|(_, d)| d.text.is_some()).count();
                format!(
                    "{} files: {read} read, {} known by their stat",
                    disk.len(),
                    disk.len() - read
                )
            });
            // The stat index, when it changed, written beside the comparison too.
            std::thread::scope(|inner| {
                let indexer = (cache.as_ref().zip(next.as_ref())).map(|(cache, next)| {
                    std::thread::Builder::new()
                        .name("fleetgen-index".into())
                        .spawn_scoped(inner, || saved_or_not(cache.save(None, Some(next))))
                        .map_err(|_| saved_or_not(cache.save(None, Some(next))))
                });
                let first = compare(&compiled, disk);
                if let Some(Ok(handle)) = indexer {
                    handle.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                }
                first
            })
        });
        match saver {
            Ok(handle) => handle.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            // No thread could be made: saved here, after the comparison.
            Err(_) => save_inputs(&compiled),
        }
        (scanned, first)
    });
    let (disk, index) = match scanned {
        Ok(found) => found,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", out.display());
            return 2;
        }
    };
    let Some(first) = first else {
        unreachable!("compared when read")
    };
    let unexplained = match first {
        Ok(Ok(drifts)) => Ok(drifts),
        Ok(Err(unexplained)) => Err(unexplained),
        Err(code) => return code,
    };
    let drifts = match unexplained {
        Ok(drifts) => drifts,
        Err(unexplained) => {
            crate::trace::note("compare", || {
                format!(
                    "{} cached files differ: rendering what they belong to again",
                    unexplained.len()
                )
            });
            narrowed = store.as_ref().map(|s| s.without(&unexplained));
            compiled = compile(narrowed.as_ref());
            match compare(&compiled, &disk) {
                Ok(Ok(drifts)) => drifts,
                Ok(Err(_)) => {
                    crate::trace::note("compare", || "rendering without the cache".into());
                    compiled = compile(None);
                    match compare(&compiled, &disk) {
                        Ok(Ok(drifts)) => drifts,
                        Ok(Err(left)) => {
                            eprintln!(
                                "error: {} files of `{}` differ from a render that knows every text (a bug)",
                                left.len(),
                                out.display()
                            );
                            return 2;
                        }
                        Err(code) => return code,
                    }
                }
                Err(code) => return code,
            }
        }
    };
    let Some(rendered) = &compiled.tree else {
        return compiled.exit_code().max(1);
    };
    // The placement store is saved as far as the output folder backs it: the entries that
    // stand for a file that differs on disk (a stale tree's changed placements, a file
    // edited by hand) are left out, so that the next check or render renders them, once,
    // rather than taking files the folder does not hold and rendering a second time. It is
    // not written when that would change nothing a later run reuses.
    if let (Some(cache), Some(fresh)) = (&cache, &rendered.store) {
        // Each drifted file with the size and hash the render gave it (an orphan has none,
        // and no entry stands for it).
        let drifted: Vec<(&str, crate::incremental::Sum)> = drifts
            .iter()
            .filter_map(|d| {
                let sum = (rendered.known.get(&d.path).copied())
                    .or_else(|| Some(crate::incremental::Sum::of(rendered.files.get(&d.path)?.as_bytes())))?;
                Some((d.path.as_str(), sum))
            })
            .collect();
        if let Some(backed) = fresh.backed_over(&drifted, store.as_ref()) {
            saved_or_not(crate::trace::stage("save store", || cache.save(Some(&backed), None)));
        }
    }
    // The files that hold what was rendered but that git would leave out of a commit: under
    // a pre-commit hook they are on disk, yet the commit lacks them (the tracked
    // kustomizations that list them fail to build). Only under a commit hook (git gives its
    // hooks GIT_INDEX_FILE, pre-commit sets PRE_COMMIT): elsewhere a file not yet staged may
    // well be staged before the commit, and reading the repository's index costs as much as
    // the rest of a warm check of the bundled fleet (8-11 ms for its 5,500 entries).
    let mut drifts = drifts;
    let hook_index = std::env::var_os("GIT_INDEX_FILE").map(std::path::PathBuf::from);
    let under_hook = hook_index.is_some() || std::env::var_os("PRE_COMMIT").is_some();
    let on_disk = disk.as_slice().iter().map(|(path, _)| path.as_str());
    let clean = on_disk.filter(|path| drifts.binary_search_by(|d| d.path.as_str().cmp(path)).is_err());
    let unstaged = match under_hook {
        true => crate::trace::stage("git", || crate::check::untracked(&out, hook_index.as_deref(), clean)),
        false => Vec::new(),
    };
    if !unstaged.is_empty() {
        drifts.extend(unstaged.into_iter().map(|path| Drift {
            path,
            status: crate::check::Status::NotStaged,
            diff: String::new(),
        }));
        drifts.sort_by(|a, b| a.path.cmp(&b.path));
    }
    let next = crate::check::next_step(&render, &folder);
    match (format, drifts.is_empty()) {
        (Format::Json, _) => print(&crate::check::json(&drifts, &located)),
        (_, true) if ui.quiet => {}
        (Format::Github, true) => {}
        (_, true) => print(&format!(
            "{shown}/ is up to date: {}\n",
            crate::diag::count(rendered.len(), "file")
        )),
        (Format::Concise, false) => print(&crate::check::concise(&drifts, &located, &next, ui.quiet)),
        (Format::Github, false) => print(&crate::check::github(&drifts, &located, &render)),
        (_, false) => print(&crate::check::text(&drifts, &shown, &next, ui.quiet)),
    }
    let code = u8::from(!drifts.is_empty());
    // The process ends with this command: its memory goes back to the system whole, which is
    // faster than freeing hundreds of thousands of paths and entries one by one.
    std::mem::forget((compiled, disk, store, index, fleet));
    code
}

/// The sources' diagnostics when they stop the check (no drift report follows): in the
/// machine formats on stdout, as `lint` prints them, so that `check --format json >
/// check.json` holds them; text on stderr. Warnings beside a drift report stay on stderr
/// (stdout holds one JSON document).
fn report_stop(ui: &Ui, compiled: &api::Compiled, format: Format, prefix: &str) {
    match format {
        Format::Text => ui.report(compiled, format, prefix),
        _ => print(&compiled.report(&ui.stdout_style(format, prefix))),
    }
}

/// `fleetgen render`, with `--repo` and `--out` as this command was given them.
fn render_command(repo: Option<&Path>, out: Option<&Path>) -> String {
    let mut command = "fleetgen render".to_string();
    for (flag, path) in [("--repo", repo), ("--out", out)] {
        if let Some(path) = path {
            command.push_str(&format!(
                " {flag} {}",
                crate::cli::shell_word(&path.display().to_string())
            ));
        }
    }
    command
}
