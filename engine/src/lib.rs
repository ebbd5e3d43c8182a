//! dorsal's engine: everything that is not specific to one protocol.
//!
//! A capture is read record by record ([`capture`]), each record becomes a
//! frame that the dissectors fill into a [`table::FieldTable`] declared in a
//! [`fields::Registry`], and the printers of [`output`] write what was asked.
//!
//! The engine names no protocol: what a protocol knows comes in through
//! [`protocol::Protocol`], implemented by the dissector crates, which
//! depend on the engine and never the other way. See ARCHITECTURE.md.

pub mod bytes;
pub mod capture;
pub mod columns;
pub mod dfilter;
pub mod dissect;
pub mod events;
pub mod fields;
pub mod flow;
pub mod format;
pub mod glossary;
pub mod output;
mod pass;
mod pipeline;
pub mod protocol;
pub mod run;
pub mod table;
pub mod taps;
pub mod text;

/// Hash maps keyed by capture-derived values (conversations, frames,
/// transactions), looked up once or more per frame: foldhash is several
/// times cheaper than SipHash on small keys and still seeded per process.
pub mod hash {
    pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
    pub type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
    /// Their hasher, for tables keyed by a hash computed once.
    pub type RandomState = foldhash::fast::RandomState;
}
