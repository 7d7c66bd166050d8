//! The Azure Front Door backend: `_edge/frontdoor/<profile>.json`, an ARM template
//! (resource-group scope, deployed as a deployment stack) per profile of fleet.yaml's
//! `edge.frontDoor`, from the routes [`crate::resolve::edge`] resolves:
//!
//! - the profile (`Standard_AzureFrontDoor` or `Premium_AzureFrontDoor`) and its endpoint;
//! - a custom domain per app hostname it serves (a managed certificate, TLS 1.2);
//! - an origin group per app: the health probe (HEAD over HTTPS on the app's probe route,
//!   `/_fleetgen/probe/<app>`, which each cluster rewrites to the contract's probe path;
//!   every `traffic.healthProbe.interval`, else the profile's, else 100 s) and the load
//!   balancing (latency sensitivity: the profile's `additionalLatency`, 50 ms by
//!   default; 1000 ms for weighted routing so that the weights decide);
//! - an origin per cluster the app runs on in the profile's environment (not drained),
//!   at its gateway's host name (`edge.origin`), with no origin host header, so that the
//!   gateway sees the app's hostname its route matches. Priority: 1 for latency and
//!   weighted routing (2 for a `role: standby` cluster), the region's place in
//!   `placement.regions` for failover; weight: the contract's (a weight of 0 is a last
//!   resort: weight 1 one priority later), else 50. A cluster out of rotation keeps its
//!   origin, `Disabled`; so do the origins behind the first priority in rotation of an app
//!   whose failover is manual (`failover: manual-confirmed` or `none`), which Front Door
//!   would otherwise send the traffic to when the first priority's probes fail;
//! - a route per hostname (HTTPS only to the origin, HTTP redirected to HTTPS, `/*`);
//! - with `wafPolicyId`, a security policy attaching the WAF policy to every custom domain.
//!
//! Its outputs give the profile's `frontDoorId` (what `lockOrigins` needs as
//! `frontDoorId`) and the endpoint's host name (what the hostnames' CNAME records name).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{FleetBackend, FleetContext};
use crate::layout::EdgeFile;
use crate::load::Sources;
use crate::model::app::Routing;
use crate::model::fleet::{FrontDoorProfile, FrontDoorSku};
use crate::resolve::edge::{self, Entry, Route};

pub const API_VERSION: &str = "2025-12-01";

/// Front Door's default origin weight, for origins that share traffic equally.
const EQUAL_WEIGHT: u32 = 50;

pub struct FrontDoor;

impl FleetBackend for FrontDoor {
    fn render(&self, ctx: &FleetContext) -> Vec<(String, String)> {
        render(ctx.sources)
    }
}

/// A resource name Front Door accepts (`edge::front_door_name`; FG054 refuses two hostnames
/// of one profile that would share one).
pub use crate::resolve::edge::front_door_name as resource_name;

fn id(kind: &str, parts: &[&str]) -> Value {
    let quoted: Vec<String> = parts.iter().map(|p| format!("'{p}'")).collect();
    json!({"id": format!("[resourceId('Microsoft.Cdn/{kind}', {})]", quoted.join(", "))})
}

fn depends(kind: &str, parts: &[&str]) -> String {
    id(kind, parts)["id"].as_str().unwrap_or_default().to_string()
}

fn render(sources: &Sources) -> Vec<(String, String)> {
    let Some(fleet) = &sources.fleet else { return Vec::new() };
    let routes = edge::routes(sources);
    let mut files = Vec::new();
    for (i, profile) in fleet.value.edge.front_door.iter().enumerate() {
        let mine: Vec<&Route> = routes
            .iter()
            .filter(|r| matches!(r.entry, Entry::FrontDoor(j, _) if j == i))
            .collect();
        let template = template(sources, profile, &mine);
        files.push((
            EdgeFile::FrontDoor(profile.name.as_str()).path(),
            super::json_text(&template),
        ));
    }
    files
}

