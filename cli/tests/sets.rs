//! Capture sets in, captures out: a capture cut into rotated pieces and
//! given as shuffled `-r` options or as one `-r FOLDER` prints what the
//! whole capture prints; `-w` writes what passed the filter, refuses its
//! own input, and a damaged piece is reported after the rest is read.

mod common;

use std::path::{Path, PathBuf};

use common::{dorsal, mixed_capture, write_temp};

/// Seed command lines, without their `-r`.
const SEED_LINES: &[&[&str]] = &[
    &[
        "-Y",
        "http.request",
        "-T",
        "fields",
        "-e",
        "http.host",
        "-e",
        "http.request.uri",
    ],
    &[
        "-Y",
        "dns.flags.response == 0",
        "-T",
        "fields",
        "-e",
        "dns.qry.name",
    ],
    &[
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "frame.time_relative",
        "-e",
        "frame.time_delta",
        "-e",
        "tcp.stream",
        "-e",
        "udp.stream",
    ],
    &["-q", "-z", "conv,tcp"],
    &["-q", "-z", "io,phs"],
    &["-q", "-z", "endpoints,ip"],
    &[],
];

fn ok(args: &[&str]) -> Vec<u8> {
    let out = dorsal(args, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Cuts `whole` into `n` pieces of consecutive frames with dorsal's own
/// `-w`, named as `tcpdump -C -W` names them, in a fresh folder.
fn cut(whole: &Path, frames: u32, n: u32, name: &str) -> (PathBuf, Vec<String>) {
    let dir = whole.with_file_name(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("folder");
    let per = frames.div_ceil(n);
    let mut pieces = Vec::new();
    for i in 0..n {
        let piece = dir.join(format!("capture.pcap{i}"));
        let filter = format!(
            "frame.number > {} && frame.number <= {}",
            i * per,
            (i + 1) * per
        );
        let p = piece.to_str().expect("path").to_string();
        let w = whole.to_str().expect("path");
        ok(&["-r", w, "-Y", &filter, "-F", "pcap", "-w", &p]);
        pieces.push(p);
    }
    (dir, pieces)
}

#[test]
fn a_rotated_set_reads_as_the_whole_capture() {
    let whole = write_temp("sets-whole.pcap", &mixed_capture());
    let w = whole.to_str().expect("path");
    let (dir, pieces) = cut(&whole, 144, 4, "sets-rotated");
    // Given out of order, and as the folder.
    let shuffled = [&pieces[2], &pieces[0], &pieces[3], &pieces[1]];
    for line in SEED_LINES {
        let mut args = vec!["-r", w];
        args.extend_from_slice(line);
        let expected = ok(&args);
        assert!(!expected.is_empty(), "{line:?} prints something");
        let mut set: Vec<&str> = Vec::new();
        for p in shuffled {
            set.extend(["-r", p.as_str()]);
        }
        set.extend_from_slice(line);
        assert_eq!(
            String::from_utf8_lossy(&ok(&set)),
            String::from_utf8_lossy(&expected),
            "shuffled -r: {line:?}"
        );
        let mut folder = vec!["-r", dir.to_str().expect("path")];
        folder.extend_from_slice(line);
        assert_eq!(
            String::from_utf8_lossy(&ok(&folder)),
            String::from_utf8_lossy(&expected),
            "-r FOLDER: {line:?}"
        );
    }
}

#[test]
fn pcap_written_whole_is_the_input_and_filtered_reads_back() {
    let bytes = mixed_capture();
    let whole = write_temp("sets-copy.pcap", &bytes);
    let w = whole.to_str().expect("path");
    let copy = whole.with_file_name("sets-copy-out.pcap");
    let c = copy.to_str().expect("path");
    ok(&["-r", w, "-F", "pcap", "-w", c]);
    assert_eq!(std::fs::read(&copy).expect("written"), bytes);

    // pcapng (the default) holds the same frames, times and bytes.
    let ng = whole.with_file_name("sets-copy-out.pcapng");
    let n = ng.to_str().expect("path");
    ok(&["-r", w, "-Y", "dns", "-w", n]);
    let written = std::fs::read(&ng).expect("written");
    assert_eq!(written.get(..4), Some(&[0x0a, 0x0d, 0x0d, 0x0a][..]));
    let fields = [
        "-T",
        "fields",
        "-e",
        "frame.time_epoch",
        "-e",
        "frame.len",
        "-e",
        "dns.qry.name",
    ];
    let mut from_input = vec!["-r", w, "-Y", "dns"];
    from_input.extend(fields);
    let mut from_output = vec!["-r", n];
    from_output.extend(fields);
    let expected = ok(&from_input);
    assert_eq!(expected.iter().filter(|&&b| b == b'\n').count(), 36);
    assert_eq!(ok(&from_output), expected);

    // -c limits the packets written.
    ok(&["-r", w, "-c", "5", "-F", "pcap", "-w", c]);
    let frames = ok(&["-r", c, "-T", "fields", "-e", "frame.number"]);
    assert_eq!(String::from_utf8_lossy(&frames), "1\n2\n3\n4\n5\n");
}

#[test]
fn write_refuses_its_input_and_missing_folders() {
    let whole = write_temp("sets-self.pcap", &mixed_capture());
    let w = whole.to_str().expect("path");
    let out = dorsal(&["-r", w, "-w", w], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is one of the input files"));
    assert_eq!(std::fs::read(&whole).expect("kept"), mixed_capture());

    let missing = whole.with_file_name("no-such-folder/out.pcap");
    let out = dorsal(&["-r", w, "-w", missing.to_str().expect("path")], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "dorsal: The path to the file \"{}\" doesn't exist.\n",
            missing.display()
        )
    );

    // An input that cannot be read leaves no output file, not even a
    // temporary one.
    let dir = whole.with_file_name("sets-noinput");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("folder");
    let out_path = dir.join("out.pcap");
    let gone = dir.join("gone.pcap");
    let out = dorsal(
        &[
            "-r",
            gone.to_str().expect("path"),
            "-w",
            out_path.to_str().expect("path"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_dir(&dir).expect("folder").count(), 0);
}

#[test]
fn a_damaged_piece_is_named_and_the_rest_is_read() {
    let whole = write_temp("sets-damaged.pcap", &mixed_capture());
    let (dir, pieces) = cut(&whole, 144, 3, "sets-damaged");
    let cut_short = std::fs::read(&pieces[1]).expect("piece");
    std::fs::write(&pieces[1], &cut_short[..cut_short.len() - 10]).expect("truncate");
    std::fs::write(dir.join("notes.txt"), b"not a capture").expect("note");
    let out = dorsal(
        &[
            "-r",
            dir.to_str().expect("path"),
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
    // All of pieces 0 and 2, piece 1 but its cut last frame.
    assert_eq!(lines, 143);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notes.txt"), "{err}");
    assert!(
        err.contains(&format!(
            "The file \"{}\" appears to have been cut short in the middle of a packet. (read up to its packet 47",
            pieces[1]
        )),
        "{err}"
    );
}

#[test]
fn files_of_two_link_types_go_to_pcapng_not_pcap() {
    let eth = write_temp("sets-eth.pcap", &mixed_capture());
    // A frame as raw IP (LINKTYPE_RAW), 16 s after the first.
    let mut raw = common::pcap(&[common::udp_frame(b"x")[14..].to_vec()]);
    raw[20] = 101;
    raw[24] = raw[24].wrapping_add(16);
    let raw = write_temp("sets-raw.pcap", &raw);
    let (e, r) = (eth.to_str().expect("path"), raw.to_str().expect("path"));
    let ng = eth.with_file_name("sets-two-types.pcapng");
    let n = ng.to_str().expect("path");
    ok(&["-r", e, "-r", r, "-w", n]);
    let encaps = ok(&["-r", n, "-T", "fields", "-e", "frame.protocols"]);
    let encaps = String::from_utf8_lossy(&encaps);
    assert_eq!(encaps.lines().count(), 145);
    assert!(
        encaps.lines().any(|l| l.starts_with("raw:ip:udp")),
        "{encaps}"
    );
    assert!(encaps.lines().any(|l| l.starts_with("eth:ethertype:ip")));

    let p = eth.with_file_name("sets-two-types.pcap");
    let out = dorsal(
        &[
            "-r",
            e,
            "-r",
            r,
            "-F",
            "pcap",
            "-w",
            p.to_str().expect("path"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!p.exists(), "no file that looks complete");
}
