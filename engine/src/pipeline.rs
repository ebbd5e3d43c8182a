//! `-j N`: one capture on N cores, with the output of one.
//!
//! A reader thread numbers and times the records and deals them out to
//! N+1 workers (see [`run`]) by [`shard::key`] (the unordered IP address
//! pair, looked up through stateless tunnels), so all the
//! frames any flow's state depends on (TCP streams and reassembly, IP
//! fragments, FTP data connections, DNS and ICMP matching) meet in one
//! worker, which owns a full set of dissectors for them. The calling
//! thread merges the results back into frame order and writes them.
//!
//! The reader deals in rounds: every worker gets one batch per round, even
//! an empty one, and the merge takes one result per worker per round, so
//! the bounded queues between them cannot deadlock and at most `QUEUE`
//! rounds are in memory.
//!
//! What one thread numbers across flows is fixed up by the merge:
//! index fields (`tcp.stream`, `udp.stream`; each worker numbers its own
//! and notes every new value, and the merge renumbers them in frame order,
//! which is the order one thread uses) and `frame.time_delta_displayed`.
//! [`eligible`] keeps runs whose filters read those on one thread.

use std::ops::Range;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

use crate::capture::{Capture, CaptureError};
use crate::dfilter::Filter;
use crate::dissect::{Dissectors, Frame, Notes};
use crate::fields::{FieldId, Registry};
use crate::format::write_value;
use crate::hash::HashMap;
use crate::output::{Hole, Rows, Sink};
use crate::run::{Clock, Demand, Pass, RunError, RunOptions};
use crate::shard;
use crate::table::{Entry, FieldTable, Timestamp, Value};

/// Frames per round, unless `ROUND_BYTES` comes first.
const ROUND_FRAMES: usize = 16384;
const ROUND_BYTES: usize = 8 << 20;
/// Rounds waiting in each queue.
const QUEUE: usize = 4;
/// Bytes of rows the merge gathers before writing them.
const FLUSH: usize = 64 * 1024;
/// Workers at most (the shard of a frame is kept in a byte).
pub const MAX_JOBS: usize = 64;

