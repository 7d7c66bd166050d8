//! ## What it does
//! Flags a cluster whose upgrade registry names a next upgrade window (`upgrade.nextWindow`)
//! on a day before today: the registry says an upgrade is planned on a day that is gone (on
//! the window's own day it is still the next one).
//!
//! ## Why is this bad?
//! The registry is what the platform team plans rings and change freezes from. A window in
//! the past means either the upgrade happened and the registry was not updated (the
//! `kubernetesVersion` may be stale too), or it did not happen and nobody planned the next.
//!
//! ## Example
//! ```yaml
//! # today 2026-12-02
//! upgrade: { nextWindow: "2026-11-10", risk: ok }
//! ```
//!
//! ## Use instead
//! After the window, record what it did (`kubernetesVersion`, add-ons) and the next window.

use crate::clock::parse_date;
use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;

rule!("FG128" "upgrade-window-past", "drift", Warning, Lint, "a cluster whose next upgrade window (`upgrade.nextWindow`) is in the past (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let today = ctx.sources.today;
    for doc in &ctx.sources.clusters {
        let c = &doc.value;
        let Some(window) = c.upgrade.as_ref().and_then(|u| u.next_window.as_deref()) else {
            continue;
        };
        // A day that does not exist is FG012, from validate.
        let Some(day) = parse_date(window) else { continue };
        if day >= today {
            continue;
        }
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(&["upgrade", "nextWindow"], format!("{} days ago", today - day)),
                format!("the next upgrade window of cluster `{}` was {window}", c.cluster_id),
            )
            .with_help("record what the window did (kubernetesVersion, add-ons), then the next window")
            .on_cluster(c.cluster_id.as_str()),
        );
    }
}
