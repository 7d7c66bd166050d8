//! Writes a synthetic fleet for benchmarks, and beside it an equivalent plain kustomize
//! repository.
//!
//! ```sh
//! cargo run --release --example gen-fleet -- --clusters 200 --apps 500 --seed 1 --out /tmp/bench/200x500
//! ```
//!
//! `OUT/fleet/` is a fleetgen repository: AKS and EKS clusters in ten regions, each region with
//! a staging cluster (ring `staging`), one prod cluster in `prod-early` and the rest in
//! `prod`, split into cells of about four; apps placed in a few regions and one cell (about
//! 20 placements each), with every data mode's honest routing, chart and manifest apps,
//! cloud identities, Flux and Argo CD clusters. It validates and lints clean. The profiles
//! and policy library are the bundled fleet's.
//!
//! `OUT/kustomize/` is what a platform team would write without fleetgen: `base/<app>/` with
//! the app's objects, and per cluster `clusters/<cluster>/<app>/` overlays that set the
//! cluster's labels and patch what differs (replicas, identity annotations, routes …), with
//! `clusters/<cluster>/kustomization.yaml` listing them. `kustomize build clusters/<cluster>`
//! yields the objects fleetgen renders into `rendered/<cluster>/apps/` (bench/run checks).
//! The overlays are derived from fleetgen's own render of the fleet, so the two agree by
//! construction wherever kustomize's transformers do what they say.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Map, Value, json};

/// splitmix64: small, seedable, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn hex(&mut self, chars: usize) -> String {
        let mut s = String::new();
        while s.len() < chars {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(chars);
        s
    }
    fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }
}

const REGIONS: [(&str, &str); 10] = [
    ("azure", "eastus"),
    ("aws", "us-east-1"),
    ("azure", "westeurope"),
    ("aws", "eu-west-1"),
    ("azure", "westus3"),
    ("aws", "us-west-2"),
    ("azure", "northeurope"),
    ("aws", "eu-central-1"),
    ("azure", "southeastasia"),
    ("aws", "ap-southeast-1"),
];

/// Kubernetes and add-on versions by ring: each ring one step behind the one before.
fn versions(provider: &str, ring: &str) -> (&'static str, Vec<(&'static str, &'static str)>) {
    let step = match ring {
        "staging" => 0,
        "prod-early" => 1,
        _ => 2,
    };
    let k8s = ["1.35", "1.34", "1.33"][step];
    let lb = match provider {
        "azure" => ("alb-controller", ["1.8.1", "1.7.9", "1.6.7"][step]),
        _ => ("aws-load-balancer-controller", ["2.14.0", "2.13.4", "2.12.0"][step]),
    };
    (
        k8s,
        vec![
            lb,
            ("cert-manager", ["1.19.1", "1.18.2", "1.17.4"][step]),
            ("external-dns", ["0.19.0", "0.18.0", "0.17.0"][step]),
            ("keda", ["2.18.0", "2.17.2", "2.16.1"][step]),
        ],
    )
}

