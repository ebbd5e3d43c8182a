//! TCP: header fields, stream index, relative sequence numbers, window
//! scaling, and the handoff of the payload to `tcp.port`.

use std::cell::RefCell;
use std::collections::VecDeque;

use dorsal_engine::dissect::{Cx, Dissector, Outcome, TcpPayloadInfo};
use dorsal_engine::events::Transport;
use dorsal_engine::fields;
use dorsal_engine::flow::{
    Budget, Delivered, Direction, SegFlags, Segment, SegmentReport, SeqAnalysis, SeqContext,
};
use dorsal_engine::table::{Timestamp, Value};

use crate::conv::{ConvKey, Conversations, Found};
use dorsal_engine::bytes::{be16, be32, first_read_past, from};

fields! {
    pub struct TcpFields {
        tcp: "tcp", "Transmission Control Protocol", Protocol, None;
        // The hidden item a malformed-group expert info adds.
        srcport: "tcp.srcport", "Source Port", U16, Dec;
        dstport: "tcp.dstport", "Destination Port", U16, Dec;
        port: "tcp.port", "Source or Destination Port", U16, Dec;
        stream: "tcp.stream", "Stream index", U32, Dec;
        completeness: "tcp.completeness", "Conversation completeness", U8, Dec;
        len: "tcp.len", "TCP Segment Len", U32, Dec;
        seq: "tcp.seq", "Sequence Number", U32, Dec;
        seq_raw: "tcp.seq_raw", "Sequence Number (raw)", U32, Dec;
        nxtseq: "tcp.nxtseq", "Next Sequence Number", U32, Dec;
        ack: "tcp.ack", "Acknowledgment Number", U32, Dec;
        ack_raw: "tcp.ack_raw", "Acknowledgment number (raw)", U32, Dec;
        hdr_len: "tcp.hdr_len", "Header Length", U8, Dec;
        flags: "tcp.flags", "Flags", U16, Hex, mask 0x0fff;
        flags_res: "tcp.flags.res", "Reserved", Bool, None, mask 0x0e00;
        flags_ae: "tcp.flags.ae", "Accurate ECN", Bool, None, mask 0x0100;
        flags_cwr: "tcp.flags.cwr", "Congestion Window Reduced", Bool, None, mask 0x0080;
        flags_ece: "tcp.flags.ece", "ECN-Echo", Bool, None, mask 0x0040;
        flags_urg: "tcp.flags.urg", "Urgent", Bool, None, mask 0x0020;
        flags_ack: "tcp.flags.ack", "Acknowledgment", Bool, None, mask 0x0010;
        flags_push: "tcp.flags.push", "Push", Bool, None, mask 0x0008;
        flags_reset: "tcp.flags.reset", "Reset", Bool, None, mask 0x0004;
        flags_syn: "tcp.flags.syn", "Syn", Bool, None, mask 0x0002;
        flags_fin: "tcp.flags.fin", "Fin", Bool, None, mask 0x0001;
        flags_str: "tcp.flags.str", "TCP Flags", String, None;
        window_size_value: "tcp.window_size_value", "Window", U16, Dec;
        window_size: "tcp.window_size", "Calculated window size", U32, Dec;
        window_size_scalefactor: "tcp.window_size_scalefactor", "Window size scaling factor", I32, Dec;
        checksum: "tcp.checksum", "Checksum", U16, Hex;
        checksum_status: "tcp.checksum.status", "Checksum Status", U8, None;
        urgent_pointer: "tcp.urgent_pointer", "Urgent Pointer", U16, Dec;
        options: "tcp.options", "TCP Options", Bytes, None;
        option_kind: "tcp.option_kind", "Kind", U8, Dec;
        option_len: "tcp.option_len", "Length", U8, Dec;
        options_mss_val: "tcp.options.mss_val", "MSS Value", U16, Dec;
        options_wscale_shift: "tcp.options.wscale.shift", "Shift count", U8, Dec;
        options_wscale_multiplier: "tcp.options.wscale.multiplier", "Multiplier", U16, Dec;
        time_relative: "tcp.time_relative", "Time since first frame in this TCP stream", RelTime, None;
        time_delta: "tcp.time_delta", "Time since previous frame in this TCP stream", RelTime, None;
        payload: "tcp.payload", "TCP payload", Bytes, None;
        reset_cause: "tcp.reset_cause", "Reset cause", String, None;
        analysis: "tcp.analysis", "SEQ/ACK analysis", None, None;
        analysis_flags: "tcp.analysis.flags", "TCP Analysis Flags", None, None;
        analysis_reused_ports: "tcp.analysis.reused_ports", "A new tcp session is started with the same ports as an earlier session in this trace", None, None;
        analysis_retransmission: "tcp.analysis.retransmission", "This frame is a (suspected) retransmission", None, None;
        analysis_fast_retransmission: "tcp.analysis.fast_retransmission", "This frame is a (suspected) fast retransmission", None, None;
        analysis_spurious: "tcp.analysis.spurious_retransmission", "This frame is a (suspected) spurious retransmission", None, None;
        analysis_out_of_order: "tcp.analysis.out_of_order", "This frame is a (suspected) out-of-order segment", None, None;
        analysis_keep_alive: "tcp.analysis.keep_alive", "This is a TCP keep-alive segment", None, None;
        analysis_lost_segment: "tcp.analysis.lost_segment", "Previous segment(s) not captured (common at capture start)", None, None;
        analysis_ack_lost_segment: "tcp.analysis.ack_lost_segment", "ACKed segment that wasn't captured (common at capture start)", None, None;
        analysis_window_update: "tcp.analysis.window_update", "This is a tcp window update", None, None;
        analysis_window_full: "tcp.analysis.window_full", "TCP window specified by the receiver is now completely full", None, None;
        analysis_keep_alive_ack: "tcp.analysis.keep_alive_ack", "ACK to a TCP keep-alive segment", None, None;
        analysis_zero_window_probe: "tcp.analysis.zero_window_probe", "TCP Zero Window Probe", None, None;
        analysis_zero_window: "tcp.analysis.zero_window", "TCP Zero Window segment", None, None;
        analysis_zero_window_probe_ack: "tcp.analysis.zero_window_probe_ack", "ACK to a TCP Zero Window Probe", None, None;
        analysis_duplicate_ack: "tcp.analysis.duplicate_ack", "This is a TCP duplicate ack", None, None;
        analysis_duplicate_ack_num: "tcp.analysis.duplicate_ack_num", "Duplicate ACK #", U32, Dec;
        analysis_duplicate_ack_frame: "tcp.analysis.duplicate_ack_frame", "Duplicate to the ACK in frame", FrameNum, None;
        segment_data: "tcp.segment_data", "TCP segment data", Bytes, None;
        reassembled_in: "tcp.reassembled_in", "Reassembled PDU in frame", FrameNum, None;
        segments: "tcp.segments", "Reassembled TCP Segments", None, None;
        segment: "tcp.segment", "TCP Segment", FrameNum, None;
        segment_count: "tcp.segment.count", "Segment count", U32, Dec;
        reassembled_length: "tcp.reassembled.length", "Reassembled TCP length", U32, Dec;
        reassembled_data: "tcp.reassembled.data", "Reassembled TCP Data", Bytes, None;
    }
}

