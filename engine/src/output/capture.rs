//! `-w FILE -F pcap|nsecpcap|pcapng`: the shown frames written back as a
//! capture, as tshark's wiretap writes them. pcap (microseconds, the
//! input's link type and snapshot length) is byte for byte tshark's;
//! pcapng keeps each interface's description and time resolution and each
//! packet's options, with interfaces written as the input describes them.
//!
//! A file is written under a temporary name beside it and renamed when the
//! run ends, so an interrupted run never leaves a short file that looks
//! complete.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::Sink;
use crate::capture::{Interface, Record};
use crate::dissect::Frame;
use crate::table::{FieldTable, Timestamp};

/// A capture file format dorsal writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    Pcap,
    NsecPcap,
    Pcapng,
}

impl CaptureFormat {
    /// The `-F` names, with tshark's descriptions, in tshark's order.
    pub const ALL: [(&'static str, &'static str, CaptureFormat); 3] = [
        ("pcap", "Wireshark/tcpdump/... - pcap", CaptureFormat::Pcap),
        ("pcapng", "Wireshark/... - pcapng", CaptureFormat::Pcapng),
        (
            "nsecpcap",
            "Wireshark/tcpdump/... - nanosecond pcap",
            CaptureFormat::NsecPcap,
        ),
    ];

    pub fn from_name(name: &str) -> Option<CaptureFormat> {
        Self::ALL
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, _, f)| *f)
    }
}

/// Snapshot length written when the input gives none.
const DEFAULT_SNAPLEN: u32 = 262_144;
/// What wrote the file, when the input's section does not say.
const USER_APPL: &str = concat!(
    "dorsal ",
    env!("CARGO_PKG_VERSION"),
    " (compatible with TShark 4.0.17)"
);

/// Where the bytes go: a file under a temporary name, or standard output.
enum Target {
    File {
        out: BufWriter<File>,
        temp: PathBuf,
        path: PathBuf,
    },
    Stream(Box<dyn Write>),
}

/// Writes the shown frames as a capture.
pub struct CaptureWriter {
    format: CaptureFormat,
    target: Option<Target>,
    /// The input's section options (pcapng), copied into ours.
    section: Vec<u8>,
    /// The input is pcapng, whose interfaces each have a snapshot length
    /// and the file none: a pcap header then says wiretap's default.
    input_pcapng: bool,
    header_written: bool,
    /// A write failed: the file is not complete.
    failed: bool,
    /// pcap: the one link type the header says.
    linktype: Option<u32>,
    /// Interfaces written so far (pcapng: the input's, in its numbering).
    interfaces: usize,
    buf: Vec<u8>,
}

