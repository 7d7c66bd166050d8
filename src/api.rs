//! The library's public surface: [`compile`], the one entry point that takes a repository
//! (through [`Files`]) as far down the pipeline as a command needs, and the types its
//! result is made of. The command line is built on it, and so are the tests.
//!
//! Diagnostics come back sorted, with fleet.yaml's severities applied, by construction:
//! [`Compiled`] is the only place that sorts them (as typst's `Warned<T>` carries its
//! warnings with its output).

use crate::diag;
use crate::emit::{self, templates};
use crate::load::Sources;
use crate::resolve::plan;
use crate::{lint, load, policy, resolve, trace};

pub use crate::clock::{Day, parse_date};
pub use crate::diag::{Code, Diagnostic, Format, Severity, Style};
pub use crate::emit::{RenderedTree, Selection};
pub use crate::incremental::{Cache, Stats, Store, Sum};
pub use crate::layout::{Kind, Role, classify};
pub use crate::load::files::{FileError, Files, MemoryFiles, WorkTree};
pub use crate::load::git::GitRevision;
pub use crate::load::memo::{Digest as ParsedDigest, Parsed};
pub use crate::load::schema::{Digest as SchemaDigest, Valid as SchemaValid};

/// How far down the pipeline to go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Goal {
    /// Load, check how the files fit together, compile the templates, resolve every
    /// placement and render it in memory (so that template errors are found), keeping
    /// no tree: `fleetgen validate`.
    Validate,
    /// And render the selection: `render`, `check`, `diff`. The tree comes back only when
    /// there is no error.
    Render,
    /// And run the rule catalogue over the whole rendered fleet: `lint`.
    Lint,
}

/// What [`compile`] does.
pub struct Options<'a> {
    pub goal: Goal,
    /// What to render (`Render`); `Lint` always renders the whole fleet.
    pub select: Selection,
    /// Called as each cluster is rendered (from render threads) with the number of
    /// clusters being rendered, for a progress bar.
    pub on_cluster: Option<&'a (dyn Fn(usize) + Sync)>,
    /// The incremental cache's entries from the last render: placements whose inputs did
    /// not change are not rendered again, and their files come back in
    /// [`RenderedTree::known`] rather than [`RenderedTree::files`]. Not used by `Lint`
    /// (whose rules read every object).
    pub reuse: Option<&'a Store>,
    /// Input files an earlier compile found valid against their schema (its
    /// [`Compiled::schema_valid`]): not validated again.
    pub valid: Option<&'a SchemaValid>,
    /// The trees of input files an earlier compile parsed (its [`Compiled::parsed`]): not
    /// parsed again. With a memo, the compile's own trees are kept for the next.
    pub parsed: Option<&'a Parsed>,
    /// The process ends soon after this compile (a command of the CLI): the plan, a few
    /// strings for every placement, is left for the exit to give back whole rather than
    /// freed piece by piece (0.14 s of one core at 30,678 placements, by `perf`).
    pub exit_after: bool,
    /// The committed matrix (`rendered/fleet.yaml` of the output folder), read when asked
    /// with the new matrix's size (to bound the read; `None`: there is none, or it is too
    /// large): a placement whose sync is stopped now that was drained, scaled down or absent
    /// there, and an app that leaves a cluster where it was suspended, are said (FG051).
    /// Only diagnostics depend on it, never the rendered files. Not used by `Validate`.
    pub committed: Option<&'a (dyn Fn(u64) -> Option<String> + Sync)>,
}

impl Options<'_> {
    pub fn new(goal: Goal) -> Self {
        Options {
            goal,
            select: Selection::default(),
            on_cluster: None,
            reuse: None,
            valid: None,
            parsed: None,
            exit_after: false,
            committed: None,
        }
    }
}

/// One placement, as `render --app` reports where an app lands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Landing {
    pub app: String,
    pub cluster: String,
    pub environment: String,
    pub ring: String,
}

