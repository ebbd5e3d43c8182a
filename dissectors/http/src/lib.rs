//! HTTP/1.x over TCP, as tshark 4.0 dissects it with its default
//! preferences: headers and bodies reassembled (Content-Length, chunked, or
//! until the connection closes), bodies dechunked and decompressed into
//! `http.file_data`, requests and responses paired per TCP stream, and every
//! body published to the export-objects tap.
//!
//! Depends on the engine only (never on another dissector crate); reaches
//! it through [`protocol`], its plug-in.

#![forbid(unsafe_code)]

mod body;
mod credentials;

pub use credentials::HttpCredentials;

use dorsal_engine::hash::HashMap;
use dorsal_engine::protocol::Protocol;
use dorsal_engine::taps::credentials_csv::CredentialSource;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use dorsal_engine::dissect::{Address, Cx, Dissector, Dissectors, Outcome};
use dorsal_engine::fields;
use dorsal_engine::flow::UNTIL_FIN;
use dorsal_engine::table::{Timestamp, Value};
use dorsal_engine::taps::{ExportObject, SharedSink};

fields! {
    pub struct HttpFields {
        http: "http", "Hypertext Transfer Protocol", Protocol, None;
        ssdp: "ssdp", "Simple Service Discovery Protocol", Protocol, None, short "SSDP";
        response: "http.response", "Response", Bool, None;
        request: "http.request", "Request", Bool, None;
        notification: "http.notification", "Notification", Bool, None;
        response_line: "http.response.line", "Response line", String, None;
        request_line: "http.request.line", "Request line", String, None;
        request_method: "http.request.method", "Request Method", String, None;
        request_uri: "http.request.uri", "Request URI", String, None;
        request_path: "http.request.uri.path", "Request URI Path", String, None;
        request_query: "http.request.uri.query", "Request URI Query", String, None;
        request_query_parameter: "http.request.uri.query.parameter", "Request URI Query Parameter", String, None;
        request_version: "http.request.version", "Request Version", String, None;
        response_version: "http.response.version", "Response Version", String, None;
        request_full_uri: "http.request.full_uri", "Full request URI", String, None;
        response_code: "http.response.code", "Status Code", U16, Dec;
        response_code_desc: "http.response.code.desc", "Status Code Description", String, None;
        response_phrase: "http.response.phrase", "Response Phrase", String, None;
        authorization: "http.authorization", "Authorization", String, None;
        proxy_authenticate: "http.proxy_authenticate", "Proxy-Authenticate", String, None;
        proxy_authorization: "http.proxy_authorization", "Proxy-Authorization", String, None;
        proxy_connect_host: "http.proxy_connect_host", "Proxy-Connect-Hostname", String, None;
        proxy_connect_port: "http.proxy_connect_port", "Proxy-Connect-Port", U16, Dec;
        www_authenticate: "http.www_authenticate", "WWW-Authenticate", String, None;
        content_type: "http.content_type", "Content-Type", String, None;
        content_length_header: "http.content_length_header", "Content-Length", String, None;
        content_length: "http.content_length", "Content length", U64, Dec;
        content_encoding: "http.content_encoding", "Content-Encoding", String, None;
        transfer_encoding: "http.transfer_encoding", "Transfer-Encoding", String, None;
        upgrade: "http.upgrade", "Upgrade", String, None;
        user_agent: "http.user_agent", "User-Agent", String, None;
        host: "http.host", "Host", String, None;
        connection: "http.connection", "Connection", String, None;
        cookie: "http.cookie", "Cookie", String, None;
        cookie_pair: "http.cookie_pair", "Cookie pair", String, None;
        accept: "http.accept", "Accept", String, None;
        referer: "http.referer", "Referer", String, None;
        accept_language: "http.accept_language", "Accept-Language", String, None;
        accept_encoding: "http.accept_encoding", "Accept-Encoding", String, None;
        date: "http.date", "Date", String, None;
        cache_control: "http.cache_control", "Cache-Control", String, None;
        server: "http.server", "Server", String, None;
        location: "http.location", "Location", String, None;
        sec_websocket_accept: "http.sec_websocket_accept", "Sec-WebSocket-Accept", String, None;
        sec_websocket_extensions: "http.sec_websocket_extensions", "Sec-WebSocket-Extensions", String, None;
        sec_websocket_key: "http.sec_websocket_key", "Sec-WebSocket-Key", String, None;
        sec_websocket_protocol: "http.sec_websocket_protocol", "Sec-WebSocket-Protocol", String, None;
        sec_websocket_version: "http.sec_websocket_version", "Sec-WebSocket-Version", String, None;
        set_cookie: "http.set_cookie", "Set-Cookie", String, None;
        last_modified: "http.last_modified", "Last-Modified", String, None;
        x_forwarded_for: "http.x_forwarded_for", "X-Forwarded-For", String, None;
        http2_settings: "http.http2_settings", "HTTP2-Settings", String, None;
        unknown_header: "http.unknown_header", "Unknown header", String, None;
        authbasic: "http.authbasic", "Credentials", String, None;
        request_number: "http.request_number", "Request number", U32, Dec;
        response_number: "http.response_number", "Response number", U32, Dec;
        request_in: "http.request_in", "Request in frame", FrameNum, None;
        response_in: "http.response_in", "Response in frame", FrameNum, None;
        prev_request_in: "http.prev_request_in", "Prev request in frame", FrameNum, None;
        prev_response_in: "http.prev_response_in", "Prev response in frame", FrameNum, None;
        next_request_in: "http.next_request_in", "Next request in frame", FrameNum, None;
        next_response_in: "http.next_response_in", "Next response in frame", FrameNum, None;
        time: "http.time", "Time since request", RelTime, None;
        response_for_uri: "http.response_for.uri", "Request URI", String, None;
        file_data: "http.file_data", "File Data", String, None;
        leading_crlf: "http.leading_crlf", "Leading CRLF", None, None;
        chunked_trailer_part: "http.chunked_trailer_part", "trailer-part", String, None;
    }
}

/// tshark's default `http.tcp.port` range.
pub const TCP_PORTS: &[u16] = &[80, 3128, 3132, 5985, 8080, 8088, 11371, 1900, 2869, 2710];

/// Streams whose HTTP state is remembered; past it the table starts over.
const MAX_CONVS: usize = 1 << 18;
/// Pipelined messages dissected in one PDU.
const MAX_MESSAGES: usize = 1 << 14;
/// Header lines read per message.
const MAX_LINES: usize = 1 << 14;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Request,
    Response,
    Notification,
    Others,
}

#[derive(Clone, Copy, Default)]
struct ReqRes {
    number: u32,
    req_frame: u32,
    res_frame: u32,
    req_ts: Option<Timestamp>,
}

