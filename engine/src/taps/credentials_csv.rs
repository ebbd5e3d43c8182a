//! `--export-credentials FILE.csv`: every credential seen in clear text,
//! one RFC 4180 row each, written when the capture ends.
//!
//! Columns: `frame,time,protocol,client,server,username,secret,accepted`.
//! - `frame`: the frame carrying the secret.
//! - `time`: that frame's absolute time in seconds since the Unix epoch,
//!   with nanoseconds (as `frame.time_epoch` prints it).
//! - `protocol`: the label the protocol gives (`FTP`, `HTTP`, `POP3`,
//!   `SMB2 NTLMv2`, ...).
//! - `client`, `server`: `address:port` (`[address]:port` for IPv6) of the
//!   frame's transport ([`FieldTable::transport`]); the client is the side
//!   that sent the secret.
//! - `username`, `secret`: as the protocol reads them.
//! - `accepted`: `yes`, `no` or `unknown` (no verdict in the capture).
//!
//! The engine knows no login flow: each protocol crate registers a
//! [`CredentialSource`] that reads its own fields from the frame's table
//! and adds rows and verdicts to the [`CredentialLog`]; this tap feeds the
//! sources, keeps the rows (a verdict may come frames after its row) and
//! writes the file. The number of rows is capped.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use crate::dissect::Frame;
use crate::events::{Address, Transport};
use crate::fields::FieldId;
use crate::format::{write_ipv6, write_signed_time};
use crate::hash::HashMap;
use crate::table::FieldTable;

use super::Tap;

/// Rows kept; past this, credentials are not recorded.
const MAX_ROWS: usize = 1 << 18;
/// Longest user name or secret a source should keep, in bytes.
pub const MAX_VALUE: usize = 4096;

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

/// A row of the log, for its verdict later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowId(usize);

/// A protocol's reading of credentials from its fields: registered by the
/// protocol's crate, fed every frame that has a transport.
pub trait CredentialSource {
    /// The fields this source reads; the dissectors must keep them.
    fn fields(&self) -> Vec<FieldId>;
    /// Reads one frame carried by `conv`; adds rows and verdicts to `log`.
    fn frame(&mut self, frame: &Frame, t: &FieldTable, conv: &Transport, log: &mut CredentialLog);
}

/// The rows found so far.
#[derive(Default)]
pub struct CredentialLog {
    rows: Vec<Record>,
}

impl CredentialLog {
    /// Adds a row for `frame` (client: the frame's sender), verdict
    /// unknown; `None` past the row cap.
    pub fn add(
        &mut self,
        frame: &Frame,
        conv: &Transport,
        protocol: &'static str,
        username: Vec<u8>,
        secret: Vec<u8>,
    ) -> Option<RowId> {
        if self.rows.len() >= MAX_ROWS {
            return None;
        }
        let mut time = String::new();
        write_signed_time(&mut time, frame.ts.secs, frame.ts.nanos);
        self.rows.push(Record {
            frame: frame.number,
            time,
            protocol,
            client: endpoint(conv.src, conv.srcport),
            server: endpoint(conv.dst, conv.dstport),
            username,
            secret,
            accepted: Verdict::Unknown,
        });
        Some(RowId(self.rows.len() - 1))
    }

    pub fn decide(&mut self, row: RowId, v: Verdict) {
        if let Some(r) = self.rows.get_mut(row.0) {
            r.accepted = v;
        }
    }

    pub fn records(&self) -> &[Record] {
        &self.rows
    }
}

/// At most [`MAX_VALUE`] bytes of `b`, owned.
pub fn capped(b: &[u8]) -> Vec<u8> {
    b.get(..MAX_VALUE).unwrap_or(b).to_vec()
}

/// Per-stream state of a source, with a cap on the streams remembered.
pub struct StreamStates<S> {
    map: HashMap<u32, S>,
}

/// TCP streams with remembered state; past this, new streams are ignored.
const MAX_STREAMS: usize = 1 << 16;

impl<S> Default for StreamStates<S> {
    fn default() -> Self {
        StreamStates {
            map: HashMap::default(),
        }
    }
}

impl<S: Default> StreamStates<S> {
    /// The state of `stream`, made on first use; `None` past the cap.
    pub fn entry(&mut self, stream: u32) -> Option<&mut S> {
        if self.map.len() >= MAX_STREAMS && !self.map.contains_key(&stream) {
            return None;
        }
        Some(self.map.entry(stream).or_default())
    }

    pub fn get(&self, stream: u32) -> Option<&S> {
        self.map.get(&stream)
    }

    pub fn get_mut(&mut self, stream: u32) -> Option<&mut S> {
        self.map.get_mut(&stream)
    }
}

