//! `--export-credentials FILE.csv`: every credential seen in clear text,
//! one RFC 4180 row each, written when the capture ends.
//!
//! Columns: `frame,time,protocol,client,server,username,secret,accepted`.
//! - `frame`: the frame carrying the secret (FTP `PASS`, the HTTP request
//!   with `Authorization: Basic` or `Proxy-Authorization: Basic`).
//! - `time`: that frame's absolute time in seconds since the Unix epoch,
//!   with nanoseconds (as `frame.time_epoch` prints it).
//! - `protocol`: `FTP` or `HTTP`; NTLM rows name the carrier and the
//!   hashcat format, e.g. `SMB2 NTLMv2` (see [`super::ntlm`]).
//! - `client`, `server`: `address:port` (`[address]:port` for IPv6); the
//!   client is the side that sent the secret.
//! - `username`, `secret`: FTP's `USER` (the last one on the control
//!   connection before `PASS`) and `PASS` arguments; HTTP's decoded basic
//!   credentials split at their first colon.
//! - `accepted`: `yes`, `no` or `unknown`. FTP: the first 230 (or 202)
//!   reply after `PASS` is `yes`, a 530 is `no`. HTTP: the final response to
//!   the request (responses pair with requests in order on the connection;
//!   1xx are skipped): 2xx and 3xx are `yes`, 401, 403 and 407 are `no`.
//!   NTLM over SMB2: the SESSION_SETUP response to the AUTHENTICATE's
//!   request, success `yes`, an error `no`.
//!   Anything else, or no reply in the capture, is `unknown`.
//!
//! The tap reads only the field table (`ftp.*`, `http.*`, `tcp.*`, `ip.*`),
//! so it needs nothing from the dissectors beyond their fields. Rows are
//! small records ([`Record`]) kept until the end, since a verdict may come
//! after the row; their number and the state per connection are capped.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use crate::dissect::Frame;
use crate::fields::{FieldId, Registry};
use crate::format::{write_ipv6, write_signed_time};
use crate::table::{FieldTable, Value};

use super::{ntlm, Tap};

/// Rows kept; past this, credentials are not recorded.
const MAX_ROWS: usize = 1 << 18;
/// TCP streams with remembered state; past this, new streams are ignored.
const MAX_STREAMS: usize = 1 << 16;
/// HTTP requests waiting for a response on one connection.
const MAX_QUEUE: usize = 256;
/// Longest user name or secret kept, in bytes.
const MAX_VALUE: usize = 4096;

/// Whether the server took the credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Yes,
    No,
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Yes => "yes",
            Verdict::No => "no",
            Verdict::Unknown => "unknown",
        }
    }
}

/// One row of the CSV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub frame: u32,
    /// As `frame.time_epoch` prints it.
    pub time: String,
    pub protocol: &'static str,
    pub client: String,
    pub server: String,
    pub username: Vec<u8>,
    pub secret: Vec<u8>,
    pub accepted: Verdict,
}

/// Writes records as RFC 4180 CSV with a header row.
pub fn write_csv<W: Write>(out: W, records: &[Record]) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record([
        "frame", "time", "protocol", "client", "server", "username", "secret", "accepted",
    ])?;
    for r in records {
        w.write_record([
            r.frame.to_string().as_bytes(),
            r.time.as_bytes(),
            r.protocol.as_bytes(),
            r.client.as_bytes(),
            r.server.as_bytes(),
            &r.username,
            &r.secret,
            r.accepted.as_str().as_bytes(),
        ])?;
    }
    w.flush()
}

/// The fields the tap reads (those not registered are `None`).
struct Ids {
    ip_src: Option<FieldId>,
    ip_dst: Option<FieldId>,
    ipv6_src: Option<FieldId>,
    ipv6_dst: Option<FieldId>,
    srcport: Option<FieldId>,
    dstport: Option<FieldId>,
    stream: Option<FieldId>,
    ftp_command: Option<FieldId>,
    ftp_arg: Option<FieldId>,
    ftp_code: Option<FieldId>,
    http_method: Option<FieldId>,
    http_code: Option<FieldId>,
    http_basic: Option<FieldId>,
    ntlmssp: Option<FieldId>,
    smb2_protocol_id: Option<FieldId>,
    smb2_status: Option<FieldId>,
    smb2_cmd: Option<FieldId>,
    smb2_response: Option<FieldId>,
    smb2_msg_id: Option<FieldId>,
}

