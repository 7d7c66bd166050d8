//! Stage 2, `resolve`: fit the loaded files together. [`check`] finds what does not fit:
//! ids that differ from their files, names that refer to nothing, placements that land
//! nowhere, values files nothing reads, dependency cycles, kill switches aimed at nothing.
//! [`plan::plan`] then resolves every placement into the values rendering needs: replicas,
//! labels ([`labels`]), identity, namespaces, and the deployment order ([`deps`]).

pub mod cloud_identity;
mod continents;
pub mod deps;
pub mod edge;
mod ids;
pub mod incidents;
pub mod labels;
pub mod placement;
pub mod plan;
mod references;
pub mod route53;
mod sources;
mod switches;
mod values;

use crate::diag::Diagnostic;
use crate::load::Sources;

/// Every cross-file problem of the loaded sources, unsorted.
pub fn check(sources: &Sources) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    ids::check(sources, &mut out);
    references::check(sources, &mut out);
    placement::check(sources, &mut out);
    placement::check_replica_bounds(sources, &mut out);
    placement::check_resources(sources, &mut out);
    placement::check_autoscaled_cpu(sources, &mut out);
    values::check(sources, &mut out);
    deps::check(sources, &mut out);
    deps::check_reachable(sources, &mut out);
    switches::check(sources, &mut out);
    incidents::check(sources, &mut out);
    edge::check(sources, &mut out);
    sources::check(sources, &mut out);
    check_windows(sources, &mut out);
    out
}

/// A cluster's next upgrade window is a day that exists (`2027-02-30` does not), as every
/// other date of the inputs is; whether it is past is FG128's, a lint rule's, to say.
fn check_windows(sources: &Sources, out: &mut Vec<Diagnostic>) {
    for doc in &sources.clusters {
        let Some(window) = doc.value.upgrade.as_ref().and_then(|u| u.next_window.as_deref()) else {
            continue;
        };
        if crate::clock::parse_date(window).is_none() {
            out.push(Diagnostic::error(
                crate::diag::codes::INVALID_VALUE,
                &sources.files,
                doc.label(&["upgrade", "nextWindow"], "no such day"),
                format!("`{window}` is not a date"),
            ));
        }
    }
}
