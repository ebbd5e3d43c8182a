//! Wireshark's `tcp_analyze_sequence_number`: what the sequence analysis
//! concludes about each segment (the `tcp.analysis.*` flags and the Info
//! prefixes), and whether its payload reaches the application:
//! retransmissions and out-of-order segments do not
//! (`tcp.no_subdissector_on_error` is on by default), spurious
//! retransmissions are skipped by reassembly, keep-alives go to `data`.

use super::{seq_le, seq_lt};
use crate::table::Timestamp;

/// What the analysis concluded about one segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegFlags {
    pub retransmission: bool,
    /// Resends what the other side asked for with two or more duplicate
    /// ACKs, within 20 ms of the last.
    pub fast_retransmission: bool,
    pub spurious_retransmission: bool,
    pub out_of_order: bool,
    pub keep_alive: bool,
    /// A bare ACK answering the other side's keep-alive.
    pub keep_alive_ack: bool,
    /// Data after a gap in what this direction was seen to send.
    pub lost_segment: bool,
    /// Acknowledges what the other direction was not seen to send.
    pub ack_lost_segment: bool,
    /// A bare ACK that only changes the window.
    pub window_update: bool,
    /// Data that fills the receiver's advertised window to its edge.
    pub window_full: bool,
    pub zero_window: bool,
    /// One byte sent into a zero window.
    pub zero_window_probe: bool,
    pub zero_window_probe_ack: bool,
    /// A SYN (or SYN-ACK) with a new initial sequence number on ports seen
    /// before; set by the TCP dissector, which owns stream identity.
    pub reused_ports: bool,
    /// A bare ACK repeating the last one: how many in a row, and the frame
    /// of the last ACK that was not one.
    pub duplicate_ack: Option<(u32, u32)>,
}

impl SegFlags {
    /// Whether the application must not see this payload.
    pub fn is_error(&self) -> bool {
        self.retransmission || self.spurious_retransmission || self.out_of_order
    }

    /// Whether any flag is set (tshark then shows `tcp.analysis.flags`).
    pub fn any(&self) -> bool {
        *self != SegFlags::default()
    }
}

/// One segment as the analysis sees it: raw sequence numbers, the window
/// field as sent.
#[derive(Clone, Copy, Debug)]
pub struct Segment {
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    pub flags: u16,
    pub window: u32,
    pub frame: u32,
    pub now: Timestamp,
}

/// What the analysis needs from the connection beyond the two directions.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context {
    /// The handshake round trip when known (the out-of-order threshold).
    pub first_rtt: Option<i64>,
    /// The shift applied to the other direction's window, `None` while its
    /// scaling is unknown (no window full is then decided).
    pub rev_shift: Option<u32>,
}

/// Sequence state of one direction.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeqAnalysis {
    /// Highest next sequence number seen; 0 is "unknown", as in Wireshark.
    nextseq: u32,
    /// Times as nanoseconds since the epoch (saturated): half the size of a
    /// `Timestamp`, for the state every open conversation holds.
    nextseq_time: i64,
    /// Last acknowledgement number this direction sent, and when.
    lastack: u32,
    lastack_time: i64,
    /// Highest sequence number seen without a hole before it (Wireshark's
    /// `maxseqtobeacked`); 0 is "unknown".
    maxseqtobeacked: u32,
    /// The window field of the last segment; `None` before the first.
    window: Option<u32>,
    /// Duplicate ACKs in a row (-1 after an ACK of unseen data, as in
    /// Wireshark), and the frame of the last ACK that was not one.
    dupacknum: i32,
    lastnondupack: u32,
    /// What the last segment was: a keep-alive or zero window probe makes
    /// the next bare ACK from the other side its answer.
    last_keep_alive: bool,
    last_zero_window_probe: bool,
}

/// Flag bits of the TCP header that matter here.
const FIN: u16 = 0x01;
const SYN: u16 = 0x02;
const RST: u16 = 0x04;
const ACK: u16 = 0x10;

/// Nanoseconds from `earlier` to `now` compared as Wireshark does, in
/// unsigned arithmetic: a segment earlier than the reference is never
/// "within" a threshold.
fn within(now: i64, earlier: i64, limit: i64) -> bool {
    let t = now.saturating_sub(earlier);
    t >= 0 && (limit < 0 || t < limit)
}

