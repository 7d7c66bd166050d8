//! The table of stable diagnostic codes. A code, once shipped, keeps its meaning.
//!
//! Input codes (FG0xx below FG020) mean fleetgen could not use a file at all: the run exits 2.
//! Reference codes mean the files parse but do not fit together: the run exits 1.

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
    pub summary: &'static str,
}

macro_rules! codes {
    ($($konst:ident = $id:literal, $name:literal, $class:ident, $summary:literal;)*) => {
        $(pub const $konst: &Code = &Code { id: $id, name: $name, class: Class::$class, summary: $summary };)*
        /// Every code, in code order.
        pub const ALL: &[&Code] = &[$($konst),*];
    };
}

codes! {
    UNREADABLE = "FG001", "unreadable-file", Input, "a file or folder could not be read (permissions, not UTF-8, missing fleet.yaml)";
    YAML_SYNTAX = "FG002", "yaml-syntax", Input, "the file is not valid YAML, or holds more than one document";
    DUPLICATE_KEY = "FG003", "duplicate-key", Input, "a YAML mapping names the same key twice";
    YAML_LIMIT = "FG004", "yaml-limit", Input, "the YAML exceeds a safety budget: alias expansion, nesting depth or node count";
    FILE_TOO_LARGE = "FG005", "file-too-large", Input, "an input file is larger than fleetgen reads";
    SYMLINK_OUTSIDE = "FG006", "symlink-outside-repo", Input, "a symbolic link points outside the repository";
    UNKNOWN_FIELD = "FG010", "unknown-field", Input, "a field that the input kind does not have";
    WRONG_TYPE = "FG011", "wrong-type", Input, "a value of the wrong type (string, number, list, mapping …)";
    INVALID_VALUE = "FG012", "invalid-value", Input, "a value outside what the field allows (enum, pattern, range, length, uniqueness)";
    MISSING_FIELD = "FG013", "missing-field", Input, "a required field is missing";
    SCHEMA = "FG014", "schema-violation", Input, "the file breaks a rule of its JSON Schema that combines fields";
    UNEXPECTED_FILE = "FG020", "unexpected-file", Reference, "a YAML file where fleetgen reads none, so it is ignored";
    ID_MISMATCH = "FG021", "id-mismatch", Reference, "a file or folder name differs from the id inside it";
    DUPLICATE_ID = "FG022", "duplicate-id", Reference, "two files declare the same id";
    UNKNOWN_REFERENCE = "FG023", "unknown-reference", Reference, "a name that refers to a profile, ring, registry, intent or app that does not exist";
    UNSERVED_PLACEMENT = "FG024", "unserved-placement", Reference, "a contract names a region or environment that no cluster serves";
    PROFILE_CONTRADICTION = "FG025", "profile-contradiction", Reference, "a cluster contradicts a field its cluster profile fixes";
    WRITE_REGION_NOT_PLACED = "FG026", "write-region-not-placed", Reference, "a data write region that is not among the app's placement regions";
    DEPENDENCY_CYCLE = "FG027", "dependency-cycle", Reference, "apps that depend on each other in a circle, so no engine can order them";
    LABEL_VALUE = "FG030", "label-value", Reference, "a required label has no value, or a value Kubernetes does not accept in a label";
    IDENTITY_UNAVAILABLE = "FG031", "identity-unavailable", Reference, "an app's cloud identity cannot be wired on a cluster it lands on (no entry for that provider or account)";
    NAMESPACE_CONFLICT = "FG032", "namespace-conflict", Reference, "two apps placed on one cluster share a namespace";
    NO_GATEWAY = "FG033", "no-gateway", Reference, "an exposed app lands on a cluster whose profile names no gateway for its routes";
    UNUSED_VALUES_FILE = "FG034", "unused-values-file", Reference, "a Helm values file that matches no environment or cluster, or belongs to an app without a chart";
    TEMPLATE_SYNTAX = "FG040", "template-syntax", Input, "a template does not parse as a minijinja template";
    TEMPLATE_ERROR = "FG041", "template-error", Input, "a template failed while rendering: undefined value, failed filter, recursion or fuel limit";
    RENDERED_OBJECT = "FG042", "rendered-object", Input, "a template's output is not YAML, or not a Kubernetes object with apiVersion, kind and metadata.name";
    DUPLICATE_OBJECT = "FG043", "duplicate-object", Reference, "two templates render the same object (kind, namespace, name) on one cluster";
    KILL_SWITCH = "FG050", "kill-switch", Reference, "a kill switch is on (sync suspended, or an app drained from a cluster); printed as a warning with its reason";
    KILL_SWITCH_TARGET = "FG051", "kill-switch-target", Reference, "a kill switch names a cluster that does not exist or that the app does not land on";
    RUNS_AS_ROOT = "FG060", "runs-as-root", Reference, "a rendered container may run as root on a cluster whose policy profile forbids it (run-as-non-root)";
    HOST_NETWORK = "FG061", "host-network", Reference, "a rendered pod uses the host network (no-host-network)";
    IMAGE_NOT_PINNED = "FG062", "image-not-pinned", Reference, "a rendered container image is not pinned by digest (image-digest)";
    UNAPPROVED_REGISTRY = "FG063", "unapproved-registry", Reference, "a rendered container image is not from a registry approved for the cluster (approved-registry)";
    MISSING_REQUESTS = "FG064", "missing-requests", Reference, "a rendered container has no cpu or memory request (resource-requests)";
    MISSING_LIMITS = "FG065", "missing-limits", Reference, "a rendered container has no cpu or memory limit (resource-limits)";
    MISSING_READINESS_PROBE = "FG066", "missing-readiness-probe", Reference, "a rendered container has no readiness probe (readiness-probe)";
    NO_WORKLOAD_IDENTITY = "FG067", "no-workload-identity", Reference, "a pod of an app with a cloud identity does not use workload identity (workload-identity)";
    MOUNTS_TOKEN = "FG068", "mounts-token", Reference, "a rendered pod mounts its service account token (no-automount-token)";
    PLAIN_HTTP_INGRESS = "FG069", "plain-http-ingress", Reference, "a rendered Ingress does not terminate TLS (https-ingress)";
    PUBLIC_LOAD_BALANCER = "FG070", "public-load-balancer", Reference, "a rendered LoadBalancer Service is not internal (internal-load-balancer)";
    WRITABLE_ROOT_FILESYSTEM = "FG071", "writable-root-filesystem", Reference, "a rendered container has a writable root filesystem (read-only-root-filesystem)";
    AZURE_UNKNOWN_DEFINITION = "FG080", "azure-unknown-definition", Reference, "an intent maps to an Azure policy id that is not a built-in Kubernetes definition or initiative of that kind";
    AZURE_UNKNOWN_PARAMETER = "FG081", "azure-unknown-parameter", Reference, "an intent passes a parameter its Azure definition does not have";
    AZURE_MISSING_PARAMETER = "FG082", "azure-missing-parameter", Reference, "an intent leaves out a parameter its Azure definition requires";
    AZURE_EFFECT_NOT_ALLOWED = "FG083", "azure-effect-not-allowed", Reference, "a policy profile's enforcement needs an effect the Azure definition does not allow";
    AZURE_PARAMETER_VALUE = "FG084", "azure-parameter-value", Reference, "an Azure parameter value outside the values its definition allows, or one fleetgen sets itself";
    AZURE_DEPRECATED = "FG085", "azure-deprecated", Reference, "an intent maps to a deprecated Azure definition";
    EXEMPTION_EXPIRED = "FG090", "exemption-expired", Reference, "a policy exemption whose expiry date has passed; it no longer exempts anything";
    EXEMPTION_EXPIRING = "FG091", "exemption-expiring", Reference, "a policy exemption that expires within 14 days";
    EXEMPTION_UNUSED = "FG092", "exemption-unused", Reference, "a policy exemption that matched no finding in this render";
    EXEMPTION_INVALID = "FG093", "exemption-invalid", Reference, "a policy exemption that names an unknown intent, rule, app or cluster, or a date that does not exist";
    FAKE_ACTIVE_ACTIVE = "FG100", "fake-active-active", Reference, "traffic routed to several regions while data is written in one (lint)";
    UNSAFE_MULTI_WRITER = "FG101", "unsafe-multi-writer", Reference, "active-active data without conflict resolution or idempotent writes (lint)";
    REGIONAL_WITHOUT_ROUTING_KEY = "FG102", "regional-without-routing-key", Reference, "regional (partitioned) data behind traffic with no routing key (lint)";
    FAILOVER_OVER_MANUAL_PROMOTION = "FG103", "failover-over-manual-promotion", Reference, "automatic traffic failover over data that needs a manual promotion (lint)";
    CRITICAL_SINGLE_REGION = "FG104", "critical-single-region", Reference, "a tier-0 or tier-1 app that runs in one region only (lint)";
    MULTI_REGION_CLAIM = "FG105", "multi-region-claim", Reference, "multi-region routing or data over a placement that lands in one region (lint)";
    RPO_RTO_UNREACHABLE = "FG106", "rpo-rto-unreachable", Reference, "an RPO or RTO shorter than the app's data mode can deliver (lint)";
    CROSS_REGION_SYNC_CALL = "FG107", "cross-region-sync-call", Reference, "a synchronous dependency that does not run in every region of its caller (lint)";
    REGISTRY_WITHOUT_REPLICA = "FG108", "registry-without-replica", Reference, "an app placed in a region where its image's registry has no replica (lint)";
    NO_REGIONAL_KEY_VAULT = "FG109", "no-regional-key-vault", Reference, "an AKS cluster running apps with a cloud identity without a Key Vault of its own region (lint)";
    MISSING_TELEMETRY_LABEL = "FG110", "missing-telemetry-label", Reference, "a rendered object or pod template without a required telemetry label (lint)";
    MANAGED_LABEL_OVERRIDE = "FG111", "managed-label-override", Reference, "a template writes a label fleetgen manages with another value, which fleetgen overwrites (lint)";
    RING_VERSION_SKEW = "FG120", "ring-version-skew", Reference, "clusters of one profile and ring on different Kubernetes or add-on versions (lint)";
    LATER_RING_AHEAD = "FG121", "later-ring-ahead", Reference, "a later ring runs a Kubernetes or add-on version newer than any earlier ring (lint)";
    REGION_WITHOUT_EARLIER_RING = "FG122", "region-without-earlier-ring", Reference, "a region whose prod clusters are the first there to meet every change (lint)";
    UNDOCUMENTED_CLUSTER = "FG123", "undocumented-cluster", Reference, "a cluster without a description of why it exists (lint)";
    PDB_BLOCKS_EVICTION = "FG130", "pdb-blocks-eviction", Reference, "a PodDisruptionBudget that allows no eviction at the replicas a cluster runs (lint)";
    REPLICAS_BELOW_PDB_MINIMUM = "FG131", "replicas-below-pdb-minimum", Reference, "a region's replicas spread so thin that a cluster's PodDisruptionBudget cannot keep one running (lint)";
    ZONE_SPREAD_SHORT = "FG132", "zone-spread-short", Reference, "zone spread on a cluster with fewer zones than the replicas need (lint)";
}

/// Looks a code up by its id (`FG023`) or its name (`unknown-reference`).
pub fn find(key: &str) -> Option<&'static Code> {
    ALL.iter()
        .copied()
        .find(|c| c.id.eq_ignore_ascii_case(key) || c.name == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_sorted() {
        for pair in ALL.windows(2) {
            assert!(pair[0].id < pair[1].id, "{} before {}", pair[0].id, pair[1].id);
        }
        let mut names: Vec<_> = ALL.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }

    #[test]
    fn find_accepts_id_or_name() {
        assert_eq!(find("fg023"), Some(UNKNOWN_REFERENCE));
        assert_eq!(find("duplicate-key"), Some(DUPLICATE_KEY));
        assert_eq!(find("FG999"), None);
    }
}
