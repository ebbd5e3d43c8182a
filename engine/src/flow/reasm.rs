//! Multi-segment PDUs of one TCP direction and the desegmentation loop.

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::{seq_le, seq_lt, UNTIL_FIN};
use crate::dissect::Outcome;

/// Largest PDU reassembled; a larger one is given up.
pub const MAX_PDU: usize = 64 << 20;
/// Wireshark does not open a PDU that starts more than this before the end
/// of the segment that asks for it.
const MAX_OPEN_SPAN: u32 = 1 << 20;
/// How far ahead "until the end of the connection" reaches.
const UNTIL_FIN_SPAN: u32 = 0x4000_0000;
/// Largest `more` honoured; keeps sequence comparisons meaningful.
const MAX_MORE: u32 = 0x4000_0000;
/// Fragments one PDU may collect.
const MAX_FRAGS: usize = 1 << 16;
/// PDUs remembered per direction (finished ones are kept, without their
/// bytes, to recognise retransmissions); past it the oldest are forgotten.
const MAX_MSPS: usize = 1 << 12;
/// Passes of the loop over one segment (each consumes bytes or PDUs).
const MAX_ROUNDS: usize = 1 << 12;

/// Bytes held by every PDU under reassembly, shared by all flows of a
/// dissector; a PDU that would pass the cap is given up.
#[derive(Clone, Debug)]
pub struct Budget(Rc<Cell<(usize, usize)>>);

impl Budget {
    pub fn new(cap: usize) -> Self {
        Budget(Rc::new(Cell::new((0, cap))))
    }

    pub fn used(&self) -> usize {
        self.0.get().0
    }

    fn take(&self, n: usize) -> bool {
        let (used, cap) = self.0.get();
        match used.checked_add(n) {
            Some(u) if u <= cap => {
                self.0.set((u, cap));
                true
            }
            _ => false,
        }
    }

    fn give(&self, n: usize) {
        let (used, cap) = self.0.get();
        self.0.set((used.saturating_sub(n), cap));
    }
}

#[derive(Clone, Copy, Debug)]
struct Frag {
    off: u32,
    len: u32,
    frame: u32,
}

/// A PDU that spans segments.
#[derive(Debug)]
pub struct Msp {
    pub seq: u32,
    pub nxtpdu: u32,
    pub first_frame: u32,
    pub last_frame: u32,
    /// The next segment is taken whole (`DESEGMENT_ONE_MORE_SEGMENT`).
    entire: bool,
    data: Vec<u8>,
    frags: Vec<Frag>,
    /// Set by the fragment that ends the PDU.
    datalen: Option<u32>,
    pub reassembled_in: Option<u32>,
    /// Past a cap: its segments are swallowed, nothing is delivered.
    dead: bool,
    budget: Budget,
}

impl Drop for Msp {
    fn drop(&mut self) {
        self.budget.give(self.data.len());
    }
}

impl Msp {
    fn new(seq: u32, nxtpdu: u32, frame: u32, budget: &Budget) -> Self {
        Msp {
            seq,
            nxtpdu,
            first_frame: frame,
            last_frame: frame,
            entire: false,
            data: Vec::new(),
            frags: Vec::new(),
            datalen: None,
            reassembled_in: None,
            dead: false,
            budget: budget.clone(),
        }
    }

    fn give_up(&mut self) {
        self.dead = true;
        self.free();
    }

    fn free(&mut self) {
        self.budget.give(self.data.len());
        self.data = Vec::new();
        self.frags = Vec::new();
    }

    /// Adds bytes at `off`; returns whether the PDU is now complete.
    fn add(&mut self, off: u32, bytes: &[u8], frame: u32, more: bool) -> bool {
        if self.dead {
            return false;
        }
        let Ok(len) = u32::try_from(bytes.len()) else {
            self.give_up();
            return false;
        };
        let start = off as usize;
        let Some(end) = start.checked_add(bytes.len()) else {
            self.give_up();
            return false;
        };
        if end > MAX_PDU || self.frags.len() >= MAX_FRAGS {
            self.give_up();
            return false;
        }
        if self.data.len() < end {
            let grow = end - self.data.len();
            if !self.budget.take(grow) {
                self.give_up();
                return false;
            }
            self.data.resize(end, 0);
        }
        if let Some(dst) = self.data.get_mut(start..end) {
            dst.copy_from_slice(bytes);
        }
        let at = self.frags.partition_point(|f| f.off <= off);
        self.frags.insert(at, Frag { off, len, frame });
        if !more {
            self.datalen = Some(off.saturating_add(len));
        }
        self.check_complete(frame)
    }

