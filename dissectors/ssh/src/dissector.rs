//! The SSH dissector proper: one call per TCP payload (or reassembled
//! PDU), walking banners and binary packets with the state of the
//! stream, as `dissect_ssh` in tshark 4.0.17 does.
//!
//! tshark dissects in one pass, so every "first time" of its state keeping
//! happens on the frame that is being dissected.

use std::cell::RefCell;
use std::collections::HashMap;

use dorsal_engine::bytes::{be32, u8_at};
use dorsal_engine::dissect::{Cx, Dissector, Outcome};
use dorsal_engine::fields::FieldId;
use md5::{Digest, Md5};

use crate::names::{mac_length, msg_v1, msg_v2, Cipher, Kex};
use crate::{SshFields, TCP_PORTS};

/// Streams with remembered state; past it the table starts over.
const MAX_STREAMS: usize = 1 << 16;
/// Banners and messages looked at in one call.
const MAX_MESSAGES: usize = 1 << 14;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Version {
    #[default]
    Unknown,
    V1,
    V2,
}

/// What one side of the connection sent, and what was negotiated for the
/// packets it sends.
struct Peer {
    /// Frames of its banner (first and last) and of its key exchange
    /// (KEXINIT, NEWKEYS); 0 when not seen.
    version_start: u32,
    version_end: u32,
    key_start: u32,
    key_end: u32,
    /// Offset just after the NEWKEYS message code in the `key_end` frame:
    /// what follows it there is encrypted.
    key_end_offset: usize,
    /// Its KEXINIT lists: kex, then encryption, MAC and compression for
    /// client-to-server and server-to-client.
    kex_proposal: Option<String>,
    enc_proposals: [Option<String>; 2],
    mac_proposals: [Option<String>; 2],
    comp_proposals: [Option<String>; 2],
    /// Chosen for this direction at the DH or ECDH reply.
    enc: Option<String>,
    mac_length: i64,
    length_is_plaintext: bool,
    /// Opened at NEWKEYS.
    cipher: Cipher,
    /// `ssh.seq_num` bookkeeping: the counter, and the value kept for
    /// KEXINIT (0), NEWKEYS (1) and each kex message code (2 + code - 30).
    seq: u32,
    stored: [u32; 12],
}

impl Default for Peer {
    fn default() -> Self {
        Peer {
            version_start: 0,
            version_end: 0,
            key_start: 0,
            key_end: 0,
            key_end_offset: 0,
            kex_proposal: None,
            enc_proposals: [None, None],
            mac_proposals: [None, None],
            comp_proposals: [None, None],
            enc: None,
            mac_length: -1,
            length_is_plaintext: false,
            cipher: Cipher::None,
            seq: 0,
            stored: [0; 12],
        }
    }
}

impl Peer {
    /// Keeps the counter's value for `slot` once, then counts on.
    fn seq_then_count(&mut self, slot: usize) -> u32 {
        let (seq, stored) = (&mut self.seq, &mut self.stored);
        let Some(s) = stored.get_mut(slot) else {
            return 0;
        };
        if *s == 0 {
            *s = *seq;
            *seq = seq.wrapping_add(1);
        }
        *s
    }

    /// Counts on, then keeps the counter's value for `slot` once.
    fn count_then_seq(&mut self, slot: usize) -> u32 {
        let (seq, stored) = (&mut self.seq, &mut self.stored);
        let Some(s) = stored.get_mut(slot) else {
            return 0;
        };
        if *s == 0 {
            *seq = seq.wrapping_add(1);
            *s = *seq;
        }
        *s
    }
}

#[derive(Default)]
struct Flow {
    version: Version,
    kex: Option<String>,
    kex_kind: Kex,
    /// The client (0) and the server (1).
    peers: [Peer; 2],
}

pub struct Ssh {
    f: SshFields,
    flows: RefCell<HashMap<u32, Flow>>,
}

impl Ssh {
    pub fn new(f: SshFields) -> Self {
        Ssh {
            f,
            flows: RefCell::new(HashMap::new()),
        }
    }
}

/// A read past the bytes there are (tshark's exception): where it ended.
struct Throw(usize);

/// Where one piece of dissection left off.
enum Step {
    /// The next piece starts here.
    Next(usize),
    /// Desegmentation asked for: a PDU starts at `offset`.
    Deseg { offset: usize, more: Option<usize> },
}

