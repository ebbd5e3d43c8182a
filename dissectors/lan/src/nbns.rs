//! NetBIOS Name Service (RFC 1002 §4.2): a DNS-shaped message whose names
//! are 16-byte NetBIOS names in first-level encoding.

use std::fmt::Write as _;

use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::table::Value;

use dorsal_engine::bytes::{array, be16, be32};

use crate::LanFields;

pub(crate) struct Nbns(pub(crate) LanFields);

const HEADER: usize = 12;
const T_NB: u16 = 0x20;
const T_NBSTAT: u16 = 0x21;
const OPCODE_WACK: u16 = 7;
/// Records read per section: a 16-bit count of records of at least 4 bytes
/// ends at the message's end anyway; the cap bounds a hostile count.
const MAX_RECORDS: u16 = 512;
/// Labels and pointers followed in one name.
const MAX_STEPS: usize = 128;
/// Longest name kept (RFC 1035's 255, plus room for the dots).
const MAX_NAME: usize = 512;

impl Dissector for Nbns {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.0;
        cx.t.add_layer("nbns");
        cx.t.push_proto(f.nbns, data);
        let (Some(id), Some(flags)) = (be16(data, 0), be16(data, 2)) else {
            cx.bounds_error(4, "NBNS");
            return Outcome::Done(data.len());
        };
        let opcode = (flags & 0x7800) >> 11;
        let response = flags & 0x8000 != 0;
        if let Some(c) = cx.cols() {
            c.set_protocol("NBNS");
            c.clear_info();
            c.append_info(&opcode_name(opcode));
            if response {
                c.append_info(" response");
                if flags & 0x000f != 0 {
                    c.append_info_fmt(format_args!(", {}", rcode_name(flags & 0x000f)));
                }
            }
        }
        cx.t.push_u(f.nbns_id, id);
        cx.t.push_u(f.nbns_flags, flags);
        cx.t.push_bool(f.nbns_response, response);
        cx.t.push_u(f.nbns_opcode, opcode);
        if response {
            cx.t.push_bool(f.nbns_authoritative, flags & 0x0400 != 0);
        }
        cx.t.push_bool(f.nbns_truncated, flags & 0x0200 != 0);
        cx.t.push_bool(f.nbns_recdesired, flags & 0x0100 != 0);
        if response {
            cx.t.push_bool(f.nbns_recavail, flags & 0x0080 != 0);
        }
        cx.t.push_bool(f.nbns_broadcast, flags & 0x0010 != 0);
        if response {
            cx.t.push_u(f.nbns_rcode, flags & 0x000f);
        }
        let (Some(quest), Some(ans), Some(auth), Some(add)) =
            (be16(data, 4), be16(data, 6), be16(data, 8), be16(data, 10))
        else {
            cx.bounds_error(HEADER, "NBNS");
            return Outcome::Done(data.len());
        };
        for (field, n) in [
            (f.nbns_queries, quest),
            (f.nbns_answers, ans),
            (f.nbns_auth_rr, auth),
            (f.nbns_add_rr, add),
        ] {
            cx.t.push_u(field, n);
        }
        let mut at = HEADER;
        for _ in 0..quest.min(MAX_RECORDS) {
            match self.query(cx, data, at, !response) {
                Some(next) => at = next,
                None => {
                    cx.bounds_error(data.len().saturating_add(1), "NBNS");
                    return Outcome::Done(data.len());
                }
            }
        }
        // Answers go to Info in responses only; the other sections never.
        for (n, info) in [(ans, response), (auth, false), (add, false)] {
            for _ in 0..n.min(MAX_RECORDS) {
                match self.answer(cx, data, at, info, opcode) {
                    Some(next) => at = next,
                    None => {
                        cx.bounds_error(data.len().saturating_add(1), "NBNS");
                        return Outcome::Done(data.len());
                    }
                }
            }
        }
        Outcome::Done(data.len())
    }
}