impl CaptureWriter {
    /// Creates `path`'s temporary file beside it; renamed at [`Sink::end`].
    pub fn create(path: &Path, format: CaptureFormat) -> io::Result<CaptureWriter> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = path.with_file_name(format!(".{name}.dorsal-{}.part", std::process::id()));
        let file = File::create(&temp)?;
        Ok(Self::new(
            format,
            Target::File {
                out: BufWriter::with_capacity(256 * 1024, file),
                temp,
                path: path.to_path_buf(),
            },
        ))
    }

    /// Writes to a stream (`-w -`).
    pub fn to_stream(out: Box<dyn Write>, format: CaptureFormat) -> CaptureWriter {
        Self::new(format, Target::Stream(out))
    }

    fn new(format: CaptureFormat, target: Target) -> CaptureWriter {
        CaptureWriter {
            format,
            target: Some(target),
            section: Vec::new(),
            input_pcapng: false,
            header_written: false,
            failed: false,
            linktype: None,
            interfaces: 0,
            buf: Vec::with_capacity(1 << 16),
        }
    }

    fn out(&mut self) -> io::Result<&mut dyn Write> {
        match self.target.as_mut() {
            Some(Target::File { out, .. }) => Ok(out),
            Some(Target::Stream(out)) => Ok(out.as_mut()),
            None => Err(io::Error::other("capture writer already finished")),
        }
    }

    /// The file header, once: from the interfaces known when the first
    /// record (or the end of the input) came.
    fn header(&mut self, interfaces: &[Interface]) -> io::Result<()> {
        if self.header_written {
            return Ok(());
        }
        self.header_written = true;
        self.buf.clear();
        match self.format {
            CaptureFormat::Pcap | CaptureFormat::NsecPcap => {
                let (linktype, snaplen) = interfaces
                    .first()
                    .map_or((1, DEFAULT_SNAPLEN), |i| (i.linktype, i.snaplen));
                self.linktype = Some(linktype);
                let snaplen = if snaplen == 0 || self.input_pcapng {
                    DEFAULT_SNAPLEN
                } else {
                    snaplen
                };
                let magic: u32 = match self.format {
                    CaptureFormat::NsecPcap => 0xa1b2_3c4d,
                    _ => 0xa1b2_c3d4,
                };
                self.buf.extend_from_slice(&magic.to_le_bytes());
                self.buf.extend_from_slice(&2u16.to_le_bytes());
                self.buf.extend_from_slice(&4u16.to_le_bytes());
                self.buf.extend_from_slice(&[0; 8]);
                self.buf.extend_from_slice(&snaplen.to_le_bytes());
                self.buf.extend_from_slice(&linktype.to_le_bytes());
            }
            CaptureFormat::Pcapng => {
                let mut body = Vec::new();
                body.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
                body.extend_from_slice(&1u16.to_le_bytes());
                body.extend_from_slice(&0u16.to_le_bytes());
                body.extend_from_slice(&u64::MAX.to_le_bytes());
                let mut opts = std::mem::take(&mut self.section);
                if opts.is_empty() {
                    push_option(&mut opts, 4, USER_APPL.as_bytes());
                }
                push_options(&mut body, &opts);
                self.section = opts;
                push_block(&mut self.buf, 0x0a0d_0d0a, &body);
            }
        }
        let buf = std::mem::take(&mut self.buf);
        let done = self.out().and_then(|o| o.write_all(&buf));
        self.buf = buf;
        done?;
        self.more_interfaces(interfaces, interfaces.len())
    }

    /// pcapng: the input's interfaces up to `upto`, not written yet.
    fn more_interfaces(&mut self, interfaces: &[Interface], upto: usize) -> io::Result<()> {
        if self.format != CaptureFormat::Pcapng {
            return Ok(());
        }
        while self.interfaces < upto {
            let Some(i) = interfaces.get(self.interfaces) else {
                break;
            };
            self.interfaces += 1;
            let mut body = Vec::with_capacity(8 + i.options.len());
            body.extend_from_slice(&(i.linktype as u16).to_le_bytes());
            body.extend_from_slice(&0u16.to_le_bytes());
            body.extend_from_slice(&i.snaplen.to_le_bytes());
            push_options(&mut body, &i.options);
            self.buf.clear();
            push_block(&mut self.buf, 1, &body);
            let buf = std::mem::take(&mut self.buf);
            let done = self.out().and_then(|o| o.write_all(&buf));
            self.buf = buf;
            done?;
        }
        Ok(())
    }

    fn write_record(&mut self, rec: &Record<'_>) -> io::Result<()> {
        self.buf.clear();
        let caplen = u32::try_from(rec.raw.len()).unwrap_or(u32::MAX);
        match self.format {
            CaptureFormat::Pcap | CaptureFormat::NsecPcap => {
                let linktype = rec.interfaces.get(rec.iface as usize).map(|i| i.linktype);
                if linktype.is_some() && linktype != self.linktype {
                    return Err(io::Error::other(
                        "pcap holds one link-layer type and the packets have several; write pcapng (-F pcapng)",
                    ));
                }
                let frac = match self.format {
                    CaptureFormat::NsecPcap => rec.ts.nanos,
                    _ => rec.ts.nanos / 1000,
                };
                self.buf
                    .extend_from_slice(&(rec.ts.secs as u32).to_le_bytes());
                self.buf.extend_from_slice(&(frac as u32).to_le_bytes());
                self.buf.extend_from_slice(&caplen.to_le_bytes());
                self.buf.extend_from_slice(&rec.raw_len.to_le_bytes());
                self.buf.extend_from_slice(rec.raw);
            }
            CaptureFormat::Pcapng => {
                let iface = rec.interfaces.get(rec.iface as usize);
                let ticks = iface.map_or_else(
                    || ticks(rec.ts, 6, 0),
                    |i| ticks(rec.ts, i.tsresol(), i.offset_secs()),
                );
                let mut body = Vec::with_capacity(32 + rec.raw.len() + rec.options.len());
                body.extend_from_slice(&rec.iface.to_le_bytes());
                body.extend_from_slice(&((ticks >> 32) as u32).to_le_bytes());
                body.extend_from_slice(&(ticks as u32).to_le_bytes());
                body.extend_from_slice(&caplen.to_le_bytes());
                body.extend_from_slice(&rec.raw_len.to_le_bytes());
                body.extend_from_slice(rec.raw);
                body.resize(body.len().next_multiple_of(4), 0);
                push_options(&mut body, rec.options);
                push_block(&mut self.buf, 6, &body);
            }
        }
        let buf = std::mem::take(&mut self.buf);
        let done = self.out().and_then(|o| o.write_all(&buf));
        self.buf = buf;
        done
    }
}

