//! The parse memo's trees: each YAML input file's tree ([`Node`], spans included) as a run
//! parsed it, known by a digest of the file's text and fleetgen's build. A `check` after a
//! one-contract change at 200 × 500 spent 12% of its instructions parsing 989 unchanged
//! files; decoding their trees costs a small part of that. The cache keeps the memo in
//! `.fleetgen/parsed` (`incremental::parsed`).
//!
//! A tree is used only when its file's digest matches and it decodes whole and consistent
//! with the text (spans inside it); anything else is parsed again.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::yaml::{Entry, Node, Value};
use crate::source::SourceFile;

/// The digest a file's tree is known by.
pub type Digest = [u8; 32];

/// The trees of a run, encoded, by digest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    trees: FxHashMap<Digest, Arc<[u8]>>,
}

/// The digest of a file's tree: its text (by [`SourceFile::digest`]) and the build (whose
/// sources include the parser's version, through `Cargo.lock`). Not its path: a tree is a
/// function of the text, and files with the same text share one.
pub fn digest(file: &SourceFile) -> Digest {
    let mut h = blake3::Hasher::new();
    h.update(b"parsed\0");
    h.update(env!("FLEETGEN_SOURCE_HASH").as_bytes());
    h.update(&[0]);
    h.update(&file.digest());
    *h.finalize().as_bytes()
}

impl Parsed {
    pub fn len(&self) -> usize {
        self.trees.len()
    }

    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }

    /// The encoded tree of the file whose digest is `digest`.
    pub fn encoded(&self, digest: &Digest) -> Option<&Arc<[u8]>> {
        self.trees.get(digest)
    }

    /// Every tree, by digest, in no order.
    pub fn trees(&self) -> impl Iterator<Item = (&Digest, &Arc<[u8]>)> {
        self.trees.iter()
    }

    /// A memo of these trees (digest and encoding each; a digest given twice is one tree).
    pub fn of(trees: impl IntoIterator<Item = (Digest, Arc<[u8]>)>) -> Parsed {
        Parsed {
            trees: trees.into_iter().collect(),
        }
    }

    /// Whether the memo holds exactly the trees of these digests.
    pub fn holds_exactly<'d>(&self, digests: impl IntoIterator<Item = &'d Digest>) -> bool {
        let mut seen = rustc_hash::FxHashSet::default();
        for d in digests {
            if !self.trees.contains_key(d) {
                return false;
            }
            seen.insert(*d);
        }
        seen.len() == self.trees.len()
    }
}

// A tree's encoding: each node a tag, its span (start and end, LEB128), then its value:
// a string's length and bytes; a list's length and items; a mapping's length and entries
// (key string, key span, value node).
const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const UINT: u8 = 3;
const INT: u8 = 4;
const FLOAT: u8 = 5;
const STRING: u8 = 6;
const SEQ: u8 = 7;
const MAP: u8 = 8;

/// How deep a tree may nest to be decoded (the decoder recurses, and does so on any
/// thread); the parser refuses deeper documents than this anyway.
const MAX_DEPTH: usize = 256;

/// A tree's encoding.
pub fn encode_tree(node: &Node) -> Vec<u8> {
    let mut out = Vec::new();
    encode_node(&mut out, node);
    out
}

fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn span(out: &mut Vec<u8>, span: &std::ops::Range<usize>) {
    varint(out, span.start as u64);
    varint(out, span.end as u64);
}

fn string(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn encode_node(out: &mut Vec<u8>, node: &Node) {
    let tag = match &node.value {
        Value::Null => NULL,
        Value::Bool(false) => FALSE,
        Value::Bool(true) => TRUE,
        Value::Number(n) if n.is_u64() => UINT,
        Value::Number(n) if n.is_i64() => INT,
        Value::Number(_) => FLOAT,
        Value::String(_) => STRING,
        Value::Seq(_) => SEQ,
        Value::Map(_) => MAP,
    };
    out.push(tag);
    span(out, &node.span);
    match &node.value {
        Value::Null | Value::Bool(_) => {}
        Value::Number(n) => {
            let bits = match tag {
                UINT => n.as_u64().unwrap_or_default(),
                INT => n.as_i64().unwrap_or_default() as u64,
                _ => n.as_f64().unwrap_or_default().to_bits(),
            };
            out.extend_from_slice(&bits.to_le_bytes());
        }
        Value::String(s) => string(out, s),
        Value::Seq(items) => {
            varint(out, items.len() as u64);
            for item in items {
                encode_node(out, item);
            }
        }
        Value::Map(entries) => {
            varint(out, entries.len() as u64);
            for e in entries {
                string(out, &e.key);
                span(out, &e.key_span);
                encode_node(out, &e.value);
            }
        }
    }
}

/// The tree encoded in `bytes`, for a text of `len` bytes: `None` unless every byte is
/// used and every span lies inside the text.
pub fn decode_tree(bytes: &[u8], len: usize) -> Option<Node> {
    let mut d = Decoder { bytes, at: 0, len };
    let node = d.node(0)?;
    (d.at == bytes.len()).then_some(node)
}

struct Decoder<'b> {
    bytes: &'b [u8],
    at: usize,
    /// The text's length: no span ends past it.
    len: usize,
}

