//! NTLMSSP challenge-responses as hashcat lines, for the
//! `--export-credentials` CSV.
//!
//! Read from the raw NTLMSSP message the dissector keeps as the `ntlmssp`
//! protocol entry rather than the `ntlmssp.auth.*` fields, since those
//! print an empty user or domain as `NULL` (as tshark does) and a hashcat
//! line needs the true, possibly empty, strings: the few offsets of MS-NLMP
//! 2.2.1.2 and 2.2.1.3 are read here after the fact; every read is checked.
//!
//! Lines (hashcat's formats):
//! - NetNTLMv1, mode 5500 (a 24-byte NT response):
//!   `user::domain:LMresponse:NTresponse:serverchallenge`. With extended
//!   session security the LM response holds the client challenge padded
//!   with zeros; hashcat recognises that form in the same mode, so the
//!   response is written as sent.
//! - NetNTLMv2, mode 5600 (a longer NT response):
//!   `user::domain:serverchallenge:NTProofStr:blob`, the NTProofStr being
//!   the first 16 bytes of the NT response and the blob the rest.
//!
//! Bytes are lowercase hex.

/// Which hashcat mode a line is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// NetNTLMv1 (and v1 with extended session security), mode 5500.
    V1,
    /// NetNTLMv2, mode 5600.
    V2,
}

impl Kind {
    /// The name used in the CSV's `protocol` column after the carrier.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::V1 => "NTLMv1",
            Kind::V2 => "NTLMv2",
        }
    }
}

/// What an AUTHENTICATE message carries for a hashcat line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Authenticate {
    /// UTF-8 (decoded from UTF-16LE when the message is Unicode).
    pub user: Vec<u8>,
    pub domain: Vec<u8>,
    pub lm: Vec<u8>,
    pub nt: Vec<u8>,
}

/// Longest string or response kept, in bytes: far above what Windows
/// sends, and a bound on what one row can hold.
const MAX_FIELD: usize = 4096;
const NEGOTIATE_UNICODE: u32 = 0x1;
/// Length of an NTLMv1 (and LM) response.
const V1_LEN: usize = 24;
/// Length of the NTProofStr at the head of an NTLMv2 response.
const PROOF_LEN: usize = 16;

fn u16_at(m: &[u8], at: usize) -> Option<u16> {
    let b = m.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([*b.first()?, *b.get(1)?]))
}

fn u32_at(m: &[u8], at: usize) -> Option<u32> {
    let b = m.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([
        *b.first()?,
        *b.get(1)?,
        *b.get(2)?,
        *b.get(3)?,
    ]))
}

/// A security buffer (length, maxlen, offset) at `at`.
fn secbuf(m: &[u8], at: usize) -> Option<&[u8]> {
    let len = usize::from(u16_at(m, at)?);
    if len == 0 {
        return Some(&[]);
    }
    let off = usize::try_from(u32_at(m, at.checked_add(4)?)?).ok()?;
    m.get(off..off.checked_add(len)?)
}

/// The message type of an NTLMSSP message.
pub fn message_type(m: &[u8]) -> Option<u32> {
    if !m.starts_with(b"NTLMSSP\0") {
        return None;
    }
    u32_at(m, 8)
}

/// The server challenge of a CHALLENGE message.
pub fn challenge(m: &[u8]) -> Option<[u8; 8]> {
    if message_type(m)? != 2 {
        return None;
    }
    m.get(24..32)?.try_into().ok()
}

fn text(b: &[u8], unicode: bool) -> Vec<u8> {
    let b = b.get(..MAX_FIELD).unwrap_or(b);
    if unicode {
        let units = b.chunks_exact(2).map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        });
        char::decode_utf16(units)
            .map(|c| c.unwrap_or('\u{fffd}'))
            .collect::<String>()
            .into_bytes()
    } else {
        b.to_vec()
    }
}

/// The fields of an AUTHENTICATE message; `None` when it is not one or a
/// buffer lies outside it.
pub fn authenticate(m: &[u8]) -> Option<Authenticate> {
    if message_type(m)? != 3 {
        return None;
    }
    let lm = secbuf(m, 12)?;
    let nt = secbuf(m, 20)?;
    let domain = secbuf(m, 28)?;
    let user = secbuf(m, 36)?;
    // The flags follow the session key buffer; read as the SMB2 dissector
    // reads them, so the strings decode alike.
    let unicode = u32_at(m, 60).unwrap_or(0) & NEGOTIATE_UNICODE != 0;
    Some(Authenticate {
        user: text(user, unicode),
        domain: text(domain, unicode),
        lm: lm.get(..MAX_FIELD).unwrap_or(lm).to_vec(),
        nt: nt.get(..MAX_FIELD).unwrap_or(nt).to_vec(),
    })
}

