//! Turns a parsed DNS message into fields, in packet-dns.c's tree order, and
//! pairs queries with responses.

use dorsal_engine::hash::HashMap;
use std::cell::RefCell;

use dorsal_engine::dissect::{Address, Cx, Dissector, Outcome};
use dorsal_engine::table::{Timestamp, Value};

use crate::fields::DnsFields;
use crate::parser::{self, Error, Header, Item, Name, NameMemo, Reader, Record};
use crate::text::format_text;

/// Which of the three protocols sharing packet-dns.c's code this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Dns,
    /// DNS carried in an HTTP body (`application/dns-message`,
    /// `dissect_dns_doh`): DNS in every way but the Protocol column.
    Doh,
    Mdns,
    Llmnr,
}

/// Wireshark's `retransmission_timer` preference, in seconds.
const RETRANSMISSION_SECS: i64 = 5;
/// Cap on remembered transactions; past it new ones are not remembered.
const MAX_TRANSACTIONS: usize = 1 << 20;
/// Cap on DNS messages dissected from one TCP payload.
const MAX_PDUS: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct ConvKey {
    a: (Address, u16),
    b: (Address, u16),
    tcp: bool,
    id: u16,
}

#[derive(Clone, Copy, Debug)]
struct Transaction {
    req_frame: u32,
    rep_frame: u32,
    req_time: Timestamp,
    multiple_responds: bool,
}

#[derive(Default)]
struct State {
    transactions: HashMap<ConvKey, Transaction>,
    name: Name,
    /// Names of the message being dissected (see [`parser::NameMemo`]).
    memo: NameMemo,
    text: Vec<u8>,
}

pub struct Dns {
    f: DnsFields,
    flavor: Flavor,
    state: RefCell<State>,
}

/// What the matcher decided for one message.
#[derive(Default)]
struct Matched {
    trans: Option<Transaction>,
    retransmission: bool,
}

impl Dns {
    pub fn new(f: DnsFields, flavor: Flavor) -> Self {
        Dns {
            f,
            flavor,
            state: RefCell::new(State::default()),
        }
    }

    fn conv_key(cx: &Cx<'_>, id: u16) -> ConvKey {
        let x = (cx.src, cx.srcport);
        let y = (cx.dst, cx.dstport);
        let (a, b) = if x <= y { (x, y) } else { (y, x) };
        ConvKey {
            a,
            b,
            tcp: cx.tcp.is_some(),
            id,
        }
    }

    /// Wireshark's one-pass transaction tracking (`dissect_dns_common`).
    fn track(&self, st: &mut State, cx: &mut Cx<'_>, h: &Header) -> Matched {
        let key = Self::conv_key(cx, h.id);
        let now = cx.frame.ts;
        let num = cx.frame.number;
        let mut m = Matched::default();
        if !h.is_response() {
            let mut new = true;
            if let Some(t) = st.transactions.get(&key) {
                if t.rep_frame == 0
                    && now.nanos_since(t.req_time) < RETRANSMISSION_SECS * 1_000_000_000
                {
                    m.retransmission = true;
                    m.trans = Some(*t);
                    new = false;
                }
            }
            if new {
                let t = Transaction {
                    req_frame: num,
                    rep_frame: 0,
                    req_time: now,
                    multiple_responds: false,
                };
                if st.transactions.len() < MAX_TRANSACTIONS || st.transactions.contains_key(&key) {
                    st.transactions.insert(key, t);
                }
                m.trans = Some(t);
            }
            if cx.frame.visited && !m.retransmission {
                if let Some(rep) = cx.notes.get(num, self.f.response_in) {
                    if let Some(t) = m.trans.as_mut() {
                        t.rep_frame = u32::try_from(rep).unwrap_or(0);
                    }
                }
            }
        } else if let Some(t) = st.transactions.get_mut(&key) {
            if t.rep_frame == 0 {
                t.rep_frame = num;
                if !cx.frame.visited {
                    cx.notes
                        .set(t.req_frame, self.f.response_in, u64::from(num));
                }
            } else if !t.multiple_responds {
                m.retransmission = true;
            }
            m.trans = Some(*t);
        }
        m
    }

