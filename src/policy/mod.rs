//! Policy: one intent, three enforcements (compile-time, admission, Azure Policy). This stage
//! sits between `resolve` and `emit`: it checks the policy library ([`check`]), judges every
//! object a render makes ([`enforce`]), and holds what the policy backends share — the
//! Azure built-in definitions ([`azure`]), the intent semantics ([`checks`]) and exemptions.
//! It knows no backend: a backend passes in what policy needs of it (its namespace).

pub mod azure;
pub mod checks;
pub mod enforce;
pub mod exemptions;
pub mod intents;

use crate::load::{Doc, Sources};
use crate::model::common::Enforcement;
use crate::model::fleet::Fleet;
use crate::model::{Cluster, PolicyIntent, Provider};
use serde_json::Value;

/// An intent as one cluster enforces it.
#[derive(Debug, Clone)]
pub struct ClusterIntent<'s> {
    /// The definition the cluster's ring runs: the current one, or a pinned earlier version.
    pub definition: &'s PolicyIntent,
    pub enforcement: Enforcement,
    /// The definition's maxima, read.
    pub maximum: checks::Maxima,
}

/// The intents of a cluster's policy profile, with the enforcement for its ring (`byRing`),
/// else its environment (`byEnvironment`), else the profile's, in the profile's order; an
/// intent an incident switch of fleet.yaml sets to audit-only audits.
pub fn intents_for<'s>(sources: &'s Sources, cluster: &Cluster) -> Vec<ClusterIntent<'s>> {
    let Some(profile) = sources
        .policy_profiles
        .iter()
        .find(|p| p.value.name == cluster.policy_profile)
    else {
        return Vec::new();
    };
    profile
        .value
        .intents
        .iter()
        .filter_map(|choice| {
            let intent = sources.policy_intents.iter().find(|i| i.value.id == choice.intent)?;
            let mut enforcement = choice
                .by_ring
                .iter()
                .find(|(ring, _)| **ring == cluster.upgrade_channel)
                .map(|(_, e)| *e)
                .or_else(|| choice.by_environment.get(&cluster.environment).copied())
                .unwrap_or(choice.enforcement);
            // Incident switch: the intent audits instead of denying until its date.
            let audit_only = sources
                .fleet
                .as_ref()
                .and_then(|f| crate::resolve::incidents::audit_only(&f.value, intent.value.id.as_str(), sources.today));
            if audit_only.is_some() {
                enforcement = Enforcement::Audit;
            }
            // A ring pinned to a version the file does not keep runs the current one (the
            // pin is reported as an unknown reference).
            let pin = choice
                .version_by_ring
                .iter()
                .find(|(ring, _)| **ring == cluster.upgrade_channel)
                .map(|(_, v)| *v);
            let definition = intent.value.revision(pin).unwrap_or(&intent.value);
            Some(ClusterIntent {
                definition,
                enforcement,
                maximum: checks::Maxima::of(definition),
            })
        })
        .collect()
}

/// Registry hosts a cluster may pull from: fleet.yaml's registries that are neutral or of
/// the cluster's provider, and on AKS the Microsoft registry its add-ons come from.
pub fn approved_registries<'f>(fleet: &'f Fleet, cluster: &Cluster) -> Vec<std::borrow::Cow<'f, str>> {
    let mut hosts: Vec<std::borrow::Cow<'f, str>> = Vec::new();
    for r in fleet
        .registries
        .iter()
        .filter(|r| r.provider.is_none_or(|p| p == cluster.provider))
    {
        hosts.push(r.host.as_str().into());
        // An ECR registry's replica in the cluster's region, which its pods pull from.
        let here = r.host_in(cluster.provider, cluster.region.as_str());
        if here != r.host.as_str() {
            hosts.push(here.into_owned().into());
        }
    }
    if cluster.provider == Provider::Azure {
        hosts.push("mcr.microsoft.com".into());
    }
    hosts
}

