//! QUIC Initial packets, as far as tshark 4.0.17 shows TLS inside them.
//!
//! Initial packets are protected with keys every observer can derive from
//! the client's first Destination Connection ID (RFC 9001 section 5.2, and
//! RFC 9369 for QUIC v2). tshark removes that protection, reassembles the
//! CRYPTO frames and hands the handshake bytes to TLS's handshake
//! reassembly, with no record layer. We do the same; later packet types
//! (Handshake, 0-RTT, 1-RTT) need secrets we never have and stay opaque.
//!
//! A connection is tracked per UDP address/port pair. The keys come from a
//! client Initial whose AEAD tag verifies under its own Destination
//! Connection ID; a Retry or a fresh connection on the same ports shows as a
//! client Initial that verifies under a new ID, which restarts the state.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use aes::cipher::{BlockEncrypt, KeyInit};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::Aes128Gcm;
use dorsal_engine::bytes::be32;
use dorsal_engine::dissect::{Address, Cx, Dissector, Outcome};
use dorsal_engine::format::{push_decimal, push_hex};
use hkdf::Hkdf;
use sha2::Sha256;

use super::{Ctx, Fields, Run, Session, TLS13};

/// Cap on tracked connections; all are dropped past it.
const CONNS_CAP: usize = 1 << 14;
/// Cap on CRYPTO bytes buffered out of order, per direction.
const PENDING_CAP: usize = 1 << 18;
/// Cap on coalesced packets looked at in one datagram.
const COALESCED_CAP: usize = 64;
/// Cap on frames walked in one packet.
const FRAMES_CAP: usize = 4096;
/// Cap on a Connection ID (RFC 9000 allows 20; long headers encode up to 255).
const CID_MAX: usize = 20;

const V1: u32 = 0x0000_0001;
const V2: u32 = 0x6b33_43cf;

/// Salt and label prefix of the Initial keys of a version, if we know it.
fn version_params(v: u32) -> Option<(&'static [u8; 20], &'static str)> {
    const SALT_V1: [u8; 20] = [
        0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c,
        0xad, 0xcc, 0xbb, 0x7f, 0x0a,
    ];
    const SALT_D29: [u8; 20] = [
        0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11,
        0xe0, 0x43, 0x90, 0xa8, 0x99,
    ];
    const SALT_D23: [u8; 20] = [
        0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63,
        0x65, 0xbe, 0xf9, 0xf5, 0x02,
    ];
    const SALT_V2: [u8; 20] = [
        0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d,
        0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
    ];
    match v {
        V1 => Some((&SALT_V1, "quic ")),
        V2 => Some((&SALT_V2, "quicv2 ")),
        0xff00_001d..=0xff00_0022 => Some((&SALT_D29, "quic ")),
        0xff00_0017..=0xff00_001c => Some((&SALT_D23, "quic ")),
        // Facebook's mvfst drafts use the draft-23 salt.
        0xface_b002 | 0xface_b00e => Some((&SALT_D23, "quic ")),
        _ => None,
    }
}

/// Long-header packet types, in QUIC v1's numbering.
const INITIAL: u8 = 0;
const ZERO_RTT: u8 = 1;
const HANDSHAKE: u8 = 2;
const RETRY: u8 = 3;

/// A long header's packet type in version `v`, as v1 numbers it (RFC 9369
/// moves QUIC v2's types up by one).
fn long_type(v: u32, first: u8) -> u8 {
    let t = (first >> 4) & 3;
    if v == V2 {
        t.wrapping_sub(1) & 3
    } else {
        t
    }
}

fn is_initial(v: u32, first: u8) -> bool {
    long_type(v, first) == INITIAL
}

fn is_retry(v: u32, first: u8) -> bool {
    long_type(v, first) == RETRY
}

fn expand_label(secret: &[u8], label: &str, out: &mut [u8]) -> Option<()> {
    let hk = Hkdf::<Sha256>::from_prk(secret).ok()?;
    let full = format!("tls13 {label}");
    let mut info = Vec::with_capacity(4 + full.len());
    info.extend_from_slice(&u16::try_from(out.len()).ok()?.to_be_bytes());
    info.push(u8::try_from(full.len()).ok()?);
    info.extend_from_slice(full.as_bytes());
    info.push(0);
    hk.expand(&info, out).ok()
}

