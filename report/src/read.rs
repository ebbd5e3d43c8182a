//! Reading a capture as Scapy's `rdpcap` does (`RawPcapReader`,
//! `RawPcapNgReader`), which is not what tshark does: the full 32-bit
//! link type of a pcap header (FCS bits and all), records longer than
//! tshark's maximum (Scapy reads 4 x 65535 bytes of them, keeps 65535 and
//! skips the rest), a last record cut short kept with the bytes there,
//! unknown link types read as `Raw`, pcapng interfaces never reset by a
//! new section, timestamps as `Decimal(ts) / tsresol`.

use std::io::{self, Read};

use crate::SCAPY_MTU;

/// Scapy bounds each pcap record read at `MTU * 4`.
const READ_CAP: usize = SCAPY_MTU * 4;
/// pcapng blocks longer than this are read in part (Scapy would hold the
/// whole block in memory; what the report needs is in its first bytes).
const BLOCK_CAP: usize = 16 << 20;

/// How a Scapy-style read ended, besides the end of the file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReadEnd {
    /// A record was cut short (Scapy: "packet has been truncated") or
    /// the file ended inside a block.
    pub truncated: bool,
}

/// Why Scapy could not read the file at all (the script fails: no report).
#[derive(Debug)]
pub enum ReadError {
    /// Not pcap, pcapng or a gzip of either: Scapy's "Not a supported
    /// capture file". The bytes read so far, so another reader can take over.
    NotSupported(Vec<u8>),
    /// A pcap header shorter than 24 bytes, a malformed first section header.
    Invalid(&'static str),
    Io(io::Error),
}

/// A timestamp as integer units of a resolution.
#[derive(Clone, Copy)]
enum Res {
    /// 10^-k seconds.
    Dec(u32),
    /// 2^-k seconds.
    Bin(u32),
}

/// `float(Decimal(units) / resolution)`: one correct rounding.
fn time_of(units: u128, res: Res) -> f64 {
    match res {
        Res::Bin(k) => (units as f64) / 2f64.powi(i32::try_from(k).unwrap_or(0)),
        Res::Dec(k) => {
            if units < (1u128 << 53) && k <= 22 {
                // Both exact in f64: one IEEE division rounds correctly.
                return (units as f64) / 10f64.powi(i32::try_from(k).unwrap_or(0));
            }
            let digits = units.to_string();
            let k = usize::try_from(k).unwrap_or(0);
            let text = if digits.len() > k {
                let (int, frac) = digits.split_at(digits.len() - k);
                format!("{int}.{frac}")
            } else {
                format!("0.{}{digits}", "0".repeat(k - digits.len()))
            };
            text.parse().unwrap_or(0.0)
        }
    }
}

/// Reads up to `n` bytes (fewer only at the end of the input).
fn read_up_to(r: &mut impl Read, buf: &mut Vec<u8>, n: usize) -> io::Result<usize> {
    buf.clear();
    let got = r.by_ref().take(n as u64).read_to_end(buf)?;
    Ok(got)
}

/// Skips up to `n` bytes; how many were there.
fn skip(r: &mut impl Read, n: u64) -> io::Result<u64> {
    io::copy(&mut r.by_ref().take(n), &mut io::sink())
}

/// Reads the whole capture, handing each record (link type, the bytes
/// Scapy keeps, `float(pkt.time)`) to `report`.
pub fn read(
    mut r: impl Read,
    report: &mut impl FnMut(u32, &[u8], f64),
) -> Result<ReadEnd, ReadError> {
    let mut magic = Vec::with_capacity(4);
    read_up_to(&mut r, &mut magic, 4).map_err(ReadError::Io)?;
    if magic.starts_with(&[0x1f, 0x8b]) {
        let mut gz = flate2::read::MultiGzDecoder::new(io::Cursor::new(magic).chain(r));
        let mut inner = Vec::with_capacity(4);
        // A broken gzip stream is Scapy's "invalid gzip file".
        if read_up_to(&mut gz, &mut inner, 4).is_err() {
            return Err(ReadError::Invalid("invalid gzip file"));
        }
        return read_plain(inner, gz, report);
    }
    read_plain(magic, r, report)
}

fn read_plain(
    magic: Vec<u8>,
    r: impl Read,
    report: &mut impl FnMut(u32, &[u8], f64),
) -> Result<ReadEnd, ReadError> {
    let (be, nano) = match magic.as_slice() {
        [0xa1, 0xb2, 0xc3, 0xd4] => (true, false),
        [0xd4, 0xc3, 0xb2, 0xa1] => (false, false),
        [0xa1, 0xb2, 0x3c, 0x4d] => (true, true),
        [0x4d, 0x3c, 0xb2, 0xa1] => (false, true),
        [0x0a, 0x0d, 0x0d, 0x0a] => return pcapng(r, report),
        _ => return Err(ReadError::NotSupported(magic)),
    };
    pcap(r, be, nano, report)
}

fn u32_at(b: &[u8], at: usize, be: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if be {
        u32::from_be_bytes(s)
    } else {
        u32::from_le_bytes(s)
    })
}

