//! Display filters (`-Y`, `-2 -R`): the Wireshark 4.0 filter language.
//!
//! The pipeline is lex -> parse (with spans) -> semantic check against the
//! [`Registry`] -> compiled program -> evaluation over a frame's
//! [`FieldTable`]. Errors carry the span they point at; the CLI renders them
//! in tshark's words with a caret line.

mod compile;
mod eval;
mod lex;
mod parse;

use crate::fields::{FieldId, Registry};
use crate::table::FieldTable;

/// A filter that failed to compile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    /// tshark's message, without the `tshark: ` prefix.
    pub message: String,
    /// Byte range of the filter text the message is about, if any.
    pub span: Option<(usize, usize)>,
}

/// A compiled display filter.
#[derive(Clone, Debug)]
pub struct Filter {
    root: Option<compile::Node>,
    fields: Vec<FieldId>,
}

impl Filter {
    /// Compiles `text` against the fields of `reg`.
    pub fn compile(text: &str, reg: &Registry) -> Result<Filter, FilterError> {
        Self::compile_inner(text, reg).map_err(|mut e| {
            if e.message.contains("__TEXT__") {
                let s = e
                    .span
                    .and_then(|(a, b)| text.get(a..b))
                    .unwrap_or("")
                    .to_string();
                e.message = e.message.replace("__TEXT__", &s);
            }
            e
        })
    }

    fn compile_inner(text: &str, reg: &Registry) -> Result<Filter, FilterError> {
        let toks = lex::lex(text)?;
        let Some(ast) = parse::parse(&toks)? else {
            return Ok(Filter {
                root: None,
                fields: Vec::new(),
            });
        };
        let mut ck = compile::Checker::new(reg);
        let root = ck.expr(&ast)?;
        Ok(Filter {
            root: Some(root),
            fields: ck.fields,
        })
    }

    /// The fields the filter reads; dissection must compute them.
    pub fn fields(&self) -> Vec<FieldId> {
        self.fields.clone()
    }

    /// Whether the frame whose fields are in `t` passes.
    pub fn matches(&self, t: &FieldTable) -> bool {
        match &self.root {
            None => true,
            Some(n) => eval::eval(n, t),
        }
    }
}
