//! `-z conv,TYPE[,FILTER]` and `-z endpoints,TYPE[,FILTER]` for Ethernet,
//! IPv4, IPv6, TCP and UDP, as tshark 4.0 prints them.
//!
//! tshark's dissectors hand each tap one record per header they decode
//! (a frame with IP in IP gives two IPv4 records), skipping the headers
//! quoted inside ICMP errors. dorsal reads the same records off the field
//! table: address pairs in tree order, and for TCP and UDP the ports and
//! stream index with the network addresses of the header before them.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::rows::{Index, Rows};
use crate::manuf::{names, plain, Names};
use dorsal_engine::dissect::Frame;
use dorsal_engine::fields::{FieldId, Registry};
use dorsal_engine::format::write_ipv6;
use dorsal_engine::table::{FieldTable, Value};
use dorsal_engine::taps::units::{format_bytes, secs};
use dorsal_engine::taps::Tap;

/// Which table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Eth,
    Ip,
    Ipv6,
    Tcp,
    Udp,
}

impl Kind {
    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "eth" => Kind::Eth,
            "ip" => Kind::Ip,
            "ipv6" => Kind::Ipv6,
            "tcp" => Kind::Tcp,
            "udp" => Kind::Udp,
            _ => return None,
        })
    }

    /// The protocol's short name, which titles the table.
    fn title(self) -> &'static str {
        match self {
            Kind::Eth => "Ethernet",
            Kind::Ip => "IPv4",
            Kind::Ipv6 => "IPv6",
            Kind::Tcp => "TCP",
            Kind::Udp => "UDP",
        }
    }

    fn has_ports(self) -> bool {
        matches!(self, Kind::Tcp | Kind::Udp)
    }
}

/// An address of any of the tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Addr {
    Ether([u8; 6]),
    V4([u8; 4]),
    V6([u8; 16]),
}

impl Addr {
    fn from_value(v: &Value) -> Option<Addr> {
        match *v {
            Value::Ether(a) => Some(Addr::Ether(a)),
            Value::Ipv4(a) => Some(Addr::V4(a)),
            Value::Ipv6(a) => Some(Addr::V6(a)),
            _ => None,
        }
    }

    fn display(&self, names: Option<&Names>) -> String {
        match self {
            Addr::Ether(a) => names.map(|n| n.resolve(a)).unwrap_or_else(|| plain(a)),
            Addr::V4([a, b, c, d]) => format!("{a}.{b}.{c}.{d}"),
            Addr::V6(a) => {
                let mut s = String::new();
                write_ipv6(&mut s, a);
                s
            }
        }
    }
}

/// One header as the tap sees it.
#[derive(Clone, Copy, Debug)]
struct Record {
    src: Addr,
    dst: Addr,
    sport: u32,
    dport: u32,
    /// The stream index for TCP and UDP; the same for every record otherwise.
    id: u64,
}

/// The fields a table is read from.
struct Reader {
    kind: Kind,
    src: Vec<FieldId>,
    dst: Vec<FieldId>,
    /// For TCP and UDP: the network addresses before the ports.
    net_src: Vec<FieldId>,
    net_dst: Vec<FieldId>,
    sport: Option<FieldId>,
    dport: Option<FieldId>,
    stream: Option<FieldId>,
    /// Protocols whose payload quotes headers of an erroneous packet.
    stop: Vec<FieldId>,
    /// TCP's and UDP's header checks; see [`Checks`].
    checks: Option<Checks>,
    /// What each field is to the reader (`role::*` bits), by field id: one
    /// lookup per entry instead of a comparison with each field above.
    roles: Vec<u16>,
}

/// The bits of [`Reader::roles`].
mod role {
    pub const STOP: u16 = 1;
    pub const TRANSPORT: u16 = 1 << 1;
    pub const NET_SRC: u16 = 1 << 2;
    pub const NET_DST: u16 = 1 << 3;
    pub const SPORT: u16 = 1 << 4;
    pub const DPORT: u16 = 1 << 5;
    pub const STREAM: u16 = 1 << 6;
    pub const SRC: u16 = 1 << 7;
    pub const DST: u16 = 1 << 8;
    /// Read by [`super::Checks`].
    pub const CHECK: u16 = 1 << 9;
}

