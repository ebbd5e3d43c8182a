//! How values print in `-T fields`, `-T json` and `-T ek`: the rules of
//! tshark 4.0.17's `fvalue_to_string_repr(FTREPR_DISPLAY)`.

use std::fmt::Write as _;
use std::net::Ipv6Addr;
use std::sync::OnceLock;

use crate::fields::{Base, FieldDef, FieldType};
use crate::table::{FieldTable, Timestamp, Value};

/// Appends the display form of `value` (a value of field `def`) to `out`.
pub fn write_value(out: &mut String, def: &FieldDef, value: &Value, table: &FieldTable) {
    match *value {
        Value::None => out.push('1'),
        Value::Proto { label, .. } => match label {
            Some(l) => push_escaped(out, table.bytes(l)),
            // A protocol item without text of its own shows its filter name.
            None => out.push_str(def.abbrev),
        },
        Value::Bool(b) => out.push(if b { '1' } else { '0' }),
        Value::U(v) => write_unsigned(out, def, v),
        Value::I(v) => write_signed(out, def, v),
        Value::F(v) => write_double(out, v),
        Value::AbsTime(ts) => write_abs_time(out, def.base, ts),
        Value::RelTime(n) => write_rel_time(out, n),
        Value::Str(s) => push_escaped(out, table.bytes(s)),
        Value::Bytes(s) => push_hex(out, table.bytes(s)),
        Value::Ether(m) => write_ether(out, &m),
        Value::Ipv4(a) => write_ipv4(out, &a),
        Value::Ipv6(a) => write_ipv6(out, &a),
    }
}

/// Appends the `-T fields` cell form of `value`: its display form with
/// `print_escaped_csv` applied, written in one step. Only strings and
/// protocol labels can hold the characters that are escaped; every other
/// form (numbers, addresses, times, FT_CHAR's C escapes, static names) is
/// written as it is.
pub fn write_cell_value(out: &mut String, def: &FieldDef, value: &Value, table: &FieldTable) {
    match *value {
        Value::Str(s) | Value::Proto { label: Some(s), .. } => {
            push_escaped_csv_bytes(out, table.bytes(s))
        }
        _ => write_value(out, def, value, table),
    }
}

/// [`write_cell_value`] into a byte buffer, the fields printer's row: the
/// common forms (decimal and hex integers, addresses, booleans, strings)
/// are written directly, the rest go through `scratch`.
pub fn write_cell_bytes(
    out: &mut Vec<u8>,
    scratch: &mut String,
    def: &FieldDef,
    value: &Value,
    table: &FieldTable,
) {
    match *value {
        Value::U(v) if def.ftype != FieldType::Char || hex_base(def.base) => {
            if hex_base(def.base) {
                let (buf, start) = hex_padded_text(v, (def.ftype.bits() / 4) as usize);
                out.extend_from_slice(buf.get(start..).unwrap_or_default());
            } else {
                push_decimal_bytes(out, v);
            }
        }
        Value::Bool(b) => out.push(if b { b'1' } else { b'0' }),
        Value::None => out.push(b'1'),
        Value::Ether(m) => out.extend_from_slice(&ether_text(&m)),
        Value::Ipv4(a) => {
            // Written in place: room for the longest text, then cut to size.
            let len = out.len();
            out.extend_from_slice(&[0u8; 16]);
            let n = out.get_mut(len..).map_or(0, |buf| ipv4_into(buf, &a));
            out.truncate(len.saturating_add(n));
        }
        Value::Str(s) | Value::Proto { label: Some(s), .. } => {
            push_escaped_csv_into(out, table.bytes(s))
        }
        _ => {
            scratch.clear();
            write_value(scratch, def, value, table);
            out.extend_from_slice(scratch.as_bytes());
        }
    }
}

/// Appends the decimal digits of `v`, written in place in `out` (a
/// stack buffer copied over would be read back before its bytes land).
pub fn push_decimal_bytes(out: &mut Vec<u8>, v: u64) {
    let n = v.checked_ilog10().map_or(1, |l| l as usize + 1);
    let len = out.len();
    out.extend_from_slice(&[0u8; 20]);
    if let Some(dst) = out.get_mut(len..len.saturating_add(n)) {
        decimal_into(dst, v);
    }
    out.truncate(len.saturating_add(n));
}

