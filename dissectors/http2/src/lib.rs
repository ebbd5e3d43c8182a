//! HTTP/2 over cleartext TCP with prior knowledge (h2c), after
//! packet-http2.c of Wireshark 4.0: enough to carry DNS over HTTPS
//! (`application/dns-message`) captured in the clear.
//!
//! Wireshark reaches HTTP/2 through HTTP: the `http` heuristic list holds
//! `dissect_http2_heur`, which claims a conversation whose payload starts
//! with the connection preface (`PRI * HTTP/2.0...`); afterwards
//! `dissect_http_tcp` hands every payload of that conversation, both
//! directions, straight to `http2`. The HTTP dissector calls
//! [`Http2::claims`] to do the same.
//!
//! Frames are split as `tcp_dissect_pdus` does (a 9-byte header, then the
//! 24-bit length); a frame that spans segments asks TCP for more. Header
//! blocks (HEADERS, PUSH_PROMISE, CONTINUATION) are decoded with our own
//! HPACK decoder ([`hpack`]), one per direction per connection, which
//! SETTINGS_HEADER_TABLE_SIZE bounds once the peer acknowledges it. DATA frames are gathered per stream and direction until
//! END_STREAM, then handed to the `media_type` dissector of the stream's
//! `content-type` (only `application/dns-message` -> `dns` here).
//!
//! Depends on the engine only (never on another dissector crate); reaches
//! it through [`protocol`], its plug-in.

#![forbid(unsafe_code)]

pub mod hpack;
mod hpack_tables;

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use dorsal_engine::dissect::{Cx, Dissector, Dissectors, Outcome};
use dorsal_engine::fields;
use dorsal_engine::fields::{value_name, Registry};
use dorsal_engine::protocol::Protocol;
use dorsal_engine::taps::SharedSink;

/// `http2_type_vals`.
pub const TYPES: &[(u64, &str)] = &[
    (0, "DATA"),
    (1, "HEADERS"),
    (2, "PRIORITY"),
    (3, "RST_STREAM"),
    (4, "SETTINGS"),
    (5, "PUSH_PROMISE"),
    (6, "PING"),
    (7, "GOAWAY"),
    (8, "WINDOW_UPDATE"),
    (9, "CONTINUATION"),
    (10, "ALTSVC"),
    (11, "BLOCKED"),
    (12, "ORIGIN"),
    (16, "PRIORITY_UPDATE"),
];

