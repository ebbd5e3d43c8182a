//! HPACK (RFC 7541) header block decoding, hardened against hostile input:
//! every failure is an [`Error`], never a panic; integers, strings, the
//! dynamic table, bytes held between fragments and the decoded list are
//! capped.
//!
//! Beyond the RFC, the decoder follows what tshark 4.0 gets from
//! libnghttp2 (the inflater behind `packet-http2.c`), since that decides
//! what tshark prints:
//! - after an error the decoder is poisoned: every later block of that
//!   direction fails too (nghttp2 keeps its `bad` flag);
//! - a header block may arrive in fragments (HEADERS then CONTINUATION):
//!   a representation cut at the end of a fragment is completed by the
//!   next one and emitted there;
//! - a SETTINGS_HEADER_TABLE_SIZE below the current maximum, once
//!   acknowledged, makes the next block start with a size update;
//! - before the first block, Wireshark fills the empty table with
//!   `<unknown>` entries so that a capture starting mid-connection can
//!   still resolve indices ([`Decoder::fill_unknown`]).

use std::collections::VecDeque;
use std::sync::OnceLock;

use crate::hpack_tables::{HUFFMAN, STATIC_TABLE};

/// Per-entry overhead in the table size accounting (RFC 7541 4.1).
const ENTRY_OVERHEAD: usize = 32;
/// The initial SETTINGS_HEADER_TABLE_SIZE.
pub const DEFAULT_TABLE_SIZE: usize = 4096;
/// Longest name or value accepted (nghttp2's `NGHTTP2_HD_MAX_NV`).
pub const MAX_STRING: usize = 65536;
/// Our own memory cap on one dynamic table: a larger negotiated size is
/// honoured up to this many bytes of accounting (real peers ask for 64 KiB
/// at most).
const MAX_TABLE_MEMORY: usize = 256 * 1024;
/// Bytes of an unfinished representation kept until the next fragment.
const MAX_PENDING: usize = 2 * MAX_STRING + 64;
/// What Wireshark decodes of one fragment at most (`MAX_HTTP2_HEADER_LINES`
/// and `MAX_HTTP2_HEADER_SIZE`, counted as 8 + name + value per line).
pub const MAX_LINES: usize = 200;
pub const MAX_LIST_BYTES: usize = 256 * 1024;
/// Name of the placeholder entries of [`Decoder::fill_unknown`].
pub const UNKNOWN: &[u8] = b"<unknown>";

/// Why a header block could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// An integer needs more than 32 bits (`ff ff ff ff ff 0f`).
    IntegerOverflow,
    /// Indexed field with index 0 (`80`).
    IndexZero,
    /// An index past the static and dynamic tables (`be` on an empty table).
    IndexOutOfRange,
    /// A string length above [`MAX_STRING`] (`7f ff ff 03`).
    StringTooLong,
    /// The Huffman code for EOS inside a string (`81 ff ff ff ff`...).
    HuffmanEos,
    /// Huffman padding longer than 7 bits or not all ones (`81 00`).
    HuffmanPadding,
    /// A table size update above the allowed maximum (`3f e1 1f` = 4097).
    TableSizeTooLarge,
    /// A table size update after a field of the block (`82 20`).
    TableSizeNotFirst,
    /// The block did not start with the size update a smaller
    /// SETTINGS_HEADER_TABLE_SIZE requires.
    TableSizeExpected,
    /// The last fragment ended inside a representation (`40 05 61`).
    Truncated,
    /// An unfinished representation longer than the decoder keeps.
    PendingTooLarge,
    /// An earlier error: this decoder decodes nothing any more.
    Poisoned,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HPACK: {self:?}")
    }
}

impl std::error::Error for Error {}

/// Why a fragment's list stopped short, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Error(Error),
    /// [`MAX_LINES`] reached; the rest of the fragment is not decoded.
    TooManyLines,
    /// [`MAX_LIST_BYTES`] would be exceeded; the rest is not decoded.
    TooLarge,
}

pub type Header = (Vec<u8>, Vec<u8>);

/// What one fragment yielded: the fields decoded before any stop.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub headers: Vec<Header>,
    pub stop: Option<Stop>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the head of a block: size updates allowed.
    Start,
    /// At the head of a block that must begin with a size update.
    ExpectSize,
    /// Inside a block, after a field.
    Field,
}

