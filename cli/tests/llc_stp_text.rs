//! IEEE 802.3 length frames, 802.2 LLC (+SNAP) and the spanning tree BPDUs
//! they carry: the default view, `-z io,phs` and `-T fields`. The expected
//! text is what tshark 4.0.17 prints for the same bytes.

mod common;

use common::{pcap, run_capture};

const STP_MC: [u8; 6] = [0x01, 0x80, 0xc2, 0, 0, 0];
const PVST_MC: [u8; 6] = [0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcd];
const SRC: [u8; 6] = [0xfe, 0x54, 0x00, 0x8e, 0x18, 0xce];
const CISCO: [u8; 6] = [0x00, 0x1f, 0x6d, 0x96, 0xec, 0x04];

/// Ethernet with an 802.3 length of `len` (the LLC bytes' count unless
/// given), then `llc`, zero-padded to `pad_to` bytes.
fn ieee8023(dst: [u8; 6], src: [u8; 6], len: Option<u16>, llc: &[u8], pad_to: usize) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    let len = len.unwrap_or(llc.len() as u16);
    f.extend_from_slice(&len.to_be_bytes());
    f.extend_from_slice(llc);
    if f.len() < pad_to {
        f.resize(pad_to, 0);
    }
    f
}

/// A BPDU: type, version, flags, root and bridge identifiers, cost and
/// port, the four timers (in seconds), then `rest`.
fn bpdu(ty: u8, version: u8, flags: u8, cost: u32, port: u16, rest: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, version, ty];
    if ty == 0x80 {
        return b;
    }
    b.push(flags);
    b.extend_from_slice(&[0x80, 0x01, 0x00, 0x19, 0x06, 0xea, 0xb8, 0x80]);
    b.extend_from_slice(&cost.to_be_bytes());
    b.extend_from_slice(&[0x70, 0x05, 0x00, 0x1e, 0xf7, 0x05, 0xa8, 0x80]);
    b.extend_from_slice(&port.to_be_bytes());
    for secs in [1u16, 20, 2, 15] {
        b.extend_from_slice(&(secs * 256).to_be_bytes());
    }
    b.extend_from_slice(rest);
    b
}

fn llc(dsap: u8, ssap: u8, ctl: &[u8], body: &[u8]) -> Vec<u8> {
    let mut v = vec![dsap, ssap];
    v.extend_from_slice(ctl);
    v.extend_from_slice(body);
    v
}