/// How many files of each sort a compile read.
#[derive(Clone, Copy, Debug)]
pub struct Counts {
    pub clusters: usize,
    pub apps: usize,
    pub profiles: usize,
    pub policy_files: usize,
}

/// What a compile produced: the sources as read, every diagnostic (sorted), and the tree
/// when rendering was asked for and nothing failed.
pub struct Compiled {
    pub(crate) sources: Sources,
    diagnostics: Vec<Diagnostic>,
    pub tree: Option<RenderedTree>,
    /// Every placement of the selection (empty when the fleet did not resolve).
    pub landings: Vec<Landing>,
    /// Whether the rule catalogue ran (`Goal::Lint`, and the fleet resolved and rendered
    /// far enough for it): an error before that stops it, as it stops a render.
    pub linted: bool,
}

impl Compiled {
    fn new(
        sources: Sources,
        mut diagnostics: Vec<Diagnostic>,
        tree: Option<RenderedTree>,
        landings: Vec<Landing>,
    ) -> Self {
        diag::sort(&mut diagnostics, &sources.files);
        Compiled {
            sources,
            diagnostics,
            tree,
            landings,
            linted: false,
        }
    }

    /// The digests of the input files valid against their schema, for [`Options::valid`].
    pub fn schema_valid(&self) -> &[SchemaDigest] {
        &self.sources.valid
    }

    /// The trees of the YAML files that parsed, encoded, for [`Options::parsed`] (none
    /// without a memo).
    pub fn parsed(&self) -> &[(ParsedDigest, std::sync::Arc<[u8]>)] {
        &self.sources.parsed
    }

    /// How many YAML files this compile parsed (the rest came from the parse memo).
    pub fn reparsed(&self) -> usize {
        self.sources.reparsed
    }

    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Keeps the diagnostics `keep` accepts (they stay sorted).
    pub fn retain(&mut self, keep: impl FnMut(&Diagnostic) -> bool) {
        self.diagnostics.retain(keep);
    }

    /// 2 when an input could not be used, 1 for any other error, 0 otherwise.
    pub fn exit_code(&self) -> u8 {
        diag::exit_code(&self.diagnostics)
    }

    /// The diagnostics, printed in `style`.
    pub fn report(&self, style: &Style) -> String {
        diag::render(&self.diagnostics, &self.sources.files, style, lint::catalogue())
    }

    /// The GitOps engine of cluster `id` (`flux`, `argocd`), if the cluster was read.
    pub fn engine_of(&self, id: &str) -> Option<&'static str> {
        let cluster = self
            .sources
            .clusters
            .iter()
            .find(|c| c.value.cluster_id.as_str() == id)?;
        Some(cluster.value.gitops.engine.as_str())
    }

    /// fleet.yaml's `repository.path` (`Some(None)`: it names none), once fleet.yaml loaded.
    pub fn repository_path(&self) -> Option<Option<&str>> {
        let fleet = self.sources.fleet.as_ref()?;
        Some(fleet.value.repository.path.as_deref())
    }

    /// How many files of each sort were read.
    pub fn counts(&self) -> Counts {
        let s = &self.sources;
        Counts {
            clusters: s.clusters.len(),
            apps: s.apps.len(),
            profiles: s.cluster_profiles.len()
                + s.observability_profiles.len()
                + s.backup_profiles.len()
                + s.identity_profiles.len()
                + s.telemetry_profiles.len(),
            policy_files: s.policy_intents.len() + s.policy_profiles.len(),
        }
    }

    /// The ids of the clusters and the names of the apps read.
    pub fn ids(&self) -> (Vec<String>, Vec<String>) {
        (
            self.sources
                .clusters
                .iter()
                .map(|c| c.value.cluster_id.to_string())
                .collect(),
            self.sources
                .apps
                .iter()
                .map(|a| a.value.application.name.to_string())
                .collect(),
        )
    }

    /// Each Helm value of chart app `app` on `cluster`, with the file and line it came from;
    /// `None` when the app does not land there (or the fleet does not resolve).
    pub fn explain_values(&self, app: &str, cluster: &str) -> Option<Result<String, String>> {
        let (plan, _) = plan::plan(&self.sources);
        let plan = plan?;
        let p = plan.placement(app, cluster)?;
        if p.app.value.chart.is_none() {
            return Some(Err(format!(
                "`{app}` has no `chart:`; it renders Kubernetes objects, not Helm values (try `fleetgen render --app {app} --cluster {cluster} --stdout`)"
            )));
        }
        Some(Ok(emit::values::explain(&self.sources, p, &self.sources.files)))
    }
}

