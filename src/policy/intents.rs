//! Every intent's Azure mapping is checked against the built-in definitions
//! ([`crate::policy::azure`]): the id exists (as a definition or an initiative, as the intent
//! says), every parameter exists, required ones are given, values are allowed, and every
//! enforcement a policy profile asks for is an effect the definition allows.

use crate::diag::{Diagnostic, codes};
use crate::load::{Doc, Sources};
use crate::model::PolicyIntent;
use crate::model::policy::{AzurePolicyKind, Check};
use crate::policy::azure::{self, Definition};
use crate::suggest;

/// Parameters fleetgen sets on every assignment, for the intent's check.
pub fn managed_parameters(check: Check) -> &'static [&'static str] {
    match check {
        Check::ApprovedRegistry => &["effect", "allowedContainerImagesRegex"],
        Check::ResourceLimits => &["effect", "cpuLimit", "memoryLimit"],
        _ => &["effect"],
    }
}

/// The Azure parameter fleetgen sets from the intent's `maximum` field `field` (`cpu`,
/// `memory`).
pub fn maximum_parameter(field: &str) -> &'static str {
    match field {
        "cpu" => "cpuLimit",
        _ => "memoryLimit",
    }
}

pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    profiles_choose_each_intent_once(sources, out);
    parameters_have_their_types(sources, out);
    excluded_namespaces_are_names(sources, out);
    let files = &sources.files;
    let catalog = azure::catalog();
    // Each previous version is older than the intent's own, and told once.
    for doc in &sources.policy_intents {
        let current = doc.value.version.unwrap_or(1);
        let mut seen = vec![current];
        for (i, p) in doc.value.previous.iter().enumerate() {
            let v = p.version.unwrap_or(0);
            if v >= current || seen.contains(&v) {
                out.push(
                    Diagnostic::error(
                        codes::INVALID_VALUE,
                        files,
                        doc.item_field_label(&["previous"], i, Some("version"), "not an earlier version"),
                        format!(
                            "previous version {v} of `{}` is not older than the others (its version is {current})",
                            doc.value.id
                        ),
                    )
                    .with_help("list each earlier version once, below the intent's own `version`"),
                );
            }
            seen.push(v);
        }
    }
    // Every revision's mapping: the current one at its own lines, a previous one at its item
    // of `previous`.
    let revisions = sources.policy_intents.iter().flat_map(|doc| {
        let current = (doc, &doc.value, None);
        std::iter::once(current).chain(
            doc.value
                .previous
                .iter()
                .enumerate()
                .map(move |(i, p)| (doc, p, Some(i))),
        )
    });
    for (doc, intent, previous) in revisions {
        let label = |path: &[&str], text: String| -> crate::diag::Label {
            match previous {
                None => doc.label(path, text),
                Some(i) => doc.item_field_label(&["previous"], i, path.first().copied(), text),
            }
        };
        // Maxima are what `resource-limits` compares limits with; another check has none.
        if intent.maximum.is_some() && intent.check != Check::ResourceLimits {
            out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    files,
                    label(&["maximum"], format!("check `{}` has no maximum", intent.check)),
                    format!("`maximum` is for check `resource-limits`, not `{}`", intent.check),
                )
                .with_help("remove `maximum`, or make the check `resource-limits`"),
            );
        }
        // A maximum the check could not compare with (more digits than fleetgen reads).
        for (field, text) in intent
            .maximum
            .iter()
            .flat_map(|m| [("cpu", &m.cpu), ("memory", &m.memory)])
        {
            if let Some(text) = text
                && crate::kube::quantity::Quantity::parse(text).is_none()
            {
                out.push(Diagnostic::error(
                    codes::INVALID_VALUE,
                    files,
                    label(&["maximum", field], "not a quantity fleetgen can compare".to_string()),
                    format!("`{text}` is not a quantity fleetgen can compare limits with"),
                ));
            }
        }
        let Some(mapping) = &intent.azure else { continue };
        let wanted_kind = match mapping.kind {
            AzurePolicyKind::PolicyDefinition => "policyDefinition",
            AzurePolicyKind::PolicySetDefinition => "policySetDefinition",
        };
        let definition: &Definition = match catalog.find(&mapping.definition_id) {
            Some(d) if d.kind == wanted_kind => d,
            Some(d) => {
                out.push(
                    Diagnostic::error(
                        codes::AZURE_UNKNOWN_DEFINITION,
                        files,
                        label(&["azure", "kind"], format!("it is a {}", d.kind)),
                        format!("`{}` is a {}, not a {wanted_kind}", mapping.definition_id, d.kind),
                    )
                    .with_help(format!("set `kind: {}`", d.kind)),
                );
                continue;
            }
            None => {
                out.push(
                    Diagnostic::error(
                        codes::AZURE_UNKNOWN_DEFINITION,
                        files,
                        label(&["azure", "definitionId"], "no built-in Kubernetes policy has this id".to_string()),
                        format!("unknown Azure policy `{}`", mapping.definition_id),
                    )
                    .with_help(format!(
                        "ids come from Azure/azure-policy built-in-policies/*/Kubernetes (commit {}); see data/azure-policies.json",
                        &catalog.source.commit[..12.min(catalog.source.commit.len())]
                    )),
                );
                continue;
            }
        };
        if definition.deprecated {
            out.push(
                Diagnostic::error(
                    codes::AZURE_DEPRECATED,
                    files,
                    label(&["azure", "definitionId"], "deprecated".to_string()),
                    format!("`{}` is deprecated", definition.display_name),
                )
                .warning(),
            );
        }
        let managed = managed_parameters(intent.check);
        let known: Vec<&str> = definition.parameters.keys().map(String::as_str).collect();
        for (name, value) in &mapping.parameters {
            let at = label(&["azure", "parameters", name], "".to_string());
            let Some(parameter) = definition.parameters.get(name) else {
                let help = match suggest::closest(name, known.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "its parameters are {}",
                        suggest::list(&known.iter().map(|k| k.to_string()).collect::<Vec<_>>())
                    ),
                };
                out.push(
                    Diagnostic::error(
                        codes::AZURE_UNKNOWN_PARAMETER,
                        files,
                        crate::diag::Label {
                            text: "not a parameter of this definition".into(),
                            ..at
                        },
                        format!("`{}` has no parameter `{name}`", definition.display_name),
                    )
                    .with_help(help),
                );
                continue;
            };
            if managed.contains(&name.as_str()) {
                let why = match name.as_str() {
                    "effect" => "the effect comes from the enforcement each policy profile chooses".to_string(),
                    "cpuLimit" | "memoryLimit" => {
                        let field = if name == "cpuLimit" { "cpu" } else { "memory" };
                        format!(
                            "fleetgen sets it from the intent's `maximum.{field}`, which the compile-time check and the admission policy use too"
                        )
                    }
                    _ => "fleetgen builds the allowed-image regex from fleet.yaml's registries".to_string(),
                };
                out.push(
                    Diagnostic::error(
                        codes::AZURE_PARAMETER_VALUE,
                        files,
                        crate::diag::Label {
                            text: "set by fleetgen".into(),
                            ..at
                        },
                        format!("`{name}` is set by fleetgen, not by the intent"),
                    )
                    .with_help(format!("remove it: {why}")),
                );
                continue;
            }
            if let Some(allowed) = &parameter.allowed_values
                && !allowed.contains(value)
            {
                out.push(Diagnostic::error(
                    codes::AZURE_PARAMETER_VALUE,
                    files,
                    label(&["azure", "parameters", name], "not an allowed value".to_string()),
                    format!("`{name}` must be one of {}", serde_json::Value::Array(allowed.clone())),
                ));
            }
        }
        // A maximum the definition requires and the intent does not give.
        if intent.check == Check::ResourceLimits {
            let maximum = intent.maximum.clone().unwrap_or_default();
            for (field, given) in [("cpu", &maximum.cpu), ("memory", &maximum.memory)] {
                let parameter = maximum_parameter(field);
                if given.is_none() && definition.required.iter().any(|r| r == parameter) {
                    out.push(
                        Diagnostic::error(
                            codes::AZURE_MISSING_PARAMETER,
                            files,
                            label(&["check"], format!("`maximum.{field}` missing")),
                            format!(
                                "`{}` requires the parameter `{parameter}`, which fleetgen sets from `maximum.{field}`",
                                definition.display_name
                            ),
                        )
                        .with_help(format!("add `maximum: {{ {field}: … }}` to the intent")),
                    );
                }
            }
        }
        let missing: Vec<&String> = definition
            .required
            .iter()
            .filter(|r| !mapping.parameters.contains_key(*r) && !managed.contains(&r.as_str()))
            .collect();
        for name in missing {
            out.push(
                Diagnostic::error(
                    codes::AZURE_MISSING_PARAMETER,
                    files,
                    label(&["azure", "parameters"], format!("`{name}` missing")),
                    format!("`{}` requires the parameter `{name}`", definition.display_name),
                )
                .with_help(format!("add `{name}:` under `azure.parameters`")),
            );
        }
    }
    // Every enforcement a profile chooses must be an effect the definition allows: the
    // current definition's and that of every earlier version a ring is pinned to.
    for profile in &sources.policy_profiles {
        for (i, choice) in profile.value.intents.iter().enumerate() {
            let Some(intent) = sources.policy_intents.iter().find(|d| d.value.id == choice.intent) else {
                continue;
            };
            let mut revisions = vec![&intent.value];
            for v in choice.version_by_ring.values() {
                if let Some(r) = intent.value.revision(Some(*v))
                    && !revisions.iter().any(|x| std::ptr::eq(*x, r))
                {
                    revisions.push(r);
                }
            }
            let mut asked = vec![(choice.enforcement, "enforcement")];
            asked.extend(choice.by_environment.values().map(|e| (*e, "byEnvironment")));
            asked.extend(choice.by_ring.values().map(|e| (*e, "byRing")));
            for revision in revisions {
                let Some(definition) = revision.azure.as_ref().and_then(|m| catalog.find(&m.definition_id)) else {
                    continue;
                };
                for (enforcement, field) in &asked {
                    if definition.effect(*enforcement).is_none() {
                        let label = profile.item_field_label(&["intents"], i, Some(field), "not an allowed effect");
                        let version = revision.version.map(|v| format!(" (version {v})")).unwrap_or_default();
                        out.push(
                            Diagnostic::error(
                                codes::AZURE_EFFECT_NOT_ALLOWED,
                                files,
                                label,
                                format!(
                                    "`{}`{version} cannot be enforced as `{enforcement}` in Azure: `{}` allows {}",
                                    choice.intent,
                                    definition.display_name,
                                    suggest::list(&definition.effects)
                                ),
                            )
                            .with_secondary(
                                match intent.value.previous.iter().position(|p| std::ptr::eq(p, revision)) {
                                    Some(k) => intent.item_field_label(&["previous"], k, Some("azure"), "mapped here"),
                                    None => intent.label(&["azure", "definitionId"], "mapped here"),
                                },
                            ),
                        );
                    }
                }
            }
        }
    }
    // An incident switch that turns an intent to audit needs every version's Azure
    // definition to allow `Audit`.
    if let Some(fleet) = &sources.fleet {
        for (i, switch) in fleet.value.switches.audit_only.iter().enumerate() {
            let Some(intent) = sources.policy_intents.iter().find(|d| d.value.id == switch.intent) else {
                continue;
            };
            let revisions = std::iter::once(&intent.value).chain(intent.value.previous.iter());
            for revision in revisions {
                let Some(definition) = revision.azure.as_ref().and_then(|m| catalog.find(&m.definition_id)) else {
                    continue;
                };
                if definition.effect(crate::model::common::Enforcement::Audit).is_none() {
                    out.push(
                        Diagnostic::error(
                            codes::AZURE_EFFECT_NOT_ALLOWED,
                            files,
                            fleet.item_field_label(
                                &["switches", "auditOnly"],
                                i,
                                Some("intent"),
                                "cannot audit in Azure",
                            ),
                            format!(
                                "`{}` cannot be switched to audit in Azure: `{}` allows {}",
                                switch.intent,
                                definition.display_name,
                                suggest::list(&definition.effects)
                            ),
                        )
                        .with_secondary(intent.label(&["id"], "the intent")),
                    );
                    break;
                }
            }
        }
    }
}

