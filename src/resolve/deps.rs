//! Synchronous dependencies (`dependsOn … call: sync`) order deployment (Flux `dependsOn`,
//! Argo CD sync waves), so they must not go round in a circle. Asynchronous ones do not
//! order anything.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, codes};
use crate::load::{Doc, Sources};
use crate::model::App;
use crate::model::app::CallKind;
use crate::resolve::plan::Placement;

pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let apps: BTreeMap<&str, &Doc<App>> = sources
        .apps
        .iter()
        .map(|d| (d.value.application.name.as_str(), d))
        .collect();
    // Depth-first search; a back edge closes a cycle. Each cycle is reported once, at the
    // app of the cycle whose name sorts first.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new(); // 1 on the stack, 2 done
    let mut reported: Vec<Vec<String>> = Vec::new();
    for start in apps.keys() {
        let mut stack: Vec<&str> = Vec::new();
        visit(start, &apps, &mut state, &mut stack, &mut |cycle: Vec<&str>| {
            let mut key: Vec<String> = cycle.iter().map(|s| s.to_string()).collect();
            key.sort();
            if reported.contains(&key) {
                return;
            }
            reported.push(key);
            // Rotate so the cycle starts at its first name.
            let first = cycle.iter().enumerate().min_by_key(|(_, n)| **n).map_or(0, |(i, _)| i);
            let ordered: Vec<&str> = cycle[first..].iter().chain(cycle[..first].iter()).copied().collect();
            let at = apps[ordered[0]];
            let next = ordered.get(1).copied().unwrap_or(ordered[0]);
            let index = at
                .value
                .depends_on
                .iter()
                .position(|d| d.service.as_str() == next && d.call == CallKind::Sync)
                .unwrap_or(0);
            let path: Vec<String> = ordered
                .iter()
                .chain(std::iter::once(&ordered[0]))
                .map(|n| format!("`{n}`"))
                .collect();
            let mut d = Diagnostic::error(
                codes::DEPENDENCY_CYCLE,
                &sources.files,
                at.item_field_label(&["dependsOn"], index, Some("service"), "starts the cycle"),
                format!("apps depend on each other in a cycle: {}", path.join(" → ")),
            )
            .with_help("break the cycle: one of these calls must not need the other app deployed first (make it `call: async`, or drop it from `dependsOn`)");
            for i in 1..ordered.len() {
                let (from, to) = (ordered[i], ordered[(i + 1) % ordered.len()]);
                let doc = apps[from];
                if let Some(j) = doc
                    .value
                    .depends_on
                    .iter()
                    .position(|d| d.service.as_str() == to && d.call == CallKind::Sync)
                {
                    d = d.with_secondary(doc.item_field_label(&["dependsOn"], j, Some("service"), "then this"));
                }
            }
            out.push(d);
        });
    }
}

/// A synchronous call waits for the answer, so the app it calls must take inbound traffic: a
/// port and, for an app of manifests, an exposure other than `none` (which renders no
/// Service to call it through, while the caller's NetworkPolicy would let it out to the
/// pods). A chart makes its Service whatever the exposure.
pub fn check_reachable(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let apps: BTreeMap<&str, &Doc<App>> = (sources.apps.iter())
        .map(|d| (d.value.application.name.as_str(), d))
        .collect();
    for caller in &sources.apps {
        for (i, dep) in caller.value.depends_on.iter().enumerate() {
            let name = dep.service.as_str();
            let Some(callee) = apps
                .get(name)
                .filter(|_| dep.call == CallKind::Sync && name != caller.value.application.name.as_str())
            else {
                continue;
            };
            let t = &callee.value.traffic;
            // A chart app's Service comes from the chart, whatever its exposure.
            let why = if t.exposure == crate::model::app::Exposure::None && callee.value.chart.is_none() {
                Some((
                    callee.label(&["traffic", "exposure"], "takes no inbound traffic"),
                    "`exposure: none`",
                ))
            } else if t.port.is_none() {
                Some((callee.label(&["traffic"], "no `port`"), "no `traffic.port`"))
            } else {
                None
            };
            let Some((at_callee, what)) = why else { continue };
            out.push(
                Diagnostic::error(
                    codes::UNREACHABLE_DEPENDENCY,
                    &sources.files,
                    caller.item_field_label(&["dependsOn"], i, Some("service"), "called synchronously"),
                    format!(
                        "`{}` calls `{name}` synchronously, but `{name}` has {what}: no Service to call it through",
                        caller.value.application.name
                    ),
                )
                .with_secondary(at_callee)
                .with_help(format!(
                    "give `{name}` a `traffic.port` and `exposure: internal` (a Service in the cluster), or make the call `async` (through a queue or event)"
                )),
            );
        }
    }
}

