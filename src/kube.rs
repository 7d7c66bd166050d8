//! Kubernetes objects as fleetgen handles them: dynamic (a JSON value with its type and
//! object metadata read out), as kube-rs's `DynamicObject` is, and named as Kubernetes
//! names things. Shared by the stages that make objects (`emit`) and judge them (`policy`,
//! `lint`).

use serde_json::Value;

pub mod quantity;

/// A Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub api_version: String,
    pub value: Value,
}

impl Object {
    /// An object with `metadata.name` (and `metadata.namespace`) and `spec`.
    pub fn new(api_version: &str, kind: &str, name: &str, namespace: Option<&str>, spec: Value) -> Object {
        let mut metadata = serde_json::Map::new();
        metadata.insert("name".into(), Value::String(name.to_string()));
        if let Some(ns) = namespace {
            metadata.insert("namespace".into(), Value::String(ns.to_string()));
        }
        // Built field by field: `json!` would copy `spec` (it serializes each value it is
        // given), and a cluster's Applications carry whole Helm values.
        let mut value = serde_json::Map::new();
        value.insert("apiVersion".into(), Value::String(api_version.to_string()));
        value.insert("kind".into(), Value::String(kind.to_string()));
        value.insert("metadata".into(), Value::Object(metadata));
        value.insert("spec".into(), spec);
        Object {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            name: name.to_string(),
            namespace: namespace.map(str::to_string),
            value: Value::Object(value),
        }
    }

    /// `apiVersion` without the version: `apps`, `` for core.
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }
}

/// An API group and kind, as Argo CD's project lists name them (`""` for the core group).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKind {
    pub group: String,
    pub kind: String,
}

impl GroupKind {
    pub fn of(object: &Object) -> GroupKind {
        GroupKind {
            group: object.group().to_string(),
            kind: object.kind.clone(),
        }
    }

    /// Whether objects of this kind have no namespace.
    pub fn is_cluster_scoped(&self) -> bool {
        is_cluster_scoped(&self.kind)
    }
}

/// Kinds without a namespace (those a template or backend is likely to render).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PriorityClass",
    "PersistentVolume",
    "IngressClass",
    "GatewayClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "APIService",
    "RuntimeClass",
];

/// Where Flux's controllers and objects live.
pub const FLUX_NAMESPACE: &str = "flux-system";
/// The cluster root's Kustomization fleetgen renders (an app's Kustomization is named after
/// the app), in Flux's namespace.
pub const FLUX_ROOT: &str = "fleet-root";
/// The Kustomization (and GitRepository) `flux bootstrap` makes in Flux's namespace.
pub const FLUX_BOOTSTRAP: &str = "flux-system";

/// Where Argo CD and its objects live.
pub const ARGOCD_NAMESPACE: &str = "argocd";

/// Where Kubernetes' and the cloud's system components run (CoreDNS, the metrics add-ons).
pub const KUBE_SYSTEM: &str = "kube-system";

/// Kubernetes' own namespaces.
pub const KUBERNETES_NAMESPACES: &[&str] = &["default", KUBE_SYSTEM, "kube-public", "kube-node-lease"];

/// Namespaces every Azure Policy assignment excludes (Azure's defaults for system
/// components, without the usage-reporting one the reference implementation drops).
pub const AZURE_SYSTEM_NAMESPACES: &[&str] = &[KUBE_SYSTEM, "gatekeeper-system", "azure-arc"];

/// Namespaces no app may take: Kubernetes' own, the GitOps engines' and the policy agents'.
pub fn is_platform_namespace(namespace: &str) -> bool {
    KUBERNETES_NAMESPACES.contains(&namespace)
        || AZURE_SYSTEM_NAMESPACES.contains(&namespace)
        || [FLUX_NAMESPACE, ARGOCD_NAMESPACE].contains(&namespace)
}

/// Whether objects of `kind` have no namespace.
pub fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&kind)
}

