//! What SMB mailslot writes carry: the browser protocol of
//! `\MAILSLOT\BROWSE` and `\MAILSLOT\LANMAN` (announcements, elections,
//! backup lists; MS-BRWS) and, by name only, the old logon protocol of
//! `\MAILSLOT\NET\*`.

use dorsal_engine::dissect::{Cx, Dissector, Outcome};

use crate::fields::Smb2Fields;
use crate::parse::Le;

const HOST_ANNOUNCEMENT: u8 = 0x01;
const REQUEST_ANNOUNCEMENT: u8 = 0x02;
const ELECTION_REQUEST: u8 = 0x08;
const BACKUP_LIST_REQUEST: u8 = 0x09;
const BACKUP_LIST_RESPONSE: u8 = 0x0a;
const BECOME_BACKUP: u8 = 0x0b;
const DOMAIN_ANNOUNCEMENT: u8 = 0x0c;
const MASTER_ANNOUNCEMENT: u8 = 0x0d;
const RESET_STATE: u8 = 0x0e;
const LOCAL_MASTER_ANNOUNCEMENT: u8 = 0x0f;

/// Starts the browser layer: Protocol, Info and the command; `None` when
/// there is not even a command byte.
fn start(cx: &mut Cx<'_>, f: &Smb2Fields, data: &[u8]) -> Option<u8> {
    cx.t.add_layer("browser");
    cx.t.push_proto(f.browser, data);
    if let Some(c) = cx.cols() {
        c.set_protocol("BROWSER");
        c.clear_info();
    }
    let Some(cmd) = data.u8_at(0) else {
        cx.bounds_error(1, "BROWSER");
        return None;
    };
    if let Some(c) = cx.cols() {
        match command_name(cmd) {
            Some(n) => c.append_info(n),
            None => c.append_info_fmt(format_args!("Unknown command:0x{cmd:02x}")),
        }
    }
    cx.t.push_u(f.browser_command, cmd);
    Some(cmd)
}

/// Names the mailslot dissectors are registered under.
pub(crate) const BROWSE: &str = "mailslot_browse";
pub(crate) const LANMAN: &str = "mailslot_lanman";
pub(crate) const NETLOGON: &str = "smb_netlogon";

/// The three mailslot protocols, by the name the mailslot gives.
#[derive(Clone, Copy)]
pub(crate) enum Slot {
    Browse,
    Lanman,
    Netlogon,
}

pub(crate) struct Mailslot(pub(crate) Smb2Fields, pub(crate) Slot);

impl Dissector for Mailslot {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.0;
        let body = match self.1 {
            Slot::Browse => browse_body,
            Slot::Lanman => lanman_body,
            Slot::Netlogon => {
                netlogon(cx, f, data);
                return Outcome::Done(data.len());
            }
        };
        let Some(cmd) = start(cx, f, data) else {
            return Outcome::Done(data.len());
        };
        let mut r = Reader { data, at: 1 };
        if body(cx, f, cmd, &mut r).is_none() {
            cx.bounds_error(r.end(), "BROWSER");
        }
        Outcome::Done(data.len())
    }
}