#[derive(Clone)]
struct Keys {
    key: [u8; 16],
    iv: [u8; 12],
    hp: [u8; 16],
}

/// The Initial keys of one side ("client in" / "server in").
fn initial_keys(version: u32, dcid: &[u8], server: bool) -> Option<Keys> {
    let (salt, prefix) = version_params(version)?;
    let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), dcid);
    let mut secret = [0u8; 32];
    let label = if server { "server in" } else { "client in" };
    expand_label(&prk, label, &mut secret)?;
    let mut k = Keys {
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    expand_label(&secret, &format!("{prefix}key"), &mut k.key)?;
    expand_label(&secret, &format!("{prefix}iv"), &mut k.iv)?;
    expand_label(&secret, &format!("{prefix}hp"), &mut k.hp)?;
    Some(k)
}

/// A QUIC variable-length integer at `*off`.
fn varint(d: &[u8], off: &mut usize) -> Option<u64> {
    let b0 = *d.get(*off)?;
    let n = 1usize << (b0 >> 6);
    let bytes = d.get(*off..off.checked_add(n)?)?;
    let mut v = u64::from(b0 & 0x3f);
    for &b in bytes.iter().skip(1) {
        v = (v << 8) | u64::from(b);
    }
    *off += n;
    Some(v)
}

/// The fields of a long header up to the packet number.
struct Long<'a> {
    version: u32,
    first: u8,
    dcid: &'a [u8],
    scid: &'a [u8],
    /// Offset of the (protected) packet number.
    pn_off: usize,
    /// Offset just past this packet.
    end: usize,
}

fn parse_long(d: &[u8]) -> Option<Long<'_>> {
    let first = *d.first()?;
    if first & 0x80 == 0 {
        return None;
    }
    let v = d.get(1..5)?;
    let version = u32::from_be_bytes([*v.first()?, *v.get(1)?, *v.get(2)?, *v.get(3)?]);
    let dl = usize::from(*d.get(5)?);
    if dl > CID_MAX {
        return None;
    }
    let dcid = d.get(6..6 + dl)?;
    let mut off = 6 + dl;
    let sl = usize::from(*d.get(off)?);
    if sl > CID_MAX {
        return None;
    }
    let scid = d.get(off + 1..off + 1 + sl)?;
    off += 1 + sl;
    if version == 0 || is_retry(version, first) {
        return Some(Long {
            version,
            first,
            dcid,
            scid,
            pn_off: d.len(),
            end: d.len(),
        });
    }
    if is_initial(version, first) {
        let tl = usize::try_from(varint(d, &mut off)?).ok()?;
        off = off.checked_add(tl)?;
    }
    let len = usize::try_from(varint(d, &mut off)?).ok()?;
    let end = off.checked_add(len)?;
    Some(Long {
        version,
        first,
        dcid,
        scid,
        pn_off: off,
        end,
    })
}

/// Removes header protection, then the AEAD: the packet number, and the
/// plaintext frames when the AEAD verifies (tshark shows the number of a
/// packet cut short, whose tag is missing).
type Unprotected = (u64, Option<Vec<u8>>);

fn verified(p: &Option<Unprotected>) -> bool {
    p.as_ref().is_some_and(|(_, frames)| frames.is_some())
}

fn unprotect(d: &[u8], h: &Long<'_>, keys: &Keys, largest: Option<u64>) -> Option<Unprotected> {
    // A packet cut by the snaplen still gives its number.
    let pkt = d.get(..h.end).unwrap_or(d);
    let sample = pkt.get(h.pn_off + 4..h.pn_off + 20)?;
    let hp = aes::Aes128::new_from_slice(&keys.hp).ok()?;
    let mut block = aes::Block::clone_from_slice(sample);
    hp.encrypt_block(&mut block);
    let first = h.first ^ (block.first()? & 0x0f);
    let pn_len = usize::from(first & 3) + 1;
    let mut header = pkt.get(..h.pn_off + pn_len)?.to_vec();
    *header.first_mut()? = first;
    let mut truncated = 0u64;
    for i in 0..pn_len {
        let b = header.get_mut(h.pn_off + i)?;
        *b ^= block.get(1 + i)?;
        truncated = (truncated << 8) | u64::from(*b);
    }
    let pn = decode_pn(largest, truncated, pn_len);
    Some((pn, open(pkt, h, keys, &header, pn, pn_len)))
}