/// Where the pod template of an object is (a key path from its root): by kind for the
/// built-in workloads, and found by shape for any other (an Argo Rollout, a KEDA
/// ScaledJob …: `spec.template.spec` holding `containers`).
///
/// `kind` is the object's (an [`Object`]'s, known: a render asks this of every object, and
/// looking `kind` up again hashed the key each time).
pub fn pod_template_path(kind: &str, object: &Value) -> Option<&'static [&'static str]> {
    const TEMPLATE: &[&str] = &["spec", "template"];
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => Some(TEMPLATE),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template"]),
        "Pod" => None,
        // Key by key: `Value::pointer` parses its path and allocates a string per step,
        // and this runs for every rendered object under every policy check.
        _ => ["spec", "template", "spec", "containers"]
            .iter()
            .try_fold(object, |cur, k| cur.get(k))
            .is_some_and(Value::is_array)
            .then_some(TEMPLATE),
    }
}

/// The pod spec of an object, if it has one: a Pod's own, or its pod template's.
pub fn pod_spec(object: &Value) -> Option<&Value> {
    pod_spec_of(object.get("kind").and_then(Value::as_str).unwrap_or(""), object)
}

/// [`pod_spec`] of an object whose `kind` is known.
pub fn pod_spec_of<'v>(kind: &str, object: &'v Value) -> Option<&'v Value> {
    if kind == "Pod" {
        return object.get("spec");
    }
    let path = pod_template_path(kind, object)?;
    path.iter().try_fold(object, |cur, k| cur.get(k))?.get("spec")
}

/// A container image reference, `[registry/]repository[:tag][@digest]`, as the container
/// runtime reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry host (`registry.example.com:5000`), when the reference names one.
    pub registry: Option<String>,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(image: &str) -> ImageRef {
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (image, None),
        };
        // A tag follows the last `:` after the last `/` (a registry port is not a tag).
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], Some(rest[slash + i + 1..].to_string())),
            None => (rest, None),
        };
        // The first component is a registry when it looks like a host (docker's rule).
        let (registry, repository) = match name.split_once('/') {
            Some((first, path)) if first.contains('.') || first.contains(':') || first == "localhost" => {
                (Some(first.to_string()), path.to_string())
            }
            _ => (None, name.to_string()),
        };
        ImageRef {
            registry,
            repository,
            tag,
            digest,
        }
    }

    /// `registry/repository`, without tag or digest.
    pub fn name(&self) -> String {
        match &self.registry {
            Some(r) => format!("{r}/{}", self.repository),
            None => self.repository.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_specs_of_pods_and_workloads() {
        let pod = json!({"kind": "Pod", "spec": {"containers": []}});
        assert_eq!(pod_spec(&pod), Some(&json!({"containers": []})));
        let cron = json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"x": 1}}}}}});
        assert_eq!(pod_spec(&cron), Some(&json!({"x": 1})));
        let svc = json!({"kind": "Service", "spec": {}});
        assert_eq!(pod_spec(&svc), None);
        let rollout = json!({"kind": "Rollout", "spec": {"template": {"spec": {"containers": []}}}});
        assert_eq!(pod_spec(&rollout), Some(&json!({"containers": []})));
        let other = json!({"kind": "Widget", "spec": {"template": {"spec": {"x": 1}}}});
        assert_eq!(pod_spec(&other), None, "no containers: not a pod template");
    }

    #[test]
    fn image_references_split_into_registry_repository_tag_and_digest() {
        let i = ImageRef::parse("registry.example.com:5000/team/web:1.2@sha256:abc");
        assert_eq!(i.registry.as_deref(), Some("registry.example.com:5000"));
        assert_eq!(i.repository, "team/web");
        assert_eq!(
            (i.tag.as_deref(), i.digest.as_deref()),
            (Some("1.2"), Some("sha256:abc"))
        );
        let i = ImageRef::parse("nginx");
        assert_eq!((i.registry, i.repository.as_str(), i.tag), (None, "nginx", None));
        assert_eq!(ImageRef::parse("library/nginx:1").registry, None);
        assert_eq!(
            ImageRef::parse("r.example.com/web@sha256:1").name(),
            "r.example.com/web"
        );
    }

    #[test]
    fn new_objects_carry_their_metadata() {
        let o = Object::new("v1", "ConfigMap", "c", Some("ns"), json!({}));
        assert_eq!(o.value["metadata"], json!({"name": "c", "namespace": "ns"}));
        assert_eq!(o.group(), "");
        assert!(!is_cluster_scoped(&o.kind));
    }
}
