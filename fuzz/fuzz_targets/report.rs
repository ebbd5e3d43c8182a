//! The forensic report (`--report`): arbitrary capture bytes read as Scapy's
//! rdpcap reads them, every packet decoded as Scapy does, then rendered.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut report = dorsal_report::Report::new(None);
    let _ = report.read(std::io::Cursor::new(data));
    let (json, summary) = report.render("fuzz.pcap", "2026-01-01T00:00:00");
    assert!(json.starts_with('{'));
    let _ = summary;
});