/// Every revision of every intent: the current one (`None`), then each previous (its index).
fn revisions(sources: &Sources) -> impl Iterator<Item = (&Doc<PolicyIntent>, &PolicyIntent, Option<usize>)> {
    sources.policy_intents.iter().flat_map(|doc| {
        std::iter::once((doc, &doc.value, None))
            .chain((doc.value.previous.iter().enumerate()).map(move |(i, p)| (doc, p, Some(i))))
    })
}

/// A label at `path` of a revision's mapping (at `item` of the list there, if given): for a
/// previous version, at its item of `previous` (the path's first key), as the file has no
/// finer place to say which revision.
fn revision_label(
    doc: &Doc<PolicyIntent>,
    previous: Option<usize>,
    path: &[&str],
    item: Option<usize>,
    text: String,
) -> crate::diag::Label {
    match (previous, item) {
        (None, None) => doc.label(path, text),
        (None, Some(j)) => doc.item_label(path, j, text),
        (Some(i), _) => doc.item_field_label(&["previous"], i, path.first().copied(), text),
    }
}

/// FG084: a parameter value of another JSON type than its definition declares (a string
/// where it wants a list, …). Azure refuses the assignment ("The expected policy parameter
/// type: 'Array'"), and fleetgen, which reads `excludedNamespaces` as a list, would
/// otherwise take the system namespaces instead of a value it cannot read.
fn parameters_have_their_types(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let catalog = azure::catalog();
    for (doc, intent, previous) in revisions(sources) {
        let Some(mapping) = &intent.azure else { continue };
        let Some(definition) = catalog.find(&mapping.definition_id) else {
            continue;
        };
        let managed = managed_parameters(intent.check);
        for (name, value) in &mapping.parameters {
            // An unknown parameter (FG081) and one fleetgen sets (FG084) are told already.
            let Some(parameter) = definition.parameters.get(name) else {
                continue;
            };
            if managed.contains(&name.as_str()) {
                continue;
            }
            if let Some(wanted) = parameter.type_mismatch(value) {
                let declared = parameter.kind.as_deref().unwrap_or_default();
                out.push(
                    Diagnostic::error(
                        codes::AZURE_PARAMETER_VALUE,
                        &sources.files,
                        revision_label(
                            doc,
                            previous,
                            &["azure", "parameters", name],
                            None,
                            format!("{}, not {wanted}", azure::value_kind(value)),
                        ),
                        format!(
                            "`{name}` of `{}` is of type {declared}: it takes {wanted}, not {}",
                            definition.display_name,
                            azure::value_kind(value)
                        ),
                    )
                    .with_help(match wanted {
                        "a list" => format!("write a list, e.g. `{name}: [{}]`", compact(value)),
                        _ => format!("give `{name}` {wanted}"),
                    }),
                );
            }
        }
    }
}

