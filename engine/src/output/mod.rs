//! Every per-frame output behind one trait, [`Sink`]: the printers of
//! `-T fields` ([`fields`]) and `-T json|ek -e` ([`json`]), and [`Discard`]
//! for `-q`, the text view ([`text`]) and capture writing ([`capture`],
//! `-w`). The CLI picks one sink per run ([`Tee`] for two, `-P -w`); the
//! packet loop hands it each shown frame with its bytes and its field
//! table. A new output (Parquet) is one more module here implementing
//! [`Sink`].
//!
//! May depend on: fields, table, format, dissect (for [`Frame`]), capture
//! (for the records a writer copies); never on a dissector, a tap or the
//! packet loop.

use std::io;

use crate::capture::{Interface, Record};
use crate::columns::Columns;
use crate::dissect::Frame;
use crate::fields::{FieldId, Registry};
use crate::table::FieldTable;

pub mod capture;
pub mod fields;
pub mod json;
pub mod text;

pub use capture::{CaptureFormat, CaptureWriter};
pub use fields::{FieldsOptions, FieldsPrinter, Occurrence};
pub use json::{push_json_string, JsonPrinter};
pub use text::{TextOptions, TextPrinter, TimeFormat};

/// Receives the frames that passed the filter.
pub trait Sink {
    fn begin(&mut self) -> io::Result<()>;
    /// One shown frame: its record's bytes (`data`, empty when the sink
    /// said it does not read them, see [`Sink::reads_data`]) and what the
    /// dissectors made of it.
    fn frame(&mut self, frame: &Frame, data: &[u8], t: &FieldTable) -> io::Result<()>;
    fn end(&mut self) -> io::Result<()>;

    /// Whether the sink prints the summary columns: the dissectors then
    /// fill them and [`Sink::frame_columns`] is called instead of
    /// [`Sink::frame`].
    fn wants_columns(&self) -> bool {
        false
    }

    /// A shown frame with its summary columns (see [`Sink::wants_columns`]).
    fn frame_columns(
        &mut self,
        frame: &Frame,
        data: &[u8],
        t: &FieldTable,
        _cols: &Columns,
    ) -> io::Result<()> {
        self.frame(frame, data, t)
    }

    /// Whether the sink writes the records themselves (a capture writer):
    /// [`Sink::record`] follows [`Sink::frame`] for each shown frame, and
    /// the run is one thread, reading the capture in order.
    fn reads_records(&self) -> bool {
        false
    }

    /// The capture was opened: whether it is pcapng, and its (first)
    /// section's options.
    fn capture_opened(&mut self, _pcapng: bool, _section_options: &[u8]) {}

    /// A shown frame's record as the capture stored it.
    fn record(&mut self, _frame: &Frame, _rec: &Record<'_>) -> io::Result<()> {
        Ok(())
    }

    /// The capture ended: every interface it described.
    fn capture_ended(&mut self, _interfaces: &[Interface]) -> io::Result<()> {
        Ok(())
    }

    /// A formatter of this sink's rows for a worker thread (`-j`), leaving
    /// a [`Hole`] where a value of one of `holes` is written; `None` when
    /// a row depends on the rows before it. A sink that wants columns runs
    /// on several threads only if it has one.
    fn rows(&self, _reg: &Registry, _holes: &[FieldId]) -> Option<Box<dyn Rows + Send>> {
        None
    }

    /// Writes rows a [`Rows`] made, in frame order.
    fn write_rows(&mut self, _bytes: &[u8]) -> io::Result<()> {
        Ok(())
    }
}

/// Formats the rows of a [`Sink`] away from it.
pub trait Rows {
    /// Appends the row of a shown frame to `out`, and to `holes` where the
    /// values of the hole fields sit in it; `cols` are its summary columns
    /// when the sink wants them.
    fn row(
        &mut self,
        frame: &Frame,
        t: &FieldTable,
        cols: Option<&Columns>,
        out: &mut Vec<u8>,
        holes: &mut Vec<Hole>,
    );
}

/// A value in a row that only the merge of `-j` can write: its place (in
/// the buffer the row was appended to), the field, and the value the
/// worker had.
#[derive(Clone, Copy, Debug)]
pub struct Hole {
    pub at: usize,
    pub len: usize,
    pub field: FieldId,
    pub value: u64,
}

/// Discards frames (`-q`, or a run whose only output is its taps).
pub struct Discard;

impl Sink for Discard {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn frame(&mut self, _: &Frame, _: &[u8], _: &FieldTable) -> io::Result<()> {
        Ok(())
    }
    fn end(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Two sinks fed the same frames: the summary printed while writing
/// (`-P -w`). The first one's rows come first; neither is split over
/// threads.
pub struct Tee<'a>(pub Box<dyn Sink + 'a>, pub Box<dyn Sink + 'a>);

impl Sink for Tee<'_> {
    fn begin(&mut self) -> io::Result<()> {
        self.0.begin()?;
        self.1.begin()
    }
    fn frame(&mut self, f: &Frame, data: &[u8], t: &FieldTable) -> io::Result<()> {
        self.0.frame(f, data, t)?;
        self.1.frame(f, data, t)
    }
    fn end(&mut self) -> io::Result<()> {
        let a = self.0.end();
        self.1.end().and(a)
    }
    fn wants_columns(&self) -> bool {
        self.0.wants_columns() || self.1.wants_columns()
    }
    fn frame_columns(
        &mut self,
        f: &Frame,
        data: &[u8],
        t: &FieldTable,
        cols: &Columns,
    ) -> io::Result<()> {
        self.0.frame_columns(f, data, t, cols)?;
        self.1.frame_columns(f, data, t, cols)
    }
    fn reads_records(&self) -> bool {
        self.0.reads_records() || self.1.reads_records()
    }
    fn capture_opened(&mut self, pcapng: bool, section_options: &[u8]) {
        self.0.capture_opened(pcapng, section_options);
        self.1.capture_opened(pcapng, section_options);
    }
    fn record(&mut self, f: &Frame, rec: &Record<'_>) -> io::Result<()> {
        self.0.record(f, rec)?;
        self.1.record(f, rec)
    }
    fn capture_ended(&mut self, interfaces: &[Interface]) -> io::Result<()> {
        self.0.capture_ended(interfaces)?;
        self.1.capture_ended(interfaces)
    }
}
