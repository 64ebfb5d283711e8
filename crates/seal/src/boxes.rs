//! Sealed boxes: XChaCha20-Poly1305 under the key's box subkey, a random
//! 192-bit nonce, and a header that carries the format version and the time
//! of sealing. Layout (docs/sealed-data.md):
//! `version (1) ‖ timestamp ms (8, big-endian) ‖ nonce (24) ‖ ciphertext ‖ tag (16)`.
//! The version and timestamp are authenticated as associated data, ahead of
//! the caller's own, so a changed timestamp fails like any other flipped bit.

use rand_core::{CryptoRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};
use crate::keys::SecretKey;
use crate::primitives::{Aead, TAG_LEN};

pub const BOX_VERSION: u8 = 1;
const STAMP_LEN: usize = 1 + 8;
const NONCE_LEN: usize = 24;
pub const BOX_OVERHEAD: usize = STAMP_LEN + NONCE_LEN + TAG_LEN;

/// Runs `f` on `stamp ‖ aad`, assembled on the stack when it is short: most
/// boxes are small, and an allocation is a measurable part of sealing 64 bytes.
fn with_associated<T>(stamp: &[u8], aad: &[u8], f: impl FnOnce(&[u8]) -> T) -> T {
    let mut small = [0u8; 128];
    let total = stamp.len() + aad.len();
    if total > small.len() {
        return f(&[stamp, aad].concat());
    }
    small[..stamp.len()].copy_from_slice(stamp);
    small[stamp.len()..total].copy_from_slice(aad);
    f(&small[..total])
}

/// The length of the box that seals `plaintext_len` bytes.
pub fn sealed_len(plaintext_len: usize) -> usize {
    BOX_OVERHEAD + plaintext_len
}

/// The length of the plaintext in a box of `sealed_len` bytes.
pub fn opened_len(sealed_len: usize) -> Result<usize> {
    sealed_len
        .checked_sub(BOX_OVERHEAD)
        .ok_or(Error::Decryption("too short to be a sealed box"))
}

/// Seals into `out`, which must be `sealed_len(plaintext.len())` bytes: the
/// binding passes memory the JavaScript engine owns, so the box is written
/// once, where it will live.
pub fn seal_into(
    key: &SecretKey,
    plaintext: &[u8],
    aad: &[u8],
    now_ms: u64,
    rng: &mut (impl RngCore + CryptoRng),
    out: &mut [u8],
) -> Result<()> {
    Error::check_len("sealed box buffer", out, sealed_len(plaintext.len()))?;
    let (stamp, rest) = out.split_at_mut(STAMP_LEN);
    let (nonce, rest) = rest.split_at_mut(NONCE_LEN);
    let (body, tag) = rest.split_at_mut(plaintext.len());
    stamp[0] = BOX_VERSION;
    stamp[1..].copy_from_slice(&now_ms.to_be_bytes());
    rng.fill_bytes(nonce);
    body.copy_from_slice(plaintext);
    let computed = with_associated(stamp, aad, |associated| {
        Aead::XChaCha20Poly1305.encrypt_detached(&key.box_key[..], nonce, associated, body)
    })?;
    tag.copy_from_slice(&computed);
    Ok(())
}

pub fn seal(
    key: &SecretKey,
    plaintext: &[u8],
    aad: &[u8],
    now_ms: u64,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>> {
    let mut out = vec![0u8; sealed_len(plaintext.len())];
    seal_into(key, plaintext, aad, now_ms, rng, &mut out)?;
    Ok(out)
}

/// What an opened box held, and when it was sealed.
pub struct Opened {
    pub plaintext: Zeroizing<Vec<u8>>,
    pub timestamp_ms: u64,
}

/// Opens into `out` (`opened_len(sealed.len())` bytes) and returns the time
/// of sealing. Authenticates first, then checks the age: an expired box is
/// one that really was sealed with this key and associated data. On any
/// failure `out` is left zeroed.
pub fn open_into(
    key: &SecretKey,
    sealed: &[u8],
    aad: &[u8],
    ttl_ms: Option<u64>,
    now_ms: u64,
    out: &mut [u8],
) -> Result<u64> {
    let len = opened_len(sealed.len())?;
    Error::check_len("opened box buffer", out, len)?;
    if sealed[0] != BOX_VERSION {
        return Err(Error::Decryption("unknown sealed box version"));
    }
    let (stamp, rest) = sealed.split_at(STAMP_LEN);
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(len);
    out.copy_from_slice(ciphertext);
    let result = with_associated(stamp, aad, |associated| {
        Aead::XChaCha20Poly1305.decrypt_detached(&key.box_key[..], nonce, associated, out, tag)
    })
    .and_then(|()| {
        let timestamp_ms = u64::from_be_bytes(stamp[1..].try_into().expect("8 bytes"));
        check_age(timestamp_ms, ttl_ms, now_ms).map(|()| timestamp_ms)
    });
    if result.is_err() {
        out.zeroize();
    }
    result
}

pub fn open(
    key: &SecretKey,
    sealed: &[u8],
    aad: &[u8],
    ttl_ms: Option<u64>,
    now_ms: u64,
) -> Result<Opened> {
    let mut plaintext = Zeroizing::new(vec![0u8; opened_len(sealed.len())?]);
    let timestamp_ms = open_into(key, sealed, aad, ttl_ms, now_ms, &mut plaintext)?;
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