/// Builds one worker's dissectors, on the worker's thread.
pub type BuildWorker<'a> = &'a (dyn Fn(&Demand<'_>) -> Dissectors + Sync);

/// Whether a run can be split: one pass, no taps or exports (they see
/// frames in order), and filters that read nothing numbered across flows.
pub fn eligible(opts: &RunOptions, reg: &Registry, has_taps: bool) -> bool {
    let delta_displayed = reg.lookup("frame.time_delta_displayed");
    let cross_flow = |id: FieldId| reg.is_index(id) || Some(id) == delta_displayed;
    !opts.two_pass
        && !has_taps
        && !opts.full_dissection
        && opts
            .display_filter
            .iter()
            .chain(opts.read_filter.iter())
            .all(|f| !f.fields().iter().copied().any(cross_flow))
}

/// Frames for one worker in one round.
#[derive(Default)]
struct Batch {
    frames: Vec<(Frame, Range<usize>)>,
    bytes: Vec<u8>,
}

impl Batch {
    fn clear(&mut self) {
        self.frames.clear();
        self.bytes.clear();
    }
}

/// A queue of filled buffers and the way back for emptied ones, so that
/// rounds reuse their memory instead of faulting fresh pages in.
struct Lane<T> {
    full: SyncSender<T>,
    empty: Receiver<T>,
}

/// The other end of a [`Lane`].
struct LaneEnd<T> {
    full: Receiver<T>,
    empty: Sender<T>,
}

fn lane<T>() -> (Lane<T>, LaneEnd<T>) {
    let (full_tx, full_rx) = sync_channel(QUEUE);
    let (empty_tx, empty_rx) = channel();
    (
        Lane {
            full: full_tx,
            empty: empty_rx,
        },
        LaneEnd {
            full: full_rx,
            empty: empty_tx,
        },
    )
}

impl<T: Default> Lane<T> {
    /// An emptied buffer back from the other end, or a new one.
    fn spare(&self) -> T {
        self.empty.try_recv().unwrap_or_default()
    }
}

/// One worker's results for one round, frame by frame: formatted rows
/// when the sink can format away from itself, else the wanted entries.
#[derive(Default)]
struct Results {
    frames: Vec<FrameResult>,
    entries: Vec<Entry>,
    arena: Vec<u8>,
    indices: Vec<FieldId>,
    rows: Vec<u8>,
    holes: Vec<Hole>,
}

impl Results {
    fn clear(&mut self) {
        self.frames.clear();
        self.entries.clear();
        self.arena.clear();
        self.indices.clear();
        self.rows.clear();
        self.holes.clear();
    }
}

struct FrameResult {
    frame: Frame,
    shown: bool,
    entries: Range<usize>,
    arena: Range<usize>,
    indices: Range<usize>,
    row: Range<usize>,
    holes: Range<usize>,
}

/// What the reader tells the merge: which worker has each frame of a
/// round, or that the capture ended (with its error, if any).
enum Round {
    Frames(Vec<u8>),
    End(Option<CaptureError>),
}

/// Everything a worker needs besides its queues.
pub struct Setup<'a> {
    pub reg: &'a Registry,
    pub demand: &'a Demand<'a>,
    pub build: BuildWorker<'a>,
    pub wanted: &'a [bool],
    pub frame_only: bool,
}

/// Runs `opts` on `jobs` cores, writing to `sink`.
pub fn run(
    opts: &RunOptions,
    setup: &Setup<'_>,
    jobs: usize,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    // One worker more than cores: the reader takes a share of a core, and
    // with one worker per core the worker sharing it would hold the others
    // at the end of every round (measured: 1.5x on two cores, 1.8x with
    // three workers).
    let jobs = jobs.saturating_add(1).clamp(1, MAX_JOBS);
    std::thread::scope(|scope| {
        let (order_tx, order_rx) = sync_channel::<Round>(QUEUE);
        let mut to_workers = Vec::with_capacity(jobs);
        let mut from_workers = Vec::with_capacity(jobs);
        let mut holes = setup.reg.indices().to_vec();
        holes.extend(setup.reg.lookup("frame.time_delta_displayed"));
        for _ in 0..jobs {
            let (to, batches) = lane::<Batch>();
            let (results, from) = lane::<Results>();
            to_workers.push(to);
            from_workers.push(from);
            let filter = opts.display_filter.clone();
            let rows = sink.rows(setup.reg, &holes);
            scope.spawn(move || work(setup, filter, rows, batches, results));
        }
        let path = opts.path.as_str();
        scope.spawn(move || read(path, to_workers, order_tx));
        merge(opts, setup.reg, order_rx, from_workers, sink)
    })
}

/// The reader: records in order, dealt out in rounds.
fn read(path: &str, workers: Vec<Lane<Batch>>, order: SyncSender<Round>) {
    let mut cap = match Capture::open(path) {
        Ok(c) => c,
        Err(e) => {
            let _ = order.send(Round::End(Some(e)));
            return;
        }
    };
    let n = workers.len().max(1) as u64;
    let mut clock = Clock::default();
    let mut number: u32 = 0;
    loop {
        let mut batches: Vec<Batch> = workers
            .iter()
            .map(|w| {
                let mut b = w.spare();
                b.clear();
                b
            })
            .collect();
        let mut who = Vec::with_capacity(ROUND_FRAMES);
        let mut bytes = 0usize;
        let mut end = None;
        while who.len() < ROUND_FRAMES && bytes < ROUND_BYTES {
            match cap.next_record() {
                Ok(Some(rec)) => {
                    number = number.saturating_add(1);
                    let frame = clock.frame(number, &rec);
                    let w = (shard::key(rec.linktype, rec.data) % n) as u8;
                    if let Some(b) = batches.get_mut(usize::from(w)) {
                        let start = b.bytes.len();
                        b.bytes.extend_from_slice(rec.data);
                        b.frames.push((frame, start..b.bytes.len()));
                    }
                    who.push(w);
                    bytes = bytes.saturating_add(rec.data.len());
                }
                Ok(None) => {
                    end = Some(None);
                    break;
                }
                Err(e) => {
                    end = Some(Some(e));
                    break;
                }
            }
        }
        if !who.is_empty() {
            if order.send(Round::Frames(who)).is_err() {
                return;
            }
            for (w, b) in workers.iter().zip(batches) {
                if w.full.send(b).is_err() {
                    return;
                }
            }
        }
        if let Some(e) = end {
            let _ = order.send(Round::End(e));
            return;
        }
    }
}

/// A worker: dissects and filters its frames, keeping the wanted entries
/// of those shown.
fn work(
    setup: &Setup<'_>,
    filter: Option<Filter>,
    mut rows: Option<Box<dyn Rows + Send>>,
    batches: LaneEnd<Batch>,
    results: Lane<Results>,
) {
    let mut table = FieldTable::new();
    table.set_wanted(setup.wanted.to_vec());
    table.set_frame_only(setup.frame_only);
    let mut notes = Notes::discarding();
    let mut pass = Pass {
        reg: setup.reg,
        ds: (setup.build)(setup.demand),
        table: &mut table,
        notes: &mut notes,
        clock: Clock::default(),
        frame: None,
    };
    for batch in batches.full.iter() {
        let mut out = results.spare();
        out.clear();
        for (frame, range) in &batch.frames {
            let data = batch.bytes.get(range.clone()).unwrap_or_default();
            pass.dissect(frame, data);
            let t = &*pass.table;
            let shown = filter.as_ref().is_none_or(|f| f.matches(t));
            let (e0, a0, i0) = (out.entries.len(), out.arena.len(), out.indices.len());
            let (r0, h0) = (out.rows.len(), out.holes.len());
            out.indices.extend_from_slice(t.new_indices());
            match rows.as_mut() {
                Some(rows) if shown => rows.row(t, &mut out.rows, &mut out.holes),
                None if shown => {
                    out.entries.extend_from_slice(t.entries());
                    out.arena.extend_from_slice(t.arena());
                }
                _ => {}
            }
            out.frames.push(FrameResult {
                frame: *frame,
                shown,
                entries: e0..out.entries.len(),
                arena: a0..out.arena.len(),
                indices: i0..out.indices.len(),
                row: r0..out.rows.len(),
                holes: h0..out.holes.len(),
            });
        }
        // The reader may be gone already; the batch is then dropped.
        let _ = batches.empty.send(batch);
        if results.full.send(out).is_err() {
            return;
        }
    }
}

/// Renumbers index fields in frame order: each worker's n-th new value of
/// a field becomes the next value of that field across all workers.
#[derive(Default)]
struct Renumber {
    next: HashMap<FieldId, u64>,
    /// Per (worker, field): global value of each local one.
    global: HashMap<(usize, FieldId), Vec<u64>>,
}

impl Renumber {
    fn new_value(&mut self, worker: usize, field: FieldId) {
        let next = self.next.entry(field).or_insert(0);
        self.global.entry((worker, field)).or_default().push(*next);
        *next = next.saturating_add(1);
    }

    /// The global value of a worker's local one (itself if unknown).
    fn global(&self, worker: usize, field: FieldId, local: u64) -> u64 {
        self.global
            .get(&(worker, field))
            .and_then(|map| map.get(usize::try_from(local).ok()?))
            .copied()
            .unwrap_or(local)
    }

    fn apply(&self, worker: usize, e: &mut Entry) {
        if let (Value::U(local), Some(map)) = (&mut e.value, self.global.get(&(worker, e.field))) {
            if let Some(&g) = usize::try_from(*local).ok().and_then(|i| map.get(i)) {
                *local = g;
            }
        }
    }
}

/// The calling thread: puts the workers' frames back in order and shows them.
fn merge(
    opts: &RunOptions,
    reg: &Registry,
    order: Receiver<Round>,
    workers: Vec<LaneEnd<Results>>,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    let delta_displayed = reg.lookup("frame.time_delta_displayed");
    let mut renumber = Renumber::default();
    let mut table = FieldTable::new();
    let mut prev_displayed: Option<Timestamp> = None;
    let mut shown: u64 = 0;
    // Rows made by the workers, written in chunks.
    let mut out: Vec<u8> = Vec::new();
    let mut text = String::new();
    'rounds: for round in order {
        let who = match round {
            Round::Frames(who) => who,
            Round::End(None) => return Ok(()),
            Round::End(Some(e)) => return Err(RunError::Capture(e)),
        };
        let mut results = Vec::with_capacity(workers.len());
        for w in &workers {
            // A worker that is gone panicked; its frames cannot be shown.
            let Ok(r) = w.full.recv() else { return Ok(()) };
            results.push(r);
        }
        let mut next = vec![0usize; workers.len()];
        for &w in &who {
            let w = usize::from(w);
            let (Some(r), Some(i)) = (results.get(w), next.get_mut(w)) else {
                continue;
            };
            let Some(fr) = r.frames.get(*i) else { continue };
            *i += 1;
            for &field in r.indices.get(fr.indices.clone()).unwrap_or_default() {
                renumber.new_value(w, field);
            }
            if !fr.shown {
                continue;
            }
            let mut frame = fr.frame;
            frame.delta_displayed_nanos = prev_displayed.map_or(0, |p| frame.ts.nanos_since(p));
            prev_displayed = Some(frame.ts);
            shown += 1;
            if fr.row.is_empty() {
                table.load(
                    r.entries.get(fr.entries.clone()).unwrap_or_default(),
                    r.arena.get(fr.arena.clone()).unwrap_or_default(),
                );
                for e in table.entries_mut() {
                    if Some(e.field) == delta_displayed {
                        e.value = Value::RelTime(frame.delta_displayed_nanos);
                    } else {
                        renumber.apply(w, e);
                    }
                }
                sink.frame(&frame, &table).map_err(RunError::Output)?;
            } else {
                let holes = r.holes.get(fr.holes.clone()).unwrap_or_default();
                let mut at = fr.row.start;
                for h in holes {
                    out.extend_from_slice(r.rows.get(at..h.at).unwrap_or_default());
                    let value = if Some(h.field) == delta_displayed {
                        Value::RelTime(frame.delta_displayed_nanos)
                    } else {
                        Value::U(renumber.global(w, h.field, h.value))
                    };
                    text.clear();
                    write_value(&mut text, reg.def(h.field), &value, &table);
                    out.extend_from_slice(text.as_bytes());
                    at = h.at.saturating_add(h.len);
                }
                out.extend_from_slice(r.rows.get(at..fr.row.end).unwrap_or_default());
                if out.len() >= FLUSH {
                    sink.write_rows(&out).map_err(RunError::Output)?;
                    out.clear();
                }
            }
            if opts.count.is_some_and(|c| shown >= c) {
                break 'rounds;
            }
        }
        sink.write_rows(&out).map_err(RunError::Output)?;
        out.clear();
        for (w, r) in workers.iter().zip(results) {
            let _ = w.empty.send(r);
        }
    }
    // `-c` was reached, or the reader is gone without saying how the
    // capture ended (it panicked).
    sink.write_rows(&out).map_err(RunError::Output)
}
