//! Legacy pcap: microsecond and nanosecond, both byte orders, and the
//! "modified" (Kuznetzov) variant whose records carry 8 more header bytes.
//!
//! pcap-parser parses the global header and the records of the common
//! files, over the input's buffer in place; what is left here is what it
//! does not do (each marked where it is): the swapped lengths of early
//! files and the modified record header, wiretap's per-link-type maximum
//! with its message, and tshark's "cut short" after every whole record.

use pcap_parser::nom;
use pcap_parser::pcap::{parse_pcap_frame, parse_pcap_frame_be, parse_pcap_header};

use super::input::Input;
use super::{max_snaplen_for, CaptureError, RecordMeta};
use crate::table::Timestamp;

/// A record header's size, without the modified variant's extra bytes.
const RECORD_HEADER: usize = 16;

#[derive(Clone, Copy, PartialEq, Eq)]
enum LengthOrder {
    Normal,
    Swapped,
    SwappedIfBigger,
}

pub(crate) struct PcapReader {
    swapped: LengthOrder,
    big_endian: bool,
    pub(crate) nanos: bool,
    /// Extra bytes after each record header (modified pcap).
    extra_header: usize,
    pub(crate) linktype: u32,
    /// The header's snapshot length, for writers.
    pub(crate) snaplen: u32,
    max_len: u32,
    /// The link type's records start with a pseudo-header to strip.
    pseudo_header: bool,
}

/// A record header's fields and where the record's bytes sit.
struct Frame {
    secs: u32,
    frac: u32,
    caplen: u32,
    len: u32,
    data: std::ops::Range<usize>,
}

impl PcapReader {
    /// Reads the global header after the magic `magic` (read big-endian);
    /// `None` when the magic is not a pcap one.
    pub fn open(magic: u32, input: &mut Input) -> Result<Option<Self>, CaptureError> {
        // pcap-parser does not know the big-endian modified magic; that
        // file's global header is laid out as a plain big-endian one's.
        let (plain, extra_header) = match magic {
            0xa1b2_cd34 => (0xa1b2_c3d4, 8),
            0x34cd_b2a1 => (magic, 8),
            m => (m, 0),
        };
        let mut head = [0u8; 24];
        let (magic_bytes, rest) = head.split_at_mut(4);
        magic_bytes.copy_from_slice(&plain.to_be_bytes());
        // Refused on the magic alone, so a short file that is no capture
        // says so rather than "cut short".
        if let Err(nom::Err::Error(_)) = parse_pcap_header(magic_bytes) {
            return Ok(None);
        }
        let hdr = input.take(20)?.ok_or(CaptureError::CutShort)?;
        for (d, s) in rest.iter_mut().zip(input.bytes(hdr)) {
            *d = *s;
        }
        let (_, header) = parse_pcap_header(&head).map_err(|_| CaptureError::CutShort)?;
        let (major, minor) = (header.version_major, header.version_minor);
        if major < 2 {
            return Err(CaptureError::UnsupportedEncap(format!(
                "pcap: major version {major} unsupported"
            )));
        }
        // Early libpcaps wrote the two lengths of a record the other way
        // round (wiretap's rule); pcap-parser reads them as written.
        let swapped = match (major, minor) {
            (2, m) if m < 3 => LengthOrder::Swapped,
            (543, _) => LengthOrder::Swapped,
            (2, 3) => LengthOrder::SwappedIfBigger,
            _ => LengthOrder::Normal,
        };
        // The upper 16 bits carry the FCS length and flags.
        let linktype = header.network.0 as u32 & 0xffff;
        if !super::linktypes::is_known(linktype) {
            return Err(CaptureError::UnsupportedEncap(format!(
                "pcap: network type {linktype} unknown or unsupported"
            )));
        }
        Ok(Some(PcapReader {
            swapped,
            big_endian: header.is_bigendian(),
            nanos: header.is_nanosecond_precision(),
            extra_header,
            linktype,
            snaplen: header.snaplen,
            max_len: max_snaplen_for(linktype),
            pseudo_header: super::linktypes::pseudo_header(linktype).is_some(),
        }))
    }

