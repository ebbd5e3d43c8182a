//! The frame pseudo-protocol: record metadata, then the link-layer dissector
//! chosen by the record's link type.

use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::fields;
use dorsal_engine::table::{IdSpan, Value};

fields! {
    pub struct FrameFields {
        frame: "frame", "Frame", Protocol, None, short "Frame";
        // Wireshark's exception items (show_exception.c), found by name
        // through `Cx::bounds_error`.
        malformed: "_ws.malformed", "Malformed Packet", Protocol, None, short "Malformed packet";
        short: "_ws.short", "Short Frame", Protocol, None, short "Short frame";
        interface_id: "frame.interface_id", "Interface id", U32, Dec;
        encap_type: "frame.encap_type", "Encapsulation type", I16, Dec;
        time: "frame.time", "Arrival Time", AbsTime, TimeLocal;
        time_utc: "frame.time_utc", "UTC Arrival Time", AbsTime, TimeUtc;
        time_epoch: "frame.time_epoch", "Epoch Time", RelTime, TimeUnix;
        offset_shift: "frame.offset_shift", "Time shift for this packet", RelTime, None;
        time_delta: "frame.time_delta", "Time delta from previous captured frame", RelTime, None;
        time_delta_displayed: "frame.time_delta_displayed", "Time delta from previous displayed frame", RelTime, None;
        time_relative: "frame.time_relative", "Time since reference or first frame", RelTime, None;
        number: "frame.number", "Frame Number", U32, Dec;
        len: "frame.len", "Frame Length", U32, Dec;
        cap_len: "frame.cap_len", "Capture Length", U32, Dec;
        marked: "frame.marked", "Frame is marked", Bool, None;
        ignored: "frame.ignored", "Frame is ignored", Bool, None;
        protocols: "frame.protocols", "Protocols in frame", String, None;
    }
}

pub struct Frame {
    f: FrameFields,
    /// The record's metadata fields: when none is wanted (most runs want
    /// one or two) their pushes are skipped as a whole.
    meta: IdSpan,
}

impl Frame {
    pub fn new(f: FrameFields) -> Self {
        let meta = IdSpan::of(&[
            f.interface_id,
            f.encap_type,
            f.time,
            f.time_utc,
            f.time_epoch,
            f.offset_shift,
            f.time_delta,
            f.time_delta_displayed,
            f.time_relative,
            f.number,
            f.len,
            f.cap_len,
            f.marked,
            f.ignored,
        ]);
        Frame { f, meta }
    }
}

impl Dissector for Frame {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.f;
        let fr = *cx.frame;
        let entry = cx.t.push_proto(f.frame, data);
        if cx.t.wants_label(entry) {
            let bits = |n: u32| u64::from(n) * 8;
            let label = format!(
                "Frame {}: {} bytes on wire ({} bits), {} bytes captured ({} bits)",
                fr.number,
                fr.len,
                bits(fr.len),
                fr.cap_len,
                bits(fr.cap_len)
            );
            cx.t.set_label(entry, &label);
        }
        if cx.t.wants_any(self.meta) {
            cx.t.push_u(f.interface_id, fr.interface_id);
            if let Some(e) = dorsal_engine::capture::wtap_encap(fr.linktype) {
                cx.t.push(f.encap_type, Value::I(i64::from(e)));
            }
            cx.t.push(f.time, Value::AbsTime(fr.ts));
            cx.t.push(f.time_utc, Value::AbsTime(fr.ts));
            cx.t.push(f.time_epoch, Value::AbsTime(fr.ts));
            cx.t.push(f.offset_shift, Value::RelTime(0));
            cx.t.push(f.time_delta, Value::RelTime(fr.delta_nanos));
            cx.t.push(
                f.time_delta_displayed,
                Value::RelTime(fr.delta_displayed_nanos),
            );
            cx.t.push(f.time_relative, Value::RelTime(fr.rel_nanos));
            cx.t.push_u(f.number, fr.number);
            cx.t.push_u(f.len, fr.len);
            cx.t.push_u(f.cap_len, fr.cap_len);
            cx.t.push_bool(f.marked, false);
            cx.t.push_bool(f.ignored, false);
        }

        if cx.t.frame_only() {
            return Outcome::Done(data.len());
        }
        let link = cx.table("wtap_encap");
        if cx.call_table(link, fr.linktype, data).is_none() {
            // No dissector for the encapsulation: `dissect_frame` names it
            // by its wiretap number.
            if let Some(c) = cx.cols() {
                c.set_protocol("UNKNOWN");
                let encap = dorsal_engine::capture::wtap_encap(fr.linktype);
                let n = encap.map_or(fr.linktype, u32::from);
                c.set_info(&format!("WTAP_ENCAP = {n}"));
            }
            cx.call_by_name("data", data);
        }

        if cx.t.wants(f.protocols) {
            let joined = cx.t.layers().join(":");
            cx.t.push_str(f.protocols, joined.as_bytes());
        }
        Outcome::Done(data.len())
    }
}
