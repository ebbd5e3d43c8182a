//! The field registry: every field and protocol is declared once, with the
//! abbreviation users type after `-e` and `-Y`, and the type and base that
//! decide how its values print.

use std::collections::HashMap;

/// Index of a field in the [`Registry`]; cheap to copy and compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

impl FieldId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Wireshark's field types, as far as dorsal's dissectors need them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// A protocol: prints its summary label, or its abbreviation.
    Protocol,
    /// A label without a value: prints `1` when present.
    None,
    Bool,
    U8,
    U16,
    U24,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    Char,
    Float,
    Double,
    AbsTime,
    RelTime,
    String,
    /// A NUL-terminated string: read and printed as [`FieldType::String`],
    /// told apart only in the glossary.
    StringZ,
    Bytes,
    Ether,
    Ipv4,
    Ipv6,
    FrameNum,
    Guid,
}

impl FieldType {
    /// A character string (NUL-terminated or not).
    pub fn is_string(self) -> bool {
        matches!(self, FieldType::String | FieldType::StringZ)
    }

    pub fn is_unsigned(self) -> bool {
        matches!(
            self,
            FieldType::U8
                | FieldType::U16
                | FieldType::U24
                | FieldType::U32
                | FieldType::U64
                | FieldType::FrameNum
                | FieldType::Char
        )
    }

    pub fn is_signed(self) -> bool {
        matches!(
            self,
            FieldType::I8 | FieldType::I16 | FieldType::I32 | FieldType::I64
        )
    }

    pub fn is_integer(self) -> bool {
        self.is_unsigned() || self.is_signed()
    }

    /// Width in bits of an integer type's container.
    pub fn bits(self) -> u32 {
        match self {
            FieldType::U8 | FieldType::I8 | FieldType::Char => 8,
            FieldType::U16 | FieldType::I16 => 16,
            FieldType::U24 => 24,
            FieldType::U32 | FieldType::I32 | FieldType::FrameNum => 32,
            _ => 64,
        }
    }

    /// Wireshark's name of the type, used in filter error messages.
    pub fn wireshark_name(self) -> &'static str {
        match self {
            FieldType::Protocol => "FT_PROTOCOL",
            FieldType::None => "FT_NONE",
            FieldType::Bool => "FT_BOOLEAN",
            FieldType::U8 => "FT_UINT8",
            FieldType::U16 => "FT_UINT16",
            FieldType::U24 => "FT_UINT24",
            FieldType::U32 => "FT_UINT32",
            FieldType::U64 => "FT_UINT64",
            FieldType::I8 => "FT_INT8",
            FieldType::I16 => "FT_INT16",
            FieldType::I32 => "FT_INT32",
            FieldType::I64 => "FT_INT64",
            FieldType::Char => "FT_CHAR",
            FieldType::Float => "FT_FLOAT",
            FieldType::Double => "FT_DOUBLE",
            FieldType::AbsTime => "FT_ABSOLUTE_TIME",
            FieldType::RelTime => "FT_RELATIVE_TIME",
            FieldType::String => "FT_STRING",
            FieldType::StringZ => "FT_STRINGZ",
            FieldType::Bytes => "FT_BYTES",
            FieldType::Ether => "FT_ETHER",
            FieldType::Ipv4 => "FT_IPv4",
            FieldType::Ipv6 => "FT_IPv6",
            FieldType::FrameNum => "FT_FRAMENUM",
            FieldType::Guid => "FT_GUID",
        }
    }
}

/// How an integer (or a time) is displayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    None,
    Dec,
    Hex,
    Oct,
    DecHex,
    HexDec,
    /// Absolute time shown as local date and time (`frame.time`).
    TimeLocal,
    /// Absolute time shown as UTC date and time (`frame.time_utc`).
    TimeUtc,
    /// Absolute time shown as seconds since the epoch (`frame.time_epoch`).
    TimeUnix,
}

