//! SMB2 over the NetBIOS session service (TCP 139 and 445), with the
//! GSS-API / SPNEGO / NTLMSSP security blobs of NEGOTIATE and SESSION_SETUP;
//! SMB1 mailslot writes (the browser protocol) from NetBIOS datagrams.
//! Pure parsers live in [`parse`]; [`dissector`] pushes tshark's fields.
//!
//! Depends on the engine only (never on another dissector crate); reaches
//! it through [`protocol`], its plug-in.

#![forbid(unsafe_code)]

mod browser;
mod credentials;
pub mod dcerpc;
pub mod dissector;
pub mod eo;
pub mod fields;
pub mod hashcat;
mod info;
mod names;
pub mod ntlmssp;
pub mod parse;
pub mod smb1;
pub mod smb1_dgram;

use dorsal_engine::protocol::Protocol;
use dorsal_engine::taps::credentials_csv::CredentialSource;
use std::rc::Rc;

use dorsal_engine::dissect::Dissectors;
use dorsal_engine::fields::Registry;
use dorsal_engine::taps::SharedSink;

pub use credentials::NtlmCredentials;
pub use fields::Smb2Fields;

/// Declares the fields of NBSS, SMB2, GSS-API, SPNEGO and NTLMSSP.
pub fn register_fields(reg: &mut Registry) -> Smb2Fields {
    Smb2Fields::register(reg)
}

/// TCP ports tshark 4.0 gives to NBSS by default.
pub const TCP_PORTS: &[u32] = &[139, 445];

/// The DCE/RPC endpoint mapper's TCP port.
pub const DCERPC_PORT: u32 = 135;

dorsal_engine::plugin!(register_fields);

impl Protocol for Smb2Fields {
    /// Creates the NBSS dissector (which carries SMB2) and attaches it to
    /// `tcp.port`; `eo` receives the files of `--export-objects smb`.
    fn register_dissectors(&self, ds: &mut Dissectors, eo: Option<SharedSink>) {
        let f = self;
        let id = ds.register("nbss", Rc::new(dissector::Nbss::new(*f, eo)));
        for &p in TCP_PORTS {
            ds.add("tcp.port", p, id);
        }
        let dce = ds.register(
            "dcerpc",
            Rc::new(dcerpc::DceRpc {
                f: *f,
                heuristic: false,
            }),
        );
        ds.add("tcp.port", DCERPC_PORT, dce);
        let heur = ds.register(
            "dcerpc_tcp",
            Rc::new(dcerpc::DceRpc {
                f: *f,
                heuristic: true,
            }),
        );
        ds.add_heuristic("tcp.heur", heur);
        let dgram = ds.register("smb", Rc::new(smb1_dgram::Smb1Dgram(*f)));
        ds.add_heuristic("netbios", dgram);
        for (name, slot) in [
            (browser::BROWSE, browser::Slot::Browse),
            (browser::LANMAN, browser::Slot::Lanman),
            (browser::NETLOGON, browser::Slot::Netlogon),
        ] {
            ds.register(name, Rc::new(browser::Mailslot(*f, slot)));
        }
    }

    fn credential_sources(&self) -> Vec<Box<dyn CredentialSource>> {
        vec![Box::new(NtlmCredentials::new(self))]
    }

    fn export_types(&self) -> &'static [&'static str] {
        &["smb"]
    }
}
