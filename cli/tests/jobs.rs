//! `-j N` prints what one thread prints: flows spread over the workers,
//! numbered (`tcp.stream`, `udp.stream`) and timed
//! (`frame.time_delta_displayed`) across them as one thread does, in
//! fields, JSON and the default view.

mod common;

use std::io::Write;

use common::{dorsal, mixed_capture, mixed_capture_rounds, write_temp};

/// `-T FORMAT` with an `-e` for each field.
fn columns<'a>(format: &'a str, fields: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["-T", format];
    for f in fields {
        args.extend(["-e", f]);
    }
    args
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
    let path = write_temp("jobs.pcap", &mixed_capture());
    let path = path.to_str().expect("path");
    let fields = columns(
        "fields",
        &[
            "frame.number",
            "ip.src",
            "tcp.stream",
            "udp.stream",
            "tcp.seq",
            "tcp.reassembled_in",
            "http.request.uri",
            "http.response_in",
            "dns.qry.name",
            "frame.time_delta_displayed",
        ],
    );
    let mut filtered = vec!["-Y", "http.request || dns"];
    filtered.extend_from_slice(&fields);
    let mut counted = vec!["-c", "7"];
    counted.extend_from_slice(&filtered);
    let l2l4 = columns(
        "fields",
        &[
            "frame.number",
            "ip.dst",
            "tcp.stream",
            "udp.stream",
            "tcp.ack",
        ],
    );
    let json = columns("json", &["tcp.stream", "frame.time_delta_displayed"]);
    // The default view: workers format the summary lines.
    let text: &[&str] = &[];
    let text_filtered = ["-Y", "http || dns", "-c", "9", "-t", "ad"];
    let text_displayed = ["-Y", "tcp", "-t", "dd"];
    for args in [
        &fields[..],
        &filtered,
        &counted,
        &l2l4,
        &json,
        text,
        &text_filtered,
        &text_displayed,
    ] {
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
fn many_rounds_from_a_file_a_pipe_and_gzip_print_what_one_thread_prints() {
    // Several of the pipeline's rounds (four 512 KiB read buffers each),
    // however the capture is read.
    let capture = mixed_capture_rounds(1500);
    assert!(capture.len() > 6 << 20, "{}", capture.len());
    let path = write_temp("jobs-many.pcap", &capture);
    let path = path.to_str().expect("path");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&capture).expect("gzip");
    let gz = write_temp("jobs-many.pcap.gz", &gz.finish().expect("gzip"));
    let gz = gz.to_str().expect("path");
    let args = columns(
        "fields",
        &[
            "frame.number",
            "tcp.stream",
            "udp.stream",
            "http.response_in",
        ],
    );
    let one = run(path, "1", &args);
    assert_eq!(one.lines().count(), 1500 * 48);
    assert_eq!(one, run(path, "2", &args), "file");
    assert_eq!(one, run(gz, "2", &args), "gzip");
    let mut piped = vec!["-j", "3", "-r", "-"];
    piped.extend_from_slice(&args);
    let out = dorsal(&piped, Some(&capture));
    assert_eq!(one, String::from_utf8_lossy(&out.stdout), "standard input");
}

#[test]
fn a_bad_thread_count_is_refused() {
    let out = dorsal(&["-j", "zero", "-r", "x.pcap"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-j takes a number of threads"));
}
