//! TLS (SSLv3 to TLS 1.3) over TCP, as Wireshark 4.0's packet-tls.c shows
//! it without keys: records, handshake messages (reassembled across records),
//! hello fields and extensions, JA3 / JA3S, and the names inside
//! certificates. Encrypted records stay opaque.
//!
//! Records spanning TCP segments are requested from TCP with
//! [`Outcome::NeedMore`] (Wireshark's desegmentation contract); handshake
//! messages spanning records are reassembled here, per stream and direction.
//!
//! Depends on the engine only (never on another dissector crate); reaches
//! it through [`protocol`], its plug-in.

#![forbid(unsafe_code)]

mod alerts;
mod hello;
mod quic;
mod x509;

use dorsal_engine::hash::HashMap;
use dorsal_engine::protocol::Protocol;
use dorsal_engine::taps::SharedSink;
use std::cell::RefCell;
use std::rc::Rc;

use dorsal_engine::dissect::{Cx, Dissector, Dissectors, Outcome};
use dorsal_engine::fields;
use dorsal_engine::fields::Registry;

pub use x509::X509Fields;

fields! {
    pub struct TlsFields {
        tls: "tls", "Transport Layer Security", Protocol, None;
        record: "tls.record", "Record Layer", None, None;
        record_content_type: "tls.record.content_type", "Content Type", U8, Dec;
        record_opaque_type: "tls.record.opaque_type", "Opaque Type", U8, Dec;
        record_version: "tls.record.version", "Version", U16, Hex;
        record_length: "tls.record.length", "Length", U16, Dec;
        record_is_escape: "tls.record.is_escape", "Is Escape", Bool, None;
        record_padding_length: "tls.record.padding_length", "Padding Length", U8, Dec;
        app_data: "tls.app_data", "Encrypted Application Data", Bytes, None;
        change_cipher_spec: "tls.change_cipher_spec", "Change Cipher Spec Message", None, None;
        alert_message: "tls.alert_message", "Alert Message", None, None;
        alert_level: "tls.alert_message.level", "Level", U8, Dec;
        alert_desc: "tls.alert_message.desc", "Description", U8, Dec;
        handshake: "tls.handshake", "Handshake Protocol", None, None;
        handshake_type: "tls.handshake.type", "Handshake Type", U8, Dec;
        handshake_length: "tls.handshake.length", "Length", U24, Dec;
        version: "tls.handshake.version", "Version", U16, Hex;
        random: "tls.handshake.random", "Random", Bytes, None;
        session_id_length: "tls.handshake.session_id_length", "Session ID Length", U16, Dec;
        session_id: "tls.handshake.session_id", "Session ID", Bytes, None;
        cipher_suites_length: "tls.handshake.cipher_suites_length", "Cipher Suites Length", U16, Dec;
        ciphersuite: "tls.handshake.ciphersuite", "Cipher Suite", U16, Hex;
        comp_methods_length: "tls.handshake.comp_methods_length", "Compression Methods Length", U8, Dec;
        comp_method: "tls.handshake.comp_method", "Compression Method", U8, Dec;
        extensions_length: "tls.handshake.extensions_length", "Extensions Length", U16, Dec;
        extension_type: "tls.handshake.extension.type", "Type", U16, Dec;
        extension_len: "tls.handshake.extension.len", "Length", U16, Dec;
        extension_data: "tls.handshake.extension.data", "Data", Bytes, None;
        server_name_list_len: "tls.handshake.extensions_server_name_list_len", "Server Name list length", U16, Dec;
        server_name_type: "tls.handshake.extensions_server_name_type", "Server Name Type", U8, Dec;
        server_name_len: "tls.handshake.extensions_server_name_len", "Server Name length", U16, Dec;
        server_name: "tls.handshake.extensions_server_name", "Server Name", String, None;
        alpn_len: "tls.handshake.extensions_alpn_len", "ALPN Extension Length", U16, Dec;
        alpn_str_len: "tls.handshake.extensions_alpn_str_len", "ALPN string length", U8, Dec;
        alpn_str: "tls.handshake.extensions_alpn_str", "ALPN Next Protocol", String, None;
        supported_versions_len: "tls.handshake.extensions.supported_versions_len", "Supported Versions length", U8, Dec;
        supported_version: "tls.handshake.extensions.supported_version", "Supported Version", U16, Hex;
        supported_groups_length: "tls.handshake.extensions_supported_groups_length", "Supported Groups List Length", U16, Dec;
        supported_group: "tls.handshake.extensions_supported_group", "Supported Group", U16, Hex;
        ec_point_formats_length: "tls.handshake.extensions_ec_point_formats_length", "EC point formats Length", U8, Dec;
        ec_point_format: "tls.handshake.extensions_ec_point_format", "EC point format", U8, Dec;
        ja3_full: "tls.handshake.ja3_full", "JA3 Fullstring", String, None;
        ja3: "tls.handshake.ja3", "JA3", String, None;
        ja3s_full: "tls.handshake.ja3s_full", "JA3S Fullstring", String, None;
        ja3s: "tls.handshake.ja3s", "JA3S", String, None;
        certificates_length: "tls.handshake.certificates_length", "Certificates Length", U24, Dec;
        certificate_length: "tls.handshake.certificate_length", "Certificate Length", U24, Dec;
        certificate: "tls.handshake.certificate", "Certificate", Bytes, None;
        cert_types_count: "tls.handshake.cert_types_count", "Certificate types count", U8, Dec;
        dnames_len: "tls.handshake.dnames_len", "Distinguished Names Length", U16, Dec;
        cipher_spec_len: "tls.handshake.cipher_spec_len", "Cipher Spec Length", U16, Dec;
        challenge_length: "tls.handshake.challenge_length", "Challenge Length", U16, Dec;
        dname_len: "tls.handshake.dname_len", "Distinguished Name Length", U16, Dec;
        sig_hash_alg_len: "tls.handshake.sig_hash_alg_len", "Signature Hash Algorithms Length", U16, Dec;
        cert_context_len: "tls.handshake.certificate_request_context_length", "Certificate Request Context Length", U8, Dec;
    }
}

