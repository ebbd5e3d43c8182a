//! `--export-credentials FILE.csv`: every credential seen in clear text,
//! one RFC 4180 row each, written when the capture ends.
//!
//! Columns: `frame,time,protocol,client,server,username,secret,accepted`.
//! - `frame`: the frame carrying the secret (FTP `PASS`, the HTTP request
//!   with `Authorization: Basic` or `Proxy-Authorization: Basic`).
//! - `time`: that frame's absolute time in seconds since the Unix epoch,
//!   with nanoseconds (as `frame.time_epoch` prints it).
//! - `protocol`: `FTP`, `HTTP`, `POP3`, `IMAP` or `SMTP`; NTLM rows name the
//!   carrier and the hashcat format, e.g. `SMB2 NTLMv2` (see [`super::ntlm`]).
//! - `client`, `server`: `address:port` (`[address]:port` for IPv6); the
//!   client is the side that sent the secret.
//! - `username`, `secret`: FTP's `USER` (the last one on the control
//!   connection before `PASS`) and `PASS` arguments; HTTP's decoded basic
//!   credentials split at their first colon. POP3: `USER` and `PASS` (or
//!   `APOP`'s name and digest). IMAP: `LOGIN`'s two strings (unquoted), or
//!   `AUTHENTICATE PLAIN`'s base64 `authzid NUL user NUL password`, inline
//!   or on the next client line. SMTP: `AUTH LOGIN`'s base64 user and
//!   password lines, or `AUTH PLAIN`'s credentials, decoded.
//! - `accepted`: `yes`, `no` or `unknown`. FTP: the first 230 (or 202)
//!   reply after `PASS` is `yes`, a 530 is `no`. HTTP: the final response to
//!   the request (responses pair with requests in order on the connection;
//!   1xx are skipped): 2xx and 3xx are `yes`, 401, 403 and 407 are `no`.
//!   POP3: the next `+OK` is `yes`, `-ERR` is `no`. IMAP: the tagged reply
//!   to the command, `OK` is `yes`, `NO` or `BAD` is `no`. SMTP: the next
//!   235 is `yes`, a 4xx or 5xx reply is `no`.
//!   NTLM over SMB2: the SESSION_SETUP response to the AUTHENTICATE's
//!   request, success `yes`, an error `no`.
//!   Anything else, or no reply in the capture, is `unknown`.
//!
//! The tap reads only the field table (`ftp.*`, `http.*`, `pop.*`, `imap.*`,
//! `smtp.*`, `tcp.*`, `ip.*`),
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
    mail: MailIds,
}

/// The POP, IMAP and SMTP fields the tap reads.
struct MailIds {
    pop_command: Option<FieldId>,
    pop_parameter: Option<FieldId>,
    pop_indicator: Option<FieldId>,
    imap_request: Option<FieldId>,
    imap_response: Option<FieldId>,
    smtp_username: Option<FieldId>,
    smtp_password: Option<FieldId>,
    smtp_username_password: Option<FieldId>,
    smtp_code: Option<FieldId>,
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
    /// IMAP: the tag of the LOGIN or AUTHENTICATE awaiting its tagged
    /// reply, with its row (none yet while AUTHENTICATE PLAIN waits for
    /// the client's continuation line).
    imap_pending: Option<(Vec<u8>, Option<usize>)>,
    /// IMAP: AUTHENTICATE PLAIN sent without an initial response.
    imap_plain: bool,
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
                mail: MailIds {
                    pop_command: l("pop.request.command"),
                    pop_parameter: l("pop.request.parameter"),
                    pop_indicator: l("pop.response.indicator"),
                    imap_request: l("imap.request"),
                    imap_response: l("imap.response"),
                    smtp_username: l("smtp.auth.username"),
                    smtp_password: l("smtp.auth.password"),
                    smtp_username_password: l("smtp.auth.username_password"),
                    smtp_code: l("smtp.response.code"),
                },
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

/// POP3, IMAP and SMTP rows.
impl CredentialsCsv {
    fn mail_row(
        &mut self,
        frame: &Frame,
        protocol: &'static str,
        ends: &(String, String),
        user: &[u8],
        secret: &[u8],
    ) -> Option<usize> {
        self.add_row(Record {
            frame: frame.number,
            time: epoch(frame),
            protocol,
            client: ends.0.clone(),
            server: ends.1.clone(),
            username: capped(user),
            secret: capped(secret),
            accepted: Verdict::Unknown,
        })
    }

