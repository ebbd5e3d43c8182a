//! The fields of FTP and FTP-DATA, declared as packet-ftp.c's
//! `hf_register_info` arrays do (same abbreviations, types and bases).

use dorsal_engine::fields;

/// `eprt_af_vals`: the address families of RFC 2428.
pub const EPRT_AF: &[(u64, &str)] = &[(1, "IPv4"), (2, "IPv6")];

fields! {
    pub struct FtpFields {
        ftp: "ftp", "File Transfer Protocol (FTP)", Protocol, None;
        current_working_directory: "ftp.current-working-directory", "Current working directory", String, None;
        response: "ftp.response", "Response", Bool, None;
        request: "ftp.request", "Request", Bool, None;
        request_command: "ftp.request.command", "Request command", String, None;
        request_arg: "ftp.request.arg", "Request arg", String, None;
        response_code: "ftp.response.code", "Response code", U32, Dec;
        response_arg: "ftp.response.arg", "Response arg", String, None;
        pasv_ip: "ftp.passive.ip", "Passive IP address", Ipv4, None;
        pasv_port: "ftp.passive.port", "Passive port", U16, Dec;
        pasv_nat: "ftp.passive.nat", "Passive IP NAT", Bool, None;
        active_ip: "ftp.active.cip", "Active IP address", Ipv4, None;
        active_port: "ftp.active.port", "Active port", U16, Dec;
        active_nat: "ftp.active.nat", "Active IP NAT", Bool, None;
        eprt_af: "ftp.eprt.af", "Extended active address family", U8, Dec, strings EPRT_AF;
        eprt_ip: "ftp.eprt.ip", "Extended active IP address", Ipv4, None;
        eprt_ipv6: "ftp.eprt.ipv6", "Extended active IPv6 address", Ipv6, None;
        eprt_port: "ftp.eprt.port", "Extended active port", U16, Dec;
        epsv_ip: "ftp.epsv.ip", "Extended passive IPv4 address", Ipv4, None;
        epsv_ipv6: "ftp.epsv.ipv6", "Extended passive IPv6 address", Ipv6, None;
        epsv_port: "ftp.epsv.port", "Extended passive port", U16, Dec;
        response_first_frame: "ftp.command-response.first-frame-num", "Command response first frame", FrameNum, None;
        response_last_frame: "ftp.command-response.last-frame-num", "Command response last frame", FrameNum, None;
        response_duration: "ftp.command-response.duration", "Response duration", U32, Dec;
        response_bitrate: "ftp.command-response.bitrate", "Response bitrate", U32, Dec;
        response_frames: "ftp.command-response.frames", "Command response frames", U32, Dec;
        response_bytes: "ftp.command-response.bytes", "Command response bytes", U32, Dec;
        setup_frame: "ftp.setup-frame", "Setup frame", FrameNum, None;
        command_frame: "ftp.command-frame", "Command frame", FrameNum, None;
        command: "ftp.command", "Command", String, None;
        data: "ftp-data", "FTP Data", Protocol, None;
        data_setup_frame: "ftp-data.setup-frame", "Setup frame", FrameNum, None, parent "ftp";
        data_setup_method: "ftp-data.setup-method", "Setup method", String, None, parent "ftp";
        data_command: "ftp-data.command", "Command", String, None, parent "ftp";
        data_command_frame: "ftp-data.command-frame", "Command frame", FrameNum, None, parent "ftp";
        data_current_working_directory: "ftp-data.current-working-directory", "Current working directory", String, None, parent "ftp";
    }
}
