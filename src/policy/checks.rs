//! The semantics of each intent check, twice: in Rust, run over every rendered object before
//! anything is written, and as the CEL expression of the admission policy that enforces the
//! same thing on the cluster. The two are kept side by side so they cannot drift apart.
//!
//! Container checks look at pods and pod templates (Deployment, StatefulSet, DaemonSet,
//! ReplicaSet, Job, CronJob); the admission policies match Pods, which every one of those
//! creates. `workload-identity` has no admission form: whether a pod should carry a cloud
//! identity is a fact of its contract, not of the pod.

use serde_json::Value;

use crate::model::Provider;
use crate::model::policy::Check;

/// What a check needs to know about the cluster.
pub struct Context<'a> {
    pub provider: Provider,
    /// Registry hosts the cluster may pull from.
    pub registries: Vec<std::borrow::Cow<'a, str>>,
    /// The cluster's allowed-image regex (the same one the Azure assignment gets).
    pub image_regex: String,
}

impl<'f> Context<'f> {
    /// A context that knows nothing of a cluster: enough to ask whether a check has an
    /// admission form at all.
    pub fn none() -> Context<'static> {
        Context {
            provider: Provider::Azure,
            registries: Vec::new(),
            image_regex: String::new(),
        }
    }

    /// The check context of a cluster of `fleet`.
    pub fn for_cluster(fleet: &'f crate::model::Fleet, cluster: &crate::model::Cluster) -> Context<'f> {
        Context {
            provider: cluster.provider,
            registries: super::approved_registries(fleet, cluster),
            image_regex: super::image_regex(fleet, cluster),
        }
    }
}

/// A container (or init container) that breaks a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// What is wrong, e.g. "container `web` has no readiness probe".
    pub what: String,
    /// The container at fault, when one is.
    pub container: Option<String>,
    /// Its image, for the image checks.
    pub image: Option<String>,
}

pub use crate::kube::pod_spec;

/// The largest limits of a `resource-limits` intent (`maximum`), read: each as the intent
/// writes it and as a quantity. One that is not a quantity fleetgen reads is refused with
/// the intent (FG012), and none here.
#[derive(Clone, Debug, Default)]
pub struct Maxima {
    pub cpu: Option<(String, Quantity)>,
    pub memory: Option<(String, Quantity)>,
}

impl Maxima {
    pub fn of(intent: &crate::model::policy::PolicyIntent) -> Maxima {
        let read = |text: Option<&String>| text.and_then(|t| Some((t.clone(), Quantity::parse(t)?)));
        match (&intent.maximum, intent.check) {
            (Some(m), Check::ResourceLimits) => Maxima {
                cpu: read(m.cpu.as_ref()),
                memory: read(m.memory.as_ref()),
            },
            _ => Maxima::default(),
        }
    }

    /// The maximum of `resource` (`cpu` or `memory`).
    fn of_resource(&self, resource: &str) -> Option<&(String, Quantity)> {
        match resource {
            "cpu" => self.cpu.as_ref(),
            _ => self.memory.as_ref(),
        }
    }
}

use crate::kube::quantity::Quantity;

fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    ["initContainers", "containers"]
        .into_iter()
        .filter_map(|k| spec.get(k).and_then(Value::as_array))
        .flatten()
}

fn name(c: &Value) -> &str {
    c.get("name").and_then(Value::as_str).unwrap_or("?")
}

fn flag(v: Option<&Value>) -> Option<bool> {
    v.and_then(Value::as_bool)
}

fn at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |cur, k| cur.get(k))
}

/// The violations of `check` in `object` (an empty list: it complies, or the check does
/// not look at this kind of object).
#[cfg(test)]
pub fn violations(check: Check, object: &Value, ctx: &Context) -> Vec<Violation> {
    violations_under(check, &Maxima::default(), object, ctx)
}

/// [`violations`] of an intent with `maxima`.
#[cfg(test)]
pub fn violations_under(check: Check, maxima: &Maxima, object: &Value, ctx: &Context) -> Vec<Violation> {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    violations_in(check, maxima, object, kind, pod_spec(object), ctx)
}

