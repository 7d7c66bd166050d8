//! The global traffic layer, resolved: which edge entry (a Front Door profile or a Route 53
//! hosted zone of fleet.yaml's `edge:`) serves each hostname of each public app, which
//! clusters become its origins, and with what priority, weight and rotation once the
//! traffic kill switches are applied.
//!
//! - An entry serves a hostname equal to one of its domains or under one (the longest
//!   domain wins), for the clusters of its environment.
//! - The origins of a hostname are the clusters the app lands on in that environment and is
//!   not drained from (a drained cluster runs nothing to send traffic to).
//! - Kill switches take a cluster (its registry entry, `edge.inRotation: false`), a region
//!   (fleet.yaml `edge.outOfRotation`, every app) or an app's cluster or region
//!   (`traffic.switches`) out of rotation, or give an app a temporary weight; each with a
//!   reason and an optional `expires` date. An origin out of rotation stays in the Front
//!   Door template, disabled; on Route 53 its record is left out.
//!
//! [`check`] reports what the edges cannot express (FG054), the switches (FG050 warnings,
//! FG051 targets, FG052/FG053 expiry) and weights naming nothing (FG023); the lint rules of
//! the `traffic` family and the `frontdoor` and `route53` backends read [`routes`].

use std::collections::{BTreeMap, BTreeSet};

use crate::clock::{Day, parse_date};
use crate::diag::{Diagnostic, Label, codes};
use crate::load::{Doc, Sources};
use crate::model::app::{Exposure, Failover, Routing};
use crate::model::cluster::ClusterRole;
use crate::model::fleet::{Fleet, FrontDoorProfile, HostedZone};
use crate::model::{App, Cluster, Environment, Provider};
use crate::source::SourceMap;
use crate::suggest;

use super::placement::selects;

/// Front Door's defaults (the portal's): probe every 100 s, 4 samples, 3 good, 50 ms.
pub const FRONT_DOOR_PROBE_SECONDS: u64 = 100;
pub const FRONT_DOOR_SAMPLE_SIZE: u32 = 4;
pub const FRONT_DOOR_SUCCESSFUL_SAMPLES: u32 = 3;
/// Route 53's default request interval, and its failure threshold.
pub const ROUTE53_INTERVAL_SECONDS: u64 = 30;
pub const ROUTE53_FAILURE_THRESHOLD: u32 = 3;

/// One entry of fleet.yaml's `edge:`.
#[derive(Clone, Copy, Debug)]
pub enum Entry<'s> {
    FrontDoor(usize, &'s FrontDoorProfile),
    Route53(usize, &'s HostedZone),
}

impl<'s> Entry<'s> {
    pub fn name(&self) -> &'s str {
        match self {
            Entry::FrontDoor(_, p) => p.name.as_str(),
            Entry::Route53(_, z) => z.name.as_str(),
        }
    }
    /// `Front Door profile `x`` / `Route 53 zone `y``.
    pub fn describe(&self) -> String {
        match self {
            Entry::FrontDoor(_, p) => format!("Front Door profile `{}`", p.name),
            Entry::Route53(_, z) => format!("Route 53 zone `{}`", z.name),
        }
    }
    pub fn environment(&self) -> Environment {
        let env = match self {
            Entry::FrontDoor(_, p) => p.environment,
            Entry::Route53(_, z) => z.environment,
        };
        env.unwrap_or(Environment::Prod)
    }
    pub fn domains(&self) -> Vec<&'s str> {
        match self {
            Entry::FrontDoor(_, p) => p.domains.iter().map(String::as_str).collect(),
            Entry::Route53(_, z) => vec![z.name.as_str()],
        }
    }
    /// (list key in `edge`, index): where the entry is in fleet.yaml.
    pub fn at(&self) -> (&'static str, usize) {
        match self {
            Entry::FrontDoor(i, _) => ("frontDoor", *i),
            Entry::Route53(i, _) => ("route53", *i),
        }
    }
    /// A label at the entry (or its `field`) in fleet.yaml.
    pub fn label(&self, fleet: &Doc<Fleet>, field: Option<&str>, text: impl Into<String>) -> Label {
        let (list, i) = self.at();
        fleet.item_field_label(&["edge", list], i, field, text)
    }
    pub fn is_front_door(&self) -> bool {
        matches!(self, Entry::FrontDoor(..))
    }
    fn same(&self, other: &Entry) -> bool {
        self.at() == other.at()
    }
}

/// Every entry of `edge:`, Front Door profiles first.
pub fn entries(fleet: &Fleet) -> Vec<Entry<'_>> {
    let mut out: Vec<Entry> = fleet
        .edge
        .front_door
        .iter()
        .enumerate()
        .map(|(i, p)| Entry::FrontDoor(i, p))
        .collect();
    out.extend(fleet.edge.route53.iter().enumerate().map(|(i, z)| Entry::Route53(i, z)));
    out
}

/// Whether `host` is `domain` or a name under it.
/// Domains under which a cloud names a gateway's load balancer or public IP (Application
/// Gateway for Containers frontends, a public IP's DNS label, AWS load balancers): the
/// certificate such a gateway presents is the customer's, for names of their own, so Front
/// Door's certificate name check can never pass against these names.
const GENERATED_HOSTS: &[&str] = &[
    "alb.azure.com",
    "cloudapp.azure.com",
    "cloudapp.net",
    "elb.amazonaws.com",
];

/// Domains of the AWS resources a Route 53 alias record may target outside the zones of the
/// fleet (load balancers, CloudFront, Global Accelerator, API Gateway, Elastic Beanstalk, App
/// Runner, S3 websites, VPC endpoints): Route 53 API reference, `AliasTarget`.
const ALIAS_TARGET_DOMAINS: &[&str] = &[
    "amazonaws.com",
    "amazonaws.com.cn",
    "awsapprunner.com",
    "awsglobalaccelerator.com",
    "cloudfront.net",
    "elasticbeanstalk.com",
];

pub fn in_domain(host: &str, domain: &str) -> bool {
    host == domain || host.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.'))
}

/// The entry serving `host` for clusters of `env`: the one with the longest domain holding it.
pub fn serving<'e, 's>(entries: &'e [Entry<'s>], host: &str, env: Environment) -> Option<&'e Entry<'s>> {
    entries
        .iter()
        .filter(|e| e.environment() == env)
        .filter_map(|e| {
            e.domains()
                .into_iter()
                .filter(|d| in_domain(host, d))
                .map(str::len)
                .max()
                .map(|len| (len, e))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, e)| e)
}

/// Whether any entry (of any environment) holds `host`.
pub fn any_serves(entries: &[Entry], host: &str) -> bool {
    entries.iter().any(|e| e.domains().iter().any(|d| in_domain(host, d)))
}

/// The Front Door id an app's route on `cluster` must require (`X-Azure-FDID`): that of the
/// first profile with `lockOrigins` serving one of the app's hostnames in the cluster's
/// environment (FG054 reports an app behind a locked profile and another entry).
pub fn front_door_lock(fleet: &Fleet, app: &App, cluster: &Cluster) -> Option<String> {
    if app.traffic.exposure != Exposure::Public {
        return None;
    }
    let entries = entries(fleet);
    app.traffic
        .hostnames
        .iter()
        .find_map(|host| match serving(&entries, host, cluster.environment)? {
            Entry::FrontDoor(_, p) if p.lock_origins => p.front_door_id.clone(),
            _ => None,
        })
}

/// The route a gateway gives an app's edge health checks on one cluster: requests for
/// `host` (the cluster's `edge.origin`, the name Front Door and Route 53 probe) on `path`
/// (the app's own, [`probe_route_path`]) go to the app on `target` (its probe path). Apps
/// that share a gateway are each probed at a path of their own, so one app's health never
/// answers for another's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProbeRoute {
    pub host: String,
    pub path: String,
    pub target: String,
    /// A Front Door profile probes the app here, so its own routes (for its hostnames) take
    /// the path too: Microsoft does not document the `Host` of a probe. Route 53 sends the
    /// origin name, so an app it alone checks gets no such rule (each is a listener rule of
    /// an ALB, whose rules are counted).
    pub on_app_hostnames: bool,
}

/// The path the edge probes `app` at on every cluster's gateway.
pub fn probe_route_path(app: &str) -> String {
    format!("/_fleetgen/probe/{app}")
}

/// The probe route of `app` on `cluster`: a public app, a cluster that gives `edge.origin`,
/// and an entry of the cluster's environment serving one of the app's hostnames.
pub fn probe_route(fleet: &Fleet, app: &App, cluster: &Cluster) -> Option<ProbeRoute> {
    if app.traffic.exposure != Exposure::Public {
        return None;
    }
    let host = cluster.edge.as_ref().and_then(|e| e.origin.as_deref())?;
    let entries = entries(fleet);
    let serving: Vec<&Entry> = (app.traffic.hostnames.iter())
        .filter_map(|h| serving(&entries, h, cluster.environment))
        .collect();
    (!serving.is_empty()).then(|| ProbeRoute {
        host: host.to_string(),
        path: probe_route_path(app.application.name.as_str()),
        target: split_probe_path(&probe_path(app, fleet)).0.to_string(),
        on_app_hostnames: serving.iter().any(|e| matches!(e, Entry::FrontDoor(..))),
    })
}

/// Where a switch is written.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'s> {
    /// A cluster's registry entry: `edge.inRotation: false`.
    Cluster(&'s Doc<Cluster>),
    /// fleet.yaml `edge.outOfRotation[i]`.
    Fleet(usize),
    /// An app's `traffic.switches[i]`.
    App(&'s Doc<App>, usize),
}

/// What a switch does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    OutOfRotation,
    Weight(u32),
}

/// A traffic kill switch, wherever it is written.
#[derive(Clone, Debug)]
pub struct Switch<'s> {
    pub scope: Scope<'s>,
    /// The cluster id, or the `provider:region`, it names.
    pub cluster: Option<&'s str>,
    pub region: Option<String>,
    pub action: Action,
    pub reason: &'s str,
    pub expires: Option<&'s str>,
}

