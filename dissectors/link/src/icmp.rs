//! ICMP, ICMPv6 and ARP.

use std::cell::RefCell;

use dorsal_engine::columns::Columns;
use dorsal_engine::dissect::{Address, Cx, Dissector, Outcome};
use dorsal_engine::fields;
use dorsal_engine::hash::HashMap;
use dorsal_engine::table::Value;

use std::fmt::Write as _;

use dorsal_engine::bytes::{array, be16, first_read_past, from, le16, u8_at};

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
        icmpv6: "icmpv6", "Internet Control Message Protocol v6", Protocol, None, short "ICMPv6";
        v6_type: "icmpv6.type", "Type", U8, Dec;
        v6_code: "icmpv6.code", "Code", U8, Dec;
        v6_checksum: "icmpv6.checksum", "Checksum", U16, Hex;
        v6_checksum_status: "icmpv6.checksum.status", "Checksum Status", U8, None;
        arp: "arp", "Address Resolution Protocol", Protocol, None, short "ARP/RARP";
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
    /// Echo requests by (requester, responder, id, seq): their frame, for
    /// the reply's `(request in N)`.
    echoes: RefCell<HashMap<(Address, Address, u16, u16), u32>>,
    /// ARP's IPv4-to-MAC bindings (first MAC seen and the frame that last
    /// confirmed it), and the frames found to reuse an address with
    /// another MAC, for the second pass of `-2`.
    arp_bindings: RefCell<ArpBindings>,
}

#[derive(Default)]
struct ArpBindings {
    by_ip: HashMap<[u8; 4], ([u8; 6], u32)>,
    duplicates: HashMap<u32, [u8; 4]>,
}

/// Bindings remembered at most (Wireshark keeps them all); past it new
/// addresses are no longer learnt.
const MAX_ARP_BINDINGS: usize = 1 << 16;

/// Echo requests remembered at most; past it the table starts over.
const MAX_ECHOES: usize = 1 << 16;

impl Icmp {
    pub fn new(f: IcmpFields, kind: Kind) -> Self {
        Icmp {
            f,
            kind,
            echoes: RefCell::new(HashMap::default()),
            arp_bindings: RefCell::new(ArpBindings::default()),
        }
    }

    /// An echo's `(request in N)`: remembers a request, finds a reply's.
    fn echo(&self, cx: &Cx<'_>, request: bool, id: u16, seq: u16) -> Option<u32> {
        let mut echoes = self.echoes.try_borrow_mut().ok()?;
        if request {
            if echoes.len() >= MAX_ECHOES {
                echoes.clear();
            }
            echoes
                .entry((cx.src, cx.dst, id, seq))
                .or_insert(cx.frame.number);
            None
        } else {
            echoes
                .get(&(cx.dst, cx.src, id, seq))
                .copied()
                .filter(|&n| n < cx.frame.number)
        }
    }
}

impl Dissector for Icmp {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        match self.kind {
            Kind::Icmp => icmp(self, cx, data),
            Kind::Icmpv6 => icmpv6(self, cx, data),
            Kind::Arp => self.arp(cx, data),
        }
    }
}