type Res<T> = Result<T, Throw>;

impl Dissector for Ssh {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let Some(tcp) = cx.tcp else {
            return Outcome::Rejected;
        };
        let mut flows = self.flows.borrow_mut();
        if flows.len() >= MAX_STREAMS && !flows.contains_key(&tcp.stream) {
            flows.clear();
        }
        let flow = flows.entry(tcp.stream).or_default();
        let side = usize::from(is_response(cx));
        // tshark builds no tree for the plain summary view, and some of
        // its throws happen only while adding tree items.
        let tree = !(cx.cols().is_some() && cx.t.wants_none());
        let num = cx.frame.number;
        let mut call = Call {
            cx,
            f: &self.f,
            data,
            num,
            side,
            can_deseg: tcp.can_desegment,
            tree,
        };
        call.run(flow)
    }
}

/// `pinfo->match_uint != pinfo->destport`: TCP tries the lower port
/// first, so when both are SSH ports the lower one matched.
fn is_response(cx: &Cx<'_>) -> bool {
    let (s, d) = (cx.srcport, cx.dstport);
    let matched = match (TCP_PORTS.contains(&s), TCP_PORTS.contains(&d)) {
        (true, true) => s.min(d),
        (true, false) => s,
        _ => d,
    };
    matched != d
}

/// Whether `d` starts with `prefix`, ignoring ASCII case.
fn starts_ci(d: &[u8], prefix: &[u8]) -> bool {
    d.get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix))
}

/// `ENC_ASCII` text: stops at a NUL; bytes past 0x7f become U+FFFD.
fn ascii(raw: &[u8]) -> String {
    raw.iter()
        .take_while(|&&b| b != 0)
        .map(|&b| if b < 0x80 { char::from(b) } else { '\u{fffd}' })
        .collect()
}

/// The first name of the client's list that the server's list holds.
fn choose(client: Option<&String>, server: Option<&String>) -> Option<String> {
    let (c, s) = (client?, server?);
    c.split(',')
        .find(|name| s.split(',').any(|n| n == *name))
        .map(str::to_owned)
}

/// One call of the dissector.
struct Call<'c, 'a> {
    cx: &'c mut Cx<'a>,
    f: &'c SshFields,
    data: &'c [u8],
    num: u32,
    /// 0: from the client, 1: from the server.
    side: usize,
    can_deseg: bool,
    tree: bool,
}

