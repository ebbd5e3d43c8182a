//! What the targets share: the binary's protocol list, a run of the whole
//! engine over capture bytes, and pcap framing for single packets.

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;

use dorsal_engine::output::FieldsPrinter;
use dorsal_engine::protocol::Protocols;
use dorsal_engine::run::{run_with_taps, Demand, RunOptions};
use dorsal_engine::taps::credentials_csv::CredentialsCsv;
use dorsal_engine::taps::{ObjectWriter, SharedSink, Taps};

/// A scratch folder of this process (libFuzzer runs one input at a time).
pub fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dorsal-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The binary's protocols, registered once per process: registering (the
/// field table, the vendor names) costs far more than one input's run.
fn protocols() -> &'static (Protocols, dorsal_engine::fields::Registry) {
    thread_local! {
        static P: &'static (Protocols, dorsal_engine::fields::Registry) =
            Box::leak(Box::new(Protocols::new(dorsal::PROTOCOLS)));
    }
    P.with(|p| *p)
}

/// Runs every dissector over `capture` (the bytes of a capture file) with
/// every field wanted, the statistics taps, the credentials CSV and the
/// HTTP, SMB and FTP-DATA exporters (whose files must stay in their folder).
pub fn run_engine(capture: &[u8], taps_too: bool) {
    let dir = scratch();
    let path = dir.join("in.pcap");
    if std::fs::write(&path, capture).is_err() {
        return;
    }
    let (protocols, reg) = protocols();
    let fields: Vec<_> = reg.iter().map(|(id, _)| id).collect();
    let mut taps = Taps::new();
    let mut writers: Vec<Rc<RefCell<ObjectWriter>>> = Vec::new();
    let objects = dir.join("objects");
    if taps_too {
        for z in [
            "io,phs",
            "conv,tcp",
            "conv,udp",
            "endpoints,ip",
            "conv,eth",
            "credentials",
        ] {
            let _ = taps.add_spec(z, reg, &protocols.stats());
        }
        if let Ok(t) =
            CredentialsCsv::create(&dir.join("creds.csv"), protocols.credential_sources())
        {
            taps.add(Box::new(t), None);
        }
        for kind in protocols.export_types() {
            if let Ok(w) = ObjectWriter::new(kind, &objects.join(kind)) {
                writers.push(Rc::new(RefCell::new(w)));
            }
        }
    }
    let opts = RunOptions {
        paths: vec![path.to_string_lossy().into_owned()],
        display_filter: None,
        two_pass: false,
        read_filter: None,
        count: None,
        fields: fields.clone(),
        full_dissection: true,
        exiting: false,
    };
    let mut sink = FieldsPrinter::new(reg, fields, Default::default(), std::io::sink());
    let build = |d: &Demand<'_>| {
        let eo = writers.first().map(|w| w.clone() as SharedSink);
        protocols.dissectors(d, eo)
    };
    let _ = run_with_taps(&opts, reg, &build, None, &mut sink, &mut taps);
    let _ = taps.draw(&mut std::io::sink());
    // Exported names stay inside their folder.
    if let Ok(rd) = std::fs::read_dir(&objects) {
        for kind in rd.flatten() {
            for f in std::fs::read_dir(kind.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                assert_eq!(f.path().parent(), Some(kind.path().as_path()));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&objects);
}

/// A little-endian microsecond pcap of `frames` with link type `linktype`.
#[allow(dead_code)] // Not every target frames packets.
pub fn pcap(linktype: u32, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    v.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    v.extend_from_slice(&262_144u32.to_le_bytes());
    v.extend_from_slice(&linktype.to_le_bytes());
    for (i, f) in (0u32..).zip(frames) {
        let len = u32::try_from(f.len()).unwrap_or(u32::MAX);
        for word in [1_000 + i, 0, len, len] {
            let _ = v.write_all(&word.to_le_bytes());
        }
        v.extend_from_slice(f);
    }
    v
}
