//! `-T json -e` and `-T ek -e`.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::fields::{Cell, Columns};
use super::Sink;
use crate::dissect::Frame;
use crate::fields::{FieldId, Registry};
use crate::format::utc_date;
use crate::table::FieldTable;

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
    push_escaped(out, s, false);
}

/// JSON string escaping as Python's `json.dumps` does it (`ensure_ascii`:
/// all but printable ASCII as `\uXXXX`, UTF-16 pairs beyond the BMP).
pub fn push_json_string_ascii(out: &mut String, s: &str) {
    push_escaped(out, s, true);
}

fn push_escaped(out: &mut String, s: &str, ascii: bool) {
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
            c if (c as u32) < 0x20 || (ascii && !(' '..='~').contains(&c)) => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The columns with values, by field abbreviation, in `-e` order.
fn filled<'a>(
    reg: &'a Registry,
    cols: &'a Columns,
    cells: &'a [Cell],
) -> impl Iterator<Item = (&'a str, &'a Cell)> {
    cols.ids
        .iter()
        .zip(cells)
        .filter(|(_, cell)| !cell.is_empty())
        .map(|(id, cell)| (reg.def(*id).abbrev, cell))
}

impl<W: Write> Sink for JsonPrinter<'_, W> {
    fn begin(&mut self) -> io::Result<()> {
        if !self.ek {
            self.out.write_all(b"[")?;
        }
        Ok(())
    }

    fn frame(&mut self, frame: &Frame, _data: &[u8], t: &FieldTable) -> io::Result<()> {
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
            for (k, (abbrev, cell)) in filled(self.reg, &self.cols, &self.cells).enumerate() {
                if k > 0 {
                    b.push(',');
                }
                push_json_string(b, &abbrev.replace('.', "_"));
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
            for (k, (abbrev, cell)) in filled(self.reg, &self.cols, &self.cells).enumerate() {
                b.push_str(if k == 0 { "\n" } else { ",\n" });
                b.push_str("        ");
                push_json_string(b, abbrev);
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

    #[test]
    fn json_with_no_frames_is_an_empty_array() {
        let mut reg = Registry::new();
        let a = reg.add(FieldDef::new("a.n", "N", FieldType::U32, Base::Dec));
        let mut p = JsonPrinter::new(&reg, vec![a], false, Vec::new());
        p.begin().expect("begin");
        p.end().expect("end");
        assert_eq!(p.out, b"[]\n");
    }
}
