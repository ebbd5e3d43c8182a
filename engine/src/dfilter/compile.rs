//! Semantic check (names, types, literals) and the compiled program.

use std::cmp::Ordering;
use std::sync::Arc;

use super::parse::{ArOp, CmpOp, Ent, Expr, Quant, Range, SetElem, Span};
use super::FilterError;
use crate::fields::{FieldDef, FieldId, FieldType, Registry};

/// A value during evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Int(i128),
    F(f64),
    Bytes(Vec<u8>),
    V4(u32, u32),
    V6([u8; 16], u8),
    Abs(i128),
    Rel(i128),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fun {
    Len,
    Count,
    Lower,
    Upper,
    Str,
    Max,
    Min,
    Abs,
}

#[derive(Clone, Debug)]
pub enum Src {
    Field {
        id: FieldId,
        ftype: FieldType,
        layer: Option<(FieldId, Vec<Range>)>,
    },
    Const(Val),
    Slice(Box<Src>, Vec<Range>),
    Func(Fun, Vec<Src>),
    Neg(Box<Src>),
    Arith(ArOp, Box<Src>, Box<Src>),
    /// `${field}`: only meaningful in the GUI; yields nothing.
    Nothing,
}

#[derive(Clone, Debug)]
pub enum Node {
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Exists(Src),
    Cmp {
        op: CmpOp,
        all: bool,
        a: Src,
        b: Src,
    },
    Contains {
        all: bool,
        a: Src,
        b: Src,
    },
    Matches {
        all: bool,
        a: Src,
        re: Arc<pcre2::bytes::Regex>,
    },
    In {
        all: bool,
        a: Src,
        set: Vec<(Src, Option<Src>)>,
    },
}

fn fail(message: String, span: Option<Span>) -> FilterError {
    FilterError { message, span }
}

pub fn pretty_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Protocol => "Protocol",
        FieldType::None => "Label",
        FieldType::Bool => "Boolean",
        FieldType::U8 => "Unsigned integer (1 byte)",
        FieldType::U16 => "Unsigned integer (2 bytes)",
        FieldType::U24 => "Unsigned integer (3 bytes)",
        FieldType::U32 => "Unsigned integer (4 bytes)",
        FieldType::U64 => "Unsigned integer (8 bytes)",
        FieldType::I8 => "Signed integer (1 byte)",
        FieldType::I16 => "Signed integer (2 bytes)",
        FieldType::I32 => "Signed integer (4 bytes)",
        FieldType::I64 => "Signed integer (8 bytes)",
        FieldType::Char => "Character (1 byte)",
        FieldType::Float => "Floating point (single-precision)",
        FieldType::Double => "Floating point (double-precision)",
        FieldType::AbsTime => "Date and time",
        FieldType::RelTime => "Time offset",
        FieldType::String | FieldType::StringZ => "Character string",
        FieldType::Bytes => "Byte sequence",
        FieldType::Ether => "Ethernet or other MAC address",
        FieldType::Ipv4 => "IPv4 address",
        FieldType::Ipv6 => "IPv6 address",
        FieldType::FrameNum => "Frame number",
        FieldType::Guid => "Globally Unique Identifier",
    }
}

/// Type classes that may be compared with each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Num,
    Float,
    Text,
    Bytes,
    Ether,
    V4,
    V6,
    Abs,
    Rel,
    Proto,
    Label,
}

fn class(t: FieldType) -> Class {
    match t {
        t if t.is_integer() || t == FieldType::Bool => Class::Num,
        FieldType::Float | FieldType::Double => Class::Float,
        t if t.is_string() => Class::Text,
        FieldType::Bytes | FieldType::Guid => Class::Bytes,
        FieldType::Ether => Class::Ether,
        FieldType::Ipv4 => Class::V4,
        FieldType::Ipv6 => Class::V6,
        FieldType::AbsTime => Class::Abs,
        FieldType::RelTime => Class::Rel,
        FieldType::Protocol => Class::Proto,
        _ => Class::Label,
    }
}

