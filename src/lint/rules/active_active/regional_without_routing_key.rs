//! ## What it does
//! Flags an app with `data.mode: regional` (each region owns its tenants' writes) that takes
//! traffic (`exposure` is not `none`) but has no `traffic.routingKey`.
//!
//! ## Why is this bad?
//! Partitioned data is only correct if every request reaches the region that owns its
//! tenant. Without a routing key (a header or claim the gateway routes on), a request lands
//! in the nearest region, which does not own the tenant's data: it reads stale data or
//! writes to the wrong partition.
//!
//! ## Example
//! ```yaml
//! traffic: { exposure: internal, routing: geo, failover: manual-confirmed, port: 8080 }
//! data:    { mode: regional, writeRegions: [azure:eastus, aws:us-east-1], rpo: 5m, rto: 1h }
//! ```
//!
//! ## Use instead
//! ```yaml
//! traffic: { exposure: internal, routing: geo, failover: manual-confirmed, port: 8080,
//!            routingKey: x-tenant-home-region }
//! ```

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::model::app::{DataMode, Exposure};
use crate::lint::rule;

rule!("FG102" "regional-without-routing-key", "active-active", Error, Lint, "regional (partitioned) data behind traffic with no routing key (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let Some(data) = &app.data else { continue };
        if data.mode != DataMode::Regional
            || app.traffic.exposure == Exposure::None
            || app.traffic.routing_key.is_some()
        {
            continue;
        }
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(&["data", "mode"], "each region owns its tenants"),
                format!(
                    "`{}` partitions its data by region but has no `traffic.routingKey`",
                    app.application.name
                ),
            )
            .with_secondary(doc.label(&["traffic"], "routes without a tenant key"))
            .with_help("set `traffic.routingKey` to the header or claim that names a request's home region"),
        );
    }
}
