//! DHCP/BOOTP (RFC 2131/2132): the fixed header, the options dorsal's
//! users ask for (message type, host name, requested address, server
//! identifier, vendor class, domain name, client identifier) and tshark's
//! summary (`DHCP Discover - Transaction ID 0x...`).

use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::table::Value;

use dorsal_engine::bytes::{array, be16, be32};

use crate::LanFields;

pub(crate) struct Dhcp(pub(crate) LanFields);

/// The fixed BOOTP header, before the magic cookie.
const FIXED: usize = 236;
const COOKIE: [u8; 4] = [99, 130, 83, 99];

impl Dissector for Dhcp {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.0;
        cx.t.add_layer("dhcp");
        cx.t.push_proto(f.dhcp, data);
        if let Some(c) = cx.cols() {
            c.set_protocol("DHCP");
            c.clear_info();
        }
        let (Some(&op), Some(&htype), Some(&hlen), Some(&hops)) =
            (data.first(), data.get(1), data.get(2), data.get(3))
        else {
            cx.bounds_error(4, "DHCP");
            return Outcome::Done(data.len());
        };
        if op != 1 && op != 2 {
            if let Some(c) = cx.cols() {
                c.set_protocol("BOOTP");
                c.set_info(&format!("Unknown BOOTP message type ({op})"));
            }
        }
        let (Some(id), Some(secs), Some(flags)) = (be32(data, 4), be16(data, 8), be16(data, 10))
        else {
            cx.bounds_error(12, "DHCP");
            return Outcome::Done(data.len());
        };
        let (Some(chaddr), Some(sname), Some(file)) =
            (data.get(28..44), data.get(44..108), data.get(108..FIXED))
        else {
            cx.bounds_error(FIXED, "DHCP");
            return Outcome::Done(data.len());
        };
        cx.t.push_u(f.dhcp_type, op);
        cx.t.push_u(f.dhcp_hw_type, htype);
        cx.t.push_u(f.dhcp_hw_len, hlen);
        cx.t.push_u(f.dhcp_hops, hops);
        cx.t.push_u(f.dhcp_id, id);
        cx.t.push_u(f.dhcp_secs, secs);
        cx.t.push_u(f.dhcp_flags, flags);
        for (i, field) in [
            f.dhcp_ip_client,
            f.dhcp_ip_your,
            f.dhcp_ip_server,
            f.dhcp_ip_relay,
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(a) = array::<4>(data, 12 + 4 * i) {
                cx.t.push(field, Value::Ipv4(a));
            }
        }
        let mac: Option<[u8; 6]> = chaddr.get(..6).and_then(|m| m.try_into().ok());
        if let (1, 6, Some(m)) = (htype, hlen, mac) {
            cx.t.push(f.dhcp_mac, Value::Ether(m));
        }
        // Option 52 (overload) moves options into the file and sname fields.
        let options = data
            .get(FIXED..FIXED + 4)
            .filter(|c| *c == COOKIE)
            .and_then(|_| data.get(FIXED + 4..));
        let overload = options.and_then(overload_of).unwrap_or(0);
        if overload & 2 == 0 && sname.first().is_some_and(|&c| c != 0) {
            cx.t.push_str(f.dhcp_server, until_nul(sname));
        }
        if overload & 1 == 0 && file.first().is_some_and(|&c| c != 0) {
            cx.t.push_str(f.dhcp_file, until_nul(file));
        }
        let mut msg_type = None;
        if let Some(opts) = options {
            cx.t.push(f.dhcp_cookie, Value::Ipv4(COOKIE));
            msg_type = self.options(cx, opts, Some((sname, file)));
        }
        if let Some(c) = cx.cols() {
            if op != 1 && op != 2 {
                return Outcome::Done(data.len());
            }
            match msg_type {
                Some(t) => c.set_info(&format!(
                    "DHCP {:<8} - Transaction ID 0x{id:x}",
                    msg_type_name(t)
                )),
                None if op == 1 => match mac {
                    Some(m) => c.set_info(&format!(
                        "Boot Request from {}",
                        m.iter()
                            .map(|b| format!("{b:02x}"))
                            .collect::<Vec<_>>()
                            .join(":")
                    )),
                    None => c.set_info("Boot Request"),
                },
                None => c.set_info("Boot Reply"),
            }
        }
        Outcome::Done(data.len())
    }
}

