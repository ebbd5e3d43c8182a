//! Handshake message bodies: ClientHello (with JA3), ServerHello (JA3S),
//! Certificate and CertificateRequest, read as packet-tls-utils.c reads
//! them: vector lengths checked against the message end, reads past the
//! captured bytes abort ([`Trunc`]).

use std::fmt::Write as _;

use dorsal_engine::fields::FieldId;
use dorsal_engine::table::FieldTable;
use md5::{Digest, Md5};

use crate::{be16, be24, x509, Fields, Res, Trunc, TLS12, TLS13};

/// Which message the extensions belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    ClientHello,
    ServerHello,
    HelloRetryRequest,
    Certificate,
    CertificateRequest,
}

/// GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

const HRR_MAGIC: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

fn u8at(buf: &[u8], o: usize) -> Res<u8> {
    buf.get(o).copied().ok_or(Trunc)
}

fn u16at(buf: &[u8], o: usize) -> Res<u16> {
    be16(buf, o).ok_or(Trunc)
}

fn need(buf: &[u8], o: usize, n: usize) -> Res<&[u8]> {
    buf.get(o..o.checked_add(n).ok_or(Trunc)?).ok_or(Trunc)
}

/// tls_scan_server_hello: the negotiated version, and whether the message
/// is a HelloRetryRequest.
pub fn scan_server_hello(buf: &[u8], start: usize, end: usize) -> Res<(u16, bool)> {
    let sv = u16at(buf, start)?;
    if sv != TLS12 || end.saturating_sub(start) < 46 {
        return Ok((sv, false));
    }
    let mut off = start + 2;
    // tvb_memeql does not throw: missing bytes just do not match.
    let hrr = buf.get(off..off + 32) == Some(&HRR_MAGIC[..]);
    off += 32;
    let sid = usize::from(u8at(buf, off)?);
    off += 1;
    if end.saturating_sub(off) < sid + 5 {
        return Ok((sv, hrr));
    }
    off += sid + 5;
    let mut guard = 0u32;
    while end.saturating_sub(off) >= 6 && guard < 65536 {
        guard += 1;
        let et = u16at(buf, off)?;
        let el = usize::from(u16at(buf, off + 2)?);
        if end - off < 4 + el {
            break;
        }
        if et == 43 && el == 2 {
            return Ok((u16at(buf, off + 4)?, hrr));
        }
        off += 4 + el;
    }
    Ok((sv, hrr))
}

pub struct Hs<'a> {
    pub f: Fields,
    pub t: &'a mut FieldTable,
    pub buf: &'a [u8],
    /// The session's version after this message's ServerHello scan.
    pub version: u16,
    /// The TLS 1.3 draft number in force (0: final or not 1.3).
    pub draft: u8,
}

