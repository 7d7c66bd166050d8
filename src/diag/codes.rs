//! The table of stable diagnostic codes. A code, once shipped, keeps its meaning. Lint
//! rules (FG025, FG030, FG100 and up) declare their codes in their own files.
//!
//! Input codes (FG0xx below FG020) mean fleetgen could not use a file at all: the run exits 2.
//! Reference codes mean the files parse but do not fit together: the run exits 1.

use super::Severity;

/// What kind of problem a code names; decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// The input could not be used (bad YAML, schema violation, unreadable file): exit 2.
    Input,
    /// The input is well-formed but inconsistent (unknown reference, duplicate id): exit 1.
    Reference,
}

/// A stable diagnostic code with its short name and one-line summary.
#[derive(Debug, PartialEq, Eq)]
pub struct Code {
    pub id: &'static str,
    pub name: &'static str,
    pub class: Class,
    /// The severity its findings have unless a policy profile or fleet.yaml says otherwise.
    pub default: Severity,
    pub summary: &'static str,
    /// A lint rule's family and documentation (the source of its file, whose leading `//!`
    /// lines are the documentation); `None` for the codes of this table.
    pub rule: Option<RuleDoc>,
}

/// What the documentation of a lint rule is made of.
#[derive(Debug, PartialEq, Eq)]
pub struct RuleDoc {
    pub family: &'static str,
    pub source: &'static str,
}

impl Code {
    /// Whether `key` names this code: its name, or its id in any case (`FG104`, `fg104`).
    pub fn named_by(&self, key: &str) -> bool {
        key == self.name || key.eq_ignore_ascii_case(self.id)
    }

    /// A lint rule's documentation: its file's leading `//!` lines.
    pub fn doc(&self) -> Option<String> {
        let source = self.rule.as_ref()?.source;
        let mut out = String::new();
        for line in source.lines() {
            let Some(rest) = line.strip_prefix("//!") else { break };
            out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            out.push('\n');
        }
        Some(out)
    }
}

macro_rules! codes {
    ($($konst:ident = $id:literal, $name:literal, $class:ident, $default:ident, $summary:literal;)*) => {
        $(pub const $konst: &Code = &Code {
            id: $id,
            name: $name,
            class: Class::$class,
            default: Severity::$default,
            summary: $summary,
            rule: None,
        };)*
        /// Every code of this table (lint rules own theirs: `lint::catalogue` lists all), in code order.
        pub const ALL: &[&Code] = &[$($konst),*];
    };
}

