//! The shard key of a record under `-j` (the engine's `ShardKey`): a hash
//! of the unordered pair of IP addresses it carries, so both directions of
//! every flow between two hosts, their IP fragments and the ICMP errors about them (hashed by
//! the packet they quote) meet in one worker.
//!
//! Only the common link layers are looked through; a record whose
//! addresses are not found here hashes to 0, which is consistent for any
//! flow that always arrives the same way.

const LINKTYPE_NULL: u32 = 0;
const LINKTYPE_ETHERNET: u32 = 1;
/// DLT_RAW as some systems numbered it.
const LINKTYPE_RAW_OLD: u32 = 12;
const LINKTYPE_RAW_OPENBSD: u32 = 14;
const LINKTYPE_RAW: u32 = 101;
const LINKTYPE_LOOP: u32 = 108;
const LINKTYPE_LINUX_SLL: u32 = 113;
const LINKTYPE_IPV4: u32 = 228;
const LINKTYPE_IPV6: u32 = 229;
const LINKTYPE_LINUX_SLL2: u32 = 276;

/// VLAN, QinQ and MPLS labels looked through at most.
const MAX_TAGS: usize = 8;

/// Tunnels looked through at most.
const MAX_DEPTH: usize = 4;

/// The shard key of one record.
pub fn key(linktype: u32, data: &[u8]) -> u64 {
    network(linktype, data).map_or(0, |ip| ip_pair(innermost(ip)))
}

/// The packet inside stateless tunnels (GRE, ERSPAN, IP in IP): the same
/// inner flow can come through several of them (ERSPAN from several
/// sensors), and its state must stay in one worker. Tunnels over UDP are
/// not looked through (their outer UDP conversation has state too), nor
/// fragments (the later ones do not show the tunnel).
fn innermost(mut ip: &[u8]) -> &[u8] {
    for _ in 0..MAX_DEPTH {
        match inner(ip) {
            Some(next) => ip = next,
            None => break,
        }
    }
    ip
}

fn inner(ip: &[u8]) -> Option<&[u8]> {
    let (proto, payload) = match ip.first()? >> 4 {
        4 => {
            let fragment = u16_at(ip, 6)? & 0x3fff != 0;
            if fragment {
                return None;
            }
            let hlen = usize::from(ip.first()? & 0x0f) * 4;
            (*ip.get(9)?, ip.get(hlen..)?)
        }
        6 => (*ip.get(6)?, ip.get(40..)?),
        _ => return None,
    };
    match proto {
        4 | 41 => Some(payload),
        47 => gre(payload),
        _ => None,
    }
}

/// The IP packet a GRE packet carries, directly or in Ethernet (ERSPAN,
/// transparent bridging) or MPLS.
fn gre(g: &[u8]) -> Option<&[u8]> {
    const CHECKSUM: u16 = 0x8000;
    const ROUTING: u16 = 0x4000;
    const KEY: u16 = 0x2000;
    const SEQUENCE: u16 = 0x1000;
    const ACK: u16 = 0x0080;
    let flags = u16_at(g, 0)?;
    let proto = u16_at(g, 2)?;
    if flags & ROUTING != 0 {
        return None;
    }
    let mut off = 4usize;
    for bit in [CHECKSUM, KEY, SEQUENCE] {
        if flags & bit != 0 {
            off += 4;
        }
    }
    if flags & 0x7 == 1 && flags & ACK != 0 {
        off += 4;
    }
    let payload = g.get(off..)?;
    fn ethernet(e: &[u8]) -> Option<&[u8]> {
        ethertype(u16_at(e, 12)?, e.get(14..)?)
    }
    match proto {
        0x88be | 0x22eb if flags & SEQUENCE == 0 => ethernet(payload),
        0x88be | 0x22eb => {
            let version = u16_at(payload, 0)? >> 12;
            let hlen = match version {
                2 if u16_at(payload, 10)? & 1 != 0 => 20,
                2 => 12,
                _ => 8,
            };
            ethernet(payload.get(hlen..)?)
        }
        0x6558 => ethernet(payload),
        _ => ethertype(proto, payload),
    }
}

/// The network-layer packet of a record, if its link layer is one we know.
fn network(linktype: u32, data: &[u8]) -> Option<&[u8]> {
    match linktype {
        LINKTYPE_ETHERNET => ethertype(u16_at(data, 12)?, data.get(14..)?),
        LINKTYPE_RAW | LINKTYPE_RAW_OPENBSD | LINKTYPE_RAW_OLD | LINKTYPE_IPV4 | LINKTYPE_IPV6 => {
            Some(data)
        }
        LINKTYPE_LINUX_SLL => ethertype(u16_at(data, 14)?, data.get(16..)?),
        LINKTYPE_LINUX_SLL2 => ethertype(u16_at(data, 0)?, data.get(20..)?),
        // The address family's value differs between systems; the IP
        // version nibble decides.
        LINKTYPE_NULL | LINKTYPE_LOOP => data.get(4..),
        _ => None,
    }
}

/// Follows VLAN tags, PPPoE sessions and MPLS labels to an IP packet.
fn ethertype(mut ty: u16, mut rest: &[u8]) -> Option<&[u8]> {
    for _ in 0..MAX_TAGS {
        match ty {
            0x0800 | 0x86dd => return Some(rest),
            0x8100 | 0x88a8 | 0x9100 => {
                ty = u16_at(rest, 2)?;
                rest = rest.get(4..)?;
            }
            // PPPoE session: 6 bytes, then the PPP protocol.
            0x8864 => {
                return match u16_at(rest, 6)? {
                    0x0021 | 0x0057 => rest.get(8..),
                    _ => None,
                }
            }
            0x8847 | 0x8848 => {
                let bottom = rest.get(2).is_some_and(|b| b & 1 == 1);
                rest = rest.get(4..)?;
                if bottom {
                    return Some(rest);
                }
            }
            _ => return None,
        }
    }
    None
}