/// A login on one stream in the user-then-secret style of line-based
/// protocols: the last user name, and the row of the last secret until a
/// reply decides it. A source's per-stream state holds one.
#[derive(Default)]
pub struct Login {
    user: Option<Vec<u8>>,
    pending: Option<RowId>,
}

impl AsMut<Login> for Login {
    fn as_mut(&mut self) -> &mut Login {
        self
    }
}

impl<S: Default + AsMut<Login>> StreamStates<S> {
    /// `user` is the stream's user name for the secrets that follow.
    pub fn login_user(&mut self, stream: u32, user: Vec<u8>) {
        if let Some(s) = self.entry(stream) {
            s.as_mut().user = Some(user);
        }
    }

    /// A row for `secret` under the stream's last user name (empty if
    /// none), awaiting the next verdict.
    pub fn login_secret(
        &mut self,
        log: &mut CredentialLog,
        frame: &Frame,
        conv: &Transport,
        protocol: &'static str,
        secret: &[u8],
    ) {
        let login = self.entry(conv.stream).map(AsMut::as_mut);
        let user = login
            .as_ref()
            .and_then(|l| l.user.as_deref())
            .unwrap_or_default();
        let id = log.add(frame, conv, protocol, capped(user), capped(secret));
        if let Some(l) = login {
            l.pending = id;
        }
    }

    /// `id`, a row made otherwise (a name and secret in one command),
    /// awaits the next verdict.
    pub fn login_pending(&mut self, stream: u32, id: Option<RowId>) {
        if let Some(s) = self.entry(stream) {
            s.as_mut().pending = id;
        }
    }

    /// The row awaiting a verdict, if any, gets `v`.
    pub fn login_verdict(&mut self, stream: u32, log: &mut CredentialLog, v: Verdict) {
        let pending = self.get_mut(stream).and_then(|s| s.as_mut().pending.take());
        if let Some(id) = pending {
            log.decide(id, v);
        }
    }
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

/// The `--export-credentials` tap.
pub struct CredentialsCsv {
    sources: Vec<Box<dyn CredentialSource>>,
    log: CredentialLog,
    /// Opened when the tap is made, so a bad path fails before the run.
    file: RefCell<Option<File>>,
}

impl CredentialsCsv {
    /// Creates (truncates) `path` at once.
    pub fn create(path: &Path, sources: Vec<Box<dyn CredentialSource>>) -> io::Result<Self> {
        let file = File::create(path)?;
        Ok(CredentialsCsv {
            sources,
            log: CredentialLog::default(),
            file: RefCell::new(Some(file)),
        })
    }

    /// The rows so far.
    pub fn records(&self) -> &[Record] {
        self.log.records()
    }
}

impl Tap for CredentialsCsv {
    fn fields(&self) -> Vec<FieldId> {
        self.sources.iter().flat_map(|s| s.fields()).collect()
    }

    fn frame(&mut self, frame: &Frame, _data: &[u8], t: &FieldTable) {
        let Some(conv) = t.transport().copied() else {
            return;
        };
        for s in &mut self.sources {
            s.frame(frame, t, &conv, &mut self.log);
        }
    }

    /// Writes the file; prints nothing.
    fn draw(&self, _out: &mut dyn Write) -> io::Result<()> {
        let Some(file) = self.file.borrow_mut().take() else {
            return Ok(());
        };
        write_csv(io::BufWriter::new(file), self.log.records())
    }
}

/// `address:port`, `[address]:port` for IPv6.
fn endpoint(a: Address, port: u16) -> String {
    match a {
        Address::V4([a, b, c, d]) => format!("{a}.{b}.{c}.{d}:{port}"),
        Address::V6(a) => {
            let mut s = String::from("[");
            write_ipv6(&mut s, &a);
            s.push_str(&format!("]:{port}"));
            s
        }
        Address::None => format!(":{port}"),
    }
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

    #[test]
    fn rows_name_the_sender_as_client_and_take_verdicts() {
        let mut log = CredentialLog::default();
        let conv = Transport {
            src: Address::V6([0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            dst: Address::V4([10, 0, 0, 2]),
            srcport: 40000,
            dstport: 21,
            stream: 3,
        };
        let row = log
            .add(
                &Frame::default(),
                &conv,
                "FTP",
                b"u".to_vec(),
                b"p".to_vec(),
            )
            .expect("row");
        log.decide(row, Verdict::Yes);
        let r = log.records().first().expect("one row");
        assert_eq!(r.client, "[2001:db8::1]:40000");
        assert_eq!(r.server, "10.0.0.2:21");
        assert_eq!(r.accepted, Verdict::Yes);
    }
}
