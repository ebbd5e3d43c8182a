//! The forensic report of `shared/forensic/seed_report.py`
//! (`PCAPForensicAnalyzer`), computed in one pass over the frames: IP
//! conversations, DNS queries, potential beacons and the protocol
//! distribution, as Scapy 2.8.0 decodes the packets and as Python prints
//! the result (`json.dump(indent=2)`).
//!
//! Memory: one entry per conversation, per `TCP/`/`UDP/` port, per beacon
//! key (its timestamps as f64, which the script's two-pass mean and
//! variance need bit for bit), and the first 200 queries.

#![forbid(unsafe_code)]

pub mod py;
pub mod read;
pub mod scapy;
mod tables;

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use dorsal_engine::dissect::Frame;
use dorsal_engine::fields::FieldId;
use dorsal_engine::table::FieldTable;
use dorsal_engine::taps::Tap;
use foldhash::HashMap;

use scapy::Decoder;

/// The report's file name inside DIR.
pub const REPORT_FILE: &str = "pcap_forensic_report.json";
/// Scapy reads at most this much of each record (`MTU`).
pub(crate) const SCAPY_MTU: usize = 0xffff;
/// The script keeps the first 200 queries and 50 conversations/ports.
const MAX_QUERIES: usize = 200;
const TOP: usize = 50;

/// One beacon row: key, rounded mean interval, rounded variance, count.
type BeaconRow = (tables::BeaconKey, f64, f64, usize);

struct Query {
    name: String,
    qtype: u16,
    src: Option<[u8; 4]>,
}

/// The report's state, fed one frame at a time.
#[derive(Default)]
pub struct Report {
    decoder: Decoder,
    total: u64,
    tables: tables::Tables,
    queries: Vec<Query>,
    proto_index: HashMap<(bool, u16), usize>,
    protos: Vec<((bool, u16), u64)>,
    /// `-Y` restricted the frames: said in the JSON.
    filter: Option<String>,
}