/// `vals_http_status_code` of packet-http.c: the reason phrase tshark
/// shows for an HTTP/2 `:status` (HTTP/2 carries none of its own).
const STATUS_REASONS: &[(u64, &str)] = &[
    (100, "Continue"),
    (101, "Switching Protocols"),
    (102, "Processing"),
    (103, "Early Hints"),
    (199, "Informational - Others"),
    (200, "OK"),
    (201, "Created"),
    (202, "Accepted"),
    (203, "Non-authoritative Information"),
    (204, "No Content"),
    (205, "Reset Content"),
    (206, "Partial Content"),
    (207, "Multi-Status"),
    (208, "Already Reported"),
    (226, "IM Used"),
    (299, "Success - Others"),
    (300, "Multiple Choices"),
    (301, "Moved Permanently"),
    (302, "Found"),
    (303, "See Other"),
    (304, "Not Modified"),
    (305, "Use Proxy"),
    (307, "Temporary Redirect"),
    (308, "Permanent Redirect"),
    (399, "Redirection - Others"),
    (400, "Bad Request"),
    (401, "Unauthorized"),
    (402, "Payment Required"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (405, "Method Not Allowed"),
    (406, "Not Acceptable"),
    (407, "Proxy Authentication Required"),
    (408, "Request Time-out"),
    (409, "Conflict"),
    (410, "Gone"),
    (411, "Length Required"),
    (412, "Precondition Failed"),
    (413, "Request Entity Too Large"),
    (414, "Request-URI Too Long"),
    (415, "Unsupported Media Type"),
    (416, "Requested Range Not Satisfiable"),
    (417, "Expectation Failed"),
    (418, "I'm a teapot"),
    (421, "Misdirected Request"),
    (422, "Unprocessable Entity"),
    (423, "Locked"),
    (424, "Failed Dependency"),
    (425, "Too Early"),
    (426, "Upgrade Required"),
    (428, "Precondition Required"),
    (429, "Too Many Requests"),
    (431, "Request Header Fields Too Large"),
    (451, "Unavailable For Legal Reasons"),
    (499, "Client Error - Others"),
    (500, "Internal Server Error"),
    (501, "Not Implemented"),
    (502, "Bad Gateway"),
    (503, "Service Unavailable"),
    (504, "Gateway Time-out"),
    (505, "HTTP Version not supported"),
    (506, "Variant Also Negotiates"),
    (507, "Insufficient Storage"),
    (508, "Loop Detected"),
    (510, "Not Extended"),
    (511, "Network Authentication Required"),
    (599, "Server Error - Others"),
];

fields! {
    pub struct Http2Fields {
        http2: "http2", "HyperText Transfer Protocol 2", Protocol, None;
        magic: "http2.magic", "Magic", String, None;
        length: "http2.length", "Length", U24, Dec;
        typ: "http2.type", "Type", U8, Dec, strings TYPES;
        flags: "http2.flags", "Flags", U8, Hex;
        streamid: "http2.streamid", "Stream Identifier", U32, Dec, mask 0x7fffffff;
        header_name: "http2.header.name", "Name", String, None;
        header_value: "http2.header.value", "Value", String, None;
        headers_path: "http2.headers.path", ":path", String, None;
        headers_method: "http2.headers.method", ":method", String, None;
        headers_content_type: "http2.headers.content_type", "content-type", String, None;
        data: "http2.data.data", "Data", Bytes, None;
    }
}

/// The connection preface a client sends first.
pub const MAGIC: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HEADER_LEN: usize = 9;
/// Caps on state: connections, streams per connection, a gathered body.
const MAX_CONNS: usize = 4096;
const MAX_STREAMS: usize = 1024;
const MAX_BODY: usize = 1 << 20;
/// Frames looked at in one call.
const MAX_FRAMES: usize = 4096;

/// SETTINGS frames awaiting their ACK, per direction.
const MAX_SETTINGS_QUEUE: usize = 64;

const FLAG_END_STREAM: u8 = 0x01;
const FLAG_ACK: u8 = 0x01;
const FLAG_END_HEADERS: u8 = 0x04;
const FLAG_PADDED: u8 = 0x08;
const FLAG_PRIORITY: u8 = 0x20;

#[derive(Default)]
struct StreamDir {
    content_type: Option<Vec<u8>>,
    body: Vec<u8>,
}

struct Conn {
    decoders: [hpack::Decoder; 2],
    /// Whether a direction still has to decode its first block (see
    /// [`hpack::Decoder::fill_unknown`]).
    first_block: [bool; 2],
    /// SETTINGS_HEADER_TABLE_SIZE sent by each direction and not yet
    /// acknowledged: `None` for a SETTINGS frame without it.
    settings: [VecDeque<Option<TableSize>>; 2],
    /// (stream id, direction) -> what that side said.
    streams: HashMap<(u32, u8), StreamDir>,
}

/// The smallest and the last SETTINGS_HEADER_TABLE_SIZE of one frame.
#[derive(Clone, Copy)]
struct TableSize {
    min: u32,
    last: u32,
}

impl Conn {
    fn new() -> Self {
        Conn {
            decoders: [hpack::Decoder::new(), hpack::Decoder::new()],
            first_block: [true; 2],
            settings: [VecDeque::new(), VecDeque::new()],
            streams: HashMap::new(),
        }
    }

    /// `dissect_http2_settings`: a SETTINGS frame from `dir` is queued;
    /// its ACK (sent by the other side) applies the oldest one to the
    /// decoder of the acknowledging side, whose encoder it constrains.
    fn settings(&mut self, dir: usize, flags: u8, payload: &[u8]) {
        if flags & FLAG_ACK != 0 {
            let Some(q) = self.settings.get_mut(dir ^ 1) else {
                return;
            };
            let Some(Some(t)) = q.pop_front() else {
                return;
            };
            if let Some(d) = self.decoders.get_mut(dir) {
                if t.min < t.last {
                    d.set_settings_max(t.min);
                }
                d.set_settings_max(t.last);
            }
            return;
        }
        let mut size: Option<TableSize> = None;
        for e in payload.chunks_exact(6) {
            if let &[0, 1, a, b, c, d] = e {
                let v = u32::from_be_bytes([a, b, c, d]);
                size = Some(TableSize {
                    min: size.map_or(v, |t| t.min.min(v)),
                    last: v,
                });
            }
        }
        if let Some(q) = self.settings.get_mut(dir) {
            if q.len() >= MAX_SETTINGS_QUEUE {
                q.pop_front();
            }
            q.push_back(size);
        }
    }
}

type Seen = HashMap<(u32, u32, usize), Vec<(Vec<u8>, Vec<u8>)>>;

pub struct Http2 {
    f: Http2Fields,
    /// Called by HTTP for a conversation it handed over: `http` is a layer
    /// of `frame.protocols` too, when a frame gets dissected at all.
    via_http: bool,
    conns: Rc<RefCell<HashMap<u32, Conn>>>,
    /// Frames already dissected: HPACK state must advance only once per
    /// frame, so decoded headers are remembered for a second pass.
    seen: Rc<RefCell<Seen>>,
}

/// Declares the fields of HTTP/2.
pub fn register_fields(reg: &mut Registry) -> Http2Fields {
    Http2Fields::register(reg)
}

dorsal_engine::plugin!(register_fields);

impl Protocol for Http2Fields {
    /// Registers `http2` (called by name from HTTP, see the module doc).
    fn register_dissectors(&self, ds: &mut Dissectors, _eo: Option<SharedSink>) {
        let f = self;
        let conns = Rc::new(RefCell::new(HashMap::new()));
        let seen = Rc::new(RefCell::new(HashMap::new()));
        for (name, via_http) in [("http2", false), ("http2.via_http", true)] {
            ds.register(
                name,
                Rc::new(Http2 {
                    f: *f,
                    via_http,
                    conns: conns.clone(),
                    seen: seen.clone(),
                }),
            );
        }
    }
}

impl Dissector for Http2 {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let Some(tcp) = cx.tcp else {
            return Outcome::Rejected;
        };
        {
            let mut conns = self.conns.borrow_mut();
            if !conns.contains_key(&tcp.stream) {
                if !data.starts_with(MAGIC) {
                    return Outcome::Rejected;
                }
                if conns.len() >= MAX_CONNS {
                    conns.clear();
                }
                conns.insert(tcp.stream, Conn::new());
            }
        }
        // A first frame still incomplete adds no layer: TCP calls again
        // with the whole frame.
        let first = frame_len(data);
        if tcp.can_desegment && data.len() < first {
            return Outcome::NeedMore {
                offset: 0,
                more: Some(first - data.len()),
            };
        }
        if self.via_http {
            cx.t.add_layer("http");
        }
        cx.t.add_layer("http2");
        if let Some(c) = cx.cols() {
            c.set_protocol("HTTP2");
            c.clear_info();
        }
        let mut off = 0usize;
        for _ in 0..MAX_FRAMES {
            let rest = data.get(off..).unwrap_or_default();
            if rest.is_empty() {
                break;
            }
            if rest.starts_with(MAGIC) {
                let f = &self.f;
                cx.t.push_proto(f.http2, rest.get(..MAGIC.len()).unwrap_or_default());
                cx.t.push_str(f.magic, b"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n");
                if let Some(c) = cx.cols() {
                    c.append_info_sep(", ", "Magic");
                }
                off = off.saturating_add(MAGIC.len());
                continue;
            }
            let need = frame_len(rest);
            if rest.len() < need {
                if tcp.can_desegment {
                    return Outcome::NeedMore {
                        offset: off,
                        more: Some(need - rest.len()),
                    };
                }
                self.frame(cx, rest, tcp.stream, tcp.direction, off);
                break;
            }
            let pdu = rest.get(..need).unwrap_or_default();
            self.frame(cx, pdu, tcp.stream, tcp.direction, off);
            off = off.saturating_add(need);
        }
        Outcome::Done(data.len())
    }
}

