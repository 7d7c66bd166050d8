//! The output backends. A backend turns the resolved fleet into one kind of output and
//! knows nothing of the others:
//!
//! - a [`ClusterBackend`] renders objects into each cluster's tree it serves: the objects of
//!   the cluster root (in its [`Area`]: `gitops/`, `policy/`), the cluster's own and each
//!   placed app's (made one placement at a time, so that the cache keeps them by placement),
//!   and objects that join a placed app's own folder (a chart app's HelmRelease on Flux);
//! - a [`FleetBackend`] renders files laid out across clusters (Azure Policy assignments,
//!   hoisted to a subscription when clusters share them; the global traffic layer's Front
//!   Door and Route 53 templates in `_edge/`; the clouds' side of app identities in
//!   `_identity/`).
//!
//! Adding an output is one file here, one line in [`CLUSTER`] or [`FLEET`], and its golden
//! case (`tests/golden/`). The driver ([`super::driver`]) does the rest: labels, headers,
//! seals, the root kustomization, ownership for partial renders.

pub mod admission;

/// How every Azure template fleetgen renders is deployed: as a deployment stack (`az stack
/// group|sub create … STACK_FLAGS`), so that a resource a newer template drops (a Front Door
/// route, a federated credential, a policy assignment) is deleted in Azure; a plain `az
/// deployment … create` is incremental and would leave it in place.
pub const STACK_FLAGS: &str = "--action-on-unmanage deleteResources --deny-settings-mode none";
pub mod argocd;
pub mod azure_policy;
pub mod cloud_identity;
pub mod flux;
pub mod frontdoor;
pub mod route53;

use serde_json::Value;

use std::collections::{BTreeMap, BTreeSet};

use crate::kube::{GroupKind, Object};
use crate::layout::Area;
use crate::load::Sources;
use crate::model::fleet::Fleet;
use crate::model::{Cluster, GitopsEngine};
use crate::resolve::plan::{ClusterPlan, Placement, Plan};

/// A backend of each cluster's tree.
pub trait ClusterBackend: Sync {
    /// For a GitOps engine backend: the engine whose clusters it serves, and the namespace
    /// its controllers run in (which policies leave alone).
    fn engine(&self) -> Option<(GitopsEngine, &'static str)> {
        None
    }
    /// Whether it renders into `cluster`'s tree: an engine backend the clusters of its
    /// engine, any other every cluster.
    fn serves(&self, cluster: &Cluster) -> bool {
        self.engine().is_none_or(|(engine, _)| cluster.gitops.engine == engine)
    }
    /// The area of the cluster root its cluster objects go to.
    fn area(&self) -> Area<'static> {
        Area::Gitops
    }
    /// Sources its cluster objects come from besides the cluster file and fleet.yaml, for
    /// the file headers.
    fn sources(&self) -> &'static [&'static str] {
        &[]
    }
    /// For an engine backend: whether the cluster root applies the objects of `area` itself;
    /// if not, the engine delivers them with objects of its own (pointing at the area's
    /// folder), which [`ClusterContext::delivered`] tells it to make.
    fn root_applies(&self, _area: Area) -> bool {
        true
    }
    /// The cluster's own objects in the cluster root.
    fn cluster_objects(&self, ctx: &ClusterContext) -> Vec<Object>;
    /// A key of everything its cluster objects are made from, given the key of the
    /// fleet-wide inputs (fleetgen, the day, fleet.yaml, profiles, policy, templates), when
    /// that is less than the cluster and all its placements: a render of the cluster takes
    /// the objects of an earlier render with the same key. None (the default): made again
    /// whenever the cluster is rendered. An engine backend is asked last, when
    /// [`ClusterContext::delivered`] holds what the others deliver: its key covers that.
    fn key(&self, _ctx: &ClusterContext, _global: &crate::incremental::Key) -> Option<crate::incremental::Key> {
        None
    }
    /// The objects in the cluster root that belong to one placed app (its Kustomization or
    /// Application), after the cluster's own. Only an engine backend has any: the cache
    /// keeps them by the placement's key and what [`PlacementContext`] tells of its
    /// neighbours, so they must be made from nothing else.
    fn placement_objects(&self, _ctx: &PlacementContext) -> Vec<Object> {
        Vec::new()
    }
    /// Objects that join a placed chart app's own folder, given its Helm values.
    fn chart_objects(&self, _fleet: &Fleet, _p: &Placement, _values: &Value) -> Vec<Object> {
        Vec::new()
    }
}

