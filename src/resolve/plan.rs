//! The resolved fleet: every (app, cluster) placement with the values rendering needs,
//! each value remembering the source line it came from.
//!
//! Replicas: a contract gives `minReplicasPerRegion` and `maxReplicasPerRegion`. A region
//! (provider:region within one environment) may hold several clusters that the app lands on;
//! each gets `ceil(min / n)` and `ceil(max / n)` (never below its min), so the region
//! together never runs fewer than the contract's minimum. A cluster the app is drained from
//! or scaled down on runs none and is not one of the `n`.
//!
//! Standby shape: an app whose data mode keeps a standby (`pilot-light`, `warm-standby`,
//! `hot-standby`) runs its full minimum only in its write regions. A standby region (a placed
//! region that is not in `data.writeRegions`) runs 1 replica for `pilot-light` (the core that
//! must be up to be scaled out; 0 would need the HorizontalPodAutoscaler's alpha
//! scale-to-zero), `ceil(min × data.standbyFraction)` for `warm-standby` (default 0.5), and
//! the full minimum for `hot-standby`. The maximum stays the contract's, so that the
//! autoscaler can grow the standby into the primary's load on failover.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::diag::{Diagnostic, Label, codes};
use crate::load::{Doc, Sources};
use crate::model::app::{DataMode, PodDisruptionBudget, ResourceList, TopologySpread};
use crate::model::fleet::Fleet;
use crate::model::profiles::{ClusterProfile, GatewayRef, IdentityProfile, TelemetryProfile};
use crate::model::{App, Cluster, Provider};
use crate::source::{FileId, SourceMap, Span};

use super::placement::selects;

/// Where a value came from: a span in a source file, or fleetgen's own default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Source(FileId, Span),
    /// Computed from the value at a span; the text says how.
    Derived(FileId, Span, String),
    Default(&'static str),
}

impl Origin {
    pub fn describe(&self, files: &SourceMap) -> String {
        match self {
            Origin::Source(file, span) => {
                let f = files.get(*file);
                let (line, col) = f.line_col(span.start);
                format!("{}:{line}:{col}", f.path)
            }
            Origin::Derived(file, span, how) => {
                format!("{} ({how})", Origin::Source(*file, span.clone()).describe(files))
            }
            Origin::Default(what) => (*what).to_string(),
        }
    }
}

/// A value with its origin.
#[derive(Clone, Debug)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: Origin,
}

/// The whole resolved fleet.
#[derive(Debug)]
pub struct Plan<'s> {
    pub fleet: &'s Doc<Fleet>,
    /// Sorted by cluster id, then app name.
    pub placements: Vec<Placement<'s>>,
    /// Clusters in id order, each with its profile.
    pub clusters: Vec<ClusterPlan<'s>>,
    /// A digest of every placement's cloud identity seat ([`super::cloud_identity::seats`]),
    /// made once by whichever later stage needs it first (the cache's key of the cloud
    /// identity files, and of FG039's verdict).
    pub seats_digest: std::sync::OnceLock<[u8; 32]>,
    /// Whether no AWS role's policy is over IAM's limits (FG039 checked it, or the cache
    /// knew these seats within them): the cache keeps the seats' digest for the next run.
    pub iam_within_limits: bool,
}

impl<'s> Plan<'s> {
    /// Where the placements on `cluster` are in [`Plan::placements`] (sorted by cluster).
    pub fn cluster_range(&self, cluster: &str) -> std::ops::Range<usize> {
        let start = self.placements.partition_point(|p| p.cluster_id() < cluster);
        let len = self.placements[start..].partition_point(|p| p.cluster_id() == cluster);
        start..start + len
    }

    /// The placements on `cluster`, in app order.
    pub fn on_cluster(&self, cluster: &str) -> &[Placement<'s>] {
        &self.placements[self.cluster_range(cluster)]
    }

    /// The placement of `app` on `cluster`, if it lands there.
    pub fn placement(&self, app: &str, cluster: &str) -> Option<&Placement<'s>> {
        let here = self.on_cluster(cluster);
        here.binary_search_by(|p| p.app_name().cmp(app)).ok().map(|i| &here[i])
    }

    /// The undrained placements on `p`'s cluster of the services `p` depends on, in
    /// `dependsOn` order (the app itself left out).
    pub fn callees<'a>(&'a self, p: &'a Placement) -> impl Iterator<Item = &'a Placement<'s>> {
        p.app
            .value
            .depends_on
            .iter()
            .filter(|d| d.service.as_str() != p.app_name())
            .filter_map(|d| self.placement(d.service.as_str(), p.cluster_id()))
            .filter(|q| q.drained.is_none())
    }

    /// The undrained placements on `p`'s cluster that depend on `p`'s app, in app order.
    pub fn callers<'a>(&'a self, p: &'a Placement) -> impl Iterator<Item = &'a Placement<'s>> {
        self.on_cluster(p.cluster_id()).iter().filter(|q| {
            q.drained.is_none()
                && q.app_name() != p.app_name()
                && q.app
                    .value
                    .depends_on
                    .iter()
                    .any(|d| d.service.as_str() == p.app_name())
        })
    }
}

#[derive(Clone, Copy, Debug)]
pub struct ClusterPlan<'s> {
    pub doc: &'s Doc<Cluster>,
    pub profile: Option<&'s Doc<ClusterProfile>>,
}

impl<'s> ClusterPlan<'s> {
    pub fn id(&self) -> &'s str {
        self.doc.value.cluster_id.as_str()
    }
    pub fn gateway(&self) -> Option<&'s GatewayRef> {
        self.profile.and_then(|p| p.value.gateway.as_ref())
    }
}

/// One app on one cluster.
#[derive(Debug)]
pub struct Placement<'s> {
    pub app: &'s Doc<App>,
    pub cluster: &'s Doc<Cluster>,
    pub gateway: Option<&'s GatewayRef>,
    pub namespace: String,
    pub replicas: Replicas,
    pub pod_disruption_budget: Sourced<bool>,
    pub topology_spread: Sourced<TopologySpread>,
    pub requests: Resources,
    pub limits: Resources,
    pub readiness_path: Option<Sourced<String>>,
    pub liveness_path: Option<Sourced<String>>,
    /// Managed labels: the required telemetry labels, then `app.kubernetes.io/*`.
    pub labels: super::labels::Labels,
    pub identity: Identity,
    pub telemetry: Option<&'s TelemetryProfile>,
    /// What scrapes the app's metrics port: the cluster's observability profile's scraper.
    pub scraper: Option<std::borrow::Cow<'s, crate::model::profiles::Scraper>>,
    /// Kill switch: sync stopped (the cluster's or the app's switch), with the reason.
    pub suspended: Option<String>,
    /// Kill switch: the app is drained from this cluster, with the reason.
    pub drained: Option<String>,
    /// Incident switch (fleet.yaml `switches.scaleDown`): the app runs 0 replicas here.
    pub scaled_down: Option<String>,
    /// The Front Door id its route must require (`X-Azure-FDID`): a profile that locks its
    /// origins serves one of its hostnames in the cluster's environment.
    pub front_door_id: Option<String>,
    /// The route its edge health checks take on this cluster's gateway, when an edge entry
    /// probes it here.
    pub probe_route: Option<super::edge::ProbeRoute>,
    /// The image its pods pull when it is not the release's as written: the same image from
    /// its registry's replica in the cluster's region, where that has a host of its own (ECR).
    pub regional_image: Option<String>,
}

impl<'s> Placement<'s> {
    /// The image and version this cluster runs: its ring's release of the app.
    pub fn release(&self) -> crate::model::app::Release<'s> {
        self.app
            .value
            .application
            .release(self.cluster.value.upgrade_channel.as_str())
    }
    /// The image its pods pull: the release's, from the registry's replica in the cluster's
    /// region when that has a host of its own.
    pub fn image(&self) -> &str {
        self.regional_image.as_deref().unwrap_or(self.release().image)
    }
    pub fn app_name(&self) -> &str {
        self.app.value.application.name.as_str()
    }
    pub fn cluster_id(&self) -> &str {
        self.cluster.value.cluster_id.as_str()
    }
}

