//! The render driver: every selected cluster rendered on its own thread ([`super::cluster`]),
//! the placement matrix meanwhile, then the fleet backends; problems of many placements
//! grouped into one diagnostic each.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::backends::{self, FleetContext};
use super::templates::Engine;
use super::tree::{RenderedTree, Selection, seal};
use super::{cluster, context::Contexts, matrix, objects};
use crate::diag::Diagnostic;
use crate::layout;
use crate::load::Sources;
use crate::policy::enforce;
use crate::resolve::plan::{ClusterPlan, Plan};
use crate::source::{FileId, SourceMap};

/// Everything one render shares between clusters.
pub(super) struct Run<'a> {
    pub used: enforce::Used,
    pub sources: &'a Sources,
    pub plan: &'a Plan<'a>,
    pub engine: &'a Engine,
    pub contexts: Contexts,
    pub cache: ParseCache,
}

/// A problem of one placement: the diagnostic, the app and the cluster.
pub(super) type PlacementError = (Diagnostic, String, String);

/// Stack for render threads: template output is parsed with serde-saphyr, which needs more
/// than the 2 MiB a thread gets by default.
const STACK: usize = crate::load::yaml::PARSER_STACK;

/// Renders the selected part of the fleet, with the problems of every cluster (errors,
/// and warnings such as audit-level policy findings), calling `cluster_done` as each
/// cluster is rendered (from render threads, for a progress bar). With an error, the tree
/// is partial and must not be written.
pub fn render(
    sources: &Sources,
    plan: &Plan,
    engine: &Engine,
    select: &Selection,
    cluster_done: &(dyn Fn() + Sync),
) -> (RenderedTree, Vec<Diagnostic>) {
    let run = Run {
        used: enforce::Used::default(),
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
                let done = cluster::render(&run, c, select);
                cluster_done();
                done
            })
            .collect::<Vec<_>>()
    };
    // The placement matrix is written meanwhile, on whichever thread is free.
    let fleet_matrix = || seal(&matrix::render(sources, plan));
    let (results, fleet_matrix) = match rayon::ThreadPoolBuilder::new().stack_size(STACK).build() {
        Ok(pool) => pool.install(|| rayon::join(work, fleet_matrix)),
        Err(_) => std::thread::scope(|s| {
            let results = std::thread::Builder::new()
                .stack_size(STACK)
                .spawn_scoped(s, || {
                    clusters.iter().map(|c| cluster::render(&run, c, select)).collect()
                })
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .unwrap_or_default();
            (results, fleet_matrix())
        }),
    };
    let mut tree = RenderedTree::default();
    let mut problems = Vec::new();
    for mut done in results {
        tree.files.extend(done.files);
        tree.apps.append(&mut done.apps);
        problems.append(&mut done.errors);
        tree.objects.append(&mut done.objects);
    }
    tree.files.insert(layout::MATRIX.into(), fleet_matrix);
    let ctx = FleetContext {
        sources,
        plan,
        selected: &|id| select.cluster(id),
    };
    for backend in backends::FLEET {
        for (path, text) in backend.render(&ctx) {
            let text = if path.ends_with(".yaml") { seal(&text) } else { text };
            tree.files.insert(path, text);
        }
    }
    let mut problems = group(problems);
    if select.is_all() {
        problems.extend(enforce::unused(sources, &run.used));
    }
    (tree, problems)
}

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

type ParsedOutputs = HashMap<(FileId, String), Arc<Vec<objects::Object>>>;

/// Parsed template output, shared by all clusters. Managed labels are added after
/// parsing, so most templates render the same text on every cluster an app lands on (the
/// Service, the autoscaler of one replica share …); each distinct text is parsed once.
#[derive(Default)]
pub(super) struct ParseCache {
    parsed: Mutex<ParsedOutputs>,
}

impl ParseCache {
    pub fn parse(
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
