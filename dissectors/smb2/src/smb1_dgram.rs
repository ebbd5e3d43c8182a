//! SMB1 as the NetBIOS datagram service carries it (a `netbios` heuristic):
//! the 32-byte header, Trans requests, and the mailslot writes they make
//! (`\MAILSLOT\BROWSE` and friends), handed to [`crate::browser`].

use dorsal_engine::dissect::{Cx, Dissector, Outcome};

use crate::browser;
use crate::fields::Smb2Fields;
use crate::parse::Le;

pub struct Smb1Dgram(pub Smb2Fields);

const HDR: usize = 32;
const CMD_TRANS: u8 = 0x25;
/// Words of a primary Trans request before its setup words.
const FIXED_WORDS: u8 = 14;
const MAILSLOT: &[u8] = b"\\MAILSLOT\\";
/// Longest transaction name read (bytes on the wire).
const MAX_NAME: usize = 1024;

impl Dissector for Smb1Dgram {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        if data.get(..4) != Some(b"\xffSMB".as_slice()) {
            return Outcome::Rejected;
        }
        let f = &self.0;
        // The header is read before the protocol's tree item exists: a
        // short one leaves `smb` in the stack but only `_ws.malformed` in
        // the tree.
        cx.t.add_nested_layer("smb");
        if let Some(c) = cx.cols() {
            c.set_protocol("SMB");
            c.clear_info();
        }
        let Some(hdr) = data.get(..HDR) else {
            cx.bounds_error(HDR, "SMB");
            return Outcome::Done(data.len());
        };
        cx.t.add_tree_item("smb");
        cx.t.push_proto(f.smb, data);
        let cmd = hdr.u8_at(4).unwrap_or(0);
        let flags = hdr.u8_at(9).unwrap_or(0);
        let flags2 = hdr.u16_at(10).unwrap_or(0);
        let response = flags & 0x80 != 0;
        if let Some(c) = cx.cols() {
            match cmd_name(cmd) {
                Some(n) => c.append_info(n),
                None => c.append_info_fmt(format_args!("Unknown (0x{cmd:02x})")),
            }
            c.append_info(if response { " Response" } else { " Request" });
        }
        self.header(cx, hdr, flags, flags2);
        if cmd == CMD_TRANS && !response {
            self.trans_request(cx, data, flags2);
        } else {
            self.counts(cx, data);
        }
        Outcome::Done(data.len())
    }
}

impl Smb1Dgram {
    fn header(&self, cx: &mut Cx<'_>, hdr: &[u8], flags: u8, flags2: u16) {
        let f = &self.0;
        let t = &mut cx.t;
        t.push_u(f.smb_server_component, hdr.u32_at(0).unwrap_or(0));
        t.push_u(f.smb_cmd, hdr.u8_at(4).unwrap_or(0));
        if flags2 & 0x4000 != 0 {
            t.push_u(f.smb_nt_status, hdr.u32_at(5).unwrap_or(0));
        } else {
            t.push_u(f.smb_error_class, hdr.u8_at(5).unwrap_or(0));
            t.push_bytes(f.smb_reserved, hdr.get(6..7).unwrap_or_default());
            t.push_u(f.smb_error_code, hdr.u16_at(7).unwrap_or(0));
        }
        t.push_u(f.smb_flags, flags);
        for (field, mask) in [
            (f.smb_flags_response, 0x80),
            (f.smb_flags_notify, 0x40),
            (f.smb_flags_oplock, 0x20),
            (f.smb_flags_canon, 0x10),
            (f.smb_flags_caseless, 0x08),
            (f.smb_flags_receive_buffer, 0x02),
            (f.smb_flags_lock, 0x01),
        ] {
            t.push_bool(field, flags & mask != 0);
        }
        t.push_u(f.smb_flags2, flags2);
        for (field, mask) in [
            (f.smb_flags2_string, 0x8000),
            (f.smb_flags2_nt_error, 0x4000),
            (f.smb_flags2_roe, 0x2000),
            (f.smb_flags2_dfs, 0x1000),
            (f.smb_flags2_esn, 0x0800),
            (f.smb_flags2_reparse_path, 0x0400),
            (f.smb_flags2_long_names_used, 0x0040),
            (f.smb_flags2_sec_sig_required, 0x0010),
            (f.smb_flags2_compressed, 0x0008),
            (f.smb_flags2_sec_sig, 0x0004),
            (f.smb_flags2_ea, 0x0002),
            (f.smb_flags2_long_names_allowed, 0x0001),
        ] {
            t.push_bool(field, flags2 & mask != 0);
        }
        t.push_u(f.smb_pid_high, hdr.u16_at(12).unwrap_or(0));
        t.push_bytes(f.smb_signature, hdr.get(14..22).unwrap_or_default());
        t.push_bytes(f.smb_reserved, hdr.get(22..24).unwrap_or_default());
        t.push_u(f.smb_tid, hdr.u16_at(24).unwrap_or(0));
        t.push_u(f.smb_pid, hdr.u16_at(26).unwrap_or(0));
        t.push_u(f.smb_uid, hdr.u16_at(28).unwrap_or(0));
        t.push_u(f.smb_mid, hdr.u16_at(30).unwrap_or(0));
    }

