//! The display-filter lexer, parser and compiler, then evaluation.
#![no_main]

use dorsal_engine::dfilter::Filter;
use dorsal_engine::protocol::Protocols;
use dorsal_engine::table::FieldTable;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (_, reg) = Protocols::new(dorsal::PROTOCOLS);
    if let Ok(f) = Filter::compile(&text, &reg) {
        let _ = f.matches(&FieldTable::new());
    }
});