/// CPU and memory of requests or limits, each from the contract or fleet.yaml's defaults.
#[derive(Clone, Debug, Default)]
pub struct Resources {
    pub cpu: Option<Sourced<String>>,
    pub memory: Option<Sourced<String>>,
}

impl Resources {
    pub fn is_empty(&self) -> bool {
        self.cpu.is_none() && self.memory.is_none()
    }
}

#[derive(Clone, Debug)]
pub struct Replicas {
    pub min: u32,
    pub max: u32,
    /// How many clusters share the region's replicas.
    pub share: u32,
    /// The region's minimum and maximum before they are shared (after the standby shape).
    pub region_min: u32,
    pub region_max: u32,
    /// The data mode that makes this a standby region, which runs fewer replicas.
    pub standby: Option<DataMode>,
    pub min_origin: Origin,
    pub max_origin: Origin,
}

/// Cloud identity wiring, from the identity profile and the cluster.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    pub service_account_annotations: Vec<(String, Sourced<String>)>,
    pub pod_labels: Vec<(String, Sourced<String>)>,
    pub automount_token: bool,
    /// The secrets the app reads (`read-secret` permissions), from the cluster's regional
    /// store through the Secrets Store CSI driver.
    pub secrets: Option<SecretStore>,
    /// How the cloud trusts the app's service account here (none: revoked, or the profile
    /// does not name the cloud identity's resource).
    pub federation: Option<super::cloud_identity::Federation>,
    /// The required permissions as this cluster's cloud grants them.
    pub grants: Vec<super::cloud_identity::Grant>,
}

/// The pod template annotation that carries [`Identity::injected_digest`].
pub const IDENTITY_DIGEST_ANNOTATION: &str = "fleetgen.io/identity-digest";

impl Identity {
    /// A short digest of what the identity webhooks give a pod when it is created, and only
    /// then: the service account annotations the Azure workload identity webhook turns into
    /// `AZURE_CLIENT_ID` and `AZURE_TENANT_ID` and EKS's into `AWS_ROLE_ARN` (IRSA), and the
    /// role of the EKS Pod Identity association. Carried by the pod template
    /// ([`IDENTITY_DIGEST_ANNOTATION`]), so that a change of identity rolls the pods out
    /// instead of leaving them on one whose credential the identity stack has deleted. None
    /// without an identity (revoked, or none).
    pub fn injected_digest(&self) -> Option<String> {
        let mut parts: Vec<String> = (self.service_account_annotations.iter())
            .map(|(k, v)| format!("{k}={}", v.value))
            .collect();
        if let Some(super::cloud_identity::Federation::PodIdentity {
            account_id, role_name, ..
        }) = &self.federation
        {
            parts.push(format!("pod-identity-role=arn:aws:iam::{account_id}:role/{role_name}"));
        }
        if parts.is_empty() {
            return None;
        }
        parts.sort();
        Some(format!("{:016x}", crate::model::common::fnv1a64(&parts.join("\n"))))
    }
}

/// Where the pods mount the SecretProviderClass: one file per secret, [`key_vault_name`].
pub const SECRETS_MOUNT_PATH: &str = "/mnt/secrets";

/// A SecretProviderClass of one placement: the CSI provider and its parameters.
#[derive(Clone, Debug)]
pub struct SecretStore {
    /// `azure` (Key Vault) or `aws` (Secrets Manager).
    pub provider: &'static str,
    /// The provider's parameters, all strings, in name order.
    pub parameters: Vec<(&'static str, String)>,
}

/// A Key Vault secret name for a `read-secret` target: letters, digits and `-` only
/// (`orders/db-credentials` → `orders-db-credentials`).
pub fn key_vault_name(target: &str) -> String {
    target
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
        .collect()
}

/// Whether the placements' seats are known within IAM's limits (given the placements and
/// the plan's [`Plan::seats_digest`], to fill when it digests them).
pub type KnownWithinLimits<'k> = &'k (dyn Fn(&[Placement], &std::sync::OnceLock<[u8; 32]>) -> bool + Sync);

/// Resolves placements. Call only on sources that validated without errors.
pub fn plan(sources: &Sources) -> (Option<Plan<'_>>, Vec<Diagnostic>) {
    plan_with(sources, &|_, _| false)
}

/// [`plan`], where `known` says whether the cache knows the placements' seats within IAM's
/// limits: FG039 is not checked again for them (measuring every AWS role's policies was
/// 3% of a warm `check` at 200 × 500).
pub fn plan_with<'s>(sources: &'s Sources, known: KnownWithinLimits) -> (Option<Plan<'s>>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let Some(fleet) = sources.fleet.as_ref() else {
        return (None, out);
    };
    let files = &sources.files;
    let mut clusters: Vec<ClusterPlan> = sources
        .clusters
        .iter()
        .map(|doc| ClusterPlan {
            doc,
            profile: sources
                .cluster_profiles
                .iter()
                .find(|p| p.value.name == doc.value.profile),
        })
        .collect();
    clusters.sort_by(|a, b| a.id().cmp(b.id()));
    let mut apps: Vec<&Doc<App>> = sources.apps.iter().collect();
    apps.sort_by(|a, b| a.value.application.name.as_str().cmp(b.value.application.name.as_str()));

    // A placement's managed labels are its cluster's part and its app's part in the
    // cluster's ring, each derived once (see `labels::Part`): each cluster's part kept beside it.
    // Each cluster's rank too: its place among the distinct ids (clusters sharing an id,
    // which validation reports, share a rank), the order placements end in. And its region
    // (environment, provider:region), as a number: named once per cluster, not per placement.
    let mut rank = 0;
    let mut regions: BTreeMap<(String, String), usize> = BTreeMap::new();
    let labelled: Vec<Labelled> = clusters
        .iter()
        .enumerate()
        .map(|(i, &cluster)| {
            if i > 0 && clusters[i - 1].id() != cluster.id() {
                rank += 1;
            }
            let known = regions.len();
            Labelled {
                cluster,
                part: Arc::new(super::labels::Part::of_cluster(&fleet.value, cluster.doc)),
                rank,
                region: *regions.entry(region_key(&cluster.doc.value)).or_insert(known),
            }
        })
        .collect();
    let ranks = rank + 1;
    // What each app's placements share (in parallel): the clusters it selects, each with
    // its share of its region's replicas and its ring's part of the labels.
    let chosen: Vec<Chosen> = (apps.par_iter())
        .map(|app| Chosen::of(fleet, app, &labelled, regions.len(), sources.today))
        .collect();
    // Sorted by cluster, then app: each app's placements dealt to their cluster's rank in
    // app order, each one's slot known before it is made. Each placement is then made in
    // its slot, on the pool (made per app, then moved into one list and swapped into order,
    // 17 MB of placements at 200 × 500 were copied twice on one core at the end of the plan).
    let mut start = vec![0usize; ranks + 1];
    for ch in &chosen {
        for &(c, _, _) in &ch.clusters {
            start[labelled[c].rank + 1] += 1;
        }
    }
    for rank in 0..ranks {
        start[rank + 1] += start[rank];
    }
    let mut slots = vec![(0, 0); start[ranks]];
    // Each placement's slot, in app order (the order its findings are reported in).
    let mut dealt = Vec::with_capacity(slots.len());
    for (a, ch) in chosen.iter().enumerate() {
        for (k, &(c, _, _)) in ch.clusters.iter().enumerate() {
            let rank = labelled[c].rank;
            slots[start[rank]] = (a, k);
            dealt.push(start[rank]);
            start[rank] += 1;
        }
    }
    let mut placements: Vec<Placement> = Vec::with_capacity(slots.len());
    let mut made: Vec<(bool, Vec<Diagnostic>)> = Vec::with_capacity(slots.len());
    slots
        .into_par_iter()
        .map(|(a, k)| {
            let ch = &chosen[a];
            let (c, share, ring) = ch.clusters[k];
            let Labelled { cluster, part, .. } = &labelled[c];
            let mut found = Vec::new();
            let (p, ok) = placement(
                sources,
                fleet,
                ch,
                *cluster,
                share,
                super::labels::Labels::new(Arc::clone(part), Arc::clone(&ch.rings[ring])),
                &mut found,
            );
            (p, (ok, found))
        })
        .unzip_into_vecs(&mut placements, &mut made);
    for slot in dealt {
        out.append(&mut made[slot].1);
    }
    // A placement whose values are in error is left out (its findings say why).
    if made.iter().any(|(ok, _)| !ok) {
        let mut kept = made.iter().map(|(ok, _)| *ok);
        placements.retain(|_| kept.next().unwrap_or(false));
    }
    // The checks across placements, side by side on the pool (one after the other, they left
    // a core idle at the end of the plan), their findings in this order.
    let each = |check: &(dyn Fn(&mut Vec<Diagnostic>) + Sync)| {
        let mut found = Vec::new();
        check(&mut found);
        found
    };
    let seats_digest = std::sync::OnceLock::new();
    // FG039: skipped when the cache knows these seats within the limits.
    let sizes = || -> (Vec<Diagnostic>, bool) {
        if known(&placements, &seats_digest) {
            crate::trace::note("plan", || {
                "IAM policy sizes (FG039): the seats are those the cache knows within IAM's limits".into()
            });
            return (Vec::new(), true);
        }
        let mut found = Vec::new();
        let within = super::cloud_identity::check_iam_sizes(sources, &placements, &mut found);
        (found, within)
    };
    let ((namespaces, credentials), ((sizes, iam_within_limits), scopes)) = rayon::join(
        || {
            rayon::join(
                || each(&|out| check_namespaces(sources, &placements, files, out)),
                || each(&|out| super::cloud_identity::check_credential_limit(sources, &placements, out)),
            )
        },
        || {
            rayon::join(sizes, || {
                each(&|out| {
                    super::cloud_identity::check_scopes(sources, &placements, out);
                    super::cloud_identity::check_role_names(sources, &placements, out);
                })
            })
        },
    );
    out.extend([namespaces, credentials, sizes, scopes].into_iter().flatten());
    (
        Some(Plan {
            fleet,
            placements,
            clusters,
            seats_digest,
            iam_within_limits,
        }),
        out,
    )
}