/// The allowed-image regex for a cluster: an image is `<approved host>/<path>`.
pub fn image_regex(fleet: &Fleet, cluster: &Cluster) -> String {
    let hosts: Vec<String> = approved_registries(fleet, cluster)
        .iter()
        .map(|h| regex_escape(h))
        .collect();
    format!("^({})/.+$", hosts.join("|"))
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether `image` is from one of `hosts`: the part before the first `/` names the host.
pub fn image_host_approved(image: &str, hosts: &[std::borrow::Cow<str>]) -> bool {
    image
        .split_once('/')
        .is_some_and(|(host, rest)| !rest.is_empty() && hosts.iter().any(|h| h == host))
}

/// Every problem of the policy library: intents against the Azure built-ins, exemptions.
/// `lint_rules` are the lint rules an exemption's `rule:` may name besides the policy
/// findings (the lint stage, which comes later, says which).
pub fn check(sources: &Sources, lint_rules: &[&crate::diag::Code], out: &mut Vec<crate::diag::Diagnostic>) {
    intents::check(sources, out);
    intents::check_identity_members(sources, out);
    intents::check_scoping_parameters(sources, out);
    exemptions::check(sources, lint_rules, out);
    admission_versions(sources, out);
}

/// The first Kubernetes version that serves `admissionregistration.k8s.io/v1`
/// ValidatingAdmissionPolicy (GA in 1.30, KEP-3488), which every admission policy is.
pub const ADMISSION_SINCE: &str = "1.30";

/// Whether a cluster's Kubernetes version (`1.<minor>`, as the schema has it) serves
/// ValidatingAdmissionPolicy v1.
fn serves_admission(cluster: &Cluster) -> bool {
    let minor = |v: &str| v.strip_prefix("1.").and_then(|m| m.parse::<u32>().ok());
    minor(&cluster.kubernetes_version) >= minor(ADMISSION_SINCE)
}

/// FG029: a cluster that gets admission policies (an intent of its policy profile with an
/// admission form, or a blocked image, which every cluster gets) on a Kubernetes version that
/// does not serve them. Its root would fail to apply them, and with them every switch.
fn admission_versions(sources: &Sources, out: &mut Vec<crate::diag::Diagnostic>) {
    let blocked = sources
        .fleet
        .as_ref()
        .is_some_and(|f| !crate::resolve::incidents::blocked(&f.value, sources.today).is_empty());
    for doc in &sources.clusters {
        let cluster = &doc.value;
        if serves_admission(cluster) {
            continue;
        }
        let intents = intents_for(sources, cluster);
        let with_policy: Vec<&str> = (intents.iter())
            .filter(|ci| checks::cel(ci.definition.check, &ci.maximum, &checks::Context::none()).is_some())
            .map(|ci| ci.definition.id.as_str())
            // An intent exempted on the whole cluster gets no admission policy there (an
            // exemption by namespace or app still leaves one).
            .filter(|id| !exempted_on_cluster(sources, id, cluster.cluster_id.as_str()))
            .collect();
        let why = match (with_policy.first(), blocked) {
            (Some(first), _) => format!(
                "its policy profile `{}` enforces `{first}`{} in admission",
                cluster.policy_profile,
                match with_policy.len() {
                    1 => String::new(),
                    n => format!(" and {} more intents", n - 1),
                }
            ),
            (None, true) => "fleet.yaml `switches.blockImages` blocks an image in admission on every cluster".into(),
            (None, false) => continue,
        };
        out.push(
            crate::diag::Diagnostic::error(
                crate::diag::codes::ADMISSION_UNSUPPORTED,
                &sources.files,
                doc.label(&["kubernetesVersion"], format!("before {ADMISSION_SINCE}")),
                format!(
                    "cluster `{}` runs Kubernetes {}, which does not serve ValidatingAdmissionPolicy v1, and {why}",
                    cluster.cluster_id, cluster.kubernetes_version
                ),
            )
            .with_help(format!(
                "upgrade the cluster to Kubernetes {ADMISSION_SINCE} or later first, or give it a policy profile without admission intents"
            )),
        );
    }
}

/// Namespaces an intent's policies leave alone on a cluster (the Azure assignment and the
/// admission binding alike): the ones the intent lists in `azure.parameters.excludedNamespaces`
/// — exactly those, even an empty list — or, when it lists none, the system namespaces; then
/// the cluster's `platform` namespaces (its profile's, and the GitOps engine's, which the
/// engine backend names) unless the intent sets `excludePlatformNamespaces: false`; then those
/// exemptions free.
pub fn excluded_namespaces(intent: &PolicyIntent, platform: &[String], exempted: &[String]) -> Vec<String> {
    let own = intent
        .azure
        .as_ref()
        .and_then(|a| a.parameters.get("excludedNamespaces"))
        .and_then(Value::as_array);
    let mut excluded: Vec<String> = match own {
        Some(list) => list.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        None => azure::SYSTEM_NAMESPACES.iter().map(|s| s.to_string()).collect(),
    };
    let platform = platform.iter().filter(|_| intent.exclude_platform_namespaces);
    for ns in platform.chain(exempted) {
        if !excluded.contains(ns) {
            excluded.push(ns.clone());
        }
    }
    excluded
}

/// Where a template spells out an object's `kind: <kind>` (the first such line), to point
/// at the object rather than the template's first line; the start of the file when it does
/// not (the kind comes from an expression).
pub fn kind_line(files: &crate::source::SourceMap, template: crate::source::FileId, kind: &str) -> crate::source::Span {
    files
        .get(template)
        .text
        .find(&format!("kind: {kind}"))
        .map_or(0..0, |i| i..i + 6 + kind.len())
}

/// A compile-time finding: `violation` of intent `ci` in the rendered `object` of placement
/// `p`, placed at the contract line that produced it (or the template, when the template
/// decides), an error when the cluster denies it and a warning when it audits it.
pub fn finding(
    p: &crate::resolve::plan::Placement,
    ci: &ClusterIntent,
    object: &crate::kube::Object,
    violation: &checks::Violation,
    template: crate::source::FileId,
    files: &crate::source::SourceMap,
) -> crate::diag::Diagnostic {
    use crate::diag::Label;
    use crate::model::policy::Check;
    use crate::resolve::plan::Origin;
    let app = p.app;
    let intent = &ci.definition;
    let at_origin = |origin: Option<&Origin>, fallback: Label| match origin {
        Some(Origin::Source(file, span)) | Some(Origin::Derived(file, span, _)) => {
            Label::new(*file, span.clone(), "from here")
        }
        _ => fallback,
    };
    let template_label = Label::new(
        template,
        kind_line(files, template, &object.kind),
        "rendered by this template",
    );
    // The contract decides the image and the main container's resources and probes; what a
    // template adds on its own is the template's doing.
    let release = p.release();
    let contract_image = violation.image.as_deref() == Some(p.image());
    let main_container = violation.container.as_deref() == Some(p.app_name());
    let (label, help) = match intent.check {
        Check::ImageDigest | Check::ApprovedRegistry if !contract_image => {
            (template_label.clone(), "change the image the template renders")
        }
        Check::ResourceRequests | Check::ResourceLimits | Check::ReadinessProbe if !main_container => {
            (template_label.clone(), "change the container the template renders")
        }
        Check::ImageDigest => (
            app.label(&release.path("image"), "this image"),
            "pin the image: `registry/repo@sha256:…`",
        ),
        Check::ApprovedRegistry => (
            app.label(&release.path("image"), "this image"),
            "use a registry of fleet.yaml's `registries` that serves this cluster's provider",
        ),
        Check::ResourceRequests => (
            at_origin(
                p.requests
                    .cpu
                    .as_ref()
                    .or(p.requests.memory.as_ref())
                    .map(|s| &s.origin),
                app.label(&["application", "name"], "this app"),
            ),
            "set `runtime.resources.requests` (cpu and memory) in the contract or fleet.yaml's defaults",
        ),
        Check::ResourceLimits => (
            at_origin(
                p.limits.cpu.as_ref().or(p.limits.memory.as_ref()).map(|s| &s.origin),
                app.label(&["application", "name"], "this app"),
            ),
            "set `runtime.resources.limits` (cpu and memory) in the contract or fleet.yaml's defaults",
        ),
        Check::ReadinessProbe => match (&p.readiness_path, app.value.traffic.port) {
            (_, None) => (
                app.label(&["traffic"], "no `port`, so no probe"),
                "give the app a `traffic.port` for its probes",
            ),
            (Some(path), _) => (
                at_origin(Some(&path.origin), template_label.clone()),
                "the template must render a readinessProbe",
            ),
            (None, _) => (
                app.label(&["application", "name"], "this app"),
                "set `runtime.probes.readinessPath`",
            ),
        },
        Check::NoAutomountToken => (
            if app.value.identity.automount_service_account_token {
                app.label(&["identity", "automountServiceAccountToken"], "mounts the token")
            } else {
                template_label.clone()
            },
            "set `identity.automountServiceAccountToken: false`, or exempt the app",
        ),
        Check::WorkloadIdentity => (
            app.label(&["identity", "cloudPermissionsProfile"], "this identity"),
            "fleetgen adds `podLabels` to pod templates (Deployment, Job …); a bare Pod must carry `azure.workload.identity/use: \"true\"` itself",
        ),
        Check::RunAsNonRoot
        | Check::NoHostNetwork
        | Check::HttpsIngress
        | Check::InternalLoadBalancer
        | Check::ReadOnlyRootFilesystem => (template_label.clone(), "change the template that renders the object"),
    };
    let mut d = finding_at(
        p,
        ci,
        (&object.kind, &object.name),
        violation,
        label.clone(),
        help,
        files,
    );
    if label.file != template {
        d = d.with_secondary(template_label);
    }
    d
}

/// A compile-time finding placed at `label`: `violation` of intent `ci` in the object
/// `(kind, name)` of placement `p`; an error when the cluster denies it, a warning when it
/// audits it.
pub fn finding_at(
    p: &crate::resolve::plan::Placement,
    ci: &ClusterIntent,
    (kind, name): (&str, &str),
    violation: &checks::Violation,
    label: crate::diag::Label,
    help: &str,
    files: &crate::source::SourceMap,
) -> crate::diag::Diagnostic {
    let verb = match ci.enforcement {
        Enforcement::Deny => "denies",
        Enforcement::Audit => "audits",
    };
    let intent = &ci.definition;
    let d = crate::diag::Diagnostic::error(
        checks::code(intent.check),
        files,
        label,
        format!(
            "{} in {kind} `{name}`: policy profile `{}` {verb} it ({})",
            violation.what, p.cluster.value.policy_profile, intent.id
        ),
    )
    .with_help(help);
    if ci.enforcement == Enforcement::Audit {
        d.warning()
    } else {
        d
    }
}

/// The exemptions that keep an admission policy off a cluster that cannot serve it (before
/// Kubernetes 1.30): each is what keeps FG029 quiet there, so it is in use.
pub fn lifting_unsupported_admission(sources: &Sources) -> std::collections::BTreeSet<&str> {
    let mut names = std::collections::BTreeSet::new();
    for doc in &sources.clusters {
        let cluster = &doc.value;
        if serves_admission(cluster) {
            continue;
        }
        for ci in intents_for(sources, cluster) {
            if checks::cel(ci.definition.check, &ci.maximum, &checks::Context::none()).is_none() {
                continue;
            }
            let id = ci.definition.id.as_str();
            let found = exemptions::for_cluster(sources, id, cluster.cluster_id.as_str(), &|_| None);
            names.extend(
                found
                    .iter()
                    .filter(|(_, ns)| ns.is_none())
                    .map(|(d, _)| d.value.name.as_str()),
            );
        }
    }
    names
}

/// Whether an active exemption frees intent `intent` on the whole of cluster `cluster` (one
/// by namespace or app leaves the intent's policies there).
pub fn exempted_on_cluster(sources: &Sources, intent: &str, cluster: &str) -> bool {
    let found = exemptions::for_cluster(sources, intent, cluster, &|_| None);
    found.iter().any(|(_, namespace)| namespace.is_none())
}

/// The active exemptions of one intent on one cluster, split into those that free the whole
/// cluster and the namespaces the others free.
pub struct ClusterExemptions<'s> {
    pub cluster_wide: Vec<&'s Doc<crate::model::PolicyExemption>>,
    pub namespaces: Vec<String>,
}