impl Nbns {
    /// One question; returns where the next record starts.
    fn query(&self, cx: &mut Cx<'_>, msg: &[u8], at: usize, info: bool) -> Option<usize> {
        let f = &self.0;
        let (name, _, len) = read_name(msg, at)?;
        let at = at.checked_add(len)?;
        let rtype = be16(msg, at)?;
        let class = be16(msg, at + 2)?;
        if info {
            if let Some(c) = cx.cols() {
                c.append_info_fmt(format_args!(" {} {name}", type_name(rtype)));
            }
        }
        cx.t.push_str(f.nbns_name, name.as_bytes());
        cx.t.push_u(f.nbns_type, rtype);
        cx.t.push_u(f.nbns_class, class);
        Some(at + 4)
    }

    /// One resource record; returns where the next one starts.
    fn answer(
        &self,
        cx: &mut Cx<'_>,
        msg: &[u8],
        at: usize,
        info: bool,
        opcode: u16,
    ) -> Option<usize> {
        let f = &self.0;
        let (mut name, kind, len) = read_name(msg, at)?;
        let at = at.checked_add(len)?;
        let rtype = be16(msg, at)?;
        let class = be16(msg, at + 2)?;
        let ttl = be32(msg, at + 4)?;
        let dlen = usize::from(be16(msg, at + 8)?);
        let rdata_at = at + 10;
        if let Some(k) = kind {
            name.push_str(&format!(" ({})", name_type_descr(k)));
        }
        cx.t.push_str(f.nbns_name, name.as_bytes());
        cx.t.push_u(f.nbns_type, rtype);
        cx.t.push_u(f.nbns_class, class);
        cx.t.push_u(f.nbns_ttl, ttl);
        let rdata = msg.get(rdata_at..)?;
        match rtype {
            T_NB => {
                if info && opcode != OPCODE_WACK {
                    if let (Some(a), Some(c)) = (array::<4>(rdata, 2), cx.cols()) {
                        c.append_info_fmt(format_args!(" NB {}", std::net::Ipv4Addr::from(a)));
                    }
                }
                let mut i = 0usize;
                // Each entry is 6 bytes (2 for a WACK); the record's length bounds the walk.
                while i < dlen {
                    let Some(fl) = be16(rdata, i) else { break };
                    if opcode == OPCODE_WACK {
                        i += 2;
                        continue;
                    }
                    cx.t.push_u(f.nbns_nb_flags, fl);
                    cx.t.push_bool(f.nbns_nb_group, fl & 0x8000 != 0);
                    cx.t.push_u(f.nbns_nb_ont, (fl & 0x6000) >> 13);
                    let Some(a) = array::<4>(rdata, i + 2).filter(|_| i + 6 <= dlen) else {
                        break;
                    };
                    cx.t.push(f.nbns_addr, Value::Ipv4(a));
                    i += 6;
                }
            }
            _ => {
                if info {
                    if let Some(c) = cx.cols() {
                        c.append_info_fmt(format_args!(" {}", type_name(rtype)));
                    }
                }
            }
        }
        Some(rdata_at + dlen)
    }
}

fn opcode_name(op: u16) -> String {
    match op {
        0 => "Name query".into(),
        5 => "Registration".into(),
        6 => "Release".into(),
        7 => "Wait for acknowledgment".into(),
        8 => "Refresh".into(),
        9 => "Refresh (alternate opcode)".into(),
        15 => "Multi-homed registration".into(),
        n => format!("Unknown operation ({n})"),
    }
}

fn rcode_name(rc: u16) -> &'static str {
    match rc {
        1 => "Request was invalidly formatted",
        2 => "Server failure",
        3 => "Requested name does not exist",
        4 => "Request is not implemented",
        5 => "Request was refused",
        6 => "Name is owned by another node",
        7 => "Name is in conflict",
        _ => "Unknown error",
    }
}

fn type_name(t: u16) -> &'static str {
    match t {
        T_NB => "NB",
        T_NBSTAT => "NBSTAT",
        _ => "unknown",
    }
}

