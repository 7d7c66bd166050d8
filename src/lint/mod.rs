//! Stage 3b, `lint`: rules over the whole resolved fleet — every contract against every
//! cluster, region and ring — not one object at a time.
//!
//! Organised like ruff: one rule per file in `rules/<family>/`, whose `//!` doc comment is
//! the rule's documentation and whose [`rule!`] line declares its stable code; the family
//! lists in [`rules`] register it. Validate-stage rules run over the sources before
//! anything renders ([`check_sources`]), lint-stage rules over the rendered fleet ([`run`]).

pub mod baseline;
pub mod query;
pub mod rules;
pub mod secrets;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::diag::{Code, Diagnostic, Severity, codes};
use crate::emit::{RenderedObject, RenderedTree};
use crate::load::Sources;
use crate::model::fleet::LintLevel;
use crate::resolve::plan::{Placement, Plan};

/// What rules read: the sources, the resolved placements and the rendered objects.
pub struct Context<'a> {
    pub sources: &'a Sources,
    pub plan: &'a Plan<'a>,
    pub tree: &'a RenderedTree,
    /// (app, cluster) → the placement, its rendered objects and its workloads (found by the
    /// first rule that asks: three do).
    index: FxHashMap<(&'a str, &'a str), Placed<'a>>,
    /// Each app's placements, in plan order (rules ask per app: scanning the plan for each
    /// app was quadratic in the fleet).
    by_app: FxHashMap<&'a str, Vec<&'a Placement<'a>>>,
    /// The exemptions that turned a lint finding off, by name (for FG092).
    used: std::sync::Mutex<BTreeSet<String>>,
    /// What the two secrets rules report from, gathered by [`run`] before any rule runs.
    secrets: Vec<secrets::Hit<'a>>,
}

/// A placement in [`Context`]'s index.
struct Placed<'a> {
    placement: &'a Placement<'a>,
    objects: Vec<&'a RenderedObject>,
    workloads: OnceLock<Vec<query::Workload<'a>>>,
}

impl<'a> Context<'a> {
    pub fn new(sources: &'a Sources, plan: &'a Plan<'a>, tree: &'a RenderedTree) -> Self {
        let mut index: FxHashMap<(&str, &str), Placed> = plan
            .placements
            .iter()
            .map(|p| {
                let placed = Placed {
                    placement: p,
                    objects: Vec::new(),
                    workloads: OnceLock::new(),
                };
                ((p.app_name(), p.cluster_id()), placed)
            })
            .collect();
        for o in &tree.objects {
            if let Some(placed) = index.get_mut(&(o.app.as_str(), o.cluster.as_str())) {
                placed.objects.push(o);
            }
        }
        let mut by_app: FxHashMap<&str, Vec<&Placement>> = FxHashMap::default();
        for p in &plan.placements {
            by_app.entry(p.app_name()).or_default().push(p);
        }
        Context {
            sources,
            plan,
            tree,
            index,
            by_app,
            used: std::sync::Mutex::default(),
            secrets: Vec::new(),
        }
    }

    /// Every finding of the secrets rules before exemptions (see [`secrets::Collect`]).
    pub fn secrets(&self) -> &[secrets::Hit<'a>] {
        &self.secrets
    }

    /// The exemption in force that frees a finding of `code` for a target (every field the
    /// exemption's target gives must match), recording that it was used. A finding's
    /// namespace is its rendered object's, else its app's ([`app_namespaces`]).
    pub fn exempted(&self, code: &Code, app: Option<&str>, cluster: Option<&str>, namespace: Option<&str>) -> bool {
        let found = self.sources.policy_exemptions.iter().find(|doc| {
            let ex = &doc.value;
            let t = &ex.target;
            let matches = |want: Option<&str>, have: Option<&str>| want.is_none_or(|w| have == Some(w));
            ex.rule.as_deref().is_some_and(|r| code.named_by(r))
                && crate::policy::exemptions::active(ex, self.sources.today)
                && matches(t.app.as_ref().map(|a| a.as_str()), app)
                && matches(t.cluster.as_ref().map(|c| c.as_str()), cluster)
                && matches(t.namespace.as_ref().map(|n| n.as_str()), namespace)
        });
        if let Some(doc) = found {
            self.used
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(doc.value.name.to_string());
        }
        found.is_some()
    }

