//! The per-frame field table: what the dissectors found, in tree order.
//!
//! The table is reused from frame to frame, so after the first few frames
//! dissecting allocates nothing. String and byte values are copied into the
//! table's arena, which keeps the table independent of the buffers the
//! dissectors read from (frame data, reassembled streams, decompressed bodies).

use crate::events::{Credential, Transport};
use crate::fields::FieldId;

/// An absolute time: seconds and nanoseconds since the Unix epoch. The
/// nanoseconds are signed and not normalised, as in wiretap's `nstime_t`, so
/// that damaged captures print as tshark prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: i32,
}

impl Timestamp {
    pub fn new(secs: i64, nanos: i32) -> Self {
        Timestamp { secs, nanos }
    }

    pub fn as_nanos(self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// `self - earlier` in nanoseconds, saturating at the i64 range.
    pub fn nanos_since(self, earlier: Timestamp) -> i64 {
        let d = self.as_nanos() - earlier.as_nanos();
        i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
    }
}

/// A range of the table's arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

/// One value of one field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// A field of type FT_NONE: present, no value.
    None,
    /// A protocol: its bytes, and its summary label when the dissector gave one.
    Proto {
        bytes: Span,
        label: Option<Span>,
    },
    Bool(bool),
    U(u64),
    I(i64),
    F(f64),
    AbsTime(Timestamp),
    /// A duration in nanoseconds.
    RelTime(i64),
    Str(Span),
    Bytes(Span),
    Ether([u8; 6]),
    Ipv4([u8; 4]),
    Ipv6([u8; 16]),
}

/// The smallest range of field ids holding a set of fields (for
/// [`FieldTable::wants_any`]); it may hold other fields too, which only
/// makes the answer a cautious yes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdSpan {
    lo: u32,
    hi: u32,
}

impl IdSpan {
    pub fn of(ids: &[FieldId]) -> Self {
        let lo = ids.iter().map(|i| i.0).min().unwrap_or(0);
        let hi = ids.iter().map(|i| i.0).max().unwrap_or(0);
        IdSpan { lo, hi }
    }
}

/// One entry of the table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry {
    pub field: FieldId,
    pub value: Value,
}

/// Upper bound on the arena of one frame; a frame that would need more keeps
/// what fits (a frame of 256 KiB with every byte copied twice still fits).
const ARENA_CAP: usize = 64 << 20;
/// Upper bound on the entries of one frame.
const ENTRIES_CAP: usize = 1 << 20;

/// The fields of the frame being dissected.
#[derive(Default)]
pub struct FieldTable {
    entries: Vec<Entry>,
    arena: Vec<u8>,
    /// Indexed by field id; empty means every field is wanted.
    wanted: Vec<bool>,
    /// `wanted_before[i]`: how many of the fields below id `i` are wanted
    /// (one more entry than `wanted`), for [`FieldTable::wants_any`].
    wanted_before: Vec<u32>,
    /// Protocol layers in order, as `frame.protocols` lists them.
    layers: Vec<&'static str>,
    /// Top-level items of the protocol tree, in tree order (`-z io,phs`).
    tree: Vec<&'static str>,
    /// Credentials the dissectors queued for `-z credentials`.
    credentials: Vec<Credential>,
    /// The transport conversation of the frame's payload, if any.
    transport: Option<Transport>,
    /// Whether layers now added sit inside their caller's tree item.
    nested: bool,
    /// Nothing beyond the frame dissector's own fields is wanted and no
    /// dissection side effect (taps, exported objects) is needed.
    frame_only: bool,
    /// Index fields (`tcp.stream`) that got a new value in this frame.
    new_indices: Vec<FieldId>,
    /// No protocol item's label will be read (the run prints no protocol
    /// field; filters and taps read their bytes): [`FieldTable::set_label`]
    /// keeps nothing, and dissectors need not build labels.
    skip_labels: bool,
}

/// Cap on the layers and top-level tree items of one frame.
const LAYERS_CAP: usize = 256;
/// Cap on the credentials one frame queues.
const CREDENTIALS_CAP: usize = 64;

