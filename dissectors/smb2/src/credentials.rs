//! NTLM's rows of `--export-credentials`: a CHALLENGE's server challenge
//! is kept per TCP stream; an AUTHENTICATE after it becomes a row whose
//! secret is the hashcat line ([`crate::hashcat`]) and whose protocol names
//! the carrier and the format (`SMB2 NTLMv2`). Over SMB2 the
//! SESSION_SETUP response with the request's message id gives the verdict:
//! success `yes`, an error `no`.

use std::collections::VecDeque;

use dorsal_engine::dissect::Frame;
use dorsal_engine::events::Transport;
use dorsal_engine::fields::FieldId;
use dorsal_engine::table::{FieldTable, Value};
use dorsal_engine::taps::credentials_csv::{
    CredentialLog, CredentialSource, RowId, StreamStates, Verdict,
};

use crate::hashcat;
use crate::Smb2Fields;

/// AUTHENTICATE rows awaiting their response on one connection.
const MAX_QUEUE: usize = 256;
/// SMB2 SESSION_SETUP command code.
const SMB2_SESSION_SETUP: u64 = 1;
/// The status of a SESSION_SETUP response that asks for another leg.
const STATUS_MORE_PROCESSING_REQUIRED: u64 = 0xc000_0016;

#[derive(Default)]
struct Stream {
    /// The last server challenge.
    challenge: Option<[u8; 8]>,
    /// (SESSION_SETUP request's message id, row) of AUTHENTICATE rows
    /// awaiting the response's status.
    pending: VecDeque<(u64, RowId)>,
}

/// Reads the `ntlmssp` entries and the SMB2 headers around them.
pub struct NtlmCredentials {
    f: Smb2Fields,
    streams: StreamStates<Stream>,
}

impl NtlmCredentials {
    pub fn new(f: &Smb2Fields) -> Self {
        NtlmCredentials {
            f: *f,
            streams: StreamStates::default(),
        }
    }

    /// A SESSION_SETUP response: success is `yes`, an error `no`; more
    /// processing required, pending and other non-errors leave the row
    /// waiting for the final response.
    fn verdict(&mut self, sid: u32, msg_id: u64, status: u64, log: &mut CredentialLog) {
        let v = match status {
            0 => Verdict::Yes,
            STATUS_MORE_PROCESSING_REQUIRED => return,
            s if s >> 30 == 3 => Verdict::No,
            _ => return,
        };
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let Some(i) = s.pending.iter().position(|&(id, _)| id == msg_id) else {
            return;
        };
        if let Some((_, row)) = s.pending.remove(i) {
            log.decide(row, v);
        }
    }
}

impl CredentialSource for NtlmCredentials {
    fn fields(&self) -> Vec<FieldId> {
        let f = &self.f;
        vec![
            f.ntlmssp,
            f.protocol_id,
            f.nt_status,
            f.cmd,
            f.flags_response,
            f.msg_id,
        ]
    }

    fn frame(&mut self, frame: &Frame, t: &FieldTable, conv: &Transport, log: &mut CredentialLog) {
        let f = self.f;
        if !t.has(f.ntlmssp) && !t.layers().contains(&"smb2") {
            return;
        }
        let sid = conv.stream;
        // The SMB2 header being walked (tree order: status, command, flags,
        // message id, then the body with its security blob).
        let (mut status, mut cmd, mut resp, mut request_id) = (None, None, false, None);
        for e in t.entries() {
            let id = e.field;
            if id == f.protocol_id {
                (status, cmd, resp, request_id) = (None, None, false, None);
            } else if id == f.nt_status && status.is_none() {
                if let Value::U(v) = e.value {
                    status = Some(v);
                }
            } else if id == f.cmd {
                if let Value::U(v) = e.value {
                    cmd = Some(v);
                }
            } else if id == f.flags_response {
                if let Value::Bool(b) = e.value {
                    resp = b;
                }
            } else if id == f.msg_id {
                let Value::U(mid) = e.value else { continue };
                if !resp {
                    request_id = Some(mid);
                } else if cmd == Some(SMB2_SESSION_SETUP) {
                    self.verdict(sid, mid, status.unwrap_or(0), log);
                }
            } else if id == f.ntlmssp {
                let Value::Proto { bytes, .. } = e.value else {
                    continue;
                };
                let m = t.bytes(bytes);
                match hashcat::message_type(m) {
                    Some(2) => {
                        let chal = hashcat::challenge(m);
                        if let Some(s) = self.streams.entry(sid) {
                            s.challenge = chal;
                        }
                    }
                    Some(3) => {
                        let chal = self.streams.get(sid).and_then(|s| s.challenge);
                        let (Some(chal), Some(a)) = (chal, hashcat::authenticate(m)) else {
                            continue;
                        };
                        let Some((kind, line)) = hashcat::hashcat(&a, &chal) else {
                            continue;
                        };
                        let proto = carrier(t.layers(), kind);
                        let row = log.add(frame, conv, proto, a.user, line);
                        if let (Some(row), Some(mid), Some(s)) =
                            (row, request_id, self.streams.entry(sid))
                        {
                            if s.pending.len() >= MAX_QUEUE {
                                s.pending.pop_front();
                            }
                            s.pending.push_back((mid, row));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The `protocol` column of an NTLM row: the carrier and the hashcat
/// format, e.g. `SMB2 NTLMv2`.
fn carrier(layers: &[&str], kind: hashcat::Kind) -> &'static str {
    const CARRIERS: [(&str, &str, &str); 4] = [
        ("smb2", "SMB2 NTLMv1", "SMB2 NTLMv2"),
        ("smb", "SMB NTLMv1", "SMB NTLMv2"),
        ("dcerpc", "DCERPC NTLMv1", "DCERPC NTLMv2"),
        ("http", "HTTP NTLMv1", "HTTP NTLMv2"),
    ];
    for (layer, v1, v2) in CARRIERS {
        if layers.contains(&layer) {
            return match kind {
                hashcat::Kind::V1 => v1,
                hashcat::Kind::V2 => v2,
            };
        }
    }
    kind.as_str()
}
