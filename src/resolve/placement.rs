//! A contract's placement must land somewhere: every region and environment it names is
//! served by a cluster, the selectors together match at least one cluster, and data is
//! written only where the app runs.

use crate::diag::{Diagnostic, codes};
use crate::load::Sources;
use crate::model::cluster::ClusterRole;
use crate::model::{App, Cluster};
use crate::suggest;

/// Whether a contract's placement selects a cluster.
pub fn selects(app: &App, cluster: &Cluster) -> bool {
    let p = &app.placement;
    p.environments.contains(&cluster.environment)
        && p.regions
            .iter()
            .any(|r| r.provider == cluster.provider && r.region == cluster.region)
        && (p.cells.is_empty() || cluster.cell.as_ref().is_some_and(|c| p.cells.contains(c)))
        && (p.purposes.is_empty() || p.purposes.contains(&cluster.purpose))
}

/// A `maxReplicasPerRegion` below the minimum it goes with: a contract's (against its own
/// minimum, fleet.yaml's default, or fleetgen's), or fleet.yaml's default (against its
/// default minimum). The autoscaler would get the minimum as its maximum, so the number
/// written would mean nothing.
pub fn check_replica_bounds(sources: &Sources, out: &mut Vec<Diagnostic>) {
    use crate::diag::Label;
    let below = |max: u32, min: u32, at: Label, min_at: Option<Label>, whose: &str| {
        let d = Diagnostic::error(
            codes::INVALID_VALUE,
            &sources.files,
            at,
            format!("{whose}`maxReplicasPerRegion` ({max}) is below its `minReplicasPerRegion` ({min}): the autoscaler cannot run fewer than the minimum"),
        )
        .with_help(format!("raise `maxReplicasPerRegion` to {min} or more, or lower the minimum"));
        match min_at {
            Some(min_at) => d.with_secondary(min_at),
            None => d,
        }
    };
    let fleet = sources.fleet.as_ref();
    let defaults = fleet.map(|f| &f.value.defaults.runtime);
    let default_min = fleet.and_then(|f| {
        let min = f.value.defaults.runtime.min_replicas_per_region.as_ref()?;
        Some((
            min.0,
            f.label(&["defaults", "runtime", "minReplicasPerRegion"], "the minimum"),
        ))
    });
    if let (Some(f), Some(max), Some((min, min_at))) = (
        fleet,
        defaults.and_then(|d| d.max_replicas_per_region.as_ref()),
        default_min.clone(),
    ) && max.0 < min
    {
        let at = f.label(&["defaults", "runtime", "maxReplicasPerRegion"], "below the minimum");
        out.push(below(max.0, min, at, Some(min_at), "fleet.yaml's default "));
    }
    for doc in &sources.apps {
        let rt = &doc.value.runtime;
        let Some(max) = &rt.max_replicas_per_region else {
            continue;
        };
        let (min, min_at) = match (&rt.min_replicas_per_region, &default_min) {
            (Some(min), _) => (
                min.0,
                Some(doc.label(&["runtime", "minReplicasPerRegion"], "the minimum")),
            ),
            (None, Some((min, at))) => (*min, Some(at.clone())),
            (None, None) => (super::plan::DEFAULT_MIN_REPLICAS, None),
        };
        if max.0 < min {
            let at = doc.label(&["runtime", "maxReplicasPerRegion"], "below the minimum");
            out.push(below(
                max.0,
                min,
                at,
                min_at,
                &format!("`{}`'s ", doc.value.application.name),
            ));
        }
    }
}

pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    // Without every cluster, "no cluster serves this" cannot be told; the broken cluster
    // file has its own error.
    if sources.any_failed(crate::layout::Kind::Cluster) {
        return;
    }
    let map = &sources.files;
    let clusters: Vec<&Cluster> = sources.clusters.iter().map(|d| &d.value).collect();
    let served: Vec<String> = {
        let mut s: Vec<String> = clusters
            .iter()
            .map(|c| format!("{}:{}", c.provider, c.region))
            .collect();
        s.sort();
        s.dedup();
        s
    };
    for doc in &sources.apps {
        let app = &doc.value;
        let p = &app.placement;
        let mut complete = true;
        for (i, region) in p.regions.iter().enumerate() {
            let region_name = region.to_string();
            if !served.contains(&region_name) {
                complete = false;
                let help = match suggest::closest(&region_name, served.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("clusters serve {}", suggest::list(&served)),
                };
                out.push(
                    Diagnostic::error(
                        codes::UNSERVED_PLACEMENT,
                        map,
                        doc.item_label(&["placement", "regions"], i, "no cluster in this region"),
                        format!("no cluster serves region `{region}`"),
                    )
                    .with_help(help),
                );
            }
        }
        for (i, env) in p.environments.iter().enumerate() {
            if !clusters.iter().any(|c| c.environment == *env) {
                complete = false;
                out.push(Diagnostic::error(
                    codes::UNSERVED_PLACEMENT,
                    map,
                    doc.item_label(&["placement", "environments"], i, "no cluster in this environment"),
                    format!("no cluster serves environment `{env}`"),
                ));
            }
        }
        // Each part is served, but perhaps never together (say, prod only in regions the app skips).
        if complete
            && !clusters
                .iter()
                .any(|c| selects(app, c) && c.role == ClusterRole::Active)
        {
            out.push(
                Diagnostic::error(
                    codes::UNSERVED_PLACEMENT,
                    map,
                    doc.label(&["placement"], "selects no active cluster"),
                    format!("the placement of `{}` selects no active cluster", app.application.name),
                )
                .with_help("no cluster has one of these environments, one of these regions and the cells and purposes asked for"),
            );
        }
        if let Some(data) = &app.data {
            for (i, region) in data.write_regions.iter().enumerate() {
                if !p.regions.contains(region) {
                    out.push(
                        Diagnostic::error(
                            codes::WRITE_REGION_NOT_PLACED,
                            map,
                            doc.item_label(&["data", "writeRegions"], i, "the app does not run here"),
                            format!("write region `{region}` is not in `placement.regions`"),
                        )
                        .with_secondary(doc.label(&["placement", "regions"], "the app runs in these regions")),
                    );
                }
            }
        }
    }
}
