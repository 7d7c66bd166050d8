//! The YAML that templates write, read without the general parser.
//!
//! A template's output is block mappings and sequences of one-line values: plain words and
//! numbers, quoted strings, and the JSON that `tojson` writes (a flow collection on one
//! line). serde-saphyr reads any YAML, at about 90 instructions a byte; this reads that
//! subset at a fraction of it, and gives up (`None`) on anything else: a tab, a carriage
//! return, a byte outside printable ASCII, an anchor, alias or tag, a block scalar, a
//! value over more than one line, a repeated key, a scalar whose type it does not settle
//! by its spelling alone, nesting past [`MAX_DEPTH`]. The caller then parses the text with
//! serde-saphyr, which also makes every error message. So a text this reads gives the value
//! serde-saphyr gives it (with `load::yaml`'s options), and a text it does not read costs
//! one scan more than before: the module's tests and the `yaml_subset` fuzz target compare
//! the two on every text they try.

use serde_json::{Map, Number, Value};

/// Nesting of collections past which the general parser decides (its own limit is 64).
const MAX_DEPTH: usize = 32;

/// A key whose text runs this long is left to the general parser (a simple key's
/// look-ahead is limited to 1,024 characters there).
const MAX_KEY: usize = 512;

/// The value of `text`, when it is in the subset.
pub fn parse(text: &str) -> Option<Value> {
    // Printable ASCII and line feeds only: no tab (an error in indentation), no carriage
    // return, no other control character, no character whose YAML class needs a table.
    if !text.bytes().all(|b| b == b'\n' || (b' '..=b'~').contains(&b)) {
        return None;
    }
    let mut lines = Vec::new();
    for line in text.split('\n') {
        let body = line.trim_end_matches(' ');
        let content = body.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = body.len() - content.len();
        // Directives and document markers are the general parser's.
        if indent == 0 && (content.starts_with('%') || content.starts_with("---") || content.starts_with("...")) {
            return None;
        }
        lines.push(Line { indent, content });
    }
    if lines.is_empty() {
        return None;
    }
    // A document that is one scalar is the general parser's (its look-ahead for a key
    // differs there; no object is one).
    let first = lines[0].content;
    if !is_item(first) && entry(first)?.is_none() {
        return None;
    }
    let mut reader = Reader { lines, at: 0 };
    let value = reader.node(None, 0)?;
    // Every line read. A line left over is indented where no collection takes it: past a
    // value written on its key's or dash's line (a value over lines, or an error), or
    // between two collections' columns.
    (reader.at == reader.lines.len()).then_some(value)
}

/// A line with content: where it starts, and what follows the indentation (trailing
/// spaces removed).
#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    content: &'a str,
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.at).copied()
    }

    /// The node that starts at the current line, which is indented more than `parent`.
    fn node(&mut self, parent: Option<usize>, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let line = self.peek()?;
        if parent.is_some_and(|p| line.indent <= p) {
            return None;
        }
        if is_item(line.content) {
            return self.sequence(line.indent, depth);
        }
        if entry(line.content)?.is_some() {
            return self.mapping(line.indent, depth);
        }
        // A value on a line of its own (a sequence item's, or the whole document).
        self.at += 1;
        inline(line.content, depth)
    }

    /// A block mapping whose keys are at column `indent`.
    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Value> {
        let mut map = Map::new();
        while let Some(line) = self.peek().filter(|l| l.indent == indent) {
            let (key, rest) = entry(line.content)??;
            self.at += 1;
            let value = if rest.is_empty() || rest.starts_with('#') {
                match self.peek() {
                    Some(next) if next.indent > indent => self.node(Some(indent), depth + 1)?,
                    // A sequence may sit at its key's own column.
                    Some(next) if next.indent == indent && is_item(next.content) => self.sequence(indent, depth + 1)?,
                    _ => Value::Null,
                }
            } else {
                inline(rest, depth + 1)?
            };
            if map.insert(key, value).is_some() {
                // A repeated key: the general parser says where.
                return None;
            }
        }
        Some(Value::Object(map))
    }

    /// A block sequence whose `-` are at column `indent`.
    fn sequence(&mut self, indent: usize, depth: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.peek().filter(|l| l.indent == indent && is_item(l.content)) {
            let rest = line.content[1..].trim_start_matches(' ');
            if rest.is_empty() || rest.starts_with('#') {
                self.at += 1;
                items.push(match self.peek() {
                    Some(next) if next.indent > indent => self.node(Some(indent), depth + 1)?,
                    _ => Value::Null,
                });
            } else {
                // The item's content starts a node at its own column ("- key: value" is a
                // mapping whose keys are at that column).
                let column = indent + (line.content.len() - rest.len());
                self.lines[self.at] = Line {
                    indent: column,
                    content: rest,
                };
                items.push(self.node(Some(indent), depth + 1)?);
            }
        }
        Some(Value::Array(items))
    }
}