/// `icmp_type_str` and the code's string, as the Info column starts.
fn icmp_info(c: &mut Columns, ty: u8, code: u8) {
    let name = match ty {
        0 => "Echo (ping) reply",
        3 => "Destination unreachable",
        4 => "Source quench (flow control)",
        5 => "Redirect",
        8 => "Echo (ping) request",
        9 => "Router advertisement",
        10 => "Router solicitation",
        11 => "Time-to-live exceeded",
        12 => "Parameter problem",
        13 => "Timestamp request",
        14 => "Timestamp reply",
        15 => "Information request",
        16 => "Information reply",
        17 => "Address mask request",
        18 => "Address mask reply",
        42 => "Extended Echo request",
        43 => "Extended Echo reply",
        _ => "Unknown ICMP (obsolete or malformed?)",
    };
    c.set_info(&format!("{name:<20}"));
    let code_name = match (ty, code) {
        (3, 0) => "Network unreachable",
        (3, 1) => "Host unreachable",
        (3, 2) => "Protocol unreachable",
        (3, 3) => "Port unreachable",
        (3, 4) => "Fragmentation needed",
        (3, 5) => "Source route failed",
        (3, 6) => "Destination network unknown",
        (3, 7) => "Destination host unknown",
        (3, 8) => "Source host isolated",
        (3, 9) => "Network administratively prohibited",
        (3, 10) => "Host administratively prohibited",
        (3, 11) => "Network unreachable for TOS",
        (3, 12) => "Host unreachable for TOS",
        (3, 13) => "Communication administratively filtered",
        (3, 14) => "Host precedence violation",
        (3, 15) => "Precedence cutoff in effect",
        (5, 0) => "Redirect for network",
        (5, 1) => "Redirect for host",
        (5, 2) => "Redirect for TOS and network",
        (5, 3) => "Redirect for TOS and host",
        (11, 0) => "Time to live exceeded in transit",
        (11, 1) => "Fragment reassembly time exceeded",
        (12, 0) => "Pointer indicates the error",
        (12, 1) => "Required option missing",
        (12, 2) => "Bad length",
        (42 | 43, 0) => "No error",
        (43, 1) => "Malformed Query",
        (43, 2) => "No Such Interface",
        (43, 3) => "No Such Table Entry",
        (43, 4) => "Multiple Interfaces Satisfy Query",
        (3 | 5 | 11 | 12 | 42 | 43, _) => {
            c.append_info_fmt(format_args!(" (Unknown code: {code})"));
            return;
        }
        _ => return,
    };
    c.append_info_fmt(format_args!(" ({code_name})"));
}

/// ICMP types whose body is the start of the datagram that caused them.
fn carries_datagram(ty: u8) -> bool {
    matches!(ty, 3 | 4 | 5 | 11 | 12)
}

fn icmp(me: &Icmp, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    let f = &me.f;
    cx.t.add_layer("icmp");
    cx.t.push_proto(f.icmp, data);
    if let Some(c) = cx.cols() {
        c.set_protocol("ICMP");
        c.clear_info();
    }
    let (Some(ty), Some(code)) = (u8_at(data, 0), u8_at(data, 1)) else {
        return Outcome::Done(data.len());
    };
    if let Some(c) = cx.cols() {
        icmp_info(c, ty, code);
    }
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
            if cx.cols().is_some() {
                let ttl = cx.hop_limit;
                let request_in = matches!(ty, 0 | 8)
                    .then(|| me.echo(cx, ty == 8, id, seq))
                    .flatten();
                if let Some(c) = cx.cols() {
                    c.append_info_fmt(format_args!(" id=0x{id:04x}, seq={seq}/{seq_le}"));
                    if let Some(ttl) = ttl {
                        c.append_info_fmt(format_args!(", ttl={ttl}"));
                    }
                    if let Some(n) = request_in {
                        c.append_info_fmt(format_args!(" (request in {n})"));
                    }
                }
            }
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
            quoted(cx, "ip", inner);
        }
    }
    Outcome::Done(data.len())
}

/// The datagram an ICMP error quotes: dissected inside the ICMP item, with
/// the summary columns left as ICMP wrote them (`col_set_writable`).
fn quoted(cx: &mut Cx<'_>, ip: &str, inner: &[u8]) {
    let saved = (cx.src, cx.dst, cx.srcport, cx.dstport);
    let outer = cx.t.nest(true);
    let in_error = std::mem::replace(&mut cx.in_error, true);
    let was_frozen = cx.cols().is_some_and(|c| c.is_frozen());
    if let Some(c) = cx.cols() {
        c.freeze();
    }
    crate::eth::call_or_data(cx, ip, inner);
    if let Some(c) = cx.cols() {
        if !was_frozen {
            c.thaw();
        }
    }
    cx.in_error = in_error;
    cx.t.nest(outer);
    (cx.src, cx.dst, cx.srcport, cx.dstport) = saved;
}

