//! NBSS framing over TCP and the SMB2 dissector: header, compound chains,
//! per-command fields, tree and file name tracking, and the security blob
//! handed to GSS-API / SPNEGO / NTLMSSP.

use dorsal_engine::hash::HashMap;
use std::cell::RefCell;

use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::table::{Timestamp, Value};

use crate::fields::Smb2Fields;
use crate::parse::{self, Header, Le, HEADER_LEN};

/// Cap on SMB2 messages followed in one compound chain.
const MAX_CHAIN: usize = 512;
/// Cap on NBSS messages in one TCP payload.
const MAX_NBSS: usize = 4096;
/// Caps on remembered sessions, trees, files and pending requests.
const MAX_SESSIONS: usize = 1 << 16;
const MAX_PER_SESSION: usize = 1 << 16;
const MAX_PENDING: usize = 1 << 16;
/// Longest name remembered (bytes of UTF-16).
const MAX_NAME: usize = 1024;

const STATUS_PENDING: u32 = 0x0000_0103;
const STATUS_MORE_PROCESSING: u32 = 0xc000_0016;
const STATUS_BUFFER_OVERFLOW: u32 = 0x8000_0005;

#[derive(Clone, Debug)]
enum Extra {
    None,
    Tree(String),
    File(String),
}

#[derive(Clone, Debug)]
struct Saved {
    frame_req: u32,
    frame_res: u32,
    req_time: Timestamp,
    extra: Extra,
}

#[derive(Default)]
struct Session {
    tids: HashMap<u32, String>,
    fids: HashMap<[u8; 16], String>,
}

#[derive(Default)]
struct Conv {
    unmatched: HashMap<u64, Saved>,
    matched: HashMap<u64, Saved>,
}

#[derive(Default)]
struct State {
    sessions: HashMap<u64, Session>,
    convs: HashMap<u32, Conv>,
}

pub struct Nbss {
    f: Smb2Fields,
    state: RefCell<State>,
}

impl Nbss {
    pub fn new(f: Smb2Fields) -> Self {
        Nbss {
            f,
            state: RefCell::new(State::default()),
        }
    }
}

/// Whether the 4-byte header is a plausible NBSS header (packet-nbt.c).
fn plausible(ty: u8, flags: u8, len: u32) -> bool {
    if flags & !1 != 0 {
        return false;
    }
    match ty {
        0x00 => len != 0,
        0x81 => (2..=256).contains(&len),
        0x82 | 0x85 => len == 0,
        0x83 => len == 1,
        0x84 => len == 6,
        _ => false,
    }
}

fn is_smb_at(data: &[u8], off: usize) -> bool {
    data.u8_at(off) == Some(0) && data.slice(off.saturating_add(5), 3) == Some(b"SMB".as_slice())
}

fn nbss_len(data: &[u8], off: usize, cifs: bool) -> Option<u32> {
    let b1 = u32::from(data.u8_at(off + 1)?);
    let b2 = u32::from(data.u8_at(off + 2)?);
    let b3 = u32::from(data.u8_at(off + 3)?);
    Some(if cifs {
        (b1 << 16) | (b2 << 8) | b3
    } else {
        ((b1 & 1) << 16) | (b2 << 8) | b3
    })
}

impl Dissector for Nbss {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = self.f;
        let reassembled = cx.tcp.map(|t| t.reassembled).unwrap_or(false);
        let port_cifs = cx.srcport == 445 || cx.dstport == 445;
        let mut cifs = port_cifs;
        if !reassembled {
            if data.len() < 4 {
                return cont_outcome(cx, f, data);
            }
            cifs = is_smb_at(data, 0);
            let (flags, len) = if cifs {
                (0, nbss_len(data, 0, true).unwrap_or(0))
            } else {
                (
                    data.u8_at(1).unwrap_or(0),
                    nbss_len(data, 0, false).unwrap_or(0),
                )
            };
            if !plausible(data.u8_at(0).unwrap_or(0xff), flags, len) {
                return cont_outcome(cx, f, data);
            }
        }
        cx.t.add_layer("nbss");
        let mut off = 0usize;
        let mut n = 0;
        while off < data.len() && n < MAX_NBSS {
            n += 1;
            let remaining = data.len() - off;
            if remaining < 4 {
                return Outcome::NeedMore {
                    offset: off,
                    more: None,
                };
            }
            let this_cifs = cifs || (port_cifs && is_smb_at(data, off));
            let len = nbss_len(data, off, this_cifs).unwrap_or(0) as usize;
            let plen = len.saturating_add(4);
            if remaining < plen && cx.tcp.is_some() {
                return Outcome::NeedMore {
                    offset: off,
                    more: Some(plen - remaining),
                };
            }
            let end = off.saturating_add(plen).min(data.len());
            let pdu = data.get(off..end).unwrap_or(&[]);
            self.packet(cx, pdu, this_cifs);
            off = off.saturating_add(plen);
        }
        Outcome::Done(data.len())
    }
}

