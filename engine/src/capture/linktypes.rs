//! The link-layer header types wiretap maps to an encapsulation it knows
//! (a pcap whose link type is not listed is refused at open, as tshark
//! does), and the pseudo-headers wiretap strips from some of them.

/// Sorted LINKTYPE_ values known to wiretap 4.0 (read off its lookup table).
const KNOWN: &[u32] = &[
    0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 18, 19, 32, 50, 51, 99, 100, 101, 104, 105,
    106, 107, 108, 109, 112, 113, 114, 117, 118, 119, 121, 122, 123, 127, 128, 129, 130, 131, 133,
    135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 147, 148, 149, 150, 151, 152, 153, 154, 155,
    156, 157, 158, 159, 160, 161, 162, 163, 165, 167, 169, 170, 171, 172, 173, 177, 178, 179, 180,
    181, 183, 184, 186, 187, 188, 189, 190, 192, 195, 196, 197, 199, 200, 201, 202, 203, 204, 209,
    210, 211, 212, 213, 214, 215, 220, 224, 225, 226, 227, 228, 229, 230, 231, 235, 236, 237, 239,
    240, 241, 242, 243, 245, 248, 249, 250, 251, 252, 253, 254, 255, 256, 258, 259, 260, 264, 266,
    268, 270, 271, 272, 273, 274, 275, 276, 279, 280, 283, 287, 288, 290, 292, 293, 294, 295,
];

pub fn is_known(linktype: u32) -> bool {
    KNOWN.binary_search(&linktype).is_ok()
}

/// LINKTYPE_ value -> the wiretap encapsulation number (`WTAP_ENCAP_*`) of
/// wiretap 4.0 (`frame.encap_type`, and the `WTAP_ENCAP = N` text tshark
/// shows for a frame no dissector takes), as tshark 4.0.17 reports it for a
/// one-record pcap of each link type in [`KNOWN`].
const WTAP_ENCAP: &[(u32, u16)] = &[
    (0, 15),
    (1, 1),
    (2, 184),
    (3, 148),
    (6, 2),
    (7, 8),
    (8, 3),
    (9, 4),
    (10, 6),
    (11, 10),
    (12, 7),
    (13, 38),
    (14, 7),
    (16, 11),
    (18, 11),
    (19, 11),
    (32, 69),
    (50, 4),
    (51, 139),
    (99, 61),
    (100, 10),
    (101, 7),
    (104, 28),
    (105, 20),
    (106, 11),
    (107, 26),
    (108, 174),
    (109, 38),
    (112, 28),
    (113, 25),
    (114, 30),
    (117, 39),
    (118, 29),
    (119, 21),
    (121, 32),
    (122, 18),
    (123, 13),
    (127, 23),
    (128, 37),
    (129, 9),
    (130, 81),
    (131, 82),
    (133, 87),
    (135, 68),
    (136, 151),
    (137, 67),
    (138, 62),
    (139, 75),
    (140, 42),
    (141, 43),
    (142, 101),
    (143, 33),
    (144, 44),
    (147, 45),
    (148, 46),
    (149, 47),
    (150, 48),
    (151, 49),
    (152, 50),
    (153, 51),
    (154, 52),
    (155, 53),
    (156, 54),
    (157, 55),
    (158, 56),
    (159, 57),
    (160, 58),
    (161, 59),
    (162, 60),
    (163, 24),
    (165, 63),
    (167, 76),
    (169, 66),
    (170, 178),
    (171, 179),
    (172, 77),
    (173, 78),
    (177, 88),
    (178, 83),
    (179, 84),
    (180, 85),
    (181, 86),
    (183, 91),
    (184, 181),
    (186, 92),
    (187, 41),
    (188, 93),
    (189, 95),
    (190, 109),
    (192, 97),
    (195, 104),
    (196, 100),
    (197, 98),
    (199, 103),
    (200, 197),
    (201, 99),
    (202, 147),
    (203, 131),
    (204, 19),
    (209, 112),
    (210, 106),
    (211, 108),
    (212, 107),
    (213, 111),
    (214, 105),
    (215, 113),
    (220, 115),
    (224, 121),
    (225, 122),
    (226, 124),
    (227, 125),
    (228, 129),
    (229, 130),
    (230, 127),
    (231, 146),
    (235, 132),
    (236, 133),
    (237, 157),
    (239, 141),
    (240, 135),
    (241, 136),
    (242, 180),
    (243, 138),
    (245, 140),
    (248, 149),
    (249, 152),
    (250, 153),
    (251, 154),
    (252, 155),
    (253, 158),
    (254, 159),
    (255, 160),
    (256, 161),
    (258, 171),
    (259, 172),
    (260, 173),
    (264, 177),
    (266, 182),
    (268, 36),
    (270, 183),
    (271, 185),
    (272, 186),
    (273, 199),
    (274, 198),
    (275, 200),
    (276, 210),
    (279, 204),
    (280, 205),
    (283, 206),
    (287, 211),
    (288, 208),
    (290, 212),
    (292, 214),
    (293, 215),
    (294, 216),
    (295, 217),
];

