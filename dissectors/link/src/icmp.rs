//! ICMP, ICMPv6 and ARP.

use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::fields;
use dorsal_engine::table::Value;

use crate::bytes::{array, be16, from, le16, u8_at};

fields! {
    pub struct IcmpFields {
        icmp: "icmp", "Internet Control Message Protocol", Protocol, None;
        ty: "icmp.type", "Type", U8, Dec;
        code: "icmp.code", "Code", U8, Dec;
        checksum: "icmp.checksum", "Checksum", U16, Hex;
        checksum_status: "icmp.checksum.status", "Checksum Status", U8, None;
        ident: "icmp.ident", "Identifier (BE)", U16, DecHex;
        ident_le: "icmp.ident_le", "Identifier (LE)", U16, DecHex;
        seq: "icmp.seq", "Sequence Number (BE)", U16, DecHex;
        seq_le: "icmp.seq_le", "Sequence Number (LE)", U16, DecHex;
        icmpv6: "icmpv6", "Internet Control Message Protocol v6", Protocol, None;
        v6_type: "icmpv6.type", "Type", U8, Dec;
        v6_code: "icmpv6.code", "Code", U8, Dec;
        v6_checksum: "icmpv6.checksum", "Checksum", U16, Hex;
        v6_checksum_status: "icmpv6.checksum.status", "Checksum Status", U8, None;
        arp: "arp", "Address Resolution Protocol", Protocol, None;
        arp_hw_type: "arp.hw.type", "Hardware type", U16, Dec;
        arp_proto_type: "arp.proto.type", "Protocol type", U16, Hex;
        arp_hw_size: "arp.hw.size", "Hardware size", U8, Dec;
        arp_proto_size: "arp.proto.size", "Protocol size", U8, Dec;
        arp_opcode: "arp.opcode", "Opcode", U16, Dec;
        arp_src_hw_mac: "arp.src.hw_mac", "Sender MAC address", Ether, None;
        arp_src_proto_ipv4: "arp.src.proto_ipv4", "Sender IP address", Ipv4, None;
        arp_dst_hw_mac: "arp.dst.hw_mac", "Target MAC address", Ether, None;
        arp_dst_proto_ipv4: "arp.dst.proto_ipv4", "Target IP address", Ipv4, None;
    }
}

#[derive(Clone, Copy)]
pub enum Kind {
    Icmp,
    Icmpv6,
    Arp,
}

pub struct Icmp {
    f: IcmpFields,
    kind: Kind,
}

impl Icmp {
    pub fn new(f: IcmpFields, kind: Kind) -> Self {
        Icmp { f, kind }
    }
}

impl Dissector for Icmp {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        match self.kind {
            Kind::Icmp => icmp(&self.f, cx, data),
            Kind::Icmpv6 => icmpv6(&self.f, cx, data),
            Kind::Arp => arp(&self.f, cx, data),
        }
    }
}

/// ICMP types whose body is the start of the datagram that caused them.
fn carries_datagram(ty: u8) -> bool {
    matches!(ty, 3 | 4 | 5 | 11 | 12)
}

fn icmp(f: &IcmpFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("icmp");
    cx.t.push_proto(f.icmp, data);
    let (Some(ty), Some(code)) = (u8_at(data, 0), u8_at(data, 1)) else {
        return Outcome::Done(data.len());
    };
    cx.t.push_u(f.ty, ty);
    cx.t.push_u(f.code, code);
    if let Some(sum) = be16(data, 2) {
        cx.t.push_u(f.checksum, sum);
    }
    if matches!(ty, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18) {
        if let (Some(id), Some(seq), Some(id_le), Some(seq_le)) =
            (be16(data, 4), be16(data, 6), le16(data, 4), le16(data, 6))
        {
            cx.t.push_u(f.ident, id);
            cx.t.push_u(f.ident_le, id_le);
            cx.t.push_u(f.seq, seq);
            cx.t.push_u(f.seq_le, seq_le);
        }
        // Only echo messages carry free-form data.
        let body = from(data, 8);
        if matches!(ty, 0 | 8) && !body.is_empty() {
            // tshark hands ICMP's own subtree to the data dissector.
            let outer = cx.t.nest(true);
            cx.call_by_name("data", body);
            cx.t.nest(outer);
        }
    } else if carries_datagram(ty) {
        let inner = from(data, 8);
        if !inner.is_empty() {
            let saved = (cx.src, cx.dst, cx.srcport, cx.dstport);
            // The quoted datagram's layers sit inside the ICMP item.
            let outer = cx.t.nest(true);
            let in_error = std::mem::replace(&mut cx.in_error, true);
            crate::eth::call_or_data(cx, "ip", inner);
            cx.in_error = in_error;
            cx.t.nest(outer);
            (cx.src, cx.dst, cx.srcport, cx.dstport) = saved;
        }
    }
    Outcome::Done(data.len())
}

