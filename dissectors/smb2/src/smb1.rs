//! SMB1 for `--export-objects smb`: NT_CREATE_ANDX names a FID, READ_ANDX
//! responses and WRITE_ANDX requests carry file ranges (packet-smb.c's
//! `feed_eo_smb`). Only what the export needs is parsed; no fields.

use std::collections::HashMap;

use dorsal_engine::taps::SharedSink;

use crate::eo::{Chunk, Exports, FileKey};
use crate::parse::{self, Le};

const CMD_READ_ANDX: u8 = 0x2e;
const CMD_WRITE_ANDX: u8 = 0x2f;
const CMD_NT_CREATE_ANDX: u8 = 0xa2;
/// Commands whose first words are an AndX block.
const ANDX: &[u8] = &[0x24, 0x2d, 0x2e, 0x2f, 0x73, 0x74, 0x75, 0xa2];
/// Caps on commands in one AndX chain, pending requests, FIDs.
const MAX_ANDX: usize = 32;
const MAX_PENDING: usize = 1 << 16;
const MAX_FIDS: usize = 1 << 16;
const MAX_PER_FID: usize = 64;
/// Longest file name kept (bytes on the wire).
const MAX_NAME: usize = 2048;

const HDR: usize = 32;
const WRITE_MODE_RAW: u16 = 0x0004;
const WRITE_MODE_MESSAGE_START: u16 = 0x0008;

#[derive(Clone, Copy, PartialEq, Eq)]
enum FidType {
    Unknown,
    File,
    Dir,
    Pipe,
}

struct FidInfo {
    opened_in: u32,
    name: Option<String>,
    ty: FidType,
}

#[derive(Clone)]
enum Extra {
    None,
    Name(String),
    Rw { offset: u64, fid: u16 },
}

struct Sip {
    cmd: u8,
    extra: Extra,
}

#[derive(Default)]
struct Conv {
    unmatched: HashMap<u32, Sip>,
    fids: HashMap<(u16, u16), Vec<FidInfo>>,
}

#[derive(Default)]
pub struct Smb1 {
    convs: HashMap<u32, Conv>,
}

/// What one SMB1 message is dissected with.
pub struct Msg<'a> {
    pub conv: u32,
    pub frame: u32,
    pub visited: bool,
    pub data: &'a [u8],
}

impl Smb1 {
    /// Follows one SMB1 message and its AndX chain.
    pub fn message(&mut self, exports: &mut Exports, sink: &SharedSink, m: &Msg<'_>) {
        // tshark keeps SMB1 state on the first pass only.
        if m.visited {
            return;
        }
        let d = m.data;
        let (Some(first), Some(flags), Some(flags2), Some(tid), Some(pid), Some(mid)) = (
            d.u8_at(4),
            d.u8_at(9),
            d.u16_at(10),
            d.u16_at(24),
            d.u16_at(26),
            d.u16_at(30),
        ) else {
            return;
        };
        let status = d.u32_at(5).unwrap_or(0);
        let request = flags & 0x80 == 0;
        let unicode = flags2 & 0x8000 != 0;
        let pid_mid = (u32::from(pid) << 16) | u32::from(mid);
        if self.convs.len() >= MAX_PENDING && !self.convs.contains_key(&m.conv) {
            return;
        }
        let conv = self.convs.entry(m.conv).or_default();

        // Request/response matching by PID and MID (dissect_smb).
        let mut sip = match conv.unmatched.remove(&pid_mid) {
            Some(s) if !request && s.cmd == first => Some(s),
            _ => None,
        };
        if request {
            sip = Some(Sip {
                cmd: first,
                extra: Extra::None,
            });
        }

        let mut cmd = first;
        let mut off = HDR;
        for _ in 0..MAX_ANDX {
            let Some(wc) = d.u8_at(off) else { break };
            let w = off + 1;
            let bc_at = w + 2 * usize::from(wc);
            let bytes = bc_at + 2;
            match (cmd, request) {
                (CMD_NT_CREATE_ANDX, true) if wc != 0 => {
                    if let (Some(s), Some(fn_len)) = (sip.as_mut(), d.u16_at(w + 5)) {
                        if let Some(name) = file_name(d, bytes, usize::from(fn_len), unicode) {
                            s.extra = Extra::Name(name);
                        }
                    }
                }
                (CMD_NT_CREATE_ANDX, false) => {
                    let name = match sip.as_ref().map(|s| &s.extra) {
                        Some(Extra::Name(n)) => Some(n.clone()),
                        _ => None,
                    };
                    let mut fid = 0;
                    if wc != 0 {
                        fid = d.u16_at(w + 5).unwrap_or(0);
                        let ftype = d.u16_at(w + 63);
                        let isdir = d.u8_at(w + 67);
                        let ty = match (ftype, isdir) {
                            (Some(0), Some(0)) => FidType::File,
                            (Some(0), Some(_)) => FidType::Dir,
                            (Some(2), _) => FidType::Pipe,
                            _ => FidType::Unknown,
                        };
                        add_fid(conv, tid, fid, m.frame, name.clone(), ty);
                    }
                    // An error response still opens the FID it carries.
                    if status != 0 {
                        add_fid(conv, tid, fid, m.frame, name, FidType::Unknown);
                    }
                }
                (CMD_READ_ANDX, true) if wc != 0 => {
                    let fid = d.u16_at(w + 4).unwrap_or(0);
                    let low = d.u32_at(w + 6).unwrap_or(0);
                    let high = if wc == 12 {
                        d.u32_at(w + 20).unwrap_or(0)
                    } else {
                        0
                    };
                    if let Some(s) = sip.as_mut() {
                        s.extra = Extra::Rw {
                            offset: (u64::from(high) << 32) | u64::from(low),
                            fid,
                        };
                    }
                }
                (CMD_READ_ANDX, false) if wc != 0 => {
                    let low = d.u16_at(w + 10).unwrap_or(0);
                    let dataoffset = d.u16_at(w + 12).unwrap_or(0);
                    let mut high = d.u32_at(w + 14).unwrap_or(0);
                    if high == u32::MAX {
                        high = 0;
                    }
                    let datalen = (high << 16) | u32::from(low);
                    if let Some(Extra::Rw { offset, fid }) = sip.as_ref().map(|s| s.extra.clone()) {
                        feed(
                            conv,
                            exports,
                            sink,
                            m,
                            tid,
                            fid,
                            usize::from(dataoffset),
                            datalen,
                            offset,
                        );
                    }
                }
                (CMD_WRITE_ANDX, true) if wc != 0 => {
                    let fid = d.u16_at(w + 4).unwrap_or(0);
                    let low = d.u32_at(w + 6).unwrap_or(0);
                    let mode = d.u16_at(w + 14).unwrap_or(0);
                    let dl_high = d.u16_at(w + 18).unwrap_or(0);
                    let dl_low = d.u16_at(w + 20).unwrap_or(0);
                    let mut dataoffset = usize::from(d.u16_at(w + 22).unwrap_or(0));
                    let high = if wc == 14 {
                        d.u32_at(w + 24).unwrap_or(0)
                    } else {
                        0
                    };
                    let offset = (u64::from(high) << 32) | u64::from(low);
                    let mut datalen = (u32::from(dl_high) << 16) | u32::from(dl_low);
                    if let Some(s) = sip.as_mut() {
                        s.extra = Extra::Rw { offset, fid };
                        if mode & WRITE_MODE_MESSAGE_START != 0 && mode & WRITE_MODE_RAW != 0 {
                            dataoffset = dataoffset.saturating_add(2);
                            datalen = datalen.wrapping_sub(2);
                        }
                        feed(
                            conv, exports, sink, m, tid, fid, dataoffset, datalen, offset,
                        );
                    }
                }
                _ => {}
            }
            if wc == 0 || !ANDX.contains(&cmd) {
                break;
            }
            let (Some(next), Some(andx)) = (d.u8_at(w), d.u16_at(w + 2)) else {
                break;
            };
            let andx = usize::from(andx);
            if next == 0xff || andx < bytes {
                break;
            }
            cmd = next;
            off = andx;
        }

        if request {
            if let Some(s) = sip {
                if conv.unmatched.len() < MAX_PENDING || conv.unmatched.contains_key(&pid_mid) {
                    conv.unmatched.insert(pid_mid, s);
                }
            }
        }
    }
}

