//! One capture file (or standard input): its format reader over one
//! [`Input`], and the interfaces it described so far.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};

use super::input::Input;
use super::{be32, pcap, pcapng, CaptureError, Interface, RecordMeta};

enum Format {
    Pcap(pcap::PcapReader),
    Pcapng(pcapng::PcapngReader),
}

pub(crate) struct CaptureFile {
    pub(crate) input: Input,
    format: Format,
    /// A pcap file's one interface (pcapng keeps its own).
    pcap_interface: Vec<Interface>,
}

/// Bytes read from capture files by this process, as stored (before any
/// decompression): what a progress meter compares with the files' sizes.
pub static FILE_BYTES_READ: AtomicU64 = AtomicU64::new(0);

/// A file whose reads add to [`FILE_BYTES_READ`] (one relaxed add per read
/// of up to a buffer: nothing next to the read itself).
struct Counted(File);

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        FILE_BYTES_READ.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const LZ4_MAGIC: &[u8] = &[0x04, 0x22, 0x4d, 0x18];

/// pcapng's `if_tsresol` option saying nanoseconds.
const TSRESOL_NANOS: [u8; 8] = [9, 0, 1, 0, 9, 0, 0, 0];

impl CaptureFile {
    /// Opens a file, or standard input for `-`.
    pub(crate) fn open(path: &str) -> Result<CaptureFile, CaptureError> {
        let raw: Box<dyn Read + Send> = if path == "-" {
            Box::new(io::stdin())
        } else {
            match File::open(path) {
                Ok(f) => {
                    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
                        return Err(CaptureError::Io(io::Error::other("is a directory")));
                    }
                    Box::new(Counted(f))
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
    pub(crate) fn from_reader(mut raw: Box<dyn Read + Send>) -> Result<CaptureFile, CaptureError> {
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
        let magic = match input.peek(4) {
            Ok((_, head)) if head.len() >= 4 => be32(head),
            Ok(_) | Err(CaptureError::CutShort) => return Err(CaptureError::UnknownFormat),
            Err(e) => return Err(e),
        };
        // A pcapng reader takes its section header whole, magic included.
        let format = match magic {
            pcapng::SHB_TYPE => Format::Pcapng(pcapng::PcapngReader::open(&mut input)?),
            m => {
                input.consume(4);
                match pcap::PcapReader::open(m, &mut input)? {
                    Some(r) => Format::Pcap(r),
                    None => return Err(CaptureError::UnknownFormat),
                }
            }
        };
        let pcap_interface = match &format {
            Format::Pcap(r) => vec![Interface {
                linktype: r.linktype,
                snaplen: r.snaplen,
                options: if r.nanos {
                    TSRESOL_NANOS.to_vec()
                } else {
                    Vec::new()
                },
            }],
            Format::Pcapng(_) => Vec::new(),
        };
        Ok(CaptureFile {
            input,
            format,
            pcap_interface,
        })
    }

    /// The next record's metadata, its ranges into `self.input`.
    #[inline(always)]
    pub(crate) fn next_meta(&mut self) -> Result<Option<RecordMeta>, CaptureError> {
        match &mut self.format {
            Format::Pcap(r) => r.next(&mut self.input),
            Format::Pcapng(r) => r.next(&mut self.input),
        }
    }

    /// The interfaces described so far ([`RecordMeta::iface`] indexes them).
    pub(crate) fn interfaces(&self) -> &[Interface] {
        match &self.format {
            Format::Pcap(_) => &self.pcap_interface,
            Format::Pcapng(r) => &r.described,
        }
    }

    /// The first section header's options; empty for pcap.
    pub(crate) fn section_options(&self) -> &[u8] {
        match &self.format {
            Format::Pcap(_) => &[],
            Format::Pcapng(r) => &r.section_options,
        }
    }

    pub(crate) fn is_pcapng(&self) -> bool {
        matches!(self.format, Format::Pcapng(_))
    }
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
