//! The fields of POP, IMAP and SMTP this crate fills, declared with the
//! abbreviations, types and bases of packet-pop.c, packet-imap.c and
//! packet-smtp.c. Only the fields the command parsers produce are declared.

use dorsal_engine::fields;

fields! {
    pub struct MailFields {
        pop: "pop", "Post Office Protocol", Protocol, None;
        pop_response: "pop.response", "Response", String, None;
        pop_response_indicator: "pop.response.indicator", "Response indicator", String, None;
        pop_response_description: "pop.response.description", "Response description", String, None;
        pop_response_data: "pop.response.data", "Data", String, None;
        pop_request: "pop.request", "Request", String, None;
        pop_request_command: "pop.request.command", "Request command", String, None;
        pop_request_parameter: "pop.request.parameter", "Request parameter", String, None;
        pop_request_data: "pop.request.data", "Data", String, None;
        imap: "imap", "Internet Message Access Protocol", Protocol, None;
        imap_isrequest: "imap.isrequest", "Request", Bool, None;
        imap_line: "imap.line", "Line", StringZ, None;
        imap_request: "imap.request", "Request", StringZ, None;
        imap_response: "imap.response", "Response", StringZ, None;
        imap_request_tag: "imap.request_tag", "Request Tag", StringZ, None;
        imap_response_tag: "imap.response_tag", "Response Tag", StringZ, None;
        imap_request_command: "imap.request.command", "Request Command", StringZ, None;
        imap_response_status: "imap.response.status", "Response Status", StringZ, None;
        imap_tag: "imap.tag", "Tag", StringZ, None;
        imap_command: "imap.command", "Command", StringZ, None;
        imap_request_uid: "imap.request.command.uid", "Request isUID", Bool, None;
        imap_request_username: "imap.request.username", "Request Username", StringZ, None;
        imap_request_password: "imap.request.password", "Request Password", StringZ, None;
        imap_response_command: "imap.response.command", "Response Command", StringZ, None;
        smtp: "smtp", "Simple Mail Transfer Protocol", Protocol, None;
        smtp_req: "smtp.req", "Request", Bool, None;
        smtp_rsp: "smtp.rsp", "Response", Bool, None;
        smtp_command_line: "smtp.command_line", "Command Line", String, None;
        smtp_req_command: "smtp.req.command", "Command", String, None;
        smtp_req_parameter: "smtp.req.parameter", "Request parameter", String, None;
        smtp_response: "smtp.response", "Response", String, None;
        smtp_response_code: "smtp.response.code", "Response code", U32, Dec;
        smtp_rsp_parameter: "smtp.rsp.parameter", "Response parameter", String, None;
        smtp_username: "smtp.auth.username", "Username", String, None;
        smtp_password: "smtp.auth.password", "Password", String, None;
        smtp_username_password: "smtp.auth.username_password", "Username/Password", String, None;
    }
}
