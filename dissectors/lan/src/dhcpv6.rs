//! DHCPv6 (RFC 8415) on UDP 546/547: the message header, relay headers
//! (nested relays dissected recursively), the option list and tshark
//! 4.0.17's Info (`Solicit XID: 0x%06x CID: <duid> IAA: <addr> `, each
//! piece ending in one space; relays `Relay-forw L: <link-address> `
//! followed by the relayed message).

use std::fmt::Write;
use std::net::Ipv6Addr;

use dorsal_engine::bytes::{array, be16};
use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::table::Value;

use crate::LanFields;

pub(crate) struct Dhcpv6(pub(crate) LanFields);

/// Relays and options nested deeper than this are not followed (the
/// recursion's bound).
const MAX_NEST: u32 = 32;
/// Bytes of a client DUID shown in Info before it is cut with `…`.
const CID_SHOWN: usize = 36;

impl Dissector for Dhcpv6 {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        if data.is_empty() {
            return Outcome::Rejected;
        }
        cx.t.add_layer("dhcpv6");
        let mut info = cx.cols().map(|_| String::new());
        if let Some(c) = cx.cols() {
            c.set_protocol("DHCPv6");
            c.clear_info();
        }
        let eoff = cx.reported.max(data.len());
        let end = self.message(cx, data, 0, eoff, &mut info, 0);
        if let Some(c) = cx.cols() {
            if let Some(i) = &info {
                c.append_info(i);
            }
        }
        if let Err(at) = end {
            cx.bounds_error(at, "DHCPv6");
        }
        Outcome::Done(data.len())
    }
}

impl Dhcpv6 {
    /// One message from `off` to `eoff`; `Err(end)` when a read runs past
    /// the captured bytes (up to `end`).
    fn message(
        &self,
        cx: &mut Cx<'_>,
        d: &[u8],
        off: usize,
        eoff: usize,
        info: &mut Option<String>,
        depth: u32,
    ) -> Result<(), usize> {
        let f = &self.0;
        cx.t.push_proto(f.dhcpv6, d.get(off..eoff.min(d.len())).unwrap_or_default());
        let ty = *d.get(off).ok_or(off + 1)?;
        if let Some(i) = info.as_mut() {
            match msg_name(ty) {
                Some(n) => {
                    i.push_str(n);
                    i.push(' ');
                }
                None => {
                    write!(i, "Message Type {ty} ").ok();
                }
            }
        }
        cx.t.push_u(f.dhcpv6_msgtype, ty);
        let mut off = off;
        if ty == 12 || ty == 13 {
            let hop = *d.get(off + 1).ok_or(off + 2)?;
            cx.t.push_u(f.dhcpv6_hopcount, hop);
            let link = array::<16>(d, off + 2).ok_or(off + 18)?;
            cx.t.push(f.dhcpv6_linkaddr, Value::Ipv6(link));
            if let Some(i) = info.as_mut() {
                write!(i, "L: {} ", Ipv6Addr::from(link)).ok();
            }
            let peer = array::<16>(d, off + 18).ok_or(off + 34)?;
            cx.t.push(f.dhcpv6_peeraddr, Value::Ipv6(peer));
            off += 34;
        } else {
            let [x0, x1, x2] = array::<3>(d, off + 1).ok_or(off + 4)?;
            let xid = (u32::from(x0) << 16) | (u32::from(x1) << 8) | u32::from(x2);
            cx.t.push_u(f.dhcpv6_xid, xid);
            if let Some(i) = info.as_mut() {
                write!(i, "XID: 0x{xid:06x} ").ok();
            }
            off += 4;
        }
        self.options(cx, d, off, eoff, info, depth)
    }