impl SeqAnalysis {
    /// A SYN that repeats the stream's initial sequence number: the next
    /// sequence number falls back to what was seen without holes, so a RST
    /// sent with an odd number does not make the new handshake's data look
    /// old (Wireshark's issue 17616 handling).
    pub fn restore_on_syn(&mut self) {
        self.nextseq = self.maxseqtobeacked;
    }

    /// Classifies a segment of `fwd`'s direction and updates the state;
    /// `rev` is the state of the other direction.
    pub fn segment(
        fwd: &mut SeqAnalysis,
        rev: &mut SeqAnalysis,
        s: Segment,
        cx: Context,
    ) -> SegFlags {
        let mut out = SegFlags::default();
        let Segment {
            seq,
            ack,
            len,
            flags,
            window,
            ..
        } = s;
        let now = s.now.nanos_since(Timestamp::new(0, 0));
        let synfin = flags & (SYN | FIN) != 0;
        let plain = flags & (SYN | FIN | RST) == 0;
        // A bare ACK where the stream stands (window update, keep-alive
        // ACK, zero window probe ACK, duplicate ACK).
        let bare = len == 0 && seq == fwd.nextseq && ack == fwd.lastack && plain;
        if len == 1 && seq == fwd.nextseq && rev.window == Some(0) {
            out.zero_window_probe = true;
        } else {
            out.zero_window = window == 0 && plain;
            if fwd.nextseq != 0 && seq_lt(fwd.nextseq, seq) && flags & RST == 0 {
                out.lost_segment = true;
            }
            out.keep_alive = len <= 1 && seq == fwd.nextseq.wrapping_sub(1) && plain;
            out.window_update = bare && window != 0 && fwd.window != Some(window);
            if len > 0 && plain {
                if let Some(shift) = cx.rev_shift {
                    let edge = rev
                        .lastack
                        .wrapping_add(rev.window.unwrap_or(u32::MAX).wrapping_shl(shift));
                    out.window_full = shift < 32 && seq.wrapping_add(len) == edge;
                }
            }
            let same_window = fwd.window == Some(window);
            if bare && window != 0 && same_window && rev.last_keep_alive {
                out.keep_alive_ack = true;
            } else if bare && window == 0 && same_window && rev.last_zero_window_probe {
                out.zero_window_probe_ack = true;
            } else if bare && window != 0 && same_window {
                fwd.dupacknum = if fwd.dupacknum == -1 {
                    1
                } else {
                    fwd.dupacknum.saturating_add(1)
                };
                let num = u32::try_from(fwd.dupacknum).unwrap_or(0);
                out.duplicate_ack = Some((num, fwd.lastnondupack));
            }
        }
        if ack != fwd.lastack {
            fwd.lastnondupack = s.frame;
            fwd.dupacknum = 0;
        }
        // Acknowledging beyond what the other side was seen to send: the
        // missing segments count as sent from here on, and an ACK stalled
        // on them is flagged once.
        if rev.maxseqtobeacked != 0 && seq_lt(rev.maxseqtobeacked, ack) && flags & ACK != 0 {
            if seq_lt(rev.maxseqtobeacked, rev.nextseq) {
                rev.maxseqtobeacked = rev.nextseq;
                out.ack_lost_segment = true;
            } else {
                if rev.dupacknum == 0 {
                    out.ack_lost_segment = true;
                }
                rev.dupacknum = -1;
            }
        }
        if (len > 0 || synfin) && !out.keep_alive {
            let mut not_advanced = fwd.nextseq != 0 && seq_lt(seq, fwd.nextseq);
            if len > 1 && fwd.nextseq.wrapping_sub(1) == seq {
                not_advanced = false;
            }
            if len > 0 && rev.lastack != 0 && seq_le(seq.wrapping_add(len), rev.lastack) {
                out.spurious_retransmission = true;
            } else if not_advanced
                && rev.dupacknum >= 2
                && rev.lastack == seq
                && within(now, rev.lastack_time, 20_000_000)
            {
                out.fast_retransmission = true;
            } else {
                let thres = cx.first_rtt.filter(|&r| r != 0).unwrap_or(3_000_000);
                let end = seq.wrapping_add(len).wrapping_add(u32::from(synfin));
                if not_advanced && within(now, fwd.nextseq_time, thres) && fwd.nextseq != end {
                    out.out_of_order = true;
                } else if not_advanced {
                    out.retransmission = true;
                }
            }
        }
        let mut next = seq.wrapping_add(len);
        if synfin {
            next = next.wrapping_add(1);
        }
        // A zero window probe does not move the stream on.
        if !out.zero_window_probe {
            if seq_lt(fwd.nextseq, next) || fwd.nextseq == 0 {
                fwd.nextseq = next;
                fwd.nextseq_time = now;
            }
            if seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0 {
                fwd.maxseqtobeacked = fwd.nextseq;
            }
        }
        fwd.window = Some(window);
        fwd.lastack = ack;
        fwd.lastack_time = now;
        fwd.last_keep_alive = out.keep_alive;
        fwd.last_zero_window_probe = out.zero_window_probe;
        out
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn ts(ms: i64) -> Timestamp {
        Timestamp::new(ms / 1000, ((ms % 1000) * 1_000_000) as i32)
    }

    /// One segment of `fwd`: (seq, ack, len, flags, window, frame, ms).
    fn seg(
        fwd: &mut SeqAnalysis,
        rev: &mut SeqAnalysis,
        (seq, ack, len, flags, window, frame, ms): (u32, u32, u32, u16, u32, u32, i64),
    ) -> SegFlags {
        let s = Segment {
            seq,
            ack,
            len,
            flags,
            window,
            frame,
            now: ts(ms),
        };
        SeqAnalysis::segment(fwd, rev, s, Context::default())
    }

    #[test]
    fn resending_old_data_later_is_a_retransmission() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        let f = seg(&mut a, &mut b, (1, 1, 100, 0x18, 65535, 0, 0));
        assert_eq!(f, SegFlags::default());
        let f = seg(&mut a, &mut b, (101, 1, 100, 0x18, 65535, 0, 1));
        assert!(!f.is_error());
        // Soon after, and not ending where the stream ends: out of order.
        let f = seg(&mut a, &mut b, (51, 1, 10, 0x18, 65535, 0, 2));
        assert!(f.out_of_order);
        let f = seg(&mut a, &mut b, (1, 1, 100, 0x18, 65535, 0, 500));
        assert!(f.retransmission);
    }