/// The field ids of this crate.
#[derive(Clone, Copy)]
pub struct Fields {
    pub tls: TlsFields,
    pub x509: X509Fields,
}

/// Declares the fields of this crate.
pub fn register_fields(reg: &mut Registry) -> Fields {
    Fields {
        tls: TlsFields::register(reg),
        x509: X509Fields::register(reg),
    }
}

dorsal_engine::plugin!(register_fields);

impl Protocol for Fields {
    /// Creates the TLS dissector and attaches it to TCP.
    fn register_dissectors(&self, ds: &mut Dissectors, _eo: Option<SharedSink>) {
        let f = self;
        let tls = Rc::new(Tls::new(*f, false));
        let id = ds.register("tls", tls);
        for &p in TLS_PORTS_IN_USE {
            ds.add("tcp.port", u32::from(p), id);
        }
        let heur = ds.register("tls_tcp", Rc::new(Tls::new(*f, true)));
        ds.add_heuristic("tcp.heur", heur);
        // tshark 4.0.17 decodes UDP 443 as QUIC and tries QUIC's heuristic on other ports.
        let q = ds.register("quic", Rc::new(quic::Quic::new(*f, false)));
        ds.add("udp.port", 443, q);
        let qh = ds.register("quic_udp", Rc::new(quic::Quic::new(*f, true)));
        ds.add_heuristic("udp.heur", qh);
    }
}

/// The ports tshark 4.0.17 hands to TLS by default (checked with `-G decodes`).
/// The random of a Hello Retry Request (RFC 8446, 4.1.3).
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

const TLS_PORTS_IN_USE: &[u16] = &[
    324, 443, 465, 636, 802, 853, 993, 995, 1300, 2221, 2443, 3249, 3250, 3251, 3252, 3496, 5061,
    5671, 5684, 5868, 8883, 11207, 19999, 27017,
];

/// Thrown where Wireshark raises an exception: a read past the captured
/// bytes. The rest of the frame's TLS dissection is abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trunc;

pub type Res<T> = Result<T, Trunc>;

pub const SSLV3: u16 = 0x0300;
pub const TLS10: u16 = 0x0301;
pub const TLS11: u16 = 0x0302;
pub const TLS12: u16 = 0x0303;
pub const TLS13: u16 = 0x0304;
pub const GMTLS: u16 = 0x0101;

const CT_CCS: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APP_DATA: u8 = 23;
const CT_CID: u8 = 25;

fn valid_content_type(t: u8) -> bool {
    matches!(t, CT_CCS..=CT_CID)
}

/// Handshake message types Wireshark names (ssl_31_handshake_type).
pub fn known_handshake_type(t: u8) -> bool {
    matches!(
        t,
        0 | 1
            | 2
            | 3
            | 4
            | 5
            | 6
            | 8
            | 11
            | 12
            | 13
            | 14
            | 15
            | 16
            | 20
            | 21
            | 22
            | 23
            | 24
            | 25
            | 67
            | 254
    )
}

/// Valid (D)TLS handshake types for version authority (ssl_is_valid_handshake_type, TLS).
fn valid_handshake_type(t: u8) -> bool {
    matches!(
        t,
        0 | 1 | 2 | 4 | 5 | 6 | 8 | 11 | 12 | 13 | 14 | 15 | 16 | 20 | 21 | 22 | 23 | 24 | 25 | 67
    )
}

/// A handshake message being reassembled from several records.
#[derive(Default)]
struct HsFrag {
    buf: Vec<u8>,
}

/// Cap on one reassembled handshake message (Wireshark assumes < 64 KiB
/// when guessing at encryption; certificates chains stay well under this).
const HS_FRAG_CAP: usize = 1 << 20;

#[derive(Default)]
struct Session {
    /// 0 while unknown.
    version: u16,
    /// TLS 1.3 draft number from the ServerHello's version (0: none).
    tls13_draft: u8,
    /// Direction (as TCP numbers them) of the client, once a ClientHello was seen.
    client_dir: Option<u8>,
    /// Frame of the first ChangeCipherSpec, by "is from server".
    ccs_frame: [u32; 2],
    /// Handshake reassembly in progress, by "is from server".
    frag: [Option<HsFrag>; 2],
}

/// Cap on tracked sessions; the oldest half is dropped past it.
const SESSIONS_CAP: usize = 1 << 16;

pub struct Tls {
    f: Fields,
    heuristic: bool,
    sessions: RefCell<HashMap<u32, Session>>,
}

impl Tls {
    pub fn new(f: Fields, heuristic: bool) -> Self {
        Tls {
            f,
            heuristic,
            sessions: RefCell::new(HashMap::default()),
        }
    }
}

/// Wireshark's `ssl_version_short_names`: the protocol column of a session
/// before any record says more.
fn short_name(version: u16) -> &'static str {
    match version {
        0x0002 => "SSLv2",
        SSLV3 => "SSLv3",
        TLS10 => "TLSv1",
        GMTLS => "GMTLSv1",
        TLS11 => "TLSv1.1",
        TLS12 => "TLSv1.2",
        TLS13 => "TLSv1.3",
        _ => "SSL",
    }
}

/// Per-call facts the record and handshake code need.
pub struct Ctx {
    pub frame: u32,
    pub from_server: bool,
}

fn printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

