//! Dissectors and how they find each other.
//!
//! A dissector is registered once under its protocol's name; it attaches to
//! its parents through named handoff tables (`ethertype`, `ip.proto`,
//! `tcp.port`, ...) and heuristic lists, as Wireshark's `proto_reg_handoff`
//! does, and never calls its children directly.
//!
//! Dissectors are shared (`&self`) so a protocol can nest in itself (IP in
//! IP, VLAN in VLAN); one that keeps state holds it in a `RefCell` and lets go
//! of it before handing bytes on. Each worker thread builds its own set.

use crate::hash::HashMap;
use std::cell::Cell;
use std::rc::Rc;

use crate::columns::Columns;
pub use crate::events::Address;
use crate::events::Transport;
use crate::fields::{FieldId, Registry};
use crate::table::{FieldTable, Timestamp};

pub type DissectorId = usize;

/// What a dissector made of the bytes it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The bytes were this protocol; this many were consumed.
    Done(usize),
    /// Not this protocol (a heuristic said no): the caller tries the next one.
    Rejected,
    /// Over TCP: a PDU starts at `offset` and needs `more` bytes beyond the
    /// data given (`None`: at least one more segment). TCP reassembles and
    /// calls again with the whole PDU.
    NeedMore { offset: usize, more: Option<usize> },
}

pub trait Dissector {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome;

    /// A transport stream ended (TCP: FIN both ways, or RST): state kept
    /// for it may go. Called on the dissectors that asked with
    /// [`Dissectors::watch_stream_ends`]; nothing more will come on the
    /// stream but stray retransmissions.
    fn stream_ended(&self, _stream: &Transport) {}
}

/// One record of the capture as the dissectors see it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Frame {
    /// 1-based.
    pub number: u32,
    pub ts: Timestamp,
    pub len: u32,
    pub cap_len: u32,
    pub linktype: u32,
    pub interface_id: u32,
    /// Digits of the record's time resolution as wiretap rounds it (0, 1,
    /// 2, 3, 6 or 9): how many the text view prints; `None`: microseconds.
    pub ts_digits: Option<u8>,
    /// Nanoseconds since the first frame.
    pub rel_nanos: i64,
    /// Nanoseconds since the previous captured frame.
    pub delta_nanos: i64,
    /// Nanoseconds since the previous displayed frame.
    pub delta_displayed_nanos: i64,
    /// Second pass of `-2`: the state of every earlier frame is known.
    pub visited: bool,
}

/// Facts learnt about a frame from later frames (`http.response_in`), kept
/// from the first pass of `-2` for the second: keyed by frame number and a
/// field of the dissector's choosing.
#[derive(Default)]
pub struct Notes {
    map: HashMap<(u32, FieldId), u64>,
    /// Nothing will read the notes (one pass): drop them instead of
    /// keeping one entry per reassembled segment for the whole capture.
    discard: bool,
}

/// Cap on remembered facts; past it, later ones are dropped.
const NOTES_CAP: usize = 4 << 20;

impl Notes {
    /// Notes that are never read back: dissectors only read them on a
    /// frame's second visit (`-2`), which a single pass never makes.
    pub fn discarding() -> Self {
        Notes {
            discard: true,
            ..Notes::default()
        }
    }

    pub fn set(&mut self, frame: u32, field: FieldId, value: u64) {
        if !self.discard && self.map.len() < NOTES_CAP {
            self.map.insert((frame, field), value);
        }
    }

    /// Whether frames will be visited again (`-2`), so that what a
    /// dissector keeps only for that visit is worth keeping.
    pub fn kept(&self) -> bool {
        !self.discard
    }

    pub fn get(&self, frame: u32, field: FieldId) -> Option<u64> {
        self.map.get(&(frame, field)).copied()
    }
}

/// Identifies the tables a dissector can attach to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableId(usize);

#[derive(Default)]
struct Table {
    name: &'static str,
    by_key: HashMap<u32, DissectorId>,
    heuristics: Vec<DissectorId>,
    /// Recent answers of `by_key`, misses included, by the key's low bits:
    /// the same few keys (ethertype 0x0800, IP protocols 6 and 17, a link
    /// type) come back frame after frame. Emptied when a key is added.
    recent: [Cell<Option<KeyAnswer>>; RECENT_KEYS],
}

