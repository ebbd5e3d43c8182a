//! NetBIOS datagrams (UDP 138) down through SMB Trans and mailslots to the
//! browser protocol: the default view, `-z io,phs` (mailslot is a tree item
//! but no layer of frame.protocols) and the common fields. The expected
//! text is what tshark 4.0.17 prints for the same bytes.

mod common;

use common::{pcap, run_capture, udp};

/// A NetBIOS name in first-level encoding, as a one-label DNS name.
fn nb_name(name: &str, kind: u8) -> Vec<u8> {
    let mut raw: Vec<u8> = name
        .bytes()
        .chain(std::iter::repeat(b' '))
        .take(15)
        .collect();
    raw.push(kind);
    let mut v = vec![32];
    for b in raw {
        v.push(b'A' + (b >> 4));
        v.push(b'A' + (b & 0x0f));
    }
    v.push(0);
    v
}

/// An NBDGM message of type `ty` from 10.0.0.1:138 with `payload` after
/// the names (types 0x10-0x12) or `rest` after the header (others).
fn nbdgm(ty: u8, payload: &[u8]) -> Vec<u8> {
    let mut m = vec![ty, 0x02, 0x12, 0x34, 10, 0, 0, 1, 0, 138];
    if (0x10..=0x12).contains(&ty) {
        let names = [nb_name("HOSTA", 0x20), nb_name("WORKGROUP", 0x1d)].concat();
        let len = (names.len() + payload.len()) as u16;
        m.extend_from_slice(&len.to_be_bytes());
        m.extend_from_slice(&[0, 0]);
        m.extend_from_slice(&names);
    }
    m.extend_from_slice(payload);
    m
}

fn frame(msg: &[u8]) -> Vec<u8> {
    udp([10, 0, 0, 1], 138, [10, 0, 0, 255], 138, msg)
}

/// An SMB1 header for `cmd`, little-endian, request.
fn smb_header(cmd: u8) -> Vec<u8> {
    let mut h = b"\xffSMB".to_vec();
    h.push(cmd);
    h.extend_from_slice(&[0; 27]);
    h
}

/// A Trans request writing `data` to mailslot `name` with `sc` setup words.
fn trans(name: &str, sc: u8, data: &[u8]) -> Vec<u8> {
    let mut m = smb_header(0x25);
    let mut name_z = name.as_bytes().to_vec();
    name_z.push(0);
    let setup_end = 32 + 1 + 28 + 2 * usize::from(sc);
    let od = (setup_end + 2 + name_z.len()) as u16;
    let dc = data.len() as u16;
    m.push(14 + sc);
    for w in [0u16, dc, 0, 0] {
        m.extend_from_slice(&w.to_le_bytes());
    }
    m.extend_from_slice(&[0, 0]); // max setup count, reserved
    m.extend_from_slice(&0u16.to_le_bytes()); // flags
    m.extend_from_slice(&1000u32.to_le_bytes()); // timeout
    m.extend_from_slice(&[0, 0]);
    for w in [0u16, 0, dc, od] {
        m.extend_from_slice(&w.to_le_bytes());
    }
    m.extend_from_slice(&[sc, 0]);
    for w in [1u16, 1, 2].iter().take(usize::from(sc)) {
        m.extend_from_slice(&w.to_le_bytes());
    }
    let bcc = (name_z.len() + data.len()) as u16;
    m.extend_from_slice(&bcc.to_le_bytes());
    m.extend_from_slice(&name_z);
    m.extend_from_slice(data);
    m
}

/// The first `n` bytes of `v`.
fn cut(v: &[u8], n: usize) -> Vec<u8> {
    v.iter().copied().take(n).collect()
}

fn padded16(name: &str) -> Vec<u8> {
    name.bytes().chain(std::iter::repeat(0)).take(16).collect()
}

/// A BROWSE announcement (`cmd` 0x01, 0x0c or 0x0f).
fn announcement(cmd: u8, name: &str, major: u8, minor: u8, types: u32, tail: &[u8]) -> Vec<u8> {
    let mut b = vec![cmd, 0];
    b.extend_from_slice(&720_000u32.to_le_bytes());
    b.extend_from_slice(&padded16(name));
    b.extend_from_slice(&[major, minor]);
    b.extend_from_slice(&types.to_le_bytes());
    b.extend_from_slice(tail);
    b
}