impl FieldTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Restricts the table to the given fields; others are dropped on push.
    pub fn set_wanted(&mut self, wanted: Vec<bool>) {
        let mut before = Vec::with_capacity(wanted.len().saturating_add(1));
        let mut n = 0u32;
        before.push(n);
        for &w in &wanted {
            n = n.saturating_add(u32::from(w));
            before.push(n);
        }
        self.wanted = wanted;
        self.wanted_before = before;
    }

    pub fn want_all(&mut self) {
        self.wanted.clear();
        self.wanted_before.clear();
        self.frame_only = false;
    }

    /// Whether any field of the span is wanted: a dissector with a run of
    /// pushes of such fields can skip the run when none is (each push would
    /// check and drop its value anyway).
    #[inline]
    pub fn wants_any(&self, span: IdSpan) -> bool {
        if self.wanted.is_empty() {
            return true;
        }
        // Ids past the table are not wanted (as in `wants`).
        let last = self.wanted_before.len().saturating_sub(1);
        let lo = (span.lo as usize).min(last);
        let hi = (span.hi as usize).saturating_add(1).min(last);
        match (self.wanted_before.get(lo), self.wanted_before.get(hi)) {
            (Some(lo), Some(hi)) => hi > lo,
            _ => false,
        }
    }

    /// Whether no field at all is wanted (the default view without a
    /// filter): a dissector may then skip work that only fills fields.
    pub fn wants_none(&self) -> bool {
        !self.wanted.is_empty() && self.wanted_before.last() == Some(&0)
    }

    /// Lets the frame dissector stop before the link layer.
    pub fn set_frame_only(&mut self, on: bool) {
        self.frame_only = on;
    }

    #[inline]
    pub fn frame_only(&self) -> bool {
        self.frame_only
    }

    /// Whether anybody asked for this field (dissectors skip costly work otherwise).
    #[inline]
    pub fn wants(&self, id: FieldId) -> bool {
        self.wanted.is_empty() || self.wanted.get(id.index()).copied().unwrap_or(false)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.arena.clear();
        self.layers.clear();
        self.tree.clear();
        self.credentials.clear();
        self.transport = None;
        self.new_indices.clear();
        self.nested = false;
    }

    /// Records that this frame started a new value of an index field
    /// numbered in order of first appearance (`tcp.stream`): under `-j`
    /// each worker numbers its own flows and these notes let the merge
    /// renumber them as one thread would have.
    pub fn note_new_index(&mut self, field: FieldId) {
        if self.new_indices.len() < LAYERS_CAP {
            self.new_indices.push(field);
        }
    }

    pub fn new_indices(&self) -> &[FieldId] {
        &self.new_indices
    }

    /// The bytes the entries' spans point into.
    pub fn arena(&self) -> &[u8] {
        &self.arena
    }

    /// Replaces the entries and their bytes with another table's (the
    /// merge under `-j` rebuilds each worker's frames this way).
    pub fn load(&mut self, entries: &[Entry], arena: &[u8]) {
        self.clear();
        self.entries.extend_from_slice(entries);
        self.arena.extend_from_slice(arena);
    }

    pub fn entries_mut(&mut self) -> &mut [Entry] {
        &mut self.entries
    }

    #[inline]
    pub fn push(&mut self, field: FieldId, value: Value) {
        if self.wants(field) && self.entries.len() < ENTRIES_CAP {
            self.entries.push(Entry { field, value });
        }
    }

    pub fn push_u(&mut self, field: FieldId, v: impl Into<u64>) {
        self.push(field, Value::U(v.into()));
    }

    pub fn push_bool(&mut self, field: FieldId, v: bool) {
        self.push(field, Value::Bool(v));
    }

    /// Copies `bytes` into the arena; returns an empty span when full.
    pub fn store(&mut self, bytes: &[u8]) -> Span {
        let start = self.arena.len();
        if start.saturating_add(bytes.len()) > ARENA_CAP {
            return Span { start: 0, len: 0 };
        }
        self.arena.extend_from_slice(bytes);
        Span {
            start: u32::try_from(start).unwrap_or(0),
            len: u32::try_from(bytes.len()).unwrap_or(0),
        }
    }

    pub fn push_str(&mut self, field: FieldId, s: &[u8]) {
        if self.wants(field) {
            let span = self.store(s);
            self.push(field, Value::Str(span));
        }
    }

    pub fn push_bytes(&mut self, field: FieldId, b: &[u8]) {
        if self.wants(field) {
            let span = self.store(b);
            self.push(field, Value::Bytes(span));
        }
    }

    /// Pushes a protocol entry and returns its index, so the dissector can
    /// attach a label once it knows it (see [`FieldTable::set_label`]).
    pub fn push_proto(&mut self, field: FieldId, bytes: &[u8]) -> Option<usize> {
        if !self.wants(field) {
            return None;
        }
        let span = self.store(bytes);
        self.push(
            field,
            Value::Proto {
                bytes: span,
                label: None,
            },
        );
        Some(self.entries.len().saturating_sub(1))
    }

    /// Whether the label of `entry` (from [`FieldTable::push_proto`]) is
    /// kept: build it only then (formatting labels nobody prints was a
    /// sixth of a `-z conv,tcp` run).
    #[inline]
    pub fn wants_label(&self, entry: Option<usize>) -> bool {
        entry.is_some() && !self.skip_labels
    }

    /// Labels are read only if `on` (see [`FieldTable::wants_label`]).
    pub fn set_labels(&mut self, on: bool) {
        self.skip_labels = !on;
    }

    pub fn set_label(&mut self, entry: Option<usize>, label: &str) {
        let Some(i) = entry.filter(|_| !self.skip_labels) else {
            return;
        };
        let span = self.store(label.as_bytes());
        if let Some(Entry {
            value: Value::Proto { label: l, .. },
            ..
        }) = self.entries.get_mut(i)
        {
            *l = Some(span);
        }
    }

    /// Appends a layer name to the protocol stack (`frame.protocols`) whose
    /// tree item is at the top level of the protocol tree, as most are.
    /// Inside [`FieldTable::nest`], the layer is nested instead.
    pub fn add_layer(&mut self, name: &'static str) {
        self.add_nested_layer(name);
        if !self.nested {
            self.add_tree_item(name);
        }
    }

    /// Sets whether the layers added from now on sit inside the caller's
    /// tree item (tshark's `call_dissector(handle, tvb, pinfo, my_tree)`)
    /// rather than at the top level; returns the previous setting, for the
    /// caller to restore.
    pub fn nest(&mut self, nested: bool) -> bool {
        std::mem::replace(&mut self.nested, nested)
    }

    /// Appends a layer to the protocol stack that has no top-level tree
    /// item: its item sits inside its parent's (`data` under `icmp`), or it
    /// has none (`ethertype`).
    pub fn add_nested_layer(&mut self, name: &'static str) {
        if self.layers.len() < LAYERS_CAP {
            self.layers.push(name);
        }
    }

    /// Appends a top-level tree item that is no layer of the stack
    /// (`tcp.segments`, `_ws.malformed`, `_ws.short`).
    pub fn add_tree_item(&mut self, name: &'static str) {
        if self.tree.len() < LAYERS_CAP {
            self.tree.push(name);
        }
    }

    /// Inserts a top-level tree item before the `at`-th one (at the end if
    /// there are fewer).
    pub fn insert_tree_item(&mut self, at: usize, name: &'static str) {
        if self.tree.len() < LAYERS_CAP {
            let at = at.min(self.tree.len());
            self.tree.insert(at, name);
        }
    }

    pub fn layers(&self) -> &[&'static str] {
        &self.layers
    }

    /// The top-level items of the protocol tree, by abbreviation, in order.
    pub fn tree_items(&self) -> &[&'static str] {
        &self.tree
    }

    /// Queues a credential for `-z credentials`.
    pub fn add_credential(&mut self, c: Credential) {
        if self.credentials.len() < CREDENTIALS_CAP {
            self.credentials.push(c);
        }
    }

    pub fn credentials(&self) -> &[Credential] {
        &self.credentials
    }

    /// Records the transport conversation; the last one set (the
    /// innermost transport) is the frame's.
    pub fn set_transport(&mut self, tr: Transport) {
        self.transport = Some(tr);
    }

    pub fn transport(&self) -> Option<&Transport> {
        self.transport.as_ref()
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The values of one field, in tree order.
    pub fn values(&self, field: FieldId) -> impl Iterator<Item = &Value> + '_ {
        self.entries
            .iter()
            .filter(move |e| e.field == field)
            .map(|e| &e.value)
    }

    pub fn first(&self, field: FieldId) -> Option<&Value> {
        self.values(field).next()
    }

    /// The first value of a string field, as bytes.
    pub fn first_str(&self, field: FieldId) -> Option<&[u8]> {
        match self.first(field)? {
            Value::Str(s) => Some(self.bytes(*s)),
            _ => None,
        }
    }

    /// The first value of an unsigned integer field.
    pub fn first_u(&self, field: FieldId) -> Option<u64> {
        match self.first(field)? {
            Value::U(v) => Some(*v),
            _ => None,
        }
    }

    pub fn has(&self, field: FieldId) -> bool {
        self.entries.iter().any(|e| e.field == field)
    }

    /// The bytes behind a span of this table's arena.
    pub fn bytes(&self, span: Span) -> &[u8] {
        let start = span.start as usize;
        let end = start.saturating_add(span.len as usize);
        self.arena.get(start..end).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwanted_fields_are_dropped() {
        let mut t = FieldTable::new();
        t.set_wanted(vec![false, true]);
        t.push_u(FieldId(0), 5u8);
        t.push_u(FieldId(1), 6u8);
        t.push_str(FieldId(0), b"nope");
        assert_eq!(t.entries().len(), 1);
        assert_eq!(t.first(FieldId(1)), Some(&Value::U(6)));
        assert!(!t.has(FieldId(0)));
    }

    #[test]
    fn wants_any_answers_for_a_span() {
        let mut t = FieldTable::new();
        let span = IdSpan::of(&[FieldId(2), FieldId(4)]);
        assert!(t.wants_any(span));
        t.set_wanted(vec![true, false, false, false, false, true]);
        assert!(!t.wants_any(span));
        assert!(t.wants_any(IdSpan::of(&[FieldId(4), FieldId(5)])));
        assert!(t.wants_any(IdSpan::of(&[FieldId(0)])));
        t.set_wanted(vec![false, false, false, true]);
        assert!(t.wants_any(span));
        assert!(!t.wants_any(IdSpan::of(&[FieldId(7), FieldId(9)])));
        t.want_all();
        assert!(t.wants_any(span));
    }

    #[test]
    fn strings_live_in_the_arena_until_clear() {
        let mut t = FieldTable::new();
        t.push_str(FieldId(3), b"hello");
        let Some(Value::Str(s)) = t.first(FieldId(3)).copied() else {
            panic!("no string")
        };
        assert_eq!(t.bytes(s), b"hello");
        t.clear();
        assert!(t.entries().is_empty());
        assert_eq!(t.bytes(s), b"");
    }

    #[test]
    fn proto_labels_attach_after_the_fact() {
        let mut t = FieldTable::new();
        let e = t.push_proto(FieldId(0), &[1, 2, 3]);
        t.set_label(e, "Demo, Src: 1");
        match t.first(FieldId(0)) {
            Some(Value::Proto {
                bytes,
                label: Some(l),
            }) => {
                assert_eq!(t.bytes(*bytes), &[1, 2, 3]);
                assert_eq!(t.bytes(*l), b"Demo, Src: 1");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_run_that_prints_no_protocol_keeps_no_labels() {
        let mut t = FieldTable::new();
        t.set_labels(false);
        let e = t.push_proto(FieldId(0), &[1, 2, 3]);
        assert!(!t.wants_label(e));
        t.set_label(e, "Demo, Src: 1");
        assert!(matches!(
            t.first(FieldId(0)),
            Some(Value::Proto { label: None, .. })
        ));
        t.set_labels(true);
        assert!(t.wants_label(e) && !t.wants_label(None));
    }

    #[test]
    fn nanos_since_handles_borrow() {
        let a = Timestamp::new(10, 100);
        let b = Timestamp::new(9, 999_999_900);
        assert_eq!(a.nanos_since(b), 200);
        assert_eq!(b.nanos_since(a), -200);
    }
}
