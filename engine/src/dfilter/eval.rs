//! Evaluation of a compiled filter over one frame's field table.

use std::cmp::Ordering;

use super::compile::{Fun, Node, Src, Val};
use super::parse::{ArOp, CmpOp, Range};
use crate::fields::{FieldId, FieldType};
use crate::table::{FieldTable, Value};

/// Cap on the values one operand may produce in one frame.
const MAX_VALUES: usize = 100_000;

fn to_val(t: &FieldTable, ftype: FieldType, v: &Value) -> Val {
    match *v {
        Value::None => Val::Bytes(Vec::new()),
        Value::Proto { bytes, .. } => Val::Bytes(t.bytes(bytes).to_vec()),
        Value::Bool(b) => Val::Int(i128::from(b)),
        Value::U(u) => {
            if ftype == FieldType::Bool {
                Val::Int(i128::from(u != 0))
            } else {
                Val::Int(i128::from(u))
            }
        }
        Value::I(i) => Val::Int(i128::from(i)),
        Value::F(f) => Val::F(f),
        // frame.time_epoch: an absolute time Wireshark types as an offset.
        Value::AbsTime(ts) if ftype == FieldType::RelTime => Val::Rel(ts.as_nanos()),
        Value::AbsTime(ts) => Val::Abs(ts.as_nanos()),
        Value::RelTime(n) => Val::Rel(i128::from(n)),
        Value::Str(s) | Value::Bytes(s) => Val::Bytes(t.bytes(s).to_vec()),
        Value::Ether(e) => Val::Bytes(e.to_vec()),
        Value::Ipv4(a) => Val::V4(u32::from_be_bytes(a), u32::MAX),
        Value::Ipv6(a) => Val::V6(a, 128),
    }
}

fn val_bytes(v: &Val) -> Vec<u8> {
    match v {
        Val::Bytes(b) => b.clone(),
        Val::V4(a, _) => a.to_be_bytes().to_vec(),
        Val::V6(a, _) => a.to_vec(),
        Val::Int(i) => i.to_string().into_bytes(),
        Val::F(f) => f.to_string().into_bytes(),
        Val::Abs(n) | Val::Rel(n) => n.to_string().into_bytes(),
    }
}

/// Resolves a list of ranges over a sequence of length `len` to index ranges.
fn resolve(ranges: &[Range], len: usize) -> Option<Vec<(usize, usize)>> {
    let n = len as i64;
    let mut out = Vec::new();
    for r in ranges {
        let abs = |i: i64| if i < 0 { n + i } else { i };
        let (s, e) = match *r {
            Range::Len(s, l) => {
                let s = abs(s);
                (s, s + l)
            }
            Range::To(s, e) => (abs(s), abs(e) + 1),
            Range::One(i) => {
                let s = abs(i);
                (s, s + 1)
            }
            Range::ToEnd(s) => (abs(s), n),
        };
        if s < 0 || e > n || s > e {
            return None;
        }
        out.push((s as usize, e as usize));
    }
    Some(out)
}

fn field_values(
    t: &FieldTable,
    id: FieldId,
    ftype: FieldType,
    layer: &Option<(FieldId, Vec<Range>)>,
    out: &mut Vec<Val>,
) {
    match layer {
        None => {
            for v in t.values(id).take(MAX_VALUES) {
                out.push(to_val(t, ftype, v));
            }
        }
        Some((proto, ranges)) => {
            let total = t.values(*proto).count();
            // Layer numbers are 1-based.
            let mut wanted = vec![false; total + 1];
            for r in ranges {
                let one = |i: i64| if i < 0 { total as i64 + 1 + i } else { i };
                let (s, e) = match *r {
                    Range::One(i) => (one(i), one(i)),
                    Range::To(a, b) => (one(a), one(b)),
                    Range::Len(a, l) => (one(a), one(a) + l - 1),
                    Range::ToEnd(a) => (one(a), total as i64),
                };
                let mut k = s.max(1);
                while k <= e.min(total as i64) {
                    if let Some(w) = wanted.get_mut(k as usize) {
                        *w = true;
                    }
                    k += 1;
                }
            }
            let mut inst = 0usize;
            for e in t.entries() {
                if e.field == *proto {
                    inst += 1;
                }
                if e.field == id && wanted.get(inst).copied().unwrap_or(false) {
                    out.push(to_val(t, ftype, &e.value));
                    if out.len() >= MAX_VALUES {
                        return;
                    }
                }
            }
        }
    }
}

