//! HTTP message bodies: line ends, chunked transfer coding, content
//! decoding, and the text form of `http.file_data`.

use std::io::Read;

/// Largest decoded body; a decompression bomb stops here.
pub const MAX_DECODED: usize = 64 << 20;

/// Wireshark's `tvb_find_line_end`: the length of the line at `from` and
/// the offset after its end. With `need_end`, a line without an end (or
/// ending in a lone CR at the end of the data) is `None`; otherwise it runs
/// to the end of the data.
pub fn line_end(data: &[u8], from: usize, need_end: bool) -> Option<(usize, usize)> {
    let rest = data.get(from..)?;
    match memchr::memchr2(b'\r', b'\n', rest) {
        Some(i) => {
            let at = rest.get(i).copied();
            if at == Some(b'\r') {
                match rest.get(i + 1) {
                    Some(b'\n') => Some((i, from + i + 2)),
                    Some(_) => Some((i, from + i + 1)),
                    None if need_end => None,
                    None => Some((i, from + i + 1)),
                }
            } else {
                Some((i, from + i + 1))
            }
        }
        None if need_end => None,
        None => Some((rest.len(), data.len())),
    }
}

/// Where the hex digits of a C-parsed number start (after blanks, a sign
/// and `0x`), and whether it was negative.
fn hex_start(s: &[u8]) -> (usize, bool) {
    let mut i = s.iter().take_while(|c| c.is_ascii_whitespace()).count();
    let mut neg = false;
    match s.get(i) {
        Some(b'+') => i += 1,
        Some(b'-') => {
            neg = true;
            i += 1;
        }
        _ => {}
    }
    if matches!(s.get(i..i + 2), Some(b"0x") | Some(b"0X"))
        && s.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit())
    {
        i += 2;
    }
    (i, neg)
}

/// `sscanf("%x")`: optional blanks, optional `0x`, hex digits.
pub fn scan_hex(s: &[u8]) -> Option<u64> {
    let (i, neg) = hex_start(s);
    let digits = s.get(i..)?.iter().take_while(|c| c.is_ascii_hexdigit());
    let mut v: u64 = 0;
    let mut any = false;
    for &c in digits {
        any = true;
        let d = u64::from(char::from(c).to_digit(16).unwrap_or(0));
        v = v.saturating_mul(16).saturating_add(d);
    }
    if !any {
        return None;
    }
    Some(if neg {
        v.wrapping_neg() & 0xffff_ffff
    } else {
        v
    })
}

/// `strtol(s, NULL, 16)` truncated to 32 bits, as the dechunker reads sizes.
fn strtol_hex(s: &[u8]) -> u32 {
    let (i, neg) = hex_start(s);
    let mut v: i64 = 0;
    for &c in s.get(i..).unwrap_or_default() {
        let Some(d) = char::from(c).to_digit(16) else {
            break;
        };
        v = v.saturating_mul(16).saturating_add(i64::from(d));
    }
    if neg {
        v = v.saturating_neg();
    }
    v as u32
}

/// Dechunks a body: the decoded bytes and how many raw bytes the chunks
/// took (0: nothing could be read).
pub fn dechunk(data: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut offset = 0usize;
    let total = data.len();
    while offset < total {
        let Some((linelen, chunk_offset)) = line_end(data, offset, true) else {
            break;
        };
        if linelen == 0 {
            break;
        }
        let mut line = data.get(offset..offset + linelen).unwrap_or_default();
        if let Some(semi) = line.iter().position(|&c| c == b';') {
            line = line.get(..semi).unwrap_or_default();
        }
        let remaining = total - offset;
        let size = (strtol_hex(line) as usize).min(remaining);
        let avail = data.get(chunk_offset..).unwrap_or_default();
        let take = size.min(avail.len());
        if out.len().saturating_add(take) > MAX_DECODED {
            break;
        }
        out.extend_from_slice(avail.get(..take).unwrap_or_default());
        offset = chunk_offset.saturating_add(size);
        if size > 0 {
            offset = offset.saturating_add(2);
        }
        if size == 0 {
            // Trailer lines, then the empty line.
            let mut t = offset;
            let mut last_len;
            loop {
                match line_end(data, t, true) {
                    Some((l, next)) => {
                        last_len = Some(l);
                        if l == 0 {
                            t = next;
                            break;
                        }
                        t = next;
                    }
                    None => {
                        last_len = None;
                        break;
                    }
                }
            }
            let _ = last_len;
            offset = t.min(total);
            break;
        }
    }
    (out, offset.min(total))
}