/// A backend of fleet-wide outputs.
pub trait FleetBackend: Sync {
    /// Its files, by path relative to the output folder, for the clusters `selected` admits
    /// (fleet-wide files always).
    fn render(&self, ctx: &FleetContext) -> Vec<(String, String)>;
    /// A key of everything its files are made from, given the key of the fleet-wide inputs
    /// (fleetgen, the day, fleet.yaml, profiles, policy, templates), when that is less than
    /// the whole plan: a whole render reuses the files of an earlier render with the same
    /// key. None (the default): made again whenever any placement changes.
    fn key(&self, _ctx: &FleetContext, _global: &crate::incremental::Key) -> Option<crate::incremental::Key> {
        None
    }
}

/// Every cluster backend, in the order their objects are made.
pub static CLUSTER: &[&dyn ClusterBackend] = &[&flux::Flux, &argocd::ArgoCd, &admission::Admission];

/// Every fleet backend.
pub static FLEET: &[&dyn FleetBackend] = &[
    &azure_policy::AzurePolicy,
    &cloud_identity::CloudIdentity,
    &frontdoor::FrontDoor,
    &route53::Route53,
];

/// CloudFormation logical ids are alphanumeric.
pub use crate::model::common::pascal_case as pascal;

/// A fleet-level template's text (ARM or CloudFormation): pretty JSON and a newline.
pub fn json_text(template: &Value) -> String {
    let mut text = serde_json::to_string_pretty(template).unwrap_or_default();
    text.push('\n');
    text
}

/// The largest CloudFormation template `aws cloudformation deploy` passes inline; a larger
/// one (up to 1 MB) must go through an S3 bucket (`--s3-bucket`).
pub const CLOUDFORMATION_INLINE_BYTES: usize = 51_200;

/// A CloudFormation template's text (pretty JSON and a newline). When it is larger than
/// [`CLOUDFORMATION_INLINE_BYTES`], its deploy command (`Metadata.fleetgen.deploy`) names
/// fleet.yaml's `cloudFormation.templateBucket` for the stack's account and region, where
/// the name can be made (lint's FG171 reports one that cannot).
pub fn cloudformation_text(
    mut template: Value,
    settings: Option<&crate::model::fleet::CloudFormation>,
    account: Option<&str>,
    region: Option<&str>,
) -> String {
    let text = json_text(&template);
    let bucket = settings.and_then(|c| c.bucket(account, region));
    let deploy = template["Metadata"]["fleetgen"]["deploy"].as_str().map(str::to_string);
    match (bucket, deploy) {
        (Some(bucket), Some(deploy)) if text.len() > CLOUDFORMATION_INLINE_BYTES => {
            template["Metadata"]["fleetgen"]["deploy"] = Value::String(format!("{deploy} --s3-bucket {bucket}"));
            json_text(&template)
        }
        _ => text,
    }
}

/// The cluster backends that render into `cluster`'s tree.
pub fn serving(cluster: &Cluster) -> impl Iterator<Item = &'static dyn ClusterBackend> + '_ {
    CLUSTER.iter().copied().filter(move |b| b.serves(cluster))
}

/// The namespace of the GitOps engine that reconciles `cluster`.
pub fn engine_namespace(cluster: &Cluster) -> Option<&'static str> {
    serving(cluster)
        .find_map(|b| b.engine())
        .map(|(_, namespace)| namespace)
}

/// What the policy backends read of the placements on `cluster`: the namespace there of each
/// app a policy exemption names (none where the app does not land), in app-name order (see
/// `policy::cluster_exemptions`). Part of the keys of the objects those backends make.
pub fn exempted_namespaces<'p>(sources: &'p Sources, plan: &'p Plan, cluster: &str) -> Vec<(&'p str, Option<&'p str>)> {
    let named: BTreeSet<&str> = (sources.policy_exemptions.iter())
        .filter_map(|d| d.value.target.app.as_ref().map(|a| a.as_str()))
        .collect();
    named
        .into_iter()
        .map(|app| (app, plan.placement(app, cluster).map(|p| p.namespace.as_str())))
        .collect()
}