/// A `\MAILSLOT\BROWSE` message after its command (`dissect_mailslot_browse`).
fn browse_body(cx: &mut Cx<'_>, f: &Smb2Fields, cmd: u8, r: &mut Reader<'_>) -> Option<()> {
    match cmd {
        HOST_ANNOUNCEMENT | DOMAIN_ANNOUNCEMENT | LOCAL_MASTER_ANNOUNCEMENT => {
            cx.t.push_u(f.browser_update_count, r.u8()?);
            cx.t.push_u(f.browser_period, r.u32()?);
            let name = r.fixed_stringz(16)?;
            info_name(cx, name);
            cx.t.push_str(f.browser_server, &cp437(name));
            let (major, minor) = (r.peek_u8(0)?, r.peek_u8(1)?);
            cx.t.push_str(
                f.browser_windows_version,
                windows_version(major, minor).as_bytes(),
            );
            cx.t.push_u(f.browser_os_major, r.u8()?);
            cx.t.push_u(f.browser_os_minor, r.u8()?);
            server_type(cx, f, r.u32()?);
            if cmd == DOMAIN_ANNOUNCEMENT && r.peek_u16(2)? != 0xaa55 {
                cx.t.push_u(f.browser_mysterious_field, r.u32()?);
            } else {
                cx.t.push_u(f.browser_proto_major, r.u8()?);
                cx.t.push_u(f.browser_proto_minor, r.u8()?);
                cx.t.push_u(f.browser_sig, r.u16()?);
            }
            let s = r.stringz()?;
            let field = if cmd == DOMAIN_ANNOUNCEMENT {
                f.browser_mb_server
            } else {
                f.browser_comment
            };
            cx.t.push_str(field, s);
        }
        REQUEST_ANNOUNCEMENT => {
            cx.t.push_u(f.browser_unused, r.u8()?);
            let name = r.stringz()?;
            info_name(cx, name);
            cx.t.push_str(f.browser_response_computer_name, name);
        }
        ELECTION_REQUEST => {
            cx.t.push_u(f.browser_election_version, r.u8()?);
            let criteria = r.peek_u32(0)?;
            cx.t.push_u(f.browser_election_criteria, criteria);
            cx.t.push_u(f.browser_election_desire, r.u8()?);
            cx.t.push_u(f.browser_proto_major, r.u8()?);
            cx.t.push_u(f.browser_proto_minor, r.u8()?);
            cx.t.push_u(f.browser_election_os, r.u8()?);
            cx.t.push_u(f.browser_uptime, r.u32()?);
            r.skip(4)?;
            cx.t.push_str(f.browser_server, r.stringz()?);
        }
        BACKUP_LIST_REQUEST => {
            cx.t.push_u(f.browser_backup_count, r.u8()?);
            cx.t.push_u(f.browser_backup_token, r.u32()?);
        }
        BACKUP_LIST_RESPONSE => {
            let n = r.u8()?;
            cx.t.push_u(f.browser_backup_count, n);
            cx.t.push_u(f.browser_backup_token, r.u32()?);
            // A u8 count bounds the walk.
            for _ in 0..n {
                cx.t.push_str(f.browser_backup_server, r.stringz()?);
            }
        }
        BECOME_BACKUP => cx.t.push_str(f.browser_browser_to_promote, r.stringz()?),
        MASTER_ANNOUNCEMENT => cx.t.push_str(f.browser_mb_server, r.stringz()?),
        RESET_STATE => {
            let b = r.u8()?;
            cx.t.push_u(f.browser_reset_cmd, b);
            cx.t.push_bool(f.browser_reset_cmd_demote, b & 0x01 != 0);
            cx.t.push_bool(f.browser_reset_cmd_flush, b & 0x02 != 0);
            cx.t.push_bool(f.browser_reset_cmd_stop_lmb, b & 0x04 != 0);
        }
        _ => {}
    }
    Some(())
}

/// A `\MAILSLOT\LANMAN` message after its command
/// (`dissect_mailslot_lanman`): the older announcement layout, types before
/// the name and the period in seconds.
fn lanman_body(cx: &mut Cx<'_>, f: &Smb2Fields, cmd: u8, r: &mut Reader<'_>) -> Option<()> {
    if !matches!(
        cmd,
        HOST_ANNOUNCEMENT | DOMAIN_ANNOUNCEMENT | LOCAL_MASTER_ANNOUNCEMENT
    ) {
        return Some(());
    }
    cx.t.push_u(f.browser_update_count, r.u8()?);
    server_type(cx, f, r.u32()?);
    cx.t.push_u(f.browser_os_major, r.u8()?);
    cx.t.push_u(f.browser_os_minor, r.u8()?);
    cx.t.push_u(f.browser_period, u32::from(r.u16()?) * 1000);
    let name = r.stringz()?;
    info_name(cx, name);
    cx.t.push_str(f.browser_server, &cp437(name));
    let s = r.stringz()?;
    let field = if cmd == DOMAIN_ANNOUNCEMENT {
        f.browser_mb_server
    } else {
        f.browser_comment
    };
    cx.t.push_str(field, s);
    Some(())
}

