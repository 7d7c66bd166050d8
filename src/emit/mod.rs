//! Stage 3, `emit`: the resolved fleet into files, one cluster at a time (in parallel).
//!
//! Per placement: the templates' objects (or, for chart apps, Helm values, the namespace and
//! route, and on Flux the chart source and HelmRelease), one object per file in
//! `<clusterId>/apps/<app>/`, with a `kustomization.yaml` listing them. Per cluster: the
//! engine's objects in `gitops/` (one backend module per engine: [`flux`], [`argocd`]), the
//! root `kustomization.yaml` listing them, and `cluster.yaml`, what the cluster resolved to.
//! For the fleet: `fleet.yaml`, the placement matrix.

pub mod admission;
pub mod argocd;
pub mod azure;
pub mod builtin;
pub mod flux;
pub mod objects;
pub mod templates;
pub mod values;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde_json::{Map, Value, json};

use crate::diag::{Diagnostic, Label, codes};
use crate::load::Sources;
use crate::model::GitopsEngine;
use crate::model::fleet::{Fleet, LabelDimension};
use crate::resolve::plan::{ClusterPlan, Placement, Plan};
use crate::source::{FileId, SourceMap};
use templates::Engine;

/// Rendered files by path relative to the output folder (`<clusterId>/apps/<app>/…`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RenderedTree {
    pub files: BTreeMap<String, String>,
    /// The apps' objects, for lint rules; kept only when [`Selection::keep_objects`] asks.
    pub objects: Vec<RenderedObject>,
}

/// One object a template rendered for a placement, as written and as the template wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedObject {
    pub cluster: String,
    pub app: String,
    /// The template that rendered it.
    pub template: FileId,
    /// Its file, relative to the output folder.
    pub path: String,
    /// The finished object: namespace set, managed labels merged.
    pub object: Value,
    /// The template's output this object came from (shared by every placement that
    /// rendered the same text) and its position there.
    output: Arc<Vec<objects::Object>>,
    index: usize,
}

impl RenderedObject {
    /// The object as the template wrote it, before fleetgen added anything.
    pub fn written(&self) -> &Value {
        &self.output[self.index].value
    }
}

impl RenderedTree {
    /// A tree from (path, text) pairs.
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        RenderedTree {
            files: files.into_iter().map(|(p, t)| (p.to_string(), t.to_string())).collect(),
            objects: Vec::new(),
        }
    }
}

/// Which clusters and apps to render; empty means all.
#[derive(Debug, Default, Clone)]
pub struct Selection {
    pub clusters: Vec<String>,
    pub apps: Vec<String>,
    /// Keep the apps' objects in [`RenderedTree::objects`] (lint reads them).
    pub keep_objects: bool,
}

impl Selection {
    pub fn is_all(&self) -> bool {
        self.clusters.is_empty() && self.apps.is_empty()
    }
    pub fn cluster(&self, id: &str) -> bool {
        self.clusters.is_empty() || self.clusters.iter().any(|c| c == id)
    }
    pub fn app(&self, name: &str) -> bool {
        self.apps.is_empty() || self.apps.iter().any(|a| a == name)
    }
    pub fn placement(&self, p: &Placement) -> bool {
        self.cluster(p.cluster_id()) && self.app(p.app_name())
    }
}

const HEADER: &str = "# Rendered by fleetgen; do not edit. Change the sources and run `fleetgen render`.\n";

/// The 64-bit FNV-1a hash of `s`: stable across machines and versions, for names and digests.
pub fn fnv1a64(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

const DIGEST: &str = "# digest: fnv1a64:";

/// Splits a rendered YAML file into its leading comment lines and its body.
fn split_header(text: &str) -> (&str, &str) {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if !line.starts_with('#') {
            break;
        }
        at += line.len();
    }
    text.split_at(at)
}

/// Adds a digest of the body to a rendered YAML file's header, so that `fleetgen check` can
/// tell a hand edit (body and digest disagree) from a stale render.
pub fn seal(text: &str) -> String {
    let (header, body) = split_header(text);
    format!("{header}{DIGEST}{:016x}\n{body}", fnv1a64(body))
}

