//! FTP (control channel, TCP port 21) and FTP-DATA (port 20 and the data
//! connections that PORT, PASV, EPRT and EPSV announce), after
//! packet-ftp.c of Wireshark 4.0.
//!
//! Like Wireshark 4.0, FTP does not reassemble: every segment is one PDU
//! whose first line is parsed and whose other lines are plain text.
//!
//! The two dissectors share one [`State`]: the control channel records the
//! announced data conversations (an address and port on one side, an
//! address on the other, the last port a wildcard until a TCP stream claims
//! it, as Wireshark's `NO_PORT2` conversations), and `ftp-data`, tried as a
//! `tcp.heur` heuristic and on port 20, accepts the streams that match one.
//!
//! Depends on the engine only (never on another dissector crate); reaches
//! it through [`protocol`], its plug-in.

#![forbid(unsafe_code)]

mod credentials;
pub mod fields;
pub mod parser;
mod state;

use dorsal_engine::protocol::Protocol;
use dorsal_engine::taps::credentials_csv::CredentialSource;
use std::cell::RefCell;
use std::net::Ipv4Addr;
use std::rc::Rc;

use dorsal_engine::dissect::{Address, Cx, Dissector, Dissectors, Outcome};
use dorsal_engine::fields::Registry;
use dorsal_engine::table::Value;
use dorsal_engine::taps::{ExportObject, SharedSink};

pub use credentials::FtpCredentials;
pub use fields::FtpFields;
pub use state::{Credential, State};

use parser::EprtAddr;
use state::DataConv;

pub const TCP_PORT_FTP: u16 = 21;
pub const TCP_PORT_FTPDATA: u16 = 20;

/// Declares the fields of FTP and FTP-DATA.
pub fn register_fields(reg: &mut Registry) -> FtpFields {
    FtpFields::register(reg)
}

/// Creates the dissectors and attaches them: `ftp` on `tcp.port` 21,
/// `ftp-data` on `tcp.port` 20 and as a `tcp.heur` heuristic that only
/// accepts announced data connections. With `eo`, the data of STOR and
/// RETR transfers is published as `ftp-data` export objects. Returns the
/// shared state (the credentials seen, for taps).
pub fn register_dissectors(
    f: &FtpFields,
    ds: &mut Dissectors,
    eo: Option<SharedSink>,
) -> Rc<RefCell<State>> {
    let state = Rc::new(RefCell::new(State::default()));
    let ftp = ds.register(
        "ftp",
        Rc::new(Ftp {
            f: *f,
            state: state.clone(),
        }),
    );
    ds.add("tcp.port", u32::from(TCP_PORT_FTP), ftp);
    let data = ds.register(
        "ftp-data",
        Rc::new(FtpData {
            f: *f,
            state: state.clone(),
            heuristic: false,
            eo: eo.clone(),
        }),
    );
    ds.add("tcp.port", u32::from(TCP_PORT_FTPDATA), data);
    let heur = ds.register(
        "ftp-data_tcp",
        Rc::new(FtpData {
            f: *f,
            state: state.clone(),
            heuristic: true,
            eo,
        }),
    );
    ds.add_heuristic("tcp.heur", heur);
    state
}

/// The FTP control channel.
pub struct Ftp {
    f: FtpFields,
    state: Rc<RefCell<State>>,
}

fn push_ascii(cx: &mut Cx<'_>, id: dorsal_engine::fields::FieldId, raw: &[u8]) {
    if cx.t.wants(id) {
        let mut s = Vec::with_capacity(raw.len());
        parser::ascii(&mut s, raw);
        cx.t.push_str(id, &s);
    }
}

fn v4(a: Ipv4Addr) -> Address {
    Address::V4(a.octets())
}

impl Dissector for Ftp {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.f;
        let Some(tcp) = cx.tcp else {
            return Outcome::Rejected;
        };
        let is_request = cx.dstport == TCP_PORT_FTP;
        let (linelen, _) = parser::line_end(data);
        let line = data.get(..linelen).unwrap_or(&[]);

        cx.t.add_layer("ftp");
        if let Some(c) = cx.cols() {
            c.set_protocol("FTP");
            c.set_info(if is_request {
                "Request: "
            } else {
                "Response: "
            });
            c.append_info(&dorsal_engine::text::display(line));
        }
        let entry = cx.t.push_proto(f.ftp, data);
        cx.t.set_label(entry, "File Transfer Protocol (FTP)");
        cx.t.push_bool(f.request, is_request);
        cx.t.push_bool(f.response, !is_request);

