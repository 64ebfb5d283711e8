//! Secret keys. The caller's 32-byte key never touches a primitive directly:
//! each purpose (boxes, MACs, streams, vault) gets its own HKDF-derived subkey,
//! computed once when the key is made, so one key can serve all of them.

use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::encoding::encode_parts;
use crate::error::{Error, Result};
use crate::primitives::{hkdf, Hash, KEY_LEN};

const DERIVE_SALT: &[u8] = b"keyward derive v1";

pub(crate) type KeyBytes = Zeroizing<[u8; KEY_LEN]>;

/// A 256-bit key and its per-purpose subkeys; all wiped on drop.
pub struct SecretKey {
    root: KeyBytes,
    pub(crate) box_key: KeyBytes,
    pub(crate) mac_key: KeyBytes,
    pub(crate) stream_key: KeyBytes,
}

impl SecretKey {
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> SecretKey {
        let mut root = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill_bytes(&mut root[..]);
        SecretKey::from_root(root)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<SecretKey> {
        Error::check_len("secret key", bytes, KEY_LEN)?;
        let mut root = Zeroizing::new([0u8; KEY_LEN]);
        root.copy_from_slice(bytes);
        Ok(SecretKey::from_root(root))
    }

    fn from_root(root: KeyBytes) -> SecretKey {
        let sub = |purpose: &[u8]| derive_bytes(&root[..], b"keyward subkey", &[purpose]);
        SecretKey {
            box_key: sub(b"box"),
            mac_key: sub(b"mac"),
            stream_key: sub(b"stream"),
            root,
        }
    }

    /// A new key for `domain` and `context`; different inputs give independent keys.
    pub fn derive(&self, domain: &[u8], context: &[&[u8]]) -> SecretKey {
        SecretKey::from_root(derive_bytes(&self.root[..], domain, context))
    }

    /// The key's bytes, for the caller who asked to export them.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.root
    }
}

/// HKDF-SHA-512 with `domain` and each context part in a canonical encoding.
fn derive_bytes(root: &[u8], domain: &[u8], context: &[&[u8]]) -> KeyBytes {
    let info = encode_parts(std::iter::once(domain).chain(context.iter().copied()));
    let okm = hkdf(Hash::Sha512, root, DERIVE_SALT, &info, KEY_LEN)
        .expect("32 bytes is a valid HKDF length");
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    out.copy_from_slice(&okm);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    #[test]
    fn derivation_separates_domains_and_contexts() {
        let key = SecretKey::generate(&mut OsRng);
        let a = key.derive(b"a", &[b"x"]);
        assert_ne!(a.expose(), key.derive(b"b", &[b"x"]).expose());
        assert_ne!(a.expose(), key.derive(b"a", &[b"y"]).expose());
        assert_ne!(
            key.derive(b"a", &[b"bc"]).expose(),
            key.derive(b"ab", &[b"c"]).expose()
        );
        assert_eq!(a.expose(), key.derive(b"a", &[b"x"]).expose());
        assert_ne!(&key.box_key[..], &key.mac_key[..]);
        assert_ne!(&key.root[..], &key.box_key[..]);
    }

    #[test]
    fn exact_key_length() {
        assert!(SecretKey::from_bytes(&[7; 31]).is_err());
        assert!(SecretKey::from_bytes(&[7; 33]).is_err());
        assert_eq!(SecretKey::from_bytes(&[7; 32]).unwrap().expose(), &[7; 32]);
    }
}