    /// The placement of `app` on `cluster`.
    pub fn placement(&self, app: &str, cluster: &str) -> Option<&'a Placement<'a>> {
        self.index.get(&(app, cluster)).map(|placed| placed.placement)
    }

    /// The `provider:region`s an app really runs in (its [`Context::running`] placements),
    /// sorted.
    pub fn served_regions(&self, app: &str) -> Vec<String> {
        let set: BTreeSet<String> = self.running(app).map(region_of).collect();
        set.into_iter().collect()
    }

    /// The app's highest environment (in promotion order: prod over staging …) among the
    /// placements that deploy it, and the `provider:region`s it runs in there, sorted: what
    /// a criticality or a multi-region claim promises is counted where the app serves, not
    /// summed over environments (a second region with only staging does not make prod
    /// multi-region). A scale-down in prod does not make staging the top; scaled down
    /// everywhere there, the app runs in no region (FG154 and FG050 say so).
    pub fn top_environment_regions(&self, app: &str) -> Option<(crate::model::Environment, Vec<String>)> {
        let top = self.active(app).map(|p| p.cluster.value.environment).max()?;
        let set: BTreeSet<String> = self
            .running(app)
            .filter(|p| p.cluster.value.environment == top)
            .map(region_of)
            .collect();
        Some((top, set.into_iter().collect()))
    }

    /// The placements of an app, in plan order.
    pub fn placements_of(&self, app: &str) -> &[&'a Placement<'a>] {
        self.by_app.get(app).map_or(&[], Vec::as_slice)
    }

    /// The placements of an app that are deployed (not drained): its objects are there,
    /// though an incident switch may scale it to zero.
    pub fn active<'p>(&'p self, app: &str) -> impl Iterator<Item = &'a Placement<'a>> + 'p {
        self.placements_of(app).iter().copied().filter(|p| p.drained.is_none())
    }

    /// The placements of an app that run it: deployed and not scaled down to zero replicas
    /// (`switches.scaleDown`). What serves, takes writes or holds capacity.
    pub fn running<'p>(&'p self, app: &str) -> impl Iterator<Item = &'a Placement<'a>> + 'p {
        self.active(app).filter(|p| p.scaled_down.is_none())
    }

    /// A placement's rendered objects.
    pub fn objects_of<'s>(&'s self, p: &'s Placement) -> &'s [&'a RenderedObject] {
        self.index
            .get(&(p.app_name(), p.cluster_id()))
            .map_or(&[], |placed| placed.objects.as_slice())
    }

    /// The workloads among a placement's objects (see [`query::workloads`]).
    pub fn workloads<'s>(&'s self, p: &'s Placement) -> &'s [query::Workload<'a>] {
        self.index.get(&(p.app_name(), p.cluster_id())).map_or(&[], |placed| {
            placed.workloads.get_or_init(|| query::workloads(&placed.objects))
        })
    }
}

/// `provider:region` of a placement's cluster.
pub fn region_of(p: &Placement) -> String {
    format!("{}:{}", p.cluster.value.provider, p.cluster.value.region)
}

/// When a rule runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// With every `fleetgen lint`.
    Lint,
    /// Already in `fleetgen validate` (and so in render and lint): the repository cannot be
    /// rendered while it fires, so it is not a lint-only finding.
    Validate,
}

impl Stage {
    /// The command that checks a rule of this stage.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Lint => "lint",
            Stage::Validate => "validate",
        }
    }
}

/// A rule's check: validate-stage rules read the sources, lint-stage rules the whole
/// resolved and rendered fleet, some of them each rendered object as its file holds it.
#[derive(Clone, Copy)]
pub enum Check {
    Sources(fn(&Sources, &mut Vec<Diagnostic>)),
    Fleet(fn(&Context, &mut Vec<Diagnostic>)),
    /// A new pass of the rule, shown every rendered object finished (see [`EachObject`]).
    Objects(fn() -> Box<dyn EachObject>),
}

