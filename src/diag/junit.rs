//! JUnit XML, the test report format most CI systems read (GitLab, Jenkins, Azure
//! Pipelines, CircleCI): one test suite per file with problems, one test case per problem;
//! a clean run is one passing test case, so that the report shows that fleetgen ran. An
//! error is a failing case (its severity as the failure type); a warning, which does not
//! fail the run (exit 0), is a passing case with its text in `system-out`, unless
//! `--deny-warnings` makes it fail: Jenkins marks a build whose report has failures
//! unstable, and GitLab lists them as failed tests, whatever the exit code said.

use super::render::end_line_col;
use super::{Diagnostic, Severity, Style};
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
    let fails = |d: &Diagnostic| d.severity == Severity::Error || style.deny_warnings;
    let tests = diagnostics.len().max(1);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"fleetgen\" tests=\"{tests}\" failures=\"{}\" errors=\"0\">\n",
        diagnostics.iter().filter(|d| fails(d)).count()
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
            "  <testsuite name=\"{file}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">\n",
            group.len(),
            group.iter().filter(|d| fails(d)).count()
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
            if fails(d) {
                out.push_str(&format!(
                    "      <failure type=\"{}\" message=\"{}\">{body}</failure>\n",
                    d.severity.as_str(),
                    xml(&format!("{} {}", d.code.id, d.message)),
                ));
            } else {
                out.push_str(&format!(
                    "      <system-out>{}: {body}</system-out>\n",
                    d.severity.as_str()
                ));
            }
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
