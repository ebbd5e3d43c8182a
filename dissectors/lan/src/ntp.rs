//! NTP (RFC 5905): the header's fields and timestamps, and tshark's
//! summary (`NTP Version 4, client`).

use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::table::{Timestamp, Value};

use dorsal_engine::bytes::be32;

use crate::LanFields;

pub(crate) struct Ntp(pub(crate) LanFields);

/// Seconds from 1900 (NTP's era 0) to 1970.
const NTP_TO_UNIX: u32 = 2_208_988_800;

impl Dissector for Ntp {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.0;
        cx.t.add_layer("ntp");
        cx.t.push_proto(f.ntp, data);
        let Some(&flags) = data.first() else {
            cx.bounds_error(1, "NTP");
            return Outcome::Done(data.len());
        };
        let vn = (flags & 0x38) >> 3;
        let mode = flags & 0x07;
        if let Some(c) = cx.cols() {
            c.set_protocol("NTP");
            c.set_info(&format!("NTP Version {vn}, {}", mode_name(mode)));
        }
        cx.t.push_u(f.ntp_flags, flags);
        cx.t.push_u(f.ntp_li, (flags & 0xc0) >> 6);
        cx.t.push_u(f.ntp_vn, vn);
        cx.t.push_u(f.ntp_mode, mode);
        if mode >= 6 {
            // Control and private messages carry no clock fields.
            return Outcome::Done(data.len());
        }
        let (Some(&stratum), Some(&ppoll), Some(&precision)) =
            (data.get(1), data.get(2), data.get(3))
        else {
            cx.bounds_error(4, "NTP");
            return Outcome::Done(data.len());
        };
        cx.t.push_u(f.ntp_stratum, stratum);
        cx.t.push_u(f.ntp_ppoll, ppoll);
        cx.t.push_u(f.ntp_precision, precision);
        let Some(refid) = data.get(12..16) else {
            cx.bounds_error(16, "NTP");
            return Outcome::Done(data.len());
        };
        cx.t.push_bytes(f.ntp_refid, refid);
        for (i, field) in [f.ntp_reftime, f.ntp_org, f.ntp_rec, f.ntp_xmt]
            .into_iter()
            .enumerate()
        {
            let at = 16 + 8 * i;
            let (Some(secs), Some(frac)) = (be32(data, at), be32(data, at + 4)) else {
                cx.bounds_error(at + 8, "NTP");
                return Outcome::Done(data.len());
            };
            if secs == 0 && frac == 0 {
                // Wireshark shows an unset timestamp as NULL.
                cx.t.push_str(field, b"NULL");
            } else {
                cx.t.push(field, Value::AbsTime(ntp_time(secs, frac)));
            }
        }
        Outcome::Done(data.len())
    }
}

/// An NTP timestamp as Wireshark reads one: zero seconds stay zero, others
/// are moved from 1900 to 1970 in 32 bits; the fraction truncated to
/// nanoseconds.
fn ntp_time(secs: u32, frac: u32) -> Timestamp {
    let secs = if secs == 0 {
        0
    } else {
        i64::from(secs.wrapping_sub(NTP_TO_UNIX))
    };
    let nanos = (u64::from(frac) * 1_000_000_000) >> 32;
    Timestamp::new(secs, i32::try_from(nanos).unwrap_or(0))
}

fn mode_name(mode: u8) -> &'static str {
    match mode {
        1 => "symmetric active",
        2 => "symmetric passive",
        3 => "client",
        4 => "server",
        5 => "broadcast",
        6 => "control",
        7 => "private",
        _ => "reserved",
    }
}