/// The AEAD of an Initial whose header protection is removed.
fn open(
    pkt: &[u8],
    h: &Long<'_>,
    keys: &Keys,
    header: &[u8],
    pn: u64,
    pn_len: usize,
) -> Option<Vec<u8>> {
    let ct = pkt.get(h.pn_off + pn_len..)?;
    let body_len = ct.len().checked_sub(16)?;
    let mut buf = ct.get(..body_len)?.to_vec();
    let tag = ct.get(body_len..)?;
    let mut nonce = keys.iv;
    for (n, p) in nonce.iter_mut().skip(4).zip(pn.to_be_bytes()) {
        *n ^= p;
    }
    let aead = Aes128Gcm::new_from_slice(&keys.key).ok()?;
    aead.decrypt_in_place_detached(
        aes_gcm::Nonce::from_slice(&nonce),
        header,
        &mut buf,
        aes_gcm::Tag::from_slice(tag),
    )
    .ok()?;
    Some(buf)
}

/// RFC 9000 appendix A.3.
fn decode_pn(largest: Option<u64>, truncated: u64, pn_len: usize) -> u64 {
    let expected = largest.map_or(0, |l| l.saturating_add(1));
    let bits = 8 * pn_len as u32;
    let win = 1u64 << bits;
    let half = win / 2;
    let mask = win - 1;
    let candidate = (expected & !mask) | truncated;
    if candidate.saturating_add(half) <= expected && candidate < (1u64 << 62).saturating_sub(win) {
        candidate + win
    } else if candidate > expected.saturating_add(half) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

/// CRYPTO stream of one direction: what was handed on, what waits for a gap.
#[derive(Default)]
struct Crypto {
    next: u64,
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    /// End of the out-of-order span waiting for its gap to close.
    gap_end: Option<u64>,
    largest_pn: Option<u64>,
}

impl Crypto {
    /// One CRYPTO frame, as packet-quic.c's desegment_quic_crypto sees it:
    /// bytes already handed on are dropped; in-order bytes go to TLS at
    /// once; after a gap, everything waits until the gap closes and the
    /// whole span goes to TLS together.
    fn frame(&mut self, off: u64, data: &[u8], out: &mut Vec<u8>) {
        let end = off.saturating_add(data.len() as u64);
        if end <= self.next {
            return;
        }
        let skip = usize::try_from(self.next.saturating_sub(off)).unwrap_or(usize::MAX);
        let Some(data) = data.get(skip..) else { return };
        let off = off.max(self.next);
        if self.gap_end.is_none() && off == self.next {
            out.extend_from_slice(data);
            self.next = end;
            return;
        }
        if self.pending_bytes + data.len() > PENDING_CAP {
            return;
        }
        self.gap_end = Some(self.gap_end.map_or(end, |e| e.max(end)));
        let keep = self.pending.get(&off).is_none_or(|v| v.len() < data.len());
        if keep {
            if let Some(old) = self.pending.insert(off, data.to_vec()) {
                self.pending_bytes -= old.len();
            }
            self.pending_bytes += data.len();
        }
        // Is everything from `next` to the end of the span here?
        let mut reach = self.next;
        for (&o, v) in &self.pending {
            if o > reach {
                break;
            }
            reach = reach.max(o.saturating_add(v.len() as u64));
        }
        if self.gap_end.is_some_and(|e| reach >= e) {
            self.gap_end = None;
            self.take(out);
        }
    }

    /// The bytes now contiguous from `next`.
    fn take(&mut self, out: &mut Vec<u8>) {
        while let Some((&off, _)) = self.pending.first_key_value() {
            if off > self.next {
                break;
            }
            let Some(data) = self.pending.remove(&off) else {
                break;
            };
            self.pending_bytes -= data.len();
            let skip = usize::try_from(self.next - off).unwrap_or(usize::MAX);
            if let Some(fresh) = data.get(skip..) {
                out.extend_from_slice(fresh);
                self.next = self.next.saturating_add(fresh.len() as u64);
            }
        }
    }
}

#[derive(Default)]
struct Conn {
    version: u32,
    /// The Destination Connection ID the Initial keys come from.
    odcid: Vec<u8>,
    client: Option<Keys>,
    server: Option<Keys>,
    /// (address, port) of the client.
    client_end: (Address, u16),
    /// The Source Connection IDs of the first client and server long
    /// headers: what the peers' short headers carry as DCID.
    client_cid: Option<Vec<u8>>,
    server_cid: Option<Vec<u8>>,
    /// A client Initial's DCID is known: cleared by a Retry, after which
    /// the next client Initial sets the IDs afresh.
    dcid_set: bool,
    crypto: [Crypto; 2],
    tls: Session,
}

type ConnKey = (Address, u16, Address, u16);

pub struct Quic {
    f: Fields,
    heuristic: bool,
    conns: RefCell<HashMap<ConnKey, Conn>>,
}

impl Quic {
    pub fn new(f: Fields, heuristic: bool) -> Self {
        Quic {
            f,
            heuristic,
            conns: RefCell::new(HashMap::new()),
        }
    }
}

fn conn_key(cx: &Cx<'_>) -> ConnKey {
    let a = (cx.src, cx.srcport);
    let b = (cx.dst, cx.dstport);
    if a <= b {
        (a.0, a.1, b.0, b.1)
    } else {
        (b.0, b.1, a.0, a.1)
    }
}

/// Could `d` start a QUIC long-header packet of a version we know?
/// How tshark cuts a datagram into packets (`quic_get_message_tvb`): a
/// long header other than a Retry or Version Negotiation by its Length,
/// when that leaves bytes over; anything else runs to the end. `None` when
/// the header is cut short (tshark's read throws).
fn packet_len(d: &[u8]) -> Option<usize> {
    let first = *d.first()?;
    if first & 0x80 == 0 {
        return Some(d.len());
    }
    let v = d.get(1..5)?;
    let version = u32::from_be_bytes([*v.first()?, *v.get(1)?, *v.get(2)?, *v.get(3)?]);
    if version == 0 || is_retry(version, first) {
        return Some(d.len());
    }
    let mut off = 5usize;
    for _ in 0..2 {
        off = off.checked_add(1 + usize::from(*d.get(off)?))?;
    }
    if is_initial(version, first) {
        let token = usize::try_from(varint(d, &mut off)?).ok()?;
        off = off.checked_add(token)?;
    }
    let payload = varint(d, &mut off)?;
    let len = u64::try_from(off).ok()?.checked_add(payload)?;
    let whole = u64::try_from(d.len()).ok()?;
    Some(if payload <= i32::MAX as u64 && len < whole {
        usize::try_from(len).ok()?
    } else {
        d.len()
    })
}

/// A long header's DCID as tshark compares coalesced packets' (empty when
/// its length is 0 or over 20); `None` for a short header or a cut one.
fn long_dcid(d: &[u8]) -> Option<&[u8]> {
    if d.first()? & 0x80 == 0 {
        return None;
    }
    let len = usize::from(*d.get(5)?);
    if len == 0 || len > CID_MAX {
        return Some(&[]);
    }
    d.get(6..6 + len)
}

fn looks_like_initial(d: &[u8]) -> bool {
    match parse_long(d) {
        Some(h) => {
            h.first & 0x40 != 0
                && (h.version == 0 || version_params(h.version).is_some())
                && (h.version == 0
                    || is_initial(h.version, h.first)
                    || is_retry(h.version, h.first))
        }
        None => false,
    }
}

impl Dissector for Quic {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let key = conn_key(cx);
        let mut conns = self.conns.borrow_mut();
        let known = conns.contains_key(&key);
        // On its port QUIC takes any long-header packet, even of a version
        // it has no keys for; the heuristic wants one it knows.
        let port_ok = !self.heuristic && data.first().is_some_and(|b| b & 0xc0 == 0xc0);
        if !known && !port_ok && !looks_like_initial(data) {
            return Outcome::Rejected;
        }
        if conns.len() >= CONNS_CAP && !known {
            conns.clear();
        }
        cx.t.add_layer("quic");
        if let Some(c) = cx.cols() {
            c.set_protocol("QUIC");
        }
        let columns = cx.cols().is_some();
        let conn = conns.entry(key).or_default();
        let me = (cx.src, cx.srcport);
        let mut off = 0usize;
        let mut tls_started = false;
        let mut first_dcid: &[u8] = &[];
        for n in 0..COALESCED_CAP {
            let Some(rest) = data.get(off..).filter(|r| !r.is_empty()) else {
                break;
            };
            // Each coalesced packet is a top-level item of its own.
            if n > 0 {
                cx.t.add_tree_item("quic");
            }
            let Some(len) = packet_len(rest) else { break };
            // Bytes after the first packet with another DCID are padding
            // (`check_dcid_on_coalesced_packet`).
            let dcid = long_dcid(rest).or_else(|| {
                peer_cid(conn, me).map(|c| rest.get(1..1 + c.len()).unwrap_or_default())
            });
            if n == 0 {
                first_dcid = dcid.unwrap_or_default();
            } else if dcid.is_some_and(|d| d != first_dcid) {
                break;
            }
            // Each packet sets Info afresh (`col_set_str`/`col_clear`), so
            // the datagram shows its last packet's; built only when shown.
            let mut info = String::new();
            let mut version_negotiation = false;
            if let Some(h) = parse_long(rest) {
                // A packet cut by the snaplen still gives its keys.
                let pkn = (h.version != 0 && is_initial(h.version, h.first))
                    .then(|| self.initial(cx, conn, rest, &h, me, &mut tls_started))
                    .flatten();
                if columns {
                    info = long_info(&h, pkn);
                }
                track_cids(conn, me, &h);
                version_negotiation = h.version == 0;
            } else if columns {
                if rest.first().is_some_and(|b| b & 0x80 == 0) {
                    info.push_str("Protected Payload (KP0)");
                    push_cid(&mut info, ", DCID=", short_dcid(conn, me, rest));
                } else if let (Some(&first), Some(v)) = (rest.first(), be32(rest, 1)) {
                    // A long header cut short still names its type.
                    info.push_str(long_name(v, first));
                }
            }
            if let Some(c) = cx.cols() {
                c.set_info(&info);
            }
            if version_negotiation {
                break;
            }
            off += len;
        }
        Outcome::Done(data.len())
    }
}