struct Args {
    clusters: usize,
    apps: usize,
    seed: u64,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        clusters: 20,
        apps: 50,
        seed: 1,
        out: PathBuf::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--clusters" => args.clusters = value()?.parse().map_err(|e| format!("--clusters: {e}"))?,
            "--apps" => args.apps = value()?.parse().map_err(|e| format!("--apps: {e}"))?,
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--out" => args.out = PathBuf::from(value()?),
            "-h" | "--help" => {
                return Err("usage: gen-fleet --clusters N --apps M [--seed S] --out DIR".to_string());
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if args.out.as_os_str().is_empty() {
        return Err("--out DIR is required".to_string());
    }
    if args.clusters < REGIONS.len() * 2 {
        return Err(format!(
            "--clusters must be at least {} (a staging and a prod cluster per region)",
            REGIONS.len() * 2
        ));
    }
    if args.apps == 0 {
        return Err("--apps must be at least 1".to_string());
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gen-fleet: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-fleet: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Copies the bundled fleet's profiles and policy library (not its exemptions, which name
/// its apps).
fn copy_bundled(fleet: &Path) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in [
        "profiles/cluster",
        "profiles/observability",
        "profiles/backup",
        "profiles/telemetry",
        "policy-library/intents",
        "policy-library/profiles",
    ] {
        let from = root.join(dir);
        let entries = fs::read_dir(&from).map_err(|e| format!("{}: {e}", from.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| e.to_string())?;
            let text = fs::read_to_string(entry.path()).map_err(|e| e.to_string())?;
            write(&fleet.join(dir).join(entry.file_name()), &text)?;
        }
    }
    Ok(())
}

fn run(args: &Args) -> Result<String, String> {
    let mut rng = Rng(args.seed);
    let fleet = args.out.join("fleet");
    let kustomize = args.out.join("kustomize");
    for dir in [&fleet, &kustomize] {
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    copy_bundled(&fleet)?;
    write(&fleet.join("fleet.yaml"), &fleet_yaml())?;

    // Clusters: round-robin over the regions; per region a staging cluster, one prod-early,
    // the rest prod; prod clusters in cells of about four.
    let per_region = args.clusters / REGIONS.len();
    let extra = args.clusters % REGIONS.len();
    let prod_per_region = per_region - 1 + usize::from(extra > 0);
    let cells = (prod_per_region / 4).max(1);
    let mut clusters = 0;
    for (r, (provider, region)) in REGIONS.iter().enumerate() {
        let count = per_region + usize::from(r < extra);
        for i in 0..count {
            let prod = i > 0;
            let env = if prod { "prod" } else { "staging" };
            let ring = match i {
                0 => "staging",
                1 => "prod-early",
                _ => "prod",
            };
            let id = format!("{provider}-{region}-{env}-{i:02}");
            let cell = if prod {
                format!("cell-{}", (i - 1) % cells)
            } else {
                "cell-staging".to_string()
            };
            write(
                &fleet.join("clusters").join(format!("{id}.yaml")),
                &cluster_yaml(&mut rng, &id, provider, region, env, ring, &cell, clusters),
            )?;
            clusters += 1;
        }
    }

    // Apps: enough regions of one cell for about 20 placements each.
    let per_cell_region = prod_per_region.div_ceil(cells) + 1;
    let regions_per_app = (20 / per_cell_region).clamp(2, REGIONS.len());
    let min_replicas = 2 * prod_per_region.div_ceil(cells) as u32;
    for a in 0..args.apps {
        let name = format!("app-{a:04}");
        let start = rng.below(REGIONS.len());
        let regions: Vec<String> = (0..regions_per_app)
            .map(|k| {
                let (p, r) = REGIONS[(start + k) % REGIONS.len()];
                format!("{p}:{r}")
            })
            .collect();
        let cell = format!("cell-{}", rng.below(cells));
        let identity = a % 2 == 0;
        if identity {
            write(
                &fleet.join("profiles/identity").join(format!("{name}.yaml")),
                &format!(
                    // Staging's pods take an Azure identity of their own (one client id
                    // on staging and prod is FG144).
                    "# yaml-language-server: $schema=../../schemas/identity-profile.schema.json\nname: {name}\nazure:\n  clientId: {}\naws:\n  roleName: fleet-{name}\nenvironments:\n  staging:\n    azure:\n      clientId: {}\n",
                    rng.uuid(),
                    rng.uuid()
                ),
            )?;
        }
        write(
            &fleet.join("apps").join(&name).join("app.yaml"),
            &app_yaml(&mut rng, a, &name, &regions, &cell, identity, min_replicas),
        )?;
    }

    // Render with fleetgen itself, then derive the kustomize repository from its objects.
    let files = fleetgen::api::WorkTree::open(&fleet)?;
    let compiled = fleetgen::api::compile(&files, &fleetgen::api::Options::new(fleetgen::api::Goal::Render));
    let tree = compiled.tree.as_ref();
    let errors: Vec<String> = compiled
        .diagnostics()
        .iter()
        .filter(|d| d.severity == fleetgen::api::Severity::Error)
        .map(|d| format!("{}: {} {}", d.path, d.code.id, d.message))
        .collect();
    if !errors.is_empty() {
        return Err(format!("the generated fleet does not render:\n{}", errors.join("\n")));
    }
    let tree = tree.ok_or("the generated fleet does not render")?;
    let (bases, overlays) = write_kustomize(&kustomize, &tree.files)?;
    Ok(format!(
        "{}: {} clusters, {} apps; kustomize: {bases} bases, {overlays} overlays",
        args.out.display(),
        clusters,
        args.apps
    ))
}

fn fleet_yaml() -> String {
    let regions: Vec<String> = REGIONS.iter().map(|(p, r)| format!("{p}:{r}")).collect();
    format!(
        "# yaml-language-server: $schema=../schemas/fleet.schema.json
# A synthetic fleet written by `cargo run --example gen-fleet`.
name: synthetic-fleet
description: Benchmark fleet; AKS and EKS in ten regions.
repository:
  url: https://github.com/example/synthetic-fleet.git
rings:
  - name: staging
  - name: prod-early
  - name: prod
labels:
  prefix: fleet.example.com/
registries:
  - name: harbor
    host: registry.contoso.io
    replicaRegions: [{}]
defaults:
  runtime:
    maxReplicasPerRegion: 10
    podDisruptionBudget: required
    topologySpread: zone
    resources:
      requests: {{ cpu: 100m, memory: 128Mi }}
      limits: {{ cpu: 1000m, memory: 512Mi }}
    probes:
      readinessPath: /healthz/ready
      livenessPath: /healthz/live
# An account's iam.json outgrows what CloudFormation takes inline (51,200 bytes) at a few
# dozen app roles: its deploy command uploads it through this bucket (FG171 otherwise).
cloudFormation:
  templateBucket: synthetic-fleet-templates-{{accountId}}-{{region}}
",
        regions.join(", ")
    )
}

#[allow(clippy::too_many_arguments)]
fn cluster_yaml(
    rng: &mut Rng,
    id: &str,
    provider: &str,
    region: &str,
    env: &str,
    ring: &str,
    cell: &str,
    index: usize,
) -> String {
    let prod = env == "prod";
    let (service, profile, observability, backup) = match (provider, prod) {
        ("azure", true) => ("aks", "aks-prod-standard", "aks-standard", "azure-backup-aks-prod"),
        ("azure", false) => ("aks", "aks-nonprod-standard", "aks-standard", "velero-nonprod"),
        (_, true) => ("eks", "eks-prod-standard", "eks-standard", "aws-backup-eks-prod"),
        (_, false) => ("eks", "eks-nonprod-standard", "eks-standard", "velero-nonprod"),
    };
    let (network, identity, entrypoint) = match provider {
        "azure" => (
            "azure-cni-overlay",
            "workload-identity",
            "application-gateway-for-containers",
        ),
        _ => ("vpc-cni", "irsa", "aws-load-balancer-controller"),
    };
    // Flux on AKS and Argo CD on EKS, with every fifth cluster the other way round.
    let flux = (provider == "azure") != (index % 5 == 4);
    let (k8s, addons) = versions(provider, ring);
    let mut out = format!(
        "# yaml-language-server: $schema=../schemas/cluster.schema.json
clusterId: {id}
provider: {provider}
service: {service}
region: {region}
zones: 3
environment: {env}
ownerTeam: platform-{provider}
purpose: shared-apps
description: Synthetic {env} cluster {index} in {region}.
criticality: {}
cell: {cell}
profile: {profile}
networkMode: {network}
identityMode: {identity}
entrypoint: {entrypoint}
observabilityProfile: {observability}
policyProfile: restricted-prod
backupProfile: {backup}
upgradeChannel: {ring}
kubernetesVersion: \"{k8s}\"
addons:
",
        if prod { "tier-0" } else { "tier-2" }
    );
    for (name, version) in addons {
        let _ = writeln!(out, "  {name}: \"{version}\"");
    }
    let _ = writeln!(out, "gitops:\n  engine: {}", if flux { "flux" } else { "argocd" });
    match provider {
        "azure" => {
            let _ = write!(
                out,
                "azure:\n  subscriptionId: {}\n  tenantId: {}\n  resourceGroup: rg-{id}\n  keyVault: kv-{:08}\n",
                rng.uuid(),
                rng.uuid(),
                index
            );
        }
        _ => {
            let _ = write!(
                out,
                "aws:\n  accountId: \"{:012}\"\n  oidcProvider: oidc.eks.{region}.amazonaws.com/id/{:032X}\n",
                100_000_000_000u64 + index as u64,
                index
            );
        }
    }
    out
}

fn app_yaml(
    rng: &mut Rng,
    index: usize,
    name: &str,
    regions: &[String],
    cell: &str,
    identity: bool,
    min_replicas: u32,
) -> String {
    let chart = index % 4 == 3;
    let exposure = if index.is_multiple_of(3) { "public" } else { "internal" };
    let mut out = format!(
        "# yaml-language-server: $schema=../../schemas/app.schema.json
application:
  name: {name}
  owner: team-{:02}
  criticality: tier-1
  image: registry.contoso.io/apps/{name}@sha256:{}
  version: 2026.11.{:02}-{:04}
placement:
  environments: [staging, prod]
  regions: [{}]
  cells: [{cell}, cell-staging]
",
        index % 40,
        rng.hex(64),
        1 + index % 28,
        rng.below(10_000),
        regions.join(", ")
    );
    // Every data mode with the routing that is honest about it.
    let data = match index % 5 {
        0 => {
            let _ = write!(
                out,
                "traffic:\n  exposure: {exposure}\n  routing: latency\n  failover: automatic\n  port: 8080\n"
            );
            format!(
                "data:\n  mode: active-active\n  writeRegions: [{}]\n  rpo: 1m\n  rto: 15m\n  conflictResolution: last-writer-wins\n  idempotentWrites: true\n",
                regions.join(", ")
            )
        }
        1 => {
            let _ = write!(
                out,
                "traffic:\n  exposure: {exposure}\n  routing: geo\n  failover: manual-confirmed\n  port: 8080\n  routingKey: x-tenant-home-region\n"
            );
            format!(
                "data:\n  mode: regional\n  writeRegions: [{}]\n  rpo: 1m\n  rto: 15m\n",
                regions.join(", ")
            )
        }
        2 => {
            let _ = write!(
                out,
                "traffic:\n  exposure: {exposure}\n  routing: failover\n  failover: manual-confirmed\n  port: 8080\n"
            );
            format!(
                "data:\n  mode: regional-primary-with-standby\n  writeRegions: [{}]\n  rpo: 5m\n  rto: 30m\n",
                regions[0]
            )
        }
        3 => {
            let _ = write!(
                out,
                "traffic:\n  exposure: {exposure}\n  routing: failover\n  failover: manual-confirmed\n  port: 8080\n"
            );
            "data:\n  mode: warm-standby\n  writeRegions: [".to_string() + &regions[0] + "]\n  rpo: 5m\n  rto: 1h\n"
        }
        _ => {
            let _ = write!(
                out,
                "traffic:\n  exposure: {exposure}\n  routing: weighted-global\n  failover: automatic\n  port: 8080\n"
            );
            "data:\n  mode: stateless\n".to_string()
        }
    };
    if exposure == "public" {
        out = out.replace(
            "  exposure: public\n",
            &format!("  exposure: public\n  hostnames: [{name}.example.com]\n"),
        );
    }
    let _ = write!(
        out,
        "runtime:\n  minReplicasPerRegion: {min_replicas}\n  maxReplicasPerRegion: {}\n",
        min_replicas * 4
    );
    if identity {
        let _ = write!(out, "identity:\n  cloudPermissionsProfile: {name}\n");
    }
    out.push_str(&data);
    out.push_str("observability:\n  slo: 99.9\n  telemetryProfile: standard-http-service\n");
    if index > 0 && index.is_multiple_of(7) {
        let _ = write!(out, "dependsOn:\n  - service: app-{:04}\n    call: async\n", index - 1);
    }
    if chart {
        out.push_str("chart:\n  repository: oci://registry.contoso.io/charts\n  name: web-service\n  version: 3.2.1\n");
    }
    out
}

/// The YAML body of a rendered file (its header comments dropped), parsed.
fn parse(text: &str) -> Result<Value, String> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string())
}

/// JSON pointer escaping (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// JSON Patch operations that turn `from` into `to`; lists that differ are replaced whole.
fn diff(from: &Value, to: &Value, at: &str, ops: &mut Vec<Value>) {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let here = format!("{at}/{}", escape(k));
                match b.get(k) {
                    Some(vb) => diff(va, vb, &here, ops),
                    None => ops.push(json!({"op": "remove", "path": here})),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    ops.push(json!({"op": "add", "path": format!("{at}/{}", escape(k)), "value": vb}));
                }
            }
        }
        _ if from == to => {}
        _ => ops.push(json!({"op": "replace", "path": at, "value": to})),
    }
}