fn icmpv6(f: &IcmpFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("icmpv6");
    cx.t.push_proto(f.icmpv6, data);
    let Some(ty) = u8_at(data, 0) else {
        cx.bounds_error(1, "ICMPv6");
        return Outcome::Done(data.len());
    };
    cx.t.push_u(f.v6_type, ty);
    let Some(code) = u8_at(data, 1) else {
        cx.bounds_error(2, "ICMPv6");
        return Outcome::Done(data.len());
    };
    cx.t.push_u(f.v6_code, code);
    if let Some(sum) = be16(data, 2) {
        cx.t.push_u(f.v6_checksum, sum);
    }
    let fixed = icmpv6_fixed_len(ty);
    if data.len() < fixed {
        // The checksum is read first, then the type's fixed part.
        cx.bounds_error(if data.len() < 4 { 4 } else { fixed }, "ICMPv6");
        return Outcome::Done(data.len());
    }
    if matches!(ty, 128 | 129) {
        let body = from(data, 8);
        if !body.is_empty() {
            // tshark hands ICMP's own subtree to the data dissector.
            let outer = cx.t.nest(true);
            cx.call_by_name("data", body);
            cx.t.nest(outer);
        }
    } else if matches!(ty, 1..=4) {
        let inner = from(data, 8);
        if !inner.is_empty() {
            let saved = (cx.src, cx.dst, cx.srcport, cx.dstport);
            // The quoted datagram's layers sit inside the ICMP item.
            let outer = cx.t.nest(true);
            let in_error = std::mem::replace(&mut cx.in_error, true);
            crate::eth::call_or_data(cx, "ipv6", inner);
            cx.in_error = in_error;
            cx.t.nest(outer);
            (cx.src, cx.dst, cx.srcport, cx.dstport) = saved;
        }
    }
    Outcome::Done(data.len())
}

/// Bytes of an ICMPv6 message of type `ty` that Wireshark reads whatever
/// the rest holds (`dissect_icmpv6`): the common header and the fixed part
/// of the type's body, before any option or quoted datagram.
fn icmpv6_fixed_len(ty: u8) -> usize {
    match ty {
        // Errors, echo, router solicitation, inverse discovery, mobile IPv6.
        1..=4 | 128 | 129 | 133 | 141 | 142 | 144..=147 => 8,
        // Router advertisement: hop limit, flags, lifetime, two timers.
        134 => 16,
        // MLD (address after delay and reserved), neighbour discovery.
        130..=132 | 135 | 136 => 24,
        // Redirect: target and destination addresses.
        137 => 40,
        _ => 4,
    }
}

fn arp(f: &IcmpFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("arp");
    let (Some(hw), Some(pt), Some(hs), Some(ps), Some(op)) = (
        be16(data, 0),
        be16(data, 2),
        u8_at(data, 4),
        u8_at(data, 5),
        be16(data, 6),
    ) else {
        cx.t.push_proto(f.arp, data);
        return Outcome::Done(data.len());
    };
    let total = 8 + 2 * (usize::from(hs) + usize::from(ps));
    cx.t.push_proto(f.arp, data.get(..total).unwrap_or(data));
    cx.t.push_u(f.arp_hw_type, hw);
    cx.t.push_u(f.arp_proto_type, pt);
    cx.t.push_u(f.arp_hw_size, hs);
    cx.t.push_u(f.arp_proto_size, ps);
    cx.t.push_u(f.arp_opcode, op);
    if hs == 6 && ps == 4 {
        if let (Some(sm), Some(si), Some(tm), Some(ti)) = (
            array::<6>(data, 8),
            array::<4>(data, 14),
            array::<6>(data, 18),
            array::<4>(data, 24),
        ) {
            cx.t.push(f.arp_src_hw_mac, Value::Ether(sm));
            cx.t.push(f.arp_src_proto_ipv4, Value::Ipv4(si));
            cx.t.push(f.arp_dst_hw_mac, Value::Ether(tm));
            cx.t.push(f.arp_dst_proto_ipv4, Value::Ipv4(ti));
        }
    }
    Outcome::Done(total.min(data.len()))
}
