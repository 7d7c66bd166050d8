//! One placement (an app on a cluster) into its folder `<clusterId>/apps/<app>/`: the
//! templates' objects, each finished (namespace, managed labels, key order), checked by the
//! cluster's policy and written one per file; for a chart app also its Helm values and
//! whatever the cluster's engine backends add to the folder (a HelmRelease on Flux); and
//! the folder's `kustomization.yaml` listing them.

use std::collections::BTreeSet;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde_json::json;

use super::backends;
use super::context::{metrics_port, pairs_mj, pod_selector, workload};
use super::driver::Run;
use super::tree::{Finish, RenderedObject};
use super::{charts, objects, values, yaml};
use crate::diag::{Diagnostic, Label, codes};
use crate::kube::{GroupKind, is_cluster_scoped};
use crate::layout::{self, Area};
use crate::load::Sources;
use crate::model::policy::Check;
use crate::policy::enforce::Enforce;
use crate::resolve::plan::{Origin, Placement, Plan};

/// Rendered files: (path, text).
pub(super) type Outputs = Vec<(String, String)>;

/// The objects rendered on a cluster so far, by object id ((group, kind, namespace, name)
/// hashed): the app and template of each, as the plan, the sources or the cache's entries
/// hold them (not copied for each object).
pub(super) type Seen<'a> = FxHashMap<u128, (&'a str, &'a str)>;

/// What rendering one placement produced.
pub(super) struct AppDone {
    pub files: Outputs,
    pub errors: Vec<Diagnostic>,
    /// What its Argo CD project must permit: the kinds its folder delivers, and every kind
    /// its templates and chart can render under any switch, exposure, drain or values (see
    /// [`possible_kinds`]).
    pub kinds: BTreeSet<GroupKind>,
    /// The objects it put in `seen`, with their templates.
    /// The objects it rendered: (object id, template).
    pub claims: Vec<crate::incremental::store::NewClaim>,
}

/// A label at the source of a value: its file and line, or (for a value fleetgen sets
/// itself) the app's chart.
fn origin_label(p: &Placement, origin: &Origin, text: &str) -> Label {
    match origin {
        Origin::Source(file, span) | Origin::Derived(file, span, _) => Label::new(*file, span.clone(), text),
        Origin::Default(_) => p.app.label(&["chart"], "fleetgen sets it for this chart"),
    }
}

/// FG036: `nameOverride` or `fullnameOverride` in the merged values. fleetgen routes to the
/// chart's Service by its name and selects its pods (PodDisruptionBudget, NetworkPolicies,
/// spread) by `app.kubernetes.io/name`, both from the release and chart names (see
/// `charts::fullname`); a chart that renames them would leave the route without a Service
/// and every selector without pods.
pub(super) fn renamed_chart_objects(
    p: &Placement,
    tree: &values::Tree,
    files: &crate::source::SourceMap,
) -> Vec<Diagnostic> {
    ["nameOverride", "fullnameOverride"]
        .into_iter()
        .filter_map(|key| {
            let (value, origin) = tree.get(&[key]).and_then(values::Tree::leaf_value)?;
            value.as_str().filter(|v| !v.is_empty())?;
            Some(
                Diagnostic::error(
                    codes::CHART_VALUES,
                    files,
                    origin_label(p, &origin, "renames the chart's objects"),
                    format!(
                        "`{key}` renames the objects of `{}`'s chart, but fleetgen routes to its Service and selects its pods by the release and chart names",
                        p.app_name()
                    ),
                )
                .with_help("remove it: the release is named after the app, the chart by `chart.name`"),
            )
        })
        .collect()
}

/// FG036: a volume or mount of the values files that the secrets volume and mount fleetgen
/// adds for `read-secret` would collide with (`charts::secrets_collisions`), at its line.
pub(super) fn secrets_mount_collisions(
    p: &Placement,
    tree: &values::Tree,
    files: &crate::source::SourceMap,
) -> Vec<Diagnostic> {
    charts::secrets_collisions(p, tree)
        .into_iter()
        .map(|(message, label, help, at)| {
            Diagnostic::error(codes::CHART_VALUES, files, origin_label(p, &at, label), message).with_help(help)
        })
        .collect()
}

