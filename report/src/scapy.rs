//! Scapy 2.8.0's view of one packet, as far as the report asks: the first
//! `IP` layer, the first `TCP` and `UDP` layers, the first `DNS` layer and
//! the first `DNSQR`. Scapy's classes match exactly (`IPerror` inside ICMP
//! is not `IP`), its port bindings are tried in its registration order,
//! a layer whose fixed fields do not fit becomes `Raw`, and lengths cut
//! the payload with Python's slice rules (negative lengths included).

use dorsal_engine::bytes::be16;

/// Deepest layer stack followed; Scapy itself recurses about as far.
const MAX_DEPTH: u32 = 48;
/// Scapy follows at most 20 compression pointers in one name.
const MAX_JUMPS: usize = 20;

/// What the report reads from one packet.
#[derive(Default)]
pub struct View {
    /// `pkt[IP].src`, `pkt[IP].dst`.
    pub ip: Option<([u8; 4], [u8; 4])>,
    /// `pkt[TCP].dport`.
    pub tcp_dport: Option<u16>,
    /// `pkt[UDP].dport`.
    pub udp_dport: Option<u16>,
    /// `pkt[DNS].qr`.
    pub dns_qr: Option<u8>,
    /// `pkt[DNSQR].qtype`; its name is in [`Decoder::qname`].
    pub qtype: Option<u16>,
    /// Bytes `len(pkt)` adds to the record: an IGMP layer puts a Router
    /// Alert option into an IP header that had none (`add_underlayer`),
    /// and Scapy rebuilds the packet with it.
    /// ASN.1 messages (Kerberos, LDAP) are re-encoded: minimal lengths,
    /// and Scapy's own INTEGER encoding.
    pub extra_len: i64,
}

/// Decodes packets into [`View`]s, reusing its buffers.
#[derive(Default)]
pub struct Decoder {
    pub view: View,
    /// `pkt[DNSQR].qname` as Scapy decompressed it (each label with its dot).
    pub qname: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Layer {
    Ether,
    Dot3,
    Llc,
    Snap,
    Dot1Q,
    Dot1AD,
    Sll,
    Sll2,
    /// DLT_NULL: the family is the first byte.
    LoopbackLe,
    /// DLT_LOOP: big-endian family.
    LoopbackBe,
    /// Raw IP: version nibble picks IP or IPv6.
    IPv46,
    Ip,
    IpError,
    IPv6,
    IPv6Error,
    /// Hop-by-hop, routing, destination options: (next header, length) in the first two bytes.
    IPv6Ext,
    IPv6Frag,
    Icmp,
    Icmpv6,
    Tcp,
    TcpError,
    Udp,
    UdpError,
    Dns {
        tcp: bool,
    },
    /// Kerberos over UDP; over TCP after its 4-byte length.
    Kerberos {
        tcp: bool,
    },
    /// LDAP over TCP, CLDAP over UDP: one message after another.
    Ldap,
    /// SNMP: one BER message, rebuilt like Kerberos.
    Snmp,
    /// GRE as PPTP uses it (version 1, protocol 0x880b).
    GrePptp,
    /// 802.1ah: 4 bytes, then Ethernet.
    Dot1AH,
    /// IPsec AH: Scapy binds only next headers 0 (IP) and 41 (IPv6).
    Ah,
    RadioTap,
    Prism,
    Ppi,
    /// 802.11; `fcs`: the last 4 bytes are the FCS (RadioTap said so).
    Dot11 {
        fcs: bool,
    },
    Dot11QoS {
        protected: bool,
    },
    Gre,
    Ppp,
    Hdlc,
    PppoE,
    DirPpp,
    Vxlan,
    L2tp,
    Raw,
}

/// The link layer class Scapy picks for a pcap link type
/// (`conf.l2types.num2layer`); unknown types are `Raw`.
pub fn link_layer(linktype: u32) -> Layer {
    match linktype {
        1 | 23 | 772 => Layer::Ether,
        113 | 144 => Layer::Sll,
        276 => Layer::Sll2,
        0 => Layer::LoopbackLe,
        108 => Layer::LoopbackBe,
        12 | 101 => Layer::IPv46,
        228 => Layer::Ip,
        31 | 229 => Layer::IPv6,
        9 => Layer::Ppp,
        50 => Layer::Hdlc,
        51 => Layer::PppoE,
        204 => Layer::DirPpp,
        105 | 801 => Layer::Dot11 { fcs: false },
        127 | 803 => Layer::RadioTap,
        119 | 802 => Layer::Prism,
        192 => Layer::Ppi,
        _ => Layer::Raw,
    }
}

/// Python's `s[:n]` for a possibly negative `n`.
fn py_head(s: &[u8], n: i64) -> &[u8] {
    let len = i64::try_from(s.len()).unwrap_or(i64::MAX);
    let end = if n < 0 { (len + n).max(0) } else { n.min(len) };
    s.get(..usize::try_from(end).unwrap_or(0)).unwrap_or(&[])
}

/// Python's `s[n:]` for `n >= 0`.
fn py_tail(s: &[u8], n: usize) -> &[u8] {
    s.get(n..).unwrap_or(&[])
}

/// The class an Ethernet-like type field selects (`Ether.payload_guess`).
fn by_ethertype(t: u16) -> Layer {
    match t {
        122 | 0x8870 => Layer::Llc,
        0x8100 => Layer::Dot1Q,
        0x88a8 => Layer::Dot1AD,
        0x88e7 => Layer::Dot1AH,
        1 => Layer::Ether,
        0x0800 => Layer::Ip,
        0x86dd => Layer::IPv6,
        0x8864 => Layer::PppoE,
        _ => Layer::Raw,
    }
}

/// `CookedLinux.payload_guess`: its 802.1ad/ah bindings name a `type`
/// field it does not have, so they never match; no 0x8870 either.
fn by_sll_proto(t: u16) -> Layer {
    match t {
        0x8870 | 0x88a8 | 0x88e7 => Layer::Raw,
        _ => by_ethertype(t),
    }
}

/// `UDP.payload_guess` in Scapy's order: the first binding whose ports
/// match wins, even when it is a class the report does not look into.
fn udp_next(sport: u16, dport: u16) -> Layer {
    const OTHER_S: &[u16] = &[464];
    if dport == 4754 {
        return Layer::Gre;
    }
    if dport == 5353 || sport == 5353 || dport == 53 || sport == 53 {
        return Layer::Dns { tcp: false };
    }
    let either = |p: u16| sport == p || dport == p;
    if either(88) {
        return Layer::Kerberos { tcp: false };
    }
    if OTHER_S.iter().any(|&p| either(p))
        || (dport == 67 && sport == 68)
        || (dport == 68 && sport == 67)
        || (dport == 67 && sport == 67)
        || dport == 547
        || dport == 546
        || either(1985)
        || either(2029)
        || either(4500)
        || either(500)
    {
        return Layer::Raw;
    }
    if either(1701) {
        return Layer::L2tp;
    }
    if either(137) || either(138) {
        return Layer::Raw;
    }
    if either(389) {
        return Layer::Ldap;
    }
    const LATER: &[u16] = &[
        5355, 2727, 434, 2055, 2056, 9995, 9996, 6343, 123, 1812, 1813, 3799, 520,
    ];
    if LATER.iter().any(|&p| either(p)) {
        return Layer::Raw;
    }
    if either(161) || either(162) {
        return Layer::Snmp;
    }
    if dport == 69 {
        return Layer::Raw;
    }
    const VX_D: &[u16] = &[4789, 4790, 6633, 8472, 48879];
    const VX_S: &[u16] = &[4789, 4790, 6633, 8472];
    if VX_D.contains(&dport) || VX_S.contains(&sport) {
        return Layer::Vxlan;
    }
    Layer::Raw
}

impl Decoder {
    /// Decodes one packet given its link layer class.
    pub fn decode(&mut self, link: Layer, data: &[u8]) {
        self.view = View::default();
        self.qname.clear();
        let mut layer = link;
        let mut s = data;
        for _ in 0..MAX_DEPTH {
            if s.is_empty() || layer == Layer::Raw {
                return;
            }
            match self.layer(layer, s) {
                Some((next, rest)) => {
                    layer = next;
                    s = rest;
                }
                None => return,
            }
        }
    }