    /// USER then PASS (the last USER before it), or APOP's name and
    /// digest; the next `+OK` is `yes`, `-ERR` is `no`.
    fn pop(&mut self, frame: &Frame, t: &FieldTable, sid: u32, ends: &(String, String)) {
        let m = &self.ids.mail;
        let command = m.pop_command.and_then(|f| str_of(t, f)).map(<[u8]>::to_vec);
        let param = m
            .pop_parameter
            .and_then(|f| str_of(t, f))
            .map(capped)
            .unwrap_or_default();
        let indicator = m
            .pop_indicator
            .and_then(|f| str_of(t, f))
            .map(<[u8]>::to_vec);
        if let Some(cmd) = command {
            let row = if cmd.eq_ignore_ascii_case(b"USER") {
                if let Some(s) = self.stream(sid) {
                    s.user = Some(param);
                }
                return;
            } else if cmd.eq_ignore_ascii_case(b"PASS") {
                let user = self
                    .streams
                    .get(&sid)
                    .and_then(|s| s.user.clone())
                    .unwrap_or_default();
                self.mail_row(frame, "POP3", ends, &user, &param)
            } else if cmd.eq_ignore_ascii_case(b"APOP") {
                let (name, digest) = split_word(&param);
                self.mail_row(frame, "POP3", ends, name, digest)
            } else {
                return;
            };
            if let Some(s) = self.stream(sid) {
                s.pass_row = row;
            }
        } else if let Some(ind) = indicator {
            let v = match ind.as_slice() {
                b"+OK" => Verdict::Yes,
                b"-ERR" => Verdict::No,
                _ => return,
            };
            if let Some(row) = self.streams.get_mut(&sid).and_then(|s| s.pass_row.take()) {
                self.set_verdict(row, v);
            }
        }
    }

    /// `tag LOGIN user password` (IMAP strings unquoted) or `tag
    /// AUTHENTICATE PLAIN` with its base64 `authzid NUL user NUL password`
    /// (inline or on the next client line); the reply with the same tag
    /// decides: `OK` is `yes`, `NO` or `BAD` is `no`.
    fn imap(&mut self, frame: &Frame, t: &FieldTable, sid: u32, ends: &(String, String)) {
        let (req, rsp) = (self.ids.mail.imap_request, self.ids.mail.imap_response);
        let lines: Vec<(bool, Vec<u8>)> = t
            .entries()
            .iter()
            .filter_map(|e| match e.value {
                Value::Str(s) if Some(e.field) == req => Some((true, t.bytes(s).to_vec())),
                Value::Str(s) if Some(e.field) == rsp => Some((false, t.bytes(s).to_vec())),
                _ => None,
            })
            .collect();
        for (request, line) in lines {
            if !request {
                let (tag, rest) = split_word(&line);
                let (status, _) = split_word(rest);
                let v = if status.eq_ignore_ascii_case(b"OK") {
                    Verdict::Yes
                } else if status.eq_ignore_ascii_case(b"NO") || status.eq_ignore_ascii_case(b"BAD")
                {
                    Verdict::No
                } else {
                    continue;
                };
                let row = match self.streams.get_mut(&sid) {
                    Some(s)
                        if s.imap_pending
                            .as_ref()
                            .is_some_and(|(p, _)| p.eq_ignore_ascii_case(tag)) =>
                    {
                        s.imap_plain = false;
                        s.imap_pending.take().and_then(|(_, r)| r)
                    }
                    _ => None,
                };
                if let Some(row) = row {
                    self.set_verdict(row, v);
                }
                continue;
            }
            if self.streams.get(&sid).is_some_and(|s| s.imap_plain) {
                let (user, secret) = sasl_plain(&line);
                let row = self.mail_row(frame, "IMAP", ends, &user, &secret);
                if let Some(s) = self.stream(sid) {
                    s.imap_plain = false;
                    if let Some((_, slot)) = s.imap_pending.as_mut() {
                        *slot = row;
                    }
                }
                continue;
            }
            let (tag, rest) = split_word(&line);
            let (cmd, args) = split_word(rest);
            if cmd.eq_ignore_ascii_case(b"LOGIN") {
                let (user, rest) = imap_string(args);
                let (pass, _) = imap_string(rest);
                let row = self.mail_row(frame, "IMAP", ends, &user, &pass);
                if let Some(s) = self.stream(sid) {
                    s.imap_pending = Some((tag.to_vec(), row));
                }
            } else if cmd.eq_ignore_ascii_case(b"AUTHENTICATE") {
                let (mech, initial) = split_word(args);
                if !mech.eq_ignore_ascii_case(b"PLAIN") {
                    continue;
                }
                let row = if initial.is_empty() {
                    None
                } else {
                    let (user, secret) = sasl_plain(initial);
                    self.mail_row(frame, "IMAP", ends, &user, &secret)
                };
                if let Some(s) = self.stream(sid) {
                    s.imap_plain = row.is_none();
                    s.imap_pending = Some((tag.to_vec(), row));
                }
            }
        }
    }

