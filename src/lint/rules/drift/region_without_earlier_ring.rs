//! ## What it does
//! Flags a region (`provider:region`) with prod clusters that serve traffic but no cluster
//! in a ring before the last of them: no cluster of the region meets a change before the
//! region's prod clusters all do. One cluster of the region in an earlier ring (a sandbox,
//! a staging cluster, or a prod cluster in a `prod-early` ring) is the region's early
//! warning. Standby clusters, which take no traffic until a failover, are not counted as
//! serving prod, but one in an earlier ring counts as the region's early cluster.
//!
//! ## Why is this bad?
//! Much of what breaks in an upgrade is regional: a quota, an API version, a zone, a
//! managed add-on rolled out region by region by the cloud. When no cluster in the region
//! is in an earlier ring, the region's first cluster to meet a change is one serving
//! customers, and every prod cluster in it meets the change at the same time.
//!
//! ## Example
//! ```yaml
//! # rings: [sandbox, staging, prod-early, prod]; the only clusters in aws:eu-west-1:
//! clusters/aws-eu-west-1-prod-platform-01.yaml:  { environment: prod, upgradeChannel: prod }
//! clusters/aws-eu-west-1-prod-regulated-01.yaml: { environment: prod, upgradeChannel: prod }
//! ```
//!
//! ## Use instead
//! Put one cluster of the region in an earlier ring (`upgradeChannel: prod-early` on
//! `aws-eu-west-1-prod-platform-01`), or add a staging cluster in the region.

use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::load::Doc;
use crate::model::cluster::ClusterRole;
use crate::model::{Cluster, Environment};
use crate::lint::rule;

rule!("FG122" "region-without-earlier-ring", "drift", Warning, Lint, "a region whose prod clusters are the first there to meet every change (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let rings = &ctx.plan.fleet.value.rings;
    let ring_of = |c: &Cluster| rings.iter().position(|r| r.name == c.upgrade_channel);
    let mut regions: BTreeMap<String, Vec<&Doc<Cluster>>> = BTreeMap::new();
    for doc in &ctx.sources.clusters {
        regions
            .entry(format!("{}:{}", doc.value.provider, doc.value.region))
            .or_default()
            .push(doc);
    }
    for (region, members) in regions {
        let serving: Vec<&Doc<Cluster>> = members
            .iter()
            .copied()
            .filter(|d| d.value.environment == Environment::Prod && d.value.role == ClusterRole::Active)
            .collect();
        let Some(last_prod) = serving.iter().filter_map(|d| ring_of(&d.value)).max() else {
            continue;
        };
        if members.iter().any(|d| ring_of(&d.value).is_some_and(|r| r < last_prod)) {
            continue;
        }
        let Some(first) = serving.iter().find(|d| ring_of(&d.value) == Some(last_prod)) else {
            continue;
        };
        let mut d = Diagnostic::error(
            &RULE.code,
            &ctx.sources.files,
            first.label(&["upgradeChannel"], "nothing in the region before this ring"),
            format!(
                "no cluster in {region} is in a ring before `{}`: its prod clusters are the first there to meet every change",
                rings[last_prod].name
            ),
        )
        .with_help(format!(
            "move one cluster in {region} to an earlier ring than `{}`, or add a non-prod cluster there",
            rings[last_prod].name
        ))
        .on_cluster(first.value.cluster_id.as_str());
        for other in serving.iter().filter(|o| o.value.cluster_id != first.value.cluster_id) {
            d = d.with_secondary(other.label(&["upgradeChannel"], "also prod here"));
        }
        out.push(d);
    }
}