/// Whether a sealed file's body still matches its digest; `None` when it has no digest.
pub fn intact(text: &str) -> Option<bool> {
    let (header, body) = split_header(text);
    let recorded = header.lines().find_map(|l| l.strip_prefix(DIGEST))?;
    Some(recorded == format!("{:016x}", fnv1a64(body)))
}

fn header(sources: &[String]) -> String {
    format!("{HEADER}# sources: {}\n", sources.join(", "))
}

/// Stack for render threads: template output is parsed with serde-saphyr, which needs more
/// than the 2 MiB a thread gets by default.
const STACK: usize = crate::load::yaml::PARSER_STACK;

/// Renders the selected part of the fleet, with the problems of every cluster (errors,
/// and warnings such as audit-level policy findings). With an error, the tree is partial and
/// must not be written.
pub fn render(sources: &Sources, plan: &Plan, engine: &Engine, select: &Selection) -> (RenderedTree, Vec<Diagnostic>) {
    render_observed(sources, plan, engine, select, &|| {})
}

/// [`render`], calling `cluster_done` as each cluster is rendered (from render threads),
/// for a progress bar.
pub fn render_observed(
    sources: &Sources,
    plan: &Plan,
    engine: &Engine,
    select: &Selection,
    cluster_done: &(dyn Fn() + Sync),
) -> (RenderedTree, Vec<Diagnostic>) {
    let run = Run {
        used: Mutex::new(BTreeSet::new()),
        sources,
        plan,
        engine,
        contexts: Contexts::new(sources, plan),
        cache: ParseCache::default(),
    };
    let clusters: Vec<&ClusterPlan> = plan.clusters.iter().filter(|c| select.cluster(c.id())).collect();
    let work = || {
        clusters
            .par_iter()
            .map(|c| {
                let done = render_cluster(&run, c, select);
                cluster_done();
                done
            })
            .collect::<Vec<_>>()
    };
    // The placement matrix is written meanwhile, on whichever thread is free.
    let fleet_matrix = || seal(&matrix(plan));
    let (results, fleet_matrix) = match rayon::ThreadPoolBuilder::new().stack_size(STACK).build() {
        Ok(pool) => pool.install(|| rayon::join(work, fleet_matrix)),
        Err(_) => std::thread::scope(|s| {
            let results = std::thread::Builder::new()
                .stack_size(STACK)
                .spawn_scoped(s, || clusters.iter().map(|c| render_cluster(&run, c, select)).collect())
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .unwrap_or_default();
            (results, fleet_matrix())
        }),
    };
    let mut tree = RenderedTree::default();
    let mut problems = Vec::new();
    for (files, mut found, mut objects) in results {
        tree.files.extend(files);
        problems.append(&mut found);
        tree.objects.append(&mut objects);
    }
    tree.files.insert("fleet.yaml".into(), fleet_matrix);
    // Azure Policy is laid out across clusters (hoisting looks at a whole subscription).
    for (path, text) in azure::render(sources, plan, &|id| select.cluster(id)) {
        let text = if path.ends_with(".yaml") { seal(&text) } else { text };
        tree.files.insert(path, text);
    }
    let mut problems = group(problems);
    if select.is_all() {
        let used = run.used.lock().unwrap_or_else(|e| e.into_inner());
        let today = crate::policy::exemptions::today();
        for doc in &sources.policy_exemptions {
            let ex = &doc.value;
            if crate::policy::exemptions::active(ex, today) && !used.contains(ex.name.as_str()) {
                problems.push(
                    Diagnostic::error(
                        codes::EXEMPTION_UNUSED,
                        &sources.files,
                        doc.label(&["name"], "matched no finding"),
                        format!("exemption `{}` turned no finding off", ex.name),
                    )
                    .with_help("remove it if the finding is fixed; (objects a Helm chart renders are not checked by fleetgen, so an exemption for them only frees the namespace on the cluster)")
                    .warning(),
                );
            }
        }
    }
    (tree, problems)
}

