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
    }
}