/// Hash of the unordered address pair; an ICMP error's is its quoted
/// packet's.
fn ip_pair(ip: &[u8]) -> u64 {
    let quoted = |at: usize| ip.get(at..).and_then(pair_hash);
    let own = pair_hash(ip);
    let quoting = match ip.first().map(|b| b >> 4) {
        Some(4) => {
            let hlen = usize::from(ip.first().map_or(0, |b| b & 0x0f)) * 4;
            let icmp_error = ip.get(9) == Some(&1)
                && ip
                    .get(hlen)
                    .is_some_and(|t| matches!(t, 3 | 4 | 5 | 11 | 12));
            icmp_error.then_some(hlen + 8)
        }
        Some(6) => {
            let icmp_error =
                ip.get(6) == Some(&58) && ip.get(40).is_some_and(|t| (1..=4).contains(t));
            icmp_error.then_some(48)
        }
        _ => None,
    };
    own.map_or(0, |own| quoting.and_then(quoted).unwrap_or(own))
}

/// The unordered pair of an IPv4 or IPv6 header's addresses, mixed: the
/// same both ways, and cheap (every worker hashes every record).
fn pair_hash(ip: &[u8]) -> Option<u64> {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, w: u64| (h ^ w).wrapping_mul(K).rotate_left(29);
    let h = match ip.first()? >> 4 {
        4 => {
            let a = u32::from_be_bytes(ip.get(12..16)?.try_into().ok()?);
            let b = u32::from_be_bytes(ip.get(16..20)?.try_into().ok()?);
            mix(K, u64::from(a.min(b)) << 32 | u64::from(a.max(b)))
        }
        6 => {
            let word = |at: usize| Some(u64::from_be_bytes(ip.get(at..at + 8)?.try_into().ok()?));
            let a = (word(8)?, word(16)?);
            let b = (word(24)?, word(32)?);
            let (lo, hi) = (a.min(b), a.max(b));
            [lo.0, lo.1, hi.0, hi.1].into_iter().fold(K, mix)
        }
        _ => return None,
    };
    // `% n` sees the high bits too.
    Some(h ^ (h >> 32))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0];
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(payload);
        p
    }

    fn eth(ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&ty.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn both_directions_tags_and_icmp_errors_meet() {
        let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let there = ipv4(6, a, b, &[0; 20]);
        let back = ipv4(6, b, a, &[0; 20]);
        let k = key(LINKTYPE_ETHERNET, &eth(0x0800, &there));
        assert_ne!(k, 0);
        assert_eq!(k, key(LINKTYPE_ETHERNET, &eth(0x0800, &back)));
        assert_eq!(k, key(LINKTYPE_RAW, &there));
        let mut tagged = vec![0, 5, 0x08, 0x00];
        tagged.extend_from_slice(&there);
        assert_eq!(k, key(LINKTYPE_ETHERNET, &eth(0x8100, &tagged)));
        // A router's "port unreachable" about the flow.
        let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&there);
        let error = ipv4(1, [192, 0, 2, 1], a, &icmp);
        assert_eq!(k, key(LINKTYPE_ETHERNET, &eth(0x0800, &error)));
        // An echo request is its own pair's.
        let mut echo = vec![8, 0, 0, 0, 0, 0, 0, 0];
        echo.extend_from_slice(&there);
        let ping = ipv4(1, [192, 0, 2, 1], a, &echo);
        assert_ne!(k, key(LINKTYPE_ETHERNET, &eth(0x0800, &ping)));
    }

    #[test]
    fn gre_and_erspan_are_looked_through() {
        let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let flow = ipv4(6, a, b, &[0; 20]);
        let k = key(LINKTYPE_RAW, &flow);
        let mut plain = vec![0, 0, 0x08, 0x00];
        plain.extend_from_slice(&flow);
        let mut erspan2 = vec![0x10, 0, 0x88, 0xbe, 0, 0, 0, 1, 0x10, 0, 0, 0, 0, 0, 0, 0];
        erspan2.extend_from_slice(&eth(0x0800, &flow));
        for (sensor, gre) in [([1, 1, 1, 1], &plain), ([2, 2, 2, 2], &erspan2)] {
            let outer = ipv4(47, sensor, [3, 3, 3, 3], gre);
            assert_eq!(key(LINKTYPE_RAW, &outer), k);
        }
        // A fragment is keyed by its own addresses.
        let mut frag = ipv4(47, [1, 1, 1, 1], [3, 3, 3, 3], &plain);
        frag[6] = 0x20;
        assert_ne!(key(LINKTYPE_RAW, &frag), k);
    }

    #[test]
    fn unknown_and_short_records_hash_to_zero() {
        assert_eq!(key(LINKTYPE_ETHERNET, &eth(0x0806, &[0; 28])), 0);
        assert_eq!(key(LINKTYPE_ETHERNET, &[0; 10]), 0);
        assert_eq!(key(9999, &[0x45; 40]), 0);
        assert_eq!(key(LINKTYPE_RAW, &[0x45, 0, 0]), 0);
    }
}
