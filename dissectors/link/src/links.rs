//! Less common link layers: ARCNET, Linux NFLOG and Apple's PKTAP.

use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::fields;

use crate::eth::call_or_data;
use dorsal_engine::bytes::{from, le16, le32, u8_at};

fields! {
    pub struct LinkFields {
        arcnet: "arcnet", "ARCNET", Protocol, None;
        arcnet_src: "arcnet.src", "Source", U8, Hex;
        arcnet_dst: "arcnet.dst", "Dest", U8, Hex;
        arcnet_protid: "arcnet.protID", "Protocol ID", U8, Hex;
        nflog: "nflog", "Linux Netfilter NFLOG", Protocol, None;
        nflog_family: "nflog.family", "Family", U8, Dec;
        nflog_version: "nflog.version", "Version", U8, Dec;
        nflog_res_id: "nflog.res_id", "Resource id", U16, Dec;
        pktap: "pktap", "PKTAP packet header", Protocol, None;
        pktap_hdrlen: "pktap.hdrlen", "Header length", U32, Dec;
        pktap_rectype: "pktap.rectype", "Record type", U32, Dec;
        pktap_dlt: "pktap.dlt", "DLT", U32, Dec;
    }
}

#[derive(Clone, Copy)]
pub enum Kind {
    /// LINKTYPE_ARCNET_BSD: no offset field, exception packets possible.
    Arcnet,
    /// LINKTYPE_ARCNET_LINUX: a two-byte offset after the addresses.
    ArcnetLinux,
    Nflog,
    Pktap,
    /// LINKTYPE_USER2 with no user mapping: Apple's PKTAP, as Wireshark assumes.
    UserPktap,
}

pub struct Link {
    f: LinkFields,
    kind: Kind,
}

impl Link {
    pub fn new(f: LinkFields, kind: Kind) -> Self {
        Link { f, kind }
    }
}

impl Dissector for Link {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        match self.kind {
            Kind::Arcnet => arcnet(&self.f, cx, data, false),
            Kind::ArcnetLinux => arcnet(&self.f, cx, data, true),
            Kind::Nflog => nflog(&self.f, cx, data),
            Kind::Pktap => pktap(&self.f, cx, data),
            Kind::UserPktap => {
                cx.t.add_layer("user_dlt");
                call_or_data(cx, "pktap", data);
                Outcome::Done(data.len())
            }
        }
    }
}

const ARCNET_IP_1051: u8 = 240;
const ARCNET_ARP_1051: u8 = 241;
const ARCNET_IP_1201: u8 = 212;
const ARCNET_ARP_1201: u8 = 213;
const ARCNET_DIAGNOSE: u8 = 0x80;
const ARCNET_BACNET: u8 = 0xcd;

fn arcnet(f: &LinkFields, cx: &mut Cx<'_>, data: &[u8], has_offset: bool) -> Outcome {
    cx.t.add_layer("arcnet");
    cx.t.push_proto(f.arcnet, data);
    let (Some(src), Some(dst)) = (u8_at(data, 0), u8_at(data, 1)) else {
        return Outcome::Done(data.len());
    };
    cx.t.push_u(f.arcnet_src, src);
    cx.t.push_u(f.arcnet_dst, dst);
    let mut off = if has_offset { 4 } else { 2 };
    let Some(mut prot) = u8_at(data, off) else {
        return Outcome::Done(data.len());
    };
    cx.t.push_u(f.arcnet_protid, prot);
    off += 1;
    if !matches!(
        prot,
        ARCNET_IP_1051 | ARCNET_ARP_1051 | ARCNET_DIAGNOSE | ARCNET_BACNET
    ) {
        // RFC 1201: a split flag (after an exception header on BSD) and a sequence number.
        if !has_offset && u8_at(data, off) == Some(0xff) {
            off += 3;
            match u8_at(data, off) {
                Some(p) => prot = p,
                None => return Outcome::Done(data.len()),
            }
            off += 1;
        }
        off += 3;
    }
    let payload = from(data, off);
    match prot {
        ARCNET_IP_1051 | ARCNET_IP_1201 => {
            call_or_data(cx, "ip", payload);
        }
        ARCNET_ARP_1051 | ARCNET_ARP_1201 => {
            call_or_data(cx, "arp", payload);
        }
        _ => {
            cx.call_by_name("data", payload);
        }
    }
    Outcome::Done(data.len())
}

