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

/// The long name `manuf` gives the vendor prefix `oui` (SNAP's Info shows
/// it), or its short name when it has none.
pub fn vendor_long_name(oui: u32) -> Option<&'static str> {
    names().long_name(oui)
}

/// Upper bound on the bytes read from each data file.
const FILE_CAP: u64 = 64 << 20;

/// Name tables loaded from `manuf` and `wka`: about 50,000 names, kept
/// where the files' text has them (a `String` each made loading cost 20 ms,
/// a run's worth; hash maps filled line by line, half of the rest).
#[derive(Default)]
pub struct Names {
    /// The files' text, one after the other; names are spans of it.
    arena: String,
    /// Exact addresses (`ff:ff:ff:ff:ff:ff Broadcast`).
    exact: Table<[u8; 6]>,
    /// Vendor prefixes, keyed by the first three bytes.
    vendors: Table<u32>,
    /// Ranges, keyed by the address with the bits past the mask cleared.
    ranges: Table<[u8; 6]>,
}

/// Where a name sits in [`Names::arena`].
#[derive(Clone, Copy)]
struct Span {
    at: u32,
    len: u32,
}

/// Names by key, pushed in file order and sorted once: `manuf` is sorted
/// already, so building it costs one pass. A key given twice keeps its
/// last name, as a map filled line by line would.
struct Table<K> {
    entries: Vec<(K, Span)>,
    sorted: bool,
}

impl<K> Default for Table<K> {
    fn default() -> Self {
        Table {
            entries: Vec::new(),
            sorted: true,
        }
    }
}

impl<K: Ord + Copy> Table<K> {
    fn push(&mut self, key: K, span: Span) {
        if self.entries.last().is_some_and(|(last, _)| *last >= key) {
            self.sorted = false;
        }
        self.entries.push((key, span));
    }

    fn finish(&mut self) {
        if !self.sorted {
            // Stable, so that of equal keys the last pushed comes last.
            self.entries.sort_by_key(|e| e.0);
            self.entries.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    kept.1 = later.1;
                }
                same
            });
            self.sorted = true;
        }
    }

    fn get(&self, key: &K) -> Option<&Span> {
        let i = self.entries.binary_search_by_key(key, |e| e.0).ok()?;
        self.entries.get(i).map(|e| &e.1)
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
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
                names.add(text);
            }
        }
        names
    }

    /// Adds the entries of one file in the `manuf`/`wka` format: an address
    /// (three bytes: a vendor; six: one address; `/bits`: a range), blanks,
    /// a short name, optionally a long name; `#` starts a comment.
    fn add(&mut self, text: String) {
        let start = self.arena.len();
        if start == 0 {
            self.arena = text;
        } else {
            self.arena.push_str(&text);
        }
        let Some(text) = self.arena.get(start..) else {
            return;
        };
        // About 45 bytes a line in `manuf`, most of them vendors.
        self.vendors.entries.reserve(text.len() / 64);
        let base = self.arena.as_ptr() as usize;
        for line in lines(text) {
            if line.starts_with('#') {
                continue;
            }
            let Some((bytes, mask, name)) = common_line(line).or_else(|| any_line(line)) else {
                continue;
            };
            // `name` is a slice of the arena: its offset is where it starts.
            let at = (name.as_ptr() as usize).wrapping_sub(base);
            let (Ok(at), Ok(len)) = (u32::try_from(at), u32::try_from(name.len())) else {
                break;
            };
            let span = Span { at, len };
            match mask {
                Mask::Vendor => {
                    let [a, b, c, ..] = bytes;
                    self.vendors.push(vendor_key(a, b, c), span);
                }
                Mask::Exact => self.exact.push(bytes, span),
                Mask::Bits(bits) => self.ranges.push(masked(&bytes, bits), span),
            }
        }
        self.exact.finish();
        self.vendors.finish();
        self.ranges.finish();
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

    /// The long name (third column) of the vendor prefix `oui`, or its
    /// short name when its line has none.
    pub fn long_name(&self, oui: u32) -> Option<&str> {
        let s = self.vendors.get(&oui)?;
        let short = self.name(Some(s))?;
        let end = (s.at as usize).checked_add(s.len as usize)?;
        let rest = self.arena.get(end..)?;
        let line = rest.get(..memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len()))?;
        let long = line.trim_start_matches([' ', '\t']);
        let long =
            long.get(..memchr::memchr2(b'\t', b'#', long.as_bytes()).unwrap_or(long.len()))?;
        let long = long.trim_end();
        Some(if long.is_empty() { short } else { long })
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

/// The lines of `text` as `str::lines` cuts them, found with SIMD (std's
/// byte search was a fifth of the load time).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
    ends.filter_map(move |end| {
        let line = text.get(start..end)?;
        start = end.checked_add(1)?;
        Some(line.strip_suffix('\r').unwrap_or(line))
    })
}

/// An entry of a `manuf`/`wka` line: the address, its mask and the short name.
type Line<'a> = ([u8; 6], Mask, &'a str);

