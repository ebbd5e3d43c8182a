//! NBSS framing over TCP and the SMB2 dissector: header, compound chains,
//! per-command fields, tree and file name tracking, and the security blob
//! handed to GSS-API / SPNEGO / NTLMSSP.

use dorsal_engine::hash::HashMap;
use std::cell::RefCell;

use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::table::{Timestamp, Value};
use dorsal_engine::taps::SharedSink;

use crate::eo::{self, Exports, FileInfo, Handle, Handles};
use crate::smb1::{self, Smb1};

use crate::fields::Smb2Fields;
use crate::info;
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
const FSCTL_DFS_GET_REFERRALS: u32 = 0x0006_0194;

#[derive(Clone, Debug)]
enum Extra {
    None,
    Tree(String),
    File(String),
    /// QUERY_DIRECTORY's information class, and its pattern when not empty.
    Find(u8, Option<String>),
    /// GETINFO's class and information level.
    Info(u8, u8),
}

#[derive(Clone, Debug)]
struct Saved {
    frame_req: u32,
    frame_res: u32,
    req_time: Timestamp,
    extra: Extra,
    /// The FileId the request used, and a READ's range (for the export).
    hnd: Handle,
    file_offset: u64,
    bytes_moved: u32,
}

#[derive(Default)]
struct Session {
    tids: HashMap<u32, String>,
    fids: HashMap<[u8; 16], Fid>,
    files: HashMap<Handle, FileInfo>,
}

/// A file id's name for the Info column, from its CREATE to its CLOSE.
struct Fid {
    name: String,
    tid: u32,
    /// The frames it names the file in: the CREATE request's to the CLOSE
    /// request's.
    frames: (u32, u32),
}

impl Fid {
    /// Whether it names its file on tree `tid` in `frame` (`smb2_fid_info_equal`).
    fn names(&self, tid: u32, frame: u32) -> bool {
        self.tid == tid && (self.frames.0..=self.frames.1).contains(&frame)
    }
}

impl Session {
    /// The name `fid` has in `frame` on tree `tid`.
    fn fid_name(&self, fid: &[u8], tid: u32, frame: u32) -> Option<&str> {
        let f = self.fids.get(fid)?;
        f.names(tid, frame).then_some(f.name.as_str())
    }
}

impl Session {
    fn file(&mut self, h: Handle) -> Option<&mut FileInfo> {
        if self.files.len() >= MAX_PER_SESSION && !self.files.contains_key(&h) {
            return None;
        }
        Some(self.files.entry(h).or_default())
    }
}

/// Saved requests by conversation and message id, at most [`MAX_PENDING`]
/// per conversation. One table for all conversations rather than one per
/// conversation: a per-conversation map keeps its allocation once emptied,
/// and a capture of many short sessions then holds one for each.
#[derive(Default)]
struct Saves {
    map: HashMap<(u32, u64), Saved>,
    /// Entries per conversation; a conversation with none has no entry.
    count: HashMap<u32, usize>,
}

impl Saves {
    fn get(&self, conv: u32, id: u64) -> Option<&Saved> {
        self.map.get(&(conv, id))
    }

    fn get_mut(&mut self, conv: u32, id: u64) -> Option<&mut Saved> {
        self.map.get_mut(&(conv, id))
    }

    fn remove(&mut self, conv: u32, id: u64) -> Option<Saved> {
        let s = self.map.remove(&(conv, id))?;
        if let Some(n) = self.count.get_mut(&conv) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.count.remove(&conv);
            }
        }
        Some(s)
    }

    /// Inserts (or replaces) unless the conversation already holds the cap.
    fn insert_capped(&mut self, conv: u32, id: u64, s: Saved) {
        let n = self.count.get(&conv).copied().unwrap_or(0);
        if n >= MAX_PENDING {
            return;
        }
        if self.map.insert((conv, id), s).is_none() {
            self.count.insert(conv, n.saturating_add(1));
        }
    }
}

#[derive(Default)]
struct State {
    sessions: HashMap<u64, Session>,
    /// Requests waiting for their response.
    unmatched: Saves,
    /// Requests with their response, read again on a second visit (`-2`).
    matched: Saves,
    handles: Handles,
    exports: Exports,
    smb1: Smb1,
}

