//! `-T fields`: one line per frame, the `-e` fields joined as `-E` says.

use std::io::{self, Write};

use super::{Hole, Rows, Sink};
use crate::dissect::Frame;
use crate::fields::{FieldDef, FieldId, Registry};
use crate::format::{write_cell_bytes, write_value};
use crate::table::FieldTable;

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
pub(super) struct Cell {
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

    pub(super) fn is_empty(&self) -> bool {
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

    pub(super) fn iter(&self) -> impl Iterator<Item = &str> {
        self.range(0, self.len())
    }
}

/// The requested columns and, per field id, the column it fills.
#[derive(Clone)]
pub(super) struct Columns {
    pub(super) ids: Vec<FieldId>,
    /// Per field id, its first column, or [`NO_COLUMN`]: four bytes an
    /// entry so that the lookup of every entry of every frame stays in
    /// the first-level cache.
    column_of: Vec<u32>,
    /// The declaration of each column's field, copied out of the registry.
    defs: Vec<FieldDef>,
}

const NO_COLUMN: u32 = u32::MAX;

impl Columns {
    pub(super) fn new(reg: &Registry, ids: Vec<FieldId>) -> Self {
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
    pub(super) fn fill(&self, reg: &Registry, t: &FieldTable, cells: &mut [Cell]) {
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

    fn frame(&mut self, _frame: &Frame, _data: &[u8], t: &FieldTable) -> io::Result<()> {
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
    fn row(
        &mut self,
        _frame: &Frame,
        t: &FieldTable,
        _cols: Option<&crate::columns::Columns>,
        out: &mut Vec<u8>,
        holes: &mut Vec<Hole>,
    ) {
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
        p.frame(&Frame::default(), &[], &t).expect("frame");
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
        p.frame(&Frame::default(), &[], &t).expect("frame");
        t.clear();
        p.frame(&Frame::default(), &[], &t).expect("frame");
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
        p.frame(&Frame::default(), &[], &t).expect("frame");
        assert_eq!(p.into_inner(), b"2\n");
    }
}