impl Switch<'_> {
    /// Whether it holds on `today`: no date, or a date not yet past (a date that does not
    /// exist holds nothing; FG052 says so).
    pub fn active(&self, today: Day) -> bool {
        match self.expires {
            None => true,
            Some(d) => parse_date(d).is_some_and(|last| today <= last),
        }
    }

    /// Whether it applies to `cluster` (for `app`: fleet and cluster switches apply to all).
    pub fn applies(&self, app: &str, cluster: &Cluster) -> bool {
        if let Scope::App(doc, _) = self.scope
            && doc.value.application.name.as_str() != app
        {
            return false;
        }
        let region = format!("{}:{}", cluster.provider, cluster.region);
        self.cluster.is_some_and(|c| c == cluster.cluster_id.as_str()) || self.region.as_deref() == Some(&region)
    }

    /// The app it is written for (`None`: every app).
    pub fn app(&self) -> Option<&str> {
        match self.scope {
            Scope::App(doc, _) => Some(doc.value.application.name.as_str()),
            _ => None,
        }
    }

    /// The label at the switch.
    pub fn label(&self, fleet: Option<&Doc<Fleet>>, text: impl Into<String>) -> Option<Label> {
        let field = if self.cluster.is_some() { "cluster" } else { "region" };
        Some(match self.scope {
            Scope::Cluster(doc) => doc.label(&["edge", "inRotation"], text),
            Scope::Fleet(i) => fleet?.item_field_label(&["edge", "outOfRotation"], i, Some("region"), text),
            Scope::App(doc, i) => doc.item_field_label(&["traffic", "switches"], i, Some(field), text),
        })
    }

    /// A label at the switch's `expires` date.
    fn expires_label(&self, fleet: Option<&Doc<Fleet>>, text: &str) -> Option<Label> {
        Some(match self.scope {
            Scope::Cluster(doc) => doc.label(&["edge", "expires"], text),
            Scope::Fleet(i) => fleet?.item_field_label(&["edge", "outOfRotation"], i, Some("expires"), text),
            Scope::App(doc, i) => doc.item_field_label(&["traffic", "switches"], i, Some("expires"), text),
        })
    }

    /// What it does, in words: `cluster `x` is out of rotation`.
    pub fn describe(&self) -> String {
        let target = match (self.cluster, &self.region) {
            (Some(c), _) => format!("cluster `{c}`"),
            (None, Some(r)) => format!("region `{r}`"),
            (None, None) => "nothing".to_string(),
        };
        let whose = match self.scope {
            Scope::App(doc, _) => format!(" for `{}`", doc.value.application.name),
            Scope::Fleet(_) => " for every app".to_string(),
            Scope::Cluster(_) => String::new(),
        };
        match self.action {
            Action::OutOfRotation => format!("{target} is out of rotation{whose}"),
            Action::Weight(w) => format!("{target} takes a temporary weight of {w}{whose}"),
        }
    }

    /// The file the switch is written in.
    pub fn file_path<'a>(&self, sources: &'a Sources) -> &'a str {
        let file = match self.scope {
            Scope::Cluster(doc) => doc.file,
            Scope::App(doc, _) => doc.file,
            Scope::Fleet(_) => match &sources.fleet {
                Some(f) => f.file,
                None => return "fleet.yaml",
            },
        };
        &sources.files.get(file).path
    }
}

/// Every traffic switch of the repository: clusters' `edge.inRotation: false`, fleet.yaml's
/// `edge.outOfRotation`, apps' `traffic.switches`.
pub fn switches(sources: &Sources) -> Vec<Switch<'_>> {
    let mut out = Vec::new();
    for doc in &sources.clusters {
        if let Some(edge) = &doc.value.edge
            && !edge.in_rotation
        {
            out.push(Switch {
                scope: Scope::Cluster(doc),
                cluster: Some(doc.value.cluster_id.as_str()),
                region: None,
                action: Action::OutOfRotation,
                reason: edge.reason.as_deref().unwrap_or(""),
                expires: edge.expires.as_deref(),
            });
        }
    }
    if let Some(fleet) = &sources.fleet {
        for (i, s) in fleet.value.edge.out_of_rotation.iter().enumerate() {
            out.push(Switch {
                scope: Scope::Fleet(i),
                cluster: None,
                region: Some(s.region.to_string()),
                action: Action::OutOfRotation,
                reason: &s.reason,
                expires: s.expires.as_deref(),
            });
        }
    }
    for doc in &sources.apps {
        for (i, s) in doc.value.traffic.switches.iter().enumerate() {
            out.push(Switch {
                scope: Scope::App(doc, i),
                cluster: s.cluster.as_ref().map(|c| c.as_str()),
                region: s.region.as_ref().map(ToString::to_string),
                action: match s.weight {
                    Some(w) => Action::Weight(w),
                    None => Action::OutOfRotation,
                },
                reason: &s.reason,
                expires: s.expires.as_deref(),
            });
        }
    }
    out
}

/// A cluster as an origin of one hostname.
#[derive(Clone, Debug)]
pub struct Origin<'s> {
    pub cluster: &'s Doc<Cluster>,
    /// `provider:region`.
    pub region: String,
    /// The region's place in the contract's `placement.regions` among the origins' regions
    /// (failover: 0 is the primary).
    pub rank: usize,
    /// The region's place in `placement.regions` among the regions of every cluster the
    /// placement selects in the environment: a drain or a scale-down does not move it (Route
    /// 53's failover role: 0 is the `PRIMARY` record).
    pub placed_rank: usize,
    /// A `role: standby` cluster: it takes traffic only when the active ones fail.
    pub standby: bool,
    /// The switch that takes it out of rotation, if one does.
    pub out: Option<Switch<'s>>,
    /// The switch that sets its weight, if one does.
    pub weight_switch: Option<Switch<'s>>,
    /// Its share under weighted routing (0: a last resort); `None` when all share equally.
    pub weight: Option<u32>,
    /// Front Door priority, 1 (first) to 5 and beyond (FG054 when over 5).
    pub priority: u32,
    /// Behind the first priority in rotation of an app whose traffic does not move by itself
    /// (`failover: manual-confirmed` or `none`): the edge must not send it traffic when the
    /// origins before it fail, so Front Door keeps it disabled (and Route 53 gives it no
    /// weighted record). Taking the origins before it out of rotation (a traffic switch)
    /// moves the traffic to it: that switch is the manual failover.
    pub held: bool,
}

impl Origin<'_> {
    pub fn id(&self) -> &str {
        self.cluster.value.cluster_id.as_str()
    }
    pub fn in_rotation(&self) -> bool {
        self.out.is_none()
    }
    /// Whether Front Door sends it traffic at all (`enabledState: Enabled`): in rotation, and
    /// not held back for a manual failover.
    pub fn enabled(&self) -> bool {
        self.in_rotation() && !self.held
    }
    /// The host name of the cluster's gateway, if the registry gives one.
    pub fn host(&self) -> Option<&str> {
        self.cluster.value.edge.as_ref().and_then(|e| e.origin.as_deref())
    }
}

/// One hostname of one app, as an edge entry serves it in the entry's environment.
#[derive(Clone, Debug)]
pub struct Route<'s> {
    pub app: &'s Doc<App>,
    pub host: &'s str,
    /// The hostname's index in `traffic.hostnames`.
    pub host_index: usize,
    pub entry: Entry<'s>,
    pub routing: Routing,
    /// In cluster id order.
    pub origins: Vec<Origin<'s>>,
    /// The path health checks request: the app's [`probe_route_path`], which each
    /// cluster's probe route sends to the app's own probe path ([`ProbeRoute`]).
    pub probe_path: String,
    /// Seconds between probes, and whether the contract set it.
    pub probe_interval: (u64, bool),
}

impl Route<'_> {
    pub fn app_name(&self) -> &str {
        self.app.value.application.name.as_str()
    }
    /// The origins that take traffic.
    pub fn in_rotation(&self) -> impl Iterator<Item = &Origin<'_>> {
        self.origins.iter().filter(|o| o.in_rotation())
    }
    /// Whether the entry can answer with `o` at all: Route 53 gives a `role: standby`
    /// cluster no latency record (Front Door keeps it as an origin, one priority later).
    pub fn answers_with(&self, o: &Origin) -> bool {
        !(matches!(self.entry, Entry::Route53(..)) && self.routing == Routing::Latency && o.standby)
    }
    /// The origins the entry answers with: in rotation, and given a record or an enabled
    /// origin. None left, the hostname does not answer.
    pub fn answering(&self) -> impl Iterator<Item = &Origin<'_>> {
        self.in_rotation().filter(|o| self.answers_with(o))
    }
}

/// A probe path's path and query (a fragment is never sent): the probe route's rewrite
/// replaces the path of a request and keeps its query, so the query goes in the path the
/// edge probes.
fn split_probe_path(own: &str) -> (&str, Option<&str>) {
    let own = own.split('#').next().unwrap_or(own);
    match own.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (own, None),
    }
}

/// The path the edge probes `app` at on every cluster's gateway: its probe route's path,
/// with the query of the app's own probe path.
fn edge_probe_path(app: &App, fleet: &Fleet) -> String {
    let mut path = probe_route_path(app.application.name.as_str());
    if let (_, Some(query)) = split_probe_path(&probe_path(app, fleet)) {
        path.push('?');
        path.push_str(query);
    }
    path
}

/// The app's own path that health checks reach: the contract's `traffic.healthProbe.path`,
/// else the readiness path (the contract's, else fleet.yaml's default), else `/`.
fn probe_path(app: &App, fleet: &Fleet) -> String {
    app.traffic
        .health_probe
        .as_ref()
        .and_then(|h| h.path.clone())
        .or_else(|| app.runtime.probes.as_ref().and_then(|p| p.readiness_path.clone()))
        .or_else(|| {
            fleet
                .defaults
                .runtime
                .probes
                .as_ref()
                .and_then(|p| p.readiness_path.clone())
        })
        .unwrap_or_else(|| "/".to_string())
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Every hostname of every public app, with the entry serving it and its origins, for each
/// environment an entry serves; sorted by entry, app and hostname.
pub fn routes(sources: &Sources) -> Vec<Route<'_>> {
    let Some(fleet) = &sources.fleet else { return Vec::new() };
    let entries = entries(&fleet.value);
    if entries.is_empty() {
        return Vec::new();
    }
    let today = sources.today;
    let all_switches: Vec<Switch> = switches(sources).into_iter().filter(|s| s.active(today)).collect();
    let clusters = by_id(sources);
    let mut out = Vec::new();
    for app in &sources.apps {
        let a = &app.value;
        if a.traffic.exposure != Exposure::Public {
            continue;
        }
        for (host_index, host) in a.traffic.hostnames.iter().enumerate() {
            for entry in &entries {
                let env = entry.environment();
                if !serving(&entries, host, env).is_some_and(|e| e.same(entry)) {
                    continue;
                }
                let landed = landed(&clusters, &fleet.value, app, env, today);
                if landed.is_empty() {
                    continue;
                }
                let placed = selected(&clusters, app, env);
                out.push(route(
                    app,
                    host,
                    host_index,
                    *entry,
                    (&landed, &placed),
                    &all_switches,
                    &fleet.value,
                ));
            }
        }
    }
    out.sort_by(|a, b| (a.entry.at(), a.app_name(), a.host_index).cmp(&(b.entry.at(), b.app_name(), b.host_index)));
    out
}

/// The clusters in cluster id order.
fn by_id(sources: &Sources) -> Vec<&Doc<Cluster>> {
    let mut clusters: Vec<&Doc<Cluster>> = sources.clusters.iter().collect();
    clusters.sort_by(|a, b| a.value.cluster_id.cmp(&b.value.cluster_id));
    clusters
}

