//! Route 53's resources of the global traffic layer, named: for each route a Route 53 zone
//! serves (see [`super::edge`]), a health check per cluster and the record sets, each with
//! the CloudFormation logical id and the set identifier the `route53` backend writes; and
//! [`check`], which refuses (FG054) what such a template could not deploy.
//!
//! Names stay put across the changes Route 53 only takes in place. It allows one failover
//! `PRIMARY` and one `SECONDARY` per name and one geolocation record per location, and
//! CloudFormation creates a resource of a new logical id before it deletes the old one
//! (in cleanup), so a record keyed by its cluster could not move: a manual failover would
//! make two `PRIMARY` records for a moment, a geo kill switch two `*` records. A failover
//! record is therefore named after its role (`primary`, `secondary`) and a geolocation
//! record after its location (`EU`, `default`); a change rewrites its target and health
//! check in place. Weighted and latency records, of which a name has many, are named after
//! their cluster. Health checks are per cluster: a failover moves a record to the other
//! cluster's check, which has been probing all along.
//!
//! Logical ids are `Check`/`Record`, the hostname's words ([`host_words`]) and the cluster's
//! (or the role, the continent). PascalCase is not one-to-one (`euwest1-prod-01` and
//! `euwest1-prod01` are both `Euwest1Prod01`), and two resources of one id would leave one
//! (the last) in the template: [`check`] refuses such a pair where it is written. An id over
//! CloudFormation's 255 characters is cut and given a hash of what it names.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Label, codes};
use crate::load::Doc;
use crate::model::app::{Failover, Routing};
use crate::model::common::{fnv1a64, pascal_case};
use crate::model::fleet::Fleet;
use crate::model::{Provider, common::Environment};
use crate::source::SourceMap;
use crate::suggest;

use super::edge::{Entry, Origin, Route, continent};

/// Route 53's longest TTL (the API's `TTL`: 0 to 2147483647 seconds).
pub const MAX_TTL: u64 = 2_147_483_647;
/// The TTL of CNAME records when the zone names none.
pub const DEFAULT_TTL: u64 = 60;
/// CloudFormation's longest logical id; tag values are at most 256 characters.
const MAX_LOGICAL_ID: usize = 255;
const MAX_TAG_VALUE: usize = 256;

/// The regions a Route 53 latency record can name: the Route 53 API's `ResourceRecordSetRegion`
/// enumeration, from botocore 1.44.18 (`botocore/data/route53/2013-04-01/service-2.json`),
/// in its order. A new AWS region is added here when Route 53 adds it there.
pub const LATENCY_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-central-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "eu-north-1",
    "sa-east-1",
    "cn-north-1",
    "cn-northwest-1",
    "ap-east-1",
    "me-south-1",
    "me-central-1",
    "ap-south-1",
    "ap-south-2",
    "af-south-1",
    "eu-south-1",
    "eu-south-2",
    "ap-southeast-4",
    "il-central-1",
    "ca-west-1",
    "ap-southeast-5",
    "mx-central-1",
    "ap-southeast-7",
    "us-gov-east-1",
    "us-gov-west-1",
    "ap-east-2",
    "ap-southeast-6",
    "eusc-de-east-1",
];