/// A key of a table and the dissector registered under it, if any.
type KeyAnswer = (u32, Option<DissectorId>);

/// Slots of [`Table::recent`].
const RECENT_KEYS: usize = 8;

impl Table {
    #[inline]
    fn get(&self, key: u32) -> Option<DissectorId> {
        let slot = self.recent.get(key as usize % RECENT_KEYS);
        if let Some((k, id)) = slot.and_then(Cell::get) {
            if k == key {
                return id;
            }
        }
        let id = self.by_key.get(&key).copied();
        if let Some(slot) = slot {
            slot.set(Some((key, id)));
        }
        id
    }

    fn insert(&mut self, key: u32, id: DissectorId) {
        self.by_key.insert(key, id);
        for slot in &self.recent {
            slot.set(None);
        }
    }
}

/// Every registered dissector, its name and the handoff tables.
#[derive(Default)]
pub struct Dissectors {
    list: Vec<Rc<dyn Dissector>>,
    h: Handoff,
}

/// Dissectors told of ended streams, at most (each asks once).
const MAX_WATCHERS: usize = 64;

/// Names and handoff tables: what [`Cx`] may change while the list of
/// dissectors it calls into stays borrowed (so a call needs no `Rc` clone).
struct Handoff {
    names: HashMap<&'static str, DissectorId>,
    tables: Vec<Table>,
    /// Told of ended streams ([`Dissectors::watch_stream_ends`]).
    watchers: Vec<DissectorId>,
    /// Names found before, by the address of the caller's string: a name
    /// only goes in when the caller passed the registered `'static` string
    /// itself (same address and length, so same bytes, forever), which
    /// the literals of one binary usually are. Spares the per-frame hash
    /// and compare of `call_by_name("frame")`, `call_by_name("data")`.
    recent: [Cell<Option<(&'static str, DissectorId)>>; RECENT],
    /// Tables found before, by the address of the caller's `'static` name.
    recent_tables: [Option<(&'static str, TableId)>; RECENT],
}

impl Default for Handoff {
    fn default() -> Self {
        Handoff {
            names: HashMap::default(),
            tables: Vec::new(),
            watchers: Vec::new(),
            recent: std::array::from_fn(|_| Cell::new(None)),
            recent_tables: [None; RECENT],
        }
    }
}

/// Slots of [`Handoff::recent`] (a power of two): enough that the dozen
/// names and tables looked up on every frame rarely share one.
const RECENT: usize = 64;

/// Whether two strings are the same string in memory (not just equal).
fn same_str(a: &str, b: &str) -> bool {
    std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len()
}

fn recent_slot(name: &str) -> usize {
    // Fibonacci hashing of the address: its top bits pick the slot.
    let p = (name.as_ptr() as u64) ^ (name.len() as u64);
    (p.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - RECENT.trailing_zeros())) as usize
}

impl Dissectors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, name: &'static str, d: Rc<dyn Dissector>) -> DissectorId {
        let id = self.list.len();
        self.list.push(d);
        self.h.names.insert(name, id);
        id
    }

    pub fn find(&self, name: &str) -> Option<DissectorId> {
        self.h.find(name)
    }

    /// The table of this name, created on first use.
    pub fn table(&mut self, name: &'static str) -> TableId {
        self.h.table(name)
    }

    pub fn add(&mut self, table: &'static str, key: u32, id: DissectorId) {
        let t = self.h.table(table);
        if let Some(t) = self.h.tables.get_mut(t.0) {
            t.insert(key, id);
        }
    }

    pub fn add_heuristic(&mut self, table: &'static str, id: DissectorId) {
        let t = self.h.table(table);
        if let Some(t) = self.h.tables.get_mut(t.0) {
            t.heuristics.push(id);
        }
    }

    pub fn lookup(&self, table: TableId, key: u32) -> Option<DissectorId> {
        self.h.lookup(table, key)
    }

    /// Has [`Dissector::stream_ended`] of `id` called when a stream ends.
    pub fn watch_stream_ends(&mut self, id: DissectorId) {
        if !self.h.watchers.contains(&id) && self.h.watchers.len() < MAX_WATCHERS {
            self.h.watchers.push(id);
        }
    }
}

impl Handoff {
    #[inline]
    fn find(&self, name: &str) -> Option<DissectorId> {
        let slot = self.recent.get(recent_slot(name));
        if let Some((known, id)) = slot.and_then(Cell::get) {
            if same_str(known, name) {
                return Some(id);
            }
        }
        self.find_slow(name, slot)
    }