/// The clusters the placement of `app` selects in `env` (drained or not).
fn selected<'s>(clusters: &[&'s Doc<Cluster>], app: &Doc<App>, env: Environment) -> Vec<&'s Doc<Cluster>> {
    (clusters.iter().copied())
        .filter(|c| c.value.environment == env && selects(&app.value, &c.value))
        .collect()
}

/// The clusters an edge entry of `env` makes origins of `app`: those the app lands on there
/// and is not drained from, nor scaled down to zero by an incident switch (no origin to
/// send traffic to).
fn landed<'s>(
    clusters: &[&'s Doc<Cluster>],
    fleet: &Fleet,
    app: &Doc<App>,
    env: Environment,
    today: Day,
) -> Vec<&'s Doc<Cluster>> {
    let a = &app.value;
    clusters
        .iter()
        .copied()
        .filter(|c| c.value.environment == env && selects(a, &c.value))
        .filter(|c| !a.gitops.drain.iter().any(|d| d.cluster == c.value.cluster_id))
        .filter(|c| {
            super::incidents::scaled_down(fleet, a.application.name.as_str(), c.value.cluster_id.as_str(), today)
                .is_none()
        })
        .collect()
}

/// The origins `app` has in `env` as its contract routes them, every switch off (the design,
/// not today's incident levers), whether or not an edge entry serves it there: what the
/// rules that judge a contract's multi-region design read. Same priorities and weights as
/// [`routes`].
pub fn planned_origins<'s>(sources: &'s Sources, app: &'s Doc<App>, env: Environment) -> Vec<Origin<'s>> {
    if sources.fleet.is_none() {
        return Vec::new();
    }
    let clusters = by_id(sources);
    // Every cluster the placement selects: a drain or a scale-down is a switch too.
    let selected = selected(&clusters, app, env);
    origins(app, (&selected, &selected), &[])
}

/// The origins that take traffic while all are healthy: under `geo`, every one (Route 53
/// gives each cluster its continent's record, a standby too; Front Door refuses geo);
/// otherwise those of the first priority, as Front Door orders them. Failover: the first
/// region. Latency, weighted and single-region: every cluster but `role: standby` ones and
/// weight-0 last resorts, which Front Door puts one priority later and Route 53 gives no
/// latency record or a weight of 0 (answered only when no other record is).
pub fn first_priority<'a, 's>(routing: Routing, origins: &'a [Origin<'s>]) -> Vec<&'a Origin<'s>> {
    if routing == Routing::Geo {
        return origins.iter().collect();
    }
    let first = origins.iter().map(|o| o.priority).min();
    origins.iter().filter(|o| Some(o.priority) == first).collect()
}

fn route<'s>(
    app: &'s Doc<App>,
    host: &'s str,
    host_index: usize,
    entry: Entry<'s>,
    clusters: (&[&'s Doc<Cluster>], &[&'s Doc<Cluster>]),
    switches: &[Switch<'s>],
    fleet: &Fleet,
) -> Route<'s> {
    let a = &app.value;
    let routing = a.traffic.routing.unwrap_or(Routing::Latency);
    let origins = origins(app, clusters, switches);
    let probe = a.traffic.health_probe.as_ref().and_then(|h| h.interval);
    let default = match entry {
        Entry::FrontDoor(_, p) => p
            .health_probe
            .as_ref()
            .and_then(|h| h.interval)
            .map_or(FRONT_DOOR_PROBE_SECONDS, |d| d.seconds),
        Entry::Route53(_, z) => z
            .health_check
            .as_ref()
            .and_then(|h| h.interval)
            .map_or(ROUTE53_INTERVAL_SECONDS, |d| d.seconds),
    };
    Route {
        app,
        host,
        host_index,
        entry,
        routing,
        origins,
        probe_path: edge_probe_path(a, fleet),
        probe_interval: probe.map_or((default, false), |d| (d.seconds, true)),
    }
}

/// The origins of `app` on the `landed` clusters (in their order), with `switches` applied;
/// `placed`: every cluster the placement selects (ranks the regions for `placed_rank`).
fn origins<'s>(
    app: &'s Doc<App>,
    (landed, placed): (&[&'s Doc<Cluster>], &[&'s Doc<Cluster>]),
    switches: &[Switch<'s>],
) -> Vec<Origin<'s>> {
    let a = &app.value;
    let name = a.application.name.as_str();
    let routing = a.traffic.routing.unwrap_or(Routing::Latency);
    let region_of = |c: &Cluster| format!("{}:{}", c.provider, c.region);
    // Regions in the contract's order (the first is the failover primary), of the clusters
    // landed on and of those placed.
    let ranked = |clusters: &[&Doc<Cluster>]| {
        let mut regions: Vec<String> = Vec::new();
        for r in &a.placement.regions {
            let r = r.to_string();
            if clusters.iter().any(|c| region_of(&c.value) == r) && !regions.contains(&r) {
                regions.push(r);
            }
        }
        regions
    };
    let regions = ranked(landed);
    let placed_regions = ranked(placed);
    // Weights by cluster id or region: the contract's, then the switches' in their place.
    let mut named: BTreeMap<String, u32> = a.traffic.weights.clone();
    let mut weight_switches: BTreeMap<String, &Switch> = BTreeMap::new();
    for s in switches
        .iter()
        .filter(|s| matches!(s.scope, Scope::App(doc, _) if doc.value.application.name.as_str() == name))
    {
        if let Action::Weight(w) = s.action {
            let key = s
                .cluster
                .map_or_else(|| s.region.clone().unwrap_or_default(), str::to_string);
            named.insert(key.clone(), w);
            weight_switches.insert(key, s);
        }
    }
    let per_region: BTreeMap<String, u64> = regions
        .iter()
        .map(|r| {
            (
                r.clone(),
                landed.iter().filter(|c| region_of(&c.value) == *r).count() as u64,
            )
        })
        .collect();
    // A region's weight is split evenly over its clusters: scale every weight by the least
    // common multiple of those counts, so that the split is exact.
    let scale = per_region
        .iter()
        .filter(|(r, _)| named.contains_key(*r))
        .fold(1u64, |l, (_, n)| l / gcd(l, *n) * n);
    let weighted = routing == Routing::WeightedGlobal && !named.is_empty();
    let mut origins = Vec::new();
    let mut raw_weights: Vec<Option<u64>> = Vec::new();
    for c in landed {
        let v = &c.value;
        let region = region_of(v);
        let rank = regions.iter().position(|r| *r == region).unwrap_or(regions.len());
        let placed_rank = (placed_regions.iter().position(|r| *r == region)).unwrap_or(placed_regions.len());
        let id = v.cluster_id.as_str();
        let weight = weighted.then(|| {
            if let Some(w) = named.get(id) {
                u64::from(*w) * scale
            } else if let Some(w) = named.get(&region) {
                u64::from(*w) * scale / per_region.get(&region).copied().unwrap_or(1).max(1)
            } else {
                0
            }
        });
        raw_weights.push(weight);
        let standby = v.role == ClusterRole::Standby;
        let base = match routing {
            Routing::Failover => rank as u32 + 1,
            _ => 1 + u32::from(standby),
        };
        let priority = base + u32::from(weight == Some(0));
        let out = switches
            .iter()
            .find(|s| s.action == Action::OutOfRotation && s.applies(name, v))
            .cloned();
        let weight_switch = weight_switches
            .get(id)
            .or_else(|| weight_switches.get(&region))
            .map(|s| (*s).clone());
        origins.push(Origin {
            cluster: c,
            region,
            rank,
            placed_rank,
            standby,
            out,
            weight_switch,
            weight: None,
            priority,
            held: false,
        });
    }
    // Only the ratios of the weights matter to the engines: in lowest terms, so that the
    // scaling above (and weights like 600 and 400) stays within their ranges (Front Door
    // 1 to 1000, Route 53 0 to 255) whenever the split can.
    let divisor = (raw_weights.iter().flatten())
        .filter(|w| **w > 0)
        .fold(0, |g, w| gcd(g, *w))
        .max(1);
    for (o, w) in origins.iter_mut().zip(&raw_weights) {
        o.weight = w.map(|w| u32::try_from(w / divisor).unwrap_or(u32::MAX));
    }
    // Front Door moves traffic to the next priority when every origin of the first fails its
    // probes; an app whose failover is manual (or none) keeps the later ones disabled until a
    // switch takes the ones before them out of rotation.
    if matches!(a.traffic.failover, Some(Failover::ManualConfirmed | Failover::None)) {
        let first = origins
            .iter()
            .filter(|o| o.in_rotation() && o.host().is_some())
            .map(|o| o.priority)
            .min();
        for o in &mut origins {
            o.held = first.is_some_and(|p| o.priority > p);
        }
    }
    origins
}

/// The continent Route 53 geolocation routes to a region (`NA`, `EU` …), from an explicit
/// table of region names (see [`super::continents`]); `None` for a region it does not know.
pub use super::continents::continent;

/// A resource name Front Door accepts: letters, digits and single dashes, at most 50
/// characters (a longer one is cut and given a hash); a wildcard `*` is the word `wildcard`
/// (`*.example.com` is not `example.com`).
pub fn front_door_name(s: &str) -> String {
    let mut name = String::new();
    for ch in s.replace('*', "-wildcard-").chars() {
        let ch = if ch.is_ascii_alphanumeric() { ch } else { '-' };
        if !(ch == '-' && (name.is_empty() || name.ends_with('-'))) {
            name.push(ch);
        }
    }
    let name = name.trim_end_matches('-').to_string();
    if name.len() <= 50 {
        name
    } else {
        format!(
            "{}-{:08x}",
            name[..41].trim_end_matches('-'),
            crate::model::common::fnv1a64(s) as u32
        )
    }
}