/// The violations of `check` in `object` of kind `kind`, whose pod spec (`pod_spec(object)`)
/// is `pod`: a render judges every object under every check, and finding the pod spec once
/// per object rather than once per check saved 3% of a render's instructions (looking up
/// `kind` in each check, another 1%).
pub fn violations_in(
    check: Check,
    maxima: &Maxima,
    object: &Value,
    kind: &str,
    pod: Option<&Value>,
    ctx: &Context,
) -> Vec<Violation> {
    let v = |what: String| Violation {
        what,
        container: None,
        image: None,
    };
    let in_container = |what: String, c: &Value| Violation {
        what,
        container: Some(name(c).to_string()),
        image: c.get("image").and_then(Value::as_str).map(str::to_string),
    };
    match check {
        Check::HttpsIngress => {
            if kind == "Ingress"
                && at(object, &["spec", "tls"])
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
            {
                return vec![v("the Ingress has no `tls`".into())];
            }
            return Vec::new();
        }
        Check::InternalLoadBalancer => {
            if kind == "Service" && at(object, &["spec", "type"]).and_then(Value::as_str) == Some("LoadBalancer") {
                let annotations = at(object, &["metadata", "annotations"]);
                let internal = match ctx.provider {
                    Provider::Azure => {
                        annotations
                            .and_then(|a| a.get("service.beta.kubernetes.io/azure-load-balancer-internal"))
                            .and_then(Value::as_str)
                            == Some("true")
                    }
                    Provider::Aws => {
                        annotations
                            .and_then(|a| a.get("service.beta.kubernetes.io/aws-load-balancer-scheme"))
                            .and_then(Value::as_str)
                            == Some("internal")
                    }
                };
                if !internal {
                    return vec![v("the LoadBalancer Service is not internal".into())];
                }
            }
            return Vec::new();
        }
        _ => {}
    }
    let Some(spec) = pod else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match check {
        // Non-root: `runAsNonRoot: true`, or a non-zero `runAsUser` (the container's over the
        // pod's, as the kubelet reads them; Azure's MustRunAsNonRoot takes either).
        Check::RunAsNonRoot => {
            let pod = flag(at(spec, &["securityContext", "runAsNonRoot"]));
            let pod_user = at(spec, &["securityContext", "runAsUser"]).and_then(Value::as_i64);
            for c in containers(spec) {
                let own = flag(at(c, &["securityContext", "runAsNonRoot"]));
                let user = at(c, &["securityContext", "runAsUser"])
                    .and_then(Value::as_i64)
                    .or(pod_user);
                if own.or(pod) != Some(true) && user.is_none_or(|u| u == 0) {
                    out.push(in_container(
                        format!(
                            "container `{}` may run as root (no `runAsNonRoot: true` or non-zero `runAsUser`)",
                            name(c)
                        ),
                        c,
                    ));
                }
            }
        }
        // The host's network: the pod's `hostNetwork`, or a container port bound on the host.
        Check::NoHostNetwork => {
            if flag(spec.get("hostNetwork")) == Some(true) {
                out.push(v("the pod uses the host network".into()));
            }
            for c in containers(spec) {
                let ports = c.get("ports").and_then(Value::as_array).into_iter().flatten();
                if ports
                    .filter_map(|p| p.get("hostPort").and_then(Value::as_i64))
                    .any(|h| h != 0)
                {
                    out.push(in_container(format!("container `{}` binds a host port", name(c)), c));
                }
            }
        }
        Check::ImageDigest => {
            for c in containers(spec) {
                let image = c.get("image").and_then(Value::as_str).unwrap_or("");
                if !image.contains("@sha256:") {
                    out.push(in_container(
                        format!("container `{}` image `{image}` is not pinned by digest", name(c)),
                        c,
                    ));
                }
            }
        }
        Check::ApprovedRegistry => {
            for c in containers(spec) {
                let image = c.get("image").and_then(Value::as_str).unwrap_or("");
                if !super::image_host_approved(image, &ctx.registries) {
                    out.push(in_container(
                        format!(
                            "container `{}` image `{image}` is not from an approved registry",
                            name(c)
                        ),
                        c,
                    ));
                }
            }
        }
        Check::ResourceRequests | Check::ResourceLimits => {
            let which = if check == Check::ResourceRequests {
                "requests"
            } else {
                "limits"
            };
            for c in containers(spec) {
                let has = |list: &str, r: &str| at(c, &["resources", list, r]).is_some();
                // A limit stands in for its request: the API server defaults a Pod's missing
                // request to its limit (not a pod template's, so a Deployment would be refused
                // what its Pods are let through).
                let missing: Vec<&str> = ["cpu", "memory"]
                    .into_iter()
                    .filter(|r| !(has(which, r) || which == "requests" && has("limits", r)))
                    .collect();
                if !missing.is_empty() {
                    out.push(in_container(
                        format!("container `{}` has no {which} for {}", name(c), missing.join(" and ")),
                        c,
                    ));
                }
                if check == Check::ResourceRequests {
                    continue;
                }
                // Above the intent's maximum (a limit that is not a quantity is above it).
                for resource in ["cpu", "memory"] {
                    let (Some((text, max)), Some(limit)) =
                        (maxima.of_resource(resource), at(c, &["resources", "limits", resource]))
                    else {
                        continue;
                    };
                    if Quantity::of_json(limit).is_none_or(|l| l > *max) {
                        let shown = limit.as_str().map_or_else(|| limit.to_string(), str::to_string);
                        out.push(in_container(
                            format!(
                                "container `{}` has a {resource} limit of {shown}, above the maximum {text}",
                                name(c)
                            ),
                            c,
                        ));
                    }
                }
            }
        }
        // Serving containers: a Job's pods run to completion and take no traffic.
        Check::ReadinessProbe if runs_to_completion(object, kind) => {}
        Check::ReadinessProbe => {
            for c in spec.get("containers").and_then(Value::as_array).into_iter().flatten() {
                if c.get("readinessProbe").is_none() {
                    out.push(in_container(
                        format!("container `{}` has no readiness probe", name(c)),
                        c,
                    ));
                }
            }
        }
        Check::NoAutomountToken => {
            if flag(spec.get("automountServiceAccountToken")) != Some(false) {
                out.push(v("the pod mounts its service account token".into()));
            }
        }
        Check::ReadOnlyRootFilesystem => {
            for c in containers(spec) {
                if flag(at(c, &["securityContext", "readOnlyRootFilesystem"])) != Some(true) {
                    out.push(in_container(
                        format!("container `{}` has a writable root filesystem", name(c)),
                        c,
                    ));
                }
            }
        }
        Check::WorkloadIdentity => {
            // Checked against the contract by the caller: see `workload_identity`.
        }
        Check::HttpsIngress | Check::InternalLoadBalancer => {}
    }
    out
}

