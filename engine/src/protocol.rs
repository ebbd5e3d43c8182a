//! Protocol crates as plug-ins: what a protocol knows reaches the engine
//! only through [`Protocol`], and a binary lists its crates once
//! ([`Protocols::new`]).
//!
//! A crate declares its fields when it is registered (the field ids are
//! its own to keep), then builds its dissectors for each pass, and may
//! offer `-z` statistics, credential sources for `--export-credentials`
//! and `--export-objects` types. The engine never names a protocol: it
//! calls these in registration order.

use crate::dissect::Dissectors;
use crate::fields::Registry;
use crate::run::Demand;
use crate::taps::credentials_csv::CredentialSource;
use crate::taps::{SharedSink, Stat, GENERIC_STATS};

/// One protocol crate, registered once per run. `Sync` so that worker
/// threads can build their own dissectors from it.
pub trait Protocol: Sync {
    /// Creates the crate's dissectors for one pass and attaches them to
    /// their handoff tables; `eo` receives the objects they export.
    fn register_dissectors(&self, ds: &mut Dissectors, eo: Option<SharedSink>);

    /// Whether the crate's dissectors run whatever the run asks for (the
    /// frame, link and transport layers); the others are left out of runs
    /// that read only fields of such crates, which is what makes an L2-L4
    /// row fast.
    fn always_needed(&self) -> bool {
        false
    }

    /// Fields of this crate whose values depend on which dissector took a
    /// payload (the protocol stack, `data`, reassembly), with the fields
    /// under them: asking for one needs every dissector.
    fn payload_dependent(&self) -> &'static [&'static str] {
        &[]
    }

    /// The `-z` statistics the crate computes.
    fn stats(&self) -> &'static [Stat] {
        &[]
    }

    /// Readers of the crate's login flows, for `--export-credentials`.
    fn credential_sources(&self) -> Vec<Box<dyn CredentialSource>> {
        Vec::new()
    }

    /// The `--export-objects` types the crate's dissectors export.
    fn export_types(&self) -> &'static [&'static str] {
        &[]
    }

    /// Under `-j`: a key that is the same for every record of one flow
    /// (both directions), if the crate can read one from the record.
    fn shard_key(&self, _linktype: u32, _data: &[u8]) -> Option<u64> {
        None
    }
}

/// Declares a crate's fields in the registry and returns the crate's plug-in.
pub type Register = fn(&mut Registry) -> Box<dyn Protocol>;

/// Defines a crate's `protocol`, its [`Register`]: `plugin!(register_fields)`
/// where `register_fields` declares the fields and returns the struct that
/// implements [`Protocol`].
#[macro_export]
macro_rules! plugin {
    ($register:path) => {
        /// The crate as an engine plug-in: see [`dorsal_engine::protocol`].
        pub fn protocol(reg: &mut $crate::fields::Registry) -> Box<dyn $crate::protocol::Protocol> {
            Box::new($register(reg))
        }
    };
}

/// The protocol crates of a binary, in registration order, with the
/// registry of their fields.
pub struct Protocols {
    list: Vec<Box<dyn Protocol>>,
}

impl Protocols {
    /// Registers every crate in order: each one's fields form a group of
    /// the registry (its index), and its dissectors register in this order
    /// (which decides, for one table, whose heuristic runs first).
    pub fn new(crates: &[Register]) -> (Protocols, Registry) {
        let mut reg = Registry::new();
        let mut list = Vec::with_capacity(crates.len());
        for (i, register) in crates.iter().enumerate() {
            reg.set_group(u32::try_from(i).unwrap_or(u32::MAX));
            list.push(register(&mut reg));
        }
        (Protocols { list }, reg)
    }

    /// The dissectors of one pass: those of crates that are always needed,
    /// and the others only when the run reads what they produce.
    pub fn dissectors(&self, demand: &Demand<'_>, eo: Option<SharedSink>) -> Dissectors {
        let mut ds = Dissectors::new();
        let all = self.needs_all(demand);
        for p in &self.list {
            if all || p.always_needed() {
                p.register_dissectors(&mut ds, eo.clone());
            }
        }
        ds
    }

    /// Whether a run needs every dissector (whether one takes a payload
    /// depends on the others' port and heuristic claims): it asks for
    /// everything, a payload-dependent field, an expert item (`_ws`), or a
    /// field that only a crate not always needed declares.
    fn needs_all(&self, d: &Demand<'_>) -> bool {
        if d.every() || d.wants_under(&["_ws"]) {
            return true;
        }
        let mut base_groups = 0u64;
        for (i, p) in self.list.iter().enumerate() {
            if p.always_needed() {
                if d.wants_under(p.payload_dependent()) {
                    return true;
                }
                base_groups |= 1u64
                    .checked_shl(u32::try_from(i).unwrap_or(64))
                    .unwrap_or(0);
            }
        }
        !d.only_groups(base_groups)
    }

    /// Every `-z` statistic: the engine's generic ones, then the crates'.
    pub fn stats(&self) -> Vec<Stat> {
        let mut v = GENERIC_STATS.to_vec();
        for p in &self.list {
            v.extend_from_slice(p.stats());
        }
        v
    }

    /// Every credential source, in registration order.
    pub fn credential_sources(&self) -> Vec<Box<dyn CredentialSource>> {
        self.list
            .iter()
            .flat_map(|p| p.credential_sources())
            .collect()
    }

    /// The first crate's shard key for a record; 0 (one shard, always
    /// the same) when none reads one.
    pub fn shard_key(&self, linktype: u32, data: &[u8]) -> u64 {
        self.list
            .iter()
            .find_map(|p| p.shard_key(linktype, data))
            .unwrap_or(0)
    }

    /// Every `--export-objects` type the crates write.
    pub fn export_types(&self) -> Vec<&'static str> {
        self.list
            .iter()
            .flat_map(|p| p.export_types())
            .copied()
            .collect()
    }
}
