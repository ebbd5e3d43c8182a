//! Tunnels that carry whole frames or datagrams: GRE (with ERSPAN), VXLAN
//! and Geneve. Each hands its payload back to the link or network layer.

use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::fields;
use dorsal_engine::table::Value;

use crate::eth::call_or_data;
use dorsal_engine::bytes::{be16, be32, from, u8_at};

fields! {
    pub struct TunnelFields {
        gre: "gre", "Generic Routing Encapsulation", Protocol, None;
        gre_flags_and_version: "gre.flags_and_version", "Flags and Version", U16, Hex;
        gre_proto: "gre.proto", "Protocol Type", U16, Hex;
        gre_checksum: "gre.checksum", "Checksum", U16, Hex;
        gre_key: "gre.key", "Key", U32, Hex;
        gre_sequence_number: "gre.sequence_number", "Sequence Number", U32, Dec;
        erspan: "erspan", "Encapsulated Remote Switch Packet ANalysis", Protocol, None;
        erspan_version: "erspan.version", "Version", U16, Dec, mask 0xf000;
        erspan_vlan: "erspan.vlan", "Vlan", U16, Dec, mask 0x0fff;
        erspan_spanid: "erspan.spanid", "SpanID", U16, Dec, mask 0x03ff;
        vxlan: "vxlan", "Virtual eXtensible Local Area Network", Protocol, None;
        vxlan_flags: "vxlan.flags", "Flags", U16, Hex;
        vxlan_vni: "vxlan.vni", "VXLAN Network Identifier (VNI)", U24, Dec;
        geneve: "geneve", "Generic Network Virtualization Encapsulation", Protocol, None, short "Geneve";
        geneve_version: "geneve.version", "Version", U8, Dec, mask 0xc0;
        geneve_option_length: "geneve.option_length", "Options Length", U8, Dec, mask 0x3f;
        geneve_proto_type: "geneve.proto_type", "Protocol Type", U16, Hex;
        geneve_vni: "geneve.vni", "Virtual Network Identifier (VNI)", U24, HexDec;
        teredo: "teredo", "Teredo IPv6 over UDP tunneling", Protocol, None, short "Teredo";
        teredo_auth: "teredo.auth", "Teredo Authentication header", None, None;
        teredo_auth_idlen: "teredo.auth.idlen", "Client identifier length", U8, Dec;
        teredo_auth_aulen: "teredo.auth.aulen", "Authentication value length", U8, Dec;
        teredo_auth_id: "teredo.auth.id", "Client identifier", Bytes, None;
        teredo_auth_value: "teredo.auth.value", "Authentication value", Bytes, None;
        teredo_auth_nonce: "teredo.auth.nonce", "Nonce value", Bytes, None;
        teredo_auth_conf: "teredo.auth.conf", "Confirmation byte", Bytes, None;
        teredo_orig: "teredo.orig", "Teredo Origin Indication header", None, None;
        teredo_orig_port: "teredo.orig.port", "Origin UDP port", U16, Dec;
        teredo_orig_addr: "teredo.orig.addr", "Origin IPv4 address", Ipv4, None;
    }
}

#[derive(Clone, Copy)]
pub enum Kind {
    Gre,
    Vxlan,
    Geneve,
    Teredo,
}

pub struct Tunnel {
    f: TunnelFields,
    kind: Kind,
}

impl Tunnel {
    pub fn new(f: TunnelFields, kind: Kind) -> Self {
        Tunnel { f, kind }
    }
}

impl Dissector for Tunnel {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        match self.kind {
            Kind::Gre => gre(&self.f, cx, data),
            Kind::Vxlan => vxlan(&self.f, cx, data),
            Kind::Geneve => geneve(&self.f, cx, data),
            Kind::Teredo => teredo(&self.f, cx, data),
        }
    }
}

const GRE_CHECKSUM: u16 = 0x8000;
const GRE_ROUTING: u16 = 0x4000;
const GRE_KEY: u16 = 0x2000;
const GRE_SEQUENCE: u16 = 0x1000;
const GRE_ACK: u16 = 0x0080;
const GRE_ERSPAN_II: u16 = 0x88be;
const GRE_ERSPAN_III: u16 = 0x22eb;
const TRANSPARENT_ETHERNET: u16 = 0x6558;