    /// Dissects one whole message (`msg` without the TCP length prefix).
    fn message(&self, cx: &mut Cx<'_>, msg: &[u8], whole: &[u8], tcp_len: Option<u16>) {
        let f = &self.f;
        let Some((h, reader)) = Reader::new(msg) else {
            // Shorter than a header: the protocol item and the malformed mark.
            let proto = self.proto_field();
            cx.t.push_proto(proto, whole);
            cx.t.add_layer(self.layer());
            // Past the captured bytes: short if the snaplen cut them.
            cx.bounds_error(whole.len().saturating_add(1), "DNS");
            return;
        };
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        st.memo.clear();
        let proto = self.proto_field();
        let entry = cx.t.push_proto(proto, whole);
        if cx.t.wants_label(entry) {
            let label = format!(
                "{} ({})",
                match self.flavor {
                    Flavor::Dns | Flavor::Doh => "Domain Name System",
                    Flavor::Mdns => "Multicast Domain Name System",
                    Flavor::Llmnr => "Link-local Multicast Name Resolution",
                },
                if h.is_response() { "response" } else { "query" }
            );
            cx.t.set_label(entry, &label);
        }
        cx.t.add_layer(self.layer());
        if let Some(c) = cx.cols() {
            c.set_protocol(match self.flavor {
                Flavor::Dns => "DNS",
                Flavor::Doh => "DoH",
                Flavor::Mdns => "MDNS",
                Flavor::Llmnr => "LLMNR",
            });
            c.clear_info();
            summary_head(c, &h);
        }

        // Inside an ICMP error Wireshark neither tracks nor looks up
        // transactions (`pinfo->flags.in_error_pkt`).
        let in_error =
            cx.t.layers()
                .iter()
                .any(|l| matches!(*l, "icmp" | "icmpv6"));
        let mut m = if in_error {
            Matched::default()
        } else {
            self.track(st, cx, &h)
        };
        let t = &mut *cx.t;
        if let Some(len) = tcp_len {
            t.push_u(f.length, len);
        }
        t.push_u(f.id, h.id);
        t.push_u(f.flags, h.flags);
        let fl = h.flags;
        let resp = h.is_response();
        t.push_bool(f.f_response, resp);
        t.push_u(f.f_opcode, h.opcode());
        if self.flavor == Flavor::Llmnr {
            t.push_bool(f.f_conflict, fl & parser::F_AUTHORITATIVE != 0);
            t.push_bool(f.f_truncated, fl & parser::F_TRUNCATED != 0);
            t.push_bool(f.f_tentative, fl & parser::F_RECDESIRED != 0);
            if resp {
                t.push_u(f.f_rcode, h.rcode());
            }
        } else {
            if resp {
                t.push_bool(f.f_authoritative, fl & parser::F_AUTHORITATIVE != 0);
            }
            t.push_bool(f.f_truncated, fl & parser::F_TRUNCATED != 0);
            t.push_bool(f.f_recdesired, fl & parser::F_RECDESIRED != 0);
            if resp {
                t.push_bool(f.f_recavail, fl & parser::F_RECAVAIL != 0);
            }
            t.push_bool(f.f_z, fl & parser::F_Z != 0);
            if resp || fl & parser::F_AUTHENTIC != 0 {
                t.push_bool(f.f_authenticated, fl & parser::F_AUTHENTIC != 0);
            }
            t.push_bool(f.f_checkdisable, fl & parser::F_CHECKDISABLE != 0);
            if resp {
                t.push_u(f.f_rcode, h.rcode());
            }
        }
        let update = h.opcode() == parser::OPCODE_UPDATE;
        let pick = |a, b| if update { b } else { a };
        t.push_u(pick(f.count_queries, f.count_zones), h.qdcount);
        t.push_u(pick(f.count_answers, f.count_prerequisites), h.ancount);
        t.push_u(pick(f.count_auth_rr, f.count_updates), h.nscount);
        t.push_u(f.count_add_rr, h.arcount);

        let mut multiple = false;
        let mut failed = false;
        for item in reader {
            match item {
                Ok(Item::Question(q)) => {
                    if matches!(q.qtype, 251 | 252) {
                        multiple = true;
                    }
                    self.question(cx, st, msg, &q);
                }
                Ok(Item::Record(r)) => {
                    if self.record(cx, st, msg, &r).is_err() {
                        failed = true;
                        break;
                    }
                }
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        if h.qdcount > 0 && !in_error {
            if let Some(t) = m.trans.as_mut() {
                t.multiple_responds = multiple;
            }
            let key = Self::conv_key(cx, h.id);
            if let Some(t) = st.transactions.get_mut(&key) {
                if m.trans.is_some_and(|m| m.req_frame == t.req_frame) {
                    t.multiple_responds = multiple;
                }
            }
        }
        if failed {
            // Wireshark stops at the exception: no tracking items follow.
            cx.bounds_error(whole.len().saturating_add(1), "DNS");
            return;
        }
        self.tracking_fields(cx, &h, &m);
    }

    fn tracking_fields(&self, cx: &mut Cx<'_>, h: &Header, m: &Matched) {
        let f = &self.f;
        let t = &mut *cx.t;
        let trans = m.trans.unwrap_or(Transaction {
            req_frame: 0,
            rep_frame: 0,
            req_time: cx.frame.ts,
            multiple_responds: false,
        });
        if !h.is_response() {
            if m.retransmission && trans.req_frame != 0 {
                t.push_u(f.retransmit_request_in, trans.req_frame);
                t.push_bool(f.retransmission, true);
            } else if trans.rep_frame != 0 {
                t.push_u(f.response_in, trans.rep_frame);
            }
        } else if trans.req_frame != 0 {
            if m.retransmission && trans.rep_frame != 0 {
                t.push_u(f.retransmit_response_in, trans.rep_frame);
                t.push_bool(f.retransmission, true);
            } else {
                t.push_u(f.response_to, trans.req_frame);
                t.push(
                    f.time,
                    Value::RelTime(cx.frame.ts.nanos_since(trans.req_time)),
                );
            }
        } else if !m.retransmission {
            t.push_bool(f.unsolicited, true);
        }
    }

    fn proto_field(&self) -> dorsal_engine::fields::FieldId {
        match self.flavor {
            Flavor::Dns | Flavor::Doh => self.f.dns,
            Flavor::Mdns => self.f.mdns,
            Flavor::Llmnr => self.f.llmnr,
        }
    }

    fn layer(&self) -> &'static str {
        match self.flavor {
            Flavor::Dns | Flavor::Doh => "dns",
            Flavor::Mdns => "mdns",
            Flavor::Llmnr => "llmnr",
        }
    }

    fn question(&self, cx: &mut Cx<'_>, st: &mut State, msg: &[u8], q: &parser::Question) {
        let f = &self.f;
        let cols = cx.cols().is_some();
        let t = &mut *cx.t;
        let want_name =
            cols || t.wants(f.qry_name) || t.wants(f.qry_name_len) || t.wants(f.count_labels);
        st.text.clear();
        if want_name && parser::read_name_memo(msg, q.name_off, &mut st.name, &mut st.memo).is_ok()
        {
            let raw = st.name.as_bytes();
            st.text.clear();
            format_text(&mut st.text, raw);
            t.push_str(f.qry_name, &st.text);
            let n = raw.len();
            t.push_u(f.qry_name_len, if n > 1 { n as u64 } else { 0 });
            let labels = if n > 1 {
                raw.iter().filter(|&&b| b == b'.').count() + 1
            } else {
                0
            };
            t.push_u(f.count_labels, labels as u64);
        }
        t.push_u(f.qry_type, q.qtype);
        if self.flavor == Flavor::Mdns {
            t.push_u(f.qry_class, q.qclass & 0x7fff);
            t.push_bool(f.qry_qu, q.qclass & 0x8000 != 0);
        } else {
            t.push_u(f.qry_class, q.qclass);
        }
        if let Some(c) = cx.cols() {
            c.append_info(" ");
            type_name(c, q.qtype);
            c.append_info(" ");
            if st.text.is_empty() {
                c.append_info("<Root>");
            } else {
                c.append_info(&String::from_utf8_lossy(&st.text));
            }
        }
    }

    fn record(&self, cx: &mut Cx<'_>, st: &mut State, msg: &[u8], r: &Record) -> Result<(), Error> {
        let f = &self.f;
        let mdns = self.flavor == Flavor::Mdns;
        // The record's subtree spans its data: a record running past the end
        // of the message throws before any of its fields is added.
        if r.rdata(msg).is_none() {
            return Err(Error::Truncated);
        }
        if let Some(c) = cx.cols() {
            rr_summary(c, st, msg, r);
        }
        parser::read_name_memo(msg, r.name_off, &mut st.name, &mut st.memo)?;
        st.text.clear();
        format_text(&mut st.text, st.name.as_bytes());
        let t = &mut *cx.t;
        if r.rtype == T_OPT {
            t.push_str(f.resp_name, &st.text);
            t.push_u(f.resp_type, r.rtype);
            t.push_u(
                f.rr_udp_payload_size,
                if mdns { r.rclass & 0x7fff } else { r.rclass },
            );
            if mdns {
                t.push_bool(f.resp_cache_flush, r.rclass & 0x8000 != 0);
            }
            let [ext, ver, z1, z2] = r.ttl.to_be_bytes();
            let z = u16::from_be_bytes([z1, z2]);
            t.push_u(f.rr_ext_rcode, ext);
            t.push_u(f.rr_edns0_version, ver);
            t.push_u(f.rr_z, z);
            t.push_bool(f.rr_z_do, z & 0x8000 != 0);
            t.push_u(f.rr_z_reserved, z & 0x7fff);
        } else {
            if r.rtype == T_SRV && !st.name.is_empty() {
                let mut parts = st.text.splitn(3, |&b| b == b'.');
                if let Some(s) = parts.next() {
                    t.push_str(f.srv_service, s);
                }
                if let Some(s) = parts.next() {
                    t.push_str(f.srv_proto, s);
                }
                if let Some(s) = parts.next() {
                    t.push_str(f.srv_name, s);
                }
            } else {
                t.push_str(f.resp_name, &st.text);
            }
            t.push_u(f.resp_type, r.rtype);
            if mdns {
                t.push_u(f.resp_class, r.rclass & 0x7fff);
                t.push_bool(f.resp_cache_flush, r.rclass & 0x8000 != 0);
            } else {
                t.push_u(f.resp_class, r.rclass);
            }
            t.push_u(f.resp_ttl, r.ttl);
        }
        t.push_u(f.resp_len, r.rdlen);
        if r.rdlen == 0 {
            return Ok(());
        }
        crate::rdata::push(f, cx, st_parts(st), msg, r, mdns)
    }
}

/// What a record adds to the Info column: its type, and for the common
/// types the data (`A 192.0.2.1`, `NS ns1.example.com`, `MX 10 mx.example.com`).
fn rr_summary(c: &mut dorsal_engine::columns::Columns, st: &mut State, msg: &[u8], r: &Record) {
    c.append_info(" ");
    type_name(c, r.rtype);
    let Some(data) = r.rdata(msg) else {
        return;
    };
    let mut name_at = |off: usize, c: &mut dorsal_engine::columns::Columns| {
        let mut name = parser::Name::default();
        if parser::read_name_memo(msg, off, &mut name, &mut st.memo).is_ok() {
            let mut text = Vec::new();
            format_text(&mut text, name.as_bytes());
            c.append_info(" ");
            if text.is_empty() {
                c.append_info("<Root>");
            } else {
                c.append_info(&String::from_utf8_lossy(&text));
            }
        }
    };
    match r.rtype {
        1 => {
            if let Some([a, b, cc, d]) = data.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok()) {
                c.append_info_fmt(format_args!(" {a}.{b}.{cc}.{d}"));
            }
        }
        28 => {
            if let Some(a) = data.get(..16).and_then(|s| <[u8; 16]>::try_from(s).ok()) {
                let mut s = String::from(" ");
                dorsal_engine::format::write_ipv6(&mut s, &a);
                c.append_info(&s);
            }
        }
        2 | 5 | 12 | 6 => name_at(r.rdata_off, c),
        // NULL: the owner's name.
        10 => name_at(r.name_off, c),
        33 => {
            let word = |i: usize| {
                data.get(i..i + 2)
                    .and_then(|p| <[u8; 2]>::try_from(p).ok())
                    .map(u16::from_be_bytes)
            };
            if let (Some(prio), Some(weight), Some(port)) = (word(0), word(2), word(4)) {
                c.append_info_fmt(format_args!(" {prio} {weight} {port}"));
                name_at(r.rdata_off + 6, c);
            }
        }
        15 => {
            let pref = data.get(..2).and_then(|p| <[u8; 2]>::try_from(p).ok());
            if let Some(pref) = pref.map(u16::from_be_bytes) {
                c.append_info_fmt(format_args!(" {pref}"));
                name_at(r.rdata_off + 2, c);
            }
        }
        _ => {}
    }
}

