//! IGMP v0-v3 (RFC 988, 1112, 2236, 3376): the header's fields, the
//! version as tshark decides it (by type, and a query's length and second
//! byte) and its summary (`Membership Report / Join group 224.0.0.251 for
//! any sources`, `Membership Query, general`).

use std::fmt::Write;
use std::net::Ipv4Addr;

use dorsal_engine::bytes::{array, be16};
use dorsal_engine::dissect::{Address, Cx, Dissector, Outcome};
use dorsal_engine::format::write_ipv4;
use dorsal_engine::table::Value;

use crate::LanFields;

pub(crate) struct Igmp(pub(crate) LanFields);

/// Group records, and sources per record or query, read at the most.
const ITEMS_CAP: usize = 1024;

/// Types that other protocols carried in IGMP claim (DVMRP, PIMv1,
/// multicast traceroute, MSNIP, router discovery, IGAP): not dissected here.
fn other_protocol(ty: u8) -> bool {
    matches!(ty, 0x13 | 0x14 | 0x1e | 0x1f | 0x23..=0x26 | 0x30..=0x32 | 0x40..=0x42)
}

/// RGMP's group (224.0.0.25): RGMP takes its types only when sent there.
const RGMP_GROUP: [u8; 4] = [224, 0, 0, 25];

/// tshark's `commands` names.
fn command(ty: u8) -> Option<&'static str> {
    Some(match ty {
        0x01 => "Create Group Request",
        0x02 => "Create Group Reply",
        0x03 => "Join Group Request",
        0x04 => "Join Group Reply",
        0x05 => "Leave Group Request",
        0x06 => "Leave Group Reply",
        0x07 => "Confirm Group Request",
        0x08 => "Confirm Group Reply",
        0x11 => "Membership Query",
        0x12 | 0x16 | 0x22 => "Membership Report",
        0x17 => "Leave Group",
        _ => return None,
    })
}

impl Dissector for Igmp {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let Some(&ty) = data.first() else {
            return Outcome::Rejected;
        };
        if other_protocol(ty) {
            return Outcome::Rejected;
        }
        let f = &self.0;
        if ty >= 0xfc && cx.dst == Address::V4(RGMP_GROUP) {
            rgmp(cx, f, ty, data);
            return Outcome::Done(data.len());
        }
        cx.t.add_layer("igmp");
        cx.t.push_proto(f.igmp, data);
        let version = match ty {
            0x00..=0x0f => Some(0),
            0x12 => Some(1),
            0x16 | 0x17 => Some(2),
            0x22 => Some(3),
            0x11 if cx.reported >= 12 => Some(3),
            0x11 if data.get(1).is_some_and(|&b| b != 0) => Some(2),
            0x11 => Some(1),
            _ => None,
        };
        if let Some(c) = cx.cols() {
            match version {
                Some(v) => c.set_protocol(&format!("IGMPv{v}")),
                None => c.set_protocol("IGMP"),
            }
            match command(ty) {
                Some(name) => c.set_info(name),
                None => c.set_info(&format!("Unknown Type:0x{ty:02x}")),
            }
        }
        let Some(v) = version else {
            cx.t.push_u(f.igmp_type, ty);
            if let Some(rest) = data.get(1..) {
                cx.t.push_bytes(f.igmp_data, rest);
            }
            return Outcome::Done(data.len());
        };
        cx.t.push_u(f.igmp_version, v);
        cx.t.push_u(f.igmp_type, ty);
        let mut info = String::new();
        let end = match v {
            3 if ty == 0x11 => self.v3_query(cx, data, &mut info),
            3 => self.v3_report(cx, data, &mut info),
            1 | 2 => self.v1_v2(cx, data, ty, v, &mut info),
            _ => Ok(()),
        };
        if let Some(c) = cx.cols() {
            c.append_info(&info);
        }
        if let Err(at) = end {
            cx.bounds_error(at, "IGMP");
        }
        Outcome::Done(data.len())
    }
}

impl Igmp {
    fn v1_v2(
        &self,
        cx: &mut Cx<'_>,
        d: &[u8],
        ty: u8,
        v: u8,
        info: &mut String,
    ) -> Result<(), usize> {
        let f = &self.0;
        if v == 2 {
            cx.t.push_u(f.igmp_max_resp, *d.get(1).ok_or(2usize)?);
        }
        cx.t.push_u(f.igmp_checksum, be16(d, 2).ok_or(4usize)?);
        let group = array::<4>(d, 4).ok_or(8usize)?;
        cx.t.push(f.igmp_maddr, Value::Ipv4(group));
        if v == 2 {
            if group == [0; 4] {
                info.push_str(", general");
            } else {
                let g = Ipv4Addr::from(group);
                match ty {
                    0x17 => write!(info, " {g}"),
                    0x11 => write!(info, ", specific for group {g}"),
                    _ => write!(info, " group {g}"),
                }
                .ok();
            }
        }
        Ok(())
    }