/// tshark's TCP and UDP taps only see headers the dissector got through:
/// not a TCP header cut short by the capture or by the IP length (the
/// dissector throws while reading its options), not a UDP header whose
/// length is below 8. The offset of the TCP header in the frame is the sum
/// of the header bytes of the protocols before it.
struct Checks {
    /// Indexed by field id: protocols whose bytes are their header.
    is_proto: Vec<bool>,
    frame: Option<FieldId>,
    transport: Option<FieldId>,
    hdr_len: Option<FieldId>,
    udp_length: Option<FieldId>,
    ip: Option<FieldId>,
    ip_hdr_len: Option<FieldId>,
    ip_len: Option<FieldId>,
    ip_mf: Option<FieldId>,
    ip_frag_offset: Option<FieldId>,
    ipv6: Option<FieldId>,
    ipv6_plen: Option<FieldId>,
    ipv6_nxt: Option<FieldId>,
}

impl Checks {
    fn new(reg: &Registry, proto: &str) -> Checks {
        let mut is_proto = vec![false; reg.len()];
        for (id, def) in reg.iter() {
            if def.ftype == dorsal_engine::fields::FieldType::Protocol {
                if let Some(p) = is_proto.get_mut(id.index()) {
                    *p = true;
                }
            }
        }
        Checks {
            is_proto,
            frame: reg.lookup("frame"),
            transport: reg.lookup(proto),
            hdr_len: reg.lookup("tcp.hdr_len").filter(|_| proto == "tcp"),
            udp_length: reg.lookup("udp.length").filter(|_| proto == "udp"),
            ip: reg.lookup("ip"),
            ip_hdr_len: reg.lookup("ip.hdr_len"),
            ip_len: reg.lookup("ip.len"),
            ip_mf: reg.lookup("ip.flags.mf"),
            ip_frag_offset: reg.lookup("ip.frag_offset"),
            ipv6: reg.lookup("ipv6"),
            ipv6_plen: reg.lookup("ipv6.plen"),
            ipv6_nxt: reg.lookup("ipv6.nxt"),
        }
    }

    fn fields(&self) -> Vec<FieldId> {
        let mut v: Vec<FieldId> = self
            .is_proto
            .iter()
            .enumerate()
            .filter(|(_, &p)| p)
            .filter_map(|(i, _)| u32::try_from(i).ok().map(FieldId))
            .filter(|id| Some(*id) != self.frame)
            .collect();
        v.extend(
            [
                self.hdr_len,
                self.udp_length,
                self.ip_hdr_len,
                self.ip_len,
                self.ip_mf,
                self.ip_frag_offset,
                self.ipv6_plen,
                self.ipv6_nxt,
            ]
            .into_iter()
            .flatten(),
        );
        v
    }
}

/// What the checks learnt walking one frame.
#[derive(Default)]
struct CheckState {
    /// Header bytes before the current entry.
    offset: u64,
    /// Where the transport header starts.
    start: Option<u64>,
    ip_hdr_len: Option<u64>,
    ip_len: Option<u64>,
    fragment: bool,
    v6_plen: Option<u64>,
    v6_nxt: Option<u64>,
    /// Transport bytes the network layer says there are.
    reported: Option<u64>,
    v6: bool,
}

