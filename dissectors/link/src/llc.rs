//! IEEE 802.2 Logical-Link Control, with SNAP: what an 802.3 length frame
//! carries. The DSAP (or SNAP's OUI and PID) names the payload's protocol.

use std::fmt::Write as _;

use dorsal_engine::bytes::{array, be16, from, le16, u8_at};
use dorsal_engine::dissect::{Cx, Dissector, Dissectors, Outcome};
use dorsal_engine::fields;
use dorsal_engine::fields::value_name;

use crate::etypes::ETYPE_VALS;

fields! {
    pub struct LlcFields {
        llc: "llc", "Logical-Link Control", Protocol, None, short "LLC";
        dsap: "llc.dsap", "DSAP", U8, Hex, strings SAP_VALS;
        dsap_sap: "llc.dsap.sap", "SAP", U8, Dec, mask 0xfe;
        dsap_ig: "llc.dsap.ig", "IG Bit", Bool, None, mask 0x01;
        ssap: "llc.ssap", "SSAP", U8, Hex, strings SAP_VALS;
        ssap_sap: "llc.ssap.sap", "SAP", U8, Dec, mask 0xfe;
        ssap_cr: "llc.ssap.cr", "CR Bit", Bool, None, mask 0x01;
        control: "llc.control", "Control", U16, Hex;
        n_r: "llc.control.n_r", "N(R)", U16, Dec, mask 0xfe00;
        n_s: "llc.control.n_s", "N(S)", U16, Dec, mask 0x00fe;
        p: "llc.control.p", "Poll", Bool, None, mask 0x10;
        f: "llc.control.f", "Final", Bool, None, mask 0x10;
        s_ftype: "llc.control.s_ftype", "Supervisory frame type", U16, Hex, mask 0x0c;
        u_modifier_cmd: "llc.control.u_modifier_cmd", "Command", U8, Hex, mask 0xec;
        u_modifier_resp: "llc.control.u_modifier_resp", "Response", U8, Hex, mask 0xec;
        // tshark declares this field twice: 8 bits wide for U frames, 16 for
        // I and S frames. One declaration is possible here; U frames are
        // nearly all LLC traffic, so theirs is kept (I/S print `0x00`, not
        // `0x0000`).
        ftype: "llc.control.ftype", "Frame type", U8, Hex, mask 0x03;
        ty: "llc.type", "Type", U16, Hex, strings ETYPE_VALS;
        oui: "llc.oui", "Organization Code", U24, Dec;
        pid: "llc.pid", "Protocol ID", U16, Hex;
        cisco_pid: "llc.cisco_pid", "PID", U16, Hex, strings CISCO_PID_VALS;
        nortel_pid: "llc.nortel_pid", "PID", U16, Hex;
    }
}

/// SAP names, by the SAP with its low (I/G or C/R) bit clear; the tree
/// looks up the raw byte, Info the masked one.
pub const SAP_VALS: &[(u64, &str)] = &[
    (0x00, "NULL LSAP"),
    (0x01, "NULL LSAP"),
    (0x02, "LLC Sub-Layer Management"),
    (0x04, "SNA Path Control"),
    (0x06, "TCP/IP"),
    (0x08, "SNA"),
    (0x0c, "SNA"),
    (
        0x0e,
        "PROWAY (IEC955) Network Management and Initialization",
    ),
    (0x10, "NetWare (unofficial?)"),
    (0x14, "ISO Network Layer (OSLAN 1)"),
    (0x18, "Texas Instruments"),
    (0x20, "ISO Network Layer (unofficial?)"),
    (0x34, "ISO Network Layer (unofficial?)"),
    (0x42, "Spanning Tree BPDU"),
    (0x4e, "EIA RS-511 Manufacturing Message Service"),
    (0x54, "ISO Network Layer (OSLAN 2)"),
    (0x7e, "ISO 8208 (X.25 over 802.2)"),
    (0x7f, "ISO 802.2"),
    (0x80, "XNS"),
    (0x82, "BACnet"),
    (0x86, "Nestar"),
    (0x8e, "PROWAY (IEC955) Active Station List Maintenance"),
    (0x98, "ARP"),
    (0xaa, "SNAP"),
    (0xb4, "HP JetDirect Printer"),
    (0xba, "Banyan Vines"),
    (0xbc, "Banyan Vines"),
    (0xe0, "NetWare"),
    (0xf0, "NetBIOS"),
    (0xf4, "IBM Net Management"),
    (0xf8, "HP Extended LLC"),
    (0xfa, "Ungermann-Bass"),
    (0xfc, "Remote Program Load"),
    (0xfe, "ISO Network Layer"),
    (0xff, "Global LSAP"),
];