fn is_bytes_like(t: FieldType) -> bool {
    t.is_string()
        || matches!(
            t,
            FieldType::Bytes
                | FieldType::Protocol
                | FieldType::Ether
                | FieldType::Guid
                | FieldType::Ipv6
                | FieldType::Ipv4
        )
}

/// What the semantic checker knows about an operand.
struct Typed {
    src: Src,
    /// The type values of this operand have; `None` for an unconverted literal.
    ty: Option<FieldType>,
    def: Option<FieldDef>,
    span: Span,
    /// A literal awaiting conversion to the other side's type.
    lit: Option<Lit>,
    name: String,
}

#[derive(Clone, Debug)]
enum Lit {
    Word(String),
    Str(Vec<u8>),
    Char(u64),
}

pub struct Checker<'r> {
    reg: &'r Registry,
    pub fields: Vec<FieldId>,
}

impl<'r> Checker<'r> {
    pub fn new(reg: &'r Registry) -> Self {
        Checker {
            reg,
            fields: Vec::new(),
        }
    }

    fn use_field(&mut self, id: FieldId) {
        if !self.fields.contains(&id) {
            self.fields.push(id);
        }
    }

    pub fn expr(&mut self, e: &Expr) -> Result<Node, FilterError> {
        Ok(match e {
            Expr::And(a, b) => Node::And(Box::new(self.expr(a)?), Box::new(self.expr(b)?)),
            Expr::Or(a, b) => Node::Or(Box::new(self.expr(a)?), Box::new(self.expr(b)?)),
            Expr::Not(a) => Node::Not(Box::new(self.expr(a)?)),
            Expr::Exists(ent) => {
                match ent {
                    Ent::Word { text, span, .. } if self.reg.lookup(text).is_none() => {
                        return Err(not_a_field(text, *span));
                    }
                    Ent::Str { span, .. } | Ent::Char { span, .. } | Ent::Literal { span, .. } => {
                        return Err(fail(
                            "__TEXT__ is neither a field nor a protocol name.".into(),
                            Some(*span),
                        ));
                    }
                    Ent::Func { span, .. } => {
                        self.ent(ent)?;
                        return Err(fail(
                            "You cannot test whether a function is present.".into(),
                            Some(*span),
                        ));
                    }
                    _ => {}
                }
                let t = self.ent(ent)?;
                Node::Exists(t.src)
            }
            Expr::Cmp { op, quant, a, b } => {
                let (a, b) = self.pair(a, b, None)?;
                let all = match quant {
                    Quant::All => true,
                    Quant::Any => false,
                    Quant::Default => matches!(op, CmpOp::AllNe | CmpOp::AllEq),
                };
                let op = match (op, quant) {
                    (CmpOp::AllNe, Quant::Any) => CmpOp::AnyNe,
                    (CmpOp::AllEq, Quant::Any) => CmpOp::AnyEq,
                    (o, _) => *o,
                };
                Node::Cmp { op, all, a, b }
            }
            Expr::Contains { quant, a, b } => {
                let (a, b) = self.pair(a, b, Some("contains"))?;
                Node::Contains {
                    all: *quant == Quant::All,
                    a,
                    b,
                }
            }
            Expr::Matches { quant, a, b } => {
                let ta = self.ent(a)?;
                self.check_lhs(&ta, a)?;
                if let Some(t) = ta.ty {
                    if !(t.is_string() || matches!(t, FieldType::Protocol | FieldType::Bytes)) {
                        return Err(fail(
                            format!(
                                "{} (type={}) cannot participate in matches comparison.",
                                ta.name,
                                pretty_name(t)
                            ),
                            Some(ta.span),
                        ));
                    }
                }
                let Ent::Str { bytes, .. } = b else {
                    return Err(fail(
                        "Matches requires a double quoted string on the right side.".into(),
                        Some(b.span()),
                    ));
                };
                let pat = String::from_utf8_lossy(bytes);
                let re = pcre2::bytes::RegexBuilder::new()
                    .caseless(true)
                    .build(&pat)
                    .map_err(|e| {
                        let s = e.to_string();
                        let m = match s.rfind(": ") {
                            Some(i) if s.starts_with("PCRE2") => s.get(i + 2..).unwrap_or(&s),
                            _ => &s,
                        };
                        fail(format!("Regex compilation error: {m}."), None)
                    })?;
                Node::Matches {
                    all: *quant == Quant::All,
                    a: ta.src,
                    re: Arc::new(re),
                }
            }
            Expr::In { quant, a, set } => {
                let ta = self.ent(a)?;
                self.check_lhs(&ta, a)?;
                let mut out = Vec::new();
                for el in set {
                    match el {
                        SetElem::One(x) => {
                            let x = self.rhs(&ta, x, None)?;
                            out.push((x, None));
                        }
                        SetElem::Range(x, y) => {
                            let x = self.rhs(&ta, x, None)?;
                            let y = self.rhs(&ta, y, None)?;
                            out.push((x, Some(y)));
                        }
                    }
                }
                Node::In {
                    all: *quant == Quant::All,
                    a: ta.src,
                    set: out,
                }
            }
        })
    }

