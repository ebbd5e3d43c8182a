//! SMTP after packet-smtp.c: requests are classified line by line (commands,
//! DATA until the end-of-message dot, BDAT chunks) and the AUTH state
//! machine follows `AUTH LOGIN` / `AUTH PLAIN` with the server's 334
//! prompts and its 235 (or other) verdict. With tshark's default
//! preferences the AUTH parameters are not base64-decoded: the client's
//! password line queues an `SMTP` credential whose user is the base64 user
//! line, with "Username in packet N". Message bodies are not dissected.

use std::cell::RefCell;
use std::collections::HashMap;

use dorsal_engine::dissect::{Cx, Dissector, Outcome};

use crate::line::{ascii, line, line_end_deseg};
use crate::{
    credential, is_request, push_ascii, stream_state, MailFields, MAX_LINES, TCP_PORTS_SMTP,
};

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Start,
    Cmds,
    Data,
    AwaitingStarttls,
}

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum Auth {
    #[default]
    None,
    Start,
    UsernameReq,
    UsernameRsp,
    PasswordReq,
    PasswordRsp,
    PlainStartReq,
    PlainCredReq,
    PlainReq,
    PlainRsp,
    NtlmReq,
    NtlmChallenge,
    NtlmRsp,
    Success,
    Failed,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Multiline {
    None,
    Start,
    Continue,
    End,
}

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum Pdu {
    #[default]
    Cmd,
    Message,
    Eom,
}

#[derive(Default)]
struct Conv {
    state: State,
    auth: Auth,
    crlf_seen: bool,
    data_seen: bool,
    msg_tot_len: u64,
    msg_read_len: u64,
    first_auth_frame: u32,
    last_auth_frame: u32,
    username_frame: u32,
    password_frame: u32,
    /// `AUTH LOGIN <user>` on one line.
    username_cmd_frame: u32,
    /// `AUTH PLAIN <credentials>` on one line.
    user_pass_cmd_frame: u32,
    /// The client's line after `AUTH PLAIN` and a 334.
    user_pass_frame: u32,
    username: Option<Vec<u8>>,
    tls: bool,
}

pub struct Smtp {
    f: MailFields,
    convs: RefCell<HashMap<u32, Conv>>,
}

impl Smtp {
    pub fn new(f: MailFields) -> Self {
        Smtp {
            f,
            convs: RefCell::new(HashMap::new()),
        }
    }
}

/// `line_is_smtp_command`: four letters, or one of the longer extensions.
fn is_command(cmd: &[u8]) -> bool {
    (cmd.len() == 4 && cmd.iter().all(u8::is_ascii_alphabetic))
        || [&b"STARTTLS"[..], b"X-EXPS", b"X-LINK2STATE", b"XEXCH50"]
            .iter()
            .any(|c| cmd.eq_ignore_ascii_case(c))
}

fn starts_ci(line: &[u8], p: &[u8]) -> bool {
    line.get(..p.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(p))
}

impl Conv {
    /// The first-pass classification of a request PDU (packet-smtp.c's
    /// loop before the tree is built).
    fn classify(&mut self, data: &[u8], number: u32) -> Pdu {
        let mut pdu = Pdu::Cmd;
        let mut off = 0usize;
        for _ in 0..MAX_LINES {
            let Some(rest) = data.get(off..).filter(|r| !r.is_empty()) else {
                break;
            };
            let (linelen, next) = line(rest);
            let line = rest.get(..linelen).unwrap_or_default();
            let mut eom = false;
            if self.state == State::Data {
                eom = (self.crlf_seen && rest.starts_with(b".\r\n"))
                    || rest.starts_with(b"\r\n.\r\n");
                self.crlf_seen = rest.ends_with(b"\r\n");
            }
            if self.state == State::Data {
                if eom {
                    self.state = State::Cmds;
                    return Pdu::Eom;
                }
                pdu = Pdu::Message;
                if self.msg_tot_len > 0 {
                    self.msg_read_len = self.msg_read_len.saturating_add(rest.len() as u64);
                    if self.msg_read_len == self.msg_tot_len {
                        self.state = State::Cmds;
                    }
                    return pdu;
                }
            } else {
                let cmdlen = line.iter().position(|&c| c == b' ').unwrap_or(line.len());
                let cmd = line.get(..cmdlen).unwrap_or_default();
                if is_command(cmd) {
                    pdu = Pdu::Cmd;
                    let long = linelen > 11;
                    if starts_ci(line, b"DATA") {
                        self.state = State::Data;
                        self.data_seen = true;
                    } else if starts_ci(line, b"BDAT") {
                        let n: u64 = line
                            .get(5..)
                            .unwrap_or_default()
                            .iter()
                            .take_while(|c| c.is_ascii_digit())
                            .fold(0u64, |a, &c| {
                                a.saturating_mul(10).saturating_add(u64::from(c - b'0'))
                            });
                        self.data_seen = true;
                        self.msg_tot_len = self.msg_tot_len.saturating_add(n);
                        self.state = if n == 0 { State::Cmds } else { State::Data };
                    } else if starts_ci(line, b"AUTH LOGIN") {
                        self.state = State::Cmds;
                        self.auth = if long { Auth::UsernameRsp } else { Auth::Start };
                        self.first_auth_frame = number;
                        if long {
                            self.username_cmd_frame = number;
                        }
                    } else if starts_ci(line, b"AUTH PLAIN") {
                        self.state = State::Cmds;
                        self.auth = if long {
                            Auth::PlainCredReq
                        } else {
                            Auth::PlainStartReq
                        };
                        self.first_auth_frame = number;
                        if long {
                            self.user_pass_cmd_frame = number;
                        }
                    } else if starts_ci(line, b"AUTH NTLM") && linelen > 10 {
                        self.state = State::Cmds;
                        self.auth = Auth::NtlmReq;
                    } else if starts_ci(line, b"STARTTLS") {
                        self.state = State::AwaitingStarttls;
                    }
                } else if self.auth == Auth::UsernameReq {
                    self.auth = Auth::UsernameRsp;
                    self.username_frame = number;
                } else if self.auth == Auth::PasswordReq {
                    self.auth = Auth::PasswordRsp;
                    self.password_frame = number;
                } else if self.auth == Auth::PlainReq {
                    self.auth = Auth::PlainRsp;
                    self.user_pass_frame = number;
                } else if self.auth == Auth::NtlmChallenge {
                    self.auth = Auth::NtlmRsp;
                } else {
                    pdu = if self.data_seen || self.state == State::Start {
                        Pdu::Message
                    } else {
                        Pdu::Cmd
                    };
                }
            }
            off = off.saturating_add(next.max(1));
        }
        pdu
    }

    /// A server reply line's effect on the AUTH and STARTTLS states.
    fn reply(&mut self, code: u32, number: u32) {
        if self.state == State::AwaitingStarttls {
            if code == 220 {
                self.tls = true;
            }
            self.state = State::Cmds;
        }
        if code == 334 {
            self.auth = match self.auth {
                Auth::Start => Auth::UsernameReq,
                Auth::UsernameRsp => Auth::PasswordReq,
                Auth::PlainReq => Auth::PlainRsp,
                Auth::PlainStartReq => Auth::PlainReq,
                Auth::NtlmReq => Auth::NtlmChallenge,
                a => a,
            };
        } else if matches!(
            self.auth,
            Auth::PasswordRsp | Auth::PlainRsp | Auth::NtlmRsp | Auth::PlainCredReq
        ) {
            self.auth = if code == 235 {
                Auth::Success
            } else {
                Auth::Failed
            };
            self.last_auth_frame = number;
        }
    }
}

impl Dissector for Smtp {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.f;
        let Some(tcp) = cx.tcp else {
            return Outcome::Rejected;
        };
        let mut convs = self.convs.borrow_mut();
        let conv = stream_state(&mut convs, tcp.stream);
        if conv.tls {
            return Outcome::Rejected;
        }
        let request = is_request(cx, &TCP_PORTS_SMTP);
        // packet-smtp.c desegments a first line without its end in both
        // directions.
        if tcp.can_desegment && line_end_deseg(data).is_none() {
            return Outcome::NeedMore {
                offset: 0,
                more: None,
            };
        }
        let number = cx.frame.number;
        cx.t.add_layer("smtp");
        cx.t.push_proto(f.smtp, data);
        if request {
            let pdu = conv.classify(data, number);
            cx.t.push_bool(f.smtp_req, true);
            if pdu == Pdu::Message {
                // A DATA fragment: its text lines are shown (the message
                // itself goes to IMF at the end, which dorsal does not do).
                cx.t.add_layer("data-text-lines");
            }
            if pdu != Pdu::Cmd {
                return Outcome::Done(data.len());
            }
            let mut off = 0usize;
            for _ in 0..MAX_LINES {
                let Some(rest) = data.get(off..).filter(|r| !r.is_empty()) else {
                    break;
                };
                let (linelen, next) = line(rest);
                let l = rest.get(..linelen).unwrap_or_default();
                off = off.saturating_add(next.max(1));
                if conv.username_frame == number {
                    if conv.username.is_none() {
                        conv.username = Some(ascii(l));
                    }
                    push_ascii(cx, f.smtp_username, l);
                } else if conv.password_frame == number {
                    push_ascii(cx, f.smtp_password, l);
                    let user = conv.username.clone().unwrap_or_else(|| b"(null)".to_vec());
                    let info = format!("Username in packet {}", conv.username_frame);
                    credential(cx, "SMTP", &user, Some(info));
                } else if conv.user_pass_frame == number {
                    // decode_plain_auth with decoding off: the raw text.
                    push_ascii(cx, f.smtp_username_password, l);
                } else {
                    cx.t.push_str(
                        f.smtp_command_line,
                        &ascii(rest.get(..next).unwrap_or_default()),
                    );
                    push_ascii(cx, f.smtp_req_command, l.get(..4).unwrap_or(l));
                    if linelen > 5 {
                        push_ascii(cx, f.smtp_req_parameter, l.get(5..).unwrap_or_default());
                        let after = l.get(11..).unwrap_or_default();
                        if conv.username_cmd_frame == number && linelen >= 11 {
                            push_ascii(cx, f.smtp_username, after);
                        } else if conv.user_pass_cmd_frame == number {
                            push_ascii(cx, f.smtp_username_password, after);
                        }
                    }
                }
            }
        } else {
            cx.t.push_bool(f.smtp_rsp, true);
            // A multi-line reply (`250-...` lines) gets one response item
            // and code; every line gets its parameter.
            let mut multiline = Multiline::None;
            let mut off = 0usize;
            for _ in 0..MAX_LINES {
                let Some(rest) = data.get(off..).filter(|r| !r.is_empty()) else {
                    break;
                };
                let (linelen, next) = line(rest);
                let l = rest.get(..linelen).unwrap_or_default();
                off = off.saturating_add(next.max(1));
                let code = match l.get(..3) {
                    Some(d) if d.iter().all(u8::is_ascii_digit) => {
                        d.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'))
                    }
                    _ => continue,
                };
                if l.get(3) == Some(&b'-') {
                    multiline = if multiline == Multiline::None {
                        Multiline::Start
                    } else {
                        Multiline::Continue
                    };
                } else if matches!(multiline, Multiline::Start | Multiline::Continue) {
                    multiline = Multiline::End;
                }
                conv.reply(code, number);
                if !matches!(multiline, Multiline::Continue | Multiline::End) {
                    push_ascii(cx, f.smtp_response, rest.get(..next).unwrap_or_default());
                    cx.t.push_u(f.smtp_response_code, code);
                }
                if linelen >= 4 {
                    push_ascii(cx, f.smtp_rsp_parameter, l.get(4..).unwrap_or_default());
                }
            }
        }
        Outcome::Done(data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_login_sets_user_and_password_frames() {
        let mut c = Conv::default();
        assert!(c.classify(b"EHLO x\r\n", 1) == Pdu::Cmd);
        c.reply(250, 2);
        c.classify(b"AUTH LOGIN\r\n", 3);
        c.reply(334, 4);
        c.classify(b"dXNlcg==\r\n", 5);
        c.reply(334, 6);
        c.classify(b"cGFzcw==\r\n", 7);
        assert_eq!((c.username_frame, c.password_frame), (5, 7));
        c.reply(235, 8);
        assert!(c.auth == Auth::Success);
    }

    #[test]
    fn data_until_the_dot_is_message() {
        let mut c = Conv::default();
        c.classify(b"DATA\r\n", 1);
        assert!(c.classify(b"Subject: AUTH LOGIN\r\n", 2) == Pdu::Message);
        assert!(c.classify(b".\r\n", 3) == Pdu::Eom);
        assert!(c.classify(b"QUIT\r\n", 4) == Pdu::Cmd);
    }
}