impl Dhcp {
    /// Walks the options; returns the message type (option 53) if any.
    /// `areas` (sname, file) are read where option 52 says so, in its
    /// place, as tshark nests them.
    fn options(&self, cx: &mut Cx<'_>, opts: &[u8], areas: Option<(&[u8], &[u8])>) -> Option<u8> {
        let f = &self.0;
        let mut msg_type = None;
        let mut i = 0usize;
        // Each step consumes at least one byte.
        while let Some(&code) = opts.get(i) {
            if code == 255 {
                // tshark's type item of the End option reads 0; its value
                // is in `dhcp.option.end`.
                cx.t.push_u(f.dhcp_option_type, 0u8);
                cx.t.push_u(f.dhcp_option_end, code);
                break;
            }
            cx.t.push_u(f.dhcp_option_type, code);
            if code == 0 {
                i += 1;
                continue;
            }
            let Some(&len) = opts.get(i + 1) else { break };
            cx.t.push_u(f.dhcp_option_length, len);
            let Some(v) = opts.get(i + 2..i + 2 + usize::from(len)) else {
                break;
            };
            match (code, v) {
                (52, [v]) => {
                    if let Some((sname, file)) = areas {
                        for (bit, area) in [(2, sname), (1, file)] {
                            if v & bit != 0 {
                                msg_type = self.options(cx, area, None).or(msg_type);
                            }
                        }
                    }
                }
                (53, [t]) => {
                    cx.t.push_u(f.dhcp_option_dhcp, *t);
                    msg_type = Some(*t);
                }
                (12, _) => cx.t.push_str(f.dhcp_hostname, until_nul(v)),
                (15, _) => cx.t.push_str(f.dhcp_domain_name, until_nul(v)),
                (60, _) => cx.t.push_str(f.dhcp_vendor_class, until_nul(v)),
                (50, [a, b, c, d]) => {
                    cx.t.push(f.dhcp_requested_ip, Value::Ipv4([*a, *b, *c, *d]))
                }
                (54, [a, b, c, d]) => cx.t.push(f.dhcp_server_id, Value::Ipv4([*a, *b, *c, *d])),
                // A client identifier of hardware type 1 is a MAC address.
                (61, [1, m @ ..]) if m.len() == 6 => {
                    if let Ok(m) = <[u8; 6]>::try_from(m) {
                        cx.t.push_u(f.dhcp_hw_type, 1u8);
                        cx.t.push(f.dhcp_mac, Value::Ether(m));
                    }
                }
                _ => {}
            }
            i += 2 + usize::from(len);
        }
        msg_type
    }
}

/// The value of option 52 (overload), if the options hold it.
fn overload_of(opts: &[u8]) -> Option<u8> {
    let mut i = 0usize;
    while let Some(&code) = opts.get(i) {
        match code {
            255 => return None,
            0 => i += 1,
            _ => {
                let len = usize::from(*opts.get(i + 1)?);
                if code == 52 && len == 1 {
                    return opts.get(i + 2).copied();
                }
                i += 2 + len;
            }
        }
    }
    None
}

fn until_nul(b: &[u8]) -> &[u8] {
    b.split(|&c| c == 0).next().unwrap_or_default()
}

fn msg_type_name(t: u8) -> String {
    match t {
        1 => "Discover".into(),
        2 => "Offer".into(),
        3 => "Request".into(),
        4 => "Decline".into(),
        5 => "ACK".into(),
        6 => "NAK".into(),
        7 => "Release".into(),
        8 => "Inform".into(),
        9 => "Force Renew".into(),
        10 => "Lease query".into(),
        11 => "Lease Unassigned".into(),
        12 => "Lease Unknown".into(),
        13 => "Lease Active".into(),
        n => format!("Unknown Message Type (0x{n:02x})"),
    }
}