    /// The word and byte counts every command's body starts with (their
    /// contents are not read).
    fn counts(&self, cx: &mut Cx<'_>, smb: &[u8]) {
        let f = &self.0;
        let Some(wct) = smb.u8_at(HDR) else {
            cx.bounds_error(HDR + 1, "SMB");
            return;
        };
        cx.t.push_u(f.smb_wct, wct);
        let words_end = HDR + 1 + 2 * usize::from(wct);
        match smb.u16_at(words_end) {
            Some(bcc) => cx.t.push_u(f.smb_bcc, bcc),
            None => cx.bounds_error(words_end + 2, "SMB"),
        }
    }

    /// A TRANSACTION request (MS-CIFS 2.2.4.33.1). Only a primary request
    /// (17 words) names a mailslot; its byte count bounds the name, the
    /// padding and the parameters as packet-smb.c counts them (a 16-bit
    /// count that wraps), and a data count beyond what is left ends it.
    fn trans_request(&self, cx: &mut Cx<'_>, smb: &[u8], flags2: u16) {
        let f = &self.0;
        let Some(wct) = smb.u8_at(HDR) else {
            cx.bounds_error(HDR + 1, "SMB");
            return;
        };
        // A primary request's 14 fixed words, then its setup words (all
        // counted by wct); a secondary (8 words) names no mailslot.
        if wct < FIXED_WORDS {
            self.counts(cx, smb);
            return;
        }
        cx.t.push_u(f.smb_wct, wct);
        let setup_at = HDR + 1 + 2 * usize::from(FIXED_WORDS);
        let Some(w) = smb.get(HDR + 1..setup_at) else {
            cx.bounds_error(setup_at, "SMB");
            return;
        };
        let t = &mut cx.t;
        t.push_u(f.smb_tpc, w.u16_at(0).unwrap_or(0));
        t.push_u(f.smb_tdc, w.u16_at(2).unwrap_or(0));
        t.push_u(f.smb_mpc, w.u16_at(4).unwrap_or(0));
        t.push_u(f.smb_mdc, w.u16_at(6).unwrap_or(0));
        t.push_u(f.smb_msc, w.u8_at(8).unwrap_or(0));
        t.push_bytes(f.smb_reserved, w.get(9..10).unwrap_or_default());
        let tflags = w.u16_at(10).unwrap_or(0);
        t.push_u(f.smb_transaction_flags, tflags);
        t.push_bool(f.smb_transaction_flags_owt, tflags & 0x0002 != 0);
        t.push_bool(f.smb_transaction_flags_dtid, tflags & 0x0001 != 0);
        t.push_u(f.smb_timeout, w.u32_at(12).unwrap_or(0));
        t.push_bytes(f.smb_reserved, w.get(16..18).unwrap_or_default());
        let pc = w.u16_at(18).unwrap_or(0);
        let po = w.u16_at(20).unwrap_or(0);
        let dc = w.u16_at(22).unwrap_or(0);
        let od = w.u16_at(24).unwrap_or(0);
        let sc = w.u8_at(26).unwrap_or(0);
        t.push_u(f.smb_pc, pc);
        t.push_u(f.smb_po, po);
        t.push_u(f.smb_dc, dc);
        t.push_u(f.smb_data_offset, od);
        t.push_u(f.smb_sc, sc);
        t.push_bytes(f.smb_reserved, w.get(27..28).unwrap_or_default());
        let setup_end = setup_at + 2 * usize::from(sc);
        let Some(setup) = smb.get(setup_at..setup_end) else {
            cx.bounds_error(setup_end, "SMB");
            return;
        };
        let Some(bcc) = smb.u16_at(setup_end) else {
            cx.bounds_error(setup_end + 2, "SMB");
            return;
        };
        cx.t.push_u(f.smb_bcc, bcc);
        if bcc == 0 {
            return;
        }
        let name_at = setup_end + 2;
        let Some((name, name_end)) = trans_name(smb, name_at, flags2 & 0x8000 != 0) else {
            cx.bounds_error(smb.len().saturating_add(1), "SMB");
            return;
        };
        cx.t.push_str(f.smb_trans_name, &name);
        let mut bc = bcc.wrapping_sub(u16::try_from(name_end - name_at).unwrap_or(u16::MAX));
        let mut at = name_end;
        if pc > 0 {
            let pad = usize::from(po).saturating_sub(at).min(usize::from(bc));
            bc = bc.saturating_sub(u16::try_from(pad).unwrap_or(u16::MAX));
            at += pad;
            if bc < pc {
                return;
            }
            bc -= pc;
            at += usize::from(pc);
        }
        if dc > 0 {
            let pad = usize::from(od).saturating_sub(at).min(usize::from(bc));
            bc = bc.saturating_sub(u16::try_from(pad).unwrap_or(u16::MAX));
        }
        if bc < dc {
            return;
        }
        let data_end = usize::from(od) + usize::from(dc);
        let Some(payload) = smb.get(usize::from(od).min(smb.len())..data_end.min(smb.len())) else {
            return;
        };
        if !name.starts_with(MAILSLOT) {
            for word in setup.chunks_exact(2) {
                cx.t.push_u(f.smb_setup_word, word.u16_at(0).unwrap_or(0));
            }
            if !payload.is_empty() {
                cx.t.push_bytes(f.smb_trans_data, payload);
            }
            return;
        }
        if payload.len() < usize::from(dc) {
            // The data runs past the capture: the mailslot would read it.
            cx.bounds_error(data_end, "SMB");
            return;
        }
        let ms = MailslotWrite {
            setup: (sc > 0).then_some(setup),
            header: smb.get(setup_at..name_end).unwrap_or_default(),
            name: name.get(MAILSLOT.len()..).unwrap_or_default(),
        };
        self.mailslot(cx, &ms, payload);
    }

