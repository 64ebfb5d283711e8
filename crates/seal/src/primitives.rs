//! The raw primitives under every sealed-data format: the two ChaCha20-Poly1305
//! AEADs (ring's assembly, see `chacha.rs`), HKDF and HMAC (RustCrypto). The high-level formats call exactly
//! these functions, so the Wycheproof vectors run against them test those
//! formats' primitive layer too.

use aead::generic_array::GenericArray;
use aead::{AeadInPlace, KeyInit};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};
use zeroize::Zeroizing;

use crate::chacha::{ChaCha20Poly1305, XChaCha20Poly1305};
use crate::error::{Error, Result};

pub const KEY_LEN: usize = 32;
pub const TAG_LEN: usize = 16;

/// Calls `$m! { $($args)* { Variant = "name", … } }` with the AEADs: the one
/// place they are named, for [`Aead`] and for a binding's mirror of it.
/// Docs are written `#[doc = "…"]` so they reach napi-rs typings as text.
#[macro_export]
macro_rules! seal_aeads {
    ($m:ident $(, $($args:tt)*)?) => {
        $m! { $($($args)*)? {
            #[doc = " The extended-nonce variant (192-bit nonce), safe with random nonces."]
            XChaCha20Poly1305 = "xchacha20-poly1305",
            #[doc = " RFC 8439 with a 96-bit nonce."]
            ChaCha20Poly1305 = "chacha20-poly1305",
        } }
    };
}

/// Calls `$m! { $($args)* { Variant = "name", … } }` with the hashes of HKDF
/// and HMAC, as [`seal_aeads!`](crate::seal_aeads) does for the AEADs.
#[macro_export]
macro_rules! seal_hashes {
    ($m:ident $(, $($args:tt)*)?) => {
        $m! { $($($args)*)? {
            Sha256 = "sha256",
            Sha512 = "sha512",
        } }
    };
}

/// A named enum from such a list, with `ALL`, `name` and `from_name`.
macro_rules! named_enum {
    ($(#[$enum_doc:meta])* $enum:ident, $what:literal { $($(#[$doc:meta])* $variant:ident = $name:literal,)* }) => {
        $(#[$enum_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $enum {
            $($(#[$doc])* $variant,)*
        }

        impl $enum {
            pub const ALL: [$enum; [$($name),*].len()] = [$($enum::$variant),*];

            pub fn name(self) -> &'static str {
                match self {
                    $($enum::$variant => $name,)*
                }
            }

            /// The variant of that name; anything else is `InvalidArgument`, naming them all.
            pub fn from_name(name: &str) -> Result<Self> {
                $enum::ALL.into_iter().find(|v| v.name() == name).ok_or_else(|| {
                    let names: Vec<_> = $enum::ALL.iter().map(|v| v.name()).collect();
                    Error::InvalidArgument(format!(
                        concat!("unknown ", $what, " {:?}; expected one of {}"),
                        name,
                        names.join(", ")
                    ))
                })
            }
        }
    };
}
pub(crate) use named_enum;

seal_aeads!(named_enum, Aead, "AEAD");

impl Aead {
    pub fn nonce_len(self) -> usize {
        match self {
            Aead::ChaCha20Poly1305 => 12,
            Aead::XChaCha20Poly1305 => 24,
        }
    }

    fn check(self, key: &[u8], nonce: &[u8]) -> Result<()> {
        Error::check_len("AEAD key", key, KEY_LEN)?;
        Error::check_len("AEAD nonce", nonce, self.nonce_len())
    }

    /// Encrypts `buffer` in place and returns the tag.
    pub fn encrypt_detached(
        self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        buffer: &mut [u8],
    ) -> Result<[u8; TAG_LEN]> {
        self.check(key, nonce)?;
        let tag =
            match self {
                Aead::ChaCha20Poly1305 => ChaCha20Poly1305::new(key.into())
                    .encrypt_in_place_detached(nonce.into(), aad, buffer),
                Aead::XChaCha20Poly1305 => XChaCha20Poly1305::new(key.into())
                    .encrypt_in_place_detached(nonce.into(), aad, buffer),
            }
            .map_err(|_| Error::InvalidArgument("plaintext too long for one AEAD call".into()))?;
        Ok(tag.into())
    }

    /// Decrypts `buffer` in place if `tag` authenticates it; leaves it untouched otherwise.
    pub fn decrypt_detached(
        self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        buffer: &mut [u8],
        tag: &[u8],
    ) -> Result<()> {
        self.check(key, nonce)?;
        if tag.len() != TAG_LEN {
            return Err(Error::Decryption("the tag is not 16 bytes"));
        }
        let tag = GenericArray::from_slice(tag);
        match self {
            Aead::ChaCha20Poly1305 => ChaCha20Poly1305::new(key.into()).decrypt_in_place_detached(
                nonce.into(),
                aad,
                buffer,
                tag,
            ),
            Aead::XChaCha20Poly1305 => XChaCha20Poly1305::new(key.into())
                .decrypt_in_place_detached(nonce.into(), aad, buffer, tag),
        }
        .map_err(|_| Error::Decryption("the ciphertext does not authenticate"))
    }

    /// `ciphertext ‖ tag`.
    pub fn encrypt(
        self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
        out.extend_from_slice(plaintext);
        let tag = self.encrypt_detached(key, nonce, aad, &mut out)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Takes `ciphertext ‖ tag`.
    pub fn decrypt(
        self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.check(key, nonce)?;
        if sealed.len() < TAG_LEN {
            return Err(Error::Decryption("shorter than a tag"));
        }
        let (ciphertext, tag) = sealed.split_at(sealed.len() - TAG_LEN);
        let mut out = Zeroizing::new(ciphertext.to_vec());
        self.decrypt_detached(key, nonce, aad, &mut out, tag)?;
        Ok(out)
    }
}

seal_hashes!(named_enum, Hash, "hash");

impl Hash {
    pub fn output_len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha512 => 64,
        }
    }

    /// The longest HKDF output (RFC 5869): 255 hash lengths.
    pub fn hkdf_max_len(self) -> usize {
        255 * self.output_len()
    }
}

/// HKDF (RFC 5869). Fails for an output longer than 255 hash lengths, before
/// allocating anything: the length may come from an untrusted caller.
pub fn hkdf(
    hash: Hash,
    ikm: &[u8],
    salt: &[u8],
    info: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>> {
    let too_long = || {
        Error::InvalidArgument(format!(
            "HKDF output of {len} bytes is longer than 255 × {}",
            hash.output_len()
        ))
    };
    if len > hash.hkdf_max_len() {
        return Err(too_long());
    }
    let mut out = Zeroizing::new(vec![0u8; len]);
    match hash {
        Hash::Sha256 => Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, &mut out),
        Hash::Sha512 => Hkdf::<Sha512>::new(Some(salt), ikm).expand(info, &mut out),
    }
    .map_err(|_| too_long())?;
    Ok(out)
}

/// HMAC (RFC 2104) over the concatenation of `message` slices.
pub fn hmac(hash: Hash, key: &[u8], message: &[&[u8]]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[&[u8]]) -> Vec<u8> {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
            .expect("HMAC takes keys of any length");
        message.iter().for_each(|m| mac.update(m));
        mac.finalize().into_bytes().to_vec()
    }
    match hash {
        Hash::Sha256 => run::<Hmac<Sha256>>(key, message),
        Hash::Sha512 => run::<Hmac<Sha512>>(key, message),
    }
}

