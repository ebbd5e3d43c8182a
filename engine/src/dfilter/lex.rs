//! The scanner: filter text -> tokens, each with its byte span.
//!
//! Mirrors the token classes of Wireshark 4.0's scanner: operators and
//! keywords, quoted strings (with C escapes, or raw `r"..."`), character
//! constants, "unparsed" words (a field name or a literal, decided by the
//! parser), `:`-prefixed literals, and the slice (`[...]`) and layer (`#n`)
//! sub-languages.

use super::FilterError;

/// Longest filter text we scan; longer input is refused, not truncated.
pub const MAX_FILTER_LEN: usize = 64 * 1024;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    LParen,
    RParen,
    Comma,
    LBrace,
    RBrace,
    DotDot,
    Dollar,
    Any,
    All,
    AnyEq,
    AllNe,
    AllEq,
    AnyNe,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
    Matches,
    Not,
    And,
    Or,
    In,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    BitAnd,
    Hash,
    LBracket,
    RBracket,
    /// One range of a slice, as written (`1:2`, `-3`, `4-5`...).
    RangeNode(String),
    /// The layer number after `#`.
    Integer(String),
    /// A double-quoted string, unescaped.
    Str(Vec<u8>),
    /// A character constant's value.
    Char(u64),
    /// A `:`-prefixed literal or other token that is never a field.
    Literal(String),
    /// A word: a field name or a literal.
    Unparsed(String),
    /// `.name`: always a field name.
    Field(String),
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
    /// The token as written (for "was unexpected" messages).
    pub text: String,
}

fn err(message: String, span: Option<(usize, usize)>) -> FilterError {
    FilterError { message, span }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Length of `[alnum_][alnum_-]*(\.[alnum_-]+)*` at the start of `s`.
fn ident_len(s: &[u8]) -> usize {
    match s.first() {
        Some(&c) if is_ident_start(c) => {}
        _ => return 0,
    }
    let mut i = 1;
    while i < s.len() && is_ident_char(at(s, i)) {
        i += 1;
    }
    loop {
        if s.get(i) == Some(&b'.') && s.get(i + 1).is_some_and(|&c| is_ident_char(c)) {
            i += 2;
            while i < s.len() && is_ident_char(at(s, i)) {
                i += 1;
            }
        } else {
            return i;
        }
    }
}

fn is_hex2_seq(s: &str, sep: char) -> bool {
    let parts: Vec<&str> = s.split(sep).collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|c| c.is_ascii_hexdigit()))
}

fn is_quad_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| p.len() == 4 && p.bytes().all(|c| c.is_ascii_hexdigit()))
}

fn is_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u16>().is_ok_and(|v| v <= 255)
        })
}

fn split_prefix(s: &str, max_digits: usize) -> Option<(&str, bool)> {
    match s.split_once('/') {
        None => Some((s, false)),
        Some((a, p)) => {
            if !p.is_empty() && p.len() <= max_digits && p.bytes().all(|c| c.is_ascii_digit()) {
                Some((a, true))
            } else {
                None
            }
        }
    }
}

/// Whether `s` is one whole address/bytes token of the scanner's literal rules.
fn is_addr_literal(s: &str) -> bool {
    if let Some((a, _)) = split_prefix(s, 2) {
        if is_ipv4(a) {
            return true;
        }
    }
    if let Some((a, _)) = split_prefix(s, 3) {
        if a.contains(':') && a.parse::<std::net::Ipv6Addr>().is_ok() {
            return true;
        }
    }
    if s.contains('/') {
        return false;
    }
    let body = s.strip_prefix(':').unwrap_or(s);
    is_quad_mac(s) || is_hex2_seq(body, ':') || is_hex2_seq(body, '.') || is_hex2_seq(body, '-')
}

const KEYWORDS: &[(&str, Tok)] = &[
    ("any", Tok::Any),
    ("all", Tok::All),
    ("eq", Tok::AnyEq),
    ("any_eq", Tok::AnyEq),
    ("ne", Tok::AllNe),
    ("all_ne", Tok::AllNe),
    ("all_eq", Tok::AllEq),
    ("any_ne", Tok::AnyNe),
    ("gt", Tok::Gt),
    ("ge", Tok::Ge),
    ("lt", Tok::Lt),
    ("le", Tok::Le),
    ("contains", Tok::Contains),
    ("matches", Tok::Matches),
    ("not", Tok::Not),
    ("and", Tok::And),
    ("or", Tok::Or),
    ("in", Tok::In),
    ("bitwise_and", Tok::BitAnd),
];

