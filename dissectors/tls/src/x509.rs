//! The names inside X.509 certificates, as Wireshark's x509af / x509if /
//! x509sat / x509ce dissectors show them: every relative distinguished name
//! of the issuer and the subject whose attribute has the DirectoryString
//! syntax (`x509sat.uTF8String`, `x509sat.printableString`, ...), the
//! country names, and the general names of the extensions that carry them
//! (`x509ce.dNSName`, ...), in tree order.
//!
//! A small DER walker of our own: it reads only what it needs, never copies,
//! and stops quietly at the first malformed element. Reading past the bytes
//! that were captured is reported as [`Trunc`], as Wireshark raises an
//! exception there and drops the rest of the dissection.

use dorsal_engine::fields;
use dorsal_engine::table::FieldTable;

use crate::Trunc;

fields! {
    pub struct X509Fields {
        x509sat: "x509sat", "X.509 Selected Attribute Types", Protocol, None;
        x509ce: "x509ce", "X.509 Certificate Extensions", Protocol, None;
        teletex: "x509sat.teletexString", "teletexString", String, None;
        printable: "x509sat.printableString", "printableString", String, None;
        universal: "x509sat.universalString", "universalString", String, None;
        bmp: "x509sat.bmpString", "bmpString", String, None;
        utf8: "x509sat.uTF8String", "uTF8String", String, None;
        country: "x509sat.CountryName", "CountryName", String, None;
        syntax_printable: "x509sat.SyntaxPrintableString", "SyntaxPrintableString", String, None;
        rfc822: "x509ce.rfc822Name", "rfc822Name", String, None;
        dns: "x509ce.dNSName", "dNSName", String, None;
        uri: "x509ce.uniformResourceIdentifier", "uniformResourceIdentifier", String, None;
    }
}

impl X509Fields {
    /// Whether any field of this module is wanted (else the walk is skipped).
    pub fn any_wanted(&self, t: &FieldTable) -> bool {
        [
            self.teletex,
            self.printable,
            self.universal,
            self.bmp,
            self.utf8,
            self.country,
            self.syntax_printable,
            self.rfc822,
            self.dns,
            self.uri,
        ]
        .iter()
        .any(|&f| t.wants(f))
    }
}

/// Nesting cap for names inside names (directoryName in a GeneralName).
const MAX_DEPTH: u32 = 8;
/// Cap on elements visited in one walk.
const MAX_ITEMS: usize = 4096;

/// One DER element: tag byte, and where its content lies in the buffer.
#[derive(Clone, Copy)]
struct Tlv {
    tag: u8,
    start: usize,
    end: usize,
}

/// Why a walk stopped early.
enum Stop {
    /// Not DER as expected: the rest of the certificate is skipped.
    Malformed,
    /// The capture ended inside the element.
    Trunc,
}

type W<T> = Result<T, Stop>;

/// Reads the element at `pos`, whose content must end by `limit` (the
/// enclosing element's end); the content may run past the captured bytes.
fn tlv(buf: &[u8], pos: usize, limit: usize) -> W<Tlv> {
    let byte = |i: usize| -> W<u8> {
        if i >= limit {
            return Err(Stop::Malformed);
        }
        buf.get(i).copied().ok_or(Stop::Trunc)
    };
    let tag = byte(pos)?;
    if tag & 0x1f == 0x1f {
        // High tag numbers appear nowhere we look.
        return Err(Stop::Malformed);
    }
    let first = byte(pos + 1)?;
    let mut start = pos + 2;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(Stop::Malformed);
        }
        let mut l = 0usize;
        for i in 0..n {
            l = (l << 8) | usize::from(byte(start + i)?);
        }
        start += n;
        l
    };
    let end = start.checked_add(len).ok_or(Stop::Malformed)?;
    if end > limit {
        return Err(Stop::Malformed);
    }
    Ok(Tlv { tag, start, end })
}

/// The captured content of an element, or `Trunc` when it was cut short.
fn content(buf: &[u8], t: Tlv) -> W<&[u8]> {
    buf.get(t.start..t.end).ok_or(Stop::Trunc)
}

struct Walker<'a, 'b> {
    buf: &'a [u8],
    f: &'b X509Fields,
    t: &'b mut FieldTable,
    items: usize,
}

/// Pushes the names of the certificate starting at `buf[0]`, whose encoding
/// must end by `limit`. Returns `Err(Trunc)` when the capture ended first.
pub fn certificate(
    f: &X509Fields,
    t: &mut FieldTable,
    buf: &[u8],
    limit: usize,
) -> Result<(), Trunc> {
    let mut w = Walker {
        buf,
        f,
        t,
        items: 0,
    };
    match w.certificate(limit) {
        Err(Stop::Trunc) => Err(Trunc),
        _ => Ok(()),
    }
}

