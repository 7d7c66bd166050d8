//! Every intent's Azure mapping is checked against the built-in definitions
//! ([`crate::policy::azure`]): the id exists (as a definition or an initiative, as the intent
//! says), every parameter exists, required ones are given, values are allowed, and every
//! enforcement a policy profile asks for is an effect the definition allows.

use crate::diag::{Diagnostic, codes};
use crate::load::Sources;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::fixture;

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
        let other = findings(&intent("image-digest", both, "    cpuLimit: 1\n    memoryLimit: 1Gi\n"));
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
}
