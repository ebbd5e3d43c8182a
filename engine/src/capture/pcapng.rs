//! pcapng: sections in either byte order, interfaces with their own link
//! type, time resolution and offset; enhanced, simple and obsolete packet
//! blocks. Other blocks are skipped.
//!
//! Each block is framed here (wiretap's length checks and messages come
//! before its body is read) and taken whole from the input's buffer;
//! pcap-parser parses the section header. The other blocks are read here,
//! for what pcap-parser does not do as wiretap does (see DEPENDENCIES.md):
//! it has no obsolete packet block, refuses enhanced blocks whose length
//! leaves out the data's padding (wiretap rounds it up) and collects every
//! packet's options into a vector (1.37x the read time with one option
//! per packet), refuses interface blocks whose trailing length differs,
//! and reads `if_tsoffset` little-endian in big-endian sections.

use std::ops::Range;

use pcap_parser::pcapng::{parse_sectionheaderblock, PcapNGOption};

use super::input::Input;
use super::{be32, max_snaplen_for, options_in, CaptureError, RecordMeta};
use crate::table::Timestamp;

pub(crate) const SHB_TYPE: u32 = 0x0a0d_0d0a;
const IDB_TYPE: u32 = 1;
const OPB_TYPE: u32 = 2;
const SPB_TYPE: u32 = 3;
const EPB_TYPE: u32 = 6;
const BOM: u32 = 0x1a2b_3c4d;
/// Wiretap refuses blocks larger than this.
const MAX_BLOCK: u32 = 16 * 1024 * 1024;
/// Cap on interfaces per section, so a hostile file cannot grow the table.
const MAX_INTERFACES: usize = 65_536;

#[derive(Clone, Copy)]
struct Interface {
    linktype: u32,
    snaplen: u32,
    /// Ticks per second, or zero when the resolution is a power of two we
    /// convert with `shift`.
    ticks_per_sec: u64,
    shift: Option<u32>,
    offset_secs: i64,
}

pub(crate) struct PcapngReader {
    big_endian: bool,
    interfaces: Vec<Interface>,
    /// Every interface of every section so far, as a writer needs them;
    /// a section's local index plus `section_base` indexes it.
    pub(crate) described: Vec<super::Interface>,
    section_base: usize,
    /// The first section header's options (little-endian), for writers.
    pub(crate) section_options: Vec<u8>,
    sections: u32,
}

impl PcapngReader {
    /// Reads the first section header.
    pub fn open(input: &mut Input) -> Result<Self, CaptureError> {
        let mut reader = PcapngReader {
            big_endian: false,
            interfaces: Vec::new(),
            described: Vec::new(),
            section_base: 0,
            section_options: Vec::new(),
            sections: 0,
        };
        reader.read_shb(input).map_err(|e| match e {
            CaptureError::CutShort => CaptureError::UnknownFormat,
            e => e,
        })?;
        Ok(reader)
    }

    fn u32_at(&self, b: &[u8], i: usize) -> u32 {
        let mut w = [0u8; 4];
        if let Some(s) = b.get(i..i + 4) {
            w.copy_from_slice(s);
        }
        if self.big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    }

    fn u16_at(&self, b: &[u8], i: usize) -> u16 {
        let mut w = [0u8; 2];
        if let Some(s) = b.get(i..i + 2) {
            w.copy_from_slice(s);
        }
        if self.big_endian {
            u16::from_be_bytes(w)
        } else {
            u16::from_le_bytes(w)
        }
    }

    /// Section header: the byte-order magic tells the length's order,
    /// checked as wiretap does before the block is read; pcap-parser then
    /// parses it (it cannot refuse a block that passed these checks).
    fn read_shb(&mut self, input: &mut Input) -> Result<(), CaptureError> {
        let (_, head) = input.peek(12)?;
        let have = head.len();
        if have < 12 {
            input.consume(have);
            return Err(CaptureError::CutShort);
        }
        let bom = be32(head.get(8..).unwrap_or_default());
        self.big_endian = if bom == BOM {
            true
        } else if bom.swap_bytes() == BOM {
            false
        } else {
            return Err(CaptureError::Corrupt(format!(
                "pcapng: unknown byte-order magic number 0x{bom:08x}"
            )));
        };
        let total = self.u32_at(head, 4);
        if total < 28 || !total.is_multiple_of(4) {
            return Err(CaptureError::Corrupt(format!(
                "pcapng: total block length {total} of an SHB is less than the minimum SHB size 28"
            )));
        }
        if total > MAX_BLOCK {
            return Err(CaptureError::Corrupt(format!(
                "pcapng: total block length {total} is too large (> {MAX_BLOCK})"
            )));
        }
        let (_, window) = input.peek(total as usize)?;
        let have = window.len();
        let Some(block) = window.get(..total as usize) else {
            input.consume(have);
            return Err(CaptureError::CutShort);
        };
        if self.sections == 0 {
            self.section_options = match parse_sectionheaderblock(block) {
                Ok((_, shb)) => self.options_le(parsed_options(&shb.options)),
                Err(_) => Vec::new(),
            };
        }
        input.consume(total as usize);
        self.sections = self.sections.saturating_add(1);
        self.section_base = self.described.len();
        self.interfaces.clear();
        Ok(())
    }

