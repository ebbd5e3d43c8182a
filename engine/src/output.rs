//! Printers for `-T fields`, `-T json -e` and `-T ek -e`, behind one trait.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::dissect::Frame;
use crate::fields::{FieldId, Registry};
use crate::format::{push_csv_escaped, utc_date, write_value};
use crate::table::FieldTable;

/// Receives the frames that passed the filter.
pub trait Sink {
    fn begin(&mut self) -> io::Result<()>;
    fn frame(&mut self, frame: &Frame, t: &FieldTable) -> io::Result<()>;
    fn end(&mut self) -> io::Result<()>;

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
    fn row(&mut self, reg: &Registry, t: &FieldTable, out: &mut Vec<u8>, holes: &mut Vec<Hole>);
}

/// A value in a row that only the merge of `-j` can write: its place (from
/// the row's start), the field, and the value the worker had.
#[derive(Clone, Copy, Debug)]
pub struct Hole {
    pub at: usize,
    pub len: usize,
    pub field: FieldId,
    pub value: u64,
}

/// Which occurrences of a repeated field print (`-E occurrence`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occurrence {
    All,
    First,
    Last,
}

/// The `-E` knobs of `-T fields`.
#[derive(Clone, Debug)]
pub struct FieldsOptions {
    pub header: bool,
    pub separator: String,
    pub quote: Option<char>,
    pub occurrence: Occurrence,
    pub aggregator: String,
    pub bom: bool,
}

impl Default for FieldsOptions {
    fn default() -> Self {
        FieldsOptions {
            header: false,
            separator: "\t".to_string(),
            quote: None,
            occurrence: Occurrence::All,
            aggregator: ",".to_string(),
            bom: false,
        }
    }
}

/// The values of one column for the current frame, kept in one buffer so
/// that filling a row allocates nothing once the buffers have grown.
#[derive(Clone, Default)]
struct Cell {
    buf: String,
    /// End offset in `buf` of each value.
    ends: Vec<usize>,
    /// Values that are holes: (value index, field, raw value).
    holes: Vec<(usize, FieldId, u64)>,
}