impl Quic {
    fn initial(
        &self,
        cx: &mut Cx<'_>,
        conn: &mut Conn,
        pkt: &[u8],
        h: &Long<'_>,
        me: (Address, u16),
        tls_started: &mut bool,
    ) -> Option<(u64, String)> {
        // Which side sent it, and with which keys: the current connection's
        // first, then a (new) client Initial under its own DCID. `plain`
        // verified; `header_only`, the connection's keys gave only the
        // packet number (the AEAD failed: a packet cut short).
        let mut plain = None;
        let mut header_only = None;
        let mut from_server = false;
        let side_of = |conn: &Conn| usize::from(conn.client_end != me);
        if version_params(h.version).is_none() {
            // tshark sets the connection up from the first Initial even when
            // it cannot derive keys for its version: a Version Negotiation
            // then leaves the client's retried Initial undecrypted.
            if conn.odcid.is_empty() {
                conn.version = h.version;
                conn.odcid = h.dcid.to_vec();
                conn.client_end = me;
            }
            return None;
        }
        let known_keys = if conn.odcid.is_empty() {
            None
        } else if conn.client_end == me {
            conn.client.clone().filter(|_| conn.version == h.version)
        } else if conn.version == h.version {
            conn.server.clone()
        } else {
            initial_keys(h.version, &conn.odcid, true)
        };
        {
            if let Some(k) = known_keys {
                let s = side_of(conn);
                let largest = conn.crypto.get(s).and_then(|c| c.largest_pn);
                let p = unprotect(pkt, h, &k, largest);
                if verified(&p) {
                    plain = p;
                } else {
                    header_only = p;
                }
                from_server = conn.client_end != me;
            }
        }
        if plain.is_none() && h.dcid != conn.odcid.as_slice() {
            if let Some(k) = initial_keys(h.version, h.dcid, false) {
                let p = unprotect(pkt, h, &k, None);
                // Keys are taken from a client Initial that verifies, or,
                // when nothing is known yet, from the first one seen even if
                // it cannot be verified (a capture cut by the snaplen).
                if verified(&p) || conn.odcid.is_empty() {
                    // A Retry or Version Negotiation makes the client start
                    // again with new keys; tshark keeps the connection and
                    // its CRYPTO offsets, so the repeated ClientHello is a
                    // retransmission. A new connection on the same ports
                    // (the server already answered) starts afresh.
                    let server_seen = conn.crypto.get(1).is_some_and(|c| c.largest_pn.is_some());
                    if server_seen || conn.odcid.is_empty() {
                        *conn = Conn::default();
                        conn.tls.version = TLS13;
                    }
                    conn.version = h.version;
                    conn.odcid = h.dcid.to_vec();
                    conn.client = Some(k);
                    conn.server = initial_keys(h.version, h.dcid, true);
                    conn.client_end = me;
                    if let Some(c) = conn.crypto.get_mut(0) {
                        c.largest_pn = None;
                    }
                    plain = p;
                    from_server = false;
                }
            }
        }
        let (pn, frames) = plain.or(header_only)?;
        let side = usize::from(from_server);
        let crypto = conn.crypto.get_mut(side)?;
        crypto.largest_pn = Some(crypto.largest_pn.map_or(pn, |l| l.max(pn)));
        let mut names = String::new();
        let Some(frames) = frames else {
            return Some((pn, names));
        };
        let mut out = Vec::new();
        walk_frames(&frames, crypto, &mut out, &mut names);
        if out.is_empty() {
            return Some((pn, names));
        }
        let ctx = Ctx {
            frame: cx.frame.number,
            from_server,
        };
        // The handshake sits inside the CRYPTO frame's item, not at the
        // top of the tree (`-z io,phs` shows no `tls` under `quic`).
        let outer = cx.t.nest(true);
        let mut run = Run {
            f: &self.f,
            cx,
            sess: &mut conn.tls,
            ctx,
            direction: u8::from(from_server),
        };
        run.begin(&out, tls_started);
        let len = out.len();
        let _ = run.handshake(&out, len, TLS13);
        run.cx.t.nest(outer);
        Some((pn, names))
    }
}

