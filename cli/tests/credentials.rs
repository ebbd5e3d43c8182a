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

// --- NTLM over SMB2: hashcat lines -------------------------------------

/// MD4 (RFC 1320), for the NT hash of a known password.
fn md4(msg: &[u8]) -> [u8; 16] {
    let mut m = msg.to_vec();
    let bits = (msg.len() as u64).wrapping_mul(8);
    m.push(0x80);
    while m.len() % 64 != 56 {
        m.push(0);
    }
    m.extend_from_slice(&bits.to_le_bytes());
    let mut s = [0x6745_2301u32, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in m.chunks_exact(64) {
        let x: Vec<u32> = block
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes(w.try_into().expect("4 bytes")))
            .collect();
        let [mut a, mut b, mut c, mut d] = s;
        let f = |x: u32, y: u32, z: u32| (x & y) | (!x & z);
        let g = |x: u32, y: u32, z: u32| (x & y) | (x & z) | (y & z);
        let h = |x: u32, y: u32, z: u32| x ^ y ^ z;
        let w = |i: usize| x.get(i).copied().expect("word");
        for i in [0, 4, 8, 12] {
            a = a.wrapping_add(f(b, c, d)).wrapping_add(w(i)).rotate_left(3);
            d = d
                .wrapping_add(f(a, b, c))
                .wrapping_add(w(i + 1))
                .rotate_left(7);
            c = c
                .wrapping_add(f(d, a, b))
                .wrapping_add(w(i + 2))
                .rotate_left(11);
            b = b
                .wrapping_add(f(c, d, a))
                .wrapping_add(w(i + 3))
                .rotate_left(19);
        }
        let k2 = 0x5a82_7999u32;
        for i in 0..4 {
            a = a
                .wrapping_add(g(b, c, d))
                .wrapping_add(w(i))
                .wrapping_add(k2)
                .rotate_left(3);
            d = d
                .wrapping_add(g(a, b, c))
                .wrapping_add(w(i + 4))
                .wrapping_add(k2)
                .rotate_left(5);
            c = c
                .wrapping_add(g(d, a, b))
                .wrapping_add(w(i + 8))
                .wrapping_add(k2)
                .rotate_left(9);
            b = b
                .wrapping_add(g(c, d, a))
                .wrapping_add(w(i + 12))
                .wrapping_add(k2)
                .rotate_left(13);
        }
        let k3 = 0x6ed9_eba1u32;
        for i in [0, 2, 1, 3] {
            a = a
                .wrapping_add(h(b, c, d))
                .wrapping_add(w(i))
                .wrapping_add(k3)
                .rotate_left(3);
            d = d
                .wrapping_add(h(a, b, c))
                .wrapping_add(w(i + 8))
                .wrapping_add(k3)
                .rotate_left(9);
            c = c
                .wrapping_add(h(d, a, b))
                .wrapping_add(w(i + 4))
                .wrapping_add(k3)
                .rotate_left(11);
            b = b
                .wrapping_add(h(c, d, a))
                .wrapping_add(w(i + 12))
                .wrapping_add(k3)
                .rotate_left(15);
        }
        s = [
            s[0].wrapping_add(a),
            s[1].wrapping_add(b),
            s[2].wrapping_add(c),
            s[3].wrapping_add(d),
        ];
    }
    let mut out = [0u8; 16];
    for (o, v) in out.chunks_exact_mut(4).zip(s) {
        o.copy_from_slice(&v.to_le_bytes());
    }
    out
}

/// HMAC-MD5 (RFC 2104) with a key of at most 64 bytes.
fn hmac_md5(key: &[u8], data: &[u8]) -> [u8; 16] {
    use md5::{Digest, Md5};
    let mut k = [0u8; 64];
    k.iter_mut().zip(key).for_each(|(d, s)| *d = *s);
    let mut inner = Md5::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = Md5::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{c:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).expect("hex pair"), 16).expect("hex"))
        .collect()
}

/// NTProofStr of NTLMv2 (MS-NLMP 3.3.2): HMAC-MD5 keyed with
/// HMAC-MD5(MD4(password), UPPER(user) + domain), over challenge + blob.
/// This is what hashcat mode 5600 computes for each candidate password.
fn ntproofstr(password: &str, user: &str, domain: &str, chal: &[u8], blob: &[u8]) -> [u8; 16] {
    let nt_hash = md4(&utf16(password));
    let key = hmac_md5(
        &nt_hash,
        &utf16(&format!("{}{domain}", user.to_uppercase())),
    );
    hmac_md5(&key, &[chal, blob].concat())
}

const UNICODE_FLAGS: u32 = 0xe208_8215;
const OEM_FLAGS: u32 = 0x0000_0202;

