//! The Amazon Route 53 backend: `_edge/route53/<zone>.json`, a CloudFormation template
//! (`aws cloudformation deploy`) per hosted zone of fleet.yaml's `edge.route53`, from the
//! routes [`crate::resolve::edge`] resolves and the resources [`crate::resolve::route53`]
//! names. For each app hostname in the zone and each cluster the app runs on in the zone's
//! environment (not drained):
//!
//! - an `AWS::Route53::HealthCheck`: HTTPS to the cluster's gateway host name (`edge.origin`)
//!   on the app's probe route (`/_fleetgen/probe/<app>`, which the cluster rewrites to the
//!   contract's probe path), every 10 or 30 s (the contract's `healthProbe.interval`,
//!   else the zone's, else 30 s), unhealthy after the zone's failure threshold (3);
//! - an `AWS::Route53::RecordSet`, by routing: `latency` → a latency record in the cluster's
//!   AWS region (a `role: standby` cluster gets none); `failover` → the `primary` record
//!   (`PRIMARY`) for the first region of `placement.regions`, the `secondary` one for the
//!   next; `weighted-global` (and `single-region`) → weighted records (the contract's
//!   weights; equal weights of 1 when it names none; 0, a last resort, for a standby
//!   cluster); `geo` → the geolocation record of the region's continent, and the default
//!   (`CountryCode: "*"`) record for the first region in rotation. Weighted records
//!   are keyed by cluster; latency, failover and geolocation ones by region, role and
//!   location. A
//!   CNAME to the gateway, or at the zone apex an alias A record to its load balancer.
//!
//! A cluster out of rotation keeps its health check (it is still probed) and loses its
//! record. An app whose failover is manual (`failover: manual-confirmed` or `none`) has a
//! `PRIMARY` record with no health check (an alias one with `EvaluateTargetHealth: false`),
//! which Route 53 counts as healthy, so it never answers with the `SECONDARY` by itself; and
//! no weight-0 record (a standby, a last resort) while another cluster is in rotation.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::FleetBackend;
use super::FleetContext;
use crate::layout::EdgeFile;
use crate::load::Sources;
use crate::model::fleet::HostedZone;
use crate::resolve::edge::{self, Entry, ROUTE53_FAILURE_THRESHOLD, Route};
use crate::resolve::route53::{self, Policy};

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
        // The stack goes to the CLI's own region, in the zone's account: neither is known.
        let text = super::cloudformation_text(template, fleet.value.cloud_formation.as_ref(), None, None);
        files.push((EdgeFile::Route53(&zone.name).path(), text));
    }
    files
}

fn template(sources: &Sources, zone: &HostedZone, routes: &[&Route]) -> Value {
    let ttl = zone.ttl.map_or(route53::DEFAULT_TTL, |d| d.seconds);
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
        for c in route53::resources(route) {
            let (check, o) = (&c.check, c.check.origin);
            sources_list.insert(path(o.cluster.file));
            resources.insert(
                check.id.clone(),
                json!({
                    "Type": "AWS::Route53::HealthCheck",
                    "Properties": {
                        "HealthCheckConfig": {
                            "Type": "HTTPS",
                            "FullyQualifiedDomainName": check.gateway,
                            "Port": 443,
                            "ResourcePath": route.probe_path,
                            "RequestInterval": route.probe_interval.0,
                            "FailureThreshold": threshold,
                            "EnableSNI": true,
                        },
                        "HealthCheckTags": [
                            {"Key": "Name", "Value": check.name_tag},
                            {"Key": "fleetgen/app", "Value": route.app_name()},
                            {"Key": "fleetgen/cluster", "Value": o.id()},
                        ],
                    },
                }),
            );
            for record in &c.records {
                let mut properties = Map::new();
                properties.insert("HostedZoneId".into(), json!(zone.zone_id));
                properties.insert("Name".into(), json!(route.host));
                match record.alias {
                    Some(alias) => {
                        properties.insert("Type".into(), json!("A"));
                        properties.insert(
                            "AliasTarget".into(),
                            json!({
                                "DNSName": record.gateway,
                                "HostedZoneId": alias,
                                "EvaluateTargetHealth": record.check.is_some(),
                            }),
                        );
                    }
                    None => {
                        properties.insert("Type".into(), json!("CNAME"));
                        properties.insert("TTL".into(), json!(ttl.to_string()));
                        properties.insert("ResourceRecords".into(), json!([record.gateway]));
                    }
                }
                properties.insert("SetIdentifier".into(), json!(record.set_identifier));
                let (key, value) = match record.policy {
                    Policy::Latency(region) => ("Region", json!(region)),
                    Policy::Failover(primary) => ("Failover", json!(if primary { "PRIMARY" } else { "SECONDARY" })),
                    Policy::Weight(w) => ("Weight", json!(w)),
                    Policy::Continent(c) => ("GeoLocation", json!({"ContinentCode": c})),
                    Policy::GeoDefault => ("GeoLocation", json!({"CountryCode": "*"})),
                };
                properties.insert(key.into(), value);
                if let Some(check) = &record.check {
                    properties.insert("HealthCheckId".into(), json!({"Ref": check}));
                }
                resources.insert(
                    record.id.clone(),
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