/// Bytes all PDUs under reassembly may hold together, per worker.
const REASSEMBLY_BUDGET: usize = 512 << 20;

const FIN: u16 = 0x01;
const SYN: u16 = 0x02;
const RST: u16 = 0x04;
const ACK: u16 = 0x10;

/// Window scale of one direction, as Wireshark tracks it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scale {
    /// No SYN seen: the multiplier is unknown (-1).
    Unknown,
    /// The handshake said no scaling (-2).
    NotUsed,
    Shift(u8),
}

#[derive(Clone, Copy)]
struct Flow {
    base_seq: Option<u32>,
    scale: Scale,
    /// A SYN was sent and no bare ACK since: the window of this direction
    /// is not scaled yet for the window-full check (Wireshark's
    /// `is_first_ack`).
    first_ack: bool,
}

impl Default for Flow {
    fn default() -> Self {
        Flow {
            base_seq: None,
            scale: Scale::Unknown,
            first_ack: false,
        }
    }
}

/// One conversation as the table holds it (boxed, beside its key).
struct Conv {
    index: u32,
    st: ConvState,
}

impl std::ops::Deref for Conv {
    type Target = ConvState;
    fn deref(&self) -> &ConvState {
        &self.st
    }
}

impl std::ops::DerefMut for Conv {
    fn deref_mut(&mut self) -> &mut ConvState {
        &mut self.st
    }
}

/// Ended conversations (FIN both ways, or RST) whose whole state is kept,
/// at most: past it the oldest is retired to its stream index and start
/// time, so that a capture of many short connections holds tens of bytes
/// for each. A packet that comes for a retired conversation (a stray
/// retransmission) gets fresh sequence analysis; a SYN starts a new stream,
/// as on any closed conversation.
const ENDED_KEPT: usize = 1 << 14;

struct ConvState {
    /// Sequence analysis and reassembly, indexed like `flows`.
    seq: [SeqAnalysis; 2],
    /// Reassembly of both directions, made when one of them first holds
    /// something (most connections whose PDUs each fit a segment never do).
    reasm: Option<Box<[Direction; 2]>>,
    /// Time of the latest SYN, and the handshake round trip once known.
    syn_time: Option<Timestamp>,
    first_rtt: Option<i64>,
    /// Flows indexed by "source is the lower endpoint".
    flows: [Flow; 2],
    first: Timestamp,
    last: Timestamp,
    completeness: u8,
    /// FINs seen, by bit of `flows` index.
    fins: u8,
    /// The dissectors were told the stream ended (FIN both ways, or RST).
    ended: bool,
}

pub struct Tcp {
    f: TcpFields,
    convs: RefCell<Conversations<Conv>>,
    /// Ended conversations, oldest first (see [`ENDED_KEPT`]).
    ended: RefCell<VecDeque<(ConvKey, u32)>>,
    budget: Budget,
}

/// A start time as [`Conversations::retire`] keeps it.
fn to_mark(ts: Timestamp) -> i64 {
    i64::try_from(ts.as_nanos()).unwrap_or(if ts.secs < 0 { i64::MIN } else { i64::MAX })
}

fn from_mark(mark: i64) -> Timestamp {
    Timestamp::new(
        mark.div_euclid(1_000_000_000),
        mark.rem_euclid(1_000_000_000) as i32,
    )
}

impl Tcp {
    /// Queues an ended conversation; retires the oldest past [`ENDED_KEPT`].
    fn note_ended(&self, convs: &mut Conversations<Conv>, key: ConvKey, index: u32) {
        let Ok(mut ended) = self.ended.try_borrow_mut() else {
            return;
        };
        ended.push_back((key, index));
        while ended.len() > ENDED_KEPT {
            let Some((old, i)) = ended.pop_front() else {
                break;
            };
            let first = match convs.get_mut(&old) {
                Some(c) if c.index == i && c.ended => c.first,
                _ => continue,
            };
            convs.retire(&old, i, to_mark(first));
        }
    }

    pub fn new(f: TcpFields) -> Self {
        Tcp {
            f,
            convs: RefCell::new(Conversations::default()),
            ended: RefCell::new(VecDeque::new()),
            budget: Budget::new(REASSEMBLY_BUDGET),
        }
    }
}

/// `··········S·`: one letter per flag bit, a middle dot when clear.
fn flags_str(flags: u16) -> String {
    const LETTERS: &[u8; 12] = b"RRRACEUAPRSF";
    LETTERS
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if (flags >> (11 - i)) & 1 == 1 {
                char::from(c)
            } else {
                '\u{b7}'
            }
        })
        .collect()
}

/// Whether the direction's initial sequence number is known
/// (`TCP_S_BASE_SEQ_SET`).
fn flows_base_set(conv: &Conv, fi: usize) -> bool {
    conv.flows.get(fi).is_some_and(|fl| fl.base_seq.is_some())
}

/// The window scale shift of a SYN's options, if it carries one.
fn wscale_option(opts: &[u8]) -> Option<u8> {
    let mut i = 0usize;
    while let Some(&kind) = opts.get(i) {
        match kind {
            0 => return None,
            1 => i += 1,
            _ => {
                let len = usize::from(*opts.get(i + 1)?);
                if len < 2 {
                    return None;
                }
                if kind == 3 && len == 3 {
                    return opts.get(i + 2).map(|&s| s.min(14));
                }
                i += len;
            }
        }
    }
    None
}

