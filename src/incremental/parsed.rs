//! The parse memo's file, `.fleetgen/parsed`: the trees of the YAML input files the last
//! run parsed without an error ([`crate::load::memo`]), and no others, written again whole
//! when the set changes. Derived data like the rest of the cache: anything it cannot decode
//! is an empty memo, never an error.

use super::codec::{Reader, Writer};
pub use crate::load::memo::{Digest, Parsed};

pub(crate) const MAGIC: &[u8] = b"fleetgen parsed v2\n";

/// The fewest bytes of a tree: one node's tag and its span's two ends.
const MIN_TREE: usize = 3;

/// The memo in the file at `path` (empty when there is none, or it cannot be read).
pub fn load(path: &std::path::Path) -> Parsed {
    Reader::open(path, MAGIC).and_then(decode_from).unwrap_or_default()
}

/// Writes the memo's encoding to `out`, trees in digest order.
pub fn write_to<W: std::io::Write>(memo: &Parsed, out: W) -> std::io::Result<W> {
    let mut w = Writer::to(out, MAGIC);
    let mut trees: Vec<_> = memo.trees().collect();
    trees.sort_unstable_by_key(|(d, _)| **d);
    w.u64(trees.len() as u64);
    for (d, tree) in trees {
        w.bytes(d);
        w.u64(tree.len() as u64);
        w.bytes(tree);
    }
    w.finish()
}

fn decode_from<R: std::io::Read>(mut r: Reader<R>) -> Option<Parsed> {
    // A tree is at least its digest, its length and one node.
    let count = r.count_of(32 + 8 + MIN_TREE as u64)?;
    let mut trees = Vec::with_capacity(count);
    for _ in 0..count {
        let digest: Digest = r.array()?;
        let tree = r.blob()?;
        // Not even one node: not what a memo holds (and a count bounded by it would not
        // read back).
        if tree.len() < MIN_TREE {
            return None;
        }
        trees.push((digest, tree.into()));
    }
    r.finish().then(|| Parsed::of(trees))
}

/// The memo encoded in `bytes`, if they hold one.
#[cfg(any(test, fuzzing))]
pub(crate) fn decode(bytes: &[u8]) -> Option<Parsed> {
    decode_from(Reader::of(bytes, MAGIC)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::memo::{decode_tree, encode_tree};
    use crate::source::SourceFile;

    fn digest(text: &str) -> crate::load::memo::Digest {
        crate::load::memo::digest(&SourceFile::new("x.yaml", text))
    }

    use crate::load::fixture::parse;

    /// The memo file reads back what was written, and every cut and flipped bit is refused.
    #[test]
    fn memo_round_trips_and_refuses_damage() {
        let texts = ["a: 1\n", "- x\n- {y: [z]}\n"];
        let memo = Parsed::of(texts.iter().map(|t| (digest(t), encode_tree(&parse(t)).into())));
        let bytes = write_to(&memo, Vec::new()).expect("in memory");
        let back = decode(&bytes).expect("decodes");
        assert_eq!(back, memo);
        for t in texts {
            let tree = back.encoded(&digest(t)).and_then(|e| decode_tree(e, t.len()));
            assert_eq!(tree, Some(parse(t)));
        }
        assert!(back.holds_exactly(texts.iter().map(|t| digest(t)).collect::<Vec<_>>().iter()));
        assert!(!back.holds_exactly([digest(texts[0])].iter()));
        crate::incremental::codec::assert_refuses_damage(&bytes, |b| decode(b).is_some());
        // A memo whose trees are shorter than a node is refused (its count could not be
        // bounded by what the file holds when read back; found by the `cache` fuzz target).
        let long = encode_tree(&parse("- a long enough tree\n- for the count to pass\n"));
        let short = Parsed::of([
            ([1; 32], long.into()),
            ([2; 32], std::sync::Arc::from(&b"\x00\x00"[..])),
        ]);
        let bytes = write_to(&short, Vec::new()).expect("in memory");
        assert_eq!(decode(&bytes), None);
    }
}