    #[inline]
    pub fn next(&mut self, input: &mut Input) -> Result<Option<RecordMeta>, CaptureError> {
        let frame = if self.swapped == LengthOrder::Normal && self.extra_header == 0 {
            self.parsed_frame(input)?
        } else {
            self.own_frame(input)?
        };
        let Some(Frame {
            secs,
            frac,
            caplen,
            len,
            data,
        }) = frame
        else {
            return Ok(None);
        };
        // Kept as written, even a second or more, in wiretap's signed 32-bit field.
        let nanos = if self.nanos {
            frac
        } else {
            frac.wrapping_mul(1000)
        };
        let ts = Timestamp::new(i64::from(secs), nanos as i32);
        let raw_len = len;
        let (start, len) = if self.pseudo_header {
            let (start, _, len) = super::linktypes::strip_pseudo_header(self.linktype, caplen, len)
                .map_err(CaptureError::Corrupt)?;
            (start, len)
        } else {
            (0, len)
        };
        Ok(Some(RecordMeta {
            ts,
            len,
            linktype: self.linktype,
            interface_id: 0,
            iface: 0,
            data: data.start.saturating_add(start).min(data.end)..data.end,
            raw: data.clone(),
            raw_len,
            options: 0..0,
        }))
    }

    /// A record of a plain file, parsed by pcap-parser in the buffer.
    #[inline]
    fn parsed_frame(&self, input: &mut Input) -> Result<Option<Frame>, CaptureError> {
        let mut want = RECORD_HEADER;
        loop {
            let (_, window) = input.peek(want)?;
            let have = window.len();
            if have < want {
                // The input ended: cleanly between records, or inside one
                // (tshark's "cut short", after every whole record).
                if have == 0 && want == RECORD_HEADER {
                    return Ok(None);
                }
                input.consume(have);
                return Err(CaptureError::CutShort);
            }
            let parsed = if self.big_endian {
                parse_pcap_frame_be(window)
            } else {
                parse_pcap_frame(window)
            };
            // The fields are copied out so that the buffer can move on.
            let parsed =
                parsed.map(|(_, b)| (b.ts_sec, b.ts_usec, b.caplen, b.origlen, b.data.len()));
            match parsed {
                Ok((secs, frac, caplen, len, taken)) => {
                    self.check_caplen(caplen)?;
                    let at = input.consume(RECORD_HEADER.saturating_add(taken));
                    return Ok(Some(Frame {
                        secs,
                        frac,
                        caplen,
                        len,
                        data: at.start.saturating_add(RECORD_HEADER).min(at.end)..at.end,
                    }));
                }
                // The header is buffered, not all of its data: the bytes
                // past the header plus what pcap-parser still needs are
                // the captured length, checked before reading on (wiretap
                // refuses an oversized record whether or not it is whole).
                Err(nom::Err::Incomplete(nom::Needed::Size(more))) => {
                    let caplen = have
                        .saturating_sub(RECORD_HEADER)
                        .saturating_add(more.get());
                    self.check_caplen(u32::try_from(caplen).unwrap_or(u32::MAX))?;
                    want = have.saturating_add(more.get());
                }
                Err(_) => return Err(CaptureError::CutShort),
            }
        }
    }

    /// A record whose lengths are swapped or whose header is the modified
    /// one: pcap-parser reads neither (it takes the first length as the
    /// captured one, and its modified parser is little-endian only).
    fn own_frame(&self, input: &mut Input) -> Result<Option<Frame>, CaptureError> {
        let Some(hdr) = input.take(RECORD_HEADER + self.extra_header)? else {
            return Ok(None);
        };
        let hdr = input.bytes(hdr);
        let rd = |i: usize| field(hdr, i, self.big_endian);
        let (mut caplen, mut len) = (rd(8), rd(12));
        match self.swapped {
            LengthOrder::Swapped => std::mem::swap(&mut caplen, &mut len),
            LengthOrder::SwappedIfBigger if caplen > len => std::mem::swap(&mut caplen, &mut len),
            _ => {}
        }
        let (secs, frac) = (rd(0), rd(4));
        self.check_caplen(caplen)?;
        let data = input.take(caplen as usize)?.ok_or(CaptureError::CutShort)?;
        Ok(Some(Frame {
            secs,
            frac,
            caplen,
            len,
            data,
        }))
    }

    /// Wiretap's per-link-type maximum, in its words (pcap-parser has none).
    fn check_caplen(&self, caplen: u32) -> Result<(), CaptureError> {
        if caplen > self.max_len {
            return Err(CaptureError::Corrupt(format!(
                "pcap: File has {caplen}-byte packet, bigger than maximum of {}",
                self.max_len
            )));
        }
        Ok(())
    }
}

/// A 32-bit header field of [`PcapReader::own_frame`]'s records.
fn field(b: &[u8], i: usize, big_endian: bool) -> u32 {
    let mut w = [0u8; 4];
    if let Some(s) = b.get(i..i + 4) {
        w.copy_from_slice(s);
    }
    if big_endian {
        u32::from_be_bytes(w)
    } else {
        u32::from_le_bytes(w)
    }
}
