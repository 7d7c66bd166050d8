//! A small, deterministic YAML writer for rendered objects.
//!
//! Block style, two-space indentation, sequences indented under their key. A string is
//! written plain only when every YAML 1.1 and 1.2 reader takes it back as the same string:
//! anything that could read as a boolean, null, number, date or time (`on`, `NO`, `1.20`,
//! `2026-07-03`, `12:30`), or that starts with an indicator, is double-quoted.
//! Multi-line strings use literal blocks.

use serde_json::Value;

/// Appends `value` as a YAML document body (no `---`) to `out`.
pub fn write(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) if !map.is_empty() => write_map(out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(out, items, 0),
        // A block scalar's lines are indented even at the top, where `---`, `...` or `%`
        // at the start of a line would end the document.
        scalar => {
            write_scalar(out, scalar, 2);
            out.push('\n');
        }
    }
}

/// `value` as a YAML string.
#[cfg(test)]
pub fn to_string(value: &Value) -> String {
    let mut s = String::new();
    write(&mut s, value);
    s
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, level: usize) {
    for (i, (k, v)) in map.iter().enumerate() {
        // The first key of a sequence item follows its `- ` on the same line.
        if i > 0 || !out.ends_with("- ") {
            indent(out, level);
        }
        write_key(out, k, level);
        write_value_after_key(out, v, level);
    }
}

/// A map's key and its `:`. A key is plain or quoted, never a block scalar (which cannot
/// be a key). YAML limits a key written as `key:` to 1024 characters; a longer one is
/// written as an explicit `? key` with its `:` on the next line.
fn write_key(out: &mut String, k: &str, level: usize) {
    let start = out.len();
    if is_plain_safe(k) {
        out.push_str(k);
    } else {
        write_quoted(out, k);
    }
    if out.len() - start > MAX_IMPLICIT_KEY {
        out.insert_str(start, "? ");
        out.push('\n');
        indent(out, level);
    }
    out.push(':');
}

/// A value of [`entry`].
#[derive(Clone, Copy, Debug)]
pub enum Scalar<'a> {
    Str(&'a str),
    Uint(u64),
    Null,
}

/// One entry of a map whose shape the writer knows, at `level`: `key: value`, or with no
/// value `key:` and a line break, for a map nested under it at `level + 2`. The same text
/// [`write`] makes of a `serde_json` map with that entry, without building the map (the
/// placement matrix writes 30,678 rows at 1000 × 2000 this way). As there, the first key
/// of a list item follows its `- `.
pub fn entry(out: &mut String, level: usize, key: &str, value: Option<Scalar>) {
    if !out.ends_with("- ") {
        indent(out, level);
    }
    write_key(out, key, level);
    match value {
        None => out.push('\n'),
        Some(scalar) => {
            out.push(' ');
            match scalar {
                Scalar::Str(s) => write_string(out, s, level + 2),
                Scalar::Uint(n) => {
                    use std::fmt::Write as _;
                    let _ = write!(out, "{n}");
                }
                Scalar::Null => out.push_str("null"),
            }
            out.push('\n');
        }
    }
}

/// The longest key, in bytes as written, in the `key: value` form: YAML limits such a key
/// to 1024 characters; counting bytes keeps readers that count bytes safe too.
const MAX_IMPLICIT_KEY: usize = 1000;

fn write_value_after_key(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, level + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, level + 2);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar, level + 2);
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], level: usize) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !out.ends_with("- ") {
            indent(out, level);
        }
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => write_map(out, m, level + 2),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, level + 2),
            scalar => {
                write_scalar(out, scalar, level + 2);
                out.push('\n');
            }
        }
    }
}

fn write_scalar(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s, level),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

fn write_string(out: &mut String, s: &str, level: usize) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if is_literal_safe(s) {
        write_literal(out, s, level);
    } else {
        write_quoted(out, s);
    }
}

fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    // Most quoted strings (`"true"`, `"8080"`, a label value with a space) escape nothing.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if !is_printable(c) || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// YAML's printable characters (`c-printable`): what may appear in a document unescaped.
/// Tab, LF and CR are printable too, but every caller handles them itself.
fn is_printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// Multi-line text without characters a literal block cannot hold. NEL and the Unicode
/// line and paragraph separators are line breaks to YAML 1.1 readers: not in a block.
fn is_literal_safe(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\t', '\n'])
        && s.chars()
            .all(|c| c == '\n' || (is_printable(c) && !matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')))
        && !s.lines().any(|l| l.ends_with([' ', '\t']))
}

fn write_literal(out: &mut String, s: &str, level: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
    // The caller ends the line.
}

/// Whether `s` can be written without quotes and read back as the same string by YAML 1.1
/// and 1.2 readers alike.
pub fn is_plain_safe(s: &str) -> bool {
    let bytes = s.as_bytes();
    // Most strings are names, keys and label values made of letters, digits and `._/-`:
    // none of those is an indicator except a leading `-`, and only a number, a date or
    // one of the short words can be mistaken for another type.
    if !bytes.is_empty() && bytes.iter().all(|&b| SIMPLE[usize::from(b)]) {
        return match bytes[0] {
            b'-' => false,
            // A letter first: no number, date or time, so only the words (of five letters
            // at most) are another type.
            b if b.is_ascii_alphabetic() => bytes.len() > 5 || !is_word(s),
            _ => !looks_like_other_type(s),
        };
    }
    // Otherwise one pass over the bytes of ASCII text.
    if !s.is_ascii() {
        return is_plain_safe_unicode(s);
    }
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    // `-` alone or `-x`: plain is legal for `-x`, but `-1`, `-.5` are numbers; keep it simple.
    if b"-?:,[]{}#&*!|>'\"%@`~ \t".contains(&first) || matches!(last, b' ' | b'\t' | b':') {
        return false;
    }
    let mut prev = 0u8;
    for &b in bytes {
        // Control characters (newlines and tabs among them), `: ` and ` #`.
        if b < 0x20 || b == 0x7f || (prev == b':' && b == b' ') || (prev == b' ' && b == b'#') {
            return false;
        }
        prev = b;
    }
    !looks_like_other_type(s)
}

fn is_plain_safe_unicode(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@`~ \t".contains(first) {
        return false;
    }
    if s.ends_with([' ', '\t', ':']) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.contains(['\n', '\r', '\t']) {
        return false;
    }
    if s.chars()
        .any(|c| !is_printable(c) || c == '\u{feff}' || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}')
    {
        return false;
    }
    !looks_like_other_type(s)
}

/// Bytes of [`is_plain_safe`]'s common case: ASCII letters, digits, `.`, `_`, `/` and `-`.
static SIMPLE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || c == b'/' || c == b'-';
        b += 1;
    }
    table
};

/// A boolean, null, NaN or infinity of YAML 1.1 or 1.2, in any case (`No`, `TRUE`): five
/// letters at most.
fn is_word(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "nan", "inf",
    ];
    s.len() <= 5 && WORDS.iter().any(|x| x.eq_ignore_ascii_case(s))
}

/// Booleans, nulls, numbers, dates and times of YAML 1.1 and 1.2. Deliberately broad: a
/// string that merely starts like a number (`1.20`, `2026.07.03-1421`, `0x1F`, `12:30`) is
/// quoted.
fn looks_like_other_type(s: &str) -> bool {
    // YAML 1.1's merge key and value key: PyYAML resolves them to tags it cannot construct.
    if s == "<<" || s == "=" {
        return true;
    }
    let bare = s.trim_start_matches(['+', '-', '.']);
    if is_word(s) || is_word(bare) {
        return true;
    }
    match bare.chars().next() {
        // A digit first: quote unless it has a letter that no number, date or time has.
        Some(c) if c.is_ascii_digit() => !s
            .chars()
            .any(|c| c.is_ascii_alphabetic() && !"eExXoObBaAcCdDfFtTzZ".contains(c)),
        None => true, // only signs and dots
        _ => s.starts_with(['+', '.']),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "on",
            "No",
            "YES",
            "y",
            "~",
            "null",
            "1.20",
            "0755",
            "1e3",
            "0x1F",
            "12:30",
            "2026-07-03",
            "2026.07.03-1421",
            "-1",
            ".5",
            ".inf",
            "",
            " x",
            "x ",
            "a: b",
            "a #b",
            "*x",
            "&a",
            "!t",
            "- x",
            "@x",
        ] {
            assert!(!is_plain_safe(s), "{s:?} must be quoted");
        }
        for s in [
            "web",
            "checkout-api",
            "/healthz/ready",
            "http://x.y/z",
            "app.kubernetes.io/name",
            "v1",
            "1g",
            "abc1",
        ] {
            assert!(is_plain_safe(s), "{s:?} can be plain");
        }
    }

    #[test]
    fn writes_block_style_with_indented_sequences() {
        let v = json!({
            "apiVersion": "v1",
            "kind": "List",
            "items": [{"a": 1, "b": [true, null]}, "x", []],
            "empty": {},
            "text": "line one\nline two\n",
            "version": "1.20",
        });
        let expected = "apiVersion: v1\nkind: List\nitems:\n  - a: 1\n    b:\n      - true\n      - null\n  - x\n  - []\nempty: {}\ntext: |\n  line one\n  line two\nversion: \"1.20\"\n";
        assert_eq!(to_string(&v), expected);
    }

    #[test]
    fn output_reads_back_as_the_same_data() {
        let v = json!({
            "long key": { "k".repeat(2000): [{ "é".repeat(600): 1 }] },
            "s": ["on", "1.20", "a\"b\\c", "#a\"b\\c", "\"quoted\"", "tab\there", "multi\n  indented\nlines", "trailing\n\n", "ünï", "\u{1}", "\u{ffff}", "a\u{fffe}\nb", "\u{85}x", "x\u{2028}\ny"],
            "n": [1, -2, 3.5],
            "nested": [[1, 2], [{"k": "v"}]],
            "yes": "no",
        });
        let text = to_string(&v);
        let back: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back, v, "{text}");
    }

    /// An entry written on its own is the text the general writer makes of it, whatever
    /// the key and the value need (quotes, a block scalar, `? ` for a long key), at the top
    /// or as the first and later keys of a nested list item.
    #[test]
    fn entries_are_what_the_map_writer_makes_of_them() {
        let long_key = "k".repeat(1200);
        let keys = ["app", "on", "a: b", long_key.as_str()];
        let values = [
            Some(Scalar::Str("plain")),
            Some(Scalar::Str("")),
            Some(Scalar::Str("2026.07.03-1421")),
            Some(Scalar::Str("#x \"y\"")),
            Some(Scalar::Str("two\nlines\n")),
            Some(Scalar::Uint(u64::MAX)),
            Some(Scalar::Null),
        ];
        let as_json = |v: Scalar| match v {
            Scalar::Str(s) => json!(s),
            Scalar::Uint(n) => json!(n),
            Scalar::Null => Value::Null,
        };
        for key in keys {
            for value in values.iter().flatten() {
                let mut one = String::new();
                entry(&mut one, 0, key, Some(*value));
                assert_eq!(one, to_string(&json!({ key: as_json(*value) })));
                // As the first and second keys of a list item, with a map under the second.
                let mut item = String::from("list:\n  - ");
                entry(&mut item, 4, key, Some(*value));
                entry(&mut item, 4, "nested", None);
                entry(&mut item, 6, key, Some(*value));
                let map = json!({ "list": [{ key: as_json(*value), "nested": { key: as_json(*value) } }] });
                assert_eq!(item, to_string(&map));
            }
        }
    }
}
