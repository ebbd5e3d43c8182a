//! `-j N`: one capture on N cores, with the output of one.
//!
//! Workers each own a full set of dissectors and take the frames of one
//! shard: [`shard::key`] (the unordered IP address pair, looked up through
//! stateless tunnels) sends all the frames any flow's state depends on (TCP
//! streams and reassembly, IP fragments, FTP data connections, DNS and ICMP
//! matching) to one worker. The calling thread merges the workers' results
//! back into frame order and writes them.
//!
//! Reading is shared: whichever worker runs low on buffers to work on (and
//! finds no other worker reading) reads the next buffer of the capture,
//! numbers its records, picks each one's shard and hands the buffer whole
//! to every worker. Each record is read once, by one core; no thread does
//! nothing but read, and the worker that gets ahead does more of the
//! reading, which keeps the workers level.
//!
//! Results move in rounds of `ROUND_BUFFERS` buffers: every worker sends
//! one result per round, even an empty one, and the merge takes one from
//! each per round. A worker reads only while fewer than `AHEAD` buffers
//! wait for it (at most `QUEUE`), so a reader blocked on a full queue is
//! waiting on a worker that has buffers to work on, and the bounded queues
//! cannot deadlock; about `QUEUE` rounds are in memory.
//!
//! What one thread numbers across flows is fixed up by the merge:
//! index fields (`tcp.stream`, `udp.stream`; each worker numbers its own
//! and notes every new value, and the merge renumbers them in frame order,
//! which is the order one thread uses) and `frame.time_delta_displayed`.
//! [`eligible`] keeps runs whose filters read those on one thread.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::capture::{Capture, CaptureError};
use crate::columns::Columns;
use crate::dfilter::Filter;
use crate::dissect::{Dissectors, Frame, Notes};
use crate::fields::{FieldId, Registry};
use crate::format::write_cell_bytes;
use crate::output::{Hole, Rows, Sink};
use crate::pass::{retire, Clock, Demand, Pass, RunError, RunOptions};
use crate::table::{Entry, FieldTable, Timestamp, Value};

/// Bytes of capture per read buffer.
const BUFFER_BYTES: usize = 512 * 1024;
/// Buffers per round of results: fewer rounds wake the merge less often,
/// bigger ones hold more frames in memory.
const ROUND_BUFFERS: u64 = 4;
/// Buffers waiting for a worker below which it reads the next one (at most
/// `QUEUE`: see the module's notes).
const AHEAD: u64 = 3;
/// Buffers, or rounds of results, waiting in each queue.
const QUEUE: usize = 4;
/// Bytes of rows the merge gathers before writing them: more than the
/// output's buffer, which then passes them through instead of copying.
const FLUSH: usize = 512 * 1024;
/// Workers at most (the shard of a frame is kept in a byte).
pub const MAX_JOBS: usize = 64;

