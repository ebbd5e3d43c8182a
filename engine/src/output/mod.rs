//! Every per-frame output behind one trait, [`Sink`]: the printers of
//! `-T fields` ([`fields`]) and `-T json|ek -e` ([`json`]), and [`Discard`]
//! for `-q`. The CLI picks one sink per run; the packet loop hands it each
//! shown frame with its bytes and its field table. A new output (the text
//! view, Parquet, capture writing) is one more module here implementing
//! [`Sink`].
//!
//! May depend on: fields, table, format, dissect (for [`Frame`]); never on
//! a dissector, a tap or the packet loop.

use std::io;

use crate::columns::Columns;
use crate::dissect::Frame;
use crate::fields::{FieldId, Registry};
use crate::table::FieldTable;

pub mod fields;
pub mod json;
pub mod text;

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

    /// Whether [`Sink::frame`] reads the record's bytes (a capture
    /// writer); such a sink is fed by one thread.
    fn reads_data(&self) -> bool {
        false
    }

    /// A formatter of this sink's rows for a worker thread (`-j`), leaving
    /// a [`Hole`] where a value of one of `holes` is written; `None` when
    /// a row depends on the rows before it.
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
    /// values of the hole fields sit in it.
    fn row(&mut self, t: &FieldTable, out: &mut Vec<u8>, holes: &mut Vec<Hole>);
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
