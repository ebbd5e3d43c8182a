//! A pure parser over one DNS message: no fields, no state.
//!
//! The message is walked item by item ([`Reader`]): header, then questions and
//! resource records in wire order. Each item is returned as offsets into the
//! message, so nothing is copied or allocated; names are decoded on demand
//! with [`read_name`] into a caller's buffer. When the bytes run out the
//! reader returns what it decoded so far and then the error, as Wireshark
//! keeps the tree built before an exception.
//!
//! Name decoding follows Wireshark's `expand_dns_name`: at most
//! [`MAX_NAME`] bytes of text, at most [`MAX_NAME`] compression pointers, and
//! the same placeholder texts for loops, over-long names and unknown labels.

use nom::number::complete::{be_u16, be_u32};
use nom::IResult;

/// Longest name text kept, and most pointers followed in one name.
pub const MAX_NAME: usize = 255;
/// Most labels walked for one name once a pointer was followed. Text stops
/// growing at [`MAX_NAME`], but pointers can send the walk through long
/// label runs again and again; past this many steps the name is reported as
/// too long (which is what Wireshark prints for such a name unless it also
/// loops). A name without pointers needs no cap: each label consumes bytes,
/// and like Wireshark it ends where the message does.
const MAX_STEPS: usize = 4096;
/// Pointer targets remembered per name for skipping the laps of a loop.
const LAP_MARKS: usize = 16;
/// Wireshark's `MIN_DNAME_LEN`.
const MIN_NAME_WIRE: usize = 2;
/// Most questions and records decoded from one message (the counts are
/// 16-bit, but a record is at least 11 bytes, so a 64 KiB message holds
/// fewer than this anyway).
pub const MAX_ITEMS: u32 = 4 * 65536;

/// Why decoding stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The message ended inside an item (a short or cut capture).
    Truncated,
    /// A label type Wireshark rejects (`0x80`), or a name that is empty yet
    /// longer than a root name.
    Malformed,
}

/// The fixed 12-byte header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Header {
    pub id: u16,
    pub flags: u16,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

pub const HEADER_LEN: usize = 12;
pub const F_RESPONSE: u16 = 0x8000;
pub const F_OPCODE: u16 = 0x7800;
pub const F_AUTHORITATIVE: u16 = 0x0400;
pub const F_TRUNCATED: u16 = 0x0200;
pub const F_RECDESIRED: u16 = 0x0100;
pub const F_RECAVAIL: u16 = 0x0080;
pub const F_Z: u16 = 0x0040;
pub const F_AUTHENTIC: u16 = 0x0020;
pub const F_CHECKDISABLE: u16 = 0x0010;
pub const F_RCODE: u16 = 0x000f;

pub const OPCODE_UPDATE: u16 = 5;

impl Header {
    pub fn is_response(&self) -> bool {
        self.flags & F_RESPONSE != 0
    }
    pub fn opcode(&self) -> u16 {
        (self.flags & F_OPCODE) >> 11
    }
    pub fn rcode(&self) -> u16 {
        self.flags & F_RCODE
    }
}

fn header(i: &[u8]) -> IResult<&[u8], Header> {
    let (i, id) = be_u16(i)?;
    let (i, flags) = be_u16(i)?;
    let (i, qdcount) = be_u16(i)?;
    let (i, ancount) = be_u16(i)?;
    let (i, nscount) = be_u16(i)?;
    let (i, arcount) = be_u16(i)?;
    Ok((
        i,
        Header {
            id,
            flags,
            qdcount,
            ancount,
            nscount,
            arcount,
        },
    ))
}

/// Parses the header; `None` when the message is shorter than 12 bytes.
pub fn parse_header(msg: &[u8]) -> Option<Header> {
    header(msg).ok().map(|(_, h)| h)
}

/// The section an item belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Question,
    Answer,
    Authority,
    Additional,
}

/// A question: where its name is, how many bytes the name takes, type, class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Question {
    pub name_off: usize,
    pub name_wire: usize,
    pub qtype: u16,
    pub qclass: u16,
}

