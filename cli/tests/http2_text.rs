//! The default view of cleartext HTTP/2 (h2c with prior knowledge), end to
//! end on a capture built here. The expected lines are what tshark 4.0.17
//! prints for the same bytes: every frame names itself in Info
//! (`HEADERS[1]`), header blocks add `: GET /path` or `: 200 OK`, and a
//! DNS message carried in a body (DoH) takes the columns over until the
//! next HTTP/2 frame of the segment takes the Protocol column back.

mod common;

use common::{dns_query, dorsal, pcap, tcp_segment, write_temp};

const MAGIC: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];

/// One HTTP/2 frame.
fn frame(typ: u8, flags: u8, sid: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = len.to_be_bytes()[1..].to_vec();
    f.extend_from_slice(&[typ, flags]);
    f.extend_from_slice(&sid.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An HPACK literal without indexing whose name is static entry `idx`
/// (below 15).
fn literal(idx: u8, value: &[u8]) -> Vec<u8> {
    let mut b = vec![idx, value.len() as u8];
    b.extend_from_slice(value);
    b
}

/// The response to `dns_query`: the question echoed with QR set.
fn dns_response(id: u16, name: &str) -> Vec<u8> {
    let mut m = dns_query(id, name);
    if let Some(flags) = m.get_mut(2) {
        *flags = 0x81;
    }
    if let Some(flags) = m.get_mut(3) {
        *flags = 0x80;
    }
    m
}

fn capture() -> Vec<u8> {
    // Request: :method GET, :scheme http, :path /dns-query?dns=x.
    let mut req = vec![0x82, 0x86];
    req.extend(literal(4, b"/dns-query?dns=x"));
    let c1: Vec<u8> = [MAGIC.to_vec(), frame(4, 0, 0, &[]), frame(1, 0x05, 1, &req)].concat();
    // Response: :status 200, content-type application/dns-message (static
    // entry 31, a 4-bit prefix continued), then the body and a PING.
    let mut resp = vec![0x88, 0x0f, 0x10, 23];
    resp.extend_from_slice(b"application/dns-message");
    let s1: Vec<u8> = [
        frame(4, 0, 0, &[]),
        frame(1, 0x04, 1, &resp),
        frame(0, 0x01, 1, &dns_response(0x1234, "example.com")),
        frame(6, 0, 0, &[0; 8]),
    ]
    .concat();
    // :status 404 (static entry 13) and a frame type tshark does not know.
    let s2: Vec<u8> = [frame(1, 0x05, 3, &[0x8d]), frame(0xfa, 0, 3, &[1, 2])].concat();
    let frames = [
        tcp_segment(CLIENT, 40000, SERVER, 80, 1, 1, &c1),
        tcp_segment(SERVER, 80, CLIENT, 40000, 1, 1 + c1.len() as u32, &s1),
        tcp_segment(
            SERVER,
            80,
            CLIENT,
            40000,
            1 + s1.len() as u32,
            1 + c1.len() as u32,
            &s2,
        ),
    ];
    pcap(&frames)
}

#[test]
fn h2c_summary_lines_match_tshark() {
    let cap = write_temp("h2c-text.pcap", &capture());
    let out = dorsal(&["-r", cap.to_str().expect("path")], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let expected = concat!(
        "    1   0.000000     10.0.0.1 → 10.0.0.2     HTTP2 116 Magic, SETTINGS[0], HEADERS[1]: GET /dns-query?dns=x\n",
        "    2   1.000000     10.0.0.2 → 10.0.0.1     HTTP2 154 Standard query response 0x1234 A example.com, PING[0]\n",
        "    3   2.000000     10.0.0.2 → 10.0.0.1     HTTP2 75 HEADERS[3]: 404 Not Found, Unknown type (250)[3]\n",
    );
    assert_eq!(text, expected);
}