/// The Info text of a header block, as `inflate_http2_header_block` adds
/// it: `: GET /path` once both pseudo-headers are seen, `: 200 OK` for a
/// status.
fn info_headers(c: &mut dorsal_engine::columns::Columns, list: &[hpack::Header]) {
    let (mut method, mut path) = (None, None);
    for (n, v) in list {
        match n.as_slice() {
            b":method" => method = Some(v),
            b":path" => path = Some(v),
            b":status" => {
                // `strtoul`: the leading digits, 0 when there are none.
                let code = v
                    .iter()
                    .skip_while(|b| b.is_ascii_whitespace())
                    .take_while(|b| b.is_ascii_digit())
                    .take(19)
                    .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
                let reason = value_name(STATUS_REASONS, code).unwrap_or("Unknown");
                c.append_info_sep(": ", &format!("{} {reason}", String::from_utf8_lossy(v)));
                continue;
            }
            _ => continue,
        }
        if let (Some(m), Some(p)) = (method, path) {
            c.append_info_sep(
                ": ",
                &format!(
                    "{} {}",
                    String::from_utf8_lossy(m),
                    String::from_utf8_lossy(p)
                ),
            );
        }
    }
}

/// `get_http2_message_len`: the preface, or a frame's header and payload.
fn frame_len(b: &[u8]) -> usize {
    if b.starts_with(MAGIC) {
        return MAGIC.len();
    }
    match b.get(..3) {
        Some(&[a, b, c]) => {
            (usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c)).saturating_add(HEADER_LEN)
        }
        _ => HEADER_LEN,
    }
}

