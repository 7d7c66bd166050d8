//! ## What it does
//! Flags a cluster without a `description` saying why it exists. (Its `purpose` and
//! `ownerTeam` are required fields; a cluster without them does not validate.)
//!
//! ## Why is this bad?
//! The review checklist of a multi-cluster platform asks that the reason for each cluster
//! be documented. Clusters are expensive and outlive the people who asked for them; a
//! cluster nobody can explain can be neither retired nor safely changed, and an auditor
//! reading `purpose: shared-apps` learns little about why there are three of them.
//!
//! ## Example
//! ```yaml
//! clusterId: aws-eu-west-1-prod-regulated-01
//! purpose: regulated
//! ownerTeam: platform-aws
//! ```
//!
//! ## Use instead
//! ```yaml
//! description: >-
//!   EU-regulated workloads that must stay in eu-west-1 under the data-residency policy;
//!   isolated from shared-apps clusters (ticket PLAT-1234).
//! ```

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;

rule!("FG123" "undocumented-cluster", "drift", Warning, Lint, "a cluster without a description of why it exists (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.clusters {
        let c = &doc.value;
        if c.description.as_deref().is_some_and(|d| !d.trim().is_empty()) {
            continue;
        }
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(&["purpose"], "no description beside it"),
                format!(
                    "cluster `{}` does not say why it exists (purpose `{}`, owner `{}`)",
                    c.cluster_id, c.purpose, c.owner_team
                ),
            )
            .with_help("add a `description:` with the reason for the cluster and who asked for it")
            .on_cluster(c.cluster_id.as_str()),
        );
    }
}