    /// `dissect_mailslot_smb`: the write's opcode, priority and class from
    /// the setup words, then the protocol the mailslot's name calls for.
    fn mailslot(&self, cx: &mut Cx<'_>, ms: &MailslotWrite<'_>, payload: &[u8]) {
        let f = &self.0;
        if let Some(c) = cx.cols() {
            c.set_protocol("SMB Mailslot");
        }
        if payload.is_empty() {
            if let Some(c) = cx.cols() {
                c.set_info("Interim reply");
            }
            return;
        }
        if let Some(c) = cx.cols() {
            c.clear_info();
        }
        if let Some(setup) = ms.setup {
            // Not a layer of frame.protocols (a direct call, no handle),
            // but a tree item io,phs counts.
            cx.t.add_tree_item("mailslot");
            cx.t.push_proto(f.mailslot, ms.header);
            let opcode = setup.u16_at(0).unwrap_or(0);
            if let Some(c) = cx.cols() {
                if opcode == 1 {
                    c.set_info("Write Mail Slot");
                } else {
                    c.set_info(&format!("Unknown opcode: 0x{opcode:04x}"));
                }
            }
            let h = ms.header;
            cx.t.push_u(f.mailslot_opcode, opcode);
            cx.t.push_u(f.mailslot_priority, h.u16_at(2).unwrap_or(0));
            cx.t.push_u(f.mailslot_class, h.u16_at(4).unwrap_or(0));
            cx.t.push_u(f.mailslot_size, h.u16_at(6).unwrap_or(0));
            let name = h.get(8..).unwrap_or_default();
            let name = name.split(|&b| b == 0).next().unwrap_or_default();
            cx.t.push_str(f.mailslot_name, name);
        }
        let n = ms.name;
        // Called as dissectors so a read past the write's data is the
        // malformed kind, as in tshark's sub-tvb.
        let to = if n.starts_with(b"BROWSE") {
            browser::BROWSE
        } else if n.starts_with(b"LANMAN") {
            browser::LANMAN
        } else if n.starts_with(b"NET")
            || n.starts_with(b"TEMP\\NETLOGON")
            || n.starts_with(b"MSSP")
        {
            browser::NETLOGON
        } else {
            "data"
        };
        cx.call_by_name(to, payload);
    }
}

/// What a mailslot write needs from its Trans request.
struct MailslotWrite<'a> {
    /// The setup words, when there are any.
    setup: Option<&'a [u8]>,
    /// From the setup words to the end of the transaction name (the
    /// mailslot header packet-smb-mailslot.c reads).
    header: &'a [u8],
    /// The name after `\MAILSLOT\`.
    name: &'a [u8],
}