/// A problem of one placement: the diagnostic, the app and the cluster.
type PlacementError = (Diagnostic, String, String);

/// One diagnostic per problem: the same template error on many clusters is reported once,
/// naming them all.
fn group(errors: Vec<PlacementError>) -> Vec<Diagnostic> {
    let mut groups: Vec<(Diagnostic, Vec<(String, String)>)> = Vec::new();
    for (d, app, cluster) in errors {
        let same = |g: &Diagnostic| {
            g.code == d.code
                && g.message == d.message
                && g.primary.as_ref().map(|l| (l.file, l.span.clone()))
                    == d.primary.as_ref().map(|l| (l.file, l.span.clone()))
        };
        match groups.iter_mut().find(|(g, _)| same(g)) {
            Some((_, at)) => at.push((app, cluster)),
            None => groups.push((d, vec![(app, cluster)])),
        }
    }
    groups
        .into_iter()
        .map(|(mut d, at)| {
            let apps: BTreeSet<&str> = at.iter().map(|(a, _)| a.as_str()).collect();
            let clusters: BTreeSet<&str> = at.iter().map(|(_, c)| c.as_str()).collect();
            let quoted = |set: &BTreeSet<&str>| set.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ");
            let what = match apps.len() {
                1 => format!("app {}", quoted(&apps)),
                _ => format!("apps {}", quoted(&apps)),
            };
            let on = match clusters.len() {
                1 => format!("cluster {}", quoted(&clusters)),
                n => format!("{n} clusters: {}", quoted(&clusters)),
            };
            d.message = format!("{} ({what} on {on})", d.message);
            if let [app] = apps.iter().collect::<Vec<_>>()[..] {
                d.app = Some(app.to_string());
            }
            if let [cluster] = clusters.iter().collect::<Vec<_>>()[..] {
                d.cluster = Some(cluster.to_string());
            }
            d
        })
        .collect()
}

/// Everything one render shares between clusters.
struct Run<'a> {
    used: Mutex<BTreeSet<String>>,
    sources: &'a Sources,
    plan: &'a Plan<'a>,
    engine: &'a Engine,
    contexts: Contexts,
    cache: ParseCache,
}

type ParsedOutputs = HashMap<(FileId, String), Arc<Vec<objects::Object>>>;

/// Parsed template output, shared by all clusters. Managed labels are added after
/// parsing, so most templates render the same text on every cluster an app lands on (the
/// Service, the autoscaler of one replica share …); each distinct text is parsed once.
#[derive(Default)]
struct ParseCache {
    parsed: Mutex<ParsedOutputs>,
}

impl ParseCache {
    fn parse(
        &self,
        text: String,
        template: FileId,
        files: &SourceMap,
    ) -> Result<Arc<Vec<objects::Object>>, Box<Diagnostic>> {
        let key = (template, text);
        if let Some(hit) = self.parsed.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(Arc::clone(hit));
        }
        let mut parsed = objects::parse(&key.1, template, files)?;
        // Put in order once here, not on every cluster (see `objects::finish_ordered`).
        for obj in &mut parsed {
            objects::canonical(&mut obj.value, None);
        }
        let objects = Arc::new(parsed);
        self.parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, Arc::clone(&objects));
        Ok(objects)
    }
}

/// Template contexts of every app and cluster, built once.
struct Contexts {
    fleet: minijinja::Value,
    apps: HashMap<String, minijinja::Value>,
    clusters: HashMap<String, minijinja::Value>,
}

impl Contexts {
    fn new(sources: &Sources, plan: &Plan) -> Contexts {
        let f = &plan.fleet.value;
        Contexts {
            fleet: to_mj(json!({
                "name": f.name.as_str(),
                "repository": {"url": f.repository.url, "branch": f.repository.branch},
            })),
            apps: sources
                .apps
                .iter()
                .map(|a| (a.value.application.name.to_string(), to_mj(a.node.to_json())))
                .collect(),
            clusters: sources
                .clusters
                .iter()
                .map(|c| (c.value.cluster_id.to_string(), to_mj(c.node.to_json())))
                .collect(),
        }
    }
}

