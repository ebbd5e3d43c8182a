//! Wireshark's `format_text`: how raw bytes from a packet become display
//! text in the columns and string fields: printable ASCII as is, other
//! ASCII as C escapes (octal when no short form exists), UTF-8 sequences
//! decoded, broken ones as U+FFFD.

/// Appends the display form of `raw` to `out`.
pub fn format_text(out: &mut Vec<u8>, raw: &[u8]) {
    let mut i = 0usize;
    while let Some(&c) = raw.get(i) {
        i += 1;
        if (0x20..0x7f).contains(&c) {
            out.push(c);
        } else if c < 0x80 {
            out.push(b'\\');
            match c {
                0x07 => out.push(b'a'),
                0x08 => out.push(b'b'),
                0x0c => out.push(b'f'),
                b'\n' => out.push(b'n'),
                b'\r' => out.push(b'r'),
                b'\t' => out.push(b't'),
                0x0b => out.push(b'v'),
                _ => {
                    out.push(b'0' + ((c >> 6) & 3));
                    out.push(b'0' + ((c >> 3) & 7));
                    out.push(b'0' + (c & 7));
                }
            }
        } else {
            let (extra, mask) = match c {
                _ if c & 0xe0 == 0xc0 => (1, 0x1f),
                _ if c & 0xf0 == 0xe0 => (2, 0x0f),
                _ if c & 0xf8 == 0xf0 => (3, 0x07),
                _ if c & 0xfc == 0xf8 => (4, 0x03),
                _ if c & 0xfe == 0xfc => (5, 0x01),
                _ => (0, 0),
            };
            let mut uc: Option<u32> = None;
            if extra > 0 {
                let mut v = u32::from(c & mask);
                let mut ok = true;
                for _ in 0..extra {
                    match raw.get(i) {
                        Some(&n) if n & 0xc0 == 0x80 => {
                            i += 1;
                            v = (v << 6) | u32::from(n & 0x3f);
                        }
                        _ => {
                            ok = false;
                            break;
                        }
                    }
                }
                if ok {
                    uc = Some(v);
                }
            }
            let ch = uc
                .and_then(char::from_u32)
                .filter(|ch| !ch.is_control())
                .unwrap_or('\u{fffd}');
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
    }
}

/// The display text of `raw` as a string.
pub fn display(raw: &[u8]) -> String {
    let mut v = Vec::with_capacity(raw.len());
    format_text(&mut v, raw);
    String::from_utf8(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_wireshark() {
        assert_eq!(display(b"a.b"), "a.b");
        assert_eq!(display(b"a\x01\n"), "a\\001\\n");
        assert_eq!(display("é".as_bytes()), "é");
        assert_eq!(display(b"\xff"), "\u{fffd}");
        assert_eq!(display(b"\xc3"), "\u{fffd}");
    }
}
