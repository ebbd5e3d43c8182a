//! Reader tests over captures built in memory.

use super::*;

/// A little-endian microsecond pcap with the given link type and records.
pub(crate) fn pcap_le(linktype: u32, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&4u16.to_le_bytes());
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&65535u32.to_le_bytes());
    v.extend_from_slice(&linktype.to_le_bytes());
    for (secs, usecs, data) in records {
        v.extend_from_slice(&secs.to_le_bytes());
        v.extend_from_slice(&usecs.to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(&(data.len() as u32 + 4).to_le_bytes());
        v.extend_from_slice(data);
    }
    v
}

/// Time, wire length and bytes of each record read.
type Records = Vec<(Timestamp, u32, Vec<u8>)>;

fn read_all(bytes: Vec<u8>) -> (Records, Option<CaptureError>) {
    let mut out = Vec::new();
    let mut cap = match Capture::from_reader(Box::new(std::io::Cursor::new(bytes))) {
        Ok(c) => c,
        Err(e) => return (out, Some(e)),
    };
    loop {
        match cap.next_record() {
            Ok(Some(r)) => out.push((r.ts, r.len, r.data.to_vec())),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

#[test]
fn pcap_records_come_out_in_order() {
    let bytes = pcap_le(1, &[(10, 5, b"abc"), (11, 999_999, b"")]);
    let (recs, err) = read_all(bytes);
    assert!(err.is_none());
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].0, Timestamp::new(10, 5_000));
    assert_eq!(recs[0].1, 7);
    assert_eq!(recs[0].2, b"abc");
    assert_eq!(recs[1].0, Timestamp::new(11, 999_999_000));
}

#[test]
fn cut_short_keeps_complete_records_first() {
    let mut bytes = pcap_le(1, &[(1, 0, b"abcd"), (2, 0, b"efgh")]);
    bytes.truncate(bytes.len() - 2);
    let (recs, err) = read_all(bytes);
    assert_eq!(recs.len(), 1);
    assert!(matches!(err, Some(CaptureError::CutShort)));
}

#[test]
fn garbage_is_not_a_capture() {
    let (_, err) = read_all(b"hello world, not a capture".to_vec());
    assert!(matches!(err, Some(CaptureError::UnknownFormat)));
    let (_, err) = read_all(Vec::new());
    assert!(matches!(err, Some(CaptureError::UnknownFormat)));
}

#[test]
fn absurd_record_length_is_corrupt_not_an_allocation() {
    let mut bytes = pcap_le(1, &[]);
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    let (_, err) = read_all(bytes);
    match err {
        Some(CaptureError::Corrupt(m)) => assert!(m.contains("bigger than maximum of 262144")),
        other => panic!("unexpected {other:?}"),
    }
}

/// The same records as [`pcap_le`], every field big-endian.
fn pcap_be(linktype: u32, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let le = pcap_le(linktype, records);
    let mut v = Vec::new();
    let word = |v: &mut Vec<u8>, b: &[u8]| v.extend(b.iter().rev());
    word(&mut v, &le[0..4]);
    word(&mut v, &le[4..6]);
    word(&mut v, &le[6..8]);
    for w in le[8..].chunks(4).take(4) {
        word(&mut v, w);
    }
    let mut rest = &le[24..];
    for (_, _, data) in records {
        for w in rest[..16].chunks(4) {
            word(&mut v, w);
        }
        v.extend_from_slice(data);
        rest = &rest[16 + data.len()..];
    }
    v
}

#[test]
fn big_endian_pcap_reads_the_same() {
    let recs = [(10, 5, &b"abc"[..]), (11, 7, &b"defgh"[..])];
    assert_eq!(read_all(pcap_be(1, &recs)).0, read_all(pcap_le(1, &recs)).0);
}

#[test]
fn records_larger_than_a_refill_are_read_whole() {
    // USBPcap allows 128 MiB records: this one spans several refills.
    let big: Vec<u8> = (0..700_000u32).map(|i| i as u8).collect();
    let (recs, err) = read_all(pcap_le(249, &[(1, 0, b"ab"), (2, 0, &big), (3, 0, b"c")]));
    assert!(err.is_none());
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[1].2, big);
    assert_eq!(recs[2].2, b"c");
}