impl CheckState {
    /// Updates the state with one entry; `Some(false)` when the entry shows
    /// the current transport header would not reach the tap.
    fn entry(&mut self, c: &Checks, t: &FieldTable, frame: &Frame, id: FieldId, v: &Value) -> bool {
        let num = match *v {
            Value::U(n) => Some(n),
            Value::Bool(b) => Some(u64::from(b)),
            _ => None,
        };
        if Some(id) == c.ip {
            *self = CheckState {
                offset: self.offset,
                ..CheckState::default()
            };
        } else if Some(id) == c.ipv6 {
            *self = CheckState {
                offset: self.offset,
                v6: true,
                ..CheckState::default()
            };
        } else if Some(id) == c.ip_hdr_len {
            self.ip_hdr_len = num;
        } else if Some(id) == c.ip_len {
            self.ip_len = num;
        } else if Some(id) == c.ip_mf || Some(id) == c.ip_frag_offset {
            self.fragment |= num.unwrap_or(0) != 0;
        } else if Some(id) == c.ipv6_plen {
            self.v6_plen = num;
        } else if Some(id) == c.ipv6_nxt {
            self.v6_nxt = num;
        }
        if Some(id) == c.transport {
            self.start = Some(self.offset);
            self.reported = match (self.ip_len, self.ip_hdr_len, self.v6_plen, self.v6_nxt) {
                (Some(l), Some(h), _, _) if !self.fragment && l >= h && l > 0 => Some(l - h),
                (None, _, Some(p), Some(6 | 17)) if p > 0 => Some(p),
                _ => None,
            };
        }
        if c.is_proto.get(id.index()).copied().unwrap_or(false) && Some(id) != c.frame {
            if let Value::Proto { bytes, .. } = v {
                // A protocol whose bytes run to the end of the frame (`raw`,
                // `ppp`) has no header of its own to count.
                let len = t.bytes(*bytes).len() as u64;
                let end = self.offset.saturating_add(len);
                if end < u64::from(frame.cap_len) {
                    self.offset = end;
                }
            }
        }
        if Some(id) == c.hdr_len {
            let Some(h) = num else { return true };
            let captured = self
                .start
                .map(|s| u64::from(frame.cap_len).saturating_sub(s));
            // A bogus header length (under 20) stops TCP before its tap.
            return h >= 20
                && captured.is_none_or(|cap| cap >= h)
                && self.reported.is_none_or(|r| r >= h);
        }
        if Some(id) == c.udp_length {
            return match num {
                Some(l) if l < 8 => l == 0 && self.v6,
                _ => true,
            };
        }
        true
    }
}

impl Reader {
    fn new(kind: Kind, reg: &Registry) -> Reader {
        let ids = |names: &[&str]| -> Vec<FieldId> {
            names.iter().filter_map(|n| reg.lookup(n)).collect()
        };
        let (src, dst) = match kind {
            Kind::Eth => (ids(&["eth.src"]), ids(&["eth.dst"])),
            Kind::Ip => (ids(&["ip.src"]), ids(&["ip.dst"])),
            Kind::Ipv6 => (ids(&["ipv6.src"]), ids(&["ipv6.dst"])),
            Kind::Tcp | Kind::Udp => (Vec::new(), Vec::new()),
        };
        let proto = match kind {
            Kind::Tcp => "tcp",
            _ => "udp",
        };
        let (net_src, net_dst, sport, dport, stream) = if kind.has_ports() {
            (
                ids(&["ip.src", "ipv6.src"]),
                ids(&["ip.dst", "ipv6.dst"]),
                reg.lookup(&format!("{proto}.srcport")),
                reg.lookup(&format!("{proto}.dstport")),
                reg.lookup(&format!("{proto}.stream")),
            )
        } else {
            (Vec::new(), Vec::new(), None, None, None)
        };
        let mut r = Reader {
            kind,
            src,
            dst,
            net_src,
            net_dst,
            sport,
            dport,
            stream,
            stop: ids(&["icmp", "icmpv6"]),
            checks: kind.has_ports().then(|| Checks::new(reg, proto)),
            roles: vec![0; reg.len()],
        };
        let mut roles = std::mem::take(&mut r.roles);
        let mut mark = |ids: &[FieldId], bit: u16| {
            for id in ids {
                if let Some(x) = roles.get_mut(id.index()) {
                    *x |= bit;
                }
            }
        };
        mark(&r.stop, role::STOP);
        mark(&r.src, role::SRC);
        mark(&r.dst, role::DST);
        mark(&r.net_src, role::NET_SRC);
        mark(&r.net_dst, role::NET_DST);
        mark(r.sport.as_slice(), role::SPORT);
        mark(r.dport.as_slice(), role::DPORT);
        mark(r.stream.as_slice(), role::STREAM);
        if let Some(c) = &r.checks {
            mark(c.transport.as_slice(), role::TRANSPORT);
            mark(&c.fields(), role::CHECK);
        }
        r.roles = roles;
        r
    }

    fn role(&self, id: FieldId) -> u16 {
        self.roles.get(id.index()).copied().unwrap_or(0)
    }

