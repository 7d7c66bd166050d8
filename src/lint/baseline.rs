//! `fleetgen lint --baseline FILE`: adopt the linter on a fleet that has findings today,
//! and fail only on new ones (as checkov's `--baseline` does). `--write-baseline FILE`
//! records the current findings; a later `--baseline FILE` drops every finding the file
//! records and says how many recorded findings are gone (the file can be rewritten smaller).
//!
//! A finding is recorded by its rule's code, the file it is in and its message — not its
//! line, so that editing above it does not make it new. Only rule findings (FG100 and up)
//! and policy findings (FG060–FG071) can be in a baseline: input errors never are.
//! The file is JSON, sorted, one finding per entry: reviewed like any other file.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::diag::Diagnostic;

/// What identifies a finding across edits: (code, path, message).
pub type Fingerprint = (String, String, String);

/// Whether a baseline may hold findings of `code`.
pub fn holds(code: &crate::diag::Code) -> bool {
    super::find(code.id).is_some() || crate::policy::exemptions::is_policy_rule(code.id)
}

pub fn fingerprint(d: &Diagnostic) -> Fingerprint {
    (d.code.id.to_string(), d.path.clone(), d.message.clone())
}

/// The baseline file's text for these findings (those a baseline may hold).
pub fn write<'a>(findings: impl IntoIterator<Item = &'a Diagnostic>) -> String {
    let set: BTreeSet<Fingerprint> = findings
        .into_iter()
        .filter(|d| holds(d.code))
        .map(fingerprint)
        .collect();
    let items: Vec<Value> = set
        .iter()
        .map(|(code, path, message)| json!({"code": code, "path": path, "message": message}))
        .collect();
    let mut text = serde_json::to_string_pretty(&json!({"fleetgenBaseline": 1, "findings": items})).unwrap_or_default();
    text.push('\n');
    text
}

/// The findings a baseline file records; `Err` says what is wrong with it and where
/// (line and column).
pub fn read(text: &str) -> Result<BTreeSet<Fingerprint>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        // serde_json counts columns from 1 but says 0 at the start of a line (an empty file,
        // one cut short after a newline); its message repeats the place, said in front here.
        let (line, column) = (e.line(), e.column());
        let message = e.to_string();
        let message = message
            .strip_suffix(&format!(" at line {line} column {column}"))
            .unwrap_or(&message);
        format!("{line}:{}: not JSON: {message}", column.max(1))
    })?;
    if value.get("fleetgenBaseline").and_then(Value::as_u64) != Some(1) {
        return Err("1:1: not a fleetgen baseline (`fleetgenBaseline: 1` is missing); write one with `fleetgen lint --write-baseline FILE`".into());
    }
    let Some(items) = value.get("findings").and_then(Value::as_array) else {
        return Err("1:1: `findings` is not a list".into());
    };
    let mut set = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let field = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_string);
        match (field("code"), field("path"), field("message")) {
            (Some(code), Some(path), Some(message)) => {
                set.insert((code, path, message));
            }
            _ => {
                return Err(format!(
                    "finding {}: `code`, `path` and `message` must be strings",
                    i + 1
                ));
            }
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_json_is_located_from_column_1() {
        assert_eq!(read("").unwrap_err(), "1:1: not JSON: EOF while parsing a value");
        assert_eq!(
            read("{\"a\": 1,\n").unwrap_err(),
            "2:1: not JSON: EOF while parsing a value"
        );
        assert_eq!(read("{bad").unwrap_err(), "1:2: not JSON: key must be a string");
    }

    #[test]
    fn reads_what_it_writes_and_refuses_other_json() {
        let rule = &crate::lint::find("FG104").unwrap().code;
        let d = Diagnostic::file_error(rule, "apps/web/app.yaml", "one region");
        let input = Diagnostic::file_error(
            crate::diag::codes::find("FG001").unwrap(),
            "apps/x/app.yaml",
            "bad YAML",
        );
        let text = write([&d, &input]);
        let set = read(&text).unwrap();
        assert_eq!(set.len(), 1, "an input error is never in a baseline: {text}");
        assert!(set.contains(&fingerprint(&d)));
        assert_eq!(text, write([&input, &d, &d]), "sorted and deduplicated");
        assert!(
            read("{\"findings\": []}")
                .unwrap_err()
                .contains("not a fleetgen baseline")
        );
        assert!(
            read("{\n  \"fleetgenBaseline\": 1,\n  \"findings\": [1]\n}")
                .unwrap_err()
                .contains("finding 1")
        );
        assert!(read("{\n  oops").unwrap_err().starts_with("2:"));
    }
}
