//! Message names as tshark's Info column shows them (RFC 4250 numbers).

/// Generic SSHv2 message names: every code outside 30..40.
pub fn msg_v2(code: u8) -> Option<&'static str> {
    Some(match code {
        1 => "Disconnect",
        2 => "Ignore",
        3 => "Unimplemented",
        4 => "Debug",
        5 => "Service Request",
        6 => "Service Accept",
        20 => "Key Exchange Init",
        21 => "New Keys",
        50 => "User Authentication Request",
        51 => "User Authentication Failure",
        52 => "User Authentication Success",
        53 => "User Authentication Banner",
        60 => "Public Key algorithm accepted",
        80 => "Global Request",
        81 => "Request Success",
        82 => "Request Failure",
        90 => "Channel Open",
        91 => "Channel Open Confirmation",
        92 => "Channel Open Failure",
        93 => "Window Adjust",
        94 => "Channel Data",
        95 => "Channel Extended Data",
        96 => "Channel EOF",
        97 => "Channel Close",
        98 => "Channel Request",
        99 => "Channel Success",
        100 => "Channel Failure",
        _ => return None,
    })
}

/// Which key exchange names the codes 30..40.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kex {
    /// Also the choice before both KEXINITs are known.
    #[default]
    Dh,
    Gex,
    Ecdh,
}

impl Kex {
    /// The method family of a negotiated kex name; `None` keeps the
    /// current one.
    pub fn of(name: &str) -> Option<Kex> {
        match name {
            "diffie-hellman-group-exchange-sha1" | "diffie-hellman-group-exchange-sha256" => {
                Some(Kex::Gex)
            }
            "curve25519-sha256" | "curve25519-sha256@libssh.org" | "curve448-sha512" => {
                Some(Kex::Ecdh)
            }
            _ if name.starts_with("ecdh-sha2-") => Some(Kex::Ecdh),
            "diffie-hellman-group1-sha1"
            | "diffie-hellman-group14-sha1"
            | "diffie-hellman-group14-sha256"
            | "diffie-hellman-group16-sha512"
            | "diffie-hellman-group18-sha512" => Some(Kex::Dh),
            _ => None,
        }
    }

    pub fn name(self, code: u8) -> Option<&'static str> {
        Some(match (self, code) {
            (Kex::Dh, 30) => "Diffie-Hellman Key Exchange Init",
            (Kex::Dh, 31) => "Diffie-Hellman Key Exchange Reply",
            (Kex::Gex, 30) => "Diffie-Hellman Group Exchange Request (Old)",
            (Kex::Gex, 31) => "Diffie-Hellman Group Exchange Group",
            (Kex::Gex, 32) => "Diffie-Hellman Group Exchange Init",
            (Kex::Gex, 33) => "Diffie-Hellman Group Exchange Reply",
            (Kex::Gex, 34) => "Diffie-Hellman Group Exchange Request",
            (Kex::Ecdh, 30) => "Elliptic Curve Diffie-Hellman Key Exchange Init",
            (Kex::Ecdh, 31) => "Elliptic Curve Diffie-Hellman Key Exchange Reply",
            _ => return None,
        })
    }
}

/// SSHv1 message names.
pub fn msg_v1(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "No Message",
        1 => "Disconnect",
        2 => "Public Key",
        3 => "Session Key",
        4 => "User",
        _ => return None,
    })
}

/// The ciphers tshark would try to decrypt after NEWKEYS (with no keys
/// known, it does so with zero keys).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Cipher {
    /// Not opened, or not one tshark decrypts: packets are shown as
    /// "Encrypted packet".
    #[default]
    None,
    Chacha,
    Ctr,
    Cbc,
    Gcm,
}

impl Cipher {
    pub fn of(enc: Option<&str>) -> Cipher {
        match enc.unwrap_or_default() {
            "chacha20-poly1305@openssh.com" => Cipher::Chacha,
            "aes128-gcm@openssh.com" | "aes256-gcm@openssh.com" | "aes128-gcm" | "aes256-gcm" => {
                Cipher::Gcm
            }
            "aes128-ctr" | "aes192-ctr" | "aes256-ctr" => Cipher::Ctr,
            "aes128-cbc" | "aes192-cbc" | "aes256-cbc" => Cipher::Cbc,
            _ => Cipher::None,
        }
    }
}

/// The MAC length in bytes tshark derives from a MAC name, and whether
/// the name says encrypt-then-MAC (the length field is then plaintext).
pub fn mac_length(name: &str) -> (i64, bool) {
    let (base, etm) = match name.strip_suffix("-etm@openssh.com") {
        Some(b) => (b, true),
        None => (name.strip_suffix("@openssh.com").unwrap_or(name), false),
    };
    let bits = base
        .rsplit('-')
        .next()
        .and_then(|t| t.parse::<i64>().ok())
        .filter(|&n| n > 0 && n % 8 == 0);
    let len = match bits {
        Some(n) => n / 8,
        None => match base {
            "hmac-sha1" | "hmac-ripemd160" => 20,
            "hmac-md5" => 16,
            "none" => 0,
            _ => -1,
        },
    };
    (len, etm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_lengths_from_names() {
        assert_eq!(mac_length("hmac-sha2-256"), (32, false));
        assert_eq!(mac_length("hmac-sha2-512-etm@openssh.com"), (64, true));
        assert_eq!(mac_length("umac-64@openssh.com"), (8, false));
        assert_eq!(mac_length("hmac-sha1-96"), (12, false));
        assert_eq!(mac_length("hmac-sha1"), (20, false));
        assert_eq!(mac_length("none"), (0, false));
        assert_eq!(mac_length("weird"), (-1, false));
    }

    #[test]
    fn kex_families() {
        assert_eq!(Kex::of("curve25519-sha256@libssh.org"), Some(Kex::Ecdh));
        assert_eq!(Kex::of("ecdh-sha2-nistp256"), Some(Kex::Ecdh));
        assert_eq!(
            Kex::of("diffie-hellman-group-exchange-sha256"),
            Some(Kex::Gex)
        );
        assert_eq!(Kex::of("diffie-hellman-group1-sha1"), Some(Kex::Dh));
        assert_eq!(Kex::of("sntrup761x25519-sha512@openssh.com"), None);
        assert_eq!(Kex::Dh.name(35), None);
    }
}
