#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hs(list: &[(&str, &str)]) -> Vec<Header> {
    list.iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

/// Decodes a whole block and checks the list and the table afterwards.
fn check(d: &mut Decoder, block: &str, want: &[(&str, &str)], table: &[(&str, &str)], size: usize) {
    let got = d.decode(&hex(block), true);
    assert_eq!(got.stop, None, "{block}");
    assert_eq!(got.headers, hs(want));
    assert_eq!(d.table.iter().cloned().collect::<Vec<_>>(), hs(table));
    assert_eq!(d.table_size(), size);
}

#[test]
fn integers_of_5_1() {
    // C.1.1 10 in a 5-bit prefix, C.1.2 1337, C.1.3 42 at an octet boundary.
    assert_eq!(read_int(&[0x0a], 5), Ok(Some((10, 1))));
    assert_eq!(read_int(&[0x1f, 0x9a, 0x0a], 5), Ok(Some((1337, 3))));
    assert_eq!(read_int(&[0x2a], 8 - 1), Ok(Some((42, 1))));
    assert_eq!(read_int(&[0x1f, 0x9a], 5), Ok(None));
    // 2^32 - 1 fits, one more does not, nor a sixth continuation byte.
    assert_eq!(
        read_int(&[0x7f, 0x80, 0xff, 0xff, 0xff, 0x0f], 7),
        Ok(Some((u64::from(u32::MAX), 6)))
    );
    assert_eq!(
        read_int(&[0x7f, 0x81, 0xff, 0xff, 0xff, 0x0f], 7),
        Err(Error::IntegerOverflow)
    );
    assert_eq!(
        read_int(&[0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 1),
        Err(Error::IntegerOverflow)
    );
}

#[test]
fn c2_single_representations() {
    let mut d = Decoder::new();
    // C.2.1 literal with indexing.
    check(
        &mut d,
        "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
        &[("custom-key", "custom-header")],
        &[("custom-key", "custom-header")],
        55,
    );
    let mut d = Decoder::new();
    // C.2.2 literal without indexing.
    check(
        &mut d,
        "040c 2f73 616d 706c 652f 7061 7468",
        &[(":path", "/sample/path")],
        &[],
        0,
    );
    // C.2.3 never indexed.
    check(
        &mut d,
        "1008 7061 7373 776f 7264 0673 6563 7265 74",
        &[("password", "secret")],
        &[],
        0,
    );
    // C.2.4 indexed.
    check(&mut d, "82", &[(":method", "GET")], &[], 0);
}

const AUTH: (&str, &str) = (":authority", "www.example.com");

fn requests(blocks: [&str; 3]) {
    let mut d = Decoder::new();
    check(
        &mut d,
        blocks[0],
        &[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            AUTH,
        ],
        &[AUTH],
        57,
    );
    check(
        &mut d,
        blocks[1],
        &[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            AUTH,
            ("cache-control", "no-cache"),
        ],
        &[("cache-control", "no-cache"), AUTH],
        110,
    );
    check(
        &mut d,
        blocks[2],
        &[
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/index.html"),
            AUTH,
            ("custom-key", "custom-value"),
        ],
        &[
            ("custom-key", "custom-value"),
            ("cache-control", "no-cache"),
            AUTH,
        ],
        164,
    );
}

#[test]
fn c3_requests_without_huffman() {
    requests([
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ]);
}

#[test]
fn c4_requests_with_huffman() {
    requests([
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ]);
}

const LOC: (&str, &str) = ("location", "https://www.example.com");
const DATE1: (&str, &str) = ("date", "Mon, 21 Oct 2013 20:13:21 GMT");
const DATE2: (&str, &str) = ("date", "Mon, 21 Oct 2013 20:13:22 GMT");
const PRIV: (&str, &str) = ("cache-control", "private");
const COOKIE: (&str, &str) = (
    "set-cookie",
    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
);

/// C.5 / C.6: a 256-byte table, with evictions in the second and third.
fn responses(blocks: [&str; 3]) {
    let mut d = Decoder::with_max(256);
    check(
        &mut d,
        blocks[0],
        &[(":status", "302"), PRIV, DATE1, LOC],
        &[LOC, DATE1, PRIV, (":status", "302")],
        222,
    );
    check(
        &mut d,
        blocks[1],
        &[(":status", "307"), PRIV, DATE1, LOC],
        &[(":status", "307"), LOC, DATE1, PRIV],
        222,
    );
    check(
        &mut d,
        blocks[2],
        &[
            (":status", "200"),
            PRIV,
            DATE2,
            LOC,
            ("content-encoding", "gzip"),
            COOKIE,
        ],
        &[COOKIE, ("content-encoding", "gzip"), DATE2],
        215,
    );
}

#[test]
fn c5_responses_without_huffman() {
    responses([
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
         2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
         6c65 2e63 6f6d",
        "4803 3330 37c1 c0bf",
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
         54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
         5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
         3d31",
    ]);
}

#[test]
fn c6_responses_with_huffman() {
    responses([
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "4883 640e ffc1 c0bf",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
         9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    ]);
}

#[test]
fn fragments_split_anywhere_decode_the_same() {
    let block = hex(
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff 400a 6375 7374 6f6d 2d6b 6579
                     0d63 7573 746f 6d2d 6865 6164 6572",
    );
    let whole = Decoder::new().decode(&block, true);
    assert_eq!(whole.stop, None);
    for cut in 0..=block.len() {
        let mut d = Decoder::new();
        let mut a = d.decode(&block[..cut], false);
        assert_eq!(a.stop, None);
        let b = d.decode(&block[cut..], true);
        assert_eq!(b.stop, None);
        a.headers.extend(b.headers);
        assert_eq!(a.headers, whole.headers, "cut at {cut}");
        assert_eq!(d.table_size(), 57 + 55);
    }
}

#[test]
fn huffman_rejects_eos_and_bad_padding() {
    // "www.example.com" from C.4.1 decodes; its last byte holds 2 pad bits.
    assert_eq!(
        huffman_decode(&hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff")).unwrap(),
        b"www.example.com"
    );
    // Padding of zeros.
    assert_eq!(huffman_decode(&[0x00]), Err(Error::HuffmanPadding));
    // A whole byte of ones is 8 bits of padding.
    assert_eq!(huffman_decode(&[0xff]), Err(Error::HuffmanPadding));
    // EOS (30 ones) inside the string.
    assert_eq!(
        huffman_decode(&[0xff, 0xff, 0xff, 0xff]),
        Err(Error::HuffmanEos)
    );
    assert_eq!(huffman_decode(&[]).unwrap(), b"");
}

#[test]
fn errors_poison_the_decoder() {
    let mut d = Decoder::new();
    let r = d.decode(&[0x82, 0x80], true);
    assert_eq!(r.headers, hs(&[(":method", "GET")]));
    assert_eq!(r.stop, Some(Stop::Error(Error::IndexZero)));
    let r = d.decode(&[0x82], true);
    assert_eq!(r.stop, Some(Stop::Error(Error::Poisoned)));
    assert!(r.headers.is_empty());

    for (block, err) in [
        (&[0xbe][..], Error::IndexOutOfRange),
        (&[0x40, 0x05, 0x61], Error::Truncated),
        (&[0x3f, 0xe2, 0x1f], Error::TableSizeTooLarge),
        (&[0x82, 0x20], Error::TableSizeNotFirst),
        (&[0x00, 0x7f, 0x82, 0x80, 0x04], Error::StringTooLong),
        (&[0x00, 0x81, 0x00, 0x00], Error::HuffmanPadding),
    ] {
        let r = Decoder::new().decode(block, true);
        assert_eq!(r.stop, Some(Stop::Error(err)), "{block:02x?}");
    }
}

#[test]
fn table_size_updates() {
    let mut d = Decoder::new();
    // Two updates at the head, the last one wins; 4096 is allowed.
    check(&mut d, "3fe1 1f 20 82", &[(":method", "GET")], &[], 0);
    assert_eq!(d.max_table_size(), 0);
    // An entry larger than the table empties it and is not added.
    check(&mut d, "4001 6101 62", &[("a", "b")], &[], 0);

    // A smaller acknowledged SETTINGS size owes an update on the next block.
    let mut d = Decoder::new();
    check(&mut d, "4001 6101 62", &[("a", "b")], &[("a", "b")], 34);
    d.set_settings_max(16);
    assert_eq!(d.table_size(), 0);
    let r = d.decode(&[0x82], true);
    assert_eq!(r.stop, Some(Stop::Error(Error::TableSizeExpected)));
    let mut d = Decoder::new();
    d.set_settings_max(100);
    assert_eq!(
        d.decode(&[0x3f, 0x46], true).stop,
        Some(Stop::Error(Error::TableSizeTooLarge))
    );
    let mut d = Decoder::new();
    d.set_settings_max(100);
    check(&mut d, "3f45 82", &[(":method", "GET")], &[], 0);
    assert_eq!(d.max_table_size(), 100);
    // A larger SETTINGS size raises only the bound.
    d.set_settings_max(8192);
    assert_eq!(d.max_table_size(), 100);
    check(&mut d, "3fe1 3f", &[], &[], 0);
    assert_eq!(d.max_table_size(), 8192);
}

#[test]
fn unknown_entries_fill_an_empty_table() {
    let mut d = Decoder::new();
    d.fill_unknown();
    assert_eq!(d.table_len(), 99);
    assert_eq!(d.table_size(), 99 * 41);
    let r = d.decode(&hex("be 4001 6101 62"), true);
    assert_eq!(r.headers, hs(&[("<unknown>", ""), ("a", "b")]));
    // 4059 + 34 still fits: nothing evicted yet; one more entry evicts one.
    assert_eq!((d.table_len(), d.table_size()), (100, 99 * 41 + 34));
    d.decode(&hex("4001 6101 62"), true);
    assert_eq!((d.table_len(), d.table_size()), (100, 98 * 41 + 68));
    // Not refilled once it holds something.
    d.fill_unknown();
    assert_eq!(d.table_len(), 100);
}

#[test]
fn caps_on_the_list() {
    let block = vec![0x82; MAX_LINES + 5];
    let r = Decoder::new().decode(&block, true);
    assert_eq!(r.headers.len(), MAX_LINES);
    assert_eq!(r.stop, Some(Stop::TooManyLines));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        blocks in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..300), any::<bool>()), 1..6),
        settings in proptest::option::of(any::<u32>()),
    ) {
        let mut d = Decoder::new();
        d.fill_unknown();
        if let Some(s) = settings {
            d.set_settings_max(s);
        }
        for (b, last) in &blocks {
            let r = d.decode(b, *last);
            prop_assert!(r.headers.len() <= MAX_LINES);
            prop_assert!(d.table_size() <= d.max_table_size());
        }
    }

    #[test]
    fn huffman_never_panics(b in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = huffman_decode(&b);
    }

    /// Differential: what the `hpack` crate's encoder writes, we read back.
    #[test]
    fn reads_what_the_hpack_crate_writes(
        lists in proptest::collection::vec(
            proptest::collection::vec(
                (proptest::sample::select(vec![
                    ":method", ":path", "content-type", "x-a", "accept", "cookie",
                ]), proptest::collection::vec(any::<u8>(), 0..40)),
                0..12),
            1..6),
    ) {
        let mut enc = ::hpack::Encoder::new();
        let mut dec = Decoder::new();
        for list in &lists {
            let block = enc.encode(list.iter().map(|(n, v)| (n.as_bytes(), v.as_slice())));
            let r = dec.decode(&block, true);
            prop_assert_eq!(r.stop, None);
            let want: Vec<Header> =
                list.iter().map(|(n, v)| (n.as_bytes().to_vec(), v.clone())).collect();
            prop_assert_eq!(r.headers, want);
        }
    }
}