fn pairs_json(pairs: &[(String, String)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.clone(), Value::String(v.clone()));
    }
    Value::Object(m)
}

/// The derived view of a placement that templates use as `workload`.
fn workload(p: &Placement) -> Value {
    let a = &p.app.value;
    let list = |l: &crate::resolve::plan::Resources| {
        let mut m = Map::new();
        for (name, v) in [("cpu", &l.cpu), ("memory", &l.memory)] {
            if let Some(v) = v {
                m.insert(name.into(), json!(v.value));
            }
        }
        (!m.is_empty()).then_some(Value::Object(m))
    };
    let mut resources = Map::new();
    if let Some(r) = list(&p.requests) {
        resources.insert("requests".into(), r);
    }
    if let Some(l) = list(&p.limits) {
        resources.insert("limits".into(), l);
    }
    let port = a.traffic.port.map(|p| p.0);
    let metrics = p.telemetry.and_then(|t| {
        t.metrics
            .port
            .map(|p| p.0)
            .or(port)
            .map(|mp| json!({"port": mp, "path": t.metrics.path}))
    });
    let annotations: Vec<(String, String)> = p
        .identity
        .service_account_annotations
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    json!({
        "name": p.app_name(),
        "namespace": p.namespace,
        "image": a.application.image,
        "version": a.application.version,
        "owner": a.application.owner.as_str(),
        "criticality": a.application.criticality.as_str(),
        "exposure": a.traffic.exposure.as_str(),
        "port": port,
        "hostnames": a.traffic.hostnames,
        "replicas": {"min": p.replicas.min, "max": p.replicas.max, "share": p.replicas.share},
        "podDisruptionBudget": p.pod_disruption_budget.value,
        "topologySpread": values::spread(p.topology_spread.value)
            .map(|(key, when)| json!({"topologyKey": key, "whenUnsatisfiable": when})),
        "resources": resources,
        "probes": {
            "readinessPath": p.readiness_path.as_ref().map(|s| &s.value),
            "livenessPath": p.liveness_path.as_ref().map(|s| &s.value),
        },
        "serviceAccount": {
            "name": p.app_name(),
            "annotations": pairs_json(&annotations),
            "automountToken": p.identity.automount_token,
        },
        "gateway": p.gateway.map(|g| json!({"name": g.name.as_str(), "namespace": g.namespace.as_str()})),
        "metrics": metrics,
    })
}

/// The source files a placement's objects are made from, for file headers.
fn placement_sources(sources: &Sources, plan: &Plan, p: &Placement) -> Vec<String> {
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
    list
}

type Files = Vec<(String, String)>;

fn render_cluster(
    run: &Run,
    cluster: &ClusterPlan,
    select: &Selection,
) -> (Files, Vec<PlacementError>, Vec<RenderedObject>) {
    let (sources, plan) = (run.sources, run.plan);
    let mut out: Files = Vec::new();
    let mut kept = select.keep_objects.then(Vec::new);
    let mut errors = Vec::new();
    let id = cluster.id();
    let today = crate::policy::exemptions::today();
    let enforce = Enforce {
        intents: crate::policy::intents_for(sources, &cluster.doc.value),
        ctx: admission::context(&plan.fleet.value, &cluster.doc.value),
        exemptions: sources
            .policy_exemptions
            .iter()
            .filter(|e| crate::policy::exemptions::active(&e.value, today))
            .collect(),
        used: &run.used,
    };
    // Objects already rendered on this cluster: (group, kind, namespace, name) → template.
    let mut seen: HashMap<(String, String, String, String), (String, String)> = HashMap::new();
    for p in plan
        .placements
        .iter()
        .filter(|p| p.cluster_id() == id && select.placement(p))
    {
        let (mut f, found) = render_placement(run, p, &mut seen, &enforce, kept.as_mut());
        out.append(&mut f);
        errors.extend(found.into_iter().map(|d| (d, p.app_name().to_string(), id.to_string())));
    }
    out.push((format!("{id}/cluster.yaml"), cluster_summary(sources, plan, cluster)));
    out.extend(gitops(run, cluster));
    // Sealed here, on the cluster's thread, rather than one by one afterwards.
    for (path, text) in out.iter_mut() {
        if path.ends_with(".yaml") {
            *text = seal(text);
        }
    }
    (out, errors, kept.unwrap_or_default())
}

