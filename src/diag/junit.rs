//! JUnit XML, the test report format most CI systems read (GitLab, Jenkins, Azure
//! Pipelines, CircleCI): one test suite per file with problems, one failing test case per
//! problem (its severity as the failure type); a clean run is one passing test case, so
//! that the report shows that fleetgen ran.

use super::render::end_line_col;
use super::{Diagnostic, Style};
use crate::source::SourceMap;

/// Escapes text for XML 1.0: the five entities, and characters XML cannot hold dropped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A JUnit report of `diagnostics`.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap, style: &Style) -> String {
    let tests = diagnostics.len().max(1);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"fleetgen\" tests=\"{tests}\" failures=\"{}\" errors=\"0\">\n",
        diagnostics.len()
    ));
    if diagnostics.is_empty() {
        out.push_str("  <testsuite name=\"fleetgen\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\">\n");
        out.push_str("    <testcase name=\"no problems found\" classname=\"fleetgen\"/>\n");
        out.push_str("  </testsuite>\n");
    }
    // Diagnostics come sorted by file: one suite per run of the same file.
    let mut at = 0;
    while at < diagnostics.len() {
        let path = &diagnostics[at].path;
        let group: Vec<&Diagnostic> = diagnostics[at..].iter().take_while(|d| &d.path == path).collect();
        at += group.len();
        let file = xml(&style.path(path));
        out.push_str(&format!(
            "  <testsuite name=\"{file}\" tests=\"{n}\" failures=\"{n}\" errors=\"0\" skipped=\"0\">\n",
            n = group.len()
        ));
        for d in group {
            let (line, column) = d.line_col(sources);
            let (end_line, end_column) = end_line_col(d, sources);
            let mut body = format!("{file}:{line}:{column}-{end_line}:{end_column}: {}", xml(&d.message));
            if let Some(help) = &d.help {
                body.push_str(&format!("\nhelp: {}", xml(help)));
            }
            out.push_str(&format!(
                "    <testcase name=\"{id} {name} at {file}:{line}:{column}\" classname=\"{file}\" file=\"{file}\" line=\"{line}\">\n",
                id = d.code.id,
                name = d.code.name,
            ));
            out.push_str(&format!(
                "      <failure type=\"{}\" message=\"{}\">{body}</failure>\n",
                d.severity.as_str(),
                xml(&format!("{} {}", d.code.id, d.message)),
            ));
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_control_characters_dropped() {
        assert_eq!(
            xml("a<b & \"c\" 'd'>\u{1b}[31m"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;[31m"
        );
    }
}
