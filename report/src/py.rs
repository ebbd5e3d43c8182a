//! Python's text for the values the report holds: `repr(float)`,
//! `round(x, n)`, and `json.dump`'s strings (`ensure_ascii`).

use std::fmt::Write;

/// `repr(x)` for a Python float: the shortest digits that round-trip,
/// fixed notation for 1e-4 <= |x| < 1e16, else `d.ddde+XX`.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into(); // json.dump's spelling
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // `{:e}` gives the shortest round-trip digits: "1.2345e-5".
    let sci = format!("{:e}", x.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let ndig = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let decpt = exp + 1; // digits d1d2... times 10^(decpt - ndig)
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    if (-4 < decpt) && decpt <= 16 {
        if decpt <= 0 {
            out.push_str("0.");
            for _ in 0..(-decpt) {
                out.push('0');
            }
            out.push_str(&digits);
        } else if decpt >= ndig {
            out.push_str(&digits);
            for _ in 0..(decpt - ndig) {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            let cut = usize::try_from(decpt).unwrap_or(0);
            out.push_str(digits.get(..cut).unwrap_or(""));
            out.push('.');
            out.push_str(digits.get(cut..).unwrap_or(""));
        }
    } else {
        out.push_str(digits.get(..1).unwrap_or("0"));
        if digits.len() > 1 {
            out.push('.');
            out.push_str(digits.get(1..).unwrap_or(""));
        }
        let e = decpt - 1;
        let _ = write!(
            out,
            "e{}{:02}",
            if e < 0 { '-' } else { '+' },
            e.unsigned_abs()
        );
    }
    out
}

/// `round(x, n)` for a float: the exact binary value rounded to `n`
/// decimals (ties to even, which only exact ties reach), read back.
pub fn round(x: f64, n: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    format!("{x:.n$}").parse().unwrap_or(x)
}

/// `json.dumps(s)` with `ensure_ascii=True`, quotes included.
pub fn json_str(out: &mut String, s: &str) {
    dorsal_engine::output::json::push_json_string_ascii(out, s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        let cases: &[(f64, &str)] = &[
            (0.1, "0.1"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (1e16, "1e+16"),
            (9999999999999998.0, "9999999999999998.0"),
            (1.5e16, "1.5e+16"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.2345e-7, "1.2345e-07"),
            (-2.5, "-2.5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (123456.789, "123456.789"),
            (1e100, "1e+100"),
            (30.0, "30.0"),
            (0.3333, "0.3333"),
        ];
        for (x, want) in cases {
            assert_eq!(float_repr(*x), *want, "{x}");
        }
    }

    #[test]
    fn round_matches_python() {
        // Python: round(2.675, 2) == 2.67 (the binary value is below the tie).
        assert_eq!(float_repr(round(2.675, 2)), "2.67");
        assert_eq!(float_repr(round(0.125, 2)), "0.12");
        assert_eq!(float_repr(round(0.375, 2)), "0.38");
        assert_eq!(float_repr(round(1.00005, 4)), "1.0001");
        assert_eq!(float_repr(round(60.000000123, 2)), "60.0");
        assert_eq!(float_repr(round(3.14159e-5, 4)), "0.0");
        assert_eq!(float_repr(round(0.00016, 4)), "0.0002");
    }

    #[test]
    fn lossy_utf8_replaces_like_python() {
        // bytes.decode(errors="replace") in CPython 3.11, case by case.
        let cases: &[(&[u8], &str)] = &[
            (b"\xed\xa0\x80", "\u{fffd}\u{fffd}\u{fffd}"),
            (b"\xe0\x80\x80", "\u{fffd}\u{fffd}\u{fffd}"),
            (b"\xf4\x90\x80\x80", "\u{fffd}\u{fffd}\u{fffd}\u{fffd}"),
            (b"\xe2\x82a", "\u{fffd}a"),
            (b"\xf0\x9f\x98", "\u{fffd}"),
            (b"\xc0\xaf", "\u{fffd}\u{fffd}"),
            (b"a\xf0\x9f\x98\x80b", "a\u{1f600}b"),
        ];
        for (bytes, want) in cases {
            assert_eq!(String::from_utf8_lossy(bytes), *want);
        }
    }

    #[test]
    fn json_escapes_like_ensure_ascii() {
        let mut s = String::new();
        json_str(&mut s, "a\"b\\c\n\u{1}\u{7f}é\u{fffd}😀");
        assert_eq!(
            s,
            "\"a\\\"b\\\\c\\n\\u0001\\u007fé\\ufffd\\ud83d\\ude00\"".replace('é', "\\u00e9")
        );
    }
}
