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
