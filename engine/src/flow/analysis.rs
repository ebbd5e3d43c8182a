//! The part of Wireshark's `tcp_analyze_sequence_number` that decides whether
//! a segment's payload reaches the application: retransmissions, spurious
//! retransmissions and out-of-order segments do not (`tcp.no_subdissector_on_error`
//! is on by default), keep-alives go to `data`.

use super::{seq_le, seq_lt};
use crate::table::Timestamp;

/// What the analysis concluded about one segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegFlags {
    pub retransmission: bool,
    pub spurious_retransmission: bool,
    pub out_of_order: bool,
    pub keep_alive: bool,
    /// Data after a gap in what this direction was seen to send.
    pub lost_segment: bool,
    /// Acknowledges what the other direction was not seen to send.
    pub ack_lost_segment: bool,
    /// A bare ACK that only changes the window.
    pub window_update: bool,
    /// A bare ACK repeating the last one: how many in a row, and the frame
    /// of the last ACK that was not one.
    pub duplicate_ack: Option<(u32, u32)>,
}

impl SegFlags {
    /// Whether the application must not see this payload.
    pub fn is_error(&self) -> bool {
        self.retransmission || self.spurious_retransmission || self.out_of_order
    }
}

/// Sequence state of one direction.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeqAnalysis {
    /// Highest next sequence number seen; 0 is "unknown", as in Wireshark.
    nextseq: u32,
    nextseq_time: Timestamp,
    /// Last acknowledgement number this direction sent.
    lastack: u32,
    /// Highest sequence number seen without a hole before it (Wireshark's
    /// `maxseqtobeacked`); 0 is "unknown".
    maxseqtobeacked: u32,
    /// The (scaled) window of the last segment; `None` before the first.
    window: Option<u32>,
    /// Duplicate ACKs in a row, and the frame of the last ACK that was not.
    dupacknum: u32,
    lastnondupack: u32,
}

/// Flag bits of the TCP header that matter here.
const FIN: u16 = 0x01;
const SYN: u16 = 0x02;
const RST: u16 = 0x04;
const ACK: u16 = 0x10;

impl SeqAnalysis {
    /// A SYN that repeats the stream's initial sequence number: the next
    /// sequence number falls back to what was seen without holes, so a RST
    /// sent with an odd number does not make the new handshake's data look
    /// old (Wireshark's issue 17616 handling).
    pub fn restore_on_syn(&mut self) {
        self.nextseq = self.maxseqtobeacked;
    }