/// Where the first read of Wireshark's fixed-header reads (ports, sequence,
/// acknowledgement, offset byte, flags, window, then checksum and urgent
/// pointer) ends past `len` captured bytes.
fn short_header_read_end(len: usize) -> usize {
    first_read_past(len, &[4, 8, 12, 13, 14, 16, 20])
}

/// Walks the options as `tcp_dissect_options` does over `length` bytes of
/// which `opts` were captured; returns where (from the options' start) the
/// first read past the captured bytes ends, or `None` when the walk stays
/// inside them. Each option's dissector is taken to read all of its bytes.
/// The walk stops at a bad length with an expert item over the rest of the
/// options, which throws (after it is added) when that rest is not there.
fn options_overrun(opts: &[u8], length: usize) -> Option<usize> {
    let expert_over = |start: usize, len: usize| {
        let end = start.saturating_add(len);
        (end > opts.len()).then_some(end)
    };
    let mut length = length;
    let mut off = 0usize;
    let mut eol_seen = false;
    // Every step consumes at least one byte of `length`.
    while length > 0 {
        let Some(&opt) = opts.get(off) else {
            return Some(off + 1);
        };
        if eol_seen && opt != 0 {
            // Non-zero padding after the end of the option list.
            return expert_over(off, length);
        }
        length -= 1;
        if opt <= 1 {
            off += 1;
        } else {
            if length == 0 {
                return None;
            }
            let Some(&optlen) = opts.get(off + 1) else {
                return Some(off + 2);
            };
            length -= 1;
            let optlen = usize::from(optlen);
            if optlen < 2 {
                return None;
            }
            if optlen - 2 > length {
                // The option says it runs past the end of the options.
                return expert_over(off, length);
            }
            if off + optlen > opts.len() {
                return Some(off + optlen);
            }
            off += optlen;
            length -= optlen - 2;
        }
        if opt == 0 {
            eol_seen = true;
        }
    }
    None
}

impl Dissector for Tcp {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.f;
        let reported = cx.reported;
        let (Some(sport), Some(dport)) = (be16(data, 0), be16(data, 2)) else {
            // Wireshark reads the ports before it adds the TCP item.
            cx.t.add_nested_layer("tcp");
            cx.bounds_error(4, "TCP");
            return Outcome::Done(data.len());
        };
        cx.t.add_layer("tcp");
        let entry = cx.t.push_proto(f.tcp, data.get(..20).unwrap_or(data));
        cx.t.push_u(f.srcport, sport);
        cx.t.push_u(f.dstport, dport);
        cx.t.push_u(f.port, sport);
        cx.t.push_u(f.port, dport);
        cx.srcport = sport;
        cx.dstport = dport;
        if let Some(c) = cx.cols() {
            c.set_protocol("TCP");
            c.clear_info();
            c.append_info_num("", u64::from(sport));
            c.append_info_num(" \u{2192} ", u64::from(dport));
        }
        let (Some(raw_seq), Some(raw_ack), Some(off_flags), Some(win), Some(sum), Some(urp)) = (
            be32(data, 4),
            be32(data, 8),
            be16(data, 12),
            be16(data, 14),
            be16(data, 16),
            be16(data, 18),
        ) else {
            cx.bounds_error(short_header_read_end(data.len()), "TCP");
            return Outcome::Done(data.len());
        };
        let hlen = usize::from(off_flags >> 12) * 4;
        let flags = off_flags & 0x0fff;
        let syn_only = flags & (SYN | ACK) == SYN;