    /// Dissects one layer: the next class and the bytes it gets, or
    /// `None` when this layer fails (Scapy makes it `Raw`) or ends the stack.
    fn layer<'a>(&mut self, layer: Layer, s: &'a [u8]) -> Option<(Layer, &'a [u8])> {
        match layer {
            Layer::Ether => {
                let t = be16(s, 12)?;
                if t <= 1500 {
                    return self.layer(Layer::Dot3, s);
                }
                Some((by_ethertype(t), py_tail(s, 14)))
            }
            Layer::Dot3 => {
                let len = be16(s, 12)?;
                Some((Layer::Llc, py_head(py_tail(s, 14), i64::from(len))))
            }
            Layer::Llc => {
                let h = s.get(..3)?;
                let next = if h == [0xaa, 0xaa, 3] {
                    Layer::Snap
                } else {
                    Layer::Raw
                };
                Some((next, py_tail(s, 3)))
            }
            Layer::Snap => {
                let code = be16(s, 3)?;
                let next = match code {
                    0x8100 => Layer::Dot1Q,
                    1 => Layer::Ether,
                    0x0800 => Layer::Ip,
                    0x86dd => Layer::IPv6,
                    _ => Layer::Raw,
                };
                Some((next, py_tail(s, 5)))
            }
            Layer::Dot1Q | Layer::Dot1AD => {
                let t = be16(s, 2)?;
                let pay = py_tail(s, 4);
                if layer == Layer::Dot1AD && t == 0x8100 {
                    return Some((Layer::Dot1Q, pay));
                }
                if t == 0x88a8 {
                    return Some((Layer::Dot1AD, pay));
                }
                if t <= 1500 {
                    let next = match by_ethertype(t) {
                        Layer::Raw => Layer::Llc,
                        l => l,
                    };
                    return Some((next, py_head(pay, i64::from(t))));
                }
                Some((by_ethertype(t), pay))
            }
            Layer::Sll => {
                let p = be16(s, 14)?;
                Some((by_sll_proto(p), py_tail(s, 16)))
            }
            Layer::Sll2 => {
                let p = be16(s, 0)?;
                s.get(..20)?;
                Some((by_sll_proto(p), py_tail(s, 20)))
            }
            Layer::LoopbackLe | Layer::LoopbackBe => {
                let b: [u8; 4] = s.get(..4)?.try_into().ok()?;
                // Scapy's LoIntEnumField: the big-endian word shifted right
                // by 24, which is the first byte whatever the writer's order.
                let fam = if layer == Layer::LoopbackLe {
                    u32::from(b[0])
                } else {
                    u32::from_be_bytes(b)
                };
                let next = match fam {
                    0 | 2 => Layer::Ip,
                    10 => Layer::IPv6,
                    _ => Layer::Raw,
                };
                Some((next, py_tail(s, 4)))
            }
            Layer::IPv46 => {
                let first = *s.first()?;
                let l = if first >> 4 == 6 {
                    Layer::IPv6
                } else {
                    Layer::Ip
                };
                self.layer(l, s)
            }
            Layer::Ip | Layer::IpError => self.ip(layer == Layer::IpError, s),
            Layer::IPv6 | Layer::IPv6Error => self.ipv6(layer == Layer::IPv6Error, s),
            Layer::IPv6Ext => {
                let nh = *s.first()?;
                let len = usize::from(*s.get(1)?);
                let total = (len + 1) * 8;
                Some((ipv6_ext_next(nh), py_tail(s, total)))
            }
            Layer::IPv6Frag => {
                let h = s.get(..8)?;
                let nh = *h.first()?;
                let offset = be16(h, 2)? >> 3;
                if offset > 0 {
                    return None;
                }
                Some((ipv6_ext_next(nh), py_tail(s, 8)))
            }
            Layer::Icmp => {
                let t = *s.first()?;
                s.get(..8)?;
                if matches!(t, 3 | 4 | 5 | 11 | 12) {
                    // RFC 4884: from 144 bytes on, Scapy reads everything
                    // past the 136th as an extension (its checksum test
                    // never matches), so the quote is 128 bytes.
                    let quote = if matches!(t, 3 | 11 | 12) && s.len() >= 144 {
                        s.get(8..136)?
                    } else {
                        py_tail(s, 8)
                    };
                    Some((Layer::IpError, quote))
                } else {
                    None
                }
            }
            Layer::Icmpv6 => {
                let t = *s.first()?;
                if matches!(t, 1..=4) && s.len() >= 8 {
                    Some((Layer::IPv6Error, py_tail(s, 8)))
                } else {
                    None
                }
            }
            Layer::Tcp | Layer::TcpError => {
                let h = s.get(..20)?;
                let sport = be16(h, 0)?;
                let dport = be16(h, 2)?;
                let dataofs = usize::from(*h.get(12)? >> 4);
                let opsz = dataofs.saturating_sub(5) * 4;
                let body = py_tail(s, 20);
                if !tcp_options_dissect(py_head(body, i64::try_from(opsz).unwrap_or(0))) {
                    return None;
                }
                if layer == Layer::Tcp && self.view.tcp_dport.is_none() {
                    self.view.tcp_dport = Some(dport);
                }
                let pay = py_tail(body, opsz);
                let either = |p: u16| sport == p || dport == p;
                // TCP.payload_guess in Scapy's order.
                let next = if either(53) {
                    Layer::Dns { tcp: true }
                } else if layer == Layer::TcpError {
                    Layer::Raw
                } else if either(88) {
                    Layer::Kerberos { tcp: true }
                } else if [464, 135, 445, 139].into_iter().any(either) {
                    Layer::Raw
                } else if either(389) || either(3268) {
                    Layer::Ldap
                } else {
                    Layer::Raw
                };
                Some((next, pay))
            }
            Layer::Udp | Layer::UdpError => {
                let h = s.get(..8)?;
                let sport = be16(h, 0)?;
                let dport = be16(h, 2)?;
                let len = be16(h, 4)?;
                if layer == Layer::Udp && self.view.udp_dport.is_none() {
                    self.view.udp_dport = Some(dport);
                }
                let pay = py_head(py_tail(s, 8), i64::from(len) - 8);
                let next = match udp_next(sport, dport) {
                    // Inside an ICMP error the quote is cut (RFC 4884
                    // extensions follow it): leave those messages alone.
                    Layer::Snmp | Layer::Kerberos { .. } | Layer::Ldap
                        if layer == Layer::UdpError =>
                    {
                        Layer::Raw
                    }
                    l => l,
                };
                Some((next, pay))
            }
            Layer::Dns { tcp } => {
                self.dns(tcp, s);
                None
            }
            Layer::Snmp => {
                // The message is a SEQUENCE; anything else fails: Raw.
                if s.first() != Some(&0x30) {
                    return None;
                }
                if let Some((_, grow)) = ber_reencode(s, 0) {
                    self.view.extra_len += grow;
                }
                None
            }
            Layer::Kerberos { tcp } => {
                let msg = if tcp { s.get(4..)? } else { s };
                // Kerberos' CHOICE: [APPLICATION 0, 1, 2, 10-15, 30].
                if !matches!(msg.first(), Some(0x60..=0x62 | 0x6a..=0x6f | 0x7e)) {
                    return None;
                }
                if let Some((_, grow)) = ber_reencode(msg, 0) {
                    self.view.extra_len += grow;
                }
                None
            }
            Layer::Ldap => {
                let mut rest = s;
                for _ in 0..MAX_DEPTH {
                    if rest.first() != Some(&0x30) {
                        break; // an LDAPMessage is a SEQUENCE
                    }
                    let Some((used, grow)) = ber_reencode(rest, 0) else {
                        break;
                    };
                    self.view.extra_len += grow;
                    rest = py_tail(rest, used);
                    if rest.is_empty() {
                        break;
                    }
                }
                None
            }
            Layer::GrePptp => {
                let (b0, b1) = (*s.first()?, *s.get(1)?);
                let mut len = 8;
                if b0 & 0x10 != 0 {
                    len += 4;
                }
                if b1 & 0x80 != 0 {
                    len += 4;
                }
                s.get(..len)?;
                // GRE's bindings first (routing_present before IP), then PPP.
                let next = if b0 & 0x40 != 0 {
                    Layer::Raw
                } else {
                    Layer::Ppp
                };
                Some((next, py_tail(s, len)))
            }
            Layer::Dot1AH => {
                s.get(..4)?;
                Some((Layer::Ether, py_tail(s, 4)))
            }
            Layer::Ah => {
                let h = s.get(..12)?;
                let nh = *h.first()?;
                let icv = i64::from(*h.get(1)?) * 4 - 4;
                let rest = py_tail(s, 12);
                let pay = py_tail(rest, py_head(rest, icv).len());
                let next = match nh {
                    0 => Layer::Ip,
                    41 => Layer::IPv6,
                    _ => Layer::Raw,
                };
                Some((next, pay))
            }
            Layer::RadioTap => {
                let len = usize::from(u16::from_le_bytes([*s.get(2)?, *s.get(3)?]));
                let first = u32::from_le_bytes(s.get(4..8)?.try_into().ok()?);
                // Flags (bit 1) follow the extra present words and TSFT.
                let mut off = 8usize;
                let mut word = first;
                while word & 0x8000_0000 != 0 {
                    word = u32::from_le_bytes(s.get(off..off + 4)?.try_into().ok()?);
                    off += 4;
                }
                if first & 1 != 0 {
                    off = off.div_ceil(8) * 8 + 8;
                }
                let fcs = first & 2 != 0 && s.get(off).is_some_and(|f| f & 0x10 != 0);
                Some((Layer::Dot11 { fcs }, py_tail(s, len.max(8))))
            }
            Layer::Prism => {
                s.get(..144)?;
                Some((Layer::Dot11 { fcs: false }, py_tail(s, 144)))
            }
            Layer::Ppi => {
                let len = usize::from(u16::from_le_bytes([*s.get(2)?, *s.get(3)?]));
                let dlt = u32::from_le_bytes(s.get(4..8)?.try_into().ok()?);
                Some((link_layer(dlt), py_tail(s, len.max(8))))
            }
            Layer::Dot11 { fcs } => {
                let b0 = *s.first()?;
                let subtype = b0 >> 4;
                let typ = (b0 >> 2) & 3;
                if typ != 2 {
                    return None; // management, control: no IP below
                }
                let fc = *s.get(1)?;
                let hdr = if fc & 3 == 3 { 30 } else { 24 };
                s.get(..hdr)?;
                let body = if fcs {
                    // FCSField takes its 4 bytes from the end.
                    s.get(..s.len().checked_sub(4)?)?
                } else {
                    s
                };
                let pay = py_tail(body, hdr);
                let protected = fc & 0x40 != 0;
                let next = if (8..=15).contains(&subtype) && subtype != 13 {
                    Layer::Dot11QoS { protected }
                } else if protected {
                    Layer::Raw
                } else {
                    Layer::Llc
                };
                Some((next, pay))
            }
            Layer::Dot11QoS { protected } => {
                s.get(..2)?;
                let next = if protected { Layer::Raw } else { Layer::Llc };
                Some((next, py_tail(s, 2)))
            }
            Layer::Gre => {
                let b0 = *s.first()?;
                let proto = be16(s, 2)?;
                if proto == 0x880b {
                    return self.layer(Layer::GrePptp, s);
                }
                let mut len = 4;
                if b0 & 0xc0 != 0 {
                    len += 4;
                }
                if b0 & 0x20 != 0 {
                    len += 4;
                }
                if b0 & 0x10 != 0 {
                    len += 4;
                }
                s.get(..len)?;
                let next = match proto {
                    122 => Layer::Llc,
                    0x8100 => Layer::Dot1Q,
                    0x6558 => Layer::Ether,
                    _ if b0 & 0x40 != 0 => Layer::Raw,
                    0x0800 => Layer::Ip,
                    0x86dd => Layer::IPv6,
                    _ => Layer::Raw,
                };
                Some((next, py_tail(s, len)))
            }
            Layer::Ppp => {
                let first = *s.first()?;
                if first == 0xff {
                    return self.layer(Layer::Hdlc, s);
                }
                let (proto, len) = if first & 1 != 0 {
                    (u16::from(first), 1)
                } else {
                    (be16(s, 0)?, 2)
                };
                let next = match proto {
                    0x21 => Layer::Ip,
                    0x57 => Layer::IPv6,
                    _ => Layer::Raw,
                };
                Some((next, py_tail(s, len)))
            }
            Layer::Hdlc => {
                s.get(..2)?;
                Some((Layer::Ppp, py_tail(s, 2)))
            }
            Layer::DirPpp => {
                s.first()?;
                Some((Layer::Ppp, py_tail(s, 1)))
            }
            Layer::PppoE => {
                let h = s.get(..6)?;
                let code = *h.get(1)?;
                let len = be16(h, 4)?;
                let next = if code == 0 { Layer::Ppp } else { Layer::Raw };
                Some((next, py_head(py_tail(s, 6), i64::from(len))))
            }
            Layer::Vxlan => {
                let h = s.get(..8)?;
                let flags = *h.first()?;
                let next = if flags & 0x04 != 0 {
                    match h.get(3) {
                        Some(0 | 3) => Layer::Ether,
                        Some(1) => Layer::Ip,
                        Some(2) => Layer::IPv6,
                        _ => Layer::Raw,
                    }
                } else {
                    Layer::Ether
                };
                Some((next, py_tail(s, 8)))
            }
            Layer::L2tp => {
                let hdr = be16(s, 0)?;
                let control = hdr & 0x8000 != 0;
                let mut len = 2;
                if control || hdr & 0x4000 != 0 {
                    len += 2;
                }
                len += 4;
                if control || hdr & 0x0800 != 0 {
                    len += 4;
                }
                // The fixed fields must fit; the offset pad may be short.
                s.get(..len)?;
                if !control && hdr & 0x0200 != 0 {
                    let off = usize::from(be16(s, len)?);
                    len += 2 + off;
                }
                Some((Layer::Ppp, py_tail(s, len)))
            }
            Layer::Raw => None,
        }
    }

