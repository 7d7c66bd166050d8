//! The template engine: every template compiled once, rendered in strict mode.
//!
//! A template sees only the context fleetgen gives it: minijinja has no file or
//! environment access, and the engine has no loader, so `{% include %}` reaches only the
//! other templates of the repository and the built-ins. Every render has a fuel budget,
//! minijinja's recursion limit, and the memory and output bounds of [`super::sandbox`], so
//! a runaway template stops with an error at its line.

use std::collections::{BTreeMap, HashMap};

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};

use crate::diag::{Diagnostic, Label, codes};
use crate::load::Sources;
use crate::source::{FileId, SourceMap};

use super::sandbox::{self, Failure};
use crate::load::builtin;
use crate::model::app::ChartConvention;

/// Instructions one render may execute; the largest built-in needs a few hundred.
pub const FUEL: u64 = 1_000_000;
pub use sandbox::{BUDGET, MAX_OUTPUT};

pub struct Engine {
    env: Environment<'static>,
    files: HashMap<String, FileId>,
    /// Fleet-wide templates (built-ins, their replacements, additions), in render order.
    fleet: Vec<String>,
    /// Each app's own templates, by app name.
    apps: BTreeMap<String, Vec<String>>,
    /// What each template reads of its context (see [`Engine::reads`]).
    reads: HashMap<String, Option<Vec<Vec<String>>>>,
}

impl Engine {
    /// Compiles every template of the sources; syntax errors come back located.
    pub fn new(sources: &Sources) -> (Engine, Vec<Diagnostic>) {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_debug(true);
        env.set_fuel(Some(FUEL));
        // Size-aware filters; also minijinja's own `tojson` and `string`, which turn an
        // undefined value into `null` or `""` even in strict mode.
        sandbox::install(&mut env);
        let syntax = env
            .syntax()
            .to_builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build();
        if let Ok(syntax) = syntax {
            env.set_syntax(syntax);
        }
        let mut engine = Engine {
            env,
            files: HashMap::new(),
            fleet: Vec::new(),
            apps: BTreeMap::new(),
            reads: HashMap::new(),
        };
        let mut out = Vec::new();
        // Built-in order first (so kustomization lists read naturally), then additions by name.
        let order = |name: &str| {
            builtin::TEMPLATES
                .iter()
                .position(|(n, _)| *n == name)
                .unwrap_or(usize::MAX)
        };
        let mut fleet: Vec<_> = sources.templates.iter().filter(|t| t.app.is_none()).collect();
        fleet.sort_by(|a, b| (order(&a.name), &a.name).cmp(&(order(&b.name), &b.name)));
        let mut app_templates: Vec<_> = sources.templates.iter().filter(|t| t.app.is_some()).collect();
        app_templates.sort_by(|a, b| (&a.app, &a.name).cmp(&(&b.app, &b.name)));
        for t in fleet.into_iter().chain(app_templates) {
            let key = match &t.app {
                None => t.name.clone(),
                Some(app) => format!("apps/{app}/templates/{}", t.name),
            };
            let text = sources.files.get(t.file).text.to_string();
            // Another template's reads are not seen in this one's source.
            let alone = !["include", "import", "extends"].iter().any(|word| text.contains(word));
            // Compiling folds constants (`'x' * 99999999`): bounded like a render.
            let (added, _) = minijinja::budget::scope(BUDGET, || engine.env.add_template_owned(key.clone(), text));
            match added {
                Ok(()) => {
                    let reads = alone
                        .then(|| engine.env.get_template(&key).ok())
                        .flatten()
                        .map(|template| {
                            let mut paths: Vec<Vec<String>> = template
                                .undeclared_variables(true)
                                .into_iter()
                                .map(|path| path.split('.').map(str::to_string).collect())
                                .collect();
                            paths.sort();
                            paths
                        });
                    engine.reads.insert(key.clone(), reads);
                    engine.files.insert(key.clone(), t.file);
                    match &t.app {
                        None => engine.fleet.push(key),
                        Some(app) => engine.apps.entry(app.clone()).or_default().push(key),
                    }
                }
                Err(e) => out.push(located(&e, t.file, &sources.files, codes::TEMPLATE_SYNTAX)),
            }
        }
        (engine, out)
    }

