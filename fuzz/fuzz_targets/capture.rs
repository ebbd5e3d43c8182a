//! The capture reader (pcap, pcapng, compressed) on arbitrary bytes.
#![no_main]

use dorsal_engine::capture::Capture;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut cap) = Capture::from_reader(Box::new(std::io::Cursor::new(data.to_vec()))) else {
        return;
    };
    let mut n = 0u32;
    while let Ok(Some(rec)) = cap.next_record() {
        assert!(
            rec.data.len() <= data.len() * 64 + 4096,
            "a record larger than its input can decompress to"
        );
        n += 1;
        if n > 1_000_000 {
            break;
        }
    }
});
