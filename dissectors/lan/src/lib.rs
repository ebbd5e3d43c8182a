//! LAN service protocols that real captures are full of: the NetBIOS Name
//! Service (UDP 137) and Datagram Service (UDP 138), NTP (UDP 123),
//! DHCP/BOOTP (UDP 67/68) and IGMP, with tshark 4.0's protocol names, field
//! abbreviations and summary lines.
//!
//! May depend on the engine only.

mod dhcp;
mod dhcpv6;
mod igmp;
mod nbdgm;
mod nbns;
mod ntp;

use std::rc::Rc;

use dorsal_engine::dissect::Dissectors;
use dorsal_engine::fields::Registry;
use dorsal_engine::protocol::Protocol;
use dorsal_engine::taps::SharedSink;

dorsal_engine::fields! {
    pub struct LanFields {
        nbns: "nbns", "NetBIOS Name Service", Protocol, None, short "NBNS";
        nbns_id: "nbns.id", "Transaction ID", U16, Hex;
        nbns_flags: "nbns.flags", "Flags", U16, Hex;
        nbns_response: "nbns.flags.response", "Response", Bool, None, mask 0x8000;
        nbns_opcode: "nbns.flags.opcode", "Opcode", U16, Dec, mask 0x7800;
        nbns_authoritative: "nbns.flags.authoritative", "Authoritative", Bool, None, mask 0x0400;
        nbns_truncated: "nbns.flags.truncated", "Truncated", Bool, None, mask 0x0200;
        nbns_recdesired: "nbns.flags.recdesired", "Recursion desired", Bool, None, mask 0x0100;
        nbns_recavail: "nbns.flags.recavail", "Recursion available", Bool, None, mask 0x0080;
        nbns_broadcast: "nbns.flags.broadcast", "Broadcast", Bool, None, mask 0x0010;
        nbns_rcode: "nbns.flags.rcode", "Reply code", U16, Dec, mask 0x000f;
        nbns_queries: "nbns.count.queries", "Questions", U16, Dec;
        nbns_answers: "nbns.count.answers", "Answer RRs", U16, Dec;
        nbns_auth_rr: "nbns.count.auth_rr", "Authority RRs", U16, Dec;
        nbns_add_rr: "nbns.count.add_rr", "Additional RRs", U16, Dec;
        nbns_name: "nbns.name", "Name", String, None;
        nbns_type: "nbns.type", "Type", U16, Dec;
        nbns_class: "nbns.class", "Class", U16, Dec;
        nbns_ttl: "nbns.ttl", "Time to live", U32, Dec;
        nbns_nb_flags: "nbns.nb_flags", "Name flags", U16, Hex;
        nbns_nb_group: "nbns.nb_flags.group", "Name type", Bool, None, mask 0x8000;
        nbns_nb_ont: "nbns.nb_flags.ont", "ONT", U16, Dec, mask 0x6000;
        nbns_addr: "nbns.addr", "Addr", Ipv4, None;

        nbdgm: "nbdgm", "NetBIOS Datagram Service", Protocol, None, short "NBDS";
        nbdgm_type: "nbdgm.type", "Message Type", U8, Dec;
        nbdgm_flags: "nbdgm.flags", "Flags", U8, Hex;
        nbdgm_next: "nbdgm.next", "More fragments follow", Bool, None, mask 0x01;
        nbdgm_first: "nbdgm.first", "This is first fragment", Bool, None, mask 0x02;
        nbdgm_node_type: "nbdgm.node_type", "Node Type", U8, Dec, mask 0x0c;
        nbdgm_dgram_id: "nbdgm.dgram_id", "Datagram ID", U16, Hex;
        nbdgm_src_ip: "nbdgm.src.ip", "Source IP", Ipv4, None;
        nbdgm_src_port: "nbdgm.src.port", "Source Port", U16, Dec;
        nbdgm_dgram_len: "nbdgm.dgram_len", "Datagram length", U16, Dec;
        nbdgm_pkt_offset: "nbdgm.pkt_offset", "Packet offset", U16, Dec;
        nbdgm_error_code: "nbdgm.error_code", "Error code", U8, Hex;
        nbdgm_source_name: "nbdgm.source_name", "Source name", String, None;
        nbdgm_destination_name: "nbdgm.destination_name", "Destination name", String, None;

        ntp: "ntp", "Network Time Protocol", Protocol, None, short "NTP";
        ntp_flags: "ntp.flags", "Flags", U8, Hex;
        ntp_li: "ntp.flags.li", "Leap Indicator", U8, Dec, mask 0xc0;
        ntp_vn: "ntp.flags.vn", "Version number", U8, Dec, mask 0x38;
        ntp_mode: "ntp.flags.mode", "Mode", U8, Dec, mask 0x07;
        ntp_stratum: "ntp.stratum", "Peer Clock Stratum", U8, Dec;
        ntp_ppoll: "ntp.ppoll", "Peer Polling Interval", U8, Dec;
        ntp_precision: "ntp.precision", "Peer Clock Precision", U8, Dec;
        ntp_refid: "ntp.refid", "Reference ID", Bytes, None;
        ntp_reftime: "ntp.reftime", "Reference Timestamp", AbsTime, TimeUtc;
        ntp_org: "ntp.org", "Origin Timestamp", AbsTime, TimeUtc;
        ntp_rec: "ntp.rec", "Receive Timestamp", AbsTime, TimeUtc;
        ntp_xmt: "ntp.xmt", "Transmit Timestamp", AbsTime, TimeUtc;

        dhcp: "dhcp", "Dynamic Host Configuration Protocol", Protocol, None, short "DHCP/BOOTP";
        dhcp_type: "dhcp.type", "Message type", U8, Dec;
        dhcp_hw_type: "dhcp.hw.type", "Hardware type", U8, Hex;
        dhcp_hw_len: "dhcp.hw.len", "Hardware address length", U8, Dec;
        dhcp_hops: "dhcp.hops", "Hops", U8, Dec;
        dhcp_id: "dhcp.id", "Transaction ID", U32, Hex;
        dhcp_secs: "dhcp.secs", "Seconds elapsed", U16, Dec;
        dhcp_flags: "dhcp.flags", "Bootp flags", U16, Hex;
        dhcp_ip_client: "dhcp.ip.client", "Client IP address", Ipv4, None;
        dhcp_ip_your: "dhcp.ip.your", "Your (client) IP address", Ipv4, None;
        dhcp_ip_server: "dhcp.ip.server", "Next server IP address", Ipv4, None;
        dhcp_ip_relay: "dhcp.ip.relay", "Relay agent IP address", Ipv4, None;
        dhcp_mac: "dhcp.hw.mac_addr", "Client MAC address", Ether, None;
        dhcp_server: "dhcp.server", "Server host name", String, None;
        dhcp_file: "dhcp.file", "Boot file name", String, None;
        dhcp_cookie: "dhcp.cookie", "Magic cookie", Ipv4, None;
        dhcp_option_type: "dhcp.option.type", "Option", U8, Dec;
        dhcp_option_length: "dhcp.option.length", "Length", U8, Dec;
        dhcp_option_dhcp: "dhcp.option.dhcp", "DHCP", U8, Dec;
        dhcp_option_end: "dhcp.option.end", "Option End", U8, Dec;
        dhcp_hostname: "dhcp.option.hostname", "Host Name", StringZ, None;
        dhcp_domain_name: "dhcp.option.domain_name", "Domain Name", StringZ, None;
        dhcp_requested_ip: "dhcp.option.requested_ip_address", "Requested IP Address", Ipv4, None;
        dhcp_server_id: "dhcp.option.dhcp_server_id", "DHCP Server Identifier", Ipv4, None;
        dhcp_vendor_class: "dhcp.option.vendor_class_id", "Vendor class identifier", StringZ, None;

        dhcpv6: "dhcpv6", "DHCPv6", Protocol, None, short "DHCPv6";
        dhcpv6_msgtype: "dhcpv6.msgtype", "Message type", U8, Dec;
        dhcpv6_xid: "dhcpv6.xid", "Transaction ID", U24, Hex;
        dhcpv6_hopcount: "dhcpv6.hopcount", "Hopcount", U8, Dec;
        dhcpv6_linkaddr: "dhcpv6.linkaddr", "Link address", Ipv6, None;
        dhcpv6_peeraddr: "dhcpv6.peeraddr", "Peer address", Ipv6, None;
        dhcpv6_option_type: "dhcpv6.option.type", "Option", U16, Dec;
        dhcpv6_option_length: "dhcpv6.option.length", "Length", U16, Dec;
        dhcpv6_option_type_str: "dhcpv6.option.type_str", "Option", String, None;
        dhcpv6_duid_bytes: "dhcpv6.duid.bytes", "DUID", Bytes, None;
        dhcpv6_duid_type: "dhcpv6.duid.type", "DUID Type", U16, Dec;
        dhcpv6_iaid: "dhcpv6.iaid", "IAID", String, None;
        dhcpv6_iata: "dhcpv6.iata", "IATA", String, None;
        dhcpv6_iaid_t1: "dhcpv6.iaid.t1", "T1", U32, Dec;
        dhcpv6_iaid_t2: "dhcpv6.iaid.t2", "T2", U32, Dec;
        dhcpv6_iaaddr_ip: "dhcpv6.iaaddr.ip", "IPv6 address", Ipv6, None;
        dhcpv6_iaaddr_pref_lifetime: "dhcpv6.iaaddr.pref_lifetime", "Preferred lifetime", U32, Dec;
        dhcpv6_iaaddr_valid_lifetime: "dhcpv6.iaaddr.valid_lifetime", "Valid lifetime", U32, Dec;
        dhcpv6_iaprefix_pref_lifetime: "dhcpv6.iaprefix.pref_lifetime", "Preferred lifetime", U32, Dec;
        dhcpv6_iaprefix_valid_lifetime: "dhcpv6.iaprefix.valid_lifetime", "Valid lifetime", U32, Dec;
        dhcpv6_iaprefix_pref_len: "dhcpv6.iaprefix.pref_len", "Prefix length", U8, Dec;
        dhcpv6_iaprefix_pref_addr: "dhcpv6.iaprefix.pref_addr", "Prefix address", Ipv6, None;
        dhcpv6_requested_option_code: "dhcpv6.requested_option_code", "Requested Option code", U16, Dec;
        dhcpv6_elapsed_time: "dhcpv6.elapsed_time", "Elapsed time", U16, Dec;
        dhcpv6_interface_id: "dhcpv6.interface_id", "Interface-ID", Bytes, None;
        dhcpv6_dns_server: "dhcpv6.dns_server", "DNS server address", Ipv6, None;

        igmp: "igmp", "Internet Group Management Protocol", Protocol, None, short "IGMP";
        igmp_version: "igmp.version", "IGMP Version", U8, Dec;
        igmp_type: "igmp.type", "Type", U8, Hex;
        igmp_max_resp: "igmp.max_resp", "Max Resp Time", U8, Dec;
        igmp_checksum: "igmp.checksum", "Checksum", U16, Hex;
        igmp_maddr: "igmp.maddr", "Multicast Address", Ipv4, None;
        igmp_s: "igmp.s", "S", Bool, None, mask 0x08;
        igmp_qrv: "igmp.qrv", "QRV", U8, Dec, mask 0x07;
        igmp_qqic: "igmp.qqic", "QQIC", U8, Dec;
        igmp_num_src: "igmp.num_src", "Num Src", U16, Dec;
        igmp_saddr: "igmp.saddr", "Source Address", Ipv4, None;
        igmp_num_grp_recs: "igmp.num_grp_recs", "Num Group Records", U16, Dec;
        igmp_record_type: "igmp.record_type", "Record Type", U8, Dec;
        igmp_aux_data_len: "igmp.aux_data_len", "Aux Data Len", U8, Dec;
        igmp_data: "igmp.data", "Data", Bytes, None;

        rgmp: "rgmp", "Router-port Group Management Protocol", Protocol, None, short "RGMP";
        rgmp_type: "rgmp.type", "Type", U8, Hex;
        rgmp_reserved: "rgmp.reserved", "Reserved", U8, Hex;
        rgmp_checksum: "rgmp.checksum", "Checksum", U16, Hex;
        rgmp_maddr: "rgmp.maddr", "Multicast group address", Ipv4, None;
    }
}

