//! Record data: the type-specific fields of one resource record, read the
//! way packet-dns.c reads them (offsets into the whole message, so names may
//! point anywhere in it).

use dorsal_engine::dissect::Cx;
use dorsal_engine::fields::FieldId;
use dorsal_engine::table::{Timestamp, Value};

use crate::fields::DnsFields;
use crate::parser::{read_name, Error, Name, Record};
use crate::text::{ascii_lossy, format_text};

/// Most strings read from one TXT record or options from one OPT record.
const MAX_PARTS: usize = 65536;

struct At<'a> {
    msg: &'a [u8],
}

impl<'a> At<'a> {
    fn bytes(&self, off: usize, n: usize) -> Result<&'a [u8], Error> {
        self.msg
            .get(off..off.checked_add(n).ok_or(Error::Truncated)?)
            .ok_or(Error::Truncated)
    }
    fn u8(&self, off: usize) -> Result<u8, Error> {
        self.msg.get(off).copied().ok_or(Error::Truncated)
    }
    fn array<const N: usize>(&self, off: usize) -> Result<[u8; N], Error> {
        self.bytes(off, N)?.try_into().map_err(|_| Error::Truncated)
    }
    fn u16(&self, off: usize) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array(off)?))
    }
    fn u32(&self, off: usize) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array(off)?))
    }
}

fn name(
    cx: &mut Cx<'_>,
    buf: (&mut Name, &mut Vec<u8>),
    msg: &[u8],
    off: usize,
    field: FieldId,
) -> Result<usize, Error> {
    let (n, text) = buf;
    let used = read_name(msg, off, n)?;
    if cx.t.wants(field) {
        text.clear();
        format_text(text, n.as_bytes());
        cx.t.push_str(field, text);
    }
    Ok(used)
}

fn ascii(cx: &mut Cx<'_>, text: &mut Vec<u8>, field: FieldId, raw: &[u8]) {
    if cx.t.wants(field) {
        text.clear();
        ascii_lossy(text, raw);
        cx.t.push_str(field, text);
    }
}

/// RFC 4034 appendix B key tag, as Wireshark's `compute_key_id`.
pub fn key_tag(rdata: &[u8]) -> u16 {
    let mut ac: u32 = 0;
    for (i, &b) in rdata.iter().enumerate() {
        ac = ac.wrapping_add(if i & 1 == 1 {
            u32::from(b)
        } else {
            u32::from(b) << 8
        });
    }
    ac = ac.wrapping_add((ac >> 16) & 0xffff);
    (ac & 0xffff) as u16
}

/// base32hex without padding, as NSEC3 owner hashes print.
fn base32hex(out: &mut Vec<u8>, raw: &[u8]) {
    const ALPHA: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    for &b in raw {
        acc = (acc << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            let i = ((acc >> bits) & 31) as usize;
            out.push(ALPHA.get(i).copied().unwrap_or(b'0'));
        }
        acc &= (1u64 << bits) - 1;
    }
    if bits > 0 {
        let i = ((acc << (5 - bits)) & 31) as usize;
        out.push(ALPHA.get(i).copied().unwrap_or(b'0'));
    }
}