    fn ip<'a>(&mut self, error: bool, s: &'a [u8]) -> Option<(Layer, &'a [u8])> {
        let h = s.get(..20)?;
        let ihl = usize::from(*h.first()? & 0x0f);
        let len = be16(h, 2)?;
        let frag = be16(h, 6)? & 0x1fff;
        let proto = *h.get(9)?;
        // options: s[20:][:ihl*4-20] (negative lengths cut from the end).
        let body = py_tail(s, 20);
        let opt_len = i64::try_from(ihl * 4).unwrap_or(0) - 20;
        let opts = py_head(body, opt_len);
        if opts.len() > MAX_LIST && ip_option_count(opts) > MAX_LIST {
            return None; // PacketListField's MaximumItemsCount: the IP layer fails
        }
        if !error && self.view.ip.is_none() {
            let src: [u8; 4] = h.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = h.get(16..20)?.try_into().ok()?;
            self.view.ip = Some((src, dst));
        }
        let pay = py_tail(body, opts.len());
        let tmp_len = i64::from(len) - i64::try_from(ihl * 4).unwrap_or(0);
        let pay = if tmp_len < 0 {
            pay
        } else {
            py_head(pay, tmp_len)
        };
        let next = if error {
            match (frag, proto) {
                (0, 4) => Layer::IpError,
                (0, 6) => Layer::TcpError,
                (0, 17) => Layer::UdpError,
                _ => Layer::Raw,
            }
        } else {
            match (frag, proto) {
                (0, 4) => Layer::Ip,
                (0, 1) => Layer::Icmp,
                (0, 6) => Layer::Tcp,
                (0, 17) => Layer::Udp,
                (0, 47) => Layer::Gre,
                (_, 41) => Layer::IPv6,
                (_, 51) => Layer::Ah,
                (_, 2) => {
                    if opts.is_empty() && igmp_dissects(pay) {
                        self.view.extra_len += 4;
                    }
                    Layer::Raw
                }
                _ => Layer::Raw,
            }
        };
        Some((next, pay))
    }

    fn ipv6<'a>(&mut self, error: bool, s: &'a [u8]) -> Option<(Layer, &'a [u8])> {
        let h = s.get(..40)?;
        let plen = be16(h, 4)?;
        let nh = *h.get(6)?;
        let data = py_tail(s, 40);
        let pay = if plen == 0 && nh == 0 && data.len() >= 8 {
            data // jumbogram: Scapy's own length search; keep all
        } else {
            py_head(data, i64::from(plen))
        };
        let next = if error {
            match nh {
                6 => Layer::TcpError,
                17 => Layer::UdpError,
                _ => Layer::Raw,
            }
        } else {
            match nh {
                6 => Layer::Tcp,
                17 => Layer::Udp,
                41 => Layer::IPv6,
                4 => Layer::Ip,
                47 => Layer::Gre,
                51 => Layer::Ah,
                58 => Layer::Icmpv6,
                // Segment routing (type 4) is its own class, same length rule.
                0 | 43 | 60 => Layer::IPv6Ext,
                44 => Layer::IPv6Frag,
                _ => Layer::Raw,
            }
        };
        Some((next, pay))
    }

    /// The DNS layer: header, then the first question.
    fn dns(&mut self, tcp: bool, s: &[u8]) {
        let full = if tcp {
            let Some(dns_len) = be16(s, 0) else { return };
            if dns_len < 14 || s.len() < usize::from(dns_len) {
                return; // pre_dissect refuses it: Raw
            }
            py_tail(s, 2)
        } else {
            s
        };
        let Some(h) = full.get(..12) else { return };
        let Some(&flags) = h.get(2) else { return };
        let Some(qdcount) = be16(h, 4) else { return };
        let counts = [4, 6, 8, 10].map(|at| be16(h, at).unwrap_or(0));
        if counts.iter().any(|&c| usize::from(c) > MAX_LIST) && dns_lists_overflow(full, counts) {
            return; // MaximumItemsCount: the DNS layer fails
        }
        if self.view.dns_qr.is_none() {
            self.view.dns_qr = Some(flags >> 7);
        }
        if qdcount == 0 || self.view.qtype.is_some() {
            return;
        }
        let q = py_tail(full, 12);
        if q.is_empty() {
            return;
        }
        let mut name = std::mem::take(&mut self.qname);
        name.clear();
        let left = dns_get_str(q, full, &mut name);
        if let (Some(qtype), Some(_)) = (be16(left, 0), left.get(2..4)) {
            self.view.qtype = Some(qtype);
            self.qname = name;
        } else {
            name.clear();
            self.qname = name;
        }
    }
}

