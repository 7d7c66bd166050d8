//! Control characters from inputs, made visible before a diagnostic reaches a terminal.
//!
//! Messages quote input (an id, a key, a template's error), and text reports show the
//! source lines. An input with `ESC [ … m` in it would recolour or rewrite the terminal
//! of whoever runs fleetgen, and a newline in a message would forge a line of `--format
//! concise` output (a fake `file:line:col: error…` a CI log parser believes). So every
//! control character (C0, DEL, C1) and every bidirectional-override character in what
//! the text and concise formats print is written as an escape (`\u{1b}`, `\n`).
//!
//! Source snippets keep their line breaks and tabs; a lone CR (old Mac line endings) is
//! shown as a line break, which it is (see [`crate::source`]).

use std::borrow::Cow;
use std::sync::Arc;

use miette::NamedSource;

use crate::source::Span;

/// Whether `c` must not reach a terminal as itself.
fn is_hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// One line of text with every control character escaped (line breaks included).
pub fn line(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hidden(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text of several lines (a help, a label): line breaks kept, other controls escaped.
pub fn lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_hidden(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c != '\n' && is_hidden(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A source file's text as a snippet shows it, and where its spans moved.
pub struct Source {
    pub text: String,
    pub map: SpanMap,
}

/// Where the spans of an original text are in the escaped one.
pub struct SpanMap {
    /// (offset in the original after an escaped character, bytes added up to there), in order.
    shifts: Vec<(usize, usize)>,
}

impl Source {
    /// The text with line breaks (LF, CRLF, a lone CR shown as LF) and tabs kept and every
    /// other control character escaped; `None` when there is nothing to change.
    pub fn new(text: &str) -> Option<Source> {
        let bytes = text.as_bytes();
        let needs = text
            .char_indices()
            .any(|(i, c)| c != '\n' && c != '\t' && is_hidden(c) && !(c == '\r' && bytes.get(i + 1) == Some(&b'\n')));
        if !needs {
            return None;
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut shifts = Vec::new();
        let mut added = 0;
        for (i, c) in text.char_indices() {
            match c {
                '\n' | '\t' => out.push(c),
                '\r' if bytes.get(i + 1) == Some(&b'\n') => out.push(c),
                // Same length: spans do not move.
                '\r' => out.push('\n'),
                c if is_hidden(c) => {
                    let before = out.len();
                    push_escape(&mut out, c);
                    added += out.len() - before - c.len_utf8();
                    shifts.push((i + c.len_utf8(), added));
                }
                c => out.push(c),
            }
        }
        Some(Source {
            text: out,
            map: SpanMap { shifts },
        })
    }
}

impl SpanMap {
    /// Where an offset of the original text is in the shown one.
    fn offset(&self, at: usize) -> usize {
        let i = self.shifts.partition_point(|(o, _)| *o <= at);
        at + if i == 0 { 0 } else { self.shifts[i - 1].1 }
    }

    /// A span of the original text, in the shown one.
    pub fn span(&self, span: &Span) -> Span {
        self.offset(span.start)..self.offset(span.end)
    }
}

/// A source file as a snippet shows it (control characters escaped, see this module), and
/// how its spans map into that.
pub fn shown(path: &str, text: &Arc<str>) -> (NamedSource<Arc<str>>, impl Fn(&Span) -> Span + use<>) {
    let name = line(path).into_owned();
    let (text, map) = match Source::new(text) {
        Some(e) => (Arc::from(e.text), Some(e.map)),
        None => (Arc::clone(text), None),
    };
    let map = move |span: &Span| map.as_ref().map_or_else(|| span.clone(), |m| m.span(span));
    (NamedSource::new(name, text), map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_plain_text_is_untouched() {
        assert!(matches!(line("unknown profile `aks`"), Cow::Borrowed(_)));
        assert_eq!(
            line("a\u{1b}[31mred\nx.yaml:1:1: error"),
            "a\\u{1b}[31mred\\nx.yaml:1:1: error"
        );
        assert_eq!(line("\u{9b}2J\u{202e}"), "\\u{9b}2J\\u{202e}");
        assert_eq!(lines("one\ntwo\u{7}"), "one\ntwo\\u{7}");
    }

    #[test]
    fn a_source_keeps_its_lines_and_its_spans_follow_the_escapes() {
        let text = "a: 1\r\nb: \u{1b}[2Jx\rc: y\n";
        let s = Source::new(text).unwrap();
        assert_eq!(s.text, "a: 1\r\nb: \\u{1b}[2Jx\nc: y\n");
        let x = text.find('x').unwrap();
        let y = text.find('y').unwrap();
        assert_eq!(&s.text[s.map.span(&(x..x + 1))], "x");
        assert_eq!(&s.text[s.map.span(&(y..y + 1))], "y");
        assert!(Source::new("plain: text\r\n\tand tabs\n").is_none());
    }
}
