//! ## What it does
//! Refuses a cluster an app lands on whose region is outside the app's data residency:
//! `placement.residency` names jurisdictions, fleet.yaml's `jurisdictions` table says which
//! jurisdiction each `provider:region` is under, and every cluster the app lands on (standby
//! clusters included: the data is copied there) must be in one of the named jurisdictions. A
//! residency naming a jurisdiction no region of the table is in is refused too.
//!
//! ## Why is this bad?
//! "EU-only" data placed in an EU and a US region is a compliance breach that nothing else in
//! the contract shows: the routing, data mode and replicas all look healthy. Residency must be
//! checked where placement is decided, before anything is rendered.
//!
//! ## Example
//! ```yaml
//! # fleet.yaml: jurisdictions: { azure:westeurope: eu, azure:eastus: us }
//! placement: { environments: [prod], regions: [azure:westeurope, azure:eastus], residency: [eu] }
//! ```
//!
//! ## Use instead
//! Place the app only in regions of its jurisdictions (`regions: [azure:westeurope,
//! aws:eu-west-1]`), or, if the data may legally live there, add the jurisdiction to
//! `residency`.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::Diagnostic;
use crate::lint::query::and_list;
use crate::lint::rule;
use crate::load::Sources;
use crate::resolve::placement::selects;

rule!("FG160" "residency-violation", "placement", Error, Validate, "an app lands on a cluster outside its data residency");

pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let Some(fleet) = &sources.fleet else { return };
    let table = &fleet.value.jurisdictions;
    let known: BTreeSet<&str> = table.values().map(|j| j.as_str()).collect();
    for doc in &sources.apps {
        let app = &doc.value;
        let residency = &app.placement.residency;
        if residency.is_empty() {
            continue;
        }
        let name = app.application.name.as_str();
        for (i, j) in residency.iter().enumerate() {
            if !known.contains(j.as_str()) {
                let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
                out.push(
                    Diagnostic::error(
                        &RULE.code,
                        &sources.files,
                        doc.item_label(&["placement", "residency"], i, "no region is in this jurisdiction"),
                        format!("`{name}` keeps its data in jurisdiction `{j}`, but fleet.yaml's `jurisdictions` puts no region in it"),
                    )
                    .with_help(if list.is_empty() {
                        "add a `jurisdictions` table to fleet.yaml: `provider:region: jurisdiction`".to_string()
                    } else {
                        format!("the table's jurisdictions are {}", and_list(&list))
                    })
                    .for_app(name),
                );
            }
        }
        // provider:region → the clusters of it the app lands on.
        let mut outside: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for c in sources.clusters.iter().map(|d| &d.value).filter(|c| selects(app, c)) {
            let region = format!("{}:{}", c.provider, c.region);
            let inside = fleet
                .value
                .jurisdiction_of(&region)
                .is_some_and(|j| residency.contains(j));
            if !inside {
                outside.entry(region).or_default().insert(c.cluster_id.to_string());
            }
        }
        for (region, clusters) in outside {
            let Some(i) = app.placement.regions.iter().position(|r| r.to_string() == region) else {
                continue;
            };
            let within = and_list(&residency.iter().map(|j| format!("`{j}`")).collect::<Vec<_>>());
            let listed: Vec<String> = clusters.iter().map(|c| format!("`{c}`")).collect();
            let jurisdiction = fleet.value.jurisdiction_of(&region);
            let (at, why) = match jurisdiction {
                Some(j) => (format!("jurisdiction `{j}`"), format!("`{region}` is in jurisdiction `{j}`")),
                None => (
                    "in no jurisdiction".to_string(),
                    format!("fleet.yaml's `jurisdictions` does not name `{region}`"),
                ),
            };
            let mut d = Diagnostic::error(
                &RULE.code,
                &sources.files,
                doc.item_label(&["placement", "regions"], i, at),
                format!(
                    "`{name}` must keep its data in {within}, but it lands on {} in `{region}`: {why}",
                    and_list(&listed)
                ),
            );
            if let Some(j) = jurisdiction {
                d = d.with_secondary(fleet.key_label(&["jurisdictions", region.as_str()], format!("`{j}`")));
            }
            out.push(
                d.with_secondary(doc.label(&["placement", "residency"], "the app's residency"))
                    .with_help(format!(
                        "remove `{region}` from `placement.regions`, or add its jurisdiction to `residency` if the data may live there"
                    ))
                    .for_app(name),
            );
        }
    }
}
