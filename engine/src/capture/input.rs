//! The byte source under the format readers: one buffer, filled by large
//! reads, out of which headers and records are handed out in place.
//!
//! The buffer's fill position is kept on a cache-line boundary: the kernel's
//! copy into a misaligned destination is several times slower (measured 5x
//! for a page-cached file), and that copy is most of a plain read's cost.
//!
//! After [`Input::keep_buffers`] a buffer is never written again once
//! reading has moved past it: when a take does not fit, what is left moves
//! to a fresh buffer and the full one waits in [`Input::retired`], with
//! every range taken from it still valid, so that it can be handed to other
//! threads whole instead of copied record by record.

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
    keeping: Option<Keeping>,
}

/// The state of [`Input::keep_buffers`].
struct Keeping {
    size: usize,
    retired: Option<Vec<u8>>,
    spare: Vec<Vec<u8>>,
}

/// Emptied buffers kept for reuse at most.
const SPARE: usize = 8;

impl Keeping {
    /// Keeps an emptied buffer for reuse, up to `SPARE` of them.
    fn spare(&mut self, buf: Vec<u8>) {
        if self.spare.len() < SPARE {
            self.spare.push(buf);
        }
    }
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
            keeping: None,
        };
        input.reserve(CHUNK);
        input
    }

    /// Consumes the next `n` bytes and returns where they sit; see
    /// [`Input::bytes`]. The range stays valid until the next call.
    /// `Ok(None)` when the input ended before its first byte, `CutShort`
    /// when it ended after it.
    #[inline]
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

    /// The unread bytes, at least `n` of them unless the input ends first
    /// (then all that is left), and where they start in the buffer; nothing
    /// is consumed ([`Input::consume`] does). For parsers that want a whole
    /// record in one slice.
    #[inline]
    pub fn peek(&mut self, n: usize) -> Result<(usize, &[u8]), CaptureError> {
        if self.end - self.start < n {
            self.fill(n)?;
        }
        let at = self.base + self.start;
        Ok((
            at,
            self.mem.get(at..self.base + self.end).unwrap_or_default(),
        ))
    }

    /// Consumes `n` of the bytes [`Input::peek`] showed (at most all that
    /// is buffered) and returns where they sit, as [`Input::take`] does.
    #[inline]
    pub fn consume(&mut self, n: usize) -> Range<usize> {
        let n = n.min(self.end - self.start);
        let at = self.base + self.start;
        self.start += n;
        at..at + n
    }

    /// The bytes of a range [`Input::take`] returned.
    #[inline]
    pub fn bytes(&self, r: Range<usize>) -> &[u8] {
        self.mem.get(r).unwrap_or_default()
    }

    /// From now on, reads go to buffers of at least `size` bytes that are
    /// kept whole once read past; see [`Input::retired`].
    pub fn keep_buffers(&mut self, size: usize) {
        self.keeping = Some(Keeping {
            size,
            retired: None,
            spare: Vec::new(),
        });
    }

    /// The buffer reading moved on from since the last call, if any: the
    /// ranges taken before the take that moved on index into it. Call it
    /// after every record; a buffer left behind while one is waiting here
    /// held no whole record (it was read past within one record) and is
    /// reused.
    pub fn retired(&mut self) -> Option<Vec<u8>> {
        self.keeping.as_mut()?.retired.take()
    }

    /// The buffer being read, at the end of the input, leaving an empty one.
    pub fn take_current(&mut self) -> Vec<u8> {
        self.start = 0;
        self.end = 0;
        self.base = 0;
        std::mem::take(&mut self.mem)
    }

    /// A retired buffer back for reuse.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if let Some(k) = self.keeping.as_mut() {
            k.spare(buf);
        }
    }

    /// Reads until `n` bytes are buffered or the input ends.
    fn fill(&mut self, n: usize) -> Result<(), CaptureError> {
        let have = self.end - self.start;
        // Move what is left to just before an aligned position, so the
        // reads that follow write to aligned memory.
        let shift = have.next_multiple_of(ALIGN) - have;
        if self.keeping.is_some() {
            if self.mem.len().saturating_sub(self.base + self.start) < n {
                self.move_on(shift, n);
            }
        } else {
            self.reserve(shift + n.max(CHUNK));
            let from = self.base + self.start;
            let to = self.base + shift;
            self.mem.copy_within(from..from + have, to);
            self.start = shift;
            self.end = shift + have;
        }
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

    /// Keeping buffers: carries what is left to a fresh buffer with room for
    /// `n` bytes after `shift`, and retires the current one.
    fn move_on(&mut self, shift: usize, n: usize) {
        let Some(k) = self.keeping.as_mut() else {
            return;
        };
        let mut mem = k.spare.pop().unwrap_or_default();
        let size = (shift + n).max(k.size) + ALIGN;
        if mem.len() < size {
            // Reused buffers keep their old bytes: only growth is zeroed.
            mem.resize(size, 0);
        }
        let base = mem.as_ptr().align_offset(ALIGN).min(ALIGN);
        let have = self.end - self.start;
        let left = self
            .mem
            .get(self.base + self.start..self.base + self.end)
            .unwrap_or_default();
        if let Some(dst) = mem.get_mut(base + shift..base + shift + have) {
            dst.copy_from_slice(left);
        }
        let old = std::mem::replace(&mut self.mem, mem);
        self.base = base;
        self.start = shift;
        self.end = shift + have;
        if k.retired.is_none() {
            k.retired = Some(old);
        } else {
            k.spare(old);
        }
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
    fn kept_buffers_stay_whole_once_read_past() {
        let data: Vec<u8> = (0..(5 * CHUNK)).map(|i| (i % 241) as u8).collect();
        for step in [7usize, 4096, CHUNK] {
            let mut input = Input::new(Box::new(Trickle(io::Cursor::new(data.clone()), step)));
            input.keep_buffers(CHUNK / 2);
            // Every range taken, in the buffer it was taken from.
            let mut taken: Vec<(usize, Range<usize>)> = Vec::new();
            let mut buffers: Vec<Vec<u8>> = Vec::new();
            let mut pos = 0;
            for n in (0..).map(|i| [100usize, 3, 5000, 17][i % 4]) {
                if pos + n > data.len() {
                    break;
                }
                let r = input.take(n).unwrap().unwrap();
                let mut moved_on = false;
                if let Some(full) = input.retired() {
                    buffers.push(full);
                    moved_on = true;
                }
                // What was taken before the move sits in the retired buffer.
                if moved_on {
                    for t in taken.iter_mut().filter(|t| t.0 == usize::MAX) {
                        t.0 = buffers.len() - 1;
                    }
                }
                assert_eq!(input.bytes(r.clone()), &data[pos..pos + n]);
                taken.push((usize::MAX, r));
                pos += n;
            }
            assert!(buffers.len() >= 8, "step {step}: {} buffers", buffers.len());
            let mut pos = 0;
            for (b, r) in &taken {
                let n = r.len();
                let bytes = match buffers.get(*b) {
                    Some(buf) => &buf[r.clone()],
                    None => input.bytes(r.clone()),
                };
                assert_eq!(bytes, &data[pos..pos + n], "step {step}");
                pos += n;
            }
        }
    }

    #[test]
    fn clean_end_is_none() {
        let mut input = Input::new(Box::new(io::Cursor::new(vec![1u8, 2])));
        assert!(input.take(2).unwrap().is_some());
        assert!(input.take(4).unwrap().is_none());
    }
}