pub struct Nbss {
    f: Smb2Fields,
    state: RefCell<State>,
    eo: Option<SharedSink>,
}

impl Nbss {
    /// `eo` receives the files of `--export-objects smb`.
    pub fn new(f: Smb2Fields, eo: Option<SharedSink>) -> Self {
        Nbss {
            f,
            state: RefCell::new(State::default()),
            eo,
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
        if let Some(c) = cx.cols() {
            c.set_protocol("NBSS");
            c.clear_info();
        }
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
        if let Some(c) = cx.cols() {
            c.set_info(&info::nbss_type(data.u8_at(0).unwrap_or(0)));
        }
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
    if let Some(c) = cx.cols() {
        c.set_info("NBSS Continuation Message");
    }
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
                if let Some(sink) = &self.eo {
                    let mut guard = self.state.borrow_mut();
                    let st = &mut *guard;
                    st.smb1.message(
                        &mut st.exports,
                        sink,
                        &smb1::Msg {
                            conv: Self::conv_key(cx),
                            frame: cx.frame.number,
                            visited: cx.frame.visited,
                            data: payload,
                        },
                    );
                }
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
        for n in 0..MAX_CHAIN {
            let Some(rest) = data.get(off..) else { return };
            if rest.is_empty() {
                return;
            }
            if let Some(c) = cx.cols() {
                c.set_protocol("SMB2");
                if n == 0 {
                    c.clear_info();
                } else {
                    c.append_info(";");
                }
                if rest.u8_at(0) == Some(0xfd) {
                    c.append_info("Encrypted SMB3");
                }
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
            self.message(cx, &h, msg, rest);
            if h.next == 0 || (h.next as usize) < HEADER_LEN {
                return;
            }
            off = off.saturating_add(h.next as usize);
        }
    }

    /// `tail` runs from the message to the end of the NBSS message (tshark's
    /// tvb for a chained command).
    fn message(&self, cx: &mut Cx<'_>, h: &Header, msg: &[u8], tail: &[u8]) {
        let f = self.f;
        let key = Self::conv_key(cx);
        let frame = cx.frame.number;
        let now = cx.frame.ts;
        let visited = cx.frame.visited;
        // Matched pairs are read back only on a second visit (`-2`); a
        // single pass would keep one per request for the whole capture.
        let keep_matched = cx.notes.kept();
        let resp = h.is_response();
        let body = msg.get(HEADER_LEN..).unwrap_or(&[]);
        // The summary line's part for this message, written once the
        // fields are in (the security blob's NTLMSSP adds to it after).
        let mut info = match info::break_title(h.cmd, resp, h.msg_id, body.u16_at(0)) {
            Some(title) => title.to_string(),
            None => format!(
                "{} {}",
                info::command(h.cmd),
                if resp { "Response" } else { "Request" }
            ),
        };
        if resp && h.status != 0 {
            info.push_str(", Error: ");
            info.push_str(&info::nt_status(h.status));
        }
        let mut guard = self.state.borrow_mut();
        let st = &mut *guard;
        let t = &mut *cx.t;
        t.push_proto(f.smb2, msg);
        t.push_u(f.protocol_id, 0xfe53_4d42u32);
        t.push_u(f.header_len, h.header_len);
        t.push_u(f.credit_charge, h.credit_charge);
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
        let mut saved = None;
        if !visited {
            if !resp {
                st.unmatched.remove(key, h.msg_id);
                st.unmatched.insert_capped(
                    key,
                    h.msg_id,
                    Saved {
                        frame_req: frame,
                        frame_res: 0,
                        req_time: now,
                        extra: Extra::None,
                        hnd: [0; 16],
                        file_offset: 0,
                        bytes_moved: 0,
                    },
                );
                saved = st.unmatched.get(key, h.msg_id).cloned();
            } else if !(h.is_async() && h.status == STATUS_PENDING) {
                if let Some(mut s) = st.unmatched.remove(key, h.msg_id) {
                    s.frame_res = frame;
                    if keep_matched {
                        st.matched.insert_capped(key, h.msg_id, s.clone());
                    }
                    saved = Some(s);
                }
            } else {
                saved = st.unmatched.get(key, h.msg_id).cloned();
            }
        } else {
            saved = st
                .matched
                .get(key, h.msg_id)
                .or_else(|| st.unmatched.get(key, h.msg_id))
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

        // The export's file for this message: the one the request used.
        let eo_on = self.eo.is_some();
        let tree_tid = if !h.is_async()
            && st
                .sessions
                .get(&h.sesid)
                .is_some_and(|s| s.tids.contains_key(&h.tid()))
        {
            h.tid()
        } else {
            0
        };
        let mut eo_hnd: Option<Handle> = None;
        if eo_on {
            if let Some(s) = &saved {
                if st.handles.fetch(&s.hnd, frame).is_some() {
                    if let Some(sess) = session(&mut st.sessions, h.sesid) {
                        if sess.file(s.hnd).is_some() {
                            eo_hnd = Some(s.hnd);
                        }
                    }
                }
            }
        }

        // FIND's response names its request's pattern even when it fails.
        if let (14, true, false) = (h.cmd, resp, visited) {
            if let Some(Saved {
                extra: Extra::Find(level, Some(pattern)),
                ..
            }) = &saved
            {
                info.push_str(&info::find(*level, pattern));
            }
        }
        // Error responses carry an error body instead of the command's.
        if resp
            && h.status != 0
            && h.status != STATUS_MORE_PROCESSING
            && h.status != STATUS_BUFFER_OVERFLOW
        {
            // A READ error response not shaped like an error body (tshark
            // checks the structure size against 9) still carries its data.
            if eo_on && h.cmd == 8 && body.u16_at(0) != Some(9) {
                self.export(
                    st,
                    Ex {
                        h,
                        key,
                        frame,
                        visited,
                        tid: tree_tid,
                        body,
                        tail,
                        saved: &mut saved,
                        eo_hnd: &mut eo_hnd,
                    },
                );
            }
            drop(guard);
            if let Some(c) = cx.cols() {
                c.append_info(&info);
            }
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
        // ` File: NAME` of the file id at `at`, when its CREATE was seen.
        let file = |st: &State, info: &mut String, at: usize| {
            let name = body
                .slice(at, 16)
                .and_then(|fid| st.sessions.get(&sesid)?.fid_name(fid, tid, frame));
            if let Some(n) = name {
                info.push_str(" File: ");
                info.push_str(&info::shown(n));
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
                    info.push_str(" Tree: ");
                    info.push_str(&info::shown(&name));
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
                    // An empty name is still an (empty) item in tshark.
                    t.push_str(f.filename, name.as_bytes());
                    info.push_str(" File: ");
                    info.push_str(&info::shown(&name));
                    if b.len() < MAX_NAME {
                        extra = Extra::File(name.clone());
                    }
                }
            }
            (5, true) => {
                fid_use(t, 64);
                create_contexts_response(t, f, msg, body);
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
                        let from = saved.as_ref().map_or(frame, |s| s.frame_req);
                        if sess.fids.len() < MAX_PER_SESSION || sess.fids.contains_key(&k) {
                            let fid = Fid {
                                name: n,
                                tid,
                                frames: (from, u32::MAX),
                            };
                            sess.fids.insert(k, fid);
                        }
                    }
                }
                file(st, &mut info, 64);
            }
            (6, false) => {
                fid_use(t, 8);
                if !visited {
                    let fid = body.slice(8, 16);
                    let sess = st.sessions.get_mut(&sesid);
                    if let Some(x) = fid.and_then(|k| sess?.fids.get_mut(k)) {
                        if x.names(tid, frame) {
                            x.frames.1 = frame;
                        }
                    }
                }
                file(st, &mut info, 8);
            }
            (7, false) | (10, false) | (15, false) | (18, _) => {
                fid_use(t, 8);
                file(st, &mut info, 8);
            }
            (8, false) | (9, false) => {
                let len_field = if h.cmd == 8 {
                    f.read_length
                } else {
                    f.write_length
                };
                let (len, offset) = (body.u32_at(4), body.u64_at(8));
                if let Some(l) = len {
                    t.push_u(len_field, l);
                }
                if let Some(o) = offset {
                    t.push_u(f.file_offset, o);
                }
                if let (Some(l), Some(o)) = (len, offset) {
                    // `%d` of a 32-bit length.
                    info.push_str(&format!(" Len:{} Off:{o}", l as i32));
                }
                fid_use(t, 16);
                file(st, &mut info, 16);
            }
            (11, _) => {
                let func = body.u32_at(4);
                if let Some(func) = func {
                    t.push_u(f.ioctl_function, func);
                    info.push_str(&info::ioctl(func));
                }
                fid_use(t, 8);
                file(st, &mut info, 8);
                if !resp && func == Some(FSCTL_DFS_GET_REFERRALS) {
                    if let Some(name) = dfs_request_name(msg, body) {
                        info.push_str(", File: ");
                        info.push_str(&info::shown(&name));
                    }
                }
            }
            (14, false) => {
                let level = body.u8_at(2);
                if let Some(c) = level {
                    t.push_u(f.infolevel, c);
                }
                fid_use(t, 8);
                file(st, &mut info, 8);
                let mut pattern = None;
                if let Some(b) = olb16(msg, body, 24) {
                    parse::utf16le(b, &mut name);
                    t.push_str(f.find_pattern, name.as_bytes());
                    let shown = info::shown(&name);
                    info.push_str(&info::find(level.unwrap_or(0), &shown));
                    pattern = (!b.is_empty()).then_some(shown);
                }
                if let Some(c) = level {
                    extra = Extra::Find(c, pattern);
                }
            }
            (14, true) => {
                if let Some(Saved {
                    extra: Extra::Find(level, _),
                    ..
                }) = &saved
                {
                    if let Some(buf) = olb16_32(msg, body, 2) {
                        find_names(t, f, *level, buf);
                    }
                }
            }
            (16, false) => {
                if let Some(c) = body.u8_at(2) {
                    t.push_u(f.class, c);
                }
                if let Some(c) = body.u8_at(3) {
                    t.push_u(f.infolevel, c);
                }
                if let (Some(c), Some(l)) = (body.u8_at(2), body.u8_at(3)) {
                    extra = Extra::Info(c, l);
                    info.push_str(&info::class_level(c, l));
                }
                fid_use(t, 24);
                file(st, &mut info, 24);
            }
            (16, true) => {
                if let Some(Saved {
                    extra: Extra::Info(c, l),
                    ..
                }) = &saved
                {
                    if let Some(buf) = olb16_32(msg, body, 2) {
                        info_name(t, f, *c, *l, buf);
                    }
                }
            }
            (17, false) => {
                if let Some(c) = body.u8_at(2) {
                    t.push_u(f.class, c);
                }
                if let Some(c) = body.u8_at(3) {
                    t.push_u(f.infolevel, c);
                }
                if let (Some(c), Some(l)) = (body.u8_at(2), body.u8_at(3)) {
                    info.push_str(&info::class_level(c, l));
                }
                fid_use(t, 16);
                file(st, &mut info, 16);
                if let (Some(c), Some(l), Some(len), Some(off)) =
                    (body.u8_at(2), body.u8_at(3), body.u32_at(4), body.u16_at(8))
                {
                    let off = usize::from(off);
                    let end = off.saturating_add(len as usize).min(msg.len());
                    if let Some(buf) = msg.get(off..end) {
                        info_name(t, f, c, l, buf);
                    }
                }
            }
            _ => {}
        }
        if eo_on {
            self.export(
                st,
                Ex {
                    h,
                    key,
                    frame,
                    visited,
                    tid: tree_tid,
                    body,
                    tail,
                    saved: &mut saved,
                    eo_hnd: &mut eo_hnd,
                },
            );
        }
        if !visited && !resp && !matches!(extra, Extra::None) {
            if let Some(s) = st.unmatched.get_mut(key, h.msg_id) {
                s.extra = extra;
            }
        }
        drop(guard);
        if let Some(c) = cx.cols() {
            c.append_info(&info);
        }
        if let Some(b) = blob {
            if !b.is_empty() {
                cx.t.push_bytes(f.security_blob, b);
                crate::ntlmssp::security_blob(cx, &f, b);
            }
        }
    }
}

/// The file name of a DFS referral request (`REQ_GET_DFS_REFERRAL`, after
/// its 2-byte level) in an IOCTL request's input buffer, up to its NUL.
fn dfs_request_name(msg: &[u8], body: &[u8]) -> Option<String> {
    let off = usize::try_from(body.u32_at(24)?).ok()?;
    let len = usize::try_from(body.u32_at(28)?).ok()?;
    let input = msg.get(off..off.checked_add(len)?.min(msg.len()))?;
    let units = input.get(2..)?;
    let end = units
        .chunks_exact(2)
        .position(|c| c == [0, 0])
        .map_or(units.len() / 2 * 2, |i| i * 2);
    let mut name = String::new();
    parse::utf16le(units.get(..end)?, &mut name);
    Some(name)
}

/// `smb2.filename` in a file information buffer (GETINFO response or
/// SETINFO request): FileAllInformation and FileRenameInformation carry one,
/// its length read as 16 bits of a 32-bit field as tshark does.
fn info_name(
    t: &mut dorsal_engine::table::FieldTable,
    f: Smb2Fields,
    class: u8,
    level: u8,
    buf: &[u8],
) {
    const CLASS_FILE: u8 = 1;
    let (len_at, name_at) = match (class, level) {
        (CLASS_FILE, 0x12) => (96, 100),
        (CLASS_FILE, 0x0a) => (16, 20),
        _ => return,
    };
    let Some(len) = buf.u16_at(len_at).map(usize::from) else {
        return;
    };
    if len == 0 {
        return;
    }
    if let Some(name) = buf.slice(name_at, len) {
        let mut s = String::new();
        parse::utf16le(name, &mut s);
        t.push_str(f.filename, s.as_bytes());
    }
}

/// Cap on entries read from one QUERY_DIRECTORY response.
const MAX_ENTRIES: usize = 1 << 16;

/// Where an entry of a directory information class keeps its name length
/// (a u32) and its name (MS-FSCC 2.4).
fn find_layout(level: u8) -> Option<(usize, usize)> {
    Some(match level {
        0x01 => (60, 64),
        0x02 => (60, 68),
        0x03 => (60, 94),
        0x0c => (8, 12),
        0x25 => (60, 104),
        0x26 => (60, 80),
        _ => return None,
    })
}

/// `smb2.filename` of each entry of a QUERY_DIRECTORY response.
fn find_names(t: &mut dorsal_engine::table::FieldTable, f: Smb2Fields, level: u8, buf: &[u8]) {
    let Some((len_at, name_at)) = find_layout(level) else {
        return;
    };
    let mut off = 0usize;
    for _ in 0..MAX_ENTRIES {
        if buf.len().saturating_sub(off) <= 4 {
            return;
        }
        let Some(e) = buf.get(off..) else { return };
        let next = e.u32_at(0).map(|n| n as usize);
        let Some(len) = e.u32_at(len_at).map(|n| n as usize) else {
            return;
        };
        if len != 0 {
            let Some(name) = e.slice(name_at, len) else {
                return;
            };
            let mut s = String::new();
            parse::utf16le(name, &mut s);
            t.push_str(f.filename, s.as_bytes());
        }
        match next {
            Some(0) | None => return,
            Some(n) => off = off.saturating_add(n),
        }
    }
}

/// A buffer given by a 16-bit offset (from the SMB2 header) and 32-bit
/// length at `at` in the body, cut to what was captured.
fn olb16_32<'a>(msg: &'a [u8], body: &[u8], at: usize) -> Option<&'a [u8]> {
    let off = usize::from(body.u16_at(at)?);
    let len = body.u32_at(at + 2)? as usize;
    let end = off.checked_add(len)?;
    msg.get(off..end.min(msg.len()))
}

