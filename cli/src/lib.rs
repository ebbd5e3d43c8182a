//! The protocol crates the `dorsal` binary is built with (a library so
//! that the fuzz targets and tests run the same list): adding a protocol
//! is one crate and one line here.

use dorsal_engine::protocol::Register;

/// In registration order, which is also the order dissectors claim
/// handoff tables and heuristics in: FTP before TLS, so the FTP-DATA
/// heuristic runs before TLS's.
pub const PROTOCOLS: &[Register] = &[
    dorsal_link::protocol,
    dorsal_dns::protocol,
    dorsal_ftp::protocol,
    dorsal_http2::protocol,
    dorsal_smb2::protocol,
    dorsal_mail::protocol,
    dorsal_lan::protocol,
    dorsal_ssh::protocol,
    dorsal_tls::protocol,
    dorsal_http::protocol,
];
