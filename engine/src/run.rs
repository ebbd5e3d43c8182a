//! The packet loop: read a record, dissect it into the field table, filter,
//! hand it to the sink.

use std::io;

use crate::capture::{Capture, CaptureError};
use crate::columns::Columns;
use crate::dfilter::Filter;
use crate::dissect::{Cx, Dissectors, Frame, Notes};
use crate::fields::{FieldId, Registry};
use crate::output::Sink;
use crate::pipeline::{self, BuildWorker};
use crate::table::{FieldTable, Timestamp};
use crate::taps::Taps;

/// What to read and which frames to show.
pub struct RunOptions {
    /// A path, or `-` for standard input.
    pub path: String,
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
    reg: &'a Registry,
    wanted: &'a [bool],
    every: bool,
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

/// Reads the capture and hands every shown frame to `sink`.
pub fn run(
    opts: &RunOptions,
    reg: &Registry,
    build: Build<'_>,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    run_with_taps(opts, reg, build, None, sink, &mut Taps::new())
}

/// `-j`: how many workers, and how each builds its dissectors (without
/// the export sinks, which runs on several threads never have).
#[derive(Clone, Copy)]
pub struct Parallel<'a> {
    pub jobs: usize,
    pub build: BuildWorker<'a>,
}

/// [`run`], also feeding `taps` every frame the loop processes. As in
/// tshark, taps see frames whether or not they pass `-Y` (with `-2`, only
/// those that passed `-R`); they are drawn by the caller afterwards.
pub fn run_with_taps(
    opts: &RunOptions,
    reg: &Registry,
    build: Build<'_>,
    parallel: Option<Parallel<'_>>,
    sink: &mut dyn Sink,
    taps: &mut Taps,
) -> Result<(), RunError> {
    let mut wanted = vec![false; reg.len()];
    let filter_fields = opts
        .display_filter
        .iter()
        .chain(opts.read_filter.iter())
        .flat_map(Filter::fields);
    let tap_fields = taps.fields();
    for id in opts
        .fields
        .iter()
        .copied()
        .chain(filter_fields)
        .chain(tap_fields)
    {
        if let Some(w) = wanted.get_mut(id.index()) {
            *w = true;
        }
    }
    // Only the frame dissector's own fields (not frame.protocols, which
    // lists the layers below) asked for: the layers need not be dissected.
    // The summary columns come from every layer.
    let wants_columns = sink.wants_columns();
    let frame_only = !opts.full_dissection
        && !wants_columns
        && taps.is_empty()
        && reg.iter().all(|(id, def)| {
            let abbrev = def.abbrev;
            !wanted.get(id.index()).copied().unwrap_or(false)
                || ((abbrev == "frame" || abbrev.starts_with("frame."))
                    && abbrev != "frame.protocols")
        });
    let demand = Demand {
        reg,
        wanted: &wanted,
        every: opts.full_dissection || wants_columns || taps.read_the_tree(),
    };
    sink.begin().map_err(RunError::Output)?;
    // A frame-only run does less per frame than handing it to a worker.
    // Workers forward tables, not records, so a sink that reads the bytes stays serial.
    let reads_data = sink.reads_data();
    // Workers forward no columns either.
    let split = |p: &Parallel<'_>| {
        p.jobs > 1
            && !frame_only
            && !reads_data
            && !wants_columns
            && pipeline::eligible(opts, reg, !taps.is_empty())
    };
    if let Some(p) = parallel.filter(split) {
        let setup = pipeline::Setup {
            reg,
            demand: &demand,
            build: p.build,
            wanted: &wanted,
            frame_only,
            exiting: opts.exiting,
        };
        let result = pipeline::run(opts, &setup, p.jobs, sink);
        let end = sink.end().map_err(RunError::Output);
        return result.and(end);
    }
    let ds = build(&demand);
    let mut table = FieldTable::new();
    table.set_wanted(wanted.clone());
    table.set_frame_only(frame_only);

    let result = if opts.two_pass {
        two_pass(opts, reg, ds, &|| build(&demand), &mut table, sink, taps)
    } else {
        let mut notes = Notes::discarding();
        let mut pass = Pass {
            reg,
            ds,
            table: &mut table,
            notes: &mut notes,
            clock: Clock::default(),
            frame: None,
            cols: wants_columns.then(Columns::new),
        };
        let result = one_pass(opts, &mut pass, sink, taps);
        retire(pass.ds, opts.exiting);
        result
    };
    let end = sink.end().map_err(RunError::Output);
    result.and(end)
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
    prev_displayed: Option<Timestamp>,
}

