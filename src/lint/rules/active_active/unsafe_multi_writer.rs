//! ## What it does
//! Flags an app with `data.mode: active-active` that does not declare both how concurrent
//! writes are reconciled (`conflictResolution`) and that its writes are safe to retry
//! (`idempotentWrites: true`): either one missing is a finding.
//!
//! ## Why is this bad?
//! With several writers, the same record is written in two regions at once, and every
//! failover retries requests that may already have been applied. Without a conflict rule
//! the data silently diverges; without idempotent writes a retried payment is a second
//! payment. Multi-writer data is only safe when both are designed in.
//!
//! ## Example
//! ```yaml
//! data: { mode: active-active, writeRegions: [azure:eastus, aws:us-east-1], rpo: 1m, rto: 15m }
//! ```
//!
//! ## Use instead
//! ```yaml
//! data: { mode: active-active, writeRegions: [azure:eastus, aws:us-east-1],
//!         conflictResolution: last-writer-wins, idempotentWrites: true, rpo: 1m, rto: 15m }
//! ```
//! or a single-writer mode with failover routing.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::model::app::DataMode;
use crate::lint::rule;

rule!("FG101" "unsafe-multi-writer", "active-active", Error, Lint, "active-active data without both conflict resolution and idempotent writes (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let Some(data) = &app.data else { continue };
        if data.mode != DataMode::ActiveActive {
            continue;
        }
        let mut missing = Vec::new();
        if data.conflict_resolution.is_none() {
            missing.push("`conflictResolution`");
        }
        if data.idempotent_writes != Some(true) {
            missing.push("`idempotentWrites: true`");
        }
        if missing.is_empty() {
            continue;
        }
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(&["data", "mode"], "several writers"),
                format!(
                    "`{}` writes in several regions without {}",
                    app.application.name,
                    missing.join(" and ")
                ),
            )
            .with_help("declare `conflictResolution` (last-writer-wins, crdt, application-merge) and make writes idempotent, or use a single-writer mode"),
        );
    }
}
