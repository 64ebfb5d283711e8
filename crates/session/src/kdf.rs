//! The Double Ratchet's KDFs (Signal spec §5.2): KDF_RK is HKDF-SHA256 with
//! the root key as salt; KDF_CK is HMAC-SHA256 of the chain key with 0x01
//! (message key) and 0x02 (next chain key).

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::keys::Secret32;

const RATCHET_INFO: &[u8] = b"keyward ratchet v1";

fn hkdf_64(salt: &[u8], ikm: &[u8], info: &[u8]) -> (Secret32, Secret32) {
    let mut okm = Zeroizing::new([0u8; 64]);
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut okm[..])
        .expect("64 bytes is a valid HKDF-SHA256 length");
    split(&okm)
}

fn split(okm: &[u8; 64]) -> (Secret32, Secret32) {
    let mut a = Zeroizing::new([0u8; 32]);
    let mut b = Zeroizing::new([0u8; 32]);
    a.copy_from_slice(&okm[..32]);
    b.copy_from_slice(&okm[32..]);
    (a, b)
}

/// `(root key, chain key) = KDF_RK(root key, DH output)`.
pub fn kdf_rk(root: &[u8; 32], dh: &Secret32) -> (Secret32, Secret32) {
    hkdf_64(root, &dh[..], RATCHET_INFO)
}

fn hmac_byte(key: &[u8; 32], byte: u8) -> Secret32 {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(&[byte]);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// `(next chain key, message key) = KDF_CK(chain key)`.
pub fn kdf_ck(chain: &[u8; 32]) -> (Secret32, Secret32) {
    (hmac_byte(chain, 0x02), hmac_byte(chain, 0x01))
}

/// A 32-byte key from input keying material, for starting a session (X3DH's
/// KDF with its 0xFF prefix, or the Noise split).
pub fn derive_key(salt: &[u8], ikm: &[u8], info: &[u8]) -> Secret32 {
    let mut out = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut out[..])
        .expect("32 bytes is a valid HKDF-SHA256 length");
    out
}
