//! The Amazon Route 53 backend: `_edge/route53/<zone>.json`, a CloudFormation template
//! (`aws cloudformation deploy`) per hosted zone of fleet.yaml's `edge.route53`, from the
//! routes [`crate::resolve::edge`] resolves. For each app hostname in the zone and each
//! cluster the app runs on in the zone's environment (not drained):
//!
//! - an `AWS::Route53::HealthCheck`: HTTPS to the cluster's gateway host name (`edge.origin`)
//!   on the contract's probe path, every 10 or 30 s (the contract's `healthProbe.interval`,
//!   else the zone's, else 30 s), unhealthy after the zone's failure threshold (3);
//! - an `AWS::Route53::RecordSet` with the cluster id as set identifier, by routing:
//!   `latency` → a latency record in the cluster's AWS region (a `role: standby` cluster gets
//!   none); `failover` → `PRIMARY` for the first region of `placement.regions`, `SECONDARY`
//!   for the next; `weighted-global` (and `single-region`) → weighted records (the
//!   contract's weights; equal weights of 1 when it names none; 0, a last resort, for a
//!   standby cluster); `geo` → a geolocation record for the region's continent, and a
//!   default (`CountryCode: "*"`) record for the first region in rotation. A CNAME to the
//!   gateway, or an alias A record when every cluster of the name gives its load
//!   balancer's `aliasHostedZoneId` (one name takes one record type).
//!
//! A cluster out of rotation keeps its health check (it is still probed) and loses its
//! record.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::{FleetBackend, FleetContext, pascal};
use crate::layout::EdgeFile;
use crate::load::Sources;
use crate::model::app::Routing;
use crate::model::fleet::HostedZone;
use crate::resolve::edge::{self, Entry, Origin, ROUTE53_FAILURE_THRESHOLD, Route};
use crate::resolve::placement::selects;

pub struct Route53;

impl FleetBackend for Route53 {
    fn render(&self, ctx: &FleetContext) -> Vec<(String, String)> {
        render(ctx.sources)
    }
}

fn render(sources: &Sources) -> Vec<(String, String)> {
    let Some(fleet) = &sources.fleet else { return Vec::new() };
    let routes = edge::routes(sources);
    let mut files = Vec::new();
    for (i, zone) in fleet.value.edge.route53.iter().enumerate() {
        let mine: Vec<&Route> = routes
            .iter()
            .filter(|r| matches!(r.entry, Entry::Route53(j, _) if j == i))
            .collect();
        let template = template(sources, zone, &mine);
        let mut text = serde_json::to_string_pretty(&template).unwrap_or_default();
        text.push('\n');
        files.push((EdgeFile::Route53(&zone.name).path(), text));
    }
    files
}

/// The routing fields of one cluster's record: (set identifier suffix, fields), or none
/// when the cluster gets no record under this routing. `default_rank`: the rank of the
/// first region still in rotation, whose record is a geo-routed name's default.
fn routing_fields(route: &Route, o: &Origin, default_rank: Option<usize>) -> Vec<(&'static str, Map<String, Value>)> {
    let mut fields = Map::new();
    let v = &o.cluster.value;
    match route.routing {
        Routing::Latency => {
            if !route.answers_with(o) {
                return Vec::new();
            }
            fields.insert("Region".into(), json!(v.region));
        }
        Routing::Failover => {
            fields.insert(
                "Failover".into(),
                json!(if o.rank == 0 { "PRIMARY" } else { "SECONDARY" }),
            );
        }
        Routing::WeightedGlobal | Routing::SingleRegion => {
            let weight = match o.weight {
                Some(w) => w,
                None if o.standby => 0,
                None => 1,
            };
            fields.insert("Weight".into(), json!(weight));
        }
        Routing::Geo => {
            let mut out = Vec::new();
            if let Some(c) = edge::continent(v.provider, &v.region) {
                let mut f = Map::new();
                f.insert("GeoLocation".into(), json!({"ContinentCode": c}));
                out.push(("", f));
            }
            if Some(o.rank) == default_rank {
                let mut f = Map::new();
                f.insert("GeoLocation".into(), json!({"CountryCode": "*"}));
                out.push(("-default", f));
            }
            return out;
        }
    }
    vec![("", fields)]
}