    fn check_lhs(&self, t: &Typed, e: &Ent) -> Result<(), FilterError> {
        if let Some(Lit::Word(w)) = &t.lit {
            return Err(not_a_field(w, e.span()));
        }
        if t.lit.is_some() {
            return Err(fail(
                "__TEXT__ is neither a field nor a protocol name.".into(),
                Some(e.span()),
            ));
        }
        Ok(())
    }

    fn pair(&mut self, a: &Ent, b: &Ent, what: Option<&str>) -> Result<(Src, Src), FilterError> {
        let ta = self.ent(a)?;
        if ta.lit.is_some() {
            // A constant on the left: check the right side first, as tshark
            // converts against the field it finds.
            let tb = self.ent(b)?;
            if tb.lit.is_some() {
                self.check_lhs(&ta, a)?;
            }
            let sa = self.rhs(&tb, a, what)?;
            return Ok((sa, tb.src));
        }
        if let (Some(op), Some(t)) = (what, ta.ty) {
            if !is_bytes_like(t) || matches!(t, FieldType::Ipv4 | FieldType::Ipv6) {
                return Err(fail(
                    format!(
                        "{} (type={}) cannot participate in {op} comparison.",
                        ta.name,
                        pretty_name(t)
                    ),
                    Some(ta.span),
                ));
            }
        }
        let sb = self.rhs(&ta, b, what)?;
        Ok((ta.src, sb))
    }

    /// Checks `e` against the type of `lhs`, converting literals.
    fn rhs(&mut self, lhs: &Typed, e: &Ent, what: Option<&str>) -> Result<Src, FilterError> {
        let tb = self.ent(e)?;
        let Some(lt) = lhs.ty else {
            return Ok(tb.src);
        };
        if let Some(lit) = &tb.lit {
            let target = if what == Some("contains") && !lt.is_string() {
                FieldType::Bytes
            } else {
                lt
            };
            let v = convert(lit, target, lhs.def.as_ref(), tb.span, e)?;
            return Ok(Src::Const(v));
        }
        if let Some(rt) = tb.ty {
            let (ca, cb) = (class(lt), class(rt));
            let ok = ca == cb
                || (matches!(ca, Class::Text | Class::Bytes | Class::Proto | Class::Ether)
                    && matches!(cb, Class::Text | Class::Bytes | Class::Proto | Class::Ether)
                    && (what.is_some() || ca == Class::Bytes || cb == Class::Bytes))
                || (ca == Class::Num && cb == Class::Float)
                || (ca == Class::Float && cb == Class::Num);
            if !ok {
                return Err(fail(
                    format!("{} and {} are not of compatible types.", lhs.name, tb.name),
                    Some(tb.span),
                ));
            }
        }
        Ok(tb.src)
    }