/// Kinds whose pod template kustomize's `labels` (includeTemplates) reaches, as fleetgen's.
fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => Some(&["spec", "template"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

/// What kustomize's `labels` transformer does to `obj`: set `pairs` on the object's labels
/// and on its pod template's.
fn apply_labels(obj: &mut Value, kind: &str, pairs: &Map<String, Value>) {
    let set = |meta: &mut Value| {
        if !meta.is_object() {
            *meta = json!({});
        }
        let labels = meta
            .as_object_mut()
            .map(|m| m.entry("labels").or_insert_with(|| json!({})));
        if let Some(Value::Object(l)) = labels {
            for (k, v) in pairs {
                l.insert(k.clone(), v.clone());
            }
        }
    };
    if let Some(meta) = obj.get_mut("metadata") {
        set(meta);
    }
    if let Some(path) = template_path(kind) {
        let mut cur = Some(&mut *obj);
        for p in path {
            cur = cur.and_then(|c| c.get_mut(*p));
        }
        if let Some(template) = cur {
            if let Some(meta) = template.get_mut("metadata") {
                set(meta);
            } else if let Some(t) = template.as_object_mut() {
                let mut meta = json!({});
                set(&mut meta);
                t.insert("metadata".into(), meta);
            }
        }
    }
}

/// `base/<app>/` from the app's first placement, `clusters/<cluster>/<app>/` overlays for
/// every placement. Returns (bases, overlays).
fn write_kustomize(root: &Path, files: &BTreeMap<String, String>) -> Result<(usize, usize), String> {
    // cluster → app → file name → object
    let mut placed: BTreeMap<&str, BTreeMap<&str, BTreeMap<&str, Value>>> = BTreeMap::new();
    for (path, text) in files {
        let parts: Vec<&str> = path.split('/').collect();
        let [cluster, "apps", app, file] = parts[..] else {
            continue;
        };
        if !file.ends_with(".yaml") || file == "kustomization.yaml" || file == "values.yaml" {
            continue;
        }
        placed
            .entry(cluster)
            .or_default()
            .entry(app)
            .or_default()
            .insert(file, parse(text)?);
    }
    let cluster_label_keys: Vec<String> = ["cluster", "provider", "region", "environment", "cell"]
        .iter()
        .map(|d| format!("fleet.example.com/{d}"))
        .collect();
    // The base of an app: the objects every placement of it has, as its first placement has
    // them (chart apps have a HelmRelease on Flux clusters only, say).
    let mut bases: BTreeMap<&str, BTreeMap<&str, Value>> = BTreeMap::new();
    for apps in placed.values() {
        for (app, objects) in apps {
            match bases.get_mut(app) {
                None => {
                    bases.insert(app, objects.clone());
                }
                Some(base) => base.retain(|file, _| objects.contains_key(file)),
            }
        }
    }
    for (app, objects) in &bases {
        let dir = root.join("base").join(app);
        let mut resources = Vec::new();
        for (file, obj) in objects.iter() {
            write(&dir.join(file), &to_yaml(obj))?;
            resources.push(json!(file));
        }
        let k =
            json!({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources});
        write(&dir.join("kustomization.yaml"), &to_yaml(&k))?;
    }
    let mut overlays = 0;
    for (cluster, apps) in &placed {
        let mut app_dirs = Vec::new();
        for (app, objects) in apps {
            let base = &bases[app];
            // The cluster's own label values, from any of its objects.
            let sample = objects.values().next().ok_or("an app folder without objects")?;
            let mut pairs = Map::new();
            for key in &cluster_label_keys {
                if let Some(v) = sample.pointer(&format!("/metadata/labels/{}", escape(key))) {
                    pairs.insert(key.clone(), v.clone());
                }
            }
            let mut patches = Vec::new();
            let mut resources = vec![json!(format!("../../../base/{app}"))];
            for (file, want) in objects.iter() {
                let kind = want["kind"].as_str().unwrap_or_default();
                match base.get(file) {
                    Some(have) => {
                        let mut have = have.clone();
                        apply_labels(&mut have, kind, &pairs);
                        let mut ops = Vec::new();
                        diff(&have, want, "", &mut ops);
                        if !ops.is_empty() {
                            patches.push(json!({
                                "target": {
                                    "kind": kind,
                                    "name": have["metadata"]["name"],
                                },
                                "patch": serde_json::to_string(&ops).map_err(|e| e.to_string())?,
                            }));
                        }
                    }
                    // An object only this placement has (not in the base).
                    None => {
                        let dir = root.join("clusters").join(cluster).join(app);
                        write(&dir.join(file), &to_yaml(want))?;
                        resources.push(json!(file));
                    }
                }
            }
            let mut k = json!({
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": resources,
                "labels": [{"pairs": pairs, "includeSelectors": false, "includeTemplates": true}],
            });
            if !patches.is_empty() {
                k["patches"] = Value::Array(patches);
            }
            write(
                &root.join("clusters").join(cluster).join(app).join("kustomization.yaml"),
                &to_yaml(&k),
            )?;
            app_dirs.push(json!(app));
            overlays += 1;
        }
        let k =
            json!({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": app_dirs});
        write(
            &root.join("clusters").join(cluster).join("kustomization.yaml"),
            &to_yaml(&k),
        )?;
    }
    Ok((bases.len(), overlays))
}

fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    fleetgen::api::write_yaml(&mut out, v);
    out
}
