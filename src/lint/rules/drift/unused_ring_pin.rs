//! ## What it does
//! Flags a ring pin of an app (`application.rings.<ring>`) for a ring that has no cluster the
//! app lands on (drained and scaled-down clusters count as landed on). A ring fleet.yaml does
//! not have is FG023, from `validate`.
//!
//! ## Why is this bad?
//! The pin does nothing: no cluster runs the release it names. It reads as a ring held back
//! on an older release, a promotion plan that is not true; and the day the app lands on a
//! cluster of that ring (a new cluster, a wider placement), the forgotten pin decides what
//! that cluster runs.
//!
//! ## Example
//! ```yaml
//! # the app lands on staging and prod-early clusters only
//! application:
//!   version: 2026.07.03-1421
//!   rings:
//!     prod-early: { image: registry.example.com/api@sha256:3f1c…, version: 2026.07.02-1610 }
//!     prod: { image: registry.example.com/api@sha256:3f1c…, version: 2026.07.02-1610 }
//! ```
//!
//! ## Use instead
//! Pin only the rings the app runs in (delete `rings.prod`); add the pin with the placement
//! that brings the app to the ring.

use std::collections::BTreeSet;

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;

rule!("FG129" "unused-ring-pin", "drift", Warning, Lint, "a ring pin (`application.rings`) for a ring that has no cluster the app lands on: it does nothing (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let rings = &ctx.plan.fleet.value.rings;
    for doc in &ctx.sources.apps {
        let a = &doc.value.application;
        let placed = ctx.placements_of(a.name.as_str());
        // An app that lands nowhere has that said of it (FG024), not each of its pins.
        if placed.is_empty() {
            continue;
        }
        let landed: BTreeSet<&str> = placed.iter().map(|p| p.cluster.value.upgrade_channel.as_str()).collect();
        for ring in a.rings.keys() {
            if landed.contains(ring.as_str()) || !rings.iter().any(|r| r.name == *ring) {
                continue;
            }
            let runs: Vec<String> = (rings.iter())
                .filter(|r| landed.contains(r.name.as_str()))
                .map(|r| r.name.to_string())
                .collect();
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    doc.key_label(&["application", "rings", ring.as_str()], "no cluster of this ring"),
                    format!(
                        "`{}` pins ring `{ring}`, but lands on no cluster of it (it runs in {}): the pin does nothing",
                        a.name,
                        crate::suggest::all(&runs)
                    ),
                )
                .with_help(format!(
                    "delete `application.rings.{ring}`, or place the app on a cluster of ring `{ring}`"
                ))
                .for_app(a.name.as_str()),
            );
        }
    }
}
