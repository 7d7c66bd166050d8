//! ## What it does
//! Flags a tier-0 or tier-1 app that runs in several regions (counting the regions its
//! placement really lands in) without a `data` block: nothing says how its state survives a
//! region, so no other rule can check it. An app that keeps no state says so with
//! `data: { mode: stateless }`.
//!
//! ## Why is this bad?
//! Every active-active and DR rule reads `data`: fake active-active (FG100), unsafe
//! multi-writers (FG101), RPO/RTO floors (FG106), backups (FG164). A critical multi-region app
//! that leaves it out passes all of them by saying nothing, which is exactly the design the
//! rules exist to catch.
//!
//! ## Example
//! ```yaml
//! application: { name: orders-api, criticality: tier-1, … }
//! placement:   { environments: [prod], regions: [azure:eastus, azure:westeurope] }
//! # no data:
//! ```
//!
//! ## Use instead
//! Declare the data mode, write regions, RPO and RTO
//! (`data: { mode: regional-primary-with-standby, writeRegions: [azure:eastus], rpo: 5m, rto: 30m }`),
//! or `data: { mode: stateless }` when the app keeps no data of its own.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::query::and_list;
use crate::lint::rule;
use crate::model::Criticality;

rule!("FG165" "critical-without-data", "placement", Error, Lint, "a tier-0/1 app in several regions that does not say how its data survives a region (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        if app.data.is_some() || !matches!(app.application.criticality, Criticality::Tier0 | Criticality::Tier1) {
            continue;
        }
        let regions = ctx.served_regions(app.application.name.as_str());
        if regions.len() < 2 {
            continue;
        }
        let listed: Vec<String> = regions.iter().map(|r| format!("`{r}`")).collect();
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(&["placement", "regions"], format!("{} regions", regions.len())),
                format!(
                    "`{}` is {} and runs in {}, but has no `data`: nothing says how its state survives a region",
                    app.application.name,
                    app.application.criticality,
                    and_list(&listed)
                ),
            )
            .with_secondary(doc.label(&["application", "criticality"], "critical"))
            .with_help("declare `data` (mode, writeRegions, rpo, rto), or `data: { mode: stateless }` if the app keeps no data"),
        );
    }
}