/// Builds one worker's dissectors, on the worker's thread.
pub type BuildWorker<'a> = &'a (dyn Fn(&Demand<'_>) -> Dissectors + Sync);

/// The shard key of a record (link type, bytes): records of one flow must
/// get one key. Given by the protocol crates, which know the headers.
pub type ShardKey<'a> = &'a (dyn Fn(u32, &[u8]) -> u64 + Sync);

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

/// One buffer of the capture, dealt out: its bytes and, per worker,
/// its frames with where their bytes sit.
#[derive(Default)]
struct Chunk {
    bytes: Vec<u8>,
    frames: Vec<Vec<(Frame, Range<usize>)>>,
    /// The capture ends with this buffer.
    last: bool,
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

impl Lane<Results> {
    /// Sends a round's results on and starts the next round's in an
    /// emptied buffer; false when the merge is gone.
    fn pass_on(&self, out: &mut Results) -> bool {
        let mut next = self.spare();
        next.clear();
        self.full.send(std::mem::replace(out, next)).is_ok()
    }
}

/// One worker's results for one round, frame by frame: formatted rows
/// when the sink can format away from itself, else the frames and their
/// wanted entries.
#[derive(Default)]
struct Results {
    frames: Vec<FrameResult>,
    /// Without rows: each frame of `frames`, for the sink.
    whole: Vec<Frame>,
    entries: Vec<Entry>,
    arena: Vec<u8>,
    indices: Vec<FieldId>,
    rows: Vec<u8>,
    holes: Vec<Hole>,
    /// The last round.
    last: bool,
}

impl Results {
    fn clear(&mut self) {
        self.frames.clear();
        self.whole.clear();
        self.entries.clear();
        self.arena.clear();
        self.indices.clear();
        self.rows.clear();
        self.holes.clear();
        self.last = false;
    }

    /// Where the parts of frame `i` sit: each starts where the previous
    /// frame's ends.
    fn parts(&self, i: usize) -> (Ends, Ends) {
        let start = i
            .checked_sub(1)
            .and_then(|p| self.frames.get(p))
            .map_or_else(Ends::default, |f| f.ends);
        let end = self.frames.get(i).map_or(start, |f| f.ends);
        (start, end)
    }
}

/// What the merge needs of a frame; kept small, as every frame has one.
struct FrameResult {
    number: u32,
    ts: Timestamp,
    shown: bool,
    ends: Ends,
}

/// Where a frame's parts end in its [`Results`].
#[derive(Clone, Copy, Default)]
struct Ends {
    entries: usize,
    arena: usize,
    indices: usize,
    row: usize,
    holes: usize,
}

/// Everything a worker needs besides its queues.
pub struct Setup<'a> {
    pub reg: &'a Registry,
    pub demand: &'a Demand<'a>,
    pub build: BuildWorker<'a>,
    pub shard: ShardKey<'a>,
    pub wanted: &'a [bool],
    pub frame_only: bool,
    /// Protocol items' labels are printed ([`FieldTable::set_labels`]).
    pub labels: bool,
    /// The sink prints the summary columns: workers fill them.
    pub columns: bool,
    /// [`RunOptions::exiting`].
    pub exiting: bool,
}

/// Runs `opts` on `jobs` cores, writing to `sink`.
pub fn run(
    opts: &RunOptions,
    setup: &Setup<'_>,
    jobs: usize,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    let mut cap = Capture::open_all(&opts.paths).map_err(RunError::Capture)?;
    cap.keep_buffers(BUFFER_BYTES);
    let jobs = jobs.clamp(1, MAX_JOBS);
    let (end_tx, end_rx) = channel::<Option<CaptureError>>();
    let (reuse_tx, reuse_rx) = channel::<Chunk>();
    let mut to_workers = Vec::with_capacity(jobs);
    let mut sources = Vec::with_capacity(jobs);
    for _ in 0..jobs {
        let (to, chunks) = sync_channel::<Arc<Chunk>>(QUEUE);
        to_workers.push(to);
        sources.push(chunks);
    }
    let reader = Mutex::new(Reader {
        cap,
        shard: setup.shard,
        clock: Clock::default(),
        number: 0,
        frames: vec![Vec::new(); jobs],
        workers: to_workers,
        reuse: reuse_rx,
        end: end_tx,
    });
    let dealt = AtomicU64::new(0);
    let shared = Shared {
        reader: &reader,
        dealt: &dealt,
    };
    std::thread::scope(|scope| {
        let mut from_workers = Vec::with_capacity(jobs);
        let mut holes = setup.reg.indices().to_vec();
        holes.extend(setup.reg.lookup("frame.time_delta_displayed"));
        for (me, chunks) in sources.into_iter().enumerate() {
            let (results, from) = lane::<Results>();
            from_workers.push(from);
            let worker = Worker {
                setup,
                me: u8::try_from(me).unwrap_or(u8::MAX),
                filter: opts.display_filter.clone(),
                rows: sink.rows(setup.reg, &holes),
            };
            let reuse = reuse_tx.clone();
            scope.spawn(move || worker.work(shared, chunks, results, reuse));
        }
        drop(reuse_tx);
        merge(opts, setup.reg, from_workers, end_rx, sink)
    })
}

/// The shard of a record among `of` workers (at most `MAX_JOBS`, so it
/// fits in a byte).
fn shard_of(key: u64, of: usize) -> u8 {
    (key % of.max(1) as u64) as u8
}

/// Reading the capture: whichever worker runs short of buffers takes the
/// reader and deals out the next buffer, so reading is shared among the
/// workers and the records are read once.
struct Reader<'a> {
    cap: Capture,
    shard: ShardKey<'a>,
    clock: Clock,
    /// Records read so far.
    number: u32,
    /// Per worker: its frames read so far in the current buffer.
    frames: Vec<Vec<(Frame, Range<usize>)>>,
    /// Empty once the last buffer is dealt, or a worker is gone.
    workers: Vec<SyncSender<Arc<Chunk>>>,
    /// Buffers every worker is done with, back for reuse.
    reuse: Receiver<Chunk>,
    /// How the capture ended.
    end: Sender<Option<CaptureError>>,
}

impl Reader<'_> {
    /// Reads records until one buffer's worth is dealt out, or to the end.
    fn deal_buffer(&mut self) {
        let n = self.workers.len();
        loop {
            let next = match self.cap.next_record_at() {
                Ok(Some((rec, at))) => {
                    self.number = self.number.saturating_add(1);
                    let w = shard_of((self.shard)(rec.linktype, rec.data), n);
                    Ok(Some((self.clock.frame(self.number, &rec), at, w)))
                }
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            };
            // The frames so far are complete once reading moved past their buffer.
            let dealt = match self.cap.retired_buffer() {
                Some(full) if self.frames.iter().any(|f| !f.is_empty()) => {
                    self.deal(full, false);
                    true
                }
                _ => false,
            };
            match next {
                Ok(Some((frame, at, w))) => {
                    if let Some(mine) = self.frames.get_mut(usize::from(w)) {
                        mine.push((frame, at));
                    }
                    if dealt {
                        return;
                    }
                }
                end => {
                    // Said before the last buffer, whose round the merge ends with.
                    let _ = self.end.send(end.err());
                    let rest = self.cap.take_buffer();
                    self.deal(rest, true);
                    self.workers.clear();
                    return;
                }
            }
        }
    }

    /// Sends every worker the frames read so far, which sit in `bytes`.
    fn deal(&mut self, bytes: Vec<u8>, last: bool) {
        let mut spare = self.reuse.try_recv().unwrap_or_default();
        self.cap.recycle_buffer(std::mem::take(&mut spare.bytes));
        spare.frames.iter_mut().for_each(Vec::clear);
        spare.frames.resize_with(self.workers.len(), Vec::new);
        let chunk = Arc::new(Chunk {
            bytes,
            frames: std::mem::replace(&mut self.frames, spare.frames),
            last,
        });
        if !self
            .workers
            .iter()
            .all(|w| w.send(Arc::clone(&chunk)).is_ok())
        {
            // A worker is gone: the merge stopped, so the others stop too.
            self.workers.clear();
        }
    }
}

