//! `-j N` prints what one thread prints: flows spread over the workers,
//! numbered (`tcp.stream`, `udp.stream`) and timed
//! (`frame.time_delta_displayed`) across them as one thread does.

mod common;

use common::{dorsal, pcap, tcp_segment, udp_frame, write_temp};

/// UDP between two hosts (udp_frame with its addresses and ports replaced).
fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = udp_frame(payload);
    let mut at = |offset: usize, bytes: &[u8]| {
        if let Some(dst) = f.get_mut(offset..offset + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    };
    at(26, &src);
    at(30, &dst);
    at(34, &sport.to_be_bytes());
    at(36, &dport.to_be_bytes());
    f
}

/// A DNS query for `name` with id `id`.
fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    m
}

/// Three rounds of twelve clients talking to three servers, interleaved:
/// HTTP requests in two segments with their responses, DNS queries.
fn capture() -> Vec<u8> {
    let mut frames = Vec::new();
    let server = |i: u8| [192, 0, 2, 10 + i % 3];
    for round in 0..3u32 {
        for c in 0..12u8 {
            let client = [10, 0, round as u8, c];
            let sport = 40000 + u16::from(c);
            let seq = 1000 + round * 100;
            frames.push(tcp_segment(client, sport, server(c), 80, seq, 1, b"GET /a"));
            frames.push(udp(
                client,
                5353 + u16::from(c),
                server(c + 1),
                53,
                &dns_query(u16::from(c), "example.com"),
            ));
            frames.push(tcp_segment(
                client,
                sport,
                server(c),
                80,
                seq + 6,
                1,
                b" HTTP/1.1\r\nHost: h\r\n\r\n",
            ));
            frames.push(tcp_segment(
                server(c),
                80,
                client,
                sport,
                1,
                seq + 28,
                b"HTTP/1.1 204 No Content\r\n\r\n",
            ));
        }
    }
    pcap(&frames)
}

fn run(path: &str, jobs: &str, args: &[&str]) -> String {
    let mut all = vec!["-j", jobs, "-r", path];
    all.extend_from_slice(args);
    let out = dorsal(&all, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn several_workers_print_what_one_prints() {
    let path = write_temp("jobs.pcap", &capture());
    let path = path.to_str().expect("path");
    let fields = [
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "ip.src",
        "-e",
        "tcp.stream",
        "-e",
        "udp.stream",
        "-e",
        "tcp.seq",
        "-e",
        "tcp.reassembled_in",
        "-e",
        "http.request.uri",
        "-e",
        "http.response_in",
        "-e",
        "dns.qry.name",
        "-e",
        "frame.time_delta_displayed",
    ];
    let mut filtered = vec!["-Y", "http.request || dns"];
    filtered.extend_from_slice(&fields);
    let mut counted = vec!["-c", "7"];
    counted.extend_from_slice(&filtered);
    let l2l4 = [
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "ip.dst",
        "-e",
        "tcp.stream",
        "-e",
        "udp.stream",
        "-e",
        "tcp.ack",
    ];
    let json = [
        "-T",
        "json",
        "-e",
        "tcp.stream",
        "-e",
        "frame.time_delta_displayed",
    ];
    for args in [&fields[..], &filtered, &counted, &l2l4, &json] {
        let one = run(path, "1", args);
        assert!(one.lines().count() > 6, "{args:?}: {one}");
        for jobs in ["2", "3", "8"] {
            assert_eq!(one, run(path, jobs, args), "-j {jobs} {args:?}");
        }
    }
    // Streams really spread over the capture: the last TCP connection is
    // the 36th (three rounds of twelve), numbered as one thread does.
    let streams = run(path, "3", &["-T", "fields", "-e", "tcp.stream"]);
    assert!(streams.lines().any(|l| l == "35"), "{streams}");
}

#[test]
fn a_bad_thread_count_is_refused() {
    let out = dorsal(&["-j", "zero", "-r", "x.pcap"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-j takes a number of threads"));
}
