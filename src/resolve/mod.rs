//! Stage 2, `resolve`: fit the loaded files together. So far this checks that they can be
//! fitted: ids match their files, names refer to things that exist, placements land on
//! clusters, and clusters keep to their profiles.

mod conformance;
mod ids;
mod placement;
mod references;

use crate::diag::Diagnostic;
use crate::load::Sources;

/// Every cross-file problem of the loaded sources, unsorted.
pub fn check(sources: &Sources) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    ids::check(sources, &mut out);
    references::check(sources, &mut out);
    placement::check(sources, &mut out);
    conformance::check(sources, &mut out);
    out
}