    #[cold]
    #[inline(never)]
    fn find_slow(
        &self,
        name: &str,
        slot: Option<&Cell<Option<(&'static str, DissectorId)>>>,
    ) -> Option<DissectorId> {
        let (&known, &id) = self.names.get_key_value(name)?;
        if let Some(slot) = slot {
            if same_str(known, name) {
                slot.set(Some((known, id)));
            }
        }
        Some(id)
    }

    #[inline]
    fn table(&mut self, name: &'static str) -> TableId {
        // Dissectors look their tables up on every frame: remember the
        // answer by the address of the caller's literal, which, being
        // 'static, always holds the same bytes.
        let slot = recent_slot(name);
        if let Some(Some((known, id))) = self.recent_tables.get(slot) {
            if same_str(known, name) {
                return *id;
            }
        }
        self.table_slow(name, slot)
    }

    #[cold]
    #[inline(never)]
    fn table_slow(&mut self, name: &'static str, slot: usize) -> TableId {
        let id = match self.tables.iter().position(|t| t.name == name) {
            Some(i) => TableId(i),
            None => {
                self.tables.push(Table {
                    name,
                    ..Table::default()
                });
                TableId(self.tables.len() - 1)
            }
        };
        if let Some(s) = self.recent_tables.get_mut(slot) {
            *s = Some((name, id));
        }
        id
    }

    fn lookup(&self, table: TableId, key: u32) -> Option<DissectorId> {
        self.tables.get(table.0)?.get(key)
    }

    fn heuristics(&self, table: TableId) -> &[DissectorId] {
        self.tables
            .get(table.0)
            .map(|t| t.heuristics.as_slice())
            .unwrap_or_default()
    }
}

/// How deep dissectors may call each other (tunnels within tunnels).
const MAX_DEPTH: u32 = 64;

/// The state of one frame's dissection, handed down the chain.
pub struct Cx<'a> {
    pub frame: &'a Frame,
    pub t: &'a mut FieldTable,
    pub reg: &'a Registry,
    /// The dissectors, borrowed apart from the tables so that a call can
    /// hold one while the callee changes the rest of `Cx`.
    list: &'a [Rc<dyn Dissector>],
    ds: &'a mut Handoff,
    /// Forward references; filled in the first pass of `-2`, read in the second.
    pub notes: &'a mut Notes,
    depth: u32,
    /// Network-layer source and destination of the innermost IP header.
    pub src: Address,
    pub dst: Address,
    /// TTL or hop limit of the innermost IP header.
    pub hop_limit: Option<u8>,
    /// Transport ports of the innermost TCP or UDP header.
    pub srcport: u16,
    pub dstport: u16,
    /// Set by TCP for the payload it hands on.
    pub tcp: Option<TcpPayloadInfo>,
    /// The payload is the first fragment of a datagram that was not
    /// reassembled, so its length is unknown (Wireshark's `pinfo->fragmented`).
    pub fragmented: bool,
    /// Dissecting the datagram quoted by an ICMP error (Wireshark's
    /// `pinfo->flags.in_error_pkt`): running past its reported length is
    /// no error there, since the quote is cut short on purpose.
    pub in_error: bool,
    /// Length on the wire of the bytes the running dissector was given; more
    /// than their count when the capture cut the frame short (snaplen).
    pub reported: usize,
    /// Bytes the running dissector was given (`reported` minus this is what
    /// the capture cut off, which its payload is missing too).
    captured: usize,
    next_reported: Option<usize>,
    /// The summary columns, when a sink prints them (the text view); `None`
    /// costs the other runs nothing. Reach them through [`Cx::cols`].
    columns: Option<&'a mut Columns>,
}

/// What TCP tells the application dissector about the bytes it passes.
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpPayloadInfo {
    pub stream: u32,
    /// 0 for the direction of the first segment seen, 1 for the other.
    pub direction: u8,
    /// Relative sequence number of the first byte handed on.
    pub seq: u32,
    /// Whether the bytes were reassembled from several segments.
    pub reassembled: bool,
    /// Whether TCP honours [`Outcome::NeedMore`] for these bytes (not for a
    /// frame cut short by the snaplen, nor for the flush at a FIN).
    pub can_desegment: bool,
}

impl<'a> Cx<'a> {
    pub fn new(
        frame: &'a Frame,
        t: &'a mut FieldTable,
        reg: &'a Registry,
        ds: &'a mut Dissectors,
        notes: &'a mut Notes,
    ) -> Self {
        let Dissectors { list, h } = ds;
        Cx {
            frame,
            t,
            reg,
            list,
            ds: h,
            notes,
            depth: 0,
            src: Address::None,
            dst: Address::None,
            hop_limit: None,
            srcport: 0,
            dstport: 0,
            tcp: None,
            fragmented: false,
            in_error: false,
            reported: frame.len as usize,
            captured: frame.cap_len as usize,
            next_reported: Some(frame.len as usize),
            columns: None,
        }
    }

