//! Spanning Tree BPDUs (IEEE 802.1D STP, 802.1w RSTP, 802.1s/Q MSTP) and
//! Cisco's PVST+ variant, which follows the BPDU with TLVs.

use std::fmt::Write as _;

use dorsal_engine::bytes::{array, be16, be32, first_read_past, u8_at};
use dorsal_engine::dissect::{Cx, Dissector, Dissectors, Outcome};
use dorsal_engine::fields;
use dorsal_engine::fields::FieldId;
use dorsal_engine::table::Value;

use crate::llc::{BRIDGED_PID_TABLE, CISCO_PID_TABLE, DSAP_TABLE};

fields! {
    pub struct StpFields {
        stp: "stp", "Spanning Tree Protocol", Protocol, None, short "STP";
        protocol: "stp.protocol", "Protocol Identifier", U16, Hex, strings PROTOCOL_VALS;
        version: "stp.version", "Protocol Version Identifier", U8, Dec, strings VERSION_VALS;
        ty: "stp.type", "BPDU Type", U8, Hex, strings TYPE_VALS;
        flags: "stp.flags", "BPDU flags", U8, Hex;
        tcack: "stp.flags.tcack", "Topology Change Acknowledgment", Bool, None, mask 0x80;
        agreement: "stp.flags.agreement", "Agreement", Bool, None, mask 0x40;
        forwarding: "stp.flags.forwarding", "Forwarding", Bool, None, mask 0x20;
        learning: "stp.flags.learning", "Learning", Bool, None, mask 0x10;
        port_role: "stp.flags.port_role", "Port Role", U8, Dec, mask 0x0c, strings ROLE_VALS;
        proposal: "stp.flags.proposal", "Proposal", Bool, None, mask 0x02;
        tc: "stp.flags.tc", "Topology Change", Bool, None, mask 0x01;
        root_prio: "stp.root.prio", "Root Bridge Priority", U16, Dec;
        root_ext: "stp.root.ext", "Root Bridge System ID Extension", U16, Dec;
        root_hw: "stp.root.hw", "Root Bridge System ID", Ether, None;
        root_cost: "stp.root.cost", "Root Path Cost", U32, Dec;
        bridge_prio: "stp.bridge.prio", "Bridge Priority", U16, Dec;
        bridge_ext: "stp.bridge.ext", "Bridge System ID Extension", U16, Dec;
        bridge_hw: "stp.bridge.hw", "Bridge System ID", Ether, None;
        port: "stp.port", "Port identifier", U16, Hex;
        msg_age: "stp.msg_age", "Message Age", Double, None;
        max_age: "stp.max_age", "Max Age", Double, None;
        hello: "stp.hello", "Hello Time", Double, None;
        forward: "stp.forward", "Forward Delay", Double, None;
        version_1_length: "stp.version_1_length", "Version 1 Length", U8, Dec;
        pvst_tlvtype: "stp.pvst.tlvtype", "Type", U16, Hex;
        pvst_tlvlen: "stp.pvst.tlvlen", "Length", U16, Dec;
        pvst_origvlan: "stp.pvst.origvlan", "Originating VLAN", U16, Dec;
        pvst_tlvval: "stp.pvst.tlvval", "Value", Bytes, None;
        version_3_length: "mstp.version_3_length", "Version 3 Length", U16, Dec, parent "stp";
        config_format_selector: "mstp.config_format_selector", "MST Config ID format selector", U8, Dec, parent "stp";
        config_name: "mstp.config_name", "MST Config name", StringZ, None, parent "stp";
        config_revision_level: "mstp.config_revision_level", "MST Config revision", U16, Dec, parent "stp";
        config_digest: "mstp.config_digest", "MST Config digest", Bytes, None, parent "stp";
        cist_internal_root_path_cost: "mstp.cist_internal_root_path_cost", "CIST Internal Root Path Cost", U32, Dec, parent "stp";
        cist_bridge_prio: "mstp.cist_bridge.prio", "CIST Bridge Priority", U16, Dec, parent "stp";
        cist_bridge_ext: "mstp.cist_bridge.ext", "CIST Bridge Identifier System ID Extension", U16, Dec, parent "stp";
        cist_bridge_hw: "mstp.cist_bridge.hw", "CIST Bridge Identifier System ID", Ether, None, parent "stp";
        cist_remaining_hops: "mstp.cist_remaining_hops", "CIST Remaining hops", U8, Dec, parent "stp";
        msti_flags: "mstp.msti.flags", "MSTI flags", U8, Hex, parent "stp";
        msti_priority: "mstp.msti.priority", "Priority", U8, Hex, mask 0xf0, parent "stp";
        msti_id: "mstp.msti.msti_id", "MSTID", U16, Dec, mask 0x0fff, parent "stp";
        msti_root_hw: "mstp.msti.root.hw", "Regional Root", Ether, None, parent "stp";
        msti_root_cost: "mstp.msti.root_cost", "Internal root path cost", U32, Dec, parent "stp";
        msti_bridge_priority: "mstp.msti.bridge_priority", "Bridge Identifier Priority", U8, Dec, parent "stp";
        msti_port_priority: "mstp.msti.port_priority", "Port identifier priority", U8, Dec, parent "stp";
        msti_remaining_hops: "mstp.msti.remaining_hops", "Remaining hops", U8, Dec, parent "stp";
        version_4_length: "mstp.version_4_length", "Version 4 Length", U16, Dec, parent "stp";
    }
}

