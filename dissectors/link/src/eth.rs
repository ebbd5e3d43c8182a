//! Link layers: Ethernet II and 802.3, VLAN, the ethertype handoff, Linux
//! cooked captures (SLL, SLL2), BSD null/loopback, raw IP, PPPoE and PPP.

use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::fields;
use dorsal_engine::fields::value_name;
use dorsal_engine::table::{IdSpan, Value};

use crate::etypes::ETYPE_VALS;
use crate::manuf::resolved;
use dorsal_engine::bytes::{array, be16, be32, from, le32, u8_at};

fields! {
    pub struct EthFields {
        eth: "eth", "Ethernet II", Protocol, None, long "Ethernet", short "Ethernet";
        dst: "eth.dst", "Destination", Ether, None;
        dst_resolved: "eth.dst_resolved", "Destination (resolved)", String, None;
        addr: "eth.addr", "Address", Ether, None;
        addr_resolved: "eth.addr_resolved", "Address (resolved)", String, None;
        lg: "eth.lg", "LG bit", Bool, None;
        ig: "eth.ig", "IG bit", Bool, None;
        src: "eth.src", "Source", Ether, None;
        src_resolved: "eth.src_resolved", "Source (resolved)", String, None;
        len: "eth.len", "Length", U16, Dec;
        ty: "eth.type", "Type", U16, Hex, strings ETYPE_VALS;
        padding: "eth.padding", "Padding", Bytes, None;
        trailer: "eth.trailer", "Trailer", Bytes, None;
        fcs: "eth.fcs", "Frame check sequence", U32, Hex;
        fcs_status: "eth.fcs.status", "FCS Status", U8, Dec, strings FCS_STATUS_VALS;
        ethertype: "ethertype", "Ethertype", Protocol, None, short "Ethertype";
        vlan: "vlan", "802.1Q Virtual LAN", Protocol, None;
        vlan_priority: "vlan.priority", "Priority", U16, Dec, mask 0xe000;
        vlan_dei: "vlan.dei", "DEI", Bool, None, mask 0x1000;
        vlan_id: "vlan.id", "ID", U16, Dec, mask 0x0fff;
        vlan_etype: "vlan.etype", "Type", U16, Hex, strings ETYPE_VALS;
        vlan_len: "vlan.len", "Length", U16, Dec;
        vlan_trailer: "vlan.trailer", "Trailer", Bytes, None;
        sll: "sll", "Linux cooked capture v1", Protocol, None, long "Linux cooked-mode capture", short "SLL";
        sll_pkttype: "sll.pkttype", "Packet type", U16, Dec;
        sll_hatype: "sll.hatype", "Link-layer address type", U16, Dec;
        sll_halen: "sll.halen", "Link-layer address length", U16, Dec;
        sll_src_eth: "sll.src.eth", "Source", Ether, None;
        sll_src_ipv4: "sll.src.ipv4", "Source", Ipv4, None;
        sll_src_other: "sll.src.other", "Source", Bytes, None;
        sll_unused: "sll.unused", "Unused", Bytes, None;
        sll_etype: "sll.etype", "Protocol", U16, Hex;
        sll_ltype: "sll.ltype", "Protocol", U16, Hex;
        sll_ifindex: "sll.ifindex", "Interface index", U32, Dec;
        sll_trailer: "sll.trailer", "Trailer", Bytes, None;
        null: "null", "Null/Loopback", Protocol, None, short "Null";
        null_family: "null.family", "Family", U32, Dec;
        null_type: "null.type", "Type", U16, Hex;
        raw: "raw", "Raw packet data", Protocol, None, short "Raw";
        pppoe: "pppoe", "PPP-over-Ethernet", Protocol, None, short "PPPoE";
        pppoes: "pppoes", "PPP-over-Ethernet Session", Protocol, None, short "PPPoES";
        pppoe_version: "pppoe.version", "Version", U8, Dec, mask 0xf0;
        pppoe_type: "pppoe.type", "Type", U8, Dec, mask 0x0f;
        pppoe_code: "pppoe.code", "Code", U8, Hex;
        pppoe_session_id: "pppoe.session_id", "Session ID", U16, Hex;
        pppoe_payload_length: "pppoe.payload_length", "Payload Length", U16, Dec;
        ppp: "ppp", "Point-to-Point Protocol", Protocol, None;
        ppp_address: "ppp.address", "Address", U8, Hex;
        ppp_control: "ppp.control", "Control", U8, Hex;
        ppp_protocol: "ppp.protocol", "Protocol", U16, Hex;
        sll_gretype: "sll.gretype", "Protocol", U16, Hex;
        mpls: "mpls", "MultiProtocol Label Switching Header", Protocol, None;
        mpls_label: "mpls.label", "MPLS Label", U32, DecHex, mask 0xffff_f000;
        mpls_exp: "mpls.exp", "MPLS Experimental Bits", U32, Dec, mask 0x0e00;
        mpls_bottom: "mpls.bottom", "MPLS Bottom Of Label Stack", U32, Dec, mask 0x0100;
        mpls_ttl: "mpls.ttl", "MPLS TTL", U32, Dec, mask 0x00ff;
        data: "data", "Data", Protocol, None, short "Data";
        data_data: "data.data", "Data", Bytes, None;
        data_len: "data.len", "Length", I32, Dec;
    }
}