/// Whether one of DNS's four record lists would hold more than
/// [`MAX_LIST`] items.
fn dns_lists_overflow(full: &[u8], counts: [u16; 4]) -> bool {
    let mut rest = py_tail(full, 12);
    let mut scratch = Vec::new();
    for (i, &count) in counts.iter().enumerate() {
        let mut n = 0usize;
        while !rest.is_empty() && n < usize::from(count) {
            n += 1;
            if n > MAX_LIST {
                return true;
            }
            if i == 0 {
                scratch.clear();
                let left = dns_get_str(rest, full, &mut scratch);
                // A question that does not fit is one Raw item, the last.
                rest = if left.len() >= 4 {
                    py_tail(left, 4)
                } else {
                    &[]
                };
            } else {
                let left = skip_name(rest);
                rest = match be16(left, 8) {
                    Some(rdlen) => py_tail(left, 10 + usize::from(rdlen)),
                    None => &[],
                };
            }
        }
    }
    false
}

/// `dns_get_str(s, _ignore_compression=True)`: the bytes after a name
/// whose pointers are stepped over, not followed.
fn skip_name(s: &[u8]) -> &[u8] {
    let mut p = 0usize;
    let mut after: Option<usize> = None;
    while let Some(&c) = s.get(p) {
        p += 1;
        if c & 0xc0 != 0 {
            after.get_or_insert(p + 1);
            p += 1;
        } else if c > 0 {
            p += usize::from(c);
        } else {
            break;
        }
    }
    py_tail(s, after.unwrap_or(p))
}