const PUNCT: &[(&str, Tok)] = &[
    ("===", Tok::AllEq),
    ("!==", Tok::AnyNe),
    ("==", Tok::AnyEq),
    ("!=", Tok::AllNe),
    ("~=", Tok::AnyNe),
    (">=", Tok::Ge),
    ("<=", Tok::Le),
    ("&&", Tok::And),
    ("||", Tok::Or),
    ("..", Tok::DotDot),
    (">", Tok::Gt),
    ("<", Tok::Lt),
    ("~", Tok::Matches),
    ("!", Tok::Not),
    ("(", Tok::LParen),
    (")", Tok::RParen),
    (",", Tok::Comma),
    ("{", Tok::LBrace),
    ("}", Tok::RBrace),
    ("$", Tok::Dollar),
    ("+", Tok::Plus),
    ("-", Tok::Minus),
    ("*", Tok::Star),
    ("/", Tok::Slash),
    ("%", Tok::Percent),
    ("&", Tok::BitAnd),
];

/// Splits `text` into tokens.
pub fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    if text.len() > MAX_FILTER_LEN {
        return Err(err("Filter expression is too long.".into(), None));
    }
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = at(b, i);
        if c == b' ' || c == b'\t' || c == b'\n' {
            i += 1;
            continue;
        }
        let start = i;
        let push = |out: &mut Vec<Token>, tok: Tok, s: usize, e: usize| {
            out.push(Token {
                tok,
                start: s,
                end: e,
                text: text.get(s..e).unwrap_or("").to_string(),
            });
        };
        // Layer: `#` then digits or `[`.
        if c == b'#' {
            push(&mut out, Tok::Hash, i, i + 1);
            i += 1;
            let mut j = i;
            while j < b.len() && at(b, j).is_ascii_digit() {
                j += 1;
            }
            if j > i {
                push(
                    &mut out,
                    Tok::Integer(text.get(i..j).unwrap_or("").into()),
                    i,
                    j,
                );
                i = j;
            } else if i < b.len() && at(b, i) != b'[' {
                let ch = text.get(i..).and_then(|s| s.chars().next()).unwrap_or(' ');
                let e = i + ch.len_utf8();
                return Err(err(
                    format!("Expected digit or \"[\", not \"{ch}\""),
                    Some((i, e)),
                ));
            }
            continue;
        }
        if c == b'[' {
            push(&mut out, Tok::LBracket, i, i + 1);
            i += 1;
            loop {
                let s = i;
                while i < b.len() && at(b, i) != b']' && at(b, i) != b',' {
                    i += 1;
                }
                if i > s {
                    let raw = text.get(s..i).unwrap_or("");
                    push(&mut out, Tok::RangeNode(raw.into()), s, i);
                }
                match b.get(i) {
                    None => {
                        return Err(err(
                            "The right bracket was missing from a slice.".into(),
                            Some((s, i)),
                        ))
                    }
                    Some(b',') => {
                        push(&mut out, Tok::Comma, i, i + 1);
                        i += 1;
                    }
                    Some(_) => {
                        push(&mut out, Tok::RBracket, i, i + 1);
                        i += 1;
                        break;
                    }
                }
            }
            continue;
        }
        // Strings.
        let raw = (c == b'r' || c == b'R') && b.get(i + 1) == Some(&b'"');
        if c == b'"' || raw {
            let (bytes, end) = lex_string(text, if raw { i + 1 } else { i }, raw)?;
            push(&mut out, Tok::Str(bytes), start, end);
            i = end;
            continue;
        }
        if c == b'\'' {
            let (v, end) = lex_char(text, i)?;
            push(&mut out, Tok::Char(v), start, end);
            i = end;
            continue;
        }
        // Words and address literals: longest match, literal rules first.
        let rest = text.get(i..).unwrap_or("");
        let rb = rest.as_bytes();
        let mut run = 0;
        while run < rb.len()
            && (at(rb, run).is_ascii_hexdigit() || matches!(at(rb, run), b':' | b'.' | b'-' | b'/'))
        {
            run += 1;
        }
        let mut lit_len = 0;
        let mut e = run;
        while e > 0 {
            if let Some(s) = rest.get(..e) {
                if is_addr_literal(s) && !s.contains("..") {
                    lit_len = e;
                    break;
                }
            }
            e -= 1;
        }
        let dot = usize::from(c == b'.');
        let id_len = {
            let l = ident_len(rb.get(dot..).unwrap_or(&[]));
            if l > 0 {
                l + dot
            } else {
                0
            }
        };
        if lit_len > 0 && lit_len >= id_len {
            let s = rest.get(..lit_len).unwrap_or("");
            let v6 =
                split_prefix(s, 3).is_some_and(|(a, _)| a.parse::<std::net::Ipv6Addr>().is_ok());
            let tok = if s.starts_with(':') && !v6 {
                Tok::Literal(s.into())
            } else {
                Tok::Unparsed(s.into())
            };
            push(&mut out, tok, i, i + lit_len);
            i += lit_len;
            continue;
        }
        if id_len > 0 {
            let s = rest.get(..id_len).unwrap_or("");
            let tok = if dot == 1 {
                Tok::Field(s.get(1..).unwrap_or("").into())
            } else if let Some((_, t)) = KEYWORDS.iter().find(|(k, _)| *k == s) {
                t.clone()
            } else {
                Tok::Unparsed(s.into())
            };
            push(&mut out, tok, i, i + id_len);
            i += id_len;
            continue;
        }
        if c == b':' {
            let mut j = i + 1;
            while j < b.len() && at(b, j).is_ascii_hexdigit() {
                j += 1;
            }
            if j > i + 1 {
                push(
                    &mut out,
                    Tok::Literal(text.get(i..j).unwrap_or("").into()),
                    i,
                    j,
                );
                i = j;
                continue;
            }
        }
        if let Some((p, t)) = PUNCT.iter().find(|(p, _)| rest.starts_with(p)) {
            push(&mut out, t.clone(), i, i + p.len());
            i += p.len();
            continue;
        }
        let ch = rest.chars().next().unwrap_or(' ');
        let e = i + ch.len_utf8();
        if ch.is_ascii_graphic() {
            return Err(err(
                format!("\"{ch}\" was unexpected in this context."),
                Some((i, e)),
            ));
        }
        return Err(err(
            "Non-printable ASCII characters may only appear inside double-quotes.".into(),
            Some((i, e)),
        ));
    }
    Ok(out)
}

