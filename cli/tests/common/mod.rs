//! Helpers shared by the end-to-end tests: running the binary and building
//! small captures byte by byte.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub fn dorsal(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dorsal"))
        .args(args)
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dorsal");
    if let Some(bytes) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(bytes)
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("run dorsal")
}

/// Runs dorsal on `capture` (written to a temp file `name`) with `args`
/// after `-r`; asserts it succeeds and returns its standard output.
pub fn run_capture(name: &str, capture: &[u8], args: &[&str]) -> String {
    let path = write_temp(name, capture);
    let mut all = vec!["-r", path.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    let out = dorsal(&all, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Ethernet + IPv4 + UDP from 10.0.0.1:1234 to 10.0.0.2:9 carrying `payload`.
pub fn udp_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = (20 + 8 + payload.len()) as u16;
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        17,
        0,
        0,
    ]);
    f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    let ulen = (8 + payload.len()) as u16;
    f.extend_from_slice(&[0x04, 0xd2, 0, 9, (ulen >> 8) as u8, ulen as u8, 0, 0]);
    f.extend_from_slice(payload);
    f
}

pub fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let timed: Vec<(u32, &[u8])> = (0u32..)
        .zip(frames)
        .map(|(i, f)| (i * 1000 + 500, f.as_slice()))
        .collect();
    pcap_at(&timed)
}

/// A pcap of frames, each at its own time: milliseconds after 1000 s.
pub fn pcap_at(frames: &[(u32, &[u8])]) -> Vec<u8> {
    let mut v = vec![
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0,
    ];
    for &(ms, f) in frames {
        v.extend_from_slice(&(1_000 + ms / 1000).to_le_bytes());
        v.extend_from_slice(&((ms % 1000) * 1000).to_le_bytes());
        v.extend_from_slice(&(f.len() as u32).to_le_bytes());
        v.extend_from_slice(&(f.len() as u32).to_le_bytes());
        v.extend_from_slice(f);
    }
    v
}

pub fn write_temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dorsal-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    // Tests run in parallel and some write the same name: each writes its
    // own file and renames it into place, so no reader sees half a file.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{n}"));
    std::fs::write(&tmp, bytes).expect("write capture");
    std::fs::rename(&tmp, &path).expect("rename capture");
    path
}

/// Ethernet + IPv4 + TCP from 10.0.0.1:40000 to 10.0.0.2:`dport`, flags PSH|ACK.
pub fn tcp_frame(dport: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = (20 + 20 + payload.len()) as u16;
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ]);
    f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    f.extend_from_slice(&40000u16.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&1u32.to_be_bytes());
    f.extend_from_slice(&[0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// Ethernet + IPv4 + TCP from `src`:`sport` to `dst`:`dport`, flags PSH|ACK,
/// for conversations in both directions.
pub fn tcp_segment(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    seq: u32,
    ack: u32,
    payload: &[u8],
) -> Vec<u8> {
    tcp_packet(
        (src, sport),
        (dst, dport),
        (seq, ack),
        (0x18, 0xffff),
        payload,
    )
}

/// Ethernet + IPv4 + a 20-byte TCP header with these endpoints, sequence
/// and acknowledgment numbers, flags and window.
pub fn tcp_packet(
    (src, sport): ([u8; 4], u16),
    (dst, dport): ([u8; 4], u16),
    (seq, ack): (u32, u32),
    (flags, win): (u8, u16),
    payload: &[u8],
) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = (20 + 20 + payload.len()) as u16;
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.extend_from_slice(&[0x50, flags]);
    f.extend_from_slice(&win.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// UDP between two hosts (udp_frame with its addresses and ports replaced).
pub fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = udp_frame(payload);
    let mut at = |offset: usize, bytes: &[u8]| {
        if let Some(dst) = f.get_mut(offset..offset + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    };
    at(26, &src);
    at(30, &dst);
    at(34, &sport.to_be_bytes());
    at(36, &dport.to_be_bytes());
    f
}

/// A DNS query for `name` with id `id`.
pub fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    m
}

/// Three rounds of twelve clients talking to three servers, interleaved:
/// HTTP requests in two segments with their responses, DNS queries.
pub fn mixed_capture() -> Vec<u8> {
    mixed_capture_rounds(3)
}

/// [`mixed_capture`] with `rounds` rounds (48 frames each).
pub fn mixed_capture_rounds(rounds: u16) -> Vec<u8> {
    let mut frames = Vec::new();
    let server = |i: u8| [192, 0, 2, 10 + i % 3];
    for round in 0..u32::from(rounds) {
        for c in 0..12u8 {
            let [_, _, hi, lo] = round.to_be_bytes();
            let client = [10, hi, lo, c];
            let sport = 40000 + u16::from(c);
            let seq = 1000 + round * 100;
            frames.push(tcp_segment(client, sport, server(c), 80, seq, 1, b"GET /a"));
            frames.push(udp(
                client,
                5353 + u16::from(c),
                server(c + 1),
                53,
                &dns_query(u16::from(c), "example.com"),
            ));
            frames.push(tcp_segment(
                client,
                sport,
                server(c),
                80,
                seq + 6,
                1,
                b" HTTP/1.1\r\nHost: h\r\n\r\n",
            ));
            frames.push(tcp_segment(
                server(c),
                80,
                client,
                sport,
                1,
                seq + 28,
                b"HTTP/1.1 204 No Content\r\n\r\n",
            ));
        }
    }
    pcap(&frames)
}