fn u16_at(b: &[u8], at: usize, be: bool) -> Option<u16> {
    let s: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if be {
        u16::from_be_bytes(s)
    } else {
        u16::from_le_bytes(s)
    })
}

fn pcap(
    mut r: impl Read,
    be: bool,
    nano: bool,
    report: &mut impl FnMut(u32, &[u8], f64),
) -> Result<ReadEnd, ReadError> {
    let mut hdr = Vec::with_capacity(20);
    read_up_to(&mut r, &mut hdr, 20).map_err(ReadError::Io)?;
    if hdr.len() < 20 {
        return Err(ReadError::Invalid("Invalid pcap file (too short)"));
    }
    let linktype = u32_at(&hdr, 16, be).unwrap_or(0);
    let res = Res::Dec(if nano { 9 } else { 6 });
    let mut end = ReadEnd::default();
    let mut rec = Vec::with_capacity(16);
    let mut data = Vec::with_capacity(2048);
    loop {
        // Scapy stops quietly on a short record header and on read errors.
        match read_up_to(&mut r, &mut rec, 16) {
            Ok(16) => {}
            Ok(0) => break,
            Ok(_) | Err(_) => {
                end.truncated = true;
                break;
            }
        }
        let sec = u32_at(&rec, 0, be).unwrap_or(0);
        let frac = u32_at(&rec, 4, be).unwrap_or(0);
        let caplen = u32_at(&rec, 8, be).unwrap_or(0);
        let want = usize::try_from(caplen).unwrap_or(usize::MAX).min(READ_CAP);
        let Ok(got) = read_up_to(&mut r, &mut data, want) else {
            end.truncated = true;
            break;
        };
        let remaining = u64::from(caplen).saturating_sub(got as u64);
        if remaining > 0 {
            let skipped = skip(&mut r, remaining).unwrap_or(0);
            if skipped < remaining || got < want {
                end.truncated = true;
            }
        }
        let kept = data.get(..SCAPY_MTU).unwrap_or(&data);
        let scale: u128 = if nano { 1_000_000_000 } else { 1_000_000 };
        let units = u128::from(sec) * scale + u128::from(frac);
        report(linktype, kept, time_of(units, res));
        if end.truncated {
            break;
        }
    }
    Ok(end)
}

struct Interface {
    linktype: u32,
    snaplen: u32,
    res: Res,
}

