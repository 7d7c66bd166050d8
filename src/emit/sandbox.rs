//! What one template render may use, and how it stops when it asks for more.
//!
//! Templates are input: a repository's template may loop, recurse, double a string, or ask
//! a filter for a billion spaces. The fuel limit bounds instructions; this module bounds
//! memory and output, and turns anything else that goes wrong inside the engine into an
//! error instead of a crash:
//!
//! - the output goes through a writer that refuses to grow past [`MAX_OUTPUT`], so a
//!   200 MB output is stopped at its first megabyte, at the template line writing it;
//! - everything a render builds (concatenations, repetitions, captured output, what each
//!   filter and function returns) is charged to a budget of [`BUDGET`] bytes, by the
//!   engine (minijinja's `budget` patch, see `vendor/minijinja/FLEETGEN-PATCH.md`);
//! - the filters that can multiply their input in one call (`indent`, `format`, `slice`,
//!   `batch`, `replace`, `join`, `split`, `lines`, `list`, `pprint`, `escape`, `tojson`,
//!   `string`) are replaced by versions that charge the size of their result *before*
//!   building it;
//! - a panic inside the engine is caught per render and reported.

use std::cell::Cell;
use std::fmt::Write as _;
use std::io;
use std::sync::{Arc, OnceLock};

use minijinja::budget;
use minijinja::value::{Kwargs, Rest, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind, State, Value};

/// Largest output one render may produce.
pub const MAX_OUTPUT: usize = 1024 * 1024;

/// Bytes one render may build in all (strings, captured output, 24 bytes per list or map
/// item), counted as they are built, not as they are freed. The largest built-in template
/// builds a few kilobytes.
pub const BUDGET: usize = 32 * 1024 * 1024;

/// The widest field a `format` specification may ask for.
pub const MAX_FORMAT_WIDTH: usize = 4096;

/// Why a render failed.
#[derive(Debug)]
pub enum Failure {
    /// The template failed: undefined value, failed filter, fuel, recursion.
    Error(Error),
    /// The output grew past [`MAX_OUTPUT`]; the error locates the line that wrote past it.
    TooLarge(Error),
    /// The render built more than [`BUDGET`] bytes; the error locates the line.
    Budget(Error),
    /// The engine panicked (a bug in minijinja or fleetgen, never the template's fault).
    Panic(String),
}

/// Renders `template` with `ctx` inside the limits of this module.
pub fn render(template: &minijinja::Template, ctx: &Value) -> Result<String, Failure> {
    install_panic_filter();
    let mut out = Bounded::new(MAX_OUTPUT);
    let run = || {
        IN_RENDER.with(|r| r.set(true));
        let result = budget::scope(BUDGET, || template.render_captured_to(ctx, &mut out).map(|_| ()));
        IN_RENDER.with(|r| r.set(false));
        result
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Err(payload) => {
            IN_RENDER.with(|r| r.set(false));
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_string());
            Err(Failure::Panic(message))
        }
        Ok((Ok(()), _)) if !out.overflow => {
            String::from_utf8(out.bytes).map_err(|_| Failure::Panic("the output is not UTF-8".into()))
        }
        Ok((Ok(()), _)) => Err(Failure::TooLarge(Error::new(
            ErrorKind::WriteFailure,
            "output too large",
        ))),
        Ok((Err(e), _)) if out.overflow => Err(Failure::TooLarge(e)),
        Ok((Err(e), true)) => Err(Failure::Budget(e)),
        Ok((Err(e), false)) => Err(Failure::Error(e)),
    }
}

/// Bytes written that refuse to grow past a limit: a render's output ([`MAX_OUTPUT`]), or
/// `tojson`'s JSON (what the render's budget has left).
struct Bounded {
    bytes: Vec<u8>,
    limit: usize,
    overflow: bool,
}

impl Bounded {
    fn new(limit: usize) -> Bounded {
        Bounded {
            bytes: Vec::new(),
            limit,
            overflow: false,
        }
    }
}