        let ts = cx.frame.ts;
        let (key, src_low) = ConvKey::new((cx.src, sport), (cx.dst, dport));
        let mut convs = self.convs.borrow_mut();
        let new_conv = |index| Conv {
            index,
            st: ConvState {
                seq: [SeqAnalysis::default(); 2],
                reasm: None,
                syn_time: None,
                first_rtt: None,
                flows: [Flow::default(); 2],
                first: ts,
                last: ts,
                completeness: 0,
                fins: 0,
                ended: false,
            },
        };
        let (fi, ri) = if src_low { (0, 1) } else { (1, 0) };
        // Wireshark's TCP_A_REUSED_PORTS: a SYN, or a SYN-ACK, whose
        // sequence number is not the known initial one of its direction.
        let mut reused_ports = false;
        if let Found::Retired { index, mark } = convs.find(&key) {
            // A retired conversation keeps no sequence base: a SYN on it
            // comes long after its end, with a new initial number.
            reused_ports = syn_only;
            if !syn_only {
                let mut c = new_conv(index);
                c.first = from_mark(mark);
                // Told once already; retired again in its turn.
                c.fins = 3;
                c.ended = true;
                convs.revive(key, index, c);
                self.note_ended(&mut convs, key, index);
            }
        }
        // A SYN with a new initial sequence number reuses the ports: a new stream.
        let reused = convs.get_mut(&key).map(|c| {
            syn_only
                && c.flows
                    .get(fi)
                    .and_then(|fl| fl.base_seq)
                    .is_some_and(|b| b != raw_seq)
        });
        reused_ports |= reused == Some(true);
        let is_new = reused != Some(false);
        let conv = match convs.get_mut(&key) {
            Some(c) if !is_new => c,
            _ => {
                cx.t.note_new_index(f.stream);
                convs.start(key, new_conv)
            }
        };
        if syn_only && !is_new && flows_base_set(conv, fi) {
            if let Some(s) = conv.seq.get_mut(fi) {
                s.restore_on_syn();
            }
        }
        let index = conv.index;
        let completeness = update_completeness(conv, is_new, flags, data.len() > hlen);
        cx.t.push_u(f.stream, index);
        cx.t.push_u(f.completeness, completeness);
        // A segment quoted by an ICMP error is not part of the stream.
        let in_error = cx.t.layers().iter().any(|l| *l == "icmp" || *l == "icmpv6");
        let mut flows = conv.flows;
        if hlen < 20 {
            // A bogus header length: Wireshark still takes the sequence
            // base from the flags, shows the segment's length and the head
            // of the summary, then stops.
            set_bases(&mut flows, fi, ri, flags, raw_seq, raw_ack);
            conv.flows = flows;
            let base = |i: usize| flows.get(i).and_then(|fl| fl.base_seq).unwrap_or(0);
            let seq = raw_seq.wrapping_sub(base(fi));
            let ack = raw_ack.wrapping_sub(base(ri));
            let seglen = reported.saturating_sub(hlen);
            // Its sequence numbers count for the analysis of what follows
            // (Wireshark analyses before it checks the header length).
            if !in_error {
                let seg = (raw_seq, raw_ack, seglen, flags, u32::from(win));
                analyse(conv, fi, seg, cx.frame.number, ts);
            }
            drop(convs);
            cx.t.push_u(f.len, seglen as u64);
            cx.t.push_u(f.seq, seq);
            cx.t.push_u(f.seq_raw, raw_seq);
            cx.t.push_u(f.hdr_len, hlen as u64);
            if let Some(c) = cx.cols() {
                summary_head(c, flags, seq, ack, u64::from(win));
                c.append_info_fmt(format_args!(
                    ", bogus TCP header length ({hlen}, must be at least 20)"
                ));
            }
            return Outcome::Done(data.len());
        }
        // Only a header of sound length reaches tshark's TCP tap (the
        // conversation and endpoint tables).
        cx.t.set_transport(Transport {
            src: cx.src,
            dst: cx.dst,
            srcport: sport,
            dstport: dport,
            stream: index,
        });
        // A SYN-ACK whose sequence number differs from the base guessed
        // from earlier segments resets that base.
        if flags & (SYN | ACK) == SYN | ACK {
            if let Some(fl) = flows.get_mut(fi) {
                if fl.base_seq.is_some_and(|b| b != raw_seq) {
                    fl.base_seq = Some(raw_seq);
                    reused_ports = true;
                }
            }
        }
        if cx.fragmented {
            // The first fragment of a datagram not reassembled: its length is
            // unknown, so TCP shows raw numbers and hands nothing on.
            conv.flows = flows;
            drop(convs);
            cx.t.push_u(f.seq, raw_seq);
            cx.t.push_u(f.seq_raw, raw_seq);
            cx.t.push_u(f.ack, raw_ack);
            cx.t.push_u(f.ack_raw, raw_ack);
            cx.t.push_u(f.hdr_len, hlen as u64);
            self.push_flags_and_window(cx, flags, win, u64::from(win), None, sum, urp);
            return Outcome::Done(data.len());
        }
        let seglen = reported.saturating_sub(hlen);
        if reported < hlen && !cx.in_error {
            // "Short segment": no segment length, and the expert info (of
            // the malformed group) brings a hidden `_ws.malformed`.
            cx.malformed_expert();
        } else {
            cx.t.push_u(f.len, seglen as u64);
        }
        set_bases(&mut flows, fi, ri, flags, raw_seq, raw_ack);
        let opts = data.get(20..hlen.min(data.len())).unwrap_or_default();
        if flags & SYN != 0 {
            if let Some(shift) = wscale_option(opts) {
                if let Some(fl) = flows.get_mut(fi) {
                    fl.scale = Scale::Shift(shift);
                }
            }
            verify_scaling(&mut flows, fi, ri, flags & ACK != 0);
        }
        conv.flows = flows;
        let fwd = flows.get(fi).copied().unwrap_or_default();
        let rev = flows.get(ri).copied().unwrap_or_default();
        let rel_time = ts.nanos_since(conv.first);
        let delta = ts.nanos_since(conv.last);
        conv.last = ts;

        let seq = raw_seq.wrapping_sub(fwd.base_seq.unwrap_or(0));
        let ack = if flags & ACK != 0 {
            raw_ack.wrapping_sub(rev.base_seq.unwrap_or(0))
        } else {
            raw_ack
        };
        let mut seg_flags = if in_error {
            SegFlags::default()
        } else {
            // Wireshark analyses raw sequence numbers: a base reset by a
            // SYN-ACK (port reuse) does not reset what was seen before it.
            // The window as sent: a SYN's is never scaled, and the ACK after
            // it with the same field is a duplicate, not an update (as
            // tshark decides it).
            analyse(
                conv,
                fi,
                (raw_seq, raw_ack, seglen, flags, u32::from(win)),
                cx.frame.number,
                ts,
            )
        };
        seg_flags.reused_ports = reused_ports && !in_error;
        if flags & FIN != 0 && !in_error {
            conv.fins |= 1 << fi;
        }
        let end_now = !in_error && !conv.ended && (flags & RST != 0 || conv.fins == 3);
        conv.ended |= end_now;
        if flags & (SYN | ACK) == SYN {
            conv.syn_time = Some(ts);
        } else if flags & (SYN | ACK) == ACK && conv.first_rtt.is_none() {
            if let Some(t) = conv.syn_time {
                conv.first_rtt = Some(ts.nanos_since(t));
            }
        }
        drop(convs);
        cx.t.push_u(f.seq, seq);
        cx.t.push_u(f.seq_raw, raw_seq);
        let nxt = seq.wrapping_add(seglen as u32);
        cx.t.push_u(
            f.nxtseq,
            if flags & (SYN | FIN) != 0 {
                nxt.wrapping_add(1)
            } else {
                nxt
            },
        );
        cx.t.push_u(f.ack, ack);
        cx.t.push_u(f.ack_raw, raw_ack);
        cx.t.push_u(f.hdr_len, hlen as u64);
        let scaled = match (flags & SYN != 0, fwd.scale) {
            (false, Scale::Shift(s)) => u64::from(win) << s,
            _ => u64::from(win),
        };
        let factor = (flags & SYN == 0).then_some(match fwd.scale {
            Scale::Unknown => -1,
            Scale::NotUsed => -2,
            Scale::Shift(s) => 1i64 << s,
        });
        self.push_flags_and_window(cx, flags, win, scaled, factor, sum, urp);
        if !opts.is_empty() {
            cx.t.push_bytes(f.options, opts);
        }
        let rev_base = rev.base_seq;
        // Info of a segment whose header was read whole.
        let read_summary = |c: &mut dorsal_engine::columns::Columns| {
            summary(
                c,
                flags,
                seq,
                ack,
                scaled,
                urp,
                Some(seglen),
                opts,
                rev_base,
            );
        };
        if let Some(end) = options_overrun(from(data, 20), hlen.saturating_sub(20)) {
            // The option walk read past the bytes there are: Wireshark stops
            // the segment there, after its timestamps and before analysis
            // and payload.
            cx.t.push(f.time_relative, Value::RelTime(rel_time));
            cx.t.push(f.time_delta, Value::RelTime(delta));
            if let Some(c) = cx.cols() {
                // Info has the numbers and the options read before the
                // one that failed; a segment shorter than its header keeps
                // raw numbers and no length (no analysis ran for it).
                if reported < hlen {
                    let w = u64::from(win);
                    summary(c, flags, raw_seq, raw_ack, w, urp, None, opts, rev_base);
                } else {
                    read_summary(c);
                }
            }
            cx.bounds_error(end.saturating_add(20), "TCP");
            return Outcome::Done(data.len());
        }
        push_analysis(cx, f, seg_flags);
        if let Some(c) = cx.cols() {
            read_summary(c);
            analysis_prefix(c, seg_flags);
        }
        cx.t.push(f.time_relative, Value::RelTime(rel_time));
        cx.t.push(f.time_delta, Value::RelTime(delta));
        if cx.t.wants_label(entry) {
            let mut label = format!(
                "Transmission Control Protocol, Src Port: {sport}, Dst Port: {dport}, Seq: {seq}"
            );
            if flags & ACK != 0 {
                label.push_str(&format!(", Ack: {ack}"));
            }
            label.push_str(&format!(", Len: {seglen}"));
            cx.t.set_label(entry, &label);
        }

