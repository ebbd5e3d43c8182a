//! FTP's rows of `--export-credentials`: `PASS` with the last `USER`
//! argument on the control connection before it; the first 230 (or 202)
//! reply after it is `yes`, a 530 is `no`.

use dorsal_engine::dissect::Frame;
use dorsal_engine::events::Transport;
use dorsal_engine::fields::FieldId;
use dorsal_engine::table::FieldTable;
use dorsal_engine::taps::credentials_csv::{
    capped, CredentialLog, CredentialSource, RowId, StreamStates, Verdict,
};

use crate::FtpFields;

#[derive(Default)]
struct Stream {
    user: Option<Vec<u8>>,
    /// The row of the last PASS, until a verdict.
    pass_row: Option<RowId>,
}

/// Reads `ftp.request.command`, `ftp.request.arg` and `ftp.response.code`.
pub struct FtpCredentials {
    f: FtpFields,
    streams: StreamStates<Stream>,
}

impl FtpCredentials {
    pub fn new(f: &FtpFields) -> Self {
        FtpCredentials {
            f: *f,
            streams: StreamStates::default(),
        }
    }
}

impl CredentialSource for FtpCredentials {
    fn fields(&self) -> Vec<FieldId> {
        vec![
            self.f.request_command,
            self.f.request_arg,
            self.f.response_code,
        ]
    }

    fn frame(&mut self, frame: &Frame, t: &FieldTable, conv: &Transport, log: &mut CredentialLog) {
        if !t.layers().contains(&"ftp") {
            return;
        }
        let sid = conv.stream;
        let arg = t
            .first_str(self.f.request_arg)
            .map(capped)
            .unwrap_or_default();
        if let Some(cmd) = t.first_str(self.f.request_command) {
            if cmd.eq_ignore_ascii_case(b"USER") {
                if let Some(s) = self.streams.entry(sid) {
                    s.user = Some(arg);
                }
            } else if cmd.eq_ignore_ascii_case(b"PASS") {
                let user = self
                    .streams
                    .get(sid)
                    .and_then(|s| s.user.clone())
                    .unwrap_or_default();
                let row = log.add(frame, conv, "FTP", user, arg);
                if let Some(s) = self.streams.entry(sid) {
                    s.pass_row = row;
                }
            }
        }
        let verdict = match t.first_u(self.f.response_code) {
            Some(230 | 202) => Verdict::Yes,
            Some(530) => Verdict::No,
            _ => return,
        };
        if let Some(row) = self.streams.get_mut(sid).and_then(|s| s.pass_row.take()) {
            log.decide(row, verdict);
        }
    }
}