/// A cluster as the plan's placements use it: its labels' part, its rank in the order of
/// placements and its region's number.
struct Labelled<'s> {
    cluster: ClusterPlan<'s>,
    part: Arc<super::labels::Part>,
    rank: usize,
    region: usize,
}

/// One app's placements before they are made: its runtime settings, the clusters it
/// selects (positions in the plan's list of clusters), each with how many of the app's
/// clusters share its region's replicas and where its ring's part of the managed labels is
/// in `rings`.
struct Chosen<'s> {
    app: &'s Doc<App>,
    runtime: Runtime,
    clusters: Vec<(usize, u32, usize)>,
    rings: Vec<Arc<super::labels::Part>>,
}

impl<'s> Chosen<'s> {
    fn of(
        fleet: &Doc<Fleet>,
        app: &'s Doc<App>,
        labelled: &[Labelled],
        regions: usize,
        today: crate::clock::Day,
    ) -> Chosen<'s> {
        let selected: Vec<usize> = (labelled.iter().enumerate())
            .filter(|(_, l)| selects(&app.value, &l.cluster.doc.value))
            .map(|(at, _)| at)
            .collect();
        // Clusters per region share that region's replicas; a cluster the app is drained
        // from, or scaled down on (it runs none and leaves the app's global traffic), does
        // not: the others run the region's minimum between them.
        let name = app.value.application.name.as_str();
        let out = |c: &ClusterPlan| {
            app.value.gitops.drain.iter().any(|d| d.cluster.as_str() == c.id())
                || super::incidents::scaled_down(&fleet.value, name, c.id(), today).is_some()
        };
        let mut share = vec![0u32; regions];
        for &at in &selected {
            if !out(&labelled[at].cluster) {
                share[labelled[at].region] += 1;
            }
        }
        let namespace = super::labels::namespace(&app.value);
        let mut rings: Vec<&str> = Vec::new();
        let mut parts = Vec::new();
        let clusters = (selected.into_iter())
            .map(|at| {
                let n = share[labelled[at].region].max(1);
                let ring = labelled[at].cluster.doc.value.upgrade_channel.as_str();
                let ring_at = rings.iter().position(|r| *r == ring).unwrap_or_else(|| {
                    rings.push(ring);
                    parts.push(Arc::new(super::labels::Part::of_app(
                        &fleet.value,
                        app,
                        namespace,
                        ring,
                    )));
                    rings.len() - 1
                });
                (at, n, ring_at)
            })
            .collect();
        Chosen {
            app,
            runtime: Runtime::of(fleet, app),
            clusters,
            rings: parts,
        }
    }
}

fn region_key(c: &Cluster) -> (String, String) {
    (c.environment.to_string(), format!("{}:{}", c.provider, c.region))
}

/// The replicas per region an app runs when neither its contract nor fleet.yaml says.
pub const DEFAULT_MIN_REPLICAS: u32 = 2;

/// Picks a runtime field from the contract, else fleet.yaml's defaults, else fleetgen's.
fn pick<T: Clone>(
    app: &Doc<App>,
    fleet: &Doc<Fleet>,
    field: &str,
    from_app: Option<&T>,
    from_fleet: Option<&T>,
) -> Option<Sourced<T>> {
    if let Some(v) = from_app {
        return Some(Sourced {
            value: v.clone(),
            origin: Origin::Source(app.file, app.span(&["runtime", field])),
        });
    }
    from_fleet.map(|v| Sourced {
        value: v.clone(),
        origin: Origin::Source(fleet.file, fleet.span(&["defaults", "runtime", field])),
    })
}

/// What an app's placements take of its runtime settings, each from the contract, else
/// fleet.yaml's defaults, else fleetgen's, with where it came from: the same on every
/// cluster, so found once per app (found per placement, their origins in the YAML cost a
/// sixth of the instructions that making the placements took at 200 × 500).
#[derive(Clone)]
struct Runtime {
    min: Sourced<u32>,
    max: Sourced<u32>,
    pdb: Sourced<bool>,
    spread: Sourced<TopologySpread>,
    requests: Resources,
    limits: Resources,
    readiness_path: Option<Sourced<String>>,
    liveness_path: Option<Sourced<String>>,
}

impl Runtime {
    fn of(fleet: &Doc<Fleet>, app: &Doc<App>) -> Runtime {
        let (rt, dft) = (&app.value.runtime, &fleet.value.defaults.runtime);
        // The field named `$name` in the contract's `runtime`, else in fleet.yaml's defaults.
        macro_rules! picked {
            ($field:literal, $name:ident) => {
                pick(app, fleet, $field, rt.$name.as_ref(), dft.$name.as_ref())
            };
        }
        let default = |value, why| Sourced {
            value,
            origin: Origin::Default(why),
        };
        let count = |s: Option<Sourced<crate::model::app::ReplicaCount>>, otherwise| {
            s.map(|s| Sourced {
                value: s.value.0,
                origin: s.origin,
            })
            .unwrap_or(otherwise)
        };
        let min = count(
            picked!("minReplicasPerRegion", min_replicas_per_region),
            default(DEFAULT_MIN_REPLICAS, "2 replicas per region"),
        );
        let max = count(
            picked!("maxReplicasPerRegion", max_replicas_per_region),
            default(min.value, "the minimum"),
        );
        let pdb = picked!("podDisruptionBudget", pod_disruption_budget)
            .map(|s| Sourced {
                value: s.value == PodDisruptionBudget::Required,
                origin: s.origin,
            })
            .unwrap_or(Sourced {
                value: true,
                origin: Origin::Default("a PodDisruptionBudget for every workload"),
            });
        let spread = picked!("topologySpread", topology_spread).unwrap_or(Sourced {
            value: TopologySpread::Zone,
            origin: Origin::Default("spread over zones"),
        });
        // Each of cpu and memory from the contract, else from fleet.yaml's defaults.
        let resources = |which: &str, f: fn(&crate::model::app::ResourceSpec) -> Option<&ResourceList>| {
            let pick_one = |field: &str, g: fn(&ResourceList) -> Option<&String>| {
                if let Some(v) = rt.resources.as_ref().and_then(f).and_then(g) {
                    return Some(Sourced {
                        value: v.clone(),
                        origin: Origin::Source(app.file, app.span(&["runtime", "resources", which, field])),
                    });
                }
                dft.resources.as_ref().and_then(f).and_then(g).map(|v| Sourced {
                    value: v.clone(),
                    origin: Origin::Source(
                        fleet.file,
                        fleet.span(&["defaults", "runtime", "resources", which, field]),
                    ),
                })
            };
            Resources {
                cpu: pick_one("cpu", |l| l.cpu.as_ref()),
                memory: pick_one("memory", |l| l.memory.as_ref()),
            }
        };
        let requests = resources("requests", |r| r.requests.as_ref());
        let limits = resources("limits", |r| r.limits.as_ref());
        let probe = |which: &str, f: fn(&crate::model::app::Probes) -> Option<&String>| {
            if let Some(v) = rt.probes.as_ref().and_then(f) {
                return Some(Sourced {
                    value: v.clone(),
                    origin: Origin::Source(app.file, app.span(&["runtime", "probes", which])),
                });
            }
            dft.probes.as_ref().and_then(f).map(|v| Sourced {
                value: v.clone(),
                origin: Origin::Source(fleet.file, fleet.span(&["defaults", "runtime", "probes", which])),
            })
        };
        let readiness_path = probe("readinessPath", |p| p.readiness_path.as_ref());
        let liveness_path = probe("livenessPath", |p| p.liveness_path.as_ref());
        Runtime {
            min,
            max,
            pdb,
            spread,
            requests,
            limits,
            readiness_path,
            liveness_path,
        }
    }
}

