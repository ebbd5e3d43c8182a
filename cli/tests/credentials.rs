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