    fn fields(&self) -> Vec<FieldId> {
        let mut v: Vec<FieldId> = Vec::new();
        v.extend(&self.src);
        v.extend(&self.dst);
        v.extend(&self.net_src);
        v.extend(&self.net_dst);
        v.extend(self.sport);
        v.extend(self.dport);
        v.extend(self.stream);
        v.extend(&self.stop);
        if let Some(c) = &self.checks {
            v.extend(c.fields());
        }
        v
    }

    /// Calls `f` for each header of the table's protocol in the frame.
    /// The frame's records, without allocating for the common few.
    fn collect(&self, frame: &Frame, t: &FieldTable) -> smallvec_lite::Recs {
        let mut recs = smallvec_lite::Recs::default();
        self.records(frame, t, |r| recs.push(r));
        recs
    }

    fn records(&self, frame: &Frame, t: &FieldTable, mut f: impl FnMut(Record)) {
        if self.kind.has_ports() {
            self.transport_records(frame, t, f);
            return;
        }
        let mut src = None;
        let mut dst = None;
        for e in t.entries() {
            let role = self.role(e.field);
            if role & role::STOP != 0 {
                break;
            }
            if role & role::SRC != 0 {
                src = Addr::from_value(&e.value);
            } else if role & role::DST != 0 {
                dst = Addr::from_value(&e.value);
            } else {
                continue;
            }
            if let (Some(s), Some(d)) = (src, dst) {
                f(Record {
                    src: s,
                    dst: d,
                    sport: 0,
                    dport: 0,
                    id: u64::MAX,
                });
                src = None;
                dst = None;
            }
        }
    }

    fn transport_records(&self, frame: &Frame, t: &FieldTable, mut f: impl FnMut(Record)) {
        let mut src = None;
        let mut dst = None;
        let mut state = CheckState::default();
        // The header being read: ports, stream, and whether it reaches the tap.
        let mut sport = None;
        let mut dport = None;
        let mut stream = None;
        // The network addresses in force when the header's ports were read.
        let mut hdr_src = None;
        let mut hdr_dst = None;
        let mut ok = true;
        let mut flush = |sport: &mut Option<u32>,
                         dport: &mut Option<u32>,
                         stream: &mut Option<u64>,
                         ok: bool,
                         src: Option<Addr>,
                         dst: Option<Addr>| {
            if let (true, Some(s), Some(d), Some(sp), Some(dp), Some(id)) =
                (ok, src, dst, *sport, *dport, *stream)
            {
                f(Record {
                    src: s,
                    dst: d,
                    sport: sp,
                    dport: dp,
                    id,
                });
            }
            *sport = None;
            *dport = None;
            *stream = None;
        };
        for e in t.entries() {
            let id = e.field;
            let role = self.role(id);
            if role == 0 {
                continue;
            }
            if role & role::STOP != 0 {
                break;
            }
            if role & role::TRANSPORT != 0 {
                // A new header starts: the previous one is complete.
                flush(&mut sport, &mut dport, &mut stream, ok, hdr_src, hdr_dst);
                ok = true;
            }
            if let Some(c) = self.checks.as_ref().filter(|_| role & role::CHECK != 0) {
                if !state.entry(c, t, frame, id, &e.value) {
                    ok = false;
                }
            }
            if role & role::NET_SRC != 0 {
                src = Addr::from_value(&e.value);
            } else if role & role::NET_DST != 0 {
                dst = Addr::from_value(&e.value);
            } else if role & role::SPORT != 0 {
                sport = port(&e.value);
                hdr_src = src;
                hdr_dst = dst;
            } else if role & role::DPORT != 0 {
                dport = port(&e.value);
            } else if role & role::STREAM != 0 {
                if let Value::U(n) = e.value {
                    stream = Some(n);
                }
            }
        }
        flush(&mut sport, &mut dport, &mut stream, ok, hdr_src, hdr_dst);
    }
}

fn port(v: &Value) -> Option<u32> {
    match *v {
        Value::U(p) => u32::try_from(p).ok(),
        _ => None,
    }
}

/// Cap on the rows of one table; records of further new rows are dropped.
const ROWS_CAP: usize = 1 << 22;

