//! Runs the design card's crates where dorsal has its own parser, printing
//! what each one reads so `compare.py` can set it beside dorsal's output:
//!
//!   design-card records FILE   pcap-parser: caplen and length per record
//!   design-card time FILE      pcap-parser's and dorsal's readers, timed
//!   design-card records-diff FILE   both readers' records side by side:
//!                              `same N` or where they first differ
//!   design-card l2l4 FILE      etherparse (lax): first IP pair and ports
//!   design-card tls FILE       tls-parser: SNI of one-segment ClientHellos
//!   design-card http FILE      httparse: method, URI and Host of requests
//!
//! Frames are numbered as dorsal numbers them; l2l4/tls/http read Ethernet
//! captures only.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::time::Instant;

use dorsal_engine::capture::Capture;
use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pcap_parser::{Block, PcapBlockOwned, PcapError};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(cmd), Some(path)) = (args.first(), args.get(1)) else {
        eprintln!("usage: design-card records|time|l2l4|tls|http FILE");
        std::process::exit(2);
    };
    let out = io::stdout();
    let mut out = BufWriter::new(out.lock());
    let r = match cmd.as_str() {
        "records" => records(path, &mut out).map(|_| ()),
        "time" => time(path, &mut out),
        "records-diff" => records_diff(path, &mut out),
        "l2l4" | "tls" | "http" => frames(cmd, path, &mut out),
        _ => Err(io::Error::other("unknown command")),
    };
    if let Err(e) = r.and_then(|()| out.flush()) {
        eprintln!("design-card: {e}");
        std::process::exit(1);
    }
}

/// pcap-parser's records: `caplen\tlen` each; returns (records, bytes).
fn records(path: &str, out: &mut dyn Write) -> io::Result<(u64, u64)> {
    let file = File::open(path)?;
    let mut reader = pcap_parser::create_reader(1 << 20, file)
        .map_err(|e| io::Error::other(format!("{e:?}")))?;
    let (mut n, mut bytes) = (0u64, 0u64);
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                let rec = match block {
                    PcapBlockOwned::Legacy(b) => Some((b.caplen, b.origlen)),
                    PcapBlockOwned::NG(Block::EnhancedPacket(b)) => Some((b.caplen, b.origlen)),
                    PcapBlockOwned::NG(Block::SimplePacket(b)) => {
                        Some((b.data.len() as u32, b.origlen))
                    }
                    _ => None,
                };
                if let Some((cap, len)) = rec {
                    n += 1;
                    bytes += u64::from(cap);
                    writeln!(out, "{cap}\t{len}")?;
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if reader.refill().is_err() {
                    writeln!(out, "ERROR refill")?;
                    break;
                }
            }
            Err(e) => {
                writeln!(out, "ERROR {e:?}")?;
                break;
            }
        }
    }
    Ok((n, bytes))
}

/// Compares pcap-parser's records with dorsal's (as stored: caplen and
/// length on the wire before any pseudo-header is stripped).
fn records_diff(path: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut theirs = Vec::new();
    records(path, &mut theirs)?;
    let theirs = String::from_utf8_lossy(&theirs).into_owned();
    let mut ours = Vec::new();
    let ours_end = match Capture::open(path) {
        Ok(mut cap) => loop {
            match cap.next_record() {
                Ok(Some(rec)) => ours.push(format!("{}\t{}", rec.raw.len(), rec.raw_len)),
                Ok(None) => break "end".to_string(),
                Err(e) => break format!("error: {e}"),
            }
        },
        Err(e) => format!("error: {e}"),
    };
    let theirs_end = theirs.lines().find(|l| l.starts_with("ERROR")).unwrap_or("end").to_string();
    let theirs: Vec<&str> = theirs.lines().filter(|l| !l.starts_with("ERROR")).collect();
    for (i, (t, o)) in theirs.iter().zip(&ours).enumerate() {
        if t != o {
            return writeln!(out, "differ at record {}: pcap-parser {t:?}, dorsal {o:?}", i + 1);
        }
    }
    if theirs.len() != ours.len() {
        return writeln!(
            out,
            "count differs: pcap-parser {} records ({theirs_end}), dorsal {} ({ours_end})",
            theirs.len(),
            ours.len()
        );
    }
    writeln!(out, "same {} (pcap-parser: {theirs_end}; dorsal: {ours_end})", ours.len())
}