fn ntlm_negotiate() -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&UNICODE_FLAGS.to_le_bytes());
    m.extend_from_slice(&[0; 16]);
    m
}

fn ntlm_challenge(chal: [u8; 8]) -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&2u32.to_le_bytes());
    m.extend_from_slice(&[0, 0, 0, 0, 48, 0, 0, 0]); // empty target name
    m.extend_from_slice(&UNICODE_FLAGS.to_le_bytes());
    m.extend_from_slice(&chal);
    m.extend_from_slice(&[0; 8]); // reserved
    m.extend_from_slice(&[0, 0, 0, 0, 48, 0, 0, 0]); // empty target info
    m
}

/// An AUTHENTICATE message: LM and NT responses, domain, user (already
/// encoded as the flags say), an empty host and session key.
fn ntlm_authenticate(lm: &[u8], nt: &[u8], domain: &[u8], user: &[u8], flags: u32) -> Vec<u8> {
    let mut head = b"NTLMSSP\0".to_vec();
    head.extend_from_slice(&3u32.to_le_bytes());
    let mut payload = Vec::new();
    for b in [lm, nt, domain, user, b"".as_slice(), b"".as_slice()] {
        let off = 64 + payload.len() as u32;
        head.extend_from_slice(&(b.len() as u16).to_le_bytes());
        head.extend_from_slice(&(b.len() as u16).to_le_bytes());
        head.extend_from_slice(&off.to_le_bytes());
        payload.extend_from_slice(b);
    }
    head.extend_from_slice(&flags.to_le_bytes());
    head.extend_from_slice(&payload);
    head
}

/// One SMB2 SESSION_SETUP request or response carrying `blob`, in NBSS.
fn session_setup(response: bool, status: u32, msg_id: u64, blob: &[u8]) -> Vec<u8> {
    let mut m = b"\xfeSMB".to_vec();
    m.extend_from_slice(&64u16.to_le_bytes());
    m.extend_from_slice(&0u16.to_le_bytes()); // credit charge
    m.extend_from_slice(&status.to_le_bytes());
    m.extend_from_slice(&1u16.to_le_bytes()); // SESSION_SETUP
    m.extend_from_slice(&1u16.to_le_bytes()); // credits
    m.extend_from_slice(&u32::from(response).to_le_bytes());
    m.extend_from_slice(&0u32.to_le_bytes()); // next command
    m.extend_from_slice(&msg_id.to_le_bytes());
    m.extend_from_slice(&0xfeffu32.to_le_bytes()); // process id
    m.extend_from_slice(&0u32.to_le_bytes()); // tree id
    m.extend_from_slice(&0x4000_0001u64.to_le_bytes()); // session id
    m.extend_from_slice(&[0; 16]); // signature
    let len = blob.len() as u16;
    if response {
        m.extend_from_slice(&9u16.to_le_bytes());
        m.extend_from_slice(&0u16.to_le_bytes()); // session flags
        m.extend_from_slice(&72u16.to_le_bytes());
        m.extend_from_slice(&len.to_le_bytes());
    } else {
        m.extend_from_slice(&25u16.to_le_bytes());
        m.extend_from_slice(&[0, 1]); // flags, security mode
        m.extend_from_slice(&0u32.to_le_bytes()); // capabilities
        m.extend_from_slice(&0u32.to_le_bytes()); // channel
        m.extend_from_slice(&88u16.to_le_bytes());
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&0u64.to_le_bytes()); // previous session
    }
    m.extend_from_slice(blob);
    let n = m.len() as u32;
    let mut pdu = vec![0, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    pdu.extend_from_slice(&m);
    pdu
}

const STATUS_MORE_PROCESSING_REQUIRED: u32 = 0xc000_0016;
const STATUS_LOGON_FAILURE: u32 = 0xc000_006d;

#[test]
fn md4_and_hmac_md5_match_their_published_vectors() {
    assert_eq!(hex(&md4(b"abc")), "a448017aaf21d8525fc10ae87aa6729d");
    // The NT hash of "hashcat", as hashcat's mode 1000 example cracks it.
    assert_eq!(
        hex(&md4(&utf16("hashcat"))),
        "b4b9b02e6f09a9bd760f388b67351e2b"
    );
    assert_eq!(
        hex(&hmac_md5(&[0x0b; 16], b"Hi There")),
        "9294727a3638bb1c13f48ef8158bfc9d"
    );
}

