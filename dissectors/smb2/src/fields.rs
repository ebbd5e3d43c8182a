//! Fields of NBSS, SMB2, GSS-API, SPNEGO and NTLMSSP, declared with the
//! abbreviations, types and bases of packet-nbt.c, packet-smb2.c,
//! packet-gssapi.c, packet-spnego.c and packet-ntlmssp.c (tshark -G fields).
//!
//! `smb2.end_of_file` is deliberately absent: tshark 4.0.17 has no such field.

use dorsal_engine::fields;

fields! {
    pub struct Smb2Fields {
        nbss: "nbss", "NetBIOS Session Service", Protocol, None;
        nbss_type: "nbss.type", "Message Type", U8, Hex;
        nbss_flags: "nbss.flags", "Flags", U8, Hex;
        nbss_flags_e: "nbss.flags.e", "Extend", Bool, None, mask 0x1;
        nbss_length: "nbss.length", "Length", U24, Dec;
        nbss_continuation: "nbss.continuation_data", "Continuation data", Bytes, None;

        smb2: "smb2", "SMB2 (Server Message Block Protocol version 2)", Protocol, None;
        protocol_id: "smb2.protocol_id", "ProtocolId", U32, Hex;
        header_len: "smb2.header_len", "Header Length", U16, Dec;
        credit_charge: "smb2.credit.charge", "Credit Charge", U16, Dec;
        nt_status: "smb2.nt_status", "NT Status", U32, Hex;
        channel_sequence: "smb2.channel_sequence", "Channel Sequence", U16, Dec;
        reserved: "smb2.reserved", "Reserved", Bytes, None;
        cmd: "smb2.cmd", "Command", U16, Dec;
        credits_requested: "smb2.credits.requested", "Credits requested", U16, Dec;
        credits_granted: "smb2.credits.granted", "Credits granted", U16, Dec;
        flags: "smb2.flags", "Flags", U32, Hex;
        flags_response: "smb2.flags.response", "Response", Bool, None, mask 0x1;
        flags_async: "smb2.flags.async", "Async command", Bool, None, mask 0x2;
        flags_chained: "smb2.flags.chained", "Chained", Bool, None, mask 0x4;
        flags_signature: "smb2.flags.signature", "Signing", Bool, None, mask 0x8;
        flags_priority: "smb2.flags.priority_mask", "Priority", Bool, None, mask 0x70;
        flags_dfs: "smb2.flags.dfs", "DFS operation", Bool, None, mask 0x10000000;
        flags_replay: "smb2.flags.replay", "Replay operation", Bool, None, mask 0x20000000;
        chain_offset: "smb2.chain_offset", "Chain Offset", U32, Hex;
        msg_id: "smb2.msg_id", "Message ID", U64, Dec;
        aid: "smb2.aid", "Async Id", U64, Hex;
        pid: "smb2.pid", "Process Id", U32, Hex;
        tid: "smb2.tid", "Tree Id", U32, Hex;
        tree: "smb2.tree", "Tree", String, None;
        share_type: "smb2.share_type", "Share Type", U8, Hex;
        tcon_frame: "smb2.tcon_frame", "Connected in Frame", U32, Dec;
        sesid: "smb2.sesid", "Session Id", U64, Hex;
        signature: "smb2.signature", "Signature", Bytes, None;
        response_in: "smb2.response_in", "Response in", FrameNum, None;
        response_to: "smb2.response_to", "Response to", FrameNum, None;
        time: "smb2.time", "Time from request", RelTime, None;
        buffer_code: "smb2.buffer_code", "StructureSize", U16, Hex;
        buffer_code_len: "smb2.buffer_code.length", "Fixed Part Length", U16, Dec, mask 0xfffe;
        buffer_code_dyn: "smb2.buffer_code.dynamic", "Dynamic Part", Bool, None, mask 0x1;
        dialect: "smb2.dialect", "Dialect", U16, Hex;
        security_blob: "smb2.security_blob", "Security Blob", Bytes, None;
        filename: "smb2.filename", "Filename", String, None;
        fid: "smb2.fid", "File Id", Guid, None;
        create_disposition: "smb2.create.disposition", "Disposition", U32, Dec;
        read_length: "smb2.read_length", "Read Length", U32, Dec;
        write_length: "smb2.write_length", "Write Length", U32, Dec;
        file_offset: "smb2.file_offset", "File Offset", U64, Dec;
        class: "smb2.class", "Class", U8, Hex;
        infolevel: "smb2.infolevel", "InfoLevel", U8, Hex;
        find_pattern: "smb2.find.pattern", "Search Pattern", String, None;
        ioctl_function: "smb2.ioctl.function", "Function", U32, Hex;

        gssapi: "gss-api", "GSS-API Generic Security Service Application Program Interface", Protocol, None;
        gssapi_oid: "gss-api.OID", "OID", String, None;
        spnego: "spnego", "Simple Protected Negotiation", Protocol, None;

        ntlmssp: "ntlmssp", "NTLM Secure Service Provider", Protocol, None;
        ntlmssp_identifier: "ntlmssp.identifier", "NTLMSSP identifier", String, None;
        ntlmssp_messagetype: "ntlmssp.messagetype", "NTLM Message Type", U32, Hex;
        ntlmssp_negotiateflags: "ntlmssp.negotiateflags", "Negotiate Flags", U32, Hex;
        ntlmssp_neg_domain: "ntlmssp.negotiate.domain", "Calling workstation domain", String, None;
        ntlmssp_neg_workstation: "ntlmssp.negotiate.callingworkstation", "Calling workstation name", String, None;
        ntlmssp_serverchallenge: "ntlmssp.ntlmserverchallenge", "NTLM Server Challenge", Bytes, None;
        ntlmssp_reserved: "ntlmssp.reserved", "Reserved", Bytes, None;
        ntlmssp_target_name: "ntlmssp.challenge.target_name", "Target Name", String, None;
        ntlmssp_auth_domain: "ntlmssp.auth.domain", "Domain name", String, None;
        ntlmssp_auth_username: "ntlmssp.auth.username", "User name", String, None;
        ntlmssp_auth_hostname: "ntlmssp.auth.hostname", "Host name", String, None;
        ntlmssp_auth_lmresponse: "ntlmssp.auth.lmresponse", "Lan Manager Response", Bytes, None;
        ntlmssp_auth_ntresponse: "ntlmssp.auth.ntresponse", "NTLM Response", Bytes, None;
        ntlmssp_auth_sesskey: "ntlmssp.auth.sesskey", "Session Key", Bytes, None;
        ntlmssp_v2_response: "ntlmssp.ntlmv2_response", "NTLMv2 Response", Bytes, None;
        ntlmssp_v2_ntproofstr: "ntlmssp.ntlmv2_response.ntproofstr", "NTProofStr", Bytes, None;
        ntlmssp_v2_rversion: "ntlmssp.ntlmv2_response.rversion", "Response Version", U8, Dec;
        ntlmssp_v2_hirversion: "ntlmssp.ntlmv2_response.hirversion", "Hi Response Version", U8, Dec;
        ntlmssp_v2_chal: "ntlmssp.ntlmv2_response.chal", "NTLMv2 Client Challenge", Bytes, None;
        ntlmssp_mic: "ntlmssp.authenticate.mic", "MIC", Bytes, None;

        smb: "smb", "SMB (Server Message Block Protocol)", Protocol, None, short "SMB";
        smb_server_component: "smb.server_component", "Server Component", U32, Hex;
        smb_cmd: "smb.cmd", "SMB Command", U8, Hex;
        smb_nt_status: "smb.nt_status", "NT Status", U32, Hex;
        smb_error_class: "smb.error_class", "Error Class", U8, Hex;
        smb_reserved: "smb.reserved", "Reserved", Bytes, None;
        smb_error_code: "smb.error_code", "Error Code", U16, Hex;
        smb_flags: "smb.flags", "Flags", U8, Hex;
        smb_flags_response: "smb.flags.response", "Request/Response", Bool, None, mask 0x80;
        smb_flags_notify: "smb.flags.notify", "Notify", Bool, None, mask 0x40;
        smb_flags_oplock: "smb.flags.oplock", "Oplocks", Bool, None, mask 0x20;
        smb_flags_canon: "smb.flags.canon", "Canonicalized Pathnames", Bool, None, mask 0x10;
        smb_flags_caseless: "smb.flags.caseless", "Case Sensitivity", Bool, None, mask 0x08;
        smb_flags_receive_buffer: "smb.flags.receive_buffer", "Receive Buffer Posted", Bool, None, mask 0x02;
        smb_flags_lock: "smb.flags.lock", "Lock and Read", Bool, None, mask 0x01;
        smb_flags2: "smb.flags2", "Flags2", U16, Hex;
        smb_flags2_string: "smb.flags2.string", "Unicode Strings", Bool, None, mask 0x8000;
        smb_flags2_nt_error: "smb.flags2.nt_error", "Error Code Type", Bool, None, mask 0x4000;
        smb_flags2_roe: "smb.flags2.roe", "Execute-only Reads", Bool, None, mask 0x2000;
        smb_flags2_dfs: "smb.flags2.dfs", "Dfs", Bool, None, mask 0x1000;
        smb_flags2_esn: "smb.flags2.esn", "Extended Security Negotiation", Bool, None, mask 0x0800;
        smb_flags2_reparse_path: "smb.flags2.reparse_path", "Reparse Path", Bool, None, mask 0x0400;
        smb_flags2_long_names_used: "smb.flags2.long_names_used", "Long Names Used", Bool, None, mask 0x0040;
        smb_flags2_sec_sig_required: "smb.flags2.sec_sig_required", "Security Signatures Required", Bool, None, mask 0x0010;
        smb_flags2_compressed: "smb.flags2.compressed", "Compressed", Bool, None, mask 0x0008;
        smb_flags2_sec_sig: "smb.flags2.sec_sig", "Security Signatures", Bool, None, mask 0x0004;
        smb_flags2_ea: "smb.flags2.ea", "Extended Attributes", Bool, None, mask 0x0002;
        smb_flags2_long_names_allowed: "smb.flags2.long_names_allowed", "Long Names Allowed", Bool, None, mask 0x0001;
        smb_pid_high: "smb.pid.high", "Process ID High", U16, Dec;
        smb_signature: "smb.signature", "Signature", Bytes, None;
        smb_tid: "smb.tid", "Tree ID", U16, Dec;
        smb_pid: "smb.pid", "Process ID", U16, Dec;
        smb_uid: "smb.uid", "User ID", U16, Dec;
        smb_mid: "smb.mid", "Multiplex ID", U16, Dec;
        smb_wct: "smb.wct", "Word Count (WCT)", U8, Dec;
        smb_tpc: "smb.tpc", "Total Parameter Count", U16, Dec;
        smb_tdc: "smb.tdc", "Total Data Count", U16, Dec;
        smb_mpc: "smb.mpc", "Max Parameter Count", U16, Dec;
        smb_mdc: "smb.mdc", "Max Data Count", U16, Dec;
        smb_msc: "smb.msc", "Max Setup Count", U8, Dec;
        smb_transaction_flags: "smb.transaction.flags", "Flags", U16, Hex;
        smb_transaction_flags_owt: "smb.transaction.flags.owt", "One Way Transaction", Bool, None, mask 0x0002;
        smb_transaction_flags_dtid: "smb.transaction.flags.dtid", "Disconnect TID", Bool, None, mask 0x0001;
        smb_timeout: "smb.timeout", "Timeout", U32, Dec;
        smb_pc: "smb.pc", "Parameter Count", U16, Dec;
        smb_po: "smb.po", "Parameter Offset", U16, Dec;
        smb_dc: "smb.dc", "Data Count", U16, Dec;
        smb_data_offset: "smb.data_offset", "Data Offset", U16, Dec;
        smb_sc: "smb.sc", "Setup Count", U8, Dec;
        smb_setup_word: "smb.trans_data.setup_word", "Setup Word", U16, Hex;
        smb_bcc: "smb.bcc", "Byte Count (BCC)", U16, Dec;
        smb_trans_name: "smb.trans_name", "Transaction Name", String, None;
        smb_trans_data: "smb.trans_data", "Data", Bytes, None;

        mailslot: "mailslot", "SMB MailSlot Protocol", Protocol, None, short "SMB Mailslot";
        mailslot_opcode: "mailslot.opcode", "Opcode", U16, Dec;
        mailslot_priority: "mailslot.priority", "Priority", U16, Dec;
        mailslot_class: "mailslot.class", "Class", U16, Dec;
        mailslot_size: "mailslot.size", "Size", U16, Dec;
        mailslot_name: "mailslot.name", "Mailslot Name", String, None;

        smb_netlogon: "smb_netlogon", "Microsoft Windows Logon Protocol (Old)", Protocol, None, short "SMB_NETLOGON";
        smb_netlogon_command: "smb_netlogon.command", "Command", U8, Hex;

        browser: "browser", "Microsoft Windows Browser Protocol", Protocol, None, short "BROWSER";
        browser_command: "browser.command", "Command", U8, Hex;
        browser_update_count: "browser.update_count", "Update Count", U8, Dec;
        browser_period: "browser.period", "Update Periodicity", U32, Dec;
        browser_server: "browser.server", "Server Name", String, None;
        browser_windows_version: "browser.windows_version", "Windows version", String, None;
        browser_os_major: "browser.os_major", "OS Major Version", U8, Dec;
        browser_os_minor: "browser.os_minor", "OS Minor Version", U8, Dec;
        browser_server_type: "browser.server_type", "Server Type", U32, Hex;
        browser_proto_major: "browser.proto_major", "Browser Protocol Major Version", U8, Dec;
        browser_proto_minor: "browser.proto_minor", "Browser Protocol Minor Version", U8, Dec;
        browser_sig: "browser.sig", "Signature", U16, Hex;
        browser_mysterious_field: "browser.mysterious_field", "Mysterious Field", U32, Hex;
        browser_comment: "browser.comment", "Host Comment", StringZ, None;
        browser_mb_server: "browser.mb_server", "Master Browser Server Name", String, None;
        browser_unused: "browser.unused", "Unused flags", U8, Hex;
        browser_response_computer_name: "browser.response_computer_name", "Response Computer Name", StringZ, None;
        browser_election_version: "browser.election.version", "Election Version", U8, Dec;
        browser_election_criteria: "browser.election.criteria", "Election Criteria", U32, Hex;
        browser_election_desire: "browser.election.desire", "Election Desire", U8, Hex;
        browser_election_os: "browser.election.os", "Election OS", U8, Hex;
        browser_uptime: "browser.uptime", "Uptime", U32, Dec;
        browser_backup_count: "browser.backup.count", "Backup List Requested Count", U8, Dec;
        browser_backup_token: "browser.backup.token", "Backup Request Token", U32, Dec;
        browser_backup_server: "browser.backup.server", "Backup Server", String, None;
        browser_browser_to_promote: "browser.browser_to_promote", "Browser to Promote", StringZ, None;
        browser_reset_cmd: "browser.reset_cmd", "ResetBrowserState Command", U8, Hex;
        browser_reset_cmd_demote: "browser.reset_cmd.demote", "Demote LMB", Bool, None, mask 0x01;
        browser_reset_cmd_flush: "browser.reset_cmd.flush", "Flush Browse List", Bool, None, mask 0x02;
        browser_reset_cmd_stop_lmb: "browser.reset_cmd.stop_lmb", "Stop Being LMB", Bool, None, mask 0x04;
    }
}
