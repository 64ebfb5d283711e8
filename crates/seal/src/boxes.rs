//! Sealed boxes: XChaCha20-Poly1305 under the key's box subkey, a random
//! 192-bit nonce, and a header that carries the format version and the time
//! of sealing. Layout (docs/sealed-data.md):
//! `version (1) ‖ timestamp ms (8, big-endian) ‖ nonce (24) ‖ ciphertext ‖ tag (16)`.
//! The version and timestamp are authenticated as associated data, ahead of
//! the caller's own, so a changed timestamp fails like any other flipped bit.

use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::SecretKey;
use crate::primitives::{Aead, TAG_LEN};

pub const BOX_VERSION: u8 = 1;
const STAMP_LEN: usize = 1 + 8;
const NONCE_LEN: usize = 24;
pub const BOX_OVERHEAD: usize = STAMP_LEN + NONCE_LEN + TAG_LEN;

fn associated(stamp: &[u8], aad: &[u8]) -> Vec<u8> {
    [stamp, aad].concat()
}

pub fn seal(
    key: &SecretKey,
    plaintext: &[u8],
    aad: &[u8],
    now_ms: u64,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(BOX_OVERHEAD + plaintext.len());
    out.push(BOX_VERSION);
    out.extend_from_slice(&now_ms.to_be_bytes());
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let (head, body) = out.split_at_mut(STAMP_LEN + NONCE_LEN);
    let tag = Aead::XChaCha20Poly1305.encrypt_detached(
        &key.box_key[..],
        &nonce,
        &associated(&head[..STAMP_LEN], aad),
        body,
    )?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// What an opened box held, and when it was sealed.
pub struct Opened {
    pub plaintext: Zeroizing<Vec<u8>>,
    pub timestamp_ms: u64,
}

/// Authenticates first, then checks the age: an expired box is one that
/// really was sealed with this key and associated data.
pub fn open(
    key: &SecretKey,
    sealed: &[u8],
    aad: &[u8],
    ttl_ms: Option<u64>,
    now_ms: u64,
) -> Result<Opened> {
    if sealed.len() < BOX_OVERHEAD {
        return Err(Error::Decryption("too short to be a sealed box"));
    }
    if sealed[0] != BOX_VERSION {
        return Err(Error::Decryption("unknown sealed box version"));
    }
    let (stamp, rest) = sealed.split_at(STAMP_LEN);
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    Aead::XChaCha20Poly1305.decrypt_detached(
        &key.box_key[..],
        nonce,
        &associated(stamp, aad),
        &mut plaintext,
        tag,
    )?;
    let timestamp_ms = u64::from_be_bytes(stamp[1..].try_into().expect("8 bytes"));
    check_age(timestamp_ms, ttl_ms, now_ms)?;
    Ok(Opened {
        plaintext,
        timestamp_ms,
    })
}

/// `Expired` when more than `ttl_ms` has passed since `timestamp_ms`.
pub fn check_age(timestamp_ms: u64, ttl_ms: Option<u64>, now_ms: u64) -> Result<()> {
    let Some(ttl) = ttl_ms else { return Ok(()) };
    let age = now_ms.saturating_sub(timestamp_ms);
    if age > ttl {
        return Err(Error::Expired {
            expired_by: (age - ttl) as f64 / 1000.0,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    #[test]
    fn round_trip_and_every_flipped_bit() {
        let key = SecretKey::generate(&mut OsRng);
        let sealed = seal(&key, b"attack at dawn", b"ctx", 1_000, &mut OsRng).unwrap();
        assert_eq!(sealed.len(), BOX_OVERHEAD + 14);
        let opened = open(&key, &sealed, b"ctx", None, 5_000).unwrap();
        assert_eq!(&opened.plaintext[..], b"attack at dawn");
        assert_eq!(opened.timestamp_ms, 1_000);
        for bit in 0..sealed.len() * 8 {
            let mut bad = sealed.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(
                matches!(
                    open(&key, &bad, b"ctx", None, 5_000),
                    Err(Error::Decryption(_))
                ),
                "bit {bit}"
            );
        }
        assert!(matches!(
            open(&key, &sealed, b"ctx2", None, 5_000),
            Err(Error::Decryption(_))
        ));
        let other = SecretKey::generate(&mut OsRng);
        assert!(matches!(
            open(&other, &sealed, b"ctx", None, 5_000),
            Err(Error::Decryption(_))
        ));
        assert!(matches!(
            open(&key, &sealed[..BOX_OVERHEAD - 1], b"ctx", None, 5_000),
            Err(Error::Decryption(_))
        ));
    }

    #[test]
    fn ttl_is_checked_against_the_given_clock() {
        let key = SecretKey::generate(&mut OsRng);
        let sealed = seal(&key, b"", b"", 10_000, &mut OsRng).unwrap();
        assert!(open(&key, &sealed, b"", Some(5_000), 15_000).is_ok());
        match open(&key, &sealed, b"", Some(5_000), 17_500) {
            Err(Error::Expired { expired_by }) => assert_eq!(expired_by, 2.5),
            _ => panic!("expected expiry"),
        }
    }
}
