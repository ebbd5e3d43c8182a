use super::nbns_names_for_tests as names;

#[test]
fn netbios_names_decode_as_wireshark_shows_them() {
    // "WORKGROUP" padded with spaces, type 0x1d, in first-level encoding.
    let mut raw = b"WORKGROUP      ".to_vec();
    raw.push(0x1d);
    let enc: Vec<u8> = raw
        .iter()
        .flat_map(|b| [b'A' + (b >> 4), b'A' + (b & 0x0f)])
        .collect();
    assert_eq!(names(&enc), "WORKGROUP<1d>");
    let mut raw = vec![1, 2];
    raw.extend_from_slice(b"__MSBROWSE__");
    raw.extend_from_slice(&[2, 1]);
    let enc: Vec<u8> = raw
        .iter()
        .flat_map(|b| [b'A' + (b >> 4), b'A' + (b & 0x0f)])
        .collect();
    assert_eq!(names(&enc), "<01><02>__MSBROWSE__<02><01>");
    assert_eq!(names(b"AB"), "Illegal NetBIOS name (1 bytes long)");
    assert_eq!(names(b"A"), "Illegal NetBIOS name (odd number of bytes)");
}
