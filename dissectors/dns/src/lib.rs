//! DNS, mDNS and LLMNR: a pure message parser ([`parser`]) and the
//! dissector that turns its output into tshark's `dns.*` fields
//! ([`dissector`]), with query/response matching.
//!
//! Depends on the engine only (never on another dissector crate); reaches
//! it through [`protocol`], its plug-in.

#![forbid(unsafe_code)]

pub mod dissector;
pub mod fields;
pub mod parser;
mod rdata;
pub mod text;

use std::rc::Rc;

use dorsal_engine::dissect::Dissectors;
use dorsal_engine::fields::Registry;
use dorsal_engine::protocol::Protocol;
use dorsal_engine::taps::SharedSink;

pub use dissector::{Dns, Flavor};
pub use fields::DnsFields;

/// Declares the fields of DNS, mDNS and LLMNR.
pub fn register_fields(reg: &mut Registry) -> DnsFields {
    DnsFields::register(reg)
}

/// UDP ports tshark 4.0 gives to DNS by default.
pub const UDP_PORTS: &[u32] = &[53];
/// TCP ports tshark 4.0 gives to DNS by default (mDNS over TCP is plain DNS).
pub const TCP_PORTS: &[u32] = &[53, 5353];
pub const MDNS_PORT: u32 = 5353;
pub const LLMNR_PORT: u32 = 5355;

dorsal_engine::plugin!(register_fields);

impl Protocol for DnsFields {
    /// Creates the dissectors and attaches them: `udp.port` 53, 5353 (mDNS) and
    /// 5355 (LLMNR), `tcp.port` 53 and 5353, `sctp.port` 53, and the `udp.heur`
    /// heuristic list (`dns_udp`, enabled by default in tshark).
    fn register_dissectors(&self, ds: &mut Dissectors, _eo: Option<SharedSink>) {
        let f = self;
        let dns = Rc::new(Dns::new(*f, Flavor::Dns));
        let id = ds.register("dns", dns.clone());
        for &p in UDP_PORTS {
            ds.add("udp.port", p, id);
        }
        for &p in TCP_PORTS {
            ds.add("tcp.port", p, id);
        }
        ds.add("sctp.port", 53, id);
        let mdns = ds.register("mdns", Rc::new(Dns::new(*f, Flavor::Mdns)));
        ds.add("udp.port", MDNS_PORT, mdns);
        let llmnr = ds.register("llmnr", Rc::new(Dns::new(*f, Flavor::Llmnr)));
        ds.add("udp.port", LLMNR_PORT, llmnr);
        // The `media_type` dissector of `application/dns-message`, called by
        // name from HTTP/2.
        ds.register("dns_doh", Rc::new(Dns::new(*f, Flavor::Doh)));
        let heur = ds.register("dns_udp", Rc::new(dissector::Heuristic { dns }));
        ds.add_heuristic("udp.heur", heur);
    }
}