/// Rows sorted as tshark prints them: most frames first, ties in order of
/// first appearance.
fn print_order(totals: impl Iterator<Item = u64>) -> Vec<u32> {
    let mut order: Vec<(u64, u32)> = (0u32..).zip(totals).map(|(i, n)| (n, i)).collect();
    // No two keys are equal (the row breaks ties): unstable sorts the same
    // and needs no copy of a million rows.
    order.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    order
        .into_iter()
        .filter(|&(n, _)| n > 0 && n < u64::from(u32::MAX))
        .map(|(_, i)| i)
        .collect()
}

/// Ethernet's vendor names, read once per process (a run draws once; a
/// fuzzer or a library user draws many times).
fn names_for(kind: Kind) -> Option<&'static Names> {
    (kind == Kind::Eth).then(names)
}

const RULE: &str =
    "================================================================================";

/// Frames and bytes each way of a row (tx: sent by its first address).
#[derive(Clone, Copy, Default)]
struct Counts {
    rx_frames: u32,
    tx_frames: u32,
    rx_bytes: u64,
    tx_bytes: u64,
}

impl Counts {
    fn add(&mut self, tx: bool, len: u64) {
        if tx {
            self.tx_frames = self.tx_frames.saturating_add(1);
            self.tx_bytes = self.tx_bytes.saturating_add(len);
        } else {
            self.rx_frames = self.rx_frames.saturating_add(1);
            self.rx_bytes = self.rx_bytes.saturating_add(len);
        }
    }

    fn frames(&self) -> u64 {
        u64::from(self.rx_frames) + u64::from(self.tx_frames)
    }

    fn bytes(&self) -> u64 {
        self.rx_bytes.saturating_add(self.tx_bytes)
    }
}

/// A conversation of the table, 88 bytes: a million of them is what a
/// capture of a million connections holds.
#[derive(Clone, Copy)]
struct ConvRow {
    src: Addr,
    dst: Addr,
    sport: u16,
    dport: u16,
    /// The stream index (TCP, UDP).
    id: u32,
    n: Counts,
    start: i64,
    stop: i64,
}

type ConvKey = (Addr, Addr, u16, u16, u32);

impl ConvRow {
    fn key(&self) -> ConvKey {
        (self.src, self.dst, self.sport, self.dport, self.id)
    }
}

/// Streams whose row is found by their index rather than through the hash
/// index, at most (4 bytes each).
const BY_STREAM: usize = 1 << 24;

/// `-z conv,TYPE`.
pub struct Conversations {
    reader: Reader,
    filter: Option<String>,
    rows: Rows<ConvRow>,
    /// TCP and UDP: the row of each stream index (`u32::MAX`: none), which
    /// the row's addresses and ports confirm; the hash index holds the
    /// rest (other tables, tunnels repeating a stream's index).
    by_stream: Vec<u32>,
    index: Index<ConvKey>,
}

impl Conversations {
    pub fn new(kind: Kind, reg: &Registry, filter: Option<String>) -> Self {
        Conversations {
            reader: Reader::new(kind, reg),
            filter,
            rows: Rows::default(),
            by_stream: Vec::new(),
            index: Index::default(),
        }
    }

    /// The row of `key` in either direction, and whether it is forward.
    fn find(&self, key: &ConvKey) -> Option<(u32, bool)> {
        let (src, dst, sport, dport, id) = *key;
        let rev = (dst, src, dport, sport, id);
        let key_of = |i: u32| self.rows.get(i).map(ConvRow::key);
        if self.reader.kind.has_ports() {
            let at = self.by_stream.get(id as usize).copied();
            if let Some(row) = at.and_then(|i| self.rows.get(i).map(|r| (i, r.key()))) {
                if row.1 == *key {
                    return Some((row.0, true));
                }
                if row.1 == rev {
                    return Some((row.0, false));
                }
            }
        }
        if let Some(i) = self.index.find(key, key_of) {
            return Some((i, true));
        }
        self.index.find(&rev, key_of).map(|i| (i, false))
    }