#[derive(Default)]
struct Stream {
    /// FTP: the last USER argument.
    user: Option<Vec<u8>>,
    /// FTP: the row of the last PASS, until a verdict.
    pass_row: Option<usize>,
    /// HTTP: one slot per request awaiting its response, with its row.
    requests: VecDeque<Option<usize>>,
    /// NTLMSSP: the last server challenge.
    ntlm_challenge: Option<[u8; 8]>,
    /// NTLMSSP over SMB2: (SESSION_SETUP request's message id, row) of
    /// AUTHENTICATE rows awaiting the response's status.
    ntlm_pending: VecDeque<(u64, usize)>,
}

/// The `--export-credentials` tap.
pub struct CredentialsCsv {
    ids: Ids,
    streams: HashMap<u32, Stream>,
    rows: Vec<Record>,
    /// Opened when the tap is made, so a bad path fails before the run.
    file: RefCell<Option<File>>,
}

impl CredentialsCsv {
    /// Creates (truncates) `path` at once.
    pub fn create(path: &Path, reg: &Registry) -> io::Result<Self> {
        let file = File::create(path)?;
        let l = |a: &str| reg.lookup(a);
        Ok(CredentialsCsv {
            ids: Ids {
                ip_src: l("ip.src"),
                ip_dst: l("ip.dst"),
                ipv6_src: l("ipv6.src"),
                ipv6_dst: l("ipv6.dst"),
                srcport: l("tcp.srcport"),
                dstport: l("tcp.dstport"),
                stream: l("tcp.stream"),
                ftp_command: l("ftp.request.command"),
                ftp_arg: l("ftp.request.arg"),
                ftp_code: l("ftp.response.code"),
                http_method: l("http.request.method"),
                http_code: l("http.response.code"),
                http_basic: l("http.authbasic"),
                ntlmssp: l("ntlmssp"),
                smb2_protocol_id: l("smb2.protocol_id"),
                smb2_status: l("smb2.nt_status"),
                smb2_cmd: l("smb2.cmd"),
                smb2_response: l("smb2.flags.response"),
                smb2_msg_id: l("smb2.msg_id"),
            },
            streams: HashMap::new(),
            rows: Vec::new(),
            file: RefCell::new(Some(file)),
        })
    }

    /// The rows so far.
    pub fn records(&self) -> &[Record] {
        &self.rows
    }

    fn stream(&mut self, id: u32) -> Option<&mut Stream> {
        if self.streams.len() >= MAX_STREAMS && !self.streams.contains_key(&id) {
            return None;
        }
        Some(self.streams.entry(id).or_default())
    }

    fn add_row(&mut self, r: Record) -> Option<usize> {
        if self.rows.len() >= MAX_ROWS {
            return None;
        }
        self.rows.push(r);
        Some(self.rows.len() - 1)
    }

    fn set_verdict(&mut self, row: usize, v: Verdict) {
        if let Some(r) = self.rows.get_mut(row) {
            r.accepted = v;
        }
    }

