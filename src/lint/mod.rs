//! Stage 3b, `lint`: rules over the whole resolved fleet — every contract against every
//! cluster, region and ring — not one object at a time.
//!
//! Organised like ruff: one rule per file in `rules/<family>/`, whose `//!` doc comment is
//! the rule's documentation, and the [`RULES`] table that gives each its stable code.

pub mod query;
pub mod rules;

use std::collections::{BTreeSet, HashMap};

use crate::diag::{Code, Diagnostic, Severity, codes};
use crate::emit::{RenderedObject, RenderedTree};
use crate::load::Sources;
use crate::model::fleet::LintLevel;
use crate::resolve::plan::{Placement, Plan};

/// What rules read: the sources, the resolved placements and the rendered objects.
pub struct Context<'a> {
    pub sources: &'a Sources,
    pub plan: &'a Plan<'a>,
    pub tree: &'a RenderedTree,
    /// (app, cluster) → the placement and its rendered objects.
    index: HashMap<(&'a str, &'a str), (&'a Placement<'a>, Vec<&'a RenderedObject>)>,
}

impl<'a> Context<'a> {
    pub fn new(sources: &'a Sources, plan: &'a Plan<'a>, tree: &'a RenderedTree) -> Self {
        let mut index: HashMap<(&str, &str), (&Placement, Vec<&RenderedObject>)> = plan
            .placements
            .iter()
            .map(|p| ((p.app_name(), p.cluster_id()), (p, Vec::new())))
            .collect();
        for o in &tree.objects {
            if let Some((_, objects)) = index.get_mut(&(o.app.as_str(), o.cluster.as_str())) {
                objects.push(o);
            }
        }
        Context {
            sources,
            plan,
            tree,
            index,
        }
    }

    /// The placement of `app` on `cluster`.
    pub fn placement(&self, app: &str, cluster: &str) -> Option<&'a Placement<'a>> {
        self.index.get(&(app, cluster)).map(|(p, _)| *p)
    }

    /// The `provider:region`s an app really lands in (active placements), sorted.
    pub fn served_regions(&self, app: &str) -> Vec<String> {
        let set: BTreeSet<String> = self.active(app).map(region_of).collect();
        set.into_iter().collect()
    }

    /// The placements of an app that run it (not drained).
    pub fn active<'p>(&'p self, app: &'p str) -> impl Iterator<Item = &'p Placement<'p>> + 'p {
        self.plan
            .placements
            .iter()
            .filter(move |p| p.app_name() == app && p.drained.is_none())
    }

    /// The rendered objects of one placement.
    pub fn objects<'s>(&'s self, p: &'s Placement) -> &'s [&'a RenderedObject] {
        self.index
            .get(&(p.app_name(), p.cluster_id()))
            .map_or(&[], |(_, objects)| objects.as_slice())
    }
}

/// `provider:region` of a placement's cluster.
pub fn region_of(p: &Placement) -> String {
    format!("{}:{}", p.cluster.value.provider, p.cluster.value.region)
}

/// When a rule runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// With every `fleetgen lint`.
    Lint,
    /// Already in `fleetgen validate` (and so in render and lint): the repository cannot be
    /// rendered while it fires, so it is not a lint-only finding.
    Validate,
}

impl Stage {
    /// The command that checks a rule of this stage.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Lint => "lint",
            Stage::Validate => "validate",
        }
    }
}

/// A rule: its code, its family, its documentation and its check.
pub struct Rule {
    pub code: &'static Code,
    pub family: &'static str,
    /// The severity unless fleet.yaml's `lint.severity` says otherwise.
    pub default: Severity,
    pub stage: Stage,
    /// The rule file's source; its leading `//!` lines are the documentation.
    source: &'static str,
    /// The check of a lint-stage rule (validate-stage rules are checked where validate
    /// resolves what they look at).
    pub check: Option<fn(&Context, &mut Vec<Diagnostic>)>,
}

impl Rule {
    /// The rule's documentation, from its file's `//!` comment.
    pub fn doc(&self) -> String {
        doc_of(self.source)
    }