    fn field(&mut self, name: &str, span: Span) -> Result<(FieldId, FieldDef), FilterError> {
        match self.reg.lookup(name) {
            Some(id) => {
                self.use_field(id);
                Ok((id, *self.reg.def(id)))
            }
            None => Err(not_a_field(name, span)),
        }
    }

    fn ent(&mut self, e: &Ent) -> Result<Typed, FilterError> {
        let span = e.span();
        let mk = |src, ty, def, name: String| Typed {
            src,
            ty,
            def,
            span,
            lit: None,
            name,
        };
        let lit = |l: Lit, name: String| Typed {
            src: Src::Nothing,
            ty: None,
            def: None,
            span,
            lit: Some(l),
            name,
        };
        Ok(match e {
            Ent::Word { text, forced, .. } => match self.reg.lookup(text) {
                Some(_) => {
                    let (id, def) = self.field(text, span)?;
                    mk(
                        Src::Field {
                            id,
                            ftype: def.ftype,
                            layer: None,
                        },
                        Some(def.ftype),
                        Some(def),
                        text.clone(),
                    )
                }
                None if *forced => return Err(not_a_field(text, span)),
                None => lit(Lit::Word(text.clone()), text.clone()),
            },
            Ent::Field { name, layer, .. } => {
                let (id, def) = match self.reg.lookup(name) {
                    Some(_) => self.field(name, span)?,
                    None => {
                        return Err(fail(format!("{name} is not a valid field"), Some(span)));
                    }
                };
                let proto = self.reg.lookup(def.protocol_abbrev()).unwrap_or(id);
                self.use_field(proto);
                mk(
                    Src::Field {
                        id,
                        ftype: def.ftype,
                        layer: Some((proto, layer.clone())),
                    },
                    Some(def.ftype),
                    Some(def),
                    name.clone(),
                )
            }
            Ent::Literal { text, .. } => lit(Lit::Word(text.clone()), text.clone()),
            Ent::Str { bytes, .. } => lit(
                Lit::Str(bytes.clone()),
                String::from_utf8_lossy(bytes).into_owned(),
            ),
            Ent::Char { value, .. } => lit(Lit::Char(*value), format!("{value}")),
            Ent::Ref { .. } => mk(Src::Nothing, None, None, String::new()),
            Ent::Slice { ent, ranges, .. } => {
                let t = self.ent(ent)?;
                if t.lit.is_some() {
                    return Err(fail(
                        format!("Range is not supported for entity {}", t.name),
                        Some(t.span),
                    ));
                }
                if let Some(ty) = t.ty {
                    if !is_bytes_like(ty) {
                        return Err(fail(
                            format!(
                                "\"{}\" is a {} and cannot be sliced into a sequence of bytes.",
                                t.name,
                                pretty_name(ty)
                            ),
                            Some(t.span),
                        ));
                    }
                }
                mk(
                    Src::Slice(Box::new(t.src), ranges.clone()),
                    Some(FieldType::Bytes),
                    None,
                    t.name,
                )
            }
            Ent::Func { name, args, .. } => {
                let nspan = (span.0, span.0 + name.len());
                let f = match name.as_str() {
                    "len" => Fun::Len,
                    "count" => Fun::Count,
                    "lower" => Fun::Lower,
                    "upper" => Fun::Upper,
                    "string" => Fun::Str,
                    "max" => Fun::Max,
                    "min" => Fun::Min,
                    "abs" => Fun::Abs,
                    _ => {
                        return Err(fail(
                            format!("Function '{name}' does not exist"),
                            Some(nspan),
                        ))
                    }
                };
                let (lo, hi) = match f {
                    Fun::Max | Fun::Min => (1, usize::MAX),
                    _ => (1, 1),
                };
                if args.len() < lo {
                    return Err(fail(
                        format!("Function {name} needs at least {lo} arguments."),
                        Some(nspan),
                    ));
                }
                if args.len() > hi {
                    return Err(fail(
                        format!("Function {name} can only accept {hi} arguments."),
                        Some(nspan),
                    ));
                }
                let mut srcs = Vec::new();
                let mut ty = None;
                for a in args {
                    let t = self.ent(a)?;
                    if t.lit.is_some() {
                        return Err(fail(
                            format!("Only fields can be used as parameter for {name}()"),
                            Some(t.span),
                        ));
                    }
                    match f {
                        Fun::Lower | Fun::Upper if !t.ty.is_some_and(FieldType::is_string) => {
                            return Err(fail(
                                format!(
                                    "Only string type fields can be used as parameter for {name}()"
                                ),
                                Some(t.span),
                            ));
                        }
                        Fun::Max | Fun::Min | Fun::Abs => {
                            if let Some(ty) = t.ty {
                                if !matches!(
                                    class(ty),
                                    Class::Num | Class::Float | Class::Rel | Class::Abs
                                ) {
                                    return Err(fail(
                                        format!("Argument '{}' is not valid for {name}()", t.name),
                                        Some(t.span),
                                    ));
                                }
                            }
                        }
                        _ => {}
                    }
                    ty = ty.or(t.ty);
                    srcs.push(t.src);
                }
                let rty = match f {
                    Fun::Len | Fun::Count => Some(FieldType::U32),
                    Fun::Lower | Fun::Upper | Fun::Str => Some(FieldType::String),
                    _ => ty,
                };
                mk(Src::Func(f, srcs), rty, None, name.to_string())
            }
            Ent::Neg { ent, .. } => {
                let t = self.ent(ent)?;
                if let Some(l) = &t.lit {
                    // A negative constant: keep it as a word with a sign.
                    let txt = match l {
                        Lit::Word(w) => format!("-{w}"),
                        _ => {
                            return Err(fail(
                                format!("{} is not a valid arithmetic operand.", t.name),
                                Some(t.span),
                            ))
                        }
                    };
                    return Ok(Typed {
                        lit: Some(Lit::Word(txt.clone())),
                        name: txt,
                        span,
                        ..t
                    });
                }
                mk(Src::Neg(Box::new(t.src)), t.ty, t.def, t.name)
            }
            Ent::Arith { op, a, b, .. } => {
                let ta = self.ent(a)?;
                if ta.lit.is_some() {
                    return Err(fail(
                        "Constant arithmetic expression on the LHS is invalid.".into(),
                        Some(ta.span),
                    ));
                }
                if let Some(t) = ta.ty {
                    let ok = match op {
                        ArOp::BitAnd => {
                            t.is_integer() || t == FieldType::Bool || t == FieldType::Bytes
                        }
                        _ => matches!(class(t), Class::Num | Class::Float | Class::Rel),
                    };
                    if !ok {
                        let opname = match op {
                            ArOp::BitAnd => "&",
                            ArOp::Add => "+",
                            ArOp::Sub => "-",
                            ArOp::Mul => "*",
                            ArOp::Div => "/",
                            ArOp::Mod => "%",
                        };
                        return Err(fail(
                            format!("{} cannot {opname}.", t.wireshark_name()),
                            Some(ta.span),
                        ));
                    }
                }
                let sb = self.rhs(&ta, b, None)?;
                mk(
                    Src::Arith(*op, Box::new(ta.src), Box::new(sb)),
                    ta.ty,
                    ta.def,
                    ta.name,
                )
            }
        })
    }
}