    fn check_complete(&mut self, frame: u32) -> bool {
        let Some(total) = self.datalen else {
            return false;
        };
        let mut covered = 0u32;
        for f in &self.frags {
            if f.off > covered {
                return false;
            }
            covered = covered.max(f.off.saturating_add(f.len));
            if covered >= total {
                break;
            }
        }
        if covered >= total {
            self.reassembled_in = Some(frame);
            true
        } else {
            false
        }
    }

    fn bytes(&self) -> &[u8] {
        let n = self.datalen.unwrap_or(0) as usize;
        self.data.get(..n).unwrap_or(&self.data)
    }

    /// Frames of the fragments, in offset order (`tcp.segment`).
    fn frames(&self) -> Vec<u32> {
        self.frags.iter().map(|f| f.frame).collect()
    }

    /// Splits at `off`: this PDU keeps the bytes before, the returned one
    /// takes the rest and the old end.
    fn split(&mut self, off: u32, frame: u32) -> Msp {
        let mut tail = Msp::new(self.seq.wrapping_add(off), self.nxtpdu, frame, &self.budget);
        let cut = (off as usize).min(self.data.len());
        let rest = self.data.get(cut..).unwrap_or_default().to_vec();
        // The bytes move from one PDU to the other: the budget is unchanged.
        self.budget.give(rest.len());
        if self.budget.take(rest.len()) {
            tail.data = rest;
        }
        self.data.truncate(cut);
        let mut first = None::<u32>;
        for f in &self.frags {
            let end = f.off.saturating_add(f.len);
            if end > off {
                let start = f.off.max(off);
                tail.frags.push(Frag {
                    off: start - off,
                    len: end - start,
                    frame: f.frame,
                });
                first = Some(first.map_or(f.frame, |x| x.min(f.frame)));
            }
        }
        tail.first_frame = first.unwrap_or(frame);
        tail.last_frame = frame;
        self.nxtpdu = self.seq.wrapping_add(off);
        self.datalen = Some(off);
        tail
    }
}

/// How the application is called: with the bytes, and these facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// Relative sequence number of the first byte.
    pub seq: u32,
    pub reassembled: bool,
    /// Whether the application may answer `NeedMore`.
    pub can_desegment: bool,
}

/// What happened to one segment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SegmentReport {
    /// The application was called at least once.
    pub called: bool,
    /// A PDU was completed here: its segments' frames, in order.
    pub segments: Vec<u32>,
    /// Its length.
    pub reassembled_len: usize,
    /// The segment repeats the start of a known PDU.
    pub retransmitted: bool,
    /// Calls of the application made up to the one that completed the PDU:
    /// tshark adds the segments' tree item right after that call's items,
    /// before a PDU that starts later in the segment.
    pub segments_after_call: usize,
    /// Bytes of the segment wait in a PDU that is not complete yet (tshark's
    /// "[TCP segment of a reassembled PDU]").
    pub held: bool,
    /// A PDU the application took whole ended in this segment.
    pub completed: bool,
}

/// Reassembly state of one direction of a TCP connection.
#[derive(Debug, Default)]
pub struct Direction {
    /// PDUs by first sequence number, in ascending numeric order (as a
    /// `BTreeMap<u32, Msp>` would keep them). A deque grown a little at a
    /// time: most directions hold one or two PDUs for the whole connection,
    /// and a B-tree leaf costs eleven slots (about 1 KiB) for the first.
    msps: VecDeque<Msp>,
    /// An application asked for everything up to the FIN.
    pub until_fin: bool,
    pub fin_frame: Option<u32>,
}

