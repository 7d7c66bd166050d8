//! The cache files' encoding: a magic line, then little-endian integers and length-prefixed
//! strings, then a BLAKE3 checksum of everything before it. Decoding checks every length
//! against what is left, so a truncated or corrupt file decodes to nothing, never a panic.

use std::io::{self, Write};

/// Writes the encoding to `out` in blocks, hashing each block as it goes: a cache of tens
/// of megabytes is never held in memory whole to be written.
pub struct Writer<W: Write> {
    out: W,
    block: Vec<u8>,
    hasher: blake3::Hasher,
    error: Option<io::Error>,
}

const BLOCK: usize = 64 * 1024;

impl<W: Write> Writer<W> {
    pub fn to(out: W, magic: &[u8]) -> Writer<W> {
        let mut w = Writer {
            out,
            block: Vec::with_capacity(BLOCK),
            hasher: blake3::Hasher::new(),
            error: None,
        };
        w.bytes(magic);
        w
    }

    fn flush_block(&mut self) {
        self.hasher.update(&self.block);
        if self.error.is_none()
            && let Err(e) = self.out.write_all(&self.block)
        {
            self.error = Some(e);
        }
        self.block.clear();
    }

    pub fn u64(&mut self, n: u64) {
        self.bytes(&n.to_le_bytes());
    }

    pub fn bytes(&mut self, b: &[u8]) {
        if self.block.len() + b.len() > BLOCK {
            self.flush_block();
        }
        self.block.extend_from_slice(b);
    }

    pub fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.bytes(s.as_bytes());
    }

    /// The checksum written after everything else; the first write error, if any.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_block();
        let sum = *self.hasher.finalize().as_bytes();
        if let Some(e) = self.error {
            return Err(e);
        }
        self.out.write_all(&sum)?;
        Ok(self.out)
    }
}

pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader of `bytes` when they start with `magic` and end with their checksum.
    pub fn new(bytes: &'a [u8], magic: &[u8]) -> Option<Reader<'a>> {
        let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
        if blake3::hash(body).as_bytes() != sum {
            return None;
        }
        Some(Reader {
            rest: body.strip_prefix(magic)?,
        })
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(head)
    }

    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    /// A count of items that follow, each at least one byte long (bounds what a corrupt
    /// count can make a loop do).
    pub fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= self.rest.len()).then_some(n)
    }

    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    pub fn str(&mut self) -> Option<String> {
        let n = usize::try_from(self.u64()?).ok()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }

    pub fn end(&self) -> bool {
        self.rest.is_empty()
    }
}