        let payload = from(data, hlen);
        let seg = Seg {
            key,
            index,
            fi,
            direction: u8::from(!src_low),
            // A SYN's data (TCP Fast Open) starts after the SYN's number.
            seq: if flags & SYN != 0 {
                seq.wrapping_add(1)
            } else {
                seq
            },
            sport,
            dport,
        };
        if seglen > 0 && flags & RST != 0 {
            // RFC 1122 lets a RST carry text that explains it: Wireshark
            // shows it as such and hands it to no protocol.
            let text = payload.split(|&b| b == 0).next().unwrap_or_default();
            cx.t.push_str(f.reset_cause, text);
        } else if seglen > 0 {
            cx.t.push_bytes(f.payload, payload);
            if payload.len() < seglen || in_error {
                // Cut short by the snaplen, or inside an ICMP error: no
                // reassembly, as in Wireshark.
                let info = Delivered {
                    seq,
                    reassembled: false,
                    can_desegment: false,
                };
                self.handoff(cx, &seg, payload, info);
            } else if seg_flags.keep_alive {
                cx.call_by_name("data", payload);
            } else if !(seg_flags.retransmission || seg_flags.spurious_retransmission) {
                let (report, at) = self.reassemble(cx, &seg, payload, !seg_flags.out_of_order);
                self.report(cx, &report, Some(at));
            }
        }
        if flags & FIN != 0 && payload.len() >= seglen && !in_error {
            let report = self.fin(cx, &seg, payload);
            self.report(cx, &report, None);
        }
        if end_now {
            self.note_ended(&mut self.convs.borrow_mut(), key, index);
            cx.end_stream(&Transport {
                src: cx.src,
                dst: cx.dst,
                srcport: sport,
                dstport: dport,
                stream: index,
            });
        }
        Outcome::Done(data.len())
    }
}

/// Sets what is not set yet of the directions' sequence bases: the
/// sender's from its sequence number (a SYN's own, else the one before),
/// the receiver's from an acknowledgment.
fn set_bases(flows: &mut [Flow; 2], fi: usize, ri: usize, flags: u16, raw_seq: u32, raw_ack: u32) {
    if let Some(fl) = flows.get_mut(fi).filter(|fl| fl.base_seq.is_none()) {
        fl.base_seq = Some(if flags & SYN != 0 {
            raw_seq
        } else {
            raw_seq.wrapping_sub(1)
        });
    }
    if flags & ACK != 0 {
        if let Some(rl) = flows.get_mut(ri).filter(|rl| rl.base_seq.is_none()) {
            rl.base_seq = Some(raw_ack.wrapping_sub(1));
        }
    }
}

/// One segment through the sequence analysis of its direction `fi`:
/// `seg` is (raw seq, raw ack, segment length, flags, window field).
fn analyse(
    conv: &mut ConvState,
    fi: usize,
    seg: (u32, u32, usize, u16, u32),
    frame: u32,
    ts: dorsal_engine::table::Timestamp,
) -> SegFlags {
    let (raw_seq, raw_ack, seglen, flags, window) = seg;
    // The other direction's window as the window-full check scales it.
    let rev_shift = conv.flows.get(fi ^ 1).and_then(|fl| match fl.scale {
        Scale::Unknown => None,
        _ if fl.first_ack => Some(0),
        Scale::NotUsed => Some(0),
        Scale::Shift(s) => Some(u32::from(s)),
    });
    let cx = SeqContext {
        first_rtt: conv.first_rtt,
        rev_shift,
    };
    let s = Segment {
        seq: raw_seq,
        ack: raw_ack,
        len: u32::try_from(seglen).unwrap_or(u32::MAX),
        flags,
        window,
        frame,
        now: ts,
    };
    let [a, b] = &mut conv.seq;
    let (fa, ra) = if fi == 0 { (a, b) } else { (b, a) };
    let out = SeqAnalysis::segment(fa, ra, s, cx);
    if let Some(fl) = conv.flows.get_mut(fi) {
        if flags & SYN != 0 {
            fl.first_ack = true;
        } else if flags & ACK != 0 {
            fl.first_ack = false;
        }
    }
    out
}

/// Flag names in the order of Wireshark's `tcp_flags_to_str`.
const FLAG_NAMES: [(u16, &str); 9] = [
    (0x001, "FIN"),
    (0x002, "SYN"),
    (0x004, "RST"),
    (0x008, "PSH"),
    (0x010, "ACK"),
    (0x020, "URG"),
    (0x040, "ECE"),
    (0x080, "CWR"),
    (0x100, "AE"),
];

/// The Info text after the ports: flags, numbers and options.
#[allow(clippy::too_many_arguments)]
fn summary(
    c: &mut dorsal_engine::columns::Columns,
    flags: u16,
    seq: u32,
    ack: u32,
    win: u64,
    urp: u16,
    seglen: Option<usize>,
    opts: &[u8],
    rev_base: Option<u32>,
) {
    summary_head(c, flags, seq, ack, win);
    if flags & 0x0020 != 0 {
        c.append_info_num(" Urg=", u64::from(urp));
    }
    if let Some(len) = seglen {
        c.append_info_num(" Len=", len as u64);
    }
    option_summary(c, opts, rev_base.unwrap_or(0));
}