    /// The templates rendered for one placement of `app`, in order: every fleet-wide one,
    /// but for an app deployed by a chart of `convention` only the built-ins the chart
    /// needs beside it ([`super::charts::builtins`]).
    pub fn templates_for(&self, app: &str, chart: Option<ChartConvention>) -> Vec<&str> {
        let builtin_names: Vec<&str> = builtin::TEMPLATES.iter().map(|(n, _)| *n).collect();
        let keeps = |n: &str| match chart {
            None => true,
            Some(c) => super::charts::builtins(c).contains(&n) || !builtin_names.contains(&n),
        };
        let mut names: Vec<&str> = self.fleet.iter().map(String::as_str).filter(|n| keeps(n)).collect();
        if let Some(own) = self.apps.get(app) {
            names.extend(own.iter().map(String::as_str));
        }
        names
    }

    /// The context a template reads, as paths of attributes from a top-level name
    /// (`workload.probes.readinessPath`; a name alone when the template reads all of it, by
    /// a filter, an index or a method), found in its syntax tree by minijinja (with
    /// vendor/minijinja's fixes for reads it missed). `None` when a template's output may
    /// depend on more than its own source shows: it includes, imports or extends another
    /// template. Two renders of one template whose context agrees on these paths render
    /// the same text (see `driver::ParseCache::render`).
    pub fn reads(&self, name: &str) -> Option<&[Vec<String>]> {
        self.reads.get(name)?.as_deref()
    }

    /// The source file of a template.
    pub fn file(&self, name: &str) -> Option<FileId> {
        self.files.get(name).copied()
    }

    /// Renders one template, within the limits of [`sandbox`].
    pub fn render(&self, name: &str, ctx: &minijinja::Value, files: &SourceMap) -> Result<String, Box<Diagnostic>> {
        let Some(&file) = self.files.get(name) else {
            return Err(Box::new(Diagnostic::file_error(
                codes::TEMPLATE_ERROR,
                name,
                "no such template",
            )));
        };
        let template = match self.env.get_template(name) {
            Ok(t) => t,
            Err(e) => return Err(Box::new(located(&e, file, files, codes::TEMPLATE_ERROR))),
        };
        // The error may sit in an included template.
        let at = |e: &minijinja::Error| e.name().and_then(|n| self.files.get(n)).copied().unwrap_or(file);
        let failure = match sandbox::render(&template, ctx) {
            Ok(text) => return Ok(text),
            Err(f) => f,
        };
        let d = match failure {
            Failure::Error(e) => located(&e, at(&e), files, codes::TEMPLATE_ERROR),
            Failure::TooLarge(e) => {
                let mut d = located(&e, at(&e), files, codes::TEMPLATE_ERROR);
                d.message = format!(
                    "the template's output is larger than {} KiB; fleetgen stopped it here",
                    MAX_OUTPUT / 1024
                );
                d.with_help(
                    "a loop that writes far more than a Kubernetes object; templates may not write unbounded output",
                )
            }
            Failure::Budget(e) => {
                let mut d = located(&e, at(&e), files, codes::TEMPLATE_ERROR);
                d.message = format!(
                    "the template would build more than {} MiB of text and lists in one render; fleetgen stopped it here",
                    BUDGET / (1024 * 1024)
                );
                d.with_help("a string or list that grows in a loop or recursion (or a filter asked for a huge width or count); templates may not use unbounded memory")
            }
            Failure::Panic(message) => Diagnostic::error(
                codes::TEMPLATE_ERROR,
                files,
                Label::new(file, 0..0, "while rendering this template"),
                format!("the template engine failed: {message}"),
            )
            .with_help(
                "this is a bug in fleetgen or minijinja, not in the template; please report it with the template",
            ),
        };
        Err(Box::new(d))
    }
}

/// The expression of the `{{ … | filter }}` around `span`: its text before the filter, and
/// the span of the whole `{{ … }}`.
fn enclosing_expression(text: &str, span: &std::ops::Range<usize>) -> Option<(String, std::ops::Range<usize>)> {
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let open = line_start + text[line_start..span.start].rfind("{{")?;
    let close = span.end + text[span.end..].find("}}")? + 2;
    let inner = &text[open + 2..span.start];
    let expr = inner
        .rfind('|')
        .map_or(inner, |bar| &inner[..bar])
        .trim()
        .trim_start_matches('-')
        .trim();
    (!expr.is_empty()).then(|| (expr.to_string(), open..close))
}

