//! Prints Scapy's view of each packet of a capture as the report decodes
//! it, one line per packet (for comparing with Scapy itself):
//! `cargo run --example views -- CAPTURE`.

use std::io::Write;

use dorsal_report::scapy::{link_layer, Decoder};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: views CAPTURE");
        std::process::exit(2);
    };
    let Ok(file) = std::fs::File::open(&path) else {
        eprintln!("cannot open {path}");
        std::process::exit(2);
    };
    let mut d = Decoder::default();
    let mut n = 0u64;
    let out = std::io::stdout();
    let mut out = out.lock();
    let r = dorsal_report::read::read(std::io::BufReader::new(file), &mut |lt, data, t| {
        n += 1;
        d.decode(link_layer(lt), data);
        let v = &d.view;
        let ip =
            v.ip.map_or("-".to_string(), |(s, d)| format!("{s:?}>{d:?}"));
        let _ = writeln!(
            out,
            "{n} {} ip={ip} tcp={:?} udp={:?} qr={:?} qt={:?} qn={} t={t}",
            (data.len() as u64).saturating_add_signed(v.extra_len),
            v.tcp_dport,
            v.udp_dport,
            v.dns_qr,
            v.qtype,
            d.qname
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
        );
    });
    if let Err(e) = r {
        eprintln!("{e:?}");
    }
}