type Call<'a> = &'a mut dyn FnMut(&[u8], Delivered) -> Outcome;

impl Direction {
    /// Position of the PDU whose first sequence number is `seq`.
    fn pos(&self, seq: u32) -> Option<usize> {
        self.msps.binary_search_by_key(&seq, |m| m.seq).ok()
    }

    fn get(&self, seq: u32) -> Option<&Msp> {
        self.msps.get(self.pos(seq)?)
    }

    fn get_mut(&mut self, seq: u32) -> Option<&mut Msp> {
        let at = self.pos(seq)?;
        self.msps.get_mut(at)
    }

    /// The PDU with the greatest first sequence number at most `seq`
    /// (numerically, not in sequence space).
    fn last_at_most(&mut self, seq: u32) -> Option<&mut Msp> {
        let at = self.msps.partition_point(|m| m.seq <= seq).checked_sub(1)?;
        self.msps.get_mut(at)
    }

    /// The PDU that contains `seq`, if any.
    fn find(&self, seq: u32) -> Option<u32> {
        let key = if self.pos(seq).is_some() {
            seq
        } else {
            let at = self
                .msps
                .partition_point(|m| m.seq <= seq.wrapping_sub(1))
                .checked_sub(1)?;
            self.msps.get(at)?.seq
        };
        let m = self.get(key)?;
        (seq_le(m.seq, seq) && seq_lt(seq, m.nxtpdu)).then_some(key)
    }

    /// Adds a PDU, replacing one with the same first sequence number.
    fn insert(&mut self, msp: Msp) {
        while self.msps.len() >= MAX_MSPS {
            if self.msps.pop_front().is_none() {
                break;
            }
        }
        match self.msps.binary_search_by_key(&msp.seq, |m| m.seq) {
            Ok(at) => {
                if let Some(slot) = self.msps.get_mut(at) {
                    *slot = msp;
                }
            }
            Err(at) => {
                // Grow by half of what is held (at least one): geometric, so
                // a long connection stays amortised, but a direction with one
                // PDU holds one slot.
                if self.msps.len() == self.msps.capacity() {
                    self.msps.reserve_exact((self.msps.len() / 2).max(1));
                }
                self.msps.insert(at, msp);
            }
        }
    }

    /// Bytes held for PDUs under reassembly.
    pub fn held(&self) -> usize {
        self.msps.iter().map(|m| m.data.len()).sum()
    }

    /// Whether the direction holds nothing: no PDU, no FIN-bound read. Such
    /// a direction is the same as a new one, so its owner need not keep it.
    pub fn is_idle(&self) -> bool {
        self.msps.is_empty() && !self.until_fin && self.fin_frame.is_none()
    }