/// How Route 53 chooses a record among those of its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy<'s> {
    /// A latency record in this AWS region.
    Latency(&'s str),
    /// A failover record: `PRIMARY` (true) or `SECONDARY`.
    Failover(bool),
    Weight(u32),
    /// A geolocation record for a continent (`EU`).
    Continent(&'static str),
    /// The geolocation default, `CountryCode: "*"`.
    GeoDefault,
}

/// A health check of one cluster's gateway for one hostname.
#[derive(Clone, Debug)]
pub struct HealthCheck<'r, 's> {
    pub id: String,
    pub origin: &'r Origin<'s>,
    /// The gateway's host name, which it probes.
    pub gateway: &'s str,
    /// Its `Name` tag: the hostname and the cluster id (at most 256 characters).
    pub name_tag: String,
}

/// A record set answering with one cluster's gateway.
#[derive(Clone, Debug)]
pub struct RecordSet<'r, 's> {
    pub id: String,
    pub set_identifier: String,
    pub origin: &'r Origin<'s>,
    pub gateway: &'s str,
    /// The logical id of the cluster's health check, which Route 53 answers by; `None` for
    /// the `PRIMARY` of an app whose traffic does not fail over by itself (`failover:
    /// manual-confirmed` or `none`): Route 53 counts a record with no health check (and, an
    /// alias, not evaluating its target's health) as healthy, so it never answers with the
    /// `SECONDARY` until a switch takes the primary's record out.
    pub check: Option<String>,
    pub policy: Policy<'s>,
    /// An alias A record (at the zone apex, to the load balancer in this hosted zone); a
    /// CNAME otherwise.
    pub alias: Option<&'s str>,
}

/// One cluster's resources for one hostname: its health check, and its records (none when
/// it is out of rotation, or a `role: standby` cluster under latency routing; two for the
/// geo-routed cluster that also answers the rest of the world).
#[derive(Clone, Debug)]
pub struct ClusterResources<'r, 's> {
    pub check: HealthCheck<'r, 's>,
    pub records: Vec<RecordSet<'r, 's>>,
}

/// A hostname's words in logical ids: PascalCase, with a wildcard `*` as `Wildcard` (so that
/// `*.example.com` is not `example.com`).
pub fn host_words(host: &str) -> String {
    pascal_case(&host.replace('*', "wildcard"))
}

/// `kind` + the hostname's words + `key`, cut to 255 characters with a hash of what it names
/// (`raw`: the hostname and the cluster id or role) when longer.
fn logical_id(kind: &str, host: &str, key: &str, raw: &str) -> String {
    let id = format!("{kind}{}{key}", host_words(host));
    if id.len() <= MAX_LOGICAL_ID {
        return id;
    }
    let hash = fnv1a64(&format!("{kind} {host} {raw}")) as u32;
    format!("{}{hash:08X}", &id[..MAX_LOGICAL_ID - 8])
}

/// `<hostname> <cluster>`, the hostname's start cut (`...`) to fit a tag value.
fn name_tag(host: &str, cluster: &str) -> String {
    let tag = format!("{host} {cluster}");
    if tag.chars().count() <= MAX_TAG_VALUE {
        return tag;
    }
    let room = MAX_TAG_VALUE.saturating_sub(cluster.chars().count() + 4);
    let tail: String = host.chars().skip(host.chars().count().saturating_sub(room)).collect();
    format!("...{tail} {cluster}")
}

/// The resources of `route` (served by a Route 53 zone), cluster by cluster in the route's
/// order; a cluster without a gateway host name has none (FG153 says so).
pub fn resources<'r, 's>(route: &'r Route<'s>) -> Vec<ClusterResources<'r, 's>> {
    let apex = matches!(route.entry, Entry::Route53(_, z) if z.name == route.host);
    // A geo-routed name's default record goes to the first region in rotation: with the
    // first region out, the rest of the world would get no answer.
    let default_rank = route
        .origins
        .iter()
        .filter(|o| o.in_rotation() && o.host().is_some())
        .map(|o| o.rank)
        .min();
    // Traffic that does not fail over by itself: the `PRIMARY` carries no health check.
    let manual = matches!(
        route.app.value.traffic.failover,
        Some(Failover::ManualConfirmed | Failover::None)
    );
    let mut out = Vec::new();
    for o in &route.origins {
        let cluster: &'s crate::load::Doc<crate::model::Cluster> = o.cluster;
        let Some(gateway) = cluster.value.edge.as_ref().and_then(|e| e.origin.as_deref()) else {
            continue;
        };
        let id = o.id();
        let check = HealthCheck {
            id: logical_id("Check", route.host, &pascal_case(id), id),
            origin: o,
            gateway,
            name_tag: name_tag(route.host, id),
        };
        let mut records = Vec::new();
        if o.in_rotation() {
            // DNS allows no CNAME at the zone apex: an alias A record there (FG054 asks every
            // cluster for its load balancer's hosted zone). Elsewhere a CNAME, whatever the
            // clusters: one name takes one record type, and a type that followed the
            // placement (alias A while every cluster is on AWS) would flip every record of
            // the name when an Azure cluster joined or left, which Route 53 refuses record
            // by record.
            let alias = o
                .cluster
                .value
                .edge
                .as_ref()
                .and_then(|e| e.alias_hosted_zone_id.as_deref())
                .filter(|_| apex);
            let by_cluster = |policy| (pascal_case(id), id.to_string(), policy);
            let keyed: Vec<(String, String, Policy)> = match route.routing {
                // One latency record per region (the Route 53 API allows no second one), keyed
                // by it: a cluster replaced within its region (the new one placed, the old one
                // drained) changes the record's target in place, where a record keyed by
                // cluster would be created beside the old one and refused.
                Routing::Latency if route.answers_with(o) => {
                    let region = o.cluster.value.region.as_str();
                    vec![(pascal_case(region), region.to_string(), Policy::Latency(region))]
                }
                Routing::Latency => Vec::new(),
                Routing::Failover => {
                    let primary = o.placed_rank == 0;
                    let role = if primary { "primary" } else { "secondary" };
                    vec![(pascal_case(role), role.to_string(), Policy::Failover(primary))]
                }
                // A weight-0 record (a standby cluster, a last resort) is answered when every
                // other record is unhealthy: one held back for a manual failover has none.
                Routing::WeightedGlobal | Routing::SingleRegion if o.held => Vec::new(),
                Routing::WeightedGlobal | Routing::SingleRegion => {
                    let weight = match o.weight {
                        Some(w) => w,
                        None if o.standby => 0,
                        None => 1,
                    };
                    vec![by_cluster(Policy::Weight(weight))]
                }
                Routing::Geo => {
                    let v = &o.cluster.value;
                    let mut geo = Vec::new();
                    if let Some(c) = continent(v.provider, &v.region) {
                        geo.push((c.to_string(), c.to_string(), Policy::Continent(c)));
                    }
                    if Some(o.rank) == default_rank {
                        geo.push(("Default".to_string(), "default".to_string(), Policy::GeoDefault));
                    }
                    geo
                }
            };
            for (key, set_identifier, policy) in keyed {
                records.push(RecordSet {
                    id: logical_id("Record", route.host, &key, &set_identifier),
                    set_identifier,
                    origin: o,
                    gateway,
                    check: (!manual || policy != Policy::Failover(true)).then(|| check.id.clone()),
                    policy,
                    alias,
                });
            }
        }
        out.push(ClusterResources { check, records });
    }
    out
}

/// What Route 53 templates could not deploy (FG054): two resources of one logical id (one
/// would replace the other), a TTL over Route 53's maximum, a latency record in a region
/// Route 53 does not have.
pub fn check(routes: &[Route], fleet: &Doc<Fleet>, files: &SourceMap, out: &mut Vec<Diagnostic>) {
    for (i, zone) in fleet.value.edge.route53.iter().enumerate() {
        if let Some(ttl) = zone.ttl
            && ttl.seconds > MAX_TTL
        {
            out.push(
                Diagnostic::error(
                    codes::EDGE_UNROUTABLE,
                    files,
                    Entry::Route53(i, zone).label(fleet, Some("ttl"), "this TTL"),
                    format!(
                        "Route 53 TTLs are 0 to {MAX_TTL} seconds; zone `{}` asks for {}",
                        zone.name, ttl.seconds
                    ),
                )
                .with_help("resolvers keep a record for its TTL: seconds to minutes, so that a failover is seen soon"),
            );
        }
    }
    check_latency_regions(routes, fleet, files, out);
    check_logical_ids(routes, fleet, files, out);
}

fn check_latency_regions(routes: &[Route], fleet: &Doc<Fleet>, files: &SourceMap, out: &mut Vec<Diagnostic>) {
    let mut reported = BTreeSet::new();
    for r in routes
        .iter()
        .filter(|r| !r.entry.is_front_door() && r.routing == Routing::Latency)
    {
        for o in r.origins.iter().filter(|o| r.answers_with(o)) {
            let v = &o.cluster.value;
            let region = v.region.as_str();
            if v.provider != Provider::Aws || LATENCY_REGIONS.contains(&region) || !reported.insert(o.id()) {
                continue;
            }
            let help = match suggest::closest(region, LATENCY_REGIONS.iter().copied()) {
                Some(x) => format!("did you mean `{x}`? (Route 53's regions are those of its API, botocore's list)"),
                None => "name an AWS region Route 53 has".to_string(),
            };
            out.push(
                Diagnostic::error(
                    codes::EDGE_UNROUTABLE,
                    files,
                    o.cluster.label(&["region"], "not a region Route 53 knows"),
                    format!(
                        "Route 53 latency records name an AWS region it knows; cluster `{}` (serving `{}`) is in `{region}`",
                        o.id(),
                        r.host
                    ),
                )
                .with_secondary(r.entry.label(fleet, Some("name"), "the edge serving it"))
                .with_help(help)
                .for_app(r.app_name()),
            );
        }
    }
}

/// What a resource names: (hostname, cluster id or role), and where to point at it.
struct Named<'r, 's> {
    route: &'r Route<'s>,
    host: &'s str,
    key: String,
    origin: &'r Origin<'s>,
    /// Keyed by its cluster (not a role or a location).
    by_cluster: bool,
}

fn check_logical_ids(routes: &[Route], fleet: &Doc<Fleet>, files: &SourceMap, out: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<(&str, Environment, String), Named> = BTreeMap::new();
    let mut reported = BTreeSet::new();
    for r in routes.iter().filter(|r| !r.entry.is_front_door()) {
        for c in resources(r) {
            let check = (c.check.id.clone(), c.origin_id().to_string(), true);
            let records = c.records.iter().map(|x| {
                let by_cluster = x.set_identifier == x.origin.id();
                (x.id.clone(), x.set_identifier.clone(), by_cluster)
            });
            for (id, key, by_cluster) in std::iter::once(check).chain(records) {
                let named = Named {
                    route: r,
                    host: r.host,
                    key,
                    origin: c.check.origin,
                    by_cluster,
                };
                match seen.entry((r.entry.name(), r.entry.environment(), id)) {
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(named);
                    }
                    std::collections::btree_map::Entry::Occupied(o) => {
                        let first = o.get();
                        // One hostname served twice is FG (hostname conflict)'s to report.
                        if (first.host, &first.key) == (named.host, &named.key)
                            || !reported.insert((first.host, named.host, first.key.clone(), named.key.clone()))
                        {
                            continue;
                        }
                        out.push(collision(first, &named, &o.key().2, fleet, files));
                    }
                }
            }
        }
    }
}