/// Cisco's SNAP protocol IDs (OUI 00:00:0c).
pub const CISCO_PID_VALS: &[(u64, &str)] = &[
    (0x0102, "DRIP"),
    (0x0104, "PAgP"),
    (0x0105, "MLS Hello"),
    (0x0108, "RLQ BPDUs (request)"),
    (0x0109, "RLQ BPDUs (response)"),
    (0x010b, "PVSTP+"),
    (0x010c, "VLAN Bridge"),
    (0x0111, "UDLD"),
    (0x0139, "MCP"),
    (0x2000, "CDP"),
    (0x2001, "CGMP"),
    (0x2003, "VTP"),
    (0x2004, "DTP"),
    (0x200a, "STP Uplink Fast"),
];

const SAP_SNAP: u8 = 0xaa;
const OUI_ENCAP_ETHER: u32 = 0x00_0000;
const OUI_CISCO_90: u32 = 0x00_00f8;
const OUI_CISCO: u32 = 0x00_000c;
const OUI_NORTEL: u32 = 0x00_0081;
const OUI_IEEE_802_1: u32 = 0x00_80c2;

/// The handoff tables LLC looks payloads up in, by DSAP and by the PID of
/// SNAP's OUIs that have one.
pub const DSAP_TABLE: &str = "llc.dsap";
pub const CISCO_PID_TABLE: &str = "llc.cisco_pid";
pub const BRIDGED_PID_TABLE: &str = "llc.bridged_pid";
const NORTEL_PID_TABLE: &str = "llc.nortel_pid";

pub struct Llc {
    f: LlcFields,
}

/// A decoded control field (ISO/IEC 8802-2, extended: I and S frames take
/// two bytes, little-endian).
#[derive(Clone, Copy)]
enum Control {
    U(u8),
    I(u16),
    S(u16),
}

impl Control {
    fn value(self) -> u16 {
        match self {
            Control::U(c) => u16::from(c),
            Control::I(c) | Control::S(c) => c,
        }
    }

    fn len(self) -> usize {
        match self {
            Control::U(_) => 1,
            _ => 2,
        }
    }

    /// Whether the frame carries information for the SAP's protocol: an I
    /// frame, or a UI frame without the poll bit.
    fn is_information(self) -> bool {
        matches!(self, Control::I(_) | Control::U(0x03))
    }
}

/// The short name of an unnumbered frame's modifier (`ctl & 0xec`).
fn u_name(modifier: u8, response: bool) -> &'static str {
    match (modifier, response) {
        (0x00, _) => "UI",
        (0x20, _) => "UP",
        (0x40, false) => "DISC",
        (0x40, true) => "RD",
        (0x60, _) => "UA",
        (0x80, _) => "SNRM",
        (0xe0, _) => "TEST",
        (0x04, false) => "SIM",
        (0x04, true) => "RIM",
        (0x84, _) => "FRMR",
        (0xc4, _) => "CFGR",
        (0x0c, false) => "SARM",
        (0x0c, true) => "DM",
        (0x2c, _) => "SABM",
        (0x4c, _) => "SARME",
        (0x6c, _) => "SABME",
        (0x8c, _) => "RESET",
        (0xac, _) => "XID",
        (0xcc, _) => "SNRME",
        (0xec, _) => "BCN",
        _ => "Unknown",
    }
}

/// The control field's Info text (`U, func=UI`, `I, N(R)=26, N(S)=0`).
fn control_text(out: &mut String, ctl: Control, response: bool) {
    let pf = if response { " F" } else { " P" };
    let _ = match ctl {
        Control::U(c) => write!(
            out,
            "U{}, func={}",
            if c & 0x10 != 0 { pf } else { "" },
            u_name(c & 0xec, response)
        ),
        Control::I(c) => write!(
            out,
            "I{}, N(R)={}, N(S)={}",
            if c & 0x0100 != 0 { " P" } else { "" },
            c >> 9,
            (c >> 1) & 0x7f
        ),
        Control::S(c) => write!(
            out,
            "S{}, func={}, N(R)={}",
            if c & 0x0100 != 0 { pf } else { "" },
            match c & 0x0c {
                0x00 => "RR",
                0x04 => "RNR",
                0x08 => "REJ",
                _ => "SREJ",
            },
            c >> 9
        ),
    };
}