    /// Handles the payload of one segment of this direction: continues a
    /// PDU, or hands the bytes to `call` and opens a PDU when it asks for
    /// more. `app_allowed` is false for segments the sequence analysis
    /// flagged (out of order): they join PDUs but the application never sees
    /// them.
    pub fn segment(
        &mut self,
        budget: &Budget,
        frame: u32,
        seq0: u32,
        payload: &[u8],
        app_allowed: bool,
        call: Call<'_>,
    ) -> SegmentReport {
        let mut report = SegmentReport::default();
        let Ok(plen) = u32::try_from(payload.len()) else {
            return report;
        };
        let nxtseq = seq0.wrapping_add(plen);
        if let Some(m) = self.get(seq0) {
            if seq_le(nxtseq, m.nxtpdu) && m.last_frame != frame && m.first_frame != frame {
                report.retransmitted = true;
                return report;
            }
        }
        let mut offset = 0usize;
        let mut seq = seq0;
        let mut calls = 0usize;
        for _ in 0..MAX_ROUNDS {
            let mut another = 0u32;
            let mut must: Option<(usize, Option<usize>)> = None;
            let mut restart = false;
            if let Some(key) = self.find(seq) {
                let Some(msp) = self.get_mut(key) else {
                    break;
                };
                msp.last_frame = frame;
                let rest = payload.get(offset..).unwrap_or_default();
                let len = if msp.entire {
                    rest.len() as u32
                } else {
                    nxtseq.wrapping_sub(seq).min(msp.nxtpdu.wrapping_sub(seq))
                };
                let last_len = len;
                let frag = rest.get(..len as usize).unwrap_or(rest);
                let more = seq_lt(nxtseq, msp.nxtpdu);
                let complete = msp.add(seq.wrapping_sub(msp.seq), frag, frame, more);
                if !complete {
                    report.held = true;
                }
                if complete && msp.entire {
                    msp.entire = false;
                    if seq_lt(msp.nxtpdu, nxtseq) {
                        msp.nxtpdu = nxtseq;
                    }
                }
                if seq_lt(msp.nxtpdu, nxtseq) && seq_le(seq, msp.nxtpdu) && len > 0 {
                    another = msp.nxtpdu.wrapping_sub(seq);
                }
                if complete {
                    let info = Delivered {
                        seq: msp.seq,
                        reassembled: true,
                        can_desegment: true,
                    };
                    let out = if app_allowed {
                        report.called = true;
                        calls = calls.saturating_add(1);
                        call(msp.bytes(), info)
                    } else {
                        Outcome::Done(0)
                    };
                    match out {
                        Outcome::NeedMore {
                            offset: off,
                            more: want,
                        } => {
                            let off = u32::try_from(off).unwrap_or(u32::MAX);
                            report.held = true;
                            let target_key = if off == 0 || seq_le(msp.seq.wrapping_add(off), seq) {
                                msp.datalen = None;
                                msp.reassembled_in = None;
                                key
                            } else {
                                report.segments = msp.frames();
                                report.segments_after_call = calls;
                                let tail = msp.split(off, frame);
                                report.reassembled_len = msp.bytes().len();
                                msp.free();
                                let k = tail.seq;
                                self.insert(tail);
                                k
                            };
                            let at = self.pos(target_key);
                            if let Some(t) = at.and_then(|a| self.msps.get_mut(a)) {
                                match want {
                                    None => {
                                        let end = seq.wrapping_add(rest.len() as u32);
                                        let base =
                                            if seq_lt(t.nxtpdu, end) { end } else { t.nxtpdu };
                                        t.nxtpdu = base.wrapping_add(1);
                                        t.entire = true;
                                    }
                                    Some(UNTIL_FIN) => {
                                        self.until_fin = true;
                                        t.nxtpdu = t.seq.wrapping_add(UNTIL_FIN_SPAN);
                                    }
                                    Some(n) => {
                                        let n = u32::try_from(n).unwrap_or(MAX_MORE).min(MAX_MORE);
                                        let end = seq.wrapping_add(last_len);
                                        if seq_le(t.nxtpdu, end) {
                                            t.nxtpdu = end.wrapping_add(n);
                                        } else {
                                            t.nxtpdu = t.nxtpdu.wrapping_add(n);
                                        }
                                    }
                                }
                            }
                            another = 0;
                            offset = offset.saturating_add(last_len as usize);
                            seq = seq.wrapping_add(last_len);
                            restart = offset < payload.len();
                        }
                        _ => {
                            report.completed = true;
                            report.segments = msp.frames();
                            report.segments_after_call = calls;
                            report.reassembled_len = msp.bytes().len();
                            msp.free();
                        }
                    }
                }
            } else if app_allowed {
                let rest = payload.get(offset..).unwrap_or_default();
                report.called = true;
                calls = calls.saturating_add(1);
                let out = call(
                    rest,
                    Delivered {
                        seq,
                        reassembled: false,
                        can_desegment: true,
                    },
                );
                match out {
                    Outcome::NeedMore { offset: off, more } => {
                        must = Some((offset.saturating_add(off).min(payload.len()), more));
                        if off > 0 {
                            report.completed = true;
                        }
                    }
                    Outcome::Done(_) => report.completed = true,
                    Outcome::Rejected => {}
                }
            }
            if restart {
                continue;
            }
            if let Some((doff, more)) = must {
                let deseg_seq = seq.wrapping_add((doff - offset.min(doff)) as u32);
                if nxtseq.wrapping_sub(deseg_seq) <= MAX_OPEN_SPAN {
                    let (nxtpdu, entire) = match more {
                        None => (nxtseq.wrapping_add(1), true),
                        Some(UNTIL_FIN) => {
                            self.until_fin = true;
                            (nxtseq.wrapping_add(UNTIL_FIN_SPAN), false)
                        }
                        Some(n) => {
                            let n = u32::try_from(n).unwrap_or(MAX_MORE).min(MAX_MORE);
                            (nxtseq.wrapping_add(n), false)
                        }
                    };
                    let mut msp = Msp::new(deseg_seq, nxtpdu, frame, budget);
                    msp.entire = entire;
                    let bytes = payload.get(doff..).unwrap_or_default();
                    msp.add(0, bytes, frame, seq_lt(nxtseq, nxtpdu));
                    self.insert(msp);
                    report.held = true;
                }
            }
            if another > 0 {
                offset = offset.saturating_add(another as usize);
                seq = seq.wrapping_add(another);
                if offset < payload.len() {
                    continue;
                }
            }
            break;
        }
        report
    }