/// The reader, taken by a worker. Should the worker panic while reading,
/// no buffer will come: the reader lets the workers waiting for one go.
struct Reading<'a>(MutexGuard<'a, Reader<'a>>);

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.workers.clear();
        }
    }
}

/// What the workers share: the reader, and how many buffers it dealt.
#[derive(Clone, Copy)]
struct Shared<'a> {
    reader: &'a Mutex<Reader<'a>>,
    dealt: &'a AtomicU64,
}

/// What a worker needs besides what the workers share and its queues.
struct Worker<'a> {
    setup: &'a Setup<'a>,
    /// Its shard.
    me: u8,
    filter: Option<Filter>,
    rows: Option<Box<dyn Rows + Send>>,
}

impl Worker<'_> {
    /// Dissects and filters the frames of its shard, buffer by buffer,
    /// reading the next buffers whenever it has fewer than `AHEAD` waiting
    /// and no other worker is reading.
    fn work(
        mut self,
        shared: Shared<'_>,
        chunks: Receiver<Arc<Chunk>>,
        results: Lane<Results>,
        reuse: Sender<Chunk>,
    ) {
        let setup = self.setup;
        let mut table = FieldTable::new();
        table.set_wanted(setup.wanted.to_vec());
        table.set_frame_only(setup.frame_only);
        table.set_labels(setup.labels);
        let mut notes = Notes::discarding();
        let mut pass = Pass {
            reg: setup.reg,
            ds: (setup.build)(setup.demand),
            table: &mut table,
            notes: &mut notes,
            clock: Clock::default(),
            frame: None,
            cols: setup.columns.then(Columns::new),
        };
        let mut out = results.spare();
        out.clear();
        let mut done: u64 = 0;
        loop {
            while shared.dealt.load(Ordering::Acquire).saturating_sub(done) < AHEAD {
                let Ok(reader) = shared.reader.try_lock() else {
                    break;
                };
                let mut reader = Reading(reader);
                if reader.0.workers.is_empty() {
                    break;
                }
                reader.0.deal_buffer();
                shared.dealt.fetch_add(1, Ordering::Release);
            }
            // Empty and no reader left: the capture ended or the merge stopped.
            let Ok(chunk) = chunks.recv() else { break };
            done += 1;
            let mine = chunk.frames.get(usize::from(self.me)).map(Vec::as_slice);
            for (frame, range) in mine.unwrap_or_default() {
                let data = chunk.bytes.get(range.clone()).unwrap_or_default();
                self.one(&mut pass, frame, data, &mut out);
            }
            let last = chunk.last;
            out.last = last;
            // The last worker done with a buffer hands it back to the reader.
            if let Some(chunk) = Arc::into_inner(chunk) {
                let _ = reuse.send(chunk);
            }
            let round_done = last || done.is_multiple_of(ROUND_BUFFERS);
            if round_done && (!results.pass_on(&mut out) || last) {
                break;
            }
        }
        retire(pass.ds, setup.exiting);
    }

    /// Dissects one frame, keeping what the merge needs of it.
    fn one(&mut self, pass: &mut Pass<'_>, frame: &Frame, data: &[u8], out: &mut Results) {
        pass.dissect(frame, data);
        let t = &*pass.table;
        let shown = self.filter.as_ref().is_none_or(|f| f.matches(t));
        out.indices.extend_from_slice(t.new_indices());
        match self.rows.as_mut() {
            Some(rows) => {
                if shown {
                    rows.row(frame, t, pass.cols.as_ref(), &mut out.rows, &mut out.holes);
                }
            }
            None => {
                out.whole.push(*frame);
                if shown {
                    out.entries.extend_from_slice(t.entries());
                    out.arena.extend_from_slice(t.arena());
                }
            }
        }
        out.frames.push(FrameResult {
            number: frame.number,
            ts: frame.ts,
            shown,
            ends: Ends {
                entries: out.entries.len(),
                arena: out.arena.len(),
                indices: out.indices.len(),
                row: out.rows.len(),
                holes: out.holes.len(),
            },
        });
    }
}