/// Takes the repository `files` as far as `options.goal`: every stage runs only when the
/// one before it left no error (lint's rules run over whatever rendered).
pub fn compile(files: &dyn Files, options: &Options) -> Compiled {
    let (sources, mut found) = trace::stage("load", || load::load(files, options.valid, options.parsed));
    trace::note("load", || format!("{} files", sources.files.len()));
    if options.parsed.is_some() {
        trace::note("parse", || {
            format!(
                "YAML files: {} parsed, {} from the parse memo",
                sources.reparsed, sources.from_memo
            )
        });
    }
    if options.valid.is_some() {
        trace::note("schema", || {
            let known = sources
                .valid
                .iter()
                .filter(|d| sources.valid_before.contains(*d))
                .count();
            format!("input files: {} validated, {known} known valid", sources.validated)
        });
    }
    trace::stage("validate", || {
        found.extend(resolve::check(&sources));
        policy::check(&sources, &lint::exemptable(), &mut found);
        found.extend(lint::check_sources(&sources));
        lint::adjust(&sources, &mut found);
    });
    let (engine, template_errors) = trace::stage("templates", || templates::Engine::new(&sources));
    found.extend(template_errors);
    if diag::exit_code(&found) != 0 {
        return Compiled::new(sources, found, None, Vec::new());
    }
    let (tree, landings, linted) = {
        // The seats the cache knows within IAM's limits (FG039), if any.
        let within_limits = options.reuse.and_then(|store| store.iam_within_limits);
        let known = |placements: &[plan::Placement], digest: &std::sync::OnceLock<[u8; 32]>| {
            known_within_limits(within_limits, &sources, placements, digest)
        };
        let (plan, more) = trace::stage("plan", || plan::plan_with(&sources, &known));
        found.extend(more);
        let Some(plan) = plan.filter(|_| diag::exit_code(&found) == 0) else {
            return Compiled::new(sources, found, None, Vec::new());
        };
        let select = match options.goal {
            Goal::Lint => Selection {
                keep_objects: true,
                ..Selection::default()
            },
            _ => options.select.clone(),
        };
        let landings: Vec<Landing> = plan
            .placements
            .iter()
            .filter(|p| select.placement(p))
            .map(|p| Landing {
                app: p.app_name().to_string(),
                cluster: p.cluster_id().to_string(),
                environment: p.cluster.value.environment.to_string(),
                ring: p.cluster.value.upgrade_channel.to_string(),
            })
            .collect();
        // Validate renders too, in memory, so that template errors are found before a render.
        let total = plan.clusters.iter().filter(|c| select.cluster(c.id())).count();
        let tick = || {
            if let Some(f) = options.on_cluster {
                f(total);
            }
        };
        let reuse = options.reuse.filter(|_| options.goal == Goal::Render);
        let (tree, more) = trace::stage("render", || {
            emit::render(&sources, &plan, &engine, &select, reuse, &tick)
        });
        trace::note("template renders", || {
            format!(
                "{} rendered, {} from the render memo (another placement's render that read the same values)",
                tree.stats.templates_rendered, tree.stats.templates_reused
            )
        });
        trace::note("render", || match reuse {
            Some(_) => format!(
                "{} placements ({} rendered, {} from the cache), {} apps' GitOps objects on changed clusters ({} made, {} from the cache), the GitOps engine's and admission policies' own objects on changed clusters: {} sets ({} made, {} from the cache), fleet backends: {} of {} from the cache, {} files",
                tree.stats.rendered + tree.stats.reused,
                tree.stats.rendered,
                tree.stats.reused,
                tree.stats.objects_made + tree.stats.objects_reused,
                tree.stats.objects_made,
                tree.stats.objects_reused,
                tree.stats.own_made + tree.stats.own_reused,
                tree.stats.own_made,
                tree.stats.own_reused,
                tree.stats.backends_reused,
                emit::backends::FLEET.len(),
                tree.len()
            ),
            None => format!("{} placements rendered, {} files", tree.stats.rendered, tree.len()),
        });
        if reuse.is_some() && tree.stats.rows_written + tree.stats.rows_reused > 0 {
            trace::note("matrix", || {
                format!(
                    "{} rows written, {} from the cache",
                    tree.stats.rows_written, tree.stats.rows_reused
                )
            });
        }
        found.extend(more);
        let linted = options.goal == Goal::Lint;
        if linted {
            found.extend(trace::stage("lint", || lint::run(&sources, &plan, &tree)));
        }
        if let Some(read) = options.committed.filter(|_| options.goal != Goal::Validate) {
            let size = (tree.files.get(crate::layout::MATRIX).map(|t| t.len() as u64))
                .or_else(|| tree.known.get(crate::layout::MATRIX).map(|s| s.size))
                .unwrap_or(0);
            if let Some(before) = trace::stage("committed", || read(size)) {
                resolve::incidents::against_committed(&sources, &plan.placements, &before, &mut found);
            }
        }
        let tree = (diag::exit_code(&found) == 0 && options.goal != Goal::Validate).then_some(tree);
        if options.exit_after {
            std::mem::forget(plan);
        }
        (tree, landings, linted)
    };
    let mut compiled = Compiled::new(sources, found, tree, landings);
    compiled.linted = linted;
    compiled
}