fn pcapng(
    mut r: impl Read,
    report: &mut impl FnMut(u32, &[u8], f64),
) -> Result<ReadEnd, ReadError> {
    let mut be = false;
    let mut ifaces: Vec<Interface> = Vec::new();
    let mut end = ReadEnd::default();
    let mut buf = Vec::with_capacity(4096);
    if shb(&mut r, &mut be, &mut buf).is_err() {
        return Err(ReadError::Invalid(
            "The first SHB of the pcapng file is malformed !",
        ));
    }
    let mut word = Vec::with_capacity(4);
    while let Ok(4) = read_up_to(&mut r, &mut word, 4) {
        let blocktype = u32_at(&word, 0, be).unwrap_or(0);
        if blocktype == 0x0A0D_0D0A {
            if shb(&mut r, &mut be, &mut buf).is_err() {
                end.truncated = true;
                break;
            }
            continue;
        }
        match read_up_to(&mut r, &mut word, 4) {
            Ok(4) => {}
            _ => {
                end.truncated = true;
                break;
            }
        }
        let blocklen = u32_at(&word, 0, be).unwrap_or(0);
        if blocklen < 12 {
            end.truncated = true;
            break;
        }
        let body = u64::from(blocklen - 12);
        let keep = usize::try_from(body).unwrap_or(usize::MAX).min(BLOCK_CAP);
        let Ok(got) = read_up_to(&mut r, &mut buf, keep) else {
            end.truncated = true;
            break;
        };
        let rest = body - got as u64;
        if got < keep || (rest > 0 && skip(&mut r, rest).unwrap_or(0) < rest) {
            end.truncated = true;
            break;
        }
        if tail(&mut r, blocklen, be).is_err() {
            end.truncated = true;
            break;
        }
        let block = buf.as_slice();
        match blocktype {
            1 => {
                let (Some(lt), Some(snap)) = (u16_at(block, 0, be), u32_at(block, 4, be)) else {
                    end.truncated = true;
                    break;
                };
                let mut res = Res::Dec(6);
                for (code, val) in options(block.get(8..).unwrap_or(&[]), be) {
                    if code == 9 {
                        if let [v] = val {
                            res = if v & 0x80 != 0 {
                                Res::Bin(u32::from(v & 0x7f))
                            } else {
                                Res::Dec(u32::from(v & 0x7f))
                            };
                        }
                        break; // the first occurrence counts
                    }
                }
                ifaces.push(Interface {
                    linktype: u32::from(lt),
                    snaplen: snap,
                    res,
                });
            }
            6 | 2 => {
                let hdr = if blocktype == 6 {
                    (
                        u32_at(block, 0, be),
                        u32_at(block, 4, be),
                        u32_at(block, 8, be),
                        u32_at(block, 12, be),
                    )
                } else {
                    (
                        u16_at(block, 0, be).map(u32::from),
                        u32_at(block, 4, be),
                        u32_at(block, 8, be),
                        u32_at(block, 12, be),
                    )
                };
                let (Some(intid), Some(hi), Some(lo), Some(caplen)) = hdr else {
                    end.truncated = true;
                    break;
                };
                if blocktype == 6 && block.len() < 20 {
                    end.truncated = true;
                    break;
                }
                let cap = usize::try_from(caplen).unwrap_or(usize::MAX);
                if blocktype == 6 {
                    // An EPB flags option of the wrong size stops Scapy.
                    let opt_at = 20usize
                        .saturating_add(cap)
                        .saturating_add(cap.wrapping_neg() % 4);
                    let bad_flags = options(block.get(opt_at..).unwrap_or(&[]), be)
                        .filter(|(c, _)| *c == 2)
                        .last()
                        .is_some_and(|(_, v)| !v.is_empty() && v.len() != 4);
                    if bad_flags {
                        end.truncated = true;
                        break;
                    }
                }
                let Some(iface) = usize::try_from(intid).ok().and_then(|i| ifaces.get(i)) else {
                    continue;
                };
                let data = block.get(20..).unwrap_or(&[]);
                let data = data.get(..cap).unwrap_or(data);
                let data = data.get(..SCAPY_MTU).unwrap_or(data);
                let units = (u128::from(hi) << 32) + u128::from(lo);
                report(iface.linktype, data, time_of(units, iface.res));
            }
            3 => {
                let Some(iface) = ifaces.first() else {
                    continue;
                };
                let Some(wirelen) = u32_at(block, 0, be) else {
                    end.truncated = true;
                    break;
                };
                let cap = usize::try_from(wirelen.min(iface.snaplen)).unwrap_or(usize::MAX);
                let data = block.get(4..).unwrap_or(&[]);
                let data = data.get(..cap).unwrap_or(data);
                let data = data.get(..SCAPY_MTU).unwrap_or(data);
                // A simple packet block has no time; Scapy stamps it with
                // the moment it was read.
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                report(iface.linktype, data, now);
            }
            _ => {}
        }
    }
    Ok(end)
}