/// Renumbers index fields in frame order: each worker's n-th new value of
/// a field becomes the next value of that field across all workers.
struct Renumber {
    /// The index fields (a handful).
    fields: Vec<FieldId>,
    /// Per field: its next global value.
    next: Vec<u64>,
    /// Per worker and field (`worker * fields.len() + field`): the global
    /// value of each local one.
    global: Vec<Vec<u64>>,
}

impl Renumber {
    fn new(fields: &[FieldId], workers: usize) -> Renumber {
        Renumber {
            fields: fields.to_vec(),
            next: vec![0; fields.len()],
            global: vec![Vec::new(); fields.len().saturating_mul(workers)],
        }
    }

    fn slot(&self, worker: usize, field: FieldId) -> Option<(usize, usize)> {
        let f = self.fields.iter().position(|&x| x == field)?;
        Some((f, worker.checked_mul(self.fields.len())?.checked_add(f)?))
    }

    fn new_value(&mut self, worker: usize, field: FieldId) {
        let Some((f, slot)) = self.slot(worker, field) else {
            return;
        };
        if let (Some(next), Some(map)) = (self.next.get_mut(f), self.global.get_mut(slot)) {
            map.push(*next);
            *next = next.saturating_add(1);
        }
    }

    /// The global value of a worker's local one (itself if unknown).
    fn global(&self, worker: usize, field: FieldId, local: u64) -> u64 {
        self.slot(worker, field)
            .and_then(|(_, slot)| self.global.get(slot))
            .and_then(|map| map.get(usize::try_from(local).ok()?))
            .copied()
            .unwrap_or(local)
    }

    fn apply(&self, worker: usize, e: &mut Entry) {
        if let Value::U(local) = &mut e.value {
            *local = self.global(worker, e.field, *local);
        }
    }
}