    fn ftp(&mut self, frame: &Frame, t: &FieldTable, sid: u32, ends: &(String, String)) {
        let ids = &self.ids;
        let command = ids
            .ftp_command
            .and_then(|f| str_of(t, f))
            .map(<[u8]>::to_vec);
        let arg = ids
            .ftp_arg
            .and_then(|f| str_of(t, f))
            .map(capped)
            .unwrap_or_default();
        let code = ids.ftp_code.and_then(|f| uint_of(t, f));
        if let Some(cmd) = command {
            if cmd.eq_ignore_ascii_case(b"USER") {
                if let Some(s) = self.stream(sid) {
                    s.user = Some(arg);
                }
            } else if cmd.eq_ignore_ascii_case(b"PASS") {
                let user = self
                    .streams
                    .get(&sid)
                    .and_then(|s| s.user.clone())
                    .unwrap_or_default();
                let row = self.add_row(Record {
                    frame: frame.number,
                    time: epoch(frame),
                    protocol: "FTP",
                    client: ends.0.clone(),
                    server: ends.1.clone(),
                    username: user,
                    secret: arg,
                    accepted: Verdict::Unknown,
                });
                if let Some(s) = self.stream(sid) {
                    s.pass_row = row;
                }
            }
        }
        let verdict = match code {
            Some(230 | 202) => Verdict::Yes,
            Some(530) => Verdict::No,
            _ => return,
        };
        if let Some(row) = self.streams.get_mut(&sid).and_then(|s| s.pass_row.take()) {
            self.set_verdict(row, verdict);
        }
    }

    fn http(&mut self, frame: &Frame, t: &FieldTable, sid: u32, ends: &(String, String)) {
        let ids = &self.ids;
        let (method, code, basic) = (ids.http_method, ids.http_code, ids.http_basic);
        // Tree order pairs each Authorization with its request when one
        // frame carries several.
        for e in t.entries() {
            if Some(e.field) == method {
                if let Some(s) = self.stream(sid) {
                    if s.requests.len() >= MAX_QUEUE {
                        s.requests.pop_front();
                    }
                    s.requests.push_back(None);
                }
            } else if Some(e.field) == basic {
                let Value::Str(span) = e.value else { continue };
                let dec = t.bytes(span);
                let (user, secret) = match dec.iter().position(|&c| c == b':') {
                    Some(i) => (dec.get(..i), dec.get(i + 1..)),
                    None => (Some(dec), None),
                };
                let row = self.add_row(Record {
                    frame: frame.number,
                    time: epoch(frame),
                    protocol: "HTTP",
                    client: ends.0.clone(),
                    server: ends.1.clone(),
                    username: capped(user.unwrap_or_default()),
                    secret: capped(secret.unwrap_or_default()),
                    accepted: Verdict::Unknown,
                });
                if let Some(slot) = self.stream(sid).and_then(|s| s.requests.back_mut()) {
                    if slot.is_none() {
                        *slot = row;
                    }
                }
            } else if Some(e.field) == code {
                let Value::U(c) = e.value else { continue };
                if (100..200).contains(&c) {
                    continue;
                }
                let slot = self
                    .streams
                    .get_mut(&sid)
                    .and_then(|s| s.requests.pop_front())
                    .flatten();
                if let Some(row) = slot {
                    let v = match c {
                        200..=399 => Verdict::Yes,
                        401 | 403 | 407 => Verdict::No,
                        _ => Verdict::Unknown,
                    };
                    self.set_verdict(row, v);
                }
            }
        }
    }

