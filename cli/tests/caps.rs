//! Crafted worst cases for the export cap: whatever a response claims or
//! inflates to, an exported object stays within one reassembled PDU or one
//! decoded body (64 MiB) and the run ends quickly.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{dorsal, pcap, tcp_segment, write_temp};

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];
const CAP: u64 = 64 << 20;

/// A GET and its response, the response's bytes cut into 1,400-byte segments.
fn exchange(response: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = vec![tcp_segment(
        C,
        40000,
        S,
        80,
        1,
        1,
        b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n",
    )];
    let mut seq = 1u32;
    for chunk in response.chunks(1400) {
        frames.push(tcp_segment(S, 80, C, 40000, seq, 29, chunk));
        seq = seq.wrapping_add(chunk.len() as u32);
    }
    frames
}

fn exported_bytes(name: &str, frames: &[Vec<u8>]) -> (u64, Duration) {
    let path = write_temp(name, &pcap(frames));
    let dir = std::env::temp_dir().join(format!("dorsal-caps-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let arg = format!("http,{}", dir.display());
    let start = Instant::now();
    let out = dorsal(
        &[
            "-r",
            path.to_str().expect("path"),
            "-q",
            "--export-objects",
            &arg,
        ],
        None,
    );
    let took = start.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let total = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    let _ = std::fs::remove_dir_all(&dir);
    (total, took)
}

#[test]
fn a_gzip_bomb_exports_at_most_the_decoded_cap() {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..100 {
        e.write_all(&zeros).expect("deflate");
    }
    let body = e.finish().expect("gzip");
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    let (total, took) = exported_bytes("bomb.pcap", &exchange(&response));
    assert!(total > 0 && total <= CAP, "{total} bytes exported");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_body_longer_than_the_pdu_cap_is_given_up_not_held() {
    // Claims 200 MB, sends 1.4 MB: reassembly waits within its cap.
    let mut response = b"HTTP/1.1 200 OK\r\nContent-Length: 200000000\r\n\r\n".to_vec();
    response.extend(std::iter::repeat_n(b'a', 1_400_000));
    let (total, took) = exported_bytes("long.pcap", &exchange(&response));
    assert!(total <= CAP, "{total} bytes exported");
    assert!(took < Duration::from_secs(10), "{took:?}");
}
