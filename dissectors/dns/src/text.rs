//! Display text of DNS names and strings: Wireshark's `format_text` (in
//! the engine, shared with every protocol's columns) and the lossy ASCII
//! of strings read with ENC_ASCII.

pub use dorsal_engine::text::format_text;

/// Whether a byte is printable ASCII (for strings read with ENC_ASCII).
pub fn ascii_lossy(out: &mut Vec<u8>, raw: &[u8]) {
    for &b in raw {
        if b < 0x80 {
            out.push(b);
        } else {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
}
