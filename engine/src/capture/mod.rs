//! Capture input: pcap and pcapng, plain or compressed (gzip, zstd, lz4,
//! recognised by their magic bytes), from a file or standard input, read as a
//! stream through one buffer that records are handed out of in place, so
//! memory stays constant.

mod input;
mod linktypes;
mod pcap;
mod pcapng;

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::ops::Range;

use input::Input;

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
        }
    }
}

impl std::error::Error for CaptureError {}

enum Format {
    Pcap(pcap::PcapReader),
    Pcapng(pcapng::PcapngReader),
}

/// A capture being read, record by record.
pub struct Capture {
    input: Input,
    format: Format,
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const LZ4_MAGIC: &[u8] = &[0x04, 0x22, 0x4d, 0x18];

impl Capture {
    /// Opens a file, or standard input for `-`.
    pub fn open(path: &str) -> Result<Capture, CaptureError> {
        let raw: Box<dyn Read + Send> = if path == "-" {
            Box::new(io::stdin())
        } else {
            match File::open(path) {
                Ok(f) => {
                    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
                        return Err(CaptureError::Io(io::Error::other("is a directory")));
                    }
                    Box::new(f)
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(CaptureError::NotFound)
                }
                Err(e) => return Err(CaptureError::Io(e)),
            }
        };
        Self::from_reader(raw)
    }

    /// Reads a capture from any byte stream, decompressing it if needed.
    pub fn from_reader(mut raw: Box<dyn Read + Send>) -> Result<Capture, CaptureError> {
        let head = read_head(&mut raw)?;
        let raw = io::Cursor::new(head).chain(raw);
        let stream: Box<dyn Read + Send> = if head.starts_with(GZIP_MAGIC) {
            Box::new(flate2::bufread::MultiGzDecoder::new(
                BufReader::with_capacity(1 << 16, raw),
            ))
        } else if head.starts_with(ZSTD_MAGIC) {
            Box::new(zstd::stream::read::Decoder::new(raw).map_err(CaptureError::Io)?)
        } else if head.starts_with(LZ4_MAGIC) {
            Box::new(lz4_flex::frame::FrameDecoder::new(raw))
        } else {
            Box::new(raw)
        };
        let mut input = Input::new(stream);
        let magic = match input.take(4) {
            Ok(Some(r)) => be32(input.bytes(r)),
            Ok(None) | Err(CaptureError::CutShort) => return Err(CaptureError::UnknownFormat),
            Err(e) => return Err(e),
        };
        let format = match magic {
            pcapng::SHB_TYPE => Format::Pcapng(pcapng::PcapngReader::open(&mut input)?),
            m => match pcap::PcapReader::open(m, &mut input)? {
                Some(r) => Format::Pcap(r),
                None => return Err(CaptureError::UnknownFormat),
            },
        };
        Ok(Capture { input, format })
    }

    /// The next record, `Ok(None)` at the end of the capture.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, CaptureError> {
        Ok(self.next_record_at()?.map(|(rec, _)| rec))
    }

    /// The next record and where its bytes sit in the current buffer.
    pub fn next_record_at(&mut self) -> Result<Option<(Record<'_>, Range<usize>)>, CaptureError> {
        let meta = match &mut self.format {
            Format::Pcap(r) => r.next(&mut self.input)?,
            Format::Pcapng(r) => r.next(&mut self.input)?,
        };
        Ok(meta.map(|m| {
            let rec = Record {
                ts: m.ts,
                len: m.len,
                linktype: m.linktype,
                interface_id: m.interface_id,
                data: self.input.bytes(m.data.clone()),
            };
            (rec, m.data)
        }))
    }

    /// Reads into buffers of at least `size` bytes from now on, each kept
    /// whole once reading moves past it, for [`Capture::retired_buffer`].
    pub fn keep_buffers(&mut self, size: usize) {
        self.input.keep_buffers(size);
    }

    /// After [`Capture::keep_buffers`]: the buffer the records before the
    /// last one sit in (at the ranges [`Capture::next_record_at`] gave),
    /// once the last one was read into a new buffer. Ask after every record.
    pub fn retired_buffer(&mut self) -> Option<Vec<u8>> {
        self.input.retired()
    }

    /// The buffer the records not yet retired sit in, once the capture ended.
    pub fn take_buffer(&mut self) -> Vec<u8> {
        self.input.take_current()
    }

    /// A buffer from [`Capture::retired_buffer`] or
    /// [`Capture::take_buffer`], no longer read, back for reuse.
    pub fn recycle_buffer(&mut self, buf: Vec<u8>) {
        self.input.recycle(buf);
    }
}

/// What a format reader found: the record's metadata and where its bytes sit
/// in the input's buffer.
pub(crate) struct RecordMeta {
    pub ts: Timestamp,
    pub len: u32,
    pub linktype: u32,
    pub interface_id: u32,
    pub data: Range<usize>,
}

/// The first bytes of a stream (up to 4, fewer only at its end), enough to
/// tell compressed input from a capture.
fn read_head(r: &mut dyn Read) -> Result<[u8; 4], CaptureError> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while let Some(rest) = head.get_mut(got..).filter(|r| !r.is_empty()) {
        match r.read(rest) {
            Ok(0) => return Err(CaptureError::UnknownFormat),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CaptureError::Io(e)),
        }
    }
    Ok(head)
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