/// Pushes the names of one DER `Name` (a CertificateRequest's authorities).
pub fn distinguished_name(
    f: &X509Fields,
    t: &mut FieldTable,
    buf: &[u8],
    limit: usize,
) -> Result<(), Trunc> {
    let mut w = Walker {
        buf,
        f,
        t,
        items: 0,
    };
    let r = tlv(buf, 0, limit).and_then(|n| {
        if n.tag != 0x30 {
            return Err(Stop::Malformed);
        }
        w.name(n, 0)
    });
    match r {
        Err(Stop::Trunc) => Err(Trunc),
        _ => Ok(()),
    }
}

/// Pushes the names inside one DER OCSPResponse (a CertificateStatus
/// message): the responder's name when given by name, then the
/// certificates that come with the BasicOCSPResponse.
pub fn ocsp_response(
    f: &X509Fields,
    t: &mut FieldTable,
    buf: &[u8],
    limit: usize,
) -> Result<(), Trunc> {
    let mut w = Walker {
        buf,
        f,
        t,
        items: 0,
    };
    match w.ocsp_response(limit) {
        Err(Stop::Trunc) => Err(Trunc),
        _ => Ok(()),
    }
}

impl Walker<'_, '_> {
    fn children(&mut self, parent: Tlv) -> W<Vec<Tlv>> {
        let mut out = Vec::new();
        let mut pos = parent.start;
        while pos < parent.end {
            self.items += 1;
            if self.items > MAX_ITEMS {
                return Err(Stop::Malformed);
            }
            let c = tlv(self.buf, pos, parent.end)?;
            pos = c.end;
            out.push(c);
        }
        Ok(out)
    }

    fn ocsp_response(&mut self, limit: usize) -> W<()> {
        let resp = tlv(self.buf, 0, limit)?;
        if resp.tag != 0x30 {
            return Err(Stop::Malformed);
        }
        // responseStatus, responseBytes [0] EXPLICIT SEQUENCE { type, OCTET STRING }.
        let Some(rb) = self.children(resp)?.into_iter().find(|c| c.tag == 0xa0) else {
            return Ok(());
        };
        let rb = tlv(self.buf, rb.start, rb.end)?;
        let Some(octets) = self.children(rb)?.into_iter().find(|c| c.tag == 0x04) else {
            return Ok(());
        };
        let basic = tlv(self.buf, octets.start, octets.end)?;
        if basic.tag != 0x30 {
            return Err(Stop::Malformed);
        }
        let parts = self.children(basic)?;
        // tbsResponseData: [0] version, responderID byName [1] Name | byKey [2].
        if let Some(tbs) = parts.first().copied().filter(|p| p.tag == 0x30) {
            let byname = self.children(tbs)?.into_iter().find(|c| c.tag == 0xa1);
            if let Some(rid) = byname {
                let name = tlv(self.buf, rid.start, rid.end)?;
                if name.tag == 0x30 {
                    self.name(name, 0)?;
                }
            }
        }
        // certs [0] EXPLICIT SEQUENCE OF Certificate.
        if let Some(certs) = parts.iter().skip(1).find(|c| c.tag == 0xa0).copied() {
            let seq = tlv(self.buf, certs.start, certs.end)?;
            let mut pos = seq.start;
            let mut guard = 0u32;
            while pos < seq.end && guard < 256 {
                guard += 1;
                let c = tlv(self.buf, pos, seq.end)?;
                let sub = self.buf.get(pos..).ok_or(Stop::Trunc)?;
                let mut w = Walker {
                    buf: sub,
                    f: self.f,
                    t: &mut *self.t,
                    items: self.items,
                };
                let r = w.certificate(c.end - pos);
                self.items = w.items;
                r?;
                pos = c.end;
            }
        }
        Ok(())
    }

    fn certificate(&mut self, limit: usize) -> W<()> {
        let cert = tlv(self.buf, 0, limit)?;
        if cert.tag != 0x30 {
            return Err(Stop::Malformed);
        }
        let tbs = tlv(self.buf, cert.start, cert.end)?;
        if tbs.tag != 0x30 {
            return Err(Stop::Malformed);
        }
        // version [0] EXPLICIT (optional), serialNumber, signature, issuer,
        // validity, subject, subjectPublicKeyInfo, [1] [2] unique ids, [3] extensions.
        let mut pos = tbs.start;
        let mut index = 0u32;
        while pos < tbs.end {
            let e = tlv(self.buf, pos, tbs.end)?;
            pos = e.end;
            if index == 0 && e.tag == 0xa0 {
                continue;
            }
            match (index, e.tag) {
                (2 | 4, 0x30) => self.name(e, 0)?,
                (_, 0xa3) if index >= 6 => self.extensions(e)?,
                _ => {
                    // Wireshark reads every element it passes over.
                    content(self.buf, e)?;
                }
            }
            index += 1;
        }
        Ok(())
    }