codes! {
    UNREADABLE = "FG001", "unreadable-file", Input, Error, "a file or folder could not be read (permissions, not UTF-8, missing fleet.yaml)";
    YAML_SYNTAX = "FG002", "yaml-syntax", Input, Error, "the file is not valid YAML, or holds more than one document";
    DUPLICATE_KEY = "FG003", "duplicate-key", Input, Error, "a YAML mapping names the same key twice";
    YAML_LIMIT = "FG004", "yaml-limit", Input, Error, "the YAML exceeds a safety budget: alias expansion, nesting depth or node count";
    FILE_TOO_LARGE = "FG005", "file-too-large", Input, Error, "an input file is larger than fleetgen reads";
    SYMLINK_OUTSIDE = "FG006", "symlink-outside-repo", Input, Error, "a symbolic link points outside the repository";
    UNKNOWN_FIELD = "FG010", "unknown-field", Input, Error, "a field that the input kind does not have";
    WRONG_TYPE = "FG011", "wrong-type", Input, Error, "a value of the wrong type (string, number, list, mapping …)";
    INVALID_VALUE = "FG012", "invalid-value", Input, Error, "a value outside what the field allows (enum, pattern, range, length, uniqueness)";
    MISSING_FIELD = "FG013", "missing-field", Input, Error, "a required field is missing";
    SCHEMA = "FG014", "schema-violation", Input, Error, "the file breaks a rule of its JSON Schema that combines fields";
    UNEXPECTED_FILE = "FG020", "unexpected-file", Reference, Warning, "a YAML file where fleetgen reads none, or an app folder without app.yaml, so it is ignored";
    ID_MISMATCH = "FG021", "id-mismatch", Reference, Error, "a file or folder name differs from the id inside it";
    DUPLICATE_ID = "FG022", "duplicate-id", Reference, Error, "two files declare the same id, a policy profile chooses one intent twice, or two clusters name one cluster in the cloud (API server, OIDC issuer or provider, Pod Identity EKS cluster), or two IAM role names of one account differ only in case, or an app or team would name a GitOps object as another is named (fleetgen's own, Flux bootstrap's, another Argo CD cluster's)";
    UNKNOWN_REFERENCE = "FG023", "unknown-reference", Reference, Error, "a name that refers to a profile, ring, registry, intent or app that does not exist";
    UNSERVED_PLACEMENT = "FG024", "unserved-placement", Reference, Error, "a contract names a region or environment that no cluster serves";
    WRITE_REGION_NOT_PLACED = "FG026", "write-region-not-placed", Reference, Error, "a data write region that is not among the app's placement regions";
    DEPENDENCY_CYCLE = "FG027", "dependency-cycle", Reference, Error, "apps that depend on each other in a circle, so no engine can order them";
    UNREACHABLE_DEPENDENCY = "FG028", "unreachable-dependency", Reference, Error, "a `call: sync` dependency on an app that takes no inbound traffic (no port, or `exposure: none` without a chart): no Service to call it through";
    ADMISSION_UNSUPPORTED = "FG029", "admission-unsupported", Reference, Error, "a cluster whose Kubernetes version (before 1.30) does not serve ValidatingAdmissionPolicy v1, which its admission policies need (its policy profile's intents that no exemption lifts on the whole cluster, or a blocked image)";
    IDENTITY_UNAVAILABLE = "FG031", "identity-unavailable", Reference, Error, "an app's cloud identity cannot be wired on a cluster it lands on (no entry for that provider or account, no regional secret store for its `read-secret` permissions or two of them that would be one file, no OIDC issuer or provider to federate with, or a regional resource a grant is scoped to)";
    NAMESPACE_CONFLICT = "FG032", "namespace-conflict", Reference, Error, "two apps placed on one cluster share a namespace, or an app takes one of the platform's (kube-system, flux-system, argocd, a profile's platformNamespaces …)";
    NO_GATEWAY = "FG033", "no-gateway", Reference, Error, "an exposed app lands on a cluster whose profile names no gateway for its routes, or an internal one on a cluster whose gateway is public (the edge's origin), or, with NetworkPolicies on, one whose gateway's proxies run outside the cluster (Application Gateway for Containers, an AWS ALB) and whose profile gives no `gateway.sourceRanges` for its NetworkPolicy to admit";
    UNUSED_VALUES_FILE = "FG034", "unused-values-file", Reference, Warning, "a Helm values file that matches no environment or cluster, or belongs to an app without a chart";
    SOURCE_AUTH = "FG035", "source-auth", Reference, Error, "a private source the GitOps engine cannot authenticate to: an ssh:// repository without a Secret, a GitHub App without the Secret of its keys, or a registry's cloud identity on a cluster of another cloud";
    CHART_VALUES = "FG036", "chart-values", Reference, Error, "merged Helm values that the chart's vendored values.schema.json refuses, that rename the chart's objects, or whose volume or mount takes the name or path of the secrets volume fleetgen adds";
    UNMAPPED_PERMISSION = "FG037", "unmapped-permission", Reference, Error, "an identity profile's required permission (a capability word) has no mapping in fleet.yaml `permissions` for a cloud the app lands on";
    FEDERATED_CREDENTIAL_LIMIT = "FG038", "federated-credential-limit", Reference, Error, "a managed identity federated with more clusters and service accounts than the 20 federated credentials Microsoft Entra allows on one identity";
    IAM_POLICY_SIZE = "FG039", "iam-policy-size", Reference, Error, "an app's IAM role needs a trust policy (IRSA clusters and service accounts) or inline permissions larger than IAM's quotas (2,048 and 10,240 characters)";
    TEMPLATE_SYNTAX = "FG040", "template-syntax", Input, Error, "a template does not parse as a minijinja template";
    TEMPLATE_ERROR = "FG041", "template-error", Input, Error, "a template failed while rendering: undefined value, failed filter, recursion or fuel limit";
    RENDERED_OBJECT = "FG042", "rendered-object", Input, Error, "a template's output is not YAML, or not a Kubernetes object with apiVersion, kind and metadata.name";
    DUPLICATE_OBJECT = "FG043", "duplicate-object", Reference, Error, "two templates render the same object (kind, namespace, name) on one cluster";
    OBJECT_OUTSIDE_NAMESPACE = "FG044", "object-outside-namespace", Reference, Error, "a template renders a cluster-scoped object, or an object in another namespace than its app's";
    KILL_SWITCH = "FG050", "kill-switch", Reference, Warning, "a kill switch is on (sync suspended, an app drained from a cluster, a cluster or region out of rotation, a temporary weight); printed as a warning with its reason";
    KILL_SWITCH_TARGET = "FG051", "kill-switch-target", Reference, Error, "a kill switch names a cluster, region, ring, app or intent that does not exist, or a cluster the app does not land on (or, for a scale-down, a drain or an identity revocation, where its sync is suspended); or a stopped sync (a freeze, `gitops.suspend`) holds back what the committed `rendered/fleet.yaml` needs: lifting a drain, a scale-down or an identity revocation, the first deployment of an app the edge serves (errors), another first deployment, an app leaving the cluster, a revocation taking the app's sync through a freeze (warnings)";
    TRAFFIC_SWITCH_EXPIRED = "FG052", "traffic-switch-expired", Reference, Error, "a traffic kill switch past its `expires` date: renew it or remove it";
    TRAFFIC_SWITCH_EXPIRING = "FG053", "traffic-switch-expiring", Reference, Warning, "a traffic kill switch that expires within 14 days";
    EDGE_UNROUTABLE = "FG054", "edge-unroutable", Reference, Error, "the edge serving an app's hostname cannot express its routing or clusters (geo on Front Door, latency records for a cluster outside AWS, a weight, interval, TTL or region the engine refuses, a Front Door origin named by the cloud (a gateway's generated host name), a wildcard hostname on Front Door, more successful samples than samples, an apex alias to a name of no AWS resource, two hostnames or clusters it would name alike, …)";
    INCIDENT_SWITCH_EXPIRED = "FG055", "incident-switch-expired", Reference, Error, "an incident switch of fleet.yaml `switches` (freeze, blocked image, scale-down, identity revocation, audit-only) past its `expires` date: renew it or remove it";
    INCIDENT_SWITCH_EXPIRING = "FG056", "incident-switch-expiring", Reference, Warning, "an incident switch that expires within 14 days";
    BLOCKED_IMAGE = "FG057", "blocked-image", Reference, Error, "a placement renders an image whose digest fleet.yaml `switches.blockImages` blocks";
    RUNS_AS_ROOT = "FG060", "runs-as-root", Reference, Error, "a rendered container may run as root on a cluster whose policy profile forbids it (run-as-non-root)";
    HOST_NETWORK = "FG061", "host-network", Reference, Error, "a rendered pod uses the host network or binds a host port (no-host-network)";
    IMAGE_NOT_PINNED = "FG062", "image-not-pinned", Reference, Error, "a rendered container image is not pinned by digest (image-digest)";
    UNAPPROVED_REGISTRY = "FG063", "unapproved-registry", Reference, Error, "a rendered container image is not from a registry approved for the cluster (approved-registry)";
    MISSING_REQUESTS = "FG064", "missing-requests", Reference, Error, "a rendered container has no cpu or memory request, nor a limit that stands in for it (resource-requests)";
    MISSING_LIMITS = "FG065", "missing-limits", Reference, Error, "a rendered container has no cpu or memory limit, or one above the intent's `maximum` (resource-limits)";
    MISSING_READINESS_PROBE = "FG066", "missing-readiness-probe", Reference, Error, "a rendered container of a serving workload (not a Job, a CronJob or a Job's Pod) has no readiness probe (readiness-probe)";
    NO_WORKLOAD_IDENTITY = "FG067", "no-workload-identity", Reference, Error, "a pod of an app with a cloud identity does not use workload identity (workload-identity)";
    MOUNTS_TOKEN = "FG068", "mounts-token", Reference, Error, "a rendered pod mounts its service account token (no-automount-token)";
    PLAIN_HTTP_INGRESS = "FG069", "plain-http-ingress", Reference, Error, "a rendered Ingress does not terminate TLS (https-ingress)";
    PUBLIC_LOAD_BALANCER = "FG070", "public-load-balancer", Reference, Error, "a rendered LoadBalancer Service is not internal (internal-load-balancer)";
    WRITABLE_ROOT_FILESYSTEM = "FG071", "writable-root-filesystem", Reference, Error, "a rendered container has a writable root filesystem (read-only-root-filesystem)";
    AZURE_UNKNOWN_DEFINITION = "FG080", "azure-unknown-definition", Reference, Error, "an intent maps to an Azure policy id that is not a built-in Kubernetes definition or initiative of that kind";
    AZURE_UNKNOWN_PARAMETER = "FG081", "azure-unknown-parameter", Reference, Error, "an intent passes a parameter its Azure definition does not have";
    AZURE_MISSING_PARAMETER = "FG082", "azure-missing-parameter", Reference, Error, "an intent leaves out a parameter its Azure definition requires";
    AZURE_EFFECT_NOT_ALLOWED = "FG083", "azure-effect-not-allowed", Reference, Error, "a policy profile's enforcement needs an effect the Azure definition does not allow, or an initiative has members that deploy or modify resources (DeployIfNotExists, Modify: they need a managed identity the assignment does not have)";
    AZURE_PARAMETER_VALUE = "FG084", "azure-parameter-value", Reference, Error, "an Azure parameter value outside the values its definition allows or of another type, an excludedNamespaces entry that is not a namespace name, one fleetgen sets itself, or one that would narrow the Azure assignment only (excludedContainers, excludedImages, labelSelector, namespaces)";
    AZURE_DEPRECATED = "FG085", "azure-deprecated", Reference, Warning, "an intent maps to a deprecated Azure definition";
    EXEMPTION_EXPIRED = "FG090", "exemption-expired", Reference, Error, "a policy exemption whose expiry date has passed; it no longer exempts anything";
    EXEMPTION_EXPIRING = "FG091", "exemption-expiring", Reference, Warning, "a policy exemption that expires within 14 days";
    EXEMPTION_UNUSED = "FG092", "exemption-unused", Reference, Warning, "a policy exemption that matched no finding in this render";
    EXEMPTION_INVALID = "FG093", "exemption-invalid", Reference, Error, "a policy exemption that names an unknown intent, rule, app or cluster";
}

/// Looks a code up by its id (`FG023`) or its name (`unknown-reference`) in `codes`.
pub fn find_in(codes: &[&'static Code], key: &str) -> Option<&'static Code> {
    codes
        .iter()
        .copied()
        .find(|c| c.id.eq_ignore_ascii_case(key) || c.name == key)
}

/// Looks a code of this table up by its id or name.
pub fn find(key: &str) -> Option<&'static Code> {
    find_in(ALL, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_accepts_id_or_name() {
        assert_eq!(find("fg023"), Some(UNKNOWN_REFERENCE));
        assert_eq!(find("duplicate-key"), Some(DUPLICATE_KEY));
        assert_eq!(find("FG999"), None);
    }
}