/// `- …` or a lone `-`: a sequence item.
fn is_item(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// A mapping entry's key and what follows its `:` (leading spaces removed): `Some(None)`
/// when the line is not an entry (a scalar or a flow collection), `None` when the line is
/// outside the subset.
fn entry(content: &str) -> Option<Option<(String, &str)>> {
    let bytes = content.as_bytes();
    let key = match bytes[0] {
        b'"' | b'\'' => quoted(content),
        b if b.is_ascii_alphabetic() || b == b'_' => {
            let len = bytes.iter().position(|&b| !is_key_byte(b)).unwrap_or(bytes.len());
            let key = &content[..len];
            (!matches!(key, "null" | "Null" | "NULL")).then(|| (key.to_string(), len))
        }
        _ => None,
    };
    match key {
        Some((key, len)) if is_entry_colon(&content[len..]) => {
            (len <= MAX_KEY).then(|| Some((key, content[len + 1..].trim_start_matches(' '))))
        }
        // Not `key:`. A line that still holds `: ` (or ends in `:`) has a key this does not
        // read, or is an error.
        _ if content.contains(": ") || content.ends_with(':') => None,
        _ => Some(None),
    }
}

/// `:` followed by a space or the end of the line.
fn is_entry_colon(after: &str) -> bool {
    after == ":" || after.starts_with(": ")
}

/// A plain key's bytes: what Kubernetes keys and label names are made of.
fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/')
}

/// A value written on one line after `key: ` or `- `: a quoted string, a flow collection
/// or a plain scalar, and at most a comment after it.
fn inline(text: &str, depth: usize) -> Option<Value> {
    match text.as_bytes()[0] {
        b'"' | b'\'' => {
            let (value, len) = quoted(text)?;
            end_of_line(&text[len..])?;
            Some(Value::String(value))
        }
        b'[' | b'{' => {
            let mut flow = Flow { text, at: 0 };
            let value = flow.collection(depth)?;
            end_of_line(&text[flow.at..])?;
            Some(value)
        }
        _ => {
            let value = match text.find(" #") {
                Some(i) => text[..i].trim_end_matches(' '),
                None => text,
            };
            if value.contains(": ") || value.ends_with(':') {
                return None;
            }
            plain(value)
        }
    }
}

/// Nothing, or spaces and perhaps a comment (a `#` right after a value is not one).
fn end_of_line(rest: &str) -> Option<()> {
    let trimmed = rest.trim_start_matches(' ');
    let ok = rest.is_empty() || (trimmed.len() < rest.len() && (trimmed.is_empty() || trimmed.starts_with('#')));
    ok.then_some(())
}

/// A plain scalar's value, when its spelling settles its type without the general
/// parser's number rules: the null and boolean words, a decimal integer, a word that starts
/// with a letter, and a numeral-like word with a character no number has (`25%`).
fn plain(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    match text {
        "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    let first = *bytes.first()?;
    if first.is_ascii_alphabetic() || first == b'_' || first == b'/' {
        return Some(Value::String(text.to_string()));
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
    {
        let n: i64 = text.parse().ok()?;
        return Some(Value::Number(Number::from(n)));
    }
    // Starts like a number but holds a byte that no integer, float or radix spelling has
    // (`%`, a space, a letter past `f` but the radix letters): the general parser's every
    // numeric reading fails, and it is a string.
    let numeric =
        |b: u8| b.is_ascii_hexdigit() || matches!(b, b'+' | b'-' | b'.' | b'_' | b':' | b'x' | b'X' | b'o' | b'O');
    if first.is_ascii_digit() && !bytes.iter().all(|&b| numeric(b)) {
        return Some(Value::String(text.to_string()));
    }
    None
}

/// A quoted scalar at the start of `text`: its value and its length in `text`. Only on
/// one line, and in double quotes only JSON's escapes.
fn quoted(text: &str) -> Option<(String, usize)> {
    let bytes = text.as_bytes();
    let mut value = String::new();
    if bytes[0] == b'\'' {
        let mut i = 1;
        loop {
            let end = i + text[i..].find('\'')?;
            value.push_str(&text[i..end]);
            if bytes.get(end + 1) == Some(&b'\'') {
                value.push('\'');
                i = end + 2;
            } else {
                return Some((value, end + 1));
            }
        }
    }
    let mut i = 1;
    loop {
        let run = text[i..].find(['"', '\\'])?;
        value.push_str(&text[i..i + run]);
        i += run;
        if bytes[i] == b'"' {
            return Some((value, i + 1));
        }
        let escaped = match *bytes.get(i + 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hex = text.get(i + 2..i + 6)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                // A surrogate (half of a pair) is the general parser's to judge.
                let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                value.push(c);
                i += 6;
                continue;
            }
            _ => return None,
        };
        value.push(escaped);
        i += 2;
    }
}

/// A flow collection on one line.
struct Flow<'a> {
    text: &'a str,
    at: usize,
}