/// A `\MAILSLOT\NET\*` logon message: its protocol and command only (the
/// per-command bodies and their Info suffixes are not read).
fn netlogon(cx: &mut Cx<'_>, f: &Smb2Fields, data: &[u8]) {
    cx.t.add_layer("smb_netlogon");
    cx.t.push_proto(f.smb_netlogon, data);
    if let Some(c) = cx.cols() {
        c.set_protocol("SMB_NETLOGON");
        c.clear_info();
    }
    let Some(cmd) = data.u8_at(0) else {
        cx.bounds_error(1, "SMB_NETLOGON");
        return;
    };
    if let Some(c) = cx.cols() {
        match netlogon_command(cmd) {
            Some(n) => c.append_info(n),
            None => c.append_info_fmt(format_args!("Unknown Command:{cmd:02x}")),
        }
    }
    cx.t.push_u(f.smb_netlogon_command, cmd);
}

fn info_name(cx: &mut Cx<'_>, name: &[u8]) {
    if let Some(c) = cx.cols() {
        c.append_info(" ");
        c.append_info(&cp437_string(name));
    }
}

/// The server-type word and its names appended to Info, lowest bit first.
fn server_type(cx: &mut Cx<'_>, f: &Smb2Fields, types: u32) {
    cx.t.push_u(f.browser_server_type, types);
    if let Some(c) = cx.cols() {
        for bit in 0..32u32 {
            if types & (1 << bit) == 0 {
                continue;
            }
            match server_type_name(bit) {
                Some(n) => c.append_info_fmt(format_args!(", {n}")),
                None => c.append_info_fmt(format_args!(", Unknown server type:{bit}")),
            }
        }
    }
}

/// A cursor over the message that says where a failed read ended.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let Some(b) = self.data.get(self.at..end) else {
            self.at = end;
            return None;
        };
        self.at = end;
        Some(b)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.u8_at(0)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2)?.u16_at(0)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)?.u32_at(0)
    }
    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }
    fn peek_u8(&self, off: usize) -> Option<u8> {
        self.data.u8_at(self.at + off)
    }
    fn peek_u16(&self, off: usize) -> Option<u16> {
        self.data.u16_at(self.at + off)
    }
    fn peek_u32(&self, off: usize) -> Option<u32> {
        self.data.u32_at(self.at + off)
    }
    /// A NUL-terminated string; a missing terminator is a read past the end.
    fn stringz(&mut self) -> Option<&'a [u8]> {
        let rest = self.data.get(self.at..).unwrap_or_default();
        let Some(len) = rest.iter().position(|&b| b == 0) else {
            self.at = self.data.len() + 1;
            return None;
        };
        self.at += len + 1;
        rest.get(..len)
    }
    /// `n` bytes holding a string padded with NULs (it ends at the first).
    fn fixed_stringz(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.take(n)?;
        Some(b.split(|&c| c == 0).next().unwrap_or_default())
    }
    /// Where the failed read wanted to end (for the exception's kind).
    fn end(&self) -> usize {
        self.at.max(self.data.len() + 1)
    }
}

/// Code page 437's upper half (the browser's names are OEM strings).
const CP437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";

fn cp437_string(b: &[u8]) -> String {
    b.iter()
        .map(|&c| {
            if c < 0x80 {
                char::from(c)
            } else {
                CP437_HIGH
                    .chars()
                    .nth(usize::from(c - 0x80))
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            }
        })
        .collect()
}

