//! IPv4 (with fragment reassembly, as tshark does by default) and IPv6
//! (with extension headers), handing their payload to the `ip.proto` table.

use dorsal_engine::hash::HashMap;
use std::cell::RefCell;
use std::net::Ipv4Addr;

use crate::ipproto::IPPROTO_VALS;
use dorsal_engine::dissect::{Address, Cx, Dissector, Outcome};
use dorsal_engine::fields;
use dorsal_engine::fields::value_name;
use dorsal_engine::table::{IdSpan, Value};

use dorsal_engine::bytes::{array, be16, be32, first_read_past, from, u8_at};

fields! {
    pub struct IpFields {
        ip: "ip", "Internet Protocol Version 4", Protocol, None, short "IPv4";
        version: "ip.version", "Version", U8, Dec;
        hdr_len: "ip.hdr_len", "Header Length", U8, Dec;
        dsfield: "ip.dsfield", "Differentiated Services Field", U8, Hex;
        dscp: "ip.dsfield.dscp", "Differentiated Services Codepoint", U8, Dec, mask 0xfc;
        ecn: "ip.dsfield.ecn", "Explicit Congestion Notification", U8, Dec, mask 0x03;
        len: "ip.len", "Total Length", U16, Dec;
        id: "ip.id", "Identification", U16, HexDec;
        flags: "ip.flags", "Flags", U8, Hex, mask 0xe0;
        flags_rb: "ip.flags.rb", "Reserved bit", Bool, None, mask 0x80;
        flags_df: "ip.flags.df", "Don't fragment", Bool, None, mask 0x40;
        flags_mf: "ip.flags.mf", "More fragments", Bool, None, mask 0x20;
        frag_offset: "ip.frag_offset", "Fragment Offset", U16, Dec, mask 0x1fff;
        ttl: "ip.ttl", "Time to Live", U8, Dec;
        proto: "ip.proto", "Protocol", U8, Dec;
        checksum: "ip.checksum", "Header Checksum", U16, Hex;
        checksum_status: "ip.checksum.status", "Header checksum status", U8, None;
        src: "ip.src", "Source Address", Ipv4, None;
        addr: "ip.addr", "Source or Destination Address", Ipv4, None;
        src_host: "ip.src_host", "Source Host", String, None;
        host: "ip.host", "Source or Destination Host", String, None;
        dst: "ip.dst", "Destination Address", Ipv4, None;
        dst_host: "ip.dst_host", "Destination Host", String, None;
        fragment: "ip.fragment", "IPv4 Fragment", FrameNum, None;
        fragments: "ip.fragments", "IPv4 Fragments", Bytes, None;
        fragment_count: "ip.fragment.count", "Fragment count", U32, Dec;
        reassembled_in: "ip.reassembled_in", "Reassembled IPv4 in frame", FrameNum, None;
        reassembled_length: "ip.reassembled.length", "Reassembled IPv4 length", U32, Dec;
        ipv6: "ipv6", "Internet Protocol Version 6", Protocol, None, short "IPv6";
        v6_version: "ipv6.version", "Version", U8, Dec;
        v6_tclass: "ipv6.tclass", "Traffic Class", U32, Hex, mask 0x0ff0_0000;
        v6_flow: "ipv6.flow", "Flow Label", U24, Hex, mask 0x0f_ffff;
        v6_plen: "ipv6.plen", "Payload Length", U16, Dec;
        v6_nxt: "ipv6.nxt", "Next Header", U8, Dec;
        v6_hlim: "ipv6.hlim", "Hop Limit", U8, Dec;
        v6_src: "ipv6.src", "Source Address", Ipv6, None;
        v6_addr: "ipv6.addr", "Source or Destination Address", Ipv6, None;
        v6_src_host: "ipv6.src_host", "Source Host", String, None;
        v6_host: "ipv6.host", "Source or Destination Host", String, None;
        v6_dst: "ipv6.dst", "Destination Address", Ipv6, None;
        v6_dst_host: "ipv6.dst_host", "Destination Host", String, None;
    }
}

/// Caps on fragments held while waiting for the rest of a datagram.
const MAX_PENDING_BYTES: usize = 64 << 20;
const MAX_PENDING_DATAGRAMS: usize = 65_536;

#[derive(Default)]
struct Datagram {
    /// (offset, bytes, frame) of each fragment seen.
    parts: Vec<(usize, Vec<u8>, u32)>,
    /// Length known once the last fragment (MF clear) arrives.
    total: Option<usize>,
    reassembled_in: Option<u32>,
}

#[derive(Default)]
struct Defrag {
    pending: HashMap<(u8, u16, [u8; 4], [u8; 4]), Datagram>,
    held: usize,
}