/// Declares this crate's fields.
pub fn register_fields(reg: &mut Registry) -> LanFields {
    LanFields::register(reg)
}

dorsal_engine::plugin!(register_fields);

impl Protocol for LanFields {
    /// NBNS on UDP 137, NBDGM on UDP 138, NTP on UDP 123, DHCP on UDP 67
    /// and 68, IGMP on IP protocol 2.
    fn register_dissectors(&self, ds: &mut Dissectors, _eo: Option<SharedSink>) {
        let nbns = ds.register("nbns", Rc::new(nbns::Nbns(*self)));
        ds.add("udp.port", 137, nbns);
        let nbdgm = ds.register("nbdgm", Rc::new(nbdgm::Nbdgm(*self)));
        ds.add("udp.port", 138, nbdgm);
        let ntp = ds.register("ntp", Rc::new(ntp::Ntp(*self)));
        ds.add("udp.port", 123, ntp);
        let dhcp = ds.register("dhcp", Rc::new(dhcp::Dhcp(*self)));
        ds.add("udp.port", 67, dhcp);
        ds.add("udp.port", 68, dhcp);
        let dhcpv6 = ds.register("dhcpv6", Rc::new(dhcpv6::Dhcpv6(*self)));
        ds.add("udp.port", 546, dhcpv6);
        ds.add("udp.port", 547, dhcpv6);
        let igmp = ds.register("igmp", Rc::new(igmp::Igmp(*self)));
        ds.add("ip.proto", 2, igmp);
    }
}

#[cfg(test)]
mod tests;

/// The display form of one first-level-encoded NetBIOS name label.
#[cfg(test)]
fn nbns_names_for_tests(label: &[u8]) -> String {
    nbns::decode_for_tests(label)
}
