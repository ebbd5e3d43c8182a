//! What the control channel remembers between segments, shared with the
//! data connections: per control stream the last command, the working
//! directory, the user name and the current data conversation; the
//! announced data conversations; and the credentials seen.

use dorsal_engine::hash::HashMap;
use std::cell::RefCell;
use std::rc::Rc;

use dorsal_engine::dissect::Address;
use dorsal_engine::table::Timestamp;

/// An address and a port.
pub type Endpoint = (Address, u16);

/// Caps: control streams remembered, announcements waiting for a stream,
/// data streams bound, credentials kept.
const MAX_CONTROL: usize = 1 << 16;
const MAX_PENDING: usize = 4096;
const MAX_BOUND: usize = 1 << 16;
const MAX_CREDENTIALS: usize = 1 << 16;

/// One control connection.
#[derive(Default)]
pub struct Control {
    pub last_command: Option<Vec<u8>>,
    /// Shared with the data conversations set up while it was current, as
    /// packet-ftp.c shares its buffer (a first relative CWD from an empty
    /// directory appends in place; other changes replace it).
    pub cwd: Rc<RefCell<Vec<u8>>>,
    pub current_data: Option<Rc<RefCell<DataConv>>>,
    /// The first USER of the connection and its frame.
    pub username: Option<(Vec<u8>, u32)>,
    /// Index in [`State::credentials`] of the last PASS, until a reply.
    pending_credential: Option<usize>,
}

impl Control {
    /// A 250 reply to `CWD path` (or `CDUP`, as `..`).
    pub fn cwd_changed(&mut self, path: &[u8]) {
        let path = crate::parser::c_str(path);
        if path.first() == Some(&b'/') {
            self.cwd = Rc::new(RefCell::new(path.to_vec()));
            return;
        }
        let joined = {
            let mut cwd = self.cwd.borrow_mut();
            if cwd.is_empty() {
                cwd.extend_from_slice(path);
                return;
            }
            crate::parser::join_dir(&cwd, path)
        };
        self.cwd = Rc::new(RefCell::new(joined));
    }
}

/// One data conversation announced on a control connection.
#[derive(Default)]
pub struct DataConv {
    /// The first command after the announcement, whole line.
    pub command: Option<Vec<u8>>,
    pub command_frame: u32,
    pub setup_method: &'static str,
    pub setup_frame: u32,
    pub cwd: Rc<RefCell<Vec<u8>>>,
    pub frames_seen: u32,
    pub bytes_seen: u32,
}

/// An announced conversation not yet claimed by a TCP stream: `a` exactly,
/// the address `b` with any port.
struct Pending {
    a: Endpoint,
    b: Address,
    conv: Rc<RefCell<DataConv>>,
}

/// One user name with its secret, as the credentials tap reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub frame: u32,
    pub ts: Timestamp,
    pub protocol: &'static str,
    pub username: Vec<u8>,
    pub username_frame: u32,
    pub secret: Vec<u8>,
    pub client: Endpoint,
    pub server: Endpoint,
    /// Whether the server accepted it (230 / 530), once it said.
    pub accepted: Option<bool>,
}

/// Shared by `ftp` and `ftp-data`.
#[derive(Default)]
pub struct State {
    control: HashMap<u32, Control>,
    pending: Vec<Pending>,
    bound: HashMap<u32, Rc<RefCell<DataConv>>>,
    pub credentials: Vec<Credential>,
    spare: Control,
}

impl State {
    /// The control connection of a TCP stream, created on first use (past
    /// the cap, a scratch one that is forgotten).
    pub fn control(&mut self, stream: u32) -> &mut Control {
        if self.control.len() >= MAX_CONTROL && !self.control.contains_key(&stream) {
            self.spare = Control::default();
            return &mut self.spare;
        }
        self.control.entry(stream).or_default()
    }

    /// A data conversation announced on control stream `stream`.
    pub fn announce(
        &mut self,
        stream: u32,
        a: Endpoint,
        b: Address,
        method: &'static str,
        frame: u32,
    ) {
        let control = self.control(stream);
        let conv = Rc::new(RefCell::new(DataConv {
            setup_method: method,
            setup_frame: frame,
            cwd: control.cwd.clone(),
            ..DataConv::default()
        }));
        control.current_data = Some(conv.clone());
        if self.pending.len() >= MAX_PENDING {
            self.pending.remove(0);
        }
        self.pending.push(Pending { a, b, conv });
    }

    /// The data conversation of a TCP stream: the one it claimed before, or
    /// the newest announcement it matches in either direction (which it
    /// then claims).
    pub fn data_conv(
        &mut self,
        stream: u32,
        src: Endpoint,
        dst: Endpoint,
    ) -> Option<Rc<RefCell<DataConv>>> {
        if let Some(c) = self.bound.get(&stream) {
            return Some(c.clone());
        }
        let i = self
            .pending
            .iter()
            .rposition(|p| (p.a == src && p.b == dst.0) || (p.a == dst && p.b == src.0))?;
        let p = self.pending.remove(i);
        if self.bound.len() < MAX_BOUND {
            self.bound.insert(stream, p.conv.clone());
        }
        Some(p.conv)
    }

    pub fn add_credential(&mut self, stream: u32, c: Credential) {
        if self.credentials.len() < MAX_CREDENTIALS {
            self.credentials.push(c);
            let i = self.credentials.len() - 1;
            self.control(stream).pending_credential = Some(i);
        }
    }

    /// A reply on control stream `stream`: 230 accepts the last PASS, 530
    /// refuses it.
    pub fn response(&mut self, stream: u32, code: u32, _frame: u32) {
        let accepted = match code {
            230 | 202 => true,
            530 => false,
            _ => return,
        };
        let Some(i) = self.control(stream).pending_credential.take() else {
            return;
        };
        if let Some(c) = self.credentials.get_mut(i) {
            c.accepted = Some(accepted);
        }
    }
}