/// The problems an engine has with a route: (message, where, help).
pub fn engine_problems<'s>(sources: &'s Sources, route: &Route<'s>) -> Vec<(String, Label, &'static str)> {
    let app = route.app;
    let a = &app.value;
    let mut out = Vec::new();
    let at_routing = || app.label(&["traffic", "routing"], "this routing");
    let what = route.entry.describe();
    let host = route.host;
    let (interval, from_app) = route.probe_interval;
    let interval_label = || {
        if from_app {
            app.label(&["traffic", "healthProbe", "interval"], "this interval")
        } else {
            app.item_label(&["traffic", "hostnames"], route.host_index, "served here")
        }
    };
    match route.entry {
        Entry::FrontDoor(..) => {
            // Front Door checks the origin's certificate against the origin's host name
            // (`enforceCertificateNameCheck`): a name the cloud generated for the gateway
            // (`….alb.azure.com`, `….elb.amazonaws.com`) is one no customer holds a
            // certificate for, so every request and probe would be refused. A name of the
            // customer's own (under the profile's domains or any other they hold a
            // certificate for) is one the gateway's certificate can cover.
            for o in &route.origins {
                if let Some(origin) = o.host()
                    && let Some(generated) = GENERATED_HOSTS.iter().find(|d| in_domain(origin, d))
                {
                    out.push((
                        format!(
                            "{what} checks the certificate of cluster `{}` against its `edge.origin` `{origin}`, \
                             a name the cloud generated (`{generated}`): no certificate the gateway can hold \
                             would match it",
                            o.id(),
                        ),
                        o.cluster.label(&["edge", "origin"], "a name the cloud generated"),
                        "give the gateway a name of your own domain (a CNAME to its generated host name) and a certificate for it and the app's hostnames, and set it as `edge.origin`",
                    ));
                }
            }
            // An origin is a cluster's gateway host name: with none, the route's origin group
            // is empty, and Front Door refuses a route whose origin group has no origins (the
            // whole deployment stack fails). One cluster without a name is FG153's (lint).
            if route.origins.iter().all(|o| o.host().is_none()) {
                let ids: Vec<String> = route.origins.iter().map(|o| format!("`{}`", o.id())).collect();
                out.push((
                    format!(
                        "{what} would route `{}` to no origin: none of its clusters there ({}) gives `edge.origin`, \
                         and Front Door refuses a route whose origin group is empty",
                        a.application.name,
                        ids.join(", ")
                    ),
                    app.item_label(&["traffic", "hostnames"], route.host_index, "served here"),
                    "set `edge.origin` (the public host name of the cluster's gateway) on at least one of the clusters",
                ));
            }
            // fleetgen gives every custom domain a managed certificate, which Front Door does
            // not offer for a wildcard domain (Microsoft's docs, "Domains in Azure Front Door").
            if host.starts_with("*.") {
                out.push((
                    format!("{what} gives no managed certificate to the wildcard domain `{host}`, and fleetgen configures no other"),
                    app.item_label(&["traffic", "hostnames"], route.host_index, "a wildcard domain"),
                    "serve the wildcard hostname from a Route 53 zone, or name each hostname under it",
                ));
            }
            if route.routing == Routing::Geo {
                out.push((
                    format!("{what} cannot route `{host}` by geography: Front Door sends each request to the nearest healthy origin"),
                    at_routing(),
                    "serve the hostname from a Route 53 zone (geolocation records), or use `routing: latency`",
                ));
            }
            for o in &route.origins {
                if o.priority > 5 {
                    out.push((
                        format!(
                            "Front Door has priorities 1 to 5; `{host}` would need {} for cluster `{}`",
                            o.priority,
                            o.id()
                        ),
                        at_routing(),
                        "place the app in at most five regions for failover (a weight of 0 takes one more level)",
                    ));
                }
                if o.weight.is_some_and(|w| w > 1000) {
                    out.push((
                        format!(
                            "Front Door weights are 1 to 1000; cluster `{}` would get {}",
                            o.id(),
                            o.weight.unwrap_or(0)
                        ),
                        app.label(&["traffic", "weights"], "these weights"),
                        "use smaller weights, or name clusters rather than regions with several clusters",
                    ));
                }
            }
            if !(1..=255).contains(&interval) {
                out.push((
                    format!("Front Door probes every 1 to 255 seconds; `{host}` asks for {interval}s"),
                    interval_label(),
                    "set `traffic.healthProbe.interval` (or the profile's `healthProbe.interval`) between 1s and 255s",
                ));
            }
        }
        Entry::Route53(_, zone) => {
            let aws = |o: &Origin| o.cluster.value.provider == Provider::Aws;
            match route.routing {
                Routing::Latency => {
                    for o in route.origins.iter().filter(|o| !o.standby) {
                        if !aws(o) {
                            out.push((
                                format!("Route 53 latency records name an AWS region; cluster `{}` of `{host}` is in `{}`", o.id(), o.region),
                                at_routing(),
                                "serve the hostname from a Front Door profile, or use weighted, failover or geo routing",
                            ));
                        }
                    }
                    let mut seen = BTreeSet::new();
                    for o in route.origins.iter().filter(|o| !o.standby) {
                        if !seen.insert(&o.region) {
                            out.push((
                                format!("Route 53 has one latency record per region; `{host}` lands on two clusters in `{}`", o.region),
                                at_routing(),
                                "serve the hostname from a Front Door profile, or place the app on one cluster per region",
                            ));
                        }
                    }
                }
                Routing::Failover => {
                    // Over every cluster the placement selects: a drain or a scale-down leaves
                    // the other record, in its role (`placed_rank`).
                    // Two regions placed, and at most one cluster landed in each: a cluster
                    // replaced within its region (the old one drained) keeps its record.
                    let planned = planned_origins(sources, route.app, route.entry.environment());
                    let regions: BTreeSet<usize> = planned.iter().map(|o| o.rank).collect();
                    let landed = |r: usize| route.origins.iter().filter(|o| o.placed_rank == r).count();
                    if regions != BTreeSet::from([0, 1]) || landed(0) > 1 || landed(1) > 1 {
                        out.push((
                            format!(
                                "Route 53 failover has one PRIMARY and one SECONDARY record; `{host}` is placed in {} regions and lands on {} clusters",
                                regions.len(),
                                route.origins.len()
                            ),
                            at_routing(),
                            "place a failover app on one cluster in each of two regions, or serve it from a Front Door profile (priorities 1 to 5)",
                        ));
                    }
                }
                Routing::Geo => {
                    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
                    for o in &route.origins {
                        let v = &o.cluster.value;
                        match continent(v.provider, &v.region) {
                            None => out.push((
                                format!("fleetgen knows no continent for region `{}` (cluster `{}`) to route `{host}` by geography", o.region, o.id()),
                                at_routing(),
                                "use weighted, latency or failover routing",
                            )),
                            Some(c) => {
                                if let Some(other) = seen.insert(c, o.id()) {
                                    out.push((
                                        format!("Route 53 has one geolocation record per location; clusters `{other}` and `{}` of `{host}` are both in continent {c}", o.id()),
                                        at_routing(),
                                        "place a geo-routed app on one cluster per continent",
                                    ));
                                }
                            }
                        }
                    }
                }
                Routing::WeightedGlobal | Routing::SingleRegion => {}
            }
            for o in &route.origins {
                if o.weight.is_some_and(|w| w > 255) {
                    out.push((
                        format!(
                            "Route 53 weights are 0 to 255; cluster `{}` would get {}",
                            o.id(),
                            o.weight.unwrap_or(0)
                        ),
                        app.label(&["traffic", "weights"], "these weights"),
                        "use weights of at most 255",
                    ));
                }
                if host == zone.name
                    && o.cluster
                        .value
                        .edge
                        .as_ref()
                        .is_some_and(|e| e.alias_hosted_zone_id.is_none())
                {
                    out.push((
                        format!("`{host}` is the zone apex, where DNS allows no CNAME; cluster `{}` gives no `edge.aliasHostedZoneId` for an alias record", o.id()),
                        app.item_label(&["traffic", "hostnames"], route.host_index, "the zone apex"),
                        "give the cluster's `edge.aliasHostedZoneId` (its load balancer's canonical hosted zone), or serve a name under the apex",
                    ));
                }
                // The apex's alias record targets `edge.origin` in the zone `aliasHostedZoneId`
                // names: an AWS resource's name (a load balancer's), or a record of a zone of
                // the fleet's with that id. A name of the customer's elsewhere (the one a
                // cluster behind Front Door gives) is one Route 53 refuses as an alias target.
                if host == zone.name
                    && let Some(edge) = &o.cluster.value.edge
                    && let (Some(zone_id), Some(origin)) = (&edge.alias_hosted_zone_id, &edge.origin)
                    && !ALIAS_TARGET_DOMAINS.iter().any(|d| in_domain(origin, d))
                    && !sources.fleet.as_ref().is_some_and(|f| {
                        f.value
                            .edge
                            .route53
                            .iter()
                            .any(|z| z.zone_id == *zone_id && in_domain(origin, &z.name))
                    })
                {
                    out.push((
                        format!(
                            "`{host}` is the zone apex, whose alias record would target cluster `{}`'s `edge.origin` `{origin}` in hosted zone `{zone_id}`: not an AWS resource's name, nor a record of a zone of the fleet's with that id",
                            o.id()
                        ),
                        o.cluster.label(&["edge", "origin"], "not an alias target"),
                        "give the load balancer's own name as `edge.origin` (…elb.amazonaws.com), or serve a name under the apex",
                    ));
                }
            }
            if interval != 10 && interval != 30 {
                out.push((
                    format!("Route 53 checks every 10 or 30 seconds; `{host}` asks for {interval}s"),
                    interval_label(),
                    "set `traffic.healthProbe.interval` to 10s or 30s",
                ));
            }
        }
    }
    if (!a.traffic.weights.is_empty() || route.origins.iter().any(|o| o.weight_switch.is_some()))
        && route.routing != Routing::WeightedGlobal
    {
        out.push((
            format!(
                "`{}` has weights, but its routing is `{}`: weights apply to `weighted-global` only",
                a.application.name, route.routing
            ),
            at_routing(),
            "use `routing: weighted-global`, or drop the weights (take a cluster out with `inRotation: false`)",
        ));
    }
    out
}

/// Every problem of the edge configuration and the traffic switches (unsorted).
pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let Some(fleet) = &sources.fleet else { return };
    let files = &sources.files;
    check_entries(fleet, files, out);
    check_switches(sources, fleet, out);
    check_weights(sources, out);
    if sources.any_failed(crate::layout::Kind::Cluster) || sources.any_failed(crate::layout::Kind::App) {
        return;
    }
    let routes = routes(sources);
    let mut reported = BTreeSet::new();
    for r in &routes {
        for (message, label, help) in engine_problems(sources, r) {
            if reported.insert(message.clone()) {
                out.push(
                    Diagnostic::error(codes::EDGE_UNROUTABLE, files, label, message)
                        .with_secondary(r.entry.label(fleet, Some("name"), "the edge serving it"))
                        .with_help(help)
                        .for_app(r.app_name()),
                );
            }
        }
    }
    // A locked profile's routes carry its id: every hostname of the app must come through it.
    let mut examined = 0;
    for (locked, other) in behind_locked_and_elsewhere(&routes, &mut examined) {
        let message = format!(
            "`{}` is behind {} (which locks its origins) and {} (`{}`): its route cannot take both",
            other.app_name(),
            locked.describe(),
            other.entry.describe(),
            other.host
        );
        if reported.insert(message.clone()) {
            out.push(
                Diagnostic::error(
                    codes::EDGE_UNROUTABLE,
                    files,
                    other
                        .app
                        .item_label(&["traffic", "hostnames"], other.host_index, "served elsewhere"),
                    message,
                )
                .with_secondary(locked.label(fleet, Some("lockOrigins"), "accepts only its own traffic"))
                .with_help("serve all of the app's hostnames from the locked profile"),
            );
        }
    }
    check_entry_points(&routes, fleet, files, out);
    check_names(&routes, files, out);
    super::route53::check(&routes, fleet, files, out);
}