/// Info's ` [flags] Seq=.. Ack=.. Win=..`, all a bogus header still gets.
fn summary_head(c: &mut dorsal_engine::columns::Columns, flags: u16, seq: u32, ack: u32, win: u64) {
    let mut first = true;
    c.append_info(" [");
    for (bit, name) in FLAG_NAMES {
        if flags & bit != 0 {
            if !first {
                c.append_info(", ");
            }
            c.append_info(name);
            first = false;
        }
    }
    if flags & 0x0e00 != 0 {
        if !first {
            c.append_info(", ");
        }
        c.append_info("Reserved");
        first = false;
    }
    if first {
        c.append_info("<None>");
    }
    c.append_info_num("] Seq=", u64::from(seq));
    if flags & ACK != 0 {
        c.append_info_num(" Ack=", u64::from(ack));
    }
    c.append_info_num(" Win=", win);
}

/// What the options add to Info (`MSS=1460 SACK_PERM ...`).
fn option_summary(c: &mut dorsal_engine::columns::Columns, opts: &[u8], rev_base: u32) {
    let mut i = 0usize;
    // Each step advances by at least one byte.
    while let Some(&kind) = opts.get(i) {
        match kind {
            0 => return,
            1 => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let Some(len) = opts.get(i + 1).map(|&l| usize::from(l)) else {
            return;
        };
        if len < 2 || i + len > opts.len() {
            return;
        }
        let body = opts.get(i + 2..i + len).unwrap_or_default();
        match (kind, len) {
            (2, 4) => {
                if let Some(v) = be16(body, 0) {
                    c.append_info_num(" MSS=", u64::from(v));
                }
            }
            (3, 3) => {
                if let Some(&s) = body.first() {
                    let m = 1u32 << s.min(14);
                    c.append_info_num(" WS=", u64::from(m));
                }
            }
            (4, 2) => c.append_info(" SACK_PERM"),
            // The TCP Authentication Option: tshark appends it without a space.
            (29, _) => c.append_info("TCP AO"),
            // TCP Fast Open: a cookie request, or a cookie.
            (34, 2) => c.append_info(" TFO=R"),
            (34, _) => c.append_info(" TFO=C"),
            // The same before its number: an experimental option, ExID 0xF989.
            (254, 4) if body == [0xf9, 0x89] => c.append_info(" TFO=R"),
            (254, _) if body.starts_with(&[0xf9, 0x89]) => c.append_info(" TFO=C"),
            (5, _) => {
                let mut j = 0;
                while let (Some(l), Some(r)) = (be32(body, j), be32(body, j + 4)) {
                    c.append_info_fmt(format_args!(
                        " SLE={} SRE={}",
                        l.wrapping_sub(rev_base),
                        r.wrapping_sub(rev_base)
                    ));
                    j += 8;
                }
            }
            (8, 10) => {
                if let (Some(v), Some(e)) = (be32(body, 0), be32(body, 4)) {
                    c.append_info_num(" TSval=", u64::from(v));
                    c.append_info_num(" TSecr=", u64::from(e));
                }
            }
            _ => {}
        }
        i += len;
    }
}

/// The expert prefixes tshark shows before the ports.
fn analysis_prefix(c: &mut dorsal_engine::columns::Columns, fl: SegFlags) {
    // Wireshark prepends each in this order, so the last one comes first.
    let dup = fl
        .duplicate_ack
        .map(|(num, frame)| format!("[TCP Dup ACK {frame}#{num}] "));
    let prefixes = [
        (fl.reused_ports, "[TCP Port numbers reused] "),
        (fl.retransmission, "[TCP Retransmission] "),
        (fl.fast_retransmission, "[TCP Fast Retransmission] "),
        (fl.spurious_retransmission, "[TCP Spurious Retransmission] "),
        (fl.out_of_order, "[TCP Out-Of-Order] "),
        (fl.lost_segment, "[TCP Previous segment not captured] "),
        (fl.ack_lost_segment, "[TCP ACKed unseen segment] "),
        (fl.window_update, "[TCP Window Update] "),
        (fl.window_full, "[TCP Window Full] "),
        (fl.keep_alive, "[TCP Keep-Alive] "),
        (fl.keep_alive_ack, "[TCP Keep-Alive ACK] "),
        (dup.is_some(), dup.as_deref().unwrap_or_default()),
        (fl.zero_window_probe, "[TCP ZeroWindowProbe] "),
        (fl.zero_window, "[TCP ZeroWindow] "),
        (fl.zero_window_probe_ack, "[TCP ZeroWindowProbeAck] "),
    ];
    for (set, text) in prefixes {
        if set {
            c.prepend_info(text);
        }
    }
}

/// Where a segment belongs, for the calls that follow its header.
struct Seg {
    key: ConvKey,
    index: u32,
    fi: usize,
    direction: u8,
    seq: u32,
    sport: u16,
    dport: u16,
}

fn push_analysis(cx: &mut Cx<'_>, f: &TcpFields, fl: SegFlags) {
    if !fl.any() {
        return;
    }
    cx.t.push(f.analysis, Value::None);
    cx.t.push(f.analysis_flags, Value::None);
    // The expert items in the order Wireshark adds them.
    let items = [
        (fl.reused_ports, f.analysis_reused_ports),
        (fl.retransmission, f.analysis_retransmission),
        (fl.fast_retransmission, f.analysis_fast_retransmission),
        (fl.fast_retransmission, f.analysis_retransmission),
        (fl.spurious_retransmission, f.analysis_spurious),
        (fl.spurious_retransmission, f.analysis_retransmission),
        (fl.out_of_order, f.analysis_out_of_order),
        (fl.lost_segment, f.analysis_lost_segment),
        (fl.ack_lost_segment, f.analysis_ack_lost_segment),
        (fl.window_update, f.analysis_window_update),
        (fl.window_full, f.analysis_window_full),
        (fl.keep_alive, f.analysis_keep_alive),
        (fl.keep_alive_ack, f.analysis_keep_alive_ack),
    ];
    push_set(cx, &items);
    if let Some((num, frame)) = fl.duplicate_ack {
        cx.t.push(f.analysis_duplicate_ack, Value::None);
        cx.t.push_u(f.analysis_duplicate_ack_num, num);
        cx.t.push_u(f.analysis_duplicate_ack_frame, frame);
    }
    let zero = [
        (fl.zero_window_probe, f.analysis_zero_window_probe),
        (fl.zero_window, f.analysis_zero_window),
        (fl.zero_window_probe_ack, f.analysis_zero_window_probe_ack),
    ];
    push_set(cx, &zero);
}

/// Pushes each field whose flag is set, in order.
fn push_set(cx: &mut Cx<'_>, items: &[(bool, dorsal_engine::fields::FieldId)]) {
    for &(set, field) in items {
        if set {
            cx.t.push(field, Value::None);
        }
    }
}

impl Tcp {
    /// Hands application bytes to `tcp.port` (lower port first), then the
    /// heuristics, then `data`.
    fn handoff(&self, cx: &mut Cx<'_>, seg: &Seg, bytes: &[u8], info: Delivered) -> Outcome {
        cx.tcp = Some(TcpPayloadInfo {
            stream: seg.index,
            direction: seg.direction,
            seq: info.seq,
            reassembled: info.reassembled,
            can_desegment: info.can_desegment,
        });
        let table = cx.table("tcp.port");
        let (low, high) = if seg.sport > seg.dport {
            (seg.dport, seg.sport)
        } else {
            (seg.sport, seg.dport)
        };
        for port in [low, high] {
            if port == 0 {
                continue;
            }
            cx.set_next_reported(bytes.len());
            match cx.call_table(table, u32::from(port), bytes) {
                Some(Outcome::Rejected) | None => {}
                Some(out) => return out,
            }
        }
        let heur = cx.table("tcp.heur");
        match cx.try_heuristics(heur, bytes) {
            Some(out) => out,
            None => {
                cx.call_by_name("data", bytes);
                Outcome::Done(bytes.len())
            }
        }
    }

    /// Takes the reassembly state of the segment's direction out of the
    /// conversation table for the duration of `work` (the application may
    /// run other TCP dissections meanwhile), then puts it back.
    fn with_direction(
        &self,
        seg: &Seg,
        work: impl FnOnce(&mut Direction) -> SegmentReport,
    ) -> SegmentReport {
        let mut dir = {
            let mut convs = self.convs.borrow_mut();
            match convs.get_mut(&seg.key) {
                Some(c) if c.index == seg.index => c
                    .reasm
                    .as_mut()
                    .and_then(|r| r.get_mut(seg.fi))
                    .map(std::mem::take)
                    .unwrap_or_default(),
                _ => return SegmentReport::default(),
            }
        };
        let report = work(&mut dir);
        let mut convs = self.convs.borrow_mut();
        if let Some(c) = convs.get_mut(&seg.key) {
            if c.index == seg.index {
                // An idle direction equals a new one: only make the pair
                // when there is something to keep.
                if c.reasm.is_none() && !dir.is_idle() {
                    c.reasm = Some(Box::default());
                }
                if let Some(slot) = c.reasm.as_mut().and_then(|r| r.get_mut(seg.fi)) {
                    *slot = dir;
                }
            }
        }
        report
    }

    /// Hands the segment to reassembly; also returns where the segments'
    /// tree item goes: among the top-level items, right after those of the
    /// call that completed the PDU (see [`SegmentReport::segments_after_call`]).
    fn reassemble(
        &self,
        cx: &mut Cx<'_>,
        seg: &Seg,
        payload: &[u8],
        app: bool,
    ) -> (SegmentReport, usize) {
        let frame = cx.frame.number;
        let budget = self.budget.clone();
        // Tree length before any call, then after each of the first calls
        // (the completing call is the first one that reaches the PDU).
        let mut marks = [cx.t.tree_items().len(); 4];
        let mut calls = 0usize;
        let report = self.with_direction(seg, |dir| {
            dir.segment(&budget, frame, seg.seq, payload, app, &mut |bytes, info| {
                if calls > 0 {
                    if let Some(c) = cx.cols() {
                        c.hold_for_next_pdu();
                    }
                }
                let out = self.handoff(cx, seg, bytes, info);
                calls = calls.saturating_add(1);
                if let Some(m) = marks.get_mut(calls) {
                    *m = cx.t.tree_items().len();
                }
                out
            })
        });
        let at = marks
            .get(report.segments_after_call)
            .copied()
            .unwrap_or(usize::MAX);
        (report, at)
    }

    fn fin(&self, cx: &mut Cx<'_>, seg: &Seg, payload: &[u8]) -> SegmentReport {
        let frame = cx.frame.number;
        self.with_direction(seg, |dir| {
            if !dir.until_fin {
                return SegmentReport::default();
            }
            dir.fin(frame, seg.seq, payload, &mut |bytes, info| {
                // On this path tshark shows the segments before it
                // dissects them.
                cx.t.add_tree_item("tcp.segments");
                self.handoff(cx, seg, bytes, info)
            })
        })
    }

    /// `tcp.segments` on the frame that completed a PDU; `tcp.reassembled_in`
    /// on the others once the first pass of `-2` has told where. `item`:
    /// where the segments' top-level tree item goes, right after the
    /// dissected PDU (tshark fails to move it behind the TCP item when the
    /// tree is not shown), before a PDU starting later in the segment.
    fn report(&self, cx: &mut Cx<'_>, report: &SegmentReport, item: Option<usize>) {
        let f = &self.f;
        // Only a segment of which nothing was dissected is marked: once a
        // PDU ended here, the bytes held for the next one leave the
        // columns to it (tshark marks only when the desegment offset is 0).
        if report.held && !report.completed {
            if let Some(c) = cx.cols() {
                c.set_protocol("TCP");
                c.append_info_sep(" ", "[TCP segment of a reassembled PDU]");
            }
        }
        let frame = cx.frame.number;
        if !report.segments.is_empty() {
            if let Some(at) = item {
                cx.t.insert_tree_item(at, "tcp.segments");
            }
            cx.t.push(f.segments, Value::None);
            for &s in &report.segments {
                cx.t.push_u(f.segment, s);
                if s != frame {
                    cx.notes.set(s, f.reassembled_in, u64::from(frame));
                }
            }
            cx.t.push_u(f.segment_count, report.segments.len() as u64);
            cx.t.push_u(f.reassembled_length, report.reassembled_len as u64);
        }
        if cx.frame.visited {
            if let Some(r) = cx.notes.get(frame, f.reassembled_in) {
                if r != u64::from(frame) {
                    cx.t.push_u(f.reassembled_in, r);
                }
            }
        }
    }
}

impl Tcp {
    /// The flag bits, window and checksum fields, in Wireshark's tree order.
    #[allow(clippy::too_many_arguments)]
    fn push_flags_and_window(
        &self,
        cx: &mut Cx<'_>,
        flags: u16,
        win: u16,
        scaled: u64,
        factor: Option<i64>,
        sum: u16,
        urp: u16,
    ) {
        let f = &self.f;
        cx.t.push_u(f.flags, flags);
        cx.t.push_bool(f.flags_res, flags & 0x0e00 != 0);
        cx.t.push_bool(f.flags_ae, flags & 0x0100 != 0);
        cx.t.push_bool(f.flags_cwr, flags & 0x0080 != 0);
        cx.t.push_bool(f.flags_ece, flags & 0x0040 != 0);
        cx.t.push_bool(f.flags_urg, flags & 0x0020 != 0);
        cx.t.push_bool(f.flags_ack, flags & ACK != 0);
        cx.t.push_bool(f.flags_push, flags & 0x0008 != 0);
        cx.t.push_bool(f.flags_reset, flags & RST != 0);
        cx.t.push_bool(f.flags_syn, flags & SYN != 0);
        cx.t.push_bool(f.flags_fin, flags & FIN != 0);
        if cx.t.wants(f.flags_str) {
            cx.t.push_str(f.flags_str, flags_str(flags).as_bytes());
        }
        cx.t.push_u(f.window_size_value, win);
        cx.t.push_u(f.window_size, scaled);
        if let Some(factor) = factor {
            cx.t.push(f.window_size_scalefactor, Value::I(factor));
        }
        cx.t.push_u(f.checksum, sum);
        cx.t.push_u(f.checksum_status, 2u8);
        cx.t.push_u(f.urgent_pointer, urp);
    }
}

/// Wireshark's check that both SYNs agreed on window scaling.
fn verify_scaling(flows: &mut [Flow; 2], fi: usize, ri: usize, is_synack: bool) {
    let (fwd, rev) = (
        flows.get(fi).map(|f| f.scale),
        flows.get(ri).map(|f| f.scale),
    );
    match (fwd, rev) {
        (Some(Scale::Unknown), _) => {
            for fl in flows.iter_mut() {
                fl.scale = Scale::NotUsed;
            }
        }
        (Some(_), Some(Scale::NotUsed)) if is_synack => {
            if let Some(fl) = flows.get_mut(fi) {
                fl.scale = Scale::NotUsed;
            }
        }
        _ => {}
    }
}

/// `tcp.completeness` bits: 1 SYN, 2 SYN-ACK, 4 ACK, 8 data, 16 FIN, 32 RST.
fn update_completeness(conv: &mut Conv, is_new: bool, flags: u16, has_data: bool) -> u8 {
    let mut c = if is_new { 0 } else { conv.completeness };
    if is_new {
        if flags & (SYN | ACK) == SYN {
            c |= 1;
            if has_data {
                c |= 8;
            }
        }
    } else {
        if flags & (SYN | ACK) == SYN | ACK {
            c |= 2;
        }
        if flags & (SYN | ACK) == ACK {
            c |= if has_data { 8 } else { 4 };
        }
        if flags & (FIN | ACK) == FIN | ACK {
            c |= 16;
        }
        if flags & RST != 0 {
            c |= 32;
        }
    }
    conv.completeness = c;
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_walk_reports_the_first_read_past_the_capture() {
        // MSS, NOP, window scale: all there.
        assert_eq!(options_overrun(&[2, 4, 5, 0xb4, 1, 3, 3, 7], 8), None);
        // Timestamps option (10 bytes) with only 6 captured.
        assert_eq!(options_overrun(&[1, 1, 8, 10, 0, 0], 12), Some(12));
        // The kind byte itself is missing.
        assert_eq!(options_overrun(&[1, 1], 4), Some(3));
        // A length saying the option runs past the options: the expert item
        // covers the rest of the options, which throws when not captured...
        assert_eq!(options_overrun(&[0xaa, 0xaa, 0xaa], 20), Some(18));
        // ...and does not when it is.
        assert_eq!(options_overrun(&[0xaa, 0xaa, 0, 0], 4), None);
        // A length below 2 stops the walk quietly.
        assert_eq!(options_overrun(&[5, 1], 20), None);
        // Padding after the end-of-list: zeros are read to the end.
        assert_eq!(options_overrun(&[0, 0], 4), Some(3));
        assert_eq!(options_overrun(&[0, 7], 4), Some(4));
    }

    #[test]
    fn short_header_reads_end_at_wiresharks_read_sizes() {
        assert_eq!(short_header_read_end(0), 4);
        assert_eq!(short_header_read_end(5), 8);
        assert_eq!(short_header_read_end(12), 13);
        assert_eq!(short_header_read_end(14), 16);
        assert_eq!(short_header_read_end(17), 20);
    }

    #[test]
    fn flag_letters() {
        assert_eq!(flags_str(0x002), "··········S·");
        assert_eq!(flags_str(0x018), "·······AP···");
    }

    /// A live conversation's state, boxed beside its key: about 200 bytes
    /// for each of the last [`ENDED_KEPT`] ended ones and every open one.
    #[test]
    fn a_conversation_state_stays_small() {
        assert!(std::mem::size_of::<Conv>() <= 216);
    }

    #[test]
    fn start_times_survive_retirement() {
        for ts in [
            Timestamp::new(0, 0),
            Timestamp::new(1_700_000_000, 123_456_789),
            Timestamp::new(4_294_967_295, 999_999_999),
            Timestamp::new(-5, 7),
        ] {
            assert_eq!(from_mark(to_mark(ts)), ts);
        }
    }

    #[test]
    fn window_scale_option_is_found_after_nops() {
        assert_eq!(wscale_option(&[2, 4, 5, 0xb4, 1, 3, 3, 7]), Some(7));
        assert_eq!(wscale_option(&[1, 1, 0, 3, 3, 7]), None);
        assert_eq!(wscale_option(&[3, 3, 20]), Some(14));
        assert_eq!(wscale_option(&[5, 0]), None);
    }
}