fn ip_str(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// `float(pkt.time)`: the exact decimal `secs.nanos` rounded once to f64.
pub fn py_time(secs: i64, nanos: i32) -> f64 {
    let n = i64::from(nanos);
    // Whole microseconds: both operands are exact below 2^53, and one
    // IEEE division rounds correctly.
    if n % 1000 == 0 {
        if let Some(us) = secs
            .checked_mul(1_000_000)
            .and_then(|v| v.checked_add(n / 1000))
        {
            if us.unsigned_abs() < (1u64 << 53) {
                return us as f64 / 1e6;
            }
        }
    }
    if let Some(ns) = secs
        .checked_mul(1_000_000_000)
        .and_then(|v| v.checked_add(n))
    {
        if ns.unsigned_abs() < (1u64 << 53) {
            return ns as f64 / 1e9;
        }
    }
    let text = if secs < 0 && n > 0 {
        // Not produced by pcap readers (unsigned seconds); keep it exact anyway.
        let total = i128::from(secs) * 1_000_000_000 + i128::from(n);
        format!(
            "{}{}.{:09}",
            if total < 0 { "-" } else { "" },
            total.unsigned_abs() / 1_000_000_000,
            total.unsigned_abs() % 1_000_000_000
        )
    } else {
        format!("{secs}.{n:09}")
    };
    text.parse().unwrap_or(0.0)
}

impl Report {
    pub fn new(filter: Option<String>) -> Self {
        Report {
            filter,
            ..Report::default()
        }
    }

    /// One record: its link type, bytes and timestamp.
    pub fn packet(&mut self, linktype: u32, data: &[u8], secs: i64, nanos: i32) {
        self.packet_at(linktype, data, py_time(secs, nanos));
    }

    /// Reads a whole capture as Scapy's `rdpcap` does into the report.
    pub fn read(&mut self, r: impl std::io::Read) -> Result<read::ReadEnd, read::ReadError> {
        read::read(r, &mut |lt, data, t| self.packet_at(lt, data, t))
    }

    /// One record with its time as `float(pkt.time)`.
    pub fn packet_at(&mut self, linktype: u32, data: &[u8], time: f64) {
        self.total += 1;
        let data = data.get(..SCAPY_MTU).unwrap_or(data);
        self.decoder.decode(scapy::link_layer(linktype), data);
        let v = &self.decoder.view;
        // len(pkt): Scapy rebuilds the bytes it dissected, all of them.
        let len = (data.len() as u64).saturating_add_signed(v.extra_len);
        let conv =
            v.ip.map(|(src, dst)| self.tables.conversation(src, dst, len));
        if v.dns_qr == Some(0) && self.queries.len() < MAX_QUERIES {
            if let Some(qtype) = v.qtype {
                let mut name = String::from_utf8_lossy(&self.decoder.qname).into_owned();
                let keep = name.trim_end_matches('.').len();
                name.truncate(keep);
                self.queries.push(Query {
                    name,
                    qtype,
                    src: v.ip.map(|(s, _)| s),
                });
            }
        }
        if let (Some(conv), Some((src, _)), Some(dport)) = (conv, v.ip, v.tcp_dport) {
            self.tables.beacon(conv, src, dport, time);
        }
        let proto = match (v.tcp_dport, v.udp_dport) {
            (Some(p), _) => Some((true, p)),
            (None, Some(p)) => Some((false, p)),
            _ => None,
        };
        if let Some(key) = proto {
            match self.proto_index.entry(key) {
                Entry::Occupied(e) => {
                    if let Some((_, n)) = self.protos.get_mut(*e.get()) {
                        *n += 1;
                    }
                }
                Entry::Vacant(e) => {
                    e.insert(self.protos.len());
                    self.protos.push((key, 1));
                }
            }
        }
    }

    /// The beacons as the script finds them: keys with at least 5 packets,
    /// mean interval over 1 s and variance under 5, sorted by variance.
    fn beacon_rows(&self) -> Vec<BeaconRow> {
        let mut rows = Vec::new();
        for (key, times) in self.tables.beacon_keys() {
            if times.len() < 5 {
                continue;
            }
            let n = (times.len() - 1) as f64;
            // sum() adds left to right from 0, as CPython 3.11 does.
            let mut sum = 0.0f64;
            for w in times.windows(2) {
                if let [a, b] = w {
                    sum += b - a;
                }
            }
            let avg = sum / n;
            let mut var_sum = 0.0f64;
            for w in times.windows(2) {
                if let [a, b] = w {
                    let d = (b - a) - avg;
                    var_sum += d * d;
                }
            }
            let variance = var_sum / n;
            if variance < 5.0 && avg > 1.0 {
                rows.push((key, py::round(avg, 2), py::round(variance, 4), times.len()));
            }
        }
        // Stable, as Python's sorted.
        rows.sort_by(|a, b| a.2.partial_cmp(&b.2).unwrap_or(std::cmp::Ordering::Equal));
        rows
    }

    /// The JSON text `json.dump(report, f, indent=2)` writes, and the
    /// four lines the script prints.
    pub fn render(&self, pcap_file: &str, timestamp: &str) -> (String, String) {
        let mut o = String::with_capacity(4096);
        o.push_str("{\n  \"analysis_timestamp\": ");
        py::json_str(&mut o, timestamp);
        o.push_str(",\n  \"pcap_file\": ");
        py::json_str(&mut o, pcap_file);
        if let Some(f) = &self.filter {
            o.push_str(",\n  \"display_filter\": ");
            py::json_str(&mut o, f);
        }
        let _ = write!(o, ",\n  \"total_packets\": {}", self.total);

        // sorted(..., reverse=True) is stable: ties keep first-seen order.
        let mut order: Vec<&tables::Conv> = self.tables.convs.iter().collect();
        order.sort_by_key(|c| std::cmp::Reverse(c.bytes));
        order.truncate(TOP);
        o.push_str(",\n  \"conversations\": ");
        list(&mut o, order.iter(), |o, c| {
            o.push_str("{\n      \"src\": ");
            py::json_str(o, &ip_str(c.a));
            o.push_str(",\n      \"dst\": ");
            py::json_str(o, &ip_str(c.b));
            let _ = write!(
                o,
                ",\n      \"packets\": {},\n      \"bytes\": {}\n    }}",
                c.packets, c.bytes
            );
        });
        let n_convs = order.len();

        o.push_str(",\n  \"dns_queries\": ");
        list(&mut o, self.queries.iter(), |o, q| {
            o.push_str("{\n      \"query\": ");
            py::json_str(o, &q.name);
            let _ = write!(o, ",\n      \"type\": {},\n      \"src\": ", q.qtype);
            let src = q.src.map_or_else(|| "unknown".to_string(), ip_str);
            py::json_str(o, &src);
            o.push_str("\n    }");
        });

        let beacons = self.beacon_rows();
        o.push_str(",\n  \"potential_beacons\": ");
        list(
            &mut o,
            beacons.iter(),
            |o, ((src, dst, port), avg, var, count)| {
                o.push_str("{\n      \"src\": ");
                py::json_str(o, &ip_str(*src));
                o.push_str(",\n      \"dst\": ");
                py::json_str(o, &ip_str(*dst));
                let _ = write!(
                o,
                ",\n      \"port\": {port},\n      \"avg_interval\": {},\n      \"variance\": {},\n      \"connection_count\": {count}\n    }}",
                py::float_repr(*avg),
                py::float_repr(*var)
            );
            },
        );

        // Counter.most_common(50): by count, ties in first-seen order.
        let mut protos: Vec<&((bool, u16), u64)> = self.protos.iter().collect();
        protos.sort_by_key(|p| std::cmp::Reverse(p.1));
        protos.truncate(TOP);
        o.push_str(",\n  \"protocol_distribution\": ");
        if protos.is_empty() {
            o.push_str("{}");
        } else {
            o.push('{');
            for (i, ((tcp, port), n)) in protos.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                let _ = write!(
                    o,
                    "\n    \"{}/{port}\": {n}",
                    if *tcp { "TCP" } else { "UDP" }
                );
            }
            o.push_str("\n  }");
        }
        o.push_str("\n}");

        let stdout = format!(
            "[*] Total packets: {}\n[*] Conversations: {}\n[*] DNS queries: {}\n[*] Potential beacons: {}\n",
            self.total,
            n_convs,
            self.queries.len(),
            beacons.len()
        );
        (o, stdout)
    }
}

