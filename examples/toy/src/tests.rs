//! The toy crate registered beside the link crate, run through the engine
//! as the binary runs it: its field prints, its credential is a CSV row
//! with the server's verdict, its object is a file.

use std::cell::RefCell;
use std::rc::Rc;

use dorsal_engine::output::{FieldsOptions, FieldsPrinter};
use dorsal_engine::protocol::Protocols;
use dorsal_engine::run::{run_with_taps, Demand, RunOptions};
use dorsal_engine::taps::credentials_csv::CredentialsCsv;
use dorsal_engine::taps::{ObjectWriter, SharedSink, Taps};

/// Ethernet + IPv4 + TCP (PSH|ACK) from `src`:`sport` to `dst`:`dport`.
fn segment(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, seq: u32, data: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = u16::try_from(40 + data.len()).expect("small");
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&[0, 1, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&1u32.to_be_bytes());
    f.extend_from_slice(&[0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(data);
    f
}

fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    v.extend_from_slice(&65535u32.to_le_bytes());
    v.extend_from_slice(&1u32.to_le_bytes());
    for (i, f) in (0u32..).zip(frames) {
        let len = u32::try_from(f.len()).expect("small");
        for word in [1_000 + i, 0, len, len] {
            v.extend_from_slice(&word.to_le_bytes());
        }
        v.extend_from_slice(f);
    }
    v
}

#[test]
fn a_new_crate_brings_its_field_credential_and_object() {
    let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let port = u16::try_from(crate::PORT).expect("port");
    let capture = pcap(&[
        segment(c, 40000, s, port, 1, b"LOGIN alice s3cret\r\n"),
        segment(s, port, c, 40000, 1, b"OK\r\n"),
        segment(c, 40000, s, port, 21, b"PUT notes.txt hello\r\n"),
    ]);
    let dir = std::env::temp_dir().join(format!("dorsal-toy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("toy.pcap");
    std::fs::write(&path, capture).expect("write");

    let (protocols, reg) = Protocols::new(&[dorsal_link::protocol, crate::protocol]);
    assert_eq!(protocols.export_types(), ["toy"]);
    let user = reg.lookup("toy.user").expect("registered");
    let csv = dir.join("creds.csv");
    let mut taps = Taps::new();
    let tap = CredentialsCsv::create(&csv, protocols.credential_sources()).expect("csv");
    taps.add(Box::new(tap), None);
    let objects = Rc::new(RefCell::new(
        ObjectWriter::new("toy", &dir.join("objects")).expect("objects"),
    ));
    let opts = RunOptions {
        paths: vec![path.to_string_lossy().into_owned()],
        display_filter: None,
        two_pass: false,
        read_filter: None,
        count: None,
        fields: vec![user],
        full_dissection: true,
        exiting: false,
    };
    let mut out = Vec::new();
    {
        let mut sink = FieldsPrinter::new(&reg, vec![user], FieldsOptions::default(), &mut out);
        let build = |d: &Demand<'_>| protocols.dissectors(d, Some(objects.clone() as SharedSink));
        run_with_taps(&opts, &reg, &build, None, &mut sink, &mut taps).expect("run");
    }
    assert_eq!(String::from_utf8_lossy(&out), "alice\n\n\n");

    let mut ignored = Vec::new();
    taps.draw(&mut ignored).expect("draw");
    let text = std::fs::read_to_string(&csv).expect("csv written");
    let row = text.lines().nth(1).expect("one row");
    assert_eq!(
        row,
        "1,1000.000000000,TOY,10.0.0.1:40000,10.0.0.2:7777,alice,s3cret,yes"
    );
    let body = std::fs::read(dir.join("objects/notes.txt")).expect("object written");
    assert_eq!(body, b"hello");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_new_crate_brings_its_summary_line() {
    let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let port = u16::try_from(crate::PORT).expect("port");
    let capture = pcap(&[segment(c, 40000, s, port, 1, b"LOGIN alice s3cret\r\n")]);
    let dir = std::env::temp_dir().join(format!("dorsal-toy-text-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("toy.pcap");
    std::fs::write(&path, capture).expect("write");
    let (protocols, reg) = Protocols::new(&[dorsal_link::protocol, crate::protocol]);
    let opts = RunOptions {
        paths: vec![path.to_string_lossy().into_owned()],
        display_filter: None,
        two_pass: false,
        read_filter: None,
        count: None,
        fields: Vec::new(),
        full_dissection: false,
        exiting: false,
    };
    let mut out = Vec::new();
    {
        let mut sink = dorsal_engine::output::TextPrinter::new(&mut out, Default::default());
        let build = |d: &Demand<'_>| protocols.dissectors(d, None);
        dorsal_engine::run::run(&opts, &reg, &build, &mut sink).expect("run");
    }
    let line = String::from_utf8_lossy(&out);
    assert!(line.trim_end().ends_with("TOY 74 Command: LOGIN"), "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}
