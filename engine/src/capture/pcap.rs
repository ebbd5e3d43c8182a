//! Legacy pcap: microsecond and nanosecond, both byte orders, and the
//! "modified" (Kuznetzov) variant whose records carry 8 more header bytes.

use super::input::Input;
use super::{max_snaplen_for, CaptureError, RecordMeta};
use crate::table::Timestamp;

#[derive(Clone, Copy)]
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

impl PcapReader {
    /// Reads the global header after the magic `magic` (read big-endian);
    /// `None` when the magic is not a pcap one.
    pub fn open(magic: u32, input: &mut Input) -> Result<Option<Self>, CaptureError> {
        let (big_endian, nanos, extra_header) = match magic {
            0xa1b2_c3d4 => (true, false, 0),
            0xd4c3_b2a1 => (false, false, 0),
            0xa1b2_3c4d => (true, true, 0),
            0x4d3c_b2a1 => (false, true, 0),
            0xa1b2_cd34 => (true, false, 8),
            0x34cd_b2a1 => (false, false, 8),
            _ => return Ok(None),
        };
        let hdr = input.take(20)?.ok_or(CaptureError::CutShort)?;
        let hdr = input.bytes(hdr);
        let rd = |i: usize| field(hdr, i, big_endian);
        let major = (rd(0) >> if big_endian { 16 } else { 0 }) & 0xffff;
        let minor = (rd(0) >> if big_endian { 0 } else { 16 }) & 0xffff;
        if major < 2 {
            return Err(CaptureError::UnsupportedEncap(format!(
                "pcap: major version {major} unsupported"
            )));
        }
        // Early libpcaps wrote the two lengths of a record the other way round.
        let swapped = match (major, minor) {
            (2, m) if m < 3 => LengthOrder::Swapped,
            (543, _) => LengthOrder::Swapped,
            (2, 3) => LengthOrder::SwappedIfBigger,
            _ => LengthOrder::Normal,
        };
        let snaplen = rd(12);
        let network = rd(16);
        let linktype = network & 0xffff;
        if !super::linktypes::is_known(linktype) {
            return Err(CaptureError::UnsupportedEncap(format!(
                "pcap: network type {linktype} unknown or unsupported"
            )));
        }
        Ok(Some(PcapReader {
            swapped,
            big_endian,
            nanos,
            extra_header,
            linktype,
            snaplen,
            max_len: max_snaplen_for(linktype),
            pseudo_header: super::linktypes::pseudo_header(linktype).is_some(),
        }))
    }

    #[inline]
    pub fn next(&mut self, input: &mut Input) -> Result<Option<RecordMeta>, CaptureError> {
        let Some(hdr) = input.take(16 + self.extra_header)? else {
            return Ok(None);
        };
        let hdr = input.bytes(hdr);
        let rd = |i: usize| field(hdr, i, self.big_endian);
        let secs = rd(0);
        let frac = rd(4);
        let (mut caplen, mut len) = (rd(8), rd(12));
        match self.swapped {
            LengthOrder::Swapped => std::mem::swap(&mut caplen, &mut len),
            LengthOrder::SwappedIfBigger if caplen > len => std::mem::swap(&mut caplen, &mut len),
            _ => {}
        }
        if caplen > self.max_len {
            return Err(CaptureError::Corrupt(format!(
                "pcap: File has {caplen}-byte packet, bigger than maximum of {}",
                self.max_len
            )));
        }
        let data = input.take(caplen as usize)?.ok_or(CaptureError::CutShort)?;
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
}

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