/// A record's time in ticks of its interface's resolution, as pcapng
/// stores it: before the interface's offset was added.
fn ticks(ts: Timestamp, tsresol: u8, offset_secs: i64) -> u64 {
    let secs = i128::from(ts.secs.saturating_sub(offset_secs));
    let nanos = i128::from(ts.nanos);
    let exp = u32::from(tsresol & 0x7f);
    let per_sec: i128 = if tsresol & 0x80 != 0 {
        1i128.checked_shl(exp.min(63)).unwrap_or(1)
    } else {
        10i128.checked_pow(exp.min(19)).unwrap_or(1_000_000)
    };
    let t = secs
        .saturating_mul(per_sec)
        .saturating_add(nanos.saturating_mul(per_sec) / 1_000_000_000);
    u64::try_from(t.max(0)).unwrap_or(u64::MAX)
}

/// A pcapng block: type, length, body, length again.
fn push_block(out: &mut Vec<u8>, ty: u32, body: &[u8]) {
    let total = u32::try_from(body.len() + 12).unwrap_or(u32::MAX);
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&total.to_le_bytes());
}

/// An option list (already padded) and its end marker; nothing when empty.
fn push_options(body: &mut Vec<u8>, opts: &[u8]) {
    if !opts.is_empty() {
        body.extend_from_slice(opts);
        body.extend_from_slice(&[0; 4]);
    }
}

fn push_option(opts: &mut Vec<u8>, code: u16, value: &[u8]) {
    let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
    opts.extend_from_slice(&code.to_le_bytes());
    opts.extend_from_slice(&len.to_le_bytes());
    opts.extend_from_slice(value.get(..usize::from(len)).unwrap_or(value));
    opts.resize(opts.len().next_multiple_of(4), 0);
}

impl Sink for CaptureWriter {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn frame(&mut self, _: &Frame, _: &[u8], _: &FieldTable) -> io::Result<()> {
        Ok(())
    }

    fn reads_records(&self) -> bool {
        true
    }

    fn capture_opened(&mut self, pcapng: bool, section_options: &[u8]) {
        if !self.header_written {
            self.input_pcapng = pcapng;
            self.section = section_options.to_vec();
        }
    }

    fn record(&mut self, _: &Frame, rec: &Record<'_>) -> io::Result<()> {
        let written = self
            .header(rec.interfaces)
            .and_then(|()| {
                self.more_interfaces(rec.interfaces, (rec.iface as usize).saturating_add(1))
            })
            .and_then(|()| self.write_record(rec));
        self.failed |= written.is_err();
        written
    }

    fn capture_ended(&mut self, interfaces: &[Interface]) -> io::Result<()> {
        let written = self
            .header(interfaces)
            .and_then(|()| self.more_interfaces(interfaces, interfaces.len()));
        self.failed |= written.is_err();
        written
    }

    fn end(&mut self) -> io::Result<()> {
        match self.target.take() {
            // The input never opened (like tshark, leave no file), or
            // writing failed: no file that looks complete.
            Some(Target::File { temp, .. }) if !self.header_written || self.failed => {
                std::fs::remove_file(temp)
            }
            Some(Target::File { out, temp, path }) => {
                let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
                drop(file);
                std::fs::rename(&temp, &path)
            }
            Some(Target::Stream(mut out)) => out.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for CaptureWriter {
    /// A run that never ended leaves no file behind.
    fn drop(&mut self) {
        if let Some(Target::File { temp, .. }) = self.target.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}