const FCS_STATUS_VALS: &[(u64, &str)] = &[
    (0, "Bad"),
    (1, "Good"),
    (2, "Unverified"),
    (3, "Not present"),
    (4, "Illegal"),
];

/// Link types (LINKTYPE_*) this module dissects.
pub const LINKTYPE_NULL: u32 = 0;
pub const LINKTYPE_ETHERNET: u32 = 1;
pub const LINKTYPE_PPP: u32 = 9;
pub const LINKTYPE_PPP_HDLC: u32 = 50;
pub const LINKTYPE_RAW: u32 = 101;
pub const LINKTYPE_RAW_OLD: [u32; 2] = [12, 14];
pub const LINKTYPE_LOOP: u32 = 108;
pub const LINKTYPE_SLL: u32 = 113;
pub const LINKTYPE_IPV4: u32 = 228;
pub const LINKTYPE_IPV6: u32 = 229;
pub const LINKTYPE_SLL2: u32 = 276;

const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;

/// Which link-layer dissector an instance of [`Link`] is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Eth,
    Vlan,
    Sll,
    Sll2,
    Null,
    Loop,
    Raw,
    RawIp4,
    RawIp6,
    Pppoes,
    Ppp,
    Mpls,
    Data,
}

pub struct Link {
    f: EthFields,
    kind: Kind,
    /// The address fields of [`push_mac`]: when none is wanted their
    /// pushes are skipped.
    macs: IdSpan,
}

impl Link {
    pub fn new(f: EthFields, kind: Kind) -> Self {
        let macs = IdSpan::of(&[
            f.dst,
            f.dst_resolved,
            f.addr,
            f.addr_resolved,
            f.lg,
            f.ig,
            f.src,
            f.src_resolved,
        ]);
        Link { f, kind, macs }
    }
}

impl Dissector for Link {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        match self.kind {
            Kind::Eth => eth(&self.f, self.macs, cx, data),
            Kind::Vlan => vlan(&self.f, cx, data),
            Kind::Sll => sll(&self.f, cx, data),
            Kind::Sll2 => sll2(&self.f, cx, data),
            Kind::Null => null(&self.f, cx, data, false),
            Kind::Loop => null(&self.f, cx, data, true),
            Kind::Raw => raw(&self.f, cx, data),
            Kind::RawIp4 => {
                call_or_data(cx, "ip", data);
                Outcome::Done(data.len())
            }
            Kind::RawIp6 => {
                call_or_data(cx, "ipv6", data);
                Outcome::Done(data.len())
            }
            Kind::Pppoes => pppoes(&self.f, cx, data),
            Kind::Ppp => ppp(&self.f, cx, data),
            Kind::Mpls => mpls(&self.f, cx, data),
            Kind::Data => data_proto(&self.f, cx, data),
        }
    }
}

