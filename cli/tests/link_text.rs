//! The default view of frames that no network layer names: the addresses
//! columns show the MACs by vendor and well-known name, an ethertype no
//! protocol takes is shown by number and name, bogus IP headers say why,
//! an IP protocol nothing dissects is named, and ARP's relatives and
//! duplicate addresses are told. The expected lines are
//! what tshark 4.0.17 prints for the same bytes with the same `manuf`/`wka`
//! entries.

mod common;

use std::process::Command;

use common::{pcap, write_temp};

/// Ethernet from 00:00:0c:12:34:56 to `dst` with type `ty`, then `body`.
fn eth(dst: [u8; 6], src: [u8; 6], ty: u16, body: &[u8]) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&ty.to_be_bytes());
    f.extend_from_slice(body);
    f
}

/// IPv4 10.0.0.1 -> 10.0.0.2 carrying 8 zero bytes of protocol `proto`.
fn ipv4(proto: u8) -> Vec<u8> {
    let mut h = vec![
        0x45, 0, 0, 28, 0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    h.extend_from_slice(&[0; 8]);
    h
}

/// IPv6 ::1 -> ::2 carrying 8 zero bytes of next header `nxt`.
fn ipv6(nxt: u8) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0, 0, 8, nxt, 64];
    h.extend_from_slice(&[0; 15]);
    h.push(1);
    h.extend_from_slice(&[0; 15]);
    h.push(2);
    h.extend_from_slice(&[0; 8]);
    h
}

fn capture() -> Vec<u8> {
    const BCAST: [u8; 6] = [0xff; 6];
    const CISCO: [u8; 6] = [0, 0, 0x0c, 0x12, 0x34, 0x56];
    let first = |b: u8| {
        let mut v = vec![b];
        v.extend_from_slice(&[0; 40]);
        v
    };
    pcap(&[
        eth(BCAST, CISCO, 0x0800, &first(0x44)),
        eth(BCAST, CISCO, 0x0800, &first(0x55)),
        eth(BCAST, CISCO, 0x86dd, &first(0x40)),
        eth(BCAST, CISCO, 0x88b5, &[0; 40]),
        eth(BCAST, CISCO, 0x0800, &ipv4(64)),
        eth(BCAST, CISCO, 0x86dd, &ipv6(253)),
        eth(
            [0x01, 0, 0x5e, 0, 0, 1],
            [0x08, 0, 0x27, 0x7a, 0x1b, 0x2c],
            0x1234,
            &[0; 40],
        ),
        // An IPv6 header cut after its source address, and a frame shorter
        // than an Ethernet header.
        eth(BCAST, CISCO, 0x86dd, ipv6(59).get(..30).expect("header")),
        vec![0xff; 10],
        // A loose source route whose last hop, 5.6.7.8, is the destination.
        eth(BCAST, CISCO, 0x0800, &source_routed()),
        // RARP with empty addresses, then 10.0.0.9 claimed by two MACs.
        eth(BCAST, CISCO, 0x8035, &[0, 1, 8, 0, 0, 0, 0, 4]),
        eth(BCAST, CISCO, 0x0806, &arp_request(CISCO)),
        eth(BCAST, OTHER, 0x0806, &arp_request(OTHER)),
    ])
}

const OTHER: [u8; 6] = [0, 0, 0x0c, 0x65, 0x43, 0x21];

/// An ARP request from `mac` at 10.0.0.9 for 10.0.0.1.
fn arp_request(mac: [u8; 6]) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1];
    a.extend_from_slice(&mac);
    a.extend_from_slice(&[10, 0, 0, 9, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1]);
    a
}

/// IPv4 10.0.0.1 -> 10.0.0.2 via a loose source route to 5.6.7.8.
fn source_routed() -> Vec<u8> {
    let mut h = vec![
        0x48, 0, 0, 40, 0, 1, 0, 0, 64, 64, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    h.extend_from_slice(&[0x83, 11, 4, 1, 1, 1, 1, 5, 6, 7, 8, 1]);
    h.extend_from_slice(&[0; 8]);
    h
}

#[test]
fn frames_without_a_network_layer_match_tshark() {
    let dir = std::env::temp_dir().join(format!("dorsal-manuf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("manuf"),
        "00:00:0C\tCisco\tCisco Systems, Inc\n08:00:27\tPcsCompu\tPCS Computer Systems GmbH\n",
    )
    .expect("manuf");
    std::fs::write(
        dir.join("wka"),
        "FF:FF:FF:FF:FF:FF\tBroadcast\n01:00:5E:00:00:00/25\tIPv4mcast\n",
    )
    .expect("wka");
    let cap = write_temp("link-text.pcap", &capture());
    let out = Command::new(env!("CARGO_BIN_EXE_dorsal"))
        .args(["-r", cap.to_str().expect("path")])
        .env("TZ", "UTC")
        .env("DORSAL_WIRESHARK_DIR", &dir)
        .output()
        .expect("run dorsal");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = concat!(
        "    1   0.000000 Cisco_12:34:56 → Broadcast    IPv4 55 Bogus IP header length (16, must be at least 20)\n",
        "    2   1.000000 Cisco_12:34:56 → Broadcast    IPv4 55 Bogus IPv4 version (5, must be 4)\n",
        "    3   2.000000 Cisco_12:34:56 → Broadcast    0x86dd 55 IPv6\n",
        "    4   3.000000 Cisco_12:34:56 → Broadcast    0x88b5 54 Local Experimental Ethertype 1\n",
        "    5   4.000000     10.0.0.1 → 10.0.0.2     IPv4 42 SATNET EXPAK (64)\n",
        "    6   5.000000          ::1 → ::2          IPv6 62 Unknown IP Protocol: Unknown (253)\n",
        "    7   6.000000 PcsCompu_7a:1b:2c → IPv4mcast_01 0x1234 54 Ethernet II\n",
        "    8   7.000000          ::1 → Broadcast    IPv6 44 Invalid IPv6 header (30 bytes, need exactly 40)[Malformed Packet]\n",
        "    9   8.000000              → Broadcast    Ethernet 10 [Malformed Packet]\n",
        "   10   9.000000     10.0.0.1 → 5.6.7.8      IPv4 54 SATNET EXPAK (64)\n",
        "   11  10.000000 Cisco_12:34:56 → Broadcast    RARP 22 <No address> is at <No address>\n",
        "   12  11.000000 Cisco_12:34:56 → Broadcast    ARP 42 Who has 10.0.0.1? Tell 10.0.0.9\n",
        "   13  12.000000 Cisco_65:43:21 → Broadcast    ARP 42 Who has 10.0.0.1? Tell 10.0.0.9 (duplicate use of 10.0.0.9 detected!)\n",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}