impl Defrag {
    /// Adds a fragment; returns the whole datagram when this fragment completes it.
    fn add(
        &mut self,
        key: (u8, u16, [u8; 4], [u8; 4]),
        off: usize,
        bytes: &[u8],
        more: bool,
        frame: u32,
    ) -> Option<Vec<u8>> {
        if self.pending.len() >= MAX_PENDING_DATAGRAMS
            || self.held.saturating_add(bytes.len()) > MAX_PENDING_BYTES
        {
            self.pending.clear();
            self.held = 0;
        }
        let d = self.pending.entry(key).or_default();
        if d.reassembled_in.is_some() {
            // A datagram with the same id after the first was completed: start over.
            *d = Datagram::default();
        }
        d.parts.push((off, bytes.to_vec(), frame));
        self.held += bytes.len();
        if !more {
            d.total = Some(off.saturating_add(bytes.len()));
        }
        let total = d.total?;
        // Complete when the parts cover 0..total without a hole.
        let mut order: Vec<usize> = (0..d.parts.len()).collect();
        order.sort_by_key(|&i| d.parts.get(i).map(|p| p.0).unwrap_or(0));
        let mut covered = 0usize;
        for &i in &order {
            let (o, b, _) = d.parts.get(i)?;
            if *o > covered {
                return None;
            }
            covered = covered.max(o.saturating_add(b.len()));
        }
        if covered < total {
            return None;
        }
        let mut out = vec![0u8; total];
        for &i in &order {
            let (o, b, _) = d.parts.get(i)?;
            let end = o.saturating_add(b.len()).min(total);
            if let (Some(dst), Some(src)) = (out.get_mut(*o..end), b.get(..end.saturating_sub(*o)))
            {
                dst.copy_from_slice(src);
            }
        }
        d.reassembled_in = Some(frame);
        let freed: usize = d.parts.iter().map(|p| p.1.len()).sum();
        d.parts.clear();
        self.held = self.held.saturating_sub(freed);
        Some(out)
    }
}

pub struct Ipv4 {
    f: IpFields,
    /// The header's fields, from `ip.version` to `ip.dst_host`: when none
    /// is wanted their pushes are skipped as a whole.
    header: IdSpan,
    defrag: RefCell<Defrag>,
}

impl Ipv4 {
    pub fn new(f: IpFields) -> Self {
        let header = IdSpan::of(&[
            f.version,
            f.hdr_len,
            f.dsfield,
            f.dscp,
            f.ecn,
            f.len,
            f.id,
            f.flags,
            f.flags_rb,
            f.flags_df,
            f.flags_mf,
            f.frag_offset,
            f.ttl,
            f.proto,
            f.checksum,
            f.checksum_status,
            f.src,
            f.addr,
            f.src_host,
            f.host,
            f.dst,
            f.dst_host,
        ]);
        Ipv4 {
            f,
            header,
            defrag: RefCell::new(Defrag::default()),
        }
    }
}

