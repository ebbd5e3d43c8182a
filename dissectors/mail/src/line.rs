//! Line and token helpers shared by the three protocols (epan's
//! `tvb_find_line_end` and `get_token_len`).

/// `tvb_find_line_end`: the line's length (without its end) and where the
/// next line starts, or `None` when no `\r` or `\n` ends it.
pub fn line_end(data: &[u8]) -> Option<(usize, usize)> {
    let i = data.iter().position(|&c| c == b'\r' || c == b'\n')?;
    let next = match (data.get(i), data.get(i + 1)) {
        (Some(b'\r'), Some(b'\n')) => i + 2,
        _ => i + 1,
    };
    Some((i, next))
}

/// `tvb_find_line_end` with desegmentation: as [`line_end`], but a `\r`
/// that is the last byte may be the first half of a `\r\n`, so the line
/// is not known to be complete.
pub fn line_end_deseg(data: &[u8]) -> Option<(usize, usize)> {
    let (len, next) = line_end(data)?;
    if data.get(len) == Some(&b'\r') && len.saturating_add(1) >= data.len() {
        return None;
    }
    Some((len, next))
}

/// A line without desegmentation: the rest of the data when unterminated.
pub fn line(data: &[u8]) -> (usize, usize) {
    line_end(data).unwrap_or((data.len(), data.len()))
}

/// `get_token_len`: the first token (up to a space or line end) and the
/// rest after the spaces that follow it.
pub fn token(line: &[u8]) -> (&[u8], &[u8]) {
    let end = line
        .iter()
        .position(|&c| c == b' ' || c == b'\r' || c == b'\n')
        .unwrap_or(line.len());
    let (tok, rest) = line.split_at(end);
    let skip = rest.iter().take_while(|&&c| c == b' ').count();
    (tok, rest.get(skip..).unwrap_or_default())
}

/// `ENC_ASCII`: bytes past 0x7f become U+FFFD; stops at a NUL.
pub fn ascii(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for &b in raw.iter().take_while(|&&b| b != 0) {
        if b < 0x80 {
            out.push(b);
        } else {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_tokens() {
        assert_eq!(line_end(b"USER a\r\nPASS"), Some((6, 8)));
        assert_eq!(line_end(b"no end"), None);
        assert_eq!(line(b"no end"), (6, 6));
        assert_eq!(line_end_deseg(b"a\r"), None);
        assert_eq!(line_end_deseg(b"a\r\n"), Some((1, 3)));
        assert_eq!(line_end_deseg(b"a\rb"), Some((1, 2)));
        assert_eq!(token(b"USER  bob x"), (&b"USER"[..], &b"bob x"[..]));
        assert_eq!(token(b"QUIT"), (&b"QUIT"[..], &b""[..]));
        assert_eq!(ascii(b"a\xffb\0c"), "a\u{fffd}b".as_bytes());
    }
}