#[test]
fn ntlm_logons_over_smb2_become_hashcat_lines() {
    // Connection 1: a NTLMv2 logon computed from a known password, which
    // the server accepts. Connection 2: a NTLMv1 logon with OEM strings
    // and no domain, refused; an anonymous logon (no row); a NTLMv2 logon
    // with no reply in the capture.
    let password = "Summer2024!";
    let chal1 = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
    let mut blob = vec![1, 1, 0, 0, 0, 0, 0, 0];
    blob.extend_from_slice(&0x01d8_0000_0000_0000u64.to_le_bytes()); // time
    blob.extend_from_slice(b"CLIENTCH"); // client challenge
    blob.extend_from_slice(&[0; 4]);
    blob.extend_from_slice(&[2, 0, 8, 0]); // MsvAvNbDomainName, 8 bytes
    blob.extend_from_slice(&utf16("CORP"));
    blob.extend_from_slice(&[0; 4]); // MsvAvEOL
    let proof = ntproofstr(password, "Alice", "CORP", &chal1, &blob);
    let v2 = ntlm_authenticate(
        &[0; 24],
        &[proof.as_slice(), &blob].concat(),
        &utf16("CORP"),
        &utf16("Alice"),
        UNICODE_FLAGS,
    );
    let chal2 = [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7];
    let (lm1, nt1) = ([0x5a; 24], [0xc3; 24]);
    let v1 = ntlm_authenticate(&lm1, &nt1, b"", b"bob", OEM_FLAGS);
    let anonymous = ntlm_authenticate(&[0], b"", b"", b"", UNICODE_FLAGS);
    let carol = ntlm_authenticate(
        &[0; 24],
        &[[0x77; 16].as_slice(), &blob].concat(),
        &utf16("CORP"),
        &utf16("carol"),
        UNICODE_FLAGS,
    );
    let turns1 = [
        session_setup(false, 0, 1, &ntlm_negotiate()),
        session_setup(
            true,
            STATUS_MORE_PROCESSING_REQUIRED,
            1,
            &ntlm_challenge(chal1),
        ),
        session_setup(false, 0, 2, &v2),
        session_setup(true, 0, 2, b""),
    ];
    let turns2 = [
        session_setup(false, 0, 1, &ntlm_negotiate()),
        session_setup(
            true,
            STATUS_MORE_PROCESSING_REQUIRED,
            1,
            &ntlm_challenge(chal2),
        ),
        session_setup(false, 0, 2, &v1),
        session_setup(true, STATUS_LOGON_FAILURE, 2, b""),
        session_setup(false, 0, 3, &anonymous),
        session_setup(true, 0, 3, b""),
        session_setup(false, 0, 4, &carol),
    ];
    let dirs = |turns: &'static [bool]| turns.iter().copied();
    let t1: Vec<(bool, &[u8])> = dirs(&[true, false, true, false])
        .zip(turns1.iter().map(Vec::as_slice))
        .collect();
    let t2: Vec<(bool, &[u8])> = dirs(&[true, false, true, false, true, false, true])
        .zip(turns2.iter().map(Vec::as_slice))
        .collect();
    let mut frames = conversation(49152, 445, &t1);
    frames.extend(conversation(49153, 445, &t2));
    let csv = export("ntlm-smb2", &frames);

    let v2_line = format!("Alice::CORP:{}:{}:{}", hex(&chal1), hex(&proof), hex(&blob));
    let v1_line = format!("bob:::{}:{}:{}", hex(&lm1), hex(&nt1), hex(&chal2));
    let carol_line = format!(
        "carol::CORP:{}:{}:{}",
        hex(&chal2),
        "77".repeat(16),
        hex(&blob)
    );
    assert_eq!(
        csv,
        format!(
            "{HEADER}\
             3,1002.500000000,SMB2 NTLMv2,10.0.0.1:49152,10.0.0.2:445,Alice,{v2_line},yes\r\n\
             7,1006.500000000,SMB2 NTLMv1,10.0.0.1:49153,10.0.0.2:445,bob,{v1_line},no\r\n\
             11,1010.500000000,SMB2 NTLMv2,10.0.0.1:49153,10.0.0.2:445,carol,{carol_line},unknown\r\n"
        )
    );

    // The line as written cracks: recomputing NTProofStr from its own
    // fields and the password gives the proof it carries, as hashcat -m
    // 5600 would; a wrong password does not.
    let row = csv.lines().nth(1).expect("row");
    let secret = row.split(',').nth(6).expect("secret");
    let parts: Vec<&str> = secret.split(':').collect();
    let [user, "", domain, chal, proof_hex, blob_hex] = parts.as_slice() else {
        panic!("not a 5600 line: {secret}");
    };
    let (chal, blob) = (unhex(chal), unhex(blob_hex));
    assert_eq!(
        hex(&ntproofstr(password, user, domain, &chal, &blob)),
        *proof_hex
    );
    assert_ne!(
        hex(&ntproofstr("summer2024!", user, domain, &chal, &blob)),
        *proof_hex
    );
}
