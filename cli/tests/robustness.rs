//! Damaged input never crashes dorsal: captures built from valid frames are
//! mutated (bytes flipped, lengths lied about, records cut) and every run
//! must end with tshark's exit codes, never a panic or a signal.

mod common;

use common::{dorsal, pcap, tcp_frame, udp_frame, write_temp};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seed_frames() -> Vec<Vec<u8>> {
    let mut dns = vec![
        0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'w', b'w', b'w', 0, 0, 1, 0, 1,
    ];
    dns.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]);
    let mut dns_frame = udp_frame(&dns);
    // Make the source port 53 too.
    if let Some(port) = dns_frame.get_mut(34..36) {
        port.copy_from_slice(&53u16.to_be_bytes());
    }
    let hello = [
        0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03, 0x11, 0x11, 0x11, 0x11,
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x00, 0x00,
        0x02, 0x13, 0x01, 0x01, 0x00,
    ];
    vec![
        udp_frame(b"hello"),
        dns_frame,
        tcp_frame(80, 1, b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"),
        tcp_frame(443, 100, &hello),
        tcp_frame(21, 5, b"USER anonymous\r\n"),
    ]
}

#[test]
fn mutated_captures_never_crash() {
    let fields = [
        "frame.number",
        "frame.protocols",
        "eth.src",
        "ip.src",
        "ip.len",
        "ipv6.src",
        "tcp.stream",
        "tcp.seq",
        "tcp.len",
        "udp.length",
        "dns.qry.name",
        "dns.a",
        "tls.handshake.type",
        "tls.handshake.ja3",
        "data.data",
    ];
    let mut args: Vec<&str> = vec!["-T", "fields"];
    for f in &fields {
        args.push("-e");
        args.push(f);
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let seeds = seed_frames();
    for round in 0..60 {
        let mut frames = Vec::new();
        for _ in 0..8 {
            let mut f = seeds[rng.below(seeds.len())].clone();
            for _ in 0..1 + rng.below(6) {
                match rng.below(4) {
                    0 if !f.is_empty() => {
                        let i = rng.below(f.len());
                        f[i] = rng.next() as u8;
                    }
                    1 => f.truncate(rng.below(f.len() + 1)),
                    2 => {
                        // Lie in a length field: IP total length or UDP/TCP header bytes.
                        let i = [16, 17, 38, 39, 46][rng.below(5)];
                        if i < f.len() {
                            f[i] = 0xff;
                        }
                    }
                    _ => {
                        let n = rng.below(40);
                        f.extend((0..n).map(|_| rng.next() as u8));
                    }
                }
            }
            frames.push(f);
        }
        let mut bytes = pcap(&frames);
        if round % 7 == 0 {
            bytes.truncate(bytes.len().saturating_sub(rng.below(30)));
        }
        let path = write_temp(&format!("mutated-{round}.pcap"), &bytes);
        let mut argv = vec!["-r", path.to_str().expect("path")];
        argv.extend_from_slice(&args);
        let out = dorsal(&argv, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "round {round}: {stderr}");
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "round {round}: {:?} {stderr}",
            out.status
        );
    }
}
