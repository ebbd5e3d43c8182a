//! HTTP's rows of `--export-credentials`: `Authorization: Basic` and
//! `Proxy-Authorization: Basic` (`http.authbasic`, decoded), split at the
//! first colon. Responses pair with requests in order on the connection
//! (1xx skipped); the final response's 2xx and 3xx are `yes`, 401, 403
//! and 407 are `no`.

use std::collections::VecDeque;

use dorsal_engine::dissect::Frame;
use dorsal_engine::events::Transport;
use dorsal_engine::fields::FieldId;
use dorsal_engine::table::{FieldTable, Value};
use dorsal_engine::taps::credentials_csv::{
    capped, CredentialLog, CredentialSource, RowId, StreamStates, Verdict,
};

use crate::HttpFields;

/// Requests waiting for a response on one connection.
const MAX_QUEUE: usize = 256;

#[derive(Default)]
struct Stream {
    /// One slot per request awaiting its response, with its row.
    requests: VecDeque<Option<RowId>>,
}

/// Reads `http.request.method`, `http.response.code` and `http.authbasic`.
pub struct HttpCredentials {
    f: HttpFields,
    streams: StreamStates<Stream>,
}

impl HttpCredentials {
    pub fn new(f: &HttpFields) -> Self {
        HttpCredentials {
            f: *f,
            streams: StreamStates::default(),
        }
    }
}

impl CredentialSource for HttpCredentials {
    fn fields(&self) -> Vec<FieldId> {
        vec![
            self.f.request_method,
            self.f.response_code,
            self.f.authbasic,
        ]
    }

    fn frame(&mut self, frame: &Frame, t: &FieldTable, conv: &Transport, log: &mut CredentialLog) {
        if !t.layers().contains(&"http") {
            return;
        }
        let sid = conv.stream;
        let (method, code, basic) = (
            self.f.request_method,
            self.f.response_code,
            self.f.authbasic,
        );
        // Tree order pairs each Authorization with its request when one
        // frame carries several.
        for e in t.entries() {
            if e.field == method {
                if let Some(s) = self.streams.entry(sid) {
                    if s.requests.len() >= MAX_QUEUE {
                        s.requests.pop_front();
                    }
                    s.requests.push_back(None);
                }
            } else if e.field == basic {
                let Value::Str(span) = e.value else { continue };
                let dec = t.bytes(span);
                let (user, secret) = match dec.iter().position(|&c| c == b':') {
                    Some(i) => (dec.get(..i), dec.get(i + 1..)),
                    None => (Some(dec), None),
                };
                let row = log.add(
                    frame,
                    conv,
                    "HTTP",
                    capped(user.unwrap_or_default()),
                    capped(secret.unwrap_or_default()),
                );
                if let Some(slot) = self.streams.entry(sid).and_then(|s| s.requests.back_mut()) {
                    if slot.is_none() {
                        *slot = row;
                    }
                }
            } else if e.field == code {
                let Value::U(c) = e.value else { continue };
                if (100..200).contains(&c) {
                    continue;
                }
                let slot = self
                    .streams
                    .get_mut(sid)
                    .and_then(|s| s.requests.pop_front())
                    .flatten();
                if let Some(row) = slot {
                    let v = match c {
                        200..=399 => Verdict::Yes,
                        401 | 403 | 407 => Verdict::No,
                        _ => Verdict::Unknown,
                    };
                    log.decide(row, v);
                }
            }
        }
    }
}
