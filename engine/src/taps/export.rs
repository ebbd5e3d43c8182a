//! Export objects (`--export-objects PROTO,DIR`): a dissector publishes an
//! [`ExportObject`] to the [`ObjectSink`] it was built with; the
//! [`ObjectWriter`] writes each one to the directory at once, under the name
//! tshark gives it, so nothing is held beyond the object being written.
//! Objects that grow frame by frame (FTP-DATA) are published piece by piece
//! with [`ObjectSink::append`] and appended to their file.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
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

    /// A piece of an object that grows over several frames (an FTP data
    /// transfer): the first piece with a given `key` starts an object, as
    /// [`ObjectSink::object`] does, and later pieces with the same key are
    /// appended to it. tshark's entry keeps the name and frame of its first
    /// piece.
    fn append(&mut self, proto: &str, key: u64, obj: &ExportObject<'_>) {
        let _ = key;
        self.object(proto, obj);
    }
}

/// A sink shared by the dissectors of one pass.
pub type SharedSink = Rc<RefCell<dyn ObjectSink>>;

/// Longest file name tshark writes (`EXPORT_OBJECT_MAXFILELEN`).
pub const MAX_FILE_LEN: usize = 255;
/// Tries per object before tshark gives up finding a free name
/// (`gui.max_export_objects`); the last name is then overwritten.
pub const MAX_TRIES: u32 = 1000;
/// Growing objects remembered by key; past this, a new key starts a fresh
/// object that cannot be appended to.
const MAX_OPEN: usize = 1 << 16;

/// Writes the objects of one export type into a directory.
pub struct ObjectWriter {
    proto: String,
    dir: PathBuf,
    /// tshark's clash counter, reset for each object.
    count: u32,
    /// The first write error, reported once at the end.
    pub error: Option<io::Error>,
    /// Where each growing object (by key) was written.
    growing: HashMap<u64, PathBuf>,
    /// The file last appended to, kept open for the next piece.
    last: Option<(u64, fs::File)>,
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
            error: None,
            growing: HashMap::new(),
            last: None,
        })
    }

    /// Writes a new object under a free name; returns the path used.
    fn write(&mut self, obj: &ExportObject<'_>) -> io::Result<PathBuf> {
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
        self.count = 0;
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
        fs::write(&path, obj.data)?;
        Ok(path)
    }

    fn append_piece(&mut self, key: u64, obj: &ExportObject<'_>) -> io::Result<()> {
        if let Some((k, file)) = &mut self.last {
            if *k == key {
                return file.write_all(obj.data);
            }
        }
        if let Some(path) = self.growing.get(&key) {
            let mut file = fs::OpenOptions::new().append(true).open(path)?;
            file.write_all(obj.data)?;
            self.last = Some((key, file));
            return Ok(());
        }
        let path = self.write(obj)?;
        if self.growing.len() < MAX_OPEN {
            self.growing.insert(key, path);
        }
        Ok(())
    }

    fn record(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            if self.error.is_none() {
                self.error = Some(e);
            }
        }
    }
}

impl ObjectSink for ObjectWriter {
    fn object(&mut self, proto: &str, obj: &ExportObject<'_>) {
        if proto != self.proto {
            return;
        }
        let r = self.write(obj).map(drop);
        self.record(r);
    }

    fn append(&mut self, proto: &str, key: u64, obj: &ExportObject<'_>) {
        if proto != self.proto {
            return;
        }
        let r = self.append_piece(key, obj);
        self.record(r);
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
    fn pieces_with_one_key_grow_one_file() {
        let dir = std::env::temp_dir().join(format!("dorsal-eo-grow-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut w = ObjectWriter::new("ftp-data", &dir).expect("dir");
        let piece = |name: &'static [u8], data: &'static [u8]| ExportObject {
            frame: 1,
            hostname: None,
            content_type: Some(b"FTP file"),
            filename: Some(name),
            data,
        };
        w.append("ftp-data", 5, &piece(b"f.txt", b"ab"));
        w.append("ftp-data", 9, &piece(b"f.txt", b"xy"));
        w.append("ftp-data", 5, &piece(b"f.txt", b"cd"));
        w.append("ftp-data", 9, &piece(b"f.txt", b"z"));
        w.append("http", 5, &piece(b"other", b"-"));
        assert!(w.error.is_none());
        assert_eq!(fs::read(dir.join("f.txt")).expect("f"), b"abcd");
        assert_eq!(fs::read(dir.join("f(1).txt")).expect("f1"), b"xyz");
        assert!(!dir.join("other").exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