/// The NT_CREATE_ANDX file name: UTF-16 aligned to an even offset from the
/// SMB header, or ASCII, up to its length or a NUL.
fn file_name(d: &[u8], mut at: usize, len: usize, unicode: bool) -> Option<String> {
    if len > MAX_NAME {
        return None;
    }
    let mut out = String::new();
    if unicode {
        if at % 2 == 1 {
            at += 1;
        }
        let b = d.get(at..at.checked_add(len)?.min(d.len()))?;
        parse::utf16le(b, &mut out);
    } else {
        let b = d.get(at..at.checked_add(len)?.min(d.len()))?;
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        out = b.get(..end)?.iter().map(|&c| char::from(c)).collect();
    }
    Some(out)
}

fn add_fid(conv: &mut Conv, tid: u16, fid: u16, frame: u32, name: Option<String>, ty: FidType) {
    if conv.fids.len() >= MAX_FIDS && !conv.fids.contains_key(&(tid, fid)) {
        return;
    }
    let v = conv.fids.entry((tid, fid)).or_default();
    if v.len() >= MAX_PER_FID {
        v.remove(0);
    }
    v.push(FidInfo {
        opened_in: frame,
        name,
        ty,
    });
}

/// `feed_eo_smb`: the data must fill the message from its offset on.
#[allow(clippy::too_many_arguments)]
fn feed(
    conv: &Conv,
    exports: &mut Exports,
    sink: &SharedSink,
    m: &Msg<'_>,
    tid: u16,
    fid: u16,
    dataoffset: usize,
    datalen: u32,
    offset: u64,
) {
    let d = m.data;
    let Ok(len) = usize::try_from(datalen) else {
        return;
    };
    if d.len().checked_sub(dataoffset) != Some(len) {
        return;
    }
    let Some(data) = d.get(dataoffset..) else {
        return;
    };
    let info = conv
        .fids
        .get(&(tid, fid))
        .and_then(|v| v.iter().rev().find(|f| f.opened_in <= m.frame));
    let filename = info
        .and_then(|f| f.name.clone())
        .unwrap_or_else(|| format!("\\FILEID_{fid}"));
    let is_file = info.is_some_and(|f| f.ty == FidType::File);
    exports.chunk(
        sink,
        &Chunk {
            frame: m.frame,
            key: FileKey::V1(u32::from(tid), fid),
            filename: &filename,
            is_file,
            offset,
            data,
        },
    );
}
