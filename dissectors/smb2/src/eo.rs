//! State behind `--export-objects smb`: the handle table that names a
//! FileId (tshark keeps it as a DCE/RPC policy handle, valid between the
//! frame it was first seen in and the frame it was closed or reopened in),
//! the per-handle end of file and attributes from CREATE responses, and the
//! list of exported files, one per (tree id, FileId) as tshark tracks them.

use std::collections::HashMap;

use dorsal_engine::taps::{ExportObject, SharedSink};

/// Caps on remembered handles, instances per handle and exported files.
const MAX_HANDLES: usize = 1 << 18;
const MAX_PER_HANDLE: usize = 64;
const MAX_FILES: usize = 1 << 18;

/// FILE_ATTRIBUTE_DIRECTORY and the attributes tshark takes for a file.
const ATTR_DIRECTORY: u32 = 0x10;
const ATTR_FILE: u32 = 0x01 | 0x02 | 0x04 | 0x20 | 0x80;

pub type Handle = [u8; 16];

struct Pol {
    first: u32,
    last: u32,
    name: Option<String>,
}

/// What the CREATE response told about a handle.
#[derive(Clone, Copy, Default)]
pub struct FileInfo {
    pub attr: u32,
}

impl FileInfo {
    /// Only regular files are exported with their data.
    pub fn is_file(&self) -> bool {
        self.attr & ATTR_DIRECTORY == 0 && self.attr & ATTR_FILE != 0
    }
}

#[derive(Default)]
pub struct Handles {
    pols: HashMap<Handle, Vec<Pol>>,
}

fn is_null(h: &Handle) -> bool {
    h.iter().all(|&b| b == 0)
}

impl Handles {
    fn find(&mut self, h: &Handle, frame: u32) -> Option<&mut Pol> {
        self.pols
            .get_mut(h)?
            .iter_mut()
            .find(|p| p.first <= frame && (p.last == 0 || p.last >= frame))
    }

    fn add(&mut self, h: &Handle, pol: Pol) {
        if self.pols.len() >= MAX_HANDLES && !self.pols.contains_key(h) {
            return;
        }
        let v = self.pols.entry(*h).or_default();
        if v.len() >= MAX_PER_HANDLE {
            // A handle reused without end (the 0xff.. "related" FileId of
            // compounds): forget its oldest closed instance, which no later
            // frame can match.
            match v.iter().position(|p| p.last != 0) {
                Some(i) => {
                    v.remove(i);
                }
                None => return,
            }
        }
        v.push(pol);
    }

    /// A handle seen in an open, a close or any other use
    /// (`dcerpc_smb_store_pol_pkts`).
    pub fn seen(&mut self, h: &Handle, frame: u32, open: bool, close: bool) {
        if is_null(h) {
            return;
        }
        if let Some(p) = self.find(h, frame) {
            if open {
                if p.first == frame && p.last == 0 {
                    return;
                }
                p.last = frame;
            } else {
                if close {
                    p.last = frame;
                }
                return;
            }
        }
        self.add(
            h,
            Pol {
                first: frame,
                last: if close { frame } else { 0 },
                name: None,
            },
        );
    }

    /// Names a handle (`dcerpc_store_polhnd_name`).
    pub fn name(&mut self, h: &Handle, frame: u32, name: String) {
        if is_null(h) {
            return;
        }
        if let Some(p) = self.find(h, frame) {
            p.name = Some(name);
            return;
        }
        self.add(
            h,
            Pol {
                first: frame,
                last: 0,
                name: Some(name),
            },
        );
    }

    /// Whether the handle is known at this frame, and its name.
    pub fn fetch(&mut self, h: &Handle, frame: u32) -> Option<Option<String>> {
        self.find(h, frame).map(|p| p.name.clone())
    }
}

/// tshark's key for a tracked file: the tree id and, for SMB2, the FileId
/// (it hashes the GUID's text) or, for SMB1, the 16-bit FID.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKey {
    V1(u32, u16),
    V2(u32, Handle),
}

/// The exported files of a pass, SMB and SMB2 alike (one tshark tap).
#[derive(Default)]
pub struct Exports {
    files: HashMap<FileKey, u64>,
    next: u64,
}

/// One READ or WRITE data buffer for the export.
pub struct Chunk<'a> {
    pub frame: u32,
    pub key: FileKey,
    pub filename: &'a str,
    /// Only regular files get their data exported.
    pub is_file: bool,
    pub offset: u64,
    pub data: &'a [u8],
}

/// `feed_eo_smb2`'s file name for a handle: the CREATE name after a
/// backslash, or `File_Id_<guid>` when the handle has none.
pub fn smb2_filename(handle: &Handle, name: &Option<Option<String>>) -> String {
    match name {
        Some(Some(n)) if n != "File: " => match n.rsplit_once("File: ") {
            Some((_, tail)) if n.starts_with("File: ") => format!("\\{tail}"),
            _ if n.starts_with('\\') => n.clone(),
            _ => format!("\\{n}"),
        },
        _ => format!(
            "File_Id_{}",
            crate::parse::guid_string(handle).unwrap_or_default()
        ),
    }
}

impl Exports {
    /// `smb_eo_packet`: the first chunk of a file lists it (empty unless
    /// it is a regular file), later chunks of regular files fill it in.
    pub fn chunk(&mut self, sink: &SharedSink, c: &Chunk<'_>) {
        let (id, new) = match self.files.get(&c.key) {
            Some(&id) => (id, false),
            None => {
                if self.files.len() >= MAX_FILES {
                    return;
                }
                let id = self.next;
                self.next = self.next.saturating_add(1);
                self.files.insert(c.key, id);
                (id, true)
            }
        };
        if !new && !c.is_file {
            return;
        }
        let data = if c.is_file { c.data } else { &[] };
        if let Ok(mut s) = sink.try_borrow_mut() {
            s.piece(
                "smb",
                id,
                &ExportObject {
                    frame: c.frame,
                    hostname: None,
                    content_type: None,
                    filename: Some(c.filename.as_bytes()),
                    data,
                },
                c.offset,
            );
        }
    }
}
