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

/// Whether `public` is a point of small order (the canonical ones are 0, 1,
/// p - 1 and two points of order 8). X25519 with it gives all zeros for
/// every clamped scalar, since clamping makes the scalar a multiple of 8, so
/// no one can agree on a key with it: [`shared`] refuses the result. Checked
/// with that same function and a fixed scalar rather than a table of the
/// points, so the answer is the one a real agreement would meet.
pub fn is_small_order(public: &[u8; 32]) -> bool {
    shared(&[0x5a; 32], public).is_none()
}

#[cfg(test)]
mod tests {
    use super::{is_canonical, is_small_order, public_key};

    fn le(hex: &str) -> [u8; 32] {
        let mut out = [0; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn small_order_points_are_found() {
        let mut one = [0; 32];
        one[0] = 1;
        let mut minus_one = [0xff; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        // The two points of order 8, as libsodium's X25519 blocklist lists them.
        let eight_a = le("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
        let eight_b = le("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157");
        for point in [[0; 32], one, minus_one, eight_a, eight_b] {
            assert!(is_canonical(&point));
            assert!(is_small_order(&point), "{point:02x?}");
        }
        for seed in 1..=32u8 {
            assert!(!is_small_order(&public_key(&[seed; 32])));
        }
    }
}
