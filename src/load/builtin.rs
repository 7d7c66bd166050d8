//! The templates fleetgen ships, embedded in the binary. A repository replaces one by
//! putting a file of the same name in its `templates/` folder.

/// (name, source), in the order their objects are listed in each app's kustomization.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("namespace.yaml.j2", include_str!("templates/namespace.yaml.j2")),
    (
        "serviceaccount.yaml.j2",
        include_str!("templates/serviceaccount.yaml.j2"),
    ),
    (
        "secretproviderclass.yaml.j2",
        include_str!("templates/secretproviderclass.yaml.j2"),
    ),
    ("deployment.yaml.j2", include_str!("templates/deployment.yaml.j2")),
    ("service.yaml.j2", include_str!("templates/service.yaml.j2")),
    (
        "horizontalpodautoscaler.yaml.j2",
        include_str!("templates/horizontalpodautoscaler.yaml.j2"),
    ),
    (
        "poddisruptionbudget.yaml.j2",
        include_str!("templates/poddisruptionbudget.yaml.j2"),
    ),
    ("httproute.yaml.j2", include_str!("templates/httproute.yaml.j2")),
    ("networkpolicy.yaml.j2", include_str!("templates/networkpolicy.yaml.j2")),
];

/// The path under which a built-in template appears in diagnostics and file headers.
pub fn display_path(name: &str) -> String {
    format!("<builtin>/{name}")
}