/// A resource record: its fixed part and where its data is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub section: Section,
    pub name_off: usize,
    pub name_wire: usize,
    pub rtype: u16,
    pub rclass: u16,
    pub ttl: u32,
    pub rdlen: u16,
    /// Offset of the record data in the message.
    pub rdata_off: usize,
}

impl Record {
    /// The record data, `None` when the message ends before it does.
    pub fn rdata<'a>(&self, msg: &'a [u8]) -> Option<&'a [u8]> {
        msg.get(self.rdata_off..self.rdata_off.checked_add(usize::from(self.rdlen))?)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Question(Question),
    Record(Record),
}

/// Walks the questions and records of a message in order.
pub struct Reader<'a> {
    msg: &'a [u8],
    off: usize,
    left: [u16; 4],
    done: bool,
    items: u32,
    scratch: Name,
    memo: NameMemo,
}

impl<'a> Reader<'a> {
    /// A reader over `msg` (the message without any TCP length prefix);
    /// `None` when the header does not fit.
    pub fn new(msg: &'a [u8]) -> Option<(Header, Self)> {
        let h = parse_header(msg)?;
        Some((
            h,
            Reader {
                msg,
                off: HEADER_LEN,
                left: [h.qdcount, h.ancount, h.nscount, h.arcount],
                done: false,
                items: 0,
                scratch: Name::default(),
                memo: NameMemo::default(),
            },
        ))
    }

    /// Offset of the first byte after the items read so far.
    pub fn offset(&self) -> usize {
        self.off
    }

    fn section(&mut self) -> Option<Section> {
        const S: [Section; 4] = [
            Section::Question,
            Section::Answer,
            Section::Authority,
            Section::Additional,
        ];
        for (n, s) in self.left.iter_mut().zip(S) {
            if *n > 0 {
                *n -= 1;
                return Some(s);
            }
        }
        None
    }

    fn item(&mut self, section: Section) -> Result<Item, Error> {
        let name_off = self.off;
        let name_wire = read_name_memo(self.msg, name_off, &mut self.scratch, &mut self.memo)?;
        let fixed_off = name_off.checked_add(name_wire).ok_or(Error::Truncated)?;
        let rest = self.msg.get(fixed_off..).ok_or(Error::Truncated)?;
        let short = |_| Error::Truncated;
        let (rest, rtype) = be_u16::<_, nom::error::Error<&[u8]>>(rest).map_err(short)?;
        let (rest, rclass) = be_u16::<_, nom::error::Error<&[u8]>>(rest).map_err(short)?;
        if section == Section::Question {
            self.off = fixed_off + 4;
            return Ok(Item::Question(Question {
                name_off,
                name_wire,
                qtype: rtype,
                qclass: rclass,
            }));
        }
        let (rest, ttl) = be_u32::<_, nom::error::Error<&[u8]>>(rest).map_err(short)?;
        let (_, rdlen) = be_u16::<_, nom::error::Error<&[u8]>>(rest).map_err(short)?;
        let rdata_off = fixed_off + 10;
        self.off = rdata_off + usize::from(rdlen);
        Ok(Item::Record(Record {
            section,
            name_off,
            name_wire,
            rtype,
            rclass,
            ttl,
            rdlen,
            rdata_off,
        }))
    }
}

impl Iterator for Reader<'_> {
    type Item = Result<Item, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.items >= MAX_ITEMS {
            return None;
        }
        let section = self.section()?;
        self.items += 1;
        let r = self.item(section);
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}

/// A decoded name: the raw text bytes (labels joined by dots, unescaped).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Name {
    pub text: Vec<u8>,
}

impl Name {
    pub fn as_bytes(&self) -> &[u8] {
        &self.text
    }
    /// Wireshark's `name_len`: the length of the text, or of the placeholder.
    pub fn len(&self) -> usize {
        self.text.len()
    }
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
    fn set(&mut self, s: &str) {
        self.text.clear();
        self.text.extend_from_slice(s.as_bytes());
    }
}

