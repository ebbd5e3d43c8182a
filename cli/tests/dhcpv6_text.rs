//! DHCPv6 (UDP 546/547): the Info line tshark builds from the message, its
//! client ID and addresses, relays with their inner message, truncated and
//! unknown messages, and the common fields. The expected text is what
//! tshark 4.0.17 prints for the same bytes.

mod common;

use common::{pcap, run_capture};

/// Ethernet + IPv6 + UDP from fe80::1:546 to ff02::1:2:547.
fn udp6(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x33, 0x33, 0, 1, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd];
    let ulen = (8 + payload.len()) as u16;
    f.extend_from_slice(&[0x60, 0, 0, 0]);
    f.extend_from_slice(&ulen.to_be_bytes());
    f.extend_from_slice(&[17, 1]);
    f.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    f.extend_from_slice(&[0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]);
    f.extend_from_slice(&546u16.to_be_bytes());
    f.extend_from_slice(&547u16.to_be_bytes());
    f.extend_from_slice(&ulen.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

fn opt(code: u16, body: &[u8]) -> Vec<u8> {
    let mut o = code.to_be_bytes().to_vec();
    o.extend_from_slice(&(body.len() as u16).to_be_bytes());
    o.extend_from_slice(body);
    o
}

fn msg(ty: u8, xid: u32, opts: &[Vec<u8>]) -> Vec<u8> {
    let mut m = vec![ty];
    m.extend_from_slice(&xid.to_be_bytes()[1..]);
    for o in opts {
        m.extend_from_slice(o);
    }
    m
}

fn addr(last: u8) -> [u8; 16] {
    [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last,
    ]
}

fn capture() -> Vec<u8> {
    let duid = [
        0, 1, 0, 1, 0x1c, 0x39, 0xcf, 0x88, 0x08, 0, 0x27, 0xfe, 0x8f, 0x95,
    ];
    let cid = opt(1, &duid);
    let mut iaaddr = addr(0x10).to_vec();
    iaaddr.extend_from_slice(&[0, 0, 0x0e, 0x10, 0, 0, 0x1c, 0x20]);
    let mut ia_na = vec![0, 0, 0, 1, 0, 0, 0x07, 0x08, 0, 0, 0x0b, 0x40];
    ia_na.extend_from_slice(&opt(5, &iaaddr));
    let solicit = msg(
        1,
        0x00ab_cdef,
        &[
            cid.clone(),
            opt(8, &[0, 0]),
            opt(6, &[0, 23, 0, 24]),
            opt(3, &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
        ],
    );
    let advertise = msg(
        2,
        0x00ab_cdef,
        &[cid.clone(), opt(3, &ia_na), opt(23, &addr(0x53))],
    );
    let mut relay = vec![12, 0];
    relay.extend_from_slice(&addr(1));
    relay.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    relay.extend_from_slice(&opt(18, b"eth0"));
    relay.extend_from_slice(&opt(9, &solicit));
    let long_duid: Vec<u8> = [0u8, 2, 0, 0, 0, 9].iter().copied().chain(1..=40).collect();
    pcap(&[
        udp6(&solicit),
        udp6(&advertise),
        udp6(&relay),
        udp6(&msg(11, 0x1234, &[opt(1, &long_duid)])),
        udp6(&msg(99, 0x1, &[])),
        udp6(&[1]),
        udp6(&msg(3, 0x22, &[cid, opt(3, &[0, 0])])),
    ])
}

fn run(name: &str, args: &[&str]) -> String {
    run_capture(name, &capture(), args)
}

#[test]
fn dhcpv6_lines_and_hierarchy_are_tsharks() {
    assert_eq!(
        run("dhcpv6-view.pcap", &[]),
        include_str!("dhcpv6_text.expected")
    );
    assert_eq!(
        run("dhcpv6-phs.pcap", &["-q", "-z", "io,phs"]),
        include_str!("dhcpv6_phs.expected")
    );
}

#[test]
fn dhcpv6_fields_are_tsharks() {
    let args = [
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-e",
        "frame.protocols",
        "-e",
        "dhcpv6.msgtype",
        "-e",
        "dhcpv6.xid",
        "-e",
        "dhcpv6.hopcount",
        "-e",
        "dhcpv6.linkaddr",
        "-e",
        "dhcpv6.peeraddr",
        "-e",
        "dhcpv6.option.type",
        "-e",
        "dhcpv6.option.length",
        "-e",
        "dhcpv6.duid.bytes",
        "-e",
        "dhcpv6.duid.type",
        "-e",
        "dhcpv6.iaid",
        "-e",
        "dhcpv6.iaid.t1",
        "-e",
        "dhcpv6.iaaddr.ip",
        "-e",
        "dhcpv6.iaaddr.valid_lifetime",
        "-e",
        "dhcpv6.requested_option_code",
        "-e",
        "dhcpv6.elapsed_time",
        "-e",
        "dhcpv6.interface_id",
        "-e",
        "dhcpv6.dns_server",
        "-e",
        "dhcpv6.option.type_str",
    ];
    assert_eq!(
        run("dhcpv6-fields.pcap", &args),
        include_str!("dhcpv6_fields.expected")
    );
}