    /// Has the dissectors fill `cols` too.
    pub fn with_columns(mut self, cols: Option<&'a mut Columns>) -> Self {
        self.columns = cols;
        self
    }

    /// The summary columns, if this run shows them.
    #[inline]
    pub fn cols(&mut self) -> Option<&mut Columns> {
        self.columns.as_deref_mut()
    }

    /// Sets the reported length of the bytes handed to the next call; by
    /// default it is their count plus what the capture cut off the caller's.
    pub fn set_next_reported(&mut self, reported: usize) {
        self.next_reported = Some(reported);
    }

    pub fn table(&mut self, name: &'static str) -> TableId {
        self.ds.table(name)
    }

    pub fn lookup(&self, table: TableId, key: u32) -> Option<DissectorId> {
        self.ds.lookup(table, key)
    }

    /// Calls one dissector; nesting deeper than [`MAX_DEPTH`] is rejected.
    pub fn call(&mut self, id: DissectorId, data: &[u8]) -> Outcome {
        if self.depth >= MAX_DEPTH {
            return Outcome::Rejected;
        }
        let list = self.list;
        let Some(d) = list.get(id) else {
            return Outcome::Rejected;
        };
        let saved = (self.reported, self.captured);
        let missing = self.reported.saturating_sub(self.captured);
        self.reported = self
            .next_reported
            .take()
            .unwrap_or(data.len().saturating_add(missing))
            .max(data.len());
        self.captured = data.len();
        self.depth += 1;
        let out = d.dissect(self, data);
        self.depth -= 1;
        (self.reported, self.captured) = saved;
        out
    }

    /// Tells the dissectors that watch for it that `stream` ended.
    pub fn end_stream(&self, stream: &Transport) {
        for &id in &self.ds.watchers {
            if let Some(d) = self.list.get(id) {
                d.stream_ended(stream);
            }
        }
    }

    /// Calls the dissector registered under `key` in `table`, if any.
    pub fn call_table(&mut self, table: TableId, key: u32, data: &[u8]) -> Option<Outcome> {
        let id = self.ds.lookup(table, key)?;
        Some(self.call(id, data))
    }

    /// Tries the heuristic dissectors of `table` in order; the first that
    /// does not reject wins.
    pub fn try_heuristics(&mut self, table: TableId, data: &[u8]) -> Option<Outcome> {
        let n = self.ds.heuristics(table).len();
        for i in 0..n {
            let Some(&id) = self.ds.heuristics(table).get(i) else {
                break;
            };
            let out = self.call(id, data);
            if out != Outcome::Rejected {
                return Some(out);
            }
        }
        None
    }

