//! dorsal's engine: everything that is not specific to one protocol.
//!
//! A capture is read record by record ([`capture`]), each record becomes a
//! frame that the dissectors fill into a [`table::FieldTable`] declared in a
//! [`fields::Registry`], and the printers of [`output`] write what was asked.

pub mod capture;
pub mod dfilter;
pub mod dissect;
pub mod fields;
pub mod format;
pub mod output;
pub mod run;
pub mod table;
pub mod taps;