/// A value as it reads in a YAML flow list.
fn compact(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// FG084: an entry of `azure.parameters.excludedNamespaces` that is not a namespace name.
/// The admission binding skips those namespaces by their `kubernetes.io/metadata.name`
/// label (`NotIn`), whose values Kubernetes checks as label values: a glob such as `kube-*`,
/// which Gatekeeper (the Azure Policy add-on) would read as a prefix, makes the API server
/// refuse the binding, and with it the cluster's whole root. The compile-time check too
/// compares namespaces by name.
fn excluded_namespaces_are_names(sources: &Sources, out: &mut Vec<Diagnostic>) {
    for (doc, intent, previous) in revisions(sources) {
        let Some(list) = (intent.azure.as_ref())
            .and_then(|a| a.parameters.get("excludedNamespaces"))
            .and_then(serde_json::Value::as_array)
        else {
            continue;
        };
        for (j, item) in list.iter().enumerate() {
            let (text, help) = match item.as_str() {
                Some(name) if crate::model::common::is_dns_label(name) => continue,
                Some(name) if name.contains('*') => (
                    format!(
                        "`{name}` in `excludedNamespaces` is a pattern: the admission binding selects namespaces by name and cannot express it"
                    ),
                    "list each namespace by its name (Gatekeeper would read `*` as a glob, the admission binding and the compile-time check cannot)",
                ),
                Some(name) => (
                    format!("`{name}` in `excludedNamespaces` is not a namespace name"),
                    "a namespace name is a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters",
                ),
                None => (
                    format!(
                        "`excludedNamespaces` lists {}, not a namespace name",
                        azure::value_kind(item)
                    ),
                    "list namespace names",
                ),
            };
            out.push(
                Diagnostic::error(
                    codes::AZURE_PARAMETER_VALUE,
                    &sources.files,
                    revision_label(
                        doc,
                        previous,
                        &["azure", "parameters", "excludedNamespaces"],
                        Some(j),
                        "not a namespace name".to_string(),
                    ),
                    text,
                )
                .with_help(help),
            );
        }
    }
}

/// FG022: a policy profile that lists an intent twice. Every output is one per intent (the
/// admission policy file, the Flux root's entry for it, the Azure assignment's name), so the
/// second choice would give a cluster's root the same file twice, which kustomize refuses, the
/// admission policy the last choice's enforcement only, and the Azure template two
/// assignments of one name, which ARM refuses.
fn profiles_choose_each_intent_once(sources: &Sources, out: &mut Vec<Diagnostic>) {
    for profile in &sources.policy_profiles {
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for (i, choice) in profile.value.intents.iter().enumerate() {
            let id = choice.intent.as_str();
            match seen.iter().find(|(s, _)| *s == id) {
                Some(&(_, first)) => out.push(
                    Diagnostic::error(
                        codes::DUPLICATE_ID,
                        &sources.files,
                        profile.item_field_label(&["intents"], i, Some("intent"), "chosen again here"),
                        format!(
                            "policy profile `{}` chooses intent `{id}` twice",
                            profile.value.name
                        ),
                    )
                    .with_secondary(profile.item_field_label(&["intents"], first, Some("intent"), "first chosen here"))
                    .with_help(
                        "list each intent once: `byEnvironment` and `byRing` give it another enforcement where it needs one",
                    ),
                ),
                None => seen.push((id, i)),
            }
        }
    }
}

/// Where a finding about a revision's mapping goes: its label at a path under it.
type RevisionLabel<'a> = Box<dyn Fn(&[&str], String) -> crate::diag::Label + 'a>;

/// Every revision of every intent (the current one, then each of `previous`) with its label,
/// placed as `check` places it.
fn mapped_revisions(
    sources: &Sources,
) -> impl Iterator<Item = (&crate::model::policy::PolicyIntent, RevisionLabel<'_>)> {
    sources.policy_intents.iter().flat_map(|doc| {
        let current = std::iter::once((
            &doc.value,
            Box::new(move |path: &[&str], text: String| doc.label(path, text)) as RevisionLabel<'_>,
        ));
        let previous = doc.value.previous.iter().enumerate().map(move |(i, p)| {
            (
                p,
                Box::new(move |path: &[&str], text: String| {
                    doc.item_field_label(&["previous"], i, path.first().copied(), text)
                }) as RevisionLabel<'_>,
            )
        });
        current.chain(previous)
    })
}

/// An initiative some of whose members deploy or modify resources (`DeployIfNotExists`,
/// `Modify`: the Image Integrity initiative deploys its add-ons so) is refused: Azure runs
/// those effects through the assignment's managed identity, with a location, and fleetgen's
/// assignments have neither, so the members would never remediate.
pub fn check_identity_members(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let catalog = azure::catalog();
    for (intent, label) in mapped_revisions(sources) {
        let Some(mapping) = &intent.azure else { continue };
        let Some(definition) = catalog.find(&mapping.definition_id) else {
            continue;
        };
        if definition.identity_members.is_empty() {
            continue;
        }
        let members: Vec<String> = (definition.identity_members.iter())
            .map(|m| format!("`{}` ({})", m.reference_id, m.effects.join(", ")))
            .collect();
        out.push(
            Diagnostic::error(
                codes::AZURE_EFFECT_NOT_ALLOWED,
                &sources.files,
                label(&["azure", "definitionId"], "its members deploy resources".to_string()),
                format!(
                    "`{}` has members that need a managed identity: {}",
                    definition.display_name,
                    members.join(", ")
                ),
            )
            .with_help(
                "DeployIfNotExists and Modify run through the assignment's managed identity, which fleetgen's assignments do not have; map the intent to the initiative's audit or deny member instead",
            ),
        );
    }
}

/// Parameters that narrow what an Azure definition judges (`excludedContainers`,
/// `excludedImages`, `labelSelector`, `namespaces`) are refused: the compile-time check and
/// the admission policy judge every container of every namespace outside the excluded ones,
/// so Azure would let through what fleetgen refuses (or the other way round), and the
/// admission binding would no longer skip what the assignment skips.
pub fn check_scoping_parameters(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let catalog = azure::catalog();
    for (intent, label) in mapped_revisions(sources) {
        let Some(mapping) = &intent.azure else { continue };
        let Some(definition) = catalog.find(&mapping.definition_id) else {
            continue;
        };
        for (name, value) in &mapping.parameters {
            if !SCOPING_PARAMETERS.contains(&name.as_str()) {
                continue;
            }
            // Written at its default (`[]`, `{}`, as exported assignments spell them out), it
            // narrows nothing.
            let Some(parameter) = definition.parameters.get(name) else {
                continue;
            };
            if parameter.default_value.as_ref() == Some(value) {
                continue;
            }
            out.push(
                Diagnostic::error(
                    codes::AZURE_PARAMETER_VALUE,
                    &sources.files,
                    label(&["azure", "parameters", name], "Azure only".to_string()),
                    format!(
                        "`{name}` would narrow the Azure assignment only: the compile-time check and the admission policy would still judge what it leaves out"
                    ),
                )
                .with_help(
                    "remove it: free a workload with an exemption (which Azure, the admission binding and the compile-time check all honour), or a namespace with `excludedNamespaces`",
                ),
            );
        }
    }
}

/// The parameters [`check_scoping_parameters`] refuses.
pub const SCOPING_PARAMETERS: &[&str] = &["excludedContainers", "excludedImages", "labelSelector", "namespaces"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::fixture;
    use crate::policy::azure::Parameter;

    /// The findings of an intent file `text` laid over the base fleet.
    fn findings(text: &str) -> Vec<(String, String)> {
        let sources = fixture::sources(&[("policy-library/intents/limits.yaml", text)]);
        let mut out = Vec::new();
        check(&sources, &mut out);
        out.into_iter().map(|d| (d.code.id.to_string(), d.message)).collect()
    }

    /// `maximum` belongs to `resource-limits`, and is where the Azure limits come from: set
    /// in the parameters, they are refused; missing when the definition needs them, too.
    #[test]
    fn the_limits_maxima_are_the_intents_and_the_azure_parameters_follow_them() {
        let intent = |check: &str, maximum: &str, parameters: &str| {
            format!(
                "id: limits\ntitle: Limits\ncheck: {check}\n{maximum}azure:\n  definitionId: e345eecc-fa47-480f-9e88-67dcc122b164\n  parameters:\n    excludedNamespaces: [kube-system]\n{parameters}"
            )
        };
        let both = "maximum: { cpu: 1000m, memory: 512Mi }\n";
        assert_eq!(findings(&intent("resource-limits", both, "")), []);
        let other = findings(&intent(
            "image-digest",
            both,
            "    cpuLimit: \"1\"\n    memoryLimit: 1Gi\n",
        ));
        assert_eq!(other.len(), 1, "{other:?}");
        assert!(
            other[0].1.contains("`maximum` is for check `resource-limits`"),
            "{other:?}"
        );
        let set = findings(&intent("resource-limits", both, "    cpuLimit: 2\n"));
        assert_eq!(set.len(), 1, "{set:?}");
        assert!(set[0].1.contains("`cpuLimit` is set by fleetgen"), "{set:?}");
        let missing = findings(&intent("resource-limits", "maximum: { cpu: 1000m }\n", ""));
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert_eq!(missing[0].0, codes::AZURE_MISSING_PARAMETER.id);
        assert!(missing[0].1.contains("from `maximum.memory`"), "{missing:?}");
        let huge = format!("maximum: {{ cpu: \"1{}1\", memory: 512Mi }}\n", "0".repeat(60));
        let huge = findings(&intent("resource-limits", &huge, ""));
        assert_eq!(huge.len(), 1, "{huge:?}");
        assert_eq!(huge[0].0, codes::INVALID_VALUE.id, "{huge:?}");
    }

    /// The findings of a `run-as-non-root` intent mapped to the Azure built-in for user and
    /// group IDs (f06ddb64…), with `parameters` (YAML lines under `parameters:`).
    fn non_root(parameters: &str) -> Vec<(String, String)> {
        findings(&format!(
            "id: limits\ntitle: Limits\ncheck: run-as-non-root\nazure:\n  definitionId: f06ddb64-5fa3-4b77-b166-acb36f7f6042\n  parameters:\n{parameters}"
        ))
    }

    /// Each value must be of the JSON type its parameter declares, whatever the case the
    /// built-ins spell it in (`Object`, `object`): Azure refuses another, and a string
    /// `excludedNamespaces` would have been read as no list (the system namespaces).
    #[test]
    fn parameter_values_are_of_their_declared_types() {
        let fits = "    excludedNamespaces: [kube-system]\n    namespaces: [web]\n    labelSelector: { matchLabels: { app: web } }\n    fsGroupRanges: { ranges: [] }\n    excludedImages: []\n    runAsUserRule: MustRunAsNonRoot\n    warn: true\n";
        assert_eq!(non_root(fits), []);
        for (line, wanted) in [
            ("excludedNamespaces: kube-system", "takes a list, not a string"),
            ("namespaces: web", "takes a list, not a string"),
            ("excludedImages: 5", "takes a list, not an integer"),
            // `labelSelector` is `object` in the data, `fsGroupRanges` `Object`.
            ("labelSelector: \"app=web\"", "takes a mapping, not a string"),
            ("fsGroupRanges: [1]", "takes a mapping, not a list"),
            ("runAsUserRule: [MustRunAsNonRoot]", "takes a string, not a list"),
            ("warn: \"true\"", "takes true or false, not a string"),
        ] {
            // (`runAsUserRule` also has its allowed values, which a list is not one of.)
            let found = non_root(&format!("    {line}\n"));
            let typed: Vec<_> = found.iter().filter(|(_, m)| m.contains(" is of type ")).collect();
            assert_eq!(typed.len(), 1, "{line}: {found:?}");
            assert!(typed[0].1.contains(wanted), "{line}: {found:?}");
            assert!(
                found.iter().all(|(c, _)| c == codes::AZURE_PARAMETER_VALUE.id),
                "{line}: {found:?}"
            );
        }
        let integer = Parameter {
            kind: Some("Integer".into()),
            allowed_values: None,
            default_value: None,
        };
        assert_eq!(integer.type_mismatch(&serde_json::json!(5)), None);
        assert_eq!(integer.type_mismatch(&serde_json::json!(5.5)), Some("an integer"));
        let float = Parameter {
            kind: Some("Float".into()),
            allowed_values: None,
            default_value: None,
        };
        assert_eq!(float.type_mismatch(&serde_json::json!(5)), None);
        assert_eq!(float.type_mismatch(&serde_json::json!("5")), Some("a number"));
    }

    /// `excludedNamespaces` holds namespace names: the admission binding selects by the
    /// name label, which refuses a glob Gatekeeper would read (`kube-*`).
    #[test]
    fn excluded_namespaces_are_names_not_patterns() {
        assert_eq!(non_root("    excludedNamespaces: [kube-system, team-a]\n"), []);
        let found = non_root("    excludedNamespaces: [kube-system, \"kube-*\", \"*-system\", Web_1, 7]\n");
        let messages: Vec<&str> = found.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(
            messages[0].contains("`kube-*` in `excludedNamespaces` is a pattern"),
            "{messages:?}"
        );
        assert!(messages[1].contains("`*-system`"), "{messages:?}");
        assert!(
            messages[2].contains("`Web_1` in `excludedNamespaces` is not a namespace name"),
            "{messages:?}"
        );
        assert!(messages[3].contains("lists an integer"), "{messages:?}");
        assert!(found.iter().all(|(code, _)| code == codes::AZURE_PARAMETER_VALUE.id));
    }

    /// FG022 at the second choice of one intent in a profile.
    #[test]
    fn a_profile_chooses_each_intent_once() {
        let profile = crate::load::fixture::text("policy-library/profiles/restricted.yaml");
        let twice = format!("{profile}  - intent: must-run-as-non-root\n    enforcement: audit\n");
        let sources = crate::load::fixture::sources(&[("policy-library/profiles/restricted.yaml", &twice)]);
        let mut out = Vec::new();
        check(&sources, &mut out);
        let found: Vec<_> = out.iter().filter(|d| d.code.id == codes::DUPLICATE_ID.id).collect();
        assert_eq!(found.len(), 1, "{out:?}");
        assert_eq!(
            found[0].message,
            "policy profile `restricted` chooses intent `must-run-as-non-root` twice"
        );
        let once = crate::load::fixture::sources(&[]);
        let mut out = Vec::new();
        check(&once, &mut out);
        assert!(out.iter().all(|d| d.code.id != codes::DUPLICATE_ID.id), "{out:?}");
    }
}

#[cfg(test)]
mod narrowing_tests {
    use super::*;
    use crate::load::fixture;

    /// The findings of the two checks for an intent `text` laid over the base fleet.
    fn findings(text: &str) -> Vec<(String, String, usize)> {
        let sources = fixture::sources(&[("policy-library/intents/extra.yaml", text)]);
        let mut out = Vec::new();
        check_identity_members(&sources, &mut out);
        check_scoping_parameters(&sources, &mut out);
        out.into_iter()
            .map(|d| (d.code.id.to_string(), d.message.clone(), d.line_col(&sources.files).0))
            .collect()
    }

    /// The Image Integrity initiative deploys its add-ons (DeployIfNotExists) through the
    /// assignment's identity, which fleetgen does not give: refused at the mapping.
    #[test]
    fn an_initiative_whose_members_deploy_is_refused() {
        let intent = |id: &str, kind: &str| {
            format!("id: extra\ntitle: Extra\ncheck: image-digest\nazure:\n  kind: {kind}\n  definitionId: {id}\n")
        };
        let found = findings(&intent("af28bf8b-c669-4dd3-9137-1e68fdc61bd6", "policySetDefinition"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, codes::AZURE_EFFECT_NOT_ALLOWED.id);
        assert!(
            found[0].1.ends_with(
                ": `deployAKSImageIntegrity` (DeployIfNotExists), `deployAKSPolicyAddOn` (DeployIfNotExists)"
            ),
            "{found:?}"
        );
        assert_eq!(found[0].2, 6, "at definitionId: {found:?}");
        // Pod security restricted: every member audits or denies.
        assert_eq!(
            findings(&intent("42b8ef37-b724-4e24-bbc8-7a7708edfe00", "policySetDefinition")),
            []
        );
    }

    /// excludedContainers (and the other narrowing parameters) would make Azure skip what
    /// the compile-time check and the admission policy refuse.
    #[test]
    fn parameters_that_narrow_only_the_azure_assignment_are_refused() {
        let intent = |parameters: &str| {
            format!(
                "id: extra\ntitle: Extra\ncheck: run-as-non-root\nazure:\n  definitionId: f06ddb64-5fa3-4b77-b166-acb36f7f6042\n  parameters:\n    runAsUserRule: MustRunAsNonRoot\n{parameters}"
            )
        };
        assert_eq!(findings(&intent("    excludedNamespaces: [kube-system]\n")), []);
        for name in SCOPING_PARAMETERS {
            let (value, default) = if *name == "labelSelector" {
                ("{matchLabels: {app: web}}", "{}")
            } else {
                ("[tools]", "[]")
            };
            // Written at the definition's default, it narrows nothing.
            assert_eq!(findings(&intent(&format!("    {name}: {default}\n"))), [], "{name}");
            let found = findings(&intent(&format!("    {name}: {value}\n")));
            assert_eq!(found.len(), 1, "{name}: {found:?}");
            assert_eq!(found[0].0, codes::AZURE_PARAMETER_VALUE.id);
            assert!(found[0].1.starts_with(&format!("`{name}` would narrow")), "{found:?}");
            assert_eq!(found[0].2, 8, "at the parameter: {found:?}");
        }
    }
}