/// The two common lines of `manuf`, `00:00:0C<TAB>Cisco<TAB>...` and
/// `00:1B:C5:00:00:00/36<TAB>Convergi<TAB>...`, read without the general
/// parse of [`any_line`] (half of the load time); `None` for any other line.
fn common_line(line: &str) -> Option<Line<'_>> {
    let b = line.as_bytes();
    let hex = |i: usize| -> Option<u8> {
        let hi = char::from(*b.get(i)?).to_digit(16)?;
        let lo = char::from(*b.get(i + 1)?).to_digit(16)?;
        u8::try_from(hi * 16 + lo).ok()
    };
    let colon = |i: usize| b.get(i) == Some(&b':');
    if !colon(2) || !colon(5) {
        return None;
    }
    let vendor = [hex(0)?, hex(3)?, hex(6)?];
    let (bytes, mask, rest) = match b.get(8) {
        Some(b'\t') => {
            let [x, y, z] = vendor;
            ([x, y, z, 0, 0, 0], Mask::Vendor, 9)
        }
        Some(b':') if colon(11) && colon(14) && b.get(17) == Some(&b'/') => {
            let [x, y, z] = vendor;
            let bytes = [x, y, z, hex(9)?, hex(12)?, hex(15)?];
            let tab = memchr::memchr(b'\t', b.get(18..)?)?;
            let bits: u32 = line.get(18..18 + tab)?.parse().ok()?;
            if bits == 0 || bits >= 48 {
                return None;
            }
            (masked(&bytes, bits), Mask::Bits(bits), 19 + tab)
        }
        _ => return None,
    };
    let rest = line.get(rest..)?;
    let end = memchr::memchr3(b'\t', b' ', b'#', rest.as_bytes()).unwrap_or(rest.len());
    let name = rest.get(..end).filter(|n| !n.is_empty())?;
    Some((bytes, mask, name))
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
        n.add(SAMPLE.to_string());
        n
    }

    #[test]
    fn the_fast_path_reads_what_the_general_parse_reads() {
        let installed = read_capped(&Path::new(DEFAULT_DIR).join("manuf")).unwrap_or_default();
        let text = format!(
            "{SAMPLE}\n00:00:0c\tCisco # c\n00:00:0C\t\tTwoTabs\n0X:00:0C\tBad\n\
             00:1B:C5:00:00:00/+36\tPlus\n00:1B:C5:00:00:00/48\tWide\n00:1B:C5:00:0G:00/36\tG\n\
             00:1B:C5:00:00:00/ 36\tBlank\n00:1b:c5:10:20:30/28\tLower\t# Long\n{installed}"
        );
        let (mut vendors, mut ranges) = (0, 0);
        for line in lines(&text) {
            let Some(fast) = common_line(line) else {
                continue;
            };
            let general = any_line(line).expect(line);
            assert_eq!((fast.0, fast.2), (general.0, general.2), "{line}");
            match (fast.1, general.1) {
                (Mask::Vendor, Mask::Vendor) => vendors += 1,
                (Mask::Bits(a), Mask::Bits(b)) if a == b => ranges += 1,
                _ => panic!("{line}"),
            }
        }
        assert!(vendors >= 1 && ranges >= 1);
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
    fn long_names_stop_at_a_comment_and_fall_back_to_the_short_name() {
        let mut n = Names::default();
        n.add(
            "00:00:0C\tCisco\tCisco Systems, Inc\n00:80:C2\tIeee8021\tIEEE\t# 802.1\n\
               00:00:13\tCamex\n00:00:14\tNet # c\r\n"
                .into(),
        );
        assert_eq!(n.long_name(0x0c), Some("Cisco Systems, Inc"));
        assert_eq!(n.long_name(0x80c2), Some("IEEE"));
        assert_eq!(n.long_name(0x13), Some("Camex"));
        assert_eq!(n.long_name(0x14), Some("Net"));
        assert_eq!(n.long_name(0x15), None);
    }

    #[test]
    fn a_repeated_address_keeps_its_last_name_in_any_order() {
        let mut n = Names::default();
        n.add("00:50:05\tFive\n00:50:04\tFirst\n00:50:03\tThree\n00:50:04\tLast\n".into());
        n.add("00:50:04\tWka\n".into());
        assert_eq!(n.resolve(&[0, 0x50, 0x04, 1, 2, 3]), "Wka_01:02:03");
        assert_eq!(n.resolve(&[0, 0x50, 0x03, 1, 2, 3]), "Three_01:02:03");
        assert_eq!(n.vendors.entries.len(), 3);
    }

    #[test]
    fn bad_lines_are_skipped() {
        let mut n = Names::default();
        n.add("zz:00:00 X\n00:00 Y\n00:11:22:33 Z\n00:11:22/0 W\n00:11:22/48 V\n\n#\n".into());
        assert!(n.exact.is_empty() && n.vendors.is_empty() && n.ranges.is_empty());
    }
}