/// "00" to "99", for writing decimals two digits at a time.
/// (Built at compile time: an index out of range would fail the build.)
#[allow(clippy::indexing_slicing)]
const TWO_DIGITS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut v = 0usize;
    while v < 100 {
        t[v] = [b'0' + (v / 10) as u8, b'0' + (v % 10) as u8];
        v += 1;
    }
    t
};

/// The decimal digits of `v` from the start of the buffer, and their count.
#[cfg(test)]
fn decimal_left(v: u64) -> ([u8; 20], usize) {
    let n = v.checked_ilog10().map_or(1, |l| l as usize + 1);
    let mut buf = [0u8; 20];
    if let Some(dst) = buf.get_mut(..n) {
        decimal_into(dst, v);
    }
    (buf, n)
}

/// Writes the decimal digits of `v` right-aligned in `dst`, two at a
/// time; `dst` is as long as the number (shorter keeps the low digits).
fn decimal_into(dst: &mut [u8], v: u64) {
    let mut at = dst.len();
    let mut rest = v;
    while rest >= 100 && at >= 2 {
        let pair = TWO_DIGITS
            .get((rest % 100) as usize)
            .copied()
            .unwrap_or_default();
        rest /= 100;
        at -= 2;
        if let Some(d) = dst.get_mut(at..at + 2) {
            d.copy_from_slice(&pair);
        }
    }
    let [hi, lo] = TWO_DIGITS.get(rest as usize).copied().unwrap_or_default();
    if rest >= 10 {
        if let Some(d) = dst.get_mut(at.saturating_sub(2)..at) {
            d.copy_from_slice(&[hi, lo]);
        }
    } else if let Some(d) = dst.get_mut(at.saturating_sub(1)) {
        *d = lo;
    }
}

/// [`push_escaped_csv_bytes`] into a byte buffer.
fn push_escaped_csv_into(out: &mut Vec<u8>, bytes: &[u8]) {
    let end = memchr_nul(bytes);
    let bytes = bytes.get(..end).unwrap_or(bytes);
    for chunk in bytes.utf8_chunks() {
        let mut rest = chunk.valid().as_bytes();
        while let Some(at) = rest
            .iter()
            .position(|b| matches!(b, 0x08..=0x0a | 0x0c | 0x0d))
        {
            let (run, tail) = rest.split_at(at);
            out.extend_from_slice(run);
            let (c, tail) = tail.split_first().unwrap_or((&b'\t', &[]));
            out.extend_from_slice(match c {
                0x08 => b"\\b",
                0x0c => b"\\f",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                _ => b"\\t",
            });
            rest = tail;
        }
        out.extend_from_slice(rest);
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
}

/// [`push_escaped`] followed by [`push_csv_escaped`], without the
/// intermediate string.
fn push_escaped_csv_bytes(out: &mut String, bytes: &[u8]) {
    let end = memchr_nul(bytes);
    let bytes = bytes.get(..end).unwrap_or(bytes);
    for chunk in bytes.utf8_chunks() {
        push_csv_escaped(out, chunk.valid());
        if !chunk.invalid().is_empty() {
            out.push('\u{FFFD}');
        }
    }
}

fn hex_base(base: Base) -> bool {
    matches!(base, Base::Hex | Base::HexDec)
}

fn write_unsigned(out: &mut String, def: &FieldDef, v: u64) {
    if hex_base(def.base) {
        push_hex_padded(out, v, (def.ftype.bits() / 4) as usize);
    } else if def.ftype == FieldType::Char {
        write_char(out, v);
    } else {
        push_decimal(out, v);
    }
}

/// Decimal digits of `v`, without going through `core::fmt` (the fields
/// printer's and the text view's hottest path).
pub fn push_decimal(out: &mut String, v: u64) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// Appends ASCII bytes built by the formatters below (never anything else).
fn push_ascii(out: &mut String, bytes: &[u8]) {
    out.push_str(std::str::from_utf8(bytes).unwrap_or_default());
}

/// Dotted quad, built on the stack and appended in one step.
pub fn write_ipv4(out: &mut String, a: &[u8; 4]) {
    let (buf, n) = ipv4_text(a);
    push_ascii(out, buf.get(..n).unwrap_or_default());
}

/// Decimal text of every byte value: up to three digits, then the count.
/// (Built at compile time: an index out of range would fail the build,
/// never a run.)
#[allow(clippy::indexing_slicing)]
const BYTE_DEC: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut v = 0usize;
    while v < 256 {
        let (h, d, u) = ((v / 100) as u8, ((v / 10) % 10) as u8, (v % 10) as u8);
        t[v] = if v >= 100 {
            [b'0' + h, b'0' + d, b'0' + u, 3]
        } else if v >= 10 {
            [b'0' + d, b'0' + u, 0, 2]
        } else {
            [b'0' + u, 0, 0, 1]
        };
        v += 1;
    }
    t
};