/// A hostname served by two entries (each serving it for the clusters of its environment: an
/// app placed in staging and prod, two profiles or zones of one domain): DNS gives the name
/// one answer, and Front Door gives a custom domain to one profile at a time, so one of the
/// environments' edges never receives its traffic (or the other's). Distinct hostnames under
/// one domain shared by two environments' entries are fine; `check_entries` refuses one
/// domain twice in one environment.
fn check_entry_points(routes: &[Route], fleet: &Doc<Fleet>, files: &SourceMap, out: &mut Vec<Diagnostic>) {
    let mut first: BTreeMap<&str, &Route> = BTreeMap::new();
    let mut reported = BTreeSet::new();
    for r in routes {
        let Some(f) = first.get(r.host).copied() else {
            first.insert(r.host, r);
            continue;
        };
        // The same entry twice is two apps claiming one hostname (FG150's).
        if f.entry.same(&r.entry) || !reported.insert((r.host, r.entry.at())) {
            continue;
        }
        out.push(
            Diagnostic::error(
                codes::EDGE_UNROUTABLE,
                files,
                r.app.item_label(&["traffic", "hostnames"], r.host_index, "served by a second entry"),
                format!(
                    "`{}` is served by {} in {} and by {} in {}: a hostname has one entry point (DNS gives it one answer, \
                     Front Door a custom domain to one profile)",
                    r.host,
                    f.entry.describe(),
                    f.entry.environment(),
                    r.entry.describe(),
                    r.entry.environment()
                ),
            )
            .with_secondary(f.app.item_label(&["traffic", "hostnames"], f.host_index, "first served here"))
            .with_secondary(r.entry.label(fleet, Some("name"), "the second entry"))
            .with_help(
                "give the entries domains that do not both hold the hostname (list the names one of them serves, \
                 `www.example.com` rather than `example.com`), or place the app in one of these environments",
            )
            .for_app(r.app_name()),
        );
    }
}

/// Each route of an app served in an environment by another entry than a Front Door profile
/// with `lockOrigins` serving the app there too: (the locked profile, the route elsewhere).
/// Routes are grouped by app and environment, so the work is the routes plus the pairs
/// found, not every route against every other (50,000 hostnames of one app behind one
/// locked profile took 52 s); `examined` counts the routes looked at, which the tests hold
/// to a multiple of the routes.
fn behind_locked_and_elsewhere<'r, 's>(
    routes: &'r [Route<'s>],
    examined: &mut usize,
) -> Vec<(Entry<'s>, &'r Route<'s>)> {
    let mut groups: BTreeMap<(&str, Environment), Vec<&Route>> = BTreeMap::new();
    for r in routes {
        *examined += 1;
        groups.entry((r.app_name(), r.entry.environment())).or_default().push(r);
    }
    let mut out = Vec::new();
    for group in groups.values() {
        // The locked profiles serving the group, each once (a handful: fleet.yaml's entries).
        let mut locked: Vec<Entry<'s>> = Vec::new();
        for r in group {
            if matches!(r.entry, Entry::FrontDoor(_, p) if p.lock_origins) && !locked.iter().any(|l| l.same(&r.entry)) {
                locked.push(r.entry);
            }
        }
        for l in &locked {
            for other in group.iter().filter(|o| !o.entry.same(l)) {
                *examined += 1;
                out.push((*l, *other));
            }
        }
    }
    out
}

/// Hostnames one edge would name alike: Front Door names a custom domain and a route after
/// the hostname with every other character a dash (`shop.eu.x` and `shop-eu.x` are both
/// `shop-eu-x`, and ARM refuses a template that defines one resource twice), Route 53's
/// template its records after the hostname's words (`a.b.x` and `a-b.x` are both `ABX`: one
/// record would replace the other).
fn check_names(routes: &[Route], files: &SourceMap, out: &mut Vec<Diagnostic>) {
    let mut named: BTreeMap<(bool, &str, Environment, String), &Route> = BTreeMap::new();
    for r in routes {
        let front_door = r.entry.is_front_door();
        let name = match front_door {
            true => front_door_name(r.host),
            false => super::route53::host_words(r.host),
        };
        let at = |r: &Route, what: &str| r.app.item_label(&["traffic", "hostnames"], r.host_index, what);
        match named.entry((front_door, r.entry.name(), r.entry.environment(), name)) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(r);
            }
            std::collections::btree_map::Entry::Occupied(o) if o.get().host != r.host => {
                let (first, name) = (o.get(), &o.key().3);
                let (what, consequence) = match front_door {
                    true => ("resource", "ARM refuses a template that defines one resource twice"),
                    false => ("record name", "one record would replace the other"),
                };
                out.push(
                    Diagnostic::error(
                        codes::EDGE_UNROUTABLE,
                        files,
                        at(r, "named alike"),
                        format!(
                            "`{}` and `{}` would be one {what}, `{name}`, of {}: {consequence}",
                            first.host,
                            r.host,
                            r.entry.describe()
                        ),
                    )
                    .with_secondary(at(first, "this hostname"))
                    .with_help("rename one of the hostnames"),
                );
            }
            std::collections::btree_map::Entry::Occupied(_) => {}
        }
    }
    // A Front Door route is named after its app and hostname (`checkout-api` serving
    // `x.contoso.com` and `checkout` serving `api-x.contoso.com` are both
    // `checkout-api-x-contoso-com`). Renaming routes instead would move a custom domain from
    // one route to another, which Front Door refuses while the old route holds it.
    let mut routes_named: BTreeMap<(&str, Environment, String), &Route> = BTreeMap::new();
    for r in routes.iter().filter(|r| r.entry.is_front_door()) {
        let name = front_door_name(&format!("{}-{}", r.app_name(), r.host));
        match routes_named.entry((r.entry.name(), r.entry.environment(), name)) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(r);
            }
            // (One app's two hostnames named alike are named alike as domains too, above.)
            std::collections::btree_map::Entry::Occupied(o) if o.get().app_name() != r.app_name() => {
                let (first, name) = (o.get(), &o.key().2);
                out.push(
                    Diagnostic::error(
                        codes::EDGE_UNROUTABLE,
                        files,
                        r.app.item_label(&["traffic", "hostnames"], r.host_index, "named alike"),
                        format!(
                            "`{}` of `{}` and `{}` of `{}` would be one route, `{name}`, of {}: ARM refuses a template that defines one resource twice",
                            first.host,
                            first.app_name(),
                            r.host,
                            r.app_name(),
                            r.entry.describe()
                        ),
                    )
                    .with_secondary(first.app.item_label(&["traffic", "hostnames"], first.host_index, "this hostname"))
                    .with_help("rename one of the hostnames (Front Door names a route after its app and hostname)"),
                );
            }
            std::collections::btree_map::Entry::Occupied(_) => {}
        }
    }
}

fn check_entries(fleet: &Doc<Fleet>, files: &SourceMap, out: &mut Vec<Diagnostic>) {
    let entries = entries(&fleet.value);
    let mut names: BTreeMap<(&str, &str), Entry> = BTreeMap::new();
    let mut domains: BTreeMap<(String, Environment), Entry> = BTreeMap::new();
    for e in &entries {
        let kind = if e.is_front_door() { "frontDoor" } else { "route53" };
        if let Some(first) = names.insert((kind, e.name()), *e) {
            out.push(
                Diagnostic::error(
                    codes::DUPLICATE_ID,
                    files,
                    e.label(fleet, Some("name"), "named again"),
                    format!("two edge entries are named `{}`", e.name()),
                )
                .with_secondary(first.label(fleet, Some("name"), "first here")),
            );
        }
        for d in e.domains() {
            if let Some(first) = domains.insert((d.to_string(), e.environment()), *e) {
                out.push(
                    Diagnostic::error(
                        codes::EDGE_UNROUTABLE,
                        files,
                        e.label(fleet, None, format!("also serves `{d}`")),
                        format!(
                            "{} and {} both serve `{d}` in {}: a hostname has one entry point",
                            first.describe(),
                            e.describe(),
                            e.environment()
                        ),
                    )
                    .with_secondary(first.label(fleet, None, "first here")),
                );
            }
        }
        // Of the last `sampleSize` probes, `successfulSamplesRequired` must succeed: more
        // than were taken can never succeed, and every origin would stay unhealthy. (JSON
        // Schema cannot compare two fields, so the schema does not say this.)
        if let Entry::FrontDoor(_, p) = e
            && let Some(l) = &p.load_balancing
        {
            let size = l.sample_size.unwrap_or(FRONT_DOOR_SAMPLE_SIZE);
            let required = l.successful_samples_required.unwrap_or(FRONT_DOOR_SUCCESSFUL_SAMPLES);
            if required > size {
                out.push(
                    Diagnostic::error(
                        codes::EDGE_UNROUTABLE,
                        files,
                        e.label(fleet, Some("loadBalancing"), "these samples"),
                        format!(
                            "{} requires {required} successful samples of {size}: no origin could ever be healthy",
                            e.describe()
                        ),
                    )
                    .with_help("set `successfulSamplesRequired` to at most `sampleSize` (defaults: 3 of 4)"),
                );
            }
        }
        if let Entry::FrontDoor(_, p) = e
            && let Some(l) = p.load_balancing.as_ref().and_then(|l| l.additional_latency.as_deref())
            && latency_ms(l).is_none_or(|ms| ms > 1000)
        {
            out.push(Diagnostic::error(
                codes::EDGE_UNROUTABLE,
                files,
                e.label(fleet, Some("loadBalancing"), "this latency"),
                format!("Front Door's latency sensitivity is 0 to 1000 ms; `{l}` is not"),
            ));
        }
    }
}

/// `50ms`, `1s` → milliseconds.
pub fn latency_ms(s: &str) -> Option<u32> {
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.parse().ok();
    }
    s.strip_suffix('s')?.parse::<u32>().ok()?.checked_mul(1000)
}