/// Borrows the scratch buffers of the state for the record-data code.
fn st_parts(st: &mut State) -> (&mut Name, &mut Vec<u8>) {
    (&mut st.name, &mut st.text)
}

/// The start of DNS's Info: operation, direction, id and error.
fn summary_head(c: &mut dorsal_engine::columns::Columns, h: &Header) {
    match h.opcode() {
        0 => c.append_info("Standard query"),
        1 => c.append_info("Inverse query"),
        2 => c.append_info("Server status request"),
        4 => c.append_info("Zone change notification"),
        5 => c.append_info("Dynamic update"),
        op => c.append_info_fmt(format_args!("Unknown operation ({op})")),
    }
    if h.is_response() {
        c.append_info(" response");
    }
    c.append_info_fmt(format_args!(" 0x{:04x}", h.id));
    if h.is_response() {
        let rcode = h.rcode();
        let rc = match rcode {
            0 => "",
            1 => " Format error",
            2 => " Server failure",
            3 => " No such name",
            4 => " Not implemented",
            5 => " Refused",
            6 => " Name exists",
            7 => " RRset exists",
            8 => " RRset does not exist",
            9 => " Not authoritative",
            10 => " Name out of zone",
            11 => " DSO-Type not implemented",
            _ => {
                c.append_info_fmt(format_args!(" Unknown error ({rcode})"));
                return;
            }
        };
        c.append_info(rc);
    }
}