    /// Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue).
    fn name(&mut self, name: Tlv, depth: u32) -> W<()> {
        if depth > MAX_DEPTH {
            return Err(Stop::Malformed);
        }
        for rdn in self.children(name)? {
            if rdn.tag != 0x31 {
                return Err(Stop::Malformed);
            }
            for atv in self.children(rdn)? {
                if atv.tag != 0x30 {
                    return Err(Stop::Malformed);
                }
                let oid = tlv(self.buf, atv.start, atv.end)?;
                if oid.tag != 0x06 {
                    return Err(Stop::Malformed);
                }
                let oid_bytes = content(self.buf, oid)?;
                let value = tlv(self.buf, oid.end, atv.end)?;
                self.attribute(oid_bytes, value)?;
            }
        }
        Ok(())
    }

    fn attribute(&mut self, oid: &[u8], value: Tlv) -> W<()> {
        let bytes = content(self.buf, value)?;
        match attribute_syntax(oid) {
            Syntax::DirectoryString => {
                let field = match value.tag {
                    0x14 => self.f.teletex,
                    0x13 => self.f.printable,
                    0x1c => self.f.universal,
                    0x1e => self.f.bmp,
                    0x0c => self.f.utf8,
                    _ => return Ok(()),
                };
                push_string(self.t, field, value.tag, bytes);
            }
            Syntax::Country => push_string(self.t, self.f.country, value.tag, bytes),
            Syntax::Printable => push_string(self.t, self.f.syntax_printable, value.tag, bytes),
            Syntax::Other => {}
        }
        Ok(())
    }

    /// [3] EXPLICIT Extensions ::= SEQUENCE OF Extension.
    fn extensions(&mut self, wrapper: Tlv) -> W<()> {
        let seq = tlv(self.buf, wrapper.start, wrapper.end)?;
        if seq.tag != 0x30 {
            return Err(Stop::Malformed);
        }
        for ext in self.children(seq)? {
            if ext.tag != 0x30 {
                return Err(Stop::Malformed);
            }
            let parts = self.children(ext)?;
            let Some(oid) = parts.first().copied() else {
                continue;
            };
            let Some(value) = parts.last().copied().filter(|v| v.tag == 0x04) else {
                continue;
            };
            let oid = content(self.buf, oid)?;
            let inner = content(self.buf, value)?;
            let _ = inner;
            let r = match oid {
                // subjectAltName, issuerAltName
                [0x55, 0x1d, 0x11] | [0x55, 0x1d, 0x12] => self.general_names_in(value, 0),
                // authorityKeyIdentifier: [1] authorityCertIssuer GeneralNames
                [0x55, 0x1d, 0x23] => self.aki(value),
                // cRLDistributionPoints
                [0x55, 0x1d, 0x1f] => self.crl_dp(value),
                // nameConstraints
                [0x55, 0x1d, 0x1e] => self.name_constraints(value),
                // authorityInfoAccess, subjectInfoAccess
                [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01]
                | [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x0b] => self.info_access(value),
                _ => Ok(()),
            };
            match r {
                Err(Stop::Trunc) => return Err(Stop::Trunc),
                // A malformed extension does not stop the next one.
                _ => continue,
            }
        }
        Ok(())
    }

    /// The OCTET STRING `value` holds a GeneralNames SEQUENCE.
    fn general_names_in(&mut self, value: Tlv, depth: u32) -> W<()> {
        let seq = tlv(self.buf, value.start, value.end)?;
        if seq.tag != 0x30 {
            return Err(Stop::Malformed);
        }
        self.general_names(seq, depth)
    }

    fn general_names(&mut self, seq: Tlv, depth: u32) -> W<()> {
        for gn in self.children(seq)? {
            self.general_name(gn, depth)?;
        }
        Ok(())
    }

    fn general_name(&mut self, gn: Tlv, depth: u32) -> W<()> {
        match gn.tag {
            0x81 => push_string(self.t, self.f.rfc822, 0x16, content(self.buf, gn)?),
            0x82 => push_string(self.t, self.f.dns, 0x16, content(self.buf, gn)?),
            0x86 => push_string(self.t, self.f.uri, 0x16, content(self.buf, gn)?),
            0xa4 => {
                let name = tlv(self.buf, gn.start, gn.end)?;
                if name.tag == 0x30 {
                    self.name(name, depth + 1)?;
                }
            }
            _ => {
                content(self.buf, gn)?;
            }
        }
        Ok(())
    }

    fn aki(&mut self, value: Tlv) -> W<()> {
        let seq = tlv(self.buf, value.start, value.end)?;
        for part in self.children(seq)? {
            if part.tag == 0xa1 {
                self.general_names(part, 0)?;
            }
        }
        Ok(())
    }

