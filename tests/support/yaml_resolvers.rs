//! How YAML readers resolve a plain (unquoted) scalar: PyYAML's YAML 1.1 implicit
//! resolvers (with the spec's `y`/`n`, which go-yaml v2 also reads as booleans) and the
//! YAML 1.2 core schema. A string written plain must resolve as a string in all of them.
//! Shared by `tests/yaml_roundtrip.rs` and the `yaml_writer` fuzz target.

use regex::Regex;
use std::sync::OnceLock;

fn resolvers() -> &'static [(&'static str, Regex)] {
    static R: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    R.get_or_init(|| {
        [
            // YAML 1.1 (PyYAML resolver.py)
            (
                "1.1 bool",
                r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|y|Y|n|N)$",
            ),
            (
                "1.1 float",
                r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            ),
            (
                "1.1 int",
                r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
            ),
            ("1.1 merge", r"^(?:<<)$"),
            ("1.1 null", r"^(?:~|null|Null|NULL|)$"),
            (
                "1.1 timestamp",
                r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
            ),
            ("1.1 value", r"^(?:=)$"),
            // YAML 1.2 core schema
            ("1.2 null", r"^(?:null|Null|NULL|~|)$"),
            ("1.2 bool", r"^(?:true|True|TRUE|false|False|FALSE)$"),
            ("1.2 int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
            (
                "1.2 float",
                r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$",
            ),
        ]
        .into_iter()
        .map(|(name, re)| (name, Regex::new(re).expect("a valid resolver")))
        .collect()
    })
}

/// The first resolver that reads the plain scalar `s` as something other than a string.
pub fn non_string(s: &str) -> Option<&'static str> {
    resolvers().iter().find(|(_, re)| re.is_match(s)).map(|(name, _)| *name)
}

/// For a document the writer produced from `{"k": s}`: the scalar as written after
/// `k: `, when it was written plain (not quoted, not a block scalar).
pub fn plain_value(doc: &str) -> Option<&str> {
    let v = doc.strip_prefix("k: ")?.strip_suffix('\n')?;
    (!v.starts_with(['"', '|'])).then_some(v)
}
