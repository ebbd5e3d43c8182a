//! Pure parsers for the FTP control channel: line framing, the first token,
//! PORT/PASV, EPRT and EPSV arguments, PWD replies and CWD path arithmetic.
//! They follow packet-ftp.c's behaviour (including its leniencies), borrow
//! their input and never panic.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Length of the first line of `data` (without its terminator) and the
/// offset just past the terminator (`\r\n`, `\n` or a lone `\r`); without a
/// terminator the line runs to the end.
pub fn line_end(data: &[u8]) -> (usize, usize) {
    match data.iter().position(|&b| b == b'\r' || b == b'\n') {
        None => (data.len(), data.len()),
        Some(i) => {
            let crlf = data.get(i) == Some(&b'\r') && data.get(i.saturating_add(1)) == Some(&b'\n');
            (i, i.saturating_add(if crlf { 2 } else { 1 }))
        }
    }
}

/// The first token of a line (up to a space or line end) and the rest after
/// the spaces that follow it.
pub fn token(line: &[u8]) -> (&[u8], &[u8]) {
    let end = line
        .iter()
        .position(|&b| b == b' ' || b == b'\r' || b == b'\n')
        .unwrap_or(line.len());
    let (tok, rest) = line.split_at(end);
    let skip = rest.iter().take_while(|&&b| b == b' ').count();
    (tok, rest.get(skip..).unwrap_or(&[]))
}

/// The bytes up to the first NUL, as a C string copy would keep them.
pub fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => b.get(..i).unwrap_or(&[]),
        None => b,
    }
}

/// `%d` of sscanf: optional white space, an optional sign, digits. Returns
/// the value (wrapped to 32 bits, as an overflowing C int would be in
/// practice) and the rest.
fn scan_int(s: &[u8]) -> Option<(i32, &[u8])> {
    let ws = s
        .iter()
        .take_while(|b| b" \t\n\r\x0b\x0c".contains(b))
        .count();
    let mut s = s.get(ws..)?;
    let mut neg = false;
    if let Some(&c) = s.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = s.get(1..)?;
        }
    }
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in s.get(..n)? {
        v = v.saturating_mul(10).saturating_add(i64::from(d - b'0'));
    }
    let v = if neg { v.saturating_neg() } else { v };
    Some((v as i32, s.get(n..)?))
}

/// Six comma-separated numbers: an IPv4 address and a port (PORT and the
/// 227 reply). The first run of digits that starts six numbers wins.
pub fn port_pasv(arg: &[u8]) -> Option<(Ipv4Addr, u16)> {
    let mut p = c_str(arg);
    for _ in 0..arg.len().saturating_add(1) {
        let skip = p.iter().take_while(|b| !b.is_ascii_digit()).count();
        p = p.get(skip..)?;
        if p.is_empty() {
            return None;
        }
        if let Some(r) = six_numbers(p) {
            return Some(r);
        }
        let digits = p.iter().take_while(|b| b.is_ascii_digit()).count();
        p = p.get(digits..)?;
    }
    None
}

fn six_numbers(mut p: &[u8]) -> Option<(Ipv4Addr, u16)> {
    let mut n = [0i32; 6];
    for (i, slot) in n.iter_mut().enumerate() {
        if i > 0 {
            p = p.strip_prefix(b",")?;
        }
        let (v, rest) = scan_int(p)?;
        *slot = v;
        p = rest;
    }
    let [a, b, c, d, p0, p1] = n.map(|v| v as u32);
    let ip = a.wrapping_shl(24) | b.wrapping_shl(16) | c.wrapping_shl(8) | d;
    let port = ((p0 & 0xff) << 8) | (p1 & 0xff);
    Some((Ipv4Addr::from(ip), port as u16))
}

/// An RFC 2428 delimiter: printable, not a hex digit, `.` or `:`.
fn valid_delimiter(c: u8) -> bool {
    c.is_ascii_graphic() && !b"0123456789abcdef.:".contains(&c.to_ascii_lowercase())
}

/// `ws_strtou*` without an end pointer: the whole string is a number.
fn strtou(s: &[u8], max: u64) -> Option<u64> {
    let (v, rest) = strtou_prefix(s)?;
    (rest.is_empty() && v <= max).then_some(v)
}