    /// NTLMSSP: a CHALLENGE's server challenge is kept per TCP stream; an
    /// AUTHENTICATE after it becomes a row whose secret is the hashcat line
    /// (see [`ntlm`]). Over SMB2 the SESSION_SETUP response with the
    /// request's message id gives the verdict.
    fn ntlm(&mut self, frame: &Frame, t: &FieldTable, sid: u32, ends: &(String, String)) {
        let ids = &self.ids;
        let (ntlmssp, pid, status_f, cmd_f, resp_f, mid_f) = (
            ids.ntlmssp,
            ids.smb2_protocol_id,
            ids.smb2_status,
            ids.smb2_cmd,
            ids.smb2_response,
            ids.smb2_msg_id,
        );
        // The SMB2 header being walked (tree order: status, command, flags,
        // message id, then the body with its security blob).
        let (mut status, mut cmd, mut resp, mut request_id) = (None, None, false, None);
        for e in t.entries() {
            let f = Some(e.field);
            if f == pid {
                (status, cmd, resp, request_id) = (None, None, false, None);
            } else if f == status_f && status.is_none() {
                if let Value::U(v) = e.value {
                    status = Some(v);
                }
            } else if f == cmd_f {
                if let Value::U(v) = e.value {
                    cmd = Some(v);
                }
            } else if f == resp_f {
                if let Value::Bool(b) = e.value {
                    resp = b;
                }
            } else if f == mid_f {
                let Value::U(id) = e.value else { continue };
                if !resp {
                    request_id = Some(id);
                } else if cmd == Some(SMB2_SESSION_SETUP) {
                    self.ntlm_verdict(sid, id, status.unwrap_or(0));
                }
            } else if f == ntlmssp {
                let Value::Proto { bytes, .. } = e.value else {
                    continue;
                };
                let m = t.bytes(bytes);
                match ntlm::message_type(m) {
                    Some(2) => {
                        let chal = ntlm::challenge(m);
                        if let Some(s) = self.stream(sid) {
                            s.ntlm_challenge = chal;
                        }
                    }
                    Some(3) => {
                        let chal = self.streams.get(&sid).and_then(|s| s.ntlm_challenge);
                        let (Some(chal), Some(a)) = (chal, ntlm::authenticate(m)) else {
                            continue;
                        };
                        let Some((kind, line)) = ntlm::hashcat(&a, &chal) else {
                            continue;
                        };
                        let row = self.add_row(Record {
                            frame: frame.number,
                            time: epoch(frame),
                            protocol: ntlm_protocol(t.layers(), kind),
                            client: ends.0.clone(),
                            server: ends.1.clone(),
                            username: a.user,
                            secret: line,
                            accepted: Verdict::Unknown,
                        });
                        if let (Some(row), Some(id), Some(s)) = (row, request_id, self.stream(sid))
                        {
                            if s.ntlm_pending.len() >= MAX_QUEUE {
                                s.ntlm_pending.pop_front();
                            }
                            s.ntlm_pending.push_back((id, row));
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// A SESSION_SETUP response: success is `yes`, an error `no`; more
    /// processing required, pending and other non-errors leave the row
    /// waiting for the final response.
    fn ntlm_verdict(&mut self, sid: u32, msg_id: u64, status: u64) {
        let v = match status {
            0 => Verdict::Yes,
            STATUS_MORE_PROCESSING_REQUIRED => return,
            s if s >> 30 == 3 => Verdict::No,
            _ => return,
        };
        let Some(s) = self.streams.get_mut(&sid) else {
            return;
        };
        let Some(i) = s.ntlm_pending.iter().position(|&(id, _)| id == msg_id) else {
            return;
        };
        if let Some((_, row)) = s.ntlm_pending.remove(i) {
            self.set_verdict(row, v);
        }
    }
}

/// SMB2 SESSION_SETUP command code.
const SMB2_SESSION_SETUP: u64 = 1;
/// The status of a SESSION_SETUP response that asks for another leg.
const STATUS_MORE_PROCESSING_REQUIRED: u64 = 0xc000_0016;

/// The `protocol` column of an NTLM row: the carrier and the hashcat
/// format, e.g. `SMB2 NTLMv2`.
fn ntlm_protocol(layers: &[&str], kind: ntlm::Kind) -> &'static str {
    const CARRIERS: [(&str, &str, &str); 4] = [
        ("smb2", "SMB2 NTLMv1", "SMB2 NTLMv2"),
        ("smb", "SMB NTLMv1", "SMB NTLMv2"),
        ("dcerpc", "DCERPC NTLMv1", "DCERPC NTLMv2"),
        ("http", "HTTP NTLMv1", "HTTP NTLMv2"),
    ];
    for (layer, v1, v2) in CARRIERS {
        if layers.contains(&layer) {
            return match kind {
                ntlm::Kind::V1 => v1,
                ntlm::Kind::V2 => v2,
            };
        }
    }
    kind.as_str()
}

impl Tap for CredentialsCsv {
    fn fields(&self) -> Vec<FieldId> {
        let i = &self.ids;
        [
            i.ip_src,
            i.ip_dst,
            i.ipv6_src,
            i.ipv6_dst,
            i.srcport,
            i.dstport,
            i.stream,
            i.ftp_command,
            i.ftp_arg,
            i.ftp_code,
            i.http_method,
            i.http_code,
            i.http_basic,
            i.ntlmssp,
            i.smb2_protocol_id,
            i.smb2_status,
            i.smb2_cmd,
            i.smb2_response,
            i.smb2_msg_id,
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn frame(&mut self, frame: &Frame, t: &FieldTable) {
        let Some(sid) = self.ids.stream.and_then(|f| uint_of(t, f)) else {
            return;
        };
        let Ok(sid) = u32::try_from(sid) else { return };
        let layers = t.layers();
        let is_ftp = layers.contains(&"ftp");
        let is_http = layers.contains(&"http");
        let is_ntlm = self.ids.ntlmssp.is_some_and(|f| t.has(f));
        let is_smb2 = layers.contains(&"smb2");
        if !is_ftp && !is_http && !is_ntlm && !is_smb2 {
            return;
        }
        let ends = endpoints(&self.ids, t);
        if is_ftp {
            self.ftp(frame, t, sid, &ends);
        }
        if is_http {
            self.http(frame, t, sid, &ends);
        }
        if is_ntlm || is_smb2 {
            self.ntlm(frame, t, sid, &ends);
        }
    }

    /// Writes the file; prints nothing.
    fn draw(&self, _out: &mut dyn Write) -> io::Result<()> {
        let Some(file) = self.file.borrow_mut().take() else {
            return Ok(());
        };
        write_csv(io::BufWriter::new(file), &self.rows)
    }
}

fn capped(b: &[u8]) -> Vec<u8> {
    b.get(..MAX_VALUE).unwrap_or(b).to_vec()
}

fn str_of(t: &FieldTable, f: FieldId) -> Option<&[u8]> {
    match t.first(f)? {
        Value::Str(s) => Some(t.bytes(*s)),
        _ => None,
    }
}

fn uint_of(t: &FieldTable, f: FieldId) -> Option<u64> {
    match t.first(f)? {
        Value::U(v) => Some(*v),
        _ => None,
    }
}

fn epoch(frame: &Frame) -> String {
    let mut s = String::new();
    write_signed_time(&mut s, frame.ts.secs, frame.ts.nanos);
    s
}

/// `(source, destination)` as `addr:port`, from the innermost IP header.
fn endpoints(ids: &Ids, t: &FieldTable) -> (String, String) {
    let port = |f: Option<FieldId>| f.and_then(|f| uint_of(t, f)).unwrap_or(0);
    let (sp, dp) = (port(ids.srcport), port(ids.dstport));
    let addr = |v4: Option<FieldId>, v6: Option<FieldId>| -> String {
        // The last IP header before TCP is the innermost one; IPv4 and
        // IPv6 fields both present (a tunnel) are told apart by order.
        let mut last: Option<&Value> = None;
        for e in t.entries() {
            if Some(e.field) == v4 || Some(e.field) == v6 {
                last = Some(&e.value);
            }
        }
        match last {
            Some(Value::Ipv4(a)) => format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]),
            Some(Value::Ipv6(a)) => {
                let mut s = String::from("[");
                write_ipv6(&mut s, a);
                s.push(']');
                s
            }
            _ => String::new(),
        }
    };
    (
        format!("{}:{sp}", addr(ids.ip_src, ids.ipv6_src)),
        format!("{}:{dp}", addr(ids.ip_dst, ids.ipv6_dst)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_as_rfc_4180() {
        let r = Record {
            frame: 7,
            time: "1.500000000".into(),
            protocol: "FTP",
            client: "10.0.0.1:40000".into(),
            server: "10.0.0.2:21".into(),
            username: b"a,b".to_vec(),
            secret: b"p\"q\r\nr".to_vec(),
            accepted: Verdict::No,
        };
        let mut out = Vec::new();
        write_csv(&mut out, &[r]).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "frame,time,protocol,client,server,username,secret,accepted\r\n\
             7,1.500000000,FTP,10.0.0.1:40000,10.0.0.2:21,\"a,b\",\"p\"\"q\r\nr\",no\r\n"
        );
    }
}
