//! Whole-report tests over packets built here byte by byte.

use super::*;

/// Ethernet + IPv4 + UDP (+ payload) with the given ports.
fn eth_ip_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 12];
    p.extend_from_slice(&[0x08, 0x00]);
    let total = u16::try_from(20 + 8 + payload.len()).unwrap_or(0);
    p.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0,
        0,
        64,
        17,
        0,
        0,
    ]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let ulen = u16::try_from(8 + payload.len()).unwrap_or(0);
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&ulen.to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    p
}

fn eth_ip_tcp(src: [u8; 4], dst: [u8; 4], dport: u16) -> Vec<u8> {
    let mut p = vec![0u8; 12];
    p.extend_from_slice(&[0x08, 0x00]);
    p.extend_from_slice(&[0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&40000u16.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&[0; 8]);
    p.extend_from_slice(&[0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
    p
}

fn dns_query(name: &[u8], qtype: u16) -> Vec<u8> {
    let mut d = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    d.extend_from_slice(name);
    d.extend_from_slice(&qtype.to_be_bytes());
    d.extend_from_slice(&[0, 1]);
    d
}

const A: [u8; 4] = [10, 0, 0, 2];
const B: [u8; 4] = [10, 0, 0, 10];
const C: [u8; 4] = [8, 8, 8, 8];

#[test]
fn synthetic_capture_report() {
    let mut r = Report::new(None);
    let q = dns_query(b"\x07example\x03com\x00", 1);
    r.packet(1, &eth_ip_udp(A, C, 40000, 53, &q), 1_600_000_000, 0);
    // A name with an invalid UTF-8 byte and a non-ASCII one.
    let q2 = dns_query(b"\x03a\xffb\x02\xc3\xa9\x00", 28);
    r.packet(
        1,
        &eth_ip_udp(A, C, 40001, 53, &q2),
        1_600_000_000,
        500_000_000,
    );
    // Beacon: 6 TCP packets 60 s apart (+ jitter).
    for i in 0..6i64 {
        r.packet(
            1,
            &eth_ip_tcp(A, B, 443),
            1_600_000_100 + 60 * i,
            if i == 3 { 250_000_000 } else { 0 },
        );
    }
    // Ties in the distribution keep first-seen order.
    r.packet(1, &eth_ip_udp(B, A, 1000, 2000, b"x"), 1_600_001_000, 0);
    let (json, out) = r.render("x.pcap", "T");
    assert_eq!(
        out,
        "[*] Total packets: 9\n[*] Conversations: 2\n[*] DNS queries: 2\n[*] Potential beacons: 1\n"
    );
    // The TCP and UDP packets between A and B are one conversation (the
    // key is the sorted pair of address strings: "10.0.0.10" < "10.0.0.2").
    let want = r#"{
  "analysis_timestamp": "T",
  "pcap_file": "x.pcap",
  "total_packets": 9,
  "conversations": [
    {
      "src": "10.0.0.10",
      "dst": "10.0.0.2",
      "packets": 7,
      "bytes": 367
    },
    {
      "src": "10.0.0.2",
      "dst": "8.8.8.8",
      "packets": 2,
      "bytes": 137
    }
  ],
  "dns_queries": [
    {
      "query": "example.com",
      "type": 1,
      "src": "10.0.0.2"
    },
    {
      "query": "a\ufffdb.\u00e9",
      "type": 28,
      "src": "10.0.0.2"
    }
  ],
  "potential_beacons": [
    {
      "src": "10.0.0.2",
      "dst": "10.0.0.10",
      "port": 443,
      "avg_interval": 60.0,
      "variance": 0.025,
      "connection_count": 6
    }
  ],
  "protocol_distribution": {
    "TCP/443": 6,
    "UDP/53": 2,
    "UDP/2000": 1
  }
}"#;
    assert_eq!(json, want);
}

#[test]
fn truncated_layers_become_raw() {
    let mut d = Decoder::default();
    // IPv4 header cut at 19 bytes: no IP at all.
    let mut p = eth_ip_tcp(A, B, 80);
    p.truncate(14 + 19);
    d.decode(scapy::Layer::Ether, &p);
    assert!(d.view.ip.is_none());
    // TCP header cut: IP but no TCP.
    let mut p = eth_ip_tcp(A, B, 80);
    p.truncate(14 + 20 + 10);
    d.decode(scapy::Layer::Ether, &p);
    assert!(d.view.ip.is_some() && d.view.tcp_dport.is_none());
}

#[test]
fn time_is_one_rounding_of_the_decimal() {
    assert_eq!(py_time(1_600_000_000, 123_456_000), 1_600_000_000.123456);
    assert_eq!(
        py_time(1_600_000_000, 123_456_789),
        "1600000000.123456789".parse::<f64>().unwrap_or(0.0)
    );
    assert_eq!(py_time(0, 1), 1e-9);
}