/// Checks an HMAC-SHA-512 tag in constant time.
pub fn hmac_sha512_verify(key: &[u8], message: &[&[u8]], tag: &[u8]) -> Result<()> {
    let mut mac = <Hmac<Sha512> as hmac::digest::KeyInit>::new_from_slice(key)
        .expect("HMAC takes keys of any length");
    message.iter().for_each(|m| mac.update(m));
    mac.verify_slice(tag).map_err(|_| Error::InvalidMac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aeads_and_hashes_are_found_by_their_names_and_only_by_them() {
        for aead in Aead::ALL {
            assert_eq!(Aead::from_name(aead.name()), Ok(aead));
        }
        for hash in Hash::ALL {
            assert_eq!(Hash::from_name(hash.name()), Ok(hash));
        }
        assert_eq!(
            Aead::from_name("xchacha20-poly1305"),
            Ok(Aead::XChaCha20Poly1305)
        );
        assert_eq!(Hash::from_name("sha512"), Ok(Hash::Sha512));
        assert!(matches!(
            Aead::from_name("aes-256-gcm"),
            Err(Error::InvalidArgument(why)) if why.contains("chacha20-poly1305")
        ));
        assert!(matches!(
            Hash::from_name("SHA256"),
            Err(Error::InvalidArgument(why)) if why.contains("sha256, sha512")
        ));
    }

    /// Issue 13, finding 9: the length is checked before the output is
    /// allocated (a length near `usize::MAX` used to abort on allocation).
    #[test]
    fn hkdf_refuses_lengths_past_the_limit_before_allocating() {
        for hash in [Hash::Sha256, Hash::Sha512] {
            let max = hash.hkdf_max_len();
            assert_eq!(hkdf(hash, b"ikm", b"", b"", max).unwrap().len(), max);
            assert_eq!(hkdf(hash, b"ikm", b"", b"", 0).unwrap().len(), 0);
            for len in [max + 1, 1 << 32, (1 << 32) + 32, usize::MAX] {
                assert!(matches!(
                    hkdf(hash, b"ikm", b"", b"", len),
                    Err(Error::InvalidArgument(_))
                ));
            }
        }
    }
}
