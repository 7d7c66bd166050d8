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

use miette::{MietteError, MietteSpanContents, NamedSource, SourceCode, SourceSpan, SpanContents};

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
    /// Where each escape is in the shown text (start, end): one character of the original.
    pub escapes: Vec<(usize, usize)>,
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
        let mut escapes = Vec::new();
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
                    escapes.push((before, out.len()));
                    added += out.len() - before - c.len_utf8();
                    shifts.push((i + c.len_utf8(), added));
                }
                c => out.push(c),
            }
        }
        Some(Source {
            text: out,
            map: SpanMap { shifts },
            escapes,
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
/// how its spans map into that. Made once per file for all of its diagnostics.
pub struct Shown {
    name: String,
    snippet: Snippet,
    map: Option<SpanMap>,
}

impl Shown {
    pub fn new(path: &str, text: &Arc<str>) -> Shown {
        let (text, map, escapes) = match Source::new(text) {
            Some(e) => (Arc::from(e.text), Some(e.map), e.escapes),
            None => (Arc::clone(text), None, Vec::new()),
        };
        Shown {
            name: line(path).into_owned(),
            snippet: Snippet::new(text, escapes),
            map,
        }
    }

    /// The text for miette, named (sharing the text and its line index).
    pub fn source(&self) -> NamedSource<Snippet> {
        NamedSource::new(self.name.clone(), self.snippet.clone())
    }

    /// A span of the original text, in the shown one.
    pub fn span(&self, span: &Span) -> Span {
        self.map.as_ref().map_or_else(|| span.clone(), |m| m.span(span))
    }
}

/// A shown text with its line index, as miette reads snippets. miette's reader of a `str`
/// walks the text from its start for every snippet (printing 10,000 diagnostics of one file
/// took 35 s), and counts the header's column in bytes. This one reads only the lines around
/// the span, the same way, and counts the column in characters, not counting a byte order
/// mark, as [`crate::source::SourceFile::line_col`] does.
#[derive(Clone)]
pub struct Snippet {
    text: Arc<str>,
    /// Where each line starts: after LF, CRLF or a lone CR, as miette counts lines.
    line_starts: Arc<[usize]>,
    /// Where each escape is (start, end), in order: a column counts it as the one
    /// character of the original it shows.
    escapes: Arc<[(usize, usize)]>,
}

impl Snippet {
    fn new(text: Arc<str>, escapes: Vec<(usize, usize)>) -> Snippet {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                line_starts.push(i + 1);
            }
        }
        Snippet {
            text,
            line_starts: line_starts.into(),
            escapes: escapes.into(),
        }
    }

    /// The bytes miette reads for a span and its context lines, and a line more on each side
    /// (it stops after the lines it needs, and an empty span at a line's start reads the
    /// line break before it).
    fn window(&self, start: usize, end: usize, before: usize, after: usize) -> (usize, usize) {
        let first = self.line_of(start).saturating_sub(before + 1);
        let to = (self.line_starts.get(self.line_of(end) + after + 2))
            .copied()
            .unwrap_or(self.text.len());
        (self.line_starts[first], to)
    }

    /// The 0-based line holding `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset) - 1
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let (start, end) = (span.offset(), span.offset() + span.len());
        if end > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let (from, to) = self.window(start, end, context_lines_before, context_lines_after);
        let first = self.line_of(from);
        let window = &self.text.as_bytes()[from..to];
        let inner = window.read_span(
            &(start - from, span.len()).into(),
            context_lines_before,
            context_lines_after,
        )?;
        let column = match context_lines_before {
            // The header's position: characters from the line's start.
            0 => {
                let line_start = self.line_starts[self.line_of(start)];
                let before = &self.text.as_bytes()[line_start..start];
                let bom = line_start == 0 && before.starts_with("\u{feff}".as_bytes());
                // An escape before the span on its line is one character of the original.
                let from = self.escapes.partition_point(|(e, _)| *e < line_start);
                let to = self.escapes.partition_point(|(e, _)| *e < start);
                let shown_more: usize = self.escapes[from..to].iter().map(|(a, b)| b - a - 1).sum();
                before.iter().filter(|&&b| b & 0xc0 != 0x80).count() - usize::from(bom) - shown_more
            }
            _ => inner.column(),
        };
        Ok(Box::new(MietteSpanContents::new(
            inner.data(),
            (from + inner.span().offset(), inner.span().len()).into(),
            first + inner.line(),
            column,
            first + inner.line_count(),
        )))
    }
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

    /// A snippet reads what miette's reader of the whole text reads, for every span and
    /// number of context lines, from a window of the lines around the span (miette's walked
    /// the text from its start for each: quadratic in a file's diagnostics); the header's
    /// column is in characters, a byte order mark not counted.
    #[test]
    fn a_snippet_reads_what_miette_reads_from_the_lines_around() {
        let text = "a: 1\r\nbb: [x, y]\rc: zz\n\n  d: é1\ne: 2";
        let snippet = Snippet::new(Arc::from(text), Vec::new());
        let boundaries: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
        for &start in &boundaries {
            for &end in boundaries.iter().filter(|&&end| end >= start) {
                for (before, after) in [(0, 0), (1, 1), (2, 2), (0, 3)] {
                    let span: SourceSpan = (start, end - start).into();
                    let ours = snippet.read_span(&span, before, after);
                    let theirs = text.read_span(&span, before, after);
                    let (Ok(ours), Ok(theirs)) = (ours, theirs) else {
                        continue;
                    };
                    let at = format!("{start}..{end} ({before}, {after})");
                    assert_eq!(ours.data(), theirs.data(), "{at}");
                    assert_eq!(ours.span(), theirs.span(), "{at}");
                    assert_eq!(ours.line(), theirs.line(), "{at}");
                    assert_eq!(ours.line_count(), theirs.line_count(), "{at}");
                    // (Between the CR and the LF of a CRLF, the line is the one the CRLF ends.)
                    if text[..start].ends_with('\r') && text[start..].starts_with('\n') {
                        continue;
                    }
                    let line_start = text[..start].rfind(['\n', '\r']).map_or(0, |i| i + 1);
                    let column = if before == 0 {
                        text[line_start..start].chars().count()
                    } else {
                        0
                    };
                    assert_eq!(ours.column(), column, "{at}");
                }
            }
        }
        // A span deep in a long text is read from its lines, not from the start.
        let long: String = (0..10_000).map(|i| format!("k{i}: 1\n")).collect();
        let snippet = Snippet::new(Arc::from(long.as_str()), Vec::new());
        let start = long.find("k5000:").unwrap();
        let (first, last) = snippet.window(start, start + 5, 1, 1);
        assert!(last - first < 100, "{first}..{last}");
        let read = snippet.read_span(&(start, 5).into(), 1, 1).unwrap();
        assert_eq!(
            std::str::from_utf8(read.data()).unwrap(),
            "k4999: 1\nk5000: 1\nk5001: 1\n"
        );
        // The byte order mark takes no column.
        let bom = Snippet::new(Arc::from("\u{feff}clusterId: Bad_Id\n"), Vec::new());
        assert_eq!(bom.read_span(&(14, 6).into(), 0, 0).unwrap().column(), 11);
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

    /// The header's column counts an escape as the one character of the original it shows,
    /// as `concise` and JSON count columns.
    #[test]
    fn an_escape_is_one_column() {
        let text = "note: \"x\u{202e}y\", engine: bogus\n";
        let shown = Shown::new("f.yaml", &Arc::from(text));
        let at = text.find("bogus").unwrap();
        let span = shown.span(&(at..at + 5));
        let read = shown.snippet.read_span(&(span.start, 5).into(), 0, 0).unwrap();
        assert_eq!(read.column(), text[..at].chars().count());
    }
}