fn arith(op: ArOp, a: &Val, b: &Val) -> Option<Val> {
    Some(match (a, b) {
        (Val::Int(x), Val::Int(y)) => Val::Int(match op {
            ArOp::Add => x.checked_add(*y)?,
            ArOp::Sub => x.checked_sub(*y)?,
            ArOp::Mul => x.checked_mul(*y)?,
            ArOp::Div => x.checked_div(*y)?,
            ArOp::Mod => x.checked_rem(*y)?,
            ArOp::BitAnd => x & y,
        }),
        (Val::F(_), _) | (_, Val::F(_)) => {
            let x = as_f(a)?;
            let y = as_f(b)?;
            Val::F(match op {
                ArOp::Add => x + y,
                ArOp::Sub => x - y,
                ArOp::Mul => x * y,
                ArOp::Div => x / y,
                ArOp::Mod => x % y,
                ArOp::BitAnd => return None,
            })
        }
        (Val::Rel(x), Val::Rel(y)) => Val::Rel(match op {
            ArOp::Add => x.checked_add(*y)?,
            ArOp::Sub => x.checked_sub(*y)?,
            _ => return None,
        }),
        (Val::Bytes(x), Val::Bytes(y)) if op == ArOp::BitAnd => {
            Val::Bytes(x.iter().zip(y.iter()).map(|(a, b)| a & b).collect())
        }
        _ => return None,
    })
}

fn as_f(v: &Val) -> Option<f64> {
    match v {
        Val::F(f) => Some(*f),
        Val::Int(i) => Some(*i as f64),
        _ => None,
    }
}

fn collect(src: &Src, t: &FieldTable, out: &mut Vec<Val>) {
    match src {
        Src::Field { id, ftype, layer } => field_values(t, *id, *ftype, layer, out),
        Src::Const(v) => out.push(v.clone()),
        Src::Nothing => {}
        Src::Slice(inner, ranges) => {
            let mut tmp = Vec::new();
            collect(inner, t, &mut tmp);
            for v in tmp {
                let b = val_bytes(&v);
                if let Some(rs) = resolve(ranges, b.len()) {
                    let mut o = Vec::new();
                    for (s, e) in rs {
                        o.extend_from_slice(b.get(s..e).unwrap_or(&[]));
                    }
                    out.push(Val::Bytes(o));
                }
            }
        }
        Src::Neg(inner) => {
            let mut tmp = Vec::new();
            collect(inner, t, &mut tmp);
            out.extend(tmp.into_iter().filter_map(|v| match v {
                Val::Int(i) => Some(Val::Int(-i)),
                Val::F(f) => Some(Val::F(-f)),
                Val::Rel(r) => Some(Val::Rel(-r)),
                _ => None,
            }));
        }
        Src::Arith(op, a, b) => {
            let (mut xa, mut xb) = (Vec::new(), Vec::new());
            collect(a, t, &mut xa);
            collect(b, t, &mut xb);
            for x in &xa {
                for y in &xb {
                    if out.len() >= MAX_VALUES {
                        return;
                    }
                    if let Some(v) = arith(*op, x, y) {
                        out.push(v);
                    }
                }
            }
        }
        Src::Func(f, args) => {
            let mut all = Vec::new();
            for a in args {
                let mut tmp = Vec::new();
                collect(a, t, &mut tmp);
                match f {
                    Fun::Len => {
                        let w = match a {
                            Src::Field { ftype, .. } if ftype.is_integer() => {
                                Some((ftype.bits() / 8) as i128)
                            }
                            _ => None,
                        };
                        for v in &tmp {
                            let l = w.unwrap_or(match v {
                                Val::V4(..) => 4,
                                Val::V6(..) => 16,
                                Val::Bytes(b) => b.len() as i128,
                                _ => 8,
                            });
                            out.push(Val::Int(l));
                        }
                    }
                    Fun::Count => out.push(Val::Int(tmp.len() as i128)),
                    Fun::Lower | Fun::Upper | Fun::Str => {
                        for v in tmp {
                            let b = match (f, v) {
                                (Fun::Lower, Val::Bytes(b)) => b.to_ascii_lowercase(),
                                (Fun::Upper, Val::Bytes(b)) => b.to_ascii_uppercase(),
                                (_, Val::V4(a, _)) => {
                                    std::net::Ipv4Addr::from(a).to_string().into_bytes()
                                }
                                (_, Val::V6(a, _)) => {
                                    std::net::Ipv6Addr::from(a).to_string().into_bytes()
                                }
                                (_, v) => val_bytes(&v),
                            };
                            out.push(Val::Bytes(b));
                        }
                    }
                    Fun::Abs => {
                        out.extend(tmp.into_iter().map(|v| match v {
                            Val::Int(i) => Val::Int(i.abs()),
                            Val::F(f) => Val::F(f.abs()),
                            Val::Rel(r) => Val::Rel(r.abs()),
                            o => o,
                        }));
                    }
                    Fun::Max | Fun::Min => all.extend(tmp),
                }
            }
            if matches!(f, Fun::Max | Fun::Min) {
                let mut best: Option<Val> = None;
                for v in all {
                    best = match best {
                        None => Some(v),
                        Some(b) => {
                            let o = compare(&v, &b);
                            let take = match f {
                                Fun::Max => o == Some(Ordering::Greater),
                                _ => o == Some(Ordering::Less),
                            };
                            Some(if take { v } else { b })
                        }
                    };
                }
                out.extend(best);
            }
        }
    }
}

fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => Some(x.cmp(y)),
        (Val::F(_), _) | (_, Val::F(_)) => as_f(a)?.partial_cmp(&as_f(b)?),
        (Val::Abs(x), Val::Abs(y)) | (Val::Rel(x), Val::Rel(y)) => Some(x.cmp(y)),
        (Val::Bytes(x), Val::Bytes(y)) => Some(x.cmp(y)),
        (Val::V4(x, mx), Val::V4(y, my)) => {
            let m = mx & my;
            Some((x & m).cmp(&(y & m)))
        }
        (Val::V6(x, px), Val::V6(y, py)) => {
            let p = (*px).min(*py) as usize;
            let mut xa = *x;
            let mut ya = *y;
            for (i, (xb, yb)) in xa.iter_mut().zip(ya.iter_mut()).enumerate() {
                let keep = p.saturating_sub(i * 8).min(8);
                let mask = if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
                *xb &= mask;
                *yb &= mask;
            }
            Some(xa.cmp(&ya))
        }
        _ => None,
    }
}

fn test(op: CmpOp, a: &Val, b: &Val) -> bool {
    let Some(o) = compare(a, b) else {
        return false;
    };
    match op {
        CmpOp::AnyEq | CmpOp::AllEq => o == Ordering::Equal,
        CmpOp::AllNe | CmpOp::AnyNe => o != Ordering::Equal,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
    }
}

fn contains(hay: &Val, needle: &Val) -> bool {
    let h = val_bytes(hay);
    let n = val_bytes(needle);
    n.is_empty() || memchr::memmem::find(&h, &n).is_some()
}

fn quantify(all: bool, xs: &[Val], f: impl Fn(&Val) -> bool) -> bool {
    if all {
        !xs.is_empty() && xs.iter().all(f)
    } else {
        xs.iter().any(f)
    }
}

pub fn eval(n: &Node, t: &FieldTable) -> bool {
    match n {
        Node::And(a, b) => eval(a, t) && eval(b, t),
        Node::Or(a, b) => eval(a, t) || eval(b, t),
        Node::Not(a) => !eval(a, t),
        Node::Exists(s) => {
            let mut v = Vec::new();
            match s {
                Src::Field {
                    id, layer: None, ..
                } => t.has(*id),
                Src::Field { .. } | Src::Slice(..) => {
                    collect(s, t, &mut v);
                    !v.is_empty()
                }
                // An arithmetic test passes when some value is not zero.
                _ => {
                    collect(s, t, &mut v);
                    v.iter().any(|x| match x {
                        Val::Int(i) => *i != 0,
                        Val::F(f) => *f != 0.0,
                        Val::Rel(r) => *r != 0,
                        Val::Bytes(b) => b.iter().any(|c| *c != 0),
                        _ => true,
                    })
                }
            }
        }
        Node::Cmp { op, all, a, b } => {
            let mut xa = Vec::new();
            collect(a, t, &mut xa);
            // Most filters compare with a constant: no list to build for it
            // (nor one for a field the frame lacks: this runs per frame).
            let mut collected = Vec::new();
            let xb = match b {
                Src::Const(v) => std::slice::from_ref(v),
                _ => {
                    collect(b, t, &mut collected);
                    &collected[..]
                }
            };
            if xb.is_empty() {
                return false;
            }
            match op {
                // all-not-equal: no pair is equal.
                CmpOp::AllNe => {
                    !xa.is_empty() && xa.iter().all(|x| xb.iter().all(|y| test(*op, x, y)))
                }
                _ => quantify(*all, &xa, |x| xb.iter().any(|y| test(*op, x, y))),
            }
        }
        Node::Contains { all, a, b } => {
            let (mut xa, mut xb) = (Vec::new(), Vec::new());
            collect(a, t, &mut xa);
            collect(b, t, &mut xb);
            quantify(*all, &xa, |x| xb.iter().any(|y| contains(x, y)))
        }
        Node::Matches { all, a, re } => {
            let mut xa = Vec::new();
            collect(a, t, &mut xa);
            quantify(*all, &xa, |x| re.is_match(&val_bytes(x)).unwrap_or(false))
        }
        Node::In { all, a, set } => {
            let mut xa = Vec::new();
            collect(a, t, &mut xa);
            let mut items = Vec::new();
            for (lo, hi) in set {
                let (mut l, mut h) = (Vec::new(), Vec::new());
                collect(lo, t, &mut l);
                if let Some(hi) = hi {
                    collect(hi, t, &mut h);
                }
                items.push((l, hi.is_some(), h));
            }
            quantify(*all, &xa, |x| {
                items.iter().any(|(l, is_range, h)| {
                    if *is_range {
                        l.iter().any(|lo| test(CmpOp::Ge, x, lo))
                            && h.iter().any(|hi| test(CmpOp::Le, x, hi))
                    } else {
                        l.iter().any(|v| test(CmpOp::AnyEq, x, v))
                    }
                })
            })
        }
    }
}