    /// The options from `off` to `eoff`.
    fn options(
        &self,
        cx: &mut Cx<'_>,
        d: &[u8],
        mut off: usize,
        eoff: usize,
        info: &mut Option<String>,
        depth: u32,
    ) -> Result<(), usize> {
        let f = &self.0;
        if depth >= MAX_NEST {
            return Ok(());
        }
        while off < eoff {
            if eoff - off < 4 {
                break;
            }
            let ty = be16(d, off).ok_or(off + 2)?;
            let len = usize::from(be16(d, off + 2).ok_or(off + 4)?);
            if eoff - off < 4 + len {
                break;
            }
            cx.t.push_str(f.dhcpv6_option_type_str, option_name(ty).as_bytes());
            cx.t.push_u(f.dhcpv6_option_type, ty);
            cx.t.push_u(f.dhcpv6_option_length, len as u64);
            let v0 = off + 4;
            let v1 = v0 + len;
            let v = d.get(v0..v1).ok_or(v1)?;
            match ty {
                1 | 2 => {
                    if len >= 2 {
                        cx.t.push_bytes(f.dhcpv6_duid_bytes, v);
                        cx.t.push_u(f.dhcpv6_duid_type, be16(v, 0).unwrap_or(0));
                    }
                    if ty == 1 && len > 0 {
                        if let Some(i) = info.as_mut() {
                            i.push_str("CID: ");
                            for b in v.iter().take(CID_SHOWN) {
                                write!(i, "{b:02x}").ok();
                            }
                            if len > CID_SHOWN {
                                i.push('\u{2026}');
                            }
                            i.push(' ');
                        }
                    }
                }
                3 | 25 if len >= 12 => {
                    cx.t.push_str(
                        f.dhcpv6_iaid,
                        hex(v.get(..4).unwrap_or_default()).as_bytes(),
                    );
                    cx.t.push_u(f.dhcpv6_iaid_t1, be32(v, 4));
                    cx.t.push_u(f.dhcpv6_iaid_t2, be32(v, 8));
                    self.options(cx, d, v0 + 12, v1, info, depth + 1)?;
                }
                4 if len >= 4 => {
                    cx.t.push_str(
                        f.dhcpv6_iata,
                        hex(v.get(..4).unwrap_or_default()).as_bytes(),
                    );
                    self.options(cx, d, v0 + 4, v1, info, depth + 1)?;
                }
                5 if len >= 24 => {
                    let a = array::<16>(v, 0).unwrap_or([0; 16]);
                    cx.t.push(f.dhcpv6_iaaddr_ip, Value::Ipv6(a));
                    cx.t.push_u(f.dhcpv6_iaaddr_pref_lifetime, be32(v, 16));
                    cx.t.push_u(f.dhcpv6_iaaddr_valid_lifetime, be32(v, 20));
                    if let Some(i) = info.as_mut() {
                        write!(i, "IAA: {} ", Ipv6Addr::from(a)).ok();
                    }
                    self.options(cx, d, v0 + 24, v1, info, depth + 1)?;
                }
                26 if len >= 25 => {
                    cx.t.push_u(f.dhcpv6_iaprefix_pref_lifetime, be32(v, 0));
                    cx.t.push_u(f.dhcpv6_iaprefix_valid_lifetime, be32(v, 4));
                    cx.t.push_u(f.dhcpv6_iaprefix_pref_len, v.get(8).copied().unwrap_or(0));
                    let a = array::<16>(v, 9).unwrap_or([0; 16]);
                    cx.t.push(f.dhcpv6_iaprefix_pref_addr, Value::Ipv6(a));
                    self.options(cx, d, v0 + 25, v1, info, depth + 1)?;
                }
                6 | 43 => {
                    for c in v.chunks_exact(2) {
                        cx.t.push_u(f.dhcpv6_requested_option_code, be16(c, 0).unwrap_or(0));
                    }
                }
                8 if len == 2 => {
                    cx.t.push_u(
                        f.dhcpv6_elapsed_time,
                        u64::from(be16(v, 0).unwrap_or(0)) * 10,
                    );
                }
                9 if len > 0 && depth < MAX_NEST => {
                    self.message(cx, d, v0, v1, info, depth + 1)?;
                }
                18 => cx.t.push_bytes(f.dhcpv6_interface_id, v),
                23 => {
                    for c in v.chunks_exact(16) {
                        let a = array::<16>(c, 0).unwrap_or([0; 16]);
                        cx.t.push(f.dhcpv6_dns_server, Value::Ipv6(a));
                    }
                }
                _ => {}
            }
            off = v1;
        }
        Ok(())
    }
}

fn be32(d: &[u8], at: usize) -> u32 {
    dorsal_engine::bytes::be32(d, at).unwrap_or(0)
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        write!(s, "{x:02x}").ok();
    }
    s
}

/// tshark's `msg_type_vals`.
fn msg_name(t: u8) -> Option<&'static str> {
    Some(match t {
        1 => "Solicit",
        2 => "Advertise",
        3 => "Request",
        4 => "Confirm",
        5 => "Renew",
        6 => "Rebind",
        7 => "Reply",
        8 => "Release",
        9 => "Decline",
        10 => "Reconfigure",
        11 => "Information-request",
        12 => "Relay-forw",
        13 => "Relay-reply",
        14 => "Leasequery",
        15 => "Leasequery-reply",
        16 => "Leasequery-done",
        17 => "Leasequery-data",
        18 => "Reconfigure-request",
        19 => "Reconfigure-reply",
        _ => return None,
    })
}