#[derive(Default)]
struct Conv {
    request_method: Option<Vec<u8>>,
    request_uri: Option<Vec<u8>>,
    http_host: Option<Vec<u8>>,
    full_uri: Option<Vec<u8>>,
    response_code: u32,
    /// The last two request/response pairs (current and previous).
    pairs: VecDeque<ReqRes>,
    pairs_num: u32,
    /// Claimed by the heuristic: later payloads are HTTP too.
    heur: bool,
    /// Claimed by HTTP/2's heuristic (the connection preface): every
    /// payload goes to `http2` (`dissect_http_tcp`).
    http2: bool,
    /// Where the chunk scan of a partial message stopped, by direction and
    /// first sequence number (Wireshark's `chunk_offsets_fwd/rev`).
    chunk_resume: HashMap<(u8, u32), usize>,
    /// Where the stream stops being HTTP (Wireshark's `startframe`,
    /// `startoffset`): after a 101 Switching Protocols, or at the first
    /// frame of a CONNECT tunnel.
    start_frame: u32,
    start_offset: usize,
    /// The proxied server's end of the tunnel (`server_addr`, `server_port`).
    server: Option<(Address, u16)>,
}

pub struct Http {
    f: HttpFields,
    /// HTTP, or SSDP (HTTP over UDP, tshark's http.* fields under its own
    /// protocol).
    names: Names,
    /// Boxed: the table keeps one entry per HTTP connection for the whole
    /// capture, and its empty slots then cost a pointer, not a whole `Conv`.
    convs: RefCell<HashMap<ConvKey, Box<Conv>>>,
    eo: Option<SharedSink>,
}

/// What a message is shown as: its layer, protocol item and column.
#[derive(Clone, Copy)]
struct Names {
    layer: &'static str,
    proto: dorsal_engine::fields::FieldId,
    col: &'static str,
}

/// Registers the HTTP fields.
pub fn register_fields(reg: &mut dorsal_engine::fields::Registry) -> HttpFields {
    HttpFields::register(reg)
}

/// HTTP state is per TCP stream and port pair: bytes tunnelled through a
/// CONNECT come back with the tunnel's port in place of the proxy's and
/// start a conversation of their own, as Wireshark's port-keyed
/// conversations do.
type ConvKey = (u32, u16, u16);

fn conv_key(cx: &Cx<'_>) -> ConvKey {
    let stream = cx.tcp.map_or(u32::MAX, |t| t.stream);
    let (a, b) = (cx.srcport, cx.dstport);
    (stream, a.min(b), a.max(b))
}

dorsal_engine::plugin!(register_fields);

impl Protocol for HttpFields {
    /// Creates the dissector and attaches it to `tcp.port` and `tcp.heur`;
    /// `eo` receives exported objects.
    fn register_dissectors(&self, ds: &mut Dissectors, eo: Option<SharedSink>) {
        let f = self;
        let http = Rc::new(Http {
            f: *f,
            names: Names {
                layer: "http",
                proto: f.http,
                col: "HTTP",
            },
            convs: RefCell::new(HashMap::default()),
            eo,
        });
        let id = ds.register("http", http.clone());
        ds.watch_stream_ends(id);
        for &p in TCP_PORTS {
            ds.add("tcp.port", u32::from(p), id);
        }
        // SSDP (HTTP over UDP): tshark's fields are the http.* ones.
        let ssdp = Rc::new(Http {
            f: *f,
            names: Names {
                layer: "ssdp",
                proto: f.ssdp,
                col: "SSDP",
            },
            convs: RefCell::new(HashMap::default()),
            eo: None,
        });
        let ssdp = ds.register("ssdp", ssdp);
        ds.add("udp.port", 1900, ssdp);
        let h = ds.register("http.heur", Rc::new(HttpHeur(http)));
        ds.add_heuristic("tcp.heur", h);
    }

    fn credential_sources(&self) -> Vec<Box<dyn CredentialSource>> {
        vec![Box::new(HttpCredentials::new(self))]
    }

    fn export_types(&self) -> &'static [&'static str] {
        &["http"]
    }
}

/// `dissect_http_heur_tcp`: a first line that starts or ends with `HTTP/1.`.
struct HttpHeur(Rc<Http>);

impl Dissector for HttpHeur {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        if cx.tcp.is_none() {
            return Outcome::Rejected;
        }
        let claimed = self
            .0
            .convs
            .borrow()
            .get(&conv_key(cx))
            .is_some_and(|c| c.heur);
        if !claimed {
            let Some((linelen, _)) = body::line_end(data, 0, true) else {
                return Outcome::Rejected;
            };
            if linelen == 8 {
                return Outcome::Rejected;
            }
            let line = data.get(..linelen).unwrap_or_default();
            let starts = line.len() >= 7
                && line
                    .get(..7)
                    .is_some_and(|s| s.eq_ignore_ascii_case(b"HTTP/1."));
            let ends = linelen >= 8
                && line
                    .get(linelen - 8..linelen - 1)
                    .is_some_and(|s| s.eq_ignore_ascii_case(b"HTTP/1."));
            if !starts && !ends {
                return Outcome::Rejected;
            }
            let mut convs = self.0.convs.borrow_mut();
            if convs.len() >= MAX_CONVS {
                convs.clear();
            }
            convs.entry(conv_key(cx)).or_default().heur = true;
        }
        self.0.dissect(cx, data)
    }
}

/// The headers of one message that later steps need.
#[derive(Default)]
struct Headers {
    content_type: Option<Vec<u8>>,
    content_length: Option<u64>,
    content_encoding: Option<Vec<u8>>,
    chunked: bool,
    /// A transfer coding other than chunked or identity.
    te_other: bool,
    te_present: bool,
    /// An `Upgrade` header was present.
    upgrade: bool,
}

/// The result of one message.
enum Msg {
    Consumed(usize),
    Stop,
    NeedMore(usize, Option<usize>),
}

fn is_token_char(c: u8) -> bool {
    c > 0x20 && c < 0x7f && !b"()<>@,;:\\\"/[]?={}".contains(&c)
}

/// `is_http_request_or_reply`: the kind of a first line, and the method.
fn classify(line: &[u8]) -> Option<(Kind, &[u8])> {
    let data = if line.starts_with(b"M-") {
        line.get(2..).unwrap_or_default()
    } else {
        line
    };
    if data.starts_with(b"HTTP/") || data.starts_with(b"ICY") {
        return Some((Kind::Response, &[]));
    }
    let end = data.iter().position(|&c| c == b' ').unwrap_or(data.len());
    let method = data.get(..end).unwrap_or_default();
    const REQUESTS: &[&[u8]] = &[
        b"GET",
        b"PUT",
        b"COPY",
        b"HEAD",
        b"LOCK",
        b"MOVE",
        b"POLL",
        b"POST",
        b"BCOPY",
        b"BMOVE",
        b"MKCOL",
        b"TRACE",
        b"PATCH",
        b"LABEL",
        b"MERGE",
        b"DELETE",
        b"SEARCH",
        b"UNLOCK",
        b"REPORT",
        b"UPDATE",
        b"BDELETE",
        b"CONNECT",
        b"OPTIONS",
        b"CHECKIN",
        b"PROPFIND",
        b"CHECKOUT",
        b"CCM_POST",
        b"BPROPFIND",
        b"PROPPATCH",
        b"BPROPPATCH",
        b"UNCHECKOUT",
        b"MKACTIVITY",
        b"MKWORKSPACE",
        b"RPC_CONNECT",
        b"RPC_IN_DATA",
        b"RPC_OUT_DATA",
        b"VERSION-CONTROL",
        b"BASELINE-CONTROL",
        b"SSTP_DUPLEX_POST",
    ];
    const NOTIFICATIONS: &[&[u8]] = &[b"NOTIFY", b"SUBSCRIBE", b"UNSUBSCRIBE"];
    if REQUESTS.contains(&method) {
        Some((Kind::Request, method))
    } else if NOTIFICATIONS.contains(&method) {
        Some((Kind::Notification, method))
    } else {
        None
    }
}