/// A Job, a CronJob, or a Pod a Job made (its owner reference names a Job).
fn runs_to_completion(object: &Value, kind: &str) -> bool {
    match kind {
        "Job" | "CronJob" => true,
        "Pod" => at(object, &["metadata", "ownerReferences"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|r| r.get("kind").and_then(Value::as_str) == Some("Job")),
        _ => false,
    }
}

/// `must-use-workload-identity`: a pod of an app with a cloud identity must use the
/// cluster's workload identity (on AKS the pod label `azure.workload.identity/use: "true"`).
/// On EKS the role comes with the service account and the pod needs nothing.
pub fn workload_identity(object: &Value, has_identity: bool, provider: Provider) -> Vec<Violation> {
    if !has_identity || provider != Provider::Azure {
        return Vec::new();
    }
    let labels = match object.get("kind").and_then(Value::as_str) {
        Some("Pod") => at(object, &["metadata", "labels"]),
        Some("CronJob") => at(
            object,
            &["spec", "jobTemplate", "spec", "template", "metadata", "labels"],
        ),
        Some(_) if pod_spec(object).is_some() => at(object, &["spec", "template", "metadata", "labels"]),
        _ => return Vec::new(),
    };
    let used = labels
        .and_then(|l| l.get("azure.workload.identity/use"))
        .and_then(Value::as_str)
        == Some("true");
    if used {
        Vec::new()
    } else {
        vec![Violation {
            what: "the pod does not use workload identity (no `azure.workload.identity/use: \"true\"` label)".into(),
            container: None,
            image: None,
        }]
    }
}

/// The diagnostic code of a check's findings.
pub fn code(check: Check) -> &'static crate::diag::Code {
    use crate::diag::codes;
    match check {
        Check::RunAsNonRoot => codes::RUNS_AS_ROOT,
        Check::NoHostNetwork => codes::HOST_NETWORK,
        Check::ImageDigest => codes::IMAGE_NOT_PINNED,
        Check::ApprovedRegistry => codes::UNAPPROVED_REGISTRY,
        Check::ResourceRequests => codes::MISSING_REQUESTS,
        Check::ResourceLimits => codes::MISSING_LIMITS,
        Check::ReadinessProbe => codes::MISSING_READINESS_PROBE,
        Check::WorkloadIdentity => codes::NO_WORKLOAD_IDENTITY,
        Check::NoAutomountToken => codes::MOUNTS_TOKEN,
        Check::HttpsIngress => codes::PLAIN_HTTP_INGRESS,
        Check::InternalLoadBalancer => codes::PUBLIC_LOAD_BALANCER,
        Check::ReadOnlyRootFilesystem => codes::WRITABLE_ROOT_FILESYSTEM,
    }
}

/// An admission rule: the resources it matches and the CEL that must hold.
pub struct CelRule {
    /// (API group, version, resource).
    pub resources: Vec<Resource>,
    /// Variables the expression uses (`variables.<name>`), in order.
    pub variables: &'static [(&'static str, &'static str)],
    pub expression: String,
    pub message: String,
}

/// The admission variables of every pod check: the pod spec, wherever the object keeps it
/// (a Pod's own, a workload's pod template, a CronJob's job template's), and its containers.
/// One policy matches Pods and the workloads that create them, so a violating Deployment is
/// refused when it is applied, not later at pod creation. A debug container added to a
/// running Pod (the `pods/ephemeralcontainers` subresource, `kubectl debug`) is judged
/// alone: the rest of the Pod was judged when it was created, and cannot change.
pub const POD_VARIABLES: &[(&str, &str)] = &[
    (
        "podSpec",
        "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)",
    ),
    (
        "containers",
        "has(request.subResource) && request.subResource == 'ephemeralcontainers' ? (has(variables.podSpec.ephemeralContainers) ? variables.podSpec.ephemeralContainers : []) : (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : []) + variables.podSpec.containers",
    ),
];