/// Entrypoints whose proxies run outside the cluster, so that a NetworkPolicy can admit
/// them only by address (the profile's `gateway.sourceRanges`): Application Gateway for
/// Containers (its association's delegated subnet) and the AWS Load Balancer Controller's
/// ALB (its subnets with IP targets; the nodes, which forward, with instance targets).
const OUT_OF_CLUSTER_ENTRYPOINTS: [&str; 2] = ["application-gateway-for-containers", "aws-load-balancer-controller"];

/// An app's placement on a cluster, and whether its values are free of errors (when they
/// are not, `out` says why and the plan leaves it out).
fn placement<'s>(
    sources: &'s Sources,
    fleet: &'s Doc<Fleet>,
    chosen: &Chosen<'s>,
    cluster: ClusterPlan<'s>,
    share: u32,
    labels: super::labels::Labels,
    out: &mut Vec<Diagnostic>,
) -> (Placement<'s>, bool) {
    let (app, runtime) = (chosen.app, &chosen.runtime);
    let files = &sources.files;
    let a = &app.value;
    let c = &cluster.doc.value;
    // The app's settings, each moved once into the placement below.
    let runtime = runtime.clone();
    let max = runtime.max;
    let standby = standby_mode(a, c);
    let min = match standby {
        Some(mode) => standby_min(app, mode, runtime.min),
        None => runtime.min,
    };
    let per_min = min.value.div_ceil(share);
    let per_max = max.value.div_ceil(share).max(per_min);
    let namespace = super::labels::namespace(a);
    let mut ok = true;
    let namespace = namespace.to_string();
    let identity = identity(sources, app, cluster.doc, out, &mut ok);
    let gateway = cluster.gateway();
    if gateway.is_none() && a.traffic.exposure != crate::model::app::Exposure::None && !a.traffic.hostnames.is_empty() {
        ok = false;
        let mut d = Diagnostic::error(
            codes::NO_GATEWAY,
            files,
            app.label(&["traffic", "hostnames"], "routed through the cluster's gateway"),
            format!(
                "`{}` has hostnames, but cluster `{}` has no gateway to attach its route to",
                a.application.name, c.cluster_id
            ),
        )
        .with_help("name a `gateway` in the cluster's profile, or set `traffic.exposure: none`");
        if let Some(p) = cluster.profile {
            d = d.with_secondary(p.label(&["name"], "this profile names no gateway"));
        }
        out.push(d);
    }
    // A gateway whose proxies run outside the cluster (Application Gateway for Containers in
    // its association's delegated subnet, an AWS ALB in its VPC subnets) reaches the pods from
    // those addresses, never from the Gateway's namespace: without `sourceRanges`, the app's
    // allow-from-gateway would admit that namespace and default-deny drop every request.
    if let (Some(g), true, Some(_), true) = (
        gateway.filter(|g| g.source_ranges.is_empty()),
        fleet.value.network.policies,
        a.traffic.port,
        a.traffic.exposure != crate::model::app::Exposure::None && !a.traffic.hostnames.is_empty(),
    ) && let Some(profile) = cluster.profile
        && let Some(entrypoint) = (OUT_OF_CLUSTER_ENTRYPOINTS.iter()).find(|e| **e == profile.value.entrypoint.as_str())
    {
        ok = false;
        let d = Diagnostic::error(
            codes::NO_GATEWAY,
            files,
            app.label(&["traffic", "hostnames"], "routed through the cluster's gateway"),
            format!(
                "`{}` has hostnames, but the gateway `{}` of cluster `{}` runs its proxies outside the cluster (`{entrypoint}`) and its profile gives no `sourceRanges` for the app's NetworkPolicy to admit",
                a.application.name, g.name, c.cluster_id
            ),
        )
        .with_help("give the profile's `gateway.sourceRanges`: the subnets the proxies connect from (Application Gateway for Containers: its association's subnet; an AWS ALB: its subnets)")
        .with_secondary(profile.label(&["gateway"], "no `sourceRanges`: the NetworkPolicy would admit only the gateway's namespace"));
        out.push(d);
    }
    // An internal app's route on the cluster's gateway, which the edge reaches from the
    // internet (its `edge.origin`): the route has no origin lock (the edge serves only the
    // public apps' hostnames), so the internal app would be public at the gateway.
    if let (Some(_), crate::model::app::Exposure::Internal, false, Some(origin)) = (
        gateway,
        a.traffic.exposure,
        a.traffic.hostnames.is_empty(),
        c.edge.as_ref().and_then(|e| e.origin.as_deref()),
    ) {
        ok = false;
        out.push(
            Diagnostic::error(
                codes::NO_GATEWAY,
                files,
                app.label(&["traffic", "exposure"], "private network only"),
                format!(
                    "`{}` is internal, but the gateway of cluster `{}` is public (the edge's origin `{origin}`): its hostnames' route would be reachable from the internet",
                    a.application.name, c.cluster_id
                ),
            )
            .with_secondary(cluster.doc.label(&["edge", "origin"], "the gateway's public host name"))
            .with_help("an internal app on this cluster is reached through its Service, without `hostnames`; or make it `public`, behind the edge"),
        );
    }
    let telemetry = sources
        .telemetry_profiles
        .iter()
        .find(|t| t.value.name == a.observability.telemetry_profile)
        .map(|t| &t.value);
    let scraper = (sources.observability_profiles.iter())
        .find(|o| o.value.name == c.observability_profile)
        .and_then(|o| o.value.metrics.scraper());
    let scaled_down = super::incidents::scaled_down(
        &fleet.value,
        a.application.name.as_str(),
        c.cluster_id.as_str(),
        sources.today,
    );
    let drained = a
        .gitops
        .drain
        .iter()
        .find(|d| d.cluster == c.cluster_id)
        .map(|d| d.reason.clone());
    // The cluster's suspend, else a freeze of its ring, else the app's own suspend.
    use super::switches::{StoppedBy, stopped_by_hand};
    let by_hand = stopped_by_hand(a, c);
    let suspended = match by_hand {
        Some(StoppedBy::Cluster(reason)) => Some(format!("cluster `{}` suspended: {reason}", c.cluster_id)),
        _ => None,
    }
    .or_else(|| {
        // A freeze does not hold back a scale-down, a drain or an identity revocation of the
        // app on the cluster, which must reach it.
        let revoked = super::incidents::revoked(
            &fleet.value,
            a.application.name.as_str(),
            c.cluster_id.as_str(),
            sources.today,
        );
        super::incidents::frozen(&fleet.value, c.upgrade_channel.as_str(), sources.today)
            .filter(|_| scaled_down.is_none() && drained.is_none() && revoked.is_none())
            .map(|f| format!("ring `{}` frozen: {}", c.upgrade_channel, f.reason))
    })
    .or_else(|| match by_hand {
        Some(StoppedBy::App(reason)) => Some(reason.to_string()),
        _ => None,
    });
    let placement = Placement {
        app,
        cluster: cluster.doc,
        gateway,
        namespace,
        replicas: Replicas {
            min: per_min,
            max: per_max,
            share,
            region_min: min.value,
            region_max: max.value.max(min.value),
            standby,
            min_origin: divided(min.origin, min.value, share),
            max_origin: divided(max.origin, max.value, share),
        },
        pod_disruption_budget: runtime.pdb,
        topology_spread: runtime.spread,
        requests: runtime.requests,
        limits: runtime.limits,
        readiness_path: runtime.readiness_path,
        liveness_path: runtime.liveness_path,
        labels,
        identity,
        telemetry,
        scraper,
        suspended,
        drained,
        scaled_down: scaled_down.map(|s| s.reason.clone()),
        front_door_id: super::edge::front_door_lock(&fleet.value, a, c),
        probe_route: super::edge::probe_route(&fleet.value, a, c),
        regional_image: {
            let image = a.application.release(c.upgrade_channel.as_str()).image;
            match fleet.value.image_in(image, c.provider, c.region.as_str()) {
                std::borrow::Cow::Owned(regional) => Some(regional),
                std::borrow::Cow::Borrowed(_) => None,
            }
        },
    };
    (placement, ok)
}

