//! Several captures read as one, in timestamp order as `mergecap` merges
//! them by default: the earliest record of all files comes next, and each
//! file's own order is kept where it is not monotonic. A tie goes to the
//! first file in natural name order (`capture.pcap2` before
//! `capture.pcap10`), then to the one given first (mergecap: given first
//! only), so that the pieces of a rotated set, given in any order, read
//! back as the capture they were cut from.
//!
//! Files are probed once (their first record's time) and opened only when
//! the merge reaches that time, so a rotated set (files one after the
//! other) holds one or two open at a time however many it has. A file
//! that ends in damage is reported after the rest of the set was read.

use std::ops::Range;

use super::file::CaptureFile;
use super::{CaptureError, Interface, Record, RecordMeta};
use crate::table::Timestamp;

/// A file of a set that ended in damage: its path, how many of its
/// records were read before it, and the damage.
#[derive(Debug)]
pub struct SetError {
    pub path: String,
    pub records: u64,
    pub error: CaptureError,
}

/// Interfaces across the files at most, so hostile sets cannot grow it.
const MAX_INTERFACES: usize = 65_536;

struct Member {
    path: String,
    /// When the file's first record was captured (`None`: it has none).
    first: Option<Timestamp>,
    file: Option<CaptureFile>,
    /// The next record, read ahead.
    head: Option<RecordMeta>,
    /// Place in natural name order, then in the order given: who wins a tie.
    rank: usize,
    records: u64,
    /// The file's interfaces, to the set's.
    map: Vec<u32>,
}

pub(crate) struct Set {
    members: Vec<Member>,
    /// Members not opened yet, the next to open last.
    pending: Vec<usize>,
    /// Members whose head is read (or that are done, `head: None`).
    open: Vec<usize>,
    /// The member whose head was handed out last: it moves on next.
    current: Option<usize>,
    interfaces: Vec<Interface>,
    section_options: Vec<u8>,
    pcapng: bool,
    damaged: Vec<SetError>,
    staging: Option<Staging>,
}

/// With [`Set::keep_buffers`]: records are copied into buffers handed out
/// whole, as one file's own buffers are.
struct Staging {
    size: usize,
    current: Vec<u8>,
    retired: Option<Vec<u8>>,
    spare: Vec<Vec<u8>>,
}

/// Emptied buffers kept for reuse at most.
const SPARE: usize = 8;

impl Set {
    /// Probes every file; one that cannot be opened as a capture is an
    /// error naming it, before anything is read.
    pub(crate) fn open(paths: &[String]) -> Result<Set, CaptureError> {
        let mut members = Vec::with_capacity(paths.len());
        let mut section_options = None;
        let mut pcapng = false;
        for path in paths {
            let fail = |error| CaptureError::Open {
                path: path.clone(),
                error: Box::new(error),
            };
            let mut file = CaptureFile::open(path).map_err(fail)?;
            // A file damaged in its first record is opened first, so its
            // damage is reported the way any other is.
            let first = match file.next_meta() {
                Ok(m) => m.map(|m| m.ts),
                Err(_) => Some(Timestamp::new(i64::MIN, 0)),
            };
            if section_options.is_none() {
                section_options = Some(file.section_options().to_vec());
                pcapng = file.is_pcapng();
            }
            members.push(Member {
                path: path.clone(),
                first,
                file: None,
                head: None,
                rank: 0,
                records: 0,
                map: Vec::new(),
            });
        }
        let mut pending: Vec<usize> = (0..members.len())
            .filter(|&i| members.get(i).is_some_and(|m| m.first.is_some()))
            .collect();
        // Stable: equal first times keep the order given.
        let mut by_name: Vec<usize> = (0..members.len()).collect();
        by_name.sort_by(|&a, &b| match (members.get(a), members.get(b)) {
            (Some(ma), Some(mb)) => natural_cmp(&ma.path, &mb.path),
            _ => a.cmp(&b),
        });
        for (rank, &i) in by_name.iter().enumerate() {
            if let Some(m) = members.get_mut(i) {
                m.rank = rank;
            }
        }
        // Opened in the order their first records come (stable: ties by rank).
        pending.sort_by_key(|&i| members.get(i).map(|m| (m.first, m.rank)));
        pending.reverse();
        Ok(Set {
            members,
            pending,
            open: Vec::new(),
            current: None,
            interfaces: Vec::new(),
            section_options: section_options.unwrap_or_default(),
            pcapng,
            damaged: Vec::new(),
            staging: None,
        })
    }