impl io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.limit - self.bytes.len() {
            self.overflow = true;
            return Err(io::Error::other("output too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

thread_local! {
    /// Whether this thread is inside [`render`]: a panic there is reported as a diagnostic,
    /// so the panic hook stays quiet.
    static IN_RENDER: Cell<bool> = const { Cell::new(false) };
}

/// Keeps the default panic message off stderr for panics that [`render`] catches and
/// reports; every other panic is printed as before.
fn install_panic_filter() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let previous: Arc<dyn Fn(&std::panic::PanicHookInfo) + Send + Sync> = Arc::from(std::panic::take_hook());
        std::panic::set_hook(Box::new(move |info| {
            if !IN_RENDER.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Replaces the filters that can build far more than they are given, and the engine's
/// `tojson` and `string` (which also must refuse undefined values).
pub fn install(env: &mut Environment<'static>) {
    env.add_filter("indent", indent);
    env.add_filter("format", format);
    env.add_filter("slice", slice);
    env.add_filter("batch", batch);
    env.add_filter("replace", replace);
    env.add_filter("join", join);
    env.add_filter("split", split);
    env.add_filter("lines", lines);
    env.add_filter("list", list);
    env.add_filter("pprint", pprint);
    env.add_filter("escape", escape);
    env.add_filter("e", escape);
    env.add_filter("tojson", tojson);
    env.add_filter("string", string);
}

// ---------------------------------------------------------------------------------------
// The replaced filters: each measures or estimates its result, charges it to the budget,
// then lets the engine's own filter do the work (so behaviour is unchanged within limits).

/// The engine's own filter of that name.
macro_rules! builtin {
    ($name:ident) => {{
        static F: OnceLock<Value> = OnceLock::new();
        F.get_or_init(|| Value::from_function(minijinja::filters::$name))
    }};
}

/// Argument `index` (after the filtered value, which is 0), or keyword `name`.
fn arg(args: &[Value], index: usize, name: &str) -> Result<Option<Value>, Error> {
    let (positional, kwargs) = match args.last() {
        Some(last) if last.is_kwargs() => (&args[..args.len() - 1], Some(last)),
        _ => (args, None),
    };
    if let Some(v) = positional.get(index) {
        return Ok(Some(v.clone()));
    }
    match kwargs {
        Some(k) => Kwargs::try_from(k.clone())?.peek::<Option<Value>>(name),
        None => Ok(None),
    }
}

fn usize_arg(args: &[Value], index: usize, name: &str) -> Result<Option<usize>, Error> {
    match arg(args, index, name)? {
        Some(v) if v.is_none() || v.is_undefined() => Ok(None),
        Some(v) => usize::try_from(v.clone())
            .map(Some)
            .map_err(|_| Error::new(ErrorKind::InvalidOperation, format!("`{v}` is not a count"))),
        None => Ok(None),
    }
}

fn text_arg(args: &[Value], index: usize, name: &str) -> Result<String, Error> {
    Ok(arg(args, index, name)?.map(|v| v.to_string()).unwrap_or_default())
}

/// The length of a value's text, without building it (or the budget error).
fn measure(value: &Value) -> Result<usize, Error> {
    match value.as_str() {
        Some(s) => Ok(s.len()),
        None => budget::measure(value),
    }
}

fn items(value: &Value) -> usize {
    value.len().unwrap_or(0)
}

fn indent(state: &mut State, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = args.into_values();
    let value = args.first().cloned().unwrap_or_default();
    let width = usize_arg(&args, 1, "width")?.unwrap_or(4);
    let len = measure(&value)?;
    let lines = value.as_str().map_or(1, |s| s.matches('\n').count() + 1);
    budget::charge(width.saturating_mul(lines).saturating_add(len))?;
    builtin!(indent).call(state, &args)
}

fn format(state: &mut State, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = args.into_values();
    let spec = args
        .first()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let widths = format_widths(&spec)?;
    let mut total = spec.len().saturating_add(widths);
    for a in args.iter().skip(1) {
        total = total.saturating_add(measure(a)?);
    }
    budget::charge(total)?;
    builtin!(format).call(state, &args)
}

/// The sum of the widths and precisions of a printf-style format string's conversions;
/// an error for one wider than [`MAX_FORMAT_WIDTH`].
fn format_widths(spec: &str) -> Result<usize, Error> {
    let mut total = 0usize;
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            continue;
        }
        let mut number = String::new();
        for c in chars.by_ref() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            if !number.is_empty() {
                let n: usize = number.parse().unwrap_or(usize::MAX);
                if n > MAX_FORMAT_WIDTH {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("`format` field width {number} is wider than {MAX_FORMAT_WIDTH}"),
                    ));
                }
                total = total.saturating_add(n);
                number.clear();
            }
            if c.is_ascii_alphabetic() && !matches!(c, 'h' | 'l' | 'L') {
                break;
            }
        }
    }
    Ok(total)
}

fn slice(state: &mut State, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = args.into_values();
    let count = usize_arg(&args, 1, "count")?.unwrap_or(0);
    let value = args.first().cloned().unwrap_or_default();
    // One list per slice, and every item once (plus a filler per slice).
    budget::charge(
        count
            .saturating_mul(2)
            .saturating_add(items(&value))
            .saturating_mul(budget::ITEM),
    )?;
    builtin!(slice).call(state, &args)
}

fn batch(state: &mut State, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = args.into_values();
    let count = usize_arg(&args, 1, "count")?.unwrap_or(0);
    let value = args.first().cloned().unwrap_or_default();
    // Every item once, and a last batch filled up to `count`.
    budget::charge(count.saturating_add(items(&value)).saturating_mul(budget::ITEM))?;
    builtin!(batch).call(state, &args)
}

fn replace(state: &mut State, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = args.into_values();
    let value = args.first().map(Value::to_string).unwrap_or_default();
    let from = text_arg(&args, 1, "old")?;
    let to = text_arg(&args, 2, "new")?;
    let hits = if from.is_empty() {
        value.chars().count() + 1
    } else {
        value.matches(from.as_str()).count()
    };
    budget::charge(hits.saturating_mul(to.len()).saturating_add(value.len()))?;
    builtin!(replace).call(state, &args)
}

fn join(state: &mut State, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = args.into_values();
    let value = args.first().cloned().unwrap_or_default();
    let joiner = text_arg(&args, 1, "d")?;
    let mut total = 0usize;
    if let Some(s) = value.as_str() {
        total = s.len().saturating_mul(joiner.len().saturating_add(1));
    } else if let Ok(iter) = value.try_iter() {
        for item in iter {
            total = total.saturating_add(measure(&item)?).saturating_add(joiner.len());
            if budget::left().is_some_and(|left| total > left) {
                break;
            }
        }
    }
    budget::charge(total)?;
    builtin!(join).call(state, &args)
}

fn pieces(args: &[Value], separator: Option<&str>) -> usize {
    let text = args.first().and_then(|v| v.as_str()).unwrap_or_default();
    match separator {
        Some(sep) if !sep.is_empty() => text.matches(sep).count() + 1,
        _ => text.len() + 1,
    }
}

fn split(state: &mut State, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = args.into_values();
    let separator = arg(&args, 1, "split")?.filter(|v| !v.is_none()).map(|v| v.to_string());
    budget::charge(pieces(&args, separator.as_deref()).saturating_mul(budget::ITEM))?;
    builtin!(split).call(state, &args)
}

fn lines(state: &mut State, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = args.into_values();
    budget::charge(pieces(&args, Some("\n")).saturating_mul(budget::ITEM))?;
    builtin!(lines).call(state, &args)
}

fn list(state: &mut State, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = args.into_values();
    let value = args.first().cloned().unwrap_or_default();
    let n = match value.as_str() {
        Some(s) => s.chars().count(),
        None => items(&value),
    };
    budget::charge(n.saturating_mul(budget::ITEM))?;
    builtin!(list).call(state, &args)
}

fn pprint(state: &mut State, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = args.into_values();
    let value = args.first().cloned().unwrap_or_default();
    if let Some(limit) = budget::left() {
        let mut m = budget::Measure { len: 0, limit };
        if write!(m, "{value:#?}").is_err() {
            return Err(budget::charge(usize::MAX).unwrap_err());
        }
        budget::charge(m.len)?;
    }
    builtin!(pprint).call(state, &args)
}

fn escape(state: &mut State, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = args.into_values();
    let value = args.first().cloned().unwrap_or_default();
    // `&quot;` is the longest escape: six bytes for one.
    budget::charge(measure(&value)?.saturating_mul(6))?;
    builtin!(escape).call(state, &args)
}

fn refuse_undefined(value: &Value, filter: &str) -> Result<(), Error> {
    if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!("`{filter}` was given an undefined value"),
        ));
    }
    Ok(())
}