/// `conf.max_list_count`: a PacketListField with more items raises.
const MAX_LIST: usize = 100;

/// How many options Scapy's IP options list holds (counting stops past
/// [`MAX_LIST`]), each as its class dissects it: fixed-size classes take
/// their size, route records and SDBM a list of addresses, the generic
/// option `s[:length-2]` of value; one that does not fit is a last Raw item.
fn ip_option_count(mut x: &[u8]) -> usize {
    let mut n = 0;
    while let Some(&t) = x.first() {
        n += 1;
        if n > MAX_LIST {
            break;
        }
        let opt = t & 0x1f;
        let fixed = match opt {
            0 | 1 => Some(1),
            2 => Some(11),
            8 | 11 | 12 | 20 => Some(4),
            18 => Some(12),
            19 => Some(10),
            4 => match x.get(3) {
                Some(f) if f & 0x0f != 0 => Some(12),
                Some(_) => Some(8),
                None => break,
            },
            _ => None,
        };
        if let Some(size) = fixed {
            if x.len() < size {
                break;
            }
            x = py_tail(x, size);
            continue;
        }
        let Some(&len) = x.get(1) else { break };
        let (base, addresses) = match opt {
            3 | 7 | 9 => (3, true),
            21 => (2, true),
            _ => (2, false),
        };
        if x.len() < base {
            break;
        }
        let region = py_head(py_tail(x, base), i64::from(len) - base as i64).len();
        if addresses && !region.is_multiple_of(4) {
            break;
        }
        x = py_tail(x, base + region);
    }
    n
}

