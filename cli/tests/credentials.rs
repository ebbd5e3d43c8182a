//! `--export-credentials FILE.csv` end to end, on captures built here:
//! every column of every row is checked.

mod common;

use common::{dorsal, pcap, tcp_segment, write_temp};

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];

/// A conversation: (from client?, payload) in order, sequence numbers kept
/// per direction.
fn conversation(cport: u16, sport: u16, turns: &[(bool, &[u8])]) -> Vec<Vec<u8>> {
    let (mut cseq, mut sseq) = (1u32, 1u32);
    let mut frames = Vec::new();
    for &(from_client, payload) in turns {
        let len = payload.len() as u32;
        if from_client {
            frames.push(tcp_segment(
                CLIENT, cport, SERVER, sport, cseq, sseq, payload,
            ));
            cseq += len;
        } else {
            frames.push(tcp_segment(
                SERVER, sport, CLIENT, cport, sseq, cseq, payload,
            ));
            sseq += len;
        }
    }
    frames
}

fn export(name: &str, frames: &[Vec<u8>]) -> String {
    let cap = write_temp(&format!("{name}.pcap"), &pcap(frames));
    let csv = cap.with_extension("csv");
    let out = dorsal(
        &[
            "-r",
            cap.to_str().expect("path"),
            "--export-credentials",
            csv.to_str().expect("path"),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    std::fs::read_to_string(&csv).expect("csv written")
}

const HEADER: &str = "frame,time,protocol,client,server,username,secret,accepted\r\n";

#[test]
fn ftp_user_and_pass_make_one_row_with_the_verdict() {
    // Two logins on two connections: the first refused (530), the second
    // accepted (230) after a USER retry; the frames are 1 s apart from
    // 1000.5 s (see common::pcap).
    let mut frames = conversation(
        40000,
        21,
        &[
            (false, b"220 hello\r\n"),
            (true, b"USER alice\r\n"),
            (false, b"331 password?\r\n"),
            (true, b"PASS wrong,one\r\n"),
            (false, b"530 Login incorrect.\r\n"),
        ],
    );
    frames.extend(conversation(
        40001,
        21,
        &[
            (true, b"USER nobody\r\n"),
            (true, b"USER bob\r\n"),
            (false, b"331 password?\r\n"),
            (true, b"PASS s\"ecret\r\n"),
            (false, b"230 Welcome.\r\n"),
            (true, b"PASS again\r\n"),
        ],
    ));
    let csv = export("ftp-creds", &frames);
    assert_eq!(
        csv,
        format!(
            "{HEADER}\
             4,1003.500000000,FTP,10.0.0.1:40000,10.0.0.2:21,alice,\"wrong,one\",no\r\n\
             9,1008.500000000,FTP,10.0.0.1:40001,10.0.0.2:21,bob,\"s\"\"ecret\",yes\r\n\
             11,1010.500000000,FTP,10.0.0.1:40001,10.0.0.2:21,bob,again,unknown\r\n"
        )
    );
}

#[test]
fn http_basic_credentials_pair_with_their_responses() {
    // dXNlcjpwYTpzcw== is "user:pa:ss"; Ym9iOmI= is "bob:b";
    // eDp5 is "x:y". A 100 Continue is not the final response.
    let frames = conversation(
        40002,
        80,
        &[
            (
                true,
                b"GET /a HTTP/1.1\r\nHost: h\r\nAuthorization: Basic dXNlcjpwYTpzcw==\r\n\r\n",
            ),
            (
                false,
                b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
            ),
            (
                true,
                b"GET /b HTTP/1.1\r\nHost: h\r\nAuthorization: Basic Ym9iOmI=\r\n\r\n",
            ),
            (false, b"HTTP/1.1 100 Continue\r\n\r\n"),
            (false, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
            (
                true,
                b"GET /c HTTP/1.1\r\nHost: h\r\nAuthorization: Basic eDp5\r\n\r\n",
            ),
        ],
    );
    let csv = export("http-creds", &frames);
    assert_eq!(
        csv,
        format!(
            "{HEADER}\
             1,1000.500000000,HTTP,10.0.0.1:40002,10.0.0.2:80,user,pa:ss,no\r\n\
             3,1002.500000000,HTTP,10.0.0.1:40002,10.0.0.2:80,bob,b,yes\r\n\
             6,1005.500000000,HTTP,10.0.0.1:40002,10.0.0.2:80,x,y,unknown\r\n"
        )
    );
}

#[test]
fn no_credentials_still_write_the_header() {
    let frames = conversation(40003, 21, &[(false, b"220 hello\r\n")]);
    assert_eq!(export("no-creds", &frames), HEADER);
}

#[test]
fn an_unwritable_file_is_an_error() {
    let cap = write_temp("unwritable.pcap", &pcap(&[]));
    let out = dorsal(
        &[
            "-r",
            cap.to_str().expect("path"),
            "--export-credentials",
            "/nonexistent-dir/x.csv",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn pop3_user_pass_and_apop_rows_take_the_next_indicator() {
    let mut frames = conversation(
        40010,
        110,
        &[
            (false, b"+OK POP3 ready\r\n"),
            (true, b"USER carol\r\n"),
            (false, b"+OK\r\n"),
            (true, b"PASS bad pw\r\n"),
            (false, b"-ERR denied\r\n"),
            (true, b"PASS good\r\n"),
            (false, b"+OK logged in\r\n"),
        ],
    );
    frames.extend(conversation(
        40011,
        110,
        &[(true, b"APOP dave c4c9334bac560ecc979e58001b3e22fb\r\n")],
    ));
    let csv = export("pop3-creds", &frames);
    assert_eq!(
        csv,
        format!(
            "{HEADER}\
             4,1003.500000000,POP3,10.0.0.1:40010,10.0.0.2:110,carol,bad pw,no\r\n\
             6,1005.500000000,POP3,10.0.0.1:40010,10.0.0.2:110,carol,good,yes\r\n\
             8,1007.500000000,POP3,10.0.0.1:40011,10.0.0.2:110,dave,c4c9334bac560ecc979e58001b3e22fb,unknown\r\n"
        )
    );
}

#[test]
fn imap_login_and_authenticate_plain_pair_with_their_tagged_replies() {
    // AGVtaWx5AHMzY3IzdA== is "\0emily\0s3cr3t"; AGZyZWQAeA== is "\0fred\0x".
    let frames = conversation(
        40012,
        143,
        &[
            (false, b"* OK IMAP4rev1 ready\r\n"),
            (true, b"a1 LOGIN \"emily \\\"e\\\"\" \"pa ss\"\r\n"),
            (false, b"a1 NO [AUTHENTICATIONFAILED] nope\r\n"),
            (true, b"a2 AUTHENTICATE PLAIN\r\n"),
            (false, b"+ \r\n"),
            (true, b"AGVtaWx5AHMzY3IzdA==\r\n"),
            (false, b"* CAPABILITY IMAP4rev1\r\na2 OK done\r\n"),
            (true, b"a3 authenticate plain AGZyZWQAeA==\r\n"),
            (true, b"a4 LOGIN bob pw\r\n"),
            (false, b"a4 OK\r\n"),
        ],
    );
    let csv = export("imap-creds", &frames);
    assert_eq!(
        csv,
        format!(
            "{HEADER}\
             2,1001.500000000,IMAP,10.0.0.1:40012,10.0.0.2:143,\"emily \"\"e\"\"\",pa ss,no\r\n\
             6,1005.500000000,IMAP,10.0.0.1:40012,10.0.0.2:143,emily,s3cr3t,yes\r\n\
             8,1007.500000000,IMAP,10.0.0.1:40012,10.0.0.2:143,fred,x,unknown\r\n\
             9,1008.500000000,IMAP,10.0.0.1:40012,10.0.0.2:143,bob,pw,yes\r\n"
        )
    );
}

#[test]
fn smtp_auth_login_and_plain_are_decoded() {
    // Z2FsdW50 is "galunt", cGFzcw== is "pass";
    // AHVzZXIAcHc= is "\0user\0pw".
    let mut frames = conversation(
        40014,
        25,
        &[
            (false, b"220 mail ESMTP\r\n"),
            (true, b"EHLO me\r\n"),
            (false, b"250-mail\r\n250 AUTH LOGIN PLAIN\r\n"),
            (true, b"AUTH LOGIN\r\n"),
            (false, b"334 VXNlcm5hbWU6\r\n"),
            (true, b"Z2FsdW50\r\n"),
            (false, b"334 UGFzc3dvcmQ6\r\n"),
            (true, b"cGFzcw==\r\n"),
            (false, b"235 2.7.0 Authentication successful\r\n"),
        ],
    );
    frames.extend(conversation(
        40015,
        587,
        &[
            (true, b"AUTH PLAIN AHVzZXIAcHc=\r\n"),
            (false, b"535 5.7.8 Authentication failed\r\n"),
        ],
    ));
    let csv = export("smtp-creds", &frames);
    assert_eq!(
        csv,
        format!(
            "{HEADER}\
             8,1007.500000000,SMTP,10.0.0.1:40014,10.0.0.2:25,galunt,pass,yes\r\n\
             10,1009.500000000,SMTP,10.0.0.1:40015,10.0.0.2:587,user,pw,no\r\n"
        )
    );
}

/// `-z credentials` as tshark prints it for the same kinds of logins.
#[test]
fn z_credentials_lists_pop_imap_smtp_and_http_as_tshark() {
    let mut frames = conversation(
        40020,
        110,
        &[(true, b"USER carol\r\n"), (true, b"PASS x\r\n")],
    );
    frames.extend(conversation(
        40021,
        143,
        &[(true, b"a1 LOGIN \"emily\" \"pw\"\r\n")],
    ));
    frames.extend(conversation(
        40022,
        25,
        &[
            (true, b"AUTH LOGIN\r\n"),
            (false, b"334 VXNlcm5hbWU6\r\n"),
            (true, b"Z2FsdW50\r\n"),
            (false, b"334 UGFzc3dvcmQ6\r\n"),
            (true, b"cGFzcw==\r\n"),
        ],
    ));
    frames.extend(conversation(
        40023,
        80,
        &[
            (
                true,
                b"GET / HTTP/1.1\r\nAuthorization: Basic Ym9iOmI=\r\n\r\n",
            ),
            (true, b"GET / HTTP/1.1\r\nAuthorization: Bearer abc\r\n\r\n"),
        ],
    ));
    let cap = write_temp("z-creds.pcap", &pcap(&frames));
    let out = dorsal(
        &["-r", cap.to_str().expect("path"), "-q", "-z", "credentials"],
        None,
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "===================================================================\n\
Packet     Protocol         Username         Info            \n\
------     --------         --------         --------\n\
2          POP3             carol            Username in packet 1\n\
3          IMAP             \"emily\"                          \n\
8          SMTP             Z2FsdW50         Username in packet 6\n\
9          HTTP basic auth  bob                              \n\
10         HTTP header auth n.a.                             \n\
===================================================================\n"
    );
}
