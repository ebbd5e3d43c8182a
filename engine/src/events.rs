//! What the dissectors tell listeners about a frame beyond its fields:
//! typed records that a generic tap collects without knowing the protocol
//! that produced them (as Wireshark's dissectors queue `tap_queue_packet`
//! data for tap listeners).
//!
//! This module depends on nothing else in the engine, so the field table,
//! the dissectors and the taps can all name its types.

/// A network-layer address, for conversations and endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Address {
    #[default]
    None,
    V4([u8; 4]),
    V6([u8; 16]),
}

/// The transport conversation a frame belongs to: the innermost network
/// addresses, the ports and the stream index of the transport that carried
/// the frame's payload, as its dissector saw them (source = this frame's
/// sender).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Transport {
    pub src: Address,
    pub dst: Address,
    pub srcport: u16,
    pub dstport: u16,
    /// The transport's stream index (`tcp.stream`).
    pub stream: u32,
}

/// One authentication, as tshark's `tap_credential_t` carries it
/// (`-z credentials`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// Frame the credential was completed in.
    pub frame: u32,
    /// Protocol label (`FTP`, `HTTP`, `POP3`, ...).
    pub proto: &'static str,
    /// The user name, as the dissector read it (printed as raw bytes).
    pub username: Vec<u8>,
    /// Free text, e.g. `Username in packet: 6`.
    pub info: Option<String>,
}