/// Deepest ASN.1 nesting followed.
const MAX_BER_DEPTH: u32 = 64;

/// Length of a BER length field as Scapy writes it (`BER_len_enc`: minimal).
fn ber_len_len(n: usize) -> i64 {
    if n <= 127 {
        1
    } else {
        let mut bytes = 0;
        let mut v = n;
        while v > 0 {
            bytes += 1;
            v >>= 8;
        }
        1 + bytes
    }
}

/// Content length of an INTEGER (BOOLEAN, ENUMERATED) as Scapy encodes
/// its value: minimal two's complement, except that a negative value whose
/// top byte is 0x80 (-128, -32768, ...) gets one more 0xff byte.
fn scapy_int_len(mut b: &[u8]) -> i64 {
    let neg = b.first().is_some_and(|&x| x & 0x80 != 0);
    while let [first, second, ..] = b {
        let redundant = if neg {
            *first == 0xff && second & 0x80 != 0
        } else {
            *first == 0 && second & 0x80 == 0
        };
        if !redundant {
            break;
        }
        b = py_tail(b, 1);
    }
    let n = i64::try_from(b.len().max(1)).unwrap_or(i64::MAX);
    if neg && b.first() == Some(&0x80) {
        n + 1
    } else {
        n
    }
}

/// One BER element at the start of `s` as Scapy rebuilds it: the bytes
/// it took and how many more (or fewer) the rebuild writes. `None` when
/// it does not parse (Scapy's ASN.1 packet fails: `Raw`, kept as is).
fn ber_reencode(s: &[u8], depth: u32) -> Option<(usize, i64)> {
    if depth > MAX_BER_DEPTH {
        return None;
    }
    let tag = *s.first()?;
    let mut at = 1usize;
    if tag & 0x1f == 0x1f {
        while s.get(at)? & 0x80 != 0 {
            at += 1;
        }
        at += 1;
    }
    let first = *s.get(at)?;
    at += 1;
    let len = if first < 0x80 {
        usize::from(first)
    } else if first == 0x80 {
        return None; // indefinite length: Scapy reads it as no content
    } else {
        let n = usize::from(first & 0x7f);
        let mut v = 0usize;
        for i in 0..n {
            v = v
                .checked_mul(256)?
                .checked_add(usize::from(*s.get(at + i)?))?;
        }
        at += n;
        v
    };
    let hdr_len = at;
    let content = s.get(at..at.checked_add(len)?)?;
    let orig_len_len = i64::try_from(lenlen_of(first)).ok()?;
    let new_content = if tag & 0x20 != 0 {
        let mut total = 0i64;
        let mut rest = content;
        while !rest.is_empty() {
            let (used, grow) = ber_reencode(rest, depth + 1)?;
            total += i64::try_from(used).ok()? + grow;
            rest = py_tail(rest, used);
        }
        total
    } else if matches!(tag, 0x01 | 0x02 | 0x0a) {
        scapy_int_len(content)
    } else if let Some(grow) = nested_der(tag, content, depth) {
        // Kerberos' padata values, e-data and the like: an OCTET STRING
        // Scapy decodes as a message of its own and rebuilds too.
        i64::try_from(len).ok()? + grow
    } else {
        i64::try_from(len).ok()?
    };
    let new_len_len = ber_len_len(usize::try_from(new_content).ok()?);
    let grow = (new_len_len - orig_len_len) + (new_content - i64::try_from(len).ok()?);
    Some((hdr_len + len, grow))
}