    /// Records the exception Wireshark throws when the running dissector
    /// reads up to byte `end` of its data and the capture holds fewer: a
    /// read within the reported length is `_ws.short` (the snaplen cut it),
    /// past it `_ws.malformed`. The item sits at the top level of the tree
    /// (where `show_exception` puts it) and names the protocol by its short
    /// name `proto`. Inside an ICMP error's quote a malformed read is
    /// swallowed (`call_dissector_work_error`). The caller stops dissecting.
    pub fn bounds_error(&mut self, end: usize, proto: &str) {
        let short = end <= self.reported;
        if !short && self.in_error {
            return;
        }
        let (abbrev, label) = if short {
            (
                "_ws.short",
                format!("[Packet size limited during capture: {proto} truncated]"),
            )
        } else {
            ("_ws.malformed", format!("[Malformed Packet: {proto}]"))
        };
        if let Some(id) = self.reg.lookup(abbrev) {
            let entry = self.t.push_proto(id, &[]);
            self.t.set_label(entry, &label);
            if !short {
                // Its expert info is of the malformed group.
                self.malformed_expert();
            }
        }
        self.t.add_tree_item(abbrev);
        // `show_exception`: Info says so, even where the columns were
        // frozen (an ICMP error's quote).
        if let Some(c) = self.cols() {
            c.thaw();
            c.append_info(if short {
                "[Packet size limited during capture]"
            } else {
                "[Malformed Packet]"
            });
        }
    }

    /// Adds the hidden `_ws.malformed` item an expert info of the malformed
    /// group brings where it is raised, with no text (so `-e` prints the
    /// abbreviation).
    pub fn malformed_expert(&mut self) {
        if let Some(id) = self.reg.lookup("_ws.malformed") {
            let hidden = self.t.push_proto(id, &[]);
            self.t.set_label(hidden, "_ws.malformed");
        }
    }

    /// Calls a dissector by protocol name.
    pub fn call_by_name(&mut self, name: &str, data: &[u8]) -> Option<Outcome> {
        let id = self.ds.find(name)?;
        Some(self.call(id, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{Base, FieldDef, FieldType};

    struct Echo(crate::fields::FieldId);
    impl Dissector for Echo {
        fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
            cx.t.push_u(self.0, data.len() as u64);
            let t = cx.table("echo.next");
            if let Some(&k) = data.first() {
                if let Some(o) = cx.call_table(t, u32::from(k), data.get(1..).unwrap_or(&[])) {
                    return o;
                }
            }
            Outcome::Done(data.len())
        }
    }

    #[test]
    fn table_answers_follow_later_additions() {
        let mut reg = Registry::new();
        let f = reg.add(FieldDef::new("echo.len", "Len", FieldType::U32, Base::Dec));
        let mut ds = Dissectors::new();
        let a = ds.register("a", Rc::new(Echo(f)));
        let b = ds.register("b", Rc::new(Echo(f)));
        let t = ds.table("demo.port");
        assert_eq!(ds.lookup(t, 80), None);
        ds.add("demo.port", 80, a);
        assert_eq!(ds.lookup(t, 80), Some(a));
        assert_eq!(ds.lookup(t, 88), None);
        ds.add("demo.port", 80, b);
        assert_eq!(ds.lookup(t, 80), Some(b));
        assert_eq!(ds.lookup(t, 88), None);
        assert_eq!(ds.find("b"), Some(b));
        assert_eq!(ds.find(&String::from("a")), Some(a));
        assert_eq!(ds.find("nope"), None);
    }

    #[test]
    fn nesting_is_allowed_up_to_the_cap() {
        let mut reg = Registry::new();
        let f = reg.add(FieldDef::new("echo.len", "Len", FieldType::U32, Base::Dec));
        let mut ds = Dissectors::new();
        let id = ds.register("echo", Rc::new(Echo(f)));
        ds.add("echo.next", 7, id);
        let frame = Frame::default();
        let mut t = FieldTable::new();
        let mut notes = Notes::default();
        let mut cx = Cx::new(&frame, &mut t, &reg, &mut ds, &mut notes);
        // 7 dispatches to echo itself: three levels, then the data runs out.
        assert_eq!(cx.call(id, &[7, 7, 1]), Outcome::Done(1));
        assert_eq!(t.values(f).count(), 3);
        // An endless chain stops at the depth cap.
        let deep = vec![7u8; 1000];
        let mut cx = Cx::new(&frame, &mut t, &reg, &mut ds, &mut notes);
        assert_eq!(cx.call(id, &deep), Outcome::Rejected);
    }
}