fn is_sslv3_or_tls(d: &[u8]) -> bool {
    let (Some(&ct), Some(v), Some(len)) = (d.first(), be16(d, 1), be16(d, 3)) else {
        return false;
    };
    (ct == CT_HANDSHAKE || ct == CT_APP_DATA)
        && matches!(v, SSLV3 | TLS10 | TLS11 | TLS12 | GMTLS)
        && len != 0
        && usize::from(len) < (1 << 14) + 2048
}

fn is_sslv2_clienthello(d: &[u8]) -> bool {
    d.len() >= 46
        && d.first() == Some(&0x80)
        && d.get(2) == Some(&1)
        && be16(d, 5).is_some_and(|l| l != 0 && l % 3 == 0)
        && be16(d, 7).is_some_and(|l| l == 0 || l == 16)
        && be16(d, 9) == Some(32)
}

pub use dorsal_engine::bytes::be16;

pub fn be24(d: &[u8], o: usize) -> Option<u32> {
    let b = d.get(o..o.checked_add(3)?)?;
    Some(u32::from_be_bytes([0, *b.first()?, *b.get(1)?, *b.get(2)?]))
}

impl Dissector for Tls {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let stream = cx.tcp.map(|t| t.stream);
        if self.heuristic {
            let known = stream.is_some_and(|s| self.sessions.borrow().contains_key(&s));
            if !known && !is_sslv3_or_tls(data) && !is_sslv2_clienthello(data) {
                return Outcome::Rejected;
            }
        }
        if data.len() > 4 && data.iter().take(4).all(|&b| printable(b)) {
            return Outcome::Rejected;
        }
        let key = stream.unwrap_or(u32::MAX);
        let mut sessions = self.sessions.borrow_mut();
        if sessions.len() >= SESSIONS_CAP && !sessions.contains_key(&key) {
            sessions.clear();
        }
        let sess = sessions.entry(key).or_default();
        let direction = cx.tcp.map(|t| t.direction).unwrap_or(0);
        let from_server = match sess.client_dir {
            Some(c) => c != direction,
            None => TLS_PORTS_IN_USE.contains(&cx.srcport),
        };
        let ctx = Ctx {
            frame: cx.frame.number,
            from_server,
        };
        let can_desegment = cx.tcp.is_some() && cx.reported <= data.len();
        let reported = cx.reported.max(data.len());
        let mut run = Run {
            f: &self.f,
            cx,
            sess,
            ctx,
            direction,
        };
        // dissect_ssl adds its tree item before looking at any record, so a
        // call that only asks TCP for more (the first segment of a record
        // spanning segments, or the start of a record after a reassembled
        // one) or finds continuation data still shows `tls`.
        run.begin(data, &mut false);
        // As dissect_ssl: the session's version names the frame and Info
        // starts afresh (after any fence TCP set), whatever the records hold.
        let name = short_name(run.sess.version);
        if let Some(c) = run.cx.cols() {
            c.set_protocol(name);
            c.clear_info();
        }
        run.records(data, reported, can_desegment)
    }
}

struct Run<'a, 'c> {
    f: &'a Fields,
    cx: &'a mut Cx<'c>,
    sess: &'a mut Session,
    ctx: Ctx,
    direction: u8,
}

impl Run<'_, '_> {
    fn records(&mut self, data: &[u8], reported: usize, can_desegment: bool) -> Outcome {
        let mut off = 0usize;
        while off < reported {
            let avail = reported - off;
            let v = self.sess.version;
            let known = matches!(v, SSLV3 | TLS10 | TLS11 | TLS12 | GMTLS);
            // Once the session is SSLv2, every record is read as one, with
            // its own 2- or 3-byte header check.
            let sslv2 = v == 0x0002;
            if avail < 5 && !sslv2 {
                if can_desegment {
                    return Outcome::NeedMore {
                        offset: off,
                        more: None,
                    };
                }
                break;
            }
            let rest = data.get(off..).unwrap_or(&[]);
            let first = rest.first().copied();
            let third = rest.get(2).copied();
            let v2 = if sslv2 {
                true
            } else if known {
                first == Some(0x80) && third == Some(1)
            } else {
                first.is_some_and(|b| b >= 0x80) && matches!(third, Some(0 | 1 | 2 | 4))
            };
            if v2 {
                match self.sslv2_record(data, off, avail, can_desegment) {
                    Step::Next(n) => {
                        off = n;
                        continue;
                    }
                    Step::NeedMore(more) => return Outcome::NeedMore { offset: off, more },
                    Step::Stop => break,
                }
            }
            if !known && !looks_like_sslv3(rest) {
                // Bytes that are no record of a version not yet known.
                if let Some(c) = self.cx.cols() {
                    c.append_info_sep(", ", "Continuation Data");
                }
                break;
            }
            match self.record(data, off, avail, can_desegment) {
                Step::Next(n) => off = n,
                Step::NeedMore(more) => {
                    return Outcome::NeedMore { offset: off, more };
                }
                Step::Stop => break,
            }
        }
        Outcome::Done(data.len())
    }