/// An OCTET STRING holding exactly one constructed element: its growth.
fn nested_der(tag: u8, content: &[u8], depth: u32) -> Option<i64> {
    if tag != 0x04 || content.first()? & 0x20 == 0 {
        return None;
    }
    let (used, grow) = ber_reencode(content, depth + 1)?;
    (used == content.len()).then_some(grow)
}

/// Bytes of a BER length field given its first byte.
fn lenlen_of(first: u8) -> usize {
    if first < 0x80 {
        1
    } else {
        1 + usize::from(first & 0x7f)
    }
}

/// Whether `TCPOptionsField` parses these option bytes: it only fails on
/// a TCP-AO option (29) whose value is one byte (`TCPAOValue` needs two).
fn tcp_options_dissect(mut x: &[u8]) -> bool {
    while let Some(&onum) = x.first() {
        match onum {
            0 => break,
            1 => x = py_tail(x, 1),
            _ => {
                let olen = usize::from(x.get(1).copied().unwrap_or(0)).max(2);
                let oval = x.get(2..).map_or(0, |v| v.len().min(olen - 2));
                if onum == 29 && oval == 1 {
                    return false;
                }
                x = py_tail(x, olen);
            }
        }
    }
    true
}

/// Whether Scapy's IGMP class for these bytes dissects without error
/// (its fixed fields fit; IGMPv3 queries' source list has no partial entry).
fn igmp_dissects(s: &[u8]) -> bool {
    let typ = if s.len() >= 4 {
        s.first().copied()
    } else {
        None
    };
    match typ {
        Some(0x11) if s.len() >= 12 => {
            let numsrc = usize::from(be16(s, 10).unwrap_or(0));
            let rest = s.len() - 12;
            numsrc <= rest / 4 || rest.is_multiple_of(4)
        }
        Some(0x31 | 0x32) => s.len() >= 4,
        _ => s.len() >= 8,
    }
}

