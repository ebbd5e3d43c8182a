//! Printers for `-T fields`, `-T json -e` and `-T ek -e`, behind one trait.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::dissect::Frame;
use crate::fields::{FieldDef, FieldId, Registry};
use crate::format::{utc_date, write_cell_bytes, write_value};
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
}

impl Cell {
    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
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
    /// Per field id, its first column, or [`NO_COLUMN`]: four bytes an
    /// entry so that the lookup of every entry of every frame stays in
    /// the first-level cache.
    column_of: Vec<u32>,
    /// The declaration of each column's field, copied out of the registry.
    defs: Vec<FieldDef>,
}

const NO_COLUMN: u32 = u32::MAX;

impl Columns {
    fn new(reg: &Registry, ids: Vec<FieldId>) -> Self {
        let mut column_of = vec![NO_COLUMN; reg.len()];
        for (i, id) in ids.iter().enumerate() {
            if let (Some(slot), Ok(i)) = (column_of.get_mut(id.index()), u32::try_from(i)) {
                if *slot == NO_COLUMN {
                    *slot = i;
                }
            }
        }
        let defs = ids.iter().map(|id| *reg.def(*id)).collect();
        Columns {
            ids,
            column_of,
            defs,
        }
    }

    /// The first column of a field, if it has one.
    #[inline]
    fn col(&self, id: FieldId) -> Option<usize> {
        match self.column_of.get(id.index()) {
            Some(&c) if c != NO_COLUMN => Some(c as usize),
            _ => None,
        }
    }

    /// Collects every value of every column, in tree order, into `cells`.
    fn fill(&self, reg: &Registry, t: &FieldTable, cells: &mut [Cell]) {
        for c in cells.iter_mut() {
            c.clear();
        }
        for e in t.entries() {
            let Some(col) = self.col(e.field) else {
                continue;
            };
            if let Some(cell) = cells.get_mut(col) {
                write_value(&mut cell.buf, reg.def(e.field), &e.value, t);
                cell.ends.push(cell.buf.len());
            }
        }
        // A field named twice on the command line fills both columns.
        for (i, id) in self.ids.iter().enumerate() {
            if self.col(*id) != Some(i) {
                let (first, rest) = cells.split_at_mut(i);
                if let (Some(src), Some(dst)) =
                    (self.col(*id).and_then(|c| first.get(c)), rest.first_mut())
                {
                    dst.clone_from(src);
                }
            }
        }
    }
}

/// Appends a separator: mostly one byte, which needs no `memcpy` call.
#[inline]
fn push_short(line: &mut Vec<u8>, s: &[u8]) {
    match s {
        [b] => line.push(*b),
        _ => line.extend_from_slice(s),
    }
}

/// `-T fields`.
pub struct FieldsPrinter<'r, W: Write> {
    reg: &'r Registry,
    out: W,
    rows: FieldsRows,
    line: Vec<u8>,
}