    /// dissect_ssl2_record: the record header and a ClientHello's lengths.
    fn sslv2_record(&mut self, data: &[u8], off: usize, avail: usize, can_desegment: bool) -> Step {
        let f = self.f.tls;
        let rest = data.get(off..).unwrap_or(&[]);
        let Some(&b0) = rest.first() else {
            return Step::Stop;
        };
        let hl = if b0 & 0x80 != 0 { 2 } else { 3 };
        if avail < hl {
            if can_desegment {
                return Step::NeedMore(None);
            }
            return Step::Stop;
        }
        let Some(&b1) = rest.get(1) else {
            return Step::Stop;
        };
        let len = if hl == 2 {
            usize::from(b0 & 0x7f) << 8 | usize::from(b1)
        } else {
            usize::from(b0 & 0x3f) << 8 | usize::from(b1)
        };
        if avail < hl + len {
            if can_desegment {
                return Step::NeedMore(Some(hl + len - avail));
            }
            return Step::Stop;
        }
        self.cx.t.push(f.record, dorsal_engine::table::Value::None);
        let Some(&msg) = rest.get(hl) else {
            return Step::Stop;
        };
        if self.sess.version == 0 && (2..=8).contains(&msg) {
            self.sess.version = 0x0002;
        }
        // A message type outside the handshake, or a hello whose version is
        // no SSL/TLS version, is taken for encrypted data: only the
        // generated record version is shown (ssl_looks_like_valid_v2_handshake).
        let Ok(valid) = valid_v2_handshake(rest.get(hl..).unwrap_or(&[]), len) else {
            return Step::Stop;
        };
        self.cx.t.push_u(f.record_version, 0x0002u16);
        if msg > 8 || !valid {
            return Step::Next(off + hl + len);
        }
        self.cx.t.push_u(f.record_length, len as u64);
        if hl == 3 {
            let Some(&pad) = rest.get(2) else {
                return Step::Stop;
            };
            self.cx.t.push_bool(f.record_is_escape, b0 & 0x40 != 0);
            self.cx.t.push_u(f.record_padding_length, pad);
        }
        self.cx.t.push_u(f.handshake_type, msg);
        if msg == 1 {
            let b = rest.get(hl + 1..).unwrap_or(&[]);
            let Some(v) = be16(b, 0) else {
                return Step::Stop;
            };
            if named_ssl_version(v) {
                self.sess.client_dir = Some(self.direction);
                self.cx.t.push_u(f.version, v);
                for (i, field) in [f.cipher_spec_len, f.session_id_length, f.challenge_length]
                    .into_iter()
                    .enumerate()
                {
                    let Some(x) = be16(b, 2 + 2 * i) else {
                        return Step::Stop;
                    };
                    self.cx.t.push_u(field, x);
                }
            }
        }
        Step::Next(off + hl + len)
    }

    /// Adds the `tls` protocol item once per call (QUIC calls it once per
    /// datagram, before its first CRYPTO data).
    fn begin(&mut self, data: &[u8], started: &mut bool) {
        if !*started {
            *started = true;
            self.cx.t.add_layer("tls");
            self.cx.t.push_proto(self.f.tls.tls, data);
        }
    }

    fn record(&mut self, data: &[u8], off: usize, avail: usize, can_desegment: bool) -> Step {
        let f = self.f.tls;
        let v = self.sess.version;
        let rest = data.get(off..).unwrap_or(&[]);
        let Some(&ct) = rest.first() else {
            return Step::Stop;
        };
        if matches!(v, TLS10 | TLS11 | TLS12 | GMTLS) && !valid_content_type(ct) {
            // "Ignored Unknown Record": the rest of the data.
            if let Some(c) = self.cx.cols() {
                c.append_info_sep(", ", "Ignored Unknown Record");
            }
            return Step::Stop;
        }
        let (Some(version), Some(len)) = (be16(rest, 1), be16(rest, 3)) else {
            // Header cut by the snaplen: the read throws.
            return Step::Stop;
        };
        let len = usize::from(len);
        if !valid_content_type(ct) {
            return Step::Next(off + 5 + len);
        }
        if avail < len + 5 {
            if can_desegment {
                return Step::NeedMore(Some(len + 5 - avail));
            }
            return Step::Stop;
        }
        self.cx.t.push(f.record, dorsal_engine::table::Value::None);
        if self.sess.version == TLS13 && ct == CT_APP_DATA {
            self.cx.t.push_u(f.record_opaque_type, ct);
        } else {
            self.cx.t.push_u(f.record_content_type, ct);
        }
        self.cx.t.push_u(f.record_version, version);
        self.cx.t.push_u(f.record_length, len as u64);
        let body_start = off + 5;
        // The byte after the header must exist (Wireshark reads it).
        let Some(nb) = data.get(body_start).copied() else {
            return Step::Stop;
        };
        let mut effective = version;
        if self.sess.version == 0 {
            self.try_set_version(ct, nb, version);
        } else {
            effective = self.sess.version;
        }
        // Wireshark's handshake parsers read from the whole segment's tvb,
        // so a bogus inner length may reach past the record (seen with
        // TLS 1.3 draft ServerHellos): keep what follows for them.
        let after = data.get(body_start..).unwrap_or(&[]);
        let body = after.get(..len).unwrap_or(after);
        self.summarize(ct, effective, body);
        let r = match ct {
            CT_CCS => {
                self.cx
                    .t
                    .push(f.change_cipher_spec, dorsal_engine::table::Value::None);
                if body.is_empty() {
                    Err(Trunc)
                } else {
                    if self.sess.version != TLS13 {
                        let i = usize::from(self.ctx.from_server);
                        if let Some(c) = self.sess.ccs_frame.get_mut(i) {
                            if *c == 0 {
                                *c = self.ctx.frame;
                            }
                        }
                    }
                    Ok(())
                }
            }
            CT_ALERT => {
                self.cx
                    .t
                    .push(f.alert_message, dorsal_engine::table::Value::None);
                if len == 2 {
                    match (body.first(), body.get(1)) {
                        (Some(&l), Some(&d)) => {
                            self.cx.t.push_u(f.alert_level, l);
                            self.cx.t.push_u(f.alert_desc, d);
                            Ok(())
                        }
                        _ => Err(Trunc),
                    }
                } else {
                    Ok(())
                }
            }
            CT_HANDSHAKE => self.handshake(after, len, effective),
            CT_APP_DATA => {
                if body.len() < len {
                    Err(Trunc)
                } else {
                    self.cx.t.push_bytes(f.app_data, body);
                    Ok(())
                }
            }
            _ => Ok(()),
        };
        match r {
            Ok(()) => Step::Next(off + 5 + len),
            Err(Trunc) => Step::Stop,
        }
    }

