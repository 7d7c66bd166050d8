//! A contract's placement must land somewhere: every region and environment it names is
//! served by a cluster, the selectors together match at least one cluster, and data is
//! written only where the app runs.

use crate::diag::{Diagnostic, codes};
use crate::load::{Doc, Sources};
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

/// One of cpu or memory of an app's requests or limits as its placements take it (the
/// contract's, else fleet.yaml's default, as `plan::Runtime` picks it), with a label at the
/// line it came from.
struct Resource<'s> {
    value: &'s str,
    at: crate::diag::Label,
    from_app: bool,
}

/// `field` (`cpu` or `memory`) of a requests or limits list.
fn quantity<'s>(list: Option<&'s crate::model::app::ResourceList>, field: &str) -> Option<&'s str> {
    let list = list?;
    match field {
        "cpu" => list.cpu.as_deref(),
        _ => list.memory.as_deref(),
    }
}

/// The app's `which` (`requests` or `limits`) `field`, else fleet.yaml's default, labelled
/// `text`.
fn resource<'s>(sources: &'s Sources, app: &'s Doc<App>, which: &str, field: &str, text: &str) -> Option<Resource<'s>> {
    let of = |spec: Option<&'s crate::model::app::ResourceSpec>| {
        let spec = spec?;
        quantity(
            if which == "requests" {
                spec.requests.as_ref()
            } else {
                spec.limits.as_ref()
            },
            field,
        )
    };
    if let Some(value) = of(app.value.runtime.resources.as_ref()) {
        return Some(Resource {
            value,
            at: app.label(&["runtime", "resources", which, field], text),
            from_app: true,
        });
    }
    let fleet = sources.fleet.as_ref()?;
    of(fleet.value.defaults.runtime.resources.as_ref()).map(|value| Resource {
        value,
        at: fleet.label(&["defaults", "runtime", "resources", which, field], text),
        from_app: false,
    })
}

/// A request above its limit (cpu or memory, each from the contract else fleet.yaml's
/// defaults, as the placements take them): the API server refuses the Deployment (`must be
/// less than or equal to cpu limit`, ValidateResourceRequirements), so the app's sync fails
/// on every cluster. Reported once at fleet.yaml when both are its defaults, else once per
/// contract that sets either, at the contract's line (the request, or the limit it lowers).
pub fn check_resources(sources: &Sources, out: &mut Vec<Diagnostic>) {
    use crate::kube::quantity::Quantity;
    let mut above = |field: &str, whose: &str, request: Resource, limit: Resource| {
        let (Some(r), Some(l)) = (Quantity::parse(request.value), Quantity::parse(limit.value)) else {
            return;
        };
        if r <= l {
            return;
        }
        let message = format!(
            "{whose}{field} request ({}) is above its {field} limit ({}): the API server refuses a Deployment whose request exceeds its limit",
            request.value, limit.value
        );
        let help = format!(
            "lower the {field} request to {} or less, or raise the limit",
            limit.value
        );
        // At the contract's line when the contract sets only the limit.
        let (primary, secondary) = match (request.from_app, limit.from_app) {
            (false, true) => (limit.at, request.at),
            _ => (request.at, limit.at),
        };
        out.push(
            Diagnostic::error(codes::INVALID_VALUE, &sources.files, primary, message)
                .with_secondary(secondary)
                .with_help(help),
        );
    };
    for field in ["cpu", "memory"] {
        if let Some(fleet) = sources.fleet.as_ref()
            && let Some(defaults) = fleet.value.defaults.runtime.resources.as_ref()
            && let (Some(request), Some(limit)) = (
                quantity(defaults.requests.as_ref(), field),
                quantity(defaults.limits.as_ref(), field),
            )
        {
            let at = |which: &str, text: &str| fleet.label(&["defaults", "runtime", "resources", which, field], text);
            let request = Resource {
                value: request,
                at: at("requests", "the default request"),
                from_app: false,
            };
            let limit = Resource {
                value: limit,
                at: at("limits", "the default limit"),
                from_app: false,
            };
            above(field, "fleet.yaml's default ", request, limit);
        }
        for app in &sources.apps {
            let (Some(request), Some(limit)) = (
                resource(sources, app, "requests", field, "the request"),
                resource(sources, app, "limits", field, "the limit"),
            ) else {
                continue;
            };
            if request.from_app || limit.from_app {
                above(field, &format!("`{}`'s ", app.value.application.name), request, limit);
            }
        }
    }
}

