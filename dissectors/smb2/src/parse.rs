//! Pure parsers over borrowed bytes: no field pushing, no state. Every
//! accessor checks its bounds and returns `None` past the end.

/// Little-endian reads at absolute offsets of a slice.
pub trait Le {
    fn u8_at(&self, off: usize) -> Option<u8>;
    fn u16_at(&self, off: usize) -> Option<u16>;
    fn u32_at(&self, off: usize) -> Option<u32>;
    fn u64_at(&self, off: usize) -> Option<u64>;
    fn slice(&self, off: usize, len: usize) -> Option<&[u8]>;
}

impl Le for [u8] {
    fn u8_at(&self, off: usize) -> Option<u8> {
        self.get(off).copied()
    }
    fn u16_at(&self, off: usize) -> Option<u16> {
        let b = self.slice(off, 2)?;
        Some(u16::from_le_bytes(b.try_into().ok()?))
    }
    fn u32_at(&self, off: usize) -> Option<u32> {
        let b = self.slice(off, 4)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }
    fn u64_at(&self, off: usize) -> Option<u64> {
        let b = self.slice(off, 8)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }
    fn slice(&self, off: usize, len: usize) -> Option<&[u8]> {
        self.get(off..off.checked_add(len)?)
    }
}

/// Decodes UTF-16LE as Wireshark shows it: invalid units become U+FFFD,
/// a trailing odd byte is dropped, and the string stops at the first NUL.
pub fn utf16le(b: &[u8], out: &mut String) {
    let units = b
        .chunks_exact(2)
        .map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .take_while(|&u| u != 0);
    for ch in char::decode_utf16(units) {
        out.push(ch.unwrap_or('\u{fffd}'));
    }
}

/// Formats 16 bytes as a GUID the way Wireshark prints FT_GUID
/// (`dissect_nt_guid_hnd` reads it little-endian).
pub fn guid_string(b: &[u8]) -> Option<String> {
    let d1 = b.u32_at(0)?;
    let d2 = b.u16_at(4)?;
    let d3 = b.u16_at(6)?;
    let d4 = b.slice(8, 8)?;
    let mut s = format!("{d1:08x}-{d2:04x}-{d3:04x}-");
    for (i, x) in d4.iter().enumerate() {
        if i == 2 {
            s.push('-');
        }
        s.push_str(&format!("{x:02x}"));
    }
    Some(s)
}

/// The fixed part of an SMB2 sync or async header (MS-SMB2 2.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub header_len: u16,
    pub credit_charge: u16,
    /// Status in a response, channel sequence + reserved in a request.
    pub status: u32,
    pub cmd: u16,
    pub credits: u16,
    pub flags: u32,
    pub next: u32,
    pub msg_id: u64,
    /// Async id for async headers, otherwise pid (low) and tid (high).
    pub aid_or_pid_tid: u64,
    pub sesid: u64,
}

pub const FLAG_RESPONSE: u32 = 0x1;
pub const FLAG_ASYNC: u32 = 0x2;
pub const HEADER_LEN: usize = 64;

impl Header {
    pub fn parse(b: &[u8]) -> Option<Header> {
        if b.slice(0, 4)? != b"\xfeSMB" {
            return None;
        }
        Some(Header {
            header_len: b.u16_at(4)?,
            credit_charge: b.u16_at(6)?,
            status: b.u32_at(8)?,
            cmd: b.u16_at(12)?,
            credits: b.u16_at(14)?,
            flags: b.u32_at(16)?,
            next: b.u32_at(20)?,
            msg_id: b.u64_at(24)?,
            aid_or_pid_tid: b.u64_at(32)?,
            sesid: b.u64_at(40)?,
        })
    }
    pub fn is_response(&self) -> bool {
        self.flags & FLAG_RESPONSE != 0
    }
    pub fn is_async(&self) -> bool {
        self.flags & FLAG_ASYNC != 0
    }
    pub fn tid(&self) -> u32 {
        (self.aid_or_pid_tid >> 32) as u32
    }
    pub fn pid(&self) -> u32 {
        (self.aid_or_pid_tid & 0xffff_ffff) as u32
    }
}

/// The security blob of an SMB1 SESSION_SETUP_ANDX request or response
/// with extended security (MS-SMB 2.2.4.6), the only part of SMB1 read here.
pub fn smb1_session_setup_blob(b: &[u8]) -> Option<&[u8]> {
    if b.slice(0, 4)? != b"\xffSMB" || b.u8_at(4)? != 0x73 {
        return None;
    }
    let response = b.u8_at(9)? & 0x80 != 0;
    let flags2 = b.u16_at(10)?;
    if flags2 & 0x0800 == 0 {
        return None;
    }
    let wc = usize::from(b.u8_at(32)?);
    let words = 33usize;
    let (want_wc, len_at) = if response { (4, 6) } else { (12, 14) };
    if wc != want_wc {
        return None;
    }
    let len = usize::from(b.u16_at(words + len_at)?);
    let bytes = words + wc * 2 + 2;
    let avail = b.get(bytes..)?;
    avail.get(..len.min(avail.len()))
}