impl Dissector for Ipv4 {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.f;
        let reported = cx.reported;
        cx.t.add_layer("ip");
        let Some(b0) = u8_at(data, 0) else {
            cx.t.push_proto(f.ip, data);
            return Outcome::Done(data.len());
        };
        let version = b0 >> 4;
        let hlen = usize::from(b0 & 0x0f) * 4;
        let entry = cx.t.push_proto(f.ip, data.get(..hlen).unwrap_or(data));
        let fields = cx.t.wants_any(self.header);
        cx.t.push_u(f.version, version);
        if version != 4 {
            if version == 6 {
                cx.call_by_name("ipv6", data);
            } else if let Some(c) = cx.cols() {
                c.set_protocol("IPv4");
                c.set_info(&format!("Bogus IPv4 version ({version}, must be 4)"));
            }
            return Outcome::Done(data.len());
        }
        if hlen < 20 {
            cx.t.push_u(f.hdr_len, hlen as u64);
            if let Some(c) = cx.cols() {
                c.set_protocol("IPv4");
                c.set_info(&format!(
                    "Bogus IP header length ({hlen}, must be at least 20)"
                ));
            }
            return Outcome::Done(data.len());
        }
        cx.t.push_u(f.hdr_len, hlen as u64);
        let (
            Some(tos),
            Some(ip_len),
            Some(id),
            Some(off_raw),
            Some(ttl),
            Some(proto),
            Some(sum),
            Some(src),
            Some(dst),
        ) = (
            u8_at(data, 1),
            be16(data, 2),
            be16(data, 4),
            be16(data, 6),
            u8_at(data, 8),
            u8_at(data, 9),
            be16(data, 10),
            array::<4>(data, 12),
            array::<4>(data, 16),
        )
        else {
            return Outcome::Done(data.len());
        };
        // A strict or loose source route names the final destination: the
        // address columns, conversations and `ip.dst` use it.
        let dst = data
            .get(20..hlen)
            .and_then(source_route_destination)
            .unwrap_or(dst);
        if fields {
            cx.t.push_u(f.dsfield, tos);
            cx.t.push_u(f.dscp, tos >> 2);
            cx.t.push_u(f.ecn, tos & 3);
        }
        let mut total = usize::from(ip_len);
        if total < hlen {
            if total == 0 {
                // TCP segmentation offload: use the length on the wire.
                total = reported;
                cx.t.push_u(f.len, total as u64);
            } else {
                cx.t.push_u(f.len, ip_len);
                return Outcome::Done(data.len());
            }
        } else if fields {
            cx.t.push_u(f.len, ip_len);
        }
        // The datagram ends at its total length unless that runs past the frame.
        let (datagram, dgram_reported) = if total <= reported {
            (data.get(..total.min(data.len())).unwrap_or(data), total)
        } else {
            (data, reported)
        };
        let flags = (off_raw >> 13) as u8;
        let frag_off = usize::from(off_raw & 0x1fff) * 8;
        if fields {
            cx.t.push_u(f.id, id);
            cx.t.push_u(f.flags, flags);
            cx.t.push_bool(f.flags_rb, flags & 4 != 0);
            cx.t.push_bool(f.flags_df, flags & 2 != 0);
            cx.t.push_bool(f.flags_mf, flags & 1 != 0);
            cx.t.push_u(f.frag_offset, frag_off as u64);
            cx.t.push_u(f.ttl, ttl);
            cx.t.push_u(f.proto, proto);
            cx.t.push_u(f.checksum, sum);
            cx.t.push_u(f.checksum_status, 2u8);
            for (addr, one, host_one) in [(src, f.src, f.src_host), (dst, f.dst, f.dst_host)] {
                cx.t.push(one, Value::Ipv4(addr));
                cx.t.push(f.addr, Value::Ipv4(addr));
                if cx.t.wants(host_one) || cx.t.wants(f.host) {
                    let s = Ipv4Addr::from(addr).to_string();
                    cx.t.push_str(host_one, s.as_bytes());
                    cx.t.push_str(f.host, s.as_bytes());
                }
            }
        }
        if cx.t.wants_label(entry) {
            let label = format!(
                "Internet Protocol Version 4, Src: {}, Dst: {}",
                Ipv4Addr::from(src),
                Ipv4Addr::from(dst)
            );
            cx.t.set_label(entry, &label);
        }
        cx.src = Address::V4(src);
        cx.dst = Address::V4(dst);
        cx.hop_limit = Some(ttl);
        if let Some(c) = cx.cols() {
            c.set_protocol("IPv4");
            c.set_net_addresses(&Address::V4(src), &Address::V4(dst));
        }

        let payload = from(datagram, hlen);
        let payload_reported = dgram_reported.saturating_sub(hlen);
        let more = flags & 1 != 0;
        let fragmented = more || frag_off != 0;
        if fragmented && total > hlen && payload.len() >= total - hlen {
            let whole = self.defrag.borrow_mut().add(
                (proto, id, src, dst),
                frag_off,
                payload,
                more,
                cx.frame.number,
            );
            match whole {
                Some(bytes) => {
                    cx.t.push_u(f.reassembled_length, bytes.len() as u64);
                    hand_off(cx, proto, &bytes, bytes.len(), false);
                }
                None => {
                    cx.call_by_name("data", payload);
                }
            }
            return Outcome::Done(datagram.len());
        }
        if frag_off != 0 {
            cx.call_by_name("data", payload);
            return Outcome::Done(datagram.len());
        }
        if payload_reported > 0 {
            let saved = cx.fragmented;
            cx.fragmented = more;
            hand_off(cx, proto, payload, payload_reported, false);
            cx.fragmented = saved;
        }
        Outcome::Done(datagram.len())
    }
}

/// Calls the protocol registered for IP protocol number `proto`, or data,
/// which Info names as IPv4 (`SATNET EXPAK (64)`) or IPv6 (`Unknown IP
/// Protocol: ...`) does.
pub fn hand_off(cx: &mut Cx<'_>, proto: u8, payload: &[u8], reported: usize, v6: bool) {
    let table = cx.table("ip.proto");
    cx.set_next_reported(reported);
    match cx.call_table(table, u32::from(proto), payload) {
        Some(Outcome::Rejected) | None => {
            if let Some(c) = cx.cols() {
                let name = value_name(IPPROTO_VALS, u64::from(proto)).unwrap_or("Unknown");
                let head = if v6 { "Unknown IP Protocol: " } else { "" };
                c.set_info(&format!("{head}{name} ({proto})"));
            }
            cx.call_by_name("data", payload);
        }
        Some(_) => {}
    }
}

