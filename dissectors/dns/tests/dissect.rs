//! The dissector through the engine: fields pushed for a query and its
//! response, request/response matching, TCP framing, and hostile input.

use dorsal_engine::dissect::{Address, Cx, Dissectors, Frame, Notes, Outcome, TcpPayloadInfo};
use dorsal_engine::fields::Registry;
use dorsal_engine::format::write_value;
use dorsal_engine::table::{FieldTable, Timestamp};

struct Bench {
    reg: Registry,
    ds: Dissectors,
    notes: Notes,
    t: FieldTable,
}

impl Bench {
    fn new() -> Self {
        let mut reg = Registry::new();
        let f = dorsal_dns::register_fields(&mut reg);
        let mut ds = Dissectors::new();
        dorsal_engine::protocol::Protocol::register_dissectors(&f, &mut ds, None);
        Bench {
            reg,
            ds,
            notes: Notes::default(),
            t: FieldTable::new(),
        }
    }

    /// Dissects `data` as frame `n` at `secs` from A:port to B:53 (or back).
    fn run(&mut self, n: u32, secs: i64, to_server: bool, tcp: bool, data: &[u8]) -> Outcome {
        let frame = Frame {
            number: n,
            ts: Timestamp::new(secs, 0),
            ..Frame::default()
        };
        self.t.clear();
        let mut cx = Cx::new(
            &frame,
            &mut self.t,
            &self.reg,
            &mut self.ds,
            &mut self.notes,
        );
        let (c, s) = (Address::V4([10, 0, 0, 1]), Address::V4([10, 0, 0, 2]));
        (cx.src, cx.dst, cx.srcport, cx.dstport) = if to_server {
            (c, s, 40000, 53)
        } else {
            (s, c, 53, 40000)
        };
        if tcp {
            cx.tcp = Some(TcpPayloadInfo::default());
        }
        cx.call_by_name("dns", data).unwrap_or(Outcome::Rejected)
    }

    /// The values of a field as `-T fields` prints them, joined by commas.
    fn show(&self, abbrev: &str) -> String {
        let Some(id) = self.reg.lookup(abbrev) else {
            return format!("<no {abbrev}>");
        };
        let def = self.reg.def(id);
        let mut parts = Vec::new();
        for v in self.t.values(id) {
            let mut s = String::new();
            write_value(&mut s, def, v, &self.t);
            parts.push(s);
        }
        parts.join(",")
    }
}

