//! fleetgen compiles a multi-cluster GitOps repository: a cluster registry, workload
//! contracts and a policy library go in; per-cluster rendered trees come out, and unsafe
//! intent is refused.
//!
//! The pipeline, one module per stage; each stage takes the previous stage's value:
//! - [`load`]: walk the repository (through [`load::files::Files`]), parse YAML with spans,
//!   validate every file against its schema in `schemas/`, read it into [`model`] → [`load::Sources`]
//! - [`resolve`]: fit the files together (ids, references, placement, profiles), then
//!   resolve every placement of an app on a cluster ([`resolve::plan`])
//! - [`emit`]: render each cluster's files from templates (in parallel) → [`emit::RenderedTree`]
//! - [`write`]: swap the tree into `rendered/` atomically
//!
//! Every problem is a [`diag::Diagnostic`] with a stable code, located in its source file.

pub mod check;
pub mod cli;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod lint;
pub mod load;
pub mod model;
pub mod policy;
pub mod resolve;
pub mod schema;
pub mod source;
pub mod suggest;
pub mod write;

use diag::Diagnostic;
use load::Sources;

/// Loads a repository and checks it: the `fleetgen validate` pipeline, everything `render`
/// checks before it renders. Diagnostics come back sorted by file and position.
pub fn validate(files: &dyn load::files::Files) -> (Sources, Vec<Diagnostic>) {
    let (sources, mut diagnostics) = load_checked(files);
    prepare(&sources, &mut diagnostics);
    (sources, diagnostics)
}

/// Loads a repository and checks how its files fit together (ids, references, placements,
/// profiles, policy mappings); the first half of [`validate`].
pub fn load_checked(files: &dyn load::files::Files) -> (Sources, Vec<Diagnostic>) {
    let (sources, mut diagnostics) = load::load(files);
    diagnostics.extend(resolve::check(&sources));
    diagnostics.extend(lint::check_config(&sources));
    (sources, diagnostics)
}

/// What rendering needs, built once: the compiled templates and (when the files fit
/// together) the resolved placements.
pub struct Prepared<'s> {
    pub engine: emit::templates::Engine,
    pub plan: Option<resolve::plan::Plan<'s>>,
}

/// The second half of [`validate`]: compiles the templates and resolves every placement
/// (labels, identity, namespaces, gateways), adding what does not work to `diagnostics`,
/// which come back sorted with fleet.yaml's `lint.severity` applied.
pub fn prepare<'s>(sources: &'s Sources, diagnostics: &mut Vec<Diagnostic>) -> Prepared<'s> {
    let (engine, template_errors) = emit::templates::Engine::new(sources);
    diagnostics.extend(template_errors);
    let mut plan = None;
    if diag::exit_code(diagnostics) == 0 {
        let (p, more) = resolve::plan::plan(sources);
        diagnostics.extend(more);
        plan = p;
    }
    lint::adjust(sources, diagnostics);
    diag::sort(diagnostics, &sources.files);
    Prepared { engine, plan }
}

/// Renders prepared sources. Returns the tree only when there was no error; the render's
/// own findings (policy, duplicate objects, exemptions) come back either way.
pub fn render_prepared(
    sources: &Sources,
    prepared: &Prepared,
    select: &emit::Selection,
) -> (Option<emit::RenderedTree>, Vec<Diagnostic>) {
    render_prepared_observed(sources, prepared, select, &|| {})
}

/// [`render_prepared`], calling `cluster_done` as each cluster is rendered.
pub fn render_prepared_observed(
    sources: &Sources,
    prepared: &Prepared,
    select: &emit::Selection,
    cluster_done: &(dyn Fn() + Sync),
) -> (Option<emit::RenderedTree>, Vec<Diagnostic>) {
    let Some(plan) = &prepared.plan else {
        return (None, Vec::new());
    };
    let (tree, mut diagnostics) = emit::render_observed(sources, plan, &prepared.engine, select, cluster_done);
    diag::sort(&mut diagnostics, &sources.files);
    ((diag::exit_code(&diagnostics) == 0).then_some(tree), diagnostics)
}

/// Validates and renders the whole fleet in memory (`check`, `diff`): the tree when there
/// is no error, and every diagnostic, sorted.
pub fn compile(files: &dyn load::files::Files) -> (Sources, Option<emit::RenderedTree>, Vec<Diagnostic>) {
    let (sources, mut diagnostics) = load_checked(files);
    let prepared = prepare(&sources, &mut diagnostics);
    let mut tree = None;
    if diag::exit_code(&diagnostics) == 0 {
        let (t, more) = render_prepared(&sources, &prepared, &emit::Selection::default());
        diagnostics.extend(more);
        tree = t;
    }
    drop(prepared);
    diag::sort(&mut diagnostics, &sources.files);
    (sources, tree, diagnostics)
}

/// Resolves and renders validated sources: the `fleetgen render` pipeline after
/// [`validate`]. Returns the tree only when there was no error; warnings come back either way.
pub fn render(sources: &Sources, select: &emit::Selection) -> (Option<emit::RenderedTree>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let prepared = prepare(sources, &mut diagnostics);
    if diag::exit_code(&diagnostics) != 0 {
        return (None, diagnostics);
    }
    let (tree, more) = render_prepared(sources, &prepared, select);
    diagnostics.extend(more);
    diag::sort(&mut diagnostics, &sources.files);
    (tree, diagnostics)
}

/// Validates, renders in memory and runs the rule catalogue: the `fleetgen lint` pipeline.
/// Render findings (policy, labels, templates) are lint findings too. Diagnostics come back
/// sorted, with fleet.yaml's `lint.severity` applied.
pub fn lint(files: &dyn load::files::Files) -> (Sources, Vec<Diagnostic>) {
    let (sources, mut diagnostics) = load_checked(files);
    let prepared = prepare(&sources, &mut diagnostics);
    if diag::exit_code(&diagnostics) == 0
        && let Some(plan) = &prepared.plan
    {
        let select = emit::Selection {
            keep_objects: true,
            ..emit::Selection::default()
        };
        let (tree, problems) = emit::render(&sources, plan, &prepared.engine, &select);
        diagnostics.extend(problems);
        diagnostics.extend(lint::run(&sources, plan, &tree));
    }
    diag::sort(&mut diagnostics, &sources.files);
    (sources, diagnostics)
}