fn cont_outcome(cx: &mut Cx<'_>, f: Smb2Fields, data: &[u8]) -> Outcome {
    cx.t.add_layer("nbss");
    cx.t.push_proto(f.nbss, data);
    cx.t.push_bytes(f.nbss_continuation, data);
    Outcome::Done(data.len())
}

impl Nbss {
    /// One NBSS message (`dissect_nbss_packet`).
    fn packet(&self, cx: &mut Cx<'_>, pdu: &[u8], cifs: bool) {
        let f = self.f;
        let ty = pdu.u8_at(0).unwrap_or(0);
        cx.t.push_proto(f.nbss, pdu);
        cx.t.push_u(f.nbss_type, ty);
        let len = if cifs {
            nbss_len(pdu, 0, true).unwrap_or(0)
        } else {
            let flags = pdu.u8_at(1).unwrap_or(0);
            cx.t.push_u(f.nbss_flags, flags);
            cx.t.push_bool(f.nbss_flags_e, flags & 1 != 0);
            nbss_len(pdu, 0, false).unwrap_or(0)
        };
        cx.t.push_u(f.nbss_length, len);
        if ty != 0 {
            return;
        }
        let payload = pdu.get(4..).unwrap_or(&[]);
        match payload.slice(0, 4) {
            Some(b"\xfeSMB") | Some(b"\xfdSMB") | Some(b"\xfcSMB") => {
                cx.t.add_layer("smb2");
                self.smb2(cx, payload);
            }
            Some(b"\xffSMB") => {
                cx.t.add_layer("smb");
                if let Some(blob) = parse::smb1_session_setup_blob(payload) {
                    if !blob.is_empty() {
                        crate::ntlmssp::security_blob(cx, &f, blob);
                    }
                }
            }
            _ => {}
        }
    }

    fn conv_key(cx: &Cx<'_>) -> u32 {
        cx.tcp.map(|t| t.stream).unwrap_or(u32::MAX)
    }

    /// An SMB2 message and the messages chained after it.
    fn smb2(&self, cx: &mut Cx<'_>, data: &[u8]) {
        let f = self.f;
        let mut off = 0usize;
        for _ in 0..MAX_CHAIN {
            let Some(rest) = data.get(off..) else { return };
            if rest.is_empty() {
                return;
            }
            match rest.u8_at(0) {
                Some(0xfd) => {
                    // Transform header: encrypted, left opaque.
                    cx.t.push_proto(f.smb2, rest);
                    cx.t.push_u(f.protocol_id, 0xfd53_4d42u32);
                    // Signature, nonce, original size, reserved, flags, then
                    // the session id (MS-SMB2 2.2.41).
                    if let Some(s) = rest.u64_at(44) {
                        cx.t.push_u(f.sesid, s);
                    }
                    return;
                }
                Some(0xfc) => {
                    cx.t.push_proto(f.smb2, rest);
                    cx.t.push_u(f.protocol_id, 0xfc53_4d42u32);
                    return;
                }
                _ => {}
            }
            let Some(h) = Header::parse(rest) else {
                cx.t.push_proto(f.smb2, rest);
                return;
            };
            let msg = if h.next != 0 {
                rest.get(..h.next as usize).unwrap_or(rest)
            } else {
                rest
            };
            self.message(cx, &h, msg);
            if h.next == 0 || (h.next as usize) < HEADER_LEN {
                return;
            }
            off = off.saturating_add(h.next as usize);
        }
    }