fn cp437(b: &[u8]) -> Vec<u8> {
    if b.is_ascii() {
        b.to_vec()
    } else {
        cp437_string(b).into_bytes()
    }
}

fn windows_version(major: u8, minor: u8) -> &'static str {
    match (major, minor) {
        (6, 1) => "Windows 7 or Windows Server 2008 R2",
        (6, 0) => "Windows Vista or Windows Server 2008",
        (5, 2) => "Windows Server 2003 R2 or Windows Server 2003",
        (5, 1) => "Windows XP",
        (5, 0) => "Windows 2000",
        _ => "",
    }
}

fn command_name(cmd: u8) -> Option<&'static str> {
    Some(match cmd {
        HOST_ANNOUNCEMENT => "Host Announcement",
        REQUEST_ANNOUNCEMENT => "Request Announcement",
        ELECTION_REQUEST => "Browser Election Request",
        BACKUP_LIST_REQUEST => "Get Backup List Request",
        BACKUP_LIST_RESPONSE => "Get Backup List Response",
        BECOME_BACKUP => "Become Backup Browser",
        DOMAIN_ANNOUNCEMENT => "Domain/Workgroup Announcement",
        MASTER_ANNOUNCEMENT => "Master Announcement",
        RESET_STATE => "Reset Browser State Announcement",
        LOCAL_MASTER_ANNOUNCEMENT => "Local Master Announcement",
        _ => return None,
    })
}

fn server_type_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        0 => "Workstation",
        1 => "Server",
        2 => "SQL Server",
        3 => "Domain Controller",
        4 => "Backup Controller",
        5 => "Time Source",
        6 => "Apple Server",
        7 => "Novell Server",
        8 => "Domain Member Server",
        9 => "Print Queue Server",
        10 => "Dialin Server",
        11 => "Xenix Server",
        12 => "NT Workstation",
        13 => "Windows for Workgroups",
        15 => "NT Server",
        16 => "Potential Browser",
        17 => "Backup Browser",
        18 => "Master Browser",
        19 => "Domain Master Browser",
        20 => "OSF",
        21 => "VMS",
        22 => "Windows 95 or above",
        23 => "DFS server",
        30 => "Local List Only",
        31 => "Domain Enum",
        _ => return None,
    })
}

fn netlogon_command(cmd: u8) -> Option<&'static str> {
    Some(match cmd {
        0x00 => "LM1.0/LM2.0 LOGON Request",
        0x01 => "LM1.0 LOGON Response",
        0x02 => "LM1.0 Query - Centralized Initialization",
        0x03 => "LM1.0 Query - Distributed Initialization",
        0x04 => "LM1.0 Response - Centralized Query",
        0x05 => "LM1.0 Response - Distributed Initialization",
        0x06 => "LM2.0 Response to LOGON Request",
        0x07 => "Query for PDC",
        0x08 => "Announce Startup of PDC",
        0x09 => "Announce Failed PDC",
        0x0a => "Announce Change to UAS or SAM",
        0x0b => "Announce no user on machine",
        0x0c => "Response from PDC",
        0x0d => "LM1.0/LM2.0 Response to re-LOGON Request",
        0x0e => "LM1.0/LM2.0 Response to Interrogate Request",
        0x0f => "LM2.0 Response during LOGON pause",
        0x10 => "LM2.0 Response - user unknown",
        0x11 => "LM2.0 Announce account updates",
        0x12 => "SAM LOGON request from client",
        0x13 => "Response to SAM LOGON request",
        0x14 => "SAM Response during LOGON pause",
        0x15 => "SAM Response - user unknown",
        0x16 => "SAM Response to Interrogate Request",
        0x17 => "SAM Active Directory Response - user unknown",
        0x18 => "SAM unknown command 0x18",
        0x19 => "Active Directory Response to SAM LOGON request",
        _ => return None,
    })
}