/// A manifest app with neither a cpu request nor a cpu limit (contract or fleet.yaml's
/// defaults; a limit alone becomes the request by the API's defaulting): the built-in
/// HorizontalPodAutoscaler targets cpu utilization, a percentage of the request, and the HPA
/// controller reports `missing request for cpu` and never scales, so the replica counts
/// (and a standby's growth into the primary's load) mean nothing. Only where the built-in
/// Deployment and HPA templates render the app (a template of the repository's may scale on
/// something else, or set the request itself); a chart's values may set the request.
pub fn check_autoscaled_cpu(sources: &Sources, out: &mut Vec<Diagnostic>) {
    // Without fleet.yaml (its own error), its defaults are not known.
    let Some(fleet) = sources.fleet.as_ref() else {
        return;
    };
    let builtin = |app: &str, name: &str| {
        let used = (sources.templates.iter())
            .find(|t| t.name == name && t.app.as_deref() == Some(app))
            .or_else(|| sources.templates.iter().find(|t| t.name == name && t.app.is_none()));
        used.is_some_and(|t| (sources.files.get(t.file).path).starts_with(&crate::load::builtin::display_path("")))
    };
    for app in &sources.apps {
        let name = app.value.application.name.as_str();
        if app.value.chart.is_some()
            || !builtin(name, "deployment.yaml.j2")
            || !builtin(name, "horizontalpodautoscaler.yaml.j2")
            || resource(sources, app, "requests", "cpu", "").is_some()
            || resource(sources, app, "limits", "cpu", "").is_some()
        {
            continue;
        }
        let runtime = app.node.entry("runtime").is_some();
        let primary = match (app.value.runtime.resources.is_some(), runtime) {
            (true, _) => app.label(&["runtime", "resources"], "no cpu request or limit"),
            (false, true) => app.key_label(&["runtime"], "no cpu request or limit"),
            (false, false) => app.label(&["application", "name"], "no cpu request or limit"),
        };
        let mut d = Diagnostic::error(
            codes::INVALID_VALUE,
            &sources.files,
            primary,
            format!(
                "`{name}` has no cpu request or limit, but its HorizontalPodAutoscaler scales on cpu utilization, a share of the request: the autoscaler cannot compute it and never scales"
            ),
        )
        .with_help("set `runtime.resources.requests.cpu` in the contract, or in fleet.yaml's `defaults.runtime.resources` for every app");
        if fleet.value.defaults.runtime.resources.is_some() {
            d = d.with_secondary(fleet.label(&["defaults", "runtime", "resources"], "the defaults give none"));
        }
        out.push(d);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::fixture;

    /// FG012s of [`check_resources`]: (message, primary `path:line`, secondary paths).
    fn resource_errors(overlay: &[(&str, &str)]) -> Vec<(String, String, Vec<String>)> {
        let sources = fixture::sources(overlay);
        let mut out = Vec::new();
        check_resources(&sources, &mut out);
        let at = |l: &crate::diag::Label| {
            let f = sources.files.get(l.file);
            format!("{}:{}", f.path, f.line_col(l.span.start).0)
        };
        out.iter()
            .map(|d| {
                assert_eq!(d.code.id, "FG012");
                let primary = at(d.primary.as_ref().expect("a located error"));
                (d.message.clone(), primary, d.secondary.iter().map(at).collect())
            })
            .collect()
    }

    fn api_with_resources(resources: &str) -> String {
        fixture::text("apps/api/app.yaml").replace(
            "  minReplicasPerRegion: 3\n",
            &format!("  minReplicasPerRegion: 3\n  resources:\n{resources}"),
        )
    }

    /// The API server refuses a container whose request is above its limit; a request equal
    /// to its limit, however spelt, is fine.
    #[test]
    fn a_request_above_its_limit_is_refused_at_the_contract() {
        // The contract's request against fleet.yaml's default limit (512Mi).
        let api = api_with_resources("    requests:\n      memory: 1Gi\n");
        let found = resource_errors(&[("apps/api/app.yaml", &api)]);
        assert_eq!(found.len(), 1, "{found:?}");
        let (message, primary, secondary) = &found[0];
        assert!(
            message.starts_with("`api`'s memory request (1Gi) is above its memory limit (512Mi)"),
            "{message}"
        );
        assert!(primary.starts_with("apps/api/app.yaml:"), "{primary}");
        assert!(secondary[0].starts_with("fleet.yaml:"), "{secondary:?}");
        // Both in the contract.
        let api = api_with_resources("    requests:\n      cpu: 1500m\n    limits:\n      cpu: \"1\"\n");
        let found = resource_errors(&[("apps/api/app.yaml", &api)]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].2[0].starts_with("apps/api/app.yaml:"), "{found:?}");
        // A limit the contract lowers below fleet.yaml's default request (100m): at the limit.
        let api = api_with_resources("    limits:\n      cpu: 50m\n");
        let found = resource_errors(&[("apps/api/app.yaml", &api)]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].0.contains("cpu request (100m) is above its cpu limit (50m)"),
            "{found:?}"
        );
        assert!(found[0].1.starts_with("apps/api/app.yaml:"), "{found:?}");
        assert!(found[0].2[0].starts_with("fleet.yaml:"), "{found:?}");
        // Equal, in other spellings: no error.
        let api = api_with_resources("    requests:\n      memory: 0.5Gi\n      cpu: \"1\"\n");
        assert_eq!(resource_errors(&[("apps/api/app.yaml", &api)]), Vec::new());
        assert_eq!(resource_errors(&[]), Vec::new());
    }

    fn without_cpu() -> String {
        fixture::text("fleet.yaml")
            .replace("        cpu: 100m\n", "")
            .replace("        cpu: 1000m\n", "")
    }

    /// Apps whose built-in HorizontalPodAutoscaler scales on a cpu utilization with no cpu
    /// request or limit to measure it against.
    fn unscalable(overlay: &[(&str, &str)]) -> Vec<String> {
        let sources = fixture::sources(overlay);
        let mut out = Vec::new();
        check_autoscaled_cpu(&sources, &mut out);
        let mut apps: Vec<String> = (out.iter())
            .map(|d| d.message.split('`').nth(1).unwrap_or("").to_string())
            .collect();
        apps.sort();
        apps
    }

    #[test]
    fn an_hpa_on_cpu_needs_a_cpu_request_or_limit() {
        let fleet = without_cpu();
        assert_eq!(unscalable(&[("fleet.yaml", &fleet)]), ["api", "web"]);
        // A limit alone is the request (the API defaults it); a request alone is enough.
        let api = api_with_resources("    limits:\n      cpu: 500m\n");
        let web = format!(
            "{}runtime:\n  resources:\n    requests:\n      cpu: 50m\n",
            fixture::text("apps/web/app.yaml")
        );
        assert_eq!(
            unscalable(&[
                ("fleet.yaml", &fleet),
                ("apps/api/app.yaml", &api),
                ("apps/web/app.yaml", &web)
            ]),
            Vec::<String>::new()
        );
        // The repository's own autoscaler template may scale on something else.
        let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {{ workload.name | tojson }}\n";
        assert_eq!(
            unscalable(&[
                ("fleet.yaml", &fleet),
                ("apps/api/templates/horizontalpodautoscaler.yaml.j2", hpa)
            ]),
            ["web"]
        );
        assert_eq!(unscalable(&[]), Vec::<String>::new());
    }

    /// fleet.yaml's own defaults out of order are its error, once, not every app's.
    #[test]
    fn default_requests_above_default_limits_are_reported_once_at_fleet_yaml() {
        let fleet = fixture::text("fleet.yaml").replace("        memory: 128Mi\n", "        memory: 1Gi\n");
        let found = resource_errors(&[("fleet.yaml", &fleet)]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].0.starts_with("fleet.yaml's default memory request (1Gi)"),
            "{found:?}"
        );
        assert!(found[0].1.starts_with("fleet.yaml:"), "{found:?}");
    }
}
