//! ## What it does
//! Flags a data write region (`data.writeRegions`) where the app has no active placement:
//! no cluster there that is selected, in rotation (`role: active`, not a standby), not
//! drained and not scaled down to zero (`switches.scaleDown`), in the app's highest
//! environment (prod over staging …, as FG104 and FG105 count): a region that only a
//! staging cluster serves still has no writer in prod.
//!
//! ## Why is this bad?
//! The contract says writes happen in that region, and the data layer is provisioned for it,
//! but nothing of the app runs there to take them: `cells`/`purposes` filtered the region's
//! clusters out, the only cluster is a standby, or the app is drained from it. Traffic for
//! that region's writes goes nowhere, or to a region the data mode does not expect.
//!
//! ## Example
//! ```yaml
//! placement: { environments: [prod], regions: [azure:eastus, azure:westeurope], purposes: [shared-apps] }
//! data: { mode: active-active, writeRegions: [azure:eastus, azure:westeurope], … }
//! # westeurope has only a `regulated` cluster
//! ```
//!
//! ## Use instead
//! Select an active cluster in every write region (widen `cells`/`purposes`, undrain), or
//! remove the region from `writeRegions` (and choose the data mode that is then true).

use crate::diag::Diagnostic;
use crate::lint::rule;
use crate::lint::{Context, region_of};
use crate::model::cluster::ClusterRole;

rule!("FG162" "write-region-unserved", "placement", Error, Lint, "a data write region where no active, undrained cluster runs the app (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let Some(data) = &app.data else { continue };
        let name = app.application.name.as_str();
        // Where its writes matter most: the highest environment it is deployed in.
        let Some(top) = ctx.active(name).map(|p| p.cluster.value.environment).max() else {
            continue;
        };
        for (i, w) in data.write_regions.iter().enumerate() {
            let region = w.to_string();
            if !app.placement.regions.contains(w) {
                continue; // FG026
            }
            let here: Vec<_> = (ctx.placements_of(name).iter())
                .filter(|p| region_of(p) == region && p.cluster.value.environment == top)
                .collect();
            if here.iter().any(|p| {
                p.drained.is_none() && p.scaled_down.is_none() && p.cluster.value.role == ClusterRole::Active
            }) {
                continue;
            }
            let why = if here.is_empty() {
                "its placement selects no cluster there".to_string()
            } else if here.iter().all(|p| p.drained.is_some()) {
                "it is drained from every cluster there".to_string()
            } else if here.iter().all(|p| p.drained.is_some() || p.scaled_down.is_some()) {
                "it is drained or scaled down to zero on every cluster there".to_string()
            } else {
                "the clusters there are standbys, drained or scaled down".to_string()
            };
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    doc.item_label(&["data", "writeRegions"], i, "writes here"),
                    format!("`{name}` writes its data in `{region}`, but no active {top} cluster there runs it: {why}"),
                )
                .with_secondary(doc.label(&["placement"], "selects the clusters"))
                .with_help("select an active cluster of the region (widen `cells`/`purposes`, undrain, or lift the scale-down), or remove it from `writeRegions`")
                .for_app(name),
            );
        }
    }
}
