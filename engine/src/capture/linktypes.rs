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
}