#[test]
fn oversized_record_cut_short_is_still_oversized() {
    // Wiretap checks the header before the data: the maximum's message,
    // not "cut short", even though the data is not all there.
    let mut bytes = pcap_le(1, &[(1, 0, b"ok"), (2, 0, &[0u8; 300_000])]);
    bytes.truncate(bytes.len() - 1000);
    let (recs, err) = read_all(bytes);
    assert_eq!(recs.len(), 1);
    match err {
        Some(CaptureError::Corrupt(m)) => {
            assert!(m.contains("File has 300000-byte packet, bigger than maximum of 262144"))
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn header_cut_short_after_whole_records() {
    let mut bytes = pcap_le(1, &[(1, 0, b"ab"), (2, 0, b"cd")]);
    bytes.truncate(bytes.len() - 2 - 9);
    let (recs, err) = read_all(bytes);
    assert_eq!(recs.len(), 1);
    assert!(matches!(err, Some(CaptureError::CutShort)));
}

#[test]
fn early_files_have_their_lengths_swapped() {
    // Version 2.2: the first length is the wire length.
    let mut bytes = pcap_le(1, &[(1, 0, b"abcd")]);
    bytes[6..8].copy_from_slice(&2u16.to_le_bytes());
    let (a, b) = (
        bytes[24 + 8..24 + 12].to_vec(),
        bytes[24 + 12..24 + 16].to_vec(),
    );
    bytes[24 + 8..24 + 12].copy_from_slice(&b);
    bytes[24 + 12..24 + 16].copy_from_slice(&a);
    let (recs, err) = read_all(bytes);
    assert!(err.is_none());
    assert_eq!(recs[0].1, 8);
    assert_eq!(recs[0].2, b"abcd");
}

#[test]
fn modified_pcap_skips_the_longer_record_header() {
    for big_endian in [false, true] {
        let mut plain = pcap_le(1, &[(1, 0, b"abcd"), (2, 0, b"ef")]);
        if big_endian {
            plain = pcap_be(1, &[(1, 0, b"abcd"), (2, 0, b"ef")]);
        }
        let mut bytes = plain[..24].to_vec();
        let magic = if big_endian {
            [0xa1, 0xb2, 0xcd, 0x34]
        } else {
            [0x34, 0xcd, 0xb2, 0xa1]
        };
        bytes[..4].copy_from_slice(&magic);
        let mut rest = &plain[24..];
        for n in [4usize, 2] {
            bytes.extend_from_slice(&rest[..16]);
            bytes.extend_from_slice(&[0xee; 8]);
            bytes.extend_from_slice(&rest[16..16 + n]);
            rest = &rest[16 + n..];
        }
        let (recs, err) = read_all(bytes);
        assert!(err.is_none(), "big-endian {big_endian}");
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].2, b"abcd");
        assert_eq!(recs[1].2, b"ef");
        assert_eq!(recs[1].0, Timestamp::new(2, 0));
    }
}

#[test]
fn unknown_link_type_is_refused_at_open() {
    let (_, err) = read_all(pcap_le(281, &[]));
    assert!(matches!(err, Some(CaptureError::UnsupportedEncap(_))));
}

#[test]
fn gzip_input_is_decompressed() {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&pcap_le(1, &[(1, 0, b"zz")])).expect("gzip");
    let (recs, err) = read_all(enc.finish().expect("gzip"));
    assert!(err.is_none());
    assert_eq!(recs[0].2, b"zz");
}

