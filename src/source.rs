//! Source files as fleetgen read them, and positions inside them.
//!
//! Paths are always relative to the repository root and spelled with `/`, so that
//! diagnostics and output are the same on every machine and in every working directory.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(u32);

/// A byte range inside one source file.
pub type Span = Range<usize>;

/// One file's text with a line index. Lines end at LF, CRLF or a lone CR, as YAML (and
/// the parser's locations) count them.
#[derive(Debug)]
pub struct SourceFile {
    pub path: String,
    pub text: Arc<str>,
    line_starts: Vec<usize>,
    /// Whether each line is ASCII: its columns are then its bytes, found without a walk
    /// along the line (a flow sequence of 10,000 items is one line, and each item's
    /// position is asked for).
    ascii_lines: Vec<bool>,
    /// The BLAKE3 hash of the text, made when first asked for (see [`SourceFile::digest`]).
    digest: OnceLock<[u8; 32]>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0];
        let mut ascii_lines = Vec::new();
        let mut ascii = true;
        let bytes = text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            ascii &= b.is_ascii();
            let lone_cr = b == b'\r' && bytes.get(i + 1) != Some(&b'\n');
            if b == b'\n' || lone_cr {
                line_starts.push(i + 1);
                ascii_lines.push(ascii);
                ascii = true;
            }
        }
        ascii_lines.push(ascii);
        SourceFile {
            path: path.into(),
            text,
            line_starts,
            ascii_lines,
            digest: OnceLock::new(),
        }
    }

    /// The BLAKE3 hash of the text, made once: the parse memo, the schema memo and the cache
    /// keys each hash it under a domain of their own (`load::memo::digest`,
    /// `load::schema::digest`, `incremental::key`), rather than the whole text three times.
    pub fn digest(&self) -> [u8; 32] {
        *self
            .digest
            .get_or_init(|| *blake3::hash(self.text.as_bytes()).as_bytes())
    }

    /// Where 0-based line `line`'s first column is: its start, after the byte order mark
    /// on the first line (which YAML readers and editors do not count as a column).
    fn line_start(&self, line: usize) -> usize {
        match line {
            0 if self.text.starts_with('\u{feff}') => '\u{feff}'.len_utf8(),
            _ => self.line_starts[line],
        }
    }

    /// The byte range of 0-based line `line`, without its line break (and byte order mark).
    fn line_range(&self, line: usize) -> Range<usize> {
        let start = self.line_start(line);
        let mut end = self.line_starts.get(line + 1).copied().unwrap_or(self.text.len());
        let bytes = self.text.as_bytes();
        if end > start && bytes[end - 1] == b'\n' {
            end -= 1;
        }
        if end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
    }

    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(offset);
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_start(line).min(offset);
        let column = if self.ascii_lines[line] {
            offset - start
        } else {
            self.text[start..offset].chars().count()
        } + 1;
        (line + 1, column)
    }

    /// Byte offset of a 1-based line and 1-based character column; clamped to the text.
    pub fn offset(&self, line: usize, column: usize) -> usize {
        let index = line.saturating_sub(1);
        if index >= self.line_starts.len() {
            return self.text.len();
        }
        let range = self.line_range(index);
        let column = column.saturating_sub(1);
        if self.ascii_lines[index] {
            return range.start + column.min(range.len());
        }
        self.text[range.clone()]
            .char_indices()
            .nth(column)
            .map_or(range.end, |(i, _)| range.start + i)
    }

    /// The byte span of `chars` characters starting at a 1-based line and column.
    pub fn span_at(&self, line: usize, column: usize, chars: usize) -> Span {
        let start = self.offset(line, column);
        let len: usize = self.text[start..].chars().take(chars).map(char::len_utf8).sum();
        start..start + len
    }

    fn clamp(&self, mut offset: usize) -> usize {
        offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

/// Every file read in one run.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).expect("fewer than 2^32 files"));
        self.files.push(file);
        id
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Every file with its id, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn find(&self, path: &str) -> Option<FileId> {
        self.files.iter().position(|f| f.path == path).map(|i| FileId(i as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let f = SourceFile::new("a.yaml", "a: 1\nname: café x\n");
        let x = f.text.find('x').unwrap();
        assert_eq!(f.line_col(x), (2, 12));
        assert_eq!(f.offset(2, 12), x);
        assert_eq!(f.line_col(0), (1, 1));
    }

    #[test]
    fn span_at_measures_multibyte_characters() {
        let f = SourceFile::new("a.yaml", "name: café\n");
        let span = f.span_at(1, 7, 4);
        assert_eq!(&f.text[span], "café");
    }

    #[test]
    fn a_lone_cr_ends_a_line_as_lf_and_crlf_do() {
        for text in ["a: 1\rname: x\r", "a: 1\nname: x\n", "a: 1\r\nname: x\r\n"] {
            let f = SourceFile::new("a.yaml", text);
            let x = f.text.find('x').unwrap();
            assert_eq!(f.line_col(x), (2, 7), "{text:?}");
            assert_eq!(f.offset(2, 7), x, "{text:?}");
            assert_eq!(f.offset(1, 9), 4, "{text:?}: the end of line 1");
        }
    }

    #[test]
    fn ascii_and_other_lines_agree_on_offsets_and_columns() {
        let f = SourceFile::new("a.yaml", "a: [1, 2]\r\nb: [é, x]\n\nc: 3");
        for (i, _) in f.text.char_indices().filter(|(_, c)| !matches!(c, '\r' | '\n')) {
            let (line, col) = f.line_col(i);
            assert_eq!(f.offset(line, col), i, "offset {i} at {line}:{col}");
        }
        assert_eq!(f.offset(2, 99), f.text.find("]\n").unwrap() + 1, "the end of line 2");
        assert_eq!(f.offset(3, 5), f.text.find("\n\nc").unwrap() + 1, "an empty line");
    }

    /// A byte order mark is not a column: YAML readers place `Bad_Id` at 1:12, and so must
    /// the offset found from that and the column given back.
    #[test]
    fn a_byte_order_mark_is_no_column() {
        let f = SourceFile::new("x.yaml", "\u{feff}clusterId: Bad_Id\nb: 1\n");
        let at = f.offset(1, 12);
        assert_eq!(&f.text[at..at + 6], "Bad_Id");
        assert_eq!(f.line_col(at), (1, 12));
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.offset(1, 1), 3);
        assert_eq!(f.line_col(f.offset(2, 1)), (2, 1));
    }

    #[test]
    fn offsets_past_the_end_are_clamped() {
        let f = SourceFile::new("a.yaml", "a: 1");
        assert_eq!(f.offset(9, 1), 4);
        assert_eq!(f.offset(1, 99), 4);
        assert_eq!(f.line_col(99), (1, 5));
    }
}
