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

/// Upper bound on live conversations; past it the oldest are forgotten in one sweep.
pub const MAX_CONVERSATIONS: usize = 1 << 21;

pub struct Conversations<T> {
    map: HashMap<ConvKey, T>,
    next_index: u32,
}

impl<T> Default for Conversations<T> {
    fn default() -> Self {
        Conversations {
            map: HashMap::default(),
            next_index: 0,
        }
    }
}

impl<T> Conversations<T> {
    pub fn get_mut(&mut self, key: &ConvKey) -> Option<&mut T> {
        self.map.get_mut(key)
    }

    /// Starts a new conversation under `key` (replacing one that was there)
    /// and returns its state, made by `make` from the new index.
    pub fn start(&mut self, key: ConvKey, make: impl FnOnce(u32) -> T) -> &mut T {
        if self.map.len() >= MAX_CONVERSATIONS {
            self.map.clear();
        }
        let index = self.next_index;
        self.next_index = self.next_index.saturating_add(1);
        match self.map.entry(key) {
            std::collections::hash_map::Entry::Occupied(mut o) => {
                o.insert(make(index));
                o.into_mut()
            }
            std::collections::hash_map::Entry::Vacant(v) => v.insert(make(index)),
        }
    }
}
