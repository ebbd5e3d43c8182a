//! NetBIOS Datagram Service (RFC 1002 §4.4, UDP 138): the header, the two
//! NetBIOS names, and the payload handed to the `netbios` heuristics (SMB
//! claims it; anything else is data). Nothing is reassembled, as tshark.

use dorsal_engine::bytes::{array, be16, u8_at};
use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::table::Value;

use crate::nbns::read_name;
use crate::LanFields;

pub(crate) struct Nbdgm(pub(crate) LanFields);

/// Bytes of the fixed header every message type carries.
const HEADER: usize = 10;

impl Dissector for Nbdgm {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.0;
        cx.t.add_layer("nbdgm");
        cx.t.push_proto(f.nbdgm, data);
        let Some(ty) = u8_at(data, 0) else {
            if let Some(c) = cx.cols() {
                c.set_protocol("NBDS");
                c.clear_info();
            }
            cx.bounds_error(1, "NBDS");
            return Outcome::Done(data.len());
        };
        if let Some(c) = cx.cols() {
            c.set_protocol("NBDS");
            match msg_type(ty) {
                Some(s) => c.set_info(s),
                None => c.set_info(&format!("Unknown message type (0x{ty:02X})")),
            }
        }
        cx.t.push_u(f.nbdgm_type, ty);
        let Some(flags) = u8_at(data, 1) else {
            cx.bounds_error(2, "NBDS");
            return Outcome::Done(data.len());
        };
        cx.t.push_u(f.nbdgm_flags, flags);
        cx.t.push_bool(f.nbdgm_next, flags & 0x01 != 0);
        cx.t.push_bool(f.nbdgm_first, flags & 0x02 != 0);
        cx.t.push_u(f.nbdgm_node_type, (flags & 0x0c) >> 2);
        let Some(id) = be16(data, 2) else {
            cx.bounds_error(4, "NBDS");
            return Outcome::Done(data.len());
        };
        cx.t.push_u(f.nbdgm_dgram_id, id);
        let Some(ip) = array::<4>(data, 4) else {
            cx.bounds_error(8, "NBDS");
            return Outcome::Done(data.len());
        };
        cx.t.push(f.nbdgm_src_ip, Value::Ipv4(ip));
        let Some(port) = be16(data, 8) else {
            cx.bounds_error(HEADER, "NBDS");
            return Outcome::Done(data.len());
        };
        cx.t.push_u(f.nbdgm_src_port, port);
        match ty {
            0x10..=0x12 => self.datagram(cx, data),
            0x13 => match u8_at(data, HEADER) {
                Some(code) => cx.t.push_u(f.nbdgm_error_code, code),
                None => cx.bounds_error(HEADER + 1, "NBDS"),
            },
            0x14..=0x16 => {
                self.name(cx, data, HEADER, f.nbdgm_destination_name);
            }
            _ => {}
        }
        Outcome::Done(data.len())
    }
}

impl Nbdgm {
    /// A direct or broadcast datagram: lengths, both names, then the user
    /// data from the end of the names (the length fields are not trusted).
    fn datagram(&self, cx: &mut Cx<'_>, data: &[u8]) {
        let f = &self.0;
        let (Some(len), Some(off)) = (be16(data, HEADER), be16(data, HEADER + 2)) else {
            cx.bounds_error(HEADER + 4, "NBDS");
            return;
        };
        cx.t.push_u(f.nbdgm_dgram_len, len);
        cx.t.push_u(f.nbdgm_pkt_offset, off);
        let Some(at) = self.name(cx, data, HEADER + 4, f.nbdgm_source_name) else {
            return;
        };
        let Some(at) = self.name(cx, data, at, f.nbdgm_destination_name) else {
            return;
        };
        let payload = data.get(at..).unwrap_or_default();
        if payload.is_empty() {
            return;
        }
        let table = cx.table("netbios");
        if cx.try_heuristics(table, payload).is_none() {
            cx.call_by_name("data", payload);
        }
    }

    /// Pushes the name at `at`; returns where it ends, or marks the
    /// packet malformed when it runs past the data.
    fn name(
        &self,
        cx: &mut Cx<'_>,
        data: &[u8],
        at: usize,
        field: dorsal_engine::fields::FieldId,
    ) -> Option<usize> {
        match read_name(data, at) {
            Some((name, _, len)) => {
                cx.t.push_str(field, name.as_bytes());
                Some(at.saturating_add(len))
            }
            None => {
                cx.bounds_error(data.len().saturating_add(1), "NBDS");
                None
            }
        }
    }
}

/// `nbds_msgtype_vals`.
fn msg_type(ty: u8) -> Option<&'static str> {
    Some(match ty {
        0x10 => "Direct_unique datagram",
        0x11 => "Direct_group datagram",
        0x12 => "Broadcast datagram",
        0x13 => "Datagram error",
        0x14 => "Datagram query request",
        0x15 => "Datagram positive query response",
        0x16 => "Datagram negative query response",
        _ => return None,
    })
}
