//! Printing diagnostics: miette's graphical report, one line per problem, JSON, GitHub
//! workflow commands, JUnit XML or SARIF.

use std::collections::HashMap;
use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde::Serialize;

use super::escape::{self, Shown, Snippet};
use super::{Code, Diagnostic, Severity};
use crate::source::{FileId, SourceMap};

/// How diagnostics are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// miette reports: the source line, a label at the problem, help (also `human`).
    #[value(alias = "human")]
    #[default]
    Text,
    /// One line per problem: `file:line:col: severity[code] message`.
    Concise,
    /// A JSON array of objects (code, severity, message, file, line, column, …).
    Json,
    /// GitHub Actions workflow commands: `::error file=…,line=…,endLine=…,title=CODE::message`.
    Github,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
    /// JUnit XML, for CI systems that show test reports: one test case per problem.
    Junit,
}

/// How to print: the format, colour, the width text reports wrap at, and what to put
/// before every path in the machine formats.
#[derive(Clone, Debug)]
pub struct Style {
    pub format: Format,
    pub color: bool,
    pub width: usize,
    /// Prepended to the paths of concise, JSON, GitHub, JUnit and SARIF output: the fleet's
    /// folder relative to the root of its git repository (`infra/fleet/`), so that a fleet
    /// in a monorepo annotates the right files. Empty at the root; text reports keep paths
    /// relative to the fleet.
    pub path_prefix: String,
    /// `--quiet`: the diagnostics without the summary line (`1 error, 2 warnings`).
    pub quiet: bool,
    /// `lint --deny-warnings`: warnings fail the run, and are failures in JUnit reports.
    pub deny_warnings: bool,
}

impl Style {
    /// `format` without colour, at width 80, paths relative to the fleet.
    pub fn plain(format: Format) -> Style {
        Style {
            format,
            color: false,
            width: 80,
            path_prefix: String::new(),
            quiet: false,
            deny_warnings: false,
        }
    }

    /// A path of the fleet as the machine formats print it.
    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.path_prefix)
    }
}

/// Renders diagnostics, followed (for text formats) by a summary line; SARIF describes every
/// code of `catalogue` as a rule.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap, style: &Style, catalogue: &[&'static Code]) -> String {
    match style.format {
        Format::Json => json(diagnostics, sources, style),
        Format::Sarif => super::sarif::render(diagnostics, sources, catalogue, style),
        Format::Junit => super::junit::render(diagnostics, sources, style),
        Format::Github => github(diagnostics, sources, style),
        Format::Concise => {
            let mut out = String::new();
            for d in diagnostics {
                let (line, column) = d.line_col(sources);
                let place = format!("{}:{line}:{column}", escape::line(&style.path(&d.path)));
                out.push_str(&format!(
                    "{place}: {}[{}] {}\n",
                    d.severity.as_str(),
                    d.code.id,
                    escape::line(&d.message)
                ));
            }
            if !style.quiet {
                out.push_str(&summary(diagnostics));
            }
            out
        }
        Format::Text => {
            let theme = if style.color {
                GraphicalTheme::unicode()
            } else {
                GraphicalTheme::unicode_nocolor()
            };
            // Lines break at spaces only: an id such as `eastus-prod-01` is never split at a
            // hyphen, and one longer than the line stays whole.
            let handler = GraphicalReportHandler::new_themed(theme)
                .with_width(style.width)
                .with_links(false)
                .with_break_words(false)
                .with_word_separator(textwrap::WordSeparator::AsciiSpace)
                .with_word_splitter(textwrap::WordSplitter::NoHyphenation);
            let mut out = String::new();
            let mut shown = HashMap::new();
            for d in diagnostics {
                let report = Report::new(d, sources, &mut shown);
                // Writing into a String cannot fail.
                let _ = handler.render_report(&mut out, &report);
                out.push('\n');
            }
            if !style.quiet {
                out.push_str(&summary(diagnostics));
            }
            out
        }
    }
}

/// The end of a diagnostic's primary span (1-based line and column); its start when it has
/// none.
pub(super) fn end_line_col(d: &Diagnostic, sources: &SourceMap) -> (usize, usize) {
    match &d.primary {
        Some(l) => sources.get(l.file).line_col(l.span.end.max(l.span.start)),
        None => d.line_col(sources),
    }
}