fn be32(b: &[u8]) -> u32 {
    match b {
        &[a, b, c, d, ..] => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    }
}

impl Http2 {
    /// One frame (possibly cut short).
    fn frame(&self, cx: &mut Cx<'_>, pdu: &[u8], conn: u32, dir: u8, off: usize) {
        let f = &self.f;
        cx.t.push_proto(f.http2, pdu);
        let Some(&[l0, l1, l2, typ, flags]) = pdu.get(..5) else {
            return;
        };
        let len = u64::from(l0) << 16 | u64::from(l1) << 8 | u64::from(l2);
        cx.t.push_u(f.length, len);
        cx.t.push_u(f.typ, typ);
        cx.t.push_u(f.flags, flags);
        let Some(sid_raw) = pdu.get(5..9) else {
            return;
        };
        let sid = be32(sid_raw) & 0x7fff_ffff;
        cx.t.push_u(f.streamid, sid);
        // Every frame names itself (`HEADERS[1]`); a body handed to DNS
        // below may take the columns over, the next frame takes the
        // Protocol column back.
        if let Some(c) = cx.cols() {
            c.set_protocol("HTTP2");
            match value_name(TYPES, u64::from(typ)) {
                Some(name) => c.append_info_sep(", ", name),
                None => c.append_info_sep(", ", &format!("Unknown type ({typ})")),
            }
            c.append_info_fmt(format_args!("[{sid}]"));
        }
        let mut payload = pdu.get(HEADER_LEN..).unwrap_or_default();
        // Padding (DATA, HEADERS, PUSH_PROMISE).
        if flags & FLAG_PADDED != 0 && matches!(typ, 0 | 1 | 5) {
            let pad = usize::from(payload.first().copied().unwrap_or(0));
            let body = payload.get(1..).unwrap_or_default();
            payload = body
                .get(..body.len().saturating_sub(pad))
                .unwrap_or_default();
        }
        let last = flags & FLAG_END_HEADERS != 0;
        match typ {
            0 => self.data(cx, payload, conn, dir, sid, flags),
            1 => {
                if flags & FLAG_PRIORITY != 0 {
                    payload = payload.get(5..).unwrap_or_default();
                }
                self.headers(cx, payload, conn, dir, sid, off, last);
            }
            // HPACK state advances once, on the first pass only.
            4 if !self
                .seen
                .borrow()
                .contains_key(&(cx.frame.number, sid, off)) =>
            {
                if let Some(c) = self.conns.borrow_mut().get_mut(&conn) {
                    c.settings(usize::from(dir & 1), flags, payload);
                }
                self.remember(cx.frame.number, sid, off, Vec::new());
            }
            5 => {
                // The promised stream id precedes the block.
                let block = payload.get(4..).unwrap_or_default();
                self.headers(cx, block, conn, dir, sid, off, last);
            }
            9 => self.headers(cx, payload, conn, dir, sid, off, last),
            _ => {}
        }
    }

