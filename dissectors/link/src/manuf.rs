//! Ethernet address names, as tshark shows them by default (`3Com_03:04:05`,
//! `Broadcast`, `IPv6mcast_01:00:02`).
//!
//! The names come from Wireshark's `manuf` (vendor prefixes) and `wka`
//! (well-known addresses and ranges) files, read at run time from the
//! Wireshark installation when it is present; dorsal ships no copy of them.
//! Without them every address prints plainly (`00:50:04:03:04:05`).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::Path;
use std::rc::Rc;
use std::sync::OnceLock;

use dorsal_engine::hash::HashMap;

/// Where Wireshark installs its data files.
pub const DEFAULT_DIR: &str = "/usr/share/wireshark";

/// Names remembered per thread by [`resolved`]; past the cap the cache
/// starts over, so hostile traffic with ever new addresses stays bounded.
const CACHE_CAP: usize = 1 << 16;

/// The tables, loaded once per process on first use (a run draws once; a
/// fuzzer or a library user draws many times).
pub fn names() -> &'static Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    NAMES.get_or_init(Names::load)
}

/// The name tshark shows for `addr` (see [`Names::resolve`]), from tables
/// loaded once and a per-thread cache: a capture repeats few addresses.
pub fn resolved(addr: &[u8; 6]) -> Rc<str> {
    thread_local! {
        static CACHE: RefCell<HashMap<[u8; 6], Rc<str>>> = RefCell::new(HashMap::default());
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(n) = c.get(addr) {
            return n.clone();
        }
        if c.len() >= CACHE_CAP {
            c.clear();
        }
        let n: Rc<str> = names().resolve(addr).into();
        c.insert(*addr, n.clone());
        n
    })
}

/// Upper bound on the bytes read from each data file.
const FILE_CAP: u64 = 64 << 20;

/// Name tables loaded from `manuf` and `wka`: about 50,000 names, kept in
/// one string (a `String` each made loading cost 20 ms, a run's worth).
#[derive(Default)]
pub struct Names {
    /// Every name, one after another.
    arena: String,
    /// Exact addresses (`ff:ff:ff:ff:ff:ff Broadcast`).
    exact: HashMap<[u8; 6], Span>,
    /// Vendor prefixes, keyed by the first three bytes.
    vendors: HashMap<u32, Span>,
    /// Ranges, keyed by the address with the bits past the mask cleared.
    ranges: HashMap<[u8; 6], Span>,
}

/// Where a name sits in [`Names::arena`].
#[derive(Clone, Copy)]
struct Span {
    at: u32,
    len: u32,
}

impl Names {
    /// Loads `manuf` then `wka` from Wireshark's data directory
    /// (`$DORSAL_WIRESHARK_DIR` overrides it); missing files leave the tables empty.
    pub fn load() -> Names {
        let dir = std::env::var_os("DORSAL_WIRESHARK_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| DEFAULT_DIR.into());
        let mut names = Names::default();
        for file in ["manuf", "wka"] {
            if let Some(text) = read_capped(&dir.join(file)) {
                names.add_text(&text);
            }
        }
        names
    }

    /// Adds the entries of one file in the `manuf`/`wka` format: an address
    /// (three bytes: a vendor; six: one address; `/bits`: a range), blanks,
    /// a short name, optionally a long name; `#` starts a comment.
    pub fn add_text(&mut self, text: &str) {
        // About 45 bytes a line in `manuf`, most of them vendors.
        self.vendors.reserve(text.len() / 64);
        self.arena.reserve(text.len() / 4);
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let Some((bytes, mask, name)) = vendor_line(line).or_else(|| any_line(line)) else {
                continue;
            };
            let Some(span) = self.intern(name) else {
                return;
            };
            match mask {
                Mask::Vendor => {
                    let [a, b, c, ..] = bytes;
                    self.vendors.insert(vendor_key(a, b, c), span);
                }
                Mask::Exact => {
                    self.exact.insert(bytes, span);
                }
                Mask::Bits(bits) => {
                    self.ranges.insert(masked(&bytes, bits), span);
                }
            }
        }
    }

    /// Keeps `name` in the arena; `None` once the arena is past 4 GiB.
    fn intern(&mut self, name: &str) -> Option<Span> {
        let at = u32::try_from(self.arena.len()).ok()?;
        let len = u32::try_from(name.len()).ok()?;
        self.arena.push_str(name);
        Some(Span { at, len })
    }

    fn name(&self, span: Option<&Span>) -> Option<&str> {
        let s = span?;
        let at = s.at as usize;
        self.arena.get(at..at.checked_add(s.len as usize)?)
    }

    fn range(&self, addr: &[u8; 6], bits: u32) -> Option<&str> {
        self.name(self.ranges.get(&masked(addr, bits)))
    }