/// ICMPv6's type and code names, as the Info column starts.
fn icmpv6_info(c: &mut Columns, ty: u8, code: u8) {
    let name = match ty {
        1 => "Destination Unreachable",
        2 => "Packet Too Big",
        3 => "Time Exceeded",
        4 => "Parameter Problem",
        128 => "Echo (ping) request",
        129 => "Echo (ping) reply",
        130 => "Multicast Listener Query",
        131 => "Multicast Listener Report",
        132 => "Multicast Listener Done",
        133 => "Router Solicitation",
        134 => "Router Advertisement",
        135 => "Neighbor Solicitation",
        136 => "Neighbor Advertisement",
        137 => "Redirect",
        138 => "Router Renumbering",
        139 => "Node Information Query",
        140 => "Node Information Reply",
        141 => "Inverse Neighbor Discovery Solicitation",
        142 => "Inverse Neighbor Discovery Advertisement",
        143 => "Multicast Listener Report Message v2",
        144 => "Home Agent Address Discovery Request",
        145 => "Home Agent Address Discovery Reply",
        146 => "Mobile Prefix Solicitation",
        147 => "Mobile Prefix Advertisement",
        148 => "Certification Path Solicitation",
        149 => "Certification Path Advertisement",
        151 => "Multicast Router Advertisement",
        152 => "Multicast Router Solicitation",
        153 => "Multicast Router Termination",
        155 => "RPL Control",
        160 => "Extended Echo request",
        161 => "Extended Echo reply",
        _ => {
            c.set_info(&format!("Unknown ({ty})"));
            return;
        }
    };
    c.set_info(name);
    let code_name = match (ty, code) {
        (1, 0) => "no route to destination",
        (1, 1) => "communication with destination administratively prohibited",
        (1, 2) => "beyond scope of source address",
        (1, 3) => "address unreachable",
        (1, 4) => "port unreachable",
        (1, 5) => "source address failed ingress/egress policy",
        (1, 6) => "reject route to destination",
        (3, 0) => "hop limit exceeded in transit",
        (3, 1) => "fragment reassembly time exceeded",
        (138, 0) => "Command",
        (138, 1) => "Result",
        (138, 255) => "Sequence number reset",
        (139, 0) => "Query subject = IPv6 addresses",
        (139, 1) => "Query subject = Name",
        (139, 2) => "Query subject = IPv4 addresses",
        (140, 0) => "Successful",
        (140, 1) => "Refused",
        (140, 2) => "Unknown query type",
        (155, 0x00) => "DODAG Information Solicitation",
        (155, 0x01) => "DODAG Information Object",
        (155, 0x02) => "Destination Advertisement Object",
        (155, 0x03) => "Destination Advertisement Object Acknowledgment",
        (160 | 161, 0) => "No error",
        (161, 1) => "Malformed Query",
        (161, 2) => "No Such Interface",
        (161, 3) => "No Such Table Entry",
        (161, 4) => "Multiple Interfaces Satisfy Query",
        _ => return,
    };
    c.append_info_fmt(format_args!(" ({code_name})"));
}

/// The link-layer address of an ND option of `kind` (1 source, 2 target)
/// among the options at `opts`.
fn nd_link_addr(opts: &[u8], kind: u8) -> Option<[u8; 6]> {
    let mut rest = opts;
    for _ in 0..64 {
        let (&ty, after) = rest.split_first()?;
        let units = usize::from(*after.first()?);
        if units == 0 {
            return None;
        }
        if ty == kind && units == 1 {
            return array::<6>(rest, 2);
        }
        rest = rest.get(units * 8..)?;
    }
    None
}

