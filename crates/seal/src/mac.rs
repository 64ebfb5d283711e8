//! Keyed MACs: HMAC-SHA-512 under the key's MAC subkey over the canonical
//! encoding of `[aad, encode(parts)]`, so neither the split between parts nor
//! the split between the associated data and the parts is ambiguous.

use crate::error::Result;
use crate::keys::SecretKey;
use crate::primitives::{hmac, hmac_sha512_verify, Hash};

pub const MAC_LEN: usize = 64;

/// The length prefixes of `encode_parts([aad, encode_parts(parts)])`, each
/// 8 bytes big-endian: the outer count and the aad's length, then the inner
/// encoding's length and count, then one per part.
fn prefixes(parts: &[&[u8]], aad: &[u8]) -> Vec<[u8; 8]> {
    let inner = 8 + parts.iter().map(|p| 8 + p.len()).sum::<usize>();
    let be = |n: usize| (n as u64).to_be_bytes();
    let mut out = Vec::with_capacity(4 + parts.len());
    out.extend([be(2), be(aad.len()), be(inner), be(parts.len())]);
    out.extend(parts.iter().map(|p| be(p.len())));
    out
}

/// Runs `f` on the canonical encoding as a list of slices, fed to the HMAC
/// one after another: the message (which may be secret) is never copied into
/// a buffer that would be freed without being wiped.
fn with_message<T>(parts: &[&[u8]], aad: &[u8], f: impl FnOnce(&[&[u8]]) -> T) -> T {
    let lengths = prefixes(parts, aad);
    let mut pieces: Vec<&[u8]> = Vec::with_capacity(4 + 2 * parts.len());
    pieces.extend([
        &lengths[0][..],
        &lengths[1][..],
        aad,
        &lengths[2][..],
        &lengths[3][..],
    ]);
    for (part, len) in parts.iter().zip(&lengths[4..]) {
        pieces.push(&len[..]);
        pieces.push(part);
    }
    f(&pieces)
}

pub fn mac(key: &SecretKey, parts: &[&[u8]], aad: &[u8]) -> Vec<u8> {
    with_message(parts, aad, |message| {
        hmac(Hash::Sha512, &key.mac_key[..], message)
    })
}

/// Constant-time; a tag of any other length is simply invalid.
pub fn verify_mac(key: &SecretKey, parts: &[&[u8]], aad: &[u8], tag: &[u8]) -> Result<()> {
    with_message(parts, aad, |message| {
        hmac_sha512_verify(&key.mac_key[..], message, tag)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::encode_parts;
    use crate::error::Error;
    use rand_core::OsRng;

    /// Fed piece by piece, the MAC is still over the one canonical encoding.
    #[test]
    fn the_pieces_are_the_canonical_encoding() {
        let parts: [&[u8]; 3] = [b"ab", b"", b"cde"];
        let canonical = encode_parts([&b"aad"[..], &encode_parts(parts)[..]]);
        let fed = with_message(&parts, b"aad", |pieces| pieces.concat());
        assert_eq!(fed, canonical);
        assert_eq!(
            with_message(&[], b"", |p| p.concat()),
            encode_parts([&b""[..], &encode_parts([])[..]])
        );
    }

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