/// `get_token_len`: the token up to a blank, and where the next starts.
fn token(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(|&c| c == b' ') {
        Some(i) => {
            let tok = line.get(..i).unwrap_or_default();
            let mut rest = line.get(i..).unwrap_or_default();
            while let Some((b' ', r)) = rest.split_first() {
                rest = r;
            }
            (tok, rest)
        }
        None => (line, &[]),
    }
}

fn status_code(line: &[u8]) -> u32 {
    let (v, rest) = token(line);
    if v.is_empty() {
        return 0;
    }
    let (code, _) = token(rest);
    if code.len() != 3 {
        return 0;
    }
    std::str::from_utf8(code)
        .ok()
        .and_then(|s| s.parse::<i32>().ok())
        .map_or(0, |c| c.max(0) as u32)
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    s.get(start..end.max(start)).unwrap_or_default()
}

/// `ws_strtoi32` over the whole string.
fn strict_i32(s: &[u8]) -> Option<i32> {
    std::str::from_utf8(s).ok()?.parse::<i32>().ok()
}

/// `g_ascii_strtoll` with only blanks allowed after the number.
fn content_length_value(v: &[u8]) -> Option<u64> {
    let mut i = v.iter().take_while(|c| c.is_ascii_whitespace()).count();
    let neg = match v.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = v
        .get(i..)?
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let num = std::str::from_utf8(v.get(i..i + digits)?)
        .ok()?
        .parse::<i64>()
        .ok()?;
    if let Some(&c) = v.get(i + digits) {
        if !c.is_ascii_whitespace() {
            return None;
        }
    }
    if neg && num != 0 {
        return None;
    }
    u64::try_from(num).ok()
}

/// `req_resp_hdrs_do_reassembly`: whether the message at `offset` is
/// complete, or how much more it needs.
fn needs_more(
    data: &[u8],
    offset: usize,
    can_desegment: bool,
    desegment_body: bool,
    until_fin: bool,
    chunk_resume: &mut Option<usize>,
) -> Option<(usize, Option<usize>)> {
    let mut next = offset;
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    if can_desegment {
        let mut lines = 0usize;
        loop {
            lines += 1;
            if next >= data.len() || lines > MAX_LINES {
                return Some((offset, None));
            }
            let start = next;
            let Some((linelen, after)) = body::line_end(data, next, true) else {
                return Some((offset, None));
            };
            next = after;
            if linelen == 0 {
                break;
            }
            if !desegment_body {
                continue;
            }
            let line = data.get(start..start + linelen).unwrap_or_default();
            let has = |p: &[u8]| {
                line.len() >= p.len()
                    && line
                        .get(..p.len())
                        .is_some_and(|h| h.eq_ignore_ascii_case(p))
            };
            if has(b"Content-Length:") {
                if let Some(v) = strict_i32(trim(line.get(15..).unwrap_or_default())) {
                    if v >= 0 {
                        content_length = Some(v as usize);
                    }
                }
            } else if has(b"Transfer-Encoding:") {
                let v = line.get(18..).unwrap_or_default();
                let skip = v.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
                let v = v.get(skip..).unwrap_or_default();
                if v.len() >= 7
                    && v.get(..7)
                        .is_some_and(|p| p.eq_ignore_ascii_case(b"chunked"))
                {
                    chunked = true;
                }
            }
        }
    }
    if !desegment_body {
        return None;
    }
    if chunked {
        if let Some(r) = *chunk_resume {
            if r > 0 {
                next = offset.saturating_add(r).max(next);
            }
        }
        for _ in 0..(1usize << 24) {
            if next >= data.len() {
                *chunk_resume = Some(next - offset);
                return Some((offset, None));
            }
            let Some((linelen, chunk_offset)) = body::line_end(data, next, true) else {
                *chunk_resume = Some(next - offset);
                return Some((offset, None));
            };
            let mut line = data.get(next..next + linelen).unwrap_or_default();
            if let Some(semi) = line.iter().position(|&c| c == b';') {
                line = line.get(..semi).unwrap_or_default();
            }
            let size = body::scan_hex(line)?;
            if size > 1 << 31 {
                return None;
            }
            if size == 0 {
                if body::line_end(data, chunk_offset, true).is_none() {
                    *chunk_resume = Some(next - offset);
                    return Some((offset, None));
                }
                *chunk_resume = None;
                return None;
            }
            let remaining = data.len() - next;
            if remaining as u64 > size {
                *chunk_resume = Some(next - offset);
                next = chunk_offset.saturating_add(size as usize).saturating_add(2);
            } else {
                *chunk_resume = Some(next - offset);
                return Some((offset, None));
            }
        }
        return None;
    }
    if let Some(cl) = content_length {
        let have = data.len().saturating_sub(next);
        if have < cl {
            return Some((offset, Some(cl - have)));
        }
        return None;
    }
    if until_fin && can_desegment {
        return Some((offset, Some(UNTIL_FIN)));
    }
    None
}

/// The protocol name of the dissector tshark's `media_type` table gives.
fn media_layer(ct: &[u8]) -> &'static str {
    let ct = std::str::from_utf8(ct).unwrap_or("");
    match ct {
        "text/plain"
        | "text/richtext"
        | "text/enriched"
        | "text/parameters"
        | "text/html"
        | "text/xml-external-parsed-entity"
        | "text/css"
        | "application/xml-external-parsed-entity"
        | "text/javascript"
        | "application/x-javascript"
        | "application/x-ns-proxy-autoconfig"
        | "text/vnd.sun.j2me.app-descriptor" => "data-text-lines",
        "application/json"
        | "application/senml+json"
        | "application/sensml+json"
        | "application/json-rpc"
        | "application/jsonrequest"
        | "application/dds-web+json"
        | "application/vnd.oma.lwm2m+json"
        | "application/problem+json"
        | "application/merge-patch+json"
        | "application/json-patch+json"
        | "application/x-ndjson" => "json",
        "image/png" => "png",
        "application/octet-stream" => "data",
        "image/jfif" | "image/jpg" | "image/jpeg" => "image-jfif",
        "image/gif" => "image-gif",
        "application/x-www-form-urlencoded" => "urlencoded-form",
        "application/ocsp-request" | "application/ocsp-response" => "ocsp",
        "text/xml" | "application/xml" | "text/vnd.wap.wml" | "application/smil" => "xml",
        _ if ct.starts_with("multipart/") => "mime_multipart",
        _ if ct.ends_with("+xml") && ct.starts_with("application/") => "xml",
        _ => "media",
    }
}

