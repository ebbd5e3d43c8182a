//! IMAP after packet-imap.c: every line of a PDU (TCP reassembles to whole
//! lines) is a tagged request or response; untagged (`*`) lines are text.
//! `LOGIN user password` queues an `IMAP` credential with the user token as
//! sent (quotes included) and no info. FETCH literals and the post-STARTTLS
//! heuristic of packet-imap.c are not done.

use std::cell::RefCell;
use std::collections::HashMap;

use dorsal_engine::dissect::{Cx, Dissector, Outcome};

use crate::line::{ascii, line_end, line_end_deseg, token};
use crate::{
    credential, is_request, push_ascii, stream_state, MailFields, MAX_LINES, TCP_PORT_IMAP,
};

#[derive(Default)]
struct Conv {
    ssl_requested: bool,
    tls: bool,
}

pub struct Imap {
    f: MailFields,
    convs: RefCell<HashMap<u32, Conv>>,
}

impl Imap {
    pub fn new(f: MailFields) -> Self {
        Imap {
            f,
            convs: RefCell::new(HashMap::new()),
        }
    }
}

impl Dissector for Imap {
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
        let request = is_request(cx, &[TCP_PORT_IMAP]);
        if line_end_deseg(data).is_none() && tcp.can_desegment {
            return Outcome::NeedMore {
                offset: 0,
                more: None,
            };
        }
        cx.t.add_layer("imap");
        cx.t.push_proto(f.imap, data);
        cx.t.push_bool(f.imap_isrequest, request);
        let mut offset = 0usize;
        for _ in 0..MAX_LINES {
            let Some(rest) = data.get(offset..).filter(|r| !r.is_empty()) else {
                break;
            };
            let end = if tcp.can_desegment {
                line_end_deseg(rest)
            } else {
                line_end(rest)
            };
            let (linelen, next) = match end {
                Some(l) => l,
                None if tcp.can_desegment => {
                    return Outcome::NeedMore { offset, more: None };
                }
                None => (rest.len(), rest.len()),
            };
            let whole = rest.get(..next).unwrap_or_default();
            let line = rest.get(..linelen).unwrap_or_default();
            offset = offset.saturating_add(next.max(1));
            push_ascii(cx, f.imap_line, whole);
            if line.first() == Some(&b'*') {
                continue;
            }
            if !line.is_empty() {
                let id = if request {
                    f.imap_request
                } else {
                    f.imap_response
                };
                push_ascii(cx, id, line);
            }
            let (tag, after_tag) = token(line);
            let rest = if tag.is_empty() {
                line
            } else {
                let id = if request {
                    f.imap_request_tag
                } else {
                    f.imap_response_tag
                };
                push_ascii(cx, id, tag);
                push_ascii(cx, f.imap_tag, tag);
                after_tag
            };
            let (tok, after) = token(rest);
            if tok.is_empty() {
                continue;
            }
            let lower = tok.to_ascii_lowercase();
            // tvb_strncaseeql(.., "UID", tokenlen): a prefix of UID.
            let (command, args) = if request && b"uid".starts_with(&lower) {
                // An FT_BOOLEAN over the token's bytes: never zero, so true.
                cx.t.push_bool(f.imap_request_uid, true);
                let (cmd, args) = token(after);
                if !cmd.is_empty() {
                    push_ascii(cx, f.imap_request_command, cmd);
                    push_ascii(cx, f.imap_command, tok);
                }
                (cmd.to_ascii_lowercase(), args)
            } else {
                let id = if request {
                    f.imap_request_command
                } else {
                    f.imap_response_status
                };
                push_ascii(cx, id, tok);
                if request {
                    push_ascii(cx, f.imap_command, tok);
                    (lower.clone(), after)
                } else {
                    (Vec::new(), after)
                }
            };
            // strncmp(command_token, "login", commandlen): a prefix.
            let is = |name: &[u8]| !command.is_empty() && name.starts_with(&command);
            let folder_cmd = [
                &b"select"[..],
                b"examine",
                b"create",
                b"delete",
                b"rename",
                b"subscribe",
                b"unsubscribe",
                b"status",
                b"append",
                b"search",
            ]
            .iter()
            .any(|c| is(c));
            if !folder_cmd && !is(b"copy") {
                if is(b"starttls") {
                    conv.ssl_requested = true;
                } else if is(b"login") {
                    let (user, after_user) = token(args);
                    push_ascii(cx, f.imap_request_username, user);
                    let (pass, _) = token(after_user);
                    // tvb_get_string_enc(offset + 1, tokenlen - 2): a
                    // token of one byte reads to the end, none throws.
                    if !pass.is_empty() {
                        // (The one-byte case is kept empty here.)
                        let inner = pass
                            .get(1..pass.len().saturating_sub(1))
                            .unwrap_or_default();
                        push_ascii(cx, f.imap_request_password, inner);
                        credential(cx, "IMAP", &ascii(user), None);
                    }
                }
            }
            if !request {
                let (cmd, _) = token(args);
                if !cmd.is_empty() {
                    push_ascii(cx, f.imap_response_command, cmd);
                    push_ascii(cx, f.imap_command, cmd);
                }
                if conv.ssl_requested {
                    // strncmp(tokenbuf, "ok", tokenlen) == 0
                    if b"ok".starts_with(&lower) {
                        conv.tls = true;
                    }
                    conv.ssl_requested = false;
                }
            }
        }
        Outcome::Done(data.len())
    }
}