        let mut st = self.state.borrow_mut();
        if is_request {
            let (tok, arg) = parser::token(line);
            if !tok.is_empty() {
                push_ascii(cx, f.request_command, tok);
            }
            if !arg.is_empty() {
                push_ascii(cx, f.request_arg, arg);
            }
            // strncmp(line, "PORT", tokenlen): a prefix of the name matches.
            let is = |name: &[u8]| !tok.is_empty() && name.starts_with(tok);
            let number = cx.frame.number;
            let last = parser::c_str(line).to_vec();
            let mut cred = None;
            if is(b"USER") {
                let conv = st.control(tcp.stream);
                let name = line.get(tok.len().saturating_add(1)..).unwrap_or(&[]);
                if conv.username.is_none() && !name.is_empty() {
                    conv.username = Some((parser::c_str(name).to_vec(), number));
                }
            } else if is(b"PASS") && !is(b"PORT") {
                let conv = st.control(tcp.stream);
                if let Some((user, user_frame)) = conv.username.clone() {
                    cx.t.add_credential(dorsal_engine::events::Credential {
                        frame: number,
                        proto: "FTP",
                        username: parser::c_str(&user).to_vec(),
                        info: Some(format!("Username in packet: {user_frame}")),
                    });
                    cred = Some(Credential {
                        frame: number,
                        ts: cx.frame.ts,
                        protocol: "FTP",
                        username: user,
                        username_frame: user_frame,
                        secret: parser::c_str(arg).to_vec(),
                        client: (cx.src, cx.srcport),
                        server: (cx.dst, cx.dstport),
                        accepted: None,
                    });
                }
            }
            if let Some(c) = cred {
                st.add_credential(tcp.stream, c);
            }
            let conv = st.control(tcp.stream);
            if let Some(d) = conv.current_data.clone() {
                let mut d = d.borrow_mut();
                if d.command.is_none() {
                    d.command = Some(last.clone());
                    d.command_frame = number;
                }
            }
            conv.last_command = Some(last);
            if is(b"PORT") {
                if let Some((ip, port)) = parser::port_pasv(arg) {
                    cx.t.push(f.active_ip, Value::Ipv4(ip.octets()));
                    cx.t.push_u(f.active_port, port);
                    if cx.src != v4(ip) {
                        cx.t.push_bool(f.active_nat, true);
                    }
                    st.announce(
                        tcp.stream,
                        (cx.dst, TCP_PORT_FTPDATA),
                        v4(ip),
                        "PORT",
                        number,
                    );
                }
            } else if is(b"EPRT") {
                if let Some((af, addr, port)) = parser::eprt(arg) {
                    cx.t.push_u(f.eprt_af, af);
                    let a = match addr {
                        EprtAddr::V4(ip) => {
                            cx.t.push(f.eprt_ip, Value::Ipv4(ip.octets()));
                            v4(ip)
                        }
                        EprtAddr::V6(ip) => {
                            cx.t.push(f.eprt_ipv6, Value::Ipv6(ip.octets()));
                            Address::V6(ip.octets())
                        }
                    };
                    cx.t.push_u(f.eprt_port, port);
                    // As packet-ftp.c: the client's address and port, and
                    // the announced address on the other side.
                    st.announce(tcp.stream, (cx.src, port), a, "EPRT", number);
                }
            }
        } else {
            let digits = line.len() >= 3 && line.iter().take(3).all(u8::is_ascii_digit);
            let arg: &[u8] = if digits {
                let code = line
                    .iter()
                    .take(3)
                    .fold(0u32, |v, &d| v * 10 + u32::from(d - b'0'));
                cx.t.push_u(f.response_code, code);
                st.response(tcp.stream, code, cx.frame.number);
                let arg = line.get(4..).unwrap_or(&[]);
                if code == 250 && !cx.frame.visited {
                    let conv = st.control(tcp.stream);
                    if let Some(last) = conv.last_command.clone() {
                        if let Some(path) = last.strip_prefix(b"CWD ") {
                            conv.cwd_changed(path);
                        } else if last.starts_with(b"CDUP") {
                            conv.cwd_changed(b"..");
                        }
                    }
                }
                if code == 257 && line.len() >= 4 && !cx.frame.visited {
                    if let Some(dir) = parser::pwd(arg) {
                        st.control(tcp.stream).cwd = Rc::new(RefCell::new(dir));
                    }
                }
                if !arg.is_empty() {
                    push_ascii(cx, f.response_arg, arg);
                }
                if code == 227 && !arg.is_empty() {
                    if let Some((ip, port)) = parser::port_pasv(arg) {
                        cx.t.push(f.pasv_ip, Value::Ipv4(ip.octets()));
                        cx.t.push_u(f.pasv_port, port);
                        if cx.src != v4(ip) {
                            cx.t.push_bool(f.pasv_nat, true);
                        }
                        st.announce(tcp.stream, (v4(ip), port), cx.dst, "PASV", cx.frame.number);
                    }
                }
                if code == 229 && !arg.is_empty() {
                    if let Some(port) = parser::epsv(arg) {
                        match cx.src {
                            Address::V4(a) => cx.t.push(f.epsv_ip, Value::Ipv4(a)),
                            Address::V6(a) => cx.t.push(f.epsv_ipv6, Value::Ipv6(a)),
                            Address::None => {}
                        }
                        cx.t.push_u(f.epsv_port, port);
                        st.announce(tcp.stream, (cx.src, port), cx.dst, "EPASV", cx.frame.number);
                    }
                }
                arg
            } else {
                line
            };
            if !digits && !arg.is_empty() {
                push_ascii(cx, f.response_arg, arg);
            }
        }
        // A generated item at the top level of tshark's tree.
        cx.t.add_tree_item("ftp.current-working-directory");
        if cx.t.wants(f.current_working_directory) {
            let cwd = st.control(tcp.stream).cwd.borrow().clone();
            push_ascii(cx, f.current_working_directory, &cwd);
        }
        Outcome::Done(data.len())
    }
}