fn check_switches(sources: &Sources, fleet: &Doc<Fleet>, out: &mut Vec<Diagnostic>) {
    let files = &sources.files;
    let today = sources.today;
    let clusters: Vec<&str> = sources.clusters.iter().map(|c| c.value.cluster_id.as_str()).collect();
    let served: BTreeSet<String> = sources
        .clusters
        .iter()
        .map(|c| format!("{}:{}", c.value.provider, c.value.region))
        .collect();
    let clusters_failed = sources.any_failed(crate::layout::Kind::Cluster);
    for s in switches(sources) {
        let Some(label) = s.label(Some(fleet), "kill switch on") else {
            continue;
        };
        // The target exists and, for an app's switch, is one the app lands on.
        let mut target_ok = true;
        if !clusters_failed {
            let app = match s.scope {
                Scope::App(doc, _) => Some(doc),
                _ => None,
            };
            let field = if s.cluster.is_some() { "cluster" } else { "region" };
            let at = |text: &str| match s.scope {
                Scope::App(doc, i) => doc.item_field_label(&["traffic", "switches"], i, Some(field), text),
                Scope::Fleet(i) => fleet.item_field_label(&["edge", "outOfRotation"], i, Some("region"), text),
                Scope::Cluster(doc) => doc.label(&["edge", "inRotation"], text),
            };
            if let Some(c) = s.cluster {
                match sources.clusters.iter().find(|d| d.value.cluster_id.as_str() == c) {
                    None => {
                        target_ok = false;
                        let help = match suggest::closest(c, clusters.iter().copied()) {
                            Some(x) => format!("did you mean `{x}`?"),
                            None => "name a cluster of clusters/".to_string(),
                        };
                        out.push(
                            Diagnostic::error(
                                codes::KILL_SWITCH_TARGET,
                                files,
                                at("no such cluster"),
                                format!("no cluster `{c}`"),
                            )
                            .with_help(help),
                        );
                    }
                    Some(d) => {
                        if let Some(app) = app
                            && !selects(&app.value, &d.value)
                        {
                            target_ok = false;
                            out.push(
                                Diagnostic::error(
                                    codes::KILL_SWITCH_TARGET,
                                    files,
                                    at("not a cluster of this app"),
                                    format!(
                                        "`{}` does not land on cluster `{c}`, so this switch does nothing",
                                        app.value.application.name
                                    ),
                                )
                                .with_help("a traffic switch names a cluster or region of the app's placement"),
                            );
                        }
                    }
                }
            }
            if let Some(r) = &s.region {
                let placed = app.is_none_or(|a| a.value.placement.regions.iter().any(|x| x.to_string() == *r));
                if !served.contains(r) || !placed {
                    target_ok = false;
                    let message = match app {
                        Some(a) if served.contains(r) => {
                            format!(
                                "`{}` is not placed in region `{r}`, so this switch does nothing",
                                a.value.application.name
                            )
                        }
                        _ => format!("no cluster serves region `{r}`"),
                    };
                    out.push(Diagnostic::error(
                        codes::KILL_SWITCH_TARGET,
                        files,
                        at("not a region of this app"),
                        message,
                    ));
                }
            }
        }
        match s.expires.map(|d| (d, parse_date(d))) {
            Some((d, None)) => out.push(Diagnostic::error(
                codes::INVALID_VALUE,
                files,
                s.expires_label(Some(fleet), "no such day").unwrap_or(label.clone()),
                format!("`{d}` is not a date"),
            )),
            Some((d, Some(last))) if last < today => out.push(
                Diagnostic::error(
                    codes::TRAFFIC_SWITCH_EXPIRED,
                    files,
                    s.expires_label(Some(fleet), "expired").unwrap_or(label.clone()),
                    format!("traffic switch expired on {d}: {} ({})", s.describe(), s.reason),
                )
                .with_help("renew it with a new date and reason, or remove it to restore traffic"),
            ),
            Some((d, Some(last))) if target_ok && crate::clock::expires_within(last, today).is_some() => {
                let when = crate::clock::expires_within(last, today).unwrap_or_default();
                out.push(
                    Diagnostic::error(
                        codes::TRAFFIC_SWITCH_EXPIRING,
                        files,
                        s.expires_label(Some(fleet), "expires soon").unwrap_or(label.clone()),
                        format!("traffic switch expires on {d} ({when}): {}", s.describe()),
                    )
                    .with_help("when it expires, rendering fails until it is renewed or removed")
                    .warning(),
                )
            }
            _ => {}
        }
        if target_ok && s.active(today) {
            let help = match s.action {
                Action::OutOfRotation => {
                    "its workloads keep running; Front Door disables the origin, Route 53 leaves the record out. Remove the switch to bring it back"
                }
                Action::Weight(_) => "remove the switch to return to the contract's weights",
            };
            out.push(
                Diagnostic::error(
                    codes::KILL_SWITCH,
                    files,
                    label,
                    format!("{}: {}", s.describe(), s.reason),
                )
                .with_help(help)
                .warning(),
            );
        }
    }
}