/// A query for `www.example.com` A with id 0x4aae.
fn query() -> Vec<u8> {
    let mut m = vec![0x4a, 0xae, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
    m
}

/// Its response: a CNAME (compressed) and an A record, and an OPT record.
fn response() -> Vec<u8> {
    let mut m = vec![0x4a, 0xae, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 1];
    m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
    // www.example.com CNAME web.example.com (name pointer to offset 12).
    m.extend_from_slice(b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x0e\x10\x00\x06\x03web\xc0\x10");
    // web.example.com A 93.184.216.34 (pointer to the CNAME's data at 45).
    m.extend_from_slice(b"\xc0\x2d\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x5d\xb8\xd8\x22");
    // OPT: root, type 41, payload size 1232, no options.
    m.extend_from_slice(b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00");
    m
}

#[test]
fn query_fields() {
    let mut b = Bench::new();
    assert_eq!(b.run(1, 100, true, false, &query()), Outcome::Done(33));
    assert_eq!(b.show("dns.id"), "0x4aae");
    assert_eq!(b.show("dns.flags"), "0x0100");
    assert_eq!(b.show("dns.flags.response"), "0");
    assert_eq!(b.show("dns.flags.rcode"), "");
    assert_eq!(b.show("dns.flags.authoritative"), "");
    assert_eq!(b.show("dns.qry.name"), "www.example.com");
    assert_eq!(b.show("dns.qry.name.len"), "15");
    assert_eq!(b.show("dns.count.labels"), "3");
    assert_eq!(b.show("dns.qry.class"), "0x0001");
    assert_eq!(b.show("dns"), "Domain Name System (query)");
}

#[test]
fn response_fields_and_matching() {
    let mut b = Bench::new();
    b.run(1, 100, true, false, &query());
    b.run(2, 101, false, false, &response());
    assert_eq!(
        b.show("dns.resp.name"),
        "www.example.com,web.example.com,<Root>"
    );
    assert_eq!(b.show("dns.resp.type"), "5,1,41");
    assert_eq!(b.show("dns.resp.class"), "0x0001,0x0001");
    assert_eq!(b.show("dns.resp.ttl"), "3600,60");
    assert_eq!(b.show("dns.resp.len"), "6,4,0");
    assert_eq!(b.show("dns.cname"), "web.example.com");
    assert_eq!(b.show("dns.a"), "93.184.216.34");
    assert_eq!(b.show("dns.rr.udp_payload_size"), "1232");
    assert_eq!(b.show("dns.response_to"), "1");
    assert_eq!(b.show("dns.time"), "1.000000000");
    // The same response again is a retransmission.
    b.run(3, 102, false, false, &response());
    assert_eq!(b.show("dns.retransmission"), "1");
    assert_eq!(b.show("dns.retransmit_response_in"), "2");
    assert_eq!(b.show("dns.response_to"), "");
    // A repeated query within 5 s of an answered one is a new transaction.
    b.run(4, 103, true, false, &query());
    assert_eq!(b.show("dns.retransmission"), "");
    b.run(5, 104, true, false, &query());
    assert_eq!(b.show("dns.retransmission"), "1");
    assert_eq!(b.show("dns.retransmit_request_in"), "4");
}

#[test]
fn unsolicited_response() {
    let mut b = Bench::new();
    b.run(1, 100, false, false, &response());
    assert_eq!(b.show("dns.unsolicited"), "1");
}

#[test]
fn tcp_length_prefix_and_partial_pdus() {
    let mut b = Bench::new();
    let q = query();
    let mut data = (q.len() as u16).to_be_bytes().to_vec();
    data.extend_from_slice(&q);
    let whole = data.len();
    assert_eq!(b.run(1, 100, true, true, &data), Outcome::Done(whole));
    assert_eq!(b.show("dns.length"), "33");
    assert_eq!(b.show("dns.qry.name"), "www.example.com");
    // Two messages, the second cut short: the first is dissected and TCP is
    // asked for the rest of the second.
    let mut two = data.clone();
    two.extend_from_slice(data.get(..10).unwrap_or_default());
    assert_eq!(
        b.run(2, 100, true, true, &two),
        Outcome::NeedMore {
            offset: whole,
            more: Some(whole - 10)
        }
    );
    assert_eq!(
        b.run(3, 100, true, true, &[0]),
        Outcome::NeedMore {
            offset: 0,
            more: None
        }
    );
}

#[test]
fn truncated_and_hostile_messages_keep_what_was_decoded() {
    let mut b = Bench::new();
    let r = response();
    // Cut inside the A record: the CNAME survives, the A record is gone.
    b.run(1, 100, false, false, r.get(..60).unwrap_or_default());
    assert_eq!(b.show("dns.cname"), "web.example.com");
    assert_eq!(b.show("dns.a"), "");
    assert!(!b.show("_ws.malformed").is_empty());
    // A name pointing at itself.
    let mut m = vec![0, 1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01");
    b.run(2, 100, true, false, &m);
    assert_eq!(
        b.show("dns.qry.name"),
        "<Name contains a pointer that loops>"
    );
    // Shorter than a header.
    b.run(3, 100, true, false, &[1, 2, 3]);
    assert_eq!(b.show("dns.id"), "");
    // Huge counts over a tiny body end quickly.
    let m = [
        0, 1, 0x81, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
    ];
    b.run(4, 100, false, false, &m);
    assert_eq!(b.show("dns.count.answers"), "65535");
}

#[test]
fn mdns_and_llmnr_have_their_own_protocol() {
    let mut b = Bench::new();
    let frame = Frame::default();
    let mut t = FieldTable::new();
    let mut cx = Cx::new(&frame, &mut t, &b.reg, &mut b.ds, &mut b.notes);
    assert!(cx.call_by_name("mdns", &query()).is_some());
    assert_eq!(t.layers(), &["mdns"]);
}
