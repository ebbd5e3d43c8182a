//! The byte source under the format readers: one buffer, filled by large
//! reads, out of which headers and records are handed out in place.
//!
//! The buffer's fill position is kept on a cache-line boundary: the kernel's
//! copy into a misaligned destination is several times slower (measured 5x
//! for a page-cached file), and that copy is most of a plain read's cost.

use std::io::{self, Read};
use std::ops::Range;

use super::CaptureError;

/// Bytes read per refill, and the buffer's size unless a record is larger.
const CHUNK: usize = 256 * 1024;
/// Alignment of the position reads write to.
const ALIGN: usize = 64;

pub(crate) struct Input {
    src: Box<dyn Read + Send>,
    /// Backing store; the window is `mem[base + start..base + end]`, where
    /// `base` makes `mem[base]` ALIGN-aligned.
    mem: Vec<u8>,
    base: usize,
    start: usize,
    end: usize,
    eof: bool,
}

impl Input {
    pub fn new(src: Box<dyn Read + Send>) -> Input {
        let mut input = Input {
            src,
            mem: Vec::new(),
            base: 0,
            start: 0,
            end: 0,
            eof: false,
        };
        input.reserve(CHUNK);
        input
    }

    /// Consumes the next `n` bytes and returns where they sit; see
    /// [`Input::bytes`]. The range stays valid until the next call.
    /// `Ok(None)` when the input ended before its first byte, `CutShort`
    /// when it ended after it.
    pub fn take(&mut self, n: usize) -> Result<Option<Range<usize>>, CaptureError> {
        if self.end - self.start < n {
            self.fill(n)?;
            let have = self.end - self.start;
            if have < n {
                return if have == 0 {
                    Ok(None)
                } else {
                    self.start = self.end;
                    Err(CaptureError::CutShort)
                };
            }
        }
        let at = self.base + self.start;
        self.start += n;
        Ok(Some(at..at + n))
    }

    /// The bytes of a range [`Input::take`] returned.
    pub fn bytes(&self, r: Range<usize>) -> &[u8] {
        self.mem.get(r).unwrap_or_default()
    }

    /// Reads until `n` bytes are buffered or the input ends.
    fn fill(&mut self, n: usize) -> Result<(), CaptureError> {
        let have = self.end - self.start;
        // Move what is left to just before an aligned position, so the
        // reads that follow write to aligned memory.
        let shift = have.next_multiple_of(ALIGN) - have;
        self.reserve(shift + n.max(CHUNK));
        let from = self.base + self.start;
        let to = self.base + shift;
        self.mem.copy_within(from..from + have, to);
        self.start = shift;
        self.end = shift + have;
        let cap = self.mem.len() - self.base;
        while self.end - self.start < n && !self.eof {
            let Some(room) = self.mem.get_mut(self.base + self.end..self.base + cap) else {
                break;
            };
            match self.src.read(room) {
                Ok(0) => self.eof = true,
                Ok(got) => self.end += got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Decompressors report a stream cut short this way.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => self.eof = true,
                Err(e) => return Err(CaptureError::Io(e)),
            }
        }
        Ok(())
    }

    /// Makes the aligned window at least `size` bytes, keeping its contents.
    fn reserve(&mut self, size: usize) {
        if self.mem.len() - self.base >= size {
            return;
        }
        let mut mem = vec![0u8; size + ALIGN];
        let base = mem.as_ptr().align_offset(ALIGN).min(ALIGN);
        let old = self
            .mem
            .get(self.base..self.base + self.end)
            .unwrap_or_default();
        if let Some(dst) = mem.get_mut(base..base + old.len()) {
            dst.copy_from_slice(old);
        }
        self.mem = mem;
        self.base = base;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per call.
    struct Trickle(io::Cursor<Vec<u8>>, usize);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn takes_span_refills_and_grow_past_the_chunk() {
        let data: Vec<u8> = (0..(3 * CHUNK + 123)).map(|i| (i % 251) as u8).collect();
        for step in [1usize, 7, 4096, CHUNK] {
            let mut input = Input::new(Box::new(Trickle(io::Cursor::new(data.clone()), step)));
            let mut pos = 0;
            for n in [3usize, 100, CHUNK + 5, 16, 2 * CHUNK - 10] {
                let r = input.take(n).unwrap().unwrap();
                assert_eq!(input.bytes(r), &data[pos..pos + n], "step {step} n {n}");
                pos += n;
            }
            let rest = data.len() - pos;
            assert!(matches!(input.take(rest + 1), Err(CaptureError::CutShort)));
            assert!(input.take(1).unwrap().is_none());
        }
    }

    #[test]
    fn clean_end_is_none() {
        let mut input = Input::new(Box::new(io::Cursor::new(vec![1u8, 2])));
        assert!(input.take(2).unwrap().is_some());
        assert!(input.take(4).unwrap().is_none());
    }
}