impl Decoder<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n)?;
        let part = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(part)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    /// A count of items that follow, each at least `size` bytes long.
    fn count(&mut self, size: usize) -> Option<usize> {
        let n = usize::try_from(self.varint()?).ok()?;
        (n.checked_mul(size)? <= self.bytes.len() - self.at).then_some(n)
    }

    fn span(&mut self) -> Option<std::ops::Range<usize>> {
        let start = usize::try_from(self.varint()?).ok()?;
        let end = usize::try_from(self.varint()?).ok()?;
        (start <= end && end <= self.len).then_some(start..end)
    }

    fn string(&mut self) -> Option<String> {
        let n = usize::try_from(self.varint()?).ok()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }

    fn node(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let tag = self.byte()?;
        let span = self.span()?;
        let number = |d: &mut Self| Some(u64::from_le_bytes(d.take(8)?.try_into().ok()?));
        let value = match tag {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            UINT => Value::Number(number(self)?.into()),
            // Only negative numbers are written as signed: a non-negative one is not what
            // the encoder wrote.
            INT => Value::Number(Some(number(self)? as i64).filter(|n| *n < 0)?.into()),
            FLOAT => Value::Number(serde_json::Number::from_f64(f64::from_bits(number(self)?))?),
            STRING => Value::String(self.string()?),
            SEQ => {
                // An item is at least a tag and two spans' bytes.
                let n = self.count(3)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.node(depth + 1)?);
                }
                Value::Seq(items)
            }
            MAP => {
                // An entry is at least a key's length, two spans' bytes and a node.
                let n = self.count(6)?;
                let mut entries = Vec::with_capacity(n);
                for _ in 0..n {
                    let key = self.string()?;
                    let key_span = self.span()?;
                    let value = self.node(depth + 1)?;
                    entries.push(Entry { key, key_span, value });
                }
                Value::Map(entries)
            }
            _ => return None,
        };
        Some(Node { value, span })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    use crate::load::fixture::parse;

    /// Every YAML file of the bundled fleet and the test fixtures, and documents with every
    /// kind of scalar, decode to the tree the parser makes of them.
    #[test]
    fn trees_decode_to_what_the_parser_makes() {
        let mut texts: Vec<String> = [
            "",
            "~\n",
            "a: 1\nb: -2\nc: 3.5\nd: 18446744073709551615\ne: -9223372036854775808\nf: 1e300\n",
            "t: true\nf: false\nn: null\ns: 'quoted'\nlong: \"é\u{1F600}\"\nempty: ''\n",
            "- [1, [2, [3, {}]]]\n- {a: {b: {c: []}}}\n",
            "x: &x {k: 1}\ny: *x\nz:\n  <<: *x\n  m: |\n    literal\n    block\n",
            "0755: leading zero\non: yes\n",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in ["apps", "clusters", "profiles", "tests/fixtures/base"] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(&d).expect("readable").flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "yaml") {
                        texts.push(std::fs::read_to_string(&path).expect("UTF-8"));
                    }
                }
            }
        }
        assert!(texts.len() > 40, "{}", texts.len());
        for text in &texts {
            let node = parse(text);
            let bytes = encode_tree(&node);
            assert_eq!(decode_tree(&bytes, text.len()).as_ref(), Some(&node), "{text}");
            // Every cut is refused, and a span past a shorter text.
            for cut in 0..bytes.len() {
                assert!(decode_tree(&bytes[..cut], text.len()).is_none());
            }
            if node.span.end > 0 {
                assert!(decode_tree(&bytes, node.span.end - 1).is_none());
            }
        }
    }

    /// Trees nested deeper than the decoder goes are refused (the file is parsed again;
    /// the parser itself stops short of that depth), and nothing recurses past it.
    #[test]
    fn deep_trees_are_refused_not_recursed_into() {
        let nested = |depth: usize| {
            let mut node = Node {
                value: Value::Null,
                span: 0..0,
            };
            for _ in 0..depth {
                node = Node {
                    value: Value::Seq(vec![node]),
                    span: 0..0,
                };
            }
            node
        };
        let deepest = nested(MAX_DEPTH);
        assert_eq!(decode_tree(&encode_tree(&deepest), 0), Some(deepest));
        assert!(decode_tree(&encode_tree(&nested(MAX_DEPTH + 1)), 0).is_none());
        // What the parser takes, it takes below that depth.
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(crate::load::yaml::parse_here(&SourceFile::new("x.yaml", deep(MAX_DEPTH + 1))).is_err());
    }
}