/// The policy intents a cluster enforces, checked on every rendered object before anything
/// is written: deny-level findings are errors, audit-level ones warnings.
struct Enforce<'s> {
    intents: Vec<crate::policy::ClusterIntent<'s>>,
    ctx: crate::policy::checks::Context<'s>,
    /// Exemptions in force today.
    exemptions: Vec<&'s crate::load::Doc<crate::model::PolicyExemption>>,
    /// Names of the exemptions that turned a finding off (shared by all clusters).
    used: &'s Mutex<BTreeSet<String>>,
}

impl Enforce<'_> {
    fn check(&self, p: &Placement, obj: &objects::Object, template: FileId, files: &SourceMap) -> Vec<Diagnostic> {
        use crate::model::policy::Check;
        use crate::policy::checks;
        let mut out = Vec::new();
        for ci in &self.intents {
            let check = ci.intent.value.check;
            let found = if check == Check::WorkloadIdentity {
                let has_identity = !p.identity.service_account_annotations.is_empty();
                checks::workload_identity(&obj.value, has_identity, p.cluster.value.provider)
            } else {
                checks::violations(check, &obj.value, &self.ctx)
            };
            let code = checks::code(check).id;
            let namespace = obj.namespace.as_deref().unwrap_or(&p.namespace);
            let exempted: Vec<&str> = self
                .exemptions
                .iter()
                .filter(|e| {
                    crate::policy::exemptions::covers(
                        &e.value,
                        ci.intent.value.id.as_str(),
                        code,
                        p.app_name(),
                        p.cluster_id(),
                        namespace,
                    )
                })
                .map(|e| e.value.name.as_str())
                .collect();
            if !exempted.is_empty() {
                if !found.is_empty() {
                    let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
                    used.extend(exempted.iter().map(|n| n.to_string()));
                }
                continue;
            }
            for v in found {
                out.push(crate::policy::finding(p, ci, obj, &v, template, files));
            }
        }
        out
    }
}

/// What a backend needs to know about one cluster.
pub struct ClusterContext<'a> {
    pub fleet: &'a Fleet,
    pub cluster: &'a ClusterPlan<'a>,
    /// Every placement on the cluster (whatever was selected: the root lists them all).
    pub placements: Vec<&'a Placement<'a>>,
    sources: &'a Sources,
}

impl ClusterContext<'_> {
    /// The apps `p` calls synchronously that are placed on the same cluster, by name: they
    /// are deployed first.
    pub fn dependencies(&self, p: &Placement) -> Vec<String> {
        let mut deps: Vec<String> = p
            .app
            .value
            .depends_on
            .iter()
            .filter(|d| d.call == crate::model::app::CallKind::Sync)
            .map(|d| d.service.to_string())
            .filter(|d| d != p.app_name() && self.placements.iter().any(|q| q.app_name() == d))
            .collect();
        deps.sort();
        deps.dedup();
        deps
    }

    /// The sync wave of `p`: 0 without dependencies here, else one above its highest one.
    pub fn wave(&self, p: &Placement) -> usize {
        self.wave_at(p, 0)
    }

    fn wave_at(&self, p: &Placement, depth: usize) -> usize {
        // Cycles are refused before rendering; the depth guard keeps a missed one finite.
        if depth > self.placements.len() {
            return 0;
        }
        self.dependencies(p)
            .iter()
            .filter_map(|d| self.placements.iter().find(|q| q.app_name() == d))
            .map(|q| self.wave_at(q, depth + 1) + 1)
            .max()
            .unwrap_or(0)
    }

    /// The rendered Helm values of a chart app.
    pub fn values(&self, p: &Placement) -> Value {
        values::values(self.sources, p).to_json()
    }
}

