//! One pass over a capture, as the serial loop ([`crate::run`]) and the
//! parallel one ([`crate::pipeline`]) both make it: the run's options and
//! errors, what it demands of the dissectors, the clock that numbers and
//! times frames, and one frame's dissection.

use std::io;

use crate::capture::CaptureError;
use crate::columns::Columns;
use crate::dfilter::Filter;
use crate::dissect::{Cx, Dissectors, Frame, Notes};
use crate::fields::{FieldId, Registry};
use crate::output::Sink;
use crate::table::{FieldTable, Timestamp};

/// What to read and which frames to show.
pub struct RunOptions {
    /// The captures to read as one stream: paths, or `-` for standard
    /// input.
    pub paths: Vec<String>,
    /// `-Y` (or `-R` with `-2`): frames that fail it are not shown.
    pub display_filter: Option<Filter>,
    /// `-2`: dissect everything once before printing.
    pub two_pass: bool,
    /// `-2 -R`: the filter of the first pass.
    pub read_filter: Option<Filter>,
    /// `-c`: stop after this many frames.
    pub count: Option<u64>,
    /// Fields the printers and taps read.
    pub fields: Vec<FieldId>,
    /// Dissectors have consumers besides the field table (exported
    /// objects), so every frame must be dissected in full.
    pub full_dissection: bool,
    /// The process exits after the run: see [`retire`].
    pub exiting: bool,
}

/// Why a run stopped early.
#[derive(Debug)]
pub enum RunError {
    /// Reading the capture failed; frames before the failure were shown.
    Capture(CaptureError),
    /// Writing the output failed (a closed pipe is not reported as this).
    Output(io::Error),
}

impl From<CaptureError> for RunError {
    fn from(e: CaptureError) -> Self {
        RunError::Capture(e)
    }
}

/// Builds the dissectors for one pass; called again for each pass so no
/// state leaks from one to the next unless the pass means it to. The
/// demand says which fields the run reads, so dissectors that cannot
/// contribute to them need not be built.
pub type Build<'a> = &'a dyn Fn(&Demand<'_>) -> Dissectors;

/// What a run reads from its dissectors.
pub struct Demand<'a> {
    pub(crate) reg: &'a Registry,
    pub(crate) wanted: &'a [bool],
    pub(crate) every: bool,
}

impl Demand<'_> {
    /// Something besides fields consumes dissection (a tap that reads the
    /// protocol tree, exported objects): every dissector must run.
    pub fn every(&self) -> bool {
        self.every
    }

    /// The wanted fields.
    pub fn fields(&self) -> impl Iterator<Item = FieldId> + '_ {
        self.wanted
            .iter()
            .enumerate()
            .filter(|(_, &w)| w)
            .filter_map(|(i, _)| u32::try_from(i).ok().map(FieldId))
    }

    /// Whether every wanted field was declared only by groups of the mask
    /// (bit `n`: group `n`, see [`Registry::set_group`]).
    pub fn only_groups(&self, mask: u64) -> bool {
        self.fields().all(|id| self.reg.groups(id) & !mask == 0)
    }

    /// Whether a wanted field's abbreviation is one of these, or starts
    /// with one of them followed by a dot.
    pub fn wants_under(&self, abbrevs: &[&str]) -> bool {
        self.fields().any(|id| {
            let a = self.reg.def(id).abbrev;
            abbrevs.iter().any(|p| {
                a.strip_prefix(p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            })
        })
    }
}

/// Ends the last pass's dissectors. When the process exits after the run
/// (`exiting`), their state (every conversation of the capture) is left to
/// the operating system: freeing it allocation by allocation took 5-8% of
/// a run. Nothing they hold needs dropping to be complete: exported objects
/// go to files unbuffered, and the sinks and taps are not theirs.
pub(crate) fn retire(ds: Dissectors, exiting: bool) {
    if exiting {
        std::mem::forget(ds);
    }
}

/// Clock state that turns record times into the frame's relative times.
#[derive(Default)]
pub(crate) struct Clock {
    first: Option<Timestamp>,
    prev: Option<Timestamp>,
    pub(crate) prev_displayed: Option<Timestamp>,
    /// Time digits per interface, worked out once each.
    digits: Vec<u8>,
}