fn gre(f: &TunnelFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("gre");
    let (Some(fv), Some(proto)) = (be16(data, 0), be16(data, 2)) else {
        cx.t.push_proto(f.gre, data);
        return Outcome::Done(data.len());
    };
    cx.t.push_proto(f.gre, data.get(..4).unwrap_or(data));
    cx.t.push_u(f.gre_flags_and_version, fv);
    cx.t.push_u(f.gre_proto, proto);
    let is_ppp = fv & 0x7 == 1;
    let mut off = 4usize;
    if fv & (GRE_CHECKSUM | GRE_ROUTING) != 0 {
        if let Some(sum) = be16(data, off) {
            cx.t.push_u(f.gre_checksum, sum);
        }
        off += 4;
    }
    if fv & GRE_KEY != 0 {
        if !is_ppp {
            if let Some(k) = be32(data, off) {
                cx.t.push_u(f.gre_key, k);
            }
        }
        off += 4;
    }
    if fv & GRE_SEQUENCE != 0 {
        if let Some(s) = be32(data, off) {
            cx.t.push_u(f.gre_sequence_number, s);
        }
        off += 4;
    }
    if is_ppp && fv & GRE_ACK != 0 {
        off += 4;
    }
    if fv & GRE_ROUTING != 0 {
        // Source route entries until the empty one; at most 256 of them.
        for _ in 0..256 {
            let (Some(af), Some(len)) = (be16(data, off), u8_at(data, off + 3)) else {
                return Outcome::Done(data.len());
            };
            off += 4;
            if af == 0 && len == 0 {
                break;
            }
            off += usize::from(len);
        }
    }
    let payload = from(data, off);
    if proto == GRE_ERSPAN_II || proto == GRE_ERSPAN_III {
        // ERSPAN's type depends on the GRE header, so GRE calls it directly.
        erspan(f, cx, payload, fv & GRE_SEQUENCE != 0);
        return Outcome::Done(data.len());
    }
    by_gre_proto(cx, proto, payload);
    Outcome::Done(data.len())
}

fn erspan(f: &TunnelFields, cx: &mut Cx<'_>, data: &[u8], gre_has_sequence: bool) -> Outcome {
    cx.t.add_layer("erspan");
    if !gre_has_sequence {
        // Type I: no ERSPAN header at all.
        cx.t.push_proto(f.erspan, &[]);
        call_or_data(cx, "eth", data);
        return Outcome::Done(data.len());
    }
    let (Some(w0), Some(w1)) = (be16(data, 0), be16(data, 2)) else {
        cx.t.push_proto(f.erspan, data);
        return Outcome::Done(data.len());
    };
    let version = w0 >> 12;
    let mut hlen = 8;
    if version == 2 {
        // Type III: 12 bytes, plus an 8-byte platform sub-header when O is set.
        hlen = 12;
        if be16(data, 10).is_some_and(|w| w & 0x0001 != 0) {
            hlen = 20;
        }
    }
    cx.t.push_proto(f.erspan, data.get(..hlen).unwrap_or(data));
    cx.t.push_u(f.erspan_version, version);
    cx.t.push_u(f.erspan_vlan, w0 & 0x0fff);
    cx.t.push_u(f.erspan_spanid, w1 & 0x03ff);
    call_or_data(cx, "eth", from(data, hlen));
    Outcome::Done(data.len())
}

fn vxlan(f: &TunnelFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("vxlan");
    cx.t.push_proto(f.vxlan, data.get(..8).unwrap_or(data));
    let (Some(flags), Some(vni)) = (be16(data, 0), be32(data, 4)) else {
        return Outcome::Done(data.len());
    };
    cx.t.push_u(f.vxlan_flags, flags);
    cx.t.push_u(f.vxlan_vni, vni >> 8);
    call_or_data(cx, "eth", from(data, 8));
    Outcome::Done(data.len())
}

