//! ## What it does
//! Flags an app whose traffic fails over automatically (`traffic.failover: automatic`) while
//! its data needs a manual promotion to move: `backup-restore`, `pilot-light`,
//! `warm-standby` or `regional-primary-with-standby`.
//!
//! ## Why is this bad?
//! When the primary region fails, traffic moves at once to a region whose data is a replica
//! (or a backup) that nobody has promoted yet. Requests fail there, or worse, write to a
//! copy that will be thrown away when the real promotion happens. The traffic switch and
//! the data switch must move together.
//!
//! ## Example
//! ```yaml
//! traffic: { exposure: internal, routing: failover, failover: automatic, port: 8080 }
//! data:    { mode: warm-standby, writeRegions: [azure:eastus], rpo: 15m, rto: 1h }
//! ```
//!
//! ## Use instead
//! `failover: manual-confirmed`, so the runbook promotes the data and then moves traffic; or
//! a data mode that promotes itself (`hot-standby`, `active-active`). With a manual failover
//! the edge never moves traffic by itself: Front Door's later priorities are disabled and
//! Route 53's `PRIMARY` record has no health check, until a traffic switch takes the primary
//! region out of rotation (`traffic.switches: [{region, inRotation: false, reason}]`).

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::model::app::{DataMode, Failover};
use crate::lint::rule;

rule!("FG103" "failover-over-manual-promotion", "active-active", Error, Lint, "automatic traffic failover over data that needs a manual promotion (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let Some(data) = &app.data else { continue };
        let manual = matches!(
            data.mode,
            DataMode::BackupRestore
                | DataMode::PilotLight
                | DataMode::WarmStandby
                | DataMode::RegionalPrimaryWithStandby
        );
        if !manual || app.traffic.failover != Some(Failover::Automatic) {
            continue;
        }
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(&["traffic", "failover"], "moves traffic at once"),
                format!(
                    "`{}` fails traffic over automatically, but its `{}` data needs a manual promotion",
                    app.application.name, data.mode
                ),
            )
            .with_secondary(doc.label(&["data", "mode"], "promoted by hand"))
            .with_help("use `failover: manual-confirmed`, or a data mode that promotes itself (`hot-standby`, `active-active`)"),
        );
    }
}
