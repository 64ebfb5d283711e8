//! The AEADs the sessions use, from RustCrypto's chacha20poly1305: ChaCha20-
//! Poly1305 under single-use message keys (so a fixed nonce is safe), and
//! XChaCha20-Poly1305 with random nonces for stored records. Public so the
//! Wycheproof tests run through exactly these functions.

use chacha20poly1305::aead::{AeadCore, AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, XChaCha20Poly1305};
use generic_array::typenum::Unsigned;
use generic_array::GenericArray;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

pub const TAG_LEN: usize = 16;

fn seal_with<A: KeyInit + AeadInPlace>(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    if nonce.len() != <A as AeadCore>::NonceSize::USIZE {
        return Err(Error::InvalidArgument("wrong nonce length".into()));
    }
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = A::new_from_slice(key)
        .expect("32-byte key")
        .encrypt_in_place_detached(GenericArray::from_slice(nonce), aad, &mut out[start..])
        .map_err(|_| Error::InvalidArgument("the message is too long".into()))?;
    out.extend_from_slice(&tag);
    Ok(())
}

fn open_with<A: KeyInit + AeadInPlace>(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    if nonce.len() != <A as AeadCore>::NonceSize::USIZE {
        return Err(Error::Decryption);
    }
    let body_len = sealed.len().checked_sub(TAG_LEN).ok_or(Error::Decryption)?;
    let mut buf = Zeroizing::new(sealed[..body_len].to_vec());
    A::new_from_slice(key)
        .expect("32-byte key")
        .decrypt_in_place_detached(
            GenericArray::from_slice(nonce),
            aad,
            &mut buf,
            GenericArray::from_slice(&sealed[body_len..]),
        )
        .map_err(|_| Error::Decryption)?;
    Ok(buf)
}

/// ChaCha20-Poly1305 (RFC 8439), 12-byte nonce: appends ciphertext ‖ tag to `out`.
pub fn chacha_seal(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    seal_with::<ChaCha20Poly1305>(key, nonce, aad, plaintext, out)
}

pub fn chacha_open(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    open_with::<ChaCha20Poly1305>(key, nonce, aad, sealed)
}

/// XChaCha20-Poly1305, 24-byte nonce.
pub fn xchacha_seal(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    seal_with::<XChaCha20Poly1305>(key, nonce, aad, plaintext, out)
}

pub fn xchacha_open(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    open_with::<XChaCha20Poly1305>(key, nonce, aad, sealed)
}

/// Under a message key that is never used again, a fixed nonce is safe.
pub(crate) fn seal_once(key: &[u8; 32], aad: &[u8], plaintext: &[u8], out: &mut Vec<u8>) {
    chacha_seal(key, &[0u8; 12], aad, plaintext, out)
        .expect("a session message fits ChaCha20-Poly1305");
}

pub(crate) fn open_once(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
    chacha_open(key, &[0u8; 12], aad, sealed).map(|mut p| std::mem::take(&mut *p))
}