/// GitHub Actions workflow commands: an annotation per problem, spanning the primary label,
/// with the help under the message.
fn github(diagnostics: &[Diagnostic], sources: &SourceMap, style: &Style) -> String {
    // Workflow commands escape %, CR and LF in the message, and also : and , in properties;
    // other control characters from inputs are made visible first (a log shows an ANSI
    // escape as what it does), as in the text formats.
    let escape = |s: &str| {
        escape::lines(s)
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let prop = |s: &str| escape(&escape::line(s)).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for d in diagnostics {
        let (line, column) = d.line_col(sources);
        let (end_line, end_column) = end_line_col(d, sources);
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        out.push_str(&format!(
            "::{} file={},line={line},endLine={end_line},col={column},endColumn={end_column},title={}::{}\n",
            d.severity.as_str(),
            prop(&style.path(&d.path)),
            prop(&format!("{} {}", d.code.id, d.code.name)),
            escape(&message)
        ));
    }
    out
}

fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    if diagnostics.is_empty() {
        return String::new();
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!("{}, {}\n", plural(errors, "error"), plural(warnings, "warning"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonDiagnostic<'a> {
    code: &'a str,
    name: &'a str,
    severity: &'a str,
    message: &'a str,
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    cluster: Option<&'a str>,
    app: Option<&'a str>,
    help: Option<&'a str>,
    related: Vec<JsonLabel<'a>>,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: String,
    line: usize,
    column: usize,
    message: &'a str,
}

fn json(diagnostics: &[Diagnostic], sources: &SourceMap, style: &Style) -> String {
    let items: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            let (line, column) = d.line_col(sources);
            let (end_line, end_column) = end_line_col(d, sources);
            JsonDiagnostic {
                code: d.code.id,
                name: d.code.name,
                severity: d.severity.as_str(),
                message: &d.message,
                file: style.path(&d.path),
                line,
                column,
                end_line,
                end_column,
                cluster: d.cluster.as_deref(),
                app: d.app.as_deref(),
                help: d.help.as_deref(),
                related: d
                    .secondary
                    .iter()
                    .map(|l| {
                        let file = sources.get(l.file);
                        let (line, column) = file.line_col(l.span.start);
                        JsonLabel {
                            file: style.path(&file.path),
                            line,
                            column,
                            message: &l.text,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&items).expect("diagnostics serialize");
    out.push('\n');
    out
}

/// Adapts a [`Diagnostic`] to miette. Labels in the primary file are drawn on its snippet;
/// labels in other files become related reports with their own snippet.
struct Report {
    message: String,
    code: &'static str,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<Snippet>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl Report {
    /// `shown`: each file as snippets show it, made when first needed.
    fn new(d: &Diagnostic, sources: &SourceMap, shown: &mut HashMap<FileId, Shown>) -> Self {
        let severity = match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        };
        let help = d.help.as_deref().map(|h| escape::lines(h).into_owned());
        let Some(primary) = &d.primary else {
            return Report {
                message: format!("{}: {}", escape::line(&d.path), escape::line(&d.message)),
                code: d.code.id,
                severity,
                help,
                source: None,
                labels: Vec::new(),
                related: Vec::new(),
            };
        };
        for id in std::iter::once(primary.file).chain(d.secondary.iter().map(|l| l.file)) {
            shown.entry(id).or_insert_with(|| {
                let file = sources.get(id);
                Shown::new(&file.path, &file.text)
            });
        }
        let shown_file = |id: FileId| -> &Shown { &shown[&id] };
        let file = shown_file(primary.file);
        let source = file.source();
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            non_empty(&primary.text),
            file.span(&primary.span),
        )];
        let mut related = Vec::new();
        for l in &d.secondary {
            if l.file == primary.file {
                let span = shown_file(primary.file).span(&l.span);
                labels.push(LabeledSpan::new_with_span(non_empty(&l.text), span));
            } else {
                let other = sources.get(l.file);
                let shown = shown_file(l.file);
                related.push(Report {
                    message: format!("see {}", escape::line(&other.path)),
                    code: "",
                    severity: miette::Severity::Advice,
                    help: None,
                    source: Some(shown.source()),
                    labels: vec![LabeledSpan::new_primary_with_span(
                        non_empty(&l.text),
                        shown.span(&l.span),
                    )],
                    related: Vec::new(),
                });
            }
        }
        Report {
            message: escape::line(&d.message).into_owned(),
            code: d.code.id,
            severity,
            help,
            source: Some(source),
            labels,
            related,
        }
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| escape::line(text).into_owned())
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(self.code) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty()).then(|| Box::new(self.labels.iter().cloned()) as Box<dyn Iterator<Item = _>>)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        (!self.related.is_empty()).then(|| {
            Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic))
                as Box<dyn Iterator<Item = &'a dyn miette::Diagnostic>>
        })
    }
}