/// Value-to-name table of an integer field (Wireshark's `value_string`).
pub type ValueStrings = &'static [(u64, &'static str)];

/// The name `strings` gives `v`, if any (Wireshark's `try_val_to_str`).
pub fn value_name(strings: ValueStrings, v: u64) -> Option<&'static str> {
    strings.iter().find(|&&(k, _)| k == v).map(|&(_, n)| n)
}

/// The declaration of one field.
#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    pub abbrev: &'static str,
    pub name: &'static str,
    pub ftype: FieldType,
    pub base: Base,
    /// Non-zero for a field carved out of a larger integer.
    pub bitmask: u64,
    pub strings: Option<ValueStrings>,
    /// The protocol it is listed under when that is not the longest
    /// protocol its abbreviation starts with (`ftp-data.*` under `ftp`).
    pub parent: Option<&'static str>,
    /// A protocol's name in the glossary when it is not its label
    /// (`Ethernet` for the `Ethernet II` item).
    pub long: Option<&'static str>,
    /// A protocol's short name when it is not its abbreviation in capitals.
    pub short: Option<&'static str>,
}

impl FieldDef {
    pub const fn new(
        abbrev: &'static str,
        name: &'static str,
        ftype: FieldType,
        base: Base,
    ) -> Self {
        FieldDef {
            abbrev,
            name,
            ftype,
            base,
            bitmask: 0,
            strings: None,
            parent: None,
            long: None,
            short: None,
        }
    }

    pub const fn mask(mut self, bitmask: u64) -> Self {
        self.bitmask = bitmask;
        self
    }

    pub const fn strings(mut self, strings: ValueStrings) -> Self {
        self.strings = Some(strings);
        self
    }

    pub const fn parent(mut self, protocol: &'static str) -> Self {
        self.parent = Some(protocol);
        self
    }

    pub const fn long(mut self, name: &'static str) -> Self {
        self.long = Some(name);
        self
    }

    pub const fn short(mut self, name: &'static str) -> Self {
        self.short = Some(name);
        self
    }

    /// A protocol's name in `-G fields` and `-G protocols`.
    pub fn long_name(&self) -> &'static str {
        self.long.unwrap_or(self.name)
    }

    /// A protocol's short name in `-G protocols`.
    pub fn short_name(&self) -> std::borrow::Cow<'static, str> {
        match self.short {
            Some(s) => s.into(),
            None => self.abbrev.to_ascii_uppercase().into(),
        }
    }

    /// The protocol a field belongs to: the abbreviation up to the first dot.
    pub fn protocol_abbrev(&self) -> &'static str {
        self.abbrev.split('.').next().unwrap_or(self.abbrev)
    }
}

/// All fields of all registered dissectors.
#[derive(Default)]
pub struct Registry {
    defs: Vec<FieldDef>,
    by_abbrev: HashMap<&'static str, FieldId>,
    /// Per field, the groups (one bit each) whose declarations named it.
    groups: Vec<u64>,
    /// The group declarations made now belong to (see [`Registry::set_group`]).
    group: u64,
    /// Fields numbered in order of first appearance across flows.
    indices: Vec<FieldId>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a field and returns its id. Declaring an abbreviation twice
    /// returns the first id, as several Wireshark dissectors share names.
    pub fn add(&mut self, def: FieldDef) -> FieldId {
        if let Some(&id) = self.by_abbrev.get(def.abbrev) {
            if let Some(g) = self.groups.get_mut(id.index()) {
                *g |= self.group;
            }
            return id;
        }
        let id = FieldId(u32::try_from(self.defs.len()).unwrap_or(u32::MAX));
        self.defs.push(def);
        self.groups.push(self.group);
        self.by_abbrev.insert(def.abbrev, id);
        id
    }

    /// Marks the fields declared from now on as belonging to group `n`
    /// (0..64), so a caller can tell which dissectors a set of fields needs.
    pub fn set_group(&mut self, n: u32) {
        self.group = 1u64.checked_shl(n).unwrap_or(0);
    }

