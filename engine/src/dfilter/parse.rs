//! The grammar: tokens -> syntax tree with spans (Wireshark 4.0's grammar,
//! written as a recursive-descent parser with a depth cap).

use super::lex::{Tok, Token};
use super::FilterError;

/// Deepest nesting the parser accepts.
const MAX_DEPTH: usize = 200;

pub type Span = (usize, usize);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    AnyEq,
    AllNe,
    AllEq,
    AnyNe,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quant {
    Default,
    Any,
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
}

/// One range of a slice or layer: start and how far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// `i:len`
    Len(i64, i64),
    /// `i-j` (inclusive end)
    To(i64, i64),
    /// `i`
    One(i64),
    /// `i:` to the end
    ToEnd(i64),
}

#[derive(Clone, Debug)]
pub enum Ent {
    /// A word that may be a field or a literal; `forced` when written `.name`.
    Word {
        text: String,
        span: Span,
        forced: bool,
    },
    Field {
        name: String,
        layer: Vec<Range>,
        span: Span,
    },
    /// A `:`-prefixed literal.
    Literal {
        text: String,
        span: Span,
    },
    Str {
        bytes: Vec<u8>,
        span: Span,
    },
    Char {
        value: u64,
        span: Span,
    },
    Slice {
        ent: Box<Ent>,
        ranges: Vec<Range>,
        span: Span,
    },
    Func {
        name: String,
        args: Vec<Ent>,
        span: Span,
    },
    Ref {
        span: Span,
    },
    Neg {
        ent: Box<Ent>,
        span: Span,
    },
    Arith {
        op: ArOp,
        a: Box<Ent>,
        b: Box<Ent>,
        span: Span,
    },
}

impl Ent {
    pub fn span(&self) -> Span {
        match self {
            Ent::Word { span, .. }
            | Ent::Field { span, .. }
            | Ent::Literal { span, .. }
            | Ent::Str { span, .. }
            | Ent::Char { span, .. }
            | Ent::Slice { span, .. }
            | Ent::Func { span, .. }
            | Ent::Ref { span }
            | Ent::Neg { span, .. }
            | Ent::Arith { span, .. } => *span,
        }
    }
}

#[derive(Clone, Debug)]
pub enum SetElem {
    One(Ent),
    Range(Ent, Ent),
}

#[derive(Clone, Debug)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Exists(Ent),
    Cmp {
        op: CmpOp,
        quant: Quant,
        a: Ent,
        b: Ent,
    },
    Contains {
        quant: Quant,
        a: Ent,
        b: Ent,
    },
    Matches {
        quant: Quant,
        a: Ent,
        b: Ent,
    },
    In {
        quant: Quant,
        a: Ent,
        set: Vec<SetElem>,
    },
}

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    depth: usize,
}

fn fail(msg: String, span: Option<Span>) -> FilterError {
    FilterError { message: msg, span }
}

/// Parses the tokens; `None` is the empty filter.
pub fn parse(toks: &[Token]) -> Result<Option<Expr>, FilterError> {
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    if let Some(t) = p.peek_tok() {
        return Err(p.unexpected(t));
    }
    Ok(Some(e))
}