const PROTOCOL_VALS: &[(u64, &str)] = &[(0, "Spanning Tree Protocol")];
const VERSION_VALS: &[(u64, &str)] = &[
    (0, "Spanning Tree"),
    (2, "Rapid Spanning Tree"),
    (3, "Multiple Spanning Tree"),
    (4, "Shortest Path Tree"),
];
const TYPE_VALS: &[(u64, &str)] = &[
    (0x00, "Configuration"),
    (0x02, "Rapid/Multiple Spanning Tree"),
    (0x80, "Topology Change Notification"),
];
const ROLE_VALS: &[(u64, &str)] = &[(1, "Alternate or Backup"), (2, "Root"), (3, "Designated")];

const BPDU_CONFIG: u8 = 0x00;
const BPDU_RST: u8 = 0x02;
const BPDU_TCN: u8 = 0x80;

/// Offsets in the BPDU.
const ROOT_ID: usize = 5;
const ROOT_COST: usize = 13;
const BRIDGE_ID: usize = 17;
const PORT: usize = 25;
const MSG_AGE: usize = 27;
const CONF_LEN: usize = 35;
const RST_LEN: usize = 36;
/// The MST extension's first byte after the Version 3 Length, and the
/// BPDU length from which an MSTP BPDU carries it.
const MST_EXT: usize = 38;
const MST_MIN_LEN: usize = 102;
const MSTI_LEN: usize = 16;
/// Caps: MSTIs per BPDU (a Version 3 Length allows 4,000), PVST+ TLVs.
const MSTIS_CAP: usize = 4096;
const TLVS_CAP: usize = 64;

pub struct Stp {
    f: StpFields,
    /// Cisco PVST+ (SNAP PID 0x010b): TLVs follow the BPDU.
    pvst: bool,
}

/// Reads of the BPDU in order; the first that runs out of bytes records
/// Wireshark's exception and stops the dissection.
struct Reader<'a> {
    data: &'a [u8],
    failed: bool,
}

impl<'a> Reader<'a> {
    fn get<T>(&mut self, cx: &mut Cx<'_>, end: usize, v: Option<T>) -> Option<T> {
        if self.failed {
            return None;
        }
        if v.is_none() {
            self.failed = true;
            cx.bounds_error(end, "STP");
        }
        v
    }

    fn u8(&mut self, cx: &mut Cx<'_>, at: usize) -> Option<u8> {
        let v = u8_at(self.data, at);
        self.get(cx, at + 1, v)
    }

    fn u16(&mut self, cx: &mut Cx<'_>, at: usize) -> Option<u16> {
        let v = be16(self.data, at);
        self.get(cx, at + 2, v)
    }

    fn u32(&mut self, cx: &mut Cx<'_>, at: usize) -> Option<u32> {
        let v = be32(self.data, at);
        self.get(cx, at + 4, v)
    }

    fn mac(&mut self, cx: &mut Cx<'_>, at: usize) -> Option<[u8; 6]> {
        let v = array::<6>(self.data, at);
        self.get(cx, at + 6, v)
    }

    fn bytes(&mut self, cx: &mut Cx<'_>, at: usize, n: usize) -> Option<&'a [u8]> {
        let v = self.data.get(at..at.saturating_add(n));
        self.get(cx, at.saturating_add(n), v)
    }
}

/// The BPDU's timers are in 1/256 s.
fn seconds(v: u16) -> Value {
    Value::F(f64::from(v) / 256.0)
}

impl Stp {
    pub fn new(f: StpFields, pvst: bool) -> Self {
        Stp { f, pvst }
    }

    /// The flags byte and its bits; Configuration BPDUs have two of them.
    fn push_flags(&self, cx: &mut Cx<'_>, field: FieldId, flags: u8, conf: bool) {
        let f = &self.f;
        cx.t.push_u(field, flags);
        cx.t.push_bool(f.tcack, flags & 0x80 != 0);
        if !conf {
            cx.t.push_bool(f.agreement, flags & 0x40 != 0);
            cx.t.push_bool(f.forwarding, flags & 0x20 != 0);
            cx.t.push_bool(f.learning, flags & 0x10 != 0);
            cx.t.push_u(f.port_role, (flags & 0x0c) >> 2);
            cx.t.push_bool(f.proposal, flags & 0x02 != 0);
        }
        cx.t.push_bool(f.tc, flags & 0x01 != 0);
    }

