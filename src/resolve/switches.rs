//! Kill switches: each one that is on is a warning carrying its reason, and each names a
//! cluster the app really lands on.

use crate::diag::{Diagnostic, Label, codes};
use crate::load::Sources;
use crate::suggest;

use super::placement::selects;

/// Whose hand stopped an app's sync on a cluster, with the reason given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoppedBy<'a> {
    /// The cluster's `gitops.suspend` (every app on it).
    Cluster(&'a str),
    /// The app's `gitops.suspend` (everywhere, or on this cluster).
    App(&'a str),
}

/// The sync of `app` on `cluster` stopped by hand (`gitops.suspend` of the cluster, else of
/// the app). What the plan marks suspended, and what would keep a scale-down or a drain from
/// the cluster (a freeze gives way to both).
pub fn stopped_by_hand<'a>(app: &'a crate::model::App, cluster: &'a crate::model::Cluster) -> Option<StoppedBy<'a>> {
    let by_app = || {
        (app.gitops.suspend.as_ref())
            .filter(|s| s.clusters.is_empty() || s.clusters.contains(&cluster.cluster_id))
            .map(|s| StoppedBy::App(s.reason.as_str()))
    };
    (cluster.gitops.suspend.as_ref())
        .map(|s| StoppedBy::Cluster(s.reason.as_str()))
        .or_else(by_app)
}

pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let files = &sources.files;
    for c in &sources.clusters {
        if let Some(switch) = &c.value.gitops.suspend {
            out.push(
                Diagnostic::error(
                    codes::KILL_SWITCH,
                    files,
                    c.label(&["gitops", "suspend"], "kill switch on"),
                    format!(
                        "GitOps sync of every app on cluster `{}` is suspended: {}",
                        c.value.cluster_id, switch.reason
                    ),
                )
                .with_help("remove `gitops.suspend` from the cluster to resume sync")
                .warning(),
            );
        }
    }
    let clusters: Vec<&str> = sources.clusters.iter().map(|c| c.value.cluster_id.as_str()).collect();
    for doc in &sources.apps {
        let app = &doc.value;
        let name = app.application.name.as_str();
        // A named cluster must exist and be one the app lands on.
        let target = |cluster: &str, label: Label, out: &mut Vec<Diagnostic>| -> bool {
            if sources.any_failed(crate::layout::Kind::Cluster) {
                return true; // the broken cluster file has its own error
            }
            let Some(c) = sources.clusters.iter().find(|c| c.value.cluster_id == *cluster) else {
                let help = match suggest::closest(cluster, clusters.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "name a cluster of clusters/".to_string(),
                };
                out.push(
                    Diagnostic::error(
                        codes::KILL_SWITCH_TARGET,
                        files,
                        label,
                        format!("no cluster `{cluster}`"),
                    )
                    .with_help(help),
                );
                return false;
            };
            if !selects(app, &c.value) {
                out.push(
                    Diagnostic::error(
                        codes::KILL_SWITCH_TARGET,
                        files,
                        label,
                        format!("`{name}` does not land on cluster `{cluster}`, so this switch does nothing"),
                    )
                    .with_help("a kill switch names a cluster of the app's placement"),
                );
                return false;
            }
            true
        };
        if let Some(s) = &app.gitops.suspend {
            let mut ok = true;
            for (i, c) in s.clusters.iter().enumerate() {
                let label = doc.item_label(&["gitops", "suspend", "clusters"], i, "not a cluster of this app");
                ok &= target(c.as_str(), label, out);
            }
            if ok {
                let on = if s.clusters.is_empty() {
                    "everywhere".to_string()
                } else {
                    format!(
                        "on {}",
                        suggest::all(&s.clusters.iter().map(|c| c.to_string()).collect::<Vec<_>>())
                    )
                };
                out.push(
                    Diagnostic::error(
                        codes::KILL_SWITCH,
                        files,
                        doc.label(&["gitops", "suspend"], "kill switch on"),
                        format!("GitOps sync of `{name}` is suspended {on}: {}", s.reason),
                    )
                    .with_help("remove `gitops.suspend` to resume sync")
                    .warning(),
                );
            }
        }
        for (i, d) in app.gitops.drain.iter().enumerate() {
            let label = doc.item_field_label(&["gitops", "drain"], i, Some("cluster"), "not a cluster of this app");
            if !target(d.cluster.as_str(), label, out) {
                continue;
            }
            // A sync stopped by hand would keep the drain from the cluster (a freeze gives
            // way to it), while the placement matrix and the traffic layer call it drained.
            let stopped = (sources.clusters.iter())
                .find(|c| c.value.cluster_id == d.cluster)
                .and_then(|c| stopped_by_hand(app, &c.value));
            if let Some(stopped) = stopped {
                let whose = match stopped {
                    StoppedBy::Cluster(_) => "the cluster's",
                    StoppedBy::App(_) => "the app's",
                };
                out.push(
                    Diagnostic::error(
                        codes::KILL_SWITCH_TARGET,
                        files,
                        doc.item_field_label(&["gitops", "drain"], i, Some("cluster"), "sync suspended here"),
                        format!(
                            "sync of `{name}` on cluster `{}` is suspended ({whose} `gitops.suspend`), so the drain would not reach it",
                            d.cluster
                        ),
                    )
                    .with_help("lift `gitops.suspend` while the drain holds"),
                );
            } else {
                out.push(
                    Diagnostic::error(
                        codes::KILL_SWITCH,
                        files,
                        doc.item_label(&["gitops", "drain"], i, "kill switch on"),
                        format!("`{name}` is drained from cluster `{}`: {}", d.cluster, d.reason),
                    )
                    .with_help("its workload and route are removed there; its namespace stays. Remove the entry to bring it back")
                    .warning(),
                );
            }
        }
    }
}