/// Scans a double-quoted string whose opening quote is at `q`.
fn lex_string(text: &str, q: usize, raw: bool) -> Result<(Vec<u8>, usize), FilterError> {
    let b = text.as_bytes();
    let start = if raw { q - 1 } else { q };
    let mut out = Vec::new();
    let mut i = q + 1;
    loop {
        let Some(&c) = b.get(i) else {
            return Err(err(
                "The final quote was missing from a quoted string.".into(),
                Some((start, b.len())),
            ));
        };
        if c == b'"' {
            return Ok((out, i + 1));
        }
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(&n) = b.get(i + 1) else {
            return Err(err(
                "The final quote was missing from a quoted string.".into(),
                Some((start, b.len())),
            ));
        };
        if raw {
            out.push(b'\\');
            out.push(n);
            i += 2;
            continue;
        }
        match n {
            b'0'..=b'7' => {
                let mut j = i + 1;
                let mut v: u32 = 0;
                while j < b.len() && j < i + 4 && (b'0'..=b'7').contains(&at(b, j)) {
                    v = v * 8 + u32::from(at(b, j) - b'0');
                    j += 1;
                }
                if v > 0xff {
                    return Err(err(
                        format!("{} is larger than 255.", text.get(i..j).unwrap_or("")),
                        Some((i, j)),
                    ));
                }
                out.push(v as u8);
                i = j;
            }
            b'x' if b.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit()) => {
                let mut j = i + 2;
                let mut v: u32 = 0;
                while j < b.len() && j < i + 4 && at(b, j).is_ascii_hexdigit() {
                    v = v * 16 + (at(b, j) as char).to_digit(16).unwrap_or(0);
                    j += 1;
                }
                out.push(v as u8);
                i = j;
            }
            b'u' | b'U' => {
                let max = if n == b'u' { 4 } else { 8 };
                let mut j = i + 2;
                while j < b.len() && j < i + 2 + max && at(b, j).is_ascii_hexdigit() {
                    j += 1;
                }
                let hex = text.get(i + 2..j).unwrap_or("");
                let ch = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                match ch {
                    Some(ch) if !hex.is_empty() => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    _ => {
                        return Err(err(
                            format!(
                                "{} is not a valid universal character name",
                                text.get(i..j).unwrap_or("")
                            ),
                            Some((i, j)),
                        ))
                    }
                }
                i = j;
            }
            _ => {
                let v = match n {
                    b'a' => 7,
                    b'b' => 8,
                    b'f' => 12,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'v' => 11,
                    b'"' | b'\\' | b'\'' | b'?' => n,
                    _ => {
                        let ch = text
                            .get(i + 1..)
                            .and_then(|s| s.chars().next())
                            .unwrap_or(' ');
                        let e = i + 1 + ch.len_utf8();
                        return Err(err(
                            format!("\\{ch} is not a valid character escape sequence"),
                            Some((i, e)),
                        ));
                    }
                };
                out.push(v);
                i += 2;
            }
        }
    }
}

