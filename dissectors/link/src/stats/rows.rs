//! Storage for tables that keep a row per conversation or endpoint of the
//! whole capture (a million on a capture of a million connections): rows in
//! fixed chunks, so the table never holds two copies of itself while it
//! grows, and an index from a 64-bit hash of the key to the row, the key
//! itself read back from the row to tell apart keys of one hash (those go
//! to an exact table).

use std::hash::{BuildHasher, Hash};

use dorsal_engine::hash::{HashMap, RandomState};

/// Rows per chunk.
const CHUNK: usize = 1 << 14;
/// Parts of the index, split by the hash's top bits (see [`Index`]).
const SHARDS: usize = 16;

pub struct Rows<R> {
    chunks: Vec<Vec<R>>,
    len: usize,
}

impl<R> Default for Rows<R> {
    fn default() -> Self {
        Rows {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<R> Rows<R> {
    pub fn len(&self) -> usize {
        self.len
    }

    /// Appends a row; its number.
    pub fn push(&mut self, row: R) -> u32 {
        if self.chunks.last().is_none_or(|c| c.len() >= CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(c) = self.chunks.last_mut() {
            c.push(row);
        }
        let at = u32::try_from(self.len).unwrap_or(u32::MAX);
        self.len += 1;
        at
    }

    pub fn get(&self, i: u32) -> Option<&R> {
        let i = i as usize;
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    pub fn get_mut(&mut self, i: u32) -> Option<&mut R> {
        let i = i as usize;
        self.chunks.get_mut(i / CHUNK)?.get_mut(i % CHUNK)
    }

    pub fn iter(&self) -> impl Iterator<Item = &R> {
        self.chunks.iter().flatten()
    }
}

/// Row numbers by key. Split in parts by the hash's top bits, so that
/// growing one part copies a sixteenth of the index.
pub struct Index<K> {
    maps: [HashMap<u64, u32>; SHARDS],
    clashes: HashMap<K, u32>,
    hasher: RandomState,
}

impl<K> Default for Index<K> {
    fn default() -> Self {
        Index {
            maps: std::array::from_fn(|_| HashMap::default()),
            clashes: HashMap::default(),
            hasher: RandomState::default(),
        }
    }
}

impl<K: Hash + Eq> Index<K> {
    fn hash(&self, key: &K) -> (usize, u64) {
        let h = self.hasher.hash_one(key);
        ((h >> 60) as usize % SHARDS, h)
    }

    /// The row of `key`; `key_of` reads a row's key back.
    pub fn find(&self, key: &K, key_of: impl Fn(u32) -> Option<K>) -> Option<u32> {
        let (shard, h) = self.hash(key);
        let row = *self.maps.get(shard)?.get(&h)?;
        if key_of(row).as_ref() == Some(key) {
            Some(row)
        } else {
            self.clashes.get(key).copied()
        }
    }

    /// Files `row` under `key` (not in the index yet).
    pub fn insert(&mut self, key: K, row: u32) {
        let (shard, h) = self.hash(&key);
        match self.maps.get_mut(shard) {
            Some(map) if !map.contains_key(&h) => {
                map.insert(h, row);
            }
            _ => {
                self.clashes.insert(key, row);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_cross_chunks_and_index_finds_them() {
        let mut rows: Rows<(u32, u64)> = Rows::default();
        let mut index: Index<u32> = Index::default();
        for k in 0..(CHUNK as u32 * 2 + 5) {
            let at = rows.push((k, 0));
            index.insert(k, at);
        }
        assert_eq!(rows.len(), CHUNK * 2 + 5);
        let key_of = |i: u32| rows.get(i).map(|r| r.0);
        for k in [0, 1, CHUNK as u32, CHUNK as u32 * 2 + 4] {
            assert_eq!(index.find(&k, key_of), Some(k));
        }
        assert_eq!(index.find(&(CHUNK as u32 * 3), key_of), None);
        assert_eq!(rows.iter().count(), CHUNK * 2 + 5);
    }

    #[test]
    fn a_key_whose_hash_is_taken_goes_to_the_exact_table() {
        let mut index: Index<u32> = Index::default();
        let (shard, h) = index.hash(&7);
        // Pretend another key holds 7's hash, in row 0.
        if let Some(m) = index.maps.get_mut(shard) {
            m.insert(h, 0);
        }
        index.insert(7, 1);
        let key_of = |i: u32| Some(if i == 0 { 99 } else { 7 });
        assert_eq!(index.find(&7, key_of), Some(1));
        assert_eq!(index.find(&99, |_| Some(99)), None);
    }
}