/// One direction's HPACK decoding state.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// Newest first.
    table: VecDeque<Header>,
    /// Accounted size of `table` (32 + name + value per entry).
    size: usize,
    /// Current maximum size of the dynamic table.
    max: usize,
    /// The acknowledged SETTINGS_HEADER_TABLE_SIZE: the bound of updates.
    settings_max: usize,
    /// The smallest size announced since the last update, which the next
    /// update must not exceed.
    min_max: Option<usize>,
    state: State,
    /// An unfinished representation from the previous fragment.
    pending: Vec<u8>,
    bad: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

/// Result of one parse step: a representation needs more bytes.
enum Step {
    Need,
    /// Consumed bytes, and the field to emit if any.
    Done(usize, Option<Header>),
}

impl Decoder {
    pub fn new() -> Self {
        Decoder {
            table: VecDeque::new(),
            size: 0,
            max: DEFAULT_TABLE_SIZE,
            settings_max: DEFAULT_TABLE_SIZE,
            min_max: None,
            state: State::Start,
            pending: Vec::new(),
            bad: false,
        }
    }

    /// A decoder whose table size and SETTINGS bound are both `max`, as if
    /// negotiated before the first block.
    pub fn with_max(max: usize) -> Self {
        Decoder {
            max,
            settings_max: max,
            ..Self::new()
        }
    }

    /// Entries in the dynamic table.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// Accounted size of the dynamic table.
    pub fn table_size(&self) -> usize {
        self.size
    }

    /// Current maximum size of the dynamic table.
    pub fn max_table_size(&self) -> usize {
        self.max
    }

    /// Whether an error has poisoned this decoder.
    pub fn is_bad(&self) -> bool {
        self.bad
    }

    /// Applies an acknowledged SETTINGS_HEADER_TABLE_SIZE. Ignored inside
    /// a block, as nghttp2 refuses it there.
    pub fn set_settings_max(&mut self, size: u32) {
        if !self.pending.is_empty() || self.state == State::Field {
            return;
        }
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        self.settings_max = size;
        if self.max > size {
            self.state = State::ExpectSize;
            self.min_max = Some(size);
            self.max = size;
            self.evict(0);
        }
    }

    /// Wireshark's `fix_partial_header_dissection_support`: an empty table
    /// is filled with `<unknown>: ` entries (as many as fit) before the
    /// first block, so indices into a history the capture missed resolve.
    pub fn fill_unknown(&mut self) {
        if self.size != 0 || self.bad {
            return;
        }
        let each = ENTRY_OVERHEAD + UNKNOWN.len();
        let n = self.max / each;
        for _ in 0..n {
            self.insert(UNKNOWN.to_vec(), Vec::new());
        }
    }

    /// Decodes one fragment of a header block; `last` when the frame had
    /// END_HEADERS. Fields are returned in order up to an error or a cap.
    pub fn decode(&mut self, input: &[u8], last: bool) -> Decoded {
        let mut out = Decoded::default();
        if self.bad {
            out.stop = Some(Stop::Error(Error::Poisoned));
            return out;
        }
        let mut buf = std::mem::take(&mut self.pending);
        let held = buf.len();
        let data: &[u8] = if held == 0 {
            input
        } else {
            buf.extend_from_slice(input);
            &buf
        };
        let mut bytes = 0usize;
        let mut pos = 0usize;
        loop {
            // Checked before the end of input, as Wireshark's loop does: a
            // block of exactly MAX_LINES fields is never ended either.
            if out.headers.len() >= MAX_LINES {
                out.stop = Some(Stop::TooManyLines);
                return out;
            }
            let rest = data.get(pos..).unwrap_or_default();
            if rest.is_empty() {
                break;
            }
            match self.step(rest) {
                Err(e) => {
                    self.bad = true;
                    out.stop = Some(Stop::Error(e));
                    return out;
                }
                Ok(Step::Need) => {
                    if last {
                        self.bad = true;
                        out.stop = Some(Stop::Error(Error::Truncated));
                        return out;
                    }
                    if rest.len() > MAX_PENDING {
                        self.bad = true;
                        out.stop = Some(Stop::Error(Error::PendingTooLarge));
                        return out;
                    }
                    self.pending = rest.to_vec();
                    return out;
                }
                Ok(Step::Done(n, field)) => {
                    pos = pos.saturating_add(n.max(1));
                    if let Some((name, value)) = field {
                        let weight = 8usize
                            .saturating_add(name.len())
                            .saturating_add(value.len());
                        if bytes.saturating_add(weight) >= MAX_LIST_BYTES {
                            out.stop = Some(Stop::TooLarge);
                            return out;
                        }
                        bytes = bytes.saturating_add(weight);
                        out.headers.push((name, value));
                    }
                }
            }
        }
        if last {
            // A block may not end where the update is still owed.
            if self.state == State::ExpectSize {
                self.bad = true;
                out.stop = Some(Stop::Error(Error::TableSizeExpected));
                return out;
            }
            self.state = State::Start;
        }
        out
    }

