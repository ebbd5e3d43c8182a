//! An application payload over TCP or UDP to a well-known port, cut into
//! segments in both directions, so each application dissector (DNS, HTTP,
//! HTTP/2, TLS, FTP, SMB2/NTLMSSP, mail) and TCP reassembly see it.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

/// (port, TCP?)
const PORTS: [(u16, bool); 14] = [
    (53, false),
    (5353, false),
    (5355, false),
    (53, true),
    (80, true),
    (443, true),
    (21, true),
    (20, true),
    (445, true),
    (139, true),
    (110, true),
    (143, true),
    (25, true),
    (8080, true),
];

fn frame(tcp: bool, to_server: bool, port: u16, seq: u32, ack: u32, payload: &[u8]) -> Vec<u8> {
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let (src, dst, sport, dport) = if to_server {
        (a, b, 40000, port)
    } else {
        (b, a, port, 40000)
    };
    let l4 = if tcp { 20 } else { 8 };
    let total = u16::try_from(20 + l4 + payload.len()).unwrap_or(u16::MAX);
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0];
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&[0, 1, 0x40, 0, 64, if tcp { 6 } else { 17 }, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    if tcp {
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&ack.to_be_bytes());
        f.extend_from_slice(&[0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
    } else {
        let len = u16::try_from(8 + payload.len()).unwrap_or(u16::MAX);
        f.extend_from_slice(&len.to_be_bytes());
        f.extend_from_slice(&[0, 0]);
    }
    f.extend_from_slice(payload);
    f
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let (port, tcp) = PORTS[usize::from(sel) % PORTS.len()];
    // Segments cut at "\xff\xfe"; a segment starting with '<' goes back
    // from the server.
    let mut seq = [1u32, 1u32];
    let mut frames = Vec::new();
    for seg in rest.split(|&b| b == 0xfe).take(32) {
        let (back, body) = match seg.split_first() {
            Some((b'<', body)) => (true, body),
            _ => (false, seg),
        };
        let d = usize::from(back);
        let (s, a) = (seq[d], seq[1 - d]);
        frames.push(frame(tcp, !back, port, s, a, body));
        seq[d] = s.wrapping_add(u32::try_from(body.len()).unwrap_or(0));
    }
    common::run_engine(&common::pcap(1, &frames), true);
});