pub fn cluster_exemptions<'s>(
    sources: &'s Sources,
    plan: &crate::resolve::plan::Plan,
    intent: &str,
    cluster: &Cluster,
) -> ClusterExemptions<'s> {
    let id = cluster.cluster_id.as_str();
    let namespace_of = |app: &str| plan.placement(app, id).map(|p| p.namespace.clone());
    let mut result = ClusterExemptions {
        cluster_wide: Vec::new(),
        namespaces: Vec::new(),
    };
    for (doc, namespace) in exemptions::for_cluster(sources, intent, id, &namespace_of) {
        match namespace {
            Some(ns) if !result.namespaces.contains(&ns) => result.namespaces.push(ns),
            Some(_) => {}
            None => result.cluster_wide.push(doc),
        }
    }
    result.namespaces.sort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::fixture;
    use crate::model::policy::Check;

    /// FG029: a cluster before Kubernetes 1.30 with admission intents; at 1.30 it is fine.
    #[test]
    fn admission_policies_need_kubernetes_1_30() {
        let sources_with = |version: &str, exempted: &[&str]| {
            let cluster = fixture::text("clusters/eastus-prod-01.yaml").replace(
                "kubernetesVersion: \"1.33\"",
                &format!("kubernetesVersion: \"{version}\""),
            );
            let exemptions: Vec<(String, String)> = (exempted.iter().enumerate())
                .map(|(i, target)| {
                    let (intent, target) = target.split_once(' ').unwrap();
                    let path = format!("policy-library/exemptions/x{i}.yaml");
                    let text = format!(
                        "name: x{i}\nowner: platform\nreason: \"PLAT-1: upgrade first\"\nexpires: \"2099-12-31\"\nintent: {intent}\ntarget:\n  {target}\n"
                    );
                    (path, text)
                })
                .collect();
            let mut files = vec![("clusters/eastus-prod-01.yaml", cluster.as_str())];
            files.extend(exemptions.iter().map(|(p, t)| (p.as_str(), t.as_str())));
            fixture::sources(&files)
        };
        let fg029_with = |version: &str, exempted: &[&str]| {
            let mut out = Vec::new();
            admission_versions(&sources_with(version, exempted), &mut out);
            out.iter().map(|d| d.message.clone()).collect::<Vec<_>>()
        };
        let fg029 = |version: &str| fg029_with(version, &[]);
        let found = fg029("1.29");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("cluster `eastus-prod-01` runs Kubernetes 1.29"),
            "{found:?}"
        );
        assert!(
            found[0].contains("enforces `must-run-as-non-root` and 1 more intents"),
            "{found:?}"
        );
        assert_eq!(fg029("1.30"), Vec::<String>::new());
        assert_eq!(fg029("1.33"), Vec::<String>::new());
        // An intent exempted on the whole cluster gets no policy there; one exempted in a
        // namespace still does.
        let non_root = "must-run-as-non-root cluster: eastus-prod-01";
        let digest = "must-pin-image-by-digest cluster: eastus-prod-01";
        let found = fg029_with("1.29", &[non_root]);
        assert!(
            found[0].contains("enforces `must-pin-image-by-digest` in admission"),
            "{found:?}"
        );
        assert_eq!(fg029_with("1.29", &[non_root, digest]), Vec::<String>::new());
        let in_namespace = "must-pin-image-by-digest namespace: payments";
        assert_eq!(fg029_with("1.29", &[non_root, in_namespace]).len(), 1);
        // What keeps FG029 quiet is in use (FG092 spares it); on a cluster that serves the
        // policies, or by namespace, it is not.
        let lifting = |version: &str| {
            let sources = sources_with(version, &[non_root, in_namespace]);
            lifting_unsupported_admission(&sources)
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(lifting("1.29"), ["x0"]);
        assert_eq!(lifting("1.33"), Vec::<String>::new());
    }

    /// What an exemption frees on a cluster's binding and assignment: every field it gives
    /// must match (an app and a namespace: the app running there), and a `rule:` exemption
    /// frees what the same `intent:` exemption would.
    #[test]
    fn exemptions_free_their_target_only() {
        let freed = |exemption: &str| {
            let sources = fixture::sources(&[("policy-library/exemptions/x.yaml", exemption)]);
            let (plan, _) = crate::resolve::plan::plan(&sources);
            let plan = plan.unwrap();
            let cluster = &sources
                .clusters
                .iter()
                .find(|c| c.value.cluster_id.as_str() == "eastus-prod-01")
                .unwrap()
                .value;
            let exempt = cluster_exemptions(&sources, &plan, "must-run-as-non-root", cluster);
            (exempt.namespaces, exempt.cluster_wide.len())
        };
        let head = "name: x\nowner: platform\nreason: \"PLAT-1: migration\"\nexpires: \"2099-12-31\"\n";
        let by_intent = format!("{head}intent: must-run-as-non-root\ntarget:\n  app: api\n");
        assert_eq!(freed(&by_intent), (vec!["api".to_string()], 0));
        // The same by the finding code the check reports.
        let by_rule = format!(
            "{head}rule: {}\ntarget:\n  app: api\n",
            checks::code(Check::RunAsNonRoot).id
        );
        assert_eq!(freed(&by_rule), (vec!["api".to_string()], 0));
        // api does not run in `default`: nothing is freed, the namespace least of all.
        let elsewhere = format!("{head}intent: must-run-as-non-root\ntarget:\n  app: api\n  namespace: default\n");
        assert_eq!(freed(&elsewhere), (Vec::new(), 0));
        let there = format!("{head}intent: must-run-as-non-root\ntarget:\n  app: api\n  namespace: api\n");
        assert_eq!(freed(&there), (vec!["api".to_string()], 0));
    }
}