/// Which lint findings count: `--select`, `--ignore` (codes, names or code prefixes such as
/// `FG12`), `--deny-warnings`, and the files asked about.
#[derive(Clone, Debug, Default)]
pub struct LintFilter {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub deny_warnings: bool,
    /// Only findings in these files or folders (relative to the fleet); all when empty.
    pub paths: Vec<String>,
}

impl LintFilter {
    fn picks(list: &[String], code: &Code) -> bool {
        list.iter()
            .any(|k| k == code.name || code.id.starts_with(&k.to_ascii_uppercase()))
    }

    /// Whether `--select` and `--ignore` keep `d`. An error that is not a rule's or policy's
    /// finding (bad YAML, a schema violation, a reference to nothing: what a baseline never
    /// holds either) is always kept: narrowing the rules must not pass a fleet that cannot
    /// be read.
    fn keeps(&self, d: &Diagnostic) -> bool {
        let code = d.code;
        if d.severity == Severity::Error && !lint::baseline::holds(code) {
            return true;
        }
        (self.select.is_empty() || Self::picks(&self.select, code)) && !Self::picks(&self.ignore, code)
    }

    /// Every `--select` and `--ignore` entry names at least one code: a code, a name or a
    /// code prefix. A misspelt one would otherwise select nothing and turn the gate off.
    pub fn check(&self) -> Result<(), String> {
        let all = lint::catalogue();
        for (flag, list) in [("--select", &self.select), ("--ignore", &self.ignore)] {
            for key in list {
                let one = [key.clone()];
                if all.iter().any(|c| Self::picks(&one, c)) && !key.is_empty() {
                    continue;
                }
                let names = all.iter().map(|c| c.name).chain(all.iter().map(|c| c.id));
                let hint = match crate::suggest::closest(key, names) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => {
                        "`fleetgen rules` lists the rules; a code prefix such as `FG1` selects a family".to_string()
                    }
                };
                return Err(format!("{flag} `{key}` names no rule or code; {hint}"));
            }
        }
        Ok(())
    }

    /// Whether a finding in `path` is one asked about.
    pub fn in_paths(&self, path: &str) -> bool {
        self.paths.is_empty()
            || self
                .paths
                .iter()
                .any(|p| p.is_empty() || path == p || path.starts_with(&format!("{p}/")))
    }
}