fn template(sources: &Sources, profile: &FrontDoorProfile, routes: &[&Route]) -> Value {
    let p = profile.name.as_str();
    let ep = profile.endpoint.as_str();
    let sku = match profile.sku.unwrap_or(FrontDoorSku::Standard) {
        FrontDoorSku::Standard => "Standard_AzureFrontDoor",
        FrontDoorSku::Premium => "Premium_AzureFrontDoor",
    };
    let mut resources = vec![
        json!({
            "type": "Microsoft.Cdn/profiles",
            "apiVersion": API_VERSION,
            "name": p,
            "location": "Global",
            "sku": {"name": sku},
            "properties": {"originResponseTimeoutSeconds": 60},
        }),
        json!({
            "type": "Microsoft.Cdn/profiles/afdEndpoints",
            "apiVersion": API_VERSION,
            "name": format!("{p}/{ep}"),
            "location": "Global",
            "dependsOn": [depends("profiles", &[p])],
            "properties": {"enabledState": "Enabled"},
        }),
    ];
    let mut sources_list: BTreeSet<String> = BTreeSet::new();
    let path = |file| sources.files.get(file).path.clone();
    if let Some(f) = &sources.fleet {
        sources_list.insert(path(f.file));
    }
    // Custom domains, one per hostname, in hostname order.
    let hosts: BTreeSet<&str> = routes.iter().map(|r| r.host).collect();
    for host in &hosts {
        resources.push(json!({
            "type": "Microsoft.Cdn/profiles/customDomains",
            "apiVersion": API_VERSION,
            "name": format!("{p}/{}", resource_name(host)),
            "dependsOn": [depends("profiles", &[p])],
            "properties": {
                "hostName": host,
                "tlsSettings": {"certificateType": "ManagedCertificate", "minimumTlsVersion": "TLS12"},
            },
        }));
    }
    // One origin group per app: its hostnames share its clusters.
    let mut by_app: BTreeMap<&str, Vec<&Route>> = BTreeMap::new();
    for r in routes {
        by_app.entry(r.app_name()).or_default().push(r);
    }
    let lb = profile.load_balancing.clone().unwrap_or_default();
    for (app, app_routes) in &by_app {
        let first = app_routes[0];
        sources_list.insert(path(first.app.file));
        let og = resource_name(app);
        let latency = match first.routing {
            Routing::WeightedGlobal => 1000,
            _ => lb
                .additional_latency
                .as_deref()
                .and_then(edge::latency_ms)
                .unwrap_or(50),
        };
        resources.push(json!({
            "type": "Microsoft.Cdn/profiles/originGroups",
            "apiVersion": API_VERSION,
            "name": format!("{p}/{og}"),
            "dependsOn": [depends("profiles", &[p])],
            "properties": {
                "loadBalancingSettings": {
                    "sampleSize": lb.sample_size.unwrap_or(edge::FRONT_DOOR_SAMPLE_SIZE),
                    "successfulSamplesRequired": lb.successful_samples_required.unwrap_or(edge::FRONT_DOOR_SUCCESSFUL_SAMPLES),
                    "additionalLatencyInMilliseconds": latency,
                },
                "healthProbeSettings": {
                    "probePath": first.probe_path,
                    "probeRequestType": "HEAD",
                    "probeProtocol": "Https",
                    "probeIntervalInSeconds": first.probe_interval.0,
                },
                "sessionAffinityState": "Disabled",
            },
        }));
        let mut origin_ids = Vec::new();
        for o in &first.origins {
            // A cluster without a gateway host name cannot be an origin (FG153 says so).
            let Some(host) = o.host() else { continue };
            sources_list.insert(path(o.cluster.file));
            let name = resource_name(&format!("{app}-{}", o.id()));
            let weight = match o.weight {
                Some(0) => 1,
                Some(w) => w,
                None => EQUAL_WEIGHT,
            };
            let properties = json!({
                "hostName": host,
                "httpPort": 80,
                "httpsPort": 443,
                "priority": o.priority,
                "weight": weight,
                "enabledState": if o.enabled() { "Enabled" } else { "Disabled" },
                "enforceCertificateNameCheck": true,
            });
            resources.push(json!({
                "type": "Microsoft.Cdn/profiles/originGroups/origins",
                "apiVersion": API_VERSION,
                "name": format!("{p}/{og}/{name}"),
                "dependsOn": [depends("profiles/originGroups", &[p, &og])],
                "properties": properties,
            }));
            origin_ids.push(depends("profiles/originGroups/origins", &[p, &og, &name]));
        }
        for r in app_routes {
            let domain = resource_name(r.host);
            let route = resource_name(&format!("{app}-{}", r.host));
            let mut depends_on = vec![
                depends("profiles/afdEndpoints", &[p, ep]),
                depends("profiles/customDomains", &[p, &domain]),
                depends("profiles/originGroups", &[p, &og]),
            ];
            // A route whose origin group has no origins yet is refused: wait for them.
            depends_on.extend(origin_ids.iter().cloned());
            resources.push(json!({
                "type": "Microsoft.Cdn/profiles/afdEndpoints/routes",
                "apiVersion": API_VERSION,
                "name": format!("{p}/{ep}/{route}"),
                "dependsOn": depends_on,
                "properties": {
                    "customDomains": [id("profiles/customDomains", &[p, &domain])],
                    "originGroup": id("profiles/originGroups", &[p, &og]),
                    "supportedProtocols": ["Http", "Https"],
                    "patternsToMatch": ["/*"],
                    "forwardingProtocol": "HttpsOnly",
                    "linkToDefaultDomain": "Disabled",
                    "httpsRedirect": "Enabled",
                    "enabledState": "Enabled",
                },
            }));
        }
    }
    if let Some(waf) = &profile.waf_policy_id
        && !hosts.is_empty()
    {
        let domains: Vec<Value> = hosts
            .iter()
            .map(|h| id("profiles/customDomains", &[p, &resource_name(h)]))
            .collect();
        let depends_on: Vec<String> = hosts
            .iter()
            .map(|h| depends("profiles/customDomains", &[p, &resource_name(h)]))
            .collect();
        resources.push(json!({
            "type": "Microsoft.Cdn/profiles/securityPolicies",
            "apiVersion": API_VERSION,
            "name": format!("{p}/waf"),
            "dependsOn": depends_on,
            "properties": {
                "parameters": {
                    "type": "WebApplicationFirewall",
                    "wafPolicy": {"id": waf},
                    "associations": [{"domains": domains, "patternsToMatch": ["/*"]}],
                },
            },
        }));
    }
    // A deployment stack, not a plain deployment (which is incremental): an origin, custom
    // domain or route a newer template drops (a drain, a scale-down, a hostname removed) is
    // deleted in Azure, not left serving. One stack per profile.
    let deploy = format!(
        "az stack group create --name fleetgen-frontdoor-{p}{} --resource-group {} --template-file {} {flags}",
        profile
            .subscription_id
            .as_ref()
            .map_or_else(String::new, |s| format!(" --subscription {s}")),
        profile.resource_group,
        EdgeFile::FrontDoor(p).path(),
        flags = super::STACK_FLAGS
    );
    json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "metadata": {
            "generatedBy": "fleetgen; do not edit. Change the sources and run `fleetgen render`.",
            "sources": sources_list.into_iter().collect::<Vec<_>>(),
            "profile": p,
            "environment": Entry::FrontDoor(0, profile).environment().as_str(),
            "subscriptionId": profile.subscription_id,
            "resourceGroup": profile.resource_group,
            "deploy": deploy,
        },
        "resources": resources,
        "outputs": {
            "frontDoorId": {
                "type": "string",
                "value": format!("[reference(resourceId('Microsoft.Cdn/profiles', '{p}'), '{API_VERSION}').frontDoorId]"),
            },
            "endpointHostName": {
                "type": "string",
                "value": format!("[reference(resourceId('Microsoft.Cdn/profiles/afdEndpoints', '{p}', '{ep}'), '{API_VERSION}').hostName]"),
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_what_front_door_accepts() {
        assert_eq!(resource_name("www.example.com"), "www-example-com");
        assert_eq!(resource_name("web-eastus-prod-01"), "web-eastus-prod-01");
        let long = resource_name(&"a".repeat(80));
        assert_eq!(long.len(), 50);
        assert_ne!(resource_name(&"a".repeat(80)), resource_name(&"a".repeat(81)));
    }
}