fn located(e: &minijinja::Error, file: FileId, files: &SourceMap, code: &'static crate::diag::Code) -> Diagnostic {
    let source = files.get(file);
    let span = match (e.range(), e.line()) {
        (Some(r), _) if r.end <= source.text.len() => r,
        (_, Some(line)) => {
            let start = source.offset(line, 1);
            let end = source.text[start..].find('\n').map_or(source.text.len(), |n| start + n);
            start..end
        }
        _ => 0..0,
    };
    // Our filters cannot name the undefined expression; the template text can.
    let mut span = span;
    let expression = match (e.kind(), e.detail()) {
        (ErrorKind::UndefinedError, Some(d)) if d.ends_with("was given an undefined value") => {
            enclosing_expression(&source.text, &span)
        }
        _ => None,
    };
    if let Some((expr, whole)) = &expression {
        span = whole.clone();
        let _ = expr;
    }
    let message = match (e.kind(), e.detail()) {
        (ErrorKind::UndefinedError, _) if expression.is_some() => {
            format!(
                "undefined value: `{}` is undefined",
                expression.as_ref().map_or("", |(x, _)| x.as_str())
            )
        }
        (ErrorKind::OutOfFuel, _) => format!("the template ran out of fuel ({FUEL} instructions)"),
        (kind, Some(detail)) => format!("{kind}: {detail}"),
        (kind, None) => kind.to_string(),
    };
    let help = match e.kind() {
        ErrorKind::UndefinedError => {
            Some("templates render in strict mode; test optional values with `is defined`, or use `| default(...)`")
        }
        ErrorKind::OutOfFuel => Some("a loop or recursion that does not end; templates may not run unbounded"),
        _ => None,
    };
    let mut d = Diagnostic::error(code, files, Label::new(file, span, "here"), message);
    if let Some(h) = help {
        d = d.with_help(h);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::fixture;

    /// What the fleet-wide template `extra.yaml.j2` with `source` reads.
    fn reads(source: &str) -> Option<Vec<String>> {
        let sources = fixture::sources(&[("templates/extra.yaml.j2", source)]);
        let (engine, problems) = Engine::new(&sources);
        assert!(problems.is_empty(), "{source}");
        let paths = engine.reads("extra.yaml.j2")?;
        Some(paths.iter().map(|p| p.join(".")).collect())
    }

    #[test]
    fn a_template_reads_the_paths_it_names_and_all_of_what_it_indexes_filters_or_calls() {
        let cases: &[(&str, &[&str])] = &[
            (
                "{{ workload.name }}-{{ workload.probes.readinessPath }}",
                &["workload.name", "workload.probes.readinessPath"],
            ),
            (
                "{{ selector | tojson }}{{ workload['name'] }}",
                &["selector", "workload"],
            ),
            (
                "{% for k, v in labels | items %}{{ k }}{% endfor %}{{ range(2) | list }}",
                &["labels", "range"],
            ),
            // A method reads its whole value (minijinja read `workload.items`).
            ("{% for k in workload.items() %}{{ k }}{% endfor %}", &["workload"]),
            ("{{ workload.name.upper() }}", &["workload.name"]),
            // A name given a value it read from itself (minijinja saw none of these).
            (
                "{% set workload = workload.replicas %}{{ workload.min }}",
                &["workload.replicas"],
            ),
            (
                "{% with workload = workload.replicas %}{{ workload.min }}{% endwith %}",
                &["workload.replicas"],
            ),
            (
                "{% macro m(workload=workload.replicas) %}{{ workload.min }}{% endmacro %}{{ m() }}",
                &["workload.replicas"],
            ),
            (
                "{% set workload %}{{ workload.name }}{% endset %}{{ workload }}",
                &["workload.name"],
            ),
            // What a block's filter or its escaping reads.
            (
                "{% filter replace(workload.name, 'x') %}a{% endfilter %}",
                &["workload.name"],
            ),
            (
                "{% autoescape workload.escape %}x{% endautoescape %}",
                &["workload.escape"],
            ),
            (
                "{% set x | replace(workload.name, '') %}a{% endset %}{{ x }}",
                &["workload.name"],
            ),
        ];
        for (source, want) in cases {
            let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            assert_eq!(reads(source), Some(want), "{source}");
        }
    }

    /// A template that includes, imports or extends another reads what that one reads too:
    /// no list of reads is given for it, and it is rendered for every placement.
    #[test]
    fn a_template_that_uses_another_has_no_list_of_reads() {
        for source in [
            "{% include 'namespace.yaml.j2' %}",
            "{% import 'namespace.yaml.j2' as n %}",
            "{% extends 'namespace.yaml.j2' %}",
        ] {
            assert_eq!(reads(source), None, "{source}");
        }
    }
}