/// The standby data mode when `cluster` is in a standby region of `app`: a region the app
/// is placed in but does not write in, under a mode that keeps a standby.
pub fn standby_mode(app: &App, cluster: &Cluster) -> Option<DataMode> {
    let data = app.data.as_ref()?;
    if !matches!(
        data.mode,
        DataMode::PilotLight | DataMode::WarmStandby | DataMode::HotStandby
    ) {
        return None;
    }
    let writes_here = data
        .write_regions
        .iter()
        .any(|r| r.provider == cluster.provider && r.region == cluster.region);
    (!data.write_regions.is_empty() && !writes_here).then_some(data.mode)
}

/// The default share of the primary's replicas a warm standby runs.
pub const STANDBY_FRACTION: f64 = 0.5;

/// A standby region's minimum (see the module documentation), derived from the data mode.
fn standby_min(app: &Doc<App>, mode: DataMode, min: Sourced<u32>) -> Sourced<u32> {
    let fraction = app.value.data.as_ref().and_then(|d| d.standby_fraction);
    let (value, how, at) = match mode {
        DataMode::PilotLight => (1, "pilot-light standby region: 1 replica".to_string(), "mode"),
        DataMode::WarmStandby => {
            let f = fraction.unwrap_or(STANDBY_FRACTION);
            let n = ((f64::from(min.value) * f).ceil() as u32).clamp(1, min.value.max(1));
            let at = if fraction.is_some() { "standbyFraction" } else { "mode" };
            (
                n,
                format!("warm-standby region: {f} of {} per region, rounded up", min.value),
                at,
            )
        }
        _ => return min,
    };
    Sourced {
        value,
        origin: Origin::Derived(app.file, app.span(&["data", at]), how),
    }
}

/// Notes how a per-region count was divided over the region's clusters.
fn divided(origin: Origin, total: u32, share: u32) -> Origin {
    match origin {
        Origin::Source(file, span) if share > 1 => Origin::Derived(
            file,
            span,
            format!("{total} per region over {share} clusters, rounded up"),
        ),
        Origin::Derived(file, span, how) if share > 1 => {
            Origin::Derived(file, span, format!("{how}, over {share} clusters, rounded up"))
        }
        other => other,
    }
}

fn identity(
    sources: &Sources,
    app: &Doc<App>,
    cluster: &Doc<Cluster>,
    out: &mut Vec<Diagnostic>,
    ok: &mut bool,
) -> Identity {
    let files = &sources.files;
    let a = &app.value;
    let c = &cluster.value;
    let mut id = Identity {
        automount_token: a.identity.automount_service_account_token,
        ..Identity::default()
    };
    let Some(name) = &a.identity.cloud_permissions_profile else {
        return id;
    };
    // Incident switch: the identity is revoked here (no annotations, label or secrets).
    if sources
        .fleet
        .as_ref()
        .and_then(|f| {
            super::incidents::revoked(
                &f.value,
                a.application.name.as_str(),
                c.cluster_id.as_str(),
                sources.today,
            )
        })
        .is_some()
    {
        return id;
    }
    let Some(profile): Option<&Doc<IdentityProfile>> = sources.identity_profiles.iter().find(|p| p.value.name == *name)
    else {
        return id; // an unknown reference, reported by `resolve::check`
    };
    let at = |doc_file: FileId, span: Span| Origin::Source(doc_file, span);
    // The environment's own identity, else the profile's.
    let (azure_identity, azure_at) = profile.value.azure_in(c.environment);
    let (aws_role, aws_at) = profile.value.aws_in(c.environment);
    let missing = |what: &str, out: &mut Vec<Diagnostic>, secondary: Label| {
        out.push(
            Diagnostic::error(
                codes::IDENTITY_UNAVAILABLE,
                files,
                app.label(&["identity", "cloudPermissionsProfile"], format!("no {what}")),
                format!(
                    "identity profile `{name}` cannot be wired on cluster `{}`: it has no {what}",
                    c.cluster_id
                ),
            )
            .with_secondary(secondary),
        );
    };
    match (c.provider, c.identity_mode) {
        (Provider::Azure, crate::model::common::IdentityMode::WorkloadIdentity) => match azure_identity {
            Some(az) => {
                id.service_account_annotations.push((
                    "azure.workload.identity/client-id".into(),
                    Sourced {
                        value: az.client_id.clone(),
                        origin: at(
                            profile.file,
                            profile.span(&crate::model::profiles::field_path(&azure_at, "clientId")),
                        ),
                    },
                ));
                if let Some(tenant) = c.azure.as_ref().and_then(|z| z.tenant_id.as_ref()) {
                    id.service_account_annotations.push((
                        "azure.workload.identity/tenant-id".into(),
                        Sourced {
                            value: tenant.clone(),
                            origin: at(cluster.file, cluster.span(&["azure", "tenantId"])),
                        },
                    ));
                }
                id.pod_labels.push((
                    "azure.workload.identity/use".into(),
                    Sourced {
                        value: "true".into(),
                        origin: at(cluster.file, cluster.span(&["identityMode"])),
                    },
                ));
            }
            None => {
                *ok = false;
                missing(
                    "`azure.clientId`",
                    out,
                    profile.label(&["name"], "this profile has no `azure` section"),
                );
            }
        },
        (Provider::Aws, crate::model::common::IdentityMode::Irsa) => {
            let role = aws_role;
            let account = c.aws.as_ref();
            match (role, account) {
                (Some(role), Some(account)) => id.service_account_annotations.push((
                    "eks.amazonaws.com/role-arn".into(),
                    Sourced {
                        value: format!("arn:aws:iam::{}:role/{}", account.account_id, role.role_name),
                        origin: at(
                            profile.file,
                            profile.span(&crate::model::profiles::field_path(&aws_at, "roleName")),
                        ),
                    },
                )),
                (None, _) => {
                    *ok = false;
                    missing(
                        "`aws.roleName`",
                        out,
                        profile.label(&["name"], "this profile has no `aws` section"),
                    );
                }
                (_, None) => {
                    *ok = false;
                    missing(
                        "AWS account",
                        out,
                        cluster.label(&["clusterId"], "this cluster has no `aws.accountId`"),
                    );
                }
            }
        }
        // EKS Pod Identity associates the role with the service account outside Kubernetes;
        // the service account needs no annotation.
        _ => {}
    }
    super::cloud_identity::resolve(sources, cluster, profile, &mut id, out, ok);
    // `read-secret`: a SecretProviderClass on the cluster's regional store, one file per
    // secret, named the same on every cloud ([`key_vault_name`]). A target listed twice is
    // read once; two targets that would be one file are refused (the same report from every
    // cluster is one).
    let mut reads: Vec<&str> = Vec::new();
    let mut file_of: BTreeMap<String, &str> = BTreeMap::new();
    for (i, p) in profile.value.required_permissions.iter().enumerate() {
        if p.capability != crate::model::profiles::Capability::ReadSecret || reads.contains(&p.target.as_str()) {
            continue;
        }
        let file = key_vault_name(&p.target);
        if let Some(first) = file_of.get(&file) {
            *ok = false;
            let first_at = (profile.value.required_permissions.iter())
                .position(|q| q.capability == p.capability && q.target == *first)
                .unwrap_or(0);
            out.push(
                Diagnostic::error(
                    codes::IDENTITY_UNAVAILABLE,
                    files,
                    profile.item_label(&["requiredPermissions"], i, format!("also the file `{file}`")),
                    format!(
                        "identity profile `{name}` reads secrets `{first}` and `{}`, which would both be the file `{}/{file}` (and one Key Vault secret name)",
                        p.target,
                        SECRETS_MOUNT_PATH
                    ),
                )
                .with_secondary(profile.item_label(&["requiredPermissions"], first_at, "the first"))
                .with_help("name the secrets so that they differ in their letters, digits or `-`"),
            );
            continue;
        }
        file_of.insert(file, &p.target);
        reads.push(&p.target);
    }
    if reads.is_empty() {
        return id;
    }
    match c.provider {
        Provider::Azure => {
            let azure = c.azure.as_ref();
            let vault = azure.and_then(|z| z.key_vault.as_ref());
            let tenant = azure.and_then(|z| z.tenant_id.as_ref());
            let client = azure_identity.map(|z| &z.client_id);
            match (vault, tenant, client) {
                (Some(vault), Some(tenant), Some(client)) => {
                    let mut objects = String::from("array:\n");
                    let mut names: Vec<String> = Vec::new();
                    for name in reads.iter().map(|t| key_vault_name(t)) {
                        if !names.contains(&name) {
                            names.push(name);
                        }
                    }
                    for name in names {
                        objects.push_str(&format!("  - |\n    objectName: {name}\n    objectType: secret\n"));
                    }
                    id.secrets = Some(SecretStore {
                        provider: "azure",
                        parameters: vec![
                            ("clientID", client.clone()),
                            ("cloudName", String::new()),
                            ("keyvaultName", vault.clone()),
                            ("objects", objects),
                            ("tenantId", tenant.clone()),
                            ("usePodIdentity", "false".into()),
                        ],
                    });
                }
                (None, _, _) => {
                    *ok = false;
                    missing(
                        "regional Key Vault to read secrets from",
                        out,
                        cluster.label(&["clusterId"], "this cluster has no `azure.keyVault`"),
                    );
                }
                (_, None, _) => {
                    *ok = false;
                    missing(
                        "tenant for its Key Vault",
                        out,
                        cluster.label(&["clusterId"], "this cluster has no `azure.tenantId`"),
                    );
                }
                (_, _, None) => {} // reported above: the profile has no `azure` section
            }
        }
        Provider::Aws => {
            if c.aws.as_ref().is_some_and(|w| w.secrets_manager) {
                let mut objects = String::new();
                // `objectAlias`: the file the provider writes, as on AKS (without it, it
                // would be the name with `/` turned into `_`).
                for target in &reads {
                    objects.push_str(&format!(
                        "- objectName: \"{target}\"\n  objectType: \"secretsmanager\"\n  objectAlias: \"{}\"\n",
                        key_vault_name(target)
                    ));
                }
                let mut parameters = vec![("objects", objects), ("region", c.region.clone())];
                if c.identity_mode == crate::model::common::IdentityMode::EksPodIdentity {
                    parameters.push(("usePodIdentity", "true".into()));
                }
                id.secrets = Some(SecretStore {
                    provider: "aws",
                    parameters,
                });
            } else {
                *ok = false;
                missing(
                    "regional secret store to read secrets from",
                    out,
                    cluster.label(&["clusterId"], "this cluster has no `aws.secretsManager: true`"),
                );
            }
        }
    }
    id
}