/// Cap on create contexts followed in one CREATE response.
const MAX_CONTEXTS: usize = 64;
/// The AAPL create context's Resolve ID command.
const AAPL_RESOLVE_ID: u32 = 2;

/// The create contexts of a CREATE response (extra info offset and length
/// after the FileId): an AAPL Resolve ID reply carries an NT status that
/// tshark shows as `smb2.nt_status`.
fn create_contexts_response(
    t: &mut dorsal_engine::table::FieldTable,
    f: Smb2Fields,
    msg: &[u8],
    body: &[u8],
) {
    let (Some(off), Some(len)) = (body.u32_at(80), body.u32_at(84)) else {
        return;
    };
    if off == 0 || len == 0 {
        return;
    }
    let Some(mut ctx) = msg.get(off as usize..) else {
        return;
    };
    for _ in 0..MAX_CONTEXTS {
        let next = ctx.u32_at(0).unwrap_or(0) as usize;
        let tag_off = usize::from(ctx.u16_at(4).unwrap_or(0));
        let tag_len = ctx.u32_at(6).unwrap_or(0) as usize;
        let data_off = usize::from(ctx.u16_at(10).unwrap_or(0));
        if ctx.slice(tag_off, tag_len) == Some(b"AAPL".as_slice()) {
            if let (Some(AAPL_RESOLVE_ID), Some(st)) =
                (ctx.u32_at(data_off), ctx.u32_at(data_off.saturating_add(8)))
            {
                t.push_u(f.nt_status, st);
            }
        }
        if next == 0 {
            return;
        }
        let Some(rest) = ctx.get(next..) else { return };
        ctx = rest;
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

/// What [`Nbss::export`] works on.
struct Ex<'a, 'b> {
    h: &'a Header,
    key: u32,
    frame: u32,
    visited: bool,
    /// The tree id tshark knows for the message (0 when it has no tree).
    tid: u32,
    body: &'b [u8],
    tail: &'b [u8],
    saved: &'a mut Option<Saved>,
    eo_hnd: &'a mut Option<Handle>,
}

/// Where a command carries its FileId and how tshark treats it
/// (`dissect_smb2_fid` modes).
enum FidMode {
    Open,
    Close,
    Use,
}

fn fid_place(cmd: u16, resp: bool) -> Option<(usize, FidMode)> {
    Some(match (cmd, resp) {
        (5, true) => (64, FidMode::Open),
        (6, false) => (8, FidMode::Close),
        (7, false) | (10, false) | (11, _) | (14, false) | (15, false) | (18, _) => {
            (8, FidMode::Use)
        }
        (8, false) | (9, false) | (17, false) => (16, FidMode::Use),
        (16, false) => (24, FidMode::Use),
        _ => return None,
    })
}

impl Nbss {
    /// The handle bookkeeping of `dissect_smb2_fid` and the READ / WRITE
    /// data handed to the export (`feed_eo_smb2`).
    fn export(&self, st: &mut State, x: Ex<'_, '_>) {
        let Ex {
            h,
            key,
            frame,
            visited,
            tid,
            body,
            tail,
            saved,
            eo_hnd,
        } = x;
        let resp = h.is_response();
        let mut upd_hnd: Option<Handle> = None;
        if let Some((at, mode)) = fid_place(h.cmd, resp) {
            if let Some(b) = body.slice(at, 16) {
                let mut hnd = [0u8; 16];
                hnd.copy_from_slice(b);
                match mode {
                    FidMode::Open => {
                        if !visited {
                            st.handles.seen(&hnd, frame, true, false);
                            let name = match saved.as_ref().map(|s| &s.extra) {
                                Some(Extra::File(n)) => format!("File: {n}"),
                                _ => "File: ".to_string(),
                            };
                            st.handles.name(&hnd, frame, name);
                            let attr = body.u32_at(56).unwrap_or(0);
                            if let Some(fi) =
                                session(&mut st.sessions, h.sesid).and_then(|s| s.file(hnd))
                            {
                                fi.attr = attr;
                                *eo_hnd = Some(hnd);
                            }
                            if saved.is_some() {
                                upd_hnd = Some(hnd);
                            }
                        }
                    }
                    FidMode::Close => {
                        if !visited {
                            st.handles.seen(&hnd, frame, false, true);
                        }
                    }
                    FidMode::Use => {
                        if !visited {
                            st.handles.seen(&hnd, frame, false, false);
                        }
                    }
                }
                if eo_hnd.is_none() && st.handles.fetch(&hnd, frame).is_some() {
                    if saved.is_some() {
                        upd_hnd = Some(hnd);
                    }
                    if let Some(sess) = session(&mut st.sessions, h.sesid) {
                        if sess.file(hnd).is_some() {
                            *eo_hnd = Some(hnd);
                        }
                    }
                }
            }
        }
        let mut upd_read: Option<(u64, u32)> = None;
        if let Some(s) = saved.as_mut() {
            if let Some(hnd) = upd_hnd {
                s.hnd = hnd;
            }
            if h.cmd == 8 && !resp {
                let len = body.u32_at(4).unwrap_or(0);
                let off = body.u64_at(8).unwrap_or(0);
                s.file_offset = off;
                s.bytes_moved = len;
                upd_read = Some((off, len));
            }
        }

        // The data buffer: a WRITE request's or a READ response's, fed only
        // when the message holds exactly that much after the fixed part.
        let chunk = match (h.cmd, resp) {
            (9, false) => {
                let off = body.u16_at(2).map(usize::from);
                let len = body.u32_at(4);
                let fo = body.u64_at(8);
                match (off, len, fo) {
                    (Some(o), Some(l), Some(fo)) => Some((o, l, fo, 48usize)),
                    _ => None,
                }
            }
            (8, true) if h.status == 0 || body.u16_at(0) != Some(9) => {
                let off = body.u8_at(2).map(usize::from);
                let len = body.u32_at(4);
                match (off, len, saved.as_ref()) {
                    (Some(o), Some(l), Some(s)) => Some((o, l, s.file_offset, 16usize)),
                    _ => None,
                }
            }
            _ => None,
        };
        let mut moved: Option<(u64, u32)> = None;
        if let (Some((off, len, file_offset, fixed)), Some(s), Some(hnd), Some(sink)) =
            (chunk, saved.as_mut(), *eo_hnd, self.eo.as_ref())
        {
            let room = tail.len().saturating_sub(HEADER_LEN + fixed);
            let data = usize::try_from(len)
                .ok()
                .and_then(|l| Some((l, off.checked_add(l)?)))
                .and_then(|(l, end)| (room == l).then(|| tail.get(off..end)).flatten());
            if let Some(data) = data {
                let info = st
                    .sessions
                    .get(&h.sesid)
                    .and_then(|ss| ss.files.get(&hnd))
                    .copied()
                    .unwrap_or_default();
                let name = st.handles.fetch(&s.hnd, frame);
                let filename = eo::smb2_filename(&s.hnd, &name);
                st.exports.chunk(
                    sink,
                    &eo::Chunk {
                        frame,
                        key: eo::FileKey::V2(tid, s.hnd),
                        filename: &filename,
                        is_file: info.is_file(),
                        offset: file_offset,
                        data,
                    },
                );
                if len < s.bytes_moved {
                    s.file_offset = s.file_offset.saturating_add(u64::from(len));
                    s.bytes_moved -= len;
                    moved = Some((s.file_offset, s.bytes_moved));
                }
            }
        }

        // Keep what changed in the saved request.
        if upd_hnd.is_none() && upd_read.is_none() && moved.is_none() {
            return;
        }
        let pending = h.is_async() && h.status == STATUS_PENDING;
        let target = if resp && !pending {
            st.matched.get_mut(key, h.msg_id)
        } else {
            st.unmatched.get_mut(key, h.msg_id)
        };
        if let Some(t) = target {
            if let Some(hnd) = upd_hnd {
                t.hnd = hnd;
            }
            if let Some((o, l)) = upd_read.or(moved) {
                t.file_offset = o;
                t.bytes_moved = l;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(frame_req: u32) -> Saved {
        Saved {
            frame_req,
            frame_res: 0,
            req_time: Timestamp::default(),
            extra: Extra::None,
            hnd: [0; 16],
            file_offset: 0,
            bytes_moved: 0,
        }
    }

    #[test]
    fn saves_are_counted_per_conversation_and_forgotten_when_empty() {
        let mut s = Saves::default();
        s.insert_capped(1, 7, saved(1));
        s.insert_capped(1, 7, saved(2));
        s.insert_capped(2, 7, saved(3));
        assert_eq!(s.count.get(&1), Some(&1), "a replaced entry counts once");
        assert_eq!(s.get(1, 7).map(|x| x.frame_req), Some(2));
        assert_eq!(s.get(2, 7).map(|x| x.frame_req), Some(3));
        assert_eq!(s.remove(1, 7).map(|x| x.frame_req), Some(2));
        assert!(s.remove(1, 7).is_none());
        assert!(!s.count.contains_key(&1));
        for id in 0..MAX_PENDING as u64 + 5 {
            s.insert_capped(3, id, saved(4));
        }
        assert_eq!(s.count.get(&3), Some(&MAX_PENDING));
        assert!(s.get(3, MAX_PENDING as u64).is_none());
        assert_eq!(s.get(2, 7).map(|x| x.frame_req), Some(3));
    }
}
