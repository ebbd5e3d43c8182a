//! Capture input: pcap and pcapng, plain or compressed (gzip, zstd, lz4,
//! recognised by their magic bytes), from a file or standard input, read as a
//! stream through one buffer that records are handed out of in place, so
//! memory stays constant. Several files ([`set`]) are read as one stream
//! in timestamp order, as mergecap merges them.

mod file;
mod input;
mod linktypes;
mod pcap;
mod pcapng;
pub mod set;

use std::fmt;
use std::io::{self, Read};
use std::ops::Range;

use file::CaptureFile;
pub use file::FILE_BYTES_READ;
pub use linktypes::wtap_encap;
pub use set::SetError;

use crate::table::Timestamp;

/// Largest record wiretap accepts for most link types.
pub const MAX_SNAPLEN: u32 = 262_144;

/// One record of a capture, borrowed from the reader's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    pub ts: Timestamp,
    /// Length on the wire.
    pub len: u32,
    /// Link-layer type (LINKTYPE_* value) of the record's interface.
    pub linktype: u32,
    pub interface_id: u32,
    pub data: &'a [u8],
    /// The record as stored, with any pseudo-header `data` starts after,
    /// and its length on the wire counted the same way: what a writer
    /// writes.
    pub raw: &'a [u8],
    pub raw_len: u32,
    /// Index of the record's interface in [`Capture::interfaces`].
    pub iface: u32,
    /// A pcapng packet block's options (little-endian, without the end
    /// marker); empty for pcap.
    pub options: &'a [u8],
    /// The interfaces described so far ([`Capture::interfaces`]).
    pub interfaces: &'a [Interface],
}

/// An interface the capture described, as a capture writer needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub linktype: u32,
    pub snaplen: u32,
    /// pcapng options (little-endian, without the end marker), among them
    /// the time resolution of the records.
    pub options: Vec<u8>,
}

impl Interface {
    /// The `if_tsresol` option's value: ticks of 10^-n seconds (or 2^-n
    /// with the top bit); 6 (microseconds) without one.
    pub fn tsresol(&self) -> u8 {
        options(&self.options)
            .find(|(code, v)| *code == 9 && v.len() == 1)
            .and_then(|(_, v)| v.first().copied())
            .unwrap_or(6)
    }

    /// The `if_tsoffset` option: seconds added to every record's time.
    pub fn offset_secs(&self) -> i64 {
        options(&self.options)
            .find_map(|(code, v)| {
                let v: [u8; 8] = v.try_into().ok()?;
                (code == 14).then(|| i64::from_le_bytes(v))
            })
            .unwrap_or(0)
    }
}

/// The options of a little-endian pcapng option list: code and value.
pub fn options(list: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    options_in(list, false)
}

/// The options of a pcapng option list in either byte order, up to the end
/// marker or the first one whose value does not fit. pcap-parser's option
/// parser is not used: it wants the value's padding inside the list too,
/// so it drops an unpadded last option that this reads.
pub(crate) fn options_in(list: &[u8], big_endian: bool) -> impl Iterator<Item = (u16, &[u8])> {
    let u16_of = move |b: [u8; 2]| {
        if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    };
    let mut rest = list;
    std::iter::from_fn(move || {
        let (head, tail) = rest.split_first_chunk::<4>()?;
        let code = u16_of([head[0], head[1]]);
        let len = usize::from(u16_of([head[2], head[3]]));
        let value = tail.get(..len)?;
        rest = tail.get((len + 3) & !3..).unwrap_or_default();
        (code != 0).then_some((code, value))
    })
}