#[test]
fn pcapng_with_two_interfaces() {
    fn block(ty: u32, body: &[u8]) -> Vec<u8> {
        let total = (12 + body.len()) as u32;
        let mut v = ty.to_le_bytes().to_vec();
        v.extend_from_slice(&total.to_le_bytes());
        v.extend_from_slice(body);
        v.extend_from_slice(&total.to_le_bytes());
        v
    }
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&[0xff; 8]);
    let mut file = block(0x0a0d_0d0a, &shb);
    // Interface 0: Ethernet, microseconds. Interface 1: raw IP, nanoseconds.
    file.extend(block(1, &[1, 0, 0, 0, 0, 0, 0, 0]));
    file.extend(block(
        1,
        &[101, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0],
    ));
    let epb = |iface: u32, ts: u64, data: &[u8]| {
        let mut b = iface.to_le_bytes().to_vec();
        b.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(ts as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(data);
        while !b.len().is_multiple_of(4) {
            b.push(0);
        }
        b
    };
    file.extend(block(6, &epb(0, 1_000_001, b"eth")));
    file.extend(block(6, &epb(1, 2_000_000_003, b"ip")));
    let mut cap = Capture::from_reader(Box::new(std::io::Cursor::new(file))).expect("open");
    let r = cap.next_record().expect("read").expect("record");
    assert_eq!(
        (r.linktype, r.ts, r.data),
        (1, Timestamp::new(1, 1_000), &b"eth"[..])
    );
    let r = cap.next_record().expect("read").expect("record");
    assert_eq!(
        (r.linktype, r.ts, r.data),
        (101, Timestamp::new(2, 3), &b"ip"[..])
    );
    assert!(cap.next_record().expect("read").is_none());
}

#[test]
fn big_endian_section_options_come_out_little_endian() {
    fn block(ty: u32, body: &[u8]) -> Vec<u8> {
        let total = (12 + body.len()) as u32;
        let mut v = ty.to_be_bytes().to_vec();
        v.extend_from_slice(&total.to_be_bytes());
        v.extend_from_slice(body);
        v.extend_from_slice(&total.to_be_bytes());
        v
    }
    fn opt(code: u16, value: &[u8]) -> Vec<u8> {
        let mut v = code.to_be_bytes().to_vec();
        v.extend_from_slice(&(value.len() as u16).to_be_bytes());
        v.extend_from_slice(value);
        v.resize(v.len().next_multiple_of(4), 0);
        v
    }
    let mut shb = 0x1a2b_3c4du32.to_be_bytes().to_vec();
    shb.extend_from_slice(&[0, 1, 0, 0]);
    shb.extend_from_slice(&[0xff; 8]);
    shb.extend(opt(1, b"note"));
    // A byte-ordered option a big-endian section's copy drops.
    shb.extend(opt(5, &[1, 2, 3, 4]));
    shb.extend(opt(0, b""));
    shb.extend(opt(1, b"past the end marker"));
    let mut file = block(0x0a0d_0d0a, &shb);
    let mut idb = vec![0, 1, 0, 0, 0, 0, 0, 0];
    idb.extend(opt(14, &7i64.to_be_bytes()));
    file.extend(block(1, &idb));
    let mut epb = vec![0; 12];
    epb.extend_from_slice(&2u32.to_be_bytes());
    epb.extend_from_slice(&2u32.to_be_bytes());
    epb.extend_from_slice(b"hi\0\0");
    file.extend(block(6, &epb));
    let mut cap = Capture::from_reader(Box::new(std::io::Cursor::new(file))).expect("open");
    assert_eq!(
        cap.section_options(),
        &[1, 0, 4, 0, b'n', b'o', b't', b'e'][..]
    );
    let r = cap.next_record().expect("read").expect("record");
    assert_eq!((r.ts, r.data), (Timestamp::new(7, 0), &b"hi"[..]));
    assert_eq!(cap.interfaces()[0].offset_secs(), 7);
    assert!(cap.next_record().expect("read").is_none());
}
