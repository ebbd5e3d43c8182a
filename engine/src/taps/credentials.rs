//! `-z credentials`: user names seen in authentications.
//!
//! As in tshark, a dissector that recognises an authentication queues a
//! [`Credential`] with the frame ([`FieldTable::add_credential`]); the tap
//! collects what each frame queued and prints the table at the end.

use std::io::{self, Write};

use super::Tap;
use crate::dissect::Frame;
use crate::events::Credential;
use crate::fields::FieldId;
use crate::table::FieldTable;

/// Cap on the rows kept; later credentials are dropped.
const ROWS_CAP: usize = 1 << 20;

/// The `-z credentials` table.
#[derive(Default)]
pub struct Credentials {
    rows: Vec<Credential>,
}

impl Credentials {
    pub fn new() -> Self {
        Self::default()
    }
}

/// `%-Ns` on raw bytes.
fn pad(out: &mut dyn Write, s: &[u8], width: usize) -> io::Result<()> {
    out.write_all(s)?;
    // printf counts bytes.
    for _ in s.len()..width {
        out.write_all(b" ")?;
    }
    Ok(())
}

impl Tap for Credentials {
    fn fields(&self) -> Vec<FieldId> {
        Vec::new()
    }

    fn frame(&mut self, _frame: &Frame, _data: &[u8], t: &FieldTable) {
        for c in t.credentials() {
            if self.rows.len() < ROWS_CAP {
                self.rows.push(c.clone());
            }
        }
    }

    fn draw(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "==================================================================="
        )?;
        writeln!(
            out,
            "{:<10} {:<16} {:<16} {:<16}",
            "Packet", "Protocol", "Username", "Info"
        )?;
        writeln!(out, "------     --------         --------         --------")?;
        for r in &self.rows {
            write!(out, "{:<10} {:<16} ", r.frame, r.proto)?;
            pad(out, &r.username, 16)?;
            out.write_all(b" ")?;
            pad(out, r.info.as_deref().unwrap_or("").as_bytes(), 16)?;
            out.write_all(b"\n")?;
        }
        writeln!(
            out,
            "==================================================================="
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_print_as_tshark_pads_them() {
        let mut t = FieldTable::new();
        t.add_credential(Credential {
            frame: 10,
            proto: "FTP",
            username: b"user".to_vec(),
            info: Some("Username in packet: 6".into()),
        });
        let mut c = Credentials::new();
        c.frame(&Frame::default(), &[], &t);
        let mut out = Vec::new();
        c.draw(&mut out).unwrap_or_default();
        let text = String::from_utf8(out).unwrap_or_default();
        let expected = "===================================================================\n\
Packet     Protocol         Username         Info            \n\
------     --------         --------         --------\n\
10         FTP              user             Username in packet: 6\n\
===================================================================\n";
        assert_eq!(text, expected);
    }
}