    fn add(&mut self, r: Record, len: u64, rel: i64) {
        let key = (
            r.src,
            r.dst,
            r.sport as u16,
            r.dport as u16,
            u32::try_from(r.id).unwrap_or(u32::MAX),
        );
        let (i, forward) = match self.find(&key) {
            Some(found) => found,
            None => {
                if self.rows.len() >= ROWS_CAP {
                    return;
                }
                let i = self.rows.push(ConvRow {
                    src: key.0,
                    dst: key.1,
                    sport: key.2,
                    dport: key.3,
                    id: key.4,
                    n: Counts::default(),
                    start: rel,
                    stop: rel,
                });
                let id = key.4 as usize;
                let free = self.reader.kind.has_ports()
                    && id < BY_STREAM
                    && self.by_stream.get(id).is_none_or(|&at| at == u32::MAX);
                if free {
                    if self.by_stream.len() <= id {
                        self.by_stream.resize(id + 1, u32::MAX);
                    }
                    if let Some(at) = self.by_stream.get_mut(id) {
                        *at = i;
                    }
                } else {
                    self.index.insert(key, i);
                }
                (i, true)
            }
        };
        let Some(row) = self.rows.get_mut(i) else {
            return;
        };
        row.n.add(forward, len);
        if rel > row.stop {
            row.stop = rel;
        } else if rel < row.start {
            row.start = rel;
        }
    }
}

impl Tap for Conversations {
    fn fields(&self) -> Vec<FieldId> {
        self.reader.fields()
    }

    fn reads_only_fields(&self) -> bool {
        true
    }

    fn frame(&mut self, frame: &Frame, _data: &[u8], t: &FieldTable) {
        let recs = self.reader.collect(frame, t);
        for r in recs.iter() {
            self.add(*r, u64::from(frame.len), frame.rel_nanos);
        }
    }

    fn draw(&self, out: &mut dyn Write) -> io::Result<()> {
        let kind = self.reader.kind;
        let names = names_for(kind);
        let pad = if kind.has_ports() { "            " } else { "" };
        writeln!(out, "{RULE}")?;
        writeln!(out, "{} Conversations", kind.title())?;
        writeln!(
            out,
            "Filter:{}",
            self.filter.as_deref().unwrap_or("<No Filter>")
        )?;
        writeln!(out, "{pad}                                               |       <-      | |       ->      | |     Total     |    Relative    |   Duration   |")?;
        writeln!(out, "{pad}                                               | Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |")?;
        let order = print_order(self.rows.iter().map(|r| r.n.frames()));
        let mut line = String::new();
        for i in order {
            let Some(r) = self.rows.get(i) else { continue };
            line.clear();
            let src = r.src.display(names);
            let dst = r.dst.display(names);
            let rx = format_bytes(r.n.rx_bytes);
            let tx = format_bytes(r.n.tx_bytes);
            let total = format_bytes(r.n.bytes());
            let frames = r.n.frames();
            if kind.has_ports() {
                let a = format!("{src}:{}", r.sport);
                let b = format!("{dst}:{}", r.dport);
                let _ = write!(line, "{a:<26} <-> {b:<26}");
            } else {
                let _ = write!(line, "{src:<20} <-> {dst:<20}");
            }
            let _ = write!(
                line,
                "  {:>6} {rx:<9}  {:>6} {tx:<9}  {frames:>6} {total:<9}  ",
                r.n.rx_frames, r.n.tx_frames
            );
            let start = secs(r.start);
            let duration = secs(r.stop) - secs(r.start);
            let _ = writeln!(line, "{start:>14.9}   {duration:>12.4}");
            out.write_all(line.as_bytes())?;
        }
        writeln!(out, "{RULE}")
    }
}

/// An endpoint of the table, 48 bytes.
#[derive(Clone, Copy)]
struct EndpointRow {
    addr: Addr,
    port: u16,
    n: Counts,
}

/// `-z endpoints,TYPE`.
pub struct Endpoints {
    reader: Reader,
    filter: Option<String>,
    rows: Rows<EndpointRow>,
    index: Index<(Addr, u16)>,
}

impl Endpoints {
    pub fn new(kind: Kind, reg: &Registry, filter: Option<String>) -> Self {
        Endpoints {
            reader: Reader::new(kind, reg),
            filter,
            rows: Rows::default(),
            index: Index::default(),
        }
    }