impl ClusterResources<'_, '_> {
    fn origin_id(&self) -> &str {
        self.check.origin.id()
    }
}

fn collision(first: &Named, second: &Named, id: &str, fleet: &Doc<Fleet>, files: &SourceMap) -> Diagnostic {
    let describe = |n: &Named| match n.by_cluster {
        true => format!("`{}` on cluster `{}`", n.host, n.key),
        false => format!("`{}` ({})", n.host, n.key),
    };
    // Two clusters named alike: point at their ids; else at the hostnames.
    let at = |n: &Named, text: &str| -> Label {
        if first.host == second.host && first.by_cluster && second.by_cluster {
            n.origin.cluster.label(&["clusterId"], text)
        } else {
            n.route
                .app
                .item_label(&["traffic", "hostnames"], n.route.host_index, text)
        }
    };
    let help = if first.host == second.host {
        "rename one of the clusters (Route 53 resources are named after hostname and cluster in PascalCase)"
    } else {
        "rename one of the hostnames or clusters (Route 53 resources are named after hostname and cluster in PascalCase)"
    };
    Diagnostic::error(
        codes::EDGE_UNROUTABLE,
        files,
        at(second, "named alike"),
        format!(
            "{} and {} would be one CloudFormation resource, `{id}`, of {}: one would replace the other",
            describe(first),
            describe(second),
            second.route.entry.describe()
        ),
    )
    .with_secondary(at(first, "this one"))
    .with_secondary(second.route.entry.label(fleet, Some("name"), "the edge serving it"))
    .with_help(help)
    .for_app(second.route.app_name())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::load::{Sources, fixture};

    /// The golden fleet `edge-route53` (laid over the base fixture, as its test does), each
    /// file's text edited by `edit` (path, text → text).
    fn golden(edit: impl Fn(&str, String) -> String) -> Sources {
        golden_plus(&[], edit)
    }

    /// [`golden`], with `extra` files.
    fn golden_plus(extra: &[(&str, &str)], edit: impl Fn(&str, String) -> String) -> Sources {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/edge-route53/input");
        let mut files = Vec::new();
        for dir in ["", "apps/cart", "apps/maps", "apps/orders", "apps/web", "clusters"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("the golden input") {
                let path = entry.expect("an entry").path();
                if path.extension().is_some_and(|e| e == "yaml") {
                    let rel = path
                        .strip_prefix(&root)
                        .expect("under root")
                        .to_string_lossy()
                        .replace('\\', "/");
                    let text = std::fs::read_to_string(&path).expect("readable");
                    files.push((rel.clone(), edit(&rel, text)));
                }
            }
        }
        let mut overlay: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        overlay.extend_from_slice(extra);
        fixture::sources(&overlay)
    }

    /// (logical id, set identifier, policy, gateway) of every record of `host`.
    fn records_of(sources: &Sources, host: &str) -> Vec<(String, String, String, String)> {
        let routes = super::super::edge::routes(sources);
        let route = routes.iter().find(|r| r.host == host).expect("the hostname is routed");
        let mut out: Vec<_> = resources(route)
            .into_iter()
            .flat_map(|c| c.records)
            .map(|r| (r.id, r.set_identifier, format!("{:?}", r.policy), r.gateway.to_string()))
            .collect();
        out.sort();
        out
    }

    fn problems(sources: &Sources) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        super::super::edge::check(sources, &mut out);
        out.retain(|d| d.code.id == "FG054");
        out
    }

    fn ids(records: &[(String, String, String, String)]) -> BTreeSet<&str> {
        records.iter().map(|r| r.0.as_str()).collect()
    }

    const USEAST1: &str = "k8s-gateway-useast1-0123456789.us-east-1.elb.amazonaws.com";
    const EASTUS: &str = "e7b1c9d24f3a6e80.fz41.alb.azure.com";

    /// Taking the first region of a geo-routed name out of rotation moves the default (`*`)
    /// record's target: CloudFormation updates that record in place, where a new logical id
    /// would be created beside the old `*` record, which Route 53 refuses.
    #[test]
    fn a_geo_kill_switch_moves_the_default_record_in_place() {
        let before = records_of(&golden(|_, t| t), "maps.example.com");
        let switch = "  port: 8080\n  switches:\n    - { cluster: useast1-prod-01, inRotation: false, reason: \"INC-1: 5xx\" }\n";
        let after = golden(|p, t| match p {
            "apps/maps/app.yaml" => t.replace("  port: 8080\n", switch),
            _ => t,
        });
        let after = records_of(&after, "maps.example.com");
        let default = |rs: &[(String, String, String, String)]| {
            rs.iter()
                .find(|r| r.2 == "GeoDefault")
                .cloned()
                .expect("a default record")
        };
        assert_eq!(default(&before).0, "RecordMapsExampleComDefault");
        assert_eq!(
            (default(&before).0, default(&before).1),
            (default(&after).0, default(&after).1)
        );
        assert_eq!(default(&before).3, USEAST1);
        assert_ne!(default(&after).3, USEAST1);
        assert!(ids(&after).is_subset(&ids(&before)), "{before:?} → {after:?}");
    }

    /// A manual failover (the placement's regions swapped) rewrites the two records in place:
    /// the same logical ids and set identifiers, `PRIMARY` now at the other cluster.
    #[test]
    fn a_manual_failover_swaps_targets_of_two_fixed_records() {
        let before = records_of(&golden(|_, t| t), "orders.example.com");
        let swapped = golden(|p, t| match p {
            "apps/orders/app.yaml" => t
                .replace(
                    "regions: [aws:us-east-1, azure:eastus]",
                    "regions: [azure:eastus, aws:us-east-1]",
                )
                .replace("writeRegions: [aws:us-east-1]", "writeRegions: [azure:eastus]"),
            _ => t,
        });
        let after = records_of(&swapped, "orders.example.com");
        let keys = |rs: &[(String, String, String, String)]| {
            rs.iter()
                .map(|r| (r.0.clone(), r.1.clone(), r.2.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&before), keys(&after));
        let primary = |rs: &[(String, String, String, String)]| {
            rs.iter()
                .find(|r| r.2 == "Failover(true)")
                .map(|r| (r.1.clone(), r.3.clone()))
        };
        assert_eq!(primary(&before), Some(("primary".to_string(), USEAST1.to_string())));
        assert_eq!(primary(&after), Some(("primary".to_string(), EASTUS.to_string())));
        assert!(problems(&swapped).is_empty(), "{:?}", problems(&swapped));
    }

    /// A manual failover (`failover: manual-confirmed`) gives the `PRIMARY` no health check, so
    /// that Route 53 never answers with the `SECONDARY` by itself; `automatic` keeps both
    /// checks. Taking the primary region out of rotation (the switch that executes the
    /// failover) leaves the `SECONDARY` answering alone.
    #[test]
    fn a_manual_failover_primary_has_no_health_check_until_switched() {
        let checks = |sources: &Sources| {
            let routes = super::super::edge::routes(sources);
            let route = routes.iter().find(|r| r.host == "orders.example.com").expect("routed");
            let mut out: Vec<_> = resources(route)
                .into_iter()
                .flat_map(|c| c.records)
                .map(|r| (r.set_identifier, r.check.is_some()))
                .collect();
            out.sort();
            out
        };
        let pair = |p: bool, s: bool| vec![("primary".to_string(), p), ("secondary".to_string(), s)];
        assert_eq!(checks(&golden(|_, t| t)), pair(false, true));
        let automatic = golden(|p, t| match p {
            "apps/orders/app.yaml" => t.replace("failover: manual-confirmed", "failover: automatic"),
            _ => t,
        });
        assert_eq!(checks(&automatic), pair(true, true));
        let switched = golden(|p, t| match p {
            "apps/orders/app.yaml" => t.replace(
                "  healthProbe:",
                "  switches:\n    - { region: aws:us-east-1, inRotation: false, reason: failed over }\n  healthProbe:",
            ),
            _ => t,
        });
        assert_eq!(checks(&switched), vec![("secondary".to_string(), true)]);
        assert_eq!(records_of(&switched, "orders.example.com")[0].3, EASTUS);
    }

    /// Under weighted routing a weight-0 record (a last resort) is answered once every other
    /// record is unhealthy: with a manual failover it is left out while another cluster is
    /// in rotation, and comes back, weight 0, when the switch takes the others out.
    #[test]
    fn a_manual_failover_leaves_out_the_weight_0_record_until_switched() {
        let weights = |failover: &str, switch: &str| {
            let sources = golden(|p, t| match p {
                "apps/cart/app.yaml" => t
                    .replace("aws:us-east-1: 1", "aws:us-east-1: 0")
                    .replace("failover: automatic", failover)
                    .replace("  weights:", &format!("{switch}  weights:")),
                _ => t,
            });
            let records = records_of(&sources, "cart.example.com");
            records.into_iter().map(|r| (r.2, r.3)).collect::<Vec<_>>()
        };
        // 3:0 in lowest terms.
        let eastus = ("Weight(1)".to_string(), EASTUS.to_string());
        let useast1 = ("Weight(0)".to_string(), USEAST1.to_string());
        assert_eq!(weights("failover: automatic", ""), [eastus.clone(), useast1.clone()]);
        for failover in ["failover: manual-confirmed", "failover: none"] {
            assert_eq!(weights(failover, ""), std::slice::from_ref(&eastus), "{failover}");
            let switch = "  switches:\n    - { region: azure:eastus, inRotation: false, reason: failed over }\n";
            assert_eq!(weights(failover, switch), std::slice::from_ref(&useast1), "{failover}");
        }
    }

    /// Draining a failover app from its primary region leaves the secondary record, in its
    /// role: Route 53 answers with it. (FG054 said the app landed on one cluster.)
    #[test]
    fn a_failover_app_can_be_drained_from_a_region() {
        let drained = golden(drained_from_useast1("orders"));
        assert!(problems(&drained).is_empty(), "{:?}", problems(&drained));
        let records = records_of(&drained, "orders.example.com");
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!((records[0].1.as_str(), records[0].3.as_str()), ("secondary", EASTUS));
        // A third region is still more than Route 53 failover has.
        let three = golden(|p, t| match p {
            "apps/orders/app.yaml" => t.replace(
                "regions: [aws:us-east-1, azure:eastus]",
                "regions: [aws:us-east-1, azure:eastus, aws:eu-west-1]",
            ),
            _ => t,
        });
        let found = problems(&three);
        assert!(
            found
                .iter()
                .any(|d| d.message.contains("is placed in 3 regions and lands on 3 clusters")),
            "{found:?}"
        );
    }

    /// The apex's alias record targets the cluster's `edge.origin`: a load balancer's name, or
    /// a record of the fleet's zone when `aliasHostedZoneId` is that zone's. A name of the
    /// customer's elsewhere (as a cluster behind Front Door gives) is refused at the origin.
    #[test]
    fn an_apex_alias_targets_an_aws_resource_or_a_record_of_the_zone() {
        let origin = |name: &str, zone: &str| {
            golden(|p, t| match p {
                "clusters/useast1-prod-01.yaml" => t
                    .replace(
                        "origin: k8s-gateway-useast1-0123456789.us-east-1.elb.amazonaws.com",
                        &format!("origin: {name}"),
                    )
                    .replace(
                        "aliasHostedZoneId: Z35SXDOTRQ7X7K",
                        &format!("aliasHostedZoneId: {zone}"),
                    ),
                _ => t,
            })
        };
        let alias = |s: &Sources| -> Vec<Diagnostic> {
            problems(s)
                .into_iter()
                .filter(|d| d.message.contains("not an AWS resource's name"))
                .collect()
        };
        assert!(alias(&golden(|_, t| t)).is_empty());
        let found = alias(&origin("useast1-gw.example.net", "Z35SXDOTRQ7X7K"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "clusters/useast1-prod-01.yaml");
        assert!(alias(&origin("useast1-gw.example.com", "Z0123456789ABCDEFGHIJ")).is_empty());
        assert_eq!(
            alias(&origin("useast1-gw.example.net", "Z0123456789ABCDEFGHIJ")).len(),
            1
        );
    }

    /// The golden's edit that drains `app` from `useast1-prod-01`.
    fn drained_from_useast1(app: &str) -> impl Fn(&str, String) -> String {
        let contract = format!("apps/{app}/app.yaml");
        move |p, t| {
            if p == contract {
                t + "gitops:\n  drain:\n    - { cluster: useast1-prod-01, reason: \"CHG-9: move out\" }\n"
            } else {
                t
            }
        }
    }

    /// The FG054 findings of `app`.
    fn problems_of(sources: &Sources, app: &str) -> Vec<Diagnostic> {
        problems(sources)
            .into_iter()
            .filter(|d| d.app.as_deref() == Some(app))
            .collect()
    }

    /// A second cluster in us-east-1, with a gateway of its own.
    fn twin() -> String {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/edge-route53/input");
        std::fs::read_to_string(root.join("clusters/useast1-prod-01.yaml"))
            .expect("the golden cluster")
            .replace("useast1-prod-01", "useast1-prod-02")
            .replace("0123456789ABCDEF0123456789ABCDEF", "FEDCBA9876543210FEDCBA9876543210")
            .replace("735EA86229F3C093A58AA16921AAE041", "735EA86229F3C093A58AA16921AAE042")
            .replace("k8s-gateway-useast1-0123456789", "k8s-gateway-useast1-9876543210")
    }

    /// Route 53 takes one latency record per region: replacing a latency-routed app's cluster
    /// within its region (the new one placed, the old one drained) keeps the region's record,
    /// its logical id and set identifier, and changes its target, rather than adding a second
    /// record for the region beside the old one, which Route 53 refuses.
    #[test]
    fn a_latency_record_is_the_regions_and_follows_its_cluster() {
        let twin = twin();
        let before = golden(|_, t| t);
        let moved = golden_plus(
            &[("clusters/useast1-prod-02.yaml", twin.as_str())],
            drained_from_useast1("web"),
        );
        // The golden's other apps land on the new cluster too (their own findings).
        assert!(
            problems_of(&moved, "web").is_empty(),
            "{:?}",
            problems_of(&moved, "web")
        );
        let east = |s: &Sources| {
            records_of(s, "www.example.com")
                .into_iter()
                .find(|r| r.1 == "us-east-1")
                .map(|r| (r.0, r.3))
        };
        let (id_before, target_before) = east(&before).expect("a us-east-1 record");
        let (id_after, target_after) = east(&moved).expect("a us-east-1 record");
        assert_eq!(id_before, id_after);
        assert_eq!(target_before, USEAST1);
        assert_eq!(
            target_after,
            "k8s-gateway-useast1-9876543210.us-east-1.elb.amazonaws.com"
        );
    }

    /// A failover app's cluster replaced within its region (a new cluster placed, the old one
    /// drained): the region's record, in its role, takes the new cluster. Two clusters landed
    /// in one region are still more than a failover pair.
    #[test]
    fn a_failover_app_moves_to_another_cluster_of_its_region() {
        let twin = twin();
        let extra = [("clusters/useast1-prod-02.yaml", twin.as_str())];
        let moved = golden_plus(&extra, drained_from_useast1("orders"));
        // The golden's other apps land on the new cluster too (their own findings).
        assert!(
            problems_of(&moved, "orders").is_empty(),
            "{:?}",
            problems_of(&moved, "orders")
        );
        let records = records_of(&moved, "orders.example.com");
        let primary: Vec<_> = records.iter().filter(|r| r.1 == "primary").collect();
        assert_eq!(primary.len(), 1, "{records:?}");
        assert_eq!(
            primary[0].3,
            "k8s-gateway-useast1-9876543210.us-east-1.elb.amazonaws.com"
        );
        let both = golden_plus(&extra, |_, t| t);
        let found = problems_of(&both, "orders");
        assert!(
            found
                .iter()
                .any(|d| d.message.contains("is placed in 2 regions and lands on 3 clusters")),
            "{found:?}"
        );
    }

    /// Two clusters whose ids are one word in PascalCase would name one health check and one
    /// record: refused at the second cluster's id, not rendered with one of them lost.
    #[test]
    fn clusters_named_alike_are_refused_where_they_are_written() {
        let cart_in_europe = |p: &str, t: String| match p {
            "apps/cart/app.yaml" => t
                .replace(
                    "regions: [azure:eastus, aws:us-east-1]",
                    "regions: [aws:eu-west-1, aws:us-east-1]",
                )
                .replace("azure:eastus: 3", "aws:eu-west-1: 2"),
            _ => t,
        };
        assert!(problems(&golden(cart_in_europe)).is_empty());
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/edge-route53/input");
        let twin = std::fs::read_to_string(root.join("clusters/euwest1-prod-01.yaml"))
            .expect("readable")
            .replace("clusterId: euwest1-prod-01", "clusterId: euwest1-prod01")
            .replace("9876543210", "1111111111");
        let sources = golden_plus(&[("clusters/euwest1-prod01.yaml", &twin)], cart_in_europe);
        // (One for each hostname the two clusters serve: cart's, maps', and web's two.)
        let found: Vec<Diagnostic> = (problems(&sources).into_iter())
            .filter(|d| d.message.contains("would be one CloudFormation resource"))
            .collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            found.iter().all(|d| d.path == "clusters/euwest1-prod01.yaml"),
            "{found:?}"
        );
        assert_eq!(
            found[0].message,
            "`cart.example.com` on cluster `euwest1-prod-01` and `cart.example.com` on cluster `euwest1-prod01` \
             would be one CloudFormation resource, `CheckCartExampleComEuwest1Prod01`, of Route 53 zone \
             `example.com`: one would replace the other"
        );
    }

    /// A name's record type does not follow its placement: an Azure cluster leaving `cart`
    /// keeps its records CNAMEs (a flip to alias A, record by record, Route 53 refuses); alias
    /// A records only at the zone apex.
    #[test]
    fn the_record_type_is_the_names_not_the_placements() {
        let alias_of = |sources: &Sources, host: &str| -> Vec<bool> {
            let routes = super::super::edge::routes(sources);
            let route = routes.iter().find(|r| r.host == host).expect("routed");
            resources(route)
                .into_iter()
                .flat_map(|c| c.records)
                .map(|r| r.alias.is_some())
                .collect()
        };
        let mixed = golden(|_, t| t);
        let aws_only = golden(|p, t| match p {
            "apps/cart/app.yaml" => t
                .replace(
                    "regions: [azure:eastus, aws:us-east-1]",
                    "regions: [aws:us-east-1, aws:eu-west-1]",
                )
                .replace("azure:eastus: 3", "aws:eu-west-1: 3"),
            _ => t,
        });
        assert_eq!(alias_of(&mixed, "cart.example.com"), [false, false]);
        assert_eq!(alias_of(&aws_only, "cart.example.com"), [false, false]);
        let apex = golden(|p, t| match p {
            "apps/web/app.yaml" => t.replace("hostnames: [www.example.com]", "hostnames: [example.com]"),
            _ => t,
        });
        assert_eq!(alias_of(&apex, "example.com"), [true, true]);
    }

    #[test]
    fn a_ttl_over_route_53s_maximum_is_refused_at_the_ttl() {
        let ttl = |ttl: &str| {
            golden(|p, t| match p {
                "fleet.yaml" => t.replace(
                    "      zoneId: Z0123456789ABCDEFGHIJ\n",
                    &format!("      zoneId: Z0123456789ABCDEFGHIJ\n      ttl: {ttl}\n"),
                ),
                _ => t,
            })
        };
        assert!(problems(&ttl("24855d3h14m7s")).is_empty());
        let found = problems(&ttl("24855d3h14m8s"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("asks for 2147483648"), "{}", found[0].message);
    }

    #[test]
    fn a_latency_record_names_a_region_route_53_has() {
        let typo = golden(|p, t| match p {
            "clusters/euwest1-prod-01.yaml" => t.replace("region: eu-west-1", "region: eu-westt-1"),
            _ => t.replace("aws:eu-west-1", "aws:eu-westt-1"),
        });
        // The geo-routed app in the same region gets its own finding (no continent for it).
        let found: Vec<_> = problems(&typo)
            .into_iter()
            .filter(|d| d.message.contains("latency"))
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("is in `eu-westt-1`"), "{}", found[0].message);
        assert_eq!(
            found[0].help.as_deref(),
            Some("did you mean `eu-west-1`? (Route 53's regions are those of its API, botocore's list)")
        );
    }

    #[test]
    fn a_wildcard_is_a_word_of_its_own() {
        assert_eq!(host_words("*.example.com"), "WildcardExampleCom");
        assert_eq!(host_words("example.com"), "ExampleCom");
        assert_eq!(host_words("cart.example.com"), "CartExampleCom");
    }

    #[test]
    fn logical_ids_fit_cloudformation_and_stay_apart() {
        // 244 characters, a name DNS takes.
        let host = format!("{}.{}.example.com", vec!["b".repeat(63); 3].join("."), "c".repeat(40));
        let a = logical_id("Record", &host, "Useast1Prod01", "useast1-prod-01");
        let b = logical_id("Record", &host, "Useast1Prod02", "useast1-prod-02");
        assert_eq!(a.len(), MAX_LOGICAL_ID);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
        assert_eq!(logical_id("Check", "a.example.com", "X", "x"), "CheckAExampleComX");
    }

    #[test]
    fn a_name_tag_fits_a_tag_value() {
        let host = format!("{}.example.com", vec!["b".repeat(63); 3].join("."));
        let tag = name_tag(&host, &"c".repeat(63));
        assert_eq!(tag.chars().count(), MAX_TAG_VALUE);
        assert!(tag.starts_with("...") && tag.ends_with(&format!("example.com {}", "c".repeat(63))));
        assert_eq!(name_tag("a.example.com", "c1"), "a.example.com c1");
    }
}