pub fn parse_range(s: &str) -> Option<Range> {
    let t = s.trim();
    let num = |x: &str| -> Option<i64> {
        let x = x.trim();
        if x.is_empty() {
            return None;
        }
        x.parse::<i64>().ok()
    };
    if let Some((a, b)) = t.split_once(':') {
        let start = if a.trim().is_empty() { Some(0) } else { num(a) }?;
        if b.trim().is_empty() {
            return Some(Range::ToEnd(start));
        }
        let len = num(b)?;
        if len <= 0 {
            return None;
        }
        return Some(Range::Len(start, len));
    }
    // `i-j`, where i may itself be negative.
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    if let Some((a, b)) = body.split_once('-') {
        let a = num(a)?;
        let b = if let Some(bb) = b.strip_prefix('-') {
            -num(bb)?
        } else {
            num(b)?
        };
        return Some(Range::To(if neg { -a } else { a }, b));
    }
    let v = num(body)?;
    Some(Range::One(if neg { -v } else { v }))
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.toks.get(self.pos)
    }

    fn peek_tok(&self) -> Option<&'a Token> {
        self.peek()
    }

    fn next(&mut self) -> Option<&'a Token> {
        let t = self.toks.get(self.pos);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn is(&self, tok: &Tok) -> bool {
        self.peek().is_some_and(|t| &t.tok == tok)
    }

    fn unexpected(&self, t: &Token) -> FilterError {
        fail(
            format!("\"{}\" was unexpected in this context.", t.text),
            Some((t.start, t.end)),
        )
    }

    fn unexpected_here(&self) -> FilterError {
        match self.peek() {
            Some(t) => self.unexpected(t),
            None => fail("Unexpected end of filter expression.".into(), None),
        }
    }

    fn expect(&mut self, tok: &Tok) -> Result<&'a Token, FilterError> {
        if self.is(tok) {
            Ok(self.next().ok_or_else(|| self.unexpected_here())?)
        } else {
            Err(self.unexpected_here())
        }
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(fail("Filter expression is nested too deeply.".into(), None));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, FilterError> {
        self.enter()?;
        let mut left = self.and_expr()?;
        while self.is(&Tok::Or) {
            self.next();
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.is(&Tok::And) {
            self.next();
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        self.enter()?;
        let r = if self.is(&Tok::Not) {
            self.next();
            Expr::Not(Box::new(self.unary()?))
        } else if self.is(&Tok::LParen) {
            self.next();
            let e = self.expr()?;
            self.expect(&Tok::RParen)?;
            e
        } else {
            self.relation()?
        };
        self.depth -= 1;
        Ok(r)
    }

    fn cmp_op(&self) -> Option<CmpOp> {
        Some(match self.peek()?.tok {
            Tok::AnyEq => CmpOp::AnyEq,
            Tok::AllNe => CmpOp::AllNe,
            Tok::AllEq => CmpOp::AllEq,
            Tok::AnyNe => CmpOp::AnyNe,
            Tok::Gt => CmpOp::Gt,
            Tok::Ge => CmpOp::Ge,
            Tok::Lt => CmpOp::Lt,
            Tok::Le => CmpOp::Le,
            _ => return None,
        })
    }

    fn relation(&mut self) -> Result<Expr, FilterError> {
        let quant = if self.is(&Tok::Any) {
            self.next();
            Quant::Any
        } else if self.is(&Tok::All) {
            self.next();
            Quant::All
        } else {
            Quant::Default
        };
        let a = self.arith()?;
        if let Some(op) = self.cmp_op() {
            self.next();
            let b = self.arith()?;
            let mut e = Expr::Cmp {
                op,
                quant,
                a,
                b: b.clone(),
            };
            // Chained comparisons: `a < b < c` is `a < b and b < c`.
            let mut prev = b;
            while let Some(op) = self.cmp_op() {
                self.next();
                let c = self.arith()?;
                let next = Expr::Cmp {
                    op,
                    quant,
                    a: prev,
                    b: c.clone(),
                };
                e = Expr::And(Box::new(e), Box::new(next));
                prev = c;
            }
            return Ok(e);
        }
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Contains) => {
                self.next();
                let b = self.entity()?;
                Ok(Expr::Contains { quant, a, b })
            }
            Some(Tok::Matches) => {
                self.next();
                let b = self.entity()?;
                Ok(Expr::Matches { quant, a, b })
            }
            Some(Tok::In) => {
                self.next();
                let set = self.set()?;
                Ok(Expr::In { quant, a, set })
            }
            Some(Tok::Not)
                if self
                    .toks
                    .get(self.pos + 1)
                    .is_some_and(|t| t.tok == Tok::In) =>
            {
                self.next();
                self.next();
                let set = self.set()?;
                Ok(Expr::Not(Box::new(Expr::In { quant, a, set })))
            }
            _ => {
                if quant != Quant::Default {
                    return Err(self.unexpected_here());
                }
                Ok(Expr::Exists(a))
            }
        }
    }

    fn set(&mut self) -> Result<Vec<SetElem>, FilterError> {
        self.expect(&Tok::LBrace)?;
        let mut out = Vec::new();
        loop {
            let a = self.set_entity()?;
            if self.is(&Tok::DotDot) {
                self.next();
                let b = self.set_entity()?;
                out.push(SetElem::Range(a, b));
            } else {
                out.push(SetElem::One(a));
            }
            if out.len() > 10_000 {
                return Err(fail("Too many set elements.".into(), None));
            }
            match self.peek().map(|t| &t.tok) {
                Some(Tok::Comma) => {
                    self.next();
                }
                Some(Tok::RBrace) => {
                    self.next();
                    return Ok(out);
                }
                _ => return Err(self.unexpected_here()),
            }
        }
    }

    fn set_entity(&mut self) -> Result<Ent, FilterError> {
        if self.is(&Tok::Minus) {
            let m = self.next().map(|t| t.start).unwrap_or(0);
            let e = self.entity()?;
            let span = (m, e.span().1);
            return Ok(Ent::Neg {
                ent: Box::new(e),
                span,
            });
        }
        if self.is(&Tok::Plus) {
            self.next();
        }
        self.entity()
    }

    /// arithmetic: `&` lowest, then `+ -`, then `* / %`.
    fn arith(&mut self) -> Result<Ent, FilterError> {
        self.enter()?;
        let mut left = self.additive()?;
        while self.is(&Tok::BitAnd) {
            self.next();
            let right = self.additive()?;
            left = mk_arith(ArOp::BitAnd, left, right);
        }
        self.depth -= 1;
        Ok(left)
    }

    fn additive(&mut self) -> Result<Ent, FilterError> {
        let mut left = self.term()?;
        loop {
            let op = match self.peek().map(|t| &t.tok) {
                Some(Tok::Plus) => ArOp::Add,
                Some(Tok::Minus) => ArOp::Sub,
                _ => return Ok(left),
            };
            self.next();
            let right = self.term()?;
            left = mk_arith(op, left, right);
        }
    }

    fn term(&mut self) -> Result<Ent, FilterError> {
        let mut left = self.unary_arith()?;
        loop {
            let op = match self.peek().map(|t| &t.tok) {
                Some(Tok::Star) => ArOp::Mul,
                Some(Tok::Slash) => ArOp::Div,
                Some(Tok::Percent) => ArOp::Mod,
                _ => return Ok(left),
            };
            self.next();
            let right = self.unary_arith()?;
            left = mk_arith(op, left, right);
        }
    }

    fn unary_arith(&mut self) -> Result<Ent, FilterError> {
        if self.is(&Tok::Minus) {
            let m = self.next().map(|t| t.start).unwrap_or(0);
            let e = self.entity()?;
            let span = (m, e.span().1);
            return Ok(Ent::Neg {
                ent: Box::new(e),
                span,
            });
        }
        if self.is(&Tok::Plus) {
            self.next();
            return self.entity();
        }
        if self.is(&Tok::LBrace) {
            self.enter()?;
            self.next();
            let e = self.arith()?;
            self.expect(&Tok::RBrace)?;
            self.depth -= 1;
            return Ok(e);
        }
        self.entity()
    }

    fn ranges(&mut self) -> Result<(Vec<Range>, usize), FilterError> {
        self.expect(&Tok::LBracket)?;
        let mut out = Vec::new();
        loop {
            let Some(t) = self.next() else {
                return Err(self.unexpected_here());
            };
            match &t.tok {
                Tok::RangeNode(s) => match parse_range(s) {
                    Some(r) => out.push(r),
                    None => {
                        return Err(fail(
                            format!("\"{}\" is not a valid range.", s.trim()),
                            Some((t.start, t.end)),
                        ))
                    }
                },
                _ => return Err(self.unexpected(t)),
            }
            if out.len() > 1000 {
                return Err(fail("Too many ranges.".into(), None));
            }
            let Some(t) = self.next() else {
                return Err(self.unexpected_here());
            };
            match t.tok {
                Tok::Comma => continue,
                Tok::RBracket => return Ok((out, t.end)),
                _ => return Err(self.unexpected(t)),
            }
        }
    }

    fn layer(&mut self) -> Result<Vec<Range>, FilterError> {
        // Hash already consumed.
        if self.is(&Tok::LBracket) {
            return Ok(self.ranges()?.0);
        }
        let Some(t) = self.next() else {
            return Err(self.unexpected_here());
        };
        match &t.tok {
            Tok::Integer(s) => match s.parse::<i64>() {
                Ok(v) => Ok(vec![Range::One(v)]),
                Err(_) => Err(fail(
                    format!("\"{s}\" is not a valid range."),
                    Some((t.start, t.end)),
                )),
            },
            _ => Err(self.unexpected(t)),
        }
    }

    fn entity(&mut self) -> Result<Ent, FilterError> {
        self.enter()?;
        let Some(t) = self.next() else {
            return Err(self.unexpected_here());
        };
        let span = (t.start, t.end);
        let mut e = match &t.tok {
            Tok::Str(b) => Ent::Str {
                bytes: b.clone(),
                span,
            },
            Tok::Char(v) => Ent::Char { value: *v, span },
            Tok::Literal(s) => Ent::Literal {
                text: s.clone(),
                span,
            },
            Tok::Field(s) | Tok::Unparsed(s) => {
                let forced = matches!(t.tok, Tok::Field(_));
                if !forced && self.is(&Tok::LParen) {
                    self.next();
                    let mut args = Vec::new();
                    if !self.is(&Tok::RParen) {
                        loop {
                            args.push(self.arith()?);
                            if self.is(&Tok::Comma) {
                                self.next();
                                continue;
                            }
                            break;
                        }
                    }
                    let r = self.expect(&Tok::RParen)?;
                    Ent::Func {
                        name: s.clone(),
                        args,
                        span: (span.0, r.end),
                    }
                } else if self.is(&Tok::Hash) {
                    self.next();
                    let layer = self.layer()?;
                    Ent::Field {
                        name: s.clone(),
                        layer,
                        span,
                    }
                } else {
                    Ent::Word {
                        text: s.clone(),
                        span,
                        forced,
                    }
                }
            }
            Tok::Dollar => {
                self.expect(&Tok::LBrace)?;
                let f = self.entity()?;
                let r = self.expect(&Tok::RBrace)?;
                let _ = f;
                Ent::Ref {
                    span: (span.0, r.end),
                }
            }
            _ => return Err(self.unexpected(t)),
        };
        while self.is(&Tok::LBracket) {
            let (ranges, end) = self.ranges()?;
            let s = (e.span().0, end);
            e = Ent::Slice {
                ent: Box::new(e),
                ranges,
                span: s,
            };
        }
        self.depth -= 1;
        Ok(e)
    }
}

fn mk_arith(op: ArOp, a: Ent, b: Ent) -> Ent {
    let span = (a.span().0, b.span().1);
    Ent::Arith {
        op,
        a: Box::new(a),
        b: Box::new(b),
        span,
    }
}