/// A SAP as Info names it: its name, else its hex value.
fn sap_text(out: &mut String, sap: u8) {
    match value_name(SAP_VALS, u64::from(sap & 0xfe)) {
        Some(n) => out.push_str(n),
        None => {
            let _ = write!(out, "0x{:02x}", sap & 0xfe);
        }
    }
}

impl Llc {
    pub fn new(f: LlcFields) -> Self {
        Llc { f }
    }

    fn push_control(&self, cx: &mut Cx<'_>, ctl: Control, response: bool) {
        let f = &self.f;
        cx.t.push_u(f.control, ctl.value());
        let pf = if response { f.f } else { f.p };
        match ctl {
            Control::U(c) => {
                if c & 0x10 != 0 {
                    cx.t.push_bool(pf, true);
                }
                let m = if response {
                    f.u_modifier_resp
                } else {
                    f.u_modifier_cmd
                };
                cx.t.push_u(m, (c & 0xec) >> 2);
                cx.t.push_u(f.ftype, c & 0x03);
            }
            Control::I(c) => {
                cx.t.push_u(f.n_r, c >> 9);
                cx.t.push_u(f.n_s, (c >> 1) & 0x7f);
                if c & 0x0100 != 0 {
                    cx.t.push_bool(f.p, true);
                }
                cx.t.push_u(f.ftype, c & 0x01);
            }
            Control::S(c) => {
                cx.t.push_u(f.n_r, c >> 9);
                if c & 0x0100 != 0 {
                    cx.t.push_bool(pf, true);
                }
                cx.t.push_u(f.s_ftype, (c & 0x0c) >> 2);
                cx.t.push_u(f.ftype, c & 0x03);
            }
        }
    }

    /// SNAP: an OUI and a protocol ID after the LLC header, which name the
    /// payload's protocol as the OUI's table has it.
    fn snap(&self, cx: &mut Cx<'_>, data: &[u8], at: usize, ctl: Control) {
        let f = &self.f;
        let (Some(oui), Some(pid)) = (array::<3>(data, at), be16(data, at + 3)) else {
            let end = if array::<3>(data, at).is_none() {
                at + 3
            } else {
                at + 5
            };
            cx.bounds_error(end, "LLC");
            return;
        };
        let [a, b, c] = oui;
        let oui = (u32::from(a) << 16) | (u32::from(b) << 8) | u32::from(c);
        if let Some(cols) = cx.cols() {
            let name = crate::manuf::vendor_long_name(oui);
            cols.append_info_fmt(format_args!(
                "; SNAP, OUI 0x{oui:06X} ({}), PID 0x{pid:04X}",
                name.unwrap_or("Unknown")
            ));
        }
        cx.t.push_u(f.oui, oui);
        let payload = from(data, at + 5);
        let table = match oui {
            OUI_ENCAP_ETHER | OUI_CISCO_90 => {
                cx.t.push_u(f.ty, pid);
                "ethertype"
            }
            OUI_CISCO => {
                cx.t.push_u(f.cisco_pid, pid);
                CISCO_PID_TABLE
            }
            OUI_IEEE_802_1 => {
                cx.t.push_u(f.pid, pid);
                BRIDGED_PID_TABLE
            }
            OUI_NORTEL => {
                cx.t.push_u(f.nortel_pid, pid);
                NORTEL_PID_TABLE
            }
            _ => {
                cx.t.push_u(f.pid, pid);
                ""
            }
        };
        if cx.reported <= at + 5 {
            return;
        }
        let table = (ctl.is_information() && !table.is_empty()).then_some(table);
        hand_off(cx, table, u32::from(pid), payload);
    }
}