pub const ROOT: &str = "<Root>";
pub const LOOP: &str = "<Name contains a pointer that loops>";
pub const TOO_LONG: &str = "<Name too long>";
pub const UNKNOWN_EXT: &str = "<Unknown extended label>";

fn byte(msg: &[u8], off: usize) -> Result<u8, Error> {
    msg.get(off).copied().ok_or(Error::Truncated)
}

/// Decodes the name at `off` into `out` and returns how many bytes of the
/// message it takes in place (up to and including the first pointer).
/// An empty name becomes `<Root>`, as Wireshark's `get_dns_name` does.
pub fn read_name(msg: &[u8], off: usize, out: &mut Name) -> Result<usize, Error> {
    let wire = expand(msg, off, out).and_then(|w| w.len(off))?;
    finish(wire, out)
}

/// [`read_name`] for names of one message, remembering the names that
/// start with a pointer by its target: compressed names repeat the same
/// few targets, and a hostile message can hold thousands of names that
/// each walk to the step cap.
pub fn read_name_memo(
    msg: &[u8],
    off: usize,
    out: &mut Name,
    memo: &mut NameMemo,
) -> Result<usize, Error> {
    let target = match (msg.get(off), msg.get(off + 1)) {
        (Some(&hi), Some(&lo)) if hi & 0xc0 == 0xc0 => {
            (usize::from(hi & 0x3f) << 8) | usize::from(lo)
        }
        _ => return read_name(msg, off, out),
    };
    // The walk after a first pointer depends on the name's offset only
    // through this check of the first pointer.
    if target == off + 4 {
        return read_name(msg, off, out);
    }
    let walk = match memo.map.get(&target) {
        Some((text, walk)) => {
            out.text.clear();
            out.text.extend_from_slice(text);
            *walk
        }
        None => {
            let walk = expand(msg, off, out);
            if memo.map.len() < MEMO_CAP {
                memo.map.insert(target, (out.text.clone(), walk));
            }
            walk
        }
    };
    finish(walk.and_then(|w| w.len(off))?, out)
}

/// Names of one message decoded so far, by the target of their first
/// pointer; cleared for each message.
#[derive(Default)]
pub struct NameMemo {
    map: dorsal_engine::hash::HashMap<usize, (Vec<u8>, Result<Walk, Error>)>,
}

/// Names remembered per message at most.
const MEMO_CAP: usize = 4096;

impl NameMemo {
    pub fn clear(&mut self) {
        self.map.clear();
    }
}

/// Wireshark's checks of a decoded name's length.
fn finish(wire: usize, out: &mut Name) -> Result<usize, Error> {
    if out.is_empty() && wire <= MIN_NAME_WIRE {
        out.set(ROOT);
        return Ok(wire);
    }
    if wire < MIN_NAME_WIRE || (wire > MIN_NAME_WIRE && out.is_empty()) {
        return Err(Error::Malformed);
    }
    Ok(wire)
}

/// How a name's walk ended: the bytes it takes in place, or the offset of
/// an unknown extended label, whose length Wireshark counts from the
/// name's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Walk {
    Wire(usize),
    UnknownExt(usize),
}

impl Walk {
    fn len(self, start: usize) -> Result<usize, Error> {
        match self {
            Walk::Wire(n) => Ok(n),
            Walk::UnknownExt(at) => match at.saturating_sub(start) {
                0 => Err(Error::Malformed),
                n => Ok(n),
            },
        }
    }
}