impl<'c> Call<'c, '_> {
    fn run(&mut self, flow: &mut Flow) -> Outcome {
        let data = self.data;
        self.cx.t.add_layer("ssh");
        self.cx.t.push_proto(self.f.ssh, data);
        if let Some(c) = self.cx.cols() {
            c.set_protocol(match flow.version {
                Version::Unknown => "SSH",
                Version::V1 => "SSHv1",
                Version::V2 => "SSHv2",
            });
            c.clear_info();
        }
        let mut version = flow.version;
        let mut off = 0usize;
        for _ in 0..MAX_MESSAGES {
            if off >= data.len() {
                break;
            }
            let last = off;
            let num = self.num;
            let in_window = flow.peers.get(self.side).is_some_and(|p| {
                (p.version_start == 0 || num >= p.version_start)
                    && (p.version_end == 0 || num <= p.version_end)
            });
            let step = if in_window && starts_ci(data.get(off..).unwrap_or_default(), b"SSH-") {
                if let Some(p) = flow.peers.get_mut(self.side) {
                    if p.version_start == 0 {
                        p.version_start = num;
                    }
                }
                let step = self.banner(off, &mut version);
                if let Ok(Step::Next(_)) = step {
                    if let Some(p) = flow.peers.get_mut(self.side) {
                        p.version_end = num;
                    }
                    flow.version = version;
                }
                step
            } else {
                match version {
                    Version::Unknown => self.encrypted(flow, off),
                    Version::V1 => self.ssh1(flow, off),
                    Version::V2 => self.ssh2(flow, off),
                }
            };
            match step {
                Err(Throw(end)) => {
                    // The exception skips the direction prefix.
                    self.cx.bounds_error(end, "SSH");
                    return Outcome::Done(data.len());
                }
                Ok(Step::Deseg { offset, more }) => {
                    return Outcome::NeedMore { offset, more };
                }
                Ok(Step::Next(n)) => {
                    if n <= last {
                        break;
                    }
                    off = n;
                }
            }
        }
        let server = self.side == 1;
        if let Some(c) = self.cx.cols() {
            c.prepend_info(if server { "Server: " } else { "Client: " });
        }
        self.cx.t.push_bool(self.f.direction, server);
        Outcome::Done(data.len())
    }

    /// Appends one piece to Info, after ", " when Info holds text.
    fn info(&mut self, piece: impl FnOnce() -> String) {
        if let Some(c) = self.cx.cols() {
            let s = piece();
            c.append_info_sep(", ", &s);
        }
    }

    fn info_str(&mut self, s: &str) {
        if let Some(c) = self.cx.cols() {
            c.append_info_sep(", ", s);
        }
    }

    /// `n` bytes at `at`, or the throw of reading them.
    fn bytes(&self, at: usize, n: usize) -> Res<&'c [u8]> {
        let end = at.checked_add(n).ok_or(Throw(usize::MAX))?;
        self.data.get(at..end).ok_or(Throw(end))
    }

    fn u32_at(&self, at: usize) -> Res<u32> {
        be32(self.data, at).ok_or(Throw(at.saturating_add(4)))
    }

    fn u8_at(&self, at: usize) -> Res<u8> {
        u8_at(self.data, at).ok_or(Throw(at.saturating_add(1)))
    }

    /// A version line (`SSH-2.0-...`); the client's sets the version.
    fn banner(&mut self, off: usize, version: &mut Version) -> Res<Step> {
        let d = self.data.get(off..).unwrap_or_default();
        if self.side == 0 {
            if starts_ci(d, b"SSH-2.") || starts_ci(d, b"SSH-1.99-") {
                *version = Version::V2;
            } else if starts_ci(d, b"SSH-1.") {
                *version = Version::V1;
            }
        }
        let (linelen, protolen) = match d.iter().position(|&b| b == b'\n') {
            None if self.can_deseg => {
                // tshark asks for -1 minus the remaining bytes, which TCP
                // turns into a PDU that ends before it starts: this segment
                // shows as held, and the next is dissected on its own.
                return Ok(Step::Deseg {
                    offset: off,
                    more: Some(0),
                });
            }
            None => (d.len(), d.len()),
            Some(lf) => {
                let cr = lf > 0 && d.get(lf - 1) == Some(&b'\r');
                (lf + 1, if cr { lf - 1 } else { lf })
            }
        };
        let text = d.get(..protolen).unwrap_or_default();
        self.info(|| {
            let mut s = String::from("Protocol (");
            s.push_str(&dorsal_engine::text::display(text));
            s.push(')');
            s
        });
        if self.cx.t.wants(self.f.protocol) {
            self.cx.t.push_str(self.f.protocol, ascii(text).as_bytes());
        }
        Ok(Step::Next(off.saturating_add(linelen)))
    }

    /// SSHv2 binary packets to the end of the data.
    fn ssh2(&mut self, flow: &mut Flow, mut off: usize) -> Res<Step> {
        let num = self.num;
        for _ in 0..MAX_MESSAGES {
            if off >= self.data.len() {
                break;
            }
            let plaintext = flow.peers.get(self.side).is_some_and(|p| {
                p.key_start == 0
                    || (p.key_start <= num
                        && (p.key_end == 0
                            || num < p.key_end
                            || (num == p.key_end && off < p.key_end_offset)))
            });
            let step = if plaintext {
                self.key_exchange(flow, off)?
            } else {
                self.encrypted(flow, off)?
            };
            match step {
                Step::Next(n) if n > off => off = n,
                other => return Ok(other),
            }
        }
        Ok(Step::Next(off))
    }

    /// One plaintext SSHv2 binary packet (RFC 4253 section 6).
    fn key_exchange(&mut self, flow: &mut Flow, off: usize) -> Res<Step> {
        let f = *self.f;
        let remaining = self.data.len().saturating_sub(off);
        if remaining < 4 && self.can_deseg {
            return Ok(Step::Deseg {
                offset: off,
                more: None,
            });
        }
        let plen = self.u32_at(off)?;
        let need = plen.wrapping_add(4) as usize;
        if need > remaining && self.can_deseg {
            return Ok(Step::Deseg {
                offset: off,
                more: Some(need - remaining),
            });
        }
        self.cx.t.push_u(f.packet_length, plen);
        let mut plen = plen as usize;
        if plen >= 0xffff {
            plen = remaining.saturating_sub(4);
        }
        let padlen = self.u8_at(off + 4)?;
        self.cx.t.push_u(f.padding_length, padlen);
        let code = self.u8_at(off + 5)?;
        self.cx.t.push_u(f.message_code, code);
        let mut cur = off + 6;
        let seq;
        if (30..40).contains(&code) {
            let kind = flow.kex_kind;
            match kind.name(code) {
                Some(name) => self.info_str(name),
                None => self.info(|| format!("Unknown ({code})")),
            }
            seq = kex_seq(flow, kind, code);
            cur = self.kex_body(flow, kind, code, cur)?;
        } else {
            match msg_v2(code) {
                Some(name) => self.info_str(name),
                None => self.info(|| format!("Unknown ({code})")),
            }
            let num = self.num;
            let side = self.side;
            match code {
                20 => {
                    seq = flow.peers.get_mut(side).map_or(0, |p| p.seq_then_count(0));
                    cur = self.kexinit(flow, cur)?;
                    if let Some(p) = flow.peers.get_mut(side) {
                        if p.key_start == 0 || p.key_start == num {
                            p.key_start = num;
                        }
                    }
                }
                21 => {
                    seq = match flow.peers.get_mut(side) {
                        Some(p) => {
                            if p.key_end == 0 {
                                p.key_end = num;
                                p.key_end_offset = cur;
                            }
                            p.cipher = Cipher::of(p.enc.as_deref());
                            p.seq_then_count(1)
                        }
                        None => 0,
                    };
                }
                _ => seq = 0,
            }
        }
        let consumed = cur - off;
        let len = (plen as i64) + 4 - i64::from(padlen) - consumed as i64;
        let Ok(len) = usize::try_from(len) else {
            // Negative, it wraps to a length past any data.
            return Err(Throw(usize::MAX));
        };
        if len > 0 {
            let b = self.bytes(cur, len)?;
            self.cx.t.push_bytes(f.payload, b);
        }
        cur += len;
        let pad = self.bytes(cur, usize::from(padlen))?;
        self.cx.t.push_bytes(f.padding_string, pad);
        cur += usize::from(padlen);
        self.cx.t.push_u(f.seq_num, seq);
        Ok(Step::Next(cur))
    }

    /// An `ssh.*` string with its `_length` field: the new offset.
    fn string(&mut self, at: usize, len_id: FieldId, id: FieldId) -> Res<(usize, String)> {
        let n = self.u32_at(at)? as usize;
        self.cx.t.push_u(len_id, n as u64);
        let raw = self.bytes(at + 4, n)?;
        let s = ascii(raw);
        self.cx.t.push_str(id, s.as_bytes());
        Ok((at + 4 + n, s))
    }

    /// A length-prefixed byte field (an mpint, with `ssh.mpint_length`).
    fn blob(&mut self, at: usize, len_id: FieldId, id: FieldId) -> Res<usize> {
        let n = self.u32_at(at)? as usize;
        self.cx.t.push_u(len_id, n as u64);
        let raw = self.bytes(at + 4, n)?;
        self.cx.t.push_bytes(id, raw);
        Ok(at + 4 + n)
    }

    fn mpint(&mut self, at: usize, id: FieldId) -> Res<usize> {
        self.blob(at, self.f.mpint_length, id)
    }

    fn uint(&mut self, at: usize, id: FieldId) -> Res<usize> {
        let v = self.u32_at(at)?;
        self.cx.t.push_u(id, v);
        Ok(at + 4)
    }

    /// SSH_MSG_KEXINIT (RFC 4253 section 7.1).
    fn kexinit(&mut self, flow: &mut Flow, at: usize) -> Res<usize> {
        let f = *self.f;
        let cookie = self.bytes(at, 16)?;
        self.cx.t.push_bytes(f.cookie, cookie);
        let lists = [
            (f.kex_algorithms_length, f.kex_algorithms),
            (
                f.server_host_key_algorithms_length,
                f.server_host_key_algorithms,
            ),
            (f.enc_c2s_length, f.enc_c2s),
            (f.enc_s2c_length, f.enc_s2c),
            (f.mac_c2s_length, f.mac_c2s),
            (f.mac_s2c_length, f.mac_s2c),
            (f.comp_c2s_length, f.comp_c2s),
            (f.comp_s2c_length, f.comp_s2c),
            (f.lang_c2s_length, f.lang_c2s),
            (f.lang_s2c_length, f.lang_s2c),
        ];
        let mut cur = at + 16;
        let mut names: [String; 10] = Default::default();
        for ((len_id, id), slot) in lists.into_iter().zip(names.iter_mut()) {
            let (next, s) = self.string(cur, len_id, id)?;
            *slot = s;
            cur = next;
        }
        let follows = self.u8_at(cur)?;
        self.cx.t.push_u(f.first_kex_packet_follows, follows);
        let reserved = self.bytes(cur + 1, 4)?;
        self.cx.t.push_bytes(f.kex_reserved, reserved);
        cur += 5;
        let [kex, _, enc_c2s, enc_s2c, mac_c2s, mac_s2c, comp_c2s, comp_s2c, _, _] = names;
        let server = self.side == 1;
        let (alg_id, hash_id) = if server {
            (f.hasshserver_algorithms, f.hasshserver)
        } else {
            (f.hassh_algorithms, f.hassh)
        };
        if self.cx.t.wants(alg_id) || self.cx.t.wants(hash_id) {
            let (enc, mac, comp) = if server {
                (&enc_s2c, &mac_s2c, &comp_s2c)
            } else {
                (&enc_c2s, &mac_c2s, &comp_c2s)
            };
            let algs = format!("{kex};{enc};{mac};{comp}");
            self.cx.t.push_str(alg_id, algs.as_bytes());
            let digest = Md5::digest(algs.as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            self.cx.t.push_str(hash_id, hex.as_bytes());
        }
        if let Some(p) = flow.peers.get_mut(self.side) {
            p.kex_proposal = Some(kex);
            p.enc_proposals = [Some(enc_c2s), Some(enc_s2c)];
            p.mac_proposals = [Some(mac_c2s), Some(mac_s2c)];
            p.comp_proposals = [Some(comp_c2s), Some(comp_s2c)];
        }
        if flow.kex.is_none() {
            let [c, s] = &flow.peers;
            if c.kex_proposal.is_some() && s.kex_proposal.is_some() {
                flow.kex = choose(c.kex_proposal.as_ref(), s.kex_proposal.as_ref());
                if let Some(kind) = flow.kex.as_deref().and_then(Kex::of) {
                    flow.kex_kind = kind;
                }
            }
        }
        Ok(cur)
    }

    /// The body of a key exchange message (RFC 4253, 4419, 5656).
    fn kex_body(&mut self, flow: &mut Flow, kind: Kex, code: u8, at: usize) -> Res<usize> {
        let f = *self.f;
        Ok(match (kind, code) {
            (Kex::Dh, 30) | (Kex::Gex, 32) => self.mpint(at, f.dh_e)?,
            (Kex::Dh, 31) | (Kex::Gex, 33) => {
                let cur = self.host_key(at)?;
                let cur = self.mpint(cur, f.dh_f)?;
                let cur = self.signature(cur)?;
                // tshark chooses the algorithms only here and at the ECDH
                // reply, never under DH-GEX.
                if kind == Kex::Dh {
                    choose_algorithms(flow);
                }
                cur
            }
            (Kex::Gex, 30) => self.uint(at, f.dh_gex_nbits)?,
            (Kex::Gex, 31) => {
                let cur = self.mpint(at, f.dh_gex_p)?;
                self.mpint(cur, f.dh_gex_g)?
            }
            (Kex::Gex, 34) => {
                let cur = self.uint(at, f.dh_gex_min)?;
                let cur = self.uint(cur, f.dh_gex_nbits)?;
                self.uint(cur, f.dh_gex_max)?
            }
            (Kex::Ecdh, 30) => self.blob(at, f.ecdh_q_c_length, f.ecdh_q_c)?,
            (Kex::Ecdh, 31) => {
                let cur = self.host_key(at)?;
                let cur = self.blob(cur, f.ecdh_q_s_length, f.ecdh_q_s)?;
                let cur = self.signature(cur)?;
                choose_algorithms(flow);
                cur
            }
            _ => at,
        })
    }

    /// A public host key blob (RFC 4253 section 6.6).
    fn host_key(&mut self, at: usize) -> Res<usize> {
        let f = *self.f;
        let len = self.u32_at(at)? as usize;
        self.cx.t.push_u(f.host_key_length, len as u64);
        let end = at.saturating_add(4).saturating_add(len);
        let (cur, ty) = self.string(at + 4, f.host_key_type_length, f.host_key_type)?;
        if ty == "ssh-rsa" {
            let cur = self.mpint(cur, f.host_key_rsa_e)?;
            self.mpint(cur, f.host_key_rsa_n)?;
        } else if ty == "ssh-dss" {
            let mut cur = cur;
            for id in [
                f.host_key_dsa_p,
                f.host_key_dsa_q,
                f.host_key_dsa_g,
                f.host_key_dsa_y,
            ] {
                cur = self.mpint(cur, id)?;
            }
        } else if ty.starts_with("ecdsa-sha2-") {
            let (cur, _) = self.string(cur, f.host_key_ecdsa_id_length, f.host_key_ecdsa_id)?;
            self.blob(cur, f.host_key_ecdsa_q_length, f.host_key_ecdsa_q)?;
        } else if ty.starts_with("ssh-ed") {
            self.blob(cur, f.host_key_eddsa_key_length, f.host_key_eddsa_key)?;
        } else {
            let raw = self.bytes(cur, end.saturating_sub(cur))?;
            self.cx.t.push_bytes(f.host_key_data, raw);
        }
        Ok(end)
    }

    /// The exchange hash signature of a reply.
    fn signature(&mut self, at: usize) -> Res<usize> {
        let f = *self.f;
        let len = self.u32_at(at)? as usize;
        self.cx.t.push_u(f.host_sig_length, len as u64);
        let end = at.saturating_add(4).saturating_add(len);
        let (cur, ty) = self.string(at + 4, f.host_sig_type_length, f.host_sig_type)?;
        if ty == "ssh-rsa" {
            self.mpint(cur, f.host_sig_rsa)?;
        } else if ty == "ssh-dss" {
            self.mpint(cur, f.host_sig_dsa)?;
        } else if ty.starts_with("ecdsa-sha2-") || ty.starts_with("ssh-ed") {
        } else {
            let raw = self.bytes(cur, end.saturating_sub(cur))?;
            self.cx.t.push_bytes(f.host_sig_data, raw);
        }
        Ok(end)
    }

    /// Data tshark cannot read: before the version is known, or after
    /// NEWKEYS. With no cipher it decrypts, it is one opaque piece to the
    /// end of the data; with one, it "decrypts" with zero keys, which
    /// yields a length it rejects, so nothing is shown.
    fn encrypted(&mut self, flow: &Flow, off: usize) -> Res<Step> {
        let f = *self.f;
        let end = self.data.len();
        let Some(p) = flow.peers.get(self.side) else {
            return Ok(Step::Next(end));
        };
        match p.cipher {
            Cipher::None => {
                let len = self.cx.reported.max(end).saturating_sub(off);
                self.info(|| format!("Encrypted packet (len={len})"));
                if self.tree {
                    let mac = p.mac_length;
                    let mut enc_len = len as i64;
                    if len > 4 {
                        if p.length_is_plaintext {
                            let v = self.u32_at(off)?;
                            self.cx.t.push_u(f.packet_length, v);
                        } else {
                            let b = self.bytes(off, 4)?;
                            self.cx.t.push_bytes(f.packet_length_encrypted, b);
                        }
                        enc_len -= 4;
                    }
                    if mac > 0 {
                        enc_len -= mac;
                    }
                    if len <= 4 || (mac > 0 && (len as i64) < 4 + mac) {
                        return Err(Throw(usize::MAX));
                    }
                    let enc_len = usize::try_from(enc_len).unwrap_or_default();
                    let b = self.bytes(off + 4, enc_len)?;
                    self.cx.t.push_bytes(f.encrypted_packet, b);
                    if mac > 0 {
                        let m = self.bytes(off + 4 + enc_len, mac as usize)?;
                        self.cx.t.push_bytes(f.mac, m);
                    }
                }
                Ok(Step::Next(end))
            }
            Cipher::Chacha => {
                self.bytes(off, 4)?;
                Ok(Step::Next(end))
            }
            Cipher::Ctr | Cipher::Cbc => {
                self.bytes(off, 16)?;
                Ok(Step::Next(end))
            }
            Cipher::Gcm => {
                let len = self.u32_at(off)? as usize;
                if len >= 16 {
                    self.bytes(off + 4, len)?;
                    self.info(|| format!("Encrypted packet (plaintext_len={})", len + 4));
                }
                Ok(Step::Next(end))
            }
        }
    }

    /// SSHv1 packets (only each side's first frame of them is plaintext).
    fn ssh1(&mut self, flow: &mut Flow, mut off: usize) -> Res<Step> {
        let f = *self.f;
        let num = self.num;
        for _ in 0..MAX_MESSAGES {
            if off >= self.data.len() {
                break;
            }
            let remaining = self.data.len() - off;
            if remaining < 4 && self.can_deseg {
                return Ok(Step::Deseg {
                    offset: off,
                    more: None,
                });
            }
            let raw_len = self.u32_at(off)?;
            let mut plen = raw_len as usize;
            let pad = 8 - plen % 8;
            if plen.saturating_add(4 + pad) > remaining && self.can_deseg {
                // tshark asks for 4 bytes too few; TCP asks again later.
                return Ok(Step::Deseg {
                    offset: off,
                    more: Some(plen.saturating_add(pad).saturating_sub(remaining).max(1)),
                });
            }
            if plen >= 0xffff {
                plen = remaining.saturating_sub(4 + pad);
            }
            if plen > 0 {
                self.cx.t.push_u(f.packet_length, raw_len);
            }
            self.cx.t.push_u(f.padding_length, pad as u64);
            let mut cur = off + 4 + pad;
            let Some(p) = flow.peers.get_mut(self.side) else {
                break;
            };
            let plaintext = p.key_start == 0 || (p.key_start >= num && num <= p.key_end);
            let len = if plaintext {
                let code = self.u8_at(cur)?;
                self.cx.t.push_u(f.message_code, code);
                match msg_v1(code) {
                    Some(name) => self.info_str(name),
                    None => self.info(|| format!("Unknown ({code})")),
                }
                if p.key_start == 0 {
                    p.key_start = num;
                }
                p.key_end = num;
                cur += 1;
                plen.saturating_sub(1)
            } else {
                self.info(|| format!("Encrypted packet (len={plen})"));
                plen
            };
            let b = self.bytes(cur, len)?;
            self.cx.t.push_bytes(f.payload, b);
            off = cur + len;
        }
        Ok(Step::Next(off))
    }
}

