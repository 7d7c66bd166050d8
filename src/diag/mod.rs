//! Diagnostics: what fleetgen says about the input, located in the source.

pub mod codes;
pub(crate) mod escape;
mod junit;
mod render;
pub(crate) mod sarif;

pub use codes::{Class, Code};
pub use render::{Format, Style, render};
pub use sarif::HOME;

use crate::source::{FileId, SourceMap, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A place in a source file with what is there.
#[derive(Clone, Debug)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub text: String,
}

impl Label {
    pub fn new(file: FileId, span: Span, text: impl Into<String>) -> Self {
        Label {
            file,
            span,
            text: text.into(),
        }
    }
}

/// One problem: a code, a message, where it is, and what to do about it.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub code: &'static Code,
    pub severity: Severity,
    pub message: String,
    /// The file the problem is in, relative to the repository root.
    pub path: String,
    /// Where in `path`; `None` when the problem concerns the file as a whole.
    pub primary: Option<Label>,
    /// Other places that explain the problem, possibly in other files.
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    /// The cluster the problem is on, when it is on one.
    pub cluster: Option<String>,
    /// The app the problem is about, when it is about one.
    pub app: Option<String>,
}

impl Diagnostic {
    /// An error about a whole file (or folder), without a position inside it.
    pub fn file_error(code: &'static Code, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            path: path.into(),
            primary: None,
            secondary: Vec::new(),
            help: None,
            cluster: None,
            app: None,
        }
    }

    /// An error at a span of a file that is in the source map.
    pub fn error(code: &'static Code, sources: &SourceMap, label: Label, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            path: sources.get(label.file).path.clone(),
            primary: Some(label),
            secondary: Vec::new(),
            help: None,
            cluster: None,
            app: None,
        }
    }

    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Names the app the problem is about.
    pub fn for_app(mut self, app: impl Into<String>) -> Self {
        self.app = Some(app.into());
        self
    }

    /// Names the cluster the problem is on.
    pub fn on_cluster(mut self, cluster: impl Into<String>) -> Self {
        self.cluster = Some(cluster.into());
        self
    }

    pub fn with_secondary(mut self, label: Label) -> Self {
        self.secondary.push(label);
        self
    }

    /// 1-based line and column of the primary label. A problem with a whole file is
    /// placed at 1:1, as ruff does, so that every consumer gets a position.
    pub fn line_col(&self, sources: &SourceMap) -> (usize, usize) {
        match &self.primary {
            Some(l) => sources.get(l.file).line_col(l.span.start),
            None => (1, 1),
        }
    }
}

/// Orders diagnostics by file, line, column and code, and drops exact repeats.
pub fn sort(diagnostics: &mut Vec<Diagnostic>, sources: &SourceMap) {
    diagnostics.sort_by_cached_key(|d| {
        let (line, column) = d.line_col(sources);
        (d.path.clone(), line, column, d.code.id, d.message.clone())
    });
    diagnostics.dedup_by(|a, b| {
        a.path == b.path && a.code == b.code && a.message == b.message && a.line_col(sources) == b.line_col(sources)
    });
}

/// `a, b and c`, as written (items carry their own quoting): the lists of messages and help.
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The exit code a set of diagnostics calls for: 2 if an input could not be used,
/// 1 if there is any other error, 0 otherwise (warnings do not fail).
pub fn exit_code(diagnostics: &[Diagnostic]) -> u8 {
    let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error);
    let mut code = 0;
    for d in errors {
        match d.code.class {
            Class::Input => return 2,
            Class::Reference => code = 1,
        }
    }
    code
}

/// `n` and `noun`, the noun in the plural unless `n` is 1: `1 cluster`, `2 clusters`,
/// `0 policy files`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn exit_code_prefers_input_errors_and_ignores_warnings() {
        let ref_err = Diagnostic::file_error(codes::UNKNOWN_REFERENCE, "a", "x");
        let input_err = Diagnostic::file_error(codes::YAML_SYNTAX, "a", "x");
        let warn = Diagnostic::file_error(codes::YAML_SYNTAX, "a", "x").warning();
        assert_eq!(exit_code(&[]), 0);
        assert_eq!(exit_code(std::slice::from_ref(&warn)), 0);
        assert_eq!(exit_code(&[warn, ref_err.clone()]), 1);
        assert_eq!(exit_code(&[ref_err, input_err]), 2);
    }

    #[test]
    fn sort_orders_by_file_then_position() {
        let mut sources = SourceMap::default();
        let b = sources.add(SourceFile::new("b.yaml", "x: 1\ny: 2\n"));
        let a = sources.add(SourceFile::new("a.yaml", "x: 1\n"));
        let mut diags = vec![
            Diagnostic::error(codes::SCHEMA, &sources, Label::new(b, 5..6, ""), "late"),
            Diagnostic::error(codes::SCHEMA, &sources, Label::new(b, 0..1, ""), "early"),
            Diagnostic::error(codes::SCHEMA, &sources, Label::new(a, 0..1, ""), "first file"),
            Diagnostic::error(codes::SCHEMA, &sources, Label::new(a, 0..1, ""), "first file"),
        ];
        sort(&mut diags, &sources);
        let order: Vec<_> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(order, ["first file", "early", "late"]);
    }

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1, "cluster"), "1 cluster");
        assert_eq!(count(0, "policy file"), "0 policy files");
        assert_eq!(count(2, "placement"), "2 placements");
    }
}