/// The options of a block body: (code, value) up to the end-of-options.
fn options(b: &[u8], be: bool) -> impl Iterator<Item = (u16, &[u8])> {
    let mut off = 0usize;
    std::iter::from_fn(move || loop {
        if b.len().saturating_sub(off) < 4 {
            return None;
        }
        let code = u16_at(b, off, be)?;
        let len = usize::from(u16_at(b, off + 2, be)?);
        if code == 0 {
            return None;
        }
        let at = off + 4;
        off = at + len + (len.wrapping_neg() % 4);
        if at + len <= b.len() {
            return Some((code, b.get(at..at + len).unwrap_or(&[])));
        }
    })
}

/// A block's trailing length (after Scapy's padding skip for lengths
/// that are not a multiple of 4).
fn tail(r: &mut impl Read, blocklen: u32, be: bool) -> Result<(), ()> {
    let pad = u64::from(blocklen.wrapping_neg() % 4);
    if pad > 0 {
        skip(r, pad).map_err(|_| ())?;
    }
    let mut w = Vec::with_capacity(4);
    match read_up_to(r, &mut w, 4) {
        Ok(4) if u32_at(&w, 0, be) == Some(blocklen) => Ok(()),
        _ => Err(()),
    }
}

/// A section header block after its type: sets the byte order.
fn shb(r: &mut impl Read, be: &mut bool, buf: &mut Vec<u8>) -> Result<(), ()> {
    read_up_to(r, buf, 8).map_err(|_| ())?;
    let (Some(len_raw), Some(magic)) = (buf.get(..4), buf.get(4..8)) else {
        return Err(());
    };
    *be = match magic {
        [0x1a, 0x2b, 0x3c, 0x4d] => true,
        [0x4d, 0x3c, 0x2b, 0x1a] => false,
        _ => return Err(()),
    };
    let blocklen = u32_at(len_raw, 0, *be).ok_or(())?;
    if blocklen < 28 {
        return Err(());
    }
    let mut v = Vec::with_capacity(12);
    read_up_to(r, &mut v, 12).map_err(|_| ())?;
    if v.len() != 12 || u16_at(&v, 0, *be) != Some(1) {
        return Err(());
    }
    let opts = u64::from(blocklen - 28);
    if skip(r, opts).map_err(|_| ())? != opts {
        return Err(());
    }
    tail(r, blocklen, *be)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_times_round_once() {
        assert_eq!(
            time_of(1_600_000_000_123_456, Res::Dec(6)),
            1_600_000_000.123456
        );
        let want: f64 = "1600000000.123456789".parse().unwrap_or(0.0);
        assert_eq!(time_of(1_600_000_000_123_456_789, Res::Dec(9)), want);
        assert_eq!(time_of(3, Res::Bin(1)), 1.5);
    }

    #[test]
    fn pcap_keeps_a_cut_record_and_the_raw_linktype() {
        let mut f = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        f.extend_from_slice(&0xffffu32.to_le_bytes());
        f.extend_from_slice(&0x1000_0001u32.to_le_bytes()); // FCS bits set: not Ethernet for Scapy
        for caplen in [4u32, 10] {
            f.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
            f.extend_from_slice(&caplen.to_le_bytes());
            f.extend_from_slice(&caplen.to_le_bytes());
            f.extend_from_slice(&[0u8; 4]);
        }
        let mut seen = Vec::new();
        let end = read(f.as_slice(), &mut |lt, data: &[u8], t| {
            seen.push((lt, data.len(), t))
        })
        .ok();
        assert_eq!(end, Some(ReadEnd { truncated: true }));
        assert_eq!(seen, vec![(0x1000_0001, 4, 1.0), (0x1000_0001, 4, 1.0)]);
    }
}
