//! Taps: listeners beside the field table. Statistics ([`Tap`]) are fed
//! frame by frame by the packet loop; exported objects ([`export`]) are
//! published by the dissectors that find them.
//!
//! A tap is an engine component: the packet loop hands it every frame it
//! processes (before `-Y`, which in tshark only decides what is printed),
//! the tap keeps its counts, and at the end of the run it prints its
//! table as tshark 4.0 does. Each tap may carry its own display filter
//! (`-z io,phs,FILTER`). When no tap is asked for, the loop does nothing
//! more than check an empty list.
//!
//! Taps read what they need from the frame's [`FieldTable`] (`eth.src`,
//! `ip.dst`, `tcp.stream`, the protocol stack), so dissectors need not know
//! about them; [`Taps::fields`] tells the loop which fields to keep.

use std::io::{self, Write};

use crate::dfilter::{Filter, FilterError};
use crate::dissect::Frame;
use crate::fields::{FieldId, Registry};
use crate::table::FieldTable;

pub mod credentials;
pub mod credentials_csv;
pub mod export;
pub mod phs;
pub mod units;

pub use export::{ExportObject, ObjectSink, ObjectWriter, SharedSink};

/// A statistic fed frame by frame and printed at the end.
pub trait Tap {
    /// The fields this tap reads; the dissectors must keep them.
    fn fields(&self) -> Vec<FieldId>;
    /// Whether [`Tap::fields`] is all the tap reads. Taps that read the
    /// protocol tree or what dissectors queue (credentials) keep the
    /// default, which makes every dissector run.
    fn reads_only_fields(&self) -> bool {
        false
    }
    /// One frame that passed the tap's filter.
    fn frame(&mut self, frame: &Frame, data: &[u8], t: &FieldTable);
    /// Prints the table.
    fn draw(&self, out: &mut dyn Write) -> io::Result<()>;
}

struct Entry {
    filter: Option<Filter>,
    tap: Box<dyn Tap>,
}

/// The taps of one run, in the order they were asked for.
#[derive(Default)]
pub struct Taps {
    list: Vec<Entry>,
}

/// Why a `-z` argument was refused.
#[derive(Debug)]
pub enum TapError {
    /// Not a statistic dorsal knows (`-z no,such,stat`).
    Unknown,
    /// The statistic's filter does not compile (`-z io,phs,bad==`): the
    /// tshark tap name (`io,phs`, `conversations`, `endpoint`), the filter,
    /// and the filter's error.
    Filter {
        what: &'static str,
        filter: String,
        error: FilterError,
    },
}

/// Parses a `-z` argument into its tap and the tap's filter; `None`
/// when the argument is not this statistic.
pub type StatParse =
    fn(&str, &Registry) -> Option<Result<(Box<dyn Tap>, Option<Filter>), TapError>>;

/// A statistic offered under `-z`: by the engine (generic ones) or by the
/// crate that knows the protocol.
#[derive(Clone, Copy)]
pub struct Stat {
    /// The names `-z` lists for it (`conv,tcp`, ...).
    pub names: &'static [&'static str],
    pub parse: StatParse,
}

/// The statistics that need no protocol knowledge.
pub const GENERIC_STATS: &[Stat] = &[
    Stat {
        names: &["credentials"],
        parse: parse_credentials,
    },
    Stat {
        names: &["io,phs"],
        parse: parse_phs,
    },
];

impl Taps {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Adds a tap, with an optional filter it applies to each frame.
    pub fn add(&mut self, tap: Box<dyn Tap>, filter: Option<Filter>) {
        self.list.push(Entry { filter, tap });
    }

    /// Parses one `-z` argument with the first of `stats` that takes it
    /// and adds its tap.
    pub fn add_spec(&mut self, spec: &str, reg: &Registry, stats: &[Stat]) -> Result<(), TapError> {
        let (tap, filter) = stats
            .iter()
            .find_map(|s| (s.parse)(spec, reg))
            .ok_or(TapError::Unknown)??;
        self.add(tap, filter);
        Ok(())
    }

    /// Every field some tap or tap filter reads.
    pub fn fields(&self) -> Vec<FieldId> {
        let mut v = Vec::new();
        for e in &self.list {
            v.extend(e.tap.fields());
            if let Some(f) = &e.filter {
                v.extend(f.fields());
            }
        }
        v
    }

    /// Whether a tap reads more than its fields, so every dissector must run.
    pub fn read_the_tree(&self) -> bool {
        self.list.iter().any(|e| !e.tap.reads_only_fields())
    }

    /// Hands one dissected frame to every tap whose filter it passes.
    pub fn frame(&mut self, frame: &Frame, data: &[u8], t: &FieldTable) {
        for e in &mut self.list {
            if e.filter.as_ref().is_none_or(|f| f.matches(t)) {
                e.tap.frame(frame, data, t);
            }
        }
    }

    /// Prints every tap; tshark draws the last registered first.
    pub fn draw(&self, out: &mut dyn Write) -> io::Result<()> {
        for e in self.list.iter().rev() {
            e.tap.draw(out)?;
        }
        Ok(())
    }
}

type Parsed = Option<Result<(Box<dyn Tap>, Option<Filter>), TapError>>;

/// `-z credentials` (it takes no argument; tshark matches `-z` names by
/// prefix up to the name's length).
fn parse_credentials(spec: &str, _reg: &Registry) -> Parsed {
    spec.starts_with("credentials").then(|| {
        Ok((
            Box::new(credentials::Credentials::new()) as Box<dyn Tap>,
            None,
        ))
    })
}

/// `-z io,phs[,FILTER]`.
fn parse_phs(spec: &str, reg: &Registry) -> Parsed {
    let rest = spec.strip_prefix("io,phs")?;
    // tshark reads `io,phs,%n`: anything but a comma after the name
    // leaves the filter unset, and `io,phs,` sets an empty one.
    let filter = rest.strip_prefix(',').filter(|f| !f.is_empty());
    Some(compile(filter, reg, "io,phs").map(|compiled| {
        let tap = phs::Phs::new(reg, filter.map(str::to_string));
        (Box::new(tap) as Box<dyn Tap>, compiled)
    }))
}

/// A tap's filter compiled, its error as tshark reports it for `what`.
pub fn compile(
    filter: Option<&str>,
    reg: &Registry,
    what: &'static str,
) -> Result<Option<Filter>, TapError> {
    match filter {
        None => Ok(None),
        Some(text) => Filter::compile(text, reg)
            .map(Some)
            .map_err(|error| TapError::Filter {
                what,
                filter: text.to_string(),
                error,
            }),
    }
}