/// The calling thread: puts the workers' frames back in order and shows them.
fn merge(
    opts: &RunOptions,
    reg: &Registry,
    workers: Vec<LaneEnd<Results>>,
    end: Receiver<Option<CaptureError>>,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    let delta_displayed = reg.lookup("frame.time_delta_displayed");
    let mut renumber = Renumber::new(reg.indices(), workers.len());
    let mut table = FieldTable::new();
    let mut prev_displayed: Option<Timestamp> = None;
    let mut shown: u64 = 0;
    // Rows made by the workers, written in chunks.
    let mut out: Vec<u8> = Vec::new();
    let mut text = String::new();
    let mut results = Vec::with_capacity(workers.len());
    let mut next = Vec::with_capacity(workers.len());
    'rounds: loop {
        for w in &workers {
            // A worker that is gone panicked; its frames cannot be shown.
            let Ok(r) = w.full.recv() else { return Ok(()) };
            results.push(r);
        }
        let last = results.iter().any(|r| r.last);
        next.clear();
        next.resize(workers.len(), 0usize);
        // The round's frames in order: each worker's are, so the next is
        // the lowest-numbered of the workers' next ones.
        loop {
            let mut pick: Option<(usize, u32)> = None;
            for (w, (r, &i)) in results.iter().zip(&next).enumerate() {
                if let Some(fr) = r.frames.get(i) {
                    if pick.is_none_or(|(_, n)| fr.number < n) {
                        pick = Some((w, fr.number));
                    }
                }
            }
            let Some((w, _)) = pick else {
                break;
            };
            let (Some(r), Some(i)) = (results.get(w), next.get_mut(w)) else {
                break;
            };
            let (Some(fr), (from, to)) = (r.frames.get(*i), r.parts(*i)) else {
                break;
            };
            let whole = r.whole.get(*i);
            *i += 1;
            for &field in r.indices.get(from.indices..to.indices).unwrap_or_default() {
                renumber.new_value(w, field);
            }
            if !fr.shown {
                continue;
            }
            let delta = prev_displayed.map_or(0, |p| fr.ts.nanos_since(p));
            prev_displayed = Some(fr.ts);
            shown += 1;
            if let Some(whole) = whole {
                let mut frame = *whole;
                frame.delta_displayed_nanos = delta;
                table.load(
                    r.entries.get(from.entries..to.entries).unwrap_or_default(),
                    r.arena.get(from.arena..to.arena).unwrap_or_default(),
                );
                for e in table.entries_mut() {
                    if Some(e.field) == delta_displayed {
                        e.value = Value::RelTime(delta);
                    } else {
                        renumber.apply(w, e);
                    }
                }
                sink.frame(&frame, &[], &table).map_err(RunError::Output)?;
            } else {
                let mut at = from.row;
                for h in r.holes.get(from.holes..to.holes).unwrap_or_default() {
                    out.extend_from_slice(r.rows.get(at..h.at).unwrap_or_default());
                    let value = if Some(h.field) == delta_displayed {
                        Value::RelTime(delta)
                    } else {
                        Value::U(renumber.global(w, h.field, h.value))
                    };
                    // As the worker wrote the value it stands for.
                    write_cell_bytes(&mut out, &mut text, reg.def(h.field), &value, &table);
                    at = h.at.saturating_add(h.len);
                }
                out.extend_from_slice(r.rows.get(at..to.row).unwrap_or_default());
                if out.len() >= FLUSH {
                    sink.write_rows(&out).map_err(RunError::Output)?;
                    out.clear();
                }
            }
            if opts.count.is_some_and(|c| shown >= c) {
                break 'rounds;
            }
        }
        for (w, r) in workers.iter().zip(results.drain(..)) {
            let _ = w.empty.send(r);
        }
        if last {
            sink.write_rows(&out).map_err(RunError::Output)?;
            return match end.recv() {
                Ok(Some(e)) => Err(RunError::Capture(e)),
                _ => Ok(()),
            };
        }
    }
    // `-c` was reached, or the reader is gone without saying how the
    // capture ended (it panicked).
    sink.write_rows(&out).map_err(RunError::Output)
}
