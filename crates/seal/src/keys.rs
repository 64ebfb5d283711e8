//! Secret keys. The caller's 32-byte key never touches a primitive directly:
//! each purpose (boxes, MACs, streams, vault) gets its own HKDF-derived subkey,
//! computed once when the key is made, so one key can serve all of them.
//!
//! Two kinds of derivation share one HKDF: keyward's own (the subkeys and the
//! vault's keys, under the labels in `INTERNAL_LABELS`) and the caller's
//! (`SecretKey::derive`). The caller's always put `USER_LABEL` first in the
//! canonically encoded info, so no domain or context a caller chooses can
//! reproduce an internal key (issue 13, finding 8).

use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::encoding::encode_parts;
use crate::error::{Error, Result};
use crate::primitives::{hkdf, Hash, KEY_LEN};

const DERIVE_SALT: &[u8] = b"keyward derive v1";

/// The first info part of every caller derivation. Internal derivations keep
/// their original encoding (persisted boxes, streams and vaults depend on it).
const USER_LABEL: &[u8] = b"keyward user derive v2";
const SUBKEY_LABEL: &[u8] = b"keyward subkey";

/// Every label keyward derives its own keys under; none equals `USER_LABEL`.
pub(crate) const INTERNAL_LABELS: [&[u8]; 3] = [
    SUBKEY_LABEL,
    crate::vault::MANIFEST_LABEL,
    crate::vault::NAMESPACE_LABEL,
];

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
        let sub = |purpose: &[u8]| derive_bytes(&root[..], SUBKEY_LABEL, &[purpose]);
        SecretKey {
            box_key: sub(b"box"),
            mac_key: sub(b"mac"),
            stream_key: sub(b"stream"),
            root,
        }
    }

    /// A new key for `domain` and `context`; different inputs give independent
    /// keys, and none of them is one of keyward's internal keys.
    pub fn derive(&self, domain: &[u8], context: &[&[u8]]) -> SecretKey {
        let parts: Vec<&[u8]> = std::iter::once(domain)
            .chain(context.iter().copied())
            .collect();
        SecretKey::from_root(derive_bytes(&self.root[..], USER_LABEL, &parts))
    }

    /// keyward's own derivations (the vault's keys), under an internal label.
    pub(crate) fn derive_internal(&self, label: &'static [u8], context: &[&[u8]]) -> SecretKey {
        debug_assert!(INTERNAL_LABELS.contains(&label));
        SecretKey::from_root(derive_bytes(&self.root[..], label, context))
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

    /// Issue 13, finding 8: `derive("keyward subkey", "box")` used to return
    /// the parent's box subkey, and `derive("keyward vault manifest")` its
    /// vault manifest key.
    #[test]
    fn caller_derivations_never_reproduce_internal_keys() {
        let key = SecretKey::generate(&mut OsRng);
        let internal: [(&[u8], &KeyBytes); 3] = [
            (b"box", &key.box_key),
            (b"mac", &key.mac_key),
            (b"stream", &key.stream_key),
        ];
        for (purpose, subkey) in internal {
            for label in INTERNAL_LABELS {
                assert_ne!(key.derive(label, &[purpose]).expose(), &subkey[..]);
                assert_ne!(key.derive(label, &[]).expose(), &subkey[..]);
            }
        }
        let vault_keys = [
            key.derive_internal(crate::vault::MANIFEST_LABEL, &[]),
            key.derive_internal(crate::vault::NAMESPACE_LABEL, &[b"users"]),
            key.derive_internal(crate::vault::NAMESPACE_LABEL, &[]),
        ];
        for label in INTERNAL_LABELS {
            for context in [&[][..], &[&b"users"[..]][..]] {
                let derived = key.derive(label, context);
                for vault_key in &vault_keys {
                    assert_ne!(derived.expose(), vault_key.expose());
                }
            }
        }
        assert!(!INTERNAL_LABELS.contains(&USER_LABEL));
        // The internal encoding is unchanged: persisted data stays readable.
        assert_eq!(
            &key.box_key[..],
            &derive_bytes(&key.root[..], b"keyward subkey", &[b"box"])[..]
        );
    }

    #[test]
    fn exact_key_length() {
        assert!(SecretKey::from_bytes(&[7; 31]).is_err());
        assert!(SecretKey::from_bytes(&[7; 33]).is_err());
        assert_eq!(SecretKey::from_bytes(&[7; 32]).unwrap().expose(), &[7; 32]);
    }
}