fn icmpv6(me: &Icmp, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
    let f = &me.f;
    cx.t.add_layer("icmpv6");
    cx.t.push_proto(f.icmpv6, data);
    if let Some(c) = cx.cols() {
        c.set_protocol("ICMPv6");
        c.clear_info();
    }
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
    if let Some(c) = cx.cols() {
        icmpv6_info(c, ty, code);
    }
    let fixed = icmpv6_fixed_len(ty);
    if cx.cols().is_some() && data.len() >= fixed {
        icmpv6_summary(me, cx, ty, data);
    }
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
            quoted(cx, "ipv6", inner);
        }
    }
    Outcome::Done(data.len())
}

/// What an ICMPv6 message adds to Info after its names.
fn icmpv6_summary(me: &Icmp, cx: &mut Cx<'_>, ty: u8, data: &[u8]) {
    let mut text = String::new();
    match ty {
        128 | 129 => {
            if let (Some(id), Some(seq)) = (be16(data, 4), be16(data, 6)) {
                let _ = write!(text, " id=0x{id:04x}, seq={seq}");
                if let Some(h) = cx.hop_limit {
                    let _ = write!(text, ", hop limit={h}");
                }
                if let Some(n) = me.echo(cx, ty == 128, id, seq) {
                    let _ = write!(text, " (request in {n})");
                }
            }
        }
        135 | 136 => {
            if let Some(a) = array::<16>(data, 8) {
                text.push_str(if ty == 135 { " for " } else { " " });
                dorsal_engine::format::write_ipv6(&mut text, &a);
                if ty == 136 {
                    let fl = u8_at(data, 4).unwrap_or(0);
                    let names: Vec<&str> = [(0x80, "rtr"), (0x40, "sol"), (0x20, "ovr")]
                        .iter()
                        .filter(|(b, _)| fl & b != 0)
                        .map(|(_, n)| *n)
                        .collect();
                    if !names.is_empty() {
                        let _ = write!(text, " ({})", names.join(", "));
                    }
                }
                if ty == 135 {
                    if let Some(m) = nd_link_addr(from(data, 24), 1) {
                        let _ = write!(text, " from {}", crate::eth::mac_string(&m));
                    }
                } else if let Some(m) = nd_link_addr(from(data, 24), 2) {
                    let _ = write!(text, " is at {}", crate::eth::mac_string(&m));
                }
            }
        }
        133 | 134 => {
            let opts = from(data, if ty == 133 { 8 } else { 16 });
            if let Some(m) = nd_link_addr(opts, 1) {
                let _ = write!(text, " from {}", crate::eth::mac_string(&m));
            }
        }
        _ => {}
    }
    if let Some(c) = cx.cols() {
        c.append_info(&text);
    }
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

/// The display form of an address of `len` bytes at `off` as
/// `dissect_arp` prints it (`tvb_arphrdaddr_to_str` for hardware addresses,
/// `tvb_arpproaddr_to_str` for protocol ones); `Err` holds where the read
/// ran out.
fn arp_addr(data: &[u8], off: usize, len: usize, kind: ArpAddr) -> Result<String, usize> {
    if len == 0 {
        return Ok("<No address>".to_string());
    }
    let end = off.saturating_add(len);
    let b = data.get(off..end).ok_or(end)?;
    Ok(match (kind, b) {
        (ArpAddr::Ether, &[a, b1, c, d, e, f]) => crate::eth::mac_string(&[a, b1, c, d, e, f]),
        (ArpAddr::Ipv4, &[a, b1, c, d]) => format!("{a}.{b1}.{c}.{d}"),
        _ => {
            // bytes_to_str: hex, at most 36 bytes, then an ellipsis.
            let mut out: String = b.iter().take(36).map(|x| format!("{x:02x}")).collect();
            if b.len() > 36 {
                out.push('\u{2026}');
            }
            out
        }
    })
}

/// How an ARP address prints: by its type and length.
#[derive(Clone, Copy)]
enum ArpAddr {
    Ether,
    Ipv4,
    Bytes,
}

/// The protocol column `dissect_arp` sets for an opcode.
fn arp_protocol(op: u16) -> &'static str {
    match op {
        3 | 4 => "RARP",
        5..=7 => "DRARP",
        8 | 9 => "Inverse ARP",
        11..=22 => "MARS",
        23 => "MAPOS",
        _ => "ARP",
    }
}