/// A record type's mnemonic, as the Info column names it (Wireshark's
/// `dns_types_vals`).
fn type_name(c: &mut dorsal_engine::columns::Columns, t: u16) {
    let name = match t {
        0 => "Unused",
        1 => "A",
        2 => "NS",
        3 => "MD",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAP-PTR",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        31 => "EID",
        32 => "NIMLOC",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        40 => "SINK",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        53 => "SMIMEA",
        55 => "HIP",
        56 => "NINFO",
        57 => "RKEY",
        58 => "TALINK",
        59 => "CDS",
        60 => "CDNSKEY",
        61 => "OPENPGPKEY",
        62 => "CSYNC",
        63 => "ZONEMD",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        104 => "NID",
        105 => "L32",
        106 => "L64",
        107 => "LP",
        108 => "EUI48",
        109 => "EUI64",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        258 => "AVC",
        259 => "DOA",
        260 => "AMTRELAY",
        32768 => "TA",
        32769 => "DLV",
        65281 => "WINS",
        65282 => "WINS-R",
        65521 => "XPF",
        _ => {
            c.append_info_fmt(format_args!("Unknown ({t})"));
            return;
        }
    };
    c.append_info(name);
}

pub const T_SRV: u16 = 33;
pub const T_OPT: u16 = 41;