/// The dotted quad of `a` and its length.
fn ipv4_text(a: &[u8; 4]) -> ([u8; 16], usize) {
    let mut buf = [0u8; 16];
    let n = ipv4_into(&mut buf, a);
    (buf, n)
}

/// Writes the dotted quad of `a` at the start of `buf` (16 bytes or more
/// for the whole of it); returns its length.
fn ipv4_into(buf: &mut [u8], a: &[u8; 4]) -> usize {
    let mut n = 0usize;
    for (i, &b) in a.iter().enumerate() {
        if i > 0 {
            if let Some(c) = buf.get_mut(n) {
                *c = b'.';
            }
            n += 1;
        }
        let [x, y, z, len] = BYTE_DEC
            .get(usize::from(b))
            .copied()
            .unwrap_or([b'0', 0, 0, 1]);
        // Three bytes whatever the length (a fixed-size copy); the next
        // dot or octet overwrites the padding.
        if let Some(dst) = buf.get_mut(n..n + 3) {
            dst.copy_from_slice(&[x, y, z]);
        }
        n += usize::from(len);
    }
    n
}

/// `0x` and the lowercase hex digits of `v`, zero-padded to `width`.
fn push_hex_padded(out: &mut String, v: u64, width: usize) {
    let (buf, start) = hex_padded_text(v, width);
    push_ascii(out, buf.get(start..).unwrap_or_default());
}

/// `0x` and the hex digits of `v` padded to `width`, at the end of the
/// buffer from the returned offset on.
fn hex_padded_text(v: u64, width: usize) -> ([u8; 18], usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [b'0'; 18];
    let mut at = buf.len();
    let mut rest = v;
    loop {
        at -= 1;
        if let Some(d) = buf.get_mut(at) {
            *d = HEX.get((rest & 0xf) as usize).copied().unwrap_or(b'0');
        }
        rest >>= 4;
        if rest == 0 || at <= 2 {
            break;
        }
    }
    // Pad to the width (the buffer's zeros), then the prefix.
    let start = at.min(buf.len().saturating_sub(width)).max(2) - 2;
    if let Some(p) = buf.get_mut(start..start + 2) {
        p.copy_from_slice(b"0x");
    }
    (buf, start)
}

fn write_signed(out: &mut String, def: &FieldDef, v: i64) {
    if hex_base(def.base) {
        let bits = def.ftype.bits();
        let digits = (bits / 4) as usize;
        let masked = if bits >= 64 {
            v as u64
        } else {
            (v as u64) & ((1u64 << bits) - 1)
        };
        let _ = write!(out, "0x{masked:0digits$x}");
    } else {
        let _ = write!(out, "{v}");
    }
}

/// FT_CHAR prints as a C character literal body.
fn write_char(out: &mut String, v: u64) {
    let b = (v & 0xff) as u8;
    push_char_escaped(out, b);
}

/// `%.15g`, as glib's `g_ascii_formatd` with DBL_DIG.
pub fn write_double(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("nan");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "inf" } else { "-inf" });
        return;
    }
    if v == 0.0 {
        out.push('0');
        return;
    }
    let exp = v.abs().log10().floor() as i32;
    if !(-5..15).contains(&exp) {
        let s = format!("{v:.14e}");
        // Rust prints `1.50000000000000e5`; %g trims zeros and pads the exponent.
        if let Some((mant, e)) = s.split_once('e') {
            let mant = trim_fraction(mant);
            let e: i32 = e.parse().unwrap_or(0);
            let sign = if e < 0 { '-' } else { '+' };
            let _ = write!(out, "{mant}e{sign}{:02}", e.abs());
        }
    } else {
        let decimals = (14 - exp).max(0) as usize;
        let s = format!("{v:.decimals$}");
        out.push_str(trim_fraction(&s));
    }
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Relative times: seconds with nine decimals, signed.
pub fn write_rel_time(out: &mut String, nanos: i64) {
    let sign = if nanos < 0 { "-" } else { "" };
    let a = nanos.unsigned_abs();
    let _ = write!(out, "{sign}{}.{:09}", a / 1_000_000_000, a % 1_000_000_000);
}