/// What the MARS and MAPOS requests say before "from SHA at SPA".
fn arp_mars_name(op: u16) -> Option<&'static str> {
    Some(match op {
        11 => "MARS request",
        12 => "MARS MULTI request",
        13 => "MARS MSERV request",
        14 => "MARS JOIN request",
        15 => "MARS LEAVE",
        16 => "MARS NAK",
        17 => "MARS UNSERV request",
        18 => "MARS SJOIN request",
        19 => "MARS SLEAVE",
        20 => "MARS grouplist request",
        21 => "MARS grouplist reply",
        22 => "MARS redirect map",
        23 => "MAPOS UNARP request",
        _ => return None,
    })
}

/// The Info line of an ARP packet, as `dissect_arp` writes it; `Err`
/// holds where the packet ran out.
fn arp_info(data: &[u8], hw: u16, pt: u16, hs: usize, ps: usize, op: u16) -> Result<String, usize> {
    let (sha, spa) = (8usize, 8 + hs);
    let (tha, tpa) = (spa + ps, spa + ps + hs);
    let hk = if matches!(hw, 1 | 6) && hs == 6 {
        ArpAddr::Ether
    } else {
        ArpAddr::Bytes
    };
    let pk = if matches!(pt, 0x0800 | 0xcc) && ps == 4 {
        ArpAddr::Ipv4
    } else {
        ArpAddr::Bytes
    };
    let h = |off| arp_addr(data, off, hs, hk);
    let p = |off| arp_addr(data, off, ps, pk);
    let zero_tha = data.get(tha..tha + 6) == Some(&[0u8; 6][..]);
    let text = match op {
        1 | 2 => {
            let end = tpa + ps;
            let same = data.get(spa..spa + ps) == data.get(tpa..end);
            if data.get(tpa..end).is_none() {
                return Err(end);
            }
            match op {
                1 if same && zero_tha => format!("ARP Announcement for {}", p(tpa)?),
                1 if same => format!("Gratuitous ARP for {} (Request)", p(tpa)?),
                1 => {
                    let probe = zero_tha && {
                        let four = spa + 4;
                        data.get(spa..four).ok_or(four)? == [0u8; 4]
                    };
                    if probe {
                        format!("Who has {}? (ARP Probe)", p(tpa)?)
                    } else {
                        format!("Who has {}? Tell {}", p(tpa)?, p(spa)?)
                    }
                }
                _ if same => format!("Gratuitous ARP for {} (Reply)", p(spa)?),
                _ => format!("{} is at {}", p(spa)?, h(sha)?),
            }
        }
        3 | 5 | 8 => format!("Who is {}? Tell {}", h(tha)?, h(sha)?),
        4 | 6 => format!("{} is at {}", h(tha)?, p(tpa)?),
        7 => "DRARP Error".to_string(),
        9 => format!("{} is at {}", h(sha)?, p(spa)?),
        10 => "ARP NAK".to_string(),
        24 => format!("Experimental 1 ( opcode {op} )"),
        25 => format!("Experimental 2 ( opcode {op} )"),
        0 | 65535 => format!("Reserved opcode {op}"),
        _ => match arp_mars_name(op) {
            Some(name) => format!("{name} from {} at {}", h(sha)?, p(spa)?),
            None => format!("Unknown ARP opcode 0x{op:04x}"),
        },
    };
    Ok(text)
}