    fn add(&mut self, addr: Addr, port: u32, sender: bool, len: u64) {
        let key = (addr, port as u16);
        let key_of = |i: u32| self.rows.get(i).map(|r| (r.addr, r.port));
        let i = match self.index.find(&key, key_of) {
            Some(i) => i,
            None => {
                if self.rows.len() >= ROWS_CAP {
                    return;
                }
                let i = self.rows.push(EndpointRow {
                    addr,
                    port: key.1,
                    n: Counts::default(),
                });
                self.index.insert(key, i);
                i
            }
        };
        let Some(row) = self.rows.get_mut(i) else {
            return;
        };
        row.n.add(sender, len);
    }
}

impl Tap for Endpoints {
    fn fields(&self) -> Vec<FieldId> {
        self.reader.fields()
    }

    fn reads_only_fields(&self) -> bool {
        true
    }

    fn frame(&mut self, frame: &Frame, _data: &[u8], t: &FieldTable) {
        let recs = self.reader.collect(frame, t);
        let len = u64::from(frame.len);
        for r in recs.iter() {
            self.add(r.src, r.sport, true, len);
            self.add(r.dst, r.dport, false, len);
        }
    }

    fn draw(&self, out: &mut dyn Write) -> io::Result<()> {
        let kind = self.reader.kind;
        let names = names_for(kind);
        writeln!(out, "{RULE}")?;
        writeln!(out, "{} Endpoints", kind.title())?;
        writeln!(
            out,
            "Filter:{}",
            self.filter.as_deref().unwrap_or("<No Filter>")
        )?;
        writeln!(
            out,
            "                       |  {}Packets  | |  Bytes  | | Tx Packets | | Tx Bytes | | Rx Packets | | Rx Bytes |",
            if kind.has_ports() { "Port  ||  " } else { "" }
        )?;
        let order = print_order(self.rows.iter().map(|r| r.n.frames()));
        let mut line = String::new();
        for i in order {
            let Some(r) = self.rows.get(i) else { continue };
            line.clear();
            let addr = r.addr.display(names);
            let _ = write!(line, "{addr:<20}      ");
            if kind.has_ports() {
                let _ = write!(line, "{:>5}     ", r.port);
            }
            let _ = writeln!(
                line,
                "{:>6}     {:>9}     {:>6}       {:>9}      {:>6}       {:>9}   ",
                r.n.frames(),
                r.n.bytes(),
                r.n.tx_frames,
                r.n.tx_bytes,
                r.n.rx_frames,
                r.n.rx_bytes
            );
            out.write_all(line.as_bytes())?;
        }
        writeln!(out, "{RULE}")
    }
}

/// A few records per frame without allocating: headers beyond the inline
/// capacity spill to the heap.
mod smallvec_lite {
    use super::Record;

    #[derive(Default)]
    pub struct Recs {
        inline: [Option<Record>; 4],
        len: usize,
        more: Vec<Record>,
    }

    impl Recs {
        pub fn push(&mut self, r: Record) {
            if let Some(slot) = self.inline.get_mut(self.len) {
                *slot = Some(r);
                self.len += 1;
            } else if self.more.len() < 256 {
                self.more.push(r);
            }
        }