/// Scans a character constant `'c'` starting at `q`.
fn lex_char(text: &str, q: usize) -> Result<(u64, usize), FilterError> {
    let b = text.as_bytes();
    let mut i = q + 1;
    loop {
        match b.get(i) {
            None => {
                return Err(err(
                    "The final quote was missing from a character constant.".into(),
                    Some((q, b.len())),
                ))
            }
            Some(b'\'') => break,
            Some(b'\\') => i += 2,
            Some(_) => i += 1,
        }
    }
    let end = i + 1;
    let inner = text.get(q + 1..i).unwrap_or("");
    let whole = text.get(q..end).unwrap_or("");
    let bad = || {
        err(
            format!("{whole} is not a valid character constant."),
            Some((q, end)),
        )
    };
    let ib = inner.as_bytes();
    let v = match ib {
        [c] if *c != b'\\' => u64::from(*c),
        [b'\\', rest @ ..] => match rest {
            [b'a'] => 7,
            [b'b'] => 8,
            [b'f'] => 12,
            [b'n'] => 10,
            [b'r'] => 13,
            [b't'] => 9,
            [b'v'] => 11,
            [c @ (b'\\' | b'\'' | b'"' | b'?')] => u64::from(*c),
            [b'x', h @ ..] if !h.is_empty() && h.len() <= 2 => {
                u64::from_str_radix(std::str::from_utf8(h).map_err(|_| bad())?, 16)
                    .map_err(|_| bad())?
            }
            o if !o.is_empty() && o.len() <= 3 && o.iter().all(|c| (b'0'..=b'7').contains(c)) => {
                let v = u64::from_str_radix(std::str::from_utf8(o).map_err(|_| bad())?, 8)
                    .map_err(|_| bad())?;
                if v > 255 {
                    return Err(bad());
                }
                v
            }
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    Ok((v, end))
}

/// The byte at `i`, or 0 past the end.
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).expect("lexes").into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn words_and_addresses() {
        assert_eq!(
            toks("ip.src==1.2.3.4/24"),
            vec![
                Tok::Unparsed("ip.src".into()),
                Tok::AnyEq,
                Tok::Unparsed("1.2.3.4/24".into())
            ]
        );
        assert_eq!(
            toks("zz::1"),
            vec![Tok::Unparsed("zz".into()), Tok::Unparsed("::1".into())]
        );
        assert_eq!(
            toks("1..5"),
            vec![
                Tok::Unparsed("1".into()),
                Tok::DotDot,
                Tok::Unparsed("5".into())
            ]
        );
        assert_eq!(
            toks("eth.src[0:3] == 00:0c:29"),
            vec![
                Tok::Unparsed("eth.src".into()),
                Tok::LBracket,
                Tok::RangeNode("0:3".into()),
                Tok::RBracket,
                Tok::AnyEq,
                Tok::Unparsed("00:0c:29".into())
            ]
        );
    }

    #[test]
    fn strings() {
        assert_eq!(toks(r#""a\x41\n""#), vec![Tok::Str(b"aA\n".to_vec())]);
        assert_eq!(toks(r#"r"a\d""#), vec![Tok::Str(b"a\\d".to_vec())]);
        assert_eq!(toks("'a'"), vec![Tok::Char(97)]);
        assert!(lex("\"abc").is_err());
    }
}