/// JSON of a value (valid YAML in flow style); an undefined value is an error.
fn tojson(value: Value) -> Result<Value, Error> {
    refuse_undefined(&value, "tojson")?;
    // Written once, into bytes that stop at what the budget has left.
    let mut out = Bounded::new(budget::left().unwrap_or(usize::MAX));
    let cannot =
        |e: &dyn std::fmt::Display| Error::new(ErrorKind::InvalidOperation, format!("cannot write as JSON: {e}"));
    if let Err(e) = serde_json::to_writer(&mut out, &value) {
        // Past what the budget has left, the budget is spent, as by any charge past it.
        return Err(if out.overflow {
            budget::charge(usize::MAX).unwrap_err()
        } else {
            cannot(&e)
        });
    }
    budget::charge(out.bytes.len())?;
    String::from_utf8(out.bytes)
        .map(Value::from_safe_string)
        .map_err(|e| cannot(&e))
}

/// A value as a string; an undefined value is an error.
fn string(value: Value) -> Result<Value, Error> {
    refuse_undefined(&value, "string")?;
    Ok(match value.as_str() {
        Some(_) => value,
        None => {
            budget::charge(measure(&value)?)?;
            Value::from(value.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Environment<'static> {
        let mut env = Environment::new();
        env.set_fuel(Some(1_000_000));
        install(&mut env);
        env
    }

    fn run(source: &str) -> Result<String, Failure> {
        let mut env = env();
        env.add_template_owned("t", source.to_string()).unwrap();
        let t = env.get_template("t").unwrap();
        render(&t, &Value::from(()))
    }

    #[test]
    fn ordinary_templates_render_as_before() {
        let cases = [
            ("{{ 'a\nb' | indent(2) }}", "a\n  b"),
            ("{{ 'a\nb' | indent(width=2, first=true) }}", "  a\n  b"),
            ("{{ '%s-%03d' | format('x', 7) }}", "x-007"),
            ("{{ [1,2,3,4] | slice(2) | list }}", "[[1, 2], [3, 4]]"),
            ("{{ [1,2,3] | batch(2, 0) | list }}", "[[1, 2], [3, 0]]"),
            ("{{ 'aXb' | replace('X', '--') }}", "a--b"),
            ("{{ ['a','b'] | join(', ') }}", "a, b"),
            ("{{ 'a b' | split | list }}", "['a', 'b']"),
            ("{{ 'a\nb' | lines | list }}", "['a', 'b']"),
            ("{{ 'ab' | list }}", "['a', 'b']"),
            ("{{ {'a': 1} | tojson }}", "{\"a\":1}"),
            ("{{ 12 | string }}", "12"),
            ("{{ '<' | e }}", "&lt;"),
            (
                "{% set ns = namespace(s='x') %}{% for i in range(10) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
                "1024",
            ),
        ];
        for (source, want) in cases {
            match run(source) {
                Ok(got) => assert_eq!(got, want, "{source}"),
                Err(e) => panic!("{source}: {e:?}"),
            }
        }
    }

    fn refused(source: &str) -> Failure {
        match run(source) {
            Ok(out) => panic!("{source} rendered {} bytes", out.len()),
            Err(f) => f,
        }
    }

    #[test]
    fn hostile_filters_are_refused_before_they_allocate() {
        for source in [
            "{{ 'x' | indent(width=18446744073709551615) }}",
            "{{ 'x' | indent(100000000000) }}",
            "{{ '%999999999d' | format(1) }}",
            "{{ [1, 2] | slice(1000000000000) | list }}",
            "{{ [1] | batch(1000000000000, 0) | list }}",
            "{% set s = 'x' * 1000000 %}{{ s | replace('', s) }}",
        ] {
            assert!(
                matches!(refused(source), Failure::Budget(_) | Failure::Error(_)),
                "{source}"
            );
        }
    }

    #[test]
    fn doubling_strings_and_lists_runs_out_of_budget() {
        for source in [
            "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
            "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}",
            "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l | length }}",
            "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s %}{{ ns.s }}{{ ns.s }}{% endset %}{% endfor %}{{ ns.s | length }}",
            "{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% else %}{{ s | length }}{% endif %}{% endmacro %}{{ d('x', 64) }}",
            "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + ['x' * 1000 ~ i] %}{% endfor %}{{ ns.l | length }}",
        ] {
            assert!(matches!(refused(source), Failure::Budget(_)), "{source}");
        }
    }

    /// `tojson` stops writing where the budget ends (a list of one shared megabyte string,
    /// forty times), and the render is refused for its budget.
    #[test]
    fn json_past_the_budget_runs_out_of_it() {
        let source = "{% set s = 'x' * 1000000 %}{% set l = [s, s, s, s, s, s, s, s, s, s] %}{{ (l + l + l + l) | tojson | length }}";
        assert!(matches!(refused(source), Failure::Budget(_)));
        assert_eq!(run("{{ ['x' * 1000] | tojson | length }}").unwrap(), "1004");
    }

    #[test]
    fn a_panic_in_the_engine_is_caught_and_reported() {
        let mut env = env();
        env.add_filter("boom", |_: Value| -> Result<Value, Error> {
            panic!("boom at the filter")
        });
        env.add_template_owned("t", "{{ 1 | boom }}".to_string()).unwrap();
        let t = env.get_template("t").unwrap();
        match render(&t, &Value::from(())) {
            Err(Failure::Panic(message)) => assert_eq!(message, "boom at the filter"),
            other => panic!("{other:?}"),
        }
        // The thread renders again afterwards.
        env.add_template_owned("u", "{{ 1 + 1 }}".to_string()).unwrap();
        assert_eq!(render(&env.get_template("u").unwrap(), &Value::from(())).unwrap(), "2");
    }

    #[test]
    fn output_is_refused_at_the_limit_not_after_it() {
        let source = "{% for i in range(100000) %}{{ 'x' * 10000 }}\n{% endfor %}";
        assert!(matches!(refused(source), Failure::TooLarge(_)));
    }
}