/// A lint-stage rule that reads every rendered object as written to its file (namespace
/// set, managed labels merged). [`run`] finishes each object once and shows it to every
/// such rule: finished by each rule that read it, objects were copied about three times
/// over, a quarter of `lint`'s CPU.
pub trait EachObject: Send {
    /// One rendered object and the object finished.
    fn object(&mut self, ctx: &Context, o: &RenderedObject, finished: &serde_json::Value);
    /// The findings, once every object has been shown.
    fn report(self: Box<Self>, ctx: &Context, out: &mut Vec<Diagnostic>);
}

/// How many objects [`run`] finishes at a time: a few megabytes, whatever the fleet's size.
const FINISHED_AT_ONCE: usize = 1024;

/// A rule: its code (with its family and documentation), when it runs and its check.
pub struct Rule {
    pub code: Code,
    pub stage: Stage,
    pub check: Check,
}

impl Rule {
    /// The family: `active-active`, `labels`, `drift`, `capacity`.
    pub fn family(&self) -> &'static str {
        self.code.rule.as_ref().map_or("", |r| r.family)
    }

    /// The severity unless fleet.yaml's `lint.severity` says otherwise.
    pub fn default(&self) -> Severity {
        self.code.default
    }

    /// The rule's documentation, from its file's `//!` comment.
    pub fn doc(&self) -> String {
        self.code.doc().unwrap_or_default()
    }

    /// The documentation as `docs/rules/<code>.md` holds it.
    pub fn markdown(&self) -> String {
        let stage = match self.stage {
            Stage::Lint => "`fleetgen lint`",
            Stage::Validate => "`fleetgen validate`, `render` and `lint`",
        };
        format!(
            "<!-- Generated from src/lint/rules by `FLEETGEN_BLESS=1 cargo test --test lint`; edit the rule's doc comment. -->\n\
             # {} {}\n\n\
             Family: {} · default severity: {} · checked by {stage}\n\n{}",
            self.code.id,
            self.code.name,
            self.family(),
            self.default().as_str(),
            self.doc()
        )
    }
}

/// Declares the rule of the file it is in, as `pub static RULE`: its code, name, family,
/// default severity, stage (whose check is the file's `check` function) and one-line
/// summary. The file's `//!` comment is its documentation.
macro_rules! rule {
    ($id:literal $name:literal, $family:literal, $default:ident, $stage:ident, $summary:literal) => {
        pub static RULE: $crate::lint::Rule = $crate::lint::Rule {
            code: $crate::diag::Code {
                id: $id,
                name: $name,
                class: $crate::diag::Class::Reference,
                default: $crate::diag::Severity::$default,
                summary: $summary,
                rule: Some($crate::diag::codes::RuleDoc {
                    family: $family,
                    source: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", file!())),
                }),
            },
    stage: $crate::lint::rule!(@stage $stage),
    check: $crate::lint::rule!(@check $stage),
        };
    };
    (@stage Objects) => {
        $crate::lint::Stage::Lint
    };
    (@stage $stage:ident) => {
        $crate::lint::Stage::$stage
    };
    (@check Lint) => {
        $crate::lint::Check::Fleet(check)
    };
    (@check Objects) => {
        $crate::lint::Check::Objects(|| Box::<Pass>::default())
    };
    (@check Validate) => {
        $crate::lint::Check::Sources(check)
    };
}
pub(crate) use rule;

/// Every rule, in code order.
pub fn rules() -> &'static [&'static Rule] {
    static SORTED: OnceLock<Vec<&'static Rule>> = OnceLock::new();
    SORTED.get_or_init(|| {
        let mut all: Vec<&'static Rule> = rules::ALL.to_vec();
        all.sort_by_key(|r| r.code.id);
        all
    })
}

