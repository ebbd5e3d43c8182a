//! The whole engine (reader, every dissector, taps, exporters, the
//! credentials CSV) on arbitrary capture bytes.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::run_engine(data, true);
});