    #[test]
    fn data_already_acked_is_spurious() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        seg(&mut a, &mut b, (1, 1, 100, 0x18, 65535, 0, 0));
        seg(&mut b, &mut a, (1, 101, 0, 0x10, 65535, 0, 1));
        let f = seg(&mut a, &mut b, (1, 1, 100, 0x18, 65535, 0, 900));
        assert!(f.spurious_retransmission);
    }

    #[test]
    fn bare_acks_are_window_updates_or_duplicates() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        let ack = |a: &mut SeqAnalysis, b: &mut SeqAnalysis, seq, len, win, frame: u32| {
            seg(a, b, (seq, 1, len, 0x10, win, frame, frame.into()))
        };
        assert_eq!(ack(&mut a, &mut b, 1, 100, 1000, 1), SegFlags::default());
        let f = ack(&mut a, &mut b, 101, 0, 2000, 2);
        assert!(f.window_update && f.duplicate_ack.is_none());
        // The window update did not change the ACK: the count runs from
        // the segment before it.
        assert_eq!(
            ack(&mut a, &mut b, 101, 0, 2000, 3).duplicate_ack,
            Some((1, 1))
        );
        assert_eq!(
            ack(&mut a, &mut b, 101, 0, 2000, 4).duplicate_ack,
            Some((2, 1))
        );
        // Data after a hole.
        let f = ack(&mut a, &mut b, 301, 10, 2000, 5);
        assert!(f.lost_segment && f.duplicate_ack.is_none());
    }

    #[test]
    fn keep_alive_and_its_ack() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        seg(&mut a, &mut b, (1, 1, 100, 0x18, 65535, 1, 0));
        seg(&mut b, &mut a, (1, 101, 0, 0x10, 65535, 2, 1));
        let f = seg(&mut a, &mut b, (100, 1, 1, 0x10, 65535, 3, 9000));
        assert!(f.keep_alive && !f.is_error());
        let f = seg(&mut b, &mut a, (1, 101, 0, 0x10, 65535, 4, 9001));
        assert!(f.keep_alive_ack && f.duplicate_ack.is_none());
    }

    #[test]
    fn zero_window_probe_does_not_advance() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        seg(&mut a, &mut b, (1, 1, 100, 0x18, 65535, 1, 0));
        let f = seg(&mut b, &mut a, (1, 101, 0, 0x10, 0, 2, 1));
        assert!(f.zero_window);
        let f = seg(&mut a, &mut b, (101, 1, 1, 0x18, 65535, 3, 300));
        assert!(f.zero_window_probe && !f.lost_segment);
        let f = seg(&mut b, &mut a, (1, 101, 0, 0x10, 0, 4, 301));
        assert!(f.zero_window_probe_ack && f.zero_window);
        // The probe's byte is sent again once the window opens: no hole, no
        // retransmission.
        seg(&mut b, &mut a, (1, 101, 0, 0x10, 65535, 5, 400));
        let f = seg(&mut a, &mut b, (101, 1, 100, 0x18, 65535, 6, 401));
        assert_eq!(f, SegFlags::default());
    }

    #[test]
    fn three_duplicate_acks_then_the_hole_resent_is_fast() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        seg(&mut a, &mut b, (1, 1, 100, 0x18, 65535, 1, 0));
        seg(&mut a, &mut b, (101, 1, 100, 0x18, 65535, 2, 1));
        seg(&mut b, &mut a, (1, 101, 0, 0x10, 65535, 3, 2));
        seg(&mut b, &mut a, (1, 101, 0, 0x10, 65535, 4, 3));
        let f = seg(&mut b, &mut a, (1, 101, 0, 0x10, 65535, 5, 4));
        assert_eq!(f.duplicate_ack, Some((2, 3)));
        let f = seg(&mut a, &mut b, (101, 1, 100, 0x18, 65535, 6, 10));
        assert!(f.fast_retransmission && !f.is_error());
    }

    #[test]
    fn filling_the_advertised_window_is_window_full() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        seg(&mut b, &mut a, (1, 1, 0, 0x10, 100, 1, 0));
        let s = Segment {
            seq: 1,
            ack: 1,
            len: 200,
            flags: 0x18,
            window: 65535,
            frame: 2,
            now: ts(1),
        };
        let cx = Context {
            first_rtt: None,
            rev_shift: Some(1),
        };
        assert!(SeqAnalysis::segment(&mut a, &mut b, s, cx).window_full);
    }

    #[test]
    fn a_repeated_syn_forgets_a_rst_sequence_jump() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        seg(&mut a, &mut b, (0, 0, 0, 0x02, 65535, 0, 0));
        // A RST far ahead of the stream moves nextseq.
        seg(&mut a, &mut b, (860_578_524, 0, 0, 0x04, 65535, 0, 1));
        a.restore_on_syn();
        let f = seg(&mut a, &mut b, (0, 0, 0, 0x02, 65535, 0, 2));
        assert!(f.retransmission);
        let f = seg(&mut a, &mut b, (1, 1, 517, 0x18, 65535, 0, 3));
        assert!(!f.is_error());
    }

    #[test]
    fn acking_what_was_not_seen_is_flagged_once() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        // a sends 1..5, then 9..13 after a hole; b acks 13.
        seg(&mut a, &mut b, (1, 1, 4, 0x18, 1024, 1, 0));
        let f = seg(&mut a, &mut b, (9, 1, 4, 0x18, 1024, 2, 1));
        assert!(f.lost_segment);
        let f = seg(&mut b, &mut a, (1, 13, 0, 0x10, 1024, 3, 2));
        assert!(f.ack_lost_segment);
        let f = seg(&mut b, &mut a, (1, 13, 0, 0x10, 1024, 4, 3));
        assert!(!f.ack_lost_segment);
    }
}