    pub(crate) fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    pub(crate) fn section_options(&self) -> &[u8] {
        &self.section_options
    }

    pub(crate) fn is_pcapng(&self) -> bool {
        self.pcapng
    }

    pub(crate) fn next_record_at(
        &mut self,
    ) -> Result<Option<(Record<'_>, Range<usize>)>, CaptureError> {
        if let Some(i) = self.current.take() {
            self.advance(i);
        }
        loop {
            let earliest = self.earliest().map(|(_, ts)| ts);
            let Some(&next) = self.pending.last() else {
                break;
            };
            let first = self.members.get(next).and_then(|m| m.first);
            if earliest.is_some_and(|e| first.is_some_and(|f| f > e)) {
                break;
            }
            self.pending.pop();
            self.open_member(next);
        }
        let Some((i, _)) = self.earliest() else {
            self.open.clear();
            return match std::mem::take(&mut self.damaged) {
                d if d.is_empty() => Ok(None),
                d => Err(CaptureError::Damaged(d)),
            };
        };
        self.current = Some(i);
        let Some(m) = self.members.get_mut(i) else {
            return Ok(None);
        };
        let Some(mut meta) = m.head.take() else {
            return Ok(None);
        };
        m.records = m.records.saturating_add(1);
        // The record's interface in the set's numbering.
        let local = meta.iface as usize;
        if let Some(file) = m.file.as_ref() {
            while m.map.len() <= local && m.map.len() < MAX_INTERFACES {
                let Some(desc) = file.interfaces().get(m.map.len()) else {
                    break;
                };
                let known = self
                    .interfaces
                    .iter()
                    .enumerate()
                    .position(|(g, d)| d == desc && !m.map.contains(&(g as u32)));
                let g = match known {
                    Some(g) => g,
                    None if self.interfaces.len() < MAX_INTERFACES => {
                        self.interfaces.push(desc.clone());
                        self.interfaces.len() - 1
                    }
                    None => 0,
                };
                m.map.push(u32::try_from(g).unwrap_or(0));
            }
        }
        let global = m.map.get(local).copied().unwrap_or(0);
        meta.iface = global;
        meta.interface_id = global;
        let Some(file) = m.file.as_ref() else {
            return Ok(None);
        };
        let bytes = |r: Range<usize>| file.input.bytes(r);
        let interfaces = &self.interfaces;
        match self.staging.as_mut() {
            None => {
                let data = meta.data.clone();
                Ok(Some((meta.record(bytes, interfaces), data)))
            }
            Some(st) => {
                let copy = |r: Range<usize>, st: &mut Staging| -> Range<usize> {
                    let b = bytes(r);
                    let at = st.current.len();
                    st.current.extend_from_slice(b);
                    at..st.current.len()
                };
                let need = meta.raw.len() + meta.options.len();
                if !st.current.is_empty() && st.current.len().saturating_add(need) > st.size {
                    let fresh = st
                        .spare
                        .pop()
                        .unwrap_or_else(|| Vec::with_capacity(st.size));
                    st.retired = Some(std::mem::replace(&mut st.current, fresh));
                }
                let skip = meta.data.start.saturating_sub(meta.raw.start);
                let raw = copy(meta.raw.clone(), st);
                let options = copy(meta.options.clone(), st);
                let data = raw.start.saturating_add(skip).min(raw.end)..raw.end;
                let staged = RecordMeta {
                    data: data.clone(),
                    raw,
                    options,
                    ..meta
                };
                let buf = &st.current;
                Ok(Some((
                    staged.record(|r| buf.get(r).unwrap_or_default(), interfaces),
                    data,
                )))
            }
        }
    }

    /// The open member with the earliest head, the first ranked on a tie.
    fn earliest(&self) -> Option<(usize, Timestamp)> {
        let mut best: Option<(usize, Timestamp, usize)> = None;
        for &i in &self.open {
            let Some((ts, rank)) = self
                .members
                .get(i)
                .and_then(|m| Some((m.head.as_ref()?.ts, m.rank)))
            else {
                continue;
            };
            if best.is_none_or(|(_, bts, brank)| (ts, rank) < (bts, brank)) {
                best = Some((i, ts, rank));
            }
        }
        best.map(|(i, ts, _)| (i, ts))
    }

    fn open_member(&mut self, i: usize) {
        let Some(m) = self.members.get_mut(i) else {
            return;
        };
        match CaptureFile::open(&m.path) {
            Ok(mut f) => {
                m.head = match f.next_meta() {
                    Ok(h) => h,
                    Err(error) => {
                        self.damaged.push(SetError {
                            path: m.path.clone(),
                            records: 0,
                            error,
                        });
                        None
                    }
                };
                m.file = m.head.is_some().then_some(f);
            }
            Err(error) => self.damaged.push(SetError {
                path: m.path.clone(),
                records: 0,
                error,
            }),
        }
        self.open.push(i);
    }