/// A long header's packet type as tshark names it (`quic_v1_long_packet_type_vals`,
/// QUIC v2's types mapped onto v1's).
fn long_name(version: u32, first: u8) -> &'static str {
    if version == 0 {
        return "Version Negotiation";
    }
    match long_type(version, first) {
        INITIAL => "Initial",
        ZERO_RTT => "0-RTT",
        HANDSHAKE => "Handshake",
        _ => "Retry",
    }
}

/// A long header's Info: its type, its IDs and, when its protection came
/// off, its packet number and frames.
fn long_info(h: &Long<'_>, pkn: Option<(u64, String)>) -> String {
    let mut info = long_name(h.version, h.first).to_owned();
    push_cid(&mut info, ", DCID=", h.dcid);
    push_cid(&mut info, ", SCID=", h.scid);
    if let Some((pn, frames)) = pkn {
        info.push_str(", PKN: ");
        push_decimal(&mut info, pn);
        info.push_str(&frames);
    }
    info
}

/// The connection's IDs as tshark's `quic_connection_create_or_update`
/// keeps them: the client's from its first Initial (again after a Retry,
/// which also forgets the server's), the server's from its first Retry,
/// Initial or Handshake.
fn track_cids(conn: &mut Conn, me: (Address, u16), h: &Long<'_>) {
    if conn.odcid.is_empty() || h.version == 0 {
        return;
    }
    let kind = long_type(h.version, h.first);
    if conn.client_end == me {
        if kind != INITIAL {
            return;
        }
        if conn.client_cid.is_none() || (!conn.dcid_set && !h.dcid.is_empty()) {
            if !h.scid.is_empty() || conn.client_cid.is_none() {
                conn.client_cid = Some(h.scid.to_vec());
            }
            conn.dcid_set |= !h.dcid.is_empty();
            conn.server_cid = None;
        }
    } else if kind != ZERO_RTT {
        if kind == RETRY {
            conn.dcid_set = false;
        }
        if conn.server_cid.as_ref().is_none_or(|c| c.is_empty()) && !h.scid.is_empty() {
            conn.server_cid = Some(h.scid.to_vec());
        }
    }
}