/// The data connections.
pub struct FtpData {
    f: FtpFields,
    state: Rc<RefCell<State>>,
    heuristic: bool,
    eo: Option<SharedSink>,
}

impl Dissector for FtpData {
    fn dissect(&self, cx: &mut Cx<'_>, data: &[u8]) -> Outcome {
        let f = &self.f;
        let Some(tcp) = cx.tcp else {
            return Outcome::Rejected;
        };
        let conv: Option<Rc<RefCell<DataConv>>> = self.state.borrow_mut().data_conv(
            tcp.stream,
            (cx.src, cx.srcport),
            (cx.dst, cx.dstport),
        );
        if self.heuristic && conv.is_none() {
            return Outcome::Rejected;
        }
        cx.t.add_layer("ftp-data");
        let reported = cx.reported;
        if let Some(c) = cx.cols() {
            c.set_protocol("FTP-DATA");
            c.set_info(&format!("FTP Data: {reported} bytes"));
            if let Some(conv) = &conv {
                let d = conv.borrow();
                c.append_info_fmt(format_args!(" ({})", d.setup_method));
                if let Some(cmd) = &d.command {
                    c.append_info_fmt(format_args!(" ({})", String::from_utf8_lossy(cmd)));
                }
            }
        }
        let entry = cx.t.push_proto(f.data, data);
        if cx.t.wants_label(entry) {
            cx.t.set_label(entry, &format!("FTP Data ({} bytes data)", data.len()));
        }
        if let Some(conv) = conv {
            let mut d = conv.borrow_mut();
            if !cx.frame.visited {
                d.frames_seen = d.frames_seen.saturating_add(1);
                d.bytes_seen = d
                    .bytes_seen
                    .saturating_add(u32::try_from(cx.reported).unwrap_or(u32::MAX));
            }
            // These generated items sit at the top level of tshark's tree.
            cx.t.add_tree_item("ftp-data.setup-frame");
            cx.t.push(f.data_setup_frame, Value::U(u64::from(d.setup_frame)));
            cx.t.add_tree_item("ftp-data.setup-method");
            cx.t.push_str(f.data_setup_method, d.setup_method.as_bytes());
            if let Some(cmd) = &d.command {
                cx.t.add_tree_item("ftp-data.command");
                push_ascii(cx, f.data_command, cmd);
                cx.t.add_tree_item("ftp-data.command-frame");
                cx.t.push(f.data_command_frame, Value::U(u64::from(d.command_frame)));
            }
            cx.t.add_tree_item("ftp-data.current-working-directory");
            if cx.t.wants(f.data_current_working_directory) {
                let cwd = d.cwd.borrow().clone();
                push_ascii(cx, f.data_current_working_directory, &cwd);
            }
            if let (Some(eo), Some(cmd)) = (&self.eo, &d.command) {
                // A truncated frame cannot be copied whole: tshark's
                // tvb_memdup throws before the tap sees it.
                if cx.reported <= data.len() {
                    publish(eo, cx.frame.number, d.command_frame, cmd, data);
                }
            }
        }
        let is_text = data
            .iter()
            .take(20)
            .all(|&c| c == b'\r' || c == b'\n' || (0x20..0x7f).contains(&c));
        if is_text {
            cx.t.add_layer("data-text-lines");
        }
        Outcome::Done(data.len())
    }
}

/// packet-ftp.c's `ftp_eo_packet`: only STOR and RETR transfers (the
/// command's first four bytes, case-sensitive) are objects; every data
/// segment answering one command is one piece of the object named after
/// the command's argument (everything past its fifth byte, else
/// `(MISSING)`), keyed by the command's frame.
fn publish(eo: &SharedSink, frame: u32, command_frame: u32, command: &[u8], data: &[u8]) {
    if command_frame == 0 || !(command.starts_with(b"STOR") || command.starts_with(b"RETR")) {
        return;
    }
    let name: &[u8] = match command.get(5..) {
        Some(n) if !n.is_empty() => n,
        _ => b"(MISSING)",
    };
    if let Ok(mut sink) = eo.try_borrow_mut() {
        sink.append(
            "ftp-data",
            u64::from(command_frame),
            &ExportObject {
                frame,
                hostname: None,
                content_type: Some(b"FTP file"),
                filename: Some(name),
                data,
            },
        );
    }
}

dorsal_engine::plugin!(register_fields);

impl Protocol for FtpFields {
    fn register_dissectors(&self, ds: &mut Dissectors, eo: Option<SharedSink>) {
        register_dissectors(self, ds, eo);
    }

    fn credential_sources(&self) -> Vec<Box<dyn CredentialSource>> {
        vec![Box::new(FtpCredentials::new(self))]
    }

    fn export_types(&self) -> &'static [&'static str] {
        &["ftp-data"]
    }
}

#[cfg(test)]
mod tests;