/// An object a GitOps backend emits, and the placement it belongs to (none: the cluster's).
pub struct EngineObject<'a> {
    pub object: objects::Object,
    pub placement: Option<&'a Placement<'a>>,
}

impl<'a> EngineObject<'a> {
    pub fn cluster(object: objects::Object) -> Self {
        EngineObject {
            object,
            placement: None,
        }
    }
    pub fn app(object: objects::Object, p: &'a Placement<'a>) -> Self {
        EngineObject {
            object,
            placement: Some(p),
        }
    }
}

/// Labels of objects that belong to a cluster rather than an app: the required labels that
/// the cluster alone decides, and `managed-by`.
fn cluster_labels(fleet: &Fleet, c: &crate::model::Cluster) -> Vec<(String, String)> {
    let prefix = &fleet.labels.prefix;
    let mut labels = Vec::new();
    for dim in &fleet.labels.required {
        let value = match dim {
            LabelDimension::Cluster => Some(c.cluster_id.to_string()),
            LabelDimension::Provider => Some(c.provider.to_string()),
            LabelDimension::Region => Some(c.region.clone()),
            LabelDimension::Environment => Some(c.environment.to_string()),
            LabelDimension::Cell => c.cell.as_ref().map(ToString::to_string),
            _ => None,
        };
        if let Some(v) = value.filter(|v| crate::resolve::plan::is_label_value(v)) {
            labels.push((format!("{prefix}{}", dim.as_str()), v));
        }
    }
    labels.push(("app.kubernetes.io/managed-by".into(), "fleetgen".into()));
    labels
}

/// `gitops/` and the cluster root `kustomization.yaml` of one cluster.
fn gitops(run: &Run, cluster: &ClusterPlan) -> Files {
    let (sources, plan) = (run.sources, run.plan);
    let files = &sources.files;
    let id = cluster.id();
    let ctx = ClusterContext {
        fleet: &plan.fleet.value,
        cluster,
        placements: plan.placements.iter().filter(|p| p.cluster_id() == id).collect(),
        sources,
    };
    let objects = match cluster.doc.value.gitops.engine {
        GitopsEngine::Flux => flux::cluster(&ctx),
        GitopsEngine::Argocd => argocd::cluster(&ctx),
    };
    let base = vec![
        files.get(cluster.doc.file).path.clone(),
        files.get(plan.fleet.file).path.clone(),
    ];
    let own = cluster_labels(&plan.fleet.value, &cluster.doc.value);
    let mut out = Files::new();
    let mut resources = Vec::new();
    for EngineObject { mut object, placement } in objects {
        let mut srcs = base.clone();
        let labels = match placement {
            Some(p) => {
                srcs.insert(0, files.get(p.app.file).path.clone());
                p.labels.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect()
            }
            None => own.clone(),
        };
        objects::finish(&mut object, "", &labels, &[]);
        let name = objects::file_name(&object);
        let mut text = header(&srcs);
        yaml::write(&mut text, &object.value);
        resources.push(format!("gitops/{name}"));
        out.push((format!("{id}/gitops/{name}"), text));
    }
    for mut object in admission::objects(sources, plan, &cluster.doc.value) {
        objects::finish(&mut object, "", &own, &[]);
        let name = objects::file_name(&object);
        let mut text = header(&[base.clone(), vec!["policy-library/".to_string()]].concat());
        yaml::write(&mut text, &object.value);
        resources.push(format!("policy/{name}"));
        out.push((format!("{id}/policy/{name}"), text));
    }
    resources.sort();
    let mut root = format!(
        "{HEADER}# sources: {}, fleet.yaml; the {} objects that reconcile this cluster, and its admission policies\n",
        files.get(cluster.doc.file).path,
        cluster.doc.value.gitops.engine
    );
    yaml::write(
        &mut root,
        &json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        }),
    );
    out.push((format!("{id}/kustomization.yaml"), root));
    out
}

