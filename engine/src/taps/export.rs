//! Export objects (`--export-objects PROTO,DIR`): a dissector publishes an
//! [`ExportObject`] to the [`ObjectSink`] it was built with; the
//! [`ObjectWriter`] writes each one to the directory at once, under the name
//! tshark gives it, so nothing is held beyond the object being written.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// One object found by a dissector.
#[derive(Clone, Copy, Debug)]
pub struct ExportObject<'a> {
    /// Frame the object was completed in.
    pub frame: u32,
    pub hostname: Option<&'a [u8]>,
    pub content_type: Option<&'a [u8]>,
    /// The dissector's name for the object (already reduced to a base name).
    pub filename: Option<&'a [u8]>,
    pub data: &'a [u8],
}

/// Receives objects as they are found.
pub trait ObjectSink {
    /// `proto` is the export type (`http`, `smb`, ...).
    fn object(&mut self, proto: &str, obj: &ExportObject<'_>);

    /// A piece of an object assembled from file ranges (SMB READ/WRITE
    /// data). `key` tells the dissector's objects apart within the pass; the
    /// first piece of a key makes the object (named from `obj`, in the order
    /// tshark lists objects), and each piece's data lands at `offset`, later
    /// pieces overwriting earlier ones. Nothing is kept in memory.
    fn piece(&mut self, _proto: &str, _key: u64, _obj: &ExportObject<'_>, _offset: u64) {}

    /// A piece of an object that grows frame by frame (an FTP data
    /// transfer): like [`ObjectSink::piece`], at the end of what the key
    /// has so far. tshark's entry keeps the name and frame of its first piece.
    fn append(&mut self, _proto: &str, _key: u64, _obj: &ExportObject<'_>) {}
}

/// A sink shared by the dissectors of one pass.
pub type SharedSink = Rc<RefCell<dyn ObjectSink>>;

/// Longest file name tshark writes (`EXPORT_OBJECT_MAXFILELEN`).
pub const MAX_FILE_LEN: usize = 255;
/// Tries per object before tshark gives up finding a free name
/// (`gui.max_export_objects`); the last name is then overwritten.
pub const MAX_TRIES: u32 = 1000;

/// Base names whose clash numbers are remembered.
const MAX_BASES: usize = 1 << 16;

/// Cap on objects assembled from pieces in one run.
pub const MAX_PIECED: usize = 1 << 20;
/// tshark keeps an assembled object in one buffer of at most 4 GiB.
const MAX_PIECED_LEN: u64 = u32::MAX as u64;

/// Writes the objects of one export type into a directory.
pub struct ObjectWriter {
    proto: String,
    dir: PathBuf,
    /// tshark's clash counter, reset for each object.
    count: u32,
    /// Files of the objects assembled from pieces, by key, with the end of
    /// the data written so far.
    pieced: HashMap<u64, (PathBuf, u64)>,
    /// Per base name, the clash number below which every name is known
    /// taken (files are only added during a run), so the thousandth `x`
    /// probes one name, not a thousand.
    taken: HashMap<Vec<u8>, u32>,
    /// The file last written to by a piece, kept open.
    open: Option<(u64, fs::File)>,
    /// The first write error, reported once at the end.
    pub error: Option<io::Error>,
}

impl ObjectWriter {
    /// Creates the directory (with its parents) as tshark does.
    pub fn new(proto: &str, dir: &Path) -> io::Result<Self> {
        if !dir.is_dir() {
            fs::create_dir_all(dir)?;
        }
        Ok(ObjectWriter {
            proto: proto.to_string(),
            dir: dir.to_path_buf(),
            count: 0,
            pieced: HashMap::new(),
            taken: HashMap::new(),
            open: None,
            error: None,
        })
    }

    fn note(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            if self.error.is_none() {
                self.error = Some(e);
            }
        }
    }

    fn write(&mut self, obj: &ExportObject<'_>) -> io::Result<()> {
        let path = self.free_path(obj);
        // Not truncated to zero first: on ext4 replacing a file's data
        // that way forces a write-back at close (`auto_da_alloc`), which
        // made overwriting the last clash name the whole cost of a run.
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        file.write_all(obj.data)?;
        file.set_len(obj.data.len() as u64)
    }

    fn write_piece(&mut self, key: u64, obj: &ExportObject<'_>, offset: u64) -> io::Result<()> {
        if !self.pieced.contains_key(&key) {
            if self.pieced.len() >= MAX_PIECED {
                return Ok(());
            }
            let path = self.free_path(obj);
            let file = fs::File::create(&path)?;
            self.pieced.insert(key, (path, 0));
            self.open = Some((key, file));
        }
        let len = obj.data.len() as u64;
        let end = offset.saturating_add(len);
        if len == 0 || end > MAX_PIECED_LEN {
            return Ok(());
        }
        if self.open.as_ref().map(|(k, _)| *k) != Some(key) {
            self.open = None;
            let Some((path, _)) = self.pieced.get(&key) else {
                return Ok(());
            };
            let file = fs::OpenOptions::new().write(true).open(path)?;
            self.open = Some((key, file));
        }
        if let Some((_, file)) = self.open.as_mut() {
            file.seek(SeekFrom::Start(offset))?;
            file.write_all(obj.data)?;
        }
        if let Some((_, written)) = self.pieced.get_mut(&key) {
            *written = (*written).max(end);
        }
        Ok(())
    }

    /// The first name of the object's that is free in the directory.
    fn free_path(&mut self, obj: &ExportObject<'_>) -> PathBuf {
        let base: Vec<u8> = match obj.filename {
            Some(f) => f.to_vec(),
            None => {
                let mut s = format!("object{}", obj.frame).into_bytes();
                if let Some(ct) = obj.content_type {
                    s.push(b'.');
                    s.extend_from_slice(ct);
                }
                s.truncate(MAX_FILE_LEN);
                s
            }
        };
        let mut path;
        self.count = self
            .taken
            .get(&base)
            .copied()
            .unwrap_or(0)
            .min(MAX_TRIES - 1);
        loop {
            let name = massage(&base, MAX_FILE_LEN, self.count);
            path = self.dir.join(os_name(&name));
            if !path.exists() {
                break;
            }
            self.count += 1;
            if self.count >= MAX_TRIES {
                break;
            }
        }
        // This name is about to be taken too.
        let next = self.count.saturating_add(1).min(MAX_TRIES);
        if self.taken.len() < MAX_BASES || self.taken.contains_key(&base) {
            self.taken.insert(base, next);
        }
        path
    }
}

impl ObjectSink for ObjectWriter {
    fn object(&mut self, proto: &str, obj: &ExportObject<'_>) {
        if proto != self.proto {
            return;
        }
        let r = self.write(obj);
        self.note(r);
    }

    fn piece(&mut self, proto: &str, key: u64, obj: &ExportObject<'_>, offset: u64) {
        if proto != self.proto {
            return;
        }
        let r = self.write_piece(key, obj, offset);
        self.note(r);
    }

    fn append(&mut self, proto: &str, key: u64, obj: &ExportObject<'_>) {
        let at = self.pieced.get(&key).map_or(0, |(_, end)| *end);
        self.piece(proto, key, obj, at);
    }
}

#[cfg(unix)]
fn os_name(b: &[u8]) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(b).to_os_string()
}

#[cfg(not(unix))]
fn os_name(b: &[u8]) -> std::ffi::OsString {
    String::from_utf8_lossy(b).into_owned().into()
}

/// tshark's `eo_massage_str`: unsafe bytes become `%xx`, then a clash
/// number and the length cap are applied keeping the extension.
pub fn massage(name: &[u8], maxlen: usize, dupn: u32) -> Vec<u8> {
    const REJECT: &[u8] = b"<>:\"/\\|?*";
    let mut out = Vec::with_capacity(name.len());
    for &b in name {
        // A NUL ends the C string.
        if b == 0 {
            break;
        }
        if REJECT.contains(&b) || (0x01..=0x1f).contains(&b) {
            out.extend_from_slice(format!("%{b:02x}").as_bytes());
        } else {
            out.push(b);
        }
    }
    if dupn != 0 || out.len() > maxlen {
        out = rename(out, maxlen, dupn);
    }
    out
}

/// tshark's `eo_rename`.
fn rename(mut s: Vec<u8>, maxlen: usize, dupn: u32) -> Vec<u8> {
    let tag = if dupn != 0 {
        format!("({dupn})").into_bytes()
    } else {
        Vec::new()
    };
    let dot = s.iter().rposition(|&c| c == b'.');
    match dot {
        Some(d) if s.len() - d + tag.len() < maxlen => {
            let ext = s.split_off(d);
            let room = maxlen - (tag.len() + ext.len());
            if s.len() >= room {
                s.truncate(room);
            }
            s.extend_from_slice(&tag);
            s.extend_from_slice(&ext);
        }
        _ => {
            let room = maxlen.saturating_sub(tag.len());
            if s.len() >= room {
                s.truncate(room);
            }
            s.extend_from_slice(&tag);
        }
    }
    s
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_numbered() {
        assert_eq!(massage(b"a/b?c", 255, 0), b"a%2fb%3fc");
        assert_eq!(massage(b"index.html", 255, 2), b"index(2).html");
        assert_eq!(massage(b"noext", 255, 1), b"noext(1)");
        let long = vec![b'x'; 300];
        assert_eq!(massage(&long, 255, 0).len(), 255);
        let mut long_ext = vec![b'y'; 300];
        long_ext.extend_from_slice(b".png");
        let m = massage(&long_ext, 255, 1);
        assert_eq!(m.len(), 255);
        assert!(m.ends_with(b"(1).png"));
    }

    #[test]
    fn writer_numbers_clashes() {
        let dir = std::env::temp_dir().join(format!("dorsal-eo-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut w = ObjectWriter::new("http", &dir.join("sub")).expect("dir");
        let obj = |name: &'static [u8]| ExportObject {
            frame: 7,
            hostname: None,
            content_type: Some(b"text/html"),
            filename: Some(name),
            data: b"x",
        };
        w.object("http", &obj(b"a.txt"));
        w.object("http", &obj(b"a.txt"));
        w.object("http", &obj(b"b.txt"));
        w.object(
            "http",
            &ExportObject {
                filename: None,
                ..obj(b"")
            },
        );
        let mut names: Vec<String> = fs::read_dir(dir.join("sub"))
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec!["a(1).txt", "a.txt", "b.txt", "object7.text%2fhtml"]
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn pieces_land_at_their_offsets() {
        let dir = std::env::temp_dir().join(format!("dorsal-eo-p-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut w = ObjectWriter::new("smb", &dir).expect("dir");
        let obj = |data: &'static [u8]| ExportObject {
            frame: 1,
            hostname: None,
            content_type: None,
            filename: Some(b"\\f.txt"),
            data,
        };
        w.piece("smb", 1, &obj(b"cd"), 2);
        w.piece("smb", 2, &obj(b""), 0);
        w.piece("smb", 1, &obj(b"ab"), 0);
        w.piece("smb", 1, &obj(b"X"), 1);
        w.piece("http", 3, &obj(b"no"), 0);
        assert_eq!(fs::read(dir.join("%5cf.txt")).expect("f"), b"aXcd");
        assert_eq!(fs::read(dir.join("%5cf(1).txt")).expect("f1"), b"");
        assert_eq!(fs::read_dir(&dir).expect("read").count(), 2);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn clashing_names_count_up_past_files_already_there_then_overwrite_the_last() {
        let dir = std::env::temp_dir().join(format!("dorsal-eo-c-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("dir");
        // A file from before the run takes `x(2)`.
        fs::write(dir.join("x(2)"), b"old").expect("old");
        let mut w = ObjectWriter::new("http", &dir).expect("dir");
        for i in 0..MAX_TRIES + 5 {
            let data = i.to_string();
            w.object(
                "http",
                &ExportObject {
                    frame: i,
                    hostname: None,
                    content_type: None,
                    filename: Some(b"x"),
                    data: data.as_bytes(),
                },
            );
        }
        assert_eq!(fs::read(dir.join("x")).expect("x"), b"0");
        assert_eq!(fs::read(dir.join("x(1)")).expect("x1"), b"1");
        assert_eq!(fs::read(dir.join("x(2)")).expect("x2"), b"old");
        assert_eq!(fs::read(dir.join("x(3)")).expect("x3"), b"2");
        let last = (MAX_TRIES + 4).to_string();
        assert_eq!(fs::read(dir.join("x(999)")).expect("x999"), last.as_bytes());
        assert_eq!(
            fs::read_dir(&dir).expect("read").count(),
            MAX_TRIES as usize
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