    /// Records what a frame did to the HPACK state, for later passes.
    fn remember(&self, frame: u32, sid: u32, off: usize, list: Vec<hpack::Header>) {
        let mut seen = self.seen.borrow_mut();
        if seen.len() >= MAX_CONNS * 16 {
            seen.clear();
        }
        seen.insert((frame, sid, off), list);
    }

    #[allow(clippy::too_many_arguments)]
    fn headers(
        &self,
        cx: &mut Cx<'_>,
        block: &[u8],
        conn: u32,
        dir: u8,
        sid: u32,
        off: usize,
        last: bool,
    ) {
        let f = &self.f;
        let key = (cx.frame.number, sid, off);
        let cached = self.seen.borrow().get(&key).cloned();
        let list = match cached {
            Some(l) => l,
            None => {
                let mut conns = self.conns.borrow_mut();
                let Some(c) = conns.get_mut(&conn) else {
                    return;
                };
                let d = usize::from(dir & 1);
                let Some(dec) = c.decoders.get_mut(d) else {
                    return;
                };
                if let Some(first) = c.first_block.get_mut(d) {
                    if std::mem::take(first) {
                        dec.fill_unknown();
                    }
                }
                // What was decoded before an error or a cap is shown, as
                // tshark does; an error poisons the decoder for the rest
                // of the connection, as libnghttp2's does.
                let list = dec.decode(block, last).headers;
                self.remember(cx.frame.number, sid, off, list.clone());
                if let Some((_, ct)) = list.iter().find(|(n, _)| n.as_slice() == b"content-type") {
                    if c.streams.len() >= MAX_STREAMS {
                        c.streams.clear();
                    }
                    c.streams.entry((sid, dir)).or_default().content_type = Some(ct.clone());
                }
                list
            }
        };
        if let Some(c) = cx.cols() {
            info_headers(c, &list);
        }
        for (n, v) in &list {
            cx.t.push_str(f.header_name, n);
            cx.t.push_str(f.header_value, v);
            match n.as_slice() {
                b":path" => cx.t.push_str(f.headers_path, v),
                b":method" => cx.t.push_str(f.headers_method, v),
                b"content-type" => cx.t.push_str(f.headers_content_type, v),
                _ => {}
            }
        }
    }

    fn data(&self, cx: &mut Cx<'_>, payload: &[u8], conn: u32, dir: u8, sid: u32, flags: u8) {
        let f = &self.f;
        if !payload.is_empty() {
            cx.t.push_bytes(f.data, payload);
        }
        let body = {
            let mut conns = self.conns.borrow_mut();
            let Some(c) = conns.get_mut(&conn) else {
                return;
            };
            if c.streams.len() >= MAX_STREAMS {
                c.streams.clear();
            }
            let s = c.streams.entry((sid, dir)).or_default();
            if s.body.len().saturating_add(payload.len()) <= MAX_BODY {
                s.body.extend_from_slice(payload);
            }
            if flags & FLAG_END_STREAM == 0 {
                return;
            }
            let body = std::mem::take(&mut s.body);
            let ct = s.content_type.clone();
            match ct {
                Some(ct) => (ct, body),
                None => return,
            }
        };
        let (ct, body) = body;
        let base = ct.split(|&c| c == b';').next().unwrap_or_default();
        let base = base.trim_ascii();
        if base.eq_ignore_ascii_case(b"application/dns-message") && !body.is_empty() {
            // `dissect_dns_doh`: one bare message, no TCP length prefix.
            let tcp = cx.tcp.take();
            cx.call_by_name("dns_doh", &body);
            cx.tcp = tcp;
        }
    }
}