/// Seconds and a signed fraction as Wireshark's `display_signed_time` shows
/// them: a negative fraction prints as its magnitude behind a minus sign.
pub fn write_signed_time(out: &mut String, secs: i64, nanos: i32) {
    if nanos < 0 && secs >= 0 {
        out.push('-');
    }
    let _ = write!(out, "{secs}.{:09}", nanos.unsigned_abs());
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The local time zone, read once from TZ or /etc/localtime.
fn local_zone() -> Option<&'static tz::TimeZone> {
    static ZONE: OnceLock<Option<tz::TimeZone>> = OnceLock::new();
    ZONE.get_or_init(|| tz::TimeZone::local().ok()).as_ref()
}

/// Offset from UTC in seconds and the zone's abbreviation at `secs`.
fn local_offset(secs: i64) -> (i64, String) {
    if let Some(zone) = local_zone() {
        if let Ok(t) = zone.find_local_time_type(secs) {
            return (
                i64::from(t.ut_offset()),
                t.time_zone_designation().to_string(),
            );
        }
    }
    (0, "UTC".to_string())
}

/// `Mar 16, 2012 14:47:09.830000000 UTC` and friends.
pub fn write_abs_time(out: &mut String, base: Base, ts: Timestamp) {
    match base {
        Base::TimeUnix => write_signed_time(out, ts.secs, ts.nanos),
        Base::TimeUtc => write_calendar(out, ts, 0, "UTC"),
        _ => {
            let (off, abbr) = local_offset(ts.secs);
            write_calendar(out, ts, off, &abbr);
        }
    }
}

fn write_calendar(out: &mut String, ts: Timestamp, offset: i64, zone: &str) {
    let secs = ts.secs.saturating_add(offset);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mon = MONTHS.get((m as usize).saturating_sub(1)).unwrap_or(&"Jan");
    let _ = write!(
        out,
        "{mon} {d:2}, {y} {:02}:{:02}:{:02}.{:09} {zone}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        ts.nanos
    );
}

/// Year, month, day of a UTC timestamp (for `-T ek` index names).
pub fn utc_date(ts: Timestamp) -> (i64, u32, u32) {
    civil_from_days(ts.secs.div_euclid(86_400))
}

pub fn write_ether(out: &mut String, m: &[u8; 6]) {
    push_ascii(out, &ether_text(m));
}

fn ether_text(m: &[u8; 6]) -> [u8; 17] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [b':'; 17];
    for (i, b) in m.iter().enumerate() {
        let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
        let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
        if let Some(pair) = buf.get_mut(i * 3..i * 3 + 2) {
            pair.copy_from_slice(&[hi, lo]);
        }
    }
    buf
}

/// RFC 5952 text, with the embedded-IPv4 forms that Wireshark's inet_ntop
/// prints. Written by hand: through `core::fmt` it was the costliest
/// column of IPv6 traffic.
pub fn write_ipv6(out: &mut String, a: &[u8; 16]) {
    let seg = Ipv6Addr::from(*a).segments();
    if let Some(prefix) = ipv4_form(&seg) {
        out.push_str(prefix);
        write_ipv4(out, &[a[12], a[13], a[14], a[15]]);
        return;
    }
    // The longest run of two or more zero groups (the first of equals)
    // becomes `::`.
    let (mut best, mut best_len, mut run, mut run_len) = (0usize, 0usize, 0usize, 0usize);
    for (i, &g) in seg.iter().enumerate() {
        if g == 0 {
            if run_len == 0 {
                run = i;
            }
            run_len += 1;
            if run_len > best_len {
                (best, best_len) = (run, run_len);
            }
        } else {
            run_len = 0;
        }
    }
    let mut i = 0;
    while let Some(&g) = seg.get(i) {
        if best_len >= 2 && i == best {
            out.push_str("::");
            i += best_len;
            continue;
        }
        if i > 0 && !(best_len >= 2 && i == best + best_len) {
            out.push(':');
        }
        push_hex_group(out, g);
        i += 1;
    }
}