    fn vendor(&self, addr: &[u8; 6]) -> Option<&str> {
        let [a, b, c, ..] = *addr;
        let key = vendor_key(a, b, c);
        if let Some(n) = self.name(self.vendors.get(&key)) {
            return Some(n);
        }
        // Multicast addresses fall back to the vendor of the unicast prefix.
        if key & 0x01_0000 != 0 {
            return self.name(self.vendors.get(&(key & 0xfe_ffff)));
        }
        None
    }

    /// The name tshark shows for `addr`: an exact name, else a range or
    /// vendor name followed by the bytes it does not cover, else the
    /// plain address.
    pub fn resolve(&self, addr: &[u8; 6]) -> String {
        if let Some(n) = self.name(self.exact.get(addr)) {
            return n.to_string();
        }
        // Ranges narrower than a vendor prefix, then the vendor, then wider ones.
        for whole in [5usize, 4, 3] {
            for extra in (0..=7u32).rev() {
                let bits = whole as u32 * 8 + extra;
                if let Some(name) = self.range(addr, bits) {
                    return suffixed(name, addr, whole, extra);
                }
            }
        }
        if let Some(name) = self.vendor(addr) {
            return suffixed(name, addr, 3, 0);
        }
        for whole in [2usize, 1] {
            for extra in (0..=7u32).rev() {
                let bits = whole as u32 * 8 + extra;
                if let Some(name) = self.range(addr, bits) {
                    return suffixed(name, addr, whole, extra);
                }
            }
        }
        for extra in (1..=7u32).rev() {
            if let Some(name) = self.range(addr, extra) {
                return suffixed(name, addr, 0, extra);
            }
        }
        plain(addr)
    }
}

fn read_capped(path: &Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    f.take(FILE_CAP).read_to_end(&mut buf).ok()?;
    // Valid UTF-8 (as the files are) is kept without a copy.
    Some(
        String::from_utf8(buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// An entry of a `manuf`/`wka` line: the address, its mask and the short name.
type Line<'a> = ([u8; 6], Mask, &'a str);

/// The common line of `manuf`, `00:00:0C<TAB>Cisco<TAB>...`, read without
/// the general parse of [`any_line`] (a fifth of the load time); `None`
/// for any other line.
fn vendor_line(line: &str) -> Option<Line<'_>> {
    let b = line.as_bytes();
    if b.get(2) != Some(&b':') || b.get(5) != Some(&b':') || b.get(8) != Some(&b'\t') {
        return None;
    }
    let hex = |i: usize| -> Option<u8> {
        let hi = char::from(*b.get(i)?).to_digit(16)?;
        let lo = char::from(*b.get(i + 1)?).to_digit(16)?;
        u8::try_from(hi * 16 + lo).ok()
    };
    let bytes = [hex(0)?, hex(3)?, hex(6)?, 0, 0, 0];
    let rest = line.get(9..)?;
    let end = rest.find(['\t', ' ', '#']).unwrap_or(rest.len());
    let name = rest.get(..end).filter(|n| !n.is_empty())?;
    Some((bytes, Mask::Vendor, name))
}

/// Any line: an address, blanks, a short name; `#` starts a comment.
fn any_line(line: &str) -> Option<Line<'_>> {
    let line = line.split('#').next().unwrap_or("").trim();
    let mut tokens = line.split([' ', '\t']).filter(|s| !s.is_empty());
    let (addr, name) = (tokens.next()?, tokens.next()?);
    let (bytes, mask) = parse_address(addr)?;
    Some((bytes, mask, name))
}

fn vendor_key(a: u8, b: u8, c: u8) -> u32 {
    (u32::from(a) << 16) | (u32::from(b) << 8) | u32::from(c)
}