fn md5_hex(s: &str) -> String {
    let d = Md5::digest(s.as_bytes());
    let mut out = String::with_capacity(32);
    for b in d {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Wireshark's FT_STRING values are C strings: they end at the first NUL.
fn push_ascii(t: &mut FieldTable, field: FieldId, b: &[u8]) {
    if t.wants(field) {
        let b = b.split(|&c| c == 0).next().unwrap_or(b);
        t.push_str(field, x509::ascii(b).as_bytes());
    }
}

impl Hs<'_> {
    /// ssl_add_vector: pushes the length; `None` when the vector does not
    /// fit (the caller gives up on the rest of the structure).
    fn vector(
        &mut self,
        off: usize,
        end: usize,
        size: usize,
        field: FieldId,
    ) -> Res<Option<usize>> {
        if off > end || end - off < size {
            return Ok(None);
        }
        let b = need(self.buf, off, size)?;
        let v = b.iter().fold(0usize, |a, &x| (a << 8) | usize::from(x));
        self.t.push_u(field, v as u64);
        if end - off - size < v {
            return Ok(None);
        }
        Ok(Some(v))
    }

    /// Random and session id, shared by both hellos.
    /// True for a TLS 1.3 draft before -22: no session id nor compression
    /// method in the ServerHello.
    fn early_draft(&self) -> bool {
        self.version == TLS13 && self.draft > 0 && self.draft < 22
    }

    fn hello_common(&mut self, mut off: usize, from_server: bool) -> Res<usize> {
        let f = self.f.tls;
        let random = need(self.buf, off, 32)?;
        self.t.push_bytes(f.random, random);
        off += 32;
        if from_server && self.early_draft() {
            return Ok(off);
        }
        let sid_len = usize::from(u8at(self.buf, off)?);
        self.t.push_u(f.session_id_length, sid_len as u64);
        off += 1;
        if sid_len > 0 {
            let sid = need(self.buf, off, sid_len)?;
            self.t.push_bytes(f.session_id, sid);
            off += sid_len;
        }
        Ok(off)
    }

    pub fn client_hello(&mut self, start: usize, end: usize) -> Res<()> {
        let f = self.f.tls;
        let v = u16at(self.buf, start)?;
        self.t.push_u(f.version, v);
        let mut ja3 = format!("{v},");
        let mut off = self.hello_common(start + 2, false)?;
        let Some(cs_len) = self.vector(off, end, 2, f.cipher_suites_length)? else {
            return Ok(());
        };
        off += 2;
        let next = off + cs_len;
        let mut dash = false;
        while off + 2 <= next {
            let c = u16at(self.buf, off)?;
            self.t.push_u(f.ciphersuite, c);
            off += 2;
            if !is_grease(c) {
                if dash {
                    ja3.push('-');
                }
                let _ = write!(ja3, "{c}");
                dash = true;
            }
        }
        ja3.push(',');
        off = next;
        let Some(cm_len) = self.vector(off, end, 1, f.comp_methods_length)? else {
            return Ok(());
        };
        off += 1;
        let next = off + cm_len;
        while off < next {
            let m = u8at(self.buf, off)?;
            self.t.push_u(f.comp_method, m);
            off += 1;
        }
        if off < end {
            self.extensions(off, end, Msg::ClientHello, Some(&mut ja3))?;
        } else {
            ja3.push_str(",,");
        }
        if self.t.wants(f.ja3_full) {
            self.t.push_str(f.ja3_full, ja3.as_bytes());
        }
        if self.t.wants(f.ja3) {
            self.t.push_str(f.ja3, md5_hex(&ja3).as_bytes());
        }
        Ok(())
    }

    pub fn server_hello(&mut self, start: usize, end: usize, hrr: bool) -> Res<()> {
        let f = self.f.tls;
        let v = u16at(self.buf, start)?;
        self.t.push_u(f.version, v);
        let mut ja3 = format!("{v}");
        let mut off = self.hello_common(start + 2, true)?;
        let cs = u16at(self.buf, off)?;
        self.t.push_u(f.ciphersuite, cs);
        off += 2;
        let _ = write!(ja3, ",{cs},");
        if !self.early_draft() {
            let cm = u8at(self.buf, off)?;
            self.t.push_u(f.comp_method, cm);
            off += 1;
        }
        if off < end {
            let msg = if hrr {
                Msg::HelloRetryRequest
            } else {
                Msg::ServerHello
            };
            self.extensions(off, end, msg, Some(&mut ja3))?;
        }
        if self.t.wants(f.ja3s_full) {
            self.t.push_str(f.ja3s_full, ja3.as_bytes());
        }
        if self.t.wants(f.ja3s) {
            self.t.push_str(f.ja3s, md5_hex(&ja3).as_bytes());
        }
        Ok(())
    }

    /// ssl_dissect_hnd_extension; returns the offset after the extensions.
    fn extensions(
        &mut self,
        off: usize,
        end: usize,
        msg: Msg,
        mut ja3: Option<&mut String>,
    ) -> Res<usize> {
        let f = self.f.tls;
        let Some(exts_len) = self.vector(off, end, 2, f.extensions_length)? else {
            return Ok(end);
        };
        let mut off = off + 2;
        let end = off + exts_len;
        let mut sg = String::new();
        let mut ecpf = String::new();
        let mut dash = false;
        let client = msg == Msg::ClientHello;
        while end - off >= 4 {
            let et = u16at(self.buf, off)?;
            self.t.push_u(f.extension_type, et);
            off += 2;
            if let Some(j) = ja3.as_deref_mut() {
                if !is_grease(et) {
                    if dash {
                        j.push('-');
                    }
                    let _ = write!(j, "{et}");
                    dash = true;
                }
            }
            let Some(el) = self.vector(off, end, 2, f.extension_len)? else {
                return Ok(end);
            };
            off += 2;
            let next = off + el;
            match et {
                0 => {
                    self.server_name(off, next)?;
                }
                1 | 15 => {
                    need(self.buf, off, 1)?;
                }
                28 => {
                    need(self.buf, off, 2)?;
                }
                10 => {
                    let j = if client && ja3.is_some() {
                        Some(&mut sg)
                    } else {
                        None
                    };
                    self.supported_groups(off, next, j)?;
                }
                11 => {
                    let j = if client && ja3.is_some() {
                        Some(&mut ecpf)
                    } else {
                        None
                    };
                    self.ec_point_formats(off, j)?;
                }
                16 => {
                    self.alpn(off, next)?;
                }
                43 => match msg {
                    Msg::ClientHello => {
                        self.supported_versions(off, next)?;
                    }
                    Msg::ServerHello | Msg::HelloRetryRequest => {
                        let v = u16at(self.buf, off)?;
                        self.t.push_u(f.supported_version, v);
                    }
                    _ => {}
                },
                // extended_master_secret, encrypt_then_mac, post_handshake_auth: no data read.
                22 | 23 | 49 => {}
                _ => {
                    let d = need(self.buf, off, el)?;
                    if !wireshark_dissects(et) {
                        self.t.push_bytes(f.extension_data, d);
                    }
                }
            }
            off = next;
        }
        if let Some(j) = ja3 {
            if client {
                if sg.is_empty() {
                    j.push(',');
                } else {
                    j.push_str(&sg);
                }
                if ecpf.is_empty() {
                    j.push(',');
                } else {
                    j.push_str(&ecpf);
                }
            }
        }
        Ok(end)
    }

    fn server_name(&mut self, off: usize, end: usize) -> Res<usize> {
        let f = self.f.tls;
        if off == end {
            return Ok(off);
        }
        let Some(list_len) = self.vector(off, end, 2, f.server_name_list_len)? else {
            return Ok(end);
        };
        let mut off = off + 2;
        let next = off + list_len;
        while off < next {
            let ty = u8at(self.buf, off)?;
            self.t.push_u(f.server_name_type, ty);
            off += 1;
            let Some(nl) = self.vector(off, next, 2, f.server_name_len)? else {
                return Ok(next);
            };
            off += 2;
            let name = need(self.buf, off, nl)?;
            push_ascii(self.t, f.server_name, name);
            off += nl;
        }
        Ok(off)
    }

    fn alpn(&mut self, off: usize, end: usize) -> Res<usize> {
        let f = self.f.tls;
        let Some(l) = self.vector(off, end, 2, f.alpn_len)? else {
            return Ok(end);
        };
        let mut off = off + 2;
        let next = off + l;
        while off < next {
            let Some(nl) = self.vector(off, next, 1, f.alpn_str_len)? else {
                return Ok(next);
            };
            off += 1;
            let s = need(self.buf, off, nl)?;
            push_ascii(self.t, f.alpn_str, s);
            off += nl;
        }
        Ok(off)
    }

    fn supported_versions(&mut self, off: usize, end: usize) -> Res<usize> {
        let f = self.f.tls;
        let Some(l) = self.vector(off, end, 1, f.supported_versions_len)? else {
            return Ok(end);
        };
        let mut off = off + 1;
        let next = off + l;
        while off + 2 <= next {
            let v = u16at(self.buf, off)?;
            self.t.push_u(f.supported_version, v);
            off += 2;
        }
        Ok(next)
    }

    fn supported_groups(
        &mut self,
        off: usize,
        end: usize,
        mut ja3: Option<&mut String>,
    ) -> Res<usize> {
        let f = self.f.tls;
        let Some(l) = self.vector(off, end, 2, f.supported_groups_length)? else {
            return Ok(end);
        };
        let mut off = off + 2;
        let next = off + l;
        if let Some(j) = ja3.as_deref_mut() {
            j.push(',');
        }
        let mut dash = false;
        // Wireshark loops to the extension's end, not the list's.
        while off + 2 <= end {
            let g = u16at(self.buf, off)?;
            self.t.push_u(f.supported_group, g);
            off += 2;
            if let Some(j) = ja3.as_deref_mut() {
                if !is_grease(g) {
                    if dash {
                        j.push('-');
                    }
                    let _ = write!(j, "{g}");
                    dash = true;
                }
            }
        }
        Ok(next)
    }

    fn ec_point_formats(&mut self, off: usize, mut ja3: Option<&mut String>) -> Res<usize> {
        let f = self.f.tls;
        let n = u8at(self.buf, off)?;
        self.t.push_u(f.ec_point_formats_length, n);
        let mut off = off + 1;
        if let Some(j) = ja3.as_deref_mut() {
            j.push(',');
        }
        let mut left = n;
        while left > 0 {
            let v = u8at(self.buf, off)?;
            self.t.push_u(f.ec_point_format, v);
            off += 1;
            left -= 1;
            if let Some(j) = ja3.as_deref_mut() {
                let _ = write!(j, "{v}");
                if left > 0 {
                    j.push('-');
                }
            }
        }
        Ok(off)
    }

    pub fn certificate(&mut self, start: usize, end: usize) -> Res<()> {
        let f = self.f.tls;
        let mut off = start;
        if self.version == TLS13 {
            let Some(cl) = self.vector(off, end, 1, f.cert_context_len)? else {
                return Ok(());
            };
            off += 1;
            if cl > 0 {
                need(self.buf, off, cl)?;
                off += cl;
            }
        }
        let Some(list_len) = self.vector(off, end, 3, f.certificates_length)? else {
            return Ok(());
        };
        off += 3;
        let next = off + list_len;
        let walk = self.f.x509.any_wanted(self.t);
        let mut guard = 0u32;
        while off < next && guard < 4096 {
            guard += 1;
            let Some(cl) = self.vector(off, next, 3, f.certificate_length)? else {
                return Ok(());
            };
            off += 3;
            let cert = self.buf.get(off..).unwrap_or(&[]);
            if let Some(whole) = cert.get(..cl) {
                self.t.push_bytes(f.certificate, whole);
            }
            if walk {
                x509::certificate(&self.f.x509, self.t, cert, cl)?;
            } else if cert.len() < cl {
                return Err(Trunc);
            }
            off += cl;
            if self.version == TLS13 {
                off = self.extensions(off, next, Msg::Certificate, None)?;
            }
        }
        Ok(())
    }

    /// ssl_dissect_hnd_cert_status: an OCSP response (type 1) or a list of
    /// them (ocsp_multi, type 2); only the names inside are of interest.
    pub fn cert_status(&mut self, start: usize, end: usize) -> Res<()> {
        if !self.f.x509.any_wanted(self.t) {
            return Ok(());
        }
        let kind = u8at(self.buf, start)?;
        let mut off = start + 1;
        let one = |h: &mut Self, off: usize, next: usize| -> Res<usize> {
            let len = be24(h.buf, off).ok_or(Trunc)? as usize;
            let body = off + 3;
            let stop = (body + len).min(next);
            let der = h.buf.get(body..).unwrap_or(&[]);
            x509::ocsp_response(&h.f.x509, h.t, der, stop.saturating_sub(body))?;
            Ok(body + len)
        };
        match kind {
            1 => {
                one(self, off, end)?;
            }
            2 => {
                let list = be24(self.buf, off).ok_or(Trunc)? as usize;
                off += 3;
                let next = (off + list).min(end);
                let mut guard = 0u32;
                while off + 3 <= next && guard < 256 {
                    guard += 1;
                    off = one(self, off, next)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    pub fn certificate_request(&mut self, start: usize, end: usize) -> Res<()> {
        let f = self.f.tls;
        let mut off = start;
        if self.version == TLS13 {
            let Some(cl) = self.vector(off, end, 1, f.cert_context_len)? else {
                return Ok(());
            };
            off += 1;
            if cl > 0 {
                need(self.buf, off, cl)?;
                off += cl;
            }
            self.extensions(off, end, Msg::CertificateRequest, None)?;
            return Ok(());
        }
        let Some(n) = self.vector(off, end, 1, f.cert_types_count)? else {
            return Ok(());
        };
        off += 1;
        need(self.buf, off, n)?;
        off += n;
        if self.version == TLS12 {
            let Some(l) = self.vector(off, end, 2, f.sig_hash_alg_len)? else {
                return Ok(());
            };
            off += 2;
            need(self.buf, off, l)?;
            off += l;
        }
        let Some(l) = self.vector(off, end, 2, f.dnames_len)? else {
            return Ok(());
        };
        off += 2;
        let next = off + l;
        let walk = self.f.x509.any_wanted(self.t);
        while off < next {
            let Some(dl) = self.vector(off, next, 2, f.dname_len)? else {
                return Ok(());
            };
            off += 2;
            let dn = self.buf.get(off..).unwrap_or(&[]);
            if walk {
                x509::distinguished_name(&self.f.x509, self.t, dn, dl)?;
            } else if dn.len() < dl {
                return Err(Trunc);
            }
            off += dl;
        }
        Ok(())
    }
}

/// Extension types packet-tls-utils.c 4.0 dissects itself (no generic data item).
fn wireshark_dissects(et: u16) -> bool {
    matches!(
        et,
        0 | 1
            | 5
            | 9
            | 10
            | 11
            | 12
            | 13
            | 14
            | 15
            | 16
            | 17
            | 18
            | 19
            | 20
            | 21
            | 22
            | 23
            | 27
            | 28
            | 34
            | 35
            | 40
            | 41
            | 42
            | 43
            | 44
            | 45
            | 47
            | 48
            | 49
            | 50
            | 53
            | 54
            | 57
            | 0x3374
            | 0x4469
            | 0xffa5
            | 0xff01
            | 0xffce
    )
}

#[cfg(test)]
pub fn tests_md5(s: &str) -> String {
    md5_hex(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_values() {
        assert!(is_grease(0x0a0a));
        assert!(is_grease(0xfafa));
        assert!(!is_grease(0x0a1a));
        assert!(!is_grease(0x1301));
    }

    #[test]
    fn md5_of_ja3() {
        // RFC 1321 test vector.
        assert_eq!(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
    }
}
