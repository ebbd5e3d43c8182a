//! Frame, link, network and transport dissectors: everything from the
//! capture record up to the TCP and UDP payloads.
//!
//! Depends on the engine only (never on another dissector crate); reaches
//! it through [`protocol`], its plug-in.

#![forbid(unsafe_code)]

mod conv;
mod eth;
mod etypes;
mod frame;
mod icmp;
mod ip;
mod ipproto;
mod links;
mod llc;
mod manuf;
mod shard;
pub mod stats;
mod stp;
mod tcp;
mod tunnel;
mod udp;

use dorsal_engine::protocol::Protocol;
use dorsal_engine::taps::{SharedSink, Stat};
use std::rc::Rc;

use dorsal_engine::dissect::Dissectors;
use dorsal_engine::fields::Registry;

pub use eth::call_or_data;

/// Fields of this crate whose values depend on which dissector took a
/// payload (the protocol stack, `data`, TCP reassembly), with the fields
/// under them: asking for one needs every payload dissector.
pub const PAYLOAD_DEPENDENT: &[&str] = &[
    "frame.protocols",
    "data",
    "tcp.reassembled_in",
    "tcp.reassembled",
    "tcp.segment",
    "tcp.segments",
    "tcp.segment_data",
    "tcp.pdu",
];

/// The field ids of this crate, to build dissectors from.
#[derive(Clone, Copy)]
pub struct Fields {
    frame: frame::FrameFields,
    eth: eth::EthFields,
    ip: ip::IpFields,
    icmp: icmp::IcmpFields,
    tcp: tcp::TcpFields,
    udp: udp::UdpFields,
    tunnel: tunnel::TunnelFields,
    links: links::LinkFields,
    llc: llc::LlcFields,
    stp: stp::StpFields,
}

/// Declares the fields of every dissector of this crate.
pub fn register_fields(reg: &mut Registry) -> Fields {
    let f = Fields {
        frame: frame::FrameFields::register(reg),
        eth: eth::EthFields::register(reg),
        ip: ip::IpFields::register(reg),
        icmp: icmp::IcmpFields::register(reg),
        tcp: tcp::TcpFields::register(reg),
        udp: udp::UdpFields::register(reg),
        tunnel: tunnel::TunnelFields::register(reg),
        links: links::LinkFields::register(reg),
        llc: llc::LlcFields::register(reg),
        stp: stp::StpFields::register(reg),
    };
    reg.mark_index(f.tcp.stream);
    reg.mark_index(f.udp.stream);
    f
}

dorsal_engine::plugin!(register_fields);

impl Protocol for Fields {
    /// Creates this crate's dissectors and attaches them to their tables.
    fn register_dissectors(&self, ds: &mut Dissectors, _eo: Option<SharedSink>) {
        let f = self;
        ds.register("frame", Rc::new(frame::Frame::new(f.frame)));
        eth::attach(ds, f.eth);

        let ip = ds.register("ip", Rc::new(ip::Ipv4::new(f.ip)));
        ds.add("ethertype", 0x0800, ip);
        ds.add("ip.proto", 4, ip);
        let ipv6 = ds.register("ipv6", Rc::new(ip::Ipv6::new(f.ip)));
        ds.add("ethertype", 0x86dd, ipv6);
        ds.add("ip.proto", 41, ipv6);
        if let Some(eth) = ds.find("eth") {
            // RFC 8986 segment routing can carry Ethernet directly.
            ds.add("ip.proto", 143, eth);
        }

        let icmp = ds.register("icmp", Rc::new(icmp::Icmp::new(f.icmp, icmp::Kind::Icmp)));
        ds.add("ip.proto", 1, icmp);
        let icmpv6 = ds.register(
            "icmpv6",
            Rc::new(icmp::Icmp::new(f.icmp, icmp::Kind::Icmpv6)),
        );
        ds.add("ip.proto", 58, icmpv6);
        let arp = ds.register("arp", Rc::new(icmp::Icmp::new(f.icmp, icmp::Kind::Arp)));
        ds.add("ethertype", 0x0806, arp);
        // RARP (and its relatives) share ARP's format and dissector.
        ds.add("ethertype", 0x8035, arp);

        let tcp = ds.register("tcp", Rc::new(tcp::Tcp::new(f.tcp)));
        ds.add("ip.proto", 6, tcp);
        let udp = ds.register("udp", Rc::new(udp::Udp::new(f.udp)));
        ds.add("ip.proto", 17, udp);
        tunnel::attach(ds, f.tunnel);
        links::attach(ds, f.links);
        llc::attach(ds, f.llc);
        stp::attach(ds, f.stp);
    }

    fn always_needed(&self) -> bool {
        true
    }

    fn payload_dependent(&self) -> &'static [&'static str] {
        PAYLOAD_DEPENDENT
    }

    fn stats(&self) -> &'static [Stat] {
        stats::STATS
    }

    fn shard_key(&self, linktype: u32, data: &[u8]) -> Option<u64> {
        Some(shard::key(linktype, data))
    }
}