/// A resource an admission rule matches: (API group, version, resource).
type Resource = (&'static str, &'static str, &'static str);

/// The built-in kinds with a pod template that serve (not Jobs).
const WORKLOADS: &[Resource] = &[
    ("apps", "v1", "deployments"),
    ("apps", "v1", "statefulsets"),
    ("apps", "v1", "daemonsets"),
    ("apps", "v1", "replicasets"),
];

/// The built-in kinds whose pods run to completion.
const JOBS: &[Resource] = &[("batch", "v1", "jobs"), ("batch", "v1", "cronjobs")];

/// Pods and the kinds whose pod templates one policy matches with them: what the pod checks
/// match (`WORKLOADS` and `JOBS` after `first`). The checks a debug container can break (its
/// image and its security context; it can have no ports, resources or probes) match the
/// `pods/ephemeralcontainers` subresource too: without it, `kubectl debug --image` would run
/// any image as any user in a running Pod. The readiness probe matches the pods that serve
/// (`jobs: false`).
fn pod_resources(first: &[Resource], jobs: bool) -> Vec<Resource> {
    let jobs = if jobs { JOBS } else { &[] };
    [first, WORKLOADS, jobs].concat()
}

const PODS: &[Resource] = &[("", "v1", "pods")];
const PODS_AND_DEBUG: &[Resource] = &[("", "v1", "pods"), ("", "v1", "pods/ephemeralcontainers")];

const ALL_CONTAINERS: &str = "variables.containers";

/// What an admission rule matches, and the variables its expression reads.
struct Matches {
    resources: Vec<Resource>,
    variables: &'static [(&'static str, &'static str)],
    /// It judges pod templates (an update that keeps the template passes).
    pods: bool,
}

/// The admission form of a check, or `None` when it has none.
pub fn cel(check: Check, maxima: &Maxima, ctx: &Context) -> Option<CelRule> {
    let matching = |resources| Matches {
        resources,
        variables: POD_VARIABLES,
        pods: true,
    };
    let pods = matching(pod_resources(PODS, true));
    let containers = matching(pod_resources(PODS_AND_DEBUG, true));
    let rule = |matches: Matches, expression: String, message: &str| {
        // An update that leaves the pod template as it was passes: the controllers scale an
        // old ReplicaSet made before the policy (or before a ring moved to deny), and the
        // policy judges pod templates, which this one does not change.
        let expression = match matches.pods {
            true => format!("(request.operation == 'UPDATE' && {OLD_POD_SPEC} == variables.podSpec) || ({expression})"),
            false => expression,
        };
        Some(CelRule {
            resources: matches.resources,
            variables: matches.variables,
            expression,
            message: message.to_string(),
        })
    };
    match check {
        Check::RunAsNonRoot => rule(
            containers,
            format!(
                "{ALL_CONTAINERS}.all(c, (has(c.securityContext) && has(c.securityContext.runAsNonRoot) ? c.securityContext.runAsNonRoot : (has(variables.podSpec.securityContext) && has(variables.podSpec.securityContext.runAsNonRoot) && variables.podSpec.securityContext.runAsNonRoot)) || (has(c.securityContext) && has(c.securityContext.runAsUser) ? c.securityContext.runAsUser != 0 : (has(variables.podSpec.securityContext) && has(variables.podSpec.securityContext.runAsUser) && variables.podSpec.securityContext.runAsUser != 0)))"
            ),
            "every container must run as non-root (runAsNonRoot: true, or a non-zero runAsUser)",
        ),
        Check::NoHostNetwork => rule(
            pods,
            format!(
                "(!has(variables.podSpec.hostNetwork) || !variables.podSpec.hostNetwork) && {ALL_CONTAINERS}.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))"
            ),
            "pods must not use the host network or bind host ports",
        ),
        Check::ImageDigest => rule(
            containers,
            format!("{ALL_CONTAINERS}.all(c, c.image.contains('@sha256:'))"),
            "every image must be pinned by digest (@sha256:)",
        ),
        Check::ApprovedRegistry => rule(
            containers,
            format!(
                "{ALL_CONTAINERS}.all(c, c.image.matches('{}'))",
                cel_string(&ctx.image_regex)
            ),
            "every image must come from an approved registry",
        ),
        Check::ResourceRequests => rule(
            pods,
            format!(
                "{ALL_CONTAINERS}.all(c, {} && {})",
                requested("cpu"),
                requested("memory")
            ),
            "every container must request cpu and memory",
        ),
        Check::ResourceLimits => {
            // Each maximum through the Kubernetes quantity library (in every Kubernetes that serves
            // ValidatingAdmissionPolicy v1: FG029).
            let within: String = ["cpu", "memory"]
                .into_iter()
                .filter_map(|r| {
                    let (text, _) = maxima.of_resource(r)?;
                    Some(format!(
                        " && quantity(c.resources.limits['{r}']).compareTo(quantity('{}')) <= 0",
                        cel_string(text)
                    ))
                })
                .collect();
            let message = match (&maxima.cpu, &maxima.memory) {
                (None, None) => "every container must set cpu and memory limits".to_string(),
                (cpu, memory) => format!(
                    "every container must set cpu and memory limits, at most {}",
                    [cpu.as_ref().map(|(t, _)| format!("{t} cpu")), memory.as_ref().map(|(t, _)| format!("{t} memory"))]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            };
            rule(
                pods,
                format!(
                    "{ALL_CONTAINERS}.all(c, has(c.resources) && has(c.resources.limits) && 'cpu' in c.resources.limits && 'memory' in c.resources.limits{within})"
                ),
                &message,
            )
        }
        Check::ReadinessProbe => rule(
            matching(pod_resources(PODS, false)),
            "(object.kind == 'Pod' && has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(r, r.kind == 'Job')) || variables.podSpec.containers.all(c, has(c.readinessProbe))".into(),
            "every container must have a readiness probe",
        ),
        Check::NoAutomountToken => rule(
            pods,
            "has(variables.podSpec.automountServiceAccountToken) && !variables.podSpec.automountServiceAccountToken"
                .into(),
            "pods must not mount their service account token (automountServiceAccountToken: false)",
        ),
        Check::ReadOnlyRootFilesystem => rule(
            containers,
            format!(
                "{ALL_CONTAINERS}.all(c, has(c.securityContext) && has(c.securityContext.readOnlyRootFilesystem) && c.securityContext.readOnlyRootFilesystem)"
            ),
            "every container must have a read-only root filesystem",
        ),
        Check::HttpsIngress => rule(
            Matches {
                resources: vec![("networking.k8s.io", "v1", "ingresses")],
                variables: &[],
                pods: false,
            },
            "has(object.spec.tls) && size(object.spec.tls) > 0".into(),
            "an Ingress must terminate TLS",
        ),
        Check::InternalLoadBalancer => {
            let (key, value) = match ctx.provider {
                Provider::Azure => ("service.beta.kubernetes.io/azure-load-balancer-internal", "true"),
                Provider::Aws => ("service.beta.kubernetes.io/aws-load-balancer-scheme", "internal"),
            };
            rule(
                Matches {
                    resources: vec![("", "v1", "services")],
                    variables: &[],
                    pods: false,
                },
                format!(
                    "!has(object.spec.type) || object.spec.type != 'LoadBalancer' || (has(object.metadata.annotations) && '{key}' in object.metadata.annotations && object.metadata.annotations['{key}'] == '{value}')"
                ),
                "a LoadBalancer Service must be internal",
            )
        }
        Check::WorkloadIdentity => None,
    }
}

/// In CEL, container `c` requests `resource`, itself or through its limit (see
/// [`violations_in`]).
fn requested(resource: &str) -> String {
    format!(
        "has(c.resources) && ((has(c.resources.requests) && '{resource}' in c.resources.requests) || (has(c.resources.limits) && '{resource}' in c.resources.limits))"
    )
}

/// The containers of `object` (a Pod or a workload with a pod template) whose image carries
/// one of the blocked `digests` (`sha256:…`; fleet.yaml `switches.blockImages`). On an update
/// (`old`: the object before it), a digest one of the old object's containers already ran is
/// let through: the controllers must still scale the old ReplicaSet down, and a workload on
/// the digest must be able to move off it (or to zero replicas).
pub fn blocked_images(object: &Value, old: Option<&Value>, digests: &[&str]) -> Vec<Violation> {
    let Some(spec) = pod_spec(object) else {
        return Vec::new();
    };
    // Init containers included: a ReplicaSet whose init container ran the digest must still
    // be scaled down.
    let ran = |digest: &str| {
        old.and_then(pod_spec).is_some_and(|s| {
            containers(s).any(|c| {
                c.get("image")
                    .and_then(Value::as_str)
                    .is_some_and(|i| i.ends_with(&format!("@{digest}")))
            })
        })
    };
    containers(spec)
        .filter_map(|c| {
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            let digest = digests.iter().find(|d| image.ends_with(&format!("@{d}")) && !ran(d))?;
            Some(Violation {
                what: format!("container `{}` runs blocked image digest {digest}", name(c)),
                container: Some(name(c).to_string()),
                image: Some(image.to_string()),
            })
        })
        .collect()
}

/// The old object's pod spec, in CEL (read only on an update).
const OLD_POD_SPEC: &str = "(oldObject.kind == 'Pod' ? oldObject.spec : (oldObject.kind == 'CronJob' ? oldObject.spec.jobTemplate.spec.template.spec : oldObject.spec.template.spec))";

/// The admission form of [`blocked_images`]: for each digest, no container's image ends with
/// `@<digest>`, unless the update's old object already ran it.
pub fn blocked_images_cel(digests: &[&str]) -> CelRule {
    let each = digests
        .iter()
        .map(|d| {
            let ends = format!("c.image.endsWith('@{}')", cel_string(d));
            format!(
                "((request.operation == 'UPDATE' && ((has({OLD_POD_SPEC}.initContainers) ? {OLD_POD_SPEC}.initContainers : []) + {OLD_POD_SPEC}.containers).exists(c, {ends})) || {ALL_CONTAINERS}.all(c, !{ends}))"
            )
        })
        .collect::<Vec<_>>()
        .join(" && ");
    CelRule {
        resources: pod_resources(PODS_AND_DEBUG, true),
        variables: POD_VARIABLES,
        expression: each,
        message: "an image digest is blocked by an incident switch (fleet.yaml switches.blockImages)".into(),
    }
}

/// `s` inside a single-quoted CEL string.
fn cel_string(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context<'static> {
        Context {
            provider: Provider::Azure,
            registries: vec!["registry.example.com".into()],
            image_regex: r"^(registry\.example\.com)/.+$".into(),
        }
    }

    fn deployment(container: Value, pod: Value) -> Value {
        let mut spec = pod;
        spec["containers"] = json!([container]);
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {"template": {"spec": spec}}})
    }

    #[test]
    fn container_checks_find_what_breaks_them() {
        let good = json!({
            "name": "web",
            "image": "registry.example.com/web@sha256:abc",
            "securityContext": {"readOnlyRootFilesystem": true},
            "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
        });
        let pod = json!({"securityContext": {"runAsNonRoot": true}, "automountServiceAccountToken": false});
        let ok = deployment(good.clone(), pod.clone());
        for check in Check::ALL {
            assert!(violations(*check, &ok, &ctx()).is_empty(), "{check} on a compliant pod");
        }
        let bad = deployment(
            json!({"name": "web", "image": "docker.io/library/nginx:1.27", "securityContext": {"runAsNonRoot": false}}),
            json!({"hostNetwork": true}),
        );
        for check in [
            Check::RunAsNonRoot,
            Check::NoHostNetwork,
            Check::ImageDigest,
            Check::ApprovedRegistry,
            Check::ResourceRequests,
            Check::ResourceLimits,
            Check::ReadinessProbe,
            Check::NoAutomountToken,
            Check::ReadOnlyRootFilesystem,
        ] {
            assert_eq!(
                violations(check, &bad, &ctx()).len(),
                1,
                "{check} on a non-compliant pod"
            );
        }
    }

    /// A non-zero `runAsUser` is non-root (as Azure's MustRunAsNonRoot reads it), the
    /// container's over the pod's; a host port is the host's network.
    #[test]
    fn a_user_id_is_non_root_and_a_host_port_is_the_hosts_network() {
        let user =
            |container: Value, pod: Value| violations(Check::RunAsNonRoot, &deployment(container, pod), &ctx()).len();
        assert_eq!(
            user(
                json!({"name": "c", "image": "i"}),
                json!({"securityContext": {"runAsUser": 1000}})
            ),
            0
        );
        assert_eq!(
            user(
                json!({"name": "c", "image": "i", "securityContext": {"runAsUser": 0}}),
                json!({"securityContext": {"runAsUser": 1000}})
            ),
            1
        );
        let port = |ports: Value| {
            violations(
                Check::NoHostNetwork,
                &deployment(json!({"name": "c", "image": "i", "ports": ports}), json!({})),
                &ctx(),
            )
            .len()
        };
        assert_eq!(port(json!([{"containerPort": 80, "hostPort": 80}])), 1);
        assert_eq!(port(json!([{"containerPort": 80}])), 0);
    }

    #[test]
    fn a_container_setting_overrides_the_pod_setting() {
        let obj = deployment(
            json!({"name": "web", "image": "i", "securityContext": {"runAsNonRoot": false}}),
            json!({"securityContext": {"runAsNonRoot": true}}),
        );
        assert_eq!(violations(Check::RunAsNonRoot, &obj, &ctx()).len(), 1);
    }

    #[test]
    fn services_and_ingresses() {
        let lb = json!({"kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "LoadBalancer"}});
        assert_eq!(violations(Check::InternalLoadBalancer, &lb, &ctx()).len(), 1);
        let internal = json!({"kind": "Service", "metadata": {"name": "s", "annotations": {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}}, "spec": {"type": "LoadBalancer"}});
        assert!(violations(Check::InternalLoadBalancer, &internal, &ctx()).is_empty());
        let ingress = json!({"kind": "Ingress", "metadata": {"name": "i"}, "spec": {}});
        assert_eq!(violations(Check::HttpsIngress, &ingress, &ctx()).len(), 1);
    }

    #[test]
    fn workload_identity_needs_the_pod_label_on_aks_only() {
        let obj = deployment(json!({"name": "web", "image": "i"}), json!({}));
        assert_eq!(workload_identity(&obj, true, Provider::Azure).len(), 1);
        assert!(workload_identity(&obj, false, Provider::Azure).is_empty());
        assert!(workload_identity(&obj, true, Provider::Aws).is_empty());
    }

    #[test]
    fn cel_strings_escape_the_regex() {
        let rule = cel(Check::ApprovedRegistry, &Maxima::default(), &ctx()).unwrap();
        assert!(
            rule.expression.contains(r"matches('^(registry\\.example\\.com)/.+$')"),
            "{}",
            rule.expression
        );
        assert!(
            rule.expression
                .contains("|| (variables.containers.all(c, c.image.matches("),
            "{}",
            rule.expression
        );
        assert_eq!(rule.variables, POD_VARIABLES);
        assert!(rule.resources.contains(&("batch", "v1", "cronjobs")));
        assert!(cel(Check::WorkloadIdentity, &Maxima::default(), &ctx()).is_none());
    }

    /// A policy's CEL run as the API server runs it: `request` and `oldObject` (an update
    /// when `old` is given, else a create), its variables in turn, then its expression.
    fn run_cel(rule: &CelRule, object: &Value, old: Option<&Value>) -> Result<cel::Value, String> {
        let operation = if old.is_some() { "UPDATE" } else { "CREATE" };
        run_cel_request(rule, object, old, json!({"operation": operation}))
    }

    /// `v` as the API server gives it to CEL: an integral number is an `int` (the API's integer
    /// fields are int64; serde would make a non-negative one a `uint`, which CEL does not find
    /// equal to an `int`).
    fn to_cel(v: &Value) -> cel::Value {
        match v {
            Value::Null => cel::Value::Null,
            Value::Bool(b) => cel::Value::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => cel::Value::Int(i),
                (None, Some(u)) => cel::Value::UInt(u),
                _ => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => cel::Value::String(s.clone().into()),
            Value::Array(items) => cel::Value::List(items.iter().map(to_cel).collect::<Vec<_>>().into()),
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| (k.clone(), to_cel(v)))
                .collect::<std::collections::HashMap<_, _>>()
                .into(),
        }
    }

    /// [`run_cel`] with the admission request given (e.g. a subresource's).
    fn run_cel_request(
        rule: &CelRule,
        object: &Value,
        old: Option<&Value>,
        request: Value,
    ) -> Result<cel::Value, String> {
        use kube_cel::KubeCelExt;
        let mut context = cel::Context::default().with_all();
        context.add_variable_from_value("object", to_cel(object));
        context.add_variable_from_value("oldObject", old.map_or(cel::Value::Null, to_cel));
        context.add_variable_from_value("request", to_cel(&request));
        let mut variables: std::collections::HashMap<String, cel::Value> = std::collections::HashMap::new();
        for (var, expression) in rule.variables {
            let program = cel::Program::compile(expression).map_err(|e| format!("{var}: {e:?}"))?;
            let value = program
                .execute(&context)
                .map_err(|e| format!("variable {var}: {e:?}"))?;
            variables.insert(var.to_string(), value);
            context.add_variable_from_value("variables", variables.clone());
        }
        let program = cel::Program::compile(&rule.expression).map_err(|e| format!("{e:?}"))?;
        program.execute(&context).map_err(|e| format!("{e:?}"))
    }

    /// An update that leaves the pod template as it was passes every pod policy (the old
    /// ReplicaSet of a non-compliant Deployment is scaled down); one that changes it onto a
    /// violation does not.
    #[test]
    fn an_update_that_keeps_the_pod_template_passes() {
        let replicaset = |replicas: u64, spec: Value| {
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
                   "spec": {"replicas": replicas, "template": {"metadata": {}, "spec": spec}}})
        };
        let bad = json!({"hostNetwork": true, "containers": [{"name": "c", "image": "docker.io/library/nginx:1.27"}]});
        let good = json!({"automountServiceAccountToken": false, "containers": [{
            "name": "web", "image": "registry.example.com/web@sha256:0123",
            "securityContext": {"runAsNonRoot": true, "readOnlyRootFilesystem": true},
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
            "readinessProbe": {"httpGet": {"path": "/", "port": 8080}}}]});
        let mut checked = 0;
        for check in Check::ALL {
            let Some(rule) = cel(*check, &Maxima::default(), &ctx())
                .filter(|r| r.resources.iter().any(|(_, _, r)| *r == "replicasets"))
            else {
                continue;
            };
            let allowed = |object: &Value, old: &Value| run_cel(&rule, object, Some(old)) == Ok(cel::Value::Bool(true));
            let scaled = allowed(&replicaset(0, bad.clone()), &replicaset(3, bad.clone()));
            assert!(scaled, "{check}: scaling down a non-compliant ReplicaSet is refused");
            let onto = allowed(&replicaset(3, bad.clone()), &replicaset(3, good.clone()));
            if !violations(*check, &replicaset(3, bad.clone()), &ctx()).is_empty() {
                assert!(!onto, "{check}: an update onto a violation passes");
                checked += 1;
            }
        }
        assert!(checked >= 5, "{checked}");
    }

    /// The limits maxima, in Rust and in CEL (through kube-cel's port of the Kubernetes
    /// quantity library, an implementation independent of fleetgen's), agree on limits at,
    /// below and above them, however they are spelt.
    #[test]
    fn limits_above_the_maxima_are_refused_alike() {
        let maxima = Maxima {
            cpu: Some(("1000m".into(), Quantity::parse("1000m").unwrap())),
            memory: Some(("512Mi".into(), Quantity::parse("512Mi").unwrap())),
        };
        let rule = cel(Check::ResourceLimits, &maxima, &ctx()).unwrap();
        assert!(
            rule.message.contains("at most 1000m cpu and 512Mi memory"),
            "{}",
            rule.message
        );
        let mut refused = 0;
        for (cpu, memory) in [
            ("1", "512Mi"),
            ("1000m", "536870912"),
            ("0.5", "0.5Gi"),
            ("1001m", "512Mi"),
            ("1.5", "256Mi"),
            ("2", "1Gi"),
            ("250m", "513Mi"),
            ("100m", "600M"),
            ("1e0", "5e8"),
            ("1k", "1Ki"),
        ] {
            let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": cpu, "memory": memory}}}]}});
            let allowed = run_cel(&rule, &pod, None);
            let rust = violations_under(Check::ResourceLimits, &maxima, &pod, &ctx());
            assert_eq!(
                allowed,
                Ok(cel::Value::Bool(rust.is_empty())),
                "{cpu} cpu, {memory} memory: {rust:?}"
            );
            refused += usize::from(!rust.is_empty());
        }
        assert_eq!(refused, 6);
        // Without maxima, any limit passes.
        let plain = cel(Check::ResourceLimits, &Maxima::default(), &ctx()).unwrap();
        assert!(!plain.expression.contains("quantity("), "{}", plain.expression);
    }

    /// A debug container (`kubectl debug`: the `pods/ephemeralcontainers` subresource) is
    /// judged by the image and security checks, alone: the Pod's other containers were judged
    /// when it was created. A Job's Pods and Jobs need no readiness probe.
    #[test]
    fn debug_containers_are_judged_and_jobs_need_no_readiness_probe() {
        let running = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "app", "image": "docker.io/library/nginx:1.27"}]}});
        let debugged = |image: &str, non_root: bool| {
            let mut pod = running.clone();
            pod["spec"]["ephemeralContainers"] = json!([{"name": "debugger", "image": image,
                "securityContext": {"runAsNonRoot": non_root, "readOnlyRootFilesystem": non_root}}]);
            pod
        };
        let request = json!({"operation": "UPDATE", "subResource": "ephemeralcontainers"});
        let judged = [
            Check::RunAsNonRoot,
            Check::ImageDigest,
            Check::ApprovedRegistry,
            Check::ReadOnlyRootFilesystem,
        ];
        for check in Check::ALL {
            let Some(rule) = cel(*check, &Maxima::default(), &ctx()) else {
                continue;
            };
            let matched = rule.resources.contains(&("", "v1", "pods/ephemeralcontainers"));
            assert_eq!(matched, judged.contains(check), "{check}");
            if !matched {
                continue;
            }
            let allowed = |image: &str, non_root: bool| {
                run_cel_request(&rule, &debugged(image, non_root), Some(&running), request.clone())
            };
            let good = "registry.example.com/debug@sha256:0123";
            assert_eq!(allowed(good, true), Ok(cel::Value::Bool(true)), "{check}");
            assert_eq!(
                allowed("docker.io/busybox:1", false),
                Ok(cel::Value::Bool(false)),
                "{check}"
            );
        }
        let blocked = blocked_images_cel(&["sha256:0123"]);
        assert!(blocked.resources.contains(&("", "v1", "pods/ephemeralcontainers")));
        let on_digest = run_cel_request(
            &blocked,
            &debugged("registry.example.com/debug@sha256:0123", true),
            Some(&running),
            request,
        );
        assert_eq!(on_digest, Ok(cel::Value::Bool(false)));

        let rule = cel(Check::ReadinessProbe, &Maxima::default(), &ctx()).unwrap();
        assert!(
            !rule.resources.iter().any(|(g, _, _)| *g == "batch"),
            "{:?}",
            rule.resources
        );
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        assert!(violations(Check::ReadinessProbe, &job, &ctx()).is_empty());
        assert_eq!(violations(Check::ResourceLimits, &job, &ctx()).len(), 1);
    }

    /// The admission policies' CEL, evaluated by an independent CEL interpreter (the cel
    /// crate, with kube-cel's Kubernetes libraries) on sample objects, must agree with the Rust
    /// checks that run at compile time.
    #[test]
    fn cel_expressions_agree_with_the_compile_time_checks() {
        use crate::model::Provider;
        use crate::model::policy::Check;
        use crate::policy::checks;
        use serde_json::{Value, json};

        let ctx = checks::Context {
            provider: Provider::Azure,
            registries: vec!["registry.example.com".into(), "mcr.microsoft.com".into()],
            image_regex: r"^(registry\.example\.com|mcr\.microsoft\.com)/.+$".into(),
        };
        let good_container = json!({
            "name": "web",
            "image": "registry.example.com/web@sha256:0123",
            "securityContext": {"runAsNonRoot": true, "readOnlyRootFilesystem": true},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
        });
        let pod = |spec: Value| json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}}, "spec": spec});
        let samples = vec![
            (
                "compliant",
                pod(json!({"automountServiceAccountToken": false, "containers": [good_container.clone()]})),
            ),
            (
                "pod-level non-root",
                pod(
                    json!({"securityContext": {"runAsNonRoot": true}, "automountServiceAccountToken": false, "containers": [{"name": "c", "image": "mcr.microsoft.com/x:1", "securityContext": {"readOnlyRootFilesystem": true}}]}),
                ),
            ),
            (
                "container overrides pod",
                pod(
                    json!({"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "c", "image": "docker.io/x", "securityContext": {"runAsNonRoot": false}}]}),
                ),
            ),
            (
                "bare",
                pod(
                    json!({"hostNetwork": true, "containers": [{"name": "c", "image": "docker.io/library/nginx:1.27"}]}),
                ),
            ),
            (
                "non-zero user, pod level",
                pod(
                    json!({"securityContext": {"runAsUser": 1000}, "containers": [{"name": "c", "image": "docker.io/x"}]}),
                ),
            ),
            (
                "user 0 in the container over the pod's",
                pod(
                    json!({"securityContext": {"runAsUser": 1000}, "containers": [{"name": "c", "image": "docker.io/x", "securityContext": {"runAsUser": 0}}]}),
                ),
            ),
            (
                "host port",
                pod(
                    json!({"containers": [{"name": "c", "image": "docker.io/x", "ports": [{"containerPort": 80, "hostPort": 80}]}]}),
                ),
            ),
            (
                "container port only",
                pod(json!({"containers": [{"name": "c", "image": "docker.io/x", "ports": [{"containerPort": 80}]}]})),
            ),
            (
                "init container",
                pod(
                    json!({"automountServiceAccountToken": true, "initContainers": [{"name": "i", "image": "evil.example/x:1"}], "containers": [good_container]}),
                ),
            ),
            (
                "requests defaulted from limits",
                pod(
                    json!({"containers": [{"name": "c", "image": "docker.io/x", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}),
                ),
            ),
            (
                "a request without a limit, the other resource limited only",
                pod(
                    json!({"containers": [{"name": "c", "image": "docker.io/x", "resources": {"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}}}]}),
                ),
            ),
            (
                "a Job's pod without a readiness probe",
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "u"}]},
                       "spec": {"containers": [{"name": "c", "image": "docker.io/x"}]}}),
            ),
            (
                "a ReplicaSet's pod without a readiness probe",
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "r", "uid": "u"}]},
                       "spec": {"containers": [{"name": "c", "image": "docker.io/x"}]}}),
            ),
            (
                "lb service",
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "LoadBalancer"}}),
            ),
            (
                "internal lb",
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "annotations": {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}}, "spec": {"type": "LoadBalancer"}}),
            ),
            (
                "cluster ip",
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "ClusterIP"}}),
            ),
            (
                "http ingress",
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"}, "spec": {"rules": []}}),
            ),
            (
                "tls ingress",
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"}, "spec": {"tls": [{"hosts": ["a.example.com"]}]}}),
            ),
        ];
        // Every pod sample again as each workload that carries a pod template.
        let mut samples = samples;
        let pods: Vec<(String, Value)> = samples
            .iter()
            .filter(|(_, o)| o["kind"] == "Pod")
            .map(|(n, o)| (n.to_string(), o.clone()))
            .collect();
        let mut workloads: Vec<(String, Value)> = Vec::new();
        for (name, pod) in &pods {
            let template = json!({"metadata": pod["metadata"], "spec": pod["spec"]});
            for (api, kind) in [
                ("apps/v1", "Deployment"),
                ("apps/v1", "StatefulSet"),
                ("apps/v1", "DaemonSet"),
                ("apps/v1", "ReplicaSet"),
                ("batch/v1", "Job"),
            ] {
                workloads.push((
                    format!("{name} as {kind}"),
                    json!({"apiVersion": api, "kind": kind, "metadata": {"name": "w"}, "spec": {"template": template}}),
                ));
            }
            workloads.push((
                format!("{name} as CronJob"),
                json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "w"},
                       "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}}),
            ));
        }
        let names: Vec<String> = workloads.iter().map(|(n, _)| n.clone()).collect();
        for ((_, object), name) in workloads.into_iter().zip(&names) {
            samples.push((name.as_str(), object));
        }
        let resource_of = |kind: &str| -> String { format!("{}s", kind.to_ascii_lowercase()) };
        let mut compared = 0;
        for check in Check::ALL {
            let Some(rule) = checks::cel(*check, &checks::Maxima::default(), &ctx) else {
                continue;
            };
            cel::Program::compile(&rule.expression)
                .unwrap_or_else(|e| panic!("{check}: CEL does not parse: {e:?}\n{}", rule.expression));
            for (name, object) in &samples {
                let kind = object["kind"].as_str().unwrap();
                let matched = rule.resources.iter().any(|(_, _, resource)| {
                    *resource == resource_of(kind) || (*resource == "ingresses" && kind == "Ingress")
                });
                if !matched {
                    continue;
                }
                let allowed = match run_cel(&rule, object, None) {
                    Ok(cel::Value::Bool(b)) => b,
                    other => panic!("{check} on {name}: CEL gave {other:?}\n{}", rule.expression),
                };
                let rust_ok = checks::violations(*check, object, &ctx).is_empty();
                assert_eq!(
                    allowed, rust_ok,
                    "{check} on `{name}`: CEL says {allowed}, Rust says {rust_ok}"
                );
                compared += 1;
            }
        }
        assert!(compared >= 250, "compared {compared}");

        // The blocked-image rule, on the same samples and on ones that run a blocked digest.
        let digests = [
            "sha256:1111111111111111111111111111111111111111111111111111111111111111",
            "sha256:2222222222222222222222222222222222222222222222222222222222222222",
        ];
        let rule = checks::blocked_images_cel(&digests);
        let blocked_pod = |image: &str| {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                   "spec": {"initContainers": [{"name": "i", "image": "registry.example.com/init:1"}],
                            "containers": [{"name": "c", "image": image}]}})
        };
        // (name, object, old object on an update)
        let mut blocked_samples: Vec<(String, Value, Option<Value>)> =
            samples.iter().map(|(n, o)| (n.to_string(), o.clone(), None)).collect();
        let bad = format!("registry.example.com/a@{}", digests[1]);
        let good = format!("registry.example.com/a@sha256:{}", "3".repeat(64));
        let as_replicaset = |pod: Value| {
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
                   "spec": {"template": {"metadata": {}, "spec": pod["spec"]}}})
        };
        blocked_samples.push(("blocked".into(), blocked_pod(&bad), None));
        blocked_samples.push(("other digest".into(), blocked_pod(&good), None));
        blocked_samples.push((
            "digest as tag".into(),
            blocked_pod(&format!("registry.example.com/a:{}", &digests[0][7..])),
            None,
        ));
        // Updates: moving onto the digest is refused; an object that already ran it may
        // still change (scaled down, moved off it).
        blocked_samples.push((
            "update onto the digest".into(),
            as_replicaset(blocked_pod(&bad)),
            Some(as_replicaset(blocked_pod(&good))),
        ));
        blocked_samples.push((
            "update of an old ReplicaSet on the digest".into(),
            as_replicaset(blocked_pod(&bad)),
            Some(as_replicaset(blocked_pod(&bad))),
        ));
        blocked_samples.push((
            "update off the digest".into(),
            as_replicaset(blocked_pod(&good)),
            Some(as_replicaset(blocked_pod(&bad))),
        ));
        // The digest in an init container only: the old ReplicaSet may still be scaled down.
        let init_on = |image: &str| {
            let mut pod = blocked_pod(&good);
            pod["spec"]["initContainers"][0]["image"] = json!(image);
            as_replicaset(pod)
        };
        blocked_samples.push((
            "update of an old ReplicaSet whose init container ran the digest".into(),
            init_on(&bad),
            Some(init_on(&bad)),
        ));
        let mut hits = 0;
        for (name, object, old) in &blocked_samples {
            let kind = object["kind"].as_str().unwrap();
            if !rule.resources.iter().any(|(_, _, r)| *r == resource_of(kind)) {
                continue;
            }
            let allowed = match run_cel(&rule, object, old.as_ref()) {
                Ok(cel::Value::Bool(b)) => b,
                other => panic!("blocked images on {name}: CEL gave {other:?}"),
            };
            let rust_ok = checks::blocked_images(object, old.as_ref(), &digests).is_empty();
            assert_eq!(allowed, rust_ok, "blocked images on `{name}`");
            hits += usize::from(!allowed);
        }
        assert_eq!(
            hits, 2,
            "exactly the new pod and the update onto the digest are refused"
        );
    }
}