    /// The documentation as `docs/rules/<code>.md` holds it.
    pub fn markdown(&self) -> String {
        let stage = match self.stage {
            Stage::Lint => "`fleetgen lint`",
            Stage::Validate => "`fleetgen validate`, `render` and `lint`",
        };
        format!(
            "<!-- Generated from src/lint/rules by `FLEETGEN_BLESS=1 cargo test --test lint`; edit the rule's doc comment. -->\n\
             # {} {}\n\n\
             Family: {} · default severity: {} · checked by {stage}\n\n{}",
            self.code.id,
            self.code.name,
            self.family,
            self.default.as_str(),
            self.doc()
        )
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
    ($code:ident, $family:literal, $dir:ident :: $module:ident, $default:ident) => {
        rule!(@ $code, $family, $dir::$module, $default, Lint, Some(rules::$dir::$module::check))
    };
    ($code:ident, $family:literal, $dir:ident :: $module:ident, $default:ident, Validate) => {
        rule!(@ $code, $family, $dir::$module, $default, Validate, None)
    };
    (@ $code:ident, $family:literal, $dir:ident :: $module:ident, $default:ident, $stage:ident, $check:expr) => {
        Rule {
            code: codes::$code,
            family: $family,
            default: Severity::$default,
            stage: Stage::$stage,
            source: include_str!(concat!("rules/", stringify!($dir), "/", stringify!($module), ".rs")),
            check: $check,
        }
    };
}

/// Every rule, in code order.
pub const RULES: &[Rule] = &[
    rule!(
        PROFILE_CONTRADICTION,
        "drift",
        drift::profile_contradiction,
        Error,
        Validate
    ),
    rule!(LABEL_VALUE, "labels", labels::label_value, Error, Validate),
    rule!(
        FAKE_ACTIVE_ACTIVE,
        "active-active",
        active_active::fake_active_active,
        Error
    ),
    rule!(
        UNSAFE_MULTI_WRITER,
        "active-active",
        active_active::unsafe_multi_writer,
        Error
    ),
    rule!(
        REGIONAL_WITHOUT_ROUTING_KEY,
        "active-active",
        active_active::regional_without_routing_key,
        Error
    ),
    rule!(
        FAILOVER_OVER_MANUAL_PROMOTION,
        "active-active",
        active_active::failover_over_manual_promotion,
        Error
    ),
    rule!(
        CRITICAL_SINGLE_REGION,
        "active-active",
        active_active::critical_single_region,
        Error
    ),
    rule!(
        MULTI_REGION_CLAIM,
        "active-active",
        active_active::multi_region_claim,
        Warning
    ),
    rule!(
        RPO_RTO_UNREACHABLE,
        "active-active",
        active_active::rpo_rto_unreachable,
        Error
    ),
    rule!(
        CROSS_REGION_SYNC_CALL,
        "active-active",
        active_active::cross_region_sync_call,
        Error
    ),
    rule!(
        REGISTRY_WITHOUT_REPLICA,
        "active-active",
        active_active::registry_without_replica,
        Error
    ),
    rule!(
        NO_REGIONAL_KEY_VAULT,
        "active-active",
        active_active::no_regional_key_vault,
        Error
    ),
    rule!(
        MISSING_TELEMETRY_LABEL,
        "labels",
        labels::missing_telemetry_label,
        Error
    ),
    rule!(
        MANAGED_LABEL_OVERRIDE,
        "labels",
        labels::managed_label_override,
        Warning
    ),
    rule!(RING_VERSION_SKEW, "drift", drift::ring_version_skew, Warning),
    rule!(LATER_RING_AHEAD, "drift", drift::later_ring_ahead, Error),
    rule!(
        REGION_WITHOUT_EARLIER_RING,
        "drift",
        drift::region_without_earlier_ring,
        Warning
    ),
    rule!(UNDOCUMENTED_CLUSTER, "drift", drift::undocumented_cluster, Warning),
    rule!(PDB_BLOCKS_EVICTION, "capacity", capacity::pdb_blocks_eviction, Error),
    rule!(
        REPLICAS_BELOW_PDB_MINIMUM,
        "capacity",
        capacity::replicas_below_pdb_minimum,
        Warning
    ),
    rule!(ZONE_SPREAD_SHORT, "capacity", capacity::zone_spread_short, Warning),
];

/// The level fleet.yaml sets for a rule, if it names it (by code or name).
fn configured(sources: &Sources, rule: &Rule) -> Option<LintLevel> {
    let fleet = &sources.fleet.as_ref()?.value;
    fleet
        .lint
        .severity
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(rule.code.id) || *k == rule.code.name)
        .map(|(_, level)| *level)
}