/// An option's name (`dhcpv6.option.type_str`).
fn option_name(t: u16) -> std::borrow::Cow<'static, str> {
    let n = match t {
        1 => "Client Identifier",
        2 => "Server Identifier",
        3 => "Identity Association for Non-temporary Address",
        4 => "Identity Association for Temporary Address",
        5 => "IA Address",
        6 => "Option Request",
        7 => "Preference",
        8 => "Elapsed time",
        9 => "Relay Message",
        11 => "Authentication",
        12 => "Server unicast",
        13 => "Status code",
        14 => "Rapid Commit",
        15 => "User Class",
        16 => "Vendor Class",
        17 => "Vendor-specific Information",
        18 => "Interface-Id",
        19 => "Reconfigure Message",
        20 => "Reconfigure Accept",
        21 => "SIP Server Domain Name List",
        22 => "SIP Servers IPv6 Address List",
        23 => "DNS recursive name server",
        24 => "Domain Search List",
        25 => "Identity Association for Prefix Delegation",
        26 => "IA Prefix",
        27 => "Network Information Server",
        28 => "Network Information Server V2",
        29 => "Network Information Server Domain Name",
        30 => "Network Information Server V2 Domain Name",
        31 => "Simple Network Time Protocol Server",
        32 => "Lifetime",
        33 => "BCMCS Server Domain",
        34 => "BCMCS Servers IPv6 Address List",
        36 => "Geoconf Civic Address",
        37 => "Remote Identifier",
        38 => "Subscriber Identifier",
        39 => "Client Fully Qualified Domain Name",
        40 => "PANA Agents IPv6 Address List",
        41 => "Time Zone",
        42 => "Time Zone Database",
        43 => "Echo Request Option",
        44 => "Leasequery Query",
        45 => "Leasequery Client Data",
        46 => "Client Last Transaction Time",
        47 => "Leasequery Relay Data",
        48 => "Leasequery Client Link Address List",
        49 => "Home Network Identifier FQDN",
        50 => "Visited Home Network Information",
        51 => "LoST Server",
        52 => "CAPWAP Access Controllers",
        53 => "Relay-ID",
        54 => "MoS IPv6 Address",
        55 => "MoS Domain Name List",
        56 => "NTP Server",
        57 => "Access Network Domain Name",
        58 => "SIP User Agent Configuration Service Domains",
        59 => "Boot File URL",
        60 => "Boot File Parameters",
        61 => "Client System Architecture Type",
        62 => "Client Network Interface Identifier",
        63 => "Geolocation",
        64 => "Dual-Stack Lite AFTR Name",
        65 => "ERP Local Domain Name",
        66 => "Relay-Supplied Options",
        67 => "Prefix Exclude",
        68 => "Virtual Subnet Selection",
        69 => "Identified Home Network Information",
        70 => "Unrestricted Home Network Information",
        71 => "Home Network Prefix",
        72 => "Home Agent Address",
        73 => "Home Agent FQDN",
        74 => "RDNSS Selection",
        75 => "Kerberos Principal Name",
        76 => "Kerberos Realm Name",
        77 => "Kerberos Default Realm Name",
        78 => "Kerberos KDC",
        79 => "Client Link-Layer Address",
        80 => "Link Address",
        81 => "RADIUS",
        82 => "SOL_MAX_RT",
        83 => "INF_MAX_RT",
        84 => "Address Selection",
        85 => "Address Selection table",
        86 => "PCP Server",
        87 => "DHCPv4 Message",
        88 => "DHCP 4o6 Servers Address",
        89 => "S46 Rule",
        90 => "S46 BR",
        91 => "S46 DMR",
        92 => "S46 IPv4/IPv6 Address Binding",
        93 => "S46 Port Parameters",
        94 => "S46 MAP-E Container",
        95 => "S46 MAP-T Container",
        96 => "S46 Lightweight 4over6 Container",
        97 => "4rd Options",
        98 => "4rd Mapping Rule",
        99 => "4rd Non-Mapping Rule",
        100 => "LQ Server Base Time",
        101 => "LQ Server Query Start Time",
        102 => "LQ Server Query End Time",
        103 => "Captive Portal",
        104 => "MPL Parameter Configuration",
        105 => "Access Technology Type",
        106 => "Access Network Name",
        107 => "Access Point Name",
        108 => "Access Point BSSID",
        109 => "Access Network Operator ID",
        110 => "Access Network Operator Realm",
        111 => "S46 Priority",
        112 => "Manufacturer Usage Description",
        113 => "IPv4/IPv6 Multicast Prefixes",
        114 => "Failover Binding Status",
        115 => "Failover Connect Flags",
        116 => "Failover DNS Removal Info",
        117 => "Failover DNS Hostname",
        118 => "Failover DNS Zone Name",
        119 => "Failover DNS Flags",
        120 => "Failover Expiration Time",
        121 => "Failover Maximum Number Unacked BNDUPD Messages",
        122 => "Failover Maximum Client Lead Time (MCLT)",
        123 => "Failover Partner Lifetime",
        124 => "Failover Partner Lifetime Sent",
        125 => "Failover Partner Down Time",
        126 => "Failover Partner Raw Client Time",
        127 => "Failover Protocol Version",
        128 => "Failover Keepalive Time",
        129 => "Failover Reconfigure Data",
        130 => "Failover Relationship Name",
        131 => "Failover Server Flags",
        132 => "Failover Server State",
        133 => "Failover Start Time of State",
        134 => "Failover State Expiration Time",
        135 => "Relay Source Port",
        136 => "SZTP Redirect",
        137 => "Softwire Source Binding Prefix Hint",
        143 => "ANDSF IPv6 Address",
        165 => "Mobile IPv6 Home Agent",
        166 => "Mobile IPv6 Home Address",
        167 => "Network Access Identifier",
        _ => return format!("DHCP option {t}").into(),
    };
    n.into()
}
