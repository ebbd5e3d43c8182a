//! GSS-API, SPNEGO and NTLMSSP fields for a security blob.

use dorsal_engine::dissect::Cx;

use crate::fields::Smb2Fields;
use crate::parse::{self, Le, NTLMSSP_NEGOTIATE_UNICODE};

/// Dissects a security blob as packet-gssapi.c hands it on.
pub fn security_blob(cx: &mut Cx<'_>, f: &Smb2Fields, blob: &[u8]) {
    blob_fields(cx, f, blob, true);
}

/// A SPNEGO token as DCE/RPC hands it to SPNEGO directly: no GSS-API layer.
pub fn spnego_token(cx: &mut Cx<'_>, f: &Smb2Fields, blob: &[u8]) {
    blob_fields(cx, f, blob, false);
}

fn blob_fields(cx: &mut Cx<'_>, f: &Smb2Fields, blob: &[u8], gss_layer: bool) {
    let g = parse::gss(blob);
    if g.gssapi && gss_layer {
        cx.t.add_layer("gss-api");
        cx.t.push_proto(f.gssapi, blob);
        if let Some(oid) = &g.oid {
            cx.t.push_str(f.gssapi_oid, oid.as_bytes());
        }
    }
    if g.spnego {
        cx.t.add_layer("spnego");
        cx.t.push_proto(f.spnego, blob);
    }
    if let Some(m) = g.ntlmssp {
        message(cx, f, m);
        if g.mech_list_mic {
            // packet-spnego.c hands the mechListMIC to NTLMSSP's verifier.
            cx.t.add_layer("ntlmssp");
        }
    }
}

fn push_string(
    cx: &mut Cx<'_>,
    id: dorsal_engine::fields::FieldId,
    b: Option<&[u8]>,
    unicode: bool,
) {
    let Some(b) = b else { return };
    if b.is_empty() {
        cx.t.push_str(id, b"NULL");
        return;
    }
    cx.t.push_str(id, &decoded(b, unicode));
}

/// A string of the message: UTF-16LE, or OEM bytes up to a NUL.
fn decoded(b: &[u8], unicode: bool) -> Vec<u8> {
    if unicode {
        let mut s = String::new();
        parse::utf16le(b, &mut s);
        s.into_bytes()
    } else {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        b.get(..end).unwrap_or(b).to_vec()
    }
}

/// One NTLMSSP message (`dissect_ntlmssp`).
pub fn message(cx: &mut Cx<'_>, f: &Smb2Fields, m: &[u8]) {
    cx.t.add_layer("ntlmssp");
    message_fields(cx, f, m);
}

/// The fields of one NTLMSSP message, without a frame.protocols layer
/// (DCE/RPC's auth verifier shows none).
pub fn message_fields(cx: &mut Cx<'_>, f: &Smb2Fields, m: &[u8]) {
    cx.t.push_proto(f.ntlmssp, m);
    cx.t.push_str(f.ntlmssp_identifier, b"NTLMSSP");
    let Some(n) = parse::ntlmssp(m) else { return };
    cx.t.push_u(f.ntlmssp_messagetype, n.msg_type);
    let unicode = n.flags.unwrap_or(0) & NTLMSSP_NEGOTIATE_UNICODE != 0;
    if let Some(c) = cx.cols() {
        let name = match n.msg_type {
            1 => "NTLMSSP_NEGOTIATE",
            2 => "NTLMSSP_CHALLENGE",
            3 => "NTLMSSP_AUTH",
            4 => "NTLMSSP_UNKNOWN",
            _ => "Unknown NTLMSSP message type",
        };
        c.append_info_sep(", ", name);
        if n.msg_type == 3 {
            // An empty name is `NULL` in the tree but empty here.
            let text = |b: Option<&[u8]>| {
                String::from_utf8_lossy(&b.map(|b| decoded(b, unicode)).unwrap_or_default())
                    .into_owned()
            };
            let user = format!("User: {}\\{}", text(n.domain), text(n.user));
            c.append_info_sep(", ", &user);
        }
    }
    match n.msg_type {
        1 => {
            if let Some(fl) = n.flags {
                cx.t.push_u(f.ntlmssp_negotiateflags, fl);
            }
        }
        2 => {
            push_string(cx, f.ntlmssp_target_name, n.target_name, unicode);
            if let Some(fl) = n.flags {
                cx.t.push_u(f.ntlmssp_negotiateflags, fl);
            }
            if let Some(c) = n.challenge {
                cx.t.push_bytes(f.ntlmssp_serverchallenge, c);
            }
            if let Some(r) = n.reserved {
                cx.t.push_bytes(f.ntlmssp_reserved, r);
            }
        }
        3 => {
            if let Some(lm) = n.lm_response {
                if !lm.is_empty() {
                    cx.t.push_bytes(f.ntlmssp_auth_lmresponse, lm);
                }
            }
            if let Some(nt) = n.nt_response {
                if !nt.is_empty() {
                    cx.t.push_bytes(f.ntlmssp_auth_ntresponse, nt);
                }
                if nt.len() > 24 {
                    cx.t.push_bytes(f.ntlmssp_v2_response, nt);
                    if let Some(p) = nt.slice(0, 16) {
                        cx.t.push_bytes(f.ntlmssp_v2_ntproofstr, p);
                    }
                    if let Some(v) = nt.u8_at(16) {
                        cx.t.push_u(f.ntlmssp_v2_rversion, v);
                    }
                    if let Some(v) = nt.u8_at(17) {
                        cx.t.push_u(f.ntlmssp_v2_hirversion, v);
                    }
                    if let Some(c) = nt.slice(32, 8) {
                        cx.t.push_bytes(f.ntlmssp_v2_chal, c);
                    }
                }
            }
            push_string(cx, f.ntlmssp_auth_domain, n.domain, unicode);
            push_string(cx, f.ntlmssp_auth_username, n.user, unicode);
            push_string(cx, f.ntlmssp_auth_hostname, n.host, unicode);
            if let Some(k) = n.session_key {
                if !k.is_empty() {
                    cx.t.push_bytes(f.ntlmssp_auth_sesskey, k);
                }
            }
            if let Some(fl) = n.flags {
                cx.t.push_u(f.ntlmssp_negotiateflags, fl);
            }
        }
        _ => {}
    }
}
