//! `fleetgen check`: render in memory and compare with the output folder; writes nothing.

use std::path::PathBuf;

use crate::api::{self, Cache, Format, Goal, Options};
use crate::check::Drift;
use crate::cli::{FleetArgs, Progress, Ui, print};
use crate::incremental::Index;

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
    let cache = (!args.no_cache).then(|| Cache::for_fleet(&fleet.root));
    let store = cache.as_ref().map(Cache::store);
    let compile = |reuse| {
        api::compile(
            &fleet.files,
            &Options {
                on_cluster: Some(&tick),
                reuse,
                ..Options::new(Goal::Render)
            },
        )
    };
    let compiled = compile(store.as_ref());
    progress.done();
    ui.report(&compiled, format, prefix);
    let Some(rendered) = &compiled.tree else {
        return compiled.exit_code().max(1);
    };
    let index = match &cache {
        Some(cache) => cache.index(&out),
        None => Index::default(),
    };
    let old_index_len = index.files.len();
    // No symbolic link is followed, and nothing is read past what the render makes (a
    // larger file is stale by its size alone); files no render makes are listed, not read.
    if let Err(message) = crate::write::refuse_link(&out) {
        eprintln!("error: {message}");
        return 2;
    }
    let limit = |path: &str| {
        let size = rendered
            .files
            .get(path)
            .map(|t| t.len() as u64)
            .or_else(|| rendered.known.get(path).map(|s| s.size))?;
        Some(crate::write::MAX_READ_BYTES.max(size))
    };
    let scanned = crate::trace::stage("read", || {
        let paths = crate::write::list_tree(&out)?;
        crate::incremental::index::scan(&out, &index, paths, &limit)
    });
    let (disk, index) = match scanned {
        Ok(found) => found,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", out.display());
            return 2;
        }
    };
    crate::trace::note("read", || {
        let read = disk.values().filter(|d| d.text.is_some()).count();
        format!(
            "{} files: {read} read, {} known by their stat",
            disk.len(),
            disk.len() - read
        )
    });
    let compared = crate::trace::stage("compare", || crate::check::compare_disk(rendered, &disk, &out));
    let drifts = match compared {
        Ok(Some(drifts)) => drifts,
        // A file the cache stood for is not on disk as rendered: render everything to say how.
        Ok(None) => {
            crate::trace::note("compare", || {
                "a cached placement's file differs: rendering without the cache".into()
            });
            let cold = compile(None);
            let tree = cold.tree.as_ref().unwrap_or(rendered);
            match crate::check::compare_disk(tree, &disk, &out) {
                Ok(Some(drifts)) => drifts,
                Ok(None) => unreachable!("a render without the cache knows every text"),
                Err(e) => {
                    eprintln!("error: cannot read `{}`: {e}", out.display());
                    return 2;
                }
            }
        }
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", out.display());
            return 2;
        }
    };
    if let Some(cache) = &cache {
        // Derived data: a cache that cannot be written costs speed, never a result. What did
        // not change is not written again.
        let store_changed = rendered.store.as_ref() != store.as_ref();
        let index_changed = disk.values().any(|d| d.text.is_some()) || index.files.len() != old_index_len;
        let saved = cache.save(
            rendered.store.as_ref().filter(|_| store_changed),
            Some(&index).filter(|_| index_changed),
        );
        if let Err(e) = saved {
            crate::trace::note("cache", || format!("not saved in `{}`: {e}", cache.dir().display()));
        }
    }
    match (format, drifts.is_empty()) {
        (Format::Json, _) => print(&crate::check::json(&drifts)),
        (_, true) if ui.quiet => {}
        (Format::Github, true) => {}
        (_, true) => print(&format!("{shown}/ is up to date: {} files\n", rendered.len())),
        (Format::Concise, false) => print(&crate::check::concise(&drifts, &shown)),
        (Format::Github, false) => print(&crate::check::github(&drifts, &format!("{prefix}{shown}"))),
        (_, false) => print(&crate::check::text(&drifts, &shown)),
    }
    u8::from(!drifts.is_empty())
}