    /// The record's part of the columns: the version as Protocol, what
    /// the record holds appended to Info.
    fn summarize(&mut self, ct: u8, version: u16, body: &[u8]) {
        let side = usize::from(self.ctx.from_server);
        let encrypted = self.sess.ccs_frame.get(side).is_some_and(|&f| f != 0);
        let Some(c) = self.cx.cols() else {
            return;
        };
        c.set_protocol(match version {
            SSLV3 => "SSLv3",
            TLS10 => "TLSv1",
            TLS11 => "TLSv1.1",
            TLS12 => "TLSv1.2",
            TLS13 => "TLSv1.3",
            _ => "SSL",
        });
        match ct {
            CT_CCS => c.append_info_sep(", ", "Change Cipher Spec"),
            // Only a two-byte alert is read as one (encrypted or not).
            CT_ALERT => match body {
                &[level, desc] => {
                    let name = |strings, v: u8| {
                        dorsal_engine::fields::value_name(strings, u64::from(v))
                            .unwrap_or("Unknown")
                    };
                    c.append_info_fmt(format_args!(
                        "{}Alert (Level: {}, Description: {})",
                        if c.info().is_empty() { "" } else { ", " },
                        name(alerts::LEVELS, level),
                        name(alerts::DESCRIPTIONS, desc)
                    ));
                }
                _ => c.append_info_sep(", ", "Encrypted Alert"),
            },
            CT_APP_DATA => c.append_info_sep(", ", "Application Data"),
            CT_HANDSHAKE if encrypted => c.append_info_sep(", ", "Encrypted Handshake Message"),
            CT_HANDSHAKE => {
                let mut off = 0usize;
                // Each message takes at least its 4-byte header.
                for _ in 0..64 {
                    let (Some(&ty), Some(n)) = (body.get(off), be24(body, off + 1)) else {
                        break;
                    };
                    // A Server Hello whose random is RFC 8446's fixed value
                    // is a Hello Retry Request.
                    let hrr =
                        ty == 2 && body.get(off + 6..off + 38) == Some(&HELLO_RETRY_RANDOM[..]);
                    let name = match ty {
                        0 => "Hello Request",
                        1 => "Client Hello",
                        2 if hrr => "Hello Retry Request",
                        2 => "Server Hello",
                        4 => "New Session Ticket",
                        8 => "Encrypted Extensions",
                        11 => "Certificate",
                        12 => "Server Key Exchange",
                        13 => "Certificate Request",
                        14 => "Server Hello Done",
                        15 => "Certificate Verify",
                        16 => "Client Key Exchange",
                        20 => "Finished",
                        22 => "Certificate Status",
                        _ => "Encrypted Handshake Message",
                    };
                    c.append_info_sep(", ", name);
                    off = off.saturating_add(4).saturating_add(n as usize);
                    if off >= body.len() {
                        break;
                    }
                }
            }
            _ => {}
        }
    }

    fn try_set_version(&mut self, ct: u8, hs_type: u8, version: u16) {
        let authoritative = (ct == CT_HANDSHAKE && valid_handshake_type(hs_type) && hs_type != 1)
            || (ct != CT_HANDSHAKE && valid_content_type(ct));
        if !authoritative {
            return;
        }
        let mut version = version;
        let mut draft = 0;
        if hs_type == 2 && ct == CT_HANDSHAKE {
            draft = tls13_draft(version);
            if version == 0xfb17 || version == 0xfb1a {
                // Facebook fizz's unofficial drafts.
                draft = (version & 0xff) as u8;
            }
            if draft != 0 {
                version = TLS13;
            }
        }
        if matches!(version, SSLV3 | TLS10 | TLS11 | TLS12 | TLS13 | GMTLS) {
            self.sess.version = version;
            self.sess.tls13_draft = draft;
        }
    }

    /// dissect_tls_handshake: reassembly across records, then each message.
    fn handshake(&mut self, body: &[u8], len: usize, version: u16) -> Res<()> {
        let f = self.f.tls;
        // `body` may run past the record; `rec` is the record's own bytes.
        let rec = body.get(..len).unwrap_or(body);
        let side = usize::from(self.ctx.from_server);
        let mut off = 0usize;
        let mut is_first = true;
        let mut handled_frag = false;
        if let Some(frag) = self.sess.frag.get_mut(side).and_then(|s| s.take()) {
            let frags_len = frag.buf.len();
            let mut subset = len;
            let mut msg_len = 0usize;
            let mut head = [0u8; 4];
            let mut have = 0usize;
            for &b in frag.buf.iter().chain(rec.iter()).take(4) {
                if let Some(h) = head.get_mut(have) {
                    *h = b;
                }
                have += 1;
            }
            // With the record's reported length counted, are 4 bytes known?
            if frags_len + len >= 4 {
                if have < 4 {
                    return Err(Trunc);
                }
                msg_len = 4 + be24(&head, 1).unwrap_or(0) as usize;
                subset = subset.min(msg_len.saturating_sub(frags_len));
            }
            if rec.len() >= subset {
                let is_last = msg_len != 0 && frags_len + subset == msg_len;
                let mut frag = frag;
                if frag.buf.len() + subset <= HS_FRAG_CAP {
                    frag.buf.extend_from_slice(rec.get(..subset).unwrap_or(rec));
                }
                handled_frag = true;
                self.cx
                    .t
                    .push(f.handshake, dorsal_engine::table::Value::None);
                if is_last {
                    off = subset;
                    if frag.buf.len() == msg_len {
                        self.handshake_full(&frag.buf, 0, version, false)?;
                    }
                    is_first = false;
                } else {
                    if let Some(s) = self.sess.frag.get_mut(side) {
                        *s = Some(frag);
                    }
                    return Ok(());
                }
            }
            // else: not all captured, reassembly stops; this record starts anew.
        }
        if !handled_frag && self.encrypted_message(body, len, side)? {
            self.cx
                .t
                .push(f.handshake, dorsal_engine::table::Value::None);
            return Ok(());
        }
        while off < len {
            let subset = len - off;
            let msg_len = if subset >= 4 {
                let l = be24(body, off + 1).ok_or(Trunc)?;
                4 + l as usize
            } else {
                0
            };
            if msg_len == 0 || subset < msg_len {
                let tail = rec.get(off..).ok_or(Trunc)?;
                if tail.is_empty() {
                    return Err(Trunc);
                }
                if tail.len() < subset {
                    return Err(Trunc);
                }
                if let Some(s) = self.sess.frag.get_mut(side) {
                    *s = Some(HsFrag { buf: tail.to_vec() });
                }
                self.cx
                    .t
                    .push(f.handshake, dorsal_engine::table::Value::None);
                break;
            }
            self.handshake_full(body, off, version, is_first)?;
            off += msg_len;
            is_first = false;
        }
        Ok(())
    }

