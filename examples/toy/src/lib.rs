//! A toy protocol, to show what adding a protocol to dorsal takes: this
//! crate, and one line in the binary's list of crates
//! (`cli/src/lib.rs`). No engine file changes.
//!
//! The protocol runs over TCP port 7777, one text command per segment:
//! - `LOGIN user pass` -> fields `toy.user`, `toy.pass`; a credential row
//!   (`--export-credentials`), decided by the server's next `OK`/`NO`.
//! - `PUT name data` -> an exported object of type `toy`
//!   (`--export-objects toy,DIR`) named `name` holding `data`.
//! - `OK` / `NO` -> field `toy.reply`.
//!
//! May depend on the engine only.

use std::rc::Rc;

use dorsal_engine::dissect::{Cx, Dissector, Dissectors, Frame, Outcome};
use dorsal_engine::events::Transport;
use dorsal_engine::fields::FieldId;
use dorsal_engine::protocol::Protocol;
use dorsal_engine::table::FieldTable;
use dorsal_engine::taps::credentials_csv::{
    capped, CredentialLog, CredentialSource, RowId, StreamStates, Verdict,
};
use dorsal_engine::taps::{ExportObject, SharedSink};

/// The TCP port the toy protocol uses.
pub const PORT: u32 = 7777;

dorsal_engine::fields! {
    pub struct ToyFields {
        toy: "toy", "Toy Protocol", Protocol, None;
        user: "toy.user", "User", String, None;
        pass: "toy.pass", "Password", String, None;
        reply: "toy.reply", "Reply", String, None;
        object: "toy.object", "Object name", String, None;
    }
}

// `protocol`, the crate's registration: declares the fields, returns the plug-in.
dorsal_engine::plugin!(ToyFields::register);

impl Protocol for ToyFields {
    fn register_dissectors(&self, ds: &mut Dissectors, eo: Option<SharedSink>) {
        let id = ds.register("toy", Rc::new(Toy { f: *self, eo }));
        ds.add("tcp.port", PORT, id);
    }

    fn credential_sources(&self) -> Vec<Box<dyn CredentialSource>> {
        vec![Box::new(ToyCredentials {
            f: *self,
            streams: StreamStates::default(),
        })]
    }

    fn export_types(&self) -> &'static [&'static str] {
        &["toy"]
    }
}

struct Toy {
    f: ToyFields,
    eo: Option<SharedSink>,
}

/// The first word of `s` and the rest after one space.
fn word(s: &[u8]) -> (&[u8], &[u8]) {
    match s.iter().position(|&c| c == b' ') {
        Some(i) => (s.get(..i).unwrap_or(s), s.get(i + 1..).unwrap_or_default()),
        None => (s, &[]),
    }
}

impl Dissector for Toy {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        cx.t.add_layer("toy");
        cx.t.push_proto(self.f.toy, data);
        let line = data.strip_suffix(b"\r\n").unwrap_or(data);
        let (cmd, rest) = word(line);
        // The summary line: the protocol, and the command without its
        // arguments (a password stays off the screen).
        if let Some(c) = cx.cols() {
            c.set_protocol("TOY");
            c.set_info(&format!("Command: {}", String::from_utf8_lossy(cmd)));
        }
        match cmd {
            b"LOGIN" => {
                let (user, pass) = word(rest);
                cx.t.push_str(self.f.user, user);
                cx.t.push_str(self.f.pass, pass);
            }
            b"PUT" => {
                let (name, body) = word(rest);
                cx.t.push_str(self.f.object, name);
                if let Some(eo) = &self.eo {
                    if let Ok(mut sink) = eo.try_borrow_mut() {
                        sink.object(
                            "toy",
                            &ExportObject {
                                frame: cx.frame.number,
                                hostname: None,
                                content_type: None,
                                filename: Some(name),
                                data: body,
                            },
                        );
                    }
                }
            }
            b"OK" | b"NO" => cx.t.push_str(self.f.reply, cmd),
            _ => {}
        }
        Outcome::Done(data.len())
    }
}

/// The login flow: a LOGIN row waits for the next reply on its stream.
struct ToyCredentials {
    f: ToyFields,
    streams: StreamStates<Option<RowId>>,
}

impl CredentialSource for ToyCredentials {
    fn fields(&self) -> Vec<FieldId> {
        vec![self.f.user, self.f.pass, self.f.reply]
    }

    fn frame(&mut self, frame: &Frame, t: &FieldTable, conv: &Transport, log: &mut CredentialLog) {
        if let (Some(u), Some(p)) = (t.first_str(self.f.user), t.first_str(self.f.pass)) {
            let row = log.add(frame, conv, "TOY", capped(u), capped(p));
            if let Some(s) = self.streams.entry(conv.stream) {
                *s = row;
            }
        }
        let v = match t.first_str(self.f.reply) {
            Some(b"OK") => Verdict::Yes,
            Some(b"NO") => Verdict::No,
            _ => return,
        };
        if let Some(row) = self.streams.get_mut(conv.stream).and_then(Option::take) {
            log.decide(row, v);
        }
    }
}

#[cfg(test)]
mod tests;
