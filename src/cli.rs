//! The command line: parse arguments, run one command, print, return the exit code.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diag::{self, Format};
use crate::emit::Selection;
use crate::load::files::WorkTree;
use crate::schema;

const EXIT_CODES: &str = "\
Exit codes:
  0  no errors (warnings may have been printed)
  1  the input has errors (unknown references, duplicate ids, placements no cluster serves …)
  2  the input or the command could not be used (unreadable repository, bad YAML, schema
     violation, unknown flag)";

const LINT_EXIT_CODES: &str = "\
Exit codes:
  0  no error findings (warnings may have been printed)
  1  error findings (or warnings, with --deny-warnings)
  2  the input or the command could not be used";

const CHECK_EXIT_CODES: &str = "\
Exit codes:
  0  rendered/ is exactly what the sources compile to
  1  it is not (stale, missing, orphaned or hand-edited files), or the sources have errors
  2  the input or the command could not be used";

/// Compiler and linter for multi-cluster GitOps repositories.
#[derive(Debug, Parser)]
#[command(name = "fleetgen", version, about, after_help = EXIT_CODES)]
struct Cli {
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    /// Print diagnostics only: no progress bar, no summary lines.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    Text,
    /// Sized for a pull-request comment (at most 65,536 characters).
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the fleet without writing: schemas, references, placements, templates, labels.
    #[command(after_help = EXIT_CODES)]
    Validate {
        /// The fleet repository (the folder holding fleet.yaml).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Compile the fleet: write rendered/<clusterId>/… for every cluster (or print it).
    #[command(after_help = EXIT_CODES)]
    Render {
        /// The fleet repository (the folder holding fleet.yaml).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
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
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Check that rendered/ is what the sources compile to (stale, missing, orphaned or
    /// hand-edited files); writes nothing.
    #[command(after_help = CHECK_EXIT_CODES)]
    Check {
        /// The fleet repository (the folder holding fleet.yaml).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// The rendered tree to check [default: <repo>/rendered].
        #[arg(long)]
        out: Option<PathBuf>,
        /// How to print the result (diagnostics use the same format).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show what a change does to each cluster: compile the fleet at two git revisions (or a
    /// revision and the working tree) and compare the rendered trees. Reads git objects only.
    #[command(after_help = EXIT_CODES)]
    Diff {
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
    },
    /// Run the rule catalogue over the whole fleet (and every validate check).
    #[command(after_help = LINT_EXIT_CODES)]
    Lint {
        /// The fleet repository (the folder holding fleet.yaml).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// How to print findings.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Only these rules (codes or names, comma-separated; a code prefix like FG1 selects a family).
        #[arg(long, value_delimiter = ',')]
        select: Vec<String>,
        /// Not these rules.
        #[arg(long, value_delimiter = ',')]
        ignore: Vec<String>,
        /// Exit 1 on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// List the lint rules: code, name, family, default severity.
    Rules,
    /// Print the documentation of a rule (or the summary of any diagnostic code).
    Explain {
        /// A code (FG100) or name (fake-active-active).
        code: String,
    },
    /// Print the JSON Schema of an input kind, or list the kinds.
    #[command(after_help = EXIT_CODES)]
    Schema {
        /// An input kind (`fleetgen schema` lists them).
        kind: Option<String>,
    },
}

/// Runs fleetgen with the process arguments and returns the exit code.
pub fn run() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    match cli.command {
        Command::Validate { repo, format } => validate(&repo, format, color, cli.quiet),
        Command::Render {
            repo,
            out,
            clusters,
            apps,
            stdout,
            explain_values,
            format,
        } => {
            let out = out.unwrap_or_else(|| repo.join("rendered"));
            let select = Selection {
                clusters,
                apps,
                ..Selection::default()
            };
            let explain = explain_values.map(|v| (v[0].clone(), v[1].clone()));
            render(&repo, &out, select, stdout, explain, format, color, cli.quiet)
        }
        Command::Check { repo, out, format } => {
            let out = out.unwrap_or_else(|| repo.join("rendered"));
            check(&repo, &out, format, color, cli.quiet)
        }
        Command::Diff {
            revs,
            base,
            repo,
            format,
            clusters,
            apps,
        } => {
            let from = base
                .or_else(|| revs.first().cloned())
                .unwrap_or_else(|| "HEAD".to_string());
            let to = revs.get(1).cloned();
            diff(
                &repo,
                &from,
                to.as_deref(),
                format,
                &Selection {
                    clusters,
                    apps,
                    ..Selection::default()
                },
                color,
            )
        }
        Command::Lint {
            repo,
            format,
            select,
            ignore,
            deny_warnings,
        } => lint(&repo, format, &select, &ignore, deny_warnings, color, cli.quiet),
        Command::Rules => {
            let rules = crate::lint::RULES;
            let width = rules.iter().map(|r| r.code.name.len()).max().unwrap_or(4);
            let family = rules.iter().map(|r| r.family.len()).max().unwrap_or(6);
            let mut out = format!(
                "{:<6} {:<width$} {:<family$} {:<8} checked by\n",
                "code", "name", "family", "severity"
            );
            for r in rules {
                out.push_str(&format!(
                    "{:<6} {:<width$} {:<family$} {:<8} {}\n",
                    r.code.id,
                    r.code.name,
                    r.family,
                    r.default.as_str(),
                    r.stage.as_str()
                ));
            }
            out.push_str("\nfleet.yaml's `lint.severity` changes a rule's severity (error, warning, off).\n");
            print(&out);
            0
        }
        Command::Explain { code } => explain(&code),
        Command::Schema { kind } => print_schema(kind.as_deref()),
    }
}

fn validate(repo: &std::path::Path, format: Format, color: bool, quiet: bool) -> u8 {
    let Some(tree) = open_repo(repo) else {
        return 2;
    };
    let (sources, diagnostics) = crate::validate(&tree);
    let mut text = diag::render(&diagnostics, &sources.files, format, color, width());
    if diagnostics.is_empty() && matches!(format, Format::Text | Format::Concise) && !quiet {
        text = format!(
            "fleet is valid: {} clusters, {} apps, {} profiles, {} policy files\n",
            sources.clusters.len(),
            sources.apps.len(),
            sources.cluster_profiles.len()
                + sources.observability_profiles.len()
                + sources.backup_profiles.len()
                + sources.identity_profiles.len()
                + sources.telemetry_profiles.len(),
            sources.policy_intents.len() + sources.policy_profiles.len(),
        );
    }
    print(&text);
    diag::exit_code(&diagnostics)
}

/// Opens the working tree, or says why not.
fn open_repo(repo: &std::path::Path) -> Option<WorkTree> {
    WorkTree::open(repo)
        .map_err(|message| eprintln!("error: {message}"))
        .ok()
}

fn width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(80)
}

/// Checks that every `--cluster` and `--app` names something that exists.
fn check_selection(sources: &crate::load::Sources, select: &Selection) -> Result<(), String> {
    let clusters: Vec<String> = sources
        .clusters
        .iter()
        .map(|c| c.value.cluster_id.to_string())
        .collect();
    let apps: Vec<String> = sources
        .apps
        .iter()
        .map(|a| a.value.application.name.to_string())
        .collect();
    for (kind, wanted, known) in [("cluster", &select.clusters, &clusters), ("app", &select.apps, &apps)] {
        for w in wanted {
            if !known.contains(w) {
                let hint = match crate::suggest::closest(w, known.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("{kind}s: {}", crate::suggest::list(known)),
                };
                return Err(format!("no {kind} `{w}`; {hint}"));
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn render(
    repo: &std::path::Path,
    out: &std::path::Path,
    select: Selection,
    stdout: bool,
    explain: Option<(String, String)>,
    format: Format,
    color: bool,
    quiet: bool,
) -> u8 {
    let Some(tree) = open_repo(repo) else {
        return 2;
    };
    let (sources, mut diagnostics) = crate::load_checked(&tree);
    let prepared = crate::prepare(&sources, &mut diagnostics);
    let report = |diagnostics: &[crate::diag::Diagnostic]| {
        if !diagnostics.is_empty() {
            eprint!("{}", diag::render(diagnostics, &sources.files, format, color, width()));
        }
    };
    if diag::exit_code(&diagnostics) != 0 {
        report(&diagnostics);
        return diag::exit_code(&diagnostics);
    }
    if let Err(message) = check_selection(&sources, &select) {
        report(&diagnostics);
        eprintln!("error: {message}");
        return 2;
    }
    if let Some((app, cluster)) = explain {
        return explain_values(&sources, &prepared, &app, &cluster, diagnostics, format, color);
    }
    let clusters = prepared
        .plan
        .as_ref()
        .map_or(0, |p| p.clusters.iter().filter(|c| select.cluster(c.id())).count());
    let progress = Progress::new(clusters as u64, quiet || stdout);
    let (rendered, more) = crate::render_prepared_observed(&sources, &prepared, &select, &|| progress.tick());
    diagnostics.extend(more);
    diag::sort(&mut diagnostics, &sources.files);
    report(&diagnostics);
    let Some(rendered) = rendered else {
        progress.done();
        return diag::exit_code(&diagnostics).max(1);
    };
    let placements: Vec<String> = prepared
        .plan
        .iter()
        .flat_map(|p| p.placements.iter())
        .filter(|p| select.placement(p))
        .map(|p| {
            let c = &p.cluster.value;
            format!(
                "{} → {} ({}, ring {})",
                p.app_name(),
                p.cluster_id(),
                c.environment,
                c.upgrade_channel
            )
        })
        .collect();
    if stdout {
        let mut text = String::new();
        for (path, body) in &rendered.files {
            // A partial render prints its own objects, not the fleet-wide matrix; with
            // `--app`, only that app's folder and its GitOps objects.
            if path == "fleet.yaml" && !select.is_all() {
                continue;
            }
            if !select.apps.is_empty() {
                let file = path.rsplit('/').next().unwrap_or(path);
                let mine = select.apps.iter().any(|a| {
                    path.contains(&format!("/apps/{a}/"))
                        || (path.contains("/gitops/") && file.trim_end_matches(".yaml").ends_with(&format!("-{a}")))
                });
                if !mine {
                    continue;
                }
            }
            text.push_str(&format!("---\n# {path}\n{body}"));
        }
        print(&text);
        return 0;
    }
    let replaced: Vec<String> = if select.is_all() {
        Vec::new()
    } else {
        let mut r: Vec<String> = Vec::new();
        for c in &sources.clusters {
            let id = c.value.cluster_id.as_str();
            if !select.cluster(id) {
                continue;
            }
            if select.apps.is_empty() {
                r.push(id.to_string());
            } else {
                // The app folders, and what lists every app: the GitOps objects and the root.
                r.extend(select.apps.iter().map(|a| format!("{id}/apps/{a}")));
                r.extend(["gitops", "kustomization.yaml", "cluster.yaml"].map(|f| format!("{id}/{f}")));
            }
        }
        r.push("fleet.yaml".to_string());
        r.push("_azure".to_string());
        r
    };
    let keep = (!select.is_all()).then_some(crate::write::Keep { replaced: &replaced });
    progress.writing();
    let written = crate::write::write(out, &rendered, keep);
    progress.done();
    match written {
        Ok(_) if quiet => 0,
        Ok(w) => {
            let mut text = String::new();
            if !select.apps.is_empty() {
                for line in &placements {
                    text.push_str(line);
                    text.push('\n');
                }
            }
            let clusters = rendered
                .files
                .keys()
                .filter_map(|k| k.split_once('/'))
                .map(|(c, _)| c)
                .filter(|c| !c.starts_with('_'))
                .collect::<std::collections::BTreeSet<_>>();
            text.push_str(&format!(
                "rendered {} placements on {} clusters: {} files in {}{}\n",
                placements.len(),
                clusters.len(),
                w.files,
                out.display(),
                if w.removed > 0 {
                    format!(", {} stale files removed", w.removed)
                } else {
                    String::new()
                }
            ));
            print(&text);
            0
        }
        Err(message) => {
            eprintln!("error: {message}");
            2
        }
    }
}

fn check(repo: &std::path::Path, out: &std::path::Path, format: Format, color: bool, quiet: bool) -> u8 {
    let Some(tree) = open_repo(repo) else {
        return 2;
    };
    let (sources, rendered, diagnostics) = crate::compile(&tree);
    if !diagnostics.is_empty() {
        eprint!("{}", diag::render(&diagnostics, &sources.files, format, color, width()));
    }
    let Some(rendered) = rendered else {
        return diag::exit_code(&diagnostics).max(1);
    };
    let on_disk = match crate::write::read_tree(out) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", out.display());
            return 2;
        }
    };
    let drifts = crate::check::compare(&rendered, &on_disk);
    let shown = out.display().to_string();
    let shown = shown.strip_prefix("./").unwrap_or(&shown);
    match (format, drifts.is_empty()) {
        (Format::Json, _) => print(&crate::check::json(&drifts)),
        (_, true) if quiet => {}
        (_, true) => print(&format!("{shown}/ is up to date: {} files\n", rendered.files.len())),
        (_, false) => print(&crate::check::text(&drifts, shown)),
    }
    u8::from(!drifts.is_empty())
}

/// App name → (owner team, criticality), for the diff summary.
type AppOwners = std::collections::BTreeMap<String, (String, String)>;

/// Compiles one side of a diff; on errors, prints them (with the side's name) and gives None.
fn compile_side(
    files: &dyn crate::load::files::Files,
    side: &str,
    color: bool,
) -> Option<(crate::emit::RenderedTree, AppOwners)> {
    let (sources, tree, diagnostics) = crate::compile(files);
    let Some(tree) = tree else {
        eprintln!("error: the sources at {side} do not compile:");
        eprint!(
            "{}",
            diag::render(&diagnostics, &sources.files, Format::Text, color, width())
        );
        return None;
    };
    let apps = sources
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
    Some((tree, apps))
}

fn diff(
    repo: &std::path::Path,
    from: &str,
    to: Option<&str>,
    format: DiffFormat,
    select: &Selection,
    color: bool,
) -> u8 {
    let old_files = match crate::load::git::GitRevision::open(repo, from) {
        Ok(r) => r,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let Some((old, mut apps)) = compile_side(&old_files, &format!("`{from}`"), color) else {
        return 1;
    };
    let (new, to_name) = match to {
        Some(rev) => {
            let files = match crate::load::git::GitRevision::open(repo, rev) {
                Ok(r) => r,
                Err(message) => {
                    eprintln!("error: {message}");
                    return 2;
                }
            };
            (compile_side(&files, &format!("`{rev}`"), color), rev.to_string())
        }
        None => {
            let files = match WorkTree::open(repo) {
                Ok(t) => t,
                Err(message) => {
                    eprintln!("error: {message}");
                    return 2;
                }
            };
            (
                compile_side(&files, "the working tree", color),
                "working tree".to_string(),
            )
        }
    };
    let Some((new, new_apps)) = new else {
        return 1;
    };
    apps.extend(new_apps);
    let changes: Vec<crate::diff::FileChange> = crate::diff::compare(&old, &new)
        .into_iter()
        .filter(|c| select.clusters.is_empty() || select.clusters.contains(&c.cluster))
        .filter(|c| select.apps.is_empty() || c.app.as_ref().is_some_and(|a| select.apps.contains(a)))
        .collect();
    let summary = crate::diff::summary(&changes, &old, &new, &apps);
    let text = match format {
        DiffFormat::Text => crate::diff::text(&changes, &summary, from, &to_name),
        DiffFormat::Markdown => crate::diff::markdown(&changes, &summary, from, &to_name, 65_536),
        DiffFormat::Json => crate::diff::json(&changes, &summary, from, &to_name),
    };
    print(&text);
    0
}

/// Whether a code is picked by `--select`/`--ignore` entries (codes, names or code prefixes).
fn picks(list: &[String], code: &crate::diag::Code) -> bool {
    list.iter()
        .any(|k| k == code.name || code.id.starts_with(&k.to_ascii_uppercase()))
}

fn lint(
    repo: &std::path::Path,
    format: Format,
    select: &[String],
    ignore: &[String],
    deny_warnings: bool,
    color: bool,
    quiet: bool,
) -> u8 {
    let Some(tree) = open_repo(repo) else {
        return 2;
    };
    let (sources, mut diagnostics) = crate::lint(&tree);
    diagnostics.retain(|d| (select.is_empty() || picks(select, d.code)) && !picks(ignore, d.code));
    diag::sort(&mut diagnostics, &sources.files);
    let mut text = diag::render(&diagnostics, &sources.files, format, color, width());
    if diagnostics.is_empty() && matches!(format, Format::Text | Format::Concise) && !quiet {
        text = format!(
            "no findings: {} rules over {} clusters and {} apps\n",
            crate::lint::RULES.len(),
            sources.clusters.len(),
            sources.apps.len()
        );
    }
    print(&text);
    let code = diag::exit_code(&diagnostics);
    if code == 0 && deny_warnings && !diagnostics.is_empty() {
        1
    } else {
        code
    }
}

fn explain(key: &str) -> u8 {
    if let Some(rule) = crate::lint::find(key) {
        print(&format!(
            "# {} {} ({} rule)\n\n{}",
            rule.code.id,
            rule.code.name,
            rule.family,
            rule.doc()
        ));
        return 0;
    }
    match crate::diag::codes::find(key) {
        Some(code) => {
            print(&format!("# {} {}\n\n{}.\n", code.id, code.name, code.summary));
            0
        }
        None => {
            let names: Vec<String> = crate::diag::codes::ALL.iter().map(|c| c.name.to_string()).collect();
            let hint = match crate::suggest::closest(key, names.iter().map(String::as_str)) {
                Some(s) => format!("; did you mean `{s}`?"),
                None => String::new(),
            };
            eprintln!("error: no code `{key}`{hint}");
            2
        }
    }
}

fn explain_values(
    sources: &crate::load::Sources,
    prepared: &crate::Prepared,
    app: &str,
    cluster: &str,
    diagnostics: Vec<crate::diag::Diagnostic>,
    format: Format,
    color: bool,
) -> u8 {
    let select = Selection {
        clusters: vec![cluster.to_string()],
        apps: vec![app.to_string()],
        ..Selection::default()
    };
    if let Err(message) = check_selection(sources, &select) {
        eprintln!("error: {message}");
        return 2;
    }
    let plan = &prepared.plan;
    if !diagnostics.is_empty() {
        eprint!("{}", diag::render(&diagnostics, &sources.files, format, color, width()));
    }
    if diag::exit_code(&diagnostics) != 0 {
        return diag::exit_code(&diagnostics);
    }
    let Some(p) = plan
        .as_ref()
        .and_then(|plan| plan.placements.iter().find(|p| select.placement(p)))
    else {
        eprintln!("error: `{app}` does not land on cluster `{cluster}`");
        return 2;
    };
    if p.app.value.chart.is_none() {
        eprintln!(
            "error: `{app}` has no `chart:`; it renders Kubernetes objects, not Helm values (try `fleetgen render --app {app} --cluster {cluster} --stdout`)"
        );
        return 2;
    }
    print(&crate::emit::values::explain(sources, p, &sources.files));
    0
}

fn print_schema(kind: Option<&str>) -> u8 {
    match kind {
        None => {
            let mut out = String::from("input kinds (fleetgen schema KIND prints one):\n");
            for k in schema::KINDS {
                out.push_str(&format!("  {:<22} {}\n", k.name, k.location));
            }
            out.push_str(&format!(
                "\nshared definitions: {} (fleetgen schema common)\n",
                schema::COMMON.0
            ));
            print(&out);
            0
        }
        Some("common") => {
            print(schema::COMMON.1);
            0
        }
        Some(name) => match schema::find(name) {
            Some(k) => {
                print(k.text);
                0
            }
            None => {
                let names: Vec<String> = schema::KINDS.iter().map(|k| k.name.to_string()).collect();
                let hint = match crate::suggest::closest(name, names.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("kinds: {}", crate::suggest::list(&names)),
                };
                eprintln!("error: unknown input kind `{name}`; {hint}");
                2
            }
        },
    }
}

/// Writes to stdout; a closed pipe (`fleetgen … | head`) is not an error.
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// A progress bar on stderr for a render that takes more than a moment: shown only on a
/// terminal, without `--quiet`, and only once the render has run for half a second, so
/// that CI logs and quick renders look the same as without it.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: std::time::Instant,
}

impl Progress {
    fn new(clusters: u64, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(Some(clusters), indicatif::ProgressDrawTarget::hidden());
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} clusters ({elapsed})")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message("rendering");
            bar
        });
        Progress {
            bar,
            start: std::time::Instant::now(),
        }
    }

    fn show_if_slow(&self, bar: &indicatif::ProgressBar) {
        if bar.is_hidden() && self.start.elapsed() > std::time::Duration::from_millis(500) {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }

    /// A cluster is rendered (called from render threads).
    fn tick(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            self.show_if_slow(bar);
        }
    }

    fn writing(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message("writing");
            self.show_if_slow(bar);
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
