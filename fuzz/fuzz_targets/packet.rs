//! One packet of a chosen link type through every dissector: the link
//! layers, tunnels, IP (with fragments), ICMP and what they carry.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

/// Ethernet, BSD loopback, raw IP, Linux SLL and SLL2, IPv4, IPv6, PPP,
/// 802.11, radiotap, PPI.
const LINKTYPES: [u32; 11] = [1, 0, 101, 113, 276, 228, 229, 9, 105, 127, 192];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let linktype = LINKTYPES[usize::from(sel) % LINKTYPES.len()];
    // Up to four packets, cut at 0xFFFF markers, so fragments and flows meet.
    let frames: Vec<Vec<u8>> = rest
        .split(|&b| b == 0xff)
        .take(4)
        .map(<[u8]>::to_vec)
        .collect();
    common::run_engine(&common::pcap(linktype, &frames), false);
});