/// FG036: what the chart's vendored `values.schema.json` refuses in the merged values (over
/// the chart's own vendored defaults, as Helm coalesces them), each at the value's source.
fn chart_schema_errors(sources: &Sources, p: &Placement, tree: &values::Tree) -> Vec<Diagnostic> {
    let Some(schema) = sources.chart_schemas.iter().find(|s| s.app == p.app_name()) else {
        return Vec::new();
    };
    let files = &sources.files;
    let merged = values::with_chart_defaults(sources, p, tree.clone());
    let json = merged.to_json();
    let mut out = Vec::new();
    for error in schema.validator.iter_errors(&json) {
        let mut segments: Vec<String> = error
            .instance_path()
            .segments()
            .map(|s| match s {
                jsonschema::paths::LocationSegment::Property(k) => k.to_string(),
                jsonschema::paths::LocationSegment::Index(i) => i.to_string(),
            })
            .collect();
        // A key the chart does not know: at that key (the error is the mapping's, whose
        // origin may be the chart's defaults or fleetgen's own values).
        if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } = error.kind()
            && let [key, ..] = unexpected.as_slice()
        {
            segments.push(key.clone());
        }
        let path = if segments.is_empty() {
            "the values".to_string()
        } else {
            format!("`{}`", segments.join("."))
        };
        let origin = merged.origin_at(&segments);
        out.push(
            Diagnostic::error(
                codes::CHART_VALUES,
                files,
                origin_label(p, &origin, "this value"),
                format!("the chart's values.schema.json refuses {path}: {error}"),
            )
            .with_secondary(Label::new(schema.file, 0..0, "the chart's schema"))
            .with_help("change the value in the contract or values file that sets it, to what the chart accepts"),
        );
    }
    out
}

/// An object an app may not render: cluster-scoped (but its own Namespace), or in another
/// namespace. An app owns its namespace and nothing else, so that the answer is the same on
/// Flux (whose `targetNamespace` would move the object) and Argo CD (whose project would
/// refuse it and fail the whole sync).
fn outside_namespace(p: &Placement, obj: &objects::Object) -> Option<String> {
    if obj.kind == "Namespace" && obj.group().is_empty() {
        return (obj.name != p.namespace).then(|| format!("it is the Namespace `{}`, not the app's own", obj.name));
    }
    if is_cluster_scoped(&obj.kind) {
        return Some("it is cluster-scoped".to_string());
    }
    match &obj.namespace {
        Some(ns) if *ns != p.namespace => Some(format!("it is in namespace `{ns}`")),
        _ => None,
    }
}

/// The kinds a template spells out (`apiVersion:` and `kind:` at the start of a line, in
/// one document), in every branch whether or not this render takes it; cluster-scoped
/// kinds but Namespace left out (an app may not render them: FG044). A kind written by an
/// expression is not seen here (only once rendered).
fn spelt_kinds(text: &str) -> Vec<GroupKind> {
    let value = |line: &str, key: &str| -> Option<String> {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        let rest = rest.split(" #").next().unwrap_or_default().trim();
        let rest = rest.trim_matches(|c| c == '"' || c == '\'');
        (!rest.is_empty() && !rest.contains(['{', '}', ' '])).then(|| rest.to_string())
    };
    let (mut api, mut kind) = (None, None);
    let mut out = Vec::new();
    for line in without_comments(text).lines() {
        if line.starts_with("---") {
            (api, kind) = (None, None);
        } else if let Some(v) = value(line, "apiVersion") {
            api = Some(v);
        } else if let Some(v) = value(line, "kind") {
            kind = Some(v);
        }
        if let (Some(a), Some(k)) = (&api, &kind) {
            let group = a.rsplit_once('/').map(|(g, _)| g).unwrap_or_default();
            if !is_cluster_scoped(k) || (k == "Namespace" && group.is_empty()) {
                out.push(GroupKind {
                    group: group.to_string(),
                    kind: k.clone(),
                });
            }
            (api, kind) = (None, None);
        }
    }
    out
}