    /// AUTH LOGIN (base64 user and password lines, decoded here) or AUTH
    /// PLAIN; 235 is `yes`, a 4xx or 5xx reply is `no`.
    fn smtp(&mut self, frame: &Frame, t: &FieldTable, sid: u32, ends: &(String, String)) {
        let m = &self.ids.mail;
        let user = m.smtp_username.and_then(|f| str_of(t, f)).map(b64_or_raw);
        let pass = m.smtp_password.and_then(|f| str_of(t, f)).map(b64_or_raw);
        let plain = m
            .smtp_username_password
            .and_then(|f| str_of(t, f))
            .map(sasl_plain);
        let code = m.smtp_code.and_then(|f| uint_of(t, f));
        if let Some(u) = user {
            if let Some(s) = self.stream(sid) {
                s.user = Some(u);
            }
        }
        let row = if let Some(p) = pass {
            let u = self
                .streams
                .get(&sid)
                .and_then(|s| s.user.clone())
                .unwrap_or_default();
            self.mail_row(frame, "SMTP", ends, &u, &p)
        } else if let Some((u, p)) = plain {
            self.mail_row(frame, "SMTP", ends, &u, &p)
        } else {
            None
        };
        if row.is_some() {
            if let Some(s) = self.stream(sid) {
                s.pass_row = row;
            }
        }
        let v = match code {
            Some(235) => Verdict::Yes,
            Some(400..=599) => Verdict::No,
            _ => return,
        };
        if let Some(row) = self.streams.get_mut(&sid).and_then(|s| s.pass_row.take()) {
            self.set_verdict(row, v);
        }
    }
}

/// The first space-separated word and the rest after its spaces.
fn split_word(s: &[u8]) -> (&[u8], &[u8]) {
    let end = s.iter().position(|&c| c == b' ').unwrap_or(s.len());
    let (w, rest) = s.split_at(end);
    let skip = rest.iter().take_while(|&&c| c == b' ').count();
    (w, rest.get(skip..).unwrap_or_default())
}

/// An IMAP astring: a quoted string (with `\\` and `\"` escapes) or an atom.
fn imap_string(s: &[u8]) -> (Vec<u8>, &[u8]) {
    let Some(body) = s.strip_prefix(b"\"") else {
        let (w, rest) = split_word(s);
        return (w.to_vec(), rest);
    };
    let mut out = Vec::new();
    let mut it = body.iter().enumerate();
    while let Some((i, &c)) = it.next() {
        match c {
            b'"' => {
                let rest = body.get(i + 1..).unwrap_or_default();
                let skip = rest.iter().take_while(|&&c| c == b' ').count();
                return (out, rest.get(skip..).unwrap_or_default());
            }
            b'\\' => {
                if let Some((_, &n)) = it.next() {
                    out.push(n);
                }
            }
            _ => out.push(c),
        }
    }
    (out, &[])
}

/// SASL PLAIN: base64 of `authzid NUL user NUL password`.
fn sasl_plain(b64: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let dec = base64(b64);
    let mut parts = dec.split(|&c| c == 0);
    let first = parts.next().unwrap_or_default();
    match (parts.next(), parts.next()) {
        (Some(user), Some(pass)) => (user.to_vec(), pass.to_vec()),
        (Some(pass), None) => (first.to_vec(), pass.to_vec()),
        _ => (first.to_vec(), Vec::new()),
    }
}

/// Base64 text decoded, or as it is when it decodes to nothing.
fn b64_or_raw(s: &[u8]) -> Vec<u8> {
    let d = base64(s);
    if d.is_empty() {
        capped(s)
    } else {
        capped(&d)
    }
}

/// Lenient base64 (characters outside the alphabet skipped, `=` ends it).
fn base64(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len().min(MAX_VALUE) / 4 * 3 + 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s.iter().take(MAX_VALUE.saturating_mul(2)) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6 | u32::from(v)) & 0x00ff_ffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    out
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
            i.mail.pop_command,
            i.mail.pop_parameter,
            i.mail.pop_indicator,
            i.mail.imap_request,
            i.mail.imap_response,
            i.mail.smtp_username,
            i.mail.smtp_password,
            i.mail.smtp_username_password,
            i.mail.smtp_code,
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn frame(&mut self, frame: &Frame, _data: &[u8], t: &FieldTable) {
        let Some(sid) = self.ids.stream.and_then(|f| uint_of(t, f)) else {
            return;
        };
        let Ok(sid) = u32::try_from(sid) else { return };
        let layers = t.layers();
        let is_ftp = layers.contains(&"ftp");
        let is_http = layers.contains(&"http");
        let is_ntlm = self.ids.ntlmssp.is_some_and(|f| t.has(f));
        let is_smb2 = layers.contains(&"smb2");
        let mail = ["pop", "imap", "smtp"]
            .into_iter()
            .find(|p| layers.contains(p));
        if !is_ftp && !is_http && !is_ntlm && !is_smb2 && mail.is_none() {
            return;
        }
        let ends = endpoints(&self.ids, t);
        match mail {
            Some("pop") => self.pop(frame, t, sid, &ends),
            Some("imap") => self.imap(frame, t, sid, &ends),
            Some(_) => self.smtp(frame, t, sid, &ends),
            None => {}
        }
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
    fn base64_is_lenient() {
        assert_eq!(base64(b"dXNlcg=="), b"user");
        assert_eq!(base64(b"dX Nl\ncg"), b"user");
        assert_eq!(base64(b"AHUAcA=="), b"\0u\0p");
    }

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