/// `name_` then the bytes from `whole` on, the first of them masked to the
/// bits the range leaves free (`0xff >> extra`).
fn suffixed(name: &str, addr: &[u8; 6], whole: usize, extra: u32) -> String {
    let mut s = String::with_capacity(name.len() + 18);
    s.push_str(name);
    s.push('_');
    for (i, b) in addr.iter().enumerate().skip(whole) {
        let b = if i == whole {
            b & (0xffu8.checked_shr(extra).unwrap_or(0))
        } else {
            *b
        };
        if i > whole {
            s.push(':');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub fn plain(addr: &[u8; 6]) -> String {
    let mut s = String::with_capacity(17);
    for (i, b) in addr.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `addr` with the bits past the first `bits` cleared.
fn masked(addr: &[u8; 6], bits: u32) -> [u8; 6] {
    let mut out = [0u8; 6];
    for (i, (o, a)) in out.iter_mut().zip(addr).enumerate() {
        let start = i as u32 * 8;
        if bits >= start + 8 {
            *o = *a;
        } else if bits > start {
            *o = a & (0xffu8 << (8 - (bits - start)));
        }
    }
    out
}

enum Mask {
    Vendor,
    Exact,
    Bits(u32),
}

/// `00:50:04`, `ff-ff-ff-ff-ff-ff`, `01.80.C2.00.00.30/44`.
fn parse_address(s: &str) -> Option<([u8; 6], Mask)> {
    let mut bytes = [0u8; 6];
    let mut sep: Option<char> = None;
    let mut rest = s;
    for i in 0..6 {
        let digits = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        if digits == 0 {
            return None;
        }
        let (num, tail) = rest.split_at(digits);
        let v = u32::from_str_radix(num.trim_start_matches('0'), 16).unwrap_or(0);
        if num.len() > 8 || v > 0xff {
            return None;
        }
        if let Some(b) = bytes.get_mut(i) {
            *b = v as u8;
        }
        rest = tail;
        let mut chars = rest.chars();
        match chars.next() {
            Some('/') => {
                let bits: u32 = chars.as_str().parse().ok()?;
                if bits == 0 || bits >= 48 {
                    return None;
                }
                return Some((masked(&bytes, bits), Mask::Bits(bits)));
            }
            None => {
                return match i {
                    2 => Some((bytes, Mask::Vendor)),
                    5 => Some((bytes, Mask::Exact)),
                    _ => None,
                }
            }
            Some(c @ (':' | '-' | '.')) => {
                if sep.is_some_and(|s| s != c) {
                    return None;
                }
                sep = Some(c);
                rest = chars.as_str();
            }
            Some(_) => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# comment
00:50:04\t3Com\t3Com
00:1B:C5:00:00:00/36\tConvergi\tConverging Systems Inc.
01-80-C2-00-00-30/45\tOAM-Multicast-DA-Class-1
33-33-00-00-00-00/16\tIPv6mcast
ff-ff-ff-ff-ff-ff\tBroadcast
01:00:5e:00:00:00/25\tIPv4mcast
";

    fn names() -> Names {
        let mut n = Names::default();
        n.add_text(SAMPLE);
        n
    }

    #[test]
    fn the_vendor_fast_path_reads_what_the_general_parse_reads() {
        let installed = read_capped(&Path::new(DEFAULT_DIR).join("manuf")).unwrap_or_default();
        let text = format!(
            "{SAMPLE}\n00:00:0c\tCisco # c\n00:00:0C\t\tTwoTabs\n0X:00:0C\tBad\n{installed}"
        );
        let mut fast = 0;
        for line in text.lines() {
            if let Some((bytes, Mask::Vendor, name)) = vendor_line(line) {
                fast += 1;
                match any_line(line) {
                    Some((b, Mask::Vendor, n)) => assert_eq!((b, n), (bytes, name), "{line}"),
                    _ => panic!("{line}"),
                }
            }
        }
        assert!(fast >= 1);
    }

    #[test]
    fn vendors_ranges_and_exact_names() {
        let n = names();
        assert_eq!(n.resolve(&[0, 0x50, 0x04, 3, 4, 5]), "3Com_03:04:05");
        assert_eq!(n.resolve(&[0xff; 6]), "Broadcast");
        // A /16 range also matches its 24-bit prefix when the third byte
        // is zero, as in tshark.
        assert_eq!(n.resolve(&[0x33, 0x33, 0, 1, 0, 2]), "IPv6mcast_01:00:02");
        assert_eq!(
            n.resolve(&[0x33, 0x33, 0xff, 0x76, 0x6c, 0x14]),
            "IPv6mcast_ff:76:6c:14"
        );
        assert_eq!(
            n.resolve(&[0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa]),
            "IPv4mcast_7f:ff:fa"
        );
        assert_eq!(n.resolve(&[0, 0x1b, 0xc5, 0, 0x0a, 0xbc]), "Convergi_0a:bc");
        assert_eq!(
            n.resolve(&[0x01, 0x80, 0xc2, 0, 0, 0x33]),
            "OAM-Multicast-DA-Class-1_03"
        );
        // The multicast bit falls back to the unicast vendor.
        assert_eq!(n.resolve(&[1, 0x50, 0x04, 9, 9, 9]), "3Com_09:09:09");
        assert_eq!(n.resolve(&[2, 0, 0, 0, 0, 1]), "02:00:00:00:00:01");
    }

    #[test]
    fn bad_lines_are_skipped() {
        let mut n = Names::default();
        n.add_text("zz:00:00 X\n00:00 Y\n00:11:22:33 Z\n00:11:22/0 W\n00:11:22/48 V\n\n#\n");
        assert!(n.exact.is_empty() && n.vendors.is_empty() && n.ranges.is_empty());
    }
}
