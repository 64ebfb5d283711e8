//! Long-term identity: an Ed25519 key that signs, and the X25519 key derived
//! from it (dalek's `to_scalar_bytes` / `to_montgomery`) that takes part in
//! handshakes. Only the 32-byte seed is ever stored.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::{random, KeyPair};

/// Cloned only to hand a copy to a worker thread; every copy wipes itself.
#[derive(Clone)]
pub struct IdentityKey {
    signing: SigningKey,
    x25519: KeyPair,
}

impl IdentityKey {
    pub fn generate() -> Result<Self> {
        Ok(Self::from_seed(&*random::<32>()?))
    }

    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(seed);
        let x25519 = KeyPair::from_secret(*Zeroizing::new(signing.to_scalar_bytes()));
        IdentityKey { signing, x25519 }
    }

    pub fn from_seed_slice(seed: &[u8]) -> Result<Self> {
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(seed.try_into().map_err(|_| {
            Error::InvalidArgument(format!("an identity seed is 32 bytes, not {}", seed.len()))
        })?);
        Ok(Self::from_seed(&seed))
    }

    /// The Ed25519 public key: the identity others pin.
    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    pub fn x25519_public_key(&self) -> [u8; 32] {
        *self.x25519.public()
    }

    pub(crate) fn x25519(&self) -> &KeyPair {
        &self.x25519
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The secret seed, copied out on request only.
    pub fn export_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }
}

/// A peer's Ed25519 identity, parsed (the point is decompressed once).
pub struct PeerIdentity {
    key: VerifyingKey,
}

impl PeerIdentity {
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
            Error::InvalidArgument(format!(
                "an identity public key is 32 bytes, not {}",
                bytes.len()
            ))
        })?;
        VerifyingKey::from_bytes(&bytes)
            .map(|key| PeerIdentity { key })
            .map_err(|_| {
                Error::InvalidArgument(
                    "the identity public key is not a valid Ed25519 point".into(),
                )
            })
    }

    pub fn bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The X25519 form of this identity, for Diffie-Hellman.
    pub fn x25519(&self) -> [u8; 32] {
        self.key.to_montgomery().to_bytes()
    }

    /// Strict Ed25519 verification: rejects small-order keys and
    /// non-canonical encodings, so one message has one valid signature.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        self.key
            .verify_strict(message, &Signature::from_bytes(&sig))
            .is_ok()
    }
}

/// `verify(publicKey, message, signature)`: false for any invalid input.
pub fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    PeerIdentity::parse(public_key).is_ok_and(|p| p.verify(message, signature))
}