/// `text` without its template comments (`{# … #}`), each replaced by the line breaks it
/// held: a comment renders nothing, so a `kind:` in one (an example for readers) is no kind
/// the template delivers. A raw block (`{% raw %}`) stays: it renders as written.
fn without_comments(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("{#") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{#") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start + 2..].find("#}") else {
            // An unclosed comment is the compiler's error to report; nothing after it renders.
            rest = "";
            break;
        };
        let comment = &rest[start..start + 2 + len + 2];
        out.extend(comment.chars().filter(|&c| c == '\n'));
        rest = &rest[start + comment.len()..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// Every kind a placement's app can deliver on its cluster, whatever its switches, exposure,
/// drain or values: what its templates spell out ([`spelt_kinds`]) and what its chart's
/// convention can render ([`charts::kinds`]). Its Argo CD project permits them all, so
/// that none vanishes from the project while objects of it are live: Argo CD drops the live
/// objects of kinds its project does not permit before comparing (argo-cd
/// controller/state.go), so it would never prune them, and report the app synced.
fn possible_kinds(run: &Run, p: &Placement) -> BTreeSet<GroupKind> {
    let convention = p.app.value.chart.as_ref().map(|c| c.convention);
    let files = &run.sources.files;
    let mut kinds: BTreeSet<GroupKind> = (run.engine.templates_for(p.app_name(), convention).into_iter())
        .filter_map(|name| run.engine.file(name))
        .flat_map(|file| spelt_kinds(&files.get(file).text))
        .collect();
    kinds.extend(charts::kinds(p));
    kinds
}

/// The source files a placement's objects are made from, for file headers.
pub(super) fn placement_sources(sources: &Sources, plan: &Plan, p: &Placement) -> Vec<String> {
    let files = &sources.files;
    let mut list = vec![
        files.get(p.app.file).path.clone(),
        files.get(p.cluster.file).path.clone(),
        files.get(plan.fleet.file).path.clone(),
    ];
    let profile = plan
        .clusters
        .iter()
        .find(|c| c.id() == p.cluster_id())
        .and_then(|c| c.profile);
    if let (Some(profile), Some(_)) = (profile, p.gateway) {
        list.push(files.get(profile.file).path.clone());
    }
    if let Some(name) = &p.app.value.identity.cloud_permissions_profile
        && let Some(doc) = sources.identity_profiles.iter().find(|d| d.value.name == *name)
    {
        list.push(files.get(doc.file).path.clone());
    }
    let telemetry = &p.app.value.observability.telemetry_profile;
    if let Some(doc) = sources.telemetry_profiles.iter().find(|d| d.value.name == *telemetry) {
        list.push(files.get(doc.file).path.clone());
    }
    // The scraper its NetworkPolicies admit.
    if plan.fleet.value.network.policies
        && p.scraper.is_some()
        && metrics_port(p).is_some()
        && let Some(doc) =
            (sources.observability_profiles.iter()).find(|d| d.value.name == p.cluster.value.observability_profile)
    {
        list.push(files.get(doc.file).path.clone());
    }
    list
}

pub(super) fn render<'a>(
    run: &Run<'a>,
    p: &'a Placement<'a>,
    seen: &mut Seen<'a>,
    enforce: &Enforce,
    mut kept: Option<&mut Vec<RenderedObject>>,
) -> AppDone {
    let (sources, plan, engine, contexts, cache) = (run.sources, run.plan, run.engine, run.contexts(), &run.cache);
    let files = &sources.files;
    let app = p.app_name();
    let id = p.cluster_id();
    let labels: Vec<(String, String)> = p.labels.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
    let mut pod_labels = labels.clone();
    pod_labels.extend(p.identity.pod_labels.iter().map(|(k, v)| (k.clone(), v.value.clone())));
    // A chart selects its pods by the chart's name and the release.
    let selector = pod_selector(p);
    let ctx = minijinja::context! {
        fleet => contexts.fleet.clone(),
        app => contexts.app(app),
        cluster => contexts.cluster(id),
        workload => workload(plan, p),
        labels => pairs_mj(&labels),
        podLabels => pairs_mj(&pod_labels),
        selector => pairs_mj(&selector),
    };
    let base_sources = placement_sources(sources, plan, p);
    let area = Area::App(app);
    let mut out: Outputs = Vec::new();
    let mut errors = Vec::new();
    let mut resources = Vec::new();
    let mut kinds = possible_kinds(run, p);
    let mut claims = Vec::new();
    let convention = p.app.value.chart.as_ref().map(|c| c.convention);
    let chart = convention.is_some();
    // A drained app keeps only its namespace (see `resolve::plan::Placement::drained`).
    let templates: Vec<&str> = match p.drained {
        Some(_) => engine
            .templates_for(app, convention)
            .into_iter()
            .filter(|n| *n == "namespace.yaml.j2")
            .collect(),
        None => engine.templates_for(app, convention),
    };
    // What lint keeps of each object: shared by the placement's objects.
    let mut finish: Option<Arc<Finish>> = None;
    let not_in_jobs = crate::resolve::labels::release_keys(&plan.fleet.value);
    let (mut managed, mut managed_pod) = (
        objects::Managed::new(&labels),
        objects::Managed::once(&pod_labels).but_in_jobs(&not_in_jobs),
    );
    for name in templates {
        let Some(template_file) = engine.file(name) else {
            continue;
        };
        let objects = match cache.render(engine, name, template_file, &ctx, files) {
            Ok(o) => o,
            Err(e) => {
                errors.push(*e);
                continue;
            }
        };
        let template_path: &'a str = &run.sources.files.get(template_file).path;
        // The same sources head every object of the template.
        let header = layout::header(&[base_sources.as_slice(), &[template_path.to_string()]].concat());
        for (index, written) in objects.iter().enumerate() {
            if let Some(why) = outside_namespace(p, written) {
                // At the object's `kind:` in the template, when the template spells it out.
                let at = crate::policy::kind_line(files, template_file, &written.kind);
                let help = if written.namespace.is_some() && !is_cluster_scoped(&written.kind) {
                    "drop `metadata.namespace`: fleetgen puts the app's objects in its namespace"
                } else {
                    "deliver cluster-wide objects from the platform's own repository, not from an app"
                };
                errors.push(
                    Diagnostic::error(
                        codes::OBJECT_OUTSIDE_NAMESPACE,
                        files,
                        Label::new(template_file, at, "rendered here"),
                        format!(
                            "{} `{}` is not `{app}`'s to render: {why}; an app's templates render objects in its namespace `{}`",
                            written.kind, written.name, p.namespace
                        ),
                    )
                    .with_help(help),
                );
                continue;
            }
            let mut obj = written.clone();
            objects::finish_ordered_with(&mut obj, &p.namespace, &mut managed, &mut managed_pod);
            let key = crate::incremental::store::object_id(
                obj.group(),
                &obj.kind,
                obj.namespace.as_deref().unwrap_or_default(),
                &obj.name,
            );
            if let Some((other_app, other_template)) = seen.get(&key) {
                errors.push(
                    Diagnostic::error(
                        codes::DUPLICATE_OBJECT,
                        files,
                        Label::new(template_file, 0..0, "renders it again"),
                        format!(
                            "{} `{}` is rendered twice: by {other_template} for `{other_app}` and by {template_path} for `{app}`",
                            obj.kind, obj.name
                        ),
                    )
                    .with_help("give one of the objects another name, or drop one template"),
                );
                continue;
            }
            claims.push((key, template_path.to_string()));
            seen.insert(key, (app, template_path));
            errors.extend(enforce.check(p, &obj, template_file, files));
            kinds.insert(GroupKind::of(&obj));
            let file_name = objects::file_name(&obj);
            let mut text = String::with_capacity(header.len() + 1024);
            text.push_str(&header);
            yaml::write(&mut text, &obj.value);
            resources.push(file_name.clone());
            if let Some(kept) = kept.as_deref_mut() {
                let finish = finish.get_or_insert_with(|| {
                    Arc::new(Finish {
                        namespace: p.namespace.clone(),
                        labels: labels.clone(),
                        pod_labels: pod_labels.clone(),
                        not_in_jobs: not_in_jobs.clone(),
                    })
                });
                kept.push(RenderedObject {
                    cluster: id.to_string(),
                    app: app.to_string(),
                    template: template_file,
                    path: area.path(id, &file_name),
                    finish: Arc::clone(finish),
                    output: Arc::clone(&objects),
                    index,
                });
            }
            out.push((area.path(id, &file_name), text));
        }
    }
    if chart && p.drained.is_none() {
        let mut srcs = base_sources.clone();
        srcs.extend(
            values::layers(sources, p)
                .iter()
                .map(|v| files.get(v.file).path.clone()),
        );
        let tree = values::values(sources, p);
        let values = tree.to_json();
        // The image the chart will run, judged by the image intents where it was decided.
        if let Some(image) = charts::image(p, &tree) {
            let at = |check: Check| match check {
                Check::ApprovedRegistry => origin_label(p, &image.registry_at, "decides the registry"),
                _ => origin_label(p, &image.pinned_at, "decides the image"),
            };
            errors.extend(enforce.check_chart_image(p, &image.image, &at, files));
        }
        errors.extend(chart_schema_errors(sources, p, &tree));
        errors.extend(renamed_chart_objects(p, &tree, files));
        errors.extend(secrets_mount_collisions(p, &tree, files));
        // E.g. on Flux the chart source and HelmRelease, which the app's Kustomization applies.
        for backend in backends::serving(&p.cluster.value) {
            for mut obj in backend.chart_objects(&plan.fleet.value, p, &values) {
                objects::finish(&mut obj, &p.namespace, &labels, &[]);
                kinds.insert(GroupKind::of(&obj));
                let file_name = objects::file_name(&obj);
                let mut text = layout::header(&srcs);
                yaml::write(&mut text, &obj.value);
                resources.push(file_name.clone());
                out.push((area.path(id, &file_name), text));
            }
        }
        let mut text = layout::header(&srcs);
        yaml::write(&mut text, &values);
        out.push((area.path(id, "values.yaml"), text));
    }
    // Same file name from two objects (e.g. one kind in two API groups) would overwrite.
    let unique: BTreeSet<&String> = resources.iter().collect();
    if unique.len() != resources.len() {
        errors.push(Diagnostic::error(
            codes::DUPLICATE_OBJECT,
            files,
            Label::new(p.app.file, p.app.span(&["application", "name"]), "this app"),
            format!("two objects of `{app}` on cluster `{id}` would be written to the same file"),
        ));
    }
    resources.sort();
    let mut kustomization = format!("{}# sources: the objects of this folder\n", layout::HEADER);
    yaml::write(
        &mut kustomization,
        &json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        }),
    );
    out.push((area.path(id, "kustomization.yaml"), kustomization));
    AppDone {
        files: out,
        errors,
        kinds,
        claims,
    }
}

#[cfg(test)]
mod tests {
    use super::spelt_kinds;

    /// A `kind:` in a template comment is no kind the template delivers; one in a raw block
    /// (rendered as written) and one in an `{% if %}` branch are.
    #[test]
    fn kinds_in_comments_are_not_spelt() {
        let text = "{#\nExample for readers:\napiVersion: v1\nkind: Secret\n#}\napiVersion: v1\nkind: ConfigMap\n---\n{% if false %}\napiVersion: example.com/v1\nkind: Widget\n{% endif %}\n---\n{% raw %}\napiVersion: v1\nkind: Service\n{% endraw %}\n";
        let kinds: Vec<String> = spelt_kinds(text)
            .into_iter()
            .map(|k| format!("{}/{}", k.group, k.kind))
            .collect();
        assert_eq!(kinds, ["/ConfigMap", "example.com/Widget", "/Service"]);
        // An unclosed comment hides the rest (the compiler refuses the template).
        assert!(spelt_kinds("{# open\napiVersion: v1\nkind: Secret\n").is_empty());
    }
}