/// Pushes the fields of the record's data. Errors mean the message ended
/// (or a name was malformed) inside the data.
pub fn push(
    f: &DnsFields,
    cx: &mut Cx<'_>,
    buf: (&mut Name, &mut Vec<u8>),
    msg: &[u8],
    r: &Record,
    mdns: bool,
) -> Result<(), Error> {
    let (nbuf, text) = buf;
    let at = At { msg };
    let cur = r.rdata_off;
    let len = usize::from(r.rdlen);
    match r.rtype {
        1 => {
            cx.t.push(f.a, Value::Ipv4(at.array(cur)?));
        }
        2 => {
            name(cx, (nbuf, text), msg, cur, f.ns)?;
        }
        5 => {
            name(cx, (nbuf, text), msg, cur, f.cname)?;
        }
        12 => {
            name(cx, (nbuf, text), msg, cur, f.ptr)?;
        }
        6 => {
            let mut off = cur;
            off += name(cx, (nbuf, text), msg, off, f.soa_mname)?;
            off += name(cx, (nbuf, text), msg, off, f.soa_rname)?;
            for field in [
                f.soa_serial,
                f.soa_refresh,
                f.soa_retry,
                f.soa_expire,
                f.soa_minimum,
            ] {
                cx.t.push_u(field, at.u32(off)?);
                off += 4;
            }
        }
        15 => {
            let pref_off = cur;
            read_name(msg, cur + 2, nbuf)?;
            cx.t.push_u(f.mx_preference, at.u16(pref_off)?);
            name(cx, (nbuf, text), msg, cur + 2, f.mx_mail_exchange)?;
        }
        16 => {
            let mut off = cur;
            let mut left = len;
            for _ in 0..MAX_PARTS {
                if left == 0 {
                    break;
                }
                let n = usize::from(at.u8(off)?);
                cx.t.push_u(f.txt_length, n as u64);
                let s = at.bytes(off + 1, n)?;
                if cx.t.wants(f.txt) {
                    text.clear();
                    if mdns {
                        format_utf8(text, s);
                    } else {
                        ascii_lossy(text, s);
                    }
                    cx.t.push_str(f.txt, text);
                }
                off += 1 + n;
                left = left.checked_sub(1 + n).ok_or(Error::Truncated)?;
            }
        }
        28 => {
            cx.t.push(f.aaaa, Value::Ipv6(at.array(cur)?));
        }
        33 => {
            cx.t.push_u(f.srv_priority, at.u16(cur)?);
            cx.t.push_u(f.srv_weight, at.u16(cur + 2)?);
            cx.t.push_u(f.srv_port, at.u16(cur + 4)?);
            name(cx, (nbuf, text), msg, cur + 6, f.srv_target)?;
        }
        35 => {
            let mut off = cur;
            cx.t.push_u(f.naptr_order, at.u16(off)?);
            cx.t.push_u(f.naptr_preference, at.u16(off + 2)?);
            off += 4;
            for (lf, sf) in [
                (f.naptr_flags_length, f.naptr_flags),
                (f.naptr_service_length, f.naptr_service),
                (f.naptr_regex_length, f.naptr_regex),
            ] {
                let n = usize::from(at.u8(off)?);
                cx.t.push_u(lf, n as u64);
                let s = at.bytes(off + 1, n)?;
                ascii(cx, text, sf, s);
                off += 1 + n;
            }
            read_name(msg, off, nbuf)?;
            cx.t.push_u(f.naptr_replacement_length, nbuf.len() as u64);
            name(cx, (nbuf, text), msg, off, f.naptr_replacement)?;
        }
        41 => {
            let mut off = cur;
            let mut left = len;
            for _ in 0..MAX_PARTS {
                if left == 0 {
                    break;
                }
                let code = at.u16(off)?;
                let n = usize::from(at.u16(off + 2)?);
                cx.t.push(f.opt, Value::None);
                cx.t.push_u(f.opt_code, code);
                cx.t.push_u(f.opt_len, n as u64);
                let d = at.bytes(off + 4, n)?;
                cx.t.push_bytes(f.opt_data, d);
                off += 4 + n;
                left = left.saturating_sub(4 + n);
            }
        }
        43 => {
            cx.t.push_u(f.ds_key_id, at.u16(cur)?);
            cx.t.push_u(f.ds_algorithm, at.u8(cur + 2)?);
            cx.t.push_u(f.ds_digest_type, at.u8(cur + 3)?);
            let d = at.bytes(cur + 4, len.saturating_sub(4))?;
            cx.t.push_bytes(f.ds_digest, d);
        }
        48 => {
            cx.t.push_u(f.dnskey_flags, at.u16(cur)?);
            cx.t.push_u(f.dnskey_protocol, at.u8(cur + 2)?);
            cx.t.push_u(f.dnskey_algorithm, at.u8(cur + 3)?);
            let all = at.bytes(cur, len)?;
            cx.t.push_u(f.dnskey_key_id, key_tag(all));
            let k = at.bytes(cur + 4, len.saturating_sub(4))?;
            cx.t.push_bytes(f.dnskey_public_key, k);
        }
        46 => {
            cx.t.push_u(f.rrsig_type_covered, at.u16(cur)?);
            cx.t.push_u(f.rrsig_algorithm, at.u8(cur + 2)?);
            cx.t.push_u(f.rrsig_labels, at.u8(cur + 3)?);
            cx.t.push_u(f.rrsig_original_ttl, at.u32(cur + 4)?);
            let exp = Timestamp::new(i64::from(at.u32(cur + 8)?), 0);
            cx.t.push(f.rrsig_expiration, Value::AbsTime(exp));
            let inc = Timestamp::new(i64::from(at.u32(cur + 12)?), 0);
            cx.t.push(f.rrsig_inception, Value::AbsTime(inc));
            cx.t.push_u(f.rrsig_key_tag, at.u16(cur + 16)?);
            let used = name(cx, (nbuf, text), msg, cur + 18, f.rrsig_signers_name)?;
            let sig = at.bytes(cur + 18 + used, len.saturating_sub(18 + used))?;
            cx.t.push_bytes(f.rrsig_signature, sig);
        }
        47 => {
            name(cx, (nbuf, text), msg, cur, f.nsec_next_domain_name)?;
        }
        50 => {
            cx.t.push_u(f.nsec3_algo, at.u8(cur)?);
            cx.t.push_u(f.nsec3_flags, at.u8(cur + 1)?);
            cx.t.push_u(f.nsec3_iterations, at.u16(cur + 2)?);
            let salt_len = usize::from(at.u8(cur + 4)?);
            cx.t.push_u(f.nsec3_salt_length, salt_len as u64);
            cx.t.push_bytes(f.nsec3_salt_value, at.bytes(cur + 5, salt_len)?);
            let hoff = cur + 5 + salt_len;
            let hash_len = usize::from(at.u8(hoff)?);
            cx.t.push_u(f.nsec3_hash_length, hash_len as u64);
            let h = at.bytes(hoff + 1, hash_len)?;
            if cx.t.wants(f.nsec3_hash_value) {
                text.clear();
                base32hex(text, h);
                cx.t.push_str(f.nsec3_hash_value, text);
            }
        }
        64 | 65 => {
            cx.t.push_u(f.svcb_priority, at.u16(cur)?);
            let used = name(cx, (nbuf, text), msg, cur + 2, f.svcb_target)?;
            let mut off = cur + 2 + used;
            for _ in 0..MAX_PARTS {
                if off.saturating_sub(cur) >= len {
                    break;
                }
                cx.t.push_u(f.svcb_param_key, at.u16(off)?);
                let n = usize::from(at.u16(off + 2)?);
                cx.t.push_u(f.svcb_param_length, n as u64);
                let v = at.bytes(off + 4, n)?;
                cx.t.push_bytes(f.svcb_param_value, v);
                off += 4 + n;
            }
        }
        257 => {
            cx.t.push_u(f.caa_flags, at.u8(cur)?);
            let tag_len = usize::from(at.u8(cur + 1)?);
            let tag = at.bytes(cur + 2, tag_len)?;
            let vlen = len.saturating_sub(tag_len + 2);
            let value = at.bytes(cur + 2 + tag_len, vlen)?;
            // Wireshark compares only the first `tag_len` bytes of the tag.
            let which = if b"issue".starts_with(tag) {
                f.caa_issue
            } else if b"issuewild".starts_with(tag) {
                f.caa_issuewild
            } else if b"iodef".starts_with(tag) {
                f.caa_iodef
            } else {
                f.caa_unknown
            };
            let mut v = Vec::new();
            ascii_lossy(&mut v, value);
            text.clear();
            format_text(text, &v);
            cx.t.push_str(which, text);
            cx.t.push_u(f.caa_tag_length, tag_len as u64);
            ascii(cx, &mut v, f.caa_tag, tag);
            cx.t.push_str(f.caa_value, text);
        }
        _ => {
            let d = at.bytes(cur, len)?;
            cx.t.push_bytes(f.data, d);
        }
    }
    Ok(())
}

/// ENC_UTF_8: valid sequences as they are, broken ones as U+FFFD.
fn format_utf8(out: &mut Vec<u8>, raw: &[u8]) {
    for chunk in raw.utf8_chunks() {
        out.extend_from_slice(chunk.valid().as_bytes());
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
}
