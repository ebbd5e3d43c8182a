//! The default view: one summary line per frame, as tshark prints it with
//! its default columns (No., Time, Source, Destination, Protocol, Length,
//! Info). What the Protocol and Info columns say is the dissectors' (see
//! [`crate::columns`]); this printer only formats the time and pads.

use std::io::{self, Write};

use super::{Hole, Rows, Sink};
use crate::columns::Columns;
use crate::dissect::Frame;
use crate::fields::{FieldId, Registry};
use crate::format::{push_decimal, push_decimal_bytes};
use crate::table::{FieldTable, Timestamp};

/// `-t`: what the Time column shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// `r`: since the first frame.
    #[default]
    Relative,
    /// `a`: local time of day.
    Absolute,
    /// `ad`: local date and time.
    AbsoluteDate,
    /// `adoy`: local year/day-of-year and time.
    AbsoluteDoy,
    /// `d`: since the previous captured frame.
    Delta,
    /// `dd`: since the previous displayed frame.
    DeltaDisplayed,
    /// `e`: seconds since the epoch.
    Epoch,
    /// `u`: UTC time of day.
    Utc,
    /// `ud`: UTC date and time.
    UtcDate,
    /// `udoy`: UTC year/day-of-year and time.
    UtcDoy,
}

impl TimeFormat {
    /// Parses the argument of `-t`; `None` for what tshark rejects.
    pub fn parse(s: &str) -> Option<TimeFormat> {
        Some(match s {
            "r" => TimeFormat::Relative,
            "a" => TimeFormat::Absolute,
            "ad" => TimeFormat::AbsoluteDate,
            "adoy" => TimeFormat::AbsoluteDoy,
            "d" => TimeFormat::Delta,
            "dd" => TimeFormat::DeltaDisplayed,
            "e" => TimeFormat::Epoch,
            "u" => TimeFormat::Utc,
            "ud" => TimeFormat::UtcDate,
            "udoy" => TimeFormat::UtcDoy,
            _ => return None,
        })
    }
}

/// How the text view prints.
#[derive(Clone, Copy, Debug)]
pub struct TextOptions {
    pub time: TimeFormat,
    /// `-u hms`: relative and delta times as hours, minutes and seconds.
    pub hms: bool,
    /// Digits after the decimal point (the capture's resolution).
    pub precision: u8,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            time: TimeFormat::Relative,
            hms: false,
            precision: 6,
        }
    }
}

/// Prints the summary line of each shown frame.
pub struct TextPrinter<W: Write> {
    out: W,
    opts: TextOptions,
    /// The line being built, reused from frame to frame.
    line: Vec<u8>,
    time: String,
}

