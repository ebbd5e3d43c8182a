//! Dissector tests over hand-built control and data segments.

use super::*;
use dorsal_engine::dissect::{Frame, Notes, TcpPayloadInfo};
use dorsal_engine::table::FieldTable;

const CLIENT: Address = Address::V4([192, 168, 0, 13]);
const SERVER: Address = Address::V4([192, 168, 0, 1]);

struct Rig {
    reg: Registry,
    f: FtpFields,
    ds: Dissectors,
    state: Rc<RefCell<State>>,
    notes: Notes,
    number: u32,
}

/// One segment: who sends it, on which stream, with which ports.
struct Seg<'a> {
    from_client: bool,
    stream: u32,
    cport: u16,
    sport: u16,
    payload: &'a [u8],
}

fn ctl(from_client: bool, payload: &[u8]) -> Seg<'_> {
    Seg {
        from_client,
        stream: 0,
        cport: 40000,
        sport: 21,
        payload,
    }
}

impl Rig {
    fn new() -> Rig {
        let mut reg = Registry::new();
        let f = register_fields(&mut reg);
        let mut ds = Dissectors::new();
        let state = register_dissectors(&f, &mut ds, None);
        Rig {
            reg,
            f,
            ds,
            state,
            notes: Notes::default(),
            number: 0,
        }
    }

    /// Dissects a segment as TCP would hand it on (port table, lower port
    /// first, then the heuristics) and returns the field table.
    fn run(&mut self, s: Seg<'_>) -> FieldTable {
        self.number += 1;
        let frame = Frame {
            number: self.number,
            ..Frame::default()
        };
        let mut t = FieldTable::new();
        let mut cx = Cx::new(&frame, &mut t, &self.reg, &mut self.ds, &mut self.notes);
        let (src, sp, dst, dp) = if s.from_client {
            (CLIENT, s.cport, SERVER, s.sport)
        } else {
            (SERVER, s.sport, CLIENT, s.cport)
        };
        cx.src = src;
        cx.dst = dst;
        cx.srcport = sp;
        cx.dstport = dp;
        cx.tcp = Some(TcpPayloadInfo {
            stream: s.stream,
            ..TcpPayloadInfo::default()
        });
        let table = cx.table("tcp.port");
        let mut done = false;
        for port in [sp.min(dp), sp.max(dp)] {
            if let Some(o) = cx.call_table(table, u32::from(port), s.payload) {
                if o != Outcome::Rejected {
                    done = true;
                    break;
                }
            }
        }
        if !done {
            let heur = cx.table("tcp.heur");
            let _ = cx.try_heuristics(heur, s.payload);
        }
        t
    }
}

fn strs(t: &FieldTable, id: dorsal_engine::fields::FieldId) -> Vec<String> {
    t.values(id)
        .filter_map(|v| match v {
            Value::Str(s) => Some(String::from_utf8_lossy(t.bytes(*s)).into_owned()),
            _ => None,
        })
        .collect()
}

fn uint(t: &FieldTable, id: dorsal_engine::fields::FieldId) -> Option<u64> {
    t.values(id).find_map(|v| match v {
        Value::U(u) => Some(*u),
        _ => None,
    })
}

#[test]
fn requests_and_replies() {
    let mut r = Rig::new();
    let t = r.run(ctl(false, b"220 (vsFTPd 2.3.5)\r\n"));
    assert_eq!(t.first(r.f.request), Some(&Value::Bool(false)));
    assert_eq!(t.first(r.f.response), Some(&Value::Bool(true)));
    assert_eq!(uint(&t, r.f.response_code), Some(220));
    assert_eq!(strs(&t, r.f.response_arg), ["(vsFTPd 2.3.5)"]);
    assert_eq!(strs(&t, r.f.current_working_directory), [""]);
    assert_eq!(t.layers(), ["ftp"]);

    let t = r.run(ctl(true, b"RETR   my file.txt\r\n"));
    assert_eq!(t.first(r.f.request), Some(&Value::Bool(true)));
    assert_eq!(strs(&t, r.f.request_command), ["RETR"]);
    assert_eq!(strs(&t, r.f.request_arg), ["my file.txt"]);

    let t = r.run(ctl(true, b"QUIT\r\n"));
    assert_eq!(strs(&t, r.f.request_command), ["QUIT"]);
    assert!(strs(&t, r.f.request_arg).is_empty());
}