fn visit<'a>(
    app: &'a str,
    apps: &BTreeMap<&'a str, &'a Doc<App>>,
    state: &mut BTreeMap<&'a str, u8>,
    stack: &mut Vec<&'a str>,
    found: &mut dyn FnMut(Vec<&'a str>),
) {
    match state.get(app) {
        Some(2) => return,
        Some(1) => {
            if let Some(pos) = stack.iter().position(|s| *s == app) {
                found(stack[pos..].to_vec());
            }
            return;
        }
        _ => {}
    }
    let Some(doc) = apps.get(app) else { return };
    state.insert(app, 1);
    stack.push(app);
    for dep in doc.value.depends_on.iter().filter(|d| d.call == CallKind::Sync) {
        let name = dep.service.as_str();
        // Depending on oneself is reported by `references`.
        if name != app && apps.contains_key(name) {
            visit(name, apps, state, stack, found);
        }
    }
    stack.pop();
    state.insert(app, 2);
}

/// The apps `p` calls synchronously that are placed on the same cluster (`here`: every
/// placement of that cluster), by name: they are deployed first.
pub fn on_cluster(here: &[&Placement], p: &Placement) -> Vec<String> {
    let mut deps: Vec<String> = p
        .app
        .value
        .depends_on
        .iter()
        .filter(|d| d.call == CallKind::Sync)
        .map(|d| d.service.to_string())
        .filter(|d| d != p.app_name() && here.iter().any(|q| q.app_name() == d))
        .collect();
    deps.sort();
    deps.dedup();
    deps
}

#[cfg(test)]
mod tests {
    use crate::load::fixture;

    /// The FG028 findings of the base fleet, `api` (which `web` calls synchronously) with its
    /// `traffic:` block replaced by `traffic`, and `extra` appended to its contract.
    fn unreachable(traffic: &str, extra: &str) -> Vec<String> {
        let api = fixture::text("apps/api/app.yaml");
        let old = "traffic:\n  exposure: internal\n  routing: latency\n  failover: automatic\n  port: 8080\n";
        assert!(api.contains(old));
        let api = api.replace(old, traffic) + extra;
        let sources = fixture::sources(&[("apps/api/app.yaml", &api)]);
        let mut out = Vec::new();
        super::check_reachable(&sources, &mut out);
        out.iter().map(|d| d.message.clone()).collect()
    }

    #[test]
    fn a_sync_call_needs_a_service_to_call_through() {
        assert_eq!(
            unreachable(
                "traffic:\n  exposure: internal\n  routing: latency\n  failover: automatic\n  port: 8080\n",
                ""
            ),
            Vec::<String>::new()
        );
        let none = unreachable("traffic:\n  exposure: none\n  port: 8080\n", "");
        assert_eq!(none.len(), 1, "{none:?}");
        assert!(none[0].contains("`api` has `exposure: none`"), "{none:?}");
        // A chart makes its Service whatever the exposure.
        let chart = "chart:\n  repository: oci://registry.example.com/charts\n  name: api\n  version: \"1.0.0\"\n";
        assert_eq!(
            unreachable("traffic:\n  exposure: none\n  port: 8080\n", chart),
            Vec::<String>::new()
        );
        // Without a port, not even a chart's Service has one to call.
        let portless = unreachable("traffic:\n  exposure: none\n", chart);
        assert!(
            portless.len() == 1 && portless[0].contains("no `traffic.port`"),
            "{portless:?}"
        );
    }
}
