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
    let (nonce, sealed) = rest.split_at_mut(NONCE_LEN);
    stamp[0] = BOX_VERSION;
    stamp[1..].copy_from_slice(&now_ms.to_be_bytes());
    rng.fill_bytes(nonce);
    let nonce: &[u8; NONCE_LEN] = (&*nonce).try_into().expect("nonce length");
    with_associated(stamp, aad, |associated| {
        seal_body(&key.box_key, nonce, associated, plaintext, sealed)
    })
}

/// From this size on, boxes are sealed and opened out of place through
/// AWS-LC: one pass over the input instead of a copy and a pass (see
/// keyward-aws-lc). Below it the copy costs less than AWS-LC's per-call
/// set-up, and ring in place is faster. Both give the same bytes.
#[cfg(feature = "aws-lc")]
const OUT_OF_PLACE_FROM: usize = 4096;

/// `ciphertext ‖ tag` of `plaintext` into `sealed`.
fn seal_body(
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    associated: &[u8],
    plaintext: &[u8],
    sealed: &mut [u8],
) -> Result<()> {
    #[cfg(feature = "aws-lc")]
    if plaintext.len() >= OUT_OF_PLACE_FROM {
        return keyward_aws_lc::aead::seal(key, nonce, associated, plaintext, sealed)
            .ok_or(Error::Decryption("the box could not be sealed"));
    }
    seal_in_place(key, nonce, associated, plaintext, sealed)
}

/// The plaintext of `sealed` (`ciphertext ‖ tag`) into `out`.
fn open_body(
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    associated: &[u8],
    sealed: &[u8],
    out: &mut [u8],
) -> Result<()> {
    #[cfg(feature = "aws-lc")]
    if out.len() >= OUT_OF_PLACE_FROM {
        return keyward_aws_lc::aead::open(key, nonce, associated, sealed, out)
            .ok_or(Error::Decryption("the ciphertext does not authenticate"));
    }
    open_in_place(key, nonce, associated, sealed, out)
}

/// In place with ring: the plaintext is copied into the box, then encrypted there.
fn seal_in_place(
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    associated: &[u8],
    plaintext: &[u8],
    sealed: &mut [u8],
) -> Result<()> {
    let (body, tag) = sealed.split_at_mut(plaintext.len());
    body.copy_from_slice(plaintext);
    let computed = Aead::XChaCha20Poly1305.encrypt_detached(&key[..], nonce, associated, body)?;
    tag.copy_from_slice(&computed);
    Ok(())
}

fn open_in_place(
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    associated: &[u8],
    sealed: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let (ciphertext, tag) = sealed.split_at(out.len());
    out.copy_from_slice(ciphertext);
    Aead::XChaCha20Poly1305.decrypt_detached(&key[..], nonce, associated, out, tag)
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
    // The stamp is read once, into a copy: the bytes that authenticate are
    // the bytes whose age is checked, even if the caller's buffer changes
    // under us (issue 13, finding 10).
    let stamp: [u8; STAMP_LEN] = sealed[..STAMP_LEN].try_into().expect("stamp length");
    if stamp[0] != BOX_VERSION {
        return Err(Error::Decryption("unknown sealed box version"));
    }
    let (nonce, body) = sealed[STAMP_LEN..].split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("nonce length");
    let nonce = &nonce;
    let result = with_associated(&stamp, aad, |associated| {
        open_body(&key.box_key, nonce, associated, body, out)
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

    /// Whichever backend seals (AWS-LC out of place, or ring in place), the
    /// box must be exactly the primitives layer's XChaCha20-Poly1305 (ring,
    /// Wycheproof-tested) over `stamp ‖ aad`, and open with it, at sizes
    /// across the vectorised code paths.
    #[test]
    fn boxes_are_the_primitive_aead_byte_for_byte() {
        let key = SecretKey::generate(&mut OsRng);
        for len in [0usize, 1, 63, 64, 65, 255, 256, 1024, 4097, 65_536] {
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let sealed = seal(&key, &plaintext, b"aad", 42, &mut OsRng).unwrap();
            let (stamp, rest) = sealed.split_at(STAMP_LEN);
            let (nonce, body) = rest.split_at(NONCE_LEN);
            let expected = crate::primitives::Aead::XChaCha20Poly1305
                .encrypt(
                    &key.box_key[..],
                    nonce,
                    &[stamp, b"aad"].concat(),
                    &plaintext,
                )
                .unwrap();
            assert_eq!(body, &expected[..], "{len} bytes");
            assert_eq!(
                &open(&key, &sealed, b"aad", None, 42).unwrap().plaintext[..],
                &plaintext[..]
            );
        }
    }

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