    fn encrypted_message(&self, body: &[u8], len: usize, side: usize) -> Res<bool> {
        if len < 16 {
            return Ok(false);
        }
        let head = body.get(..5).ok_or(Trunc)?;
        let mut enc = head.iter().all(|&b| b == 0);
        if !enc {
            let ccs = self.sess.ccs_frame.get(side).copied().unwrap_or(0);
            enc = ccs != 0 && self.ctx.frame > ccs;
        }
        if !enc {
            let t = head.first().copied().unwrap_or(0);
            enc = !known_handshake_type(t);
            if !enc {
                enc = be24(head, 1).unwrap_or(0) >= 0x01_0000;
            }
        }
        Ok(enc)
    }

    /// One whole handshake message at `buf[off..]`.
    fn handshake_full(&mut self, buf: &[u8], off: usize, version: u16, is_first: bool) -> Res<()> {
        let f = self.f.tls;
        let t = *buf.get(off).ok_or(Trunc)?;
        let length = be24(buf, off + 1).ok_or(Trunc)? as usize;
        let known = known_handshake_type(t);
        if !known && !is_first {
            return Ok(());
        }
        let start = off + 4;
        let end = start + length;
        let mut hrr = false;
        if is_first && t == 2 && length > 2 {
            let (sv, is_hrr) = hello::scan_server_hello(buf, start, end)?;
            hrr = is_hrr;
            self.try_set_version(CT_HANDSHAKE, 2, sv);
        }
        self.cx
            .t
            .push(f.handshake, dorsal_engine::table::Value::None);
        if !known {
            return Ok(());
        }
        self.cx.t.push_u(f.handshake_type, t);
        self.cx.t.push_u(f.handshake_length, length as u64);
        let _ = version;
        let mut h = hello::Hs {
            f: *self.f,
            t: &mut *self.cx.t,
            buf,
            version: self.sess.version,
            draft: self.sess.tls13_draft,
        };
        match t {
            1 => {
                self.sess.client_dir = Some(self.direction);
                h.client_hello(start, end)
            }
            2 => h.server_hello(start, end, hrr),
            11 => h.certificate(start, end),
            13 => h.certificate_request(start, end),
            22 => h.cert_status(start, end),
            _ => Ok(()),
        }
    }
}

enum Step {
    Next(usize),
    NeedMore(Option<usize>),
    Stop,
}

/// Whether Wireshark names `v` as a protocol version (`ssl_versions`):
/// SSL 2.0 to TLS 1.3, the TLS 1.3 drafts, DTLS, and the GREASE values.
fn named_ssl_version(v: u16) -> bool {
    matches!(
        v,
        0x0002 | SSLV3 | TLS10 | GMTLS | TLS11 | TLS12 | TLS13 | 0x7f0e
            ..=0x7f1c | 0xfb17 | 0xfb1a | 0x0100 | 0xfeff | 0xfefd
    ) || (v & 0x0f0f == 0x0a0a && v >> 12 == (v >> 4) & 0xf)
}

/// ssl_looks_like_valid_v2_handshake over the record body `body` (from
/// the message type on; it may run past the record) of `len` bytes: the
/// three messages sent in the clear, checked a little further. Reading
/// past the captured bytes is Wireshark's exception.
fn valid_v2_handshake(body: &[u8], len: usize) -> Res<bool> {
    match body.first() {
        Some(1) => Ok(named_ssl_version(be16(body, 1).ok_or(Trunc)?)),
        Some(4) => Ok(named_ssl_version(be16(body, 3).ok_or(Trunc)?)),
        Some(2) => {
            let mut sum = 0usize;
            for o in [4, 6, 8] {
                sum = sum.saturating_add(usize::from(be16(body, o).ok_or(Trunc)?));
            }
            Ok(sum <= len)
        }
        Some(_) => Ok(false),
        None => Err(Trunc),
    }
}

fn looks_like_sslv3(d: &[u8]) -> bool {
    d.first().is_some_and(|&b| valid_content_type(b))
        && be16(d, 1).is_some_and(|v| matches!(v, SSLV3 | TLS10 | TLS11 | TLS12 | GMTLS))
}

