//! Keyed MACs: HMAC-SHA-512 under the key's MAC subkey over the canonical
//! encoding of `[aad, encode(parts)]`, so neither the split between parts nor
//! the split between the associated data and the parts is ambiguous.

use crate::encoding::encode_parts;
use crate::error::Result;
use crate::keys::SecretKey;
use crate::primitives::{hmac, hmac_sha512_verify, Hash};

pub const MAC_LEN: usize = 64;

fn message(parts: &[&[u8]], aad: &[u8]) -> Vec<u8> {
    encode_parts([aad, &encode_parts(parts.iter().copied())[..]])
}

pub fn mac(key: &SecretKey, parts: &[&[u8]], aad: &[u8]) -> Vec<u8> {
    hmac(Hash::Sha512, &key.mac_key[..], &[&message(parts, aad)])
}

/// Constant-time; a tag of any other length is simply invalid.
pub fn verify_mac(key: &SecretKey, parts: &[&[u8]], aad: &[u8], tag: &[u8]) -> Result<()> {
    hmac_sha512_verify(&key.mac_key[..], &[&message(parts, aad)], tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use rand_core::OsRng;

    #[test]
    fn canonical_and_verified() {
        let key = SecretKey::generate(&mut OsRng);
        let tag = mac(&key, &[b"ab", b"c"], b"");
        assert_eq!(tag.len(), MAC_LEN);
        assert_ne!(tag, mac(&key, &[b"a", b"bc"], b""));
        assert_ne!(tag, mac(&key, &[b"ab", b"c"], b"x"));
        assert_ne!(mac(&key, &[b"x"], b""), mac(&key, &[], b"x"));
        assert!(verify_mac(&key, &[b"ab", b"c"], b"", &tag).is_ok());
        assert_eq!(
            verify_mac(&key, &[b"a", b"bc"], b"", &tag),
            Err(Error::InvalidMac)
        );
        assert_eq!(
            verify_mac(&key, &[b"ab", b"c"], b"", &tag[..63]),
            Err(Error::InvalidMac)
        );
        let mut flipped = tag.clone();
        flipped[10] ^= 1;
        assert_eq!(
            verify_mac(&key, &[b"ab", b"c"], b"", &flipped),
            Err(Error::InvalidMac)
        );
    }
}