#[test]
fn multi_line_replies_use_the_first_line_only() {
    let mut r = Rig::new();
    let t = r.run(ctl(false, b"211-Features:\r\n MDTM\r\n211 End\r\n"));
    assert_eq!(uint(&t, r.f.response_code), Some(211));
    assert_eq!(strs(&t, r.f.response_arg), ["Features:"]);
    // A continuation line on its own: the whole line is the argument.
    let t = r.run(ctl(false, b" UTF8\r\n"));
    assert_eq!(uint(&t, r.f.response_code), None);
    assert_eq!(strs(&t, r.f.response_arg), [" UTF8"]);
    // Short and odd lines.
    let t = r.run(ctl(false, b"22"));
    assert_eq!(strs(&t, r.f.response_arg), ["22"]);
    let t = r.run(ctl(false, b"200"));
    assert_eq!(uint(&t, r.f.response_code), Some(200));
    assert!(strs(&t, r.f.response_arg).is_empty());
    let t = r.run(ctl(false, b"200 caf\xc3\xa9\0hidden"));
    assert_eq!(strs(&t, r.f.response_arg), ["caf\u{fffd}\u{fffd}"]);
}

#[test]
fn working_directory_follows_cwd_cdup_and_pwd() {
    let mut r = Rig::new();
    r.run(ctl(true, b"CWD pub\r\n"));
    let t = r.run(ctl(false, b"250 ok\r\n"));
    assert_eq!(strs(&t, r.f.current_working_directory), ["pub"]);
    r.run(ctl(true, b"PWD\r\n"));
    let t = r.run(ctl(false, b"257 \"/home/a\"\"b\" is current\r\n"));
    assert_eq!(strs(&t, r.f.current_working_directory), ["/home/a\"b"]);
    r.run(ctl(true, b"CWD x/./y/..\r\n"));
    let t = r.run(ctl(false, b"250 ok\r\n"));
    assert_eq!(strs(&t, r.f.current_working_directory), ["/home/a\"b/x"]);
    r.run(ctl(true, b"CDUP\r\n"));
    let t = r.run(ctl(false, b"250 ok\r\n"));
    assert_eq!(strs(&t, r.f.current_working_directory), ["/home/a\"b"]);
    r.run(ctl(true, b"CWD /srv\r\n"));
    let t = r.run(ctl(false, b"550 no\r\n"));
    assert_eq!(strs(&t, r.f.current_working_directory), ["/home/a\"b"]);
    let t = r.run(ctl(false, b"250 ok\r\n"));
    assert_eq!(strs(&t, r.f.current_working_directory), ["/srv"]);
    // A malformed PWD reply changes nothing.
    let t = r.run(ctl(false, b"257 /nowhere\r\n"));
    assert_eq!(strs(&t, r.f.current_working_directory), ["/srv"]);
}

#[test]
fn passive_data_connection_is_recognised() {
    let mut r = Rig::new();
    r.run(ctl(true, b"CWD /pub\r\n"));
    r.run(ctl(false, b"250 ok\r\n"));
    r.run(ctl(true, b"PASV\r\n"));
    let t = r.run(ctl(
        false,
        b"227 Entering Passive Mode (192,168,0,1,19,137).\r\n",
    ));
    assert_eq!(t.first(r.f.pasv_ip), Some(&Value::Ipv4([192, 168, 0, 1])));
    assert_eq!(uint(&t, r.f.pasv_port), Some(5001));
    assert!(!t.has(r.f.pasv_nat));
    let setup = r.number;
    r.run(ctl(true, b"RETR a.txt\r\n"));
    let cmd = r.number;
    let data = Seg {
        from_client: false,
        stream: 1,
        cport: 50000,
        sport: 5001,
        payload: b"hello\r\n",
    };
    let t = r.run(data);
    assert_eq!(t.layers(), ["ftp-data", "data-text-lines"]);
    assert_eq!(strs(&t, r.f.data_command), ["RETR a.txt"]);
    assert_eq!(uint(&t, r.f.data_command_frame), Some(u64::from(cmd)));
    assert_eq!(uint(&t, r.f.data_setup_frame), Some(u64::from(setup)));
    assert_eq!(strs(&t, r.f.data_setup_method), ["PASV"]);
    assert_eq!(strs(&t, r.f.data_current_working_directory), ["/pub"]);
    // Binary data: no text lines. The stream stays claimed.
    let t = r.run(Seg {
        from_client: true,
        stream: 1,
        cport: 50000,
        sport: 5001,
        payload: b"\x00\x01",
    });
    assert_eq!(t.layers(), ["ftp-data"]);
    // A second connection to the same port was not announced again.
    let t = r.run(Seg {
        from_client: false,
        stream: 2,
        cport: 50001,
        sport: 5001,
        payload: b"x",
    });
    assert!(t.layers().is_empty());
}