impl Dissector for Llc {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.f;
        cx.t.add_layer("llc");
        if let Some(c) = cx.cols() {
            c.set_protocol("LLC");
            c.clear_info();
        }
        // The header's length, as far as its bytes tell it.
        let (dsap, ssap, ctl0) = (u8_at(data, 0), u8_at(data, 1), u8_at(data, 2));
        let ctl_len = match ctl0 {
            Some(c) if c & 0x03 == 0x03 => 1,
            _ => 2,
        };
        let snap = dsap == Some(SAP_SNAP) && ssap == Some(SAP_SNAP);
        let hdr = 2 + ctl_len + if snap { 5 } else { 0 };
        cx.t.push_proto(f.llc, data.get(..hdr).unwrap_or(data));
        let Some(dsap) = dsap else {
            cx.bounds_error(1, "LLC");
            return Outcome::Done(data.len());
        };
        cx.t.push_u(f.dsap, dsap);
        cx.t.push_u(f.dsap_sap, dsap >> 1);
        cx.t.push_bool(f.dsap_ig, dsap & 1 != 0);
        let Some(ssap) = ssap else {
            cx.bounds_error(2, "LLC");
            return Outcome::Done(data.len());
        };
        cx.t.push_u(f.ssap, ssap);
        cx.t.push_u(f.ssap_sap, ssap >> 1);
        cx.t.push_bool(f.ssap_cr, ssap & 1 != 0);
        let response = ssap & 1 != 0;
        let ctl = match (ctl0, le16(data, 2)) {
            (None, _) => {
                cx.bounds_error(3, "LLC");
                return Outcome::Done(data.len());
            }
            (Some(c), _) if c & 0x03 == 0x03 => Control::U(c),
            (Some(_), None) => {
                cx.bounds_error(4, "LLC");
                return Outcome::Done(data.len());
            }
            (Some(c), Some(c16)) if c & 0x01 == 0 => Control::I(c16),
            (Some(_), Some(c16)) => Control::S(c16),
        };
        if let Some(c) = cx.cols() {
            let mut text = String::with_capacity(64);
            control_text(&mut text, ctl, response);
            c.set_info(&text);
        }
        self.push_control(cx, ctl, response);
        let at = 2 + ctl.len();
        if snap {
            self.snap(cx, data, at, ctl);
            return Outcome::Done(data.len());
        }
        if let Some(c) = cx.cols() {
            let mut text = String::with_capacity(64);
            text.push_str("; DSAP ");
            sap_text(&mut text, dsap);
            text.push_str(if dsap & 1 != 0 {
                " Group, SSAP "
            } else {
                " Individual, SSAP "
            });
            sap_text(&mut text, ssap);
            text.push_str(if response { " Response" } else { " Command" });
            c.append_info(&text);
        }
        if cx.reported <= at {
            return Outcome::Done(data.len());
        }
        let table = ctl.is_information().then_some(DSAP_TABLE);
        hand_off(cx, table, u32::from(dsap), from(data, at));
        Outcome::Done(data.len())
    }
}

/// Gives `payload` to the protocol `table` has under `key`, or to data when
/// there is no table, no such protocol, or it declines.
fn hand_off(cx: &mut Cx<'_>, table: Option<&'static str>, key: u32, payload: &[u8]) {
    if let Some(name) = table {
        let t = cx.table(name);
        if let Some(Outcome::Done(_) | Outcome::NeedMore { .. }) = cx.call_table(t, key, payload) {
            return;
        }
    }
    cx.call_by_name("data", payload);
}

/// Registers LLC; the protocols it carries attach to its tables.
pub fn attach(ds: &mut Dissectors, f: LlcFields) {
    ds.register("llc", std::rc::Rc::new(Llc::new(f)));
    for t in [
        DSAP_TABLE,
        CISCO_PID_TABLE,
        BRIDGED_PID_TABLE,
        NORTEL_PID_TABLE,
    ] {
        ds.table(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(ctl: Control, response: bool) -> String {
        let mut s = String::new();
        control_text(&mut s, ctl, response);
        s
    }

    #[test]
    fn control_texts_are_xdlcs() {
        assert_eq!(text(Control::U(0x03), false), "U, func=UI");
        assert_eq!(text(Control::U(0x13), false), "U P, func=UI");
        assert_eq!(text(Control::U(0xf3), true), "U F, func=TEST");
        assert_eq!(text(Control::U(0x0f), true), "U, func=DM");
        assert_eq!(text(Control::U(0x0f), false), "U, func=SARM");
        // I frame 0x3400 little-endian: N(R) 26, N(S) 0.
        assert_eq!(text(Control::I(0x3400), false), "I, N(R)=26, N(S)=0");
        assert_eq!(text(Control::S(0x0501), false), "S P, func=RR, N(R)=2");
        assert_eq!(text(Control::S(0x0509), true), "S F, func=REJ, N(R)=2");
    }

    #[test]
    fn information_frames_are_i_and_plain_ui() {
        assert!(Control::I(0).is_information());
        assert!(Control::U(0x03).is_information());
        assert!(!Control::U(0x13).is_information());
        assert!(!Control::S(0x0001).is_information());
    }

    #[test]
    fn saps_are_named_without_their_low_bit() {
        let mut s = String::new();
        sap_text(&mut s, 0x43);
        sap_text(&mut s, 0x45);
        assert_eq!(s, "Spanning Tree BPDU0x44");
    }
}
