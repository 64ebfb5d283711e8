//! X25519 (RFC 7748) behind one interface. By default from AWS-LC
//! (`crates/aws-lc`): its formally verified s2n-bignum assembly is about
//! 2.5× faster here than curve25519-dalek's portable Montgomery ladder, and
//! a ratchet step or a handshake is little else. Building without the `aws-lc`
//! feature falls back to x25519-dalek for targets where AWS-LC does not
//! build. Both clamp the scalar, and both refuse an all-zero result.
//!
//! The lowest layer of the crate: it uses no other module (`keys` builds on it).

use zeroize::Zeroizing;

#[cfg(feature = "aws-lc")]
mod backend {
    pub use keyward_aws_lc::x25519::{public_key, shared};
}

#[cfg(not(feature = "aws-lc"))]
mod backend {
    use x25519_dalek::{PublicKey, StaticSecret};

    use zeroize::Zeroizing;

    pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
        PublicKey::from(&StaticSecret::from(*secret)).to_bytes()
    }

    pub fn shared(secret: &[u8; 32], public: &[u8; 32]) -> Option<Zeroizing<[u8; 32]>> {
        let shared = StaticSecret::from(*secret).diffie_hellman(&PublicKey::from(*public));
        shared
            .was_contributory()
            .then(|| Zeroizing::new(shared.to_bytes()))
    }
}

/// The public key of a 32-byte secret (clamped as RFC 7748 says).
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    backend::public_key(secret)
}

/// X25519(secret, public); `None` when the result is all zero (a small-order public key).
pub fn shared(secret: &[u8; 32], public: &[u8; 32]) -> Option<Zeroizing<[u8; 32]>> {
    backend::shared(secret, public)
}

/// Whether 32 bytes are the canonical encoding of an X25519 public key: a
/// u-coordinate below p = 2^255 - 19, so the top bit is clear. RFC 7748 has
/// receivers mask that bit and reduce mod p, which makes 2^255 + u, u + p
/// and u the same key; keyward writes only canonical keys, so refusing the
/// others makes every accepted key one byte string (a flipped top bit of an
/// unsigned one-time prekey is refused, not silently the same key).
pub fn is_canonical(public: &[u8; 32]) -> bool {
    if public[31] & 0x80 != 0 {
        return false;
    }
    // The only values in [p, 2^255): 0x7f ff .. ff, then a low byte of 0xed..=0xff.
    let at_least_p =
        public[31] == 0x7f && public[1..31].iter().all(|&b| b == 0xff) && public[0] >= 0xed;
    !at_least_p
}

/// Which implementation this build uses, for benchmarks and reports.
pub const BACKEND: &str = if cfg!(feature = "aws-lc") {
    "aws-lc"
} else {
    "x25519-dalek"
};