/// `ws_strtou*` with an end pointer: white space, optional `+`, digits.
fn strtou_prefix(s: &[u8]) -> Option<(u64, &[u8])> {
    let ws = s
        .iter()
        .take_while(|b| b" \t\n\r\x0b\x0c".contains(b))
        .count();
    let mut s = s.get(ws..)?;
    if let Some(r) = s.strip_prefix(b"+") {
        s = r;
    }
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let mut v: u64 = 0;
    for &d in s.get(..n)? {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some((v, s.get(n..)?))
}

/// The address of an EPRT argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EprtAddr {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

/// `|<af>|<addr>|<port>|` with any valid delimiter (EPRT, RFC 2428).
pub fn eprt(arg: &[u8]) -> Option<(u8, EprtAddr, u16)> {
    let p = c_str(arg);
    if p.len() < 4 {
        return None;
    }
    let delim = *p.first()?;
    if !valid_delimiter(delim) || p.iter().filter(|&&b| b == delim).count() != 4 {
        return None;
    }
    let mut fields = p.split(|&b| b == delim).skip(1);
    let af = fields.next()?;
    let addr = fields.next()?;
    let port = fields.next()?;
    if af.is_empty() || addr.is_empty() || port.is_empty() {
        return None;
    }
    let af = strtou(af, u64::from(u32::MAX))?;
    let text = std::str::from_utf8(addr).ok();
    let addr = match af {
        1 => EprtAddr::V4(text.and_then(|t| t.parse().ok())?),
        2 => EprtAddr::V6(text.and_then(|t| t.parse().ok())?),
        _ => return None,
    };
    let port = strtou(port, u64::from(u16::MAX))?;
    Some((af as u8, addr, port as u16))
}

/// The port of an EPSV reply: `(|||<port>|)` after the first `(`.
pub fn epsv(arg: &[u8]) -> Option<u16> {
    let p = c_str(arg);
    let open = p.iter().position(|&b| b == b'(')?;
    let mut p = p.get(open.saturating_add(1)..)?;
    let mut delim = None;
    for _ in 0..3 {
        let Some(&c) = p.first() else { break };
        if delim.is_none() && valid_delimiter(c) {
            delim = Some(c);
        }
        if Some(c) != delim {
            break;
        }
        p = p.get(1..)?;
    }
    if p.is_empty() {
        return None;
    }
    let port = match strtou_prefix(p) {
        Some((v, _)) if v <= u64::from(u16::MAX) => v as u16,
        // A number too large, or none: only accepted before a `|`.
        Some((_, rest)) if rest.first() == Some(&b'|') => u16::MAX,
        None if p.first() == Some(&b'|') => 0,
        _ => return None,
    };
    p.contains(&b')').then_some(port)
}

/// The directory of a 257 reply: the text between the first pair of double
/// quotes, `""` standing for one quote. `None` when malformed.
pub fn pwd(arg: &[u8]) -> Option<Vec<u8>> {
    if arg.len() < 2 || arg.first() != Some(&b'"') {
        return None;
    }
    let mut out = Vec::new();
    let mut started = false;
    let mut i = 0;
    while let Some(&c) = arg.get(i) {
        if c == b'\r' || c == b'\n' {
            break;
        }
        if c == b'"' {
            if arg.get(i.saturating_add(1)) == Some(&b'"') {
                out.push(b'"');
                i = i.saturating_add(1);
            } else if started {
                return Some(out);
            } else {
                started = true;
            }
        } else {
            out.push(c);
        }
        i = i.saturating_add(1);
    }
    None
}

/// The working directory after a successful relative CWD from a non-empty
/// `cwd`: appended and normalised (`.` dropped, `..` removes a level).
pub fn join_dir(cwd: &[u8], new_path: &[u8]) -> Vec<u8> {
    let mut appended = cwd.to_vec();
    if cwd.last() != Some(&b'/') {
        appended.push(b'/');
    }
    appended.extend_from_slice(new_path);
    let mut out = Vec::with_capacity(appended.len());
    let mut start = 0;
    if cwd.first() == Some(&b'/') {
        out.push(b'/');
        start = 1;
    }
    for folder in appended.get(start..).unwrap_or(&[]).split(|&b| b == b'/') {
        match folder {
            b"" | b"." => {}
            b".." => {
                while out.last().is_some_and(|&b| b != b'/') {
                    out.pop();
                }
                if out.len() > 1 && out.last() == Some(&b'/') {
                    out.pop();
                }
            }
            f => {
                if !out.is_empty() && out.last() != Some(&b'/') {
                    out.push(b'/');
                }
                out.extend_from_slice(f);
            }
        }
    }
    out
}

/// Bytes decoded as ENC_ASCII: up to a NUL, and every byte above 0x7f
/// becomes U+FFFD.
pub fn ascii(out: &mut Vec<u8>, raw: &[u8]) {
    out.clear();
    for &b in c_str(raw) {
        if b < 0x80 {
            out.push(b);
        } else {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_like_tvb_find_line_end() {
        assert_eq!(line_end(b"USER a\r\nX"), (6, 8));
        assert_eq!(line_end(b"USER a\nX"), (6, 7));
        assert_eq!(line_end(b"USER a\rX"), (6, 7));
        assert_eq!(line_end(b"USER a"), (6, 6));
        assert_eq!(line_end(b""), (0, 0));
    }

    #[test]
    fn tokens_skip_following_spaces() {
        assert_eq!(token(b"RETR   a b"), (&b"RETR"[..], &b"a b"[..]));
        assert_eq!(token(b"QUIT"), (&b"QUIT"[..], &b""[..]));
        assert_eq!(token(b" x"), (&b""[..], &b"x"[..]));
    }

    #[test]
    fn port_and_pasv_arguments() {
        assert_eq!(
            port_pasv(b"192,168,0,13,234,10"),
            Some((Ipv4Addr::new(192, 168, 0, 13), 59914))
        );
        // 227 text: the first six numbers after other digits.
        assert_eq!(
            port_pasv(b"Entering Passive Mode 1 (10,0,0,1,4,1)."),
            Some((Ipv4Addr::new(10, 0, 0, 1), 1025))
        );
        assert_eq!(
            port_pasv(b"1, 2, 3, 4, 0, 21"),
            Some((Ipv4Addr::new(1, 2, 3, 4), 21))
        );
        assert_eq!(port_pasv(b"1,2,3,4,5"), None);
        assert_eq!(port_pasv(b""), None);
        assert_eq!(
            port_pasv(b"99999999999999999999,1,1,1,1,1").map(|r| r.1),
            Some(257)
        );
    }

    #[test]
    fn eprt_arguments() {
        assert_eq!(
            eprt(b"|1|132.235.1.2|6275|"),
            Some((1, EprtAddr::V4(Ipv4Addr::new(132, 235, 1, 2)), 6275))
        );
        assert_eq!(
            eprt(b"!2!::1!80!"),
            Some((2, EprtAddr::V6(Ipv6Addr::LOCALHOST), 80))
        );
        assert_eq!(eprt(b"|3|1.2.3.4|1|"), None);
        assert_eq!(eprt(b"|1|1.2.3.4|70000|"), None);
        assert_eq!(eprt(b"|1||1|"), None);
        assert_eq!(eprt(b"1|1.2.3.4|1|"), None);
        assert_eq!(eprt(b"|1|1.2.3.x|1|"), None);
    }

    #[test]
    fn epsv_replies() {
        assert_eq!(
            epsv(b"Entering Extended Passive Mode (|||6446|)"),
            Some(6446)
        );
        assert_eq!(epsv(b"Entering Extended Passive Mode (|||6446|"), None);
        assert_eq!(epsv(b"no parenthesis"), None);
        assert_eq!(epsv(b"(|||)"), None);
        assert_eq!(epsv(b"(||||)"), Some(0));
    }

    #[test]
    fn pwd_replies() {
        assert_eq!(pwd(b"\"/home/a\" is current"), Some(b"/home/a".to_vec()));
        assert_eq!(pwd(b"\"a\"\"b\""), Some(b"a\"b".to_vec()));
        assert_eq!(pwd(b"\"unterminated"), None);
        assert_eq!(pwd(b"/no/quotes"), None);
    }

    #[test]
    fn cwd_normalisation() {
        assert_eq!(join_dir(b"/home", b"user"), b"/home/user");
        assert_eq!(join_dir(b"/home/", b"user/./x/.."), b"/home/user");
        assert_eq!(join_dir(b"/home", b".."), b"/");
        assert_eq!(join_dir(b"/", b"../.."), b"/");
        assert_eq!(join_dir(b"a/b", b"../c"), b"a/c");
    }

    #[test]
    fn ascii_decoding() {
        let mut v = Vec::new();
        ascii(&mut v, b"a\xffb\0c");
        assert_eq!(v, "a\u{fffd}b".as_bytes());
    }
}
