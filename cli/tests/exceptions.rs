//! Wireshark's exception items (`_ws.malformed`, `_ws.short`): where a
//! dissector reads past its bytes, the frame gets the item at the top level
//! of the tree, which `-z io,phs` counts and `-e` prints by its label.

mod common;

use common::{dorsal, pcap, write_temp};

/// Ethernet + IPv6 (payload length `plen`, next header `nxt`) + `rest`.
fn ipv6_frame(plen: u16, nxt: u8, rest: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd];
    f.extend_from_slice(&[0x60, 0, 0, 0]);
    f.extend_from_slice(&plen.to_be_bytes());
    f.extend_from_slice(&[nxt, 64]);
    f.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    f.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    f.extend_from_slice(rest);
    f
}

fn run(name: &str, frames: &[Vec<u8>], args: &[&str]) -> String {
    let path = write_temp(name, &pcap(frames));
    let p = path.to_str().expect("utf-8 path");
    let mut argv = vec!["-r", p];
    argv.extend_from_slice(args);
    let out = dorsal(&argv, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn ipv6_zero_payload_length_gives_the_next_protocol_no_bytes() {
    // A UDP header follows, but the payload length says 0 and there is no
    // hop-by-hop header, so it is no jumbogram: UDP throws on its ports.
    let udp = [0x04, 0xd2, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4];
    let frames = [ipv6_frame(0, 17, &udp)];
    let fields = run(
        "v6-zero-udp.pcap",
        &frames,
        &[
            "-T",
            "fields",
            "-e",
            "frame.protocols",
            "-e",
            "udp.srcport",
            "-e",
            "_ws.malformed",
        ],
    );
    assert_eq!(
        fields,
        "eth:ethertype:ipv6:udp\t\t[Malformed Packet: UDP],_ws.malformed\n"
    );
    let phs = run("v6-zero-udp-phs.pcap", &frames, &["-q", "-z", "io,phs"]);
    assert!(
        phs.contains("  ipv6 ") && phs.contains("    _ws.malformed "),
        "{phs}"
    );
    assert!(!phs.contains("udp"), "{phs}");
    let conv = run("v6-zero-udp-conv.pcap", &frames, &["-q", "-z", "conv,udp"]);
    assert!(!conv.contains(":1234"), "{conv}");
}

#[test]
fn icmpv6_with_no_bytes_keeps_its_item_then_throws() {
    let frames = [ipv6_frame(0, 58, &[128, 0, 0, 0, 0, 1, 0, 1])];
    let phs = run("v6-zero-icmp.pcap", &frames, &["-q", "-z", "io,phs"]);
    assert!(
        phs.contains("    icmpv6 ") && phs.contains("      _ws.malformed "),
        "{phs}"
    );
}

#[test]
fn a_cut_icmpv6_body_is_short_within_the_wire_length_malformed_past_it() {
    // Payload length 8 (an echo request), but the capture holds only 6
    // bytes of it: the read of the sequence number runs into missing bytes.
    let frame = ipv6_frame(8, 58, &[128, 0, 0, 0, 0, 1]);
    let fields = ["-T", "fields", "-e", "_ws.short", "-e", "_ws.malformed"];
    // The frame on the wire was 2 bytes longer (a snaplen cut).
    let mut cut = pcap(std::slice::from_ref(&frame));
    let wire = (frame.len() as u32 + 2).to_le_bytes();
    cut[36..40].copy_from_slice(&wire);
    let path = write_temp("v6-cut-icmp.pcap", &cut);
    let p = path.to_str().expect("utf-8 path");
    let mut argv = vec!["-r", p];
    argv.extend_from_slice(&fields);
    let out = dorsal(&argv, None);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "[Packet size limited during capture: ICMPv6 truncated]\t\n"
    );
    // Without the cut, the bytes are missing from the packet itself.
    let out = run("v6-past-icmp.pcap", &[frame], &fields);
    assert_eq!(out, "\t[Malformed Packet: ICMPv6],_ws.malformed\n");
}

#[test]
fn an_empty_ethernet_frame_is_malformed_with_no_ethernet_item() {
    let frames = [ipv6_frame(0, 59, &[]), Vec::new()];
    let phs = run("empty-eth.pcap", &frames, &["-q", "-z", "io,phs"]);
    assert!(
        phs.contains("\neth                                      frames:1 "),
        "{phs}"
    );
    assert!(
        phs.contains("\n_ws.malformed                            frames:1 bytes:0\n"),
        "{phs}"
    );
    let fields = run(
        "empty-eth-fields.pcap",
        &frames[1..],
        &[
            "-T",
            "fields",
            "-e",
            "frame.protocols",
            "-e",
            "_ws.malformed",
        ],
    );
    assert_eq!(fields, "eth\t[Malformed Packet: Ethernet],_ws.malformed\n");
}

#[test]
fn tcp_options_running_past_the_datagram_are_malformed() {
    // IPv4 total length 40 leaves 20 bytes of TCP, but the header length
    // says 24: the options walk reads past the datagram.
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    f.extend_from_slice(&[0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x02]);
    f.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
    // Ethernet padding after the datagram: not TCP's bytes.
    f.extend_from_slice(&[2, 4, 5, 0xb4, 0, 0]);
    let out = run(
        "tcp-opts-past.pcap",
        &[f],
        &["-T", "fields", "-e", "tcp.srcport", "-e", "_ws.malformed"],
    );
    assert_eq!(
        out,
        "40000\t_ws.malformed,[Malformed Packet: TCP],_ws.malformed\n"
    );
}