fn template(sources: &Sources, zone: &HostedZone, routes: &[&Route]) -> Value {
    let ttl = zone.ttl.map_or(60, |d| d.seconds);
    let threshold = zone
        .health_check
        .as_ref()
        .and_then(|h| h.failure_threshold)
        .unwrap_or(ROUTE53_FAILURE_THRESHOLD);
    let mut resources = Map::new();
    let mut sources_list: BTreeSet<String> = BTreeSet::new();
    let path = |file| sources.files.get(file).path.clone();
    if let Some(f) = &sources.fleet {
        sources_list.insert(path(f.file));
    }
    for route in routes {
        sources_list.insert(path(route.app.file));
        // One record type for every record of a name: DNS allows no CNAME beside another
        // record, and Route 53 refuses a weighted (or any routed) set that mixes them. Alias
        // A records when every cluster gives its load balancer's hosted zone, else CNAMEs
        // (to the same gateway names); decided over every cluster the app lands on in the
        // zone's environment (in or out of rotation, drained, scaled down), so that no switch
        // changes a record's type.
        let alias_all = sources
            .clusters
            .iter()
            .map(|c| &c.value)
            .filter(|c| c.environment == route.entry.environment() && selects(&route.app.value, c))
            .filter_map(|c| c.edge.as_ref().filter(|e| e.origin.is_some()))
            .all(|e| e.alias_hosted_zone_id.is_some());
        // A geo-routed name's default record goes to the first region in rotation: with the
        // first region out, the rest of the world would get no answer.
        let default_rank = route
            .origins
            .iter()
            .filter(|o| o.in_rotation() && o.host().is_some())
            .map(|o| o.rank)
            .min();
        for o in &route.origins {
            // A cluster without a gateway host name cannot be an origin (FG153 says so).
            let Some(origin) = o.host() else { continue };
            sources_list.insert(path(o.cluster.file));
            let base = format!("{}{}", pascal(route.host), pascal(o.id()));
            let check = format!("Check{base}");
            resources.insert(
                check.clone(),
                json!({
                    "Type": "AWS::Route53::HealthCheck",
                    "Properties": {
                        "HealthCheckConfig": {
                            "Type": "HTTPS",
                            "FullyQualifiedDomainName": origin,
                            "Port": 443,
                            "ResourcePath": route.probe_path,
                            "RequestInterval": route.probe_interval.0,
                            "FailureThreshold": threshold,
                            "EnableSNI": true,
                        },
                        "HealthCheckTags": [
                            {"Key": "Name", "Value": format!("{} {}", route.host, o.id())},
                            {"Key": "fleetgen/app", "Value": route.app_name()},
                            {"Key": "fleetgen/cluster", "Value": o.id()},
                        ],
                    },
                }),
            );
            if !o.in_rotation() {
                continue;
            }
            let alias = o
                .cluster
                .value
                .edge
                .as_ref()
                .and_then(|e| e.alias_hosted_zone_id.as_deref())
                .filter(|_| alias_all);
            for (suffix, fields) in routing_fields(route, o, default_rank) {
                let mut properties = Map::new();
                properties.insert("HostedZoneId".into(), json!(zone.zone_id));
                properties.insert("Name".into(), json!(route.host));
                match alias {
                    Some(alias) => {
                        properties.insert("Type".into(), json!("A"));
                        properties.insert(
                            "AliasTarget".into(),
                            json!({"DNSName": origin, "HostedZoneId": alias, "EvaluateTargetHealth": true}),
                        );
                    }
                    None => {
                        properties.insert("Type".into(), json!("CNAME"));
                        properties.insert("TTL".into(), json!(ttl.to_string()));
                        properties.insert("ResourceRecords".into(), json!([origin]));
                    }
                }
                properties.insert("SetIdentifier".into(), json!(format!("{}{suffix}", o.id())));
                properties.extend(fields);
                properties.insert("HealthCheckId".into(), json!({"Ref": check}));
                resources.insert(
                    format!("Record{base}{}", pascal(suffix)),
                    json!({"Type": "AWS::Route53::RecordSet", "Properties": properties}),
                );
            }
        }
    }
    if resources.is_empty() {
        // CloudFormation refuses a template without resources; a zone that serves no
        // hostname yet still deploys (and empties a stack whose records were removed).
        resources.insert(
            "NoRecords".into(),
            json!({"Type": "AWS::CloudFormation::WaitConditionHandle", "Properties": {}}),
        );
    }
    let file = EdgeFile::Route53(&zone.name).path();
    let stack = format!("fleetgen-edge-{}", zone.name.replace('.', "-"));
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "Route 53 records and health checks of {} for the {} environment. Rendered by fleetgen; do not edit. Change the sources and run `fleetgen render`.",
            zone.name,
            Entry::Route53(0, zone).environment()
        ),
        "Metadata": {
            "fleetgen": {
                "sources": sources_list.into_iter().collect::<Vec<_>>(),
                "zone": zone.name,
                "hostedZoneId": zone.zone_id,
                "deploy": format!("aws cloudformation deploy --stack-name {stack} --template-file {file}"),
            },
        },
        "Resources": resources,
    })
}