impl Cell {
    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
        self.holes.clear();
    }

    /// The hole at value `i`, if that value is one.
    fn hole(&self, i: usize) -> Option<(FieldId, u64)> {
        self.holes
            .iter()
            .find(|h| h.0 == i)
            .map(|&(_, field, value)| (field, value))
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`th value.
    fn get(&self, i: usize) -> &str {
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.buf.get(start..end).unwrap_or_default()
    }

    /// Values `from..to`, in order.
    fn range(&self, from: usize, to: usize) -> impl Iterator<Item = &str> {
        (from..to.min(self.len())).map(move |i| self.get(i))
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        self.range(0, self.len())
    }
}

/// The requested columns and, per field id, the column it fills.
#[derive(Clone)]
struct Columns {
    ids: Vec<FieldId>,
    column_of: Vec<Option<usize>>,
    /// Per field id: its values are holes (see [`Sink::rows`]).
    hole: Vec<bool>,
}

impl Columns {
    fn new(reg: &Registry, ids: Vec<FieldId>) -> Self {
        let mut column_of = vec![None; reg.len()];
        for (i, id) in ids.iter().enumerate() {
            if let Some(slot) = column_of.get_mut(id.index()) {
                if slot.is_none() {
                    *slot = Some(i);
                }
            }
        }
        Columns {
            ids,
            column_of,
            hole: Vec::new(),
        }
    }

    /// Collects every value of every column, in tree order, into `cells`.
    fn fill(&self, reg: &Registry, t: &FieldTable, cells: &mut [Cell]) {
        for c in cells.iter_mut() {
            c.clear();
        }
        for e in t.entries() {
            let Some(Some(col)) = self.column_of.get(e.field.index()) else {
                continue;
            };
            if let Some(cell) = cells.get_mut(*col) {
                if self.hole.get(e.field.index()).copied().unwrap_or(false) {
                    let raw = match e.value {
                        crate::table::Value::U(v) => v,
                        _ => 0,
                    };
                    cell.holes.push((cell.ends.len(), e.field, raw));
                }
                write_value(&mut cell.buf, reg.def(e.field), &e.value, t);
                cell.ends.push(cell.buf.len());
            }
        }
        // A field named twice on the command line fills both columns.
        for (i, id) in self.ids.iter().enumerate() {
            if self.column_of.get(id.index()).copied().flatten() != Some(i) {
                let (first, rest) = cells.split_at_mut(i);
                if let (Some(src), Some(dst)) = (
                    self.column_of
                        .get(id.index())
                        .copied()
                        .flatten()
                        .and_then(|c| first.get(c)),
                    rest.first_mut(),
                ) {
                    dst.clone_from(src);
                }
            }
        }
    }
}

/// `-T fields`.
pub struct FieldsPrinter<'r, W: Write> {
    reg: &'r Registry,
    out: W,
    rows: FieldsRows,
    buf: Vec<u8>,
    holes: Vec<Hole>,
}

/// The rows of `-T fields`: one line per frame, on its own.
#[derive(Clone)]
struct FieldsRows {
    cols: Columns,
    opts: FieldsOptions,
    cells: Vec<Cell>,
    line: String,
}

impl<'r, W: Write> FieldsPrinter<'r, W> {
    pub fn new(reg: &'r Registry, ids: Vec<FieldId>, opts: FieldsOptions, out: W) -> Self {
        let n = ids.len();
        FieldsPrinter {
            reg,
            out,
            rows: FieldsRows {
                cols: Columns::new(reg, ids),
                opts,
                cells: vec![Cell::default(); n],
                line: String::new(),
            },
            buf: Vec::new(),
            holes: Vec::new(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl Rows for FieldsRows {
    fn row(&mut self, reg: &Registry, t: &FieldTable, out: &mut Vec<u8>, holes: &mut Vec<Hole>) {
        self.cols.fill(reg, t, &mut self.cells);
        let start = out.len();
        let line = &mut self.line;
        line.clear();
        for (i, cell) in self.cells.iter().enumerate() {
            if i > 0 {
                line.push_str(&self.opts.separator);
            }
            let (from, to) = match self.opts.occurrence {
                Occurrence::All => (0, cell.len()),
                Occurrence::First => (0, cell.len().min(1)),
                Occurrence::Last => (cell.len().saturating_sub(1), cell.len()),
            };
            if from >= to {
                continue;
            }
            if let Some(q) = self.opts.quote {
                line.push(q);
            }
            for (j, v) in cell.range(from, to).enumerate() {
                if j > 0 {
                    line.push_str(&self.opts.aggregator);
                }
                let at = line.len();
                push_csv_escaped(line, v);
                if let Some((field, value)) = cell.hole(from + j) {
                    holes.push(Hole {
                        at: start + at,
                        len: line.len() - at,
                        field,
                        value,
                    });
                }
            }
            if let Some(q) = self.opts.quote {
                line.push(q);
            }
        }
        line.push('\n');
        out.extend_from_slice(line.as_bytes());
    }
}

impl<W: Write> Sink for FieldsPrinter<'_, W> {
    fn begin(&mut self) -> io::Result<()> {
        if self.rows.opts.bom {
            self.out.write_all("\u{feff}".as_bytes())?;
        }
        if self.rows.opts.header {
            let names: Vec<&str> = self
                .rows
                .cols
                .ids
                .iter()
                .map(|id| self.reg.def(*id).abbrev)
                .collect();
            self.out
                .write_all(names.join(&self.rows.opts.separator).as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn frame(&mut self, _frame: &Frame, t: &FieldTable) -> io::Result<()> {
        self.buf.clear();
        self.rows.row(self.reg, t, &mut self.buf, &mut self.holes);
        self.holes.clear();
        self.out.write_all(&self.buf)
    }

    fn end(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn rows(&self, reg: &Registry, holes: &[FieldId]) -> Option<Box<dyn Rows + Send>> {
        let mut rows = self.rows.clone();
        rows.cols.hole = vec![false; reg.len()];
        for h in holes {
            if let Some(slot) = rows.cols.hole.get_mut(h.index()) {
                *slot = true;
            }
        }
        Some(Box::new(rows))
    }

    fn write_rows(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }
}

/// `-T json -e` and `-T ek -e`.
pub struct JsonPrinter<'r, W: Write> {
    reg: &'r Registry,
    out: W,
    cols: Columns,
    ek: bool,
    cells: Vec<Cell>,
    buf: String,
    count: u64,
}

impl<'r, W: Write> JsonPrinter<'r, W> {
    pub fn new(reg: &'r Registry, ids: Vec<FieldId>, ek: bool, out: W) -> Self {
        let n = ids.len();
        JsonPrinter {
            reg,
            out,
            cols: Columns::new(reg, ids),
            ek,
            cells: vec![Cell::default(); n],
            buf: String::new(),
            count: 0,
        }
    }
}

/// JSON string escaping as Wireshark's json_dumper does it.
pub fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl<W: Write> Sink for JsonPrinter<'_, W> {
    fn begin(&mut self) -> io::Result<()> {
        if !self.ek {
            self.out.write_all(b"[")?;
        }
        Ok(())
    }

    fn frame(&mut self, frame: &Frame, t: &FieldTable) -> io::Result<()> {
        self.cols.fill(self.reg, t, &mut self.cells);
        let (y, m, d) = utc_date(frame.ts);
        let b = &mut self.buf;
        b.clear();
        if self.ek {
            let _ = writeln!(
                b,
                "{{\"index\":{{\"_index\":\"packets-{y:04}-{m:02}-{d:02}\",\"_type\":\"doc\"}}}}"
            );
            let millis = frame.ts.as_nanos() / 1_000_000;
            let _ = write!(b, "{{\"timestamp\":\"{millis}\",\"layers\":{{");
            let mut first = true;
            for (i, cell) in self.cells.iter().enumerate() {
                let Some(id) = self.cols.ids.get(i) else {
                    continue;
                };
                if cell.is_empty() {
                    continue;
                }
                if !first {
                    b.push(',');
                }
                first = false;
                push_json_string(b, &self.reg.def(*id).abbrev.replace('.', "_"));
                b.push_str(":[");
                for (j, v) in cell.iter().enumerate() {
                    if j > 0 {
                        b.push(',');
                    }
                    push_json_string(b, v);
                }
                b.push(']');
            }
            b.push_str("}}\n");
        } else {
            if self.count > 0 {
                b.push(',');
            }
            let _ = write!(
                b,
                "\n  {{\n    \"_index\": \"packets-{y:04}-{m:02}-{d:02}\",\n    \"_type\": \"doc\",\n    \"_score\": null,\n    \"_source\": {{\n      \"layers\": {{"
            );
            let mut first = true;
            for (i, cell) in self.cells.iter().enumerate() {
                let Some(id) = self.cols.ids.get(i) else {
                    continue;
                };
                if cell.is_empty() {
                    continue;
                }
                b.push_str(if first { "\n" } else { ",\n" });
                first = false;
                b.push_str("        ");
                push_json_string(b, self.reg.def(*id).abbrev);
                b.push_str(": [");
                for (j, v) in cell.iter().enumerate() {
                    b.push_str(if j > 0 { ",\n" } else { "\n" });
                    b.push_str("          ");
                    push_json_string(b, v);
                }
                b.push_str("\n        ]");
            }
            b.push_str("\n      }\n    }\n  }");
        }
        self.count += 1;
        self.out.write_all(self.buf.as_bytes())
    }

    fn end(&mut self) -> io::Result<()> {
        if !self.ek {
            if self.count > 0 {
                self.out.write_all(b"\n]\n")?;
            } else {
                self.out.write_all(b"]\n")?;
            }
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{Base, FieldDef, FieldType};

    fn setup() -> (Registry, FieldId, FieldId) {
        let mut reg = Registry::new();
        let a = reg.add(FieldDef::new("a.n", "N", FieldType::U32, Base::Dec));
        let b = reg.add(FieldDef::new("b.s", "S", FieldType::String, Base::None));
        (reg, a, b)
    }

    #[test]
    fn fields_rows_join_occurrences_and_quote_non_empty_cells() {
        let (reg, a, b) = setup();
        let mut t = FieldTable::new();
        t.push_u(a, 1u8);
        t.push_u(a, 2u8);
        let opts = FieldsOptions {
            quote: Some('"'),
            header: true,
            ..FieldsOptions::default()
        };
        let mut p = FieldsPrinter::new(&reg, vec![a, b, a], opts, Vec::new());
        p.begin().expect("begin");
        p.frame(&Frame::default(), &t).expect("frame");
        p.end().expect("end");
        let out = String::from_utf8(p.into_inner()).expect("utf8");
        assert_eq!(out, "a.n\tb.s\ta.n\n\"1,2\"\t\t\"1,2\"\n");
    }

    #[test]
    fn occurrence_last_keeps_one_value() {
        let (reg, a, _) = setup();
        let mut t = FieldTable::new();
        t.push_u(a, 1u8);
        t.push_u(a, 2u8);
        let opts = FieldsOptions {
            occurrence: Occurrence::Last,
            ..FieldsOptions::default()
        };
        let mut p = FieldsPrinter::new(&reg, vec![a], opts, Vec::new());
        p.frame(&Frame::default(), &t).expect("frame");
        assert_eq!(p.into_inner(), b"2\n");
    }

    #[test]
    fn json_with_no_frames_is_an_empty_array() {
        let (reg, a, _) = setup();
        let mut p = JsonPrinter::new(&reg, vec![a], false, Vec::new());
        p.begin().expect("begin");
        p.end().expect("end");
        assert_eq!(p.out, b"[]\n");
    }
}