/// The severity of a rule's findings in this repository; `None` when turned off.
pub fn severity(sources: &Sources, rule: &Rule) -> Option<Severity> {
    match configured(sources, rule) {
        None => Some(rule.default),
        Some(LintLevel::Error) => Some(Severity::Error),
        Some(LintLevel::Warning) => Some(Severity::Warning),
        Some(LintLevel::Off) => None,
    }
}

/// Runs every lint-stage rule, at the severity the repository gives it. Validate-stage
/// rules have run already; their findings get the configured severity in [`adjust`].
pub fn run(sources: &Sources, plan: &Plan, tree: &RenderedTree) -> Vec<Diagnostic> {
    let ctx = Context::new(sources, plan, tree);
    let mut out = Vec::new();
    for rule in RULES {
        let (Some(check), Some(level)) = (rule.check, severity(sources, rule)) else {
            continue;
        };
        let mut found = Vec::new();
        check(&ctx, &mut found);
        out.extend(found.into_iter().map(|mut d| {
            d.severity = level;
            name_subject(sources, &mut d);
            d
        }));
    }
    out
}

/// A finding located in an app's contract is about that app, one in a cluster's file
/// about that cluster (for the `app` and `cluster` fields of JSON and SARIF).
fn name_subject(sources: &Sources, d: &mut Diagnostic) {
    if d.app.is_some() || d.cluster.is_some() {
        return;
    }
    let Some(file) = d.primary.as_ref().map(|l| l.file) else {
        return;
    };
    if let Some(app) = sources.apps.iter().find(|a| a.file == file) {
        d.app = Some(app.value.application.name.to_string());
    } else if let Some(c) = sources.clusters.iter().find(|c| c.file == file) {
        d.cluster = Some(c.value.cluster_id.to_string());
    }
}

/// Applies fleet.yaml's levels to the findings of validate-stage rules.
pub fn adjust(sources: &Sources, diagnostics: &mut Vec<Diagnostic>) {
    for rule in RULES.iter().filter(|r| r.stage == Stage::Validate) {
        if configured(sources, rule).is_none() {
            continue;
        }
        let level = severity(sources, rule);
        diagnostics.retain_mut(|d| {
            if d.code != rule.code {
                return true;
            }
            match level {
                Some(s) => {
                    d.severity = s;
                    true
                }
                None => false,
            }
        });
    }
}

/// fleet.yaml's `lint.severity` names rules that exist.
pub fn check_config(sources: &Sources) -> Vec<Diagnostic> {
    let Some(fleet) = &sources.fleet else { return Vec::new() };
    let mut out = Vec::new();
    for key in fleet.value.lint.severity.keys() {
        if find(key).is_some() {
            continue;
        }
        let names = RULES.iter().map(|r| r.code.name);
        let hint = match crate::suggest::closest(key, names) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "`fleetgen rules` lists them".to_string(),
        };
        out.push(
            Diagnostic::error(
                codes::UNKNOWN_REFERENCE,
                &sources.files,
                fleet.key_label(&["lint", "severity", key.as_str()], "no such rule"),
                format!("`lint.severity` names `{key}`, which is not a lint rule"),
            )
            .with_help(hint),
        );
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
    fn rules_are_in_code_order_and_lint_rules_have_a_check() {
        for pair in RULES.windows(2) {
            assert!(
                pair[0].code.id < pair[1].code.id,
                "{} before {}",
                pair[0].code.id,
                pair[1].code.id
            );
        }
        for rule in RULES {
            assert_eq!(rule.check.is_some(), rule.stage == Stage::Lint, "{}", rule.code.id);
        }
    }

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