/// What `fleetgen lint` prints for a compile, and its exit code: the findings `filter`
/// keeps, or (text formats) a line saying there are none.
pub fn lint_report(mut compiled: Compiled, filter: &LintFilter, style: &Style, quiet: bool) -> (u8, String) {
    // Errors that stopped the rules count wherever they are: a lint of some paths whose
    // rules never ran (an error in another file) is not a clean lint of those paths.
    let stopped = if compiled.linted { 0 } else { compiled.exit_code() };
    compiled.retain(|d| filter.keeps(d) && filter.in_paths(&d.path));
    let mut text = compiled.report(style);
    if compiled.diagnostics().is_empty()
        && stopped == 0
        && matches!(style.format, Format::Text | Format::Concise)
        && !quiet
    {
        let c = compiled.counts();
        text = format!(
            "no findings: {} over {} and {}\n",
            diag::count(lint::rules().len(), "rule"),
            diag::count(c.clusters, "cluster"),
            diag::count(c.apps, "app")
        );
    }
    let code = compiled.exit_code().max(stopped);
    if code == 0 && filter.deny_warnings && !compiled.diagnostics().is_empty() {
        (1, text)
    } else {
        (code, text)
    }
}

/// Every lint rule, in code order: code, name, family, default severity, stage, documentation.
pub fn rules() -> impl Iterator<Item = RuleInfo> {
    lint::rules().iter().map(|r| RuleInfo {
        code: &r.code,
        family: r.family(),
        stage: r.stage.as_str(),
        doc: r.doc(),
        markdown: r.markdown(),
    })
}

/// A lint rule as documentation describes it.
pub struct RuleInfo {
    pub code: &'static Code,
    pub family: &'static str,
    /// `validate` or `lint`: the command that checks it.
    pub stage: &'static str,
    /// Its documentation (What it does / Why is this bad? / Example / Use instead).
    pub doc: String,
    /// `docs/rules/<code>-<name>.md`.
    pub markdown: String,
}

/// A lint rule by code (`FG100`) or name (`fake-active-active`).
pub fn rule(key: &str) -> Option<RuleInfo> {
    let found = lint::find(key)?;
    rules().find(|r| r.code == &found.code)
}

/// How an input file fared with its JSON Schema and, independently, with the struct it is
/// read into: `Ok` when it passes, the messages when it does not.
#[derive(Debug)]
pub struct Verdict {
    pub schema: Result<(), String>,
    pub model: Result<(), String>,
}

/// Judges one input file of `kind` by its schema and by its struct; an error when it is
/// not even YAML.
pub fn judge_input(kind: Kind, path: &str, text: &str) -> Result<Verdict, String> {
    let mut map = crate::source::SourceMap::default();
    let file = map.add(crate::source::SourceFile::new(path, text));
    let node = load::yaml::parse(map.get(file)).map_err(|e| e.message)?;
    let json = node.to_json();
    let errors = load::schema::validate(kind, file, &map, &node, &json);
    let by_schema = if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.iter().map(|d| d.message.clone()).collect::<Vec<_>>().join("; "))
    };
    let by_struct = load::parse_typed(kind, json).map(|_| ()).map_err(|e| e.to_string());
    Ok(Verdict {
        schema: by_schema,
        model: by_struct,
    })
}

/// The JSON Schema of an input kind (`schemas/<kind>.schema.json`).
pub fn schema(kind: Kind) -> &'static str {
    load::schema::text(kind)
}

/// Writes a JSON value as YAML the way rendered files are written.
pub fn write_yaml(out: &mut String, value: &serde_json::Value) {
    emit::yaml::write(out, value);
}

