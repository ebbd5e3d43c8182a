//! Which `tcp.stream` a segment joins once its connection has closed: the
//! rules any retirement of per-connection state has to keep. Expected rows
//! were checked against tshark 4.0.17 on the same capture.

mod common;

use common::{dorsal, pcap, tcp_segment, write_temp};

const SYN: u8 = 0x02;
const SYN_ACK: u8 = 0x12;
const ACK: u8 = 0x10;
const PSH_ACK: u8 = 0x18;
const FIN_ACK: u8 = 0x11;
const RST_ACK: u8 = 0x14;

/// Offset of the TCP flags byte in the frames `tcp_segment` builds.
const FLAGS_AT: usize = 14 + 20 + 13;

const C: ([u8; 4], u16) = ([10, 0, 0, 1], 40000);
const S: ([u8; 4], u16) = ([10, 0, 0, 2], 80);

fn seg(from: ([u8; 4], u16), seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let to = if from == C { S } else { C };
    let mut f = tcp_segment(from.0, from.1, to.0, to.1, seq, ack, payload);
    if let Some(b) = f.get_mut(FLAGS_AT) {
        *b = flags;
    }
    f
}

#[test]
fn late_segments_keep_their_stream_and_a_new_isn_opens_the_next() {
    let frames = vec![
        // Stream 0: handshake, data, FIN both ways, last ACK.
        seg(C, 1000, 0, SYN, b""),
        seg(S, 5000, 1001, SYN_ACK, b""),
        seg(C, 1001, 5001, ACK, b""),
        seg(C, 1001, 5001, PSH_ACK, b"hello"),
        seg(C, 1006, 5001, FIN_ACK, b""),
        seg(S, 5001, 1007, FIN_ACK, b""),
        seg(C, 1007, 5002, ACK, b""),
        // A retransmission after the close: still stream 0, still relative.
        seg(C, 1001, 5002, PSH_ACK, b"hello"),
        // A SYN with a new initial sequence number: stream 1.
        seg(C, 90000, 0, SYN, b""),
        seg(S, 7000, 90001, SYN_ACK, b""),
        // The same SYN again is a retransmission in stream 1, not stream 2.
        seg(C, 90000, 0, SYN, b""),
        seg(C, 90001, 7001, ACK, b""),
        // Reset, then data after the reset: still stream 1.
        seg(C, 90001, 7001, RST_ACK, b""),
        seg(C, 90001, 7001, PSH_ACK, b"late"),
        // A new SYN after the reset: stream 2.
        seg(C, 123_456, 0, SYN, b""),
    ];
    let path = write_temp("tcp-streams.pcap", &pcap(&frames));
    let out = dorsal(
        &[
            "-r",
            path.to_str().expect("utf-8 path"),
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "tcp.seq",
            "-e",
            "tcp.analysis.retransmission",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let rows = String::from_utf8(out.stdout).expect("utf-8");
    let expected = "0\t0\t\n0\t0\t\n0\t1\t\n0\t1\t\n0\t6\t\n0\t1\t\n0\t7\t\n0\t1\t1\n\
                    1\t0\t\n1\t0\t\n1\t0\t1\n1\t1\t\n1\t1\t\n1\t1\t\n2\t0\t\n";
    assert_eq!(rows, expected);
}

/// A segment whose header length is bogus (8 bytes) still sets the stream's
/// sequence base from its flags and counts for the analysis: the next
/// segment, from before it, is a retransmission and not handed to HTTP.
#[test]
fn a_bogus_header_length_still_sets_the_sequence_base() {
    let mut bogus = seg(C, 1000, 0, SYN | 0x01, b"GET /a HTTP/1.1\r\n\r\n");
    if let Some(b) = bogus.get_mut(FLAGS_AT - 1) {
        *b = 0x20;
    }
    let late = seg(C, 900, 0, PSH_ACK, b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    let path = write_temp("bogus-hlen.pcap", &pcap(&[bogus, late]));
    let p = path.to_str().expect("path");
    let fields = dorsal(
        &[
            "-r",
            p,
            "-T",
            "fields",
            "-e",
            "tcp.seq",
            "-e",
            "tcp.len",
            "-e",
            "tcp.analysis.retransmission",
            "-e",
            "http.request.uri",
        ],
        None,
    );
    assert_eq!(
        String::from_utf8_lossy(&fields.stdout),
        "0\t31\t\t\n4294967196\t28\t1\t\n"
    );
    // It is not in the conversation table (tshark's TCP tap is not reached).
    let conv = dorsal(&["-r", p, "-q", "-z", "conv,tcp"], None);
    let conv = String::from_utf8_lossy(&conv.stdout);
    assert!(
        conv.contains("0 0 bytes         1 82 bytes        1 82 bytes"),
        "{conv}"
    );
    let text = dorsal(&["-r", p], None);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(
            "[FIN, SYN] Seq=0 Win=65535, bogus TCP header length (8, must be at least 20)"
        ),
        "{text}"
    );
}