    fn message(&self, cx: &mut Cx<'_>, h: &Header, msg: &[u8]) {
        let f = self.f;
        let key = Self::conv_key(cx);
        let frame = cx.frame.number;
        let now = cx.frame.ts;
        let visited = cx.frame.visited;
        let mut guard = self.state.borrow_mut();
        let st = &mut *guard;
        let t = &mut *cx.t;
        t.push_proto(f.smb2, msg);
        t.push_u(f.protocol_id, 0xfe53_4d42u32);
        t.push_u(f.header_len, h.header_len);
        t.push_u(f.credit_charge, h.credit_charge);
        let resp = h.is_response();
        if resp {
            t.push_u(f.nt_status, h.status);
        } else {
            t.push_u(f.channel_sequence, h.status & 0xffff);
            if let Some(r) = msg.slice(10, 2) {
                t.push_bytes(f.reserved, r);
            }
        }
        t.push_u(f.cmd, h.cmd);
        if resp {
            t.push_u(f.credits_granted, h.credits);
        } else {
            t.push_u(f.credits_requested, h.credits);
        }
        let fl = h.flags;
        t.push_u(f.flags, fl);
        t.push_bool(f.flags_response, fl & 0x1 != 0);
        t.push_bool(f.flags_async, fl & 0x2 != 0);
        t.push_bool(f.flags_chained, fl & 0x4 != 0);
        t.push_bool(f.flags_signature, fl & 0x8 != 0);
        t.push_bool(f.flags_priority, fl & 0x70 != 0);
        t.push_bool(f.flags_dfs, fl & 0x1000_0000 != 0);
        t.push_bool(f.flags_replay, fl & 0x2000_0000 != 0);
        t.push_u(f.chain_offset, h.next);
        t.push_u(f.msg_id, h.msg_id);
        if h.is_async() {
            t.push_u(f.aid, h.aid_or_pid_tid);
        } else {
            t.push_u(f.pid, h.pid());
            t.push_u(f.tid, h.tid());
        }
        t.push_u(f.sesid, h.sesid);
        if !h.is_async() {
            if let Some(name) = st.sessions.get(&h.sesid).and_then(|s| s.tids.get(&h.tid())) {
                t.push_str(f.tree, name.as_bytes());
            }
        }
        if let Some(sig) = msg.slice(48, 16) {
            t.push_bytes(f.signature, sig);
        }

        // Request/response matching by message id within the conversation.
        let conv = st.convs.entry(key).or_default();
        let mut saved = None;
        if !visited {
            if !resp {
                conv.unmatched.remove(&h.msg_id);
                if conv.unmatched.len() < MAX_PENDING {
                    conv.unmatched.insert(
                        h.msg_id,
                        Saved {
                            frame_req: frame,
                            frame_res: 0,
                            req_time: now,
                            extra: Extra::None,
                        },
                    );
                }
                saved = conv.unmatched.get(&h.msg_id).cloned();
            } else if !(h.is_async() && h.status == STATUS_PENDING) {
                if let Some(mut s) = conv.unmatched.remove(&h.msg_id) {
                    s.frame_res = frame;
                    if conv.matched.len() < MAX_PENDING {
                        conv.matched.insert(h.msg_id, s.clone());
                    }
                    saved = Some(s);
                }
            } else {
                saved = conv.unmatched.get(&h.msg_id).cloned();
            }
        } else {
            saved = conv
                .matched
                .get(&h.msg_id)
                .or_else(|| conv.unmatched.get(&h.msg_id))
                .cloned();
        }
        if let Some(s) = &saved {
            if !resp {
                if s.frame_res != 0 {
                    t.push(f.response_in, Value::U(u64::from(s.frame_res)));
                }
            } else if s.frame_req != 0 {
                t.push(f.response_to, Value::U(u64::from(s.frame_req)));
                t.push(f.time, Value::RelTime(now.nanos_since(s.req_time)));
            }
        }

        let body = msg.get(HEADER_LEN..).unwrap_or(&[]);
        // Error responses carry an error body instead of the command's.
        if resp
            && h.status != 0
            && h.status != STATUS_MORE_PROCESSING
            && h.status != STATUS_BUFFER_OVERFLOW
        {
            return;
        }
        let mut extra = Extra::None;
        let mut blob: Option<&[u8]> = None;
        let sc = body.u16_at(0);
        if let Some(sc) = sc {
            t.push_u(f.buffer_code, sc);
            t.push_u(f.buffer_code_len, sc & 0xfffe);
            t.push_bool(f.buffer_code_dyn, sc & 1 != 0);
        }
        let sesid = h.sesid;
        let tid = h.tid();
        // FT_GUID has no table value yet: the GUID's text stands in for it.
        let fid_use = |t: &mut dorsal_engine::table::FieldTable, at: usize| {
            if let Some(g) = body.slice(at, 16).and_then(parse::guid_string) {
                t.push_str(f.fid, g.as_bytes());
            }
        };
        let mut name = String::new();
        match (h.cmd, resp) {
            (0, false) => {
                let count = usize::from(body.u16_at(2).unwrap_or(0)).min(64);
                for i in 0..count {
                    if let Some(d) = body.u16_at(36 + 2 * i) {
                        t.push_u(f.dialect, d);
                    }
                }
            }
            (0, true) => {
                if let Some(d) = body.u16_at(4) {
                    t.push_u(f.dialect, d);
                }
                blob = olb16(msg, body, 56);
            }
            (1, false) => blob = olb16(msg, body, 12),
            (1, true) => blob = olb16(msg, body, 4),
            (3, false) => {
                if let Some(b) = olb16(msg, body, 4) {
                    parse::utf16le(b, &mut name);
                    t.push_str(f.tree, name.as_bytes());
                    if !b.is_empty() && b.len() < MAX_NAME {
                        extra = Extra::Tree(name.clone());
                    }
                }
            }
            (3, true) => {
                if let Some(s) = body.u8_at(2) {
                    t.push_u(f.share_type, s);
                }
                if !visited {
                    if let Some(Saved {
                        extra: Extra::Tree(n),
                        ..
                    }) = &saved
                    {
                        if let Some(sess) = session(&mut st.sessions, sesid) {
                            if sess.tids.len() < MAX_PER_SESSION || sess.tids.contains_key(&tid) {
                                sess.tids.insert(tid, n.clone());
                            }
                        }
                    }
                }
            }
            (5, false) => {
                if let Some(d) = body.u32_at(36) {
                    t.push_u(f.create_disposition, d);
                }
                if let Some(b) = olb16(msg, body, 44) {
                    parse::utf16le(b, &mut name);
                    if !b.is_empty() {
                        t.push_str(f.filename, name.as_bytes());
                    }
                    if b.len() < MAX_NAME {
                        extra = Extra::File(name.clone());
                    }
                }
            }
            (5, true) => {
                fid_use(t, 64);
                if !visited {
                    if let (Some(b), Some(sess)) =
                        (body.slice(64, 16), session(&mut st.sessions, sesid))
                    {
                        let mut k = [0u8; 16];
                        k.copy_from_slice(b);
                        let n = match &saved {
                            Some(Saved {
                                extra: Extra::File(n),
                                ..
                            }) => n.clone(),
                            _ => "[unknown]".to_string(),
                        };
                        if sess.fids.len() < MAX_PER_SESSION || sess.fids.contains_key(&k) {
                            sess.fids.insert(k, n);
                        }
                    }
                }
            }
            (6, false) | (7, false) | (10, false) | (15, false) | (18, _) => fid_use(t, 8),
            (8, false) => {
                if let Some(l) = body.u32_at(4) {
                    t.push_u(f.read_length, l);
                }
                if let Some(o) = body.u64_at(8) {
                    t.push_u(f.file_offset, o);
                }
                fid_use(t, 16);
            }
            (9, false) => {
                if let Some(l) = body.u32_at(4) {
                    t.push_u(f.write_length, l);
                }
                if let Some(o) = body.u64_at(8) {
                    t.push_u(f.file_offset, o);
                }
                fid_use(t, 16);
            }
            (11, _) => {
                if let Some(func) = body.u32_at(4) {
                    t.push_u(f.ioctl_function, func);
                }
                fid_use(t, 8);
            }
            (14, false) => {
                if let Some(c) = body.u8_at(2) {
                    t.push_u(f.infolevel, c);
                }
                fid_use(t, 8);
                if let Some(b) = olb16(msg, body, 24) {
                    parse::utf16le(b, &mut name);
                    t.push_str(f.find_pattern, name.as_bytes());
                }
            }
            (16, false) => {
                if let Some(c) = body.u8_at(2) {
                    t.push_u(f.class, c);
                }
                if let Some(c) = body.u8_at(3) {
                    t.push_u(f.infolevel, c);
                }
                fid_use(t, 24);
            }
            (17, false) => {
                if let Some(c) = body.u8_at(2) {
                    t.push_u(f.class, c);
                }
                if let Some(c) = body.u8_at(3) {
                    t.push_u(f.infolevel, c);
                }
                fid_use(t, 16);
            }
            _ => {}
        }
        if !visited && !resp && !matches!(extra, Extra::None) {
            if let Some(s) = st
                .convs
                .get_mut(&key)
                .and_then(|c| c.unmatched.get_mut(&h.msg_id))
            {
                s.extra = extra;
            }
        }
        drop(guard);
        if let Some(b) = blob {
            if !b.is_empty() {
                cx.t.push_bytes(f.security_blob, b);
                crate::ntlmssp::security_blob(cx, &f, b);
            }
        }
    }
}

/// The session of this id, created on first use (within the cap).
fn session(map: &mut HashMap<u64, Session>, id: u64) -> Option<&mut Session> {
    if map.len() >= MAX_SESSIONS && !map.contains_key(&id) {
        return None;
    }
    Some(map.entry(id).or_default())
}

/// A buffer given by a 16-bit offset (from the SMB2 header) and 16-bit
/// length at `at` in the body.
fn olb16<'a>(msg: &'a [u8], body: &[u8], at: usize) -> Option<&'a [u8]> {
    let off = usize::from(body.u16_at(at)?);
    let len = usize::from(body.u16_at(at + 2)?);
    if len == 0 {
        return Some(&[]);
    }
    let end = off.checked_add(len)?;
    // A buffer cut short by the capture keeps what is there.
    msg.get(off..end.min(msg.len()))
}