/// Why reading a capture failed; rendered in tshark's words by the CLI.
#[derive(Debug)]
pub enum CaptureError {
    /// The file does not exist.
    NotFound,
    /// Opening or reading failed for another reason of the operating system.
    Io(io::Error),
    /// Not a capture in a format we read (`isn't a capture file ...`).
    UnknownFormat,
    /// The capture ended in the middle of a record.
    CutShort,
    /// Damaged or corrupt; the detail is wiretap's parenthesised reason.
    Corrupt(String),
    /// A link type wiretap does not know.
    UnsupportedEncap(String),
    /// A file of a set could not be opened: nothing was read.
    Open {
        path: String,
        error: Box<CaptureError>,
    },
    /// A folder given as input holds no capture file.
    EmptyFolder,
    /// Files of a set that ended in damage, after every record of the
    /// set, theirs up to the damage included, was read.
    Damaged(Vec<SetError>),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::NotFound => write!(f, "file not found"),
            CaptureError::Io(e) => write!(f, "{e}"),
            CaptureError::UnknownFormat => write!(f, "unknown capture format"),
            CaptureError::CutShort => write!(f, "cut short"),
            CaptureError::Corrupt(s) => write!(f, "corrupt: {s}"),
            CaptureError::UnsupportedEncap(s) => write!(f, "unsupported: {s}"),
            CaptureError::EmptyFolder => write!(f, "no capture file in the folder"),
            CaptureError::Open { path, error } => write!(f, "{path}: {error}"),
            CaptureError::Damaged(files) => {
                for (i, e) in files.iter().enumerate() {
                    if i > 0 {
                        write!(f, "; ")?;
                    }
                    write!(f, "{}: {} after {} records", e.path, e.error, e.records)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for CaptureError {}

/// A capture being read, record by record: one file, or a set merged.
pub struct Capture {
    src: Source,
}

enum Source {
    File(Box<CaptureFile>),
    Set(Box<set::Set>),
}

impl Capture {
    /// Opens a file, or standard input for `-`.
    pub fn open(path: &str) -> Result<Capture, CaptureError> {
        Ok(Capture {
            src: Source::File(Box::new(CaptureFile::open(path)?)),
        })
    }

    /// Opens the captures of `paths` as one stream (one path: that file,
    /// its errors unwrapped as [`Capture::open`] gives them).
    pub fn open_all(paths: &[String]) -> Result<Capture, CaptureError> {
        match paths {
            [one] => Self::open(one),
            _ => Ok(Capture {
                src: Source::Set(Box::new(set::Set::open(paths)?)),
            }),
        }
    }

    /// Reads a capture from any byte stream, decompressing it if needed.
    pub fn from_reader(raw: Box<dyn Read + Send>) -> Result<Capture, CaptureError> {
        Ok(Capture {
            src: Source::File(Box::new(CaptureFile::from_reader(raw)?)),
        })
    }

    /// The next record, `Ok(None)` at the end of the capture.
    #[inline(always)]
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, CaptureError> {
        Ok(self.next_record_at()?.map(|(rec, _)| rec))
    }

    /// The next record and where its bytes sit in the current buffer.
    #[inline(always)]
    pub fn next_record_at(&mut self) -> Result<Option<(Record<'_>, Range<usize>)>, CaptureError> {
        match &mut self.src {
            Source::File(f) => {
                let Some(m) = f.next_meta()? else {
                    return Ok(None);
                };
                let f = &**f;
                Ok(Some((
                    m.record(|r| f.input.bytes(r), f.interfaces()),
                    m.data,
                )))
            }
            Source::Set(s) => s.next_record_at(),
        }
    }

    /// The interfaces described so far, which [`Record::iface`] indexes.
    pub fn interfaces(&self) -> &[Interface] {
        match &self.src {
            Source::File(f) => f.interfaces(),
            Source::Set(s) => s.interfaces(),
        }
    }

    /// The (first) pcapng section header's options; empty for pcap.
    pub fn section_options(&self) -> &[u8] {
        match &self.src {
            Source::File(f) => f.section_options(),
            Source::Set(s) => s.section_options(),
        }
    }

    /// Whether the (first) file is pcapng.
    pub fn is_pcapng(&self) -> bool {
        match &self.src {
            Source::File(f) => f.is_pcapng(),
            Source::Set(s) => s.is_pcapng(),
        }
    }

    /// Reads into buffers of at least `size` bytes from now on, each kept
    /// whole once reading moves past it, for [`Capture::retired_buffer`].
    pub fn keep_buffers(&mut self, size: usize) {
        match &mut self.src {
            Source::File(f) => f.input.keep_buffers(size),
            Source::Set(s) => s.keep_buffers(size),
        }
    }

    /// After [`Capture::keep_buffers`]: the buffer the records before the
    /// last one sit in (at the ranges [`Capture::next_record_at`] gave),
    /// once the last one was read into a new buffer. Ask after every record.
    pub fn retired_buffer(&mut self) -> Option<Vec<u8>> {
        match &mut self.src {
            Source::File(f) => f.input.retired(),
            Source::Set(s) => s.retired(),
        }
    }

    /// The buffer the records not yet retired sit in, once the capture ended.
    pub fn take_buffer(&mut self) -> Vec<u8> {
        match &mut self.src {
            Source::File(f) => f.input.take_current(),
            Source::Set(s) => s.take_current(),
        }
    }

    /// A buffer from [`Capture::retired_buffer`] or
    /// [`Capture::take_buffer`], no longer read, back for reuse.
    pub fn recycle_buffer(&mut self, buf: Vec<u8>) {
        match &mut self.src {
            Source::File(f) => f.input.recycle(buf),
            Source::Set(s) => s.recycle(buf),
        }
    }
}
/// What a format reader found: the record's metadata and where its bytes sit
/// in the input's buffer.
pub(crate) struct RecordMeta {
    pub ts: Timestamp,
    pub len: u32,
    pub linktype: u32,
    pub interface_id: u32,
    /// Index into the file's interfaces, across pcapng sections.
    pub iface: u32,
    pub data: Range<usize>,
    pub raw: Range<usize>,
    pub raw_len: u32,
    pub options: Range<usize>,
}

impl RecordMeta {
    /// The same record, its ranges moved by `at`.
    pub(crate) fn shifted(self, at: &dyn Fn(Range<usize>) -> Range<usize>) -> RecordMeta {
        RecordMeta {
            data: at(self.data),
            raw: at(self.raw),
            options: at(self.options),
            ..self
        }
    }

    /// The record, its bytes looked up by `bytes`.
    #[inline(always)]
    pub(crate) fn record<'a>(
        &self,
        bytes: impl Fn(Range<usize>) -> &'a [u8],
        interfaces: &'a [Interface],
    ) -> Record<'a> {
        Record {
            ts: self.ts,
            len: self.len,
            linktype: self.linktype,
            interface_id: self.interface_id,
            data: bytes(self.data.clone()),
            raw: bytes(self.raw.clone()),
            raw_len: self.raw_len,
            iface: self.iface,
            options: bytes(self.options.clone()),
            interfaces,
        }
    }
}

/// A big-endian u32 from the start of `b` (zero-padded when shorter).
pub(crate) fn be32(b: &[u8]) -> u32 {
    let mut w = [0u8; 4];
    for (d, s) in w.iter_mut().zip(b) {
        *d = *s;
    }
    u32::from_be_bytes(w)
}

/// The largest record wiretap accepts for a link type.
pub fn max_snaplen_for(linktype: u32) -> u32 {
    match linktype {
        // USBPcap and D-Bus records can be huge.
        249 | 231 => 128 << 20,
        // EBHSCR
        279 => 8 << 20,
        _ => MAX_SNAPLEN,
    }
}

#[cfg(test)]
mod tests;
