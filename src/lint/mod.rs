//! Stage 3b, `lint`: rules over the whole resolved fleet — every contract against every
//! cluster, region and ring — not one object at a time.
//!
//! Organised like ruff: one rule per file in `rules/<family>/`, whose `//!` doc comment is
//! the rule's documentation, and the [`RULES`] table that gives each its stable code.

pub mod rules;

use std::collections::BTreeSet;

use crate::diag::{Code, Diagnostic, codes};
use crate::load::Sources;
use crate::resolve::plan::Plan;

/// What rules read.
pub struct Context<'a> {
    pub sources: &'a Sources,
    pub plan: &'a Plan<'a>,
}

impl Context<'_> {
    /// The `provider:region`s an app really lands in (active placements), sorted.
    pub fn served_regions(&self, app: &str) -> Vec<String> {
        let set: BTreeSet<String> = self
            .plan
            .placements
            .iter()
            .filter(|p| p.app_name() == app && p.drained.is_none())
            .map(|p| format!("{}:{}", p.cluster.value.provider, p.cluster.value.region))
            .collect();
        set.into_iter().collect()
    }
}

/// A rule: its code, its family, its documentation and its check.
pub struct Rule {
    pub code: &'static Code,
    pub family: &'static str,
    /// The rule file's source; its leading `//!` lines are the documentation.
    source: &'static str,
    pub check: fn(&Context, &mut Vec<Diagnostic>),
}

impl Rule {
    /// The rule's documentation, from its file's `//!` comment.
    pub fn doc(&self) -> String {
        doc_of(self.source)
    }
}

fn doc_of(source: &str) -> String {
    let mut out = String::new();
    for line in source.lines() {
        let Some(rest) = line.strip_prefix("//!") else { break };
        out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        out.push('\n');
    }
    out
}

macro_rules! rule {
    ($code:ident, $family:literal, $module:ident, $file:literal) => {
        Rule {
            code: codes::$code,
            family: $family,
            source: include_str!(concat!("rules/active_active/", $file)),
            check: rules::active_active::$module::check,
        }
    };
}

/// Every rule, in code order.
pub const RULES: &[Rule] = &[
    rule!(
        FAKE_ACTIVE_ACTIVE,
        "active-active",
        fake_active_active,
        "fake_active_active.rs"
    ),
    rule!(
        UNSAFE_MULTI_WRITER,
        "active-active",
        unsafe_multi_writer,
        "unsafe_multi_writer.rs"
    ),
    rule!(
        REGIONAL_WITHOUT_ROUTING_KEY,
        "active-active",
        regional_without_routing_key,
        "regional_without_routing_key.rs"
    ),
    rule!(
        FAILOVER_OVER_MANUAL_PROMOTION,
        "active-active",
        failover_over_manual_promotion,
        "failover_over_manual_promotion.rs"
    ),
    rule!(
        CRITICAL_SINGLE_REGION,
        "active-active",
        critical_single_region,
        "critical_single_region.rs"
    ),
    rule!(
        MULTI_REGION_CLAIM,
        "active-active",
        multi_region_claim,
        "multi_region_claim.rs"
    ),
];

/// Runs every rule.
pub fn run(sources: &Sources, plan: &Plan) -> Vec<Diagnostic> {
    let ctx = Context { sources, plan };
    let mut out = Vec::new();
    for rule in RULES {
        (rule.check)(&ctx, &mut out);
    }
    out
}

/// A rule by code (`FG100`) or name (`fake-active-active`).
pub fn find(key: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.code.id.eq_ignore_ascii_case(key) || r.code.name == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_documented_in_the_four_sections() {
        for rule in RULES {
            let doc = rule.doc();
            for section in ["## What it does", "## Why is this bad?", "## Example", "## Use instead"] {
                assert!(doc.contains(section), "{} lacks {section}", rule.code.id);
            }
            assert_eq!(codes::find(rule.code.id), Some(rule.code));
        }
    }
}