/// Calls a dissector by name, or shows the bytes as data when it refuses.
pub fn call_or_data(cx: &mut Cx<'_>, name: &str, data: &[u8]) -> usize {
    match cx.call_by_name(name, data) {
        Some(Outcome::Done(n)) => n,
        _ => {
            cx.call_by_name("data", data);
            data.len()
        }
    }
}

/// The `data` protocol: bytes nobody claimed.
fn data_proto(f: &EthFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    if data.is_empty() {
        return Outcome::Done(0);
    }
    cx.t.add_layer("data");
    cx.t.push_proto(f.data, data);
    cx.t.push_bytes(f.data_data, data);
    cx.t.push(f.data_len, Value::I(data.len() as i64));
    Outcome::Done(data.len())
}

fn push_mac(
    f: &EthFields,
    cx: &mut Cx<'_>,
    field: dorsal_engine::fields::FieldId,
    resolved_field: dorsal_engine::fields::FieldId,
    mac: [u8; 6],
) {
    cx.t.push(field, Value::Ether(mac));
    if cx.t.wants(resolved_field) {
        cx.t.push_str(resolved_field, resolved(&mac).as_bytes());
    }
    cx.t.push(f.addr, Value::Ether(mac));
    if cx.t.wants(f.addr_resolved) {
        cx.t.push_str(f.addr_resolved, resolved(&mac).as_bytes());
    }
    let oct0 = mac[0];
    cx.t.push_bool(f.lg, oct0 & 0x02 != 0);
    cx.t.push_bool(f.ig, oct0 & 0x01 != 0);
}

pub(crate) fn mac_string(m: &[u8; 6]) -> String {
    let mut s = String::with_capacity(17);
    dorsal_engine::format::write_ether(&mut s, m);
    s
}

fn eth(f: &EthFields, macs: IdSpan, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    // The protocol column until a payload names the frame (also one whose
    // header is cut short).
    if let Some(c) = cx.cols() {
        c.set_protocol("Ethernet");
    }
    let (Some(dst), Some(src), Some(ty)) =
        (array::<6>(data, 0), array::<6>(data, 6), be16(data, 12))
    else {
        // Wireshark reads the type before it adds the Ethernet item: a
        // header cut short leaves the layer, no item, and the exception.
        cx.t.add_nested_layer("eth");
        // The addresses were taken as far as they were read.
        let (d, s) = (array::<6>(data, 0), array::<6>(data, 6));
        if let (Some(c), Some(d)) = (cx.cols(), d) {
            c.set_link_addresses(s.map(|s| resolved(&s)).unwrap_or_default(), resolved(&d));
        }
        cx.bounds_error(14, "Ethernet");
        return Outcome::Done(data.len());
    };
    cx.t.add_layer("eth");
    if let Some(c) = cx.cols() {
        c.set_info("Ethernet II");
    }
    let entry = cx.t.push_proto(f.eth, data.get(..14).unwrap_or(data));
    if cx.t.wants_label(entry) {
        let label = format!(
            "Ethernet II, Src: {} ({}), Dst: {} ({})",
            mac_string(&src),
            mac_string(&src),
            mac_string(&dst),
            mac_string(&dst)
        );
        cx.t.set_label(entry, &label);
    }
    if cx.t.wants_any(macs) {
        push_mac(f, cx, f.dst, f.dst_resolved, dst);
        push_mac(f, cx, f.src, f.src_resolved, src);
    }
    let payload = from(data, 14);
    if ty <= 1500 && ty != 0 {
        if let Some(c) = cx.cols() {
            c.set_info("IEEE 802.3 Ethernet ");
        }
        let l = Ieee8023 {
            len: f.len,
            trailer: f.trailer,
            fcs: true,
        };
        l.dissect(f, cx, ty, payload, 14);
    } else {
        cx.t.push_u(f.ty, ty);
        let used = ethertype(f, cx, ty, payload);
        trailer(f, cx, payload, used);
    }
    link_columns(cx, &src, &dst);
    Outcome::Done(data.len())
}