/// A message that is not one (bytes after a message, or a body whose start
/// was not seen) on a connection known to carry HTTP: `Continuation`.
fn continuation(cx: &mut Cx<'_>, col: &'static str) {
    if let Some(c) = cx.cols() {
        if !c.protocol().starts_with(col) {
            c.set_protocol(col);
            c.clear_info();
        }
        c.append_info("Continuation");
    }
}

/// What the dissector of a body's media type adds to the columns: the
/// type in parentheses (text, JSON, forms and the generic media
/// dissector), the image dissectors' names when the bytes are theirs, a
/// protocol column of `HTTP/JSON` or `HTTP/XML`.
fn media_columns(c: &mut dorsal_engine::columns::Columns, ct: &[u8], body: &[u8]) {
    let named = |c: &mut dorsal_engine::columns::Columns| {
        c.append_info_fmt(format_args!(" ({})", String::from_utf8_lossy(ct)));
    };
    match media_layer(ct) {
        "data-text-lines" | "media" | "urlencoded-form" => named(c),
        "json" => {
            c.set_protocol("HTTP/JSON");
            named(c);
        }
        "xml" => c.set_protocol("HTTP/XML"),
        "png" if body.starts_with(b"\x89PNG\r\n\x1a\n") => c.append_info(" (PNG)"),
        "image-gif" if body.starts_with(b"GIF87a") || body.starts_with(b"GIF89a") => {
            c.append_info_fmt(format_args!(
                " ({})",
                String::from_utf8_lossy(body.get(..6).unwrap_or_default())
            ));
        }
        "image-jfif" if body.starts_with(&[0xff, 0xd8]) => c.append_info(" (JPEG JFIF image)"),
        "png" | "image-gif" | "image-jfif" => named(c),
        _ => {}
    }
}

/// `http_parse_transfer_coding`: whether `chunked` is named, and whether the
/// other coding is one tshark hands to `data` (compress, deflate, gzip).
/// Names are matched as case-sensitive prefixes of the C string, as there.
fn transfer_coding(value: &[u8]) -> (bool, bool) {
    let end = value.iter().position(|&c| c == 0).unwrap_or(value.len());
    let mut v = value.get(..end).unwrap_or_default();
    let mut chunked = false;
    // None: the header is there but names nothing known yet.
    let mut coding: Option<bool> = None;
    for _ in 0..MAX_LINES {
        let skip = v
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t' || c == b',')
            .count();
        v = v.get(skip..).unwrap_or_default();
        if v.is_empty() {
            break;
        }
        if v.starts_with(b"chunked") {
            chunked = true;
            v = v.get(7..).unwrap_or_default();
            continue;
        }
        if coding.is_some() {
            break;
        }
        const NAMES: &[(&[u8], bool)] = &[
            (b"compress", true),
            (b"deflate", true),
            (b"gzip", true),
            (b"identity", false),
            (b"x-compress", true),
            (b"x-gzip", true),
        ];
        match NAMES.iter().find(|(n, _)| v.starts_with(n)) {
            Some((n, data)) => {
                coding = Some(*data);
                v = v.get(n.len()..).unwrap_or_default();
            }
            None => match v.iter().position(|&c| c == b',') {
                Some(i) => v = v.get(i..).unwrap_or_default(),
                None => break,
            },
        }
    }
    (chunked, coding == Some(true))
}

