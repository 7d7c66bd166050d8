//! The global traffic layer's kill switches, as a diff: each switch changes exactly the
//! Front Door origins and Route 53 records it names — and nothing of the clusters' trees,
//! whose workloads keep running — besides listing itself in `rendered/fleet.yaml`.
//!
//! The fleet is the golden case `edge-switches` with its switches taken out: a Front Door
//! profile (example.com) and a Route 53 zone (example.net), apps `web` (latency) and `cart`
//! (weighted 2:1:1 over azure:eastus, aws:us-east-1, aws:eu-west-1).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use common::{fleet_with, fleetgen, read_tree, report, root};
use serde_json::Value;

fn render(repo: &Path) -> BTreeMap<String, String> {
    let out = fleetgen()
        .args(["render", "--color", "never", "--repo"])
        .arg(repo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    read_tree(&repo.join("rendered"))
}

fn edit(repo: &Path, file: &str, f: impl FnOnce(String) -> String) {
    let path = repo.join(file);
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, f(text)).unwrap();
}

/// The fleet without switches.
fn fleet() -> tempfile::TempDir {
    let dir = fleet_with(Some(&root().join("tests/golden/edge-switches/input")));
    edit(dir.path(), "clusters/eastus-prod-01.yaml", |t| {
        t.lines()
            .filter(|l| {
                !["  inRotation:", "  reason:", "  expires:"]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .map(|l| format!("{l}\n"))
            .collect()
    });
    edit(dir.path(), "apps/cart/app.yaml", |t| {
        let start = t.find("  switches:").unwrap();
        let end = t.find("observability:").unwrap();
        format!("{}{}", &t[..start], &t[end..])
    });
    dir
}

/// The resources of an edge template by name (ARM) or logical id (CloudFormation).
fn resources(text: &str) -> BTreeMap<String, Value> {
    let v: Value = serde_json::from_str(text).unwrap();
    match v.get("Resources") {
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["name"].as_str().unwrap().to_string(), r.clone()))
            .collect(),
    }
}

/// What a switch did to one resource.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    /// A Front Door origin's `enabledState` went from Enabled to Disabled, nothing else.
    Disabled,
    /// A record left the template.
    Removed,
    /// The weight (Front Door `weight`, Route 53 `Weight`) became this, nothing else.
    Weight(u64),
}

/// (file, resource, what happened to it).
type Changes = BTreeSet<(String, String, Change)>;