fn hex(out: &mut Vec<u8>, b: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &c in b {
        out.push(DIGITS.get(usize::from(c >> 4)).copied().unwrap_or(b'0'));
        out.push(DIGITS.get(usize::from(c & 0xf)).copied().unwrap_or(b'0'));
    }
}

/// The hashcat line for `a` answering `chal`, or `None` for an anonymous
/// logon (no user or no NT response) or an NT response that is neither
/// NTLMv1 (24 bytes) nor NTLMv2 (longer).
pub fn hashcat(a: &Authenticate, chal: &[u8; 8]) -> Option<(Kind, Vec<u8>)> {
    if a.user.is_empty() || a.nt.is_empty() {
        return None;
    }
    let mut line = a.user.clone();
    line.extend_from_slice(b"::");
    line.extend_from_slice(&a.domain);
    line.push(b':');
    if a.nt.len() == V1_LEN {
        hex(&mut line, &a.lm);
        line.push(b':');
        hex(&mut line, &a.nt);
        line.push(b':');
        hex(&mut line, chal);
        Some((Kind::V1, line))
    } else if a.nt.len() > V1_LEN {
        let (proof, blob) = a.nt.split_at(PROOF_LEN);
        hex(&mut line, chal);
        line.push(b':');
        hex(&mut line, proof);
        line.push(b':');
        hex(&mut line, blob);
        Some((Kind::V2, line))
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// An AUTHENTICATE message with the given buffers, Unicode or not.
    fn auth(lm: &[u8], nt: &[u8], domain: &[u8], user: &[u8], flags: u32) -> Vec<u8> {
        let mut m = b"NTLMSSP\0\x03\0\0\0".to_vec();
        m.resize(64, 0);
        m[60..64].copy_from_slice(&flags.to_le_bytes());
        for (at, b) in [(12, lm), (20, nt), (28, domain), (36, user)] {
            let off = m.len() as u32;
            m[at..at + 2].copy_from_slice(&(b.len() as u16).to_le_bytes());
            m[at + 2..at + 4].copy_from_slice(&(b.len() as u16).to_le_bytes());
            m[at + 4..at + 8].copy_from_slice(&off.to_le_bytes());
            m.extend_from_slice(b);
        }
        m
    }

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn v2_line_splits_the_proof_from_the_blob() {
        let nt: Vec<u8> = (0u8..40).collect();
        let m = auth(&[0; 24], &nt, &utf16("DOM"), &utf16("bob"), 0xe2088215);
        let a = authenticate(&m).expect("auth");
        let (k, line) =
            hashcat(&a, &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]).expect("line");
        assert_eq!(k, Kind::V2);
        assert_eq!(
            String::from_utf8(line).expect("utf8"),
            "bob::DOM:1122334455667788:000102030405060708090a0b0c0d0e0f:\
             101112131415161718191a1b1c1d1e1f2021222324252627"
        );
    }

    #[test]
    fn v1_line_keeps_the_lm_response_and_an_empty_domain() {
        let m = auth(&[0xaa; 24], &[0xbb; 24], b"", b"ALICE", 0x0);
        let a = authenticate(&m).expect("auth");
        let (k, line) = hashcat(&a, &[1; 8]).expect("line");
        assert_eq!(k, Kind::V1);
        let want = format!(
            "ALICE:::{}:{}:0101010101010101",
            "aa".repeat(24),
            "bb".repeat(24)
        );
        assert_eq!(String::from_utf8(line).expect("utf8"), want);
    }

    #[test]
    fn anonymous_and_damaged_messages_make_no_line() {
        let anon = authenticate(&auth(&[0], b"", b"", b"", 1)).expect("auth");
        assert_eq!(hashcat(&anon, &[0; 8]), None);
        let short_nt = authenticate(&auth(&[], &[1; 16], b"", &utf16("u"), 1)).expect("auth");
        assert_eq!(hashcat(&short_nt, &[0; 8]), None);
        // A buffer pointing past the end.
        let mut m = auth(&[], &[1; 24], b"", &utf16("u"), 1);
        m[24..28].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        assert_eq!(authenticate(&m), None);
        assert_eq!(authenticate(b"NTLMSSP\0\x03\0"), None);
        assert_eq!(challenge(b"NTLMSSP\0\x02\0\0\0"), None);
    }
}