    /// One representation at the start of `b`.
    fn step(&mut self, b: &[u8]) -> Result<Step, Error> {
        let Some(&first) = b.first() else {
            return Ok(Step::Need);
        };
        if self.state == State::ExpectSize && first & 0xe0 != 0x20 {
            return Err(Error::TableSizeExpected);
        }
        if first & 0xe0 == 0x20 {
            // Dynamic table size update (6.3).
            if self.state == State::Field {
                return Err(Error::TableSizeNotFirst);
            }
            let Some((size, n)) = read_int(b, 5)? else {
                return Ok(Step::Need);
            };
            let limit = self
                .min_max
                .map_or(self.settings_max, |m| m.min(self.settings_max));
            let size = usize::try_from(size).map_err(|_| Error::TableSizeTooLarge)?;
            if size > limit {
                return Err(Error::TableSizeTooLarge);
            }
            self.min_max = None;
            self.max = size;
            self.evict(0);
            self.state = State::Start;
            return Ok(Step::Done(n, None));
        }
        if first & 0x80 != 0 {
            // Indexed header field (6.1).
            let Some((idx, n)) = read_int(b, 7)? else {
                return Ok(Step::Need);
            };
            let field = self.lookup(idx)?;
            self.state = State::Field;
            return Ok(Step::Done(n, Some(field)));
        }
        // Literal: with incremental indexing (01), without (0000) or never
        // indexed (0001).
        let (prefix, index) = if first & 0x40 != 0 {
            (6, true)
        } else {
            (4, false)
        };
        let Some((idx, mut pos)) = read_int(b, prefix)? else {
            return Ok(Step::Need);
        };
        let name = if idx == 0 {
            let Some((name, n)) = read_string(b.get(pos..).unwrap_or_default())? else {
                return Ok(Step::Need);
            };
            pos = pos.saturating_add(n);
            name
        } else {
            self.lookup(idx)?.0
        };
        let Some((value, n)) = read_string(b.get(pos..).unwrap_or_default())? else {
            return Ok(Step::Need);
        };
        pos = pos.saturating_add(n);
        if index {
            self.insert(name.clone(), value.clone());
        }
        self.state = State::Field;
        Ok(Step::Done(pos, Some((name, value))))
    }

    /// Index space of 2.3.3: 1..=61 static, then the dynamic table.
    fn lookup(&self, idx: u64) -> Result<Header, Error> {
        if idx == 0 {
            return Err(Error::IndexZero);
        }
        let i = usize::try_from(idx - 1).map_err(|_| Error::IndexOutOfRange)?;
        if let Some(&(n, v)) = STATIC_TABLE.get(i) {
            return Ok((n.to_vec(), v.to_vec()));
        }
        let d = i.saturating_sub(STATIC_TABLE.len());
        self.table.get(d).cloned().ok_or(Error::IndexOutOfRange)
    }

    /// Adds an entry (4.4): an entry larger than the table empties it.
    fn insert(&mut self, name: Vec<u8>, value: Vec<u8>) {
        let room = ENTRY_OVERHEAD
            .saturating_add(name.len())
            .saturating_add(value.len());
        if room > self.max {
            self.table.clear();
            self.size = 0;
            return;
        }
        self.evict(room);
        if self.size.saturating_add(room) > MAX_TABLE_MEMORY {
            return;
        }
        self.size = self.size.saturating_add(room);
        self.table.push_front((name, value));
    }

    /// Evicts the oldest entries until `room` more bytes fit (4.3, 4.4).
    fn evict(&mut self, room: usize) {
        let cap = self.max.min(MAX_TABLE_MEMORY);
        while self.size.saturating_add(room) > cap {
            let Some((n, v)) = self.table.pop_back() else {
                self.size = 0;
                break;
            };
            let r = ENTRY_OVERHEAD
                .saturating_add(n.len())
                .saturating_add(v.len());
            self.size = self.size.saturating_sub(r);
        }
    }
}

