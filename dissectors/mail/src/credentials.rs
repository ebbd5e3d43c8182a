//! POP3, IMAP and SMTP rows of `--export-credentials`.
//! - POP3: `USER` and `PASS` (the last USER before it), or `APOP`'s name
//!   and digest; the next `+OK` is `yes`, `-ERR` is `no`.
//! - IMAP: `LOGIN`'s two strings (unquoted), or `AUTHENTICATE PLAIN`'s
//!   base64 `authzid NUL user NUL password`, inline or on the next client
//!   line; the tagged reply to the command decides: `OK` is `yes`, `NO` or
//!   `BAD` is `no`.
//! - SMTP: `AUTH LOGIN`'s base64 user and password lines, or `AUTH
//!   PLAIN`'s credentials, decoded; the next 235 is `yes`, a 4xx or 5xx
//!   reply is `no`.

use dorsal_engine::dissect::Frame;
use dorsal_engine::events::Transport;
use dorsal_engine::fields::FieldId;
use dorsal_engine::table::{FieldTable, Value};
use dorsal_engine::taps::credentials_csv::{
    capped, CredentialLog, CredentialSource, Login, RowId, StreamStates, Verdict, MAX_VALUE,
};

use crate::MailFields;

#[derive(Default)]
struct Stream {
    /// POP3 and SMTP.
    login: Login,
    /// IMAP: the tag of the LOGIN or AUTHENTICATE awaiting its tagged
    /// reply, with its row (none yet while AUTHENTICATE PLAIN waits for
    /// the client's continuation line).
    imap_pending: Option<(Vec<u8>, Option<RowId>)>,
    /// IMAP: AUTHENTICATE PLAIN sent without an initial response.
    imap_plain: bool,
}

impl AsMut<Login> for Stream {
    fn as_mut(&mut self) -> &mut Login {
        &mut self.login
    }
}

/// Reads the POP, IMAP and SMTP request and response fields.
pub struct MailCredentials {
    f: MailFields,
    streams: StreamStates<Stream>,
}

impl MailCredentials {
    pub fn new(f: &MailFields) -> Self {
        MailCredentials {
            f: *f,
            streams: StreamStates::default(),
        }
    }
}

impl CredentialSource for MailCredentials {
    fn fields(&self) -> Vec<FieldId> {
        let m = &self.f;
        vec![
            m.pop_request_command,
            m.pop_request_parameter,
            m.pop_response_indicator,
            m.imap_request,
            m.imap_response,
            m.smtp_username,
            m.smtp_password,
            m.smtp_username_password,
            m.smtp_response_code,
        ]
    }

    fn frame(&mut self, frame: &Frame, t: &FieldTable, conv: &Transport, log: &mut CredentialLog) {
        let layers = t.layers();
        match ["pop", "imap", "smtp"]
            .into_iter()
            .find(|p| layers.contains(p))
        {
            Some("pop") => self.pop(frame, t, conv, log),
            Some("imap") => self.imap(frame, t, conv, log),
            Some(_) => self.smtp(frame, t, conv, log),
            None => {}
        }
    }
}

impl MailCredentials {
    fn row(
        log: &mut CredentialLog,
        frame: &Frame,
        conv: &Transport,
        protocol: &'static str,
        user: &[u8],
        secret: &[u8],
    ) -> Option<RowId> {
        log.add(frame, conv, protocol, capped(user), capped(secret))
    }