/// A JSON list at indent level 1 (`[]` when empty), items at level 2.
fn list<T>(o: &mut String, items: impl Iterator<Item = T>, mut item: impl FnMut(&mut String, T)) {
    let mut any = false;
    for (i, x) in items.enumerate() {
        o.push_str(if i == 0 { "[\n    " } else { ",\n    " });
        item(o, x);
        any = true;
    }
    o.push_str(if any { "\n  ]" } else { "[]" });
}

/// `datetime.now().isoformat()`: local time, microseconds unless zero.
pub fn now_isoformat() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(now.as_secs()).unwrap_or(0);
    let micros = now.subsec_micros();
    let offset = tz::TimeZone::local()
        .ok()
        .and_then(|z| {
            z.find_local_time_type(secs)
                .ok()
                .map(|t| i64::from(t.ut_offset()))
        })
        .unwrap_or(0);
    let local = secs.saturating_add(offset);
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let sod = local.rem_euclid(86_400);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if micros != 0 {
        let _ = write!(s, ".{micros:06}");
    }
    s
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Why the report could not be written.
#[derive(Debug)]
pub enum ReportError {
    /// DIR could not be created (or a file is in its place).
    Dir(PathBuf, io::Error),
    /// The JSON file could not be written or renamed into place.
    Write(PathBuf, io::Error),
}

impl std::fmt::Display for ReportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReportError::Dir(p, e) => {
                write!(
                    f,
                    "The report directory \"{}\" could not be created: {e}",
                    p.display()
                )
            }
            ReportError::Write(p, e) => {
                write!(
                    f,
                    "The report \"{}\" could not be written: {e}",
                    p.display()
                )
            }
        }
    }
}

/// `os.makedirs(dir, exist_ok=True)`, before the capture is read.
pub fn prepare_dir(dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::Dir(dir.to_path_buf(), e))?;
    if !dir.is_dir() {
        let e = io::Error::new(io::ErrorKind::AlreadyExists, "not a directory");
        return Err(ReportError::Dir(dir.to_path_buf(), e));
    }
    Ok(())
}

/// Writes DIR/pcap_forensic_report.json through a temporary name, so a
/// reader never sees half a report; returns the four stdout lines.
pub fn write_report(report: &Report, dir: &Path, pcap_file: &str) -> Result<String, ReportError> {
    let (json, stdout) = report.render(pcap_file, &now_isoformat());
    let path = dir.join(REPORT_FILE);
    let tmp = dir.join(format!(".{REPORT_FILE}.{}.tmp", std::process::id()));
    let write = std::fs::write(&tmp, json.as_bytes()).and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = write {
        let _ = std::fs::remove_file(&tmp);
        return Err(ReportError::Write(path, e));
    }
    Ok(stdout)
}

/// The engine's view of the report: a tap handed every frame's record.
pub struct ReportTap(pub Rc<RefCell<Report>>);

impl Tap for ReportTap {
    fn fields(&self) -> Vec<FieldId> {
        Vec::new()
    }

    fn reads_only_fields(&self) -> bool {
        true
    }

    fn frame(&mut self, frame: &Frame, data: &[u8], _t: &FieldTable) {
        if let Ok(mut r) = self.0.try_borrow_mut() {
            r.packet(frame.linktype, data, frame.ts.secs, frame.ts.nanos);
        }
    }

    fn draw(&self, _out: &mut dyn io::Write) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