/// `ssh.seq_num` of a kex message: DH and DH-GEX count first, ECDH after;
/// the init messages count on the client's counter, the replies on the
/// server's.
fn kex_seq(flow: &mut Flow, kind: Kex, code: u8) -> u32 {
    let slot = 2 + usize::from(code - 30);
    let (side, count_first) = match (kind, code) {
        (Kex::Ecdh, 30) => (0, false),
        (Kex::Ecdh, 31) => (1, false),
        (Kex::Dh, 30) | (Kex::Gex, 32) | (Kex::Gex, 34) => (0, true),
        (Kex::Dh, 31) | (Kex::Gex, 31) | (Kex::Gex, 33) => (1, true),
        _ => return 0,
    };
    match flow.peers.get_mut(side) {
        Some(p) if count_first => p.count_then_seq(slot),
        Some(p) => p.seq_then_count(slot),
        None => 0,
    }
}

/// Each direction's cipher, MAC and compression: the client's first
/// choice the server also offers.
fn choose_algorithms(flow: &mut Flow) {
    for d in 0..2 {
        let [c, s] = &flow.peers;
        let pick = |a: &[Option<String>; 2], b: &[Option<String>; 2]| {
            choose(
                a.get(d).and_then(Option::as_ref),
                b.get(d).and_then(Option::as_ref),
            )
        };
        let enc = pick(&c.enc_proposals, &s.enc_proposals);
        let mac = pick(&c.mac_proposals, &s.mac_proposals);
        let Some(p) = flow.peers.get_mut(d) else {
            continue;
        };
        match enc.as_deref() {
            Some("aes128-gcm@openssh.com" | "aes256-gcm@openssh.com") => {
                p.mac_length = 16;
                p.length_is_plaintext = true;
            }
            Some("chacha20-poly1305@openssh.com") => p.mac_length = 16,
            _ => {
                if let Some(m) = mac.as_deref() {
                    let (len, etm) = mac_length(m);
                    p.mac_length = len;
                    if etm {
                        p.length_is_plaintext = true;
                    }
                }
            }
        }
        p.enc = enc;
    }
}
