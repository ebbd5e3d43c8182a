//! Connection-oriented DCE/RPC over TCP (port 135 and the `dcerpc_tcp`
//! heuristic), only as far as the NTLMSSP token in the auth verifier of
//! BIND, BIND_ACK, ALTER_CONTEXT(_RESP) and AUTH3 PDUs (packet-dcerpc.c):
//! a bare NTLMSSP token (no `ntlmssp` layer in frame.protocols, as tshark
//! shows it) or a SPNEGO one.

use dorsal_engine::dissect::{Cx, Dissector, Outcome};

use crate::fields::Smb2Fields;
use crate::parse::Le;

const HDR: usize = 16;
/// Cap on PDUs in one TCP payload.
const MAX_PDUS: usize = 1024;
const AUTH_SPNEGO: u8 = 9;
const AUTH_NTLMSSP: u8 = 10;

pub struct DceRpc {
    pub f: Smb2Fields,
    /// As a heuristic, the first PDU must look right or the payload is not ours.
    pub heuristic: bool,
}

/// The fragment length of a PDU header that passes tshark's checks
/// (version 5.0/5.1, a known packet type, a sane data representation).
fn header(d: &[u8], off: usize) -> Option<(usize, bool)> {
    let ver = d.u8_at(off)?;
    let minor = d.u8_at(off + 1)?;
    let ptype = d.u8_at(off + 2)?;
    let drep0 = d.u8_at(off + 4)?;
    let drep1 = d.u8_at(off + 5)?;
    if ver != 5 || minor > 1 || ptype > 19 || drep1 > 3 {
        return None;
    }
    let le = drep0 & 0x10 != 0;
    let b = d.slice(off + 8, 2)?;
    let frag = if le {
        u16::from_le_bytes([*b.first()?, *b.get(1)?])
    } else {
        u16::from_be_bytes([*b.first()?, *b.get(1)?])
    };
    let frag = usize::from(frag);
    if frag < HDR {
        return None;
    }
    Some((frag, le))
}

impl Dissector for DceRpc {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        if header(data, 0).is_none() {
            return if self.heuristic {
                Outcome::Rejected
            } else {
                Outcome::Done(data.len())
            };
        }
        cx.t.add_layer("dcerpc");
        let mut off = 0usize;
        for _ in 0..MAX_PDUS {
            if off >= data.len() {
                break;
            }
            let Some((frag, le)) = header(data, off) else {
                break;
            };
            let remaining = data.len() - off;
            if remaining < frag {
                if cx.tcp.is_some() && !cx.tcp.map(|t| t.reassembled).unwrap_or(false) {
                    return Outcome::NeedMore {
                        offset: off,
                        more: Some(frag - remaining),
                    };
                }
                break;
            }
            if let Some(pdu) = data.get(off..off + frag) {
                self.pdu(cx, pdu, le);
            }
            off += frag;
        }
        Outcome::Done(data.len())
    }
}

impl DceRpc {
    fn pdu(&self, cx: &mut Cx<'_>, pdu: &[u8], le: bool) {
        let ptype = pdu.u8_at(2).unwrap_or(0);
        if !matches!(ptype, 11 | 12 | 14 | 15 | 16) {
            return;
        }
        let Some(b) = pdu.slice(10, 2) else { return };
        let (Some(&b0), Some(&b1)) = (b.first(), b.get(1)) else {
            return;
        };
        let auth_len = usize::from(if le {
            u16::from_le_bytes([b0, b1])
        } else {
            u16::from_be_bytes([b0, b1])
        });
        if auth_len == 0 {
            return;
        }
        let Some(tok_at) = pdu.len().checked_sub(auth_len) else {
            return;
        };
        let Some(verifier_at) = tok_at.checked_sub(8) else {
            return;
        };
        if verifier_at < HDR {
            return;
        }
        let Some(tok) = pdu.get(tok_at..) else { return };
        match pdu.u8_at(verifier_at) {
            Some(AUTH_NTLMSSP) => crate::ntlmssp::message_fields(cx, &self.f, tok),
            Some(AUTH_SPNEGO) => crate::ntlmssp::spnego_token(cx, &self.f, tok),
            _ => {}
        }
    }
}
