//! The summary columns of one frame (Wireshark's `column_info`): the
//! Protocol and Info text and the source and destination addresses, which
//! the dissectors write as they go and the text view prints.
//!
//! Generic on purpose: the engine only keeps strings; what they say is each
//! dissector's business. Filled only when a sink asks for them (see
//! [`crate::dissect::Cx::cols`]), so other runs pay nothing. The buffers
//! are reused from frame to frame.

use std::fmt::Write;

use crate::events::Address;
use crate::format::{push_decimal, write_ipv4, write_ipv6};

/// Caps on a column's text, so a hostile capture cannot grow them without
/// bound: tshark's own, `COL_MAX_INFO_LEN` (4096) and `COL_MAX_LEN` (2048)
/// bytes with the terminating NUL.
const INFO_CAP: usize = 4095;
const SHORT_CAP: usize = 2047;

/// The columns of the frame being dissected.
#[derive(Clone, Debug, Default)]
pub struct Columns {
    protocol: String,
    info: String,
    /// Text before this offset of `info` stays when later dissectors set
    /// or clear the column (`col_set_fence`).
    fence: usize,
    /// Frozen columns are no longer written (`col_set_writable(FALSE)`):
    /// an error quote keeps the outer protocol's summary.
    frozen: bool,
    /// The protocol column alone is no longer written: TCP's hold on it
    /// while a second PDU of the segment is dissected.
    protocol_locked: bool,
    src: String,
    dst: String,
    /// Whether each address came from a network layer; a link layer's only
    /// fill the columns no network layer has (a header cut short after its
    /// source address sets only that one).
    net_src: bool,
    net_dst: bool,
}

/// Cuts `s` to at most `cap` bytes on a character boundary.
fn cap(s: &mut String, cap: usize) {
    if s.len() > cap {
        let mut at = cap;
        while at > 0 && !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
    }
}

impl Columns {
    pub fn new() -> Self {
        Self::default()
    }

    /// Empties every column for the next frame.
    pub fn clear(&mut self) {
        self.protocol.clear();
        self.info.clear();
        self.fence = 0;
        self.frozen = false;
        self.protocol_locked = false;
        self.src.clear();
        self.dst.clear();
        self.net_src = false;
        self.net_dst = false;
    }

    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    pub fn info(&self) -> &str {
        &self.info
    }

    pub fn src(&self) -> &str {
        &self.src
    }

    pub fn dst(&self) -> &str {
        &self.dst
    }

    /// Stops every later write to the columns of this frame.
    pub fn freeze(&mut self) {
        self.frozen = true;
    }

    /// Lets writes through again after [`Columns::freeze`].
    pub fn thaw(&mut self) {
        self.frozen = false;
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    pub fn set_protocol(&mut self, p: &str) {
        if self.frozen || self.protocol_locked {
            return;
        }
        self.protocol.clear();
        self.protocol.push_str(p);
        cap(&mut self.protocol, SHORT_CAP);
    }

    /// Empties Info after the fence (`col_clear`).
    pub fn clear_info(&mut self) {
        if self.frozen {
            return;
        }
        let at = self.fence.min(self.info.len());
        self.info.truncate(at);
    }

    /// Replaces Info after the fence (`col_set_str`).
    pub fn set_info(&mut self, s: &str) {
        self.clear_info();
        self.append_info(s);
    }

    /// Appends to Info (`col_append_str`).
    pub fn append_info(&mut self, s: &str) {
        if self.frozen {
            return;
        }
        self.info.push_str(s);
        cap(&mut self.info, INFO_CAP);
    }

    /// Appends formatted text to Info (`col_append_fstr`).
    pub fn append_info_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        if self.frozen {
            return;
        }
        let _ = self.info.write_fmt(args);
        cap(&mut self.info, INFO_CAP);
    }

    /// Appends `label` and the decimal digits of `v` (` Seq=1`): the
    /// commonest text of Info, written without `core::fmt`.
    pub fn append_info_num(&mut self, label: &str, v: u64) {
        if self.frozen {
            return;
        }
        self.info.push_str(label);
        push_decimal(&mut self.info, v);
        cap(&mut self.info, INFO_CAP);
    }

    /// Appends `s`, preceded by `sep` when Info already holds text
    /// (`col_append_sep_str`).
    pub fn append_info_sep(&mut self, sep: &str, s: &str) {
        if self.frozen {
            return;
        }
        if !self.info.is_empty() {
            self.info.push_str(sep);
        }
        self.append_info(s);
    }