    /// USER then PASS (the last USER before it), or APOP's name and
    /// digest; the next `+OK` is `yes`, `-ERR` is `no`.
    fn pop(&mut self, frame: &Frame, t: &FieldTable, conv: &Transport, log: &mut CredentialLog) {
        let m = &self.f;
        let sid = conv.stream;
        let command = t.first_str(m.pop_request_command).map(<[u8]>::to_vec);
        let param = t
            .first_str(m.pop_request_parameter)
            .map(capped)
            .unwrap_or_default();
        let indicator = t.first_str(m.pop_response_indicator).map(<[u8]>::to_vec);
        if let Some(cmd) = command {
            if cmd.eq_ignore_ascii_case(b"USER") {
                self.streams.login_user(sid, param);
            } else if cmd.eq_ignore_ascii_case(b"PASS") {
                self.streams.login_secret(log, frame, conv, "POP3", &param);
            } else if cmd.eq_ignore_ascii_case(b"APOP") {
                let (name, digest) = split_word(&param);
                let row = Self::row(log, frame, conv, "POP3", name, digest);
                self.streams.login_pending(sid, row);
            }
        } else if let Some(ind) = indicator {
            let v = match ind.as_slice() {
                b"+OK" => Verdict::Yes,
                b"-ERR" => Verdict::No,
                _ => return,
            };
            self.streams.login_verdict(sid, log, v);
        }
    }

    /// `tag LOGIN user password` (IMAP strings unquoted) or `tag
    /// AUTHENTICATE PLAIN` with its base64 `authzid NUL user NUL password`
    /// (inline or on the next client line); the reply with the same tag
    /// decides: `OK` is `yes`, `NO` or `BAD` is `no`.
    fn imap(&mut self, frame: &Frame, t: &FieldTable, conv: &Transport, log: &mut CredentialLog) {
        let sid = conv.stream;
        let (req, rsp) = (self.f.imap_request, self.f.imap_response);
        let lines: Vec<(bool, Vec<u8>)> = t
            .entries()
            .iter()
            .filter_map(|e| match e.value {
                Value::Str(s) if e.field == req => Some((true, t.bytes(s).to_vec())),
                Value::Str(s) if e.field == rsp => Some((false, t.bytes(s).to_vec())),
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
                let row = match self.streams.get_mut(sid) {
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
                    log.decide(row, v);
                }
                continue;
            }
            if self.streams.get(sid).is_some_and(|s| s.imap_plain) {
                let (user, secret) = sasl_plain(&line);
                let row = Self::row(log, frame, conv, "IMAP", &user, &secret);
                if let Some(s) = self.streams.entry(sid) {
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
                let row = Self::row(log, frame, conv, "IMAP", &user, &pass);
                if let Some(s) = self.streams.entry(sid) {
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
                    Self::row(log, frame, conv, "IMAP", &user, &secret)
                };
                if let Some(s) = self.streams.entry(sid) {
                    s.imap_plain = row.is_none();
                    s.imap_pending = Some((tag.to_vec(), row));
                }
            }
        }
    }

    /// AUTH LOGIN (base64 user and password lines, decoded here) or AUTH
    /// PLAIN; 235 is `yes`, a 4xx or 5xx reply is `no`.
    fn smtp(&mut self, frame: &Frame, t: &FieldTable, conv: &Transport, log: &mut CredentialLog) {
        let m = &self.f;
        let sid = conv.stream;
        let user = t.first_str(m.smtp_username).map(b64_or_raw);
        let pass = t.first_str(m.smtp_password).map(b64_or_raw);
        let plain = t.first_str(m.smtp_username_password).map(sasl_plain);
        let code = t.first_u(m.smtp_response_code);
        if let Some(u) = user {
            self.streams.login_user(sid, u);
        }
        if let Some(p) = pass {
            self.streams.login_secret(log, frame, conv, "SMTP", &p);
        } else if let Some((u, p)) = plain {
            let row = Self::row(log, frame, conv, "SMTP", &u, &p);
            self.streams.login_pending(sid, row);
        }
        let v = match code {
            Some(235) => Verdict::Yes,
            Some(400..=599) => Verdict::No,
            _ => return,
        };
        self.streams.login_verdict(sid, log, v);
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
    fn imap_strings_unquote_and_plain_splits_at_nul() {
        assert_eq!(
            imap_string(b"\"a\\\"b\" rest"),
            (b"a\"b".to_vec(), &b"rest"[..])
        );
        assert_eq!(imap_string(b"atom rest"), (b"atom".to_vec(), &b"rest"[..]));
        assert_eq!(sasl_plain(b"AHUAcA=="), (b"u".to_vec(), b"p".to_vec()));
    }
}