/// The addresses columns from the MACs, by name (`Broadcast`,
/// `Cisco_12:34:56`), when no network layer set them: resolved only then,
/// after the payload, since most frames carry IP.
fn link_columns(cx: &mut Cx<'_>, src: &[u8; 6], dst: &[u8; 6]) {
    if let Some(c) = cx.cols() {
        if !c.has_net_addresses() {
            c.set_link_addresses(resolved(src), resolved(dst));
        }
    }
}

/// How IEEE 802.3 (a length where Ethernet II has a type) is dissected
/// after an Ethernet or a VLAN header: which fields hold the length and the
/// trailer, and whether the frame may end in an FCS.
struct Ieee8023 {
    len: dorsal_engine::fields::FieldId,
    trailer: dorsal_engine::fields::FieldId,
    fcs: bool,
}

/// The shortest Ethernet frame without its FCS: shorter payloads are padded
/// to it.
const ETH_MIN_LEN: usize = 60;

impl Ieee8023 {
    /// `payload` follows the length field, which ends at `hdr` in the
    /// caller's data: LLC gets the bytes the length counts, the rest is the
    /// trailer.
    fn dissect(&self, f: &EthFields, cx: &mut Cx<'_>, length: u16, payload: &[u8], hdr: usize) {
        cx.t.push_u(self.len, length);
        let whole = cx.reported;
        let remaining = whole.saturating_sub(hdr);
        // A length past the frame counts only what the frame holds; tshark
        // flags it with an expert info of the malformed group, which brings
        // a hidden `_ws.malformed` inside the Ethernet item.
        let n = usize::from(length).min(remaining);
        if n < usize::from(length) {
            cx.malformed_expert();
        }
        cx.set_next_reported(n);
        let body = payload.get(..n).unwrap_or(payload);
        // Raw 802.3 (IPX right after the length) is not followed: it shows as data.
        let name = if body.starts_with(&[0xff, 0xff]) {
            "data"
        } else {
            "llc"
        };
        call_or_data(cx, name, body);
        let rest = from(payload, n);
        // After a VLAN tag the padding still counts from the frame's start
        // (tshark's is `eth.padding`, not the tag's trailer).
        let whole_frame = if self.fcs {
            whole
        } else {
            (cx.frame.len as usize).max(whole)
        };
        self.trailer(f, cx, rest, whole_frame, remaining - n);
    }

    /// Wireshark's Ethernet trailer: zero padding up to the 60-byte
    /// minimum, a 4-byte FCS when the frame is long enough to hold one
    /// (captures rarely say whether it does), and what is left as a
    /// trailer. `whole` is the reported length of the frame from its
    /// Ethernet or VLAN header on, `reported` that of the trailer.
    fn trailer(&self, f: &EthFields, cx: &mut Cx<'_>, rest: &[u8], whole: usize, reported: usize) {
        if reported == 0 {
            return;
        }
        let mut rest = rest;
        let before = whole - reported;
        if whole >= ETH_MIN_LEN && before < ETH_MIN_LEN {
            let pad = ETH_MIN_LEN - before;
            if let Some(p) = rest.get(..pad).filter(|p| p.iter().all(|&b| b == 0)) {
                cx.t.push_bytes(f.padding, p);
                rest = from(rest, pad);
            }
        }
        let mut fcs = None;
        if self.fcs && whole >= ETH_MIN_LEN + 4 && rest.len() >= 4 {
            let at = rest.len() - 4;
            fcs = be32(rest, at);
            rest = rest.get(..at).unwrap_or_default();
        }
        if !rest.is_empty() {
            cx.t.push_bytes(self.trailer, rest);
        }
        if let Some(v) = fcs {
            cx.t.push_u(f.fcs, v);
            // Unverified: tshark does not check the FCS by default.
            cx.t.push_u(f.fcs_status, 2u8);
        }
    }
}