const NFULA_PACKET_HDR: u16 = 1;
const NFULA_PAYLOAD: u16 = 9;
/// Most TLVs read from one NFLOG record.
const MAX_TLVS: usize = 256;

fn nflog(f: &LinkFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("nflog");
    cx.t.push_proto(f.nflog, data);
    let (Some(family), Some(version), Some(res)) = (
        u8_at(data, 0),
        u8_at(data, 1),
        dorsal_engine::bytes::be16(data, 2),
    ) else {
        return Outcome::Done(data.len());
    };
    cx.t.push_u(f.nflog_family, family);
    cx.t.push_u(f.nflog_version, version);
    cx.t.push_u(f.nflog_res_id, res);
    let mut off = 4usize;
    let mut hw_protocol = 0u16;
    let mut payload: Option<&[u8]> = None;
    for _ in 0..MAX_TLVS {
        // Lengths and types are in the capturing host's order: little-endian here.
        let (Some(len), Some(ty)) = (le16(data, off), le16(data, off + 2)) else {
            break;
        };
        if len < 4 {
            break;
        }
        let value = data
            .get(off + 4..off + usize::from(len))
            .unwrap_or_else(|| from(data, off + 4));
        match ty & 0x7fff {
            NFULA_PACKET_HDR if value.len() == 4 => {
                hw_protocol = dorsal_engine::bytes::be16(value, 0).unwrap_or(0);
            }
            NFULA_PAYLOAD => payload = Some(value),
            _ => {}
        }
        off = off.saturating_add((usize::from(len) + 3) & !3);
    }
    let Some(payload) = payload else {
        return Outcome::Done(data.len());
    };
    if hw_protocol != 0 {
        let table = cx.table("ethertype");
        if !matches!(
            cx.call_table(table, u32::from(hw_protocol), payload),
            Some(Outcome::Done(_))
        ) {
            cx.call_by_name("data", payload);
        }
    } else {
        match family {
            2 => {
                call_or_data(cx, "ip", payload);
            }
            10 => {
                call_or_data(cx, "ipv6", payload);
            }
            _ => {
                cx.call_by_name("data", payload);
            }
        }
    }
    Outcome::Done(data.len())
}

const PKTAP_MIN_HDR: u32 = 108;

fn pktap(f: &LinkFields, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    cx.t.add_layer("pktap");
    let Some(hdrlen) = le32(data, 0) else {
        cx.t.push_proto(f.pktap, data);
        return Outcome::Done(data.len());
    };
    cx.t.push_proto(f.pktap, data.get(..hdrlen as usize).unwrap_or(data));
    cx.t.push_u(f.pktap_hdrlen, hdrlen);
    if hdrlen < PKTAP_MIN_HDR {
        return Outcome::Done(data.len());
    }
    let (Some(rectype), Some(dlt)) = (le32(data, 4), le32(data, 8)) else {
        return Outcome::Done(data.len());
    };
    cx.t.push_u(f.pktap_rectype, rectype);
    cx.t.push_u(f.pktap_dlt, dlt);
    if rectype == 1 {
        let inner = from(data, hdrlen as usize);
        cx.t.add_layer("pcap_pktdata");
        let table = cx.table("wtap_encap");
        if cx.call_table(table, dlt, inner).is_none() {
            cx.call_by_name("data", inner);
        }
    }
    Outcome::Done(data.len())
}

/// Where these link layers attach.
pub fn attach(ds: &mut dorsal_engine::dissect::Dissectors, f: LinkFields) {
    use std::rc::Rc;
    for (lt, name, kind) in [
        (7u32, "arcnet", Kind::Arcnet),
        (129, "arcnet_linux", Kind::ArcnetLinux),
        (239, "nflog", Kind::Nflog),
        (258, "pktap", Kind::Pktap),
    ] {
        let id = ds.register(name, Rc::new(Link::new(f, kind)));
        ds.add("wtap_encap", lt, id);
    }
    let user2 = ds.register("user_dlt", Rc::new(Link::new(f, Kind::UserPktap)));
    ds.add("wtap_encap", 149, user2);
}