    pub fn next(&mut self, input: &mut Input) -> Result<Option<RecordMeta>, CaptureError> {
        // Skip blocks until a packet block; each iteration consumes one block.
        loop {
            let (_, head) = input.peek(8)?;
            let have = head.len();
            if have < 8 {
                if have == 0 {
                    return Ok(None);
                }
                input.consume(have);
                return Err(CaptureError::CutShort);
            }
            if be32(head) == SHB_TYPE {
                self.read_shb(input)?;
                continue;
            }
            let block_type = self.u32_at(head, 0);
            let total = self.u32_at(head, 4);
            if total < 12 {
                return Err(CaptureError::Corrupt(format!(
                    "pcapng: total block length {total} of block is less than the minimum block size 12"
                )));
            }
            if total > MAX_BLOCK {
                return Err(CaptureError::Corrupt(format!(
                    "pcapng: total block length {total} is too large (> {MAX_BLOCK})"
                )));
            }
            // The whole block in one slice; lengths not a multiple of 4 are read as written.
            let (at, window) = input.peek(total as usize)?;
            let have = window.len();
            let Some(buf) = window.get(8..total as usize) else {
                input.consume(have);
                return Err(CaptureError::CutShort);
            };
            let body_len = buf.len().saturating_sub(4);
            let body_at = at.saturating_add(8);
            let shift = |r: Range<usize>| r.start + body_at..r.end + body_at;
            let found = match block_type {
                IDB_TYPE => self
                    .read_idb(buf.get(..body_len).unwrap_or_default())
                    .map(|()| None),
                EPB_TYPE | OPB_TYPE => self.packet_block(block_type, buf, body_len).map(Some),
                SPB_TYPE => self.simple_block(buf, body_len).map(Some),
                _ => Ok(None),
            };
            // Consumed even when it is damaged, as a take would have.
            input.consume(total as usize);
            if let Some(m) = found? {
                return Ok(Some(m.shifted(&shift)));
            }
        }
    }

    fn read_idb(&mut self, body: &[u8]) -> Result<(), CaptureError> {
        if body.len() < 8 {
            return Err(CaptureError::Corrupt(
                "pcapng: interface description block is too short".to_string(),
            ));
        }
        let linktype = u32::from(self.u16_at(body, 0));
        let snaplen = self.u32_at(body, 4);
        let mut iface = Interface {
            linktype,
            snaplen,
            ticks_per_sec: 1_000_000,
            shift: None,
            offset_secs: 0,
        };
        let opts = body.get(8..).unwrap_or_default();
        for (code, val) in options_in(opts, self.big_endian) {
            match code {
                9 => {
                    if let Some(&res) = val.first() {
                        let exp = u32::from(res & 0x7f);
                        if res & 0x80 != 0 {
                            iface.shift = Some(exp.min(63));
                        } else {
                            iface.ticks_per_sec = 10u64.checked_pow(exp).unwrap_or(u64::MAX);
                        }
                    }
                }
                14 => {
                    if let Ok(w) = <[u8; 8]>::try_from(val) {
                        iface.offset_secs = if self.big_endian {
                            i64::from_be_bytes(w)
                        } else {
                            i64::from_le_bytes(w)
                        };
                    }
                }
                _ => {}
            }
        }
        if self.interfaces.len() < MAX_INTERFACES {
            self.interfaces.push(iface);
            self.described.push(super::Interface {
                linktype,
                snaplen,
                options: self.options_le(options_in(opts, self.big_endian)),
            });
        }
        Ok(())
    }

