//! The words of SMB2's and NBSS's summary line (the Info column), as
//! packet-smb2.c and packet-nbt.c write them.

use crate::names::{DEVICES, FSCTL, NT_STATUS};

/// The name of `code` in a table sorted by code.
fn lookup(table: &[(u32, &'static str)], code: u32) -> Option<&'static str> {
    let i = table.binary_search_by_key(&code, |e| e.0).ok()?;
    table.get(i).map(|e| e.1)
}

/// `decode_smb2_name`: the command's name (`Negotiate Protocol`, ...).
pub fn command(cmd: u16) -> String {
    const NAMES: [&str; 19] = [
        "Negotiate Protocol",
        "Session Setup",
        "Session Logoff",
        "Tree Connect",
        "Tree Disconnect",
        "Create",
        "Close",
        "Flush",
        "Read",
        "Write",
        "Lock",
        "Ioctl",
        "Cancel",
        "KeepAlive",
        "Find",
        "Notify",
        "GetInfo",
        "SetInfo",
        "Break",
    ];
    match NAMES.get(usize::from(cmd)) {
        Some(n) => (*n).to_string(),
        None if cmd <= 0xff => format!("unknown-0x{cmd:02x}"),
        None => "unknown".to_string(),
    }
}

/// The title of an oplock or lease break (`get_special_packet_title`),
/// told apart by the structure size; `None` for every other message.
pub fn break_title(
    cmd: u16,
    response: bool,
    msg_id: u64,
    size: Option<u16>,
) -> Option<&'static str> {
    if cmd != 18 {
        return None;
    }
    match (response, size?) {
        (true, 24) if msg_id == u64::MAX => Some("Oplock Break Notification"),
        (true, 24) => Some("Oplock Break Response"),
        (true, 44) => Some("Lease Break Notification"),
        (true, 36) => Some("Lease Break Response"),
        (false, 24) => Some("Oplock Break Acknowledgment"),
        (false, 36) => Some("Lease Break Acknowledgment"),
        _ => None,
    }
}

/// An NT status as `val_to_str_ext(.., NT_errors_ext, "Unknown (0x%08X)")`.
pub fn nt_status(status: u32) -> String {
    lookup(NT_STATUS, status).map_or_else(|| format!("Unknown (0x{status:08X})"), str::to_string)
}

/// What an IOCTL request or response appends: the FSCTL's name, or the
/// device and function of an unknown one.
pub fn ioctl(code: u32) -> String {
    if let Some(n) = lookup(FSCTL, code) {
        return format!(" {n}");
    }
    let device = code >> 16;
    let device =
        lookup(DEVICES, device).map_or_else(|| format!("Unknown (0x{device:08X})"), str::to_string);
    format!(" {device} Function:0x{:04x}", (code >> 2) & 0x0fff)
}

/// ` CLASS/LEVEL` of a GETINFO or SETINFO request.
pub fn class_level(class: u8, level: u8) -> String {
    let c = match class {
        1 => "FILE_INFO".to_string(),
        2 => "FS_INFO".to_string(),
        3 => "SEC_INFO".to_string(),
        4 => "QUOTA_INFO".to_string(),
        _ => format!("(Class:0x{class:02x})"),
    };
    let l = match class {
        1 => file_info_level(level),
        2 => fs_info_level(level),
        3 if level == 0 => Some("SMB2_SEC_INFO_00"),
        _ => None,
    };
    let l = l.map_or_else(|| format!("(Level:0x{level:02x})"), str::to_string);
    format!(" {c}/{l}")
}

fn file_info_level(level: u8) -> Option<&'static str> {
    Some(match level {
        0x04 => "SMB2_FILE_BASIC_INFO",
        0x05 => "SMB2_FILE_STANDARD_INFO",
        0x06 => "SMB2_FILE_INTERNAL_INFO",
        0x07 => "SMB2_FILE_EA_INFO",
        0x08 => "SMB2_FILE_ACCESS_INFO",
        0x0a => "SMB2_FILE_RENAME_INFO",
        0x0d => "SMB2_FILE_DISPOSITION_INFO",
        0x0e => "SMB2_FILE_POSITION_INFO",
        0x0f => "SMB2_FILE_FULL_EA_INFO",
        0x10 => "SMB2_FILE_MODE_INFO",
        0x11 => "SMB2_FILE_ALIGNMENT_INFO",
        0x12 => "SMB2_FILE_ALL_INFO",
        0x13 => "SMB2_FILE_ALLOCATION_INFO",
        0x14 => "SMB2_FILE_ENDOFFILE_INFO",
        0x15 => "SMB2_FILE_ALTERNATE_NAME_INFO",
        0x16 => "SMB2_FILE_STREAM_INFO",
        0x17 => "SMB2_FILE_PIPE_INFO",
        0x1c => "SMB2_FILE_COMPRESSION_INFO",
        0x22 => "SMB2_FILE_NETWORK_OPEN_INFO",
        0x23 => "SMB2_FILE_ATTRIBUTE_TAG_INFO",
        0x30 => "SMB2_FILE_NORMALIZED_NAME_INFO",
        0x64 => "SMB2_FILE_POSIX_INFO",
        _ => return None,
    })
}

fn fs_info_level(level: u8) -> Option<&'static str> {
    Some(match level {
        0x01 => "FileFsVolumeInformation",
        0x02 => "FileFsLabelInformation",
        0x03 => "FileFsSizeInformation",
        0x04 => "FileFsDeviceInformation",
        0x05 => "FileFsAttributeInformation",
        0x06 => "FileFsControlInformation",
        0x07 => "FileFsFullSizeInformation",
        0x08 => "FileFsObjectIdInformation",
        0x09 => "FileFsDriverPathInformation",
        0x0a => "FileFsVolumeFlagsInformation",
        0x0b => "FileFsSectorSizeInformation",
        _ => return None,
    })
}