/// wiretap's time precision for `if_tsresol` (ticks of 10^-n, or 2^-n with
/// the top bit): the coarsest of s, ds, cs, ms, us, ns that the ticks reach.
fn ts_digits(tsresol: u8) -> u8 {
    let exp = u32::from(tsresol & 0x7f);
    let per_sec: u128 = if tsresol & 0x80 != 0 {
        1u128.checked_shl(exp.min(100)).unwrap_or(u128::MAX)
    } else {
        10u128.checked_pow(exp.min(38)).unwrap_or(u128::MAX)
    };
    match per_sec {
        p if p >= 1_000_000_000 => 9,
        p if p >= 1_000_000 => 6,
        p if p >= 1_000 => 3,
        p if p >= 100 => 2,
        p if p >= 10 => 1,
        _ => 0,
    }
}

impl Clock {
    pub(crate) fn frame(&mut self, number: u32, rec: &crate::capture::Record<'_>) -> Frame {
        let first = *self.first.get_or_insert(rec.ts);
        let prev = self.prev.replace(rec.ts).unwrap_or(rec.ts);
        let iface = usize::try_from(rec.iface).unwrap_or(usize::MAX);
        while self.digits.len() <= iface && self.digits.len() < rec.interfaces.len() {
            let d = rec
                .interfaces
                .get(self.digits.len())
                .map_or(6, |i| ts_digits(i.tsresol()));
            self.digits.push(d);
        }
        Frame {
            number,
            ts: rec.ts,
            len: rec.len,
            cap_len: u32::try_from(rec.data.len()).unwrap_or(u32::MAX),
            linktype: rec.linktype,
            interface_id: rec.interface_id,
            ts_digits: self.digits.get(iface).copied(),
            rel_nanos: rec.ts.nanos_since(first),
            delta_nanos: rec.ts.nanos_since(prev),
            delta_displayed_nanos: self
                .prev_displayed
                .map(|p| rec.ts.nanos_since(p))
                .unwrap_or(0),
            visited: false,
        }
    }
}

/// One pass over the capture; `shown` says which frames reach the sink.
pub(crate) struct Pass<'a> {
    pub(crate) reg: &'a Registry,
    pub(crate) ds: Dissectors,
    pub(crate) table: &'a mut FieldTable,
    pub(crate) notes: &'a mut Notes,
    pub(crate) clock: Clock,
    /// The frame dissector, once looked up.
    pub(crate) frame: Option<Option<crate::dissect::DissectorId>>,
    /// The summary columns, when the sink prints them.
    pub(crate) cols: Option<Columns>,
}

impl Pass<'_> {
    pub(crate) fn dissect(&mut self, frame: &Frame, data: &[u8]) {
        self.table.clear();
        // Looked up once: the name lookup was 6% of a frame-only run.
        let id = *self.frame.get_or_insert_with(|| self.ds.find("frame"));
        if let Some(c) = self.cols.as_mut() {
            c.clear();
        }
        let mut cx = Cx::new(frame, self.table, self.reg, &mut self.ds, self.notes)
            .with_columns(self.cols.as_mut());
        if let Some(id) = id {
            cx.call(id, data);
        }
    }

    /// Hands a shown frame to the sink, with its columns if it reads them
    /// and its record if it writes records.
    pub(crate) fn show(
        &self,
        sink: &mut dyn Sink,
        frame: &Frame,
        rec: &crate::capture::Record<'_>,
    ) -> Result<(), RunError> {
        match &self.cols {
            Some(c) => sink.frame_columns(frame, rec.data, self.table, c),
            None => sink.frame(frame, rec.data, self.table),
        }
        .and_then(|()| {
            if sink.reads_records() {
                sink.record(frame, rec)
            } else {
                Ok(())
            }
        })
        .map_err(RunError::Output)
    }
}

#[cfg(test)]
mod tests {
    use super::ts_digits;

    #[test]
    fn time_resolutions_round_as_wiretap_does() {
        assert_eq!(ts_digits(6), 6);
        assert_eq!(ts_digits(9), 9);
        assert_eq!(ts_digits(3), 3);
        assert_eq!(ts_digits(4), 3);
        assert_eq!(ts_digits(12), 9);
        assert_eq!(ts_digits(0), 0);
        // 2^-20 ticks: finer than microseconds, coarser than nanoseconds.
        assert_eq!(ts_digits(0x80 | 20), 6);
        assert_eq!(ts_digits(0xff), 9);
    }
}