fn not_a_field(name: &str, span: Span) -> FilterError {
    fail(
        format!("{name} is neither a field nor a protocol name."),
        Some(span),
    )
}

fn parse_uint(s: &str) -> Option<u128> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(b) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        (b, 2)
    } else if s.len() > 1 && s.starts_with('0') {
        (s.get(1..).unwrap_or(""), 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u128::from_str_radix(digits, radix).ok()
}

fn lookup_strings(def: Option<&FieldDef>, s: &str) -> Option<u64> {
    def?.strings?
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(s))
        .map(|(v, _)| *v)
}

/// Converts a literal to a value of type `t` (tshark's fvalue_from_literal/string).
fn convert(
    lit: &Lit,
    t: FieldType,
    def: Option<&FieldDef>,
    span: Span,
    _e: &Ent,
) -> Result<Val, FilterError> {
    let err = |m: String| fail(m, Some(span));
    let word = match lit {
        Lit::Char(c) => {
            return Ok(match class(t) {
                Class::Num => Val::Int(i128::from(*c)),
                Class::Text | Class::Bytes | Class::Proto => Val::Bytes(vec![*c as u8]),
                _ => {
                    return Err(err(format!(
                        "{} cannot be converted from a character constant.",
                        pretty_name(t)
                    )))
                }
            })
        }
        Lit::Str(b) => {
            return match t {
                t if t.is_string() || matches!(t, FieldType::Bytes | FieldType::Protocol) => {
                    Ok(Val::Bytes(b.clone()))
                }
                FieldType::AbsTime => parse_abs(&String::from_utf8_lossy(b)).ok_or_else(|| {
                    err(format!(
                        "\"{}\" is not a valid absolute time. Example: \"Nov 12, 1999 08:55:44.123\" or \"2011-07-04 12:34:56\"",
                        String::from_utf8_lossy(b)
                    ))
                }),
                _ => {
                    if t.is_integer() || t == FieldType::Bool {
                        if let Some(v) = lookup_strings(def, &String::from_utf8_lossy(b)) {
                            return Ok(Val::Int(i128::from(v)));
                        }
                    }
                    Err(err(format!(
                        "{} cannot be converted from a string (\"{}\").",
                        pretty_name(t),
                        String::from_utf8_lossy(b)
                    )))
                }
            };
        }
        Lit::Word(w) => w.as_str(),
    };
    match t {
        FieldType::Bool => {
            if word == "True" || word == "TRUE" {
                return Ok(Val::Int(1));
            }
            if word == "False" || word == "FALSE" {
                return Ok(Val::Int(0));
            }
            if let Some(v) = parse_uint(word) {
                return Ok(Val::Int(i128::from(v != 0)));
            }
            // Most boolean fields use "Set"/"Not set" in tshark; without a
            // table only the exact spellings above are accepted.
            let (ts, fs) = match def.and_then(|d| d.strings) {
                Some(s) => (
                    s.iter().find(|(v, _)| *v != 0).map(|x| x.1).unwrap_or("True"),
                    crate::fields::value_name(s, 0).unwrap_or("False"),
                ),
                None => ("Set", "Not set"),
            };
            if word.eq_ignore_ascii_case(ts) {
                return Ok(Val::Int(1));
            }
            if word.eq_ignore_ascii_case(fs) {
                return Ok(Val::Int(0));
            }
            Err(err(format!(
                "\"{word}\" cannot be found among the possible values for {}.",
                def.map(|d| d.abbrev).unwrap_or("")
            )))
        }
        t if t.is_integer() => {
            let (neg, body) = match word.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, word),
            };
            let Some(v) = parse_uint(body) else {
                if let Some(v) = lookup_strings(def, word) {
                    return Ok(Val::Int(i128::from(v)));
                }
                if def.and_then(|d| d.strings).is_some() {
                    return Err(err(format!(
                        "\"{word}\" cannot be found among the possible values for {}.",
                        def.map(|d| d.abbrev).unwrap_or("")
                    )));
                }
                return Err(err(format!("\"{word}\" is not a valid number.")));
            };
            let bits = t.bits();
            if t.is_unsigned() {
                let max = (1u128 << bits) - 1;
                if v > max && !neg {
                    return Err(err(format!(
                        "\"{word}\" too big for this field, maximum {max}."
                    )));
                }
                if neg {
                    return Ok(Val::Int(-(v as i128)));
                }
                Ok(Val::Int(v as i128))
            } else {
                let max = (1u128 << (bits - 1)) - 1;
                if !neg && v > max {
                    return Err(err(format!(
                        "\"{word}\" too big for this field, maximum {max}."
                    )));
                }
                if neg && v > max + 1 {
                    return Err(err(format!(
                        "\"{word}\" too small for this field, minimum -{}.",
                        max + 1
                    )));
                }
                Ok(Val::Int(if neg { -(v as i128) } else { v as i128 }))
            }
        }
        FieldType::Float | FieldType::Double => word
            .parse::<f64>()
            .ok()
            .or_else(|| parse_uint(word).map(|v| v as f64))
            .map(Val::F)
            .ok_or_else(|| err(format!("\"{word}\" is not a valid floating point number."))),
        FieldType::RelTime => parse_rel(word)
            .map(Val::Rel)
            .ok_or_else(|| err(format!("\"{word}\" is not a valid time."))),
        FieldType::AbsTime => parse_abs(word).ok_or_else(|| {
            err(format!(
                "\"{word}\" is not a valid absolute time. Example: \"Nov 12, 1999 08:55:44.123\" or \"2011-07-04 12:34:56\""
            ))
        }),
        t if t.is_string() => Ok(Val::Bytes(word.as_bytes().to_vec())),
        FieldType::Ipv4 => {
            let (a, p) = match word.split_once('/') {
                Some((a, p)) => (a, Some(p)),
                None => (word, None),
            };
            let addr: std::net::Ipv4Addr = a.parse().map_err(|_| {
                err(format!("\"{word}\" is not a valid hostname or IPv4 address."))
            })?;
            let bits = match p {
                None => 32,
                Some(p) => {
                    let n: u32 = p.parse().map_err(|_| {
                        err(format!("\"{p}\" is not a valid number of netmask bits."))
                    })?;
                    if n > 32 {
                        return Err(err(format!(
                            "Netmask bits in a CIDR IPv4 address should be <= 32, not {n}"
                        )));
                    }
                    n
                }
            };
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            Ok(Val::V4(u32::from(addr), mask))
        }
        FieldType::Ipv6 => {
            let (a, p) = match word.split_once('/') {
                Some((a, p)) => (a, Some(p)),
                None => (word, None),
            };
            let addr: std::net::Ipv6Addr = a.parse().map_err(|_| {
                err(format!("\"{word}\" is not a valid hostname or IPv6 address."))
            })?;
            let bits = match p {
                None => 128,
                Some(p) => {
                    let n: u32 = p
                        .parse()
                        .map_err(|_| err(format!("\"{p}\" is not a valid prefix.")))?;
                    if n > 128 {
                        return Err(err(format!(
                            "Prefix in a IPv6 address should be <= 128, not {n}"
                        )));
                    }
                    n
                }
            };
            Ok(Val::V6(addr.octets(), bits as u8))
        }
        FieldType::Ether => {
            let b = parse_hex_bytes(word)
                .ok_or_else(|| err(format!("\"{word}\" is not a valid Ethernet address.")))?;
            match b.len().cmp(&6) {
                Ordering::Less => Err(err(format!(
                    "\"{word}\" contains too few bytes to be a valid Ethernet address."
                ))),
                Ordering::Greater => Err(err(format!(
                    "\"{word}\" contains too many bytes to be a valid Ethernet address."
                ))),
                Ordering::Equal => Ok(Val::Bytes(b)),
            }
        }
        FieldType::Bytes | FieldType::Guid | FieldType::Protocol => {
            if let Some(b) = parse_hex_bytes(word) {
                return Ok(Val::Bytes(b));
            }
            if t == FieldType::Protocol {
                return Ok(Val::Bytes(word.as_bytes().to_vec()));
            }
            Err(err(format!("\"{word}\" is not a valid byte string.")))
        }
        _ => Err(err(format!(
            "{} cannot be converted from a string (\"{word}\").",
            pretty_name(t)
        ))),
    }
}