/// Whether the seats of `placements` are those the cache knows within IAM's limits
/// (`known`, the digest it kept): FG039 need not measure them again.
fn known_within_limits(
    known: Option<crate::incremental::Key>,
    sources: &Sources,
    placements: &[plan::Placement],
    digest: &std::sync::OnceLock<[u8; 32]>,
) -> bool {
    known.is_some_and(|k| crate::incremental::key::seats(sources, placements, digest) == k)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FG039 is skipped only for the very seats the cache kept: their digest, made once and
    /// kept in the plan's cell; none kept, or another's, and the roles are measured.
    #[test]
    fn seats_are_known_within_iam_s_limits_only_by_their_own_digest() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/base");
        let files = MemoryFiles::from_dir(&root).expect("the base fixture");
        let (sources, problems) = load::load(&files, None, None);
        assert!(problems.is_empty(), "{problems:?}");
        let (plan, _) = plan::plan(&sources);
        let plan = plan.expect("a plan");
        let cell = std::sync::OnceLock::new();
        let own = crate::incremental::key::seats(&sources, &plan.placements, &cell);
        assert_eq!(cell.get(), Some(&own.0));
        let fresh = std::sync::OnceLock::new();
        assert!(known_within_limits(Some(own), &sources, &plan.placements, &fresh));
        assert!(!known_within_limits(
            None,
            &sources,
            &plan.placements,
            &std::sync::OnceLock::new()
        ));
        let other = crate::incremental::Key::of(b"other seats");
        assert!(!known_within_limits(Some(other), &sources, &plan.placements, &fresh));
        // One placement fewer: other seats.
        let fewer = &plan.placements[1..];
        assert!(!known_within_limits(
            Some(own),
            &sources,
            fewer,
            &std::sync::OnceLock::new()
        ));
    }

    /// A render that makes a cluster's cluster-wide files again reads the detail of each of
    /// the cluster's placements it takes from the cache; one whose detail does not decode
    /// is rendered again instead, and the render is what a cold one makes.
    #[test]
    fn a_placement_whose_detail_does_not_decode_is_rendered_again() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/base");
        let mut files = MemoryFiles::from_dir(&root).expect("the base fixture");
        files.set_today(crate::clock::parse_date("2026-11-22").expect("a date"));
        let render = |files: &MemoryFiles, reuse: Option<&Store>| {
            let compiled = compile(
                files,
                &Options {
                    reuse,
                    ..Options::new(Goal::Render)
                },
            );
            let tree = compiled.tree.expect("the fixture renders");
            let mut sums: Vec<(String, Sum)> = tree
                .files
                .iter()
                .map(|(p, t)| (p.clone(), Sum::of(t.as_bytes())))
                .collect();
            sums.extend(tree.known.iter().map(|(p, s)| (p.clone(), *s)));
            sums.sort_by(|a, b| a.0.cmp(&b.0));
            (sums, tree.stats, tree.store)
        };
        let (_, _, store) = render(&files, Some(&Store::default()));
        let store = store.expect("a cache was asked for");
        // `web`'s version changes: the cluster-wide files of every cluster it is on are made
        // again, and `api`'s placements there are taken from the cache.
        let text = String::from_utf8(files.get("apps/web/app.yaml").expect("web").to_vec()).expect("text");
        files.insert(
            "apps/web/app.yaml",
            text.replacen("  version: 2026.07.03-1421", "  version: 2026.07.04-1", 1),
        );
        let (cold, _, _) = render(&files, None);
        let (warm, stats, _) = render(&files, Some(&store));
        assert_eq!(warm, cold);
        assert!(stats.reused > 0 && stats.rendered > 0, "{stats:?}");
        let mut damaged = Store {
            entries: store.entries.clone(),
            clusters: store.clusters.clone(),
            fleet: store.fleet.clone(),
            rows: store.rows.clone(),
            iam_within_limits: store.iam_within_limits,
        };
        for entry in damaged.entries.values_mut() {
            std::sync::Arc::make_mut(entry).set_detail_bytes(&[1]);
        }
        let (again, damaged_stats, _) = render(&files, Some(&damaged));
        assert_eq!(again, cold);
        assert_eq!(damaged_stats.reused, 0, "no detail decodes: {damaged_stats:?}");
        assert_eq!(damaged_stats.rendered, stats.rendered + stats.reused);
    }
}
