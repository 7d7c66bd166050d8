//! The cache files' encoding: a magic line, then little-endian integers and length-prefixed
//! strings, then a checksum of everything before it (128-bit XXH3: it guards against a
//! damaged or cut file, not an adversary, who could as well write the cache's values; at
//! tens of megabytes per `check`, BLAKE3 was a tenth of a warm check's instructions).
//! Decoding checks every length against what is left, so a truncated or corrupt file
//! decodes to nothing, never a panic.

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use xxhash_rust::xxh3::Xxh3;

/// The checksum's length in bytes.
const SUM: usize = 16;

/// Writes the encoding to `out` in blocks, hashing each block as it goes: a cache of tens
/// of megabytes is never held in memory whole to be written.
pub struct Writer<W: Write> {
    out: W,
    block: Vec<u8>,
    hasher: Xxh3,
    error: Option<io::Error>,
}

const BLOCK: usize = 64 * 1024;

impl<W: Write> Writer<W> {
    pub fn to(out: W, magic: &[u8]) -> Writer<W> {
        let mut w = Writer {
            out,
            block: Vec::with_capacity(BLOCK),
            hasher: Xxh3::new(),
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

    #[inline]
    pub fn u64(&mut self, n: u64) {
        self.bytes(&n.to_le_bytes());
    }

    #[inline]
    pub fn bytes(&mut self, b: &[u8]) {
        if self.block.len() + b.len() > BLOCK {
            self.flush_block();
        }
        self.block.extend_from_slice(b);
    }

    #[inline]
    pub fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.bytes(s.as_bytes());
    }

    /// The checksum written after everything else; the first write error, if any.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_block();
        let sum = self.hasher.digest128().to_le_bytes();
        if let Some(e) = self.error {
            return Err(e);
        }
        self.out.write_all(&sum)?;
        Ok(self.out)
    }
}

/// Reads the encoding from `src` in blocks, hashing each block as it comes: a cache of
/// tens of megabytes is never held in memory whole to be read (on a virtual machine each
/// fresh 4 KiB page costs microseconds to fault in and zero, more than decoding it). What
/// it decodes counts only once [`Reader::finish`] has checked the checksum.
pub struct Reader<R: Read> {
    src: R,
    /// One block of the file: `block[at..end]` is read and not decoded yet.
    block: Vec<u8>,
    /// What of `block` is decoded already.
    at: usize,
    end: usize,
    /// Bytes of the body (everything before the checksum) not yet decoded.
    rest: u64,
    /// Bytes of the body not yet read from `src`.
    unread: u64,
    hasher: Xxh3,
    failed: bool,
}

impl Reader<fs::File> {
    /// A reader of the file at `path`, when it can be opened and starts with `magic`.
    pub fn open(path: &Path, magic: &[u8]) -> Option<Reader<fs::File>> {
        let file = fs::File::open(path).ok()?;
        let len = file.metadata().ok()?.len();
        Reader::new(file, len, magic)
    }
}

/// A reader of bytes in memory (the tests' and the fuzzer's way in).
#[cfg(any(test, fuzzing))]
impl<'a> Reader<&'a [u8]> {
    pub fn of(bytes: &'a [u8], magic: &[u8]) -> Option<Reader<&'a [u8]>> {
        Reader::new(bytes, bytes.len() as u64, magic)
    }
}

impl<R: Read> Reader<R> {
    /// A reader of the `len` bytes of `src`, when they start with `magic` (and are long
    /// enough to end with a checksum).
    pub fn new(src: R, len: u64, magic: &[u8]) -> Option<Reader<R>> {
        let body = len.checked_sub(SUM as u64)?;
        let mut r = Reader {
            src,
            block: vec![0; BLOCK],
            at: 0,
            end: 0,
            rest: body,
            unread: body,
            hasher: Xxh3::new(),
            failed: false,
        };
        (r.take(magic.len())? == magic).then_some(r)
    }

    /// The next `n` bytes of the body, at most one block's worth. (Inlined: it is called
    /// for each number and string; reading the next block in is the rare case, apart.)
    #[inline]
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if n as u64 > self.rest || self.failed {
            return None;
        }
        if self.end - self.at < n {
            self.refill(n)?;
        }
        self.rest -= n as u64;
        self.at += n;
        Some(&self.block[self.at - n..self.at])
    }

    /// Reads the next block in, so that it holds at least `n` bytes not yet decoded.
    #[cold]
    fn refill(&mut self, n: usize) -> Option<()> {
        if n > BLOCK {
            return None;
        }
        // What is left moves to the front; the block is read into after it, in place (its
        // memory zeroed once, not at every block).
        self.block.copy_within(self.at..self.end, 0);
        let start = self.end - self.at;
        self.at = 0;
        let want = (BLOCK - start).min(usize::try_from(self.unread).unwrap_or(BLOCK));
        self.end = start + want;
        if self.src.read_exact(&mut self.block[start..self.end]).is_err() {
            self.failed = true;
            return None;
        }
        self.hasher.update(&self.block[start..self.end]);
        self.unread -= want as u64;
        Some(())
    }

    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    /// A count of items that follow, each at least one byte long (bounds what a corrupt
    /// count can make a loop do).
    pub fn count(&mut self) -> Option<usize> {
        self.count_of(1)
    }