/// The namespaces of a cluster's platform, which policies leave alone: the GitOps engine's
/// and those its profile lists.
pub fn platform_namespaces(cluster: &ClusterPlan) -> Vec<String> {
    let mut out: Vec<String> = engine_namespace(&cluster.doc.value)
        .map(str::to_string)
        .into_iter()
        .collect();
    for ns in cluster.profile.iter().flat_map(|p| &p.value.platform_namespaces) {
        if !out.iter().any(|o| o == ns.as_str()) {
            out.push(ns.to_string());
        }
    }
    out
}

/// What a cluster backend knows about one cluster.
pub struct ClusterContext<'a> {
    pub sources: &'a Sources,
    pub plan: &'a Plan<'a>,
    pub fleet: &'a Fleet,
    pub cluster: &'a ClusterPlan<'a>,
    /// Every placement on the cluster (whatever was selected: the root lists them all).
    pub placements: Vec<&'a Placement<'a>>,
    /// What each app's folder delivers (the kinds of its objects, and its chart's).
    pub kinds: BTreeMap<String, BTreeSet<GroupKind>>,
    /// For the engine backend: the areas the other backends filled, with their kinds.
    pub delivered: BTreeMap<Area<'static>, BTreeSet<GroupKind>>,
}

impl<'a> ClusterContext<'a> {
    /// What a backend knows when it makes the objects of placement `p` of the cluster.
    ///
    /// A kill switch must reach the cluster whatever its neighbours do, so a drained or
    /// scaled-down app waits for no dependency and is in the first wave, as is one whose sync
    /// a switch stops (Argo CD's root applies a later wave only once the earlier ones are
    /// healthy, and a degraded dependency is what an incident is made of). Nothing waits for a
    /// dependency whose sync is stopped: a suspended Kustomization never applies the next
    /// revision, and Flux holds every Kustomization that depends on it until it does.
    pub fn placement(&self, p: &'a Placement<'a>) -> PlacementContext<'a> {
        PlacementContext {
            sources: self.sources,
            fleet: self.fleet,
            cluster: self.cluster,
            placement: p,
            dependencies: self.waits_for(p),
            wave: self.wave(p, 0),
        }
    }

    /// The dependencies on the cluster that `p` waits for: none for a drained or scaled-down
    /// app, and never one whose sync is stopped (see [`Self::placement`]).
    fn waits_for(&self, p: &Placement) -> Vec<String> {
        if p.drained.is_some() || p.scaled_down.is_some() {
            return Vec::new();
        }
        let stopped = |name: &str| (self.placements.iter()).any(|q| q.app_name() == name && q.suspended.is_some());
        let mut dependencies = crate::resolve::deps::on_cluster(&self.placements, p);
        dependencies.retain(|d| !stopped(d));
        dependencies
    }

    /// The sync wave of `p`: 0 under a switch or without dependencies it waits for, else one
    /// above the highest of those ([`Self::waits_for`]).
    fn wave(&self, p: &Placement, depth: usize) -> usize {
        // Cycles are refused before rendering; the depth guard keeps a missed one finite.
        if depth > self.placements.len() || p.suspended.is_some() {
            return 0;
        }
        self.waits_for(p)
            .iter()
            .filter_map(|d| self.placements.iter().find(|q| q.app_name() == d))
            .map(|q| self.wave(q, depth + 1) + 1)
            .max()
            .unwrap_or(0)
    }
}

/// What a cluster backend knows about one placement of a cluster: the placement, and of its
/// neighbours on the cluster only what is here (the cache's key of the placement's objects
/// covers the placement's own key, [`Self::dependencies`] and [`Self::wave`]).
pub struct PlacementContext<'a> {
    pub sources: &'a Sources,
    pub fleet: &'a Fleet,
    pub cluster: &'a ClusterPlan<'a>,
    pub placement: &'a Placement<'a>,
    /// The apps it calls synchronously that are placed on the same cluster, by name, that it
    /// waits for (see [`ClusterContext::placement`]).
    pub dependencies: Vec<String>,
    /// Its deployment wave: 0 without dependencies here or under a kill switch, else one
    /// above its highest.
    pub wave: usize,
}

impl PlacementContext<'_> {
    /// The rendered Helm values of a chart app.
    pub fn values(&self) -> Value {
        super::values::values(self.sources, self.placement).to_json()
    }
}

/// What a fleet backend knows.
pub struct FleetContext<'a> {
    pub sources: &'a Sources,
    pub plan: &'a Plan<'a>,
    /// Whether a cluster was selected for this render.
    pub selected: &'a (dyn Fn(&str) -> bool + Sync),
}