impl<W: Write> TextPrinter<W> {
    pub fn new(out: W, opts: TextOptions) -> Self {
        TextPrinter {
            out,
            opts,
            line: Vec::with_capacity(256),
            time: String::with_capacity(32),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Appends the summary line of one frame to `line` (without the newline),
/// its time formatted in `time`. Written piece by piece: `core::fmt`'s
/// padding was a tenth of the view's time.
fn format_line(
    line: &mut Vec<u8>,
    time: &mut String,
    frame: &Frame,
    cols: &Columns,
    opts: TextOptions,
) {
    time.clear();
    write_time(time, frame, opts);
    // tshark pads No. to 5, Time to 10, Source to 12 (right-aligned) and
    // Destination to 12 (left-aligned); the rest are not padded.
    let digits = frame.number.checked_ilog10().unwrap_or(0) as usize + 1;
    for _ in digits..5 {
        line.push(b' ');
    }
    push_decimal_bytes(line, u64::from(frame.number));
    line.push(b' ');
    pad_left(line, time, 10);
    line.push(b' ');
    pad_left(line, cols.src(), 12);
    line.extend_from_slice(" \u{2192} ".as_bytes());
    line.extend_from_slice(cols.dst().as_bytes());
    pad_to(line, cols.dst(), 12);
    line.push(b' ');
    line.extend_from_slice(cols.protocol().as_bytes());
    line.push(b' ');
    push_decimal_bytes(line, u64::from(frame.len));
    line.push(b' ');
    line.extend_from_slice(cols.info().as_bytes());
}

/// Spaces that bring `s` to `width` characters.
fn pad_to(line: &mut Vec<u8>, s: &str, width: usize) {
    // Characters, as Rust's and C's padding count them; ASCII needs no count.
    let n = if s.len() >= width {
        return;
    } else if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    };
    for _ in n..width {
        line.push(b' ');
    }
}

/// `s` right-aligned in `width` characters.
fn pad_left(line: &mut Vec<u8>, s: &str, width: usize) {
    pad_to(line, s, width);
    line.extend_from_slice(s.as_bytes());
}

/// The text view's rows made on a worker thread: every part of the line is
/// the frame's own (its number and times come from the reader) except the
/// time since the previous displayed frame, so `-t dd` stays on one thread.
struct TextRows {
    opts: TextOptions,
    time: String,
}

impl Rows for TextRows {
    fn row(
        &mut self,
        frame: &Frame,
        _t: &FieldTable,
        cols: Option<&Columns>,
        out: &mut Vec<u8>,
        _holes: &mut Vec<Hole>,
    ) {
        let none = Columns::new();
        format_line(out, &mut self.time, frame, cols.unwrap_or(&none), self.opts);
        out.push(b'\n');
    }
}

/// Splits nanoseconds into whole seconds and the fraction at `precision`
/// digits, truncated as Wireshark does.
fn split(nanos: i128, precision: u8) -> (bool, i128, i128) {
    let neg = nanos < 0;
    let a = nanos.abs();
    let secs = a / 1_000_000_000;
    let frac = (a % 1_000_000_000) / 10i128.pow(9 - u32::from(precision.min(9)));
    (neg, secs, frac)
}

/// `.` and `frac` in `precision` digits, zero-padded (none for 0).
fn write_frac(out: &mut String, frac: i128, precision: u8) {
    if precision == 0 {
        return;
    }
    out.push('.');
    let frac = u64::try_from(frac).unwrap_or(0);
    let digits = frac.checked_ilog10().unwrap_or(0) + 1;
    for _ in digits..u32::from(precision) {
        out.push('0');
    }
    push_decimal(out, frac);
}

/// A duration as `-u s` (seconds) or `-u hms` prints it.
fn write_duration(out: &mut String, nanos: i64, opts: TextOptions) {
    use std::fmt::Write as _;
    let (neg, secs, frac) = split(i128::from(nanos), opts.precision);
    if neg {
        out.push('-');
    }
    if opts.hms {
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        if h > 0 {
            let _ = write!(out, "{h}h{m:02}m{s:02}");
        } else if m > 0 {
            let _ = write!(out, "{m}m{s:02}");
        } else {
            let _ = write!(out, "{s}");
        }
        write_frac(out, frac, opts.precision);
        out.push('s');
    } else {
        push_decimal(out, u64::try_from(secs).unwrap_or(0));
        write_frac(out, frac, opts.precision);
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Day of the year, 1-based.
fn day_of_year(y: i64, m: u32, d: u32) -> u32 {
    const BEFORE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let before = BEFORE
        .get(m.saturating_sub(1) as usize)
        .copied()
        .unwrap_or(0);
    before + d + u32::from(m > 2 && is_leap(y))
}

/// A date and time; the local zone is taken to be UTC (dorsal reads no
/// zone database; the cases are recorded with TZ=UTC).
fn write_clock(out: &mut String, ts: Timestamp, precision: u8, date: Option<bool>) {
    use std::fmt::Write as _;
    let nanos = ts.as_nanos();
    let secs = nanos.div_euclid(1_000_000_000);
    let sub = nanos.rem_euclid(1_000_000_000);
    let days = i64::try_from(secs.div_euclid(86_400)).unwrap_or(0);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = crate::format::civil_from_days(days);
    match date {
        Some(false) => {
            let _ = write!(out, "{y:04}-{m:02}-{d:02} ");
        }
        Some(true) => {
            let _ = write!(out, "{y:04}/{:03} ", day_of_year(y, m, d));
        }
        None => {}
    }
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}",
        tod / 3600,
        tod / 60 % 60,
        tod % 60
    );
    let frac = sub / 10i128.pow(9 - u32::from(precision.min(9)));
    write_frac(out, frac, precision);
}

fn write_time(out: &mut String, frame: &Frame, opts: TextOptions) {
    // tshark's automatic precision: the record's own resolution.
    let opts = TextOptions {
        precision: frame.ts_digits.unwrap_or(opts.precision),
        ..opts
    };
    let p = opts.precision;
    match opts.time {
        TimeFormat::Relative => write_duration(out, frame.rel_nanos, opts),
        TimeFormat::Delta => write_duration(out, frame.delta_nanos, opts),
        TimeFormat::DeltaDisplayed => write_duration(out, frame.delta_displayed_nanos, opts),
        TimeFormat::Epoch => {
            use std::fmt::Write as _;
            let (neg, secs, frac) = split(frame.ts.as_nanos(), p);
            if neg {
                out.push('-');
            }
            let _ = write!(out, "{secs}");
            write_frac(out, frac, p);
        }
        TimeFormat::Absolute | TimeFormat::Utc => write_clock(out, frame.ts, p, None),
        TimeFormat::AbsoluteDate | TimeFormat::UtcDate => {
            write_clock(out, frame.ts, p, Some(false))
        }
        TimeFormat::AbsoluteDoy | TimeFormat::UtcDoy => write_clock(out, frame.ts, p, Some(true)),
    }
}

impl<W: Write> Sink for TextPrinter<W> {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn frame(&mut self, frame: &Frame, data: &[u8], t: &FieldTable) -> io::Result<()> {
        self.frame_columns(frame, data, t, &Columns::new())
    }

    fn wants_columns(&self) -> bool {
        true
    }

    fn frame_columns(
        &mut self,
        frame: &Frame,
        _data: &[u8],
        _t: &FieldTable,
        cols: &Columns,
    ) -> io::Result<()> {
        self.line.clear();
        format_line(&mut self.line, &mut self.time, frame, cols, self.opts);
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }

    fn rows(&self, _reg: &Registry, _holes: &[FieldId]) -> Option<Box<dyn Rows + Send>> {
        (self.opts.time != TimeFormat::DeltaDisplayed).then(|| {
            Box::new(TextRows {
                opts: self.opts,
                time: String::with_capacity(32),
            }) as Box<dyn Rows + Send>
        })
    }

    fn write_rows(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    fn end(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Address;

    fn frame(n: u32, secs: i64, nanos: i32, rel: i64) -> Frame {
        Frame {
            number: n,
            ts: Timestamp::new(secs, nanos),
            len: 54,
            cap_len: 54,
            rel_nanos: rel,
            delta_nanos: rel,
            delta_displayed_nanos: rel,
            ..Frame::default()
        }
    }

    fn line(f: &Frame, opts: TextOptions) -> String {
        let mut cols = Columns::new();
        cols.set_net_addresses(&Address::V4([10, 200, 30, 140]), &Address::V4([8, 8, 4, 4]));
        cols.set_protocol("TCP");
        cols.set_info("49792 \u{2192} 80 [SYN] Seq=0 Win=65280 Len=0");
        let mut p = TextPrinter::new(Vec::new(), opts);
        p.frame_columns(f, &[], &FieldTable::new(), &cols).unwrap();
        String::from_utf8(p.into_inner()).unwrap()
    }

    #[test]
    fn pads_as_tshark() {
        let f = frame(1, 1_672_176_378, 277_000, 0);
        assert_eq!(
            line(&f, TextOptions::default()),
            "    1   0.000000 10.200.30.140 \u{2192} 8.8.4.4      TCP 54 49792 \u{2192} 80 [SYN] Seq=0 Win=65280 Len=0\n"
        );
    }

    #[test]
    fn time_formats() {
        let f = frame(2, 1_672_176_378, 287_999, 1_500_000_010);
        let mut s = String::new();
        let opts = |time| TextOptions {
            time,
            ..TextOptions::default()
        };
        for (format, want) in [
            (TimeFormat::AbsoluteDate, "2022-12-27 21:26:18.000287"),
            (TimeFormat::AbsoluteDoy, "2022/361 21:26:18.000287"),
            (TimeFormat::Epoch, "1672176378.000287"),
            (TimeFormat::Relative, "1.500000"),
        ] {
            write_time(&mut s, &f, opts(format));
            assert_eq!(s, want);
            s.clear();
        }
        let leap = frame(1, 1_331_909_229, 820_000_000, 0);
        write_time(&mut s, &leap, opts(TimeFormat::AbsoluteDoy));
        assert_eq!(s, "2012/076 14:47:09.820000");
    }
}