/// The rows of `-T fields`: one line per frame, on its own.
#[derive(Clone)]
struct FieldsRows {
    cols: Columns,
    opts: FieldsOptions,
    /// Per column, the indices in the frame's table of its values, in tree
    /// order (only the first of several columns naming one field is filled).
    slots: Vec<Vec<u32>>,
    /// For the value forms that are formatted through a `String`.
    scratch: String,
    /// Per field id: its values are holes (see [`Sink::rows`]); empty when
    /// none is.
    hole: Vec<bool>,
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
                slots: vec![Vec::new(); n],
                scratch: String::new(),
                hole: Vec::new(),
            },
            line: Vec::new(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Sink for FieldsPrinter<'_, W> {
    fn begin(&mut self) -> io::Result<()> {
        let opts = &self.rows.opts;
        if opts.bom {
            self.out.write_all("\u{feff}".as_bytes())?;
        }
        if opts.header {
            let names: Vec<&str> = self
                .rows
                .cols
                .ids
                .iter()
                .map(|id| self.reg.def(*id).abbrev)
                .collect();
            self.out.write_all(names.join(&opts.separator).as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn frame(&mut self, _frame: &Frame, t: &FieldTable) -> io::Result<()> {
        self.line.clear();
        self.rows.line(t, &mut self.line, None);
        self.out.write_all(&self.line)
    }

    fn end(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn rows(&self, reg: &Registry, holes: &[FieldId]) -> Option<Box<dyn Rows + Send>> {
        let mut rows = self.rows.clone();
        rows.hole = vec![false; reg.len()];
        for h in holes {
            if let Some(slot) = rows.hole.get_mut(h.index()) {
                *slot = true;
            }
        }
        Some(Box::new(rows))
    }

    fn write_rows(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }
}

impl Rows for FieldsRows {
    fn row(&mut self, t: &FieldTable, out: &mut Vec<u8>, holes: &mut Vec<Hole>) {
        self.line(t, out, Some(holes));
    }
}

impl FieldsRows {
    /// Appends the row to `line`: each value is formatted and escaped in
    /// place, with no per-cell buffers. With `holes`, notes where in `line`
    /// the values of the hole fields sit.
    fn line(&mut self, t: &FieldTable, line: &mut Vec<u8>, mut holes: Option<&mut Vec<Hole>>) {
        if self.cols.ids.len() == 1 && self.opts.occurrence == Occurrence::All {
            self.single_column(t, line, holes);
            return;
        }
        for s in self.slots.iter_mut() {
            s.clear();
        }
        let entries = t.entries();
        for (n, e) in entries.iter().enumerate() {
            let Some(col) = self.cols.col(e.field) else {
                continue;
            };
            if let (Some(s), Ok(n)) = (self.slots.get_mut(col), u32::try_from(n)) {
                s.push(n);
            }
        }
        for (i, id) in self.cols.ids.iter().enumerate() {
            if i > 0 {
                push_short(line, self.opts.separator.as_bytes());
            }
            // A field named twice on the command line fills both columns.
            let col = self.cols.col(*id).unwrap_or(i);
            // Every value of the column is of its field.
            let Some(def) = self.cols.defs.get(col) else {
                continue;
            };
            let all = self.slots.get(col).map(Vec::as_slice).unwrap_or_default();
            let picked = match self.opts.occurrence {
                Occurrence::All => all,
                Occurrence::First => all.get(..all.len().min(1)).unwrap_or_default(),
                Occurrence::Last => all.get(all.len().saturating_sub(1)..).unwrap_or_default(),
            };
            if picked.is_empty() {
                continue;
            }
            let mut quote = [0u8; 4];
            let quote = self
                .opts
                .quote
                .map(|q| q.encode_utf8(&mut quote).as_bytes())
                .unwrap_or_default();
            line.extend_from_slice(quote);
            for (j, &n) in picked.iter().enumerate() {
                if j > 0 {
                    push_short(line, self.opts.aggregator.as_bytes());
                }
                if let Some(e) = entries.get(n as usize) {
                    let at = line.len();
                    write_cell_bytes(line, &mut self.scratch, def, &e.value, t);
                    note_hole(&self.hole, holes.as_deref_mut(), e, at, line.len());
                }
            }
            line.extend_from_slice(quote);
        }
        line.push(b'\n');
    }

    /// The row of a single column with every occurrence: its values are
    /// the table's entries of that field in order, written as they come.
    fn single_column(
        &mut self,
        t: &FieldTable,
        line: &mut Vec<u8>,
        mut holes: Option<&mut Vec<Hole>>,
    ) {
        let mut quote = [0u8; 4];
        let quote = self
            .opts
            .quote
            .map(|q| q.encode_utf8(&mut quote).as_bytes())
            .unwrap_or_default();
        let Some(def) = self.cols.defs.first() else {
            return;
        };
        let mut first = true;
        for e in t.entries() {
            if self.cols.col(e.field) != Some(0) {
                continue;
            }
            if first {
                line.extend_from_slice(quote);
                first = false;
            } else {
                push_short(line, self.opts.aggregator.as_bytes());
            }
            let at = line.len();
            write_cell_bytes(line, &mut self.scratch, def, &e.value, t);
            note_hole(&self.hole, holes.as_deref_mut(), e, at, line.len());
        }
        if !first {
            line.extend_from_slice(quote);
        }
        line.push(b'\n');
    }
}

/// Records a hole when `e`'s field is one, its text at `at..end`.
#[inline]
fn note_hole(
    hole: &[bool],
    holes: Option<&mut Vec<Hole>>,
    e: &crate::table::Entry,
    at: usize,
    end: usize,
) {
    let Some(holes) = holes else { return };
    if hole.get(e.field.index()).copied().unwrap_or(false) {
        holes.push(Hole {
            at,
            len: end - at,
            field: e.field,
            value: match e.value {
                crate::table::Value::U(v) => v,
                _ => 0,
            },
        });
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
    fn a_single_column_joins_and_quotes_its_values() {
        let (reg, a, b) = setup();
        let mut t = FieldTable::new();
        t.push_u(a, 1u8);
        t.push_str(b, b"x");
        t.push_u(a, 2u8);
        let opts = FieldsOptions {
            quote: Some('"'),
            ..FieldsOptions::default()
        };
        let mut p = FieldsPrinter::new(&reg, vec![a], opts, Vec::new());
        p.frame(&Frame::default(), &t).expect("frame");
        t.clear();
        p.frame(&Frame::default(), &t).expect("frame");
        assert_eq!(p.into_inner(), b"\"1,2\"\n\n");
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