/// One DER/BER element: tag byte, content and total length consumed.
fn der(b: &[u8]) -> Option<(u8, &[u8], usize)> {
    let tag = b.u8_at(0)?;
    let l0 = b.u8_at(1)?;
    let (len, hdr) = if l0 < 0x80 {
        (usize::from(l0), 2usize)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(b.u8_at(2 + i)?);
        }
        (len, 2 + n)
    };
    let content = b.slice(hdr, len)?;
    Some((tag, content, hdr.checked_add(len)?))
}

/// What a security blob turned out to hold.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Gss<'a> {
    /// The GSS-API layer is present (anything but a bare NTLMSSP message).
    pub gssapi: bool,
    /// The mechanism OID of an initial token, dotted.
    pub oid: Option<String>,
    pub spnego: bool,
    pub ntlmssp: Option<&'a [u8]>,
    /// A negTokenResp carries a mechListMIC (an NTLMSSP verifier).
    pub mech_list_mic: bool,
}

const SPNEGO_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];

fn oid_string(b: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut v: u64 = 0;
    for (i, &x) in b.iter().enumerate() {
        v = (v << 7) | u64::from(x & 0x7f);
        if x & 0x80 == 0 {
            if i == 0 || parts.is_empty() {
                let (a, rest) = if v < 40 {
                    (0, v)
                } else if v < 80 {
                    (1, v - 40)
                } else {
                    (2, v - 80)
                };
                parts.push(a);
                parts.push(rest);
            } else {
                parts.push(v);
            }
            v = 0;
        }
    }
    parts
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// Finds an NTLMSSP message in an OCTET STRING anywhere in a DER tree
/// (SPNEGO's mechToken and responseToken), visiting at most `budget` nodes.
fn find_ntlmssp<'a>(b: &'a [u8], depth: u32, budget: &mut u32) -> Option<&'a [u8]> {
    if depth > 12 {
        return None;
    }
    let mut rest = b;
    while !rest.is_empty() {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        let (tag, content, used) = der(rest)?;
        if tag == 0x04 && content.starts_with(b"NTLMSSP\0") {
            return Some(content);
        }
        if tag & 0x20 != 0 {
            if let Some(n) = find_ntlmssp(content, depth + 1, budget) {
                return Some(n);
            }
        }
        rest = rest.get(used..)?;
    }
    None
}

/// Classifies a security blob as packet-gssapi.c and packet-spnego.c do.
pub fn gss(blob: &[u8]) -> Gss<'_> {
    let mut g = Gss::default();
    if blob.starts_with(b"NTLMSSP\0") {
        g.ntlmssp = Some(blob);
        return g;
    }
    g.gssapi = true;
    let mut budget = 256;
    match der(blob) {
        Some((0x60, content, _)) => {
            if let Some((0x06, oid, used)) = der(content) {
                g.oid = Some(oid_string(oid));
                if oid == SPNEGO_OID {
                    g.spnego = true;
                    g.ntlmssp = content
                        .get(used..)
                        .and_then(|r| find_ntlmssp(r, 0, &mut budget));
                }
            }
        }
        Some((tag @ (0xa0 | 0xa1), content, _)) => {
            g.spnego = true;
            g.ntlmssp = find_ntlmssp(blob, 0, &mut budget);
            if tag == 0xa1 {
                if let Some((0x30, mut seq, _)) = der(content) {
                    while let Some((t, _, used)) = der(seq) {
                        if t == 0xa3 {
                            g.mech_list_mic = true;
                        }
                        seq = seq.get(used..).unwrap_or(&[]);
                    }
                }
            }
        }
        _ => {}
    }
    g
}

/// A security buffer (length, maxlen, offset) of an NTLMSSP message.
fn secbuf(m: &[u8], at: usize) -> Option<&[u8]> {
    let len = usize::from(m.u16_at(at)?);
    let off = usize::try_from(m.u32_at(at + 4)?).ok()?;
    if len == 0 {
        return Some(&[]);
    }
    m.slice(off, len)
}

/// An NTLMSSP message (MS-NLMP 2.2.1), as far as it could be read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Ntlmssp<'a> {
    pub msg_type: u32,
    pub flags: Option<u32>,
    pub neg_domain: Option<&'a [u8]>,
    pub neg_workstation: Option<&'a [u8]>,
    pub target_name: Option<&'a [u8]>,
    pub challenge: Option<&'a [u8]>,
    pub reserved: Option<&'a [u8]>,
    pub lm_response: Option<&'a [u8]>,
    pub nt_response: Option<&'a [u8]>,
    pub domain: Option<&'a [u8]>,
    pub user: Option<&'a [u8]>,
    pub host: Option<&'a [u8]>,
    pub session_key: Option<&'a [u8]>,
}

