//! Conversation tables: a stable index per address and port pair, in order
//! of first appearance, as `tcp.stream` and `udp.stream` number them.

use dorsal_engine::hash::HashMap;

use dorsal_engine::dissect::Address;

/// One side of a conversation.
pub type Endpoint = (Address, u16);

/// Both sides, lower endpoint first, so either direction finds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvKey(Endpoint, Endpoint);

impl ConvKey {
    /// The key and whether `src` is the lower endpoint.
    pub fn new(src: Endpoint, dst: Endpoint) -> (ConvKey, bool) {
        if src <= dst {
            (ConvKey(src, dst), true)
        } else {
            (ConvKey(dst, src), false)
        }
    }
}

/// Upper bound on conversations; past it the table starts over in one sweep.
pub const MAX_CONVERSATIONS: usize = 1 << 21;

/// The conversations of one transport, keyed by a 64-bit hash of their
/// key so that a capture of a million connections costs tens of bytes per
/// connection in the table. A live conversation keeps its key beside its
/// state, which tells it apart from another key of the same hash (those
/// go to an exact table); a retired one (its state dropped, see
/// [`Conversations::retire`]) keeps only its index and one number of its
/// owner's choosing, and is found by the hash alone (seeded per process).
pub struct Conversations<T> {
    /// Split by the hash's top bits, so that growing one part costs a
    /// transient copy of a sixteenth of the table, not of all of it.
    maps: [HashMap<u64, Slot<T>>; SHARDS],
    clashes: HashMap<ConvKey, Slot<T>>,
    hasher: dorsal_engine::hash::RandomState,
    next_index: u32,
}

const SHARDS: usize = 16;

/// The map of a key's hash.
fn shard_of(h: u64) -> usize {
    (h >> 60) as usize % SHARDS
}

struct Slot<T> {
    index: u32,
    mark: i64,
    live: Option<Box<(ConvKey, T)>>,
}

/// What the table holds for a key.
pub enum Found {
    /// Live: its state is [`Conversations::get_mut`]'s.
    Live,
    /// Retired: the index, and the mark given to [`Conversations::retire`].
    Retired {
        index: u32,
        mark: i64,
    },
    Absent,
}

impl<T> Default for Conversations<T> {
    fn default() -> Self {
        Conversations {
            maps: std::array::from_fn(|_| HashMap::default()),
            clashes: HashMap::default(),
            hasher: dorsal_engine::hash::RandomState::default(),
            next_index: 0,
        }
    }
}

impl<T> Conversations<T> {
    fn hash(&self, key: &ConvKey) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(key)
    }

    /// One probe of the hash's shard; a slot holding another key sends the
    /// lookup to the clashes.
    fn slot_mut(&mut self, key: &ConvKey) -> Option<&mut Slot<T>> {
        let h = self.hash(key);
        let map = self.maps.get_mut(shard_of(h))?;
        let slot = map.get_mut(&h)?;
        if slot.live.as_ref().is_none_or(|l| l.0 == *key) {
            Some(slot)
        } else {
            self.clashes.get_mut(key)
        }
    }

    /// The state of a live conversation.
    pub fn get_mut(&mut self, key: &ConvKey) -> Option<&mut T> {
        self.slot_mut(key)?.live.as_mut().map(|l| &mut l.1)
    }

    pub fn find(&mut self, key: &ConvKey) -> Found {
        match self.slot_mut(key) {
            None => Found::Absent,
            Some(Slot { live: Some(_), .. }) => Found::Live,
            Some(slot) => Found::Retired {
                index: slot.index,
                mark: slot.mark,
            },
        }
    }

    /// Starts a new conversation under `key` (replacing one that was there)
    /// and returns its state, made by `make` from the new index.
    pub fn start(&mut self, key: ConvKey, make: impl FnOnce(u32) -> T) -> &mut T {
        let len: usize = self.maps.iter().map(HashMap::len).sum();
        if len + self.clashes.len() >= MAX_CONVERSATIONS {
            self.maps.iter_mut().for_each(HashMap::clear);
            self.clashes.clear();
        }
        let index = self.next_index;
        self.next_index = self.next_index.saturating_add(1);
        self.put(key, index, make(index))
    }

    /// Gives a retired conversation state again, under its old index.
    pub fn revive(&mut self, key: ConvKey, index: u32, state: T) -> &mut T {
        self.put(key, index, state)
    }

    fn put(&mut self, key: ConvKey, index: u32, state: T) -> &mut T {
        let h = self.hash(&key);
        let slot = Slot {
            index,
            mark: 0,
            live: None,
        };
        let shard = shard_of(h);
        let clash = self
            .maps
            .get(shard)
            .and_then(|m| m.get(&h))
            .and_then(|s| s.live.as_ref())
            .is_some_and(|l| l.0 != key);
        let slot = match self.maps.get_mut(shard) {
            Some(map) if !clash => match map.entry(h) {
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    o.insert(slot);
                    o.into_mut()
                }
                std::collections::hash_map::Entry::Vacant(v) => v.insert(slot),
            },
            _ => match self.clashes.entry(key) {
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    o.insert(slot);
                    o.into_mut()
                }
                std::collections::hash_map::Entry::Vacant(v) => v.insert(slot),
            },
        };
        &mut slot.live.insert(Box::new((key, state))).1
    }

    /// Drops the state of conversation `index` under `key` (if it is still
    /// the one there), keeping its index and `mark`.
    pub fn retire(&mut self, key: &ConvKey, index: u32, mark: i64) {
        if let Some(slot) = self.slot_mut(key) {
            if slot.index == index {
                slot.live = None;
                slot.mark = mark;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(port: u16) -> ConvKey {
        ConvKey::new(
            (Address::V4([10, 0, 0, 1]), port),
            (Address::V4([10, 0, 0, 2]), 80),
        )
        .0
    }

    /// The table holds one entry per connection of the capture: a hash and
    /// a slot, whatever the state (160k connections were 113 MB at 288
    /// bytes an entry).
    #[test]
    fn an_entry_is_a_hash_an_index_a_mark_and_a_pointer() {
        assert!(std::mem::size_of::<(u64, Slot<[u8; 200]>)>() <= 32);
    }

    #[test]
    fn retired_conversations_keep_their_index_and_mark() {
        let mut t: Conversations<u32> = Conversations::default();
        *t.start(key(1), |i| i) += 100;
        t.start(key(2), |i| i);
        assert_eq!(t.get_mut(&key(1)).copied(), Some(100));
        assert!(matches!(t.find(&key(2)), Found::Live));
        t.retire(&key(1), 0, -42);
        assert!(t.get_mut(&key(1)).is_none());
        assert!(matches!(
            t.find(&key(1)),
            Found::Retired {
                index: 0,
                mark: -42
            }
        ));
        // Retiring under a stale index does nothing.
        t.retire(&key(2), 7, 0);
        assert!(matches!(t.find(&key(2)), Found::Live));
        assert_eq!(*t.revive(key(1), 0, 5), 5);
        assert_eq!(t.get_mut(&key(1)).copied(), Some(5));
        assert!(matches!(t.find(&key(3)), Found::Absent));
        // A new conversation on the same key gets the next index.
        assert_eq!(*t.start(key(1), |i| i), 2);
    }
}