fn changes(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Changes {
    let files: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = BTreeSet::new();
    for file in files {
        let (b, a) = (before.get(file), after.get(file));
        if b == a || file == "fleet.yaml" {
            continue;
        }
        assert!(
            file.starts_with("_edge/"),
            "{file} changed: a traffic switch touches no cluster tree"
        );
        let (b, a) = (resources(b.unwrap()), resources(a.unwrap()));
        for (name, old) in &b {
            let change = match a.get(name) {
                None => Change::Removed,
                Some(new) if new == old => continue,
                Some(new) => {
                    let mut old = old.clone();
                    if old["properties"]["enabledState"] == "Enabled" && new["properties"]["enabledState"] == "Disabled"
                    {
                        old["properties"]["enabledState"] = "Disabled".into();
                        assert_eq!(&old, new, "{file} {name}: more than the origin's state changed");
                        Change::Disabled
                    } else if let Some(w) = new["properties"]["weight"].as_u64() {
                        old["properties"]["weight"] = w.into();
                        assert_eq!(&old, new, "{file} {name}: more than the weight changed");
                        Change::Weight(w)
                    } else if let Some(w) = new["Properties"]["Weight"].as_u64() {
                        old["Properties"]["Weight"] = w.into();
                        assert_eq!(&old, new, "{file} {name}: more than the weight changed");
                        Change::Weight(w)
                    } else {
                        panic!("{file} {name}: unexpected change {old} → {new}");
                    }
                }
            };
            out.insert((file.clone(), name.clone(), change));
        }
        let added: Vec<&String> = a.keys().filter(|n| !b.contains_key(*n)).collect();
        assert!(added.is_empty(), "{file}: a switch added {added:?}");
    }
    out
}

const FD: &str = "_edge/frontdoor/afd-prod.json";
const R53: &str = "_edge/route53/example.net.json";

fn expect(items: &[(&str, &str, Change)]) -> Changes {
    items
        .iter()
        .map(|(f, n, c)| {
            let c = match c {
                Change::Disabled => Change::Disabled,
                Change::Removed => Change::Removed,
                Change::Weight(w) => Change::Weight(*w),
            };
            (f.to_string(), n.to_string(), c)
        })
        .collect()
}

#[test]
fn each_traffic_switch_changes_exactly_what_it_names() {
    let dir = fleet();
    let base = render(dir.path());
    assert!(
        base.contains_key(FD) && base.contains_key(R53),
        "{:?}",
        base.keys().filter(|k| k.starts_with('_')).collect::<Vec<_>>()
    );
    assert!(!base["fleet.yaml"].contains("trafficSwitches"));

    type Apply = fn(&Path);
    let cases: Vec<(&str, Apply, Changes)> = vec![
        (
            "a cluster out of rotation (its registry entry)",
            |p| {
                edit(p, "clusters/eastus-prod-01.yaml", |t| {
                    t + "  inRotation: false\n  reason: \"INC-1: eastus gateway 5xx\"\n"
                })
            },
            expect(&[
                (FD, "afd-prod/cart/cart-eastus-prod-01", Change::Disabled),
                (FD, "afd-prod/web/web-eastus-prod-01", Change::Disabled),
                (R53, "RecordCartExampleNetEastusProd01", Change::Removed),
            ]),
        ),
        (
            "a region out of rotation for every app (fleet.yaml)",
            |p| {
                edit(p, "fleet.yaml", |t| {
                    t + "  outOfRotation:\n    - region: aws:us-east-1\n      reason: \"INC-2: us-east-1 degraded\"\n"
                })
            },
            expect(&[
                (FD, "afd-prod/cart/cart-useast1-prod-01", Change::Disabled),
                (FD, "afd-prod/web/web-useast1-prod-01", Change::Disabled),
                (R53, "RecordCartExampleNetUseast1Prod01", Change::Removed),
            ]),
        ),
        (
            "one app's cluster out of rotation (its contract)",
            |p| {
                edit(p, "apps/cart/app.yaml", |t| {
                    t.replace(
                        "observability:",
                        "  switches:\n    - cluster: euwest1-prod-01\n      inRotation: false\n      reason: \"INC-3: cart errors in eu-west-1\"\nobservability:",
                    )
                })
            },
            expect(&[
                (FD, "afd-prod/cart/cart-euwest1-prod-01", Change::Disabled),
                (R53, "RecordCartExampleNetEuwest1Prod01", Change::Removed),
            ]),
        ),
        (
            "a temporary weight",
            |p| {
                edit(p, "apps/cart/app.yaml", |t| {
                    t.replace(
                        "observability:",
                        "  switches:\n    - region: azure:eastus\n      weight: 7\n      reason: \"CHG-4: drain us-east-1 slowly\"\nobservability:",
                    )
                })
            },
            expect(&[
                (FD, "afd-prod/cart/cart-eastus-prod-01", Change::Weight(7)),
                (R53, "RecordCartExampleNetEastusProd01", Change::Weight(7)),
            ]),
        ),
    ];
    for (what, apply, expected) in cases {
        let dir = fleet();
        apply(dir.path());
        let after = render(dir.path());
        assert_eq!(changes(&base, &after), expected, "{what}");
        assert!(
            after["fleet.yaml"].contains("trafficSwitches:"),
            "{what}: not listed in rendered/fleet.yaml"
        );
    }
}

#[test]
fn a_switch_warns_with_its_reason_and_an_expired_one_fails_the_render() {
    let dir = fleet();
    edit(dir.path(), "clusters/eastus-prod-01.yaml", |t| {
        t + "  inRotation: false\n  reason: \"INC-5: eastus certificate\"\n  expires: \"2026-12-01\"\n"
    });
    let out = fleetgen()
        .args(["render", "--color", "never", "--format", "concise", "--repo"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = report(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("warning[FG050] cluster `eastus-prod-01` is out of rotation: INC-5: eastus certificate"),
        "{text}"
    );
    assert!(
        text.contains("warning[FG053] traffic switch expires on 2026-12-01 (in 9 days)"),
        "{text}"
    );

    edit(dir.path(), "clusters/eastus-prod-01.yaml", |t| {
        t.replace("2026-12-01", "2026-11-21")
    });
    let out = fleetgen()
        .args(["render", "--color", "never", "--format", "concise", "--repo"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = report(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error[FG052] traffic switch expired on 2026-11-21"),
        "{text}"
    );
}

#[test]
fn out_of_rotation_is_a_warning_for_lint_and_the_app_keeps_running() {
    let dir = fleet();
    // Staging denies as prod does, so that the ring order of policy (FG126) is not at issue.
    edit(dir.path(), "policy-library/profiles/restricted.yaml", |t| {
        t.replace("    byEnvironment:\n      staging: audit\n", "")
    });
    edit(dir.path(), "clusters/eastus-prod-01.yaml", |t| {
        t + "  inRotation: false\n  reason: \"INC-6: eastus\"\n"
    });
    // Staging's pods take an Azure identity of their own (one client id on staging and prod
    // is FG144).
    edit(dir.path(), "profiles/identity/api.yaml", |t| {
        t + "environments:\n  staging:\n    azure:\n      clientId: 00000000-0000-0000-0000-0000000000c3\n"
    });
    let out = fleetgen()
        .args(["lint", "--color", "never", "--format", "concise", "--repo"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = report(&out);
    assert!(text.contains("warning[FG050]"), "{text}");
    assert!(!text.contains("error["), "{text}");
    let tree = render(dir.path());
    assert!(tree.contains_key("eastus-prod-01/apps/web/deployment-web.yaml"));
    assert!(tree["fleet.yaml"].contains("state: active"));
}

/// Route 53: every record of a name has one type (DNS allows no CNAME beside an A record,
/// and Route 53 refuses a routed set that mixes them), alias A at the zone apex and CNAME
/// elsewhere, whatever the clusters; and a geo-routed name keeps its default record, the
/// same resource, when its first region is taken out of rotation.
#[test]
fn a_route53_name_takes_one_record_type_and_keeps_a_geo_default() {
    let dir = fleet_with(Some(&root().join("tests/golden/edge-route53/input")));
    let records = |tree: &BTreeMap<String, String>| -> Vec<Value> {
        let text = &tree["_edge/route53/example.com.json"];
        resources(text)
            .into_values()
            .filter(|r| r["Type"] == "AWS::Route53::RecordSet")
            .map(|r| r["Properties"].clone())
            .collect()
    };
    let tree = render(dir.path());
    let mut types: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in records(&tree) {
        types
            .entry(r["Name"].as_str().unwrap().to_string())
            .or_default()
            .insert(r["Type"].as_str().unwrap().to_string());
    }
    // cart is weighted over an AKS cluster (no alias zone) and two EKS ones (alias zones).
    assert_eq!(
        types["cart.example.com"],
        BTreeSet::from(["CNAME".to_string()]),
        "{types:?}"
    );
    // maps lands on EKS clusters only: CNAMEs still (the type does not follow the placement).
    assert_eq!(
        types["maps.example.com"],
        BTreeSet::from(["CNAME".to_string()]),
        "{types:?}"
    );
    // The zone apex, where DNS allows no CNAME: alias A records.
    assert_eq!(types["example.com"], BTreeSet::from(["A".to_string()]), "{types:?}");
    assert!(types.values().all(|t| t.len() == 1), "{types:?}");
    let defaults = |tree: &BTreeMap<String, String>| -> Vec<(String, String)> {
        let text = &tree["_edge/route53/example.com.json"];
        resources(text)
            .into_iter()
            .filter(|(_, r)| {
                r["Properties"]["Name"] == "maps.example.com" && r["Properties"]["GeoLocation"]["CountryCode"] == "*"
            })
            .map(|(id, r)| {
                let p = &r["Properties"];
                (
                    format!("{id} {}", p["SetIdentifier"].as_str().unwrap()),
                    p["ResourceRecords"][0].to_string(),
                )
            })
            .collect()
    };
    let useast1 = "\"k8s-gateway-useast1-0123456789.us-east-1.elb.amazonaws.com\"".to_string();
    let euwest1 = "\"k8s-gateway-euwest1-9876543210.eu-west-1.elb.amazonaws.com\"".to_string();
    let default = "RecordMapsExampleComDefault default".to_string();
    assert_eq!(defaults(&tree), [(default.clone(), useast1)]);
    // us-east-1, maps' first region, out of rotation: eu-west-1 answers the rest of the world.
    edit(dir.path(), "fleet.yaml", |t| {
        format!("{t}  outOfRotation:\n    - region: aws:us-east-1\n      reason: \"INC-3: us-east-1 gateway\"\n")
    });
    let tree = render(dir.path());
    // The same record (logical id and set identifier), another target: CloudFormation updates
    // it in place; a new `*` record beside the old one Route 53 would refuse.
    assert_eq!(defaults(&tree), [(default, euwest1)]);
    // A switch keeps the type: cart scaled down on its AKS cluster, the EKS records stay
    // CNAMEs (an A record would meet the CNAME the stack has not deleted yet).
    let dir = fleet_with(Some(&root().join("tests/golden/edge-route53/input")));
    edit(dir.path(), "fleet.yaml", |t| {
        format!(
            "{t}switches:\n  scaleDown:\n    - {{ app: cart, clusters: [eastus-prod-01], reason: \"INC-7: cart's store\", owner: web-team }}\n"
        )
    });
    let tree = render(dir.path());
    let cart: BTreeSet<String> = records(&tree)
        .into_iter()
        .filter(|r| r["Name"] == "cart.example.com")
        .map(|r| r["Type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(cart, BTreeSet::from(["CNAME".to_string()]));
}

/// The name and number of hostnames of the HTTPRoute a rendered file holds.
fn route_hostnames(text: &str) -> Vec<(String, usize)> {
    let name = text
        .lines()
        .find_map(|l| l.strip_prefix("  name: "))
        .unwrap()
        .to_string();
    let hosts = text
        .lines()
        .skip_while(|l| *l != "  hostnames:")
        .skip(1)
        .take_while(|l| l.starts_with("    - "))
        .count();
    vec![(name, hosts)]
}

/// An HTTPRoute takes at most 16 hostnames (the Gateway API's CRD: `maxItems: 16`, the API
/// server refuses more and the app's whole sync fails): an app with more gets a route per 16,
/// `<app>`, `<app>-2` …, each listed by the app's kustomization.
#[test]
fn an_app_with_more_than_16_hostnames_gets_an_httproute_per_16() {
    let dir = fleet_with(Some(&root().join("tests/golden/edge-frontdoor/input")));
    let many: Vec<String> = (0..31).map(|i| format!("h{i}.example.com")).collect();
    edit(dir.path(), "apps/web/app.yaml", |t| {
        t.replace(
            "hostnames: [www.example.com, example.com]",
            &format!("hostnames: [www.example.com, example.com, {}]", many.join(", ")),
        )
    });
    let tree = render(dir.path());
    let web = "eastus-prod-01/apps/web";
    let routes: Vec<(String, Vec<(String, usize)>)> = tree
        .iter()
        .filter(|(path, _)| path.starts_with(&format!("{web}/httproute-")) && !path.ends_with("-probe.yaml"))
        .map(|(path, text)| (path.clone(), route_hostnames(text)))
        .collect();
    assert_eq!(
        routes,
        [
            (format!("{web}/httproute-web-2.yaml"), vec![("web-2".to_string(), 16)]),
            (format!("{web}/httproute-web-3.yaml"), vec![("web-3".to_string(), 1)]),
            (format!("{web}/httproute-web.yaml"), vec![("web".to_string(), 16)]),
        ]
    );
    let kustomization = &tree[&format!("{web}/kustomization.yaml")];
    for file in ["httproute-web.yaml", "httproute-web-2.yaml", "httproute-web-3.yaml"] {
        assert!(kustomization.contains(file), "{kustomization}");
    }
}

/// What a probe route does: its hostnames, the path it matches, the path it rewrites that to
/// and the Service it sends the request to.
fn probe_rule(text: &str) -> (Vec<String>, String, String, String) {
    let route: Value = serde_saphyr::from_str(text).unwrap();
    let spec = &route["spec"];
    let rules = spec["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "{text}");
    let rule = &rules[0];
    let text_of = |v: &Value| v.as_str().unwrap().to_string();
    let rewrite = &rule["filters"][0];
    assert_eq!(rewrite["type"], "URLRewrite", "{text}");
    assert_eq!(rewrite["urlRewrite"]["path"]["type"], "ReplaceFullPath", "{text}");
    assert_eq!(rule["matches"][0]["path"]["type"], "Exact", "{text}");
    (
        spec["hostnames"].as_array().unwrap().iter().map(text_of).collect(),
        text_of(&rule["matches"][0]["path"]["value"]),
        text_of(&rewrite["urlRewrite"]["path"]["replaceFullPath"]),
        text_of(&rule["backendRefs"][0]["name"]),
    )
}

/// Front Door's probes and Route 53's checks carry the cluster's origin name
/// (`edge.origin`) as `Host`, which no app route matches: each app an edge checks gets,
/// on each of its clusters, a route on that name at a path of its own, rewritten to the
/// app's probe path. The edges probe that path, so two apps on one gateway are never probed
/// at one URL, and each probe reaches the app it judges.
#[test]
fn each_app_is_probed_through_a_route_of_its_own_on_the_origin_name() {
    let dir = fleet();
    edit(dir.path(), "apps/cart/app.yaml", |t| {
        t.replace(
            "  port: 8080\n",
            "  port: 8080\n  healthProbe: { path: /cart/healthz }\n",
        )
    });
    let tree = render(dir.path());
    let origins = [
        ("eastus-prod-01", "eastus-gw.example.com"),
        ("useast1-prod-01", "useast1-gw.example.com"),
        ("euwest1-prod-01", "euwest1-gw.example.com"),
    ];
    let mut paths = BTreeSet::new();
    for (cluster, origin) in origins {
        for (app, target) in [("web", "/healthz/ready"), ("cart", "/cart/healthz")] {
            let file = format!("{cluster}/apps/{app}/httproute-{app}-probe.yaml");
            let Some(text) = tree.get(&file) else {
                panic!("no {file}")
            };
            let (hosts, path, rewritten, service) = probe_rule(text);
            assert_eq!(hosts, [origin], "{file}");
            assert_eq!(rewritten, target, "{file}");
            assert_eq!(service, app, "{file}");
            assert_eq!(path, format!("/_fleetgen/probe/{app}"), "{file}");
            paths.insert(path);
            let kustomization = &tree[&format!("{cluster}/apps/{app}/kustomization.yaml")];
            assert!(
                kustomization.contains(&format!("httproute-{app}-probe.yaml")),
                "{kustomization}"
            );
        }
    }
    // The two apps share every gateway, and are probed at two paths.
    assert_eq!(paths.len(), 2, "{paths:?}");
    // The Front Door origin groups and the Route 53 health checks probe those paths.
    let front_door = resources(&tree["_edge/frontdoor/afd-prod.json"]);
    let group = |app: &str| {
        front_door
            .iter()
            .find(|(name, r)| r["type"] == "Microsoft.Cdn/profiles/originGroups" && name.ends_with(&format!("/{app}")))
            .map(|(_, r)| {
                r["properties"]["healthProbeSettings"]["probePath"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .unwrap_or_else(|| panic!("no origin group of {app}"))
    };
    assert_eq!(group("web"), "/_fleetgen/probe/web");
    assert_eq!(group("cart"), "/_fleetgen/probe/cart");
    let checks: BTreeSet<(String, String)> = resources(&tree["_edge/route53/example.net.json"])
        .values()
        .filter(|r| r["Type"] == "AWS::Route53::HealthCheck")
        .map(|r| {
            let config = &r["Properties"]["HealthCheckConfig"];
            let text = |k: &str| config[k].as_str().unwrap().to_string();
            (text("FullyQualifiedDomainName"), text("ResourcePath"))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = origins
        .iter()
        .map(|(_, origin)| (origin.to_string(), "/_fleetgen/probe/cart".to_string()))
        .collect();
    assert_eq!(checks, expected);
    // Behind Front Door the app's own route takes the probe path too (a second rule); an app
    // only Route 53 checks (which sends the origin name) gets its probe route alone.
    let rules = |tree: &BTreeMap<String, String>, app: &str| {
        let route: Value =
            serde_saphyr::from_str(&tree[&format!("eastus-prod-01/apps/{app}/httproute-{app}.yaml")]).unwrap();
        route["spec"]["rules"].as_array().unwrap().len()
    };
    assert_eq!((rules(&tree, "web"), rules(&tree, "cart")), (2, 2));
    edit(dir.path(), "apps/web/app.yaml", |t| {
        (t.replace("www.example.com", "www.example.net")).replace("routing: latency", "routing: weighted-global")
    });
    let tree = render(dir.path());
    assert_eq!(rules(&tree, "web"), 1);
    assert!(tree.contains_key("eastus-prod-01/apps/web/httproute-web-probe.yaml"));
    // An app no edge checks (its hostname under no entry's domain) gets no probe route.
    edit(dir.path(), "apps/web/app.yaml", |t| {
        t.replace("www.example.net", "www.example.org")
    });
    let tree = render(dir.path());
    assert!(!tree.keys().any(|k| k.ends_with("httproute-web-probe.yaml")));
    assert!(tree.contains_key("eastus-prod-01/apps/cart/httproute-cart-probe.yaml"));
}