/// `label` and the Connection ID in hex, when it is not empty.
fn push_cid(info: &mut String, label: &str, cid: &[u8]) {
    if cid.is_empty() {
        return;
    }
    info.push_str(label);
    push_hex(info, cid);
}

/// A short header's DCID: as long as the Source Connection ID the other
/// side gave in its long headers, and shown only when it is that ID (else
/// tshark finds no connection for the packet and knows no length).
fn short_dcid<'a>(conn: &'a Conn, me: (Address, u16), pkt: &[u8]) -> &'a [u8] {
    match peer_cid(conn, me) {
        Some(cid) if pkt.get(1..1 + cid.len()) == Some(cid) => cid,
        _ => &[],
    }
}

/// The Connection ID a short header from `me` carries, once the connection
/// is known (empty until the other side has sent a long header).
fn peer_cid(conn: &Conn, me: (Address, u16)) -> Option<&[u8]> {
    if conn.odcid.is_empty() {
        return None;
    }
    let peer = if conn.client_end == me {
        &conn.server_cid
    } else {
        &conn.client_cid
    };
    Some(peer.as_deref().unwrap_or_default())
}

/// Collects the CRYPTO frames of a decrypted Initial payload, and the
/// frames' names for Info (`, CRYPTO, PADDING`; a run of padding bytes is
/// one PADDING frame).
fn walk_frames(d: &[u8], crypto: &mut Crypto, out: &mut Vec<u8>, names: &mut String) {
    let mut off = 0usize;
    for _ in 0..FRAMES_CAP {
        if off >= d.len() {
            break;
        }
        let Some(t) = varint(d, &mut off) else { break };
        if let Some(name) = frame_name(t) {
            names.push_str(", ");
            names.push_str(name);
        }
        let ok = match t {
            0x00 => {
                let run = d
                    .get(off..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|&&b| b == 0)
                    .count();
                off += run;
                Some(())
            }
            0x01 => Some(()),
            0x02 | 0x03 => (|| {
                varint(d, &mut off)?;
                varint(d, &mut off)?;
                let n = varint(d, &mut off)?;
                varint(d, &mut off)?;
                for _ in 0..n.min(FRAMES_CAP as u64) {
                    varint(d, &mut off)?;
                    varint(d, &mut off)?;
                }
                if t == 0x03 {
                    for _ in 0..3 {
                        varint(d, &mut off)?;
                    }
                }
                Some(())
            })(),
            0x06 => (|| {
                let o = varint(d, &mut off)?;
                let l = usize::try_from(varint(d, &mut off)?).ok()?;
                let data = d.get(off..off.checked_add(l)?)?;
                off += l;
                crypto.frame(o, data, out);
                Some(())
            })(),
            0x1c | 0x1d => (|| {
                varint(d, &mut off)?;
                if t == 0x1c {
                    varint(d, &mut off)?;
                }
                let l = usize::try_from(varint(d, &mut off)?).ok()?;
                off = off.checked_add(l)?;
                Some(())
            })(),
            _ => None,
        };
        if ok.is_none() {
            break;
        }
    }
}