/// Teredo (RFC 4380): optional authentication and origin indication
/// headers, then an IPv6 packet.
fn teredo(f: &TunnelFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("teredo");
    cx.t.push_proto(f.teredo, data);
    let mut at = 0usize;
    if be16(data, 0) == Some(0x0001) {
        let (Some(idlen), Some(aulen)) = (u8_at(data, 2), u8_at(data, 3)) else {
            return Outcome::Done(data.len());
        };
        let (idlen, aulen) = (usize::from(idlen), usize::from(aulen));
        cx.t.push(f.teredo_auth, Value::None);
        cx.t.push_u(f.teredo_auth_idlen, idlen as u64);
        cx.t.push_u(f.teredo_auth_aulen, aulen as u64);
        let id_at = 4;
        let au_at = id_at + idlen;
        let nonce_at = au_at + aulen;
        let (Some(id), Some(value), Some(nonce), Some(conf)) = (
            data.get(id_at..au_at),
            data.get(au_at..nonce_at),
            data.get(nonce_at..nonce_at + 8),
            data.get(nonce_at + 8..nonce_at + 9),
        ) else {
            return Outcome::Done(data.len());
        };
        if idlen > 0 {
            cx.t.push_bytes(f.teredo_auth_id, id);
        }
        if aulen > 0 {
            cx.t.push_bytes(f.teredo_auth_value, value);
        }
        cx.t.push_bytes(f.teredo_auth_nonce, nonce);
        cx.t.push_bytes(f.teredo_auth_conf, conf);
        at = nonce_at + 9;
    }
    if be16(data, at) == Some(0x0000) {
        let (Some(port), Some(addr)) = (be16(data, at + 2), be32(data, at + 4)) else {
            return Outcome::Done(data.len());
        };
        // Both are sent with every bit flipped.
        cx.t.push(f.teredo_orig, Value::None);
        cx.t.push_u(f.teredo_orig_port, !port);
        cx.t.push(f.teredo_orig_addr, Value::Ipv4((!addr).to_be_bytes()));
        at += 8;
    }
    let inner = from(data, at);
    if inner.first().is_some_and(|b| b >> 4 == 6) {
        call_or_data(cx, "ipv6", inner);
    } else if !inner.is_empty() {
        cx.call_by_name("data", inner);
    }
    Outcome::Done(data.len())
}

fn geneve(f: &TunnelFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("geneve");
    let (Some(b0), Some(proto), Some(vni)) = (u8_at(data, 0), be16(data, 2), be32(data, 4)) else {
        cx.t.push_proto(f.geneve, data);
        return Outcome::Done(data.len());
    };
    let hlen = 8 + usize::from(b0 & 0x3f) * 4;
    cx.t.push_proto(f.geneve, data.get(..hlen).unwrap_or(data));
    cx.t.push_u(f.geneve_version, b0 >> 6);
    cx.t.push_u(f.geneve_option_length, b0 & 0x3f);
    cx.t.push_u(f.geneve_proto_type, proto);
    cx.t.push_u(f.geneve_vni, vni >> 8);
    let payload = from(data, hlen);
    by_gre_proto(cx, proto, payload);
    Outcome::Done(data.len())
}

/// Hands a tunnel's payload on by its GRE protocol type, as `data` when
/// nothing takes it.
fn by_gre_proto(cx: &mut Cx<'_>, proto: u16, payload: &[u8]) {
    let table = cx.table("gre.proto");
    match cx.call_table(table, u32::from(proto), payload) {
        Some(Outcome::Rejected) | None => {
            cx.call_by_name("data", payload);
        }
        Some(_) => {}
    }
}

/// Where the tunnels attach, and what they carry.
pub fn attach(ds: &mut dorsal_engine::dissect::Dissectors, f: TunnelFields) {
    use std::rc::Rc;
    let gre_id = ds.register("gre", Rc::new(Tunnel::new(f, Kind::Gre)));
    ds.add("ip.proto", 47, gre_id);
    let vxlan_id = ds.register("vxlan", Rc::new(Tunnel::new(f, Kind::Vxlan)));
    ds.add("udp.port", 4789, vxlan_id);
    let geneve_id = ds.register("geneve", Rc::new(Tunnel::new(f, Kind::Geneve)));
    ds.add("udp.port", 6081, geneve_id);
    let teredo_id = ds.register("teredo", Rc::new(Tunnel::new(f, Kind::Teredo)));
    ds.add("udp.port", 3544, teredo_id);
    for (proto, name) in [
        (0x0800u32, "ip"),
        (0x86dd, "ipv6"),
        (u32::from(TRANSPARENT_ETHERNET), "eth"),
    ] {
        if let Some(id) = ds.find(name) {
            ds.add("gre.proto", proto, id);
        }
    }
}