    /// An option list as a little-endian writer writes it, without its
    /// end marker: copied as is from a little-endian section; from a
    /// big-endian one, only the options whose value has no byte order
    /// (text, one byte) and the time offset survive.
    fn options_le<'a>(&self, opts: impl Iterator<Item = (u16, &'a [u8])>) -> Vec<u8> {
        let mut out = Vec::new();
        for (code, val) in opts {
            let keep: Option<Vec<u8>> = if !self.big_endian {
                Some(val.to_vec())
            } else {
                match code {
                    1 | 2 | 3 | 4 | 9 | 10 | 11 | 12 | 13 | 15 | 16 => Some(val.to_vec()),
                    14 => Some(val.iter().rev().copied().collect()),
                    _ => None,
                }
            };
            if let Some(v) = keep {
                let olen = v.len();
                out.extend_from_slice(&code.to_le_bytes());
                out.extend_from_slice(&(olen as u16).to_le_bytes());
                out.extend_from_slice(&v);
                out.resize(out.len() + (olen.next_multiple_of(4) - olen), 0);
            }
        }
        out
    }

    fn interface(&self, id: u32) -> Result<Interface, CaptureError> {
        self.interfaces.get(id as usize).copied().ok_or_else(|| {
            CaptureError::Corrupt(format!(
                "pcapng: interface index {id} is not less than interface count {}",
                self.interfaces.len()
            ))
        })
    }

    fn packet_block(
        &self,
        block_type: u32,
        buf: &[u8],
        body_len: usize,
    ) -> Result<RecordMeta, CaptureError> {
        if body_len < 20 {
            return Err(CaptureError::Corrupt(format!(
                "pcapng: total block length {} of an EPB is less than the minimum EPB size 32",
                body_len + 12
            )));
        }
        let interface_id = if block_type == OPB_TYPE {
            u32::from(self.u16_at(buf, 0))
        } else {
            self.u32_at(buf, 0)
        };
        let iface = self.interface(interface_id)?;
        let ts_raw = (u64::from(self.u32_at(buf, 4)) << 32) | u64::from(self.u32_at(buf, 8));
        let caplen = self.u32_at(buf, 12);
        let len = self.u32_at(buf, 16);
        let max = max_snaplen_for(iface.linktype);
        if caplen > max {
            return Err(CaptureError::Corrupt(format!(
                "pcapng: cap_len {caplen} is larger than {max}"
            )));
        }
        let data_end = 20usize.saturating_add(caplen as usize);
        if data_end > body_len {
            return Err(CaptureError::Corrupt(format!(
                "pcapng: cap_len {caplen} bigger than remaining block length {}",
                body_len - 20
            )));
        }
        let raw_len = len;
        let (skip, _, len) = super::linktypes::strip_pseudo_header(iface.linktype, caplen, len)
            .map_err(CaptureError::Corrupt)?;
        // Options follow the data, padded to 4; an obsolete block's are
        // not the enhanced block's and are dropped.
        let opts_start = data_end.saturating_add(3) & !3;
        let options = if block_type == EPB_TYPE && !self.big_endian && opts_start < body_len {
            opts_start..body_len
        } else {
            0..0
        };
        Ok(RecordMeta {
            ts: convert_ts(&iface, ts_raw),
            len,
            linktype: iface.linktype,
            interface_id,
            iface: self.global(interface_id),
            data: (20 + skip).min(data_end)..data_end,
            raw: 20..data_end,
            raw_len,
            options,
        })
    }

    fn simple_block(&self, buf: &[u8], body_len: usize) -> Result<RecordMeta, CaptureError> {
        let iface = self.interface(0)?;
        let len = self.u32_at(buf, 0);
        let room = body_len.saturating_sub(4);
        let mut caplen = (len as usize).min(room);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen as usize);
        }
        Ok(RecordMeta {
            ts: Timestamp::default(),
            len,
            linktype: iface.linktype,
            interface_id: 0,
            iface: self.global(0),
            data: 4..4 + caplen,
            raw: 4..4 + caplen,
            raw_len: len,
            options: 0..0,
        })
    }

    /// The index among [`PcapngReader::described`] of a section's interface.
    fn global(&self, local: u32) -> u32 {
        u32::try_from(self.section_base.saturating_add(local as usize)).unwrap_or(u32::MAX)
    }
}

/// pcap-parser's options of a section header, up to the end marker (it
/// parses on past one; wiretap stops there).
fn parsed_options<'a>(opts: &'a [PcapNGOption<'a>]) -> impl Iterator<Item = (u16, &'a [u8])> {
    opts.iter()
        .map_while(|o| Some((o.code.0, o.as_bytes()?)))
        .take_while(|(code, _)| *code != 0)
}

fn convert_ts(iface: &Interface, raw: u64) -> Timestamp {
    let (secs, nanos) = match iface.shift {
        Some(shift) => {
            let per_sec = 1u128 << shift;
            let secs = u128::from(raw) / per_sec;
            let frac = u128::from(raw) % per_sec;
            (secs as i64, ((frac * 1_000_000_000) / per_sec) as i32)
        }
        None => {
            let tps = iface.ticks_per_sec.max(1);
            let secs = raw / tps;
            let frac = raw % tps;
            let nanos = if tps <= 1_000_000_000 {
                frac.saturating_mul(1_000_000_000 / tps)
            } else {
                frac / (tps / 1_000_000_000)
            };
            (secs as i64, nanos as i32)
        }
    };
    Timestamp::new(secs.saturating_add(iface.offset_secs), nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_convert_to_nanoseconds() {
        let mut i = Interface {
            linktype: 1,
            snaplen: 0,
            ticks_per_sec: 1_000_000,
            shift: None,
            offset_secs: 0,
        };
        assert_eq!(convert_ts(&i, 1_500_001), Timestamp::new(1, 500_001_000));
        i.ticks_per_sec = 1_000_000_000;
        assert_eq!(convert_ts(&i, 2_000_000_007), Timestamp::new(2, 7));
        i.shift = Some(1);
        assert_eq!(convert_ts(&i, 3), Timestamp::new(1, 500_000_000));
        i.shift = None;
        i.ticks_per_sec = 1_000;
        i.offset_secs = 10;
        assert_eq!(convert_ts(&i, 1_250), Timestamp::new(11, 250_000_000));
    }
}