/// LLC UI with SNAP: `oui`, `pid`, then `body`.
fn snap(oui: [u8; 3], pid: u16, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xaa, 0xaa, 0x03];
    v.extend_from_slice(&oui);
    v.extend_from_slice(&pid.to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// The MST part after an MSTP BPDU's Version 1 Length: the CIST fields and
/// `mstis` MSTI records.
fn mst(mstis: u8) -> Vec<u8> {
    let v3len = 64 + 16 * u16::from(mstis);
    let mut m = v3len.to_be_bytes().to_vec();
    m.push(0);
    let mut name = b"Brewery".to_vec();
    name.resize(32, 0);
    m.extend_from_slice(&name);
    m.extend_from_slice(&[0, 7]);
    m.extend_from_slice(&[0x93; 16]);
    m.extend_from_slice(&200_000u32.to_be_bytes());
    m.extend_from_slice(&[0x80, 0x00, 0x00, 0x16, 0x46, 0xb5, 0x8c, 0x80]);
    m.push(20);
    for i in 1..=mstis {
        m.push(0xf8 | (i & 1) << 2);
        m.extend_from_slice(&[0x60, i, 0x00, 0x1e, 0xf7, 0x05, 0xa8, 0x80]);
        m.extend_from_slice(&u32::from(i).to_be_bytes());
        m.extend_from_slice(&[0x80, 0x80, 19]);
    }
    m
}

fn capture() -> Vec<u8> {
    let stp = |b: &[u8]| llc(0x42, 0x42, &[0x03], b);
    let pvst_tlv = [0, 0, 0, 2, 0, 5];
    let mut rst_pvst = bpdu(0x02, 2, 0x3c, 0, 0x8004, &[0]);
    rst_pvst.extend_from_slice(&pvst_tlv);
    let mut conf_pvst = bpdu(0x00, 0, 0x00, 4, 0x8004, &[]);
    conf_pvst.extend_from_slice(&pvst_tlv);
    let mut mst2 = vec![0];
    mst2.extend_from_slice(&mst(2));
    let mut mst0 = vec![0];
    mst0.extend_from_slice(&mst(0));
    let mut vlan = STP_MC.to_vec();
    vlan.extend_from_slice(&CISCO);
    vlan.extend_from_slice(&[0x81, 0x00, 0x00, 0x05, 0x00, 39]);
    vlan.extend_from_slice(&stp(&bpdu(0x02, 2, 0x0e, 4, 0x8004, &[0])));
    vlan.resize(60, 0);
    let mut vlan_long = vlan.clone();
    vlan_long.resize(70, 0xee);
    pcap(&[
        // Configuration BPDUs: 52 bytes, no padding; padded, with TC.
        ieee8023(
            STP_MC,
            SRC,
            None,
            &stp(&bpdu(0x00, 0, 0x00, 0, 0x800a, &[])),
            0,
        ),
        ieee8023(
            STP_MC,
            SRC,
            None,
            &stp(&bpdu(0x00, 0, 0x81, 19, 0x8005, &[])),
            60,
        ),
        // RST with TC, MST with two MSTIs and with none, TCN.
        ieee8023(
            STP_MC,
            SRC,
            None,
            &stp(&bpdu(0x02, 2, 0x7d, 0, 0x800c, &[0])),
            60,
        ),
        ieee8023(
            STP_MC,
            SRC,
            None,
            &stp(&bpdu(0x02, 3, 0x7c, 200_000, 0x800f, &mst2)),
            0,
        ),
        ieee8023(
            STP_MC,
            SRC,
            None,
            &stp(&bpdu(0x02, 3, 0x78, 0, 0x8003, &mst0)),
            0,
        ),
        ieee8023(STP_MC, SRC, None, &stp(&bpdu(0x80, 0, 0, 0, 0, &[])), 60),
        // Cisco PVST+ over SNAP: RST and Configuration, each with its TLV.
        ieee8023(
            PVST_MC,
            CISCO,
            None,
            &snap([0, 0, 0x0c], 0x010b, &rst_pvst),
            0,
        ),
        ieee8023(
            PVST_MC,
            CISCO,
            None,
            &snap([0, 0, 0x0c], 0x010b, &conf_pvst),
            60,
        ),
        // 802.1 OUI, PID 0x000e: a BPDU too.
        ieee8023(
            STP_MC,
            SRC,
            None,
            &snap([0, 0x80, 0xc2], 0x000e, &bpdu(0, 0, 1, 4, 0x8002, &[])),
            60,
        ),
        // SNAP without a dissector: Cisco, Xerox's zero OUI, a vendor
        // whose manuf line has no long name, an unknown OUI.
        ieee8023(
            PVST_MC,
            CISCO,
            None,
            &snap([0, 0, 0x0c], 0x9999, &[1, 2, 3, 4]),
            60,
        ),
        ieee8023(
            PVST_MC,
            CISCO,
            None,
            &snap([0, 0, 0], 0x9999, &[1, 2, 3, 4]),
            60,
        ),
        ieee8023(
            PVST_MC,
            CISCO,
            None,
            &snap([0, 0, 0x13], 0x0001, &[1, 2, 3, 4]),
            60,
        ),
        ieee8023(
            PVST_MC,
            CISCO,
            None,
            &snap([0x12, 0x34, 0x56], 0x0001, &[1, 2]),
            60,
        ),
        // LLC frames whose payload is data: I, S, TEST response, a group
        // DSAP, UI with the poll bit.
        ieee8023(
            CISCO,
            SRC,
            None,
            &llc(0x45, 0x10, &[0x00, 0x34], &[0xab; 47]),
            0,
        ),
        ieee8023(
            CISCO,
            SRC,
            None,
            &llc(0x42, 0x42, &[0x01, 0x05], &[9; 8]),
            60,
        ),
        ieee8023(CISCO, SRC, None, &llc(0x42, 0x43, &[0xf3], &[9; 8]), 60),
        ieee8023(CISCO, SRC, None, &llc(0x43, 0x42, &[0x03], &[9; 8]), 60),
        ieee8023(CISCO, SRC, None, &llc(0x42, 0x42, &[0x13], &[9; 8]), 60),
        ieee8023(CISCO, SRC, None, &llc(0xe0, 0xe0, &[0x0f], &[]), 60),
        // An unknown BPDU type; a BPDU cut short by the length; LLC cut
        // short; a length past the frame's end.
        ieee8023(STP_MC, SRC, None, &stp(&[0, 0, 0, 0x55, 1, 2, 3]), 60),
        ieee8023(
            STP_MC,
            SRC,
            Some(23),
            &stp(&bpdu(0, 0, 0, 0, 0x8001, &[])),
            60,
        ),
        ieee8023(STP_MC, SRC, Some(1), &stp(&[]), 60),
        ieee8023(
            CISCO,
            SRC,
            Some(100),
            &llc(0x45, 0x10, &[0x00, 0x34], &[0xab; 20]),
            60,
        ),
        // A long frame: the trailer past the length ends in an FCS.
        ieee8023(CISCO, SRC, Some(66), &llc(0, 0, &[0, 0], &[0x5a; 140]), 0),
        // 802.3 inside a VLAN tag, padded; then with a longer trailer.
        vlan,
        vlan_long,
    ])
}

fn run(args: &[&str]) -> String {
    run_capture("llc-stp.pcap", &capture(), args)
}

#[test]
fn llc_and_stp_summaries_are_tsharks() {
    assert_eq!(run(&[]), include_str!("llc_stp_text.expected"));
}

#[test]
fn llc_nests_under_eth_and_stp_under_llc() {
    assert_eq!(
        run(&["-q", "-z", "io,phs"]),
        include_str!("llc_stp_phs.expected")
    );
}

#[test]
fn llc_and_stp_fields_are_tsharks() {
    let fields = [
        "frame.protocols",
        "eth.len",
        "eth.padding",
        "eth.trailer",
        "eth.fcs",
        "vlan.len",
        "vlan.trailer",
        "llc.dsap",
        "llc.dsap.sap",
        "llc.ssap",
        "llc.ssap.cr",
        "llc.control",
        "llc.control.n_r",
        "llc.control.p",
        "llc.control.f",
        "llc.oui",
        "llc.cisco_pid",
        "llc.pid",
        "llc.type",
        "stp.type",
        "stp.version",
        "stp.flags",
        "stp.flags.port_role",
        "stp.root.prio",
        "stp.root.ext",
        "stp.root.hw",
        "stp.root.cost",
        "stp.bridge.hw",
        "stp.port",
        "stp.msg_age",
        "stp.forward",
        "stp.version_1_length",
        "stp.pvst.origvlan",
        "mstp.version_3_length",
        "mstp.config_name",
        "mstp.config_digest",
        "mstp.cist_bridge.hw",
        "mstp.msti.flags",
        "mstp.msti.priority",
        "mstp.msti.msti_id",
        "mstp.msti.root_cost",
        "mstp.msti.bridge_priority",
        "mstp.msti.remaining_hops",
    ];
    let mut args = vec!["-T", "fields"];
    for f in &fields {
        args.push("-e");
        args.push(f);
    }
    assert_eq!(run(&args), include_str!("llc_stp_fields.expected"));
}
