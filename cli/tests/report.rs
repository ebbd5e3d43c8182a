//! `--report DIR` end to end, on captures built here: the stdout lines,
//! the JSON file, `-Y`, standard input, and the errors.

mod common;

use common::{dns_query, dorsal, mixed_capture, pcap, udp, write_temp};

fn report_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("dorsal-cli-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn json_without_timestamp(dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(dir.join("pcap_forensic_report.json")).expect("report");
    let start = text
        .find("\"analysis_timestamp\": \"")
        .expect("timestamp key")
        + 23;
    let end = start + text.get(start..).and_then(|t| t.find('"')).expect("end");
    format!(
        "{}T{}",
        text.get(..start).unwrap_or(""),
        text.get(end..).unwrap_or("")
    )
}

#[test]
fn report_of_a_small_capture() {
    let frames = vec![
        udp(
            [10, 0, 0, 1],
            5000,
            [10, 0, 0, 53],
            53,
            &dns_query(1, "example.com"),
        ),
        udp(
            [10, 0, 0, 53],
            53,
            [10, 0, 0, 1],
            5000,
            b"\x00\x01\x81\x80\x00\x00\x00\x00\x00\x00\x00\x00",
        ),
    ];
    let cap = write_temp("report-small.pcap", &pcap(&frames));
    let dir = report_dir("small");
    let p = cap.to_str().expect("path");
    let out = dorsal(&["-r", p, "--report", dir.to_str().expect("dir")], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "[*] Total packets: 2\n[*] Conversations: 1\n[*] DNS queries: 1\n[*] Potential beacons: 0\n"
    );
    let want = format!(
        "{{\n  \"analysis_timestamp\": \"T\",\n  \"pcap_file\": \"{p}\",\n  \"total_packets\": 2,\n  \"conversations\": [\n    {{\n      \"src\": \"10.0.0.1\",\n      \"dst\": \"10.0.0.53\",\n      \"packets\": 2,\n      \"bytes\": 125\n    }}\n  ],\n  \"dns_queries\": [\n    {{\n      \"query\": \"example.com\",\n      \"type\": 1,\n      \"src\": \"10.0.0.1\"\n    }}\n  ],\n  \"potential_beacons\": [],\n  \"protocol_distribution\": {{\n    \"UDP/53\": 1,\n    \"UDP/5000\": 1\n  }}\n}}"
    );
    assert_eq!(json_without_timestamp(&dir), want);
}

#[test]
fn stdin_gives_the_same_report_and_a_filter_is_named() {
    let cap = write_temp("report-mixed.pcap", &mixed_capture());
    let (a, b, c) = (
        report_dir("file"),
        report_dir("stdin"),
        report_dir("filter"),
    );
    let p = cap.to_str().expect("path");
    let file = dorsal(&["-r", p, "--report", a.to_str().expect("dir")], None);
    let bytes = std::fs::read(&cap).expect("capture");
    let stdin = dorsal(
        &["-r", "-", "--report", b.to_str().expect("dir")],
        Some(&bytes),
    );
    assert!(file.status.success() && stdin.status.success());
    assert_eq!(file.stdout, stdin.stdout);
    let from_stdin = json_without_timestamp(&b).replace("\"pcap_file\": \"-\"", "");
    let from_file = json_without_timestamp(&a).replace(&format!("\"pcap_file\": \"{p}\""), "");
    assert_eq!(from_file, from_stdin);

    let filtered = dorsal(
        &["-r", p, "-Y", "dns", "--report", c.to_str().expect("dir")],
        None,
    );
    assert!(
        filtered.status.success(),
        "{}",
        String::from_utf8_lossy(&filtered.stderr)
    );
    let json = json_without_timestamp(&c);
    assert!(json.contains("\n  \"display_filter\": \"dns\",\n"));
    assert!(!from_file.contains("display_filter"));
    // Only the DNS frames are counted.
    let dns_frames = json.contains("\"total_packets\": 36,");
    assert!(dns_frames, "{json}");
}

#[test]
fn errors_exit_non_zero_without_a_report() {
    let dir = report_dir("missing");
    let out = dorsal(
        &[
            "-r",
            "/no/such/capture.pcap",
            "--report",
            dir.to_str().expect("dir"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("doesn't exist"));
    assert!(!dir.join("pcap_forensic_report.json").exists());

    // A file where DIR should be.
    let cap = write_temp("report-err.pcap", &mixed_capture());
    let file = write_temp("report-not-a-dir", b"x");
    let out = dorsal(
        &[
            "-r",
            cap.to_str().expect("path"),
            "--report",
            file.to_str().expect("path"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_capture_cut_short_still_gets_its_report_and_a_warning() {
    let mut bytes = mixed_capture();
    bytes.truncate(bytes.len() - 10);
    let cap = write_temp("report-cut.pcap", &bytes);
    let dir = report_dir("cut");
    let out = dorsal(
        &[
            "-r",
            cap.to_str().expect("path"),
            "--report",
            dir.to_str().expect("dir"),
        ],
        None,
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cut short"));
    // Scapy keeps the cut record: all 144 frames are counted.
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("[*] Total packets: 144\n"));
}
