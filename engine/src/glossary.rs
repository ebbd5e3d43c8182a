//! `-G fields` and `-G protocols`: the registry listed in tshark's glossary
//! format, so scripts that look field names up in it find dorsal's.
//!
//! Rows are tab-separated as tshark writes them: `P name abbrev`... for a
//! protocol, `F name abbrev type parent base bitmask blurb` for a field.
//! A field's parent is the protocol it lives under: the one it names, or
//! the longest protocol abbreviation that is a dotted prefix of it.

use std::collections::HashSet;
use std::io::{self, Write};

use crate::fields::{Base, FieldDef, FieldType, Registry};

/// The reports `-G` knows, with tshark's descriptions of them.
pub const REPORTS: &[(&str, &str)] = &[
    ("fields", "dump fields glossary and exit"),
    (
        "protocols",
        "dump protocols in registration database and exit",
    ),
];

/// Writes the fields glossary: each protocol, then the fields under it.
pub fn write_fields(reg: &Registry, out: &mut dyn Write) -> io::Result<()> {
    let protocols = protocol_set(reg);
    for (_, d) in reg.iter() {
        if d.ftype == FieldType::Protocol {
            writeln!(out, "P\t{}\t{}", d.long_name(), d.abbrev)?;
        } else {
            let parent = d
                .parent
                .or_else(|| parent_of(d.abbrev, &protocols))
                .unwrap_or("");
            writeln!(
                out,
                "F\t{}\t{}\t{}\t{}\t{}\t0x{:x}\t",
                d.name,
                d.abbrev,
                d.ftype.wireshark_name(),
                parent,
                base_name(d),
                d.bitmask
            )?;
        }
    }
    Ok(())
}

/// Writes the protocols: long name, short name, filter name (by default
/// the label and the abbreviation in capitals).
pub fn write_protocols(reg: &Registry, out: &mut dyn Write) -> io::Result<()> {
    for (_, d) in reg.iter() {
        if d.ftype == FieldType::Protocol {
            writeln!(out, "{}\t{}\t{}", d.long_name(), d.short_name(), d.abbrev)?;
        }
    }
    Ok(())
}

fn protocol_set(reg: &Registry) -> HashSet<&'static str> {
    reg.iter()
        .filter(|(_, d)| d.ftype == FieldType::Protocol)
        .map(|(_, d)| d.abbrev)
        .collect()
}

/// The longest protocol abbreviation that is a dotted prefix of `abbrev`.
fn parent_of<'a>(abbrev: &'a str, protocols: &HashSet<&str>) -> Option<&'a str> {
    let mut cut = abbrev.len();
    while let Some(dot) = abbrev.get(..cut).and_then(|s| s.rfind('.')) {
        let prefix = abbrev.get(..dot)?;
        if protocols.contains(prefix) {
            return Some(prefix);
        }
        cut = dot;
    }
    None
}

/// The base column: an integer's display base, a boolean's bit width (of
/// the smallest integer holding its mask), blank for the other types.
fn base_name(d: &FieldDef) -> String {
    if d.ftype == FieldType::Bool {
        let bits = match 64 - d.bitmask.leading_zeros() {
            0 => 0,
            1..=8 => 8,
            9..=16 => 16,
            17..=24 => 24,
            25..=32 => 32,
            _ => 64,
        };
        return bits.to_string();
    }
    if !d.ftype.is_integer() || d.ftype == FieldType::FrameNum {
        return String::new();
    }
    match d.base {
        Base::Hex => "BASE_HEX",
        Base::Oct => "BASE_OCT",
        Base::DecHex => "BASE_DEC_HEX",
        Base::HexDec => "BASE_HEX_DEC",
        Base::None => "BASE_NONE",
        _ => "BASE_DEC",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_sit_under_their_longest_protocol() {
        let mut reg = Registry::new();
        reg.add(FieldDef::new(
            "ip",
            "Internet Protocol",
            FieldType::Protocol,
            Base::None,
        ));
        reg.add(FieldDef::new(
            "ip.src",
            "Source",
            FieldType::Ipv4,
            Base::None,
        ));
        reg.add(FieldDef::new("x.y", "Orphan", FieldType::U16, Base::Hex));
        reg.add(FieldDef::new("ip.flags.df", "DF", FieldType::Bool, Base::None).mask(0x4000));
        let mut out = Vec::new();
        write_fields(&reg, &mut out).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "P\tInternet Protocol\tip\n\
             F\tSource\tip.src\tFT_IPv4\tip\t\t0x0\t\n\
             F\tOrphan\tx.y\tFT_UINT16\t\tBASE_HEX\t0x0\t\n\
             F\tDF\tip.flags.df\tFT_BOOLEAN\tip\t16\t0x4000\t\n"
        );
    }
}
