//! The conformance ratchet: every case listed in tests/conformance.passing
//! must still pass against tshark's recorded output in ../shared.
//!
//! Refresh the list after an improvement with
//! `../shared/conformance/conform run --bin target/release/dorsal --write-ratchet tests/conformance.passing`.

use std::path::Path;
use std::process::Command;

#[test]
fn no_recorded_case_regresses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let conform = root.join("../shared/conformance/conform");
    if !conform.exists() {
        eprintln!(
            "skipping: {} not found (clone dorsal beside shared/)",
            conform.display()
        );
        return;
    }
    let report = std::env::temp_dir().join(format!("dorsal-conformance-{}", std::process::id()));
    let out = Command::new("python3")
        .arg(&conform)
        .args(["run", "--bin", env!("CARGO_BIN_EXE_dorsal"), "--ratchet"])
        .arg(root.join("tests/conformance.passing"))
        .arg("--report")
        .arg(&report)
        .current_dir(&root)
        .output()
        .expect("run the conformance harness");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "conformance regressions:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