/// The draft number of a TLS 1.3 draft version (0x7fXX), else 0.
fn tls13_draft(v: u16) -> u8 {
    if v >> 8 == 0x7f {
        (v & 0xff) as u8
    } else {
        0
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use dorsal_engine::dissect::{Frame, Notes, TcpPayloadInfo};
    use dorsal_engine::table::{FieldTable, Value};

    fn vec16(body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    fn ext(ty: u16, body: &[u8]) -> Vec<u8> {
        let mut v = ty.to_be_bytes().to_vec();
        v.extend(vec16(body));
        v
    }

    /// A TLS 1.2 record holding a ClientHello: GREASE suite and extension,
    /// SNI "example.com", ALPN "h2", groups x25519/secp256r1, point format 0.
    fn client_hello() -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend([7u8; 32]); // random
        body.push(0); // session id length
        body.extend(vec16(&[0x0a, 0x0a, 0x13, 0x01, 0xc0, 0x2f]));
        body.extend([1, 0]); // one compression method: null
        let mut exts = ext(0x2a2a, &[]);
        let mut sni = vec![0];
        sni.extend(vec16(b"example.com"));
        exts.extend(ext(0, &vec16(&sni)));
        exts.extend(ext(16, &vec16(&[2, b'h', b'2'])));
        exts.extend(ext(10, &vec16(&[0x00, 0x1d, 0x00, 0x17])));
        exts.extend(ext(11, &[1, 0]));
        body.extend(vec16(&exts));
        let mut hs = vec![1, 0, 0, body.len() as u8];
        hs.extend(body);
        let mut rec = vec![22, 3, 1];
        rec.extend(vec16(&hs));
        rec
    }

    struct Env {
        reg: Registry,
        f: Fields,
        ds: Dissectors,
        tls: Tls,
        t: FieldTable,
        notes: Notes,
    }

    fn env() -> Env {
        let mut reg = Registry::new();
        let f = register_fields(&mut reg);
        Env {
            reg,
            f,
            ds: Dissectors::new(),
            tls: Tls::new(f, false),
            t: FieldTable::new(),
            notes: Notes::default(),
        }
    }

    impl Env {
        /// Dissects `data` as frame `n` of TCP stream 0, direction `dir`;
        /// `reported` is the length on the wire.
        fn run(&mut self, n: u32, dir: u8, data: &[u8], reported: usize) -> Outcome {
            self.t.clear();
            let frame = Frame {
                number: n,
                ..Frame::default()
            };
            let mut cx = Cx::new(
                &frame,
                &mut self.t,
                &self.reg,
                &mut self.ds,
                &mut self.notes,
            );
            cx.tcp = Some(TcpPayloadInfo {
                stream: 0,
                direction: dir,
                ..TcpPayloadInfo::default()
            });
            cx.srcport = if dir == 0 { 50000 } else { 443 };
            cx.reported = reported;
            self.tls.dissect(&mut cx, data)
        }

        fn strings(&self, id: dorsal_engine::fields::FieldId) -> Vec<String> {
            self.t
                .values(id)
                .filter_map(|v| match v {
                    Value::Str(s) => Some(String::from_utf8_lossy(self.t.bytes(*s)).into_owned()),
                    _ => None,
                })
                .collect()
        }

        fn uints(&self, id: dorsal_engine::fields::FieldId) -> Vec<u64> {
            self.t
                .values(id)
                .filter_map(|v| match v {
                    Value::U(u) => Some(*u),
                    _ => None,
                })
                .collect()
        }
    }

    #[test]
    fn client_hello_fields_and_ja3() {
        let mut e = env();
        let ch = client_hello();
        assert_eq!(e.run(1, 0, &ch, ch.len()), Outcome::Done(ch.len()));
        let f = e.f.tls;
        assert_eq!(e.uints(f.handshake_type), vec![1]);
        assert_eq!(e.uints(f.record_version), vec![0x0301]);
        assert_eq!(e.uints(f.ciphersuite), vec![0x0a0a, 0x1301, 0xc02f]);
        assert_eq!(e.strings(f.server_name), vec!["example.com"]);
        assert_eq!(e.strings(f.alpn_str), vec!["h2"]);
        assert_eq!(e.uints(f.extension_type), vec![0x2a2a, 0, 16, 10, 11]);
        let full = "771,4865-49199,0-16-10-11,29-23,0";
        assert_eq!(e.strings(f.ja3_full), vec![full]);
        assert_eq!(e.strings(f.ja3), vec![hello::tests_md5(full)]);
    }

    #[test]
    fn records_spanning_segments_ask_for_the_rest() {
        let mut e = env();
        let ch = client_hello();
        // Only the header's first 3 bytes: one more segment, length unknown.
        assert_eq!(
            e.run(1, 0, &ch[..3], 3),
            Outcome::NeedMore {
                offset: 0,
                more: None
            }
        );
        // Half the record: exactly the missing bytes.
        let half = ch.len() / 2;
        assert_eq!(
            e.run(1, 0, &ch[..half], half),
            Outcome::NeedMore {
                offset: 0,
                more: Some(ch.len() - half)
            }
        );
        // A whole record then the start of another: the first is dissected.
        let mut two = ch.clone();
        two.extend_from_slice(&ch[..10]);
        assert_eq!(
            e.run(1, 0, &two, two.len()),
            Outcome::NeedMore {
                offset: ch.len(),
                more: Some(ch.len() - 10)
            }
        );
        assert_eq!(e.strings(e.f.tls.server_name), vec!["example.com"]);
    }

    #[test]
    fn a_call_that_only_asks_for_more_still_shows_tls() {
        let mut e = env();
        let ch = client_hello();
        let half = ch.len() / 2;
        assert!(matches!(
            e.run(1, 0, &ch[..half], half),
            Outcome::NeedMore { .. }
        ));
        assert_eq!(e.t.layers(), ["tls"]);
        assert!(e.t.has(e.f.tls.tls));
        assert!(!e.t.has(e.f.tls.record));
    }

    #[test]
    fn sslv2_header_over_encrypted_bytes_is_encrypted_data() {
        let mut e = env();
        // A 2-byte header of 5 bytes whose "ClientHello" has no SSL version:
        // only the generated record version is shown.
        let enc = [0x80, 5, 1, 0x59, 0x06, 0xaa, 0xbb];
        assert_eq!(e.run(1, 0, &enc, enc.len()), Outcome::Done(enc.len()));
        assert!(e.t.has(e.f.tls.record));
        assert_eq!(e.uints(e.f.tls.record_version), vec![2]);
        assert!(e.uints(e.f.tls.record_length).is_empty());
        assert!(e.uints(e.f.tls.handshake_type).is_empty());
        // A real SSLv2 ClientHello keeps its fields.
        let mut ch = vec![0x80, 28, 1, 0, 2, 0, 3, 0, 0, 0, 16, 1, 0, 0x80];
        ch.extend([0x33; 16]);
        assert_eq!(e.run(2, 0, &ch, ch.len()), Outcome::Done(ch.len()));
        assert_eq!(e.uints(e.f.tls.record_length), vec![28]);
        assert_eq!(e.uints(e.f.tls.handshake_type), vec![1]);
        assert_eq!(e.uints(e.f.tls.cipher_spec_len), vec![3]);
    }

    #[test]
    fn sslv2_session_reads_three_byte_headers() {
        let mut e = env();
        // A ServerHello (version 0x0002) makes the session SSLv2.
        let mut sh = vec![0x80, 34, 4, 0, 1, 0, 2, 0, 4, 0, 3, 0, 16];
        sh.extend([0x44; 4]);
        sh.extend([1, 0, 0x80]);
        sh.extend([0x55; 16]);
        assert_eq!(e.run(1, 1, &sh, sh.len()), Outcome::Done(sh.len()));
        // An escape header with 2 bytes of padding around a ClientMasterKey.
        let mut cmk = vec![0x40, 20, 2, 2, 1, 0, 0x80, 0, 0, 0, 8, 0, 0];
        cmk.extend([0x66; 8]);
        cmk.extend([0, 0]);
        assert_eq!(e.run(2, 0, &cmk, cmk.len()), Outcome::Done(cmk.len()));
        assert_eq!(e.uints(e.f.tls.record_length), vec![20]);
        assert_eq!(e.uints(e.f.tls.record_padding_length), vec![2]);
        assert!(e.t.has(e.f.tls.record_is_escape));
        assert_eq!(e.uints(e.f.tls.handshake_type), vec![2]);
    }

    #[test]
    fn handshake_message_spanning_records_is_reassembled() {
        let mut e = env();
        let ch = client_hello();
        let hs = &ch[5..];
        let (a, b) = hs.split_at(20);
        let mut r1 = vec![22, 3, 3];
        r1.extend(vec16(a));
        let mut r2 = vec![22, 3, 3];
        r2.extend(vec16(b));
        assert_eq!(e.run(1, 0, &r1, r1.len()), Outcome::Done(r1.len()));
        assert!(e.uints(e.f.tls.handshake_type).is_empty());
        assert!(e.t.has(e.f.tls.handshake));
        assert_eq!(e.run(2, 0, &r2, r2.len()), Outcome::Done(r2.len()));
        assert_eq!(e.uints(e.f.tls.handshake_type), vec![1]);
        assert_eq!(e.strings(e.f.tls.server_name), vec!["example.com"]);
    }

    #[test]
    fn hello_cut_by_snaplen_keeps_what_it_holds() {
        let mut e = env();
        let ch = client_hello();
        // Cut just after the SNI extension: ALPN and JA3 are lost.
        let cut = ch.len() - 22;
        assert_eq!(e.run(1, 0, &ch[..cut], ch.len()), Outcome::Done(cut));
        assert_eq!(e.strings(e.f.tls.server_name), vec!["example.com"]);
        assert!(e.strings(e.f.tls.alpn_str).is_empty());
        assert!(e.strings(e.f.tls.ja3_full).is_empty());
        // Every prefix of the record is handled without panicking.
        for n in 0..ch.len() {
            e.run(1, 0, &ch[..n], ch.len());
            e.run(1, 0, &ch[..n], n);
        }
    }

    #[test]
    fn text_and_garbage_are_not_tls() {
        let mut e = env();
        assert_eq!(e.run(1, 0, b"GET / HTTP/1.1\r\n", 16), Outcome::Rejected);
        let mut h = env();
        h.tls = Tls::new(h.f, true);
        assert_eq!(h.run(1, 0, &[0x17, 0x03, 0x03, 0, 0], 5), Outcome::Rejected);
        assert_eq!(h.run(1, 0, &[1, 2, 3, 4, 5, 6], 6), Outcome::Rejected);
        let ch = client_hello();
        assert_eq!(h.run(1, 0, &ch, ch.len()), Outcome::Done(ch.len()));
    }

    #[test]
    fn encrypted_records_stay_opaque() {
        let mut e = env();
        let mut rec = vec![23, 3, 3, 0, 32];
        rec.extend([0xab; 32]);
        assert_eq!(e.run(1, 1, &rec, rec.len()), Outcome::Done(rec.len()));
        assert_eq!(e.uints(e.f.tls.record_content_type), vec![23]);
        assert!(!e.t.has(e.f.tls.handshake));
        // A Finished after ChangeCipherSpec is an encrypted handshake message.
        let mut flight = vec![20, 3, 3, 0, 1, 1, 22, 3, 3, 0, 40];
        flight.extend([0x5a; 40]);
        e.run(2, 1, &flight, flight.len());
        let mut fin = vec![22, 3, 3, 0, 40];
        fin.extend([0x14; 40]);
        e.run(3, 1, &fin, fin.len());
        assert!(e.t.has(e.f.tls.handshake));
        assert!(e.uints(e.f.tls.handshake_type).is_empty());
    }
}