    /// A count of items that follow, each at least `size` bytes long (bounds what a corrupt
    /// count can make a loop do, or a vector reserve).
    pub fn count_of(&mut self, size: u64) -> Option<usize> {
        let n = self.u64()?;
        (n.checked_mul(size)? <= self.rest).then_some(usize::try_from(n).ok()?)
    }

    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    pub fn str(&mut self) -> Option<String> {
        String::from_utf8(self.blob()?).ok()
    }

    /// Length-prefixed bytes (as [`Writer::str`] writes a string's).
    pub fn blob(&mut self) -> Option<Vec<u8>> {
        let n = usize::try_from(self.u64()?).ok()?;
        if n as u64 > self.rest {
            return None;
        }
        let mut bytes = Vec::with_capacity(n);
        // Bytes longer than a block are taken a block at a time.
        while bytes.len() < n {
            let part = (n - bytes.len()).min(BLOCK);
            bytes.extend_from_slice(self.take(part)?);
        }
        Some(bytes)
    }

    /// Whether everything was decoded and the checksum after it is that of what was read.
    pub fn finish(mut self) -> bool {
        let mut sum = [0; SUM];
        self.rest == 0
            && !self.failed
            && self.src.read_exact(&mut sum).is_ok()
            && self.hasher.digest128().to_le_bytes() == sum
    }
}

/// A part of a cache file kept encoded when the file is read and decoded only when needed:
/// the same encoding, without a magic line or checksum of its own (the file's covered it
/// when it was read). [`Part::put_u64`] and [`Part::put_str`] write one.
pub struct Part<'a> {
    rest: &'a [u8],
}

impl<'a> Part<'a> {
    pub fn of(bytes: &'a [u8]) -> Part<'a> {
        Part { rest: bytes }
    }

    pub fn put_u64(out: &mut Vec<u8>, n: u64) {
        out.extend_from_slice(&n.to_le_bytes());
    }

    pub fn put_str(out: &mut Vec<u8>, s: &str) {
        Part::put_u64(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (taken, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(taken)
    }

    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }

    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// A count of items that follow, each at least `size` bytes long.
    pub fn count_of(&mut self, size: usize) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n.checked_mul(size)? <= self.rest.len()).then_some(n)
    }

    /// A string of the part itself, not copied.
    pub fn str(&mut self) -> Option<&'a str> {
        let n = usize::try_from(self.u64()?).ok()?;
        std::str::from_utf8(self.take(n)?).ok()
    }

    /// Whether all of it was decoded.
    pub fn finish(self) -> bool {
        self.rest.is_empty()
    }
}

/// Asserts that `decodes` refuses `bytes` cut at every byte and with each of its bits
/// flipped (and does not panic on any of them).
#[cfg(test)]
pub(crate) fn assert_refuses_damage(bytes: &[u8], decodes: impl Fn(&[u8]) -> bool) {
    for cut in 0..bytes.len() {
        assert!(!decodes(&bytes[..cut]), "cut at {cut}");
    }
    let mut damaged = bytes.to_vec();
    for at in 0..bytes.len() {
        for bit in 0..8 {
            damaged[at] ^= 1 << bit;
            assert!(!decodes(&damaged), "bit {bit} of byte {at}");
            damaged[at] ^= 1 << bit;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAGIC: &[u8] = b"test v1\n";

    fn encode(f: impl FnOnce(&mut Writer<Vec<u8>>)) -> Vec<u8> {
        let mut w = Writer::to(Vec::new(), MAGIC);
        f(&mut w);
        w.finish().expect("in memory")
    }

    #[test]
    fn reads_back_across_blocks_and_checks_the_sum_last() {
        // A string longer than two blocks, and numbers that straddle a block's end.
        let long = "x".repeat(2 * BLOCK + 17);
        let bytes = encode(|w| {
            w.u64(7);
            w.str(&long);
            for n in 0..20_000u64 {
                w.u64(n);
            }
            w.str("");
        });
        let read_as = |bytes: &[u8], len: u64| -> Option<(u64, String, u64, String)> {
            let mut r = Reader::new(bytes, len, MAGIC)?;
            let (first, s) = (r.u64()?, r.str()?);
            let mut sum = 0;
            for _ in 0..20_000 {
                sum += r.u64()?;
            }
            let empty = r.str()?;
            r.finish().then_some((first, s, sum, empty))
        };
        let read = |bytes: &[u8]| read_as(bytes, bytes.len() as u64);
        assert_eq!(read(&bytes), Some((7, long, 19_999 * 20_000 / 2, String::new())));
        // One byte changed anywhere, one missing or one more: nothing.
        let mut flipped = bytes.clone();
        flipped[MAGIC.len() + 3 * BLOCK / 2] ^= 1;
        assert_eq!(read(&flipped), None);
        assert_eq!(read(&bytes[..bytes.len() - 1]), None);
        assert_eq!(read(&[bytes.as_slice(), b"!"].concat()), None);
        // A file shorter or longer than its length said (it changed while read).
        assert_eq!(read_as(&bytes, bytes.len() as u64 + 5), None);
        assert_eq!(read_as(&bytes, bytes.len() as u64 - 8), None);
        // A count past the end.
        let huge = encode(|w| w.u64(u64::MAX));
        let mut r = Reader::of(&huge, MAGIC).expect("magic");
        assert_eq!(r.count_of(1), None);
        // Another magic: refused at once.
        assert!(Reader::of(&bytes, b"other v1\n").is_none());
    }
}