fn ipv6_ext_next(nh: u8) -> Layer {
    match nh {
        0 | 43 | 60 => Layer::IPv6Ext,
        44 => Layer::IPv6Frag,
        4 => Layer::Ip,
        6 => Layer::Tcp,
        17 => Layer::Udp,
        51 => Layer::Ah,
        58 => Layer::Icmpv6,
        _ => Layer::Raw,
    }
}

/// Scapy's `dns_get_str(s, full)`: appends the name (each label and a
/// dot) to `name` and returns the bytes after it in `s`. Pointers follow
/// into `full`, stopping at a loop, after 20 jumps, or past the end.
pub fn dns_get_str<'a>(s: &'a [u8], full: &'a [u8], name: &mut Vec<u8>) -> &'a [u8] {
    let orig = s;
    let mut cur_s = s;
    let mut pointer: usize = 0;
    let mut after_pointer: Option<usize> = None;
    let mut processed: Vec<usize> = Vec::new();
    let mut bytes_left: Option<&'a [u8]> = None;
    let mut in_full = false;
    // Each step consumes a byte or a jump; bounded by both buffers' lengths.
    let cap = orig.len() + full.len() + MAX_JUMPS + 2;
    for _ in 0..cap {
        let Some(&c) = cur_s.get(pointer) else { break };
        pointer += 1;
        if c & 0xc0 != 0 {
            if after_pointer.is_none() {
                after_pointer = Some(pointer + 1);
            }
            let Some(&lo) = cur_s.get(pointer) else { break };
            let target = (usize::from(c & 0x3f) << 8) + usize::from(lo);
            if processed.contains(&target) || processed.len() >= MAX_JUMPS {
                break;
            }
            if !in_full {
                bytes_left = Some(py_tail(orig, after_pointer.unwrap_or(0)));
                cur_s = full;
                in_full = true;
            }
            processed.push(target);
            pointer = target;
        } else if c > 0 {
            let n = usize::from(c);
            let end = pointer.saturating_add(n).min(cur_s.len());
            name.extend_from_slice(cur_s.get(pointer..end).unwrap_or(&[]));
            name.push(b'.');
            pointer += n;
        } else {
            break;
        }
    }
    if name.is_empty() {
        name.push(b'.');
    }
    if let Some(left) = bytes_left {
        return left;
    }
    let end = after_pointer.unwrap_or(pointer);
    py_tail(cur_s, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_with_pointer_and_loop() {
        // header (12) + "\x03www\xc0\x0c" pointing at itself at offset 12.
        let mut full = vec![0u8; 12];
        full.extend_from_slice(b"\x03www\xc0\x0c\x00\x01\x00\x01");
        let mut name = Vec::new();
        let left = dns_get_str(full.get(12..).unwrap_or(&[]), &full, &mut name);
        // www. then jump to 12: www. again, then the pointer at 16 is a loop.
        assert_eq!(name, b"www.www.");
        assert_eq!(left, b"\x00\x01\x00\x01");
    }

    #[test]
    fn root_name_is_a_dot() {
        let mut name = Vec::new();
        let left = dns_get_str(b"\x00\x00\x01", b"", &mut name);
        assert_eq!(name, b".");
        assert_eq!(left, b"\x00\x01");
    }

    #[test]
    fn integers_as_scapy_encodes_them() {
        // -128 gains an 0xff byte; 0x0005 padded loses one; 200 keeps its 0x00.
        assert_eq!(scapy_int_len(&[0x80]), 2);
        assert_eq!(scapy_int_len(&[0x80, 0x05]), 3);
        assert_eq!(scapy_int_len(&[0xff, 0x38]), 2);
        assert_eq!(scapy_int_len(&[0x00, 0x05]), 1);
        assert_eq!(scapy_int_len(&[0x00, 0xc8]), 2);
        assert_eq!(scapy_int_len(&[]), 1);
    }

    #[test]
    fn ber_rebuild_normalises_lengths() {
        // SEQUENCE with a 4-byte long-form length holding INTEGER -128:
        // 30 84 00 00 00 03 02 01 80 -> 30 04 02 02 ff 80 (9 -> 6 bytes).
        let msg = [0x30, 0x84, 0, 0, 0, 3, 0x02, 0x01, 0x80];
        assert_eq!(ber_reencode(&msg, 0), Some((9, -3)));
        // Indefinite lengths and cut elements do not parse.
        assert_eq!(ber_reencode(&[0x30, 0x80, 0, 0], 0), None);
        assert_eq!(ber_reencode(&[0x30, 0x05, 0x02, 0x01], 0), None);
    }

    #[test]
    fn udp_length_below_eight_cuts_from_the_end() {
        assert_eq!(py_head(b"abcdefghij", -8), b"ab");
        assert_eq!(py_head(b"abc", -8), b"");
        assert_eq!(py_head(b"abc", 10), b"abc");
    }
}
