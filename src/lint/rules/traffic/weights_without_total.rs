//! ## What it does
//! Flags an app with `routing: weighted-global` whose weights give its clusters in rotation
//! no positive total: every weight is 0, or the only positive weights belong to clusters
//! out of rotation (or to temporary weights of 0).
//!
//! ## Why is this bad?
//! A weight of 0 means "last resort": the edge sends it traffic only when every other
//! origin is unhealthy. With a total of 0 no origin is preferred; Front Door treats them as
//! equals one priority later and Route 53 answers with all of them, so the split the
//! contract was written for does not exist, and the next switch that sets a weight decides
//! it by accident.
//!
//! ## Example
//! ```yaml
//! traffic:
//!   routing: weighted-global
//!   weights: { azure:eastus: 0, aws:us-east-1: 0 }
//! ```
//!
//! ## Use instead
//! ```yaml
//!   weights: { azure:eastus: 80, aws:us-east-1: 20 }
//! ```

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::model::app::Routing;
use crate::resolve::edge;

rule!("FG155" "weights-without-total", "traffic", Error, Lint, "weighted-global weights that do not sum to a positive total over the clusters in rotation (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::BTreeSet::new();
    for route in edge::routes(ctx.sources) {
        if route.routing != Routing::WeightedGlobal || route.origins.iter().all(|o| o.weight.is_none()) {
            continue;
        }
        let total: u64 = route.in_rotation().map(|o| u64::from(o.weight.unwrap_or(0))).sum();
        if total > 0 || route.in_rotation().next().is_none() {
            continue;
        }
        let a = &route.app.value;
        if !seen.insert((a.application.name.to_string(), route.entry.at())) {
            continue;
        }
        let label = if a.traffic.weights.is_empty() {
            route.app.label(&["traffic", "switches"], "these weights")
        } else {
            route.app.label(&["traffic", "weights"], "these weights")
        };
        let shares: Vec<String> = route
            .origins
            .iter()
            .map(|o| {
                let state = if o.in_rotation() { "" } else { ", out of rotation" };
                format!("`{}`: {}{state}", o.id(), o.weight.unwrap_or(0))
            })
            .collect();
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                label,
                format!(
                    "the weights of `{}` sum to 0 over its clusters in rotation behind {} ({})",
                    a.application.name,
                    route.entry.describe(),
                    shares.join("; ")
                ),
            )
            .with_help("give at least one cluster in rotation a positive weight")
            .for_app(a.application.name.as_str()),
        );
    }
}