/// Bytes after the payload the ethertype's protocol claimed: padding when
/// all zero, a trailer otherwise.
fn trailer(f: &EthFields, cx: &mut Cx<'_>, payload: &[u8], used: usize) {
    let rest = from(payload, used);
    if rest.is_empty() {
        return;
    }
    if rest.iter().all(|&b| b == 0) {
        cx.t.push_bytes(f.padding, rest);
    } else {
        cx.t.push_bytes(f.trailer, rest);
    }
}

/// The ethertype handoff: adds the `ethertype` layer and calls the protocol
/// registered for `ty`, or data. Returns the bytes the protocol used.
pub fn ethertype(f: &EthFields, cx: &mut Cx<'_>, ty: u16, payload: &[u8]) -> usize {
    // `ethertype` is listed in the stack but has no tree item.
    cx.t.add_nested_layer("ethertype");
    cx.t.push_proto(f.ethertype, &[]);
    let table = cx.table("ethertype");
    match cx.call_table(table, u32::from(ty), payload) {
        Some(Outcome::Done(n)) => n.min(payload.len()),
        Some(Outcome::NeedMore { .. }) => payload.len(),
        // No protocol took it (none registered, or it refused the bytes):
        // data, named by the number and, when known, the ethertype's name.
        Some(Outcome::Rejected) | None => {
            if let Some(c) = cx.cols() {
                c.set_protocol(&format!("0x{ty:04x}"));
                if let Some(name) = value_name(ETYPE_VALS, u64::from(ty)) {
                    c.set_info(name);
                }
            }
            cx.call_by_name("data", payload);
            payload.len()
        }
    }
}

fn vlan(f: &EthFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("vlan");
    let (Some(tci), Some(ty)) = (be16(data, 0), be16(data, 2)) else {
        cx.t.push_proto(f.vlan, data);
        return Outcome::Done(data.len());
    };
    let entry = cx.t.push_proto(f.vlan, data.get(..4).unwrap_or(data));
    if cx.t.wants_label(entry) {
        let label = format!(
            "802.1Q Virtual LAN, PRI: {}, DEI: {}, ID: {}",
            tci >> 13,
            (tci >> 12) & 1,
            tci & 0xfff
        );
        cx.t.set_label(entry, &label);
    }
    cx.t.push_u(f.vlan_priority, tci >> 13);
    cx.t.push_bool(f.vlan_dei, tci & 0x1000 != 0);
    cx.t.push_u(f.vlan_id, tci & 0x0fff);
    let payload = from(data, 4);
    if ty <= 1500 {
        let l = Ieee8023 {
            len: f.vlan_len,
            trailer: f.vlan_trailer,
            fcs: false,
        };
        l.dissect(f, cx, ty, payload, 4);
        return Outcome::Done(data.len());
    }
    cx.t.push_u(f.vlan_etype, ty);
    let used = ethertype(f, cx, ty, payload);
    Outcome::Done(4 + used)
}

fn sll(f: &EthFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("sll");
    cx.t.push_proto(f.sll, data.get(..16).unwrap_or(data));
    let (Some(pkttype), Some(hatype), Some(halen), Some(proto)) =
        (be16(data, 0), be16(data, 2), be16(data, 4), be16(data, 14))
    else {
        return Outcome::Done(data.len());
    };
    cx.t.push_u(f.sll_pkttype, pkttype);
    cx.t.push_u(f.sll_hatype, hatype);
    cx.t.push_u(f.sll_halen, halen);
    sll_address(f, cx, data.get(6..14).unwrap_or_default(), hatype, halen);
    let payload = from(data, 16);
    sll_protocol(f, cx, hatype, proto, payload);
    Outcome::Done(data.len())
}