    fn v3_query(&self, cx: &mut Cx<'_>, d: &[u8], info: &mut String) -> Result<(), usize> {
        let f = &self.0;
        let bits = *d.get(1).ok_or(2usize)?;
        let tsecs = if bits & 0x80 != 0 {
            (u32::from(bits & 0x0f) | 0x10) << (((bits & 0x70) >> 4) + 3)
        } else {
            u32::from(bits)
        };
        let num = be16(d, 10).ok_or(12usize)?;
        cx.t.push_u(f.igmp_max_resp, tsecs);
        cx.t.push_u(f.igmp_checksum, be16(d, 2).ok_or(4usize)?);
        let group = array::<4>(d, 4).ok_or(8usize)?;
        cx.t.push(f.igmp_maddr, Value::Ipv4(group));
        if group == [0; 4] {
            info.push_str(", general");
        } else {
            write!(info, ", specific for group {}", Ipv4Addr::from(group)).ok();
        }
        let sqrv = *d.get(8).ok_or(9usize)?;
        cx.t.push_bool(f.igmp_s, sqrv & 0x08 != 0);
        cx.t.push_u(f.igmp_qrv, sqrv & 0x07);
        cx.t.push_u(f.igmp_qqic, *d.get(9).ok_or(10usize)?);
        cx.t.push_u(f.igmp_num_src, num);
        if num > 0 {
            info.push_str(if num > 1 { ", sources {" } else { ", source {" });
        }
        sources(cx, f, d, 12, num, info).map(|_| ())
    }

    fn v3_report(&self, cx: &mut Cx<'_>, d: &[u8], info: &mut String) -> Result<(), usize> {
        let f = &self.0;
        cx.t.push_u(f.igmp_checksum, be16(d, 2).ok_or(4usize)?);
        let num = be16(d, 6).ok_or(8usize)?;
        if num == 0 {
            info.push_str(" - General query");
        }
        cx.t.push_u(f.igmp_num_grp_recs, num);
        let mut off = 8usize;
        for _ in 0..usize::from(num).min(ITEMS_CAP) {
            let rtype = *d.get(off).ok_or(off + 1)?;
            cx.t.push_u(f.igmp_record_type, rtype);
            let adl = *d.get(off + 1).ok_or(off + 2)?;
            cx.t.push_u(f.igmp_aux_data_len, adl);
            let n = be16(d, off + 2).ok_or(off + 4)?;
            cx.t.push_u(f.igmp_num_src, n);
            let group = array::<4>(d, off + 4).ok_or(off + 8)?;
            cx.t.push(f.igmp_maddr, Value::Ipv4(group));
            let g = Ipv4Addr::from(group);
            let many = n > 1;
            let text = match (n == 0, rtype) {
                (true, 1 | 3) => format!(" / Leave group {g}"),
                (true, 2 | 4) => format!(" / Join group {g} for any sources"),
                (true, 5) => format!(" / Group {g}, ALLOW_NEW_SOURCES but no source specified (?)"),
                (true, 6) => format!(" / Group {g}, BLOCK_OLD_SOURCES but no source specified (?)"),
                (true, _) => format!(" / Group {g}, unknown record type (?)"),
                (false, 1 | 3) => {
                    format!(
                        " / Join group {g} for source{} {{",
                        if many { "s in" } else { "" }
                    )
                }
                (false, 2 | 4) => {
                    format!(
                        " / Join group {g}, for source{} {{",
                        if many { "s not in" } else { " not" }
                    )
                }
                (false, 5) => format!(" / Group {g}, new source{} {{", if many { "s" } else { "" }),
                (false, 6) => format!(
                    " / Group {g}, block source{} {{",
                    if many { "s" } else { "" }
                ),
                (false, _) => format!(" / Group {g}, unknown record type (?), sources {{"),
            };
            info.push_str(&text);
            off = sources(cx, f, d, off + 8, n, info)?;
            off = off.saturating_add(usize::from(adl) * 4);
        }
        Ok(())
    }
}

/// RGMP (RFC 3488): a layer of its own, beside IGMP.
fn rgmp(cx: &mut Cx<'_>, f: &LanFields, ty: u8, d: &[u8]) {
    cx.t.add_layer("rgmp");
    cx.t.push_proto(f.rgmp, d);
    if let Some(c) = cx.cols() {
        c.set_protocol("RGMP");
        c.set_info(match ty {
            0xfc => "Leave",
            0xfd => "Join",
            0xfe => "Bye",
            _ => "Hello",
        });
    }
    cx.t.push_u(f.rgmp_type, ty);
    let (Some(&reserved), Some(sum), Some(group)) = (d.get(1), be16(d, 2), array::<4>(d, 4)) else {
        let end = if d.len() < 2 {
            2
        } else if d.len() < 4 {
            4
        } else {
            8
        };
        cx.bounds_error(end, "RGMP");
        return;
    };
    cx.t.push_u(f.rgmp_reserved, reserved);
    cx.t.push_u(f.rgmp_checksum, sum);
    cx.t.push(f.rgmp_maddr, Value::Ipv4(group));
}

/// `num` source addresses from `off`, listed in Info as `a, b}`; the
/// offset after them.
fn sources(
    cx: &mut Cx<'_>,
    f: &LanFields,
    d: &[u8],
    off: usize,
    num: u16,
    info: &mut String,
) -> Result<usize, usize> {
    let mut off = off;
    let n = usize::from(num).min(ITEMS_CAP);
    for i in 0..n {
        let a = array::<4>(d, off).ok_or(off + 4)?;
        write_ipv4(info, &a);
        info.push_str(if i + 1 < n { ", " } else { "}" });
        cx.t.push(f.igmp_saddr, Value::Ipv4(a));
        off += 4;
    }
    Ok(off)
}