/// ` LEVEL Pattern: PATTERN` of a FIND request or response.
pub fn find(level: u8, pattern: &str) -> String {
    let l = match level {
        0x01 => "SMB2_FIND_DIRECTORY_INFO",
        0x02 => "SMB2_FIND_FULL_DIRECTORY_INFO",
        0x03 => "SMB2_FIND_BOTH_DIRECTORY_INFO",
        0x04 => "SMB2_FIND_INDEX_SPECIFIED",
        0x0c => "SMB2_FIND_NAME_INFO",
        0x25 => "SMB2_FIND_ID_BOTH_DIRECTORY_INFO",
        0x26 => "SMB2_FIND_ID_FULL_DIRECTORY_INFO",
        0x64 => "SMB2_FIND_POSIX_INFO",
        _ => return format!(" (Level:0x{level:02x}) Pattern: {pattern}"),
    };
    format!(" {l} Pattern: {pattern}")
}

/// The NBSS message type as the Info column names it.
pub fn nbss_type(ty: u8) -> String {
    match ty {
        0x00 => "Session message".to_string(),
        0x81 => "Session request".to_string(),
        0x82 => "Positive session response".to_string(),
        0x83 => "Negative session response".to_string(),
        0x84 => "Retarget session response".to_string(),
        0x85 => "Session keep-alive".to_string(),
        _ => format!("Unknown ({ty:02x})"),
    }
}

/// Text as `format_text` shows it in a column.
pub fn shown(s: &str) -> String {
    dorsal_engine::text::display(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_commands_statuses_and_ioctls() {
        assert_eq!(command(0), "Negotiate Protocol");
        assert_eq!(command(0x13), "unknown-0x13");
        assert_eq!(command(0x100), "unknown");
        assert_eq!(nt_status(0xc000_0022), "STATUS_ACCESS_DENIED");
        assert_eq!(nt_status(0xc000_0016), "STATUS_MORE_PROCESSING_REQUIRED");
        assert_eq!(nt_status(0x8000_0006), "STATUS_NO_MORE_FILES");
        assert_eq!(nt_status(0xc002_0001), "Unknown (0xC0020001)");
        assert_eq!(ioctl(0x0006_0194), " FSCTL_DFS_GET_REFERRALS");
        assert_eq!(ioctl(0x0014_01fc), " FSCTL_QUERY_NETWORK_INTERFACE_INFO");
        assert_eq!(ioctl(0x0009_0fff), " FILE_SYSTEM Function:0x03ff");
        assert_eq!(class_level(1, 0x12), " FILE_INFO/SMB2_FILE_ALL_INFO");
        assert_eq!(class_level(2, 1), " FS_INFO/FileFsVolumeInformation");
        assert_eq!(class_level(4, 0), " QUOTA_INFO/(Level:0x00)");
        assert_eq!(class_level(9, 1), " (Class:0x09)/(Level:0x01)");
        assert_eq!(
            find(0x25, "*"),
            " SMB2_FIND_ID_BOTH_DIRECTORY_INFO Pattern: *"
        );
        assert_eq!(
            break_title(18, true, u64::MAX, Some(24)),
            Some("Oplock Break Notification")
        );
        assert_eq!(break_title(18, false, 1, Some(50)), None);
        assert_eq!(nbss_type(0x85), "Session keep-alive");
    }
}
