//! SARIF 2.1.0 (OASIS), the format code-scanning services read: one run, the tool with
//! every diagnostic code of the catalogue as a rule (lint rules with their documentation as
//! plain text and as Markdown, and a link to it), and one result per diagnostic located in
//! its source file, relative to `SRCROOT`: the root of the git repository the fleet is in.

use serde_json::{Value, json};

use super::{Code, Diagnostic, Label, Severity, Style};
use crate::source::SourceMap;

/// fleetgen's home: `repository` in Cargo.toml.
pub const HOME: &str = env!("CARGO_PKG_REPOSITORY");

/// Where the documentation of this version lives: the tag's tree.
fn docs_uri(path: &str) -> String {
    format!("{HOME}/blob/v{}/{path}", env!("CARGO_PKG_VERSION"))
}

/// A rule's Markdown documentation as plain text: `## Heading` becomes `Heading:`, code
/// fences go (their lines stay).
fn plain(markdown: &str) -> String {
    let mut out = String::new();
    for line in markdown.lines() {
        if line.starts_with("```") {
            continue;
        }
        match line.strip_prefix("## ") {
            Some(heading) => out.push_str(&format!("{heading}:")),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn rule(code: &Code) -> Value {
    let summary = format!("{}.", code.summary);
    let mut rule = json!({
        "id": code.id,
        "name": code.name,
        "shortDescription": { "text": summary },
        "defaultConfiguration": {
            "level": level(code.default),
        },
    });
    match (&code.rule, code.doc()) {
        (Some(r), Some(doc)) => {
            // The first paragraph under "What it does".
            let what: String = doc
                .lines()
                .skip_while(|l| !l.starts_with("## What it does"))
                .skip(1)
                .take_while(|l| !l.trim().is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            rule["fullDescription"] = json!({ "text": if what.is_empty() { summary.clone() } else { what } });
            rule["help"] = json!({ "text": plain(&doc), "markdown": doc });
            rule["helpUri"] = json!(docs_uri(&format!("docs/rules/{}-{}.md", code.id, code.name)));
            rule["properties"] = json!({ "tags": [r.family] });
        }
        _ => {
            rule["fullDescription"] = json!({ "text": summary });
            rule["help"] = json!({
                "text": format!("{summary} `fleetgen explain {}` prints this.", code.id),
                "markdown": format!("{summary}\n\n`fleetgen explain {}` prints this; the README's table of diagnostic codes lists them all.", code.id),
            });
            rule["helpUri"] = json!(docs_uri("README.md#diagnostics"));
        }
    }
    rule
}

fn region(sources: &SourceMap, label: &Label) -> Value {
    let file = sources.get(label.file);
    let (start_line, start_column) = file.line_col(label.span.start);
    let (end_line, end_column) = file.line_col(label.span.end.max(label.span.start));
    json!({
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
    })
}

fn location(uri: &str, region: Option<Value>) -> Value {
    let mut physical = json!({ "artifactLocation": { "uri": uri, "uriBaseId": "SRCROOT" } });
    if let Some(r) = region {
        physical["region"] = r;
    }
    json!({ "physicalLocation": physical })
}

/// Paths are written with `/`; SARIF URIs escape what a URI reference cannot hold.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A SARIF log of `diagnostics`, with every code of `catalogue` as a rule.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap, catalogue: &[&'static Code], style: &Style) -> String {
    let rules: Vec<Value> = catalogue.iter().map(|c| rule(c)).collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let index = catalogue.iter().position(|c| *c == d.code).unwrap_or(0);
            let primary = d.primary.as_ref().map(|l| region(sources, l));
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str(&format!("\nhelp: {help}"));
            }
            let mut result = json!({
                "ruleId": d.code.id,
                "ruleIndex": index,
                "level": level(d.severity),
                "message": { "text": text },
                "locations": [location(&uri(&style.path(&d.path)), primary)],
            });
            if !d.secondary.is_empty() {
                let related: Vec<Value> = d
                    .secondary
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        let mut loc = location(&uri(&style.path(&sources.get(l.file).path)), Some(region(sources, l)));
                        loc["id"] = json!(i + 1);
                        loc["message"] = json!({ "text": if l.text.is_empty() { "related" } else { l.text.as_str() } });
                        loc
                    })
                    .collect();
                result["relatedLocations"] = Value::Array(related);
            }
            let mut properties = serde_json::Map::new();
            if let Some(c) = &d.cluster {
                properties.insert("cluster".into(), json!(c));
            }
            if let Some(a) = &d.app {
                properties.insert("app".into(), json!(a));
            }
            if !properties.is_empty() {
                result["properties"] = Value::Object(properties);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "fleetgen",
                    "fullName": format!("fleetgen {}", env!("CARGO_PKG_VERSION")),
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": HOME,
                    "rules": rules,
                }
            },
            "invocations": [{ "executionSuccessful": true }],
            "originalUriBaseIds": {
                "SRCROOT": {
                    "description": { "text": "The root of the git repository the fleet is in (the fleet's own folder when it is in none)." }
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    out.push('\n');
    out
}

/// A SARIF log of [`render`] marked as a run whose lint rules did not run (`why`): its
/// invocation's `executionSuccessful` is false (SARIF 2.1.0 §3.20.14) with an error-level
/// notification saying why (§3.20.21). A code-scanning service that reads a log as the
/// tool's full answer would otherwise close every open rule alert on it.
pub fn rules_skipped(log: &str, why: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(log) else {
        return log.to_string();
    };
    if let Some(invocation) = value.pointer_mut("/runs/0/invocations/0") {
        *invocation = json!({
            "executionSuccessful": false,
            "toolExecutionNotifications": [{
                "level": "error",
                "message": { "text": why },
                "descriptor": { "id": "rules-skipped" },
            }],
        });
    }
    let mut out = serde_json::to_string_pretty(&value).expect("SARIF serializes");
    out.push('\n');
    out
}