    /// A bridge identifier: 802.1t splits its first two bytes into a
    /// priority (top 4 bits) and a system ID extension.
    fn push_bridge_id(
        cx: &mut Cx<'_>,
        (prio_f, ext_f, hw_f): (FieldId, FieldId, FieldId),
        id: u16,
        mac: [u8; 6],
    ) {
        cx.t.push_u(prio_f, id & 0xf000);
        cx.t.push_u(ext_f, id & 0x0fff);
        cx.t.push(hw_f, Value::Ether(mac));
    }

    /// The MST extension and its MSTI records, from the Version 3 Length on.
    fn mst(&self, cx: &mut Cx<'_>, r: &mut Reader<'_>, version: u8) -> Option<()> {
        let f = &self.f;
        let v3len = r.u16(cx, RST_LEN)?;
        cx.t.push_u(f.version_3_length, v3len);
        let sel = r.u8(cx, MST_EXT)?;
        cx.t.push_u(f.config_format_selector, sel);
        let name = r.bytes(cx, MST_EXT + 1, 32)?;
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        cx.t.push_str(f.config_name, name.get(..end).unwrap_or(name));
        let rev = r.u16(cx, MST_EXT + 33)?;
        cx.t.push_u(f.config_revision_level, rev);
        let digest = r.bytes(cx, MST_EXT + 35, 16)?;
        cx.t.push_bytes(f.config_digest, digest);
        let cost = r.u32(cx, MST_EXT + 51)?;
        cx.t.push_u(f.cist_internal_root_path_cost, cost);
        let id = r.u16(cx, MST_EXT + 55)?;
        let mac = r.mac(cx, MST_EXT + 57)?;
        Self::push_bridge_id(
            cx,
            (f.cist_bridge_prio, f.cist_bridge_ext, f.cist_bridge_hw),
            id,
            mac,
        );
        let hops = r.u8(cx, MST_EXT + 63)?;
        cx.t.push_u(f.cist_remaining_hops, hops);
        // The MSTI records fill what the Version 3 Length counts past the
        // 64 bytes of the CIST part.
        let v3len = usize::from(v3len);
        let msti_bytes = if v3len >= 64 { v3len - 64 } else { v3len * 16 };
        let mut at = MST_MIN_LEN;
        for _ in 0..(msti_bytes / MSTI_LEN).min(MSTIS_CAP) {
            let flags = r.u8(cx, at)?;
            self.push_flags(cx, f.msti_flags, flags, false);
            let root = r.u16(cx, at + 1)?;
            cx.t.push_u(f.msti_priority, (root >> 12) as u8);
            cx.t.push_u(f.msti_id, root & 0x0fff);
            let mac = r.mac(cx, at + 3)?;
            cx.t.push(f.msti_root_hw, Value::Ether(mac));
            let cost = r.u32(cx, at + 9)?;
            cx.t.push_u(f.msti_root_cost, cost);
            let bprio = r.u8(cx, at + 13)?;
            cx.t.push_u(f.msti_bridge_priority, bprio >> 4);
            let pprio = r.u8(cx, at + 14)?;
            cx.t.push_u(f.msti_port_priority, pprio >> 4);
            let hops = r.u8(cx, at + 15)?;
            cx.t.push_u(f.msti_remaining_hops, hops);
            at += MSTI_LEN;
        }
        if version >= 4 {
            let v4len = r.u16(cx, MST_MIN_LEN + msti_bytes)?;
            cx.t.push_u(f.version_4_length, v4len);
        }
        Some(())
    }

    /// PVST+'s TLVs after the BPDU: the originating VLAN, mostly.
    fn pvst_tlvs(&self, cx: &mut Cx<'_>, r: &mut Reader<'_>, mut at: usize) -> Option<()> {
        let f = &self.f;
        for _ in 0..TLVS_CAP {
            if at >= r.data.len() {
                break;
            }
            let ty = r.u16(cx, at)?;
            let len = r.u16(cx, at + 2)?;
            cx.t.push_u(f.pvst_tlvtype, ty);
            cx.t.push_u(f.pvst_tlvlen, len);
            let value = r.bytes(cx, at + 4, usize::from(len))?;
            match (ty, value) {
                (0, &[hi, lo]) => cx.t.push_u(f.pvst_origvlan, u16::from_be_bytes([hi, lo])),
                _ => cx.t.push_bytes(f.pvst_tlvval, value),
            }
            at += 4 + usize::from(len);
        }
        Some(())
    }

