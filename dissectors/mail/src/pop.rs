//! POP3 after packet-pop.c: the first line of each segment is a request
//! (to port 110) or a response (`+OK` / `-ERR`; other server text is a
//! continuation of a message and stays opaque). `USER` remembers the first
//! user name of the connection; every `PASS` with an argument queues a
//! `POP3` credential "Username in packet N".

use std::cell::RefCell;
use std::collections::HashMap;

use dorsal_engine::dissect::{Cx, Dissector, Outcome};

use crate::line::{ascii, line, token};
use crate::{
    credential, is_request, push_ascii, stream_state, MailFields, MAX_LINES, TCP_PORT_POP,
};

#[derive(Default)]
struct Conv {
    /// The first USER argument and its frame.
    username: Option<(Vec<u8>, u32)>,
    stls_request: bool,
    /// STLS was accepted: the rest is TLS.
    tls: bool,
}

pub struct Pop {
    f: MailFields,
    convs: RefCell<HashMap<u32, Conv>>,
}

impl Pop {
    pub fn new(f: MailFields) -> Self {
        Pop {
            f,
            convs: RefCell::new(HashMap::new()),
        }
    }
}

impl Dissector for Pop {
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
        let request = is_request(cx, &[TCP_PORT_POP]);
        let (linelen, next) = line(data);
        let first = data.get(..linelen).unwrap_or_default();
        let continuation = !(request || first.starts_with(b"+OK") || first.starts_with(b"-ERR"));

        cx.t.add_layer("pop");
        cx.t.push_proto(f.pop, data);
        if continuation {
            return Outcome::Done(data.len());
        }
        // proto_tree_add_string_format with an empty value.
        cx.t.push_str(
            if request {
                f.pop_request
            } else {
                f.pop_response
            },
            b"",
        );
        let (tok, rest) = token(first);
        #[derive(PartialEq)]
        enum Arg {
            None,
            User,
            Pass,
        }
        let mut arg = Arg::None;
        let param = if tok.is_empty() {
            first
        } else {
            let id = if request {
                f.pop_request_command
            } else {
                f.pop_response_indicator
            };
            push_ascii(cx, id, tok);
            let starts = |p: &[u8]| {
                first
                    .get(..p.len())
                    .is_some_and(|h| h.eq_ignore_ascii_case(p))
            };
            if request {
                if starts(b"STLS") {
                    conv.stls_request = true;
                }
                if starts(b"USER") {
                    arg = Arg::User;
                }
                if starts(b"PASS") {
                    arg = Arg::Pass;
                }
            } else if conv.stls_request {
                if starts(b"+OK ") {
                    conv.tls = true;
                }
                conv.stls_request = false;
            }
            rest
        };
        if !param.is_empty() {
            let id = if request {
                f.pop_request_parameter
            } else {
                f.pop_response_description
            };
            let value = ascii(param);
            cx.t.push_str(id, &value);
            match arg {
                Arg::User => {
                    if conv.username.is_none() {
                        conv.username = Some((value, cx.frame.number));
                    }
                }
                Arg::Pass => {
                    // A NULL user name prints as glibc's "(null)".
                    let (user, n) = conv
                        .username
                        .clone()
                        .unwrap_or_else(|| (b"(null)".to_vec(), 0));
                    credential(cx, "POP3", &user, Some(format!("Username in packet {n}")));
                }
                Arg::None => {}
            }
        }
        let data_id = if request {
            f.pop_request_data
        } else {
            f.pop_response_data
        };
        let mut rest = data.get(next..).unwrap_or_default();
        for _ in 0..MAX_LINES {
            if rest.is_empty() {
                break;
            }
            cx.t.push_str(data_id, b"");
            let (_, n) = line(rest);
            rest = rest.get(n.max(1)..).unwrap_or_default();
        }
        Outcome::Done(data.len())
    }
}