fn expand(msg: &[u8], start: usize, out: &mut Name) -> Result<Walk, Error> {
    out.text.clear();
    let mut off = start;
    let mut wire: Option<usize> = None;
    let mut pointers = 0usize;
    // Room left, counted as Wireshark does (the first label costs one too).
    let mut room: usize = MAX_NAME;
    let mut first = true;
    // Pointer targets reached once nothing more can be written (room 0),
    // with the step and pointer count then: coming back to one is a lap of
    // a loop that changes nothing, so whole laps are skipped up to the
    // step and pointer caps, and a looping name costs a few laps instead
    // of `MAX_STEPS` steps (hostile messages repeat such names by the
    // hundred).
    let mut laps = [(0usize, 0usize, 0usize); LAP_MARKS];
    let mut marks = 0usize;
    let mut skipped = false;
    let mut step = 0usize;
    loop {
        if pointers > 0 && step >= MAX_STEPS {
            out.set(TOO_LONG);
            return Ok(Walk::Wire(
                wire.unwrap_or_else(|| off.saturating_sub(start)),
            ));
        }
        let c = byte(msg, off)?;
        off += 1;
        if c == 0 {
            break;
        }
        match c & 0xc0 {
            0x00 => {
                if !first {
                    if room > 0 {
                        out.text.push(b'.');
                        room -= 1;
                    }
                } else {
                    room = room.saturating_sub(1);
                }
                first = false;
                let n = usize::from(c);
                let label = msg.get(off..off + n).ok_or(Error::Truncated)?;
                let keep = n.min(room);
                out.text
                    .extend_from_slice(label.get(..keep).unwrap_or_default());
                room -= keep;
                off += n;
            }
            0x40 => {
                if c & 0x3f != 0x01 {
                    out.set(UNKNOWN_EXT);
                    return Ok(Walk::UnknownExt(off));
                }
                // Bitstring label (RFC 2673): `\[x<hex>/<bits>]`.
                let bits = byte(msg, off)?;
                off += 1;
                let n = if bits == 0 {
                    1
                } else {
                    usize::from(bits - 1) / 8 + 1
                };
                first = false;
                let mut put = |s: &[u8], room: &mut usize| {
                    if *room > 0 {
                        if s.len() <= *room {
                            out.text.extend_from_slice(s);
                            *room -= s.len();
                        } else {
                            *room = 0;
                        }
                    }
                };
                put(b"\\[x", &mut room);
                for _ in 0..n {
                    let b = byte(msg, off)?;
                    off += 1;
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let hex = [
                        HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
                        HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0'),
                    ];
                    put(&hex, &mut room);
                }
                let tail = format!("/{bits}]");
                put(tail.as_bytes(), &mut room);
            }
            0x80 => return Err(Error::Malformed),
            _ => {
                let lo = byte(msg, off)?;
                off += 1;
                let target = (usize::from(c & 0x3f) << 8) | usize::from(lo);
                pointers += 1;
                let len = *wire.get_or_insert_with(|| off.saturating_sub(start));
                if target == off + 2 || pointers > MAX_NAME {
                    out.set(LOOP);
                    return Ok(Walk::Wire(len));
                }
                off = target;
                if room == 0 && !skipped {
                    let seen = laps.get(..marks).unwrap_or_default();
                    if let Some(&(_, s0, p0)) = seen.iter().find(|m| m.0 == target) {
                        let (ds, dp) = (step - s0, pointers - p0);
                        let k = ((MAX_STEPS - 1).saturating_sub(step) / ds)
                            .min(MAX_NAME.saturating_sub(pointers) / dp);
                        step += k * ds;
                        pointers += k * dp;
                        // What is left is under a lap of either cap.
                        skipped = true;
                    } else if let Some(m) = laps.get_mut(marks) {
                        *m = (target, step, pointers);
                        marks += 1;
                    }
                }
            }
        }
        step += 1;
    }
    if room == 0 {
        out.set(TOO_LONG);
    }
    Ok(Walk::Wire(
        wire.unwrap_or_else(|| off.saturating_sub(start)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_at(msg: &[u8], off: usize) -> (Result<usize, Error>, String) {
        let mut n = Name::default();
        let r = read_name(msg, off, &mut n);
        (r, String::from_utf8_lossy(n.as_bytes()).into_owned())
    }

    #[test]
    fn plain_compressed_and_root_names() {
        // "ab.c" at 0, then a pointer to it at 6, then root at 8.
        let msg = b"\x02ab\x01c\x00\xc0\x00\x00";
        assert_eq!(name_at(msg, 0), (Ok(6), "ab.c".into()));
        assert_eq!(name_at(msg, 6), (Ok(2), "ab.c".into()));
        assert_eq!(name_at(msg, 8), (Ok(1), "<Root>".into()));
    }

    #[test]
    fn loops_and_truncation_are_caught() {
        // A pointer to itself.
        assert_eq!(name_at(b"\xc0\x00", 0), (Ok(2), LOOP.into()));
        // Two pointers to each other.
        assert_eq!(name_at(b"\xc0\x02\xc0\x00", 0), (Ok(2), LOOP.into()));
        assert_eq!(name_at(b"\x05ab", 0).0, Err(Error::Truncated));
        assert_eq!(name_at(b"\x80", 0).0, Err(Error::Malformed));
    }

    #[test]
    fn looping_names_end_as_the_full_walk_ends() {
        // Two labels and two pointers per lap: the pointer cap comes first.
        assert_eq!(
            name_at(b"\x01a\xc0\x04\x01b\xc0\x00", 0),
            (Ok(4), LOOP.into())
        );
        // Twenty labels per pointer: the step cap comes first.
        let mut msg = b"\x01x".repeat(20);
        msg.extend_from_slice(b"\xc0\x00");
        assert_eq!(name_at(&msg, 0), (Ok(42), TOO_LONG.into()));
        // Entering the loop after a prefix, with a lap of 3 pointers.
        let msg = b"\x03www\xc0\x08\x00\x00\x01p\xc0\x0c\x01q\xc0\x10\x01r\xc0\x08";
        assert_eq!(name_at(msg, 0), (Ok(6), LOOP.into()));
        // A lap of 85 labels and one pointer: 48 laps reach the step cap.
        let mut msg = b"\x01y".repeat(85);
        msg.extend_from_slice(b"\xc0\x00");
        assert_eq!(name_at(&msg, 0), (Ok(172), TOO_LONG.into()));
    }

    #[test]
    fn remembered_names_read_as_fresh_ones() {
        // At 0 a name, then pointers to it, to an unknown extended label,
        // to the byte after the pointer plus two, and a truncated target.
        let msg = b"\x02ab\x00\xc0\x00\xc0\x0a\x00\x00\x45\x00\xc0\x0e\x00\x01x\x00\xc0\x30";
        let mut memo = NameMemo::default();
        for _ in 0..2 {
            for off in 0..msg.len() {
                let (mut a, mut b) = (Name::default(), Name::default());
                let fresh = read_name(msg, off, &mut a);
                let kept = read_name_memo(msg, off, &mut b, &mut memo);
                assert_eq!((fresh, a.as_bytes()), (kept, b.as_bytes()), "at {off}");
            }
        }
    }

    #[test]
    fn long_names_are_capped() {
        let mut msg = Vec::new();
        for _ in 0..100 {
            msg.extend_from_slice(b"\x03abc");
        }
        msg.push(0);
        assert_eq!(name_at(&msg, 0), (Ok(401), TOO_LONG.into()));
    }

    #[test]
    fn reader_walks_sections_and_stops_on_truncation() {
        let mut msg = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        msg.extend_from_slice(b"\x01a\x00\x00\x01\x00\x01");
        msg.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04");
        let (h, r) = Reader::new(&msg).unwrap_or_else(|| panic!("header"));
        assert_eq!(h.id, 0x1234);
        let items: Vec<_> = r.collect();
        assert_eq!(items.len(), 2);
        let Some(Ok(Item::Record(rec))) = items.get(1).copied() else {
            panic!("no record")
        };
        assert_eq!(rec.rdata(&msg), Some(&[1u8, 2, 3, 4][..]));
        let cut = msg.get(..20).unwrap_or_default();
        let (_, r) = Reader::new(cut).unwrap_or_else(|| panic!("header"));
        let items: Vec<_> = r.collect();
        assert_eq!(items.last().copied(), Some(Err(Error::Truncated)));
    }
}