/// Brotli (`Content-Encoding: br`), capped like the other decoders; `None`
/// when nothing decodes, so the body shows as data, as tshark shows it.
pub fn unbrotli(data: &[u8]) -> Option<Vec<u8>> {
    if data.is_empty() {
        return None;
    }
    let (out, clean) = read_capped(
        brotli_decompressor::Decompressor::new(data, 16384),
        data.len(),
        MAX_DECODED,
    );
    (clean && !out.is_empty()).then_some(out)
}

/// Reads a decoder of `input` compressed bytes to its end or to `cap`
/// bytes (at most [`MAX_DECODED`], the cap on decompression bombs); also
/// says whether it ended without an error. Decoded straight into the
/// output, sized for a typical ratio: growing it from nothing through a
/// bounce buffer was a third of the time spent decoding.
fn read_capped(r: impl Read, input: usize, cap: usize) -> (Vec<u8>, bool) {
    let cap = cap.min(MAX_DECODED);
    let mut out = Vec::with_capacity(input.saturating_mul(4).min(cap));
    // Bytes decoded before an error stay in `out`.
    let clean = r.take(cap as u64).read_to_end(&mut out).is_ok();
    (out, clean)
}

/// Bytes of a decoded body enough for what the summary columns read of it
/// (whether it decodes, an image's magic number).
pub const PREFIX: usize = 16;

/// Decodes a `gzip`/`deflate` body as Wireshark's `tvb_uncompress` does:
/// zlib or gzip headers are recognised, raw deflate is tried last; what was
/// decoded before an error is kept; nothing decoded is `None`. At most
/// `cap` bytes: [`PREFIX`] when only the columns read the body, since a
/// stream that yields its first byte is one that decodes.
pub fn inflate(data: &[u8], cap: usize) -> Option<Vec<u8>> {
    if data.is_empty() {
        return None;
    }
    let data = if data.starts_with(&[0x1f, 0x8b]) {
        gzip_body(data)?
    } else {
        data
    };
    let attempts: [Box<dyn Read + '_>; 2] = [
        Box::new(flate2::read::ZlibDecoder::new(data)),
        Box::new(flate2::read::DeflateDecoder::new(data)),
    ];
    for r in attempts {
        // A stream cut short still yields what decoded before the damage.
        let (out, _) = read_capped(r, data.len(), cap);
        if !out.is_empty() {
            return Some(out);
        }
    }
    None
}

/// What follows a gzip header, skipped as `tvb_uncompress` skips it: the
/// fixed ten bytes, then the extra field, name and comment its flags
/// announce; reserved flags are ignored and a header CRC is not skipped.
/// The deflate stream then decodes as any other, so its trailer (CRC and
/// size) is never checked and a second member is never read. `None` for a
/// header tshark refuses.
fn gzip_body(data: &[u8]) -> Option<&[u8]> {
    if data.len() < 10 || data.get(2) != Some(&8) {
        return None;
    }
    let flags = *data.get(3)?;
    let mut at = 10usize;
    if flags & 0x04 != 0 {
        // The length is read byte by byte, as far as the data goes.
        let lo = data.get(at).map_or(0, |&b| usize::from(b));
        let hi = data.get(at + 1).map_or(0, |&b| usize::from(b));
        at = at + usize::from(data.len() > at) + usize::from(data.len() > at + 1);
        at = at.saturating_add(lo | (hi << 8));
    }
    for flag in [0x08, 0x10] {
        if flags & flag != 0 {
            let rest = data.get(at..).unwrap_or_default();
            at = at.saturating_add(memchr::memchr(0, rest).unwrap_or(rest.len()) + 1);
        }
    }
    data.get(at..)
}

