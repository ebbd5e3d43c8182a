//! SSH on TCP ports 22 and 29418, as tshark 4.0.17 shows it: the version
//! banners, the plaintext binary packets of the key exchange (KEXINIT,
//! the DH, DH-GEX and ECDH messages, NEWKEYS) with their `ssh.*` fields
//! and hassh fingerprints, and the encrypted packets after NEWKEYS, which
//! tshark cannot read without keys.
//!
//! State is kept per TCP stream: the version from the client's banner,
//! the negotiated algorithms, and for each side the frames where its
//! banner and its key exchange began and ended.
//!
//! May depend on the engine only (never on another dissector crate);
//! reaches it through [`protocol`], its plug-in.

#![forbid(unsafe_code)]

mod dissector;
mod names;

use std::rc::Rc;

use dorsal_engine::dissect::Dissectors;
use dorsal_engine::fields::Registry;
use dorsal_engine::protocol::Protocol;
use dorsal_engine::taps::SharedSink;

/// The TCP ports tshark's SSH preference lists by default.
pub const TCP_PORTS: [u16; 2] = [22, 29418];

dorsal_engine::fields! {
    pub struct SshFields {
        ssh: "ssh", "SSH Protocol", Protocol, None, short "SSH";
        protocol: "ssh.protocol", "Protocol", String, None;
        packet_length: "ssh.packet_length", "Packet Length", U32, Dec;
        packet_length_encrypted: "ssh.packet_length_encrypted", "Packet Length (encrypted)", Bytes, None;
        padding_length: "ssh.padding_length", "Padding Length", U8, Dec;
        payload: "ssh.payload", "Payload", Bytes, None;
        encrypted_packet: "ssh.encrypted_packet", "Encrypted Packet", Bytes, None;
        padding_string: "ssh.padding_string", "Padding String", Bytes, None;
        seq_num: "ssh.seq_num", "Sequence number", U32, Dec;
        mac: "ssh.mac", "MAC", Bytes, None;
        direction: "ssh.direction", "Direction", Bool, None;
        message_code: "ssh.message_code", "Message Code", U8, Dec;
        cookie: "ssh.cookie", "Cookie", Bytes, None;
        kex_algorithms: "ssh.kex_algorithms", "kex_algorithms string", String, None;
        server_host_key_algorithms: "ssh.server_host_key_algorithms", "server_host_key_algorithms string", String, None;
        enc_c2s: "ssh.encryption_algorithms_client_to_server", "encryption_algorithms_client_to_server string", String, None;
        enc_s2c: "ssh.encryption_algorithms_server_to_client", "encryption_algorithms_server_to_client string", String, None;
        mac_c2s: "ssh.mac_algorithms_client_to_server", "mac_algorithms_client_to_server string", String, None;
        mac_s2c: "ssh.mac_algorithms_server_to_client", "mac_algorithms_server_to_client string", String, None;
        comp_c2s: "ssh.compression_algorithms_client_to_server", "compression_algorithms_client_to_server string", String, None;
        comp_s2c: "ssh.compression_algorithms_server_to_client", "compression_algorithms_server_to_client string", String, None;
        lang_c2s: "ssh.languages_client_to_server", "languages_client_to_server string", String, None;
        lang_s2c: "ssh.languages_server_to_client", "languages_server_to_client string", String, None;
        kex_algorithms_length: "ssh.kex_algorithms_length", "kex_algorithms length", U32, Dec;
        server_host_key_algorithms_length: "ssh.server_host_key_algorithms_length", "server_host_key_algorithms length", U32, Dec;
        enc_c2s_length: "ssh.encryption_algorithms_client_to_server_length", "encryption_algorithms_client_to_server length", U32, Dec;
        enc_s2c_length: "ssh.encryption_algorithms_server_to_client_length", "encryption_algorithms_server_to_client length", U32, Dec;
        mac_c2s_length: "ssh.mac_algorithms_client_to_server_length", "mac_algorithms_client_to_server length", U32, Dec;
        mac_s2c_length: "ssh.mac_algorithms_server_to_client_length", "mac_algorithms_server_to_client length", U32, Dec;
        comp_c2s_length: "ssh.compression_algorithms_client_to_server_length", "compression_algorithms_client_to_server length", U32, Dec;
        comp_s2c_length: "ssh.compression_algorithms_server_to_client_length", "compression_algorithms_server_to_client length", U32, Dec;
        lang_c2s_length: "ssh.languages_client_to_server_length", "languages_client_to_server length", U32, Dec;
        lang_s2c_length: "ssh.languages_server_to_client_length", "languages_server_to_client length", U32, Dec;
        first_kex_packet_follows: "ssh.first_kex_packet_follows", "First KEX Packet Follows", U8, Dec;
        kex_reserved: "ssh.kex.reserved", "Reserved", Bytes, None;
        hassh_algorithms: "ssh.kex.hassh_algorithms", "hasshAlgorithms", String, None;
        hassh: "ssh.kex.hassh", "hassh", String, None;
        hasshserver_algorithms: "ssh.kex.hasshserver_algorithms", "hasshServerAlgorithms", String, None;
        hasshserver: "ssh.kex.hasshserver", "hasshServer", String, None;
        host_key_length: "ssh.host_key.length", "Host key length", U32, Dec;
        host_key_type_length: "ssh.host_key.type_length", "Host key type length", U32, Dec;
        host_key_type: "ssh.host_key.type", "Host key type", String, None;
        host_key_data: "ssh.host_key.data", "Host key data", Bytes, None;
        host_key_rsa_n: "ssh.host_key.rsa.n", "RSA modulus (N)", Bytes, None;
        host_key_rsa_e: "ssh.host_key.rsa.e", "RSA public exponent (e)", Bytes, None;
        host_key_dsa_p: "ssh.host_key.dsa.p", "DSA prime modulus (p)", Bytes, None;
        host_key_dsa_q: "ssh.host_key.dsa.q", "DSA prime divisor (q)", Bytes, None;
        host_key_dsa_g: "ssh.host_key.dsa.g", "DSA subgroup generator (g)", Bytes, None;
        host_key_dsa_y: "ssh.host_key.dsa.y", "DSA public key (y)", Bytes, None;
        host_key_ecdsa_id: "ssh.host_key.ecdsa.id", "ECDSA elliptic curve identifier", String, None;
        host_key_ecdsa_id_length: "ssh.host_key.ecdsa.id_length", "ECDSA elliptic curve identifier length", U32, Dec;
        host_key_ecdsa_q: "ssh.host_key.ecdsa.q", "ECDSA public key (Q)", Bytes, None;
        host_key_ecdsa_q_length: "ssh.host_key.ecdsa.q_length", "ECDSA public key length", U32, Dec;
        host_key_eddsa_key: "ssh.host_key.eddsa.key", "EdDSA public key", Bytes, None;
        host_key_eddsa_key_length: "ssh.host_key.eddsa.key_length", "EdDSA public key length", U32, Dec;
        host_sig_length: "ssh.host_sig.length", "Host signature length", U32, Dec;
        host_sig_type_length: "ssh.host_sig.type_length", "Host signature type length", U32, Dec;
        host_sig_type: "ssh.host_sig.type", "Host signature type", String, None;
        host_sig_data: "ssh.host_sig.data", "Host signature data", Bytes, None;
        host_sig_rsa: "ssh.host_sig.rsa", "RSA signature", Bytes, None;
        host_sig_dsa: "ssh.host_sig.dsa", "DSA signature", Bytes, None;
        dh_e: "ssh.dh.e", "DH client e", Bytes, None;
        dh_f: "ssh.dh.f", "DH server f", Bytes, None;
        dh_gex_min: "ssh.dh_gex.min", "DH GEX Min", U32, Dec;
        dh_gex_nbits: "ssh.dh_gex.nbits", "DH GEX Number of Bits", U32, Dec;
        dh_gex_max: "ssh.dh_gex.max", "DH GEX Max", U32, Dec;
        dh_gex_p: "ssh.dh_gex.p", "DH GEX modulus (P)", Bytes, None;
        dh_gex_g: "ssh.dh_gex.g", "DH GEX base (G)", Bytes, None;
        ecdh_q_c: "ssh.ecdh.q_c", "ECDH client's ephemeral public key (Q_C)", Bytes, None;
        ecdh_q_c_length: "ssh.ecdh.q_c_length", "ECDH client's ephemeral public key length", U32, Dec;
        ecdh_q_s: "ssh.ecdh.q_s", "ECDH server's ephemeral public key (Q_S)", Bytes, None;
        ecdh_q_s_length: "ssh.ecdh.q_s_length", "ECDH server's ephemeral public key length", U32, Dec;
        mpint_length: "ssh.mpint_length", "Multi Precision Integer Length", U32, Dec;
    }
}

/// Declares the SSH fields.
pub fn register_fields(reg: &mut Registry) -> SshFields {
    SshFields::register(reg)
}

dorsal_engine::plugin!(register_fields);

impl Protocol for SshFields {
    /// `ssh` on TCP ports 22 and 29418; tshark registers no heuristic.
    fn register_dissectors(&self, ds: &mut Dissectors, _eo: Option<SharedSink>) {
        let ssh = ds.register("ssh", Rc::new(dissector::Ssh::new(*self)));
        for p in TCP_PORTS {
            ds.add("tcp.port", u32::from(p), ssh);
        }
    }
}