/// Weights name regions or clusters of the app's placement.
fn check_weights(sources: &Sources, out: &mut Vec<Diagnostic>) {
    if sources.any_failed(crate::layout::Kind::Cluster) {
        return;
    }
    for doc in &sources.apps {
        let a = &doc.value;
        for key in a.traffic.weights.keys() {
            let known = if key.contains(':') {
                a.placement.regions.iter().any(|r| r.to_string() == *key)
            } else {
                sources
                    .clusters
                    .iter()
                    .any(|c| c.value.cluster_id.as_str() == key && selects(a, &c.value))
            };
            if !known {
                out.push(
                    Diagnostic::error(
                        codes::UNKNOWN_REFERENCE,
                        &sources.files,
                        doc.key_label(&["traffic", "weights", key.as_str()], "not a region or cluster of this app"),
                        format!("`{key}` in `traffic.weights` is neither a region of the placement nor a cluster the app lands on"),
                    )
                    .with_help("name a `provider:region` of `placement.regions`, or a cluster id"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostname_is_in_a_domain_at_a_dot() {
        assert!(in_domain("contoso.com", "contoso.com"));
        assert!(in_domain("www.contoso.com", "contoso.com"));
        assert!(!in_domain("notcontoso.com", "contoso.com"));
        assert!(!in_domain("contoso.com", "www.contoso.com"));
    }

    #[test]
    fn continents_of_regions() {
        assert_eq!(continent(Provider::Aws, "us-east-1"), Some("NA"));
        assert_eq!(continent(Provider::Aws, "eu-west-1"), Some("EU"));
        assert_eq!(continent(Provider::Aws, "ap-southeast-2"), Some("OC"));
        assert_eq!(continent(Provider::Azure, "westeurope"), Some("EU"));
        assert_eq!(continent(Provider::Azure, "westus3"), Some("NA"));
        assert_eq!(continent(Provider::Azure, "moon"), None);
        // `us` is inside these names: they are not in North America.
        for region in [
            "australiaeast",
            "australiasoutheast",
            "australiacentral",
            "australiacentral2",
        ] {
            assert_eq!(continent(Provider::Azure, region), Some("OC"), "{region}");
        }
        assert_eq!(continent(Provider::Azure, "austriaeast"), Some("EU"));
        assert_eq!(continent(Provider::Azure, "newzealandnorth"), Some("OC"));
        assert_eq!(continent(Provider::Azure, "southafricanorth"), Some("AF"));
        assert_eq!(continent(Provider::Azure, "brazilsouth"), Some("SA"));
        assert_eq!(continent(Provider::Azure, "uaenorth"), Some("AS"));
        assert_eq!(continent(Provider::Azure, "eastasia"), Some("AS"));
        assert_eq!(continent(Provider::Aws, "ap-southeast-4"), Some("OC"));
        assert_eq!(continent(Provider::Aws, "ap-southeast-1"), Some("AS"));
        assert_eq!(continent(Provider::Aws, "il-central-1"), Some("AS"));
        assert_eq!(continent(Provider::Aws, "mx-central-1"), Some("NA"));
        // A whole name or nothing: no prefix, no part of a name, no other provider's name.
        assert_eq!(continent(Provider::Aws, "us-east-9"), None);
        assert_eq!(continent(Provider::Aws, "eu-westt-1"), None);
        assert_eq!(continent(Provider::Azure, "eastus-2"), None);
        assert_eq!(continent(Provider::Azure, "us-east-1"), None);
        assert_eq!(continent(Provider::Aws, "westeurope"), None);
    }

    /// Geo routing over a cluster in Australia and one in the United States: two continents,
    /// not one (`us` read inside `australiaeast` made both `NA`, a false FG054).
    #[test]
    fn geo_routing_tells_australia_from_north_america() {
        let route53 =
            "edge:\n  route53:\n    - { name: example.com, zoneId: Z0123456789ABCDEFGHIJ, environment: prod }\n";
        let fleet = fixture::text("fleet.yaml") + route53;
        let aus = fixture::text("clusters/eastus-prod-01.yaml")
            .replace("eastus-prod-01", "auseast-prod-01")
            .replace("region: eastus", "region: australiaeast");
        let app = web("  routing: geo\n  failover: automatic\n").replace(
            "regions: [azure:eastus, aws:us-east-1]",
            "regions: [azure:australiaeast, aws:us-east-1]",
        );
        let sources = fixture::sources(&[
            ("fleet.yaml", &fleet),
            ("clusters/auseast-prod-01.yaml", &aus),
            ("apps/web/app.yaml", &app),
        ]);
        let routes = routes(&sources);
        assert_eq!(routes.len(), 1, "{routes:?}");
        let problems: Vec<String> = engine_problems(&sources, &routes[0]).into_iter().map(|p| p.0).collect();
        assert!(!problems.iter().any(|p| p.contains("continent")), "{problems:?}");
    }

    use crate::load::fixture;

    const EDGE: &str =
        "edge:\n  frontDoor:\n    - { name: afd, resourceGroup: rg-edge, endpoint: ep, domains: [example.com] }\n";

    fn web(traffic: &str) -> String {
        fixture::text("apps/web/app.yaml").replace("  routing: latency\n  failover: automatic\n", traffic)
    }

    /// (cluster, priority, weight, in rotation) of the one route of `web`.
    fn origins(sources: &Sources) -> Vec<(String, u32, Option<u32>, bool)> {
        let routes = routes(sources);
        assert_eq!(routes.len(), 1, "{routes:?}");
        routes[0]
            .origins
            .iter()
            .map(|o| (o.id().to_string(), o.priority, o.weight, o.in_rotation()))
            .collect()
    }

    fn web_of(sources: &Sources) -> &Doc<App> {
        sources
            .apps
            .iter()
            .find(|a| a.value.application.name.as_str() == "web")
            .unwrap()
    }

    fn eastus(sources: &Sources) -> &Doc<Cluster> {
        sources
            .clusters
            .iter()
            .find(|c| c.value.cluster_id.as_str() == "eastus-prod-01")
            .unwrap()
    }

    /// The edge probes the app's probe route; the route matches its path and rewrites it to
    /// the app's own path. A query of the app's path goes in what the edge probes (the
    /// rewrite keeps a request's query), a fragment nowhere.
    #[test]
    fn the_edge_probes_the_app_through_its_probe_route() {
        let fleet = fixture::text("fleet.yaml") + EDGE;
        let cluster = fixture::text("clusters/eastus-prod-01.yaml") + "edge:\n  origin: eastus-gw.example.com\n";
        let probe = |runtime: &str| {
            let app = fixture::text("apps/web/app.yaml").replace("observability:", &format!("{runtime}observability:"));
            let sources = fixture::sources(&[
                ("fleet.yaml", &fleet),
                ("clusters/eastus-prod-01.yaml", &cluster),
                ("apps/web/app.yaml", &app),
            ]);
            let (app, fleet) = (&web_of(&sources).value, &sources.fleet.as_ref().unwrap().value);
            let route = probe_route(fleet, app, &eastus(&sources).value);
            let edge = routes(&sources)
                .iter()
                .map(|r| r.probe_path.clone())
                .collect::<BTreeSet<_>>();
            (route, edge)
        };
        let (route, edge) = probe("");
        let expected = ProbeRoute {
            host: "eastus-gw.example.com".into(),
            path: "/_fleetgen/probe/web".into(),
            target: "/healthz/ready".into(),
            on_app_hostnames: true,
        };
        assert_eq!(route, Some(expected.clone()));
        assert_eq!(edge, BTreeSet::from(["/_fleetgen/probe/web".to_string()]));
        let (route, edge) = probe("runtime:\n  probes: { readinessPath: \"/ready?deep=1#top\" }\n");
        assert_eq!(
            route,
            Some(ProbeRoute {
                target: "/ready".into(),
                ..expected
            })
        );
        assert_eq!(edge, BTreeSet::from(["/_fleetgen/probe/web?deep=1".to_string()]));
        // A cluster without an origin is probed nowhere.
        let bare = fixture::sources(&[("fleet.yaml", &fleet)]);
        let app = &web_of(&bare).value;
        assert_eq!(
            probe_route(&bare.fleet.as_ref().unwrap().value, app, &eastus(&bare).value),
            None
        );
    }

    #[test]
    fn a_region_weight_is_split_evenly_over_its_clusters() {
        let fleet = fixture::text("fleet.yaml") + EDGE;
        let second = fixture::text("clusters/eastus-prod-01.yaml").replace("eastus-prod-01", "eastus-prod-02");
        let app = web(
            "  routing: weighted-global\n  failover: automatic\n  weights: { azure:eastus: 3, aws:us-east-1: 1 }\n",
        );
        let sources = fixture::sources(&[
            ("fleet.yaml", &fleet),
            ("clusters/eastus-prod-02.yaml", &second),
            ("apps/web/app.yaml", &app),
        ]);
        assert_eq!(
            origins(&sources),
            [
                ("eastus-prod-01".to_string(), 1, Some(3), true),
                ("eastus-prod-02".to_string(), 1, Some(3), true),
                ("useast1-prod-01".to_string(), 1, Some(2), true),
            ]
        );
        // Three clusters in one region, two in the other: weights are scaled by 6 for the
        // split, then put in lowest terms (600:400 is 200 a cluster, as 3:2 is 1: weight 1
        // each), not refused as 1200 a cluster over Front Door's 1000.
        let copy = |from: &str, to: &str| fixture::text(&format!("clusters/{from}.yaml")).replace(from, to);
        let (east2, east3) = (
            copy("eastus-prod-01", "eastus-prod-02"),
            copy("eastus-prod-01", "eastus-prod-03"),
        );
        let west2 = copy("useast1-prod-01", "useast1-prod-02");
        for weights in ["600, aws:us-east-1: 400", "3, aws:us-east-1: 2"] {
            let app = web(&format!(
                "  routing: weighted-global\n  failover: automatic\n  weights: {{ azure:eastus: {weights} }}\n"
            ));
            let sources = fixture::sources(&[
                ("fleet.yaml", &fleet),
                ("clusters/eastus-prod-02.yaml", &east2),
                ("clusters/eastus-prod-03.yaml", &east3),
                ("clusters/useast1-prod-02.yaml", &west2),
                ("apps/web/app.yaml", &app),
            ]);
            let weights: Vec<Option<u32>> = origins(&sources).into_iter().map(|o| o.2).collect();
            assert_eq!(weights, [Some(1); 5], "{weights:?}");
            let mut out = Vec::new();
            check(&sources, &mut out);
            assert!(!out.iter().any(|d| d.message.contains("weights are")), "{out:?}");
        }
        // Lowest terms, not the contract's numbers: 70:30 on one cluster each is 7:3.
        let app = web(
            "  routing: weighted-global\n  failover: automatic\n  weights: { azure:eastus: 70, aws:us-east-1: 30 }\n",
        );
        let sources = fixture::sources(&[("fleet.yaml", &fleet), ("apps/web/app.yaml", &app)]);
        let weights: Vec<Option<u32>> = origins(&sources).into_iter().map(|o| o.2).collect();
        assert_eq!(weights, [Some(7), Some(3)]);
    }

    #[test]
    fn failover_priorities_follow_the_placement_and_drained_clusters_are_no_origins() {
        let fleet = fixture::text("fleet.yaml") + EDGE;
        let app = web("  routing: failover\n  failover: automatic\n");
        let reversed = app.replace(
            "regions: [azure:eastus, aws:us-east-1]",
            "regions: [aws:us-east-1, azure:eastus]",
        );
        let sources = fixture::sources(&[("fleet.yaml", &fleet), ("apps/web/app.yaml", &reversed)]);
        assert_eq!(
            origins(&sources),
            [
                ("eastus-prod-01".to_string(), 2, None, true),
                ("useast1-prod-01".to_string(), 1, None, true)
            ]
        );
        let drained = app + "gitops:\n  drain:\n    - { cluster: useast1-prod-01, reason: \"CHG-1: move\" }\n";
        let sources = fixture::sources(&[("fleet.yaml", &fleet), ("apps/web/app.yaml", &drained)]);
        assert_eq!(origins(&sources), [("eastus-prod-01".to_string(), 1, None, true)]);
    }

    /// A manual failover (`manual-confirmed`, or `none`) holds the later priorities back (Front
    /// Door keeps them disabled) until a switch takes the first out of rotation; `automatic`
    /// holds nothing.
    #[test]
    fn a_manual_failover_holds_later_priorities_until_the_first_is_switched_out() {
        let fleet = fixture::text("fleet.yaml") + EDGE;
        // Front Door's origins are the clusters with a gateway host name.
        let east = fixture::text("clusters/eastus-prod-01.yaml") + "edge:\n  origin: east.example.com\n";
        let west = fixture::text("clusters/useast1-prod-01.yaml") + "edge:\n  origin: west.example.com\n";
        let enabled = |app: &str| {
            let sources = fixture::sources(&[
                ("fleet.yaml", &fleet),
                ("clusters/eastus-prod-01.yaml", &east),
                ("clusters/useast1-prod-01.yaml", &west),
                ("apps/web/app.yaml", app),
            ]);
            let routes = routes(&sources);
            routes[0]
                .origins
                .iter()
                .map(|o| (o.id().to_string(), o.priority, o.enabled()))
                .collect::<Vec<_>>()
        };
        let both = |east: bool, west: bool| {
            vec![
                ("eastus-prod-01".to_string(), 1, east),
                ("useast1-prod-01".to_string(), 2, west),
            ]
        };
        assert_eq!(
            enabled(&web("  routing: failover\n  failover: automatic\n")),
            both(true, true)
        );
        for failover in ["manual-confirmed", "none"] {
            let app = web(&format!("  routing: failover\n  failover: {failover}\n"));
            assert_eq!(enabled(&app), both(true, false), "{failover}");
            let switched = app.replace(
                "  port:",
                "  switches:\n    - { region: azure:eastus, inRotation: false, reason: \"failed over\" }\n  port:",
            );
            assert_eq!(enabled(&switched), both(false, true), "{failover}");
        }
    }

    #[test]
    fn an_expired_switch_holds_nothing_and_is_an_error() {
        let fleet = fixture::text("fleet.yaml") + EDGE;
        let cluster = fixture::text("clusters/eastus-prod-01.yaml")
            + "edge:\n  origin: gw.example.com\n  inRotation: false\n  reason: \"INC-1: x\"\n  expires: \"2026-11-21\"\n";
        let sources = fixture::sources(&[("fleet.yaml", &fleet), ("clusters/eastus-prod-01.yaml", &cluster)]);
        assert!(origins(&sources).iter().all(|o| o.3));
        let mut out = Vec::new();
        check(&sources, &mut out);
        let codes: Vec<&str> = out.iter().map(|d| d.code.id).collect();
        assert_eq!(codes, ["FG052"], "{out:?}");
    }

    /// Two hostnames one edge would name alike are refused at the second, on Front Door
    /// (one resource twice in the template) and on Route 53 (one record replacing the other).
    #[test]
    fn hostnames_an_edge_names_alike_are_refused() {
        let route53 =
            "edge:\n  route53:\n    - { name: example.com, zoneId: Z0123456789ABCDEFGHIJ, environment: prod }\n";
        for (edge, name) in [(EDGE, "`a-b-example-com`"), (route53, "`ABExampleCom`")] {
            let fleet = fixture::text("fleet.yaml") + edge;
            let found = |hosts: &str| {
                let app = fixture::text("apps/web/app.yaml").replace("[www.example.com]", hosts);
                let sources = fixture::sources(&[("fleet.yaml", &fleet), ("apps/web/app.yaml", &app)]);
                let mut out = Vec::new();
                check(&sources, &mut out);
                out
            };
            // (Route 53 has its say on the fixture's Azure cluster too: only this finding counts.)
            let alike = |out: Vec<Diagnostic>| -> Vec<Diagnostic> {
                out.into_iter()
                    .filter(|d| d.message.contains(" would be one "))
                    .collect()
            };
            assert!(alike(found("[a.b.example.com, a-c.example.com]")).is_empty());
            // A wildcard is a word of its own: `*.example.com` is not the apex.
            assert!(alike(found("[\"*.example.com\", example.com]")).is_empty());
            let out = alike(found("[a.b.example.com, a-b.example.com]"));
            assert_eq!(out.len(), 1, "{out:?}");
            assert_eq!(out[0].code.id, "FG054");
            let said = "`a.b.example.com` and `a-b.example.com` would be one";
            assert!(
                out[0].message.contains(said) && out[0].message.contains(name),
                "{}",
                out[0].message
            );
        }
    }

    /// A Front Door route whose clusters give no `edge.origin` has an empty origin group,
    /// which Front Door refuses: FG054 once per app, at its hostname. One cluster with a name
    /// is enough (the other is FG153's, a lint).
    #[test]
    fn a_front_door_route_with_no_origin_is_refused() {
        let fleet = fixture::text("fleet.yaml") + EDGE;
        let found = |east: &str| {
            let app = fixture::text("apps/web/app.yaml").replace("[www.example.com]", "[www.example.com, example.com]");
            let sources = fixture::sources(&[
                ("fleet.yaml", &fleet),
                ("clusters/eastus-prod-01.yaml", east),
                ("apps/web/app.yaml", &app),
            ]);
            let mut out = Vec::new();
            check(&sources, &mut out);
            out.into_iter()
                .filter(|d| d.message.contains("to no origin"))
                .collect::<Vec<_>>()
        };
        let east = fixture::text("clusters/eastus-prod-01.yaml");
        let out = found(&east);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].code.id, "FG054");
        assert_eq!(out[0].path, "apps/web/app.yaml");
        assert!(
            out[0].message.contains("(`eastus-prod-01`, `useast1-prod-01`)"),
            "{}",
            out[0].message
        );
        assert!(found(&(east + "edge:\n  origin: east.example.com\n")).is_empty());
    }

    /// One hostname served by two entries of different environments (both hold its domain,
    /// the app runs in both) is refused at the second, once per hostname and entry; distinct
    /// hostnames under one domain of both environments' entries are not.
    #[test]
    fn a_hostname_has_one_entry_point_across_environments() {
        let staging_fd = "    - { name: afd-staging, resourceGroup: rg-edge-staging, endpoint: ep-staging, \
                          environment: staging, domains: [example.com] }\n";
        let staging_zone =
            "  route53:\n    - { name: example.com, zoneId: Z0123456789ABCDEFGHIJ, environment: staging }\n";
        let found = |edge: &str, apps: &[(&str, &str)]| {
            let fleet = fixture::text("fleet.yaml") + EDGE + edge;
            let staging =
                fixture::text("clusters/eastus-staging-01.yaml") + "edge:\n  origin: staging-gw.example.com\n";
            let mut files = vec![
                ("fleet.yaml", fleet.as_str()),
                ("clusters/eastus-staging-01.yaml", staging.as_str()),
            ];
            files.extend_from_slice(apps);
            let sources = fixture::sources(&files);
            let mut out = Vec::new();
            check(&sources, &mut out);
            out.into_iter()
                .filter(|d| d.message.contains("a hostname has one entry point ("))
                .map(|d| (d.code.id, d.path, d.message))
                .collect::<Vec<_>>()
        };
        let web = fixture::text("apps/web/app.yaml");
        for (edge, second) in [
            (staging_fd, "Front Door profile `afd-staging`"),
            (staging_zone, "Route 53 zone `example.com`"),
        ] {
            let out = found(edge, &[("apps/web/app.yaml", &web)]);
            assert_eq!(out.len(), 1, "{out:?}");
            assert_eq!((out[0].0, out[0].1.as_str()), ("FG054", "apps/web/app.yaml"));
            let said =
                format!("`www.example.com` is served by Front Door profile `afd` in prod and by {second} in staging");
            assert!(out[0].2.contains(&said), "{}", out[0].2);
        }
        // Each environment's app under its own name: one entry each.
        let prod = web.replace("environments: [staging, prod]", "environments: [prod]");
        let next = web
            .replace("name: web\n", "name: web-next\n")
            .replace("environments: [staging, prod]", "environments: [staging]")
            .replace("[www.example.com]", "[next.example.com]");
        let apps = [
            ("apps/web/app.yaml", prod.as_str()),
            ("apps/web-next/app.yaml", next.as_str()),
        ];
        assert!(found(staging_fd, &apps).is_empty());
        // The staging entry holds a domain of its own: it does not serve www.example.com.
        let own = staging_fd.replace("[example.com]", "[staging.example.com]");
        assert!(found(&own, &[("apps/web/app.yaml", &web)]).is_empty());
    }

    /// Two apps' routes Front Door would name alike (app and hostname joined) are refused.
    #[test]
    fn routes_front_door_names_alike_are_refused() {
        let fleet = fixture::text("fleet.yaml") + EDGE;
        let web = fixture::text("apps/web/app.yaml");
        let found = |web_host: &str, other_host: &str| {
            let one = web.replace("[www.example.com]", web_host);
            let two = web
                .replace("name: web\n", "name: web-a\n")
                .replace("[www.example.com]", other_host);
            let sources = fixture::sources(&[
                ("fleet.yaml", &fleet),
                ("apps/web/app.yaml", &one),
                ("apps/web-a/app.yaml", &two),
            ]);
            let mut out = Vec::new();
            check(&sources, &mut out);
            out.into_iter()
                .filter(|d| d.message.contains("would be one route"))
                .collect::<Vec<_>>()
        };
        assert!(found("[a-c.example.com]", "[b.example.com]").is_empty());
        let out = found("[a-b.example.com]", "[b.example.com]");
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].code.id, "FG054");
        assert!(out[0].message.contains("`web-a-b-example-com`"), "{}", out[0].message);
    }

    /// An app with many hostnames behind a locked Front Door profile and one elsewhere: the
    /// one elsewhere is refused, and finding it looks at each route a bounded number of
    /// times (every route against every other was quadratic: 52 s for 50,000 hostnames).
    #[test]
    fn an_app_behind_a_locked_profile_is_checked_in_linear_work() {
        let fleet = fixture::text("fleet.yaml")
            + "edge:\n  frontDoor:\n"
            + "    - { name: afd, resourceGroup: rg-edge, endpoint: ep, domains: [example.com], lockOrigins: true,\n"
            + "        frontDoorId: 3f2b9c1e-7d4a-4e8b-9a61-2c5d8e0f1a73 }\n"
            + "    - { name: afd-b, resourceGroup: rg-edge, endpoint: ep-b, domains: [example.org] }\n";
        let hosts: Vec<String> = (0..2000).map(|i| format!("h{i}.example.com")).collect();
        let app = fixture::text("apps/web/app.yaml")
            .replace("[www.example.com]", &format!("[{}, www.example.org]", hosts.join(", ")));
        let sources = fixture::sources(&[("fleet.yaml", &fleet), ("apps/web/app.yaml", &app)]);
        let routes = routes(&sources);
        assert_eq!(routes.len(), 2001);
        let mut examined = 0;
        let found = behind_locked_and_elsewhere(&routes, &mut examined);
        let found: Vec<(&str, &str)> = found.iter().map(|(l, o)| (l.name(), o.host)).collect();
        assert_eq!(found, [("afd", "www.example.org")]);
        assert!(
            examined <= 2 * routes.len(),
            "{examined} routes looked at for {}",
            routes.len()
        );
        let mut out = Vec::new();
        check(&sources, &mut out);
        let locked: Vec<&str> = out
            .iter()
            .filter(|d| d.message.contains("locks its origins"))
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(
            locked,
            [
                "`web` is behind Front Door profile `afd` (which locks its origins) and Front Door profile `afd-b` \
              (`www.example.org`): its route cannot take both"
            ]
        );
    }

    /// Front Door checks an origin's certificate against the origin's host name: a gateway's
    /// generated name, which no one can hold a certificate for, is refused at the cluster's
    /// `edge.origin`; a name of the customer's own is not.
    #[test]
    fn a_front_door_origin_is_not_a_name_the_cloud_generated() {
        let fleet = fixture::text("fleet.yaml") + EDGE;
        let found = |origin: &str| {
            let cluster = fixture::text("clusters/eastus-prod-01.yaml") + &format!("edge:\n  origin: {origin}\n");
            let sources = fixture::sources(&[("fleet.yaml", &fleet), ("clusters/eastus-prod-01.yaml", &cluster)]);
            let mut out = Vec::new();
            check(&sources, &mut out);
            out.into_iter()
                .filter(|d| d.message.contains("checks the certificate"))
                .collect::<Vec<_>>()
        };
        assert!(found("eastus-gw.example.com").is_empty());
        let out = found("e7b1c9d24f3a6e80.fz41.alb.azure.com");
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].code.id, "FG054");
        assert_eq!(out[0].path, "clusters/eastus-prod-01.yaml");
        assert!(
            out[0].message.contains("`e7b1c9d24f3a6e80.fz41.alb.azure.com`"),
            "{}",
            out[0].message
        );
        // A name of another domain of the customer's is theirs to hold a certificate for.
        assert!(found("eastus-gw.example-infra.net").is_empty());
        let out = found("k8s-gateway-0123456789.us-east-1.elb.amazonaws.com");
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].message.contains("(`elb.amazonaws.com`)"), "{}", out[0].message);
        // A name that merely ends like a generated domain is not under it.
        assert!(found("gw.notelb.amazonaws.com").is_empty());
    }

    /// Front Door has no managed certificate for a wildcard domain, the only kind fleetgen
    /// configures: a wildcard hostname is refused at the hostname.
    #[test]
    fn a_wildcard_hostname_is_refused_on_front_door() {
        let fleet = fixture::text("fleet.yaml") + EDGE;
        let found = |hosts: &str| {
            let app = fixture::text("apps/web/app.yaml").replace("[www.example.com]", hosts);
            let sources = fixture::sources(&[("fleet.yaml", &fleet), ("apps/web/app.yaml", &app)]);
            let mut out = Vec::new();
            check(&sources, &mut out);
            out.into_iter()
                .filter(|d| d.message.contains("wildcard"))
                .collect::<Vec<_>>()
        };
        assert!(found("[www.example.com]").is_empty());
        let out = found("[\"*.shop.example.com\"]");
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].code.id, "FG054");
        assert_eq!(out[0].path, "apps/web/app.yaml");
    }

    /// More successful samples than samples taken can never succeed: refused at the
    /// profile's `loadBalancing`, the defaults (3 of 4) counted.
    #[test]
    fn successful_samples_are_at_most_the_samples() {
        let found = |lb: &str| {
            let fleet = fixture::text("fleet.yaml")
                + "edge:\n  frontDoor:\n    - { name: afd, resourceGroup: rg-edge, endpoint: ep, domains: [example.com],\n"
                + &format!("        loadBalancing: {lb} }}\n");
            let sources = fixture::sources(&[("fleet.yaml", &fleet)]);
            let mut out = Vec::new();
            check(&sources, &mut out);
            out.into_iter()
                .filter(|d| d.message.contains("successful samples"))
                .map(|d| (d.code.id, d.message))
                .collect::<Vec<_>>()
        };
        assert!(found("{ sampleSize: 4, successfulSamplesRequired: 4 }").is_empty());
        assert!(found("{ successfulSamplesRequired: 4 }").is_empty());
        let out = found("{ sampleSize: 2, successfulSamplesRequired: 200 }");
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].0, "FG054");
        assert!(out[0].1.contains("200 successful samples of 2"), "{}", out[0].1);
        assert_eq!(found("{ sampleSize: 2 }").len(), 1, "the default of 3 is more than 2");
        assert_eq!(
            found("{ successfulSamplesRequired: 5 }").len(),
            1,
            "the default of 4 is less than 5"
        );
    }

    #[test]
    fn a_wildcard_is_a_word_of_front_door_names() {
        assert_eq!(front_door_name("*.example.com"), "wildcard-example-com");
        assert_eq!(front_door_name("cart-*.example.com"), "cart-wildcard-example-com");
        assert_eq!(front_door_name("example.com"), "example-com");
    }

    #[test]
    fn latency_is_read_in_milliseconds() {
        assert_eq!(latency_ms("50ms"), Some(50));
        assert_eq!(latency_ms("1s"), Some(1000));
        assert_eq!(latency_ms("x"), None);
    }
}