pub const NTLMSSP_NEGOTIATE_UNICODE: u32 = 0x1;
pub const NTLMSSP_NEGOTIATE_OEM_DOMAIN: u32 = 0x1000;
pub const NTLMSSP_NEGOTIATE_OEM_WORKSTATION: u32 = 0x2000;

pub fn ntlmssp(m: &[u8]) -> Option<Ntlmssp<'_>> {
    if !m.starts_with(b"NTLMSSP\0") {
        return None;
    }
    let mut n = Ntlmssp {
        msg_type: m.u32_at(8)?,
        ..Ntlmssp::default()
    };
    match n.msg_type {
        1 => {
            n.flags = m.u32_at(12);
            n.neg_domain = secbuf(m, 16);
            n.neg_workstation = secbuf(m, 24);
        }
        2 => {
            n.target_name = secbuf(m, 12);
            n.flags = m.u32_at(20);
            n.challenge = m.slice(24, 8);
            n.reserved = m.slice(32, 8);
        }
        3 => {
            n.lm_response = secbuf(m, 12);
            n.nt_response = secbuf(m, 20);
            n.domain = secbuf(m, 28);
            n.user = secbuf(m, 36);
            n.host = secbuf(m, 44);
            n.session_key = secbuf(m, 52);
            n.flags = m.u32_at(60);
        }
        _ => {}
    }
    Some(n)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn guid_prints_little_endian_groups() {
        let b: Vec<u8> = (0u8..16).collect();
        assert_eq!(
            guid_string(&b).as_deref(),
            Some("03020100-0504-0706-0809-0a0b0c0d0e0f")
        );
        assert_eq!(guid_string(&b[..15]), None);
    }

    #[test]
    fn utf16_stops_at_nul_and_replaces_bad_units() {
        let mut s = String::new();
        utf16le(&[b'a', 0, 0x00, 0xd8, b'b', 0, 0, 0, b'c', 0], &mut s);
        assert_eq!(s, "a\u{fffd}b");
    }

    #[test]
    fn header_needs_magic_and_48_bytes() {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\xfeSMB");
        h[16] = 1;
        h[36] = 7;
        let p = Header::parse(&h).expect("header");
        assert!(p.is_response());
        assert_eq!(p.tid(), 7);
        assert_eq!(Header::parse(&h[..47]), None);
        h[0] = 0xff;
        assert_eq!(Header::parse(&h), None);
    }

    /// A SPNEGO negTokenInit carrying an NTLMSSP negotiate message.
    #[test]
    fn spnego_init_finds_ntlmssp() {
        let ntlm = b"NTLMSSP\0\x01\0\0\0\x07\x82\x08\xa2";
        let mut octet = vec![0x04, ntlm.len() as u8];
        octet.extend_from_slice(ntlm);
        let mut a2 = vec![0xa2, octet.len() as u8];
        a2.extend_from_slice(&octet);
        let mut seq = vec![0x30, a2.len() as u8];
        seq.extend_from_slice(&a2);
        let mut a0 = vec![0xa0, seq.len() as u8];
        a0.extend_from_slice(&seq);
        let mut inner = vec![0x06, 6, 0x2b, 6, 1, 5, 5, 2];
        inner.extend_from_slice(&a0);
        let mut blob = vec![0x60, inner.len() as u8];
        blob.extend_from_slice(&inner);
        let g = gss(&blob);
        assert!(g.gssapi && g.spnego);
        assert_eq!(g.oid.as_deref(), Some("1.3.6.1.5.5.2"));
        let n = ntlmssp(g.ntlmssp.expect("ntlmssp")).expect("parsed");
        assert_eq!(n.msg_type, 1);
        assert_eq!(n.flags, Some(0xa208_8207));
        // Truncated blobs find nothing and do not panic.
        for i in 0..blob.len() {
            let _ = gss(&blob[..i]);
        }
    }

    #[test]
    fn ntlmssp_auth_strings() {
        let mut m = b"NTLMSSP\0\x03\0\0\0".to_vec();
        m.resize(72, 0);
        // user at offset 72, 4 bytes
        m[36..38].copy_from_slice(&4u16.to_le_bytes());
        m[40..44].copy_from_slice(&72u32.to_le_bytes());
        m.extend_from_slice(&[b'b', 0, b'o', 0]);
        let n = ntlmssp(&m).expect("auth");
        assert_eq!(n.user, Some(&b"b\0o\0"[..]));
        assert_eq!(n.domain, Some(&[][..]));
        // a buffer pointing past the end is absent
        m[40..44].copy_from_slice(&700u32.to_le_bytes());
        assert_eq!(ntlmssp(&m).expect("auth").user, None);
    }
}