impl Flow<'_> {
    fn byte(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn spaces(&mut self) {
        while self.byte() == Some(b' ') {
            self.at += 1;
        }
    }

    /// `[…]` or `{…}` at the cursor.
    fn collection(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let map = self.byte()? == b'{';
        let close = if map { b'}' } else { b']' };
        self.at += 1;
        let mut items = Vec::new();
        let mut entries = Map::new();
        self.spaces();
        if self.byte()? == close {
            self.at += 1;
            return Some(if map {
                Value::Object(entries)
            } else {
                Value::Array(items)
            });
        }
        loop {
            if map {
                let start = self.at;
                let key = match self.byte()? {
                    b'"' | b'\'' => {
                        let (key, len) = quoted(&self.text[self.at..])?;
                        self.at += len;
                        key
                    }
                    _ => match self.scalar()? {
                        Value::String(key) => key,
                        _ => return None,
                    },
                };
                if self.at - start > MAX_KEY {
                    return None;
                }
                self.spaces();
                if self.byte()? != b':' {
                    return None;
                }
                self.at += 1;
                self.spaces();
                let value = self.value(depth)?;
                if entries.insert(key, value).is_some() {
                    return None;
                }
            } else {
                let item = self.value(depth)?;
                items.push(item);
            }
            self.spaces();
            match self.byte()? {
                // (After a comma a value must follow: `[a,]` ends the subset at `]`.)
                b',' => {
                    self.at += 1;
                    self.spaces();
                }
                b if b == close => {
                    self.at += 1;
                    return Some(if map {
                        Value::Object(entries)
                    } else {
                        Value::Array(items)
                    });
                }
                _ => return None,
            }
        }
    }

    /// A value inside a flow collection.
    fn value(&mut self, depth: usize) -> Option<Value> {
        match self.byte()? {
            b'"' | b'\'' => {
                let (value, len) = quoted(&self.text[self.at..])?;
                self.at += len;
                Some(Value::String(value))
            }
            b'[' | b'{' => self.collection(depth + 1),
            _ => self.scalar(),
        }
    }

    /// A plain scalar inside a flow collection: up to `,`, a bracket, a brace, `: ` or
    /// the end of the line (a `#` after a space ends the subset).
    fn scalar(&mut self) -> Option<Value> {
        let start = self.at;
        let bytes = self.text.as_bytes();
        let first = *bytes.get(start)?;
        if !(first.is_ascii_alphanumeric() || matches!(first, b'_' | b'/' | b'.' | b'-')) {
            return None;
        }
        let mut end = start;
        while let Some(&b) = bytes.get(end) {
            match b {
                b',' | b'[' | b']' | b'{' | b'}' => break,
                b':' if matches!(bytes.get(end + 1), None | Some(b' ' | b',' | b']' | b'}')) => break,
                b'#' if bytes[end - 1] == b' ' => return None,
                _ => end += 1,
            }
        }
        let text = self.text[start..end].trim_end_matches(' ');
        self.at = start + text.len();
        if text == "-" {
            return None;
        }
        plain(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::yaml::parse_json_here;
    use crate::source::SourceFile;

    /// What the general parser makes of `text`.
    fn general(text: &str) -> Result<Value, String> {
        parse_json_here(&SourceFile::new("t.yaml", text)).map_err(|e| e.message)
    }

    /// Whether this reads `text`, having checked that what it reads is the general parser's.
    fn agrees(text: &str) -> bool {
        match parse(text) {
            Some(value) => {
                assert_eq!(Ok(&value), general(text).as_ref(), "{text:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn reads_what_templates_write() {
        let texts = [
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: \"web\"\n  namespace: \"web\"\n",
            "a: 1\nb: -2\nc: 0\nd: true\ne: False\nf: null\ng: ~\nh:\ni: 25%\nj: 500m\nk: /healthz\n",
            "labels: {\"app.kubernetes.io/name\": \"web\", \"n\": 3, \"b\": false, \"z\": null}\n",
            "list: [\"a\", 1, [], {}, [b, c], {\"k\": [1, 2]}]\nempty: {}\n",
            "spec:\n  containers:\n    - name: web\n      ports:\n        - containerPort: 8080\n          protocol: TCP\n",
            "spec:\n  containers:\n  - name: web\n  - name: sidecar\n  other: x\n",
            "- a\n- - b\n  - c\n- key: v\n  more: w\n-\n  nested: 1\n- # comment\n  k: 2\n-\n",
            "# a comment\na: b # trailing\n\n   \nc: \"d\" # after a quote\ne: 'it''s'\n",
            "s: \"esc \\\" \\\\ \\/ \\n \\t \\u0027 \\u00e9 \\u2603\"\nk: it's\nl: a#b\nm: a:b\n",
            "\"quoted key\": 1\n'single': 2\n\"\": empty\n",
            "flow: {\"a\":\"b\",\"c\":1}\nspaced: [ a , b ]\nurl: [http://x.example/y]\n",
            "ports: [8080, -1, 0]\nwords: [yes, no, on, off, y, n]\n",
            "x: 10Gi\ny: 1 2\nz: 8080/TCP\nw: 3s\n",
            "k: v\n",
            "a:\n  b:\n    c:\n      d: [[[1]]]\n",
        ];
        for text in texts {
            assert!(agrees(text), "not read: {text:?}");
        }
    }

    #[test]
    fn leaves_the_rest_to_the_general_parser() {
        let texts = [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: |\n  text\n",
            "a: >\n  text\n",
            "a:\tb\n",
            "a: b\r\n",
            "a: café\n",
            "a: plain\n  continued\n",
            "a: \"two\n  lines\"\n",
            "a: [1,\n  2]\n",
            "a: 1\na: 2\n",
            "a: {k: 1, k: 2}\n",
            "a: b: c\n",
            "a: 1e3\n",
            "a: 0x1F\n",
            "a: 012\n",
            "a: +1\n",
            "a: 1.5\n",
            "a: 2026.11.01-4819\n",
            "a: .inf\n",
            "a: .5m\n",
            "? complex\n: key\n",
            "<<: {a: 1}\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: [1, 2,]\n",
            "a: {b}\n",
            &format!("a: {}1{}\n", "[".repeat(70), "]".repeat(70)),
            &(0..70).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect::<String>(),
            "a: [b: c]\n",
            "a: \"\\x41\"\n",
            "a: \"\\ud800\"\n",
            "null: 1\n",
            "1: one\n",
            "just a scalar\n",
            "a: 1\n - b\n",
            "a:\n    b: 1\n  c: 2\n",
            "- a\nb: 1\n",
            "",
            "# only a comment\n",
        ];
        for text in texts {
            assert!(!agrees(text), "read, but the general parser's: {text:?}");
        }
    }

    /// Every document fleetgen wrote for the bundled fleet (block YAML as a team writes it,
    /// the shape of template output) is read here, as the general parser reads it.
    #[test]
    fn reads_the_bundled_fleet_s_rendered_tree() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rendered");
        let mut stack = vec![root];
        let (mut read, mut documents) = (0, 0);
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for doc in text.split("\n---\n") {
                        documents += 1;
                        read += usize::from(agrees(doc));
                    }
                }
            }
        }
        assert!(documents > 500, "{documents} documents");
        // What is left is text outside printable ASCII and numbers of other spellings.
        assert!(read * 100 >= documents * 95, "read {read} of {documents}");
    }

    /// Texts made by cutting seed texts at random places and splicing in pieces of YAML
    /// syntax: whatever this reads, the general parser reads the same (and refuses nothing
    /// this reads).
    #[test]
    fn agrees_with_the_general_parser_on_mutated_texts() {
        let seeds = [
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"x\"\n  labels: {\"a\": \"b\", \"c\": 1}\ndata:\n  k: v\n",
            "spec:\n  template:\n    spec:\n      containers:\n        - name: web\n          args: [\"--a\", b, 3]\n",
            "- a\n- b: 1\n  c: [x, {y: z}]\n-\n  - d\n",
        ];
        let pieces = [
            " ", "  ", "\n", "\n  ", "- ", "-", ": ", ":", "#", " #", "\"", "'", "\\", "\\u00", "[", "]", "{", "}",
            ",", "&a ", "*a", "!", "|", ">", "?", "0", "1", "-1", "0x", "e5", ".", "~", "null", "true", "yes", "%",
            "k: ", "\n- k: ", "\"k\":", "\n---\n", "@",
        ];
        // xorshift: the same texts on every run.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % n as u64).unwrap()
        };
        let (mut read, mut total) = (0, 0);
        for _ in 0..20_000 {
            let mut text = seeds[next(seeds.len())].to_string();
            for _ in 0..1 + next(3) {
                let at = next(text.len() + 1);
                let cut = next(3).min(text.len() - at);
                text.replace_range(at..at + cut, pieces[next(pieces.len())]);
            }
            total += 1;
            read += usize::from(agrees(&text));
        }
        // The mutations leave many texts in the subset: the comparison above is exercised.
        assert!(read * 20 >= total, "read {read} of {total}");
    }
}