/// Integer of 5.1 with an N-bit prefix: `Ok(None)` when `b` ends first.
/// Values above `u32::MAX` are rejected, as nghttp2 does.
fn read_int(b: &[u8], prefix: u32) -> Result<Option<(u64, usize)>, Error> {
    let Some(&first) = b.first() else {
        return Ok(None);
    };
    let mask = (1u8 << prefix) - 1;
    let mut v = u64::from(first & mask);
    if v < u64::from(mask) {
        return Ok(Some((v, 1)));
    }
    let mut shift = 0u32;
    for (i, &c) in b.iter().enumerate().skip(1) {
        if shift >= 32 {
            return Err(Error::IntegerOverflow);
        }
        v = v.saturating_add(u64::from(c & 0x7f) << shift);
        if v > u64::from(u32::MAX) {
            return Err(Error::IntegerOverflow);
        }
        if c & 0x80 == 0 {
            return Ok(Some((v, i.saturating_add(1))));
        }
        shift = shift.saturating_add(7);
    }
    Ok(None)
}

/// String literal of 5.2: `Ok(None)` when `b` ends first.
fn read_string(b: &[u8]) -> Result<Option<(Vec<u8>, usize)>, Error> {
    let Some(&first) = b.first() else {
        return Ok(None);
    };
    let Some((len, n)) = read_int(b, 7)? else {
        return Ok(None);
    };
    let len = usize::try_from(len).map_err(|_| Error::StringTooLong)?;
    if len > MAX_STRING {
        return Err(Error::StringTooLong);
    }
    let end = n.saturating_add(len);
    let Some(raw) = b.get(n..end) else {
        return Ok(None);
    };
    let s = if first & 0x80 != 0 {
        huffman_decode(raw)?
    } else {
        raw.to_vec()
    };
    Ok(Some((s, end)))
}

/// The Huffman code of Appendix B as canonical-code tables: for each bit
/// length, the first code, the number of codes and where its symbols start
/// in `symbols` (sorted by length, then code).
struct Canonical {
    first: [u32; 31],
    count: [u32; 31],
    start: [usize; 31],
    symbols: Vec<u16>,
}

fn canonical() -> &'static Canonical {
    static C: OnceLock<Canonical> = OnceLock::new();
    C.get_or_init(|| {
        let mut symbols: Vec<u16> = (0u16..257).collect();
        symbols.sort_by_key(|&s| {
            HUFFMAN
                .get(usize::from(s))
                .map_or((u8::MAX, u32::MAX), |&(c, l)| (l, c))
        });
        let mut c = Canonical {
            first: [0; 31],
            count: [0; 31],
            start: [0; 31],
            symbols,
        };
        for (i, &s) in c.symbols.iter().enumerate() {
            let Some(&(code, len)) = HUFFMAN.get(usize::from(s)) else {
                continue;
            };
            let l = usize::from(len);
            if let (Some(first), Some(count), Some(start)) =
                (c.first.get_mut(l), c.count.get_mut(l), c.start.get_mut(l))
            {
                if *count == 0 {
                    *first = code;
                    *start = i;
                }
                *count = count.saturating_add(1);
            }
        }
        c
    })
}

/// Decodes a Huffman-coded string, walking at most 30 bits per symbol.
pub fn huffman_decode(raw: &[u8]) -> Result<Vec<u8>, Error> {
    let t = canonical();
    let mut out = Vec::with_capacity(raw.len().saturating_mul(8) / 5);
    let mut code = 0u32;
    let mut len = 0usize;
    for &byte in raw {
        for bit in (0..8).rev() {
            code = code << 1 | u32::from(byte >> bit & 1);
            len = len.saturating_add(1);
            let (Some(&first), Some(&count), Some(&start)) =
                (t.first.get(len), t.count.get(len), t.start.get(len))
            else {
                // Longer than any code: only an EOS prefix runs this far.
                return Err(Error::HuffmanEos);
            };
            if count == 0 || code < first || code - first >= count {
                continue;
            }
            let at = usize::try_from(code - first)
                .ok()
                .and_then(|k| start.checked_add(k));
            match at.and_then(|k| t.symbols.get(k)) {
                Some(&s) => match u8::try_from(s) {
                    Ok(c) => out.push(c),
                    Err(_) => return Err(Error::HuffmanEos),
                },
                None => return Err(Error::HuffmanEos),
            }
            code = 0;
            len = 0;
        }
    }
    // Padding: a prefix of EOS (all ones), strictly shorter than a byte.
    if len > 7 || code != (1u32 << len) - 1 {
        return Err(Error::HuffmanPadding);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