/// Every diagnostic code: the table's and the rules', in code order.
pub fn catalogue() -> &'static [&'static Code] {
    static ALL: OnceLock<Vec<&'static Code>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<&'static Code> = codes::ALL.to_vec();
        all.extend(rules().iter().map(|r| &r.code));
        all.sort_by_key(|c| c.id);
        all
    })
}

/// The level fleet.yaml sets for a rule, if it names it (by code or name).
fn configured(sources: &Sources, rule: &Rule) -> Option<LintLevel> {
    let fleet = &sources.fleet.as_ref()?.value;
    fleet
        .lint
        .severity
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(rule.code.id) || *k == rule.code.name)
        .map(|(_, level)| *level)
}

/// The severity of a rule's findings in this repository; `None` when turned off.
pub fn severity(sources: &Sources, rule: &Rule) -> Option<Severity> {
    match configured(sources, rule) {
        None => Some(rule.default()),
        Some(LintLevel::Error) => Some(Severity::Error),
        Some(LintLevel::Warning) => Some(Severity::Warning),
        Some(LintLevel::Off) => None,
    }
}

/// Runs every validate-stage rule (over the sources) and checks fleet.yaml's lint settings.
pub fn check_sources(sources: &Sources) -> Vec<Diagnostic> {
    let mut out = check_config(sources);
    for rule in rules() {
        if let Check::Sources(check) = rule.check {
            check(sources, &mut out);
        }
    }
    out
}

/// Runs every lint-stage rule, at the severity the repository gives it. A finding an
/// exemption in force names (`rule:` the rule's name or code, a `target` its app, cluster
/// and app's namespace match) is waived; an exemption of a rule that ran and waived
/// nothing is FG092.
pub fn run(sources: &Sources, plan: &Plan, tree: &RenderedTree) -> Vec<Diagnostic> {
    run_finishing(sources, plan, tree, FINISHED_AT_ONCE)
}

/// [`run`], finishing `at_once` objects at a time.
fn run_finishing(sources: &Sources, plan: &Plan, tree: &RenderedTree, at_once: usize) -> Vec<Diagnostic> {
    let mut ctx = Context::new(sources, plan, tree);
    let namespaces = app_namespaces(sources);
    let mut out = Vec::new();
    let to_run: Vec<(&Rule, Check, Severity)> = rules()
        .iter()
        .filter_map(|rule| match (rule.check, severity(sources, rule)) {
            (Check::Sources(_), _) | (_, None) => None,
            (check, Some(level)) => Some((*rule, check, level)),
        })
        .collect();
    let ran: Vec<&Code> = to_run.iter().map(|(rule, _, _)| &rule.code).collect();
    // Every object finished once, a batch at a time, and shown to each rule that reads
    // objects (and to what the secrets rules share) in turn.
    let mut passes: Vec<Option<Box<dyn EachObject>>> = (to_run.iter())
        .map(|(_, check, _)| match check {
            Check::Objects(pass) => Some(pass()),
            _ => None,
        })
        .collect();
    let mut secrets = secrets::Collect::new(sources);
    for batch in tree.objects.chunks(at_once) {
        let finished: Vec<serde_json::Value> = batch.par_iter().map(RenderedObject::object).collect();
        let show = |pass: &mut dyn EachObject| {
            for (o, value) in batch.iter().zip(&finished) {
                pass.object(&ctx, o, value);
            }
        };
        rayon::join(
            || secrets.objects(batch.iter().zip(&finished)),
            || passes.par_iter_mut().flatten().for_each(|pass| show(pass.as_mut())),
        );
        // Freed on the pool too (freeing them was about a tenth of the rules' time).
        finished.into_par_iter().for_each(drop);
    }
    ctx.secrets = secrets.hits();
    // The rules read the fleet and write nothing but their findings (and the exemptions
    // they used, a set): they run on the pool, their findings taken in code order.
    let checks: Vec<(Check, Option<Box<dyn EachObject>>)> =
        (to_run.iter().map(|(_, check, _)| *check)).zip(passes).collect();
    let found: Vec<Vec<Diagnostic>> = checks
        .into_par_iter()
        .map(|(check, pass)| {
            let mut found = Vec::new();
            match (check, pass) {
                (Check::Fleet(check), _) => check(&ctx, &mut found),
                (_, Some(pass)) => pass.report(&ctx, &mut found),
                _ => {}
            }
            found
        })
        .collect();
    for ((rule, _, level), found) in to_run.iter().zip(found) {
        let (rule, level) = (*rule, *level);
        for mut d in found {
            name_subject(sources, &mut d);
            let namespace = d.app.as_deref().and_then(|app| namespaces.get(app).copied());
            if ctx.exempted(&rule.code, d.app.as_deref(), d.cluster.as_deref(), namespace) {
                continue;
            }
            // The repository's level, except that a rule at error may say a finding is only a
            // warning (removed-api: a deprecated version, not yet a removed one).
            let deliberate = d.severity == Severity::Warning && rule.default() == Severity::Error;
            d.severity = if deliberate { Severity::Warning } else { level };
            out.push(d);
        }
    }
    let used = ctx.used.lock().unwrap_or_else(|e| e.into_inner());
    for doc in &sources.policy_exemptions {
        let ex = &doc.value;
        let of_a_rule_that_ran = ex.rule.as_deref().is_some_and(|r| ran.iter().any(|c| c.named_by(r)));
        if !of_a_rule_that_ran
            || !crate::policy::exemptions::active(ex, sources.today)
            || used.contains(ex.name.as_str())
        {
            continue;
        }
        out.push(
            Diagnostic::error(
                codes::EXEMPTION_UNUSED,
                &sources.files,
                doc.label(&["name"], "matched no finding"),
                format!("exemption `{}` turned no finding off", ex.name),
            )
            .with_help(
                "remove it: the finding it waived is fixed (or its target names no app, cluster or namespace the rule reports)",
            )
            .warning(),
        );
    }
    out
}

