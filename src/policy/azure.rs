//! The Azure built-in Kubernetes policy definitions and initiatives, as facts to check intent
//! mappings against: ids, parameters, required parameters, allowed effects.
//!
//! `data/azure-policies.json` is extracted by `tools/extract-azure-policies.py` from
//! Azure/azure-policy (the commit is recorded in the file); CI checks it against the source.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::model::common::Enforcement;

const DATA: &str = include_str!("../../data/azure-policies.json");

#[derive(Debug, Deserialize)]
pub struct Catalog {
    pub source: Source,
    pub definitions: Vec<Definition>,
}

#[derive(Debug, Deserialize)]
pub struct Source {
    pub repository: String,
    pub commit: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    /// The GUID.
    pub name: String,
    /// `policyDefinition` or `policySetDefinition`.
    pub kind: String,
    pub display_name: String,
    pub description: String,
    pub deprecated: bool,
    pub effects: Vec<String>,
    pub required: Vec<String>,
    pub parameters: BTreeMap<String, Parameter>,
    /// An initiative's members that run `DeployIfNotExists` or `Modify` when it is assigned
    /// with `Audit` or `Deny`: Azure runs those through the assignment's managed identity,
    /// which fleetgen's assignments do not have.
    #[serde(default)]
    pub identity_members: Vec<IdentityMember>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityMember {
    pub reference_id: String,
    pub effects: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Parameter {
    /// `String`, `Array`, `Object`, `Boolean`, `Integer`, `Float` or `DateTime`, spelt in
    /// any case (the built-ins write both `Object` and `object`).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub allowed_values: Option<Vec<serde_json::Value>>,
    /// What Azure takes when the assignment leaves the parameter out.
    #[serde(default)]
    pub default_value: Option<serde_json::Value>,
}

impl Parameter {
    /// What a value of this parameter must be, when `value` is not that (Azure refuses the
    /// assignment: "The expected policy parameter type: 'Array' …"); `None` when it fits, or
    /// the type is not one fleetgen knows.
    pub fn type_mismatch(&self, value: &serde_json::Value) -> Option<&'static str> {
        use serde_json::Value;
        let kind = self.kind.as_deref()?.to_ascii_lowercase();
        let (fits, wanted) = match kind.as_str() {
            "string" => (value.is_string(), "a string"),
            "datetime" => (value.is_string(), "a date and time (a string)"),
            "array" => (value.is_array(), "a list"),
            "object" => (value.is_object(), "a mapping"),
            "boolean" => (value.is_boolean(), "true or false"),
            "integer" => (value.is_i64() || value.is_u64(), "an integer"),
            "float" => (matches!(value, Value::Number(_)), "a number"),
            _ => return None,
        };
        (!fits).then_some(wanted)
    }
}

/// How a value reads, to say what was written instead.
pub fn value_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

impl Definition {
    /// The resource id an assignment names: `/providers/Microsoft.Authorization/policyDefinitions/<guid>`.
    pub fn resource_id(&self) -> String {
        let collection = if self.kind == "policySetDefinition" {
            "policySetDefinitions"
        } else {
            "policyDefinitions"
        };
        format!("/providers/Microsoft.Authorization/{collection}/{}", self.name)
    }

    /// The effect value for an enforcement, spelled as the definition allows it.
    pub fn effect(&self, enforcement: Enforcement) -> Option<&str> {
        let wanted = match enforcement {
            Enforcement::Audit => "Audit",
            Enforcement::Deny => "Deny",
        };
        self.effects
            .iter()
            .find(|e| *e == wanted)
            .or_else(|| self.effects.iter().find(|e| e.eq_ignore_ascii_case(wanted)))
            .map(String::as_str)
    }
}

/// The built-in catalogue, parsed once.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        serde_json::from_str(DATA).unwrap_or_else(|e| panic!("data/azure-policies.json is broken: {e}"))
    })
}

impl Catalog {
    /// A definition by GUID or full resource id, case-insensitively.
    pub fn find(&self, id: &str) -> Option<&Definition> {
        let guid = id.rsplit('/').next().unwrap_or(id);
        self.definitions.iter().find(|d| d.name.eq_ignore_ascii_case(guid))
    }
}

/// Namespaces every assignment excludes (with the GitOps engine's, added per cluster).
pub use crate::kube::AZURE_SYSTEM_NAMESPACES as SYSTEM_NAMESPACES;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_parses_and_knows_the_reference_definitions() {
        let c = catalog();
        assert!(c.definitions.len() > 100);
        let limits = c.find("e345eecc-fa47-480f-9e88-67dcc122b164").unwrap();
        assert_eq!(limits.kind, "policyDefinition");
        assert!(limits.required.contains(&"cpuLimit".to_string()));
        assert_eq!(limits.effect(Enforcement::Deny), Some("Deny"));
        let restricted = c
            .find("/providers/Microsoft.Authorization/policySetDefinitions/42b8ef37-b724-4e24-bbc8-7a7708edfe00")
            .unwrap();
        assert_eq!(restricted.kind, "policySetDefinition");
        assert!(restricted.resource_id().contains("policySetDefinitions"));
        assert!(c.find("00000000-0000-0000-0000-000000000000").is_none());
    }
}
