//! SSH in the default view, `-z io,phs` and `-T fields`: banners, the
//! protocol column turning to SSHv2 after the client's banner, KEXINIT
//! with its hassh, an ECDH exchange, NEWKEYS, packets encrypted with a
//! cipher tshark would try (aes128-ctr: nothing shown, or a short read),
//! and data before any banner. The expected text is what tshark 4.0.17
//! prints for the same bytes.

mod common;

use common::{dorsal, pcap, tcp_segment, write_temp};

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];

/// An SSH binary packet around `payload`, padded to 8 bytes (at least 4).
fn packet(payload: &[u8]) -> Vec<u8> {
    let mut pad = 8 - (5 + payload.len()) % 8;
    if pad < 4 {
        pad += 8;
    }
    let plen = (1 + payload.len() + pad) as u32;
    let mut v = plen.to_be_bytes().to_vec();
    v.push(pad as u8);
    v.extend_from_slice(payload);
    v.extend(std::iter::repeat_n(0u8, pad));
    v
}

/// A length-prefixed SSH string.
fn string(s: &[u8]) -> Vec<u8> {
    let mut v = (s.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

fn kexinit(cookie: u8) -> Vec<u8> {
    let mut v = vec![20];
    v.extend_from_slice(&[cookie; 16]);
    for list in [
        &b"curve25519-sha256,diffie-hellman-group14-sha256"[..],
        b"ssh-ed25519",
        b"aes128-ctr",
        b"aes128-ctr",
        b"hmac-sha2-256",
        b"hmac-sha2-256",
        b"none",
        b"none",
        b"",
        b"",
    ] {
        v.extend(string(list));
    }
    v.extend_from_slice(&[0, 0, 0, 0, 0]);
    packet(&v)
}

fn capture() -> Vec<u8> {
    let c = |sport: u16, seq: u32, p: &[u8]| tcp_segment(C, sport, S, 22, seq, 1, p);
    let s = |dport: u16, seq: u32, p: &[u8]| tcp_segment(S, 22, C, dport, seq, 1, p);
    let cb = b"SSH-2.0-TestClient_1.0\r\n".to_vec();
    let sb = b"SSH-2.0-TestServer_1.0\r\n".to_vec();
    let ckex = kexinit(0x11);
    let skex = kexinit(0x22);
    let mut init = vec![30];
    init.extend(string(&[0x33; 32]));
    let ecdh_init = packet(&init);
    let mut reply = vec![31];
    let mut key = string(b"ssh-ed25519");
    key.extend(string(&[0x44; 32]));
    reply.extend(string(&key));
    reply.extend(string(&[0x55; 32]));
    let mut sig = string(b"ssh-ed25519");
    sig.extend(string(&[0x66; 64]));
    reply.extend(string(&sig));
    let mut reply_newkeys = packet(&reply);
    reply_newkeys.extend(packet(&[21]));
    let newkeys = packet(&[21]);
    let mut seqc = 1u32;
    let mut seqs = 1u32;
    let mut frames = Vec::new();
    let mut send = |client: bool, p: &[u8]| {
        if client {
            frames.push(c(40000, seqc, p));
            seqc += p.len() as u32;
        } else {
            frames.push(s(40000, seqs, p));
            seqs += p.len() as u32;
        }
    };
    send(true, &cb);
    send(false, &sb);
    send(true, &ckex);
    send(false, &skex);
    send(true, &ecdh_init);
    send(false, &reply_newkeys);
    send(true, &newkeys);
    send(true, &[0x77; 48]);
    send(false, &[0x88; 4]);
    // A second stream seen from its middle: no banner, no version.
    frames.push(s(40001, 1, &[0x99; 20]));
    frames.push(c(40001, 1, b"Hello there\r\nSSH-2.0-X\r\n"));
    pcap(&frames)
}

fn run(args: &[&str]) -> String {
    let path = write_temp("ssh-text.pcap", &capture());
    let mut all = vec!["-r", path.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    let out = dorsal(&all, None);
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8 output")
}

const FIELDS: &[&str] = &[
    "-T",
    "fields",
    "-e",
    "frame.number",
    "-e",
    "frame.protocols",
    "-e",
    "ssh.direction",
    "-e",
    "ssh.protocol",
    "-e",
    "ssh.packet_length",
    "-e",
    "ssh.padding_length",
    "-e",
    "ssh.message_code",
    "-e",
    "ssh.kex.hassh",
    "-e",
    "ssh.kex.hasshserver",
    "-e",
    "ssh.seq_num",
    "-e",
    "ssh.host_key.type",
    "-e",
    "ssh.ecdh.q_s_length",
    "-e",
    "ssh.encrypted_packet",
];

#[test]
fn ssh_is_tsharks() {
    let mut text = run(&[]);
    text.push_str(&run(&["-q", "-z", "io,phs"]));
    text.push_str(&run(FIELDS));
    // DORSAL_SSH_PCAP=FILE writes the capture, to regenerate the
    // expected text with tshark.
    if let Ok(file) = std::env::var("DORSAL_SSH_PCAP") {
        std::fs::write(file, capture()).unwrap();
    }
    assert_eq!(text, include_str!("ssh_text.expected"));
}
