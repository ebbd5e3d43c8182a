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