fn check_namespaces(sources: &Sources, placements: &[Placement], files: &SourceMap, out: &mut Vec<Diagnostic>) {
    // A namespace of the platform (an app's gets a default-deny NetworkPolicy and is pruned
    // with the app; every policy leaves the platform's alone): reserved, or one the cluster's
    // profile names as its own (`platformNamespaces`: the gateway's, say). One report per app
    // and namespace.
    let profiles: rustc_hash::FxHashMap<&str, &[crate::model::common::Id]> = (sources.cluster_profiles.iter())
        .map(|c| (c.value.name.as_str(), &c.value.platform_namespaces[..]))
        .collect();
    let platform = |p: &Placement| {
        crate::kube::is_platform_namespace(&p.namespace)
            || (profiles.get(p.cluster.value.profile.as_str()))
                .is_some_and(|own| own.iter().any(|n| n.as_str() == p.namespace))
    };
    let mut taken = std::collections::BTreeSet::new();
    for p in placements.iter().filter(|p| platform(p)) {
        if !taken.insert((p.app_name(), p.namespace.as_str())) {
            continue;
        }
        let at = match p.app.value.application.namespace {
            Some(_) => p
                .app
                .label(&["application", "namespace"], "a namespace of the platform"),
            None => p.app.label(&["application", "name"], "the app's namespace is its name"),
        };
        out.push(
            Diagnostic::error(
                codes::NAMESPACE_CONFLICT,
                files,
                at,
                format!(
                    "app `{}` would take namespace `{}`, which the platform of cluster `{}` owns",
                    p.app_name(),
                    p.namespace,
                    p.cluster_id()
                ),
            )
            .with_help(
                "an app's namespace gets a default-deny NetworkPolicy, is pruned with the app and is left alone by every policy; give the app a namespace of its own (`application.namespace`)",
            ),
        );
    }
    // Looked up, never walked: hashed (a tree compared cluster ids with long shared prefixes).
    let mut seen: rustc_hash::FxHashMap<(&str, &str), &Placement> = rustc_hash::FxHashMap::default();
    seen.reserve(placements.len());
    let mut reported = std::collections::BTreeSet::new();
    for p in placements {
        let Some(first) = seen.insert((p.cluster_id(), p.namespace.as_str()), p) else {
            continue;
        };
        // One report per pair of apps, at the first cluster where they meet.
        if reported.insert((first.app_name(), p.app_name())) {
            out.push(
                Diagnostic::error(
                    codes::NAMESPACE_CONFLICT,
                    files,
                    p.app
                        .label(&["application", "name"], format!("also in namespace `{}`", p.namespace)),
                    format!(
                        "apps `{}` and `{}` both use namespace `{}` on cluster `{}`",
                        first.app_name(),
                        p.app_name(),
                        p.namespace,
                        p.cluster_id()
                    ),
                )
                .with_secondary(first.app.label(&["application", "name"], "this app owns the namespace"))
                .with_help("each app owns its namespace; set `application.namespace` to a name of its own"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::fixture;

    fn find<'p>(plan: &'p Plan, app: &str, cluster: &str) -> &'p Placement<'p> {
        plan.placement(app, cluster)
            .unwrap_or_else(|| panic!("{app} does not land on {cluster}"))
    }

    /// A drain reaches a frozen cluster (the freeze gives way to it, as to a scale-down); one
    /// where the app's sync is suspended by hand would not arrive, and is FG051.
    #[test]
    fn a_drain_reaches_a_frozen_cluster_and_not_a_suspended_sync() {
        let fleet = format!(
            "{}switches:\n  freeze:\n    - {{ rings: [prod], reason: \"INC-1: hold\", owner: platform-team }}\n",
            fixture::text("fleet.yaml")
        );
        let drain = "gitops:\n  drain:\n    - { cluster: eastus-prod-01, reason: \"CHG-1: move\" }\n";
        let web = format!("{}{drain}", fixture::text("apps/web/app.yaml"));
        let sources = fixture::sources(&[("fleet.yaml", &fleet), ("apps/web/app.yaml", &web)]);
        let (plan, problems) = plan(&sources);
        assert!(problems.is_empty(), "{problems:?}");
        let plan = plan.unwrap();
        let drained = find(&plan, "web", "eastus-prod-01");
        assert!(drained.drained.is_some() && drained.suspended.is_none());
        assert!(find(&plan, "api", "eastus-prod-01").suspended.is_some());

        let suspended = format!("{web}  suspend:\n    reason: \"INC-2: stop\"\n    clusters: [eastus-prod-01]\n");
        let sources = fixture::sources(&[("apps/web/app.yaml", &suspended)]);
        let mut out = Vec::new();
        crate::resolve::switches::check(&sources, &mut out);
        let target: Vec<&Diagnostic> = out.iter().filter(|d| d.code == codes::KILL_SWITCH_TARGET).collect();
        assert_eq!(target.len(), 1, "{out:?}");
        assert!(
            target[0].message.contains("so the drain would not reach it"),
            "{}",
            target[0].message
        );
    }

    #[test]
    fn placements_are_sorted_by_cluster_then_app() {
        let sources = fixture::sources(&[]);
        let (plan, problems) = plan(&sources);
        assert!(problems.is_empty(), "{problems:?}");
        let order: Vec<(&str, &str)> = plan
            .as_ref()
            .unwrap()
            .placements
            .iter()
            .map(|p| (p.cluster_id(), p.app_name()))
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
        assert_eq!(order.len(), 6, "two apps on three clusters");
    }

    #[test]
    fn a_placement_in_error_is_left_out_and_its_findings_come_in_app_order() {
        // Hostnames for both apps, and no gateway on the EKS cluster (then on none): neither
        // app can be routed there.
        let api = fixture::text("apps/api/app.yaml")
            .replace("  port: 8080\n", "  port: 8080\n  hostnames: [api.example.com]\n");
        // The gateway is the profiles' last field.
        let without = |profile: &str| {
            let text = fixture::text(profile);
            text[..text.find("gateway:\n").unwrap()].to_string()
        };
        let (eks, aks) = (
            "profiles/cluster/eks-standard.yaml",
            "profiles/cluster/aks-standard.yaml",
        );
        let (no_eks, no_aks) = (without(eks), without(aks));
        assert!(no_eks != fixture::text(eks) && no_aks != fixture::text(aks));
        let routed = |app: &str, cluster: &str| {
            (
                codes::NO_GATEWAY.id,
                format!("`{app}` has hostnames, but cluster `{cluster}` has no gateway to attach its route to"),
            )
        };
        let cases = [
            (
                vec![(eks, &no_eks)],
                vec![
                    ("eastus-prod-01", "api"),
                    ("eastus-prod-01", "web"),
                    ("eastus-staging-01", "api"),
                    ("eastus-staging-01", "web"),
                ],
                vec![routed("api", "useast1-prod-01"), routed("web", "useast1-prod-01")],
            ),
            (
                vec![(eks, &no_eks), (aks, &no_aks)],
                vec![],
                // By app, then cluster (the placements' order is by cluster, then app).
                ["api", "web"]
                    .iter()
                    .flat_map(|app| ["eastus-prod-01", "eastus-staging-01", "useast1-prod-01"].map(|c| routed(app, c)))
                    .collect(),
            ),
        ];
        for (profiles, want_placed, want_found) in cases {
            let mut overlay: Vec<(&str, &str)> = profiles.iter().map(|(p, t)| (*p, t.as_str())).collect();
            overlay.push(("apps/api/app.yaml", &api));
            let sources = fixture::sources(&overlay);
            let (plan, problems) = plan(&sources);
            let placed: Vec<(&str, &str)> = (plan.as_ref().unwrap().placements.iter())
                .map(|p| (p.cluster_id(), p.app_name()))
                .collect();
            assert_eq!(placed, want_placed);
            let found: Vec<(&str, String)> = problems.iter().map(|d| (d.code.id, d.message.clone())).collect();
            assert_eq!(found, want_found);
        }
    }

    #[test]
    fn a_gateway_outside_the_cluster_needs_its_source_ranges_while_network_policies_are_on() {
        // Application Gateway for Containers without `sourceRanges`: `web`'s NetworkPolicy
        // would admit only agc-system, where no proxy runs.
        let aks = "profiles/cluster/aks-standard.yaml";
        let ranges = "  # Application Gateway for Containers proxies from its association's delegated subnet.\n  sourceRanges: [10.225.0.0/24]\n";
        let without = fixture::text(aks).replace(ranges, "");
        assert_ne!(without, fixture::text(aks));
        let found = |overlay: &[(&str, &str)]| {
            let (_, problems) = plan(&fixture::sources(overlay));
            problems
                .iter()
                .map(|d| (d.code.id, d.message.clone()))
                .collect::<Vec<_>>()
        };
        let refused = |cluster: &str| {
            (
                codes::NO_GATEWAY.id,
                format!(
                    "`web` has hostnames, but the gateway `agc-gateway` of cluster `{cluster}` runs its proxies outside the cluster (`application-gateway-for-containers`) and its profile gives no `sourceRanges` for the app's NetworkPolicy to admit"
                ),
            )
        };
        assert_eq!(
            found(&[(aks, &without)]),
            vec![refused("eastus-prod-01"), refused("eastus-staging-01")]
        );
        // With the ranges (the fixture), or with NetworkPolicies off, nothing to say.
        assert_eq!(found(&[]), vec![]);
        let off = format!("{}network:\n  policies: false\n", fixture::text("fleet.yaml"));
        assert_eq!(found(&[(aks, &without), ("fleet.yaml", &off)]), vec![]);
        // An in-cluster gateway (the profile's entrypoint, which its clusters match: FG025) is
        // admitted by its proxies' namespace.
        let envoy = without.replace(
            "entrypoint: application-gateway-for-containers",
            "entrypoint: envoy-gateway",
        );
        assert_ne!(envoy, without);
        assert_eq!(found(&[(aks, &envoy)]), vec![]);
    }

    #[test]
    fn a_region_with_two_clusters_shares_its_replicas_rounding_up() {
        let second = fixture::text("clusters/eastus-prod-01.yaml").replace("eastus-prod-01", "eastus-prod-02");
        let api = fixture::text("apps/api/app.yaml").replace(
            "minReplicasPerRegion: 3",
            "minReplicasPerRegion: 3\n  maxReplicasPerRegion: 9",
        );
        let sources = fixture::sources(&[("clusters/eastus-prod-02.yaml", &second), ("apps/api/app.yaml", &api)]);
        let (plan, _) = plan(&sources);
        let plan = plan.unwrap();
        let p = find(&plan, "api", "eastus-prod-01");
        assert_eq!((p.replicas.min, p.replicas.max, p.replicas.share), (2, 5, 2));
        let how = p.replicas.min_origin.describe(&sources.files);
        assert!(how.starts_with("apps/api/app.yaml:"), "{how}");
        assert!(how.ends_with("(3 per region over 2 clusters, rounded up)"), "{how}");
        // Alone in its region, a cluster runs the contract's numbers.
        let alone = find(&plan, "api", "useast1-prod-01");
        assert_eq!(
            (alone.replicas.min, alone.replicas.max, alone.replicas.share),
            (3, 9, 1)
        );
    }

    #[test]
    fn runtime_values_come_from_the_contract_else_fleet_defaults() {
        let sources = fixture::sources(&[]);
        let (plan, _) = plan(&sources);
        let plan = plan.unwrap();
        let web = find(&plan, "web", "eastus-prod-01");
        // web sets no replicas: fleet.yaml's defaults, with their line.
        assert_eq!((web.replicas.min, web.replicas.max), (2, 10));
        assert!(
            web.replicas
                .min_origin
                .describe(&sources.files)
                .starts_with("fleet.yaml:")
        );
        assert_eq!(web.requests.cpu.as_ref().map(|s| s.value.as_str()), Some("100m"));
        assert!(web.pod_disruption_budget.value);
        assert_eq!(web.namespace, "web");
    }

    #[test]
    fn identity_is_wired_per_provider() {
        let sources = fixture::sources(&[]);
        let (plan, _) = plan(&sources);
        let plan = plan.unwrap();
        let on_aks = find(&plan, "api", "eastus-prod-01");
        let keys: Vec<(&str, &str)> = on_aks
            .identity
            .service_account_annotations
            .iter()
            .map(|(k, v)| (k.as_str(), v.value.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                (
                    "azure.workload.identity/client-id",
                    "00000000-0000-0000-0000-0000000000c1"
                ),
                (
                    "azure.workload.identity/tenant-id",
                    "00000000-0000-0000-0000-0000000000aa"
                ),
            ]
        );
        assert_eq!(on_aks.identity.pod_labels[0].0, "azure.workload.identity/use");
        let on_eks = find(&plan, "api", "useast1-prod-01");
        assert_eq!(
            on_eks.identity.service_account_annotations[0].1.value,
            "arn:aws:iam::111111111111:role/base-api"
        );
        // web has no cloud identity.
        assert!(
            find(&plan, "web", "useast1-prod-01")
                .identity
                .service_account_annotations
                .is_empty()
        );
    }

    /// An environment's own identity replaces the profile's on its clusters, cloud by cloud:
    /// staging's client id on the staging AKS cluster, the profile's role elsewhere.
    #[test]
    fn an_environment_takes_its_own_identity() {
        let profile = fixture::text("profiles/identity/api.yaml")
            + "environments:\n  staging:\n    azure:\n      clientId: 00000000-0000-0000-0000-0000000000c2\n";
        let sources = fixture::sources(&[("profiles/identity/api.yaml", &profile)]);
        let (plan, _) = plan(&sources);
        let plan = plan.unwrap();
        let client = |cluster: &str| {
            find(&plan, "api", cluster).identity.service_account_annotations[0]
                .1
                .value
                .clone()
        };
        assert_eq!(client("eastus-staging-01"), "00000000-0000-0000-0000-0000000000c2");
        assert_eq!(client("eastus-prod-01"), "00000000-0000-0000-0000-0000000000c1");
        assert_eq!(client("useast1-prod-01"), "arn:aws:iam::111111111111:role/base-api");
    }

    #[test]
    fn two_apps_in_one_namespace_are_refused_once() {
        let web = fixture::text("apps/web/app.yaml").replace("  name: web\n", "  name: web\n  namespace: api\n");
        let sources = fixture::sources(&[("apps/web/app.yaml", &web)]);
        let (_, problems) = plan(&sources);
        let conflicts: Vec<&Diagnostic> = problems
            .iter()
            .filter(|d| d.code == codes::NAMESPACE_CONFLICT)
            .collect();
        assert_eq!(conflicts.len(), 1, "{problems:?}");
        assert!(
            conflicts[0].message.contains("both use namespace `api`"),
            "{}",
            conflicts[0].message
        );
    }

    /// The base fleet's `api` with `data` in `mode`, writing in azure:eastus only.
    fn standby_api(mode: &str, extra: &str) -> String {
        let api = fixture::text("apps/api/app.yaml");
        let data_at = api.find("data:\n").unwrap();
        let rest = &api[data_at..];
        let end = rest.find("observability:").unwrap();
        format!(
            "{}data:\n  mode: {mode}\n  writeRegions: [azure:eastus]\n{extra}  rpo: 1h\n  rto: 4h\n{}",
            &api[..data_at],
            &rest[end..]
        )
        .replace(
            "minReplicasPerRegion: 3",
            "minReplicasPerRegion: 6\n  maxReplicasPerRegion: 12",
        )
    }

    #[test]
    fn a_warm_standby_region_runs_its_fraction_and_keeps_the_maximum() {
        let api = standby_api("warm-standby", "  standbyFraction: 0.25\n");
        let sources = fixture::sources(&[("apps/api/app.yaml", &api)]);
        let (resolved, problems) = plan(&sources);
        assert!(problems.is_empty(), "{problems:?}");
        let resolved = resolved.unwrap();
        let primary = find(&resolved, "api", "eastus-prod-01");
        assert_eq!(
            (primary.replicas.min, primary.replicas.max, primary.replicas.standby),
            (6, 12, None)
        );
        let standby = find(&resolved, "api", "useast1-prod-01");
        // ceil(6 × 0.25) = 2; the maximum stays 12 for the failover.
        assert_eq!((standby.replicas.min, standby.replicas.max), (2, 12));
        assert_eq!(standby.replicas.standby, Some(DataMode::WarmStandby));
        let how = standby.replicas.min_origin.describe(&sources.files);
        assert!(how.contains("warm-standby region: 0.25 of 6 per region"), "{how}");
        // Without a declared fraction, half.
        let api = standby_api("warm-standby", "");
        let sources = fixture::sources(&[("apps/api/app.yaml", &api)]);
        let (half, _) = super::plan(&sources);
        assert_eq!(find(half.as_ref().unwrap(), "api", "useast1-prod-01").replicas.min, 3);
    }

    #[test]
    fn pilot_light_runs_one_and_hot_standby_runs_all() {
        for (mode, want) in [("pilot-light", 1), ("hot-standby", 6)] {
            let api = standby_api(mode, "");
            let sources = fixture::sources(&[("apps/api/app.yaml", &api)]);
            let (plan, problems) = plan(&sources);
            assert!(problems.is_empty(), "{problems:?}");
            let standby = find(plan.as_ref().unwrap(), "api", "useast1-prod-01");
            assert_eq!((standby.replicas.min, standby.replicas.max), (want, 12), "{mode}");
        }
    }

    #[test]
    fn a_drained_cluster_keeps_the_placement_and_leaves_the_share() {
        let second = fixture::text("clusters/eastus-prod-01.yaml").replace("eastus-prod-01", "eastus-prod-02");
        let api = format!(
            "{}gitops:\n  drain:\n    - cluster: eastus-prod-02\n      reason: node pool rebuild\n",
            fixture::text("apps/api/app.yaml")
        );
        let sources = fixture::sources(&[("clusters/eastus-prod-02.yaml", &second), ("apps/api/app.yaml", &api)]);
        let (plan, _) = plan(&sources);
        let plan = plan.unwrap();
        let drained = find(&plan, "api", "eastus-prod-02");
        assert_eq!(drained.drained.as_deref(), Some("node pool rebuild"));
        let active = find(&plan, "api", "eastus-prod-01");
        assert_eq!((active.replicas.min, active.replicas.share), (3, 1));
    }

    /// A scale-down takes the cluster out of its region's share as a drain does: it runs
    /// none and leaves the app's global traffic, so the region's other cluster runs the
    /// region's whole minimum and maximum. Scaled down on every cluster of the region, none
    /// is counted and nothing divides by zero.
    #[test]
    fn a_scaled_down_cluster_leaves_the_share() {
        let second = fixture::text("clusters/eastus-prod-01.yaml").replace("eastus-prod-01", "eastus-prod-02");
        let api = fixture::text("apps/api/app.yaml").replace(
            "minReplicasPerRegion: 3",
            "minReplicasPerRegion: 3\n  maxReplicasPerRegion: 30",
        );
        let scaled = |clusters: &str| {
            format!(
                "{}switches:\n  scaleDown:\n    - {{app: api, clusters: [{clusters}], reason: runaway writes, owner: api-team, expires: \"2026-12-20\"}}\n",
                fixture::text("fleet.yaml")
            )
        };
        let fleet = scaled("eastus-prod-02");
        let sources = fixture::sources(&[
            ("clusters/eastus-prod-02.yaml", &second),
            ("apps/api/app.yaml", &api),
            ("fleet.yaml", &fleet),
        ]);
        let (resolved, problems) = plan(&sources);
        assert!(problems.is_empty(), "{problems:?}");
        let resolved = resolved.unwrap();
        assert_eq!(
            find(&resolved, "api", "eastus-prod-02").scaled_down.as_deref(),
            Some("runaway writes")
        );
        let active = find(&resolved, "api", "eastus-prod-01");
        assert_eq!(
            (active.replicas.min, active.replicas.max, active.replicas.share),
            (3, 30, 1)
        );
        // Both clusters of the region scaled down.
        let fleet = scaled("eastus-prod-01, eastus-prod-02");
        let sources = fixture::sources(&[
            ("clusters/eastus-prod-02.yaml", &second),
            ("apps/api/app.yaml", &api),
            ("fleet.yaml", &fleet),
        ]);
        let (plan, _) = plan(&sources);
        let plan = plan.unwrap();
        for cluster in ["eastus-prod-01", "eastus-prod-02"] {
            assert!(find(&plan, "api", cluster).scaled_down.is_some(), "{cluster}");
        }
    }
}
