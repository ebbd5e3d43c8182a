//! FTP's rows of `--export-credentials`: `PASS` with the last `USER`
//! argument on the control connection before it; the first 230 (or 202)
//! reply after it is `yes`, a 530 is `no`.

use dorsal_engine::dissect::Frame;
use dorsal_engine::events::Transport;
use dorsal_engine::fields::FieldId;
use dorsal_engine::table::FieldTable;
use dorsal_engine::taps::credentials_csv::{
    capped, CredentialLog, CredentialSource, Login, StreamStates, Verdict,
};

use crate::FtpFields;

/// Reads `ftp.request.command`, `ftp.request.arg` and `ftp.response.code`.
pub struct FtpCredentials {
    f: FtpFields,
    streams: StreamStates<Login>,
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
                self.streams.login_user(sid, arg);
            } else if cmd.eq_ignore_ascii_case(b"PASS") {
                self.streams.login_secret(log, frame, conv, "FTP", &arg);
            }
        }
        let verdict = match t.first_u(self.f.response_code) {
            Some(230 | 202) => Verdict::Yes,
            Some(530) => Verdict::No,
            _ => return,
        };
        self.streams.login_verdict(sid, log, verdict);
    }
}