fn render_placement(
    run: &Run,
    p: &Placement,
    seen: &mut HashMap<(String, String, String, String), (String, String)>,
    enforce: &Enforce,
    mut kept: Option<&mut Vec<RenderedObject>>,
) -> (Files, Vec<Diagnostic>) {
    let (sources, plan, engine, contexts, cache) = (run.sources, run.plan, run.engine, &run.contexts, &run.cache);
    let files = &sources.files;
    let app = p.app_name();
    let id = p.cluster_id();
    let labels: Vec<(String, String)> = p.labels.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
    let mut pod_labels = labels.clone();
    pod_labels.extend(p.identity.pod_labels.iter().map(|(k, v)| (k.clone(), v.value.clone())));
    let selector = vec![("app.kubernetes.io/name".to_string(), app.to_string())];
    let ctx = minijinja::context! {
        fleet => contexts.fleet.clone(),
        app => contexts.apps.get(app).cloned(),
        cluster => contexts.clusters.get(id).cloned(),
        workload => to_mj(workload(p)),
        labels => to_mj(pairs_json(&labels)),
        podLabels => to_mj(pairs_json(&pod_labels)),
        selector => to_mj(pairs_json(&selector)),
    };
    let base_sources = placement_sources(sources, plan, p);
    let dir = format!("{id}/apps/{app}");
    let mut out: Files = Vec::new();
    let mut errors = Vec::new();
    let mut resources = Vec::new();
    let chart = p.app.value.chart.is_some();
    // A drained app keeps only its namespace (see `resolve::plan::Placement::drained`).
    let templates: Vec<&str> = match p.drained {
        Some(_) => engine
            .templates_for(app, chart)
            .into_iter()
            .filter(|n| *n == "namespace.yaml.j2")
            .collect(),
        None => engine.templates_for(app, chart),
    };
    for name in templates {
        let Some(template_file) = engine.file(name) else {
            continue;
        };
        let text = match engine.render(name, &ctx, files) {
            Ok(t) => t,
            Err(e) => {
                errors.push(*e);
                continue;
            }
        };
        let objects = match cache.parse(text, template_file, files) {
            Ok(o) => o,
            Err(e) => {
                errors.push(*e);
                continue;
            }
        };
        let template_path = files.get(template_file).path.clone();
        for (index, written) in objects.iter().enumerate() {
            let mut obj = written.clone();
            objects::finish_ordered(&mut obj, &p.namespace, &labels, &pod_labels);
            let key = (
                obj.group().to_string(),
                obj.kind.clone(),
                obj.namespace.clone().unwrap_or_default(),
                obj.name.clone(),
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
            seen.insert(key, (app.to_string(), template_path.clone()));
            errors.extend(enforce.check(p, &obj, template_file, files));
            let file_name = objects::file_name(&obj);
            let mut text = header(&[base_sources.clone(), vec![template_path.clone()]].concat());
            yaml::write(&mut text, &obj.value);
            resources.push(file_name.clone());
            if let Some(kept) = kept.as_deref_mut() {
                kept.push(RenderedObject {
                    cluster: id.to_string(),
                    app: app.to_string(),
                    template: template_file,
                    path: format!("{dir}/{file_name}"),
                    object: obj.value.clone(),
                    output: Arc::clone(&objects),
                    index,
                });
            }
            out.push((format!("{dir}/{file_name}"), text));
        }
    }
    if chart && p.drained.is_none() {
        let mut srcs = base_sources.clone();
        srcs.extend(
            values::layers(sources, p)
                .iter()
                .map(|v| files.get(v.file).path.clone()),
        );
        let values = values::values(sources, p).to_json();
        if p.cluster.value.gitops.engine == GitopsEngine::Flux {
            // The app's Flux Kustomization applies its chart source and HelmRelease too.
            for mut obj in flux::chart_objects(p, values.clone()) {
                objects::finish(&mut obj, &p.namespace, &labels, &[]);
                let file_name = objects::file_name(&obj);
                let mut text = header(&srcs);
                yaml::write(&mut text, &obj.value);
                resources.push(file_name.clone());
                out.push((format!("{dir}/{file_name}"), text));
            }
        }
        let mut text = header(&srcs);
        yaml::write(&mut text, &values);
        out.push((format!("{dir}/values.yaml"), text));
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
    let mut kustomization = format!("{HEADER}# sources: the objects of this folder\n");
    yaml::write(
        &mut kustomization,
        &json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        }),
    );
    out.push((format!("{dir}/kustomization.yaml"), kustomization));
    (out, errors)
}