/// `strtol(s, NULL, 10)` cast to a port: leading blanks, a sign, digits.
fn strtol_u16(s: &[u8]) -> u16 {
    let mut it = s.iter().skip_while(|c| c.is_ascii_whitespace()).peekable();
    let neg = match it.peek() {
        Some(b'-') => {
            it.next();
            true
        }
        Some(b'+') => {
            it.next();
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    for &c in it.take_while(|c| c.is_ascii_digit()).take(20) {
        v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    let v = if neg { v.wrapping_neg() } else { v };
    u16::try_from(v & 0xffff).unwrap_or(0)
}

/// `g_path_get_basename`.
fn basename(p: &[u8]) -> Vec<u8> {
    if p.is_empty() {
        return b".".to_vec();
    }
    let trimmed_len = p.iter().rposition(|&c| c != b'/').map(|i| i + 1);
    let Some(end) = trimmed_len else {
        return b"/".to_vec();
    };
    let s = p.get(..end).unwrap_or(p);
    let start = s.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
    s.get(start..).unwrap_or(s).to_vec()
}

impl Dissector for Http {
    /// A closed connection's state goes: a capture of many short
    /// connections would otherwise hold every one of them to its end.
    fn stream_ended(&self, t: &dorsal_engine::events::Transport) {
        let key = (t.stream, t.srcport.min(t.dstport), t.srcport.max(t.dstport));
        if let Ok(mut convs) = self.convs.try_borrow_mut() {
            convs.remove(&key);
        }
    }

    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let Some(tcp) = cx.tcp else {
            // Not over TCP: dissect what is there, without reassembly.
            let key = conv_key(cx);
            return self.on_stream(cx, data, key, 0, false);
        };
        let key = conv_key(cx);
        if self.http2_claims(key, data) {
            if data.starts_with(HTTP2_PREFACE) {
                // tshark's HTTP export lists the connection preface itself
                // as an object of the frame that carries it.
                self.export_preface(cx.frame.number);
            }
            if let Some(out) = cx.call_by_name("http2.via_http", data) {
                return out;
            }
        }
        if let Some(uri) = self.connect_tunnel(cx, key) {
            return self.payload_subdissector(cx, data, &uri);
        }
        self.on_stream(cx, data, key, tcp.direction, tcp.can_desegment)
    }
}

/// The HTTP/2 connection preface (RFC 9113, section 3.4).
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

impl Http {
    fn export_preface(&self, frame: u32) {
        let Some(eo) = &self.eo else { return };
        if let Ok(mut sink) = eo.try_borrow_mut() {
            sink.object(
                "http",
                &ExportObject {
                    frame,
                    hostname: None,
                    content_type: None,
                    filename: None,
                    data: HTTP2_PREFACE,
                },
            );
        }
    }

    /// `dissect_http2_heur` on the `http` heuristic list: a conversation
    /// whose payload starts with the HTTP/2 connection preface is HTTP/2
    /// from then on, in both directions.
    fn http2_claims(&self, key: ConvKey, data: &[u8]) -> bool {
        let mut convs = self.convs.borrow_mut();
        if convs.get(&key).is_some_and(|c| c.http2) {
            return true;
        }
        // Not when the stream was upgraded from HTTP/1 (`startframe`).
        let upgraded = convs.get(&key).is_some_and(|c| c.start_frame != 0);
        if upgraded || !data.starts_with(HTTP2_PREFACE) {
            return false;
        }
        if convs.len() >= MAX_CONVS {
            convs.clear();
        }
        convs.entry(key).or_default().http2 = true;
        true
    }

    /// `dissect_http_tcp`: once a CONNECT got its 200, the stream is a
    /// tunnel; returns the CONNECT's URI (`host:port`).
    fn connect_tunnel(&self, cx: &Cx<'_>, key: ConvKey) -> Option<Vec<u8>> {
        let mut convs = self.convs.borrow_mut();
        let conv = convs.get_mut(&key)?;
        let frame = cx.frame.number;
        let is_connect = conv
            .request_method
            .as_deref()
            .is_some_and(|m| m.starts_with(b"CONNECT"));
        if frame < conv.start_frame || conv.response_code != 200 || !is_connect {
            return None;
        }
        let uri = conv.request_uri.clone()?;
        if conv.start_frame == 0 {
            conv.start_frame = frame;
            conv.start_offset = 0;
            conv.server = Some((cx.dst, cx.dstport));
        }
        Some(uri)
    }

    /// `http_payload_subdissector`: the tunnelled bytes go to the dissector
    /// of the CONNECT's port, as TCP would choose it with that port in place
    /// of the proxy's.
    fn payload_subdissector(&self, cx: &mut Cx<'_>, data: &[u8], uri: &[u8]) -> Outcome {
        let f = &self.f;
        cx.t.add_layer("http");
        let Some(colon) = uri.iter().position(|&c| c == b':') else {
            return Outcome::Done(data.len());
        };
        let host = uri.get(..colon).unwrap_or_default();
        let port_s = uri.get(colon + 1..).unwrap_or_default();
        let port = strtol_u16(port_s);
        cx.t.push_proto(f.http, data);
        cx.t.push_str(f.proxy_connect_host, host);
        cx.t.push_u(f.proxy_connect_port, u64::from(port));
        let server = self
            .convs
            .borrow()
            .get(&conv_key(cx))
            .and_then(|c| c.server);
        let from_server = server == Some((cx.src, cx.srcport));
        let saved = (cx.srcport, cx.dstport);
        if from_server {
            cx.srcport = port;
        } else {
            cx.dstport = port;
        }
        // The tunnel's port is HTTP's, or the heuristic already took the
        // tunnelled conversation: data, lest HTTP call itself for ever.
        let inner_is_http = self
            .convs
            .borrow()
            .get(&conv_key(cx))
            .is_some_and(|c| c.heur);
        if TCP_PORTS.contains(&port) || inner_is_http {
            (cx.srcport, cx.dstport) = saved;
            cx.call_by_name("data", data);
            return Outcome::Done(data.len());
        }
        let (low, high) = if cx.srcport > cx.dstport {
            (cx.dstport, cx.srcport)
        } else {
            (cx.srcport, cx.dstport)
        };
        let table = cx.table("tcp.port");
        let mut out = None;
        for p in [low, high] {
            if p == 0 {
                continue;
            }
            cx.set_next_reported(data.len());
            match cx.call_table(table, u32::from(p), data) {
                Some(Outcome::Rejected) | None => {}
                Some(o) => {
                    out = Some(o);
                    break;
                }
            }
        }
        if out.is_none() {
            let heur = cx.table("tcp.heur");
            out = cx.try_heuristics(heur, data);
        }
        (cx.srcport, cx.dstport) = saved;
        match out {
            Some(o) => o,
            None => {
                cx.call_by_name("data", data);
                Outcome::Done(data.len())
            }
        }
    }

    /// Whether the stream switched protocols before `offset` of this frame.
    fn switched(&self, frame: u32, key: ConvKey, offset: usize) -> bool {
        self.convs.borrow().get(&key).is_some_and(|c| {
            c.start_frame != 0
                && (frame > c.start_frame || (frame == c.start_frame && offset >= c.start_offset))
        })
    }

    fn on_stream(
        &self,
        cx: &mut Cx<'_>,
        data: &[u8],
        key: ConvKey,
        dir: u8,
        can_deseg: bool,
    ) -> Outcome {
        let seq = cx.tcp.map(|t| t.seq);
        let mut offset = 0usize;
        let mut layered = false;
        for _ in 0..MAX_MESSAGES {
            if offset >= data.len() {
                break;
            }
            if self.switched(cx.frame.number, key, offset) {
                // The protocol switched after a 101 response: the rest is
                // not HTTP (no dissector of ours takes the upgrade).
                let rest = data.get(offset..).unwrap_or_default();
                cx.call_by_name("data", rest);
                break;
            }
            match self.message(cx, data, offset, key, dir, can_deseg, seq, &mut layered) {
                Msg::Consumed(0) | Msg::Stop => break,
                Msg::Consumed(n) => {
                    offset = offset.saturating_add(n);
                    // Later messages of the segment add their lines after
                    // this one's (dissect_http_tcp's fence).
                    if let Some(c) = cx.cols() {
                        c.fence_info();
                    }
                }
                Msg::NeedMore(off, more) => {
                    return Outcome::NeedMore { offset: off, more };
                }
            }
        }
        Outcome::Done(data.len())
    }

    #[allow(clippy::too_many_arguments)]
    fn message(
        &self,
        cx: &mut Cx<'_>,
        data: &[u8],
        orig_offset: usize,
        key: ConvKey,
        dir: u8,
        can_deseg: bool,
        seq: Option<u32>,
        layered: &mut bool,
    ) -> Msg {
        let f = &self.f;
        let mut convs = self.convs.borrow_mut();
        if convs.len() >= MAX_CONVS && !convs.contains_key(&key) {
            convs.clear();
        }
        let conv = convs.entry(key).or_default();
        let mut offset = orig_offset;
        let remaining = data.len() - orig_offset.min(data.len());
        if remaining < 1 {
            return Msg::Stop;
        }
        let mut leading_crlf = false;
        if remaining > 3 && data.get(offset..offset + 2) == Some(b"\r\n") {
            leading_crlf = true;
            offset += 2;
        }
        let have_seen_http = conv.request_uri.is_some();
        let first = data.get(offset).copied().unwrap_or(0);
        if !(0x20..=0x7e).contains(&first) {
            if have_seen_http {
                continuation(cx, self.names.col);
                drop(convs);
                http_item(cx, layered, self.names.layer);
                cx.t.push_proto(self.names.proto, data.get(offset..).unwrap_or_default());
                data_in_http(cx, data.get(orig_offset..).unwrap_or_default());
            }
            return Msg::Stop;
        }
        let key_seq = seq.map(|s| (dir, s));
        let mut resume = key_seq.and_then(|k| conv.chunk_resume.get(&k).copied());
        let first_line = body::line_end(data, offset, true);
        let mut is_req_resp = false;
        match first_line {
            None => {
                if let Some((o, m)) = needs_more(data, offset, can_deseg, true, false, &mut resume)
                {
                    return Msg::NeedMore(o, m);
                }
            }
            Some((linelen, _)) => {
                let line = data.get(offset..offset + linelen).unwrap_or_default();
                if let Some((k, _)) = classify(line) {
                    is_req_resp = true;
                    // tshark shows the first line before it asks TCP for
                    // the rest of the message.
                    if let Some(c) = cx.cols() {
                        c.set_protocol(self.names.col);
                        c.set_info(&dorsal_engine::text::display(line));
                        c.append_info(" ");
                    }
                    let mut try_body = true;
                    if k == Kind::Response {
                        let code = status_code(line);
                        let m = conv.request_method.as_deref();
                        if m == Some(b"HEAD")
                            || (code / 100 == 2
                                && matches!(m, Some(b"CONNECT") | Some(b"SSTP_DUPLEX_POST")))
                            || code / 100 == 1
                            || code == 204
                            || code == 304
                        {
                            try_body = false;
                        }
                    }
                    if let Some((o, m)) = needs_more(
                        data,
                        offset,
                        can_deseg,
                        try_body,
                        k == Kind::Response,
                        &mut resume,
                    ) {
                        if let (Some(k), Some(r)) = (key_seq, resume) {
                            if conv.chunk_resume.len() < 4096 {
                                conv.chunk_resume.insert(k, r);
                            }
                        }
                        return Msg::NeedMore(o, m);
                    }
                }
            }
        }
        if let Some(k) = key_seq {
            conv.chunk_resume.remove(&k);
        }

        // From here on the message is dissected.
        let mut proto_entry: Option<Option<usize>> = None;
        let names = self.names;
        let open = |cx: &mut Cx<'_>, pe: &mut Option<Option<usize>>, layered: &mut bool| {
            if pe.is_none() {
                http_item(cx, layered, names.layer);
                *pe =
                    Some(cx.t.push_proto(names.proto, data.get(orig_offset..).unwrap_or_default()));
                if leading_crlf {
                    cx.t.push(f.leading_crlf, Value::None);
                }
            }
        };
        if is_req_resp || have_seen_http {
            open(cx, &mut proto_entry, layered);
        }
        if !is_req_resp && have_seen_http {
            continuation(cx, self.names.col);
        }
        let mut headers = Headers::default();
        let mut req_host: Option<Vec<u8>> = None;
        let mut req_uri: Option<Vec<u8>> = None;
        let mut response_code = 0u32;
        let mut kind = Kind::Others;
        let mut lines = 0usize;
        while offset < data.len() && lines < MAX_LINES {
            lines += 1;
            let Some((linelen, next)) = body::line_end(data, offset, false) else {
                break;
            };
            let line = data.get(offset..offset + linelen).unwrap_or_default();
            let full = data.get(offset..next).unwrap_or_default();
            let rr = classify(line);
            let colon = if rr.is_none() && linelen > 0 {
                line.iter().position(|&c| c == b':')
            } else {
                None
            };
            if rr.is_none() && linelen > 0 && colon.is_none() {
                break;
            }
            open(cx, &mut proto_entry, layered);
            if linelen == 0 {
                offset = next;
                break;
            }
            if let Some((k, method)) = rr {
                kind = k;
                if k == Kind::Response {
                    self.response_line(cx, line, conv, &mut response_code);
                } else {
                    conv.request_method = Some(method.to_vec());
                    self.request_line(cx, line, conv, &mut req_uri);
                }
            } else if let Some(c) = colon {
                self.header(cx, line, full, c, kind, &mut headers, conv, &mut req_host);
            }
            offset = next;
        }
        if let (Some(h), Some(u)) = (&req_host, &req_uri) {
            let scheme = |p: &[u8]| u.get(..p.len()).is_some_and(|s| s.eq_ignore_ascii_case(p));
            let absolute = scheme(b"http://")
                || scheme(b"https://")
                || conv.request_method.as_deref().is_some_and(|m| {
                    m.len() >= 7
                        && m.get(..7)
                            .is_some_and(|p| p.eq_ignore_ascii_case(b"CONNECT"))
                });
            let uri = if absolute {
                u.clone()
            } else {
                let mut s = b"http://".to_vec();
                s.extend_from_slice(trim(h));
                s.extend_from_slice(u);
                s
            };
            cx.t.push_str(f.request_full_uri, &uri);
            conv.full_uri = Some(uri);
        }
        // Pair requests and responses.
        let frame = cx.frame.number;
        let ts = cx.frame.ts;
        let (curr, prev) = match kind {
            Kind::Request => {
                conv.pairs_num = conv.pairs_num.saturating_add(1);
                // At most three at a time: room for exactly that, not the
                // four a first push reserves, in every connection's state.
                if conv.pairs.capacity() == 0 {
                    conv.pairs.reserve_exact(3);
                }
                conv.pairs.push_back(ReqRes {
                    number: conv.pairs_num,
                    req_frame: frame,
                    res_frame: 0,
                    req_ts: Some(ts),
                });
                while conv.pairs.len() > 2 {
                    conv.pairs.pop_front();
                }
                (
                    conv.pairs.back().copied(),
                    conv.pairs
                        .len()
                        .checked_sub(2)
                        .and_then(|i| conv.pairs.get(i))
                        .copied(),
                )
            }
            Kind::Response => {
                let need_new = conv.pairs.back().is_none_or(|p| p.res_frame > 0);
                if need_new {
                    conv.pairs_num = conv.pairs_num.saturating_add(1);
                    conv.pairs.push_back(ReqRes {
                        number: conv.pairs_num,
                        ..ReqRes::default()
                    });
                    while conv.pairs.len() > 2 {
                        conv.pairs.pop_front();
                    }
                }
                if let Some(p) = conv.pairs.back_mut() {
                    p.res_frame = frame;
                }
                (
                    conv.pairs.back().copied(),
                    conv.pairs
                        .len()
                        .checked_sub(2)
                        .and_then(|i| conv.pairs.get(i))
                        .copied(),
                )
            }
            _ => (None, None),
        };
        match kind {
            Kind::Notification => cx.t.push_bool(f.notification, true),
            Kind::Response => {
                cx.t.push_bool(f.response, true);
                if let Some(c) = curr {
                    cx.t.push_u(f.response_number, c.number);
                    if let Some(t) = c.req_ts {
                        cx.t.push(f.time, Value::RelTime(ts.nanos_since(t)));
                    }
                }
                if let Some(p) = prev {
                    if p.req_frame != 0 {
                        cx.t.push_u(f.prev_request_in, p.req_frame);
                    }
                    if p.res_frame != 0 {
                        cx.t.push_u(f.prev_response_in, p.res_frame);
                    }
                }
                if let Some(c) = curr {
                    if c.req_frame != 0 {
                        cx.t.push_u(f.request_in, c.req_frame);
                        cx.notes.set(c.req_frame, f.response_in, u64::from(frame));
                    }
                }
                if let Some(u) = conv.full_uri.as_ref().or(conv.request_uri.as_ref()) {
                    cx.t.push_str(f.response_for_uri, u);
                }
            }
            Kind::Request => {
                cx.t.push_bool(f.request, true);
                if let Some(c) = curr {
                    cx.t.push_u(f.request_number, c.number);
                }
                if let Some(p) = prev {
                    if p.req_frame != 0 {
                        cx.t.push_u(f.prev_request_in, p.req_frame);
                        cx.notes
                            .set(p.req_frame, f.next_request_in, u64::from(frame));
                    }
                }
                if cx.frame.visited {
                    if let Some(r) = cx.notes.get(frame, f.response_in) {
                        cx.t.push_u(f.response_in, r);
                    }
                    if let Some(r) = cx.notes.get(frame, f.next_request_in) {
                        cx.t.push_u(f.next_request_in, r);
                    }
                }
            }
            Kind::Others => {}
        }

        // The body.
        let rest = data.len().saturating_sub(offset);
        let mut datalen = rest;
        match (headers.content_length, headers.te_present) {
            (Some(cl), false) => datalen = datalen.min(usize::try_from(cl).unwrap_or(usize::MAX)),
            _ => match kind {
                Kind::Request if !headers.te_present => datalen = 0,
                Kind::Response
                    if response_code / 100 == 1 || response_code == 204 || response_code == 304 =>
                {
                    datalen = 0
                }
                _ => {}
            },
        }
        // What an exported object is named after; nothing to copy when no
        // object is exported.
        let (eo_host, eo_name) = if self.eo.is_some() {
            (
                conv.http_host.clone(),
                conv.request_uri.as_deref().map(basename),
            )
        } else {
            (None, None)
        };
        drop(convs);
        if datalen > 0 {
            let raw = data.get(offset..offset + datalen).unwrap_or_default();
            let mut consumed = datalen;
            let mut owned: Option<Vec<u8>> = None;
            let mut ok = true;
            if headers.chunked {
                let (d, n) = body::dechunk(raw);
                if n == 0 {
                    ok = false;
                } else {
                    consumed = n;
                    owned = Some(d);
                }
            }
            if ok && headers.te_other {
                data_in_http(cx, raw);
                ok = false;
            }
            if ok {
                if let Some(enc) = headers.content_encoding.as_deref() {
                    if !enc.eq_ignore_ascii_case(b"identity") {
                        let lower = enc.to_ascii_lowercase();
                        let src = owned.as_deref().unwrap_or(raw);
                        let dec = match lower.as_slice() {
                            b"gzip" | b"deflate" | b"x-gzip" | b"x-deflate" => {
                                // Only the columns read the body: its first bytes do.
                                let cap = if self.eo.is_none() && cx.t.wants_none() {
                                    body::PREFIX
                                } else {
                                    body::MAX_DECODED
                                };
                                body::inflate(src, cap)
                            }
                            b"br" => body::unbrotli(src),
                            _ => None,
                        };
                        match dec {
                            Some(d) => owned = Some(d),
                            None => {
                                data_in_http(cx, src);
                                ok = false;
                            }
                        }
                    }
                }
            }
            if ok {
                let bytes = owned.as_deref().unwrap_or(raw);
                if let Some(eo) = &self.eo {
                    if let Ok(mut sink) = eo.try_borrow_mut() {
                        sink.object(
                            "http",
                            &ExportObject {
                                frame: cx.frame.number,
                                hostname: eo_host.as_deref(),
                                content_type: headers.content_type.as_deref(),
                                filename: eo_name.as_deref(),
                                data: bytes,
                            },
                        );
                    }
                }
                if cx.t.wants(f.file_data) {
                    cx.t.push_str(f.file_data, &body::ascii_string(bytes));
                }
                if !bytes.is_empty() {
                    // What the media dissectors add to the columns.
                    if let (Some(ct), Some(c)) = (headers.content_type.as_deref(), cx.cols()) {
                        media_columns(c, ct, bytes);
                    }
                    match headers.content_type.as_deref() {
                        Some(ct) => match media_layer(ct) {
                            "data" => {
                                cx.call_by_name("data", bytes);
                            }
                            layer => cx.t.add_layer(layer),
                        },
                        None => {
                            data_in_http(cx, bytes);
                        }
                    }
                }
            }
            offset = offset.saturating_add(consumed);
        }
        // An upgrade the server accepted: what follows is another protocol.
        if kind == Kind::Response && headers.upgrade && response_code == 101 && key.0 != u32::MAX {
            let mut convs = self.convs.borrow_mut();
            if let Some(c) = convs.get_mut(&key) {
                if c.request_method.is_some() {
                    c.start_frame = cx.frame.number;
                    c.start_offset = offset;
                    c.server = Some((cx.src, cx.srcport));
                }
            }
        }
        Msg::Consumed(offset.saturating_sub(orig_offset))
    }

    fn request_line(
        &self,
        cx: &mut Cx<'_>,
        line: &[u8],
        conv: &mut Conv,
        req_uri: &mut Option<Vec<u8>>,
    ) {
        let f = &self.f;
        let (method, mut rest) = token(line);
        if method.is_empty() {
            return;
        }
        cx.t.push_str(f.request_line_method(), method);
        // Two blanks after the method: the URI keeps one (Wireshark's quirk).
        let consumed = line.len() - rest.len();
        if consumed > method.len() + 1 {
            rest = line.get(consumed - 1..).unwrap_or(rest);
        }
        let (uri, rest) = token(rest);
        let uri_s = body::ascii_string(uri);
        conv.request_uri = Some(uri_s.clone());
        cx.t.push_str(f.request_uri, &uri_s);
        if let Some(q) = uri_s.iter().position(|&c| c == b'?') {
            let query = uri_s.get(q + 1..).unwrap_or_default();
            if !query.is_empty() {
                cx.t.push_str(f.request_path, uri_s.get(..q).unwrap_or_default());
                cx.t.push_str(f.request_query, query);
                for p in query.split(|&c| c == b'&').filter(|p| !p.is_empty()) {
                    cx.t.push_str(f.request_query_parameter, p);
                }
            }
        }
        *req_uri = Some(uri_s);
        cx.t.push_str(f.request_version, rest);
    }

    fn response_line(&self, cx: &mut Cx<'_>, line: &[u8], conv: &mut Conv, code_out: &mut u32) {
        let f = &self.f;
        let (version, rest) = token(line);
        if version.is_empty() {
            return;
        }
        cx.t.push_str(f.response_version, version);
        let (code_tok, _) = token(rest);
        if code_tok.len() < 3 {
            return;
        }
        let digits = rest.get(..3).unwrap_or_default();
        let n = digits
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'));
        conv.response_code = n;
        *code_out = n;
        cx.t.push_u(f.response_code, n);
        let after = rest.get(code_tok.len()..).unwrap_or_default();
        let mut phrase = after;
        while let Some((b' ', r)) = phrase.split_first() {
            phrase = r;
        }
        if !phrase.is_empty() {
            cx.t.push_str(f.response_phrase, phrase);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn header(
        &self,
        cx: &mut Cx<'_>,
        line: &[u8],
        full: &[u8],
        colon: usize,
        kind: Kind,
        h: &mut Headers,
        conv: &mut Conv,
        req_host: &mut Option<Vec<u8>>,
    ) {
        let f = &self.f;
        let name = line.get(..colon).unwrap_or_default();
        let line_field = match kind {
            Kind::Request => Some(f.request_line),
            Kind::Response => Some(f.response_line),
            _ => None,
        };
        if name.is_empty() || !name.iter().all(|&c| is_token_char(c)) {
            cx.t.push_str(line_field.unwrap_or(f.unknown_header), full);
            return;
        }
        let mut v = line.get(colon + 1..).unwrap_or_default();
        while let Some((&c, r)) = v.split_first() {
            if c == b' ' || c == b'\t' {
                v = r;
            } else {
                break;
            }
        }
        // Lowercased on the stack: a name longer than the buffer is none of
        // the names below.
        let mut lower = [0u8; 32];
        let lname: &[u8] = match lower.get_mut(..name.len()) {
            Some(buf) => {
                buf.copy_from_slice(name);
                buf.make_ascii_lowercase();
                buf
            }
            None => &[],
        };
        let field = match lname {
            b"authorization" => Some(f.authorization),
            b"proxy-authorization" => Some(f.proxy_authorization),
            b"proxy-authenticate" => Some(f.proxy_authenticate),
            b"www-authenticate" => Some(f.www_authenticate),
            b"content-type" => Some(f.content_type),
            b"content-length" => Some(f.content_length_header),
            b"content-encoding" => Some(f.content_encoding),
            b"transfer-encoding" => Some(f.transfer_encoding),
            b"upgrade" => Some(f.upgrade),
            b"user-agent" => Some(f.user_agent),
            b"host" => Some(f.host),
            b"connection" => Some(f.connection),
            b"cookie" => Some(f.cookie),
            b"accept" => Some(f.accept),
            b"referer" => Some(f.referer),
            b"accept-language" => Some(f.accept_language),
            b"accept-encoding" => Some(f.accept_encoding),
            b"date" => Some(f.date),
            b"cache-control" => Some(f.cache_control),
            b"server" => Some(f.server),
            b"location" => Some(f.location),
            b"sec-websocket-accept" => Some(f.sec_websocket_accept),
            b"sec-websocket-extensions" => Some(f.sec_websocket_extensions),
            b"sec-websocket-key" => Some(f.sec_websocket_key),
            b"sec-websocket-protocol" => Some(f.sec_websocket_protocol),
            b"sec-websocket-version" => Some(f.sec_websocket_version),
            b"set-cookie" => Some(f.set_cookie),
            b"last-modified" => Some(f.last_modified),
            b"x-forwarded-for" => Some(f.x_forwarded_for),
            b"http2-settings" => Some(f.http2_settings),
            _ => None,
        };
        let Some(field) = field else {
            match line_field {
                Some(lf) => cx.t.push_str(lf, full),
                None => cx.t.push_str(f.unknown_header, full),
            }
            return;
        };
        if cx.t.wants(field) {
            cx.t.push_str(field, &body::ascii_string(v));
        }
        if let Some(lf) = line_field {
            cx.t.push_str(lf, full);
        }
        // packet-http.c reads the value as a C string: a NUL ends it
        // (`Content-Encoding: gzip\0` is gzip).
        let v = v.split(|&c| c == 0).next().unwrap_or_default();
        match lname {
            b"authorization" | b"proxy-authorization"
                if !(v.starts_with(b"NTLM ") || v.starts_with(b"Negotiate ")) =>
            {
                if let Some(cred) = v.strip_prefix(b"Basic ") {
                    let cred_s: &[u8] = cred.split(|&c| c == 0).next().unwrap_or_default();
                    let dec = if cred_s.len() > 1 {
                        body::base64_lenient(cred_s)
                    } else {
                        cred_s.to_vec()
                    };
                    let end = dec.iter().position(|&c| c == 0).unwrap_or(dec.len());
                    let dec = dec.get(..end).unwrap_or_default();
                    cx.t.push_str(f.authbasic, dec);
                    // basic_auth_credentials: g_strsplit at ':' needs a
                    // second token; the user is the text before the colon.
                    if let Some(colon) = dec.iter().position(|&c| c == b':') {
                        credential(cx, "HTTP basic auth", dec.get(..colon).unwrap_or_default());
                    }
                } else if !(v.starts_with(b"CitrixAGBasic ")
                    || v.starts_with(b"Kerberos ")
                    || v.starts_with(b"Digest"))
                {
                    // Any other scheme: packet-http.c queues a credential
                    // whose user is TAP_CREDENTIALS_PLACEHOLDER.
                    credential(cx, "HTTP header auth", b"n.a.");
                }
            }
            b"content-type" => {
                let end = v
                    .iter()
                    .position(|&c| c == b';' || c.is_ascii_whitespace())
                    .unwrap_or(v.len());
                h.content_type = Some(v.get(..end).unwrap_or_default().to_ascii_lowercase());
            }
            b"content-length" => {
                h.content_length = content_length_value(v);
                if let Some(n) = h.content_length {
                    cx.t.push_u(f.content_length, n);
                }
            }
            b"content-encoding" => h.content_encoding = Some(v.to_vec()),
            b"upgrade" => h.upgrade = true,
            b"transfer-encoding" => {
                h.te_present = true;
                let (chunked, other) = transfer_coding(v);
                h.chunked |= chunked;
                h.te_other = other;
            }
            b"host" => {
                *req_host = Some(v.to_vec());
                conv.http_host = Some(v.to_vec());
            }
            b"cookie" => {
                for part in v.split(|&c| c == b';') {
                    let p = trim(part);
                    if !p.is_empty() {
                        cx.t.push_str(f.cookie_pair, p);
                    }
                }
            }
            _ => {}
        }
    }
}

impl HttpFields {
    fn request_line_method(&self) -> dorsal_engine::fields::FieldId {
        self.request_method
    }
}

/// The body as data: tshark hands HTTP's own subtree to the data
/// dissector, so `data` is no top-level tree item (`-z io,phs`).
fn data_in_http(cx: &mut Cx<'_>, bytes: &[u8]) {
    let outer = cx.t.nest(true);
    cx.call_by_name("data", bytes);
    cx.t.nest(outer);
}

/// The tree item of one HTTP message. Each message of a call gets its own
/// top-level item (`dissect_http_message` adds it to the caller's tree), but
/// frame.protocols lists `http` once per call, whatever the number of
/// messages.
fn http_item(cx: &mut Cx<'_>, layered: &mut bool, layer: &'static str) {
    if std::mem::replace(layered, true) {
        cx.t.add_tree_item(layer);
    } else {
        cx.t.add_layer(layer);
    }
}

/// Queues one row of `-z credentials` for this frame.
fn credential(cx: &mut Cx<'_>, proto: &'static str, user: &[u8]) {
    cx.t.add_credential(dorsal_engine::events::Credential {
        frame: cx.frame.number,
        proto,
        username: user.to_vec(),
        info: None,
    });
}