fn sll_address(f: &EthFields, cx: &mut Cx<'_>, addr: &[u8], hatype: u16, halen: u16) {
    let n = usize::from(halen).min(8);
    match (hatype, halen) {
        (1 | 6 | 772 | 778, 6) => {
            if let Some(m) = array::<6>(addr, 0) {
                cx.t.push(f.sll_src_eth, Value::Ether(m));
            }
        }
        (778, 4) => {
            if let Some(a) = array::<4>(addr, 0) {
                cx.t.push(f.sll_src_ipv4, Value::Ipv4(a));
            }
        }
        _ if n > 0 => {
            cx.t.push_bytes(f.sll_src_other, addr.get(..n).unwrap_or(addr))
        }
        _ => {}
    }
    if n < 8 {
        cx.t.push_bytes(f.sll_unused, addr.get(n..).unwrap_or_default());
    }
}

/// The protocol field of SLL and SLL2: an ethertype, or a Linux pseudo-type
/// for frames without one.
fn sll_protocol(f: &EthFields, cx: &mut Cx<'_>, hatype: u16, proto: u16, payload: &[u8]) {
    if hatype == 778 {
        // ARPHRD_IPGRE: the protocol is a GRE protocol type.
        cx.t.push_u(f.sll_gretype, proto);
        let table = cx.table("gre.proto");
        if !matches!(
            cx.call_table(table, u32::from(proto), payload),
            Some(Outcome::Done(_))
        ) {
            cx.call_by_name("data", payload);
        }
        return;
    }
    if proto <= 1536 {
        cx.t.push_u(f.sll_ltype, proto);
        // LINUX_SLL_P_802_2 and friends: LLC and others dorsal shows as data.
        cx.call_by_name("data", payload);
        return;
    }
    cx.t.push_u(f.sll_etype, proto);
    ethertype(f, cx, proto, payload);
}

fn sll2(f: &EthFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("sll");
    cx.t.push_proto(f.sll, data.get(..20).unwrap_or(data));
    let (Some(proto), Some(ifindex), Some(hatype), Some(pkttype), Some(halen)) = (
        be16(data, 0),
        be32(data, 4),
        be16(data, 8),
        u8_at(data, 10),
        u8_at(data, 11),
    ) else {
        return Outcome::Done(data.len());
    };
    cx.t.push_u(f.sll_etype, proto);
    cx.t.push_u(f.sll_ifindex, ifindex);
    cx.t.push_u(f.sll_hatype, hatype);
    cx.t.push_u(f.sll_pkttype, pkttype);
    cx.t.push_u(f.sll_halen, halen);
    sll_address(
        f,
        cx,
        data.get(12..20).unwrap_or_default(),
        hatype,
        u16::from(halen),
    );
    let payload = from(data, 20);
    ethertype(f, cx, proto, payload);
    Outcome::Done(data.len())
}

/// BSD AF_ values as null/loopback headers carry them.
fn null_family_proto(family: u32) -> Option<&'static str> {
    match family {
        2 => Some("ip"),
        10 | 24 | 28 | 30 => Some("ipv6"),
        _ => None,
    }
}