pub struct Ipv6 {
    f: IpFields,
}

impl Ipv6 {
    pub fn new(f: IpFields) -> Self {
        Ipv6 { f }
    }
}

/// The layer name Wireshark gives an IPv6 extension header.
fn extension_layer(nh: u8) -> Option<&'static str> {
    match nh {
        0 => Some("ipv6.hopopts"),
        43 => Some("ipv6.routing"),
        44 => Some("ipv6.fraghdr"),
        60 => Some("ipv6.dstopts"),
        _ => None,
    }
}

/// Wireshark's `get_dst_offset`: the last address of the first strict or
/// loose source route option among `opts`, unless its pointer says the
/// route is used up (then the header's destination is the final one).
fn source_route_destination(opts: &[u8]) -> Option<[u8; 4]> {
    const EOOL: u8 = 0;
    const NOP: u8 = 1;
    const LSR: u8 = 0x83;
    const SSR: u8 = 0x89;
    let mut at = 0usize;
    // Each step moves on by at least one byte.
    while let Some(&opt) = opts.get(at) {
        match opt {
            EOOL => return None,
            NOP => at += 1,
            _ => {
                let len = usize::from(*opts.get(at + 1)?);
                if len < 2 || at + len > opts.len() {
                    return None;
                }
                if opt == LSR || opt == SSR {
                    let ptr = usize::from(*opts.get(at + 2)?);
                    if ptr < 4 || ptr & 3 != 0 || ptr > len {
                        return None;
                    }
                    return array::<4>(opts, (at + len).checked_sub(4)?);
                }
                at += len;
            }
        }
    }
    None
}

/// Most extension headers followed before the upper layer.
const MAX_EXTENSIONS: usize = 16;

impl Dissector for Ipv6 {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.f;
        let reported = cx.reported;
        let entry = cx.t.push_proto(f.ipv6, data.get(..40).unwrap_or(data));
        if let Some(c) = cx.cols() {
            c.set_protocol("IPv6");
            c.clear_info();
        }
        let Some(version) = u8_at(data, 0).map(|b0| b0 >> 4) else {
            cx.bounds_error(1, "IPv6");
            return Outcome::Done(data.len());
        };
        // Both version fields, so that `ip.version == 6` matches IPv6 too.
        cx.t.push_u(f.v6_version, version);
        cx.t.push_u(f.version, version);
        if version != 6 {
            // Bogus version: Wireshark stops after the version and refuses
            // the packet, which leaves `ipv6` out of the layers (the caller
            // may show it as data).
            if let Some(c) = cx.cols() {
                c.set_info(&format!("Bogus IPv6 version ({version}, must be 6)"));
            }
            return Outcome::Rejected;
        }
        cx.t.add_layer("ipv6");
        if reported < 40 {
            if let Some(c) = cx.cols() {
                c.set_info(&format!(
                    "Invalid IPv6 header ({reported} bytes, need exactly 40)"
                ));
            }
        }
        let Some(w0) = be32(data, 0) else {
            cx.bounds_error(4, "IPv6");
            return Outcome::Done(data.len());
        };
        cx.t.push_u(f.v6_tclass, (w0 >> 20) & 0xff);
        cx.t.push_u(f.v6_flow, w0 & 0x000f_ffff);
        // Lax: each field that was captured is shown, even in a short header.
        let plen = be16(data, 4);
        let nxt = u8_at(data, 6);
        if let Some(p) = plen {
            cx.t.push_u(f.v6_plen, p);
        }
        if let Some(n) = nxt {
            cx.t.push_u(f.v6_nxt, n);
        }
        if let Some(h) = u8_at(data, 7) {
            cx.t.push_u(f.v6_hlim, h);
        }
        let src = array::<16>(data, 8);
        let dst = array::<16>(data, 24);
        for (addr, one, host_one) in [
            (src, f.v6_src, f.v6_src_host),
            (dst, f.v6_dst, f.v6_dst_host),
        ] {
            let Some(addr) = addr else { continue };
            cx.t.push(one, Value::Ipv6(addr));
            cx.t.push(f.v6_addr, Value::Ipv6(addr));
            if cx.t.wants(host_one) || cx.t.wants(f.v6_host) {
                let mut s = String::new();
                dorsal_engine::format::write_ipv6(&mut s, &addr);
                cx.t.push_str(host_one, s.as_bytes());
                cx.t.push_str(f.v6_host, s.as_bytes());
            }
        }
        let (Some(plen), Some(nxt), Some(src), Some(dst)) = (plen, nxt, src, dst) else {
            // Wireshark reads the header field by field: the source column
            // is set once the source was read, and the first field cut
            // short ends the frame.
            if let (Some(src), Some(c)) = (src, cx.cols()) {
                c.set_net_source(&Address::V6(src));
            }
            cx.bounds_error(first_read_past(data.len(), &[6, 7, 8, 24, 40]), "IPv6");
            return Outcome::Done(data.len());
        };
        if cx.t.wants_label(entry) {
            let (mut a, mut b) = (String::new(), String::new());
            dorsal_engine::format::write_ipv6(&mut a, &src);
            dorsal_engine::format::write_ipv6(&mut b, &dst);
            cx.t.set_label(
                entry,
                &format!("Internet Protocol Version 6, Src: {a}, Dst: {b}"),
            );
        }
        cx.src = Address::V6(src);
        cx.dst = Address::V6(dst);
        cx.hop_limit = u8_at(data, 7);
        let (src, dst) = (cx.src, cx.dst);
        if let Some(c) = cx.cols() {
            c.set_protocol("IPv6");
            c.set_net_addresses(&src, &dst);
        }

