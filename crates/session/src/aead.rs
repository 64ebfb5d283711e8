//! The AEADs under the sessions are the sealed-data core's primitives
//! (`keyward_seal::primitives`: ChaCha20-Poly1305 on ring's assembly,
//! XChaCha20-Poly1305 on top), which `crates/seal/tests/wycheproof.rs` runs
//! against every Wycheproof case. Message keys are single-use, so a fixed
//! nonce is safe; stored records take random 24-byte nonces.

use keyward_seal::primitives::Aead;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

pub const TAG_LEN: usize = keyward_seal::primitives::TAG_LEN;
const ZERO_NONCE: [u8; 12] = [0; 12];

/// Appends `ciphertext ‖ tag` to `out`. `key` must never be used again.
pub fn seal_once(key: &[u8; 32], aad: &[u8], plaintext: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = Aead::ChaCha20Poly1305
        .encrypt_detached(key, &ZERO_NONCE, aad, &mut out[start..])
        .expect("a 32-byte key, a 12-byte nonce and a message under 256 GiB");
    out.extend_from_slice(&tag);
}

/// The plaintext stays in its `Zeroizing` buffer all the way to the caller
/// (the binding copies it into JavaScript memory and drops it, wiped).
pub fn open_once(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    Aead::ChaCha20Poly1305
        .decrypt(key, &ZERO_NONCE, aad, sealed)
        .map_err(|_| Error::Decryption)
}

/// Appends `ciphertext ‖ tag` under XChaCha20-Poly1305 to `out`.
pub fn xchacha_seal(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) {
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = Aead::XChaCha20Poly1305
        .encrypt_detached(key, nonce, aad, &mut out[start..])
        .expect("a 32-byte key, a 24-byte nonce and a record under 256 GiB");
    out.extend_from_slice(&tag);
}

pub fn xchacha_open(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    Aead::XChaCha20Poly1305
        .decrypt(key, nonce, aad, sealed)
        .map_err(|_| Error::Decryption)
}