fn null(f: &EthFields, cx: &mut Cx<'_>, data: &[u8], network_order: bool) -> Outcome {
    cx.t.add_layer(if network_order { "loop" } else { "null" });
    cx.t.push_proto(f.null, data.get(..4).unwrap_or(data));
    if !network_order && be16(data, 0) == Some(0xff03) {
        call_or_data(cx, "ppp", data);
        return Outcome::Done(data.len());
    }
    let Some(mut header) = (if network_order {
        be32(data, 0)
    } else {
        le32(data, 0)
    }) else {
        return Outcome::Done(data.len());
    };
    let payload = from(data, 4);
    if !network_order && header & 0xffff_0000 != 0 {
        // Upper half set: a family written in the other byte order, or an
        // ethertype in network order in the first two bytes.
        if header & 0xff00_0000 == 0 && header & 0x00ff_0000 < 0x0006_0000 {
            header = header.swap_bytes();
        } else {
            header = u32::from(be16(data, 0).unwrap_or(0));
        }
    }
    if header > 1500 {
        let ty = (header & 0xffff) as u16;
        cx.t.push_u(f.null_type, ty);
        ethertype(f, cx, ty, payload);
        return Outcome::Done(data.len());
    }
    cx.t.push_u(f.null_family, header);
    match null_family_proto(header) {
        Some(p) => {
            call_or_data(cx, p, payload);
        }
        None => {
            cx.call_by_name("data", payload);
        }
    }
    Outcome::Done(data.len())
}

fn raw(f: &EthFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("raw");
    cx.t.push_proto(f.raw, data);
    match u8_at(data, 0).map(|b| b >> 4) {
        Some(4) => {
            call_or_data(cx, "ip", data);
        }
        Some(6) => {
            call_or_data(cx, "ipv6", data);
        }
        // Neither IPv4 nor IPv6: Wireshark shows nothing more.
        _ => {}
    }
    Outcome::Done(data.len())
}

fn pppoes(f: &EthFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("pppoes");
    cx.t.push_proto(f.pppoes, data.get(..6).unwrap_or(data));
    let (Some(vt), Some(code), Some(sid), Some(plen)) =
        (u8_at(data, 0), u8_at(data, 1), be16(data, 2), be16(data, 4))
    else {
        return Outcome::Done(data.len());
    };
    cx.t.push_u(f.pppoe_version, vt >> 4);
    cx.t.push_u(f.pppoe_type, vt & 0x0f);
    cx.t.push_u(f.pppoe_code, code);
    cx.t.push_u(f.pppoe_session_id, sid);
    cx.t.push_u(f.pppoe_payload_length, plen);
    let payload = from(data, 6);
    let n = usize::from(plen).min(payload.len());
    let used = call_or_data(cx, "ppp", payload.get(..n).unwrap_or(payload));
    Outcome::Done(6 + used.max(n))
}

/// PPP protocol numbers dorsal follows.
fn ppp_proto(p: u16) -> Option<&'static str> {
    match p {
        0x0021 => Some("ip"),
        0x0057 => Some("ipv6"),
        0x0281 | 0x0283 => Some("mpls"),
        _ => None,
    }
}

/// Most labels a stack may have before dorsal gives up on it.
const MAX_MPLS_LABELS: usize = 64;

/// MPLS: labels down to the bottom of the stack, then IPv4 or IPv6 chosen by
/// the first nibble, as Wireshark does without a label binding.
fn mpls(f: &EthFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("mpls");
    let mut off = 0usize;
    for _ in 0..MAX_MPLS_LABELS {
        let Some(entry) = be32(data, off) else {
            cx.t.push_proto(f.mpls, from(data, off));
            return Outcome::Done(data.len());
        };
        cx.t.push_proto(f.mpls, data.get(off..off + 4).unwrap_or_default());
        cx.t.push_u(f.mpls_label, entry >> 12);
        cx.t.push_u(f.mpls_exp, (entry >> 9) & 7);
        cx.t.push_u(f.mpls_bottom, (entry >> 8) & 1);
        cx.t.push_u(f.mpls_ttl, entry & 0xff);
        off += 4;
        if entry & 0x100 != 0 {
            break;
        }
    }
    let payload = from(data, off);
    match u8_at(payload, 0).map(|b| b >> 4) {
        Some(4) => {
            call_or_data(cx, "ip", payload);
        }
        Some(6) => {
            call_or_data(cx, "ipv6", payload);
        }
        Some(_) => {
            cx.call_by_name("data", payload);
        }
        None => {}
    }
    Outcome::Done(data.len())
}