/// What precedes the dotted quad when an address prints with one: only
/// when the embedded address has a non-zero upper half (tshark prints
/// `::10.0.0.1` and `::0.1.0.2` but `::2` and `::ffff`), and for IPv4-mapped
/// addresses (`::ffff:10.0.0.1`).
fn ipv4_form(seg: &[u16; 8]) -> Option<&'static str> {
    if seg[..5].iter().any(|&s| s != 0) {
        return None;
    }
    match (seg[5], seg[6]) {
        (0xffff, _) => Some("::ffff:"),
        (0, high) if high != 0 => Some("::"),
        _ => None,
    }
}

/// A 16-bit group in lowercase hex without leading zeros.
fn push_hex_group(out: &mut String, g: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = if g == 0 {
        1
    } else {
        4 - (g.leading_zeros() / 4) as usize
    };
    for k in (0..digits).rev() {
        let nibble = usize::from((g >> (4 * k)) & 0xf);
        out.push(char::from(HEX.get(nibble).copied().unwrap_or(b'0')));
    }
}

pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    let mut buf = [0u8; 64];
    for chunk in bytes.chunks(buf.len() / 2) {
        for (pair, &b) in buf.chunks_exact_mut(2).zip(chunk) {
            let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
            pair.copy_from_slice(&[hi, lo]);
        }
        push_ascii(out, buf.get(..chunk.len() * 2).unwrap_or_default());
    }
}

/// A string's display form, as tshark 4.0's `string_to_repr(FTREPR_DISPLAY)`
/// gives it: the bytes as they are (no escaping at this stage; `-T fields`
/// escapes its cells with [`push_csv_escaped`]). Wireshark's string values
/// are C strings, so the value ends at the first NUL; invalid UTF-8 becomes
/// U+FFFD, as Wireshark's string decoding does.
pub fn push_escaped(out: &mut String, bytes: &[u8]) {
    let end = memchr_nul(bytes);
    let bytes = bytes.get(..end).unwrap_or(bytes);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            out.push('\u{FFFD}');
        }
    }
}

fn memchr_nul(bytes: &[u8]) -> usize {
    bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len())
}

/// `print_escaped_csv` of tshark's `-T fields` output: only backspace, form
/// feed, newline, carriage return and tab become C escapes; every other
/// byte (backslash, other controls, DEL) is written as it is.
pub fn push_csv_escaped(out: &mut String, s: &str) {
    // Runs without a control character are copied whole; the escaped
    // characters are ASCII, so splitting at them keeps UTF-8 intact.
    let mut rest = s;
    while let Some(at) = rest
        .bytes()
        .position(|b| matches!(b, 0x08..=0x0a | 0x0c | 0x0d))
    {
        let (run, tail) = rest.split_at(at);
        out.push_str(run);
        let mut chars = tail.chars();
        out.push_str(match chars.next() {
            Some('\x08') => "\\b",
            Some('\x0c') => "\\f",
            Some('\n') => "\\n",
            Some('\r') => "\\r",
            _ => "\\t",
        });
        rest = chars.as_str();
    }
    out.push_str(rest);
}

