//! TCP sequence analysis in the default view: every expert prefix tshark
//! shows by default (window full, zero window and its probe and ACK,
//! window update, duplicate ACKs, fast retransmission, keep-alive and its
//! ACK, ports reused by a new handshake), in tshark's order. The expected
//! lines are what tshark 4.0.17 prints for the same bytes.

mod common;

use common::{dorsal, pcap_at, tcp_packet, write_temp};

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];

/// One segment at `ms` milliseconds between 10.0.0.1:33333 (the client)
/// and 10.0.0.2:44444, with `len` bytes of payload.
struct Seg {
    ms: u32,
    from_client: bool,
    seq: u32,
    ack: u32,
    flags: u8,
    win: u16,
    len: usize,
}

fn frame(s: &Seg) -> Vec<u8> {
    let (client, server) = ((C, 33333u16), (S, 44444u16));
    let (from, to) = if s.from_client {
        (client, server)
    } else {
        (server, client)
    };
    tcp_packet(
        from,
        to,
        (s.seq, s.ack),
        (s.flags, s.win),
        &vec![b'x'; s.len],
    )
}

fn capture(segs: &[Seg]) -> Vec<u8> {
    let frames: Vec<(u32, Vec<u8>)> = segs.iter().map(|s| (s.ms, frame(s))).collect();
    let timed: Vec<(u32, &[u8])> = frames.iter().map(|(ms, f)| (*ms, f.as_slice())).collect();
    pcap_at(&timed)
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH_ACK: u8 = 0x18;
const FIN_ACK: u8 = 0x11;

fn seg(ms: u32, from_client: bool, seq: u32, ack: u32, flags: u8, win: u16, len: usize) -> Seg {
    Seg {
        ms,
        from_client,
        seq,
        ack,
        flags,
        win,
        len,
    }
}

#[test]
fn every_default_analysis_prefix_as_tshark_shows_it() {
    let segs = [
        seg(0, true, 1000, 0, SYN, 64240, 0),
        seg(1, false, 5000, 1001, SYN | ACK, 1000, 0),
        seg(2, true, 1001, 5001, ACK, 64240, 0),
        // Fills the server's 1000-byte window.
        seg(3, true, 1001, 5001, PSH_ACK, 64240, 1000),
        seg(4, false, 5001, 2001, ACK, 0, 0),
        seg(200, true, 2001, 5001, PSH_ACK, 64240, 1),
        seg(201, false, 5001, 2001, ACK, 0, 0),
        seg(300, false, 5001, 2001, ACK, 8000, 0),
        seg(301, true, 2001, 5001, PSH_ACK, 64240, 100),
        seg(302, true, 2101, 5001, PSH_ACK, 64240, 100),
        seg(303, false, 5001, 2101, ACK, 8000, 0),
        seg(304, false, 5001, 2101, ACK, 8000, 0),
        seg(305, false, 5001, 2101, ACK, 8000, 0),
        seg(310, true, 2101, 5001, PSH_ACK, 64240, 100),
        seg(400, false, 5001, 2201, ACK, 8000, 0),
        seg(5000, true, 2200, 5001, ACK, 64240, 0),
        seg(5001, false, 5001, 2201, ACK, 8000, 0),
        seg(6000, true, 2201, 5001, FIN_ACK, 64240, 0),
        seg(6001, false, 5001, 2202, FIN_ACK, 8000, 0),
        seg(6002, true, 2202, 5002, ACK, 64240, 0),
        // The same ports again with a new initial sequence number.
        seg(7000, true, 90000, 0, SYN, 64240, 0),
        seg(7001, false, 70000, 90001, SYN | ACK, 8000, 0),
    ];
    let path = write_temp("tcp-analysis.pcap", &capture(&segs));
    let out = dorsal(&["-r", path.to_str().expect("path")], None);
    assert!(out.status.success());
    let got = String::from_utf8_lossy(&out.stdout);
    let want = include_str!("tcp_analysis_text.expected");
    assert_eq!(got, want);
}

/// Options that run past the end of the segment: Info keeps the numbers
/// (raw, as no analysis runs for a segment shorter than its header) and
/// the options read before the one cut short, then the exception.
#[test]
fn options_cut_short_keep_the_summary_read_before_them() {
    let mut f = tcp_packet((C, 33333), (S, 44444), (1000, 0), (SYN, 64240), &[]);
    // Header length 28, of which 24 bytes are sent: MSS, then the start of
    // a timestamps option.
    if let Some(b) = f.get_mut(14 + 20 + 12) {
        *b = 0x70;
    }
    f.extend_from_slice(&[2, 4, 0x05, 0xb4]);
    if let Some(b) = f.get_mut(14 + 3) {
        *b += 4;
    }
    let path = write_temp("tcp-options-cut.pcap", &pcap_at(&[(0, &f)]));
    let out = dorsal(&["-r", path.to_str().expect("path")], None);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "    1   0.000000     10.0.0.1 → 10.0.0.2     TCP 58 33333 → 44444 [SYN] Seq=1000 Win=64240 MSS=1460[Malformed Packet]\n"
    );
}