/// `<clusterId>/cluster.yaml`: the cluster as resolved, and what lands on it.
fn cluster_summary(sources: &Sources, plan: &Plan, c: &ClusterPlan) -> String {
    let files = &sources.files;
    let v = &c.doc.value;
    let mut srcs = vec![files.get(c.doc.file).path.clone()];
    if let Some(p) = c.profile {
        srcs.push(files.get(p.file).path.clone());
    }
    let apps: Vec<Value> = plan
        .placements
        .iter()
        .filter(|p| p.cluster_id() == c.id())
        .map(|p| {
            json!({
                "name": p.app_name(),
                "namespace": p.namespace,
                "version": p.app.value.application.version,
                "delivery": if p.app.value.chart.is_some() { "helm" } else { "manifests" },
                "replicas": replicas(p),
                "state": state(p),
            })
        })
        .collect();
    let mut text = header(&srcs);
    yaml::write(
        &mut text,
        &json!({
            "clusterId": v.cluster_id.as_str(),
            "provider": v.provider.as_str(),
            "region": v.region,
            "environment": v.environment.as_str(),
            "ring": v.upgrade_channel.as_str(),
            "role": v.role.as_str(),
            "profile": v.profile.as_str(),
            "gitopsEngine": v.gitops.engine.as_str(),
            "kubernetesVersion": v.kubernetes_version,
            "gateway": c.gateway().map(|g| json!({"name": g.name.as_str(), "namespace": g.namespace.as_str()})),
            "apps": apps,
        }),
    );
    text
}

/// Replicas on the cluster: none where the app is drained.
fn replicas(p: &Placement) -> Value {
    match p.drained {
        Some(_) => json!({"min": 0, "max": 0}),
        None => json!({"min": p.replicas.min, "max": p.replicas.max}),
    }
}

/// `active`, or the kill switch that is on: `drained` or `suspended`.
fn state(p: &Placement) -> &'static str {
    match (&p.drained, &p.suspended) {
        (Some(_), _) => "drained",
        (None, Some(_)) => "suspended",
        (None, None) => "active",
    }
}

/// `fleet.yaml`: every placement, sorted by app then cluster.
fn matrix(plan: &Plan) -> String {
    let mut rows: Vec<&Placement> = plan.placements.iter().collect();
    rows.sort_by(|a, b| (a.app_name(), a.cluster_id()).cmp(&(b.app_name(), b.cluster_id())));
    let placements: Vec<Value> = rows
        .iter()
        .map(|p| {
            let c = &p.cluster.value;
            json!({
                "app": p.app_name(),
                "cluster": p.cluster_id(),
                "environment": c.environment.as_str(),
                "region": format!("{}:{}", c.provider, c.region),
                "ring": c.upgrade_channel.as_str(),
                "version": p.app.value.application.version,
                "dataMode": p.app.value.data.as_ref().map(|d| d.mode.as_str()),
                "delivery": if p.app.value.chart.is_some() { "helm" } else { "manifests" },
                "replicas": replicas(p),
                "state": state(p),
            })
        })
        .collect();
    let mut text = format!("{HEADER}# sources: fleet.yaml, clusters/, apps/\n");
    yaml::write(
        &mut text,
        &json!({
            "fleet": plan.fleet.value.name.as_str(),
            "placements": placements,
        }),
    );
    text
}

/// A JSON value as a template value.
fn to_mj(v: Value) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(v))
}
