//! TLS records against TCP segment boundaries, end to end on a capture
//! built here. The expected rows are what tshark 4.0.17 prints for the same
//! bytes: `tls` is a layer of every frame whose payload reaches the TLS
//! dissector, also when it only asks TCP for more, and a frame that ends one
//! record and starts the next one shows `tls` twice, with the segments of
//! the finished record between them in the protocol hierarchy.

mod common;

use common::{dorsal, pcap, tcp_frame, write_temp};

/// A TLS 1.2 record of content type `ct`.
fn record(ct: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ct, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// Four records cut into five segments to port 443:
/// 1: record A (10 bytes of data) whole;
/// 2: the first 8 bytes of record B (30 bytes of data);
/// 3: 15 more bytes of B;
/// 4: the end of B and the header and 2 bytes of record C;
/// 5: the end of C, then an alert record D whole.
fn capture() -> Vec<u8> {
    let a = record(23, &(0x10..0x1a).collect::<Vec<u8>>());
    let b = record(23, &(0..30).map(|i| 0xb0 + i % 16).collect::<Vec<u8>>());
    let c = record(23, &[0xc1, 0xc2, 0xc3, 0xc4]);
    let d = record(21, &[2, 40]);
    let stream: Vec<u8> = [a.clone(), b, c, d].concat();
    let cuts = [
        a.len(),
        a.len() + 8,
        a.len() + 23,
        a.len() + 35 + 7,
        stream.len(),
    ];
    let mut frames = Vec::new();
    let mut prev = 0usize;
    for cut in cuts {
        let seg = stream.get(prev..cut).expect("cut inside the stream");
        frames.push(tcp_frame(443, 1000 + prev as u32, seg));
        prev = cut;
    }
    pcap(&frames)
}

fn run(args: &[&str]) -> String {
    let cap = write_temp("tls-segments.pcap", &capture());
    let mut argv = vec!["-r", cap.to_str().expect("path")];
    argv.extend_from_slice(args);
    let out = dorsal(&argv, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn records_spanning_segments_are_layered_as_tshark_does() {
    let got = run(&[
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "frame.protocols",
        "-e",
        "tcp.len",
        "-e",
        "tls.record.content_type",
        "-e",
        "tls.record.length",
        "-e",
        "tls.app_data",
        "-e",
        "tls.alert_message.desc",
    ]);
    let want = "\
1\teth:ethertype:ip:tcp:tls\t15\t23\t10\t10111213141516171819\t
2\teth:ethertype:ip:tcp:tls\t8\t\t\t\t
3\teth:ethertype:ip:tcp\t15\t\t\t\t
4\teth:ethertype:ip:tcp:tls:tls\t19\t23\t30\tb0b1b2b3b4b5b6b7b8b9babbbcbdbebfb0b1b2b3b4b5b6b7b8b9babbbcbd\t
5\teth:ethertype:ip:tcp:tls:tls\t9\t23,21\t4,2\tc1c2c3c4\t40
";
    assert_eq!(got, want);
}

#[test]
fn a_frame_asking_for_more_matches_the_tls_filter() {
    let got = run(&["-Y", "tls", "-T", "fields", "-e", "frame.number"]);
    assert_eq!(got, "1\n2\n4\n5\n");
}

/// The segments' tree item follows the reassembled record's `tls` and comes
/// before the `tls` of a record starting later in the same segment.
#[test]
fn segments_item_sits_between_the_two_tls_layers() {
    let got = run(&["-q", "-z", "io,phs"]);
    let want = "
===================================================================
Protocol Hierarchy Statistics
Filter: 

eth                                      frames:5 bytes:336
  ip                                     frames:5 bytes:336
    tcp                                  frames:5 bytes:336
      tls                                frames:4 bytes:267
        tcp.segments                     frames:2 bytes:136
          tls                            frames:2 bytes:136
===================================================================
";
    assert_eq!(got, want);
}

/// The summary lines: a segment that only starts a record is `TCP` with
/// Info replaced; one that ends a record and starts the next keeps the
/// finished record's columns; an unencrypted alert is named.
#[test]
fn default_view_marks_only_segments_nothing_was_dissected_of() {
    let want = include_str!("tls_segments.expected");
    assert_eq!(run(&[]), want);
}

/// Bytes on 443 that are no TLS record, before any record said which
/// version the session runs: `SSL` `Continuation Data`, as dissect_ssl
/// names them.
#[test]
fn non_record_bytes_on_the_tls_port_are_continuation_data() {
    let junk: Vec<u8> = [0xde, 0xad, 0xbe, 0xef].repeat(8);
    let cap = write_temp("tls-junk.pcap", &pcap(&[tcp_frame(443, 1000, &junk)]));
    let out = dorsal(&["-r", cap.to_str().expect("path")], None);
    let got = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(
        got,
        "    1   0.000000     10.0.0.1 → 10.0.0.2     SSL 86 Continuation Data\n"
    );
}

/// Once the session is TLS 1.0-1.2, bytes that start with no valid content
/// type are skipped whole, as RFC 2246 says and dissect_ssl3_record does.
#[test]
fn unknown_records_in_a_tls12_session_are_ignored() {
    let app = record(23, &[1, 2, 3, 4]);
    let junk: Vec<u8> = [0x99, 0x03, 0x03, 0x00, 0x04, 1, 2, 3, 4].to_vec();
    let frames = [
        tcp_frame(443, 1000, &app),
        tcp_frame(443, 1000 + app.len() as u32, &junk),
    ];
    let cap = write_temp("tls-unknown.pcap", &pcap(&frames));
    let out = dorsal(&["-r", cap.to_str().expect("path")], None);
    let got = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(
        got,
        "    1   0.000000     10.0.0.1 → 10.0.0.2     TLSv1.2 63 Application Data\n    2   1.000000     10.0.0.1 → 10.0.0.2     TLSv1.2 63 Ignored Unknown Record\n"
    );
}