/// The bytes as Wireshark's ASCII string decoding shows them: a NUL ends
/// the string, bytes above 0x7f become U+FFFD.
pub fn ascii_string(data: &[u8]) -> Vec<u8> {
    let end = memchr::memchr(0, data).unwrap_or(data.len());
    let body = data.get(..end).unwrap_or(data);
    let mut out = Vec::with_capacity(body.len());
    for &b in body {
        if b < 0x80 {
            out.push(b);
        } else {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
    out
}

/// GLib's lenient base64 decoding: characters outside the alphabet are
/// skipped, `=` ends a quantum.
pub fn base64_lenient(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut n = 0u32;
    let mut pad = 0u32;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                0
            }
            _ => continue,
        };
        acc = (acc << 6) | v;
        n += 1;
        if n == 4 {
            let bytes = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
            let keep = 3usize.saturating_sub(pad.min(2) as usize);
            out.extend_from_slice(bytes.get(..keep).unwrap_or_default());
            acc = 0;
            n = 0;
            if pad > 0 {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(line_end(b"ab\r\ncd", 0, true), Some((2, 4)));
        assert_eq!(line_end(b"ab\ncd", 0, true), Some((2, 3)));
        assert_eq!(line_end(b"ab\r", 0, true), None);
        assert_eq!(line_end(b"abc", 0, false), Some((3, 3)));
        assert_eq!(line_end(b"abc", 9, false), None);
    }

    #[test]
    fn chunks() {
        let (d, n) = dechunk(b"4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\n\r\nNEXT");
        assert_eq!(d, b"Wikipedia");
        assert_eq!(n, 28);
        let (d, _) = dechunk(b"ffffffff\r\nab");
        assert_eq!(d, b"ab");
        assert_eq!(scan_hex(b" 0x1A;"), Some(26));
        assert_eq!(scan_hex(b"zz"), None);
    }

    #[test]
    fn decoding() {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"hello hello").expect("write");
        let gz = e.finish().expect("finish");
        assert_eq!(
            inflate(&gz, MAX_DECODED).as_deref(),
            Some(&b"hello hello"[..])
        );
        assert_eq!(inflate(&gz, 4).as_deref(), Some(&b"hell"[..]));
        assert_eq!(inflate(b"\x1f\x8b\x08garbage", MAX_DECODED), None);
        assert_eq!(inflate(b"\x1f\x8b\x08garbage", PREFIX), None);
        // Cut short: what decoded before the cut, with or without a cap.
        let cut = gz.get(..gz.len() - 8).unwrap_or_default();
        assert_eq!(inflate(cut, PREFIX).as_deref(), Some(&b"hello hello"[..]));
        assert_eq!(base64_lenient(b"dXNlcjpwYXNz"), b"user:pass");
        assert_eq!(base64_lenient(b"dXNlcjpw YQ=="), b"user:pa");
        assert_eq!(ascii_string(b"a\xffb\0c"), "a\u{FFFD}b".as_bytes());
    }

    #[test]
    fn gzip_headers_are_skipped_as_tshark_skips_them() {
        use std::io::Write;
        let gz = |text: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(text).expect("write");
            e.finish().expect("finish")
        };
        let plain = gz(b"first");
        // A reserved flag (an evasion gzip readers refuse) and a damaged
        // trailer: tshark decodes both.
        let mut odd = plain.clone();
        odd[3] = 0x80;
        let n = odd.len();
        odd[n - 5] ^= 0xff;
        assert_eq!(inflate(&odd, MAX_DECODED).as_deref(), Some(&b"first"[..]));
        // A name and a comment are skipped, an extra field by its length.
        let mut named = plain[..10].to_vec();
        named[3] = 0x1c;
        named.extend_from_slice(&[2, 0, 0xee, 0xee]);
        named.extend_from_slice(b"name\0comment\0");
        named.extend_from_slice(&plain[10..]);
        assert_eq!(inflate(&named, MAX_DECODED).as_deref(), Some(&b"first"[..]));
        // Only the first member is read.
        let mut two = plain.clone();
        two.extend_from_slice(&gz(b"second"));
        assert_eq!(inflate(&two, MAX_DECODED).as_deref(), Some(&b"first"[..]));
        // A name that never ends, a method other than deflate.
        let mut unended = plain[..10].to_vec();
        unended[3] = 0x08;
        unended.extend_from_slice(b"a name without its NUL");
        assert_eq!(inflate(&unended, MAX_DECODED), None);
        let mut stored = plain.clone();
        stored[2] = 7;
        assert_eq!(inflate(&stored, MAX_DECODED), None);
    }

    #[test]
    fn bombs_stop_at_the_cap() {
        use std::io::Write;
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..80 {
            e.write_all(&zeros).expect("write");
        }
        let z = e.finish().expect("finish");
        assert_eq!(inflate(&z, MAX_DECODED).map(|v| v.len()), Some(MAX_DECODED));
        assert_eq!(inflate(&z, usize::MAX).map(|v| v.len()), Some(MAX_DECODED));
    }
}
