//! fleetgen compiles a multi-cluster GitOps repository: a cluster registry, workload
//! contracts and a policy library go in; per-cluster rendered trees come out, and unsafe
//! intent is refused.
//!
//! The pipeline, one module per stage; each stage takes the previous stage's value:
//! - [`load`]: walk the repository (through [`load::files::Files`]), parse YAML with spans,
//!   validate every file against its schema in `schemas/`, read it into [`model`] → [`load::Sources`]
//! - [`resolve`]: fit the files together (ids, references, placement, profiles)
//!
//! Every problem is a [`diag::Diagnostic`] with a stable code, located in its source file.

pub mod cli;
pub mod diag;
pub mod load;
pub mod model;
pub mod resolve;
pub mod schema;
pub mod source;
pub mod suggest;

use diag::Diagnostic;
use load::Sources;

/// Loads a repository and checks it: the `fleetgen validate` pipeline. Diagnostics come
/// back sorted by file and position.
pub fn validate(files: &dyn load::files::Files) -> (Sources, Vec<Diagnostic>) {
    let (sources, mut diagnostics) = load::load(files);
    diagnostics.extend(resolve::check(&sources));
    diag::sort(&mut diagnostics, &sources.files);
    (sources, diagnostics)
}