    /// Classifies a segment of `fwd`'s direction and updates the state.
    /// `first_rtt` is the handshake round trip when known (the out-of-order
    /// threshold), `rev` the state of the other direction.
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        fwd: &mut SeqAnalysis,
        rev: &mut SeqAnalysis,
        seq: u32,
        ack: u32,
        seglen: u32,
        flags: u16,
        window: u32,
        frame: u32,
        now: Timestamp,
        first_rtt: Option<i64>,
    ) -> SegFlags {
        let mut out = SegFlags::default();
        let synfin = flags & (SYN | FIN) != 0;
        if fwd.nextseq != 0 && seq_lt(fwd.nextseq, seq) && flags & RST == 0 {
            out.lost_segment = true;
        }
        // Acknowledging beyond what the other side was seen to send: the
        // missing segments count as sent from here on.
        if rev.maxseqtobeacked != 0 && seq_lt(rev.maxseqtobeacked, ack) && flags & ACK != 0 {
            out.ack_lost_segment = true;
            rev.maxseqtobeacked = rev.nextseq;
        }
        if (seglen == 0 || seglen == 1)
            && fwd.nextseq != 0
            && seq == fwd.nextseq.wrapping_sub(1)
            && flags & (SYN | FIN | RST) == 0
        {
            out.keep_alive = true;
        }
        // A bare ACK where the stream stands: a window update when the
        // window moved, a duplicate ACK when nothing did.
        let bare = seglen == 0
            && window != 0
            && seq == fwd.nextseq
            && ack == fwd.lastack
            && flags & (SYN | FIN | RST) == 0
            && !out.keep_alive;
        if bare && fwd.window != Some(window) {
            out.window_update = true;
        } else if bare && flags & ACK != 0 {
            fwd.dupacknum = fwd.dupacknum.saturating_add(1);
            out.duplicate_ack = Some((fwd.dupacknum, fwd.lastnondupack));
        }
        if out.duplicate_ack.is_none() {
            fwd.lastnondupack = frame;
            fwd.dupacknum = 0;
        }
        fwd.window = Some(window);
        if (seglen > 0 || synfin) && !out.keep_alive {
            let mut not_advanced = fwd.nextseq != 0 && seq_lt(seq, fwd.nextseq);
            if seglen > 1 && fwd.nextseq.wrapping_sub(1) == seq {
                not_advanced = false;
            }
            if seglen > 0 && rev.lastack != 0 && seq_le(seq.wrapping_add(seglen), rev.lastack) {
                out.spurious_retransmission = true;
            } else {
                let t = now.nanos_since(fwd.nextseq_time);
                let thres = first_rtt.filter(|&r| r != 0).unwrap_or(3_000_000);
                let end = seq.wrapping_add(seglen).wrapping_add(u32::from(synfin));
                if not_advanced && t < thres && fwd.nextseq != end {
                    out.out_of_order = true;
                } else if not_advanced {
                    out.retransmission = true;
                }
            }
        }
        let mut next = seq.wrapping_add(seglen);
        if synfin {
            next = next.wrapping_add(1);
        }
        if seq_lt(fwd.nextseq, next) || fwd.nextseq == 0 {
            fwd.nextseq = next;
            fwd.nextseq_time = now;
        }
        if seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0 {
            fwd.maxseqtobeacked = fwd.nextseq;
        }
        fwd.lastack = ack;
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

    #[test]
    fn resending_old_data_later_is_a_retransmission() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        let f = SeqAnalysis::segment(&mut a, &mut b, 1, 1, 100, 0x18, 65535, 0, ts(0), None);
        assert_eq!(f, SegFlags::default());
        let f = SeqAnalysis::segment(&mut a, &mut b, 101, 1, 100, 0x18, 65535, 0, ts(1), None);
        assert!(!f.is_error());
        // Soon after, and not ending where the stream ends: out of order.
        let f = SeqAnalysis::segment(&mut a, &mut b, 51, 1, 10, 0x18, 65535, 0, ts(2), None);
        assert!(f.out_of_order);
        let f = SeqAnalysis::segment(&mut a, &mut b, 1, 1, 100, 0x18, 65535, 0, ts(500), None);
        assert!(f.retransmission);
    }

    #[test]
    fn data_already_acked_is_spurious() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        SeqAnalysis::segment(&mut a, &mut b, 1, 1, 100, 0x18, 65535, 0, ts(0), None);
        SeqAnalysis::segment(&mut b, &mut a, 1, 101, 0, 0x10, 65535, 0, ts(1), None);
        let f = SeqAnalysis::segment(&mut a, &mut b, 1, 1, 100, 0x18, 65535, 0, ts(900), None);
        assert!(f.spurious_retransmission);
    }

    #[test]
    fn bare_acks_are_window_updates_or_duplicates() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        let seg = |a: &mut SeqAnalysis, b: &mut SeqAnalysis, seq, len, win, frame| {
            SeqAnalysis::segment(a, b, seq, 1, len, 0x10, win, frame, ts(frame.into()), None)
        };
        assert_eq!(seg(&mut a, &mut b, 1, 100, 1000, 1), SegFlags::default());
        let f = seg(&mut a, &mut b, 101, 0, 2000, 2);
        assert!(f.window_update && f.duplicate_ack.is_none());
        assert_eq!(
            seg(&mut a, &mut b, 101, 0, 2000, 3).duplicate_ack,
            Some((1, 2))
        );
        assert_eq!(
            seg(&mut a, &mut b, 101, 0, 2000, 4).duplicate_ack,
            Some((2, 2))
        );
        // Data after a hole.
        let f = seg(&mut a, &mut b, 301, 10, 2000, 5);
        assert!(f.lost_segment && f.duplicate_ack.is_none());
    }

    #[test]
    fn keep_alive_is_one_byte_before_next() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        SeqAnalysis::segment(&mut a, &mut b, 1, 1, 100, 0x18, 65535, 0, ts(0), None);
        let f = SeqAnalysis::segment(&mut a, &mut b, 100, 1, 1, 0x10, 65535, 0, ts(9000), None);
        assert!(f.keep_alive && !f.is_error());
    }

    #[test]
    fn a_repeated_syn_forgets_a_rst_sequence_jump() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        SeqAnalysis::segment(&mut a, &mut b, 0, 0, 0, 0x02, 65535, 0, ts(0), None);
        // A RST far ahead of the stream moves nextseq.
        SeqAnalysis::segment(
            &mut a,
            &mut b,
            860_578_524,
            0,
            0,
            0x04,
            65535,
            0,
            ts(1),
            None,
        );
        a.restore_on_syn();
        let f = SeqAnalysis::segment(&mut a, &mut b, 0, 0, 0, 0x02, 65535, 0, ts(2), None);
        assert!(f.retransmission);
        let f = SeqAnalysis::segment(&mut a, &mut b, 1, 1, 517, 0x18, 65535, 0, ts(3), None);
        assert!(!f.is_error());
    }

    #[test]
    fn acking_what_was_not_seen_is_flagged_once() {
        let (mut a, mut b) = (SeqAnalysis::default(), SeqAnalysis::default());
        // a sends 1..5, then 9..13 after a hole; b acks 13.
        SeqAnalysis::segment(&mut a, &mut b, 1, 1, 4, 0x18, 1024, 1, ts(0), None);
        let f = SeqAnalysis::segment(&mut a, &mut b, 9, 1, 4, 0x18, 1024, 2, ts(1), None);
        assert!(f.lost_segment);
        let f = SeqAnalysis::segment(&mut b, &mut a, 1, 13, 0, 0x10, 1024, 3, ts(2), None);
        assert!(f.ack_lost_segment);
        let f = SeqAnalysis::segment(&mut b, &mut a, 1, 13, 0, 0x10, 1024, 4, ts(3), None);
        assert!(!f.ack_lost_segment);
    }
}