/// Each app's namespace (`application.namespace`, else its name), by app name: the
/// namespace of a finding about the app, as an exemption's `target.namespace` matches it.
pub fn app_namespaces(sources: &Sources) -> FxHashMap<&str, &str> {
    (sources.apps.iter())
        .map(|a| {
            (
                a.value.application.name.as_str(),
                crate::resolve::labels::namespace(&a.value),
            )
        })
        .collect()
}

/// A finding located in an app's contract is about that app, one in a cluster's file
/// about that cluster (for the `app` and `cluster` fields of JSON and SARIF).
fn name_subject(sources: &Sources, d: &mut Diagnostic) {
    if d.app.is_some() || d.cluster.is_some() {
        return;
    }
    let Some(file) = d.primary.as_ref().map(|l| l.file) else {
        return;
    };
    if let Some(app) = sources.apps.iter().find(|a| a.file == file) {
        d.app = Some(app.value.application.name.to_string());
    } else if let Some(c) = sources.clusters.iter().find(|c| c.file == file) {
        d.cluster = Some(c.value.cluster_id.to_string());
    }
}

/// Applies fleet.yaml's levels to the findings of validate-stage rules.
pub fn adjust(sources: &Sources, diagnostics: &mut Vec<Diagnostic>) {
    for rule in rules().iter().filter(|r| r.stage == Stage::Validate) {
        if configured(sources, rule).is_none() {
            continue;
        }
        let level = severity(sources, rule);
        diagnostics.retain_mut(|d| {
            if d.code != &rule.code {
                return true;
            }
            match level {
                Some(s) => {
                    d.severity = s;
                    true
                }
                None => false,
            }
        });
    }
}

/// fleet.yaml's `lint.severity` names rules that exist.
fn check_config(sources: &Sources) -> Vec<Diagnostic> {
    let Some(fleet) = &sources.fleet else { return Vec::new() };
    let mut out = Vec::new();
    for key in fleet.value.lint.severity.keys() {
        if find(key).is_some() {
            continue;
        }
        let names = rules().iter().map(|r| r.code.name);
        let hint = match crate::suggest::closest(key, names) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "`fleetgen rules` lists them".to_string(),
        };
        out.push(
            Diagnostic::error(
                codes::UNKNOWN_REFERENCE,
                &sources.files,
                fleet.key_label(&["lint", "severity", key.as_str()], "no such rule"),
                format!("`lint.severity` names `{key}`, which is not a lint rule"),
            )
            .with_help(hint),
        );
    }
    out
}