/// Both readers over the same file, record count and seconds each.
fn time(path: &str, out: &mut dyn Write) -> io::Result<()> {
    let t = Instant::now();
    let (n, b) = records(path, &mut io::sink())?;
    let pp = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut cap = Capture::open(path).map_err(|e| io::Error::other(e.to_string()))?;
    let (mut m, mut c) = (0u64, 0u64);
    while let Ok(Some(rec)) = cap.next_record() {
        m += 1;
        c += rec.data.len() as u64;
    }
    let ours = t.elapsed().as_secs_f64();
    writeln!(
        out,
        "pcap-parser {n} records {b} bytes {pp:.3} s; dorsal {m} records {c} bytes {ours:.3} s; ratio {:.2}",
        pp / ours.max(1e-9)
    )
}

/// Per Ethernet frame: what etherparse, tls-parser or httparse read.
fn frames(cmd: &str, path: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut cap = Capture::open(path).map_err(|e| io::Error::other(e.to_string()))?;
    let mut number = 0u64;
    while let Ok(Some(rec)) = cap.next_record() {
        number += 1;
        if rec.linktype != 1 {
            continue;
        }
        let sliced = LaxSlicedPacket::from_ethernet(rec.data).ok();
        let payload = sliced.as_ref().and_then(|s| match &s.transport {
            Some(TransportSlice::Tcp(t)) => Some(t.payload()),
            _ => None,
        });
        match cmd {
            "l2l4" => {
                let (src, dst) = match sliced.as_ref().and_then(|s| s.net.as_ref()) {
                    Some(LaxNetSlice::Ipv4(ip)) => (
                        ip.header().source_addr().to_string(),
                        ip.header().destination_addr().to_string(),
                    ),
                    _ => (String::new(), String::new()),
                };
                let (sp, dp) = match sliced.as_ref().and_then(|s| s.transport.as_ref()) {
                    Some(TransportSlice::Tcp(t)) => {
                        (t.source_port().to_string(), t.destination_port().to_string())
                    }
                    Some(TransportSlice::Udp(u)) => {
                        (u.source_port().to_string(), u.destination_port().to_string())
                    }
                    _ => (String::new(), String::new()),
                };
                writeln!(out, "{number}\t{src}\t{dst}\t{sp}\t{dp}")?;
            }
            "tls" => {
                if let Some(sni) = payload.and_then(client_hello_sni) {
                    writeln!(out, "{number}\t{sni}")?;
                }
            }
            _ => {
                if let Some(p) = payload.filter(|p| !p.is_empty()) {
                    let mut headers = [httparse::EMPTY_HEADER; 64];
                    let mut req = httparse::Request::new(&mut headers);
                    if req.parse(p).is_ok() {
                        if let (Some(m), Some(u)) = (req.method, req.path) {
                            let host = req
                                .headers
                                .iter()
                                .find(|h| h.name.eq_ignore_ascii_case("host"))
                                .map(|h| String::from_utf8_lossy(h.value).into_owned())
                                .unwrap_or_default();
                            writeln!(out, "{number}\t{m}\t{u}\t{host}")?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The server name of a ClientHello that starts this segment's TLS record.
fn client_hello_sni(p: &[u8]) -> Option<String> {
    use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};
    let (_, plain) = tls_parser::parse_tls_plaintext(p).ok()?;
    for msg in &plain.msg {
        if let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)) = msg {
            let (_, exts) = tls_parser::parse_tls_client_hello_extensions(ch.ext?).ok()?;
            for e in exts {
                if let TlsExtension::SNI(names) = e {
                    let (_, name) = names.first()?;
                    return Some(String::from_utf8_lossy(name).into_owned());
                }
            }
            return None;
        }
    }
    None
}