    fn crl_dp(&mut self, value: Tlv) -> W<()> {
        let seq = tlv(self.buf, value.start, value.end)?;
        for dp in self.children(seq)? {
            for part in self.children(dp)? {
                match part.tag {
                    0xa0 => {
                        for dpn in self.children(part)? {
                            if dpn.tag == 0xa0 {
                                self.general_names(dpn, 0)?;
                            }
                        }
                    }
                    0xa2 => self.general_names(part, 0)?,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn name_constraints(&mut self, value: Tlv) -> W<()> {
        let seq = tlv(self.buf, value.start, value.end)?;
        for subtrees in self.children(seq)? {
            for st in self.children(subtrees)? {
                if let Some(base) = self.children(st)?.first().copied() {
                    self.general_name(base, 0)?;
                }
            }
        }
        Ok(())
    }

    fn info_access(&mut self, value: Tlv) -> W<()> {
        let seq = tlv(self.buf, value.start, value.end)?;
        for ad in self.children(seq)? {
            if let Some(loc) = self.children(ad)?.get(1).copied() {
                self.general_name(loc, 0)?;
            }
        }
        Ok(())
    }
}

enum Syntax {
    DirectoryString,
    Country,
    Printable,
    Other,
}

/// The syntax Wireshark registers for an attribute type (x509sat.cnf).
fn attribute_syntax(oid: &[u8]) -> Syntax {
    match oid {
        // 2.5.4.N
        [0x55, 0x04, n] => match n {
            2 | 3 | 4 | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 15 | 17 | 18 | 19 | 41 | 42 | 43 | 44
            | 51 | 54 | 65 => Syntax::DirectoryString,
            6 => Syntax::Country,
            5 | 46 => Syntax::Printable,
            _ => Syntax::Other,
        },
        // 2.5.4.N.1 (collective attributes)
        [0x55, 0x04, 7 | 8 | 9 | 10 | 11 | 17 | 18 | 19, 0x01] => Syntax::DirectoryString,
        // 2.16.840.1.101.2.2.1.45 releaseAuthorityName
        [0x60, 0x86, 0x48, 0x01, 0x65, 0x02, 0x02, 0x01, 0x2d] => Syntax::DirectoryString,
        // 1.3.6.1.4.1.311.60.2.1.{1,2,3} jurisdictionOfIncorporation{Locality,StateOrProvince,Country}Name
        [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 1 | 2] => {
            Syntax::DirectoryString
        }
        [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 3] => Syntax::Country,
        // 1.2.840.113549.1.9.{7,8,13} pkcs-9 challengePassword, unstructuredAddress, signingDescription
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 7 | 8 | 13] => Syntax::DirectoryString,
        // 1.3.6.1.5.5.7.9.2 placeOfBirth; .3-.5 gender, countryOfCitizenship/Residence
        [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x09, 2] => Syntax::DirectoryString,
        [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x09, 3..=5] => Syntax::Printable,
        // 2.16.840.1.113730.3.1.{1,2,3,4,39,241} Netscape inetOrgPerson attributes
        [0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x42, 0x03, 0x01, 1..=4 | 39]
        | [0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x42, 0x03, 0x01, 0x81, 0x71] => {
            Syntax::DirectoryString
        }
        _ => Syntax::Other,
    }
}

/// Converts a BER string of universal type `tag` as Wireshark displays it.
fn push_string(t: &mut FieldTable, field: dorsal_engine::fields::FieldId, tag: u8, b: &[u8]) {
    if !t.wants(field) {
        return;
    }
    let s = decode_string(tag, b);
    // Wireshark keeps string values as C strings: they end at a NUL.
    let s = s.split('\0').next().unwrap_or_default();
    t.push_str(field, s.as_bytes());
}

pub fn decode_string(tag: u8, b: &[u8]) -> String {
    match tag {
        0x0c => String::from_utf8_lossy(b).into_owned(),
        0x1e => {
            let units: Vec<u16> = b
                .chunks_exact(2)
                .map(|c| {
                    u16::from_be_bytes([
                        c.first().copied().unwrap_or(0),
                        c.get(1).copied().unwrap_or(0),
                    ])
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
        0x1c => b
            .chunks_exact(4)
            .map(|c| {
                let mut a = [0u8; 4];
                a.copy_from_slice(c);
                char::from_u32(u32::from_be_bytes(a)).unwrap_or('\u{fffd}')
            })
            .collect(),
        0x14 => b.iter().map(|&c| char::from(c)).collect(),
        _ => ascii(b),
    }
}

/// ENC_ASCII: bytes above 0x7f become U+FFFD.
pub fn ascii(b: &[u8]) -> String {
    b.iter()
        .map(|&c| if c < 0x80 { char::from(c) } else { '\u{fffd}' })
        .collect()
}