/// The rules whose findings a policy exemption (`rule: <name or code>`) can turn off for a
/// target: every rule `fleetgen lint` runs over the rendered fleet (FG100 and up; the
/// validate-stage rules are turned off or down in fleet.yaml's `lint.severity`).
pub fn exemptable() -> Vec<&'static Code> {
    rules()
        .iter()
        .filter(|r| r.stage == Stage::Lint)
        .map(|r| &r.code)
        .collect()
}

/// A rule by code (`FG100`) or name (`fake-active-active`).
pub fn find(key: &str) -> Option<&'static Rule> {
    rules()
        .iter()
        .copied()
        .find(|r| r.code.id.eq_ignore_ascii_case(key) || r.code.name == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_sorted() {
        let all = catalogue();
        for pair in all.windows(2) {
            assert!(pair[0].id < pair[1].id, "{} before {}", pair[0].id, pair[1].id);
        }
        let mut names: Vec<_> = all.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }

    #[test]
    fn every_rule_is_documented_in_the_four_sections() {
        for rule in rules() {
            let doc = rule.doc();
            for section in ["## What it does", "## Why is this bad?", "## Example", "## Use instead"] {
                assert!(doc.contains(section), "{} lacks {section}", rule.code.id);
            }
            assert_eq!(codes::find_in(catalogue(), rule.code.id), Some(&rule.code));
            let stage_matches = matches!(
                (rule.stage, rule.check),
                (Stage::Lint, Check::Fleet(_) | Check::Objects(_)) | (Stage::Validate, Check::Sources(_))
            );
            assert!(stage_matches, "{}", rule.code.id);
        }
    }

    /// The invalid specs of the rules that read rendered objects (and of the secrets rules,
    /// which share one scan of them): the same findings whether the objects are finished one
    /// at a time or all at once, and each spec's rule among them.
    #[test]
    fn object_rules_find_the_same_however_many_objects_are_finished_at_once() {
        use crate::emit::Selection;
        use crate::load::files::MemoryFiles;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let specs = [
            ("labels", "missing-telemetry-label"),
            ("labels", "managed-label-override"),
            ("secrets", "secret-object"),
            ("secrets", "plaintext-credential"),
            ("secrets", "credential-pattern"),
        ];
        let mut cases = 0;
        for (family, rule) in specs {
            let dir = root.join("tests/specs").join(family).join(rule).join("invalid");
            for case in std::fs::read_dir(&dir).expect("the specs are readable") {
                let case = case.expect("a spec").path();
                let mut files = MemoryFiles::from_dir(&root.join("tests/fixtures/base")).expect("the base fixture");
                files
                    .add_dir(&root.join("tests/fixtures/lint-base"))
                    .expect("the lint fixture");
                files.add_dir(&case).expect("the case");
                files.set_today(crate::clock::parse_date("2026-11-22").expect("a date"));
                let (sources, _) = crate::load::load(&files, None, None);
                let (engine, _) = crate::emit::templates::Engine::new(&sources);
                let (plan, problems) = crate::resolve::plan::plan(&sources);
                let plan = plan.unwrap_or_else(|| panic!("{case:?}: {problems:?}"));
                let select = Selection {
                    keep_objects: true,
                    ..Selection::default()
                };
                let (tree, _) = crate::emit::render(&sources, &plan, &engine, &select, None, &|| {});
                assert!(tree.objects.len() > 1, "{case:?}");
                let found = |at_once| format!("{:?}", run_finishing(&sources, &plan, &tree, at_once));
                let one_by_one = found(1);
                assert_eq!(one_by_one, found(usize::MAX), "{case:?}");
                let code = find(rule).expect("a rule").code.id;
                assert!(one_by_one.contains(code), "{case:?}: {code} not in {one_by_one}");
                cases += 1;
            }
        }
        assert!(cases >= 5);
    }
}
