//! Bounds-checked big- and little-endian reads over untrusted bytes, for
//! every dissector crate.

pub fn u8_at(b: &[u8], i: usize) -> Option<u8> {
    b.get(i).copied()
}

pub fn be16(b: &[u8], i: usize) -> Option<u16> {
    array(b, i).map(u16::from_be_bytes)
}

pub fn be32(b: &[u8], i: usize) -> Option<u32> {
    array(b, i).map(u32::from_be_bytes)
}

pub fn le16(b: &[u8], i: usize) -> Option<u16> {
    array(b, i).map(u16::from_le_bytes)
}

pub fn le32(b: &[u8], i: usize) -> Option<u32> {
    array(b, i).map(u32::from_le_bytes)
}

pub fn array<const N: usize>(b: &[u8], i: usize) -> Option<[u8; N]> {
    let s = b.get(i..i.checked_add(N)?)?;
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    Some(a)
}

/// Where the first of a header's reads, given by the offsets they end at
/// (ascending), runs past `len` captured bytes: the end Wireshark's
/// exception reports. The last end when all fit.
pub fn first_read_past(len: usize, ends: &[usize]) -> usize {
    ends.iter()
        .copied()
        .find(|&end| end > len)
        .or_else(|| ends.last().copied())
        .unwrap_or(len)
}

/// The bytes from `i` on, empty when `i` is past the end.
pub fn from(b: &[u8], i: usize) -> &[u8] {
    b.get(i..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fail_instead_of_panicking_past_the_end() {
        let b = [1, 2, 3];
        assert_eq!(be16(&b, 1), Some(0x0203));
        assert_eq!(be16(&b, 2), None);
        assert_eq!(be32(&b, usize::MAX), None);
        assert_eq!(from(&b, 9), &[] as &[u8]);
        assert_eq!(array::<2>(&b, 0), Some([1, 2]));
    }
}
