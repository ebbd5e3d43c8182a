//! The report's per-key tables, kept small: a million conversations and
//! two million beacon keys must fit in well under 200 MB.
//!
//! Conversations are keyed by the numeric address pair; their order in
//! the key (`tuple(sorted([src, dst]))`, a string sort) is worked out
//! once, when the conversation is first seen. Beacon keys
//! `(src, dst, dport)` hang off their conversation in a short list (a
//! host pair has few destination ports), spilling into a hash map past
//! [`LIST_CAP`]. Each key keeps its first four timestamps inline; only
//! keys with five or more (the only ones the beacon test reads) spill to
//! a vector of their own.

use std::cmp::Ordering;
use std::collections::hash_map::Entry;

use foldhash::HashMap;

/// `(pkt[IP].src, pkt[IP].dst, pkt[TCP].dport)`.
pub type BeaconKey = ([u8; 4], [u8; 4], u16);

/// Beacon keys walked in a conversation's list before the hash map.
const LIST_CAP: u32 = 8;
/// Timestamps kept inline per beacon key.
const INLINE: usize = 4;
const NONE: u32 = u32::MAX;

/// One conversation: its addresses in the script's (string) order.
pub struct Conv {
    pub a: [u8; 4],
    pub b: [u8; 4],
    pub packets: u64,
    pub bytes: u64,
    head: u32,
    nkeys: u32,
}

struct Slot {
    conv: u32,
    /// Bit 16: the source is the conversation's `b`; low 16 bits: dport.
    key: u32,
    next: u32,
    count: u32,
    /// The first timestamps; once they spill, `t[0]` holds the index of
    /// the key's vector in [`Tables::spill`] (as bits), keeping slots at 48 bytes.
    t: [f64; INLINE],
}

/// Conversations and beacon timestamps, in first-seen order.
#[derive(Default)]
pub struct Tables {
    conv_map: HashMap<u64, u32>,
    pub convs: Vec<Conv>,
    overflow: HashMap<u64, u32>,
    slots: Vec<Slot>,
    spill: Vec<Vec<f64>>,
}

/// Writes `a` as dotted decimal into `buf`; the length written.
fn dotted(a: [u8; 4], buf: &mut [u8; 15]) -> usize {
    let mut n = 0;
    for (i, octet) in a.into_iter().enumerate() {
        if i > 0 {
            if let Some(b) = buf.get_mut(n) {
                *b = b'.';
            }
            n += 1;
        }
        let digits = [octet / 100, octet / 10 % 10, octet % 10];
        let skip = if octet >= 100 {
            0
        } else if octet >= 10 {
            1
        } else {
            2
        };
        for d in digits.iter().skip(skip) {
            if let Some(b) = buf.get_mut(n) {
                *b = b'0' + d;
            }
            n += 1;
        }
    }
    n
}

/// How Python orders the two addresses as strings.
pub fn str_cmp(a: [u8; 4], b: [u8; 4]) -> Ordering {
    let (mut x, mut y) = ([0u8; 15], [0u8; 15]);
    let (nx, ny) = (dotted(a, &mut x), dotted(b, &mut y));
    x.get(..nx).cmp(&y.get(..ny))
}

