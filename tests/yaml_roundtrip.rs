//! The YAML writer's promise, as a property: every string it writes reads back as the same
//! string, and one it writes plain is read as a string by YAML 1.1 readers (PyYAML,
//! go-yaml v2, kubectl's) and YAML 1.2 readers alike. Hundreds of thousands of strings
//! made of the characters that matter (indicators, digits, signs, `<<`, `=`, words that
//! are booleans somewhere, spaces, controls, non-ASCII); the `yaml_writer` fuzz target
//! checks the same property on whatever libFuzzer comes up with.

#[path = "support/yaml_resolvers.rs"]
mod yaml_resolvers;

use fleetgen::api::write_yaml;
use serde_json::{Value, json};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "<",
    "<<",
    "=",
    "~",
    "-",
    "+",
    ".",
    ":",
    ": ",
    "#",
    " #",
    "?",
    ",",
    "[",
    "]",
    "{",
    "}",
    "&",
    "*",
    "!",
    "|",
    ">",
    "'",
    "\"",
    "%",
    "@",
    "`",
    " ",
    "\t",
    "\n",
    "\r",
    "0",
    "1",
    "7",
    "9",
    "0x",
    "0o",
    "0b",
    "e",
    "E",
    "_",
    "inf",
    "nan",
    "y",
    "n",
    "yes",
    "No",
    "ON",
    "off",
    "true",
    "Null",
    "null",
    "2026-07-03",
    "12:30",
    "T",
    "Z",
    "a",
    "x",
    "web",
    "/",
    "\\",
    "é",
    "\u{85}",
    "\u{2028}",
    "\u{ffff}",
    "\u{fffe}",
    "\u{9b}",
    "\u{feff}",
    "\u{1}",
    "\u{7f}",
    "---",
    "...",
];

/// A string of one to four pieces.
fn string(rng: &mut Rng) -> String {
    let n = 1 + rng.below(4);
    (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect()
}

/// Checks the property for `s`; the failure, if any.
pub fn check(s: &str) -> Result<(), String> {
    for value in [json!({ "k": s }), json!([s]), json!({ s: 1 }), json!(s)] {
        let mut doc = String::new();
        write_yaml(&mut doc, &value);
        let back: Value = serde_saphyr::from_str(&doc).map_err(|e| format!("{s:?}: {doc:?} does not parse: {e}"))?;
        if back != value {
            return Err(format!("{s:?}: {doc:?} reads back as {back}"));
        }
    }
    let mut doc = String::new();
    write_yaml(&mut doc, &json!({ "k": s }));
    if let Some(plain) = yaml_resolvers::plain_value(&doc)
        && let Some(as_what) = yaml_resolvers::non_string(plain)
    {
        return Err(format!(
            "{s:?} is written plain as `{plain}`, which a reader takes as {as_what}"
        ));
    }
    Ok(())
}

#[test]
fn every_string_reads_back_as_itself_in_yaml_1_1_and_1_2() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut failures = Vec::new();
    for _ in 0..60_000 {
        let s = string(&mut rng);
        if let Err(e) = check(&s) {
            failures.push(e);
        }
    }
    failures.sort();
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} failures, e.g.:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

#[test]
fn the_strings_of_the_reliability_run_are_quoted() {
    for s in ["<<", "=", "on", "NO", "1.20", "2026-07-03", "12:30", "~", "", "y"] {
        let mut doc = String::new();
        write_yaml(&mut doc, &json!({ "op": s }));
        assert!(doc.starts_with("op: \""), "{s:?} was written as {doc:?}");
    }
}