        pub fn iter(&self) -> impl Iterator<Item = &Record> {
            self.inline.iter().flatten().chain(self.more.iter())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dorsal_engine::fields::{Base, FieldDef, FieldType};

    struct F {
        reg: Registry,
        ip: FieldId,
        src: FieldId,
        dst: FieldId,
        sport: FieldId,
        dport: FieldId,
        stream: FieldId,
        tcp: FieldId,
    }

    fn fields() -> F {
        let mut reg = Registry::new();
        let mut add = |a, t| reg.add(FieldDef::new(a, a, t, Base::None));
        let ip = add("ip", FieldType::Protocol);
        let src = add("ip.src", FieldType::Ipv4);
        let dst = add("ip.dst", FieldType::Ipv4);
        let tcp = add("tcp", FieldType::Protocol);
        let sport = add("tcp.srcport", FieldType::U16);
        let dport = add("tcp.dstport", FieldType::U16);
        let stream = add("tcp.stream", FieldType::U32);
        F {
            reg,
            ip,
            src,
            dst,
            sport,
            dport,
            stream,
            tcp,
        }
    }

    /// One IPv4/TCP frame: addresses, ports, stream.
    fn packet(f: &F, t: &mut FieldTable, s: [u8; 4], d: [u8; 4], sp: u16, dp: u16, stream: u32) {
        t.clear();
        t.push_proto(f.ip, &[0; 20]);
        t.push(f.src, Value::Ipv4(s));
        t.push(f.dst, Value::Ipv4(d));
        t.push_proto(f.tcp, &[0; 20]);
        t.push_u(f.sport, sp);
        t.push_u(f.dport, dp);
        t.push_u(f.stream, stream);
    }

    fn frame(len: u32, rel_nanos: i64) -> Frame {
        Frame {
            len,
            cap_len: len,
            rel_nanos,
            ..Frame::default()
        }
    }

    fn text(tap: &dyn Tap) -> String {
        let mut out = Vec::new();
        tap.draw(&mut out).unwrap_or_default();
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn rows_stay_compact() {
        assert_eq!(std::mem::size_of::<ConvRow>(), 88);
        assert_eq!(std::mem::size_of::<EndpointRow>(), 48);
    }

    #[test]
    fn conversations_count_both_directions_and_sort_by_frames() {
        let f = fields();
        let mut c = Conversations::new(Kind::Tcp, &f.reg, None);
        let mut t = FieldTable::new();
        let (a, b, x) = ([10, 0, 0, 1], [10, 0, 0, 2], [192, 168, 1, 1]);
        packet(&f, &mut t, x, b, 1000, 53, 0);
        c.frame(&frame(60, 0), &[], &t);
        packet(&f, &mut t, a, b, 40000, 80, 1);
        c.frame(&frame(7000, 1_000_000_000), &[], &t);
        packet(&f, &mut t, b, a, 80, 40000, 1);
        c.frame(&frame(5000, 2_500_000_000), &[], &t);
        let out = text(&c);
        let rows: Vec<&str> = out.lines().skip(5).collect();
        assert_eq!(
            rows.first().copied(),
            Some("10.0.0.1:40000             <-> 10.0.0.2:80                      1 5000 bytes       1 7000 bytes       2 12 kB         1.000000000         1.5000")
        );
        assert_eq!(
            rows.get(1).copied(),
            Some("192.168.1.1:1000           <-> 10.0.0.2:53                      0 0 bytes         1 60 bytes        1 60 bytes      0.000000000         0.0000")
        );
        assert!(out.starts_with("================================================================================\nTCP Conversations\nFilter:<No Filter>\n"));
    }

    #[test]
    fn endpoints_count_sent_and_received() {
        let f = fields();
        let mut e = Endpoints::new(Kind::Ip, &f.reg, Some("tcp".into()));
        let mut t = FieldTable::new();
        packet(&f, &mut t, [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0);
        e.frame(&frame(100, 0), &[], &t);
        e.frame(&frame(50, 0), &[], &t);
        let out = text(&e);
        assert!(out.contains("IPv4 Endpoints\nFilter:tcp\n"));
        assert!(out.contains(
            "1.1.1.1                        2           150          2             150           0               0   \n"
        ));
        assert!(out.contains(
            "2.2.2.2                        2           150          0               0           2             150   \n"
        ));
    }

    #[test]
    fn truncated_tcp_headers_do_not_count() {
        let mut f = fields();
        let hdr_len = f
            .reg
            .add(FieldDef::new("tcp.hdr_len", "h", FieldType::U8, Base::Dec));
        let mut c = Conversations::new(Kind::Tcp, &f.reg, None);
        let mut t = FieldTable::new();
        packet(&f, &mut t, [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0);
        t.push_u(hdr_len, 60u8);
        // 20 bytes of IP, then only 30 of a 60-byte TCP header.
        c.frame(&frame(50, 0), &[], &t);
        assert_eq!(text(&c).lines().count(), 6);
        let mut full = frame(50, 0);
        full.cap_len = 80;
        c.frame(&full, &[], &t);
        assert_eq!(text(&c).lines().count(), 7);
    }
}
