//! The packet loop: read a record, dissect it into the field table, filter,
//! hand it to the sink.

use crate::capture::{Capture, Record};
use crate::columns::Columns;
use crate::dfilter::Filter;
use crate::dissect::{Dissectors, Frame, Notes};
use crate::fields::{FieldType, Registry};
use crate::output::Sink;
use crate::pass::{retire, Clock, Pass};
pub use crate::pass::{Build, Demand, RunError, RunOptions};
pub use crate::pipeline::ShardKey;
use crate::pipeline::{self, BuildWorker};
use crate::table::FieldTable;
use crate::taps::Taps;

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
    /// Which worker a record goes to (see [`ShardKey`]).
    pub shard: ShardKey<'a>,
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
    // A protocol field prints as its label; filters and taps read bytes.
    let labels = opts
        .fields
        .iter()
        .any(|&id| reg.def(id).ftype == FieldType::Protocol);
    let demand = Demand {
        reg,
        wanted: &wanted,
        every: opts.full_dissection || wants_columns || taps.read_the_tree(),
    };
    sink.begin().map_err(RunError::Output)?;
    // A frame-only run does less per frame than handing it to a worker.
    // Workers forward tables, not records, so a sink that reads the bytes
    // stays serial; columns reach only a sink that formats rows on workers.
    let reads_data = sink.reads_records();
    let columns_apart = !wants_columns || sink.rows(reg, &[]).is_some();
    let split = |p: &Parallel<'_>| {
        p.jobs > 1
            && !frame_only
            && !reads_data
            && columns_apart
            && pipeline::eligible(opts, reg, !taps.is_empty())
    };
    if let Some(p) = parallel.filter(split) {
        let setup = pipeline::Setup {
            reg,
            demand: &demand,
            build: p.build,
            shard: p.shard,
            wanted: &wanted,
            frame_only,
            labels,
            columns: wants_columns,
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
    table.set_labels(labels);

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

fn one_pass(
    opts: &RunOptions,
    pass: &mut Pass<'_>,
    sink: &mut dyn Sink,
    taps: &mut Taps,
) -> Result<(), RunError> {
    let mut cap = Capture::open_all(&opts.paths)?;
    sink.capture_opened(cap.is_pcapng(), cap.section_options());
    let mut number: u32 = 0;
    let mut shown: u64 = 0;
    let result = loop {
        if opts.count.is_some_and(|c| shown >= c) {
            break Ok(());
        }
        let rec = match cap.next_record() {
            Ok(Some(rec)) => rec,
            Ok(None) => break Ok(()),
            Err(e) => break Err(RunError::Capture(e)),
        };
        number = number.saturating_add(1);
        let frame = pass.clock.frame(number, &rec);
        shown += u64::from(show_frame(opts, pass, sink, taps, &frame, &rec)?);
    };
    sink.capture_ended(cap.interfaces())
        .map_err(RunError::Output)?;
    result
}

/// Dissects one frame, feeds it to the taps and shows it if it passes the
/// display filter; says whether it was shown.
fn show_frame(
    opts: &RunOptions,
    pass: &mut Pass<'_>,
    sink: &mut dyn Sink,
    taps: &mut Taps,
    frame: &Frame,
    rec: &Record<'_>,
) -> Result<bool, RunError> {
    pass.dissect(frame, rec.data);
    if !taps.is_empty() {
        taps.frame(frame, rec.data, pass.table);
    }
    let shown = opts
        .display_filter
        .as_ref()
        .is_none_or(|f| f.matches(pass.table));
    if shown {
        pass.clock.prev_displayed = Some(frame.ts);
        pass.show(sink, frame, rec)?;
    }
    Ok(shown)
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
        let mut cap = Capture::open_all(&opts.paths)?;
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
    let mut cap = Capture::open_all(&opts.paths)?;
    sink.capture_opened(cap.is_pcapng(), cap.section_options());
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
        shown += u64::from(show_frame(opts, &mut pass, sink, taps, &frame, &rec)?);
    }
    sink.capture_ended(cap.interfaces())
        .map_err(RunError::Output)?;
    retire(pass.ds, opts.exiting);
    match first_error {
        Some(e) => Err(RunError::Capture(e)),
        None => Ok(()),
    }
}
