//! UDP: ports, length, stream index, and the handoff to `udp.port`.

use std::cell::RefCell;

use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::fields;
use dorsal_engine::table::{Timestamp, Value};

use crate::conv::{ConvKey, Conversations};
use dorsal_engine::bytes::{be16, from};

fields! {
    pub struct UdpFields {
        udp: "udp", "User Datagram Protocol", Protocol, None;
        srcport: "udp.srcport", "Source Port", U16, Dec;
        dstport: "udp.dstport", "Destination Port", U16, Dec;
        port: "udp.port", "Source or Destination Port", U16, Dec;
        length: "udp.length", "Length", U16, Dec;
        checksum: "udp.checksum", "Checksum", U16, Hex;
        checksum_status: "udp.checksum.status", "Checksum Status", U8, None;
        stream: "udp.stream", "Stream index", U32, Dec;
        time_relative: "udp.time_relative", "Time since first frame", RelTime, None;
        time_delta: "udp.time_delta", "Time since previous frame", RelTime, None;
        payload: "udp.payload", "Payload", Bytes, None;
    }
}

struct Conv {
    index: u32,
    first: Timestamp,
    last: Timestamp,
}

pub struct Udp {
    f: UdpFields,
    convs: RefCell<Conversations<Conv>>,
}

impl Udp {
    pub fn new(f: UdpFields) -> Self {
        Udp {
            f,
            convs: RefCell::new(Conversations::default()),
        }
    }
}

impl Dissector for Udp {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.f;
        let reported = cx.reported;
        let (Some(sport), Some(dport), Some(len), Some(sum)) =
            (be16(data, 0), be16(data, 2), be16(data, 4), be16(data, 6))
        else {
            // Wireshark reads the ports, then adds the 8-byte item: either
            // throws before there is a UDP item.
            cx.t.add_nested_layer("udp");
            cx.bounds_error(if data.len() < 4 { 4 } else { 8 }, "UDP");
            return Outcome::Done(data.len());
        };
        cx.t.add_layer("udp");
        let entry = cx.t.push_proto(f.udp, data.get(..8).unwrap_or(data));
        if cx.t.wants_label(entry) {
            cx.t.set_label(
                entry,
                &format!("User Datagram Protocol, Src Port: {sport}, Dst Port: {dport}"),
            );
        }
        cx.t.push_u(f.srcport, sport);
        cx.t.push_u(f.dstport, dport);
        cx.t.push_u(f.port, sport);
        cx.t.push_u(f.port, dport);
        let mut len = usize::from(len);
        if len == 0 && matches!(cx.src, dorsal_engine::dissect::Address::V6(_)) {
            // RFC 2675 jumbogram: the length is the IPv6 payload's.
            len = reported;
        }
        cx.t.push_u(f.length, len as u64);
        if let Some(c) = cx.cols() {
            c.set_protocol("UDP");
            c.clear_info();
            c.append_info_num("", u64::from(sport));
            c.append_info_num(" \u{2192} ", u64::from(dport));
            if len < 8 {
                c.append_info_fmt(format_args!(" [BAD UDP LENGTH {len} < 8]"));
            } else if len > reported {
                c.append_info_fmt(format_args!(
                    " [BAD UDP LENGTH {len} > IP PAYLOAD LENGTH] Len={}",
                    len - 8
                ));
            } else {
                c.append_info_num(" Len=", (len - 8) as u64);
            }
        }
        if len < 8 {
            // Bogus length: Wireshark stops here.
            return Outcome::Done(data.len());
        }
        cx.t.push_u(f.checksum, sum);
        cx.t.push_u(f.checksum_status, 2u8);
        cx.srcport = sport;
        cx.dstport = dport;

        let ts = cx.frame.ts;
        let (key, _) = ConvKey::new((cx.src, sport), (cx.dst, dport));
        let (index, rel, delta) = {
            let mut convs = self.convs.borrow_mut();
            let conv = match convs.get_mut(&key) {
                Some(c) => c,
                None => {
                    cx.t.note_new_index(f.stream);
                    convs.start(key, |index| Conv {
                        index,
                        first: ts,
                        last: ts,
                    })
                }
            };
            let out = (
                conv.index,
                ts.nanos_since(conv.first),
                ts.nanos_since(conv.last),
            );
            conv.last = ts;
            out
        };
        cx.t.push_u(f.stream, index);
        if len == 8 {
            return Outcome::Done(data.len());
        }
        cx.t.push(f.time_relative, Value::RelTime(rel));
        cx.t.push(f.time_delta, Value::RelTime(delta));

        // The payload ends at the length field when that is inside what was given.
        let payload_reported = (len - 8).min(reported.saturating_sub(8));
        let p = from(data, 8);
        let payload = p.get(..payload_reported.min(p.len())).unwrap_or(p);
        if payload_reported == 0 {
            return Outcome::Done(data.len());
        }
        cx.t.push_bytes(f.payload, payload);
        let table = cx.table("udp.port");
        let (low, high) = if sport > dport {
            (dport, sport)
        } else {
            (sport, dport)
        };
        for port in [low, high] {
            if port == 0 {
                continue;
            }
            cx.set_next_reported(payload_reported);
            match cx.call_table(table, u32::from(port), payload) {
                Some(Outcome::Rejected) | None => {}
                Some(_) => return Outcome::Done(data.len()),
            }
        }
        let heur = cx.table("udp.heur");
        if cx.try_heuristics(heur, payload).is_none() {
            cx.call_by_name("data", payload);
        }
        Outcome::Done(data.len())
    }
}
