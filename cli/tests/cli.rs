//! End-to-end behaviour of the `dorsal` binary on captures built here.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn dorsal(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dorsal"))
        .args(args)
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dorsal");
    if let Some(bytes) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(bytes)
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("run dorsal")
}

/// Ethernet + IPv4 + UDP from 10.0.0.1:1234 to 10.0.0.2:9 carrying `payload`.
fn udp_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = (20 + 8 + payload.len()) as u16;
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        17,
        0,
        0,
    ]);
    f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    let ulen = (8 + payload.len()) as u16;
    f.extend_from_slice(&[0x04, 0xd2, 0, 9, (ulen >> 8) as u8, ulen as u8, 0, 0]);
    f.extend_from_slice(payload);
    f
}

fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0,
    ];
    for (i, f) in frames.iter().enumerate() {
        v.extend_from_slice(&(1_000 + i as u32).to_le_bytes());
        v.extend_from_slice(&500_000u32.to_le_bytes());
        v.extend_from_slice(&(f.len() as u32).to_le_bytes());
        v.extend_from_slice(&(f.len() as u32).to_le_bytes());
        v.extend_from_slice(f);
    }
    v
}

fn write_temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dorsal-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write capture");
    path
}

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
