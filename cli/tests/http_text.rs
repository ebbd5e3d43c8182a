//! HTTP/1 in the default view: several messages in one segment each add
//! their first line, and bytes after them that start no message are
//! `Continuation`. The expected line is what tshark 4.0.17 prints for the
//! same bytes.

mod common;

use common::{dorsal, pcap, tcp_frame, write_temp};

#[test]
fn pipelined_requests_in_one_segment_each_show_their_line() {
    let payload =
        b"GET /one/ HTTP/1.1\r\nHost: a\r\n\r\nGET /two/ HTTP/1.1\r\nHost: a\r\n\r\nxyz\r\n";
    let cap = write_temp(
        "http-pipelined.pcap",
        &pcap(&[tcp_frame(80, 1000, payload)]),
    );
    let out = dorsal(&["-r", cap.to_str().expect("path")], None);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "    1   0.000000     10.0.0.1 → 10.0.0.2     HTTP 121 GET /one/ HTTP/1.1 GET /two/ HTTP/1.1 Continuation\n"
    );
}

/// Control bytes of a first line print as C escapes (`format_text`).
#[test]
fn control_bytes_in_the_first_line_are_escaped() {
    let payload = b"GET /a\tb\x01c HTTP/1.1\r\nHost: a\r\n\r\n";
    let cap = write_temp("http-escapes.pcap", &pcap(&[tcp_frame(80, 1000, payload)]));
    let out = dorsal(&["-r", cap.to_str().expect("path")], None);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "    1   0.000000     10.0.0.1 → 10.0.0.2     HTTP 86 GET /a\\tb\\001c HTTP/1.1 \n"
    );
}