    /// A FIN of this direction ends a PDU read until the end of the
    /// connection: the PDU is handed on whole, and may not ask for more.
    pub fn fin(&mut self, frame: u32, seq: u32, payload: &[u8], call: Call<'_>) -> SegmentReport {
        let mut report = SegmentReport::default();
        if !self.until_fin {
            return report;
        }
        match self.fin_frame {
            None => self.fin_frame = Some(frame),
            Some(f) if f == frame => {}
            Some(_) => return report,
        }
        let Some(msp) = self.last_at_most(seq.wrapping_sub(1)) else {
            return report;
        };
        if msp.add(seq.wrapping_sub(msp.seq), payload, frame, false) {
            report.called = true;
            call(
                msp.bytes(),
                Delivered {
                    seq: msp.seq,
                    reassembled: true,
                    can_desegment: false,
                },
            );
            report.segments = msp.frames();
            report.reassembled_len = msp.bytes().len();
            msp.free();
        }
        report
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// A length-prefixed protocol: one byte of length, then the body.
    fn lp(data: &[u8], got: &mut Vec<Vec<u8>>) -> Outcome {
        let mut at = 0usize;
        while at < data.len() {
            let n = usize::from(data[at]);
            if at + 1 + n > data.len() {
                return Outcome::NeedMore {
                    offset: at,
                    more: Some(at + 1 + n - data.len()),
                };
            }
            got.push(data[at + 1..at + 1 + n].to_vec());
            at += 1 + n;
        }
        Outcome::Done(data.len())
    }

    fn run(segs: &[(u32, &[u8])]) -> Vec<(u32, Vec<u8>)> {
        let budget = Budget::new(1 << 20);
        let mut d = Direction::default();
        let mut out = Vec::new();
        for (i, (seq, bytes)) in segs.iter().enumerate() {
            let frame = i as u32 + 1;
            let mut got = Vec::new();
            d.segment(&budget, frame, *seq, bytes, true, &mut |b, _| {
                lp(b, &mut got)
            });
            out.extend(got.into_iter().map(|g| (frame, g)));
        }
        out
    }

    #[test]
    fn pdu_lands_on_the_completing_frame() {
        let got = run(&[(1, &[5, b'h', b'e']), (4, &[b'l', b'l', b'o', 1, b'x'])]);
        assert_eq!(got, vec![(2, b"hello".to_vec()), (2, b"x".to_vec())]);
    }

    #[test]
    fn tail_of_a_segment_opens_the_next_pdu() {
        let got = run(&[(1, &[1, b'a', 3, b'b']), (5, &[b'c', b'd', 0])]);
        assert_eq!(
            got,
            vec![(1, b"a".to_vec()), (2, b"bcd".to_vec()), (2, b"".to_vec())]
        );
    }

    #[test]
    fn segments_are_reported_after_the_completing_call() {
        let budget = Budget::new(1 << 20);
        let mut d = Direction::default();
        let mut call = |b: &[u8], _: Delivered| lp(b, &mut Vec::new());
        let r = d.segment(&budget, 1, 1, &[4, b'a'], true, &mut call);
        assert!(r.segments.is_empty());
        // Ends the first PDU (call 1) and starts another (call 2).
        let r = d.segment(&budget, 2, 3, &[b'b', b'c', b'd', 9, b'x'], true, &mut call);
        assert_eq!(r.segments, vec![1, 2]);
        assert_eq!(r.segments_after_call, 1);
    }

    #[test]
    fn retransmitted_first_segment_is_ignored() {
        let got = run(&[(1, &[4, b'a']), (1, &[4, b'a']), (3, b"bcd")]);
        assert_eq!(got, vec![(3, b"abcd".to_vec())]);
    }

    #[test]
    fn one_more_segment_grows_until_done() {
        // A line protocol: needs a newline.
        let budget = Budget::new(1 << 20);
        let mut d = Direction::default();
        let mut lines = Vec::new();
        let segs: [&[u8]; 3] = [b"ab", b"cd", b"e\nf"];
        let mut seq = 1u32;
        for (i, s) in segs.iter().enumerate() {
            d.segment(&budget, i as u32 + 1, seq, s, true, &mut |b, _| match b
                .iter()
                .position(|&c| c == b'\n')
            {
                Some(p) => {
                    lines.push(b[..p].to_vec());
                    Outcome::Done(p + 1)
                }
                None => Outcome::NeedMore {
                    offset: 0,
                    more: None,
                },
            });
            seq += s.len() as u32;
        }
        assert_eq!(lines, vec![b"abcde".to_vec()]);
    }

    #[test]
    fn until_fin_is_delivered_on_the_fin() {
        let budget = Budget::new(1 << 20);
        let mut d = Direction::default();
        let mut got = Vec::new();
        let mut call = |b: &[u8], i: Delivered| {
            if i.can_desegment {
                Outcome::NeedMore {
                    offset: 0,
                    more: Some(UNTIL_FIN),
                }
            } else {
                got.push(b.to_vec());
                Outcome::Done(b.len())
            }
        };
        d.segment(&budget, 1, 1, b"abc", true, &mut call);
        d.segment(&budget, 2, 4, b"def", true, &mut call);
        let r = d.fin(3, 7, b"", &mut call);
        assert_eq!(r.segments, vec![1, 2, 3]);
        assert_eq!(got, vec![b"abcdef".to_vec()]);
    }

    #[test]
    fn pdus_stay_ordered_and_a_lone_one_takes_one_slot() {
        let budget = Budget::new(1 << 20);
        let mut d = Direction::default();
        assert!(d.is_idle());
        let mut call = |b: &[u8], _: Delivered| lp(b, &mut Vec::new());
        // A PDU of 5 bytes opened by 3: kept, finished or not.
        d.segment(&budget, 1, 100, &[5, 1, 2], true, &mut call);
        assert!(!d.is_idle());
        assert_eq!(d.msps.capacity(), 1);
        // Two more PDUs opened at lower and higher sequence numbers.
        d.segment(&budget, 2, 300, &[9, 1], true, &mut call);
        d.segment(&budget, 3, 50, &[9, 1], true, &mut call);
        let seqs: Vec<u32> = d.msps.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, vec![50, 100, 300]);
        assert_eq!(d.find(302), Some(300));
        assert_eq!(d.find(52), Some(50));
        assert_eq!(d.find(200), None);
        // Opening a PDU again at the same sequence number replaces it.
        d.insert(Msp::new(100, 110, 4, &budget));
        assert_eq!(d.msps.len(), 3);
        assert_eq!(d.get(100).map(|m| m.nxtpdu), Some(110));
    }

    #[test]
    fn caps_give_up_without_delivering() {
        let budget = Budget::new(8);
        let mut d = Direction::default();
        let mut call = |b: &[u8], _: Delivered| lp(b, &mut Vec::new());
        d.segment(&budget, 1, 1, &[200, 1, 2, 3, 4, 5], true, &mut call);
        d.segment(&budget, 2, 7, &[0; 100], true, &mut call);
        assert!(budget.used() <= 8);
        drop(d);
        assert_eq!(budget.used(), 0);
    }
}