    /// Reads member `i`'s next record; closes it at its end or damage.
    fn advance(&mut self, i: usize) {
        let Some(m) = self.members.get_mut(i) else {
            return;
        };
        let Some(f) = m.file.as_mut() else {
            return;
        };
        match f.next_meta() {
            Ok(Some(h)) => m.head = Some(h),
            Ok(None) => {
                m.file = None;
                self.open.retain(|&o| o != i);
            }
            Err(error) => {
                self.damaged.push(SetError {
                    path: m.path.clone(),
                    records: m.records,
                    error,
                });
                m.file = None;
                self.open.retain(|&o| o != i);
            }
        }
    }

    pub(crate) fn keep_buffers(&mut self, size: usize) {
        self.staging = Some(Staging {
            size,
            current: Vec::with_capacity(size),
            retired: None,
            spare: Vec::new(),
        });
    }

    pub(crate) fn retired(&mut self) -> Option<Vec<u8>> {
        self.staging.as_mut()?.retired.take()
    }

    pub(crate) fn take_current(&mut self) -> Vec<u8> {
        self.staging
            .as_mut()
            .map(|st| std::mem::take(&mut st.current))
            .unwrap_or_default()
    }

    pub(crate) fn recycle(&mut self, mut buf: Vec<u8>) {
        if let Some(st) = self.staging.as_mut() {
            if st.spare.len() < SPARE {
                buf.clear();
                st.spare.push(buf);
            }
        }
    }
}

/// A file of a folder given as input that is not read, and why.
#[derive(Debug)]
pub struct Skipped {
    pub path: String,
    pub error: CaptureError,
}

/// Folders at most this many entries deep are listed; more are refused.
const MAX_FOLDER_ENTRIES: usize = 1 << 20;

/// The inputs with each folder replaced by the capture files in it (not
/// its subfolders), in natural name order (`capture.pcap2` before
/// `capture.pcap10`); the files of a folder that are not captures come
/// back as skipped. A folder holding no capture is an error naming it.
pub fn expand_folders(inputs: &[String]) -> Result<(Vec<String>, Vec<Skipped>), CaptureError> {
    let mut paths = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        let dir = std::path::Path::new(input);
        if input == "-" || !dir.is_dir() {
            paths.push(input.clone());
            continue;
        }
        let fail = |error: std::io::Error| CaptureError::Open {
            path: input.clone(),
            error: Box::new(CaptureError::Io(error)),
        };
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)
            .map_err(fail)?
            .take(MAX_FOLDER_ENTRIES)
        {
            let entry = entry.map_err(fail)?;
            if entry.path().is_file() {
                names.push(entry.path().to_string_lossy().into_owned());
            }
        }
        names.sort_by(|a, b| natural_cmp(a, b));
        let before = paths.len();
        for name in names {
            match CaptureFile::open(&name) {
                Ok(_) => paths.push(name),
                Err(error) => skipped.push(Skipped { path: name, error }),
            }
        }
        if paths.len() == before {
            return Err(CaptureError::Open {
                path: input.clone(),
                error: Box::new(CaptureError::EmptyFolder),
            });
        }
    }
    Ok((paths, skipped))
}

/// Names compared with their runs of digits as numbers.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, ra) = a.split_at(da);
                let (nb, rb) = b.split_at(db);
                let strip = |n: &[u8]| -> usize { n.iter().take_while(|&&c| c == b'0').count() };
                let (ta, tb) = (
                    na.get(strip(na)..).unwrap_or_default(),
                    nb.get(strip(nb)..).unwrap_or_default(),
                );
                let ord = ta.len().cmp(&tb.len()).then(ta.cmp(tb)).then(da.cmp(&db));
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
                a = ra;
                b = rb;
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = a.get(1..).unwrap_or_default();
                b = b.get(1..).unwrap_or_default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::natural_cmp;

    #[test]
    fn rotated_names_sort_by_number() {
        let mut v = vec![
            "c.pcap10",
            "c.pcap2",
            "c.pcap",
            "c.pcap1",
            "c_02.pcap",
            "c_1.pcap",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "c.pcap",
                "c.pcap1",
                "c.pcap2",
                "c.pcap10",
                "c_1.pcap",
                "c_02.pcap"
            ]
        );
    }
}
