//! One-time ML-KEM-768 prekeys: the public form a relay stores and hands out
//! beside a bundle (`id (4) ‖ key (1184) ‖ signature (64)`), and the one
//! place their signature is made and checked. Unlike one-time X25519 keys
//! (unsigned, as in X3DH), each is signed on its own over
//! `"keyward one-time kem prekey v1" ‖ owner (32) ‖ id (4) ‖ key (1184)`:
//! an ML-KEM key is the post-quantum half of the agreement, so a relay must
//! not be able to swap in its own.

use ml_kem::{EncapsulationKey, MlKem768};

use crate::codec::Reader;
use crate::error::{Error, Result};
use crate::identity::{IdentityKey, PeerIdentity};
use crate::prekeys::KEM_PUBLIC_LEN;

/// What a one-time ML-KEM prekey's signature covers, after this label.
pub const DOMAIN: &[u8] = b"keyward one-time kem prekey v1";
/// `id ‖ key ‖ signature`.
pub const ENCODED_LEN: usize = 4 + KEM_PUBLIC_LEN + 64;

/// The bytes a one-time ML-KEM prekey's signature covers.
pub fn message(owner: &[u8; 32], id: u32, public: &[u8; KEM_PUBLIC_LEN]) -> Vec<u8> {
    [DOMAIN, owner, &id.to_be_bytes(), public].concat()
}

/// `identity`'s signature over its one-time ML-KEM prekey `id`.
pub fn sign(identity: &IdentityKey, id: u32, public: &[u8; KEM_PUBLIC_LEN]) -> [u8; 64] {
    identity.sign(&message(&identity.public_key(), id, public))
}

/// Strict Ed25519 verification of `signature` by `owner` (false for any invalid input).
pub fn verify(
    owner: &[u8; 32],
    id: u32,
    public: &[u8; KEM_PUBLIC_LEN],
    signature: &[u8; 64],
) -> bool {
    crate::identity::verify(owner, &message(owner, id, public), signature)
}

/// A one-time ML-KEM prekey as published: id, encapsulation key, signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneTimeKemPreKey {
    pub id: u32,
    pub public: Box<[u8; KEM_PUBLIC_LEN]>,
    pub signature: [u8; 64],
}

impl OneTimeKemPreKey {
    /// `id ‖ key ‖ signature`, the form `Session::from_bundle_with_kem` takes.
    pub fn to_bytes(&self) -> Vec<u8> {
        [
            &self.id.to_be_bytes()[..],
            &self.public[..],
            &self.signature,
        ]
        .concat()
    }

    /// Parses `id ‖ key ‖ signature` (no check of the signature: see `verified`).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "one-time ML-KEM prekey");
        let id = r.u32()?;
        let mut public = Box::new([0u8; KEM_PUBLIC_LEN]);
        public.copy_from_slice(r.take(KEM_PUBLIC_LEN)?);
        let signature = r.array()?;
        r.finish()?;
        Ok(OneTimeKemPreKey {
            id,
            public,
            signature,
        })
    }

    /// The encapsulation key, once the signature verifies as `owner`'s
    /// (`BadSignature` otherwise: another identity's key, or one whose id or
    /// bytes were changed) and the bytes are a valid ML-KEM-768 key (`Format`).
    pub(crate) fn verified(&self, owner: &PeerIdentity) -> Result<Box<EncapsulationKey<MlKem768>>> {
        if !owner.verify(
            &message(&owner.bytes(), self.id, &self.public),
            &self.signature,
        ) {
            return Err(Error::BadSignature);
        }
        EncapsulationKey::<MlKem768>::new(&(*self.public).into())
            .map(Box::new)
            .map_err(|_| Error::format("the one-time ML-KEM prekey is not a valid key"))
    }
}
