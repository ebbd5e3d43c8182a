//! Frame, link, network and transport dissectors: everything from the
//! capture record up to the TCP and UDP payloads.

#![forbid(unsafe_code)]

mod bytes;
mod frame;

use std::rc::Rc;

use dorsal_engine::dissect::Dissectors;
use dorsal_engine::fields::Registry;

/// Declares the fields of every dissector of this crate.
pub fn register_fields(reg: &mut Registry) -> Fields {
    Fields {
        frame: frame::FrameFields::register(reg),
    }
}

/// The field ids of this crate, to build dissectors from.
#[derive(Clone, Copy)]
pub struct Fields {
    frame: frame::FrameFields,
}

/// Creates this crate's dissectors and attaches them to their tables.
pub fn register_dissectors(f: &Fields, ds: &mut Dissectors) {
    ds.register("frame", Rc::new(frame::Frame::new(f.frame)));
}
