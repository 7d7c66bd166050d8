//! ## What it does
//! Flags a tier-0 or tier-1 app that runs in only one region (counting the regions its
//! placement really lands in, not the ones it names) in its highest environment: prod when
//! it runs in prod, however many regions its staging clusters are in.
//!
//! ## Why is this bad?
//! The criticality says the business cannot do without the app; one region says a single
//! regional outage takes it down for hours. Either the tier is wrong or the placement is.
//!
//! ## Example
//! ```yaml
//! application: { name: payments-api, criticality: tier-0, … }
//! placement:   { environments: [prod], regions: [azure:eastus] }
//! ```
//!
//! ## Use instead
//! Place the app in a second region (with a data mode that can serve it there), or lower its
//! `criticality` to what one region can promise.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::model::Criticality;
use crate::lint::rule;

rule!("FG104" "critical-single-region", "active-active", Error, Lint, "a tier-0 or tier-1 app that runs in one region only (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        if !matches!(app.application.criticality, Criticality::Tier0 | Criticality::Tier1) {
            continue;
        }
        let Some((env, regions)) = ctx.top_environment_regions(app.application.name.as_str()) else {
            continue;
        };
        if regions.len() != 1 {
            continue;
        }
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(&["application", "criticality"], "critical"),
                format!(
                    "`{}` is {} but runs in {env} only in {}",
                    app.application.name, app.application.criticality, regions[0]
                ),
            )
            .with_secondary(doc.label(&["placement", "regions"], "one region"))
            .with_help("place it in a second region, or lower its criticality"),
        );
    }
}