    fn body(&self, cx: &mut Cx<'_>, data: &[u8]) -> Option<()> {
        let f = &self.f;
        let mut r = Reader {
            data,
            failed: false,
        };
        let ty = r.u8(cx, 3)?;
        let version = r.u8(cx, 2)?;
        let header = match ty {
            BPDU_CONFIG | BPDU_RST => {
                // Info needs the flags, the root, the cost and the port:
                // all are read before anything shows.
                let ends = [5, ROOT_ID + 2, ROOT_ID + 8, ROOT_COST + 4, PORT + 2];
                let (Some(flags), Some(root), Some(root_mac), Some(cost), Some(port)) = (
                    u8_at(data, 4),
                    be16(data, ROOT_ID),
                    array::<6>(data, ROOT_ID + 2),
                    be32(data, ROOT_COST),
                    be16(data, PORT),
                ) else {
                    cx.bounds_error(first_read_past(data.len(), &ends), "STP");
                    return None;
                };
                Some((flags, root, root_mac, cost, port))
            }
            _ => None,
        };
        if let Some(c) = cx.cols() {
            let mut text = String::with_capacity(96);
            match header {
                Some((flags, root, mac, cost, port)) => {
                    if ty == BPDU_CONFIG {
                        text.push_str("Conf. ");
                    } else {
                        text.push_str(match version {
                            3 => "MST. ",
                            4 => "SPT. ",
                            _ => "RST. ",
                        });
                    }
                    if flags & 0x01 != 0 {
                        text.push_str("TC + ");
                    }
                    let _ = write!(text, "Root = {}/{}/", root & 0xf000, root & 0x0fff);
                    dorsal_engine::format::write_ether(&mut text, &mac);
                    // Signed, as tshark prints it.
                    let _ = write!(text, "  Cost = {}  Port = 0x{port:04x}", cost as i32);
                }
                None if ty == BPDU_TCN => text.push_str("Topology Change Notification"),
                None => {
                    let _ = write!(text, "Unknown BPDU type ({ty})");
                }
            }
            c.set_info(&text);
        }
        cx.t.add_tree_item("stp");
        cx.t.push_proto(f.stp, data);
        let proto = r.u16(cx, 0)?;
        cx.t.push_u(f.protocol, proto);
        cx.t.push_u(f.version, version);
        cx.t.push_u(f.ty, ty);
        let (flags, root, root_mac, cost, port) = header?;
        let conf = ty == BPDU_CONFIG;
        self.push_flags(cx, f.flags, flags, conf);
        Self::push_bridge_id(cx, (f.root_prio, f.root_ext, f.root_hw), root, root_mac);
        cx.t.push_u(f.root_cost, cost);
        let bridge = r.u16(cx, BRIDGE_ID)?;
        let bridge_mac = r.mac(cx, BRIDGE_ID + 2)?;
        Self::push_bridge_id(
            cx,
            (f.bridge_prio, f.bridge_ext, f.bridge_hw),
            bridge,
            bridge_mac,
        );
        cx.t.push_u(f.port, port);
        for (i, field) in [f.msg_age, f.max_age, f.hello, f.forward]
            .into_iter()
            .enumerate()
        {
            let v = r.u16(cx, MSG_AGE + 2 * i)?;
            cx.t.push(field, seconds(v));
        }
        if conf {
            if self.pvst {
                // Cisco pads its Configuration BPDUs to the RST length.
                self.pvst_tlvs(cx, &mut r, RST_LEN)?;
            }
            return Some(());
        }
        let v1len = r.u8(cx, CONF_LEN)?;
        cx.t.push_u(f.version_1_length, v1len);
        if version >= 3 && v1len == 0 && cx.reported >= MST_MIN_LEN {
            self.mst(cx, &mut r, version)?;
        } else if self.pvst {
            self.pvst_tlvs(cx, &mut r, RST_LEN)?;
        }
        Some(())
    }
}

impl Dissector for Stp {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        // In the stack from the call on; the tree item only once Info is
        // set (a BPDU cut short before that has none).
        cx.t.add_nested_layer("stp");
        if let Some(c) = cx.cols() {
            c.set_protocol("STP");
            c.clear_info();
        }
        let _ = self.body(cx, data);
        Outcome::Done(data.len())
    }
}

/// Registers the BPDU dissectors where LLC and SNAP hand BPDUs on.
pub fn attach(ds: &mut Dissectors, f: StpFields) {
    use std::rc::Rc;
    let bpdu = ds.register("stp", Rc::new(Stp::new(f, false)));
    let pvst = ds.register("stp.pvst", Rc::new(Stp::new(f, true)));
    ds.add(DSAP_TABLE, 0x42, bpdu);
    ds.add(BRIDGED_PID_TABLE, 0x000e, bpdu);
    for pid in [0x0108, 0x0109, 0x010c] {
        ds.add(CISCO_PID_TABLE, pid, bpdu);
    }
    ds.add(CISCO_PID_TABLE, 0x010b, pvst);
}
