//! Capture input: pcap and pcapng, plain or compressed (gzip, zstd, lz4,
//! recognised by their magic bytes), from a file or standard input, read as a
//! stream with one reused record buffer so memory stays constant.

mod linktypes;
mod pcap;
mod pcapng;

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};

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

/// Reads exactly `buf.len()` bytes. Returns `Ok(false)` on a clean end of
/// input before the first byte, `CutShort` on an end after it.
pub(crate) fn read_full<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> Result<bool, CaptureError> {
    let mut done = 0;
    while done < buf.len() {
        let rest = buf.get_mut(done..).unwrap_or_default();
        match r.read(rest) {
            Ok(0) => {
                return if done == 0 {
                    Ok(false)
                } else {
                    Err(CaptureError::CutShort)
                }
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(CaptureError::CutShort)
            }
            Err(e) => return Err(truncated_stream_or(e)),
        }
    }
    Ok(true)
}

/// Decompressors report a stream cut short as an I/O error of their own.
fn truncated_stream_or(e: io::Error) -> CaptureError {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => CaptureError::CutShort,
        _ => CaptureError::Io(e),
    }
}

/// Reads `len` bytes into `buf` (resized), where `len` was already checked
/// against the reader's cap.
pub(crate) fn read_into<R: Read + ?Sized>(
    r: &mut R,
    buf: &mut Vec<u8>,
    len: usize,
) -> Result<(), CaptureError> {
    buf.clear();
    buf.resize(len, 0);
    if len == 0 {
        return Ok(());
    }
    if read_full(r, buf)? {
        Ok(())
    } else {
        Err(CaptureError::CutShort)
    }
}

enum Format {
    Pcap(pcap::PcapReader),
    Pcapng(pcapng::PcapngReader),
}

/// A capture being read, record by record.
pub struct Capture {
    input: Box<dyn Read + Send>,
    format: Format,
    buf: Vec<u8>,
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const LZ4_MAGIC: &[u8] = &[0x04, 0x22, 0x4d, 0x18];
const BUF_SIZE: usize = 1 << 20;

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
    pub fn from_reader(raw: Box<dyn Read + Send>) -> Result<Capture, CaptureError> {
        let mut buffered = BufReader::with_capacity(BUF_SIZE, raw);
        let head = peek(&mut buffered, 4)?;
        let mut input: Box<dyn Read + Send> = if head.starts_with(GZIP_MAGIC) {
            Box::new(BufReader::with_capacity(
                BUF_SIZE,
                flate2::bufread::MultiGzDecoder::new(buffered),
            ))
        } else if head.starts_with(ZSTD_MAGIC) {
            let d = zstd::stream::read::Decoder::with_buffer(buffered).map_err(CaptureError::Io)?;
            Box::new(BufReader::with_capacity(BUF_SIZE, d))
        } else if head.starts_with(LZ4_MAGIC) {
            Box::new(BufReader::with_capacity(
                BUF_SIZE,
                lz4_flex::frame::FrameDecoder::new(buffered),
            ))
        } else {
            Box::new(buffered)
        };
        let mut magic = [0u8; 4];
        if !read_full(&mut input, &mut magic).map_err(|e| match e {
            CaptureError::CutShort => CaptureError::UnknownFormat,
            e => e,
        })? {
            return Err(CaptureError::UnknownFormat);
        }
        let format = match u32::from_be_bytes(magic) {
            pcapng::SHB_TYPE => Format::Pcapng(pcapng::PcapngReader::open(&mut input)?),
            m => match pcap::PcapReader::open(m, &mut input)? {
                Some(r) => Format::Pcap(r),
                None => return Err(CaptureError::UnknownFormat),
            },
        };
        Ok(Capture {
            input,
            format,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// The next record, `Ok(None)` at the end of the capture.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, CaptureError> {
        let meta = match &mut self.format {
            Format::Pcap(r) => r.next(&mut self.input, &mut self.buf)?,
            Format::Pcapng(r) => r.next(&mut self.input, &mut self.buf)?,
        };
        Ok(meta.map(move |m| Record {
            ts: m.ts,
            len: m.len,
            linktype: m.linktype,
            interface_id: m.interface_id,
            data: self.buf.get(m.data_start..m.data_end).unwrap_or(&[]),
        }))
    }
}

/// What a format reader found: the record's metadata and where its bytes sit
/// in the shared buffer.
pub(crate) struct RecordMeta {
    pub ts: Timestamp,
    pub len: u32,
    pub linktype: u32,
    pub interface_id: u32,
    pub data_start: usize,
    pub data_end: usize,
}

fn peek<R: BufRead>(r: &mut R, n: usize) -> Result<Vec<u8>, CaptureError> {
    loop {
        match r.fill_buf() {
            Ok(b) => return Ok(b.get(..n.min(b.len())).unwrap_or_default().to_vec()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CaptureError::Io(e)),
        }
    }
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