/// The wiretap encapsulation of a LINKTYPE_ value.
pub fn wtap_encap(linktype: u32) -> Option<u16> {
    WTAP_ENCAP
        .binary_search_by_key(&linktype, |&(l, _)| l)
        .ok()
        .and_then(|i| WTAP_ENCAP.get(i))
        .map(|&(_, e)| e)
}

/// Bytes of pseudo-header wiretap takes off the front of each record of
/// this link type, and the name its "too small" message uses.
pub fn pseudo_header(linktype: u32) -> Option<(u32, &'static str)> {
    Some(match linktype {
        123 => (
            4,
            "SunATM file has a {}-byte packet, too small to have even an ATM pseudo-header",
        ),
        144 => (
            16,
            "IrDA file has a {}-byte packet, too small to have even an IrDA pseudo-header",
        ),
        139 => (
            4,
            "MTP2 file has a {}-byte packet, too small to have even an MTP2 pseudo-header",
        ),
        177 => (
            16,
            "LAPD file has a {}-byte packet, too small to have even a LAPD pseudo-header",
        ),
        196 => (
            5,
            "SITA file has a {}-byte packet, too small to have even a SITA pseudo-header",
        ),
        201 => (
            4,
            "Bluetooth file has a {}-byte packet, too small to have even a pseudo-header",
        ),
        254 => (
            4,
            "Bluetooth monitor file has a {}-byte packet, too small to have even a pseudo-header",
        ),
        245 => (
            2,
            "NFC LLCP file has a {}-byte packet, too small to have even a pseudo-header",
        ),
        204 => (
            1,
            "PPP file has a {}-byte packet, too small to have even a pseudo-header",
        ),
        209 => (
            5,
            "I2C file has a {}-byte packet, too small to have even a I2C pseudo-header",
        ),
        _ => return None,
    })
}

/// Applies the pseudo-header of `linktype` to a record of `caplen` captured
/// and `len` wire bytes: the offset of the packet data and the new lengths.
/// A wire length shorter than the pseudo-header wraps, which tshark shows
/// as the largest reported length, 2147483647.
pub fn strip_pseudo_header(
    linktype: u32,
    caplen: u32,
    len: u32,
) -> Result<(usize, u32, u32), String> {
    let Some((p, msg)) = pseudo_header(linktype) else {
        return Ok((0, caplen, len));
    };
    if caplen < p {
        return Err(format!(
            "pcap/pcapng: {}",
            msg.replace("{}", &caplen.to_string())
        ));
    }
    let len = len.checked_sub(p).unwrap_or(i32::MAX as u32);
    Ok((p as usize, caplen - p, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sunatm_loses_four_bytes_and_short_wire_lengths_clamp() {
        assert_eq!(strip_pseudo_header(123, 64, 65622), Ok((4, 60, 65618)));
        assert_eq!(
            strip_pseudo_header(123, 16, 2),
            Ok((4, 12, i32::MAX as u32))
        );
        assert!(strip_pseudo_header(123, 3, 3).is_err());
        assert_eq!(strip_pseudo_header(1, 3, 3), Ok((0, 3, 3)));
    }

    #[test]
    fn known_is_sorted() {
        assert!(KNOWN.windows(2).all(|w| w[0] < w[1]));
        assert!(is_known(1) && is_known(276) && !is_known(281));
    }

    #[test]
    fn every_known_link_type_has_its_encapsulation() {
        assert!(WTAP_ENCAP.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(KNOWN.iter().all(|&l| wtap_encap(l).is_some()));
        assert_eq!(wtap_encap(1), Some(1));
        assert_eq!(wtap_encap(8), Some(3));
        assert_eq!(wtap_encap(281), None);
    }
}