impl Dissector for Dns {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        if cx.tcp.is_none() {
            self.message(cx, data, data, None);
            return Outcome::Done(data.len());
        }
        // DNS over TCP: each message follows a 2-byte length.
        let mut off = 0usize;
        for _ in 0..MAX_PDUS {
            let rest = data.get(off..).unwrap_or_default();
            if rest.is_empty() {
                break;
            }
            let Some(len) = rest
                .get(..2)
                .and_then(|b| b.try_into().ok())
                .map(u16::from_be_bytes)
            else {
                return Outcome::NeedMore {
                    offset: off,
                    more: None,
                };
            };
            let total = usize::from(len) + 2;
            let Some(pdu) = rest.get(..total) else {
                return Outcome::NeedMore {
                    offset: off,
                    more: Some(total - rest.len()),
                };
            };
            self.message(cx, pdu.get(2..).unwrap_or_default(), pdu, Some(len));
            off += total;
        }
        Outcome::Done(off)
    }
}

/// UDP ports that tshark hands to another dissector by port before any
/// heuristic runs (NetBIOS, DHCP, NTP, SNMP, SIP, Teredo, ...). dorsal may not
/// dissect those protocols, but it must not mistake them for DNS either.
const OTHER_UDP_PORTS: &[u16] = &[
    7, 9, 67, 68, 69, 88, 111, 123, 137, 138, 161, 162, 177, 389, 427, 443, 500, 514, 520, 546,
    547, 623, 1194, 1434, 1645, 1646, 1701, 1812, 1813, 1900, 2049, 3478, 3544, 3702, 4500, 4789,
    5060, 5061, 5246, 5247, 5349, 6343, 8472,
];

/// Wireshark's `dissect_dns_heur`: a UDP payload that looks like a plain
/// query or a small response.
pub struct Heuristic {
    pub dns: std::rc::Rc<Dns>,
}

impl Dissector for Heuristic {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        if data.len() <= parser::HEADER_LEN
            || OTHER_UDP_PORTS.contains(&cx.srcport)
            || OTHER_UDP_PORTS.contains(&cx.dstport)
        {
            return Outcome::Rejected;
        }
        let Some(h) = parser::parse_header(data) else {
            return Outcome::Rejected;
        };
        if h.flags & parser::F_OPCODE != 0 {
            return Outcome::Rejected;
        }
        let ok = if h.is_response() {
            h.qdcount <= 1 && h.ancount <= 100 && h.nscount <= 10
        } else {
            h.qdcount == 1 && h.ancount == 0 && h.nscount == 0
        };
        if !ok || h.arcount > 10 {
            return Outcome::Rejected;
        }
        self.dns.dissect(cx, data)
    }
}