impl Clock {
    pub(crate) fn frame(&mut self, number: u32, rec: &crate::capture::Record<'_>) -> Frame {
        let first = *self.first.get_or_insert(rec.ts);
        let prev = self.prev.replace(rec.ts).unwrap_or(rec.ts);
        Frame {
            number,
            ts: rec.ts,
            len: rec.len,
            cap_len: u32::try_from(rec.data.len()).unwrap_or(u32::MAX),
            linktype: rec.linktype,
            interface_id: rec.interface_id,
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

    /// Hands a shown frame to the sink, with its columns if it reads them.
    fn show(&self, sink: &mut dyn Sink, frame: &Frame, data: &[u8]) -> Result<(), RunError> {
        match &self.cols {
            Some(c) => sink.frame_columns(frame, data, self.table, c),
            None => sink.frame(frame, data, self.table),
        }
        .map_err(RunError::Output)
    }
}

fn one_pass(
    opts: &RunOptions,
    pass: &mut Pass<'_>,
    sink: &mut dyn Sink,
    taps: &mut Taps,
) -> Result<(), RunError> {
    let mut cap = Capture::open(&opts.path)?;
    let mut number: u32 = 0;
    let mut shown: u64 = 0;
    while opts.count.is_none_or(|c| shown < c) {
        let Some(rec) = cap.next_record()? else { break };
        number = number.saturating_add(1);
        let frame = pass.clock.frame(number, &rec);
        pass.dissect(&frame, rec.data);
        if !taps.is_empty() {
            taps.frame(&frame, rec.data, pass.table);
        }
        if opts
            .display_filter
            .as_ref()
            .is_none_or(|f| f.matches(pass.table))
        {
            pass.clock.prev_displayed = Some(frame.ts);
            shown += 1;
            pass.show(sink, &frame, rec.data)?;
        }
    }
    Ok(())
}

/// `-2`: a first pass dissects every frame, learning forward references and
/// which frames pass `-R`; a second pass, with fresh dissectors and those
/// notes, dissects again and shows the passing frames that also pass `-Y`.
fn two_pass(
    opts: &RunOptions,
    reg: &Registry,
    first: Dissectors,
    build: &dyn Fn() -> Dissectors,
    table: &mut FieldTable,
    sink: &mut dyn Sink,
    taps: &mut Taps,
) -> Result<(), RunError> {
    let mut notes = Notes::default();
    let mut passed: Vec<bool> = Vec::new();
    let mut first_error = None;
    {
        let mut pass = Pass {
            reg,
            ds: first,
            table: &mut *table,
            notes: &mut notes,
            clock: Clock::default(),
            frame: None,
            cols: None,
        };
        let mut cap = Capture::open(&opts.path)?;
        let mut number: u32 = 0;
        loop {
            let rec = match cap.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    first_error = Some(e);
                    break;
                }
            };
            number = number.saturating_add(1);
            let frame = pass.clock.frame(number, &rec);
            pass.dissect(&frame, rec.data);
            let ok = opts
                .read_filter
                .as_ref()
                .is_none_or(|f| f.matches(pass.table));
            if ok {
                pass.clock.prev_displayed = Some(frame.ts);
            }
            passed.push(ok);
        }
    }
    let mut pass = Pass {
        reg,
        ds: build(),
        table,
        notes: &mut notes,
        clock: Clock::default(),
        frame: None,
        cols: sink.wants_columns().then(Columns::new),
    };
    let mut cap = Capture::open(&opts.path)?;
    let mut number: u32 = 0;
    let mut shown: u64 = 0;
    while opts.count.is_none_or(|c| shown < c) {
        let Ok(Some(rec)) = cap.next_record() else {
            break;
        };
        number = number.saturating_add(1);
        let mut frame = pass.clock.frame(number, &rec);
        if !passed.get(number as usize - 1).copied().unwrap_or(false) {
            continue;
        }
        frame.visited = true;
        pass.dissect(&frame, rec.data);
        if !taps.is_empty() {
            taps.frame(&frame, rec.data, pass.table);
        }
        if opts
            .display_filter
            .as_ref()
            .is_none_or(|f| f.matches(pass.table))
        {
            pass.clock.prev_displayed = Some(frame.ts);
            shown += 1;
            pass.show(sink, &frame, rec.data)?;
        }
    }
    retire(pass.ds, opts.exiting);
    match first_error {
        Some(e) => Err(RunError::Capture(e)),
        None => Ok(()),
    }
}