/// FT_CHAR: a C character literal body (`char_to_repr`).
fn push_char_escaped(out: &mut String, b: u8) {
    match b {
        0 => out.push_str("\\0"),
        0x07 => out.push_str("\\a"),
        0x08 => out.push_str("\\b"),
        0x0c => out.push_str("\\f"),
        b'\n' => out.push_str("\\n"),
        b'\r' => out.push_str("\\r"),
        b'\t' => out.push_str("\\t"),
        0x0b => out.push_str("\\v"),
        b'\\' => out.push_str("\\\\"),
        c if !(0x20..0x7f).contains(&c) => {
            let _ = write!(out, "\\x{c:02x}");
        }
        c => out.push(char::from(c)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimal_and_ether_match_core_fmt() {
        for v in [0u64, 7, 10, 99, 100, 65_535, 4_294_967_295, u64::MAX] {
            let mut s = String::new();
            super::push_decimal(&mut s, v);
            assert_eq!(s, v.to_string());
        }
        let mut s = String::new();
        super::write_ether(&mut s, &[0, 0x1a, 0xff, 0x0b, 0xc0, 0x09]);
        assert_eq!(s, "00:1a:ff:0b:c0:09");
    }

    use super::*;

    #[test]
    fn ipv6_text_is_rfc5952_as_std_and_inet_ntop_write_it() {
        // A pseudo-random walk over addresses with zero groups in every
        // place, against std's text (the IPv4 forms checked apart).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for n in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut seg = [0u16; 8];
            for (k, g) in seg.iter_mut().enumerate() {
                let r = (x >> (k * 8)) as u16;
                *g = match (n + k as u32) % 3 {
                    0 => 0,
                    1 => r & 0x00ff,
                    _ => r,
                };
            }
            let addr = Ipv6Addr::from(seg);
            let mut got = String::new();
            write_ipv6(&mut got, &addr.octets());
            if ipv4_form(&seg).is_some() {
                continue;
            }
            assert_eq!(got, addr.to_string(), "{seg:x?}");
        }
        for (text, want) in [
            ("::", "::"),
            ("::1", "::1"),
            ("::ffff", "::ffff"),
            ("::a00:1", "::10.0.0.1"),
            ("::ffff:a00:1", "::ffff:10.0.0.1"),
            ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
            ("1:0:0:1:1:0:0:1", "1::1:1:0:0:1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ] {
            let a: Ipv6Addr = text.parse().expect("address");
            let mut got = String::new();
            write_ipv6(&mut got, &a.octets());
            assert_eq!(got, want);
        }
    }
    use crate::fields::FieldDef;

    #[test]
    fn decimals_written_from_the_left_match_core_fmt() {
        let mut vals = vec![
            0u64,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            u64::MAX,
            u64::MAX / 10,
        ];
        vals.extend((0..20).map(|p| 10u64.pow(p)));
        vals.extend((1..20).map(|p| 10u64.pow(p) - 1));
        for v in vals {
            let (buf, n) = decimal_left(v);
            assert_eq!(buf.get(..n), Some(v.to_string().as_bytes()), "{v}");
        }
    }

    #[test]
    fn hand_made_formatters_match_core_fmt() {
        for v in [0u64, 1, 0x18, 0xabc, 0xffff, 0x1_0000, u64::MAX] {
            for width in [2usize, 4, 6, 8, 16] {
                let mut s = String::new();
                push_hex_padded(&mut s, v, width);
                assert_eq!(s, format!("0x{v:0width$x}"));
            }
        }
        for a in [
            [0u8, 0, 0, 0],
            [10, 0, 0, 1],
            [192, 168, 100, 255],
            [1, 20, 109, 99],
        ] {
            let mut s = String::new();
            write_ipv4(&mut s, &a);
            assert_eq!(s, std::net::Ipv4Addr::from(a).to_string());
        }
        let mut s = String::new();
        let long: Vec<u8> = (0..=255u8).collect();
        push_hex(&mut s, &long);
        let want: String = long.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(s, want);
    }

    #[test]
    fn byte_cells_match_string_cells() {
        let mut t = FieldTable::new();
        let span = t.store(b"a\tb\r\n\x08\x0c\xffc\x00d");
        let cases = [
            (
                FieldDef::new("x.s", "S", FieldType::String, Base::None),
                Value::Str(span),
            ),
            (
                FieldDef::new("x.u", "U", FieldType::U32, Base::Dec),
                Value::U(4_294_967_295),
            ),
            (
                FieldDef::new("x.h", "H", FieldType::U16, Base::Hex),
                Value::U(0x18),
            ),
            (
                FieldDef::new("x.c", "C", FieldType::Char, Base::None),
                Value::U(9),
            ),
            (
                FieldDef::new("x.e", "E", FieldType::Ether, Base::None),
                Value::Ether([0, 1, 0xab, 2, 3, 0xff]),
            ),
            (
                FieldDef::new("x.i", "I", FieldType::Ipv4, Base::None),
                Value::Ipv4([10, 0, 200, 1]),
            ),
            (
                FieldDef::new("x.b", "B", FieldType::Bool, Base::None),
                Value::Bool(true),
            ),
            (
                FieldDef::new("x.t", "T", FieldType::RelTime, Base::None),
                Value::RelTime(-5),
            ),
        ];
        for (def, v) in cases {
            let mut want = String::new();
            write_cell_value(&mut want, &def, &v, &t);
            let mut got = Vec::new();
            write_cell_bytes(&mut got, &mut String::new(), &def, &v, &t);
            assert_eq!(
                String::from_utf8(got).expect("utf8"),
                want,
                "{}",
                def.abbrev
            );
        }
    }

    #[test]
    fn cells_escape_strings_and_labels_in_one_step() {
        let mut t = FieldTable::new();
        let def = FieldDef::new("x.s", "S", FieldType::String, Base::None);
        let span = t.store(b"a\tb\r\n\xffc\x00d");
        let mut s = String::new();
        write_cell_value(&mut s, &def, &Value::Str(span), &t);
        assert_eq!(s, "a\\tb\\r\\n\u{FFFD}c");
    }

    fn show(def: FieldDef, v: Value) -> String {
        let t = FieldTable::new();
        let mut s = String::new();
        write_value(&mut s, &def, &v, &t);
        s
    }

    #[test]
    fn hex_width_follows_the_type() {
        let d = FieldDef::new("tcp.flags", "Flags", FieldType::U16, Base::Hex).mask(0xfff);
        assert_eq!(show(d, Value::U(0x18)), "0x0018");
        let d = FieldDef::new("ip.flags", "Flags", FieldType::U8, Base::Hex);
        assert_eq!(show(d, Value::U(2)), "0x02");
        let d = FieldDef::new("x", "X", FieldType::U24, Base::HexDec);
        assert_eq!(show(d, Value::U(0xabc)), "0x000abc");
        let d = FieldDef::new("x", "X", FieldType::U32, Base::DecHex);
        assert_eq!(show(d, Value::U(10)), "10");
    }

    #[test]
    fn times_print_like_tshark() {
        let mut s = String::new();
        write_abs_time(
            &mut s,
            Base::TimeUtc,
            Timestamp::new(1331909229, 830_000_000),
        );
        assert_eq!(s, "Mar 16, 2012 14:47:09.830000000 UTC");
        s.clear();
        write_abs_time(&mut s, Base::TimeUtc, Timestamp::new(1554336000, 5));
        assert_eq!(s, "Apr  4, 2019 00:00:00.000000005 UTC");
        s.clear();
        write_abs_time(
            &mut s,
            Base::TimeUnix,
            Timestamp::new(1331909229, 830_000_000),
        );
        assert_eq!(s, "1331909229.830000000");
        s.clear();
        write_rel_time(&mut s, -1_500_000_000);
        assert_eq!(s, "-1.500000000");
    }

    #[test]
    fn strings_keep_bytes_end_at_nul_and_replace_invalid_utf8() {
        let mut s = String::new();
        push_escaped(&mut s, b"GET / HTTP/1.1\r\n\x01a\\\x7f\xff\x00tail");
        assert_eq!(s, "GET / HTTP/1.1\r\n\x01a\\\x7f\u{FFFD}");
    }

    #[test]
    fn fields_cells_escape_only_five_controls() {
        // tshark 4.0.17 prints a\x07b\x0bc\\d\x1be\x7ff\tk as below.
        let mut s = String::new();
        push_csv_escaped(&mut s, "a\x07b\x0bc\\d\x1be\x7ff\tk\r\n\x08\x0c");
        assert_eq!(s, "a\x07b\x0bc\\d\x1be\x7ff\\tk\\r\\n\\b\\f");
    }

    #[test]
    fn addresses() {
        let mut s = String::new();
        write_ipv6(
            &mut s,
            &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        );
        assert_eq!(s, "2001:db8::1");
        // As tshark 4.0.17 prints them.
        for (addr, text) in [
            ("::2", "::2"),
            ("::ffff", "::ffff"),
            ("::a00:1", "::10.0.0.1"),
            ("::1:2", "::0.1.0.2"),
            ("::ffff:a00:1", "::ffff:10.0.0.1"),
        ] {
            s.clear();
            let a: std::net::Ipv6Addr = addr.parse().unwrap();
            write_ipv6(&mut s, &a.octets());
            assert_eq!(s, text);
        }
        s.clear();
        write_ether(&mut s, &[0, 0x0c, 0x29, 0x93, 0x57, 0x1e]);
        assert_eq!(s, "00:0c:29:93:57:1e");
    }

    #[test]
    fn doubles_use_fifteen_significant_digits() {
        let mut s = String::new();
        write_double(&mut s, 0.25);
        assert_eq!(s, "0.25");
        s.clear();
        write_double(&mut s, 1234.5);
        assert_eq!(s, "1234.5");
    }
}