/// `aa:bb:cc`, `aa.bb`, `aa-bb`, `aabbcc`, single `a`/`ab`.
pub fn parse_hex_bytes(s: &str) -> Option<Vec<u8>> {
    let s = s.strip_prefix(':').unwrap_or(s);
    if s.is_empty() {
        return None;
    }
    let sep = s.chars().find(|c| matches!(c, ':' | '.' | '-'));
    if s.len() == 14 && s.split('.').all(|p| p.len() == 4) {
        let joined: String = s.split('.').collect();
        return parse_hex_bytes(&joined);
    }
    let parts: Vec<&str> = match sep {
        Some(c) => s.split(c).collect(),
        None => {
            if s.len() <= 2 {
                vec![s]
            } else if s.len().is_multiple_of(2) {
                (0..s.len() / 2)
                    .filter_map(|i| s.get(2 * i..2 * i + 2))
                    .collect()
            } else {
                return None;
            }
        }
    };
    let mut out = Vec::new();
    for p in parts {
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        out.push(u8::from_str_radix(p, 16).ok()?);
    }
    Some(out)
}

fn parse_frac(s: &str) -> Option<i128> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: i128 = s.parse().ok()?;
    Some(v * 10i128.pow(9 - s.len() as u32))
}

fn parse_rel(s: &str) -> Option<i128> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (a, f) = match body.split_once('.') {
        Some((a, f)) => (a, f),
        None => (body, ""),
    };
    if a.is_empty() && f.is_empty() {
        return None;
    }
    let secs: i128 = if a.is_empty() {
        0
    } else if a.bytes().all(|c| c.is_ascii_digit()) && a.len() < 20 {
        a.parse().ok()?
    } else {
        return None;
    };
    let ns = if f.is_empty() { 0 } else { parse_frac(f)? };
    let v = secs * 1_000_000_000 + ns;
    Some(if neg { -v } else { v })
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Absolute time, read in UTC: `2012-03-16 14:47:10[.frac]` or
/// `Mar 16, 2012 14:47:10[.frac]`.
fn parse_abs(s: &str) -> Option<Val> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let s = s.trim();
    let (date, time) = match s.rsplit_once(' ') {
        Some((d, t)) if t.contains(':') => (d.trim(), Some(t)),
        _ => (s, None),
    };
    let (y, m, d) = if let Some((mon, rest)) = date.split_once(' ') {
        let mi = MONTHS
            .iter()
            .position(|x| mon.len() >= 3 && x.eq_ignore_ascii_case(mon.get(..3).unwrap_or("")))?;
        let (dd, yy) = rest.split_once(',')?;
        (
            yy.trim().parse::<i64>().ok()?,
            mi as u32 + 1,
            dd.trim().parse::<u32>().ok()?,
        )
    } else {
        let mut it = date.split('-');
        let y = it.next()?.parse::<i64>().ok()?;
        let m = it.next()?.parse::<u32>().ok()?;
        let d = it.next()?.parse::<u32>().ok()?;
        if it.next().is_some() {
            return None;
        }
        (y, m, d)
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(0..=9999).contains(&y) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    let mut ns = 0;
    if let Some(t) = time {
        let (hms, frac) = match t.split_once('.') {
            Some((a, f)) => (a, Some(f)),
            None => (t, None),
        };
        let mut it = hms.split(':');
        let h: i64 = it.next()?.parse().ok()?;
        let mi: i64 = it.next()?.parse().ok()?;
        let se: i64 = match it.next() {
            Some(x) => x.parse().ok()?,
            None => 0,
        };
        if h > 23 || mi > 59 || se > 60 {
            return None;
        }
        secs += h * 3600 + mi * 60 + se;
        if let Some(f) = frac {
            ns = parse_frac(f)?;
        }
    }
    Some(Val::Abs(i128::from(secs) * 1_000_000_000 + ns))
}
