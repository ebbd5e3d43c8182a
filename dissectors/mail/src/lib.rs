//! POP3 (TCP port 110), IMAP (143) and SMTP (25, 587): the command lines,
//! after packet-pop.c, packet-imap.c and packet-smtp.c of Wireshark 4.0,
//! as far as `-z credentials` and `--export-credentials` need them.
//!
//! Not done: message bodies (tshark hands them to IMF), FETCH reassembly,
//! and decoding of SMTP AUTH parameters (off by default in tshark, so its
//! `smtp.auth.*` fields and credentials carry the base64 text).
//!
//! After an accepted STARTTLS/STLS the stream is rejected, so TCP's
//! heuristics (TLS) take the rest, as `ssl_starttls_ack` does.
//!
//! Depends on the engine only (never on another dissector crate); reaches
//! it through [`protocol`], its plug-in.

#![forbid(unsafe_code)]

mod credentials;
pub mod fields;
pub mod imap;
pub mod line;
pub mod pop;
pub mod smtp;

use dorsal_engine::protocol::Protocol;
use dorsal_engine::taps::credentials_csv::CredentialSource;
use dorsal_engine::taps::SharedSink;
use std::rc::Rc;

use dorsal_engine::dissect::{Cx, Dissectors};
use dorsal_engine::events::Credential;
use dorsal_engine::fields::Registry;

pub use credentials::MailCredentials;
pub use fields::MailFields;

pub const TCP_PORT_POP: u16 = 110;
pub const TCP_PORT_IMAP: u16 = 143;
pub const TCP_PORTS_SMTP: [u16; 2] = [25, 587];

/// Streams with remembered state per protocol.
pub(crate) const MAX_STREAMS: usize = 1 << 16;

/// The state of one TCP stream, made on first use; past [`MAX_STREAMS`]
/// streams the table starts over rather than grow.
pub(crate) fn stream_state<T: Default>(
    convs: &mut std::collections::HashMap<u32, T>,
    stream: u32,
) -> &mut T {
    if convs.len() >= MAX_STREAMS && !convs.contains_key(&stream) {
        convs.clear();
    }
    convs.entry(stream).or_default()
}
/// Lines looked at in one PDU.
pub(crate) const MAX_LINES: usize = 4096;

/// Declares the fields of POP, IMAP and SMTP.
pub fn register_fields(reg: &mut Registry) -> MailFields {
    MailFields::register(reg)
}

dorsal_engine::plugin!(register_fields);

impl Protocol for MailFields {
    /// Attaches `pop`, `imap` and `smtp` to their TCP ports.
    fn register_dissectors(&self, ds: &mut Dissectors, _eo: Option<SharedSink>) {
        let f = self;
        let pop = ds.register("pop", Rc::new(pop::Pop::new(*f)));
        ds.add("tcp.port", u32::from(TCP_PORT_POP), pop);
        let imap = ds.register("imap", Rc::new(imap::Imap::new(*f)));
        ds.add("tcp.port", u32::from(TCP_PORT_IMAP), imap);
        let smtp = ds.register("smtp", Rc::new(smtp::Smtp::new(*f)));
        for p in TCP_PORTS_SMTP {
            ds.add("tcp.port", u32::from(p), smtp);
        }
    }

    fn credential_sources(&self) -> Vec<Box<dyn CredentialSource>> {
        vec![Box::new(MailCredentials::new(self))]
    }
}

/// `pinfo->match_uint == pinfo->destport`: TCP tries the lower port first,
/// so the port that matched is the lower of the two when both are ours.
pub(crate) fn is_request(cx: &Cx<'_>, ours: &[u16]) -> bool {
    let (s, d) = (cx.srcport, cx.dstport);
    let matched = match (ours.contains(&s), ours.contains(&d)) {
        (true, true) => s.min(d),
        (true, false) => s,
        _ => d,
    };
    matched == d
}

/// Pushes `raw` as `ENC_ASCII` text when the field is wanted.
pub(crate) fn push_ascii(cx: &mut Cx<'_>, id: dorsal_engine::fields::FieldId, raw: &[u8]) {
    if cx.t.wants(id) {
        cx.t.push_str(id, &line::ascii(raw));
    }
}

/// Queues a `-z credentials` row.
pub(crate) fn credential(cx: &mut Cx<'_>, proto: &'static str, user: &[u8], info: Option<String>) {
    cx.t.add_credential(Credential {
        frame: cx.frame.number,
        proto,
        username: user.to_vec(),
        info,
    });
}
