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
    let (sources, mut diagnostics) = load::load(files);
    diagnostics.extend(resolve::check(&sources));
    diagnostics.extend(lint::check_config(&sources));
    // Everything short of rendering: templates compile, and (once the files fit together)
    // every placement resolves: labels, identity, namespaces, gateways.
    diagnostics.extend(emit::templates::Engine::new(&sources).1);
    if diag::exit_code(&diagnostics) == 0 {
        diagnostics.extend(resolve::plan::plan(&sources).1);
    }
    lint::adjust(&sources, &mut diagnostics);
    diag::sort(&mut diagnostics, &sources.files);
    (sources, diagnostics)
}

/// Resolves and renders validated sources: the `fleetgen render` pipeline after
/// [`validate`]. Returns the tree only when there was no error; warnings come back either way.
pub fn render(sources: &Sources, select: &emit::Selection) -> (Option<emit::RenderedTree>, Vec<Diagnostic>) {
    let (plan, mut diagnostics) = resolve::plan::plan(sources);
    let (engine, template_errors) = emit::templates::Engine::new(sources);
    diagnostics.extend(template_errors);
    let tree = match plan {
        Some(plan) if diag::exit_code(&diagnostics) == 0 => {
            let (tree, problems) = emit::render(sources, &plan, &engine, select);
            diagnostics.extend(problems);
            (diag::exit_code(&diagnostics) == 0).then_some(tree)
        }
        _ => None,
    };
    diag::sort(&mut diagnostics, &sources.files);
    (tree, diagnostics)
}

/// Validates, renders in memory and runs the rule catalogue: the `fleetgen lint` pipeline.
/// Render findings (policy, labels, templates) are lint findings too. Diagnostics come back
/// sorted, with fleet.yaml's `lint.severity` applied.
pub fn lint(files: &dyn load::files::Files) -> (Sources, Vec<Diagnostic>) {
    let (sources, mut diagnostics) = validate(files);
    if diag::exit_code(&diagnostics) == 0
        && let (Some(plan), _) = resolve::plan::plan(&sources)
    {
        let (engine, _) = emit::templates::Engine::new(&sources);
        let select = emit::Selection {
            keep_objects: true,
            ..emit::Selection::default()
        };
        let (tree, problems) = emit::render(&sources, &plan, &engine, &select);
        diagnostics.extend(problems);
        diagnostics.extend(lint::run(&sources, &plan, &tree));
    }
    diag::sort(&mut diagnostics, &sources.files);
    (sources, diagnostics)
}