        // The payload length bounds the datagram, unless it is too long. A
        // zero length stands for a jumbogram only before a hop-by-hop
        // header (or with no next header); otherwise Wireshark (its TSO
        // preference off by default) takes it at its word and the next
        // protocol gets no bytes.
        let total = 40 + usize::from(plen);
        let zero_means_jumbo = plen == 0 && (nxt == 0 || nxt == 59);
        let (datagram, dgram_reported) = if !zero_means_jumbo && total <= reported {
            (data.get(..total.min(data.len())).unwrap_or(data), total)
        } else {
            (data, reported)
        };
        let mut off = 40usize;
        let mut nh = nxt;
        let mut fragmented = false;
        for _ in 0..MAX_EXTENSIONS {
            let Some(layer) = extension_layer(nh) else {
                break;
            };
            // The header's tree item sits inside IPv6's, so `io,phs`
            // puts the upper layer straight under `ipv6`.
            cx.t.add_nested_layer(layer);
            let (Some(next), Some(len)) = (u8_at(datagram, off), u8_at(datagram, off + 1)) else {
                return Outcome::Done(datagram.len());
            };
            if nh == 44 {
                // Fragment header: 8 bytes; only an unfragmented or first
                // fragment reaches the upper layer, as in IPv4.
                let Some(offlg) = be16(datagram, off + 2) else {
                    return Outcome::Done(datagram.len());
                };
                if offlg & 0xfff8 != 0 {
                    cx.call_by_name("data", from(datagram, off + 8));
                    return Outcome::Done(datagram.len());
                }
                fragmented = offlg & 1 != 0;
                off += 8;
            } else {
                off = off.saturating_add((usize::from(len) + 1) * 8);
            }
            nh = next;
        }
        if nh == 59 {
            // No next header: IPv6's own summary.
            if let Some(c) = cx.cols() {
                c.set_info("IPv6 no next header");
            }
            return Outcome::Done(datagram.len());
        }
        // Unlike IPv4, IPv6 hands on even an empty payload, so the next
        // protocol's first read throws (ipv6_dissect_next).
        let payload = from(datagram, off);
        let payload_reported = dgram_reported.saturating_sub(off);
        let saved = cx.fragmented;
        cx.fragmented = fragmented;
        hand_off(cx, nh, payload, payload_reported, true);
        cx.fragmented = saved;
        Outcome::Done(datagram.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_complete_in_any_order() {
        let mut d = Defrag::default();
        let key = (17, 1, [1, 2, 3, 4], [5, 6, 7, 8]);
        assert!(d.add(key, 8, b"BBBBBBBB", false, 2).is_none());
        let whole = d.add(key, 0, b"AAAAAAAA", true, 3).expect("complete");
        assert_eq!(whole, b"AAAAAAAABBBBBBBB");
        assert_eq!(d.held, 0);
    }

    #[test]
    fn a_hole_keeps_the_datagram_pending() {
        let mut d = Defrag::default();
        let key = (6, 9, [0; 4], [0; 4]);
        assert!(d.add(key, 0, b"AAAAAAAA", true, 1).is_none());
        assert!(d.add(key, 16, b"CCCCCCCC", false, 2).is_none());
    }
}