    /// Declares a field as an index numbered in order of first appearance
    /// across flows (`tcp.stream`); its dissector calls
    /// [`crate::table::FieldTable::note_new_index`] for each new value.
    pub fn mark_index(&mut self, id: FieldId) {
        if !self.indices.contains(&id) {
            self.indices.push(id);
        }
    }

    pub fn is_index(&self, id: FieldId) -> bool {
        self.indices.contains(&id)
    }

    /// The fields declared with [`Registry::mark_index`].
    pub fn indices(&self) -> &[FieldId] {
        &self.indices
    }

    /// The groups that declared this field, one bit each.
    pub fn groups(&self, id: FieldId) -> u64 {
        self.groups.get(id.index()).copied().unwrap_or(0)
    }

    pub fn lookup(&self, abbrev: &str) -> Option<FieldId> {
        self.by_abbrev.get(abbrev).copied()
    }

    /// The declaration of a field. Ids only come from this registry, so the
    /// fallback (the first field) is never reached in practice.
    pub fn def(&self, id: FieldId) -> &FieldDef {
        self.defs
            .get(id.index())
            .or_else(|| self.defs.first())
            .unwrap_or(&EMPTY_DEF)
    }

    pub fn len(&self) -> usize {
        self.defs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (FieldId, &FieldDef)> {
        self.defs
            .iter()
            .enumerate()
            .map(|(i, d)| (FieldId(i as u32), d))
    }
}

static EMPTY_DEF: FieldDef = FieldDef::new("", "", FieldType::None, Base::None);

/// Declares a dissector's fields as a struct of ids with a `register`
/// constructor, so each field is named once and its id is a plain member.
///
/// ```ignore
/// fields! {
///     pub struct UdpFields {
///         udp: "udp", "User Datagram Protocol", Protocol, None;
///         srcport: "udp.srcport", "Source Port", U16, Dec;
///     }
/// }
/// ```
#[macro_export]
macro_rules! fields {
    ($vis:vis struct $name:ident {
        $($f:ident : $abbrev:literal, $label:literal, $ty:ident, $base:ident $(, mask $mask:literal)? $(, strings $vs:expr)? $(, parent $parent:literal)? $(, long $long:literal)? $(, short $short:literal)? ;)*
    }) => {
        #[derive(Clone, Copy, Debug)]
        $vis struct $name { $(pub $f: $crate::fields::FieldId,)* }
        impl $name {
            pub fn register(reg: &mut $crate::fields::Registry) -> Self {
                Self { $($f: reg.add(
                    $crate::fields::FieldDef::new($abbrev, $label,
                        $crate::fields::FieldType::$ty, $crate::fields::Base::$base)
                    $(.mask($mask))? $(.strings($vs))? $(.parent($parent))? $(.long($long))? $(.short($short))?
                ),)* }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fields! {
        struct Demo {
            proto: "demo", "Demo Protocol", Protocol, None;
            port: "demo.port", "Port", U16, Dec;
            flags: "demo.flags", "Flags", U8, Hex, mask 0xf0;
        }
    }

    #[test]
    fn macro_registers_in_order_and_lookup_finds_them() {
        let mut reg = Registry::new();
        let d = Demo::register(&mut reg);
        assert_eq!(reg.lookup("demo.port"), Some(d.port));
        assert_eq!(reg.def(d.flags).bitmask, 0xf0);
        assert_eq!(reg.def(d.proto).ftype, FieldType::Protocol);
        assert_eq!(reg.lookup("demo.nope"), None);
    }

    #[test]
    fn duplicate_abbrev_returns_first_id() {
        let mut reg = Registry::new();
        let a = reg.add(FieldDef::new("x.y", "A", FieldType::U8, Base::Dec));
        let b = reg.add(FieldDef::new("x.y", "B", FieldType::U16, Base::Hex));
        assert_eq!(a, b);
        assert_eq!(reg.def(a).name, "A");
    }
}
