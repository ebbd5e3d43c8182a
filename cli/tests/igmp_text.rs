//! IGMP v1-v3 and RGMP in the default view and `-z io,phs`: the version
//! tshark decides from the type and a query's length, and its summaries.
//! The expected lines are what tshark 4.0.17 prints for the same bytes.

mod common;

use common::{dorsal, pcap, write_temp};

/// The ones' complement sum of `b`, folded.
fn checksum(b: &[u8]) -> u16 {
    let mut sum: u32 = b
        .chunks(2)
        .map(|c| {
            let hi = c.first().copied().unwrap_or(0);
            let lo = c.get(1).copied().unwrap_or(0);
            u32::from(u16::from_be_bytes([hi, lo]))
        })
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Ethernet + IPv4 (protocol 2, TTL 1) from 10.0.0.1 to `dst` carrying `igmp`
/// with its checksum filled in.
fn igmp(dst: [u8; 4], igmp: &[u8]) -> Vec<u8> {
    let sum = checksum(igmp).to_be_bytes();
    let body: Vec<u8> = (0..)
        .zip(igmp)
        .map(|(i, &b)| match i {
            2 | 3 => sum.get(i - 2).copied().unwrap_or(0),
            _ => b,
        })
        .collect();
    let [_, d1, d2, d3] = dst;
    let mut f = vec![1, 0, 0x5e, d1 & 0x7f, d2, d3, 2, 0, 0, 0, 0, 1, 8, 0];
    let total = (20 + body.len()) as u16;
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0,
        0,
        1,
        2,
        0,
        0,
    ]);
    f.extend_from_slice(&[10, 0, 0, 1]);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&body);
    f
}

fn capture() -> Vec<u8> {
    pcap(&[
        igmp([224, 0, 0, 1], &[0x11, 0x64, 0, 0, 0, 0, 0, 0]),
        igmp([224, 0, 0, 251], &[0x16, 0, 0, 0, 224, 0, 0, 251]),
        igmp([224, 0, 0, 2], &[0x17, 0, 0, 0, 224, 0, 0, 251]),
        igmp(
            [224, 0, 0, 22],
            &[
                0x22, 0, 0, 0, 0, 0, 0, 2, // two records
                4, 0, 0, 0, 224, 0, 0, 251, // join, any source
                1, 0, 0, 2, 239, 1, 1, 1, 10, 0, 0, 5, 10, 0, 0, 6,
            ],
        ),
        igmp(
            [239, 1, 1, 1],
            &[
                0x11, 0x0a, 0, 0, 239, 1, 1, 1, 0x02, 0x7d, 0, 1, 10, 0, 0, 9,
            ],
        ),
        igmp([224, 0, 0, 5], &[0x12, 0, 0, 0, 224, 0, 0, 5]),
        igmp([224, 0, 0, 25], &[0xff, 0, 0, 0, 0, 0, 0, 0]),
        igmp([224, 0, 0, 1], &[0x50, 0, 0, 0, 0, 0, 0, 0]),
    ])
}

#[test]
fn igmp_summaries_are_tsharks() {
    let path = write_temp("igmp-text.pcap", &capture());
    let out = dorsal(&["-r", path.to_str().unwrap()], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = include_str!("igmp_text.expected");
    assert_eq!(text, expected);
}

#[test]
fn igmp_and_rgmp_are_layers_of_their_own() {
    let path = write_temp("igmp-phs.pcap", &capture());
    let out = dorsal(&["-r", path.to_str().unwrap(), "-q", "-z", "io,phs"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("    igmp                                 frames:7 bytes:"),
        "{text}"
    );
    assert!(
        text.contains("    rgmp                                 frames:1 bytes:"),
        "{text}"
    );
}