/// The Info name of the frame types an Initial may carry.
fn frame_name(t: u64) -> Option<&'static str> {
    Some(match t {
        0x00 => "PADDING",
        0x01 => "PING",
        0x02 => "ACK",
        0x03 => "ACK_ECN",
        0x06 => "CRYPTO",
        0x1c | 0x1d => "CC",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9001 appendix A.1: keys from DCID 0x8394c8f03e515708.
    #[test]
    fn rfc9001_client_initial_keys() {
        let dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
        let k = initial_keys(V1, &dcid, false).expect("keys");
        assert_eq!(
            k.key,
            [
                0x1f, 0x36, 0x96, 0x13, 0xdd, 0x76, 0xd5, 0x46, 0x77, 0x30, 0xef, 0xcb, 0xe3, 0xb1,
                0xa2, 0x2d
            ]
        );
        assert_eq!(
            k.hp,
            [
                0x9f, 0x50, 0x44, 0x9e, 0x04, 0xa0, 0xe8, 0x10, 0x28, 0x3a, 0x1e, 0x99, 0x33, 0xad,
                0xed, 0xd2
            ]
        );
    }

    #[test]
    fn pn_decoding() {
        assert_eq!(decode_pn(Some(0xa82f30ea), 0x9b32, 2), 0xa82f9b32);
        assert_eq!(decode_pn(None, 1, 1), 1);
    }

    /// A v1 Initial: DCID `dcid`, no SCID, no token, then `payload` bytes.
    fn initial(dcid: &[u8], payload: usize) -> Vec<u8> {
        let mut p = vec![0xc0, 0, 0, 0, 1, dcid.len() as u8];
        p.extend_from_slice(dcid);
        p.extend_from_slice(&[0, 0, 0x40 | (payload >> 8) as u8, payload as u8]);
        p.resize(p.len() + payload, 0xaa);
        p
    }

    #[test]
    fn datagrams_are_cut_into_packets_as_tshark_cuts_them() {
        let one = initial(&[1, 2, 3, 4], 20);
        assert_eq!(one.len(), 34);
        // Alone, or with nothing after it, a packet runs to the end.
        assert_eq!(packet_len(&one), Some(34));
        let mut two = one.clone();
        two.extend_from_slice(&[0x40, 9, 9, 9]);
        assert_eq!(packet_len(&two), Some(34));
        // A Length past the datagram: the rest of it.
        assert_eq!(packet_len(&initial(&[1], 300)[..100]), Some(100));
        // Short headers, Retry and Version Negotiation: the rest.
        assert_eq!(packet_len(&[0x40, 1, 2]), Some(3));
        assert_eq!(packet_len(&[0xf0, 0, 0, 0, 1, 0, 0]), Some(7));
        assert_eq!(packet_len(&[0x80, 0, 0, 0, 0, 0, 0]), Some(7));
        // A header cut before its lengths.
        assert_eq!(packet_len(&one[..7]), None);
        assert_eq!(long_dcid(&one), Some(&[1u8, 2, 3, 4][..]));
        assert_eq!(long_dcid(&initial(&[], 3)), Some(&[][..]));
        assert_eq!(long_dcid(&[0x40, 1]), None);
    }

    #[test]
    fn crypto_after_a_gap_waits_for_the_whole_span() {
        let mut c = Crypto::default();
        let mut out = Vec::new();
        c.frame(0, b"ab", &mut out);
        assert_eq!(out, b"ab");
        out.clear();
        c.frame(4, b"ef", &mut out);
        // In order, but after the gap opened: held back too.
        c.frame(2, b"c", &mut out);
        assert!(out.is_empty());
        c.frame(3, b"d", &mut out);
        assert_eq!(out, b"cdef");
        out.clear();
        // A retransmission of handed-on bytes is dropped.
        c.frame(0, b"abcd", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn long_header_types_are_named_as_v1_in_both_versions() {
        assert_eq!(long_name(V1, 0xc0), "Initial");
        assert_eq!(long_name(V1, 0xe0), "Handshake");
        assert_eq!(long_name(V1, 0xf0), "Retry");
        assert_eq!(long_name(V2, 0xd0), "Initial");
        assert_eq!(long_name(V2, 0xc0), "Retry");
        assert_eq!(long_name(V2, 0xf0), "Handshake");
        assert_eq!(long_name(0, 0x80), "Version Negotiation");
    }

    #[test]
    fn frames_are_listed_with_a_padding_run_as_one() {
        // PING, CRYPTO(off 0, len 2), three bytes of padding, PING, padding.
        let d = [0x01, 0x06, 0x00, 0x02, b'h', b'i', 0, 0, 0, 0x01, 0];
        let (mut c, mut out, mut names) = (Crypto::default(), Vec::new(), String::new());
        walk_frames(&d, &mut c, &mut out, &mut names);
        assert_eq!(names, ", PING, CRYPTO, PADDING, PING, PADDING");
        assert_eq!(out, b"hi");
    }

    #[test]
    fn a_retry_makes_the_next_client_initial_set_the_ids_afresh() {
        let client = (Address::None, 1000);
        let server = (Address::None, 443);
        let mut conn = Conn {
            odcid: vec![9; 8],
            client_end: client,
            ..Conn::default()
        };
        let long = |first, dcid, scid| Long {
            version: V1,
            first,
            dcid,
            scid,
            pn_off: 0,
            end: 0,
        };
        track_cids(&mut conn, client, &long(0xc0, &[9; 8], &[1, 1]));
        track_cids(&mut conn, server, &long(0xf0, &[1, 1], &[2; 4]));
        assert_eq!(conn.server_cid.as_deref(), Some(&[2u8; 4][..]));
        // The client's answer to the Retry forgets the Retry's ID; the
        // server's Initial then gives the one short headers carry.
        track_cids(&mut conn, client, &long(0xc0, &[2; 4], &[1, 1]));
        track_cids(&mut conn, server, &long(0xc0, &[1, 1], &[3; 4]));
        assert_eq!(peer_cid(&conn, client), Some(&[3u8; 4][..]));
        assert_eq!(peer_cid(&conn, server), Some(&[1u8, 1][..]));
        let short = [0x40, 3, 3, 3, 3, 0];
        assert_eq!(short_dcid(&conn, client, &short), &[3u8; 4][..]);
        assert!(short_dcid(&conn, client, &[0x40, 7, 7, 7, 7]).is_empty());
    }
}
