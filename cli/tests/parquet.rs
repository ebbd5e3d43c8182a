//! `-T parquet` end to end: a Parquet file on standard output, refused
//! without `-e`.

mod common;

use common::{dorsal, pcap, udp_frame, write_temp};

#[test]
fn writes_one_parquet_file_of_the_shown_frames() {
    let path = write_temp("pq.pcap", &pcap(&[udp_frame(b"a"), udp_frame(b"bc")]));
    let p = path.to_str().expect("path");
    let out = dorsal(
        &[
            "-r",
            p,
            "-T",
            "parquet",
            "-e",
            "frame.number",
            "-e",
            "ip.src",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.starts_with(b"PAR1") && out.stdout.ends_with(b"PAR1"));
    assert!(out.stdout.windows(14).any(|w| w == b"dorsal.version"));

    let bare = dorsal(&["-r", p, "-T", "parquet"], None);
    assert_eq!(bare.status.code(), Some(1));
    assert!(bare.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&bare.stderr),
        "dorsal: \"-Tparquet\" was specified, but no fields were specified with \"-e\".\n"
    );
}