/// What backend unit tests share: a cluster's context from a fixture fleet.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::resolve::plan;

    /// The objects `backend` makes for `cluster` of `sources`, the cluster's own first:
    /// (owning app, object).
    pub fn cluster_objects(
        sources: &Sources,
        backend: &dyn ClusterBackend,
        cluster: &str,
    ) -> Vec<(Option<String>, Value)> {
        let (plan, problems) = plan::plan(sources);
        assert!(problems.is_empty(), "{problems:?}");
        let plan = plan.expect("the fixture resolves");
        let c = plan
            .clusters
            .iter()
            .find(|c| c.id() == cluster)
            .expect("a cluster of the fixture");
        assert!(backend.serves(&c.doc.value), "the backend does not serve {cluster}");
        let ctx = ClusterContext {
            sources,
            plan: &plan,
            fleet: &plan.fleet.value,
            cluster: c,
            placements: plan.placements.iter().filter(|p| p.cluster_id() == cluster).collect(),
            kinds: BTreeMap::new(),
            delivered: BTreeMap::new(),
        };
        let own = backend.cluster_objects(&ctx).into_iter().map(|o| (None, o.value));
        let placed = ctx.placements.iter().flat_map(|p| {
            let objects = backend.placement_objects(&ctx.placement(p));
            objects.into_iter().map(|o| (Some(p.app_name().to_string()), o.value))
        });
        own.chain(placed).collect()
    }

    /// The object of `kind` named `name` among `objects`.
    pub fn find<'a>(objects: &'a [(Option<String>, Value)], kind: &str, name: &str) -> &'a Value {
        objects
            .iter()
            .map(|(_, o)| o)
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::fixture;

    /// A template over 51,200 bytes names the bucket of its account and region in its
    /// deploy command; a smaller one, one whose bucket needs what is not known, or one of a
    /// fleet without a bucket, keeps its command.
    #[test]
    fn a_large_cloudformation_template_is_deployed_through_its_bucket() {
        let settings = crate::model::fleet::CloudFormation {
            template_bucket: "fleet-templates-{accountId}-{region}".into(),
        };
        let deploy = "aws cloudformation deploy --stack-name s --template-file t.json";
        let template = |filler: usize| serde_json::json!({"Metadata": {"fleetgen": {"deploy": deploy}}, "Description": "x".repeat(filler)});
        let command = |text: &str| -> String {
            let v: Value = serde_json::from_str(text).unwrap();
            v["Metadata"]["fleetgen"]["deploy"].as_str().unwrap().to_string()
        };
        let large = cloudformation_text(
            template(60_000),
            Some(&settings),
            Some("111122223333"),
            Some("eu-west-1"),
        );
        assert_eq!(
            command(&large),
            format!("{deploy} --s3-bucket fleet-templates-111122223333-eu-west-1")
        );
        let small = cloudformation_text(template(100), Some(&settings), Some("111122223333"), Some("eu-west-1"));
        assert!(small.len() <= CLOUDFORMATION_INLINE_BYTES && command(&small) == deploy);
        assert_eq!(
            command(&cloudformation_text(template(60_000), Some(&settings), None, None)),
            deploy
        );
        assert_eq!(
            command(&cloudformation_text(template(60_000), None, Some("1"), Some("r"))),
            deploy
        );
        let plain = crate::model::fleet::CloudFormation {
            template_bucket: "fleet-templates".into(),
        };
        let route53 = cloudformation_text(template(60_000), Some(&plain), None, None);
        assert_eq!(command(&route53), format!("{deploy} --s3-bucket fleet-templates"));
        assert!(large.ends_with("}\n"));
    }

    #[test]
    fn logical_ids_are_alphanumeric() {
        assert_eq!(pascal("orders.example.com"), "OrdersExampleCom");
        assert_eq!(pascal("useast1-prod-01"), "Useast1Prod01");
        assert_eq!(pascal("-default"), "Default");
    }

    #[test]
    fn each_cluster_is_served_by_its_engine_and_the_admission_backend() {
        let sources = fixture::sources(&[]);
        let names = |id: &str| {
            let c = &sources
                .clusters
                .iter()
                .find(|c| c.value.cluster_id == *id)
                .unwrap()
                .value;
            (serving(c).count(), engine_namespace(c))
        };
        assert_eq!(names("eastus-prod-01"), (2, Some("flux-system")));
        assert_eq!(names("useast1-prod-01"), (2, Some("argocd")));
    }
}