impl Icmp {
    /// `dissect_arp` for Ethernet-like hardware.
    fn arp(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.f;
        cx.t.add_layer("arp");
        // ARP until the opcode says more, Info cleared: an exception shows as
        // a short or malformed ARP frame.
        if let Some(c) = cx.cols() {
            c.set_protocol("ARP");
            c.clear_info();
        }
        let (Some(hw), Some(pt), Some(hs), Some(ps), Some(op)) = (
            be16(data, 0),
            be16(data, 2),
            u8_at(data, 4),
            u8_at(data, 5),
            be16(data, 6),
        ) else {
            cx.t.push_proto(f.arp, data);
            cx.bounds_error(first_read_past(data.len(), &[2, 4, 5, 6, 8]), "ARP");
            return Outcome::Done(data.len());
        };
        let total = 8 + 2 * (usize::from(hs) + usize::from(ps));
        cx.t.push_proto(f.arp, data.get(..total).unwrap_or(data));
        cx.t.push_u(f.arp_hw_type, hw);
        cx.t.push_u(f.arp_proto_type, pt);
        cx.t.push_u(f.arp_hw_size, hs);
        cx.t.push_u(f.arp_proto_size, ps);
        cx.t.push_u(f.arp_opcode, op);
        let mut duplicate = None;
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
                if matches!(op, 1 | 2) && matches!(hw, 1 | 6) && matches!(pt, 0x0800 | 0xcc) {
                    duplicate = self.arp_duplicate(cx, op, (sm, si), (tm, ti));
                }
            }
        }
        // The Info text reads the addresses, and where they run out is an
        // exception (also when no columns are shown).
        let info = arp_info(data, hw, pt, usize::from(hs), usize::from(ps), op);
        if let Some(c) = cx.cols() {
            c.set_protocol(arp_protocol(op));
            if let Ok(text) = &info {
                c.set_info(text);
                if let Some([a, b, d, e]) = duplicate {
                    c.append_info_fmt(format_args!(
                        " (duplicate use of {a}.{b}.{d}.{e} detected!)"
                    ));
                }
            }
        }
        if let Err(end) = info {
            cx.bounds_error(end, "ARP");
        }
        Outcome::Done(total.min(data.len()))
    }

    /// Wireshark's duplicate address detection (on by default): a sender,
    /// then (in a reply) a target, whose IPv4 address was bound to another
    /// MAC. As in Wireshark, the target's check decides when it is made.
    fn arp_duplicate(
        &self,
        cx: &Cx<'_>,
        op: u16,
        sender: ([u8; 6], [u8; 4]),
        target: ([u8; 6], [u8; 4]),
    ) -> Option<[u8; 4]> {
        let mut b = self.arp_bindings.try_borrow_mut().ok()?;
        let frame = cx.frame.number;
        if cx.frame.visited {
            return b.duplicates.get(&frame).copied();
        }
        let usable =
            |(mac, ip): ([u8; 6], [u8; 4])| mac[0] & 1 == 0 && mac != [0; 6] && ip != [0; 4];
        let mut check = |(mac, ip): ([u8; 6], [u8; 4])| -> bool {
            match b.by_ip.get_mut(&ip) {
                Some((known, seen)) if frame > *seen => {
                    if *known == mac {
                        *seen = frame;
                        false
                    } else {
                        true
                    }
                }
                Some(_) => false,
                None => {
                    if b.by_ip.len() < MAX_ARP_BINDINGS {
                        b.by_ip.insert(ip, (mac, frame));
                    }
                    false
                }
            }
        };
        let mut found = None;
        if usable(sender) && check(sender) {
            found = Some(sender.1);
        }
        if usable(target) && op != 1 && found != Some(target.1) {
            found = check(target).then_some(target.1);
        }
        if let Some(ip) = found.filter(|_| b.duplicates.len() < MAX_ARP_BINDINGS) {
            b.duplicates.insert(frame, ip);
        }
        found
    }
}
