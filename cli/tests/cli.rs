//! End-to-end behaviour of the `dorsal` binary on captures built here.

mod common;

use common::{dorsal, pcap, udp_frame, write_temp};

#[test]
fn fields_rows_for_each_frame() {
    let path = write_temp("two.pcap", &pcap(&[udp_frame(b"a"), udp_frame(b"bc")]));
    let out = dorsal(
        &[
            "-r",
            path.to_str().expect("path"),
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "ip.src",
            "-e",
            "udp.port",
            "-e",
            "frame.time_epoch",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1\t10.0.0.1\t1234,9\t1000.500000000\n2\t10.0.0.1\t1234,9\t1001.500000000\n"
    );
}

#[test]
fn standard_input_and_display_filter() {
    let bytes = pcap(&[udp_frame(b"a"), udp_frame(b"bcd")]);
    let out = dorsal(
        &[
            "-r",
            "-",
            "-Y",
            "udp.length > 9",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
        Some(&bytes),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"2\n");
}

#[test]
fn a_file_cut_short_prints_complete_frames_then_the_message() {
    let mut bytes = pcap(&[udp_frame(b"a"), udp_frame(b"bcd")]);
    bytes.truncate(bytes.len() - 3);
    let path = write_temp("cut.pcap", &bytes);
    let p = path.to_str().expect("path");
    let out = dorsal(&["-r", p, "-T", "fields", "-e", "frame.number"], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(out.stdout, b"1\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        format!(
            "dorsal: The file \"{p}\" appears to have been cut short in the middle of a packet."
        )
    );
}

#[test]
fn garbage_and_missing_files_get_tsharks_messages() {
    let path = write_temp("garbage.txt", b"this is not a capture file at all");
    let p = path.to_str().expect("path");
    let out = dorsal(&["-r", p, "-T", "fields", "-e", "frame.number"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("isn't a capture file in a format TShark understands."));
    let out = dorsal(
        &[
            "-r",
            "/nonexistent/x.pcap",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("doesn't exist."));
}

#[test]
fn bad_fields_and_filters_fail_before_reading() {
    let out = dorsal(
        &["-r", "/nonexistent", "-T", "fields", "-e", "no.such.field"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "dorsal: Some fields aren't valid:\n\tno.such.field\n"
    );
    let out = dorsal(
        &[
            "-r",
            "/nonexistent",
            "-Y",
            "ip.src == 1.2.3.x",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "dorsal: \"1.2.3.x\" is not a valid hostname or IPv4 address.\n    ip.src == 1.2.3.x\n              ^~~~~~~\n"
    );
}

#[test]
fn json_and_ek_outputs() {
    let path = write_temp("one.pcap", &pcap(&[udp_frame(b"a")]));
    let p = path.to_str().expect("path");
    let out = dorsal(&["-r", p, "-T", "ek", "-e", "ip.dst"], None);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"index\":{\"_index\":\"packets-1970-01-01\",\"_type\":\"doc\"}}\n{\"timestamp\":\"1000500\",\"layers\":{\"ip_dst\":[\"10.0.0.2\"]}}\n"
    );
    let out = dorsal(&["-r", p, "-T", "json", "-e", "ip.dst"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("[\n  {\n    \"_index\": \"packets-1970-01-01\""),
        "{text}"
    );
    assert!(
        text.ends_with(
            "\"ip.dst\": [\n          \"10.0.0.2\"\n        ]\n      }\n    }\n  }\n]\n"
        ),
        "{text}"
    );
}

/// A row of link, network and transport fields is dissected without the
/// application dissectors; it must read the same as when they run (here
/// forced by one more column asking for an HTTP field).
#[test]
fn transport_rows_do_not_depend_on_the_application_dissectors() {
    let path = write_temp("mixed.pcap", &common::mixed_capture());
    let web = path.to_str().expect("path");
    let l2l4 = [
        "frame.number",
        "eth.src",
        "ip.src",
        "ip.dst",
        "tcp.stream",
        "tcp.seq",
        "tcp.ack",
        "tcp.len",
        "tcp.nxtseq",
        "tcp.analysis.flags",
        "udp.stream",
        "udp.length",
    ];
    let run = |extra: Option<&str>| {
        let mut args = vec!["-r", web, "-T", "fields"];
        for f in l2l4.iter().copied().chain(extra) {
            args.extend(["-e", f]);
        }
        let out = dorsal(&args, None);
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let alone = run(None);
    let with_http = run(Some("http.request.uri"));
    assert!(with_http.contains("\t/"), "the fixture has HTTP requests");
    let stripped: String = with_http
        .lines()
        .map(|l| format!("{}\n", l.rsplit_once('\t').map_or(l, |(row, _)| row)))
        .collect();
    assert_eq!(alone, stripped);
    assert!(alone.lines().count() > 10);
}
