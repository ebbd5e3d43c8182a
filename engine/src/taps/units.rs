//! Numbers as tshark's statistics print them.

/// A byte count as Wireshark's `format_size(.., FORMAT_SIZE_UNIT_BYTES, 0)`
/// prints it: SI prefixes once the count reaches ten of the unit, the
/// quotient truncated (`61 kB`, `10 MB`), small counts as `7506 bytes`.
pub fn format_bytes(size: u64) -> String {
    const P: u64 = 1000;
    let steps: [(u64, &str); 4] = [
        (P * P * P * P, " TB"),
        (P * P * P, " GB"),
        (P * P, " MB"),
        (P, " kB"),
    ];
    for (div, unit) in steps {
        let q = size / div;
        if q >= 10 {
            return format!("{q}{unit}");
        }
    }
    format!("{size} bytes")
}

/// Nanoseconds as Wireshark's `nstime_to_sec`: seconds plus nanoseconds,
/// both as doubles, the parts keeping the sign of the whole.
pub fn secs(nanos: i64) -> f64 {
    let s = nanos / 1_000_000_000;
    let n = nanos % 1_000_000_000;
    s as f64 + n as f64 / 1_000_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_switch_to_units_at_ten_of_them() {
        assert_eq!(format_bytes(0), "0 bytes");
        assert_eq!(format_bytes(7506), "7506 bytes");
        assert_eq!(format_bytes(9999), "9999 bytes");
        assert_eq!(format_bytes(10_000), "10 kB");
        assert_eq!(format_bytes(61_999), "61 kB");
        assert_eq!(format_bytes(9_999_999), "9999 kB");
        assert_eq!(format_bytes(10_000_000), "10 MB");
        assert_eq!(format_bytes(12_000_000_000), "12 GB");
        assert_eq!(format_bytes(99_000_000_000_000), "99 TB");
    }

    #[test]
    fn seconds_keep_the_sign() {
        assert_eq!(secs(1_500_000_000), 1.5);
        assert_eq!(secs(-1_500_000_000), -1.5);
        assert_eq!(secs(0), 0.0);
    }
}
