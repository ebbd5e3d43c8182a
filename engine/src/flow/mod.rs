//! TCP flows: sequence analysis and reassembly of application PDUs, shared
//! by every protocol that runs over TCP.
//!
//! The model is Wireshark's (`desegment_tcp` in packet-tcp.c with the default
//! preferences: desegmentation on, out-of-order reassembly off): a segment
//! either continues a multi-segment PDU ([`Msp`]) that an application
//! dissector asked for, or is handed to the application, which may answer
//! [`Outcome::NeedMore`] to open a new one. A PDU is handed on, whole, on the
//! frame that completes it; the frames before show as TCP segments.
//!
//! Sequence numbers are the relative ones of `tcp.seq`. Every buffer is
//! capped: a PDU larger than [`MAX_PDU`], or one that would take the shared
//! [`Budget`] past its cap, is given up (its segments stay plain TCP data).

mod analysis;
mod reasm;

pub use analysis::{Context as SeqContext, SegFlags, Segment, SeqAnalysis};
pub use reasm::{Budget, Delivered, Direction, Msp, SegmentReport, MAX_PDU};

/// `more` of [`crate::dissect::Outcome::NeedMore`] meaning "everything up to
/// the end of the connection" (Wireshark's `DESEGMENT_UNTIL_FIN`).
pub const UNTIL_FIN: usize = usize::MAX;

#[allow(unused_imports)]
use crate::dissect::Outcome;

/// `a < b` in sequence space.
#[inline]
pub fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `a <= b` in sequence space.
#[inline]
pub fn seq_le(a: u32, b: u32) -> bool {
    a == b || seq_lt(a, b)
}