    /// Puts `s` before everything in Info and fences it in, so that later
    /// dissectors setting Info keep it (`col_prepend_fence_fstr`: TCP's
    /// analysis prefixes stay before HTTP's or TLS's text).
    pub fn prepend_info(&mut self, s: &str) {
        if self.frozen {
            return;
        }
        self.info.insert_str(0, s);
        self.fence = self.fence.saturating_add(s.len());
        cap(&mut self.info, INFO_CAP);
        self.fence = self.fence.min(self.info.len());
    }

    /// What TCP does before the PDU that follows a completed one in the
    /// same segment: Info so far is fenced and the protocol column kept, so
    /// that a PDU left incomplete does not turn the frame back to `TCP`.
    pub fn hold_for_next_pdu(&mut self) {
        self.fence_info();
        self.protocol_locked = true;
    }

    /// Keeps the text so far when later dissectors set Info (`col_set_fence`).
    pub fn fence_info(&mut self) {
        self.fence = self.info.len();
    }

    /// Source and destination from a network layer; inner layers win.
    pub fn set_net_addresses(&mut self, src: &Address, dst: &Address) {
        self.set_net_source(src);
        if self.frozen {
            return;
        }
        put_address(&mut self.dst, dst);
        self.net_dst = true;
    }

    /// The source address alone, from a network header that ends before
    /// its destination.
    pub fn set_net_source(&mut self, src: &Address) {
        if self.frozen {
            return;
        }
        put_address(&mut self.src, src);
        self.net_src = true;
    }

    /// Whether a network layer has set both addresses.
    pub fn has_net_addresses(&self) -> bool {
        self.net_src && self.net_dst
    }

    /// Source and destination from a link layer: each shown only where no
    /// network layer has set it.
    pub fn set_link_addresses(&mut self, src: impl std::fmt::Display, dst: impl std::fmt::Display) {
        if self.frozen {
            return;
        }
        if !self.net_src {
            put(&mut self.src, src);
        }
        if !self.net_dst {
            put(&mut self.dst, dst);
        }
    }
}

/// A network address as the address columns show it, formatted in place
/// (the text view's hottest column).
fn put_address(col: &mut String, a: &Address) {
    col.clear();
    match a {
        Address::None => {}
        Address::V4(a) => write_ipv4(col, a),
        Address::V6(a) => write_ipv6(col, a),
    }
}

/// Replaces an address column's text.
fn put(col: &mut String, v: impl std::fmt::Display) {
    col.clear();
    let _ = write!(col, "{v}");
    cap(col, SHORT_CAP);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fence_keeps_earlier_text() {
        let mut c = Columns::new();
        c.set_info("GET / HTTP/1.1 ");
        c.fence_info();
        c.set_info("[TCP segment]");
        assert_eq!(c.info(), "GET / HTTP/1.1 [TCP segment]");
        c.clear_info();
        assert_eq!(c.info(), "GET / HTTP/1.1 ");
        c.prepend_info("> ");
        assert_eq!(c.info(), "> GET / HTTP/1.1 ");
        c.set_info("x");
        assert_eq!(c.info(), "> GET / HTTP/1.1 x");
        c.clear();
        c.append_info_sep(", ", "a");
        c.append_info_sep(", ", "b");
        assert_eq!(c.info(), "a, b");
    }

    #[test]
    fn network_addresses_win_over_link_ones() {
        let mut c = Columns::new();
        c.set_link_addresses("aa", "bb");
        assert_eq!((c.src(), c.dst()), ("aa", "bb"));
        c.set_net_addresses(&Address::V4([1, 2, 3, 4]), &Address::V4([5, 6, 7, 8]));
        c.set_link_addresses("cc", "dd");
        assert_eq!((c.src(), c.dst()), ("1.2.3.4", "5.6.7.8"));
        c.clear();
        let mut one = [0; 16];
        one[15] = 1;
        c.set_net_source(&Address::V6(one));
        c.set_link_addresses("cc", "dd");
        assert_eq!((c.src(), c.dst()), ("::1", "dd"));
    }

    #[test]
    fn frozen_columns_ignore_writes_and_info_is_capped() {
        let mut c = Columns::new();
        c.set_protocol("ICMP");
        c.freeze();
        c.set_protocol("TCP");
        c.append_info("x");
        assert_eq!((c.protocol(), c.info()), ("ICMP", ""));
        c.clear();
        c.append_info(&"é".repeat(2000));
        assert!(c.info().len() <= INFO_CAP);
    }
}