fn capture() -> Vec<u8> {
    let browse = |b: &[u8]| frame(&nbdgm(0x11, &trans("\\MAILSLOT\\BROWSE", 3, b)));
    let host = announcement(1, "VMAC", 6, 1, 0x0000_1003, b"\x0f\x01\x55\xaa\0");
    let local = announcement(0x0f, "SCV", 10, 0, 0x0005_1003, b"\x0f\x01\x55\xaa\0");
    let domain = announcement(
        0x0c,
        "WORKGROUP",
        3,
        10,
        0x8000_1000,
        b"\x4c\xfe\x04\x03HOSTA\0",
    );
    let mut election = vec![0x08, 1, 0x20, 0x0f, 0x01, 0x10];
    election.extend_from_slice(&354_005_337u32.to_le_bytes());
    election.extend_from_slice(&[0, 0, 0, 0]);
    election.extend_from_slice(b"DJP95S0J\0");
    let mut lanman = vec![0x01, 0];
    lanman.extend_from_slice(&0x0000_0003u32.to_le_bytes());
    lanman.extend_from_slice(&[4, 0]);
    lanman.extend_from_slice(&60u16.to_le_bytes());
    lanman.extend_from_slice(b"LMHOST\0\0");
    pcap(&[
        browse(&host),
        browse(&local),
        browse(&domain),
        browse(&[0x02, 0x00, b'H', b'O', b'S', b'T', b'B', 0]),
        browse(&election),
        browse(&[0x09, 4, 0xd8, 0, 0, 0]),
        browse(&[0x0b, b'D', b'E', b'S', b'K', 0]),
        browse(&[0x0d, b'M', b'B', 0]),
        browse(&[0x0e, 0x05]),
        browse(&[0x63, 1, 2, 3]),
        browse(&cut(&host, 12)),
        frame(&nbdgm(0x11, &trans("\\MAILSLOT\\LANMAN", 3, &lanman))),
        frame(&nbdgm(0x11, &trans("\\MAILSLOT\\FOO", 3, b"abcdef"))),
        frame(&nbdgm(0x11, &trans("\\MAILSLOT\\BROWSE", 3, b""))),
        frame(&nbdgm(0x11, &trans("\\MAILSLOT\\BROWSE", 0, &host))),
        frame(&nbdgm(0x11, &trans("\\FOO", 3, b"xyz"))),
        frame(&nbdgm(0x11, &smb_header(0x72))),
        frame(&nbdgm(0x11, &cut(&smb_header(0x72), 20))),
        frame(&nbdgm(0x10, b"hello world")),
        frame(&nbdgm(0x13, &[0x82])),
        frame(&nbdgm(0x14, &nb_name("HOSTA", 0))),
        frame(&nbdgm(0x20, b"")),
        frame(&cut(&nbdgm(0x11, b""), 6)),
    ])
}

fn run(name: &str, args: &[&str]) -> String {
    run_capture(name, &capture(), args)
}

#[test]
fn nbdgm_lines_are_tsharks() {
    assert_eq!(
        run("nbdgm-view.pcap", &[]),
        include_str!("nbdgm_text.expected")
    );
}

#[test]
fn mailslot_is_in_the_hierarchy_but_not_the_stack() {
    assert_eq!(
        run("nbdgm-phs.pcap", &["-q", "-z", "io,phs"]),
        include_str!("nbdgm_phs.expected")
    );
    let protocols = run(
        "nbdgm-protocols.pcap",
        &["-T", "fields", "-e", "frame.protocols"],
    );
    assert_eq!(protocols, include_str!("nbdgm_protocols.expected"));
}

#[test]
fn nbdgm_smb_and_browser_fields_are_tsharks() {
    let args = [
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-e",
        "nbdgm.type",
        "-e",
        "nbdgm.flags",
        "-e",
        "nbdgm.node_type",
        "-e",
        "nbdgm.dgram_id",
        "-e",
        "nbdgm.src.ip",
        "-e",
        "nbdgm.source_name",
        "-e",
        "nbdgm.destination_name",
        "-e",
        "smb.cmd",
        "-e",
        "smb.bcc",
        "-e",
        "smb.trans_name",
        "-e",
        "mailslot.opcode",
        "-e",
        "mailslot.size",
        "-e",
        "mailslot.name",
        "-e",
        "browser.command",
        "-e",
        "browser.server",
        "-e",
        "browser.windows_version",
        "-e",
        "browser.server_type",
        "-e",
        "browser.sig",
        "-e",
        "browser.mysterious_field",
        "-e",
        "browser.mb_server",
        "-e",
        "browser.comment",
        "-e",
        "browser.response_computer_name",
        "-e",
        "browser.election.criteria",
        "-e",
        "browser.uptime",
        "-e",
        "browser.period",
    ];
    assert_eq!(
        run("nbdgm-fields.pcap", &args),
        include_str!("nbdgm_fields.expected")
    );
}
