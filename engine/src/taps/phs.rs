//! `-z io,phs[,FILTER]`: the protocol hierarchy.
//!
//! tshark walks the top-level items of each frame's protocol tree and
//! counts frames and bytes per path (also items that are no protocol, such
//! as `tcp.segments` or `_ws.malformed`). The dissectors record those
//! top-level items beside the protocol stack
//! ([`FieldTable::tree_items`]); the tree's root item `frame` is not listed.

use std::io::{self, Write};

use super::Tap;
use crate::dissect::Frame;
use crate::fields::{FieldId, Registry};
use crate::table::FieldTable;

/// Cap on distinct paths; frames that would add more count in the nodes
/// that exist.
const NODES_CAP: usize = 1 << 16;

struct Node {
    name: &'static str,
    frames: u32,
    bytes: u64,
    first_child: Option<usize>,
    last_child: Option<usize>,
    next_sibling: Option<usize>,
}

pub struct Phs {
    filter: Option<String>,
    nodes: Vec<Node>,
    /// First top-level node and the last one, in order of first appearance.
    first: Option<usize>,
    last: Option<usize>,
}

impl Phs {
    pub fn new(_reg: &Registry, filter: Option<String>) -> Self {
        Phs {
            filter,
            nodes: Vec::new(),
            first: None,
            last: None,
        }
    }

    /// The child of `parent` (top level when `None`) named `name`, created
    /// at the end of the siblings when new.
    fn child(&mut self, parent: Option<usize>, name: &'static str) -> Option<usize> {
        let mut cur = match parent {
            Some(p) => self.nodes.get(p)?.first_child,
            None => self.first,
        };
        while let Some(i) = cur {
            let n = self.nodes.get(i)?;
            if n.name == name {
                return Some(i);
            }
            cur = n.next_sibling;
        }
        if self.nodes.len() >= NODES_CAP {
            return None;
        }
        let id = self.nodes.len();
        self.nodes.push(Node {
            name,
            frames: 0,
            bytes: 0,
            first_child: None,
            last_child: None,
            next_sibling: None,
        });
        let prev_last = match parent {
            Some(p) => {
                let pn = self.nodes.get_mut(p)?;
                let last = pn.last_child.replace(id);
                if pn.first_child.is_none() {
                    pn.first_child = Some(id);
                }
                last
            }
            None => {
                let last = self.last.replace(id);
                if self.first.is_none() {
                    self.first = Some(id);
                }
                last
            }
        };
        if let Some(l) = prev_last.and_then(|l| self.nodes.get_mut(l)) {
            l.next_sibling = Some(id);
        }
        Some(id)
    }

    fn draw_level(
        &self,
        out: &mut dyn Write,
        first: Option<usize>,
        depth: usize,
    ) -> io::Result<()> {
        let mut cur = first;
        while let Some(i) = cur {
            let Some(n) = self.nodes.get(i) else { break };
            // tshark builds the label in an 80-byte buffer: two spaces per
            // level, `...` instead from the 17th level on.
            let mut label = String::new();
            for level in 0..depth {
                if level > 15 {
                    label.push_str("...");
                    break;
                }
                label.push_str("  ");
            }
            label.push_str(n.name);
            truncate(&mut label, 79);
            writeln!(out, "{label:<40} frames:{} bytes:{}", n.frames, n.bytes)?;
            self.draw_level(out, n.first_child, depth + 1)?;
            cur = n.next_sibling;
        }
        Ok(())
    }
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

impl Tap for Phs {
    fn fields(&self) -> Vec<FieldId> {
        Vec::new()
    }

    fn frame(&mut self, frame: &Frame, _data: &[u8], t: &FieldTable) {
        let mut parent = None;
        for &name in t.tree_items() {
            let Some(id) = self.child(parent, name) else {
                break;
            };
            if let Some(n) = self.nodes.get_mut(id) {
                n.frames = n.frames.wrapping_add(1);
                n.bytes = n.bytes.saturating_add(u64::from(frame.len));
            }
            parent = Some(id);
        }
    }

    fn draw(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "==================================================================="
        )?;
        writeln!(out, "Protocol Hierarchy Statistics")?;
        writeln!(out, "Filter: {}\n", self.filter.as_deref().unwrap_or(""))?;
        self.draw_level(out, self.first, 0)?;
        writeln!(
            out,
            "==================================================================="
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: u32) -> Frame {
        Frame {
            len,
            ..Frame::default()
        }
    }

    fn feed(p: &mut Phs, layers: &[&'static str], len: u32) {
        let mut t = FieldTable::new();
        for l in layers {
            if *l == "ethertype" {
                t.add_nested_layer(l);
            } else {
                t.add_layer(l);
            }
        }
        p.frame(&frame(len), &[], &t);
    }

    #[test]
    fn paths_nest_and_siblings_keep_first_appearance_order() {
        let reg = Registry::new();
        let mut p = Phs::new(&reg, None);
        feed(&mut p, &["eth", "ethertype", "ip", "udp", "dns"], 100);
        feed(&mut p, &["eth", "ethertype", "ip", "tcp"], 60);
        feed(&mut p, &["eth", "ethertype", "arp"], 42);
        feed(&mut p, &["eth", "ethertype", "ip", "udp"], 80);
        let mut out = Vec::new();
        p.draw(&mut out).unwrap_or_default();
        let text = String::from_utf8(out).unwrap_or_default();
        let expected = "\n===================================================================\n\
Protocol Hierarchy Statistics\nFilter: \n\n\
eth                                      frames:4 bytes:282\n\
\x20 ip                                     frames:3 bytes:240\n\
\x20   udp                                  frames:2 bytes:180\n\
\x20     dns                                frames:1 bytes:100\n\
\x20   tcp                                  frames:1 bytes:60\n\
\x20 arp                                    frames:1 bytes:42\n\
===================================================================\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn deep_stacks_are_elided_and_capped() {
        let reg = Registry::new();
        let mut p = Phs::new(&reg, Some("ip".into()));
        let deep: Vec<&'static str> = vec!["ip"; 40];
        feed(&mut p, &deep, 1);
        let mut out = Vec::new();
        p.draw(&mut out).unwrap_or_default();
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(text.contains("Filter: ip\n"));
        assert!(text.contains(&format!("{}...ip", "  ".repeat(16))));
        assert_eq!(text.matches("frames:1 ").count(), 40);
    }
}