fn ppp(f: &EthFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("ppp");
    cx.t.push_proto(f.ppp, data);
    let mut off = 0;
    if u8_at(data, 0) == Some(0xff) && u8_at(data, 1) == Some(0x03) {
        cx.t.push_u(f.ppp_address, 0xffu8);
        cx.t.push_u(f.ppp_control, 0x03u8);
        off = 2;
    }
    // The protocol field is one byte when its low bit is set (compressed).
    let (proto, hlen) = match u8_at(data, off) {
        Some(b) if b & 1 == 1 => (u16::from(b), 1),
        _ => match be16(data, off) {
            Some(p) => (p, 2),
            None => return Outcome::Done(data.len()),
        },
    };
    cx.t.push_u(f.ppp_protocol, proto);
    let payload = from(data, off + hlen);
    match ppp_proto(proto) {
        Some(p) => {
            call_or_data(cx, p, payload);
        }
        None => {
            cx.call_by_name("data", payload);
        }
    }
    Outcome::Done(data.len())
}

/// Where each link dissector attaches.
pub fn attach(ds: &mut dorsal_engine::dissect::Dissectors, f: EthFields) {
    use std::rc::Rc;
    let reg = |ds: &mut dorsal_engine::dissect::Dissectors, name, kind| {
        ds.register(name, Rc::new(Link::new(f, kind)))
    };
    let eth_id = reg(ds, "eth", Kind::Eth);
    ds.add("wtap_encap", LINKTYPE_ETHERNET, eth_id);
    let vlan_id = reg(ds, "vlan", Kind::Vlan);
    ds.add("ethertype", u32::from(ETHERTYPE_VLAN), vlan_id);
    ds.add("ethertype", u32::from(ETHERTYPE_QINQ), vlan_id);
    ds.add("ethertype", 0x9100, vlan_id);
    let sll_id = reg(ds, "sll", Kind::Sll);
    ds.add("wtap_encap", LINKTYPE_SLL, sll_id);
    let sll2_id = reg(ds, "sll2", Kind::Sll2);
    ds.add("wtap_encap", LINKTYPE_SLL2, sll2_id);
    let null_id = reg(ds, "null", Kind::Null);
    ds.add("wtap_encap", LINKTYPE_NULL, null_id);
    let loop_id = reg(ds, "loop", Kind::Loop);
    ds.add("wtap_encap", LINKTYPE_LOOP, loop_id);
    let raw_id = reg(ds, "raw", Kind::Raw);
    ds.add("wtap_encap", LINKTYPE_RAW, raw_id);
    for lt in LINKTYPE_RAW_OLD {
        ds.add("wtap_encap", lt, raw_id);
    }
    let ip4 = reg(ds, "rawip4", Kind::RawIp4);
    ds.add("wtap_encap", LINKTYPE_IPV4, ip4);
    let ip6 = reg(ds, "rawip6", Kind::RawIp6);
    ds.add("wtap_encap", LINKTYPE_IPV6, ip6);
    let pppoes_id = reg(ds, "pppoes", Kind::Pppoes);
    ds.add("ethertype", 0x8864, pppoes_id);
    let ppp_id = reg(ds, "ppp", Kind::Ppp);
    ds.add("wtap_encap", LINKTYPE_PPP, ppp_id);
    ds.add("wtap_encap", LINKTYPE_PPP_HDLC, ppp_id);
    let mpls_id = reg(ds, "mpls", Kind::Mpls);
    ds.add("ethertype", 0x8847, mpls_id);
    ds.add("ethertype", 0x8848, mpls_id);
    ds.add("udp.port", 6635, mpls_id);
    ds.add("ip.proto", 137, mpls_id);
    ds.add("gre.proto", 0x8847, mpls_id);
    reg(ds, "data", Kind::Data);
}