/// What a NetBIOS name's 16th byte says the name is for.
fn name_type_descr(t: u8) -> &'static str {
    match t {
        0x00 | 0x02 => "Workstation/Redirector",
        0x01 => "Browser",
        0x03 => "Messenger service/Main name",
        0x05 => "Forwarded name",
        0x06 => "RAS Server service",
        0x1b => "Domain Master Browser",
        0x1c => "Domain Controllers",
        0x1d => "Local Master Browser",
        0x1e => "Browser Election Service",
        0x1f => "Net DDE Service",
        0x20 => "Server service",
        0x21 => "RAS client service",
        0x22 => "Exchange Interchange (MSMail Connector)",
        0x23 => "Exchange Store",
        0x24 => "Exchange Directory",
        0x2b => "Lotus Notes Server service",
        0x30 => "Modem sharing server service",
        0x31 => "Modem sharing client service",
        0x43 => "SMS Clients Remote Control",
        0x44 => "SMS Administrators Remote Control Tool",
        0x45 => "SMS Clients Remote Chat",
        0x46 => "SMS Clients Remote Transfer",
        0x4c | 0x52 => "DEC Pathworks TCP/IP Service on Windows NT",
        0x6a => "Microsoft Exchange IMC",
        0x87 => "Microsoft Exchange MTA",
        0xbe => "Network Monitor Agent",
        0xbf => "Network Monitor Analyzer",
        _ => "Unknown",
    }
}

/// The name at `at` as Wireshark shows it (`WORKGROUP<1d>`, then any scope
/// ID), its type byte when it is a legal NetBIOS name, and the bytes the
/// name takes at `at` (a pointer takes two).
pub(crate) fn read_name(msg: &[u8], at: usize) -> Option<(String, Option<u8>, usize)> {
    let mut labels: Vec<&[u8]> = Vec::new();
    let mut pos = at;
    let mut len = None;
    let mut total = 0usize;
    for _ in 0..MAX_STEPS {
        let b = *msg.get(pos)?;
        match b & 0xc0 {
            0xc0 => {
                let ptr = usize::from(be16(msg, pos)? & 0x3fff);
                len.get_or_insert(pos + 2 - at);
                pos = ptr;
            }
            0 if b == 0 => {
                len.get_or_insert(pos + 1 - at);
                return decode(&labels).map(|(n, k)| (n, k, len.unwrap_or(1)));
            }
            0 => {
                let l = usize::from(b);
                let label = msg.get(pos + 1..pos + 1 + l)?;
                total += l + 1;
                if total > MAX_NAME {
                    return None;
                }
                labels.push(label);
                pos += 1 + l;
            }
            _ => return None,
        }
    }
    None
}

/// Undoes the first-level encoding of the first label.
fn decode(labels: &[&[u8]]) -> Option<(String, Option<u8>)> {
    let first = labels.first().copied().unwrap_or_default();
    let scope: Vec<String> = labels
        .iter()
        .skip(1)
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    let mut bytes = Vec::with_capacity(16);
    let mut pairs = first.chunks(2);
    let bad = loop {
        let Some(pair) = pairs.next() else { break None };
        let [hi, lo] = pair else {
            break Some("Illegal NetBIOS name (odd number of bytes)".to_string());
        };
        if !hi.is_ascii_uppercase() {
            break Some(
                "Illegal NetBIOS name (1st character not between A and Z in first-level encoding)"
                    .to_string(),
            );
        }
        if !lo.is_ascii_uppercase() {
            break Some(
                "Illegal NetBIOS name (2nd character not between A and Z in first-level encoding)"
                    .to_string(),
            );
        }
        if bytes.len() < 16 {
            bytes.push(((hi - b'A') << 4) | ((lo - b'A') & 0x0f));
        }
    };
    if let Some(msg) = bad {
        return Some((msg, None));
    }
    if bytes.len() != 16 {
        return Some((
            format!("Illegal NetBIOS name ({} bytes long)", bytes.len()),
            None,
        ));
    }
    let mut name = String::new();
    for &c in bytes.iter().take(15) {
        if (0x20..=0x7e).contains(&c) {
            name.push(char::from(c));
        } else {
            let _ = write!(name, "<{c:02x}>");
        }
    }
    let kind = bytes.get(15).copied().unwrap_or(0);
    let mut name = name.trim_end_matches(' ').to_string();
    let _ = write!(name, "<{kind:02x}>");
    for s in scope {
        name.push('.');
        name.push_str(&s);
    }
    Some((name, Some(kind)))
}

#[cfg(test)]
pub(crate) fn decode_for_tests(label: &[u8]) -> String {
    decode(&[label]).map(|(n, _)| n).unwrap_or_default()
}