#[test]
fn active_and_extended_modes() {
    let mut r = Rig::new();
    let t = r.run(ctl(true, b"PORT 10,0,0,9,234,10\r\n"));
    assert_eq!(t.first(r.f.active_ip), Some(&Value::Ipv4([10, 0, 0, 9])));
    assert_eq!(uint(&t, r.f.active_port), Some(59914));
    assert_eq!(t.first(r.f.active_nat), Some(&Value::Bool(true)));
    let t = r.run(ctl(true, b"PORT 192,168,0,13,234,10\r\n"));
    assert!(!t.has(r.f.active_nat));
    r.run(ctl(true, b"LIST\r\n"));
    // Port 20 is ftp-data by port; this connection comes from the server.
    let t = r.run(Seg {
        from_client: false,
        stream: 1,
        cport: 59914,
        sport: 20,
        payload: b"drwx\r\n",
    });
    assert_eq!(strs(&t, r.f.data_command), ["LIST"]);
    assert_eq!(strs(&t, r.f.data_setup_method), ["PORT"]);

    let t = r.run(ctl(true, b"EPRT |2|::1|6275|\r\n"));
    assert_eq!(uint(&t, r.f.eprt_af), Some(2));
    assert_eq!(
        t.first(r.f.eprt_ipv6),
        Some(&Value::Ipv6(std::net::Ipv6Addr::LOCALHOST.octets()))
    );
    assert_eq!(uint(&t, r.f.eprt_port), Some(6275));
    let t = r.run(ctl(true, b"EPRT |9|x|1|\r\n"));
    assert!(!t.has(r.f.eprt_af));

    let t = r.run(ctl(
        false,
        b"229 Entering Extended Passive Mode (|||6446|)\r\n",
    ));
    assert_eq!(t.first(r.f.epsv_ip), Some(&Value::Ipv4([192, 168, 0, 1])));
    assert_eq!(uint(&t, r.f.epsv_port), Some(6446));
    r.run(ctl(true, b"STOR up.bin\r\n"));
    let t = r.run(Seg {
        from_client: true,
        stream: 3,
        cport: 50002,
        sport: 6446,
        payload: b"\xff\xfe",
    });
    assert_eq!(strs(&t, r.f.data_command), ["STOR up.bin"]);
    assert_eq!(strs(&t, r.f.data_setup_method), ["EPASV"]);
}

#[test]
fn unannounced_streams_are_not_ftp_data() {
    let mut r = Rig::new();
    let t = r.run(Seg {
        from_client: true,
        stream: 7,
        cport: 50000,
        sport: 8000,
        payload: b"GET / HTTP/1.1\r\n",
    });
    assert!(t.layers().is_empty());
}

#[test]
fn credentials_pair_user_and_pass_with_the_verdict() {
    let mut r = Rig::new();
    r.run(ctl(true, b"USER alice\r\n"));
    r.run(ctl(true, b"USER mallory\r\n"));
    r.run(ctl(false, b"331 password\r\n"));
    r.run(ctl(true, b"PASS s3cret\r\n"));
    r.run(ctl(false, b"530 no\r\n"));
    r.run(ctl(true, b"PASS better\r\n"));
    r.run(ctl(false, b"230 ok\r\n"));
    let st = r.state.borrow();
    let c: Vec<_> = st
        .credentials
        .iter()
        .map(|c| {
            (
                c.frame,
                c.username.clone(),
                c.secret.clone(),
                c.username_frame,
                c.accepted,
            )
        })
        .collect();
    assert_eq!(
        c,
        [
            (4, b"alice".to_vec(), b"s3cret".to_vec(), 1, Some(false)),
            (6, b"alice".to_vec(), b"better".to_vec(), 1, Some(true)),
        ]
    );
    assert_eq!(st.credentials[0].client, (CLIENT, 40000));
    assert_eq!(st.credentials[0].server, (SERVER, 21));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut r = Rig::new();
    let mut x: u32 = 12345;
    for i in 0..3000u32 {
        let len = (i % 97) as usize;
        let mut buf = Vec::with_capacity(len);
        for _ in 0..len {
            x = x.wrapping_mul(1103515245).wrapping_add(12345);
            let b = (x >> 16) as u8;
            // Bias towards the interesting characters.
            let pick = b"0123456789,|()\"/. \r\nPORTEPRTPASVCWD227229257250";
            buf.push(if b & 1 == 0 {
                pick[(b as usize >> 1) % pick.len()]
            } else {
                b
            });
        }
        let prefix: &[u8] = match i % 6 {
            0 => b"227 ",
            1 => b"229 ",
            2 => b"257 ",
            3 => b"PORT ",
            4 => b"EPRT ",
            _ => b"CWD ",
        };
        let mut p = prefix.to_vec();
        p.extend_from_slice(&buf);
        r.run(ctl(i % 2 == 0, &p));
        r.run(ctl(i % 2 == 1, b"250 ok\r\n"));
        r.run(Seg {
            from_client: false,
            stream: i % 5 + 1,
            cport: (i % 65535) as u16,
            sport: (x % 65535) as u16,
            payload: &buf,
        });
    }
}