/// The NUL-terminated transaction name at `at` (UTF-16LE after one pad
/// byte to an even offset when `unicode`); returns it as ASCII-ish bytes
/// and where it ends, past the terminator.
fn trans_name(smb: &[u8], at: usize, unicode: bool) -> Option<(Vec<u8>, usize)> {
    if !unicode {
        let rest = smb.get(at..)?;
        let len = rest.iter().take(MAX_NAME).position(|&b| b == 0)?;
        return Some((rest.get(..len)?.to_vec(), at + len + 1));
    }
    let start = at + (at & 1);
    let rest = smb.get(start..)?;
    let mut units = Vec::new();
    for c in rest.chunks_exact(2).take(MAX_NAME) {
        let u = c.u16_at(0)?;
        if u == 0 {
            let name: String = char::decode_utf16(units.iter().copied())
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            return Some((name.into_bytes(), start + 2 * (units.len() + 1)));
        }
        units.push(u);
    }
    None
}

/// `smb_cmd_vals` (tshark -G values).
fn cmd_name(cmd: u8) -> Option<&'static str> {
    Some(match cmd {
        0x00 => "Create Directory",
        0x01 => "Delete Directory",
        0x02 => "Open",
        0x03 => "Create",
        0x04 => "Close",
        0x05 => "Flush",
        0x06 => "Delete",
        0x07 => "Rename",
        0x08 => "Query Information",
        0x09 => "Set Information",
        0x0a => "Read",
        0x0b => "Write",
        0x0c => "Lock Byte Range",
        0x0d => "Unlock Byte Range",
        0x0e => "Create Temp",
        0x0f => "Create New",
        0x10 => "Check Directory",
        0x11 => "Process Exit",
        0x12 => "Seek",
        0x13 => "Lock And Read",
        0x14 => "Write And Unlock",
        0x15 => "unknown-0x15",
        0x16 => "unknown-0x16",
        0x17 => "unknown-0x17",
        0x18 => "unknown-0x18",
        0x19 => "unknown-0x19",
        0x1a => "Read Raw",
        0x1b => "Read MPX",
        0x1c => "Read MPX Secondary",
        0x1d => "Write Raw",
        0x1e => "Write MPX",
        0x1f => "Write MPX Secondary",
        0x20 => "Write Complete",
        0x21 => "Query Server (reserved)",
        0x22 => "Set Information2",
        0x23 => "Query Information2",
        0x24 => "Locking AndX",
        0x25 => "Trans",
        0x26 => "Trans Secondary",
        0x27 => "IOCTL",
        0x28 => "IOCTL Secondary",
        0x29 => "Copy",
        0x2a => "Move",
        0x2b => "Echo",
        0x2c => "Write And Close",
        0x2d => "Open AndX",
        0x2e => "Read AndX",
        0x2f => "Write AndX",
        0x30 => "New File Size (reserved)",
        0x31 => "Close And Tree Disconnect",
        0x32 => "Trans2",
        0x33 => "Trans2 Secondary",
        0x34 => "Find Close2",
        0x35 => "Find Notify Close",
        0x70 => "Tree Connect",
        0x71 => "Tree Disconnect",
        0x72 => "Negotiate Protocol",
        0x73 => "Session Setup AndX",
        0x74 => "Logoff AndX",
        0x75 => "Tree Connect AndX",
        0x80 => "Query Information Disk",
        0x81 => "Search",
        0x82 => "Find",
        0x83 => "Find Unique",
        0x84 => "Find Close",
        0xa0 => "NT Trans",
        0xa1 => "NT Trans Secondary",
        0xa2 => "NT Create AndX",
        0xa3 => "unknown-0xA3",
        0xa4 => "NT Cancel",
        0xa5 => "NT Rename",
        0xc0 => "Open Print File",
        0xc1 => "Write Print File",
        0xc2 => "Close Print File",
        0xc3 => "Get Print Queue",
        0xd0 => "Send Single Block Message",
        0xd1 => "Send Broadcast Message",
        0xd2 => "Forward User Name",
        0xd3 => "Cancel Forward",
        0xd4 => "Get Machine Name",
        0xd5 => "Send Start of Multi-block Message",
        0xd6 => "Send End of Multi-block Message",
        0xd7 => "Send Text of Multi-block Message",
        0xd8 => "SMBreadbulk",
        0xd9 => "SMBwritebulk",
        0xda => "SMBwritebulkdata",
        0xfe => "SMBinvalid",
        _ => return None,
    })
}