impl Tables {
    /// Counts one IP packet; returns its conversation.
    pub fn conversation(&mut self, src: [u8; 4], dst: [u8; 4], len: u64) -> u32 {
        let (s, d) = (u32::from_be_bytes(src), u32::from_be_bytes(dst));
        let key = (u64::from(s.min(d)) << 32) | u64::from(s.max(d));
        let i = match self.conv_map.entry(key) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let i = u32::try_from(self.convs.len()).unwrap_or(NONE);
                let (a, b) = if str_cmp(src, dst) == Ordering::Greater {
                    (dst, src)
                } else {
                    (src, dst)
                };
                self.convs.push(Conv {
                    a,
                    b,
                    packets: 0,
                    bytes: 0,
                    head: NONE,
                    nkeys: 0,
                });
                e.insert(i);
                i
            }
        };
        if let Some(c) = self.convs.get_mut(i as usize) {
            c.packets += 1;
            c.bytes += len;
        }
        i
    }

    /// Records one TCP packet's time under `(src, dst, dport)`.
    pub fn beacon(&mut self, conv: u32, src: [u8; 4], dport: u16, time: f64) {
        let Some(c) = self.convs.get(conv as usize) else {
            return;
        };
        let reversed = src != c.a;
        let key = (u32::from(reversed) << 16) | u32::from(dport);
        let mut at = c.head;
        let mut walked = 0;
        let mut found = NONE;
        while at != NONE && walked < LIST_CAP {
            let Some(s) = self.slots.get(at as usize) else {
                break;
            };
            if s.key == key {
                found = at;
                break;
            }
            at = s.next;
            walked += 1;
        }
        let (head, nkeys) = (c.head, c.nkeys);
        if found == NONE {
            let new = u32::try_from(self.slots.len()).unwrap_or(NONE);
            if nkeys < LIST_CAP {
                found = new;
                self.slots.push(Slot::new(conv, key, head));
                if let Some(c) = self.convs.get_mut(conv as usize) {
                    c.head = new;
                    c.nkeys += 1;
                }
            } else {
                let wide = (u64::from(conv) << 17) | u64::from(key);
                found = match self.overflow.entry(wide) {
                    Entry::Occupied(e) => *e.get(),
                    Entry::Vacant(e) => {
                        e.insert(new);
                        self.slots.push(Slot::new(conv, key, NONE));
                        new
                    }
                };
            }
        }
        let Some(s) = self.slots.get_mut(found as usize) else {
            return;
        };
        let n = s.count as usize;
        if let Some(t) = s.t.get_mut(n) {
            *t = time;
        } else if n == INLINE {
            let mut v = s.t.to_vec();
            v.push(time);
            s.t[0] = f64::from_bits(self.spill.len() as u64);
            self.spill.push(v);
        } else if let Some(v) = usize::try_from(s.t[0].to_bits())
            .ok()
            .and_then(|i| self.spill.get_mut(i))
        {
            v.push(time);
        }
        s.count += 1;
    }

    /// Every beacon key in first-seen order with its timestamps.
    pub fn beacon_keys(&self) -> impl Iterator<Item = (BeaconKey, &[f64])> {
        self.slots.iter().filter_map(|s| {
            let c = self.convs.get(s.conv as usize)?;
            let (src, dst) = if s.key & 0x1_0000 != 0 {
                (c.b, c.a)
            } else {
                (c.a, c.b)
            };
            let times: &[f64] = if (s.count as usize) <= INLINE {
                s.t.get(..s.count as usize)?
            } else {
                self.spill.get(usize::try_from(s.t[0].to_bits()).ok()?)?
            };
            Some(((src, dst, (s.key & 0xffff) as u16), times))
        })
    }
}

impl Slot {
    fn new(conv: u32, key: u32, next: u32) -> Self {
        Slot {
            conv,
            key,
            next,
            count: 0,
            t: [0.0; INLINE],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_order_of_addresses() {
        // "10.0.0.10" < "10.0.0.2" as strings.
        assert_eq!(str_cmp([10, 0, 0, 10], [10, 0, 0, 2]), Ordering::Less);
        assert_eq!(str_cmp([9, 0, 0, 1], [10, 0, 0, 1]), Ordering::Greater);
        assert_eq!(str_cmp([1, 2, 3, 4], [1, 2, 3, 4]), Ordering::Equal);
    }

    #[test]
    fn beacon_keys_keep_order_past_the_list() {
        let mut t = Tables::default();
        let c = t.conversation([1, 1, 1, 1], [2, 2, 2, 2], 60);
        for port in 0..20u16 {
            for k in 0..6 {
                t.beacon(c, [1, 1, 1, 1], port, f64::from(k));
            }
        }
        t.beacon(c, [2, 2, 2, 2], 7, 9.0);
        let keys: Vec<_> = t.beacon_keys().map(|(k, ts)| (k.2, ts.len())).collect();
        assert_eq!(keys.len(), 21);
        assert!(keys
            .iter()
            .take(20)
            .enumerate()
            .all(|(i, &(p, n))| usize::from(p) == i && n == 6));
        let last = t.beacon_keys().last().map(|(k, _)| k);
        assert_eq!(last, Some(([2, 2, 2, 2], [1, 1, 1, 1], 7)));
    }
}
