//! X25519 key pairs and Diffie-Hellman over x25519-dalek, and the randomness
//! everything else draws from.

use rand_core::{OsRng, RngCore};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

pub type Secret32 = Zeroizing<[u8; 32]>;

pub fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>> {
    let mut out = Zeroizing::new([0u8; N]);
    OsRng
        .try_fill_bytes(&mut out[..])
        .map_err(|_| Error::Random)?;
    Ok(out)
}

/// An X25519 key pair. `StaticSecret` zeroizes itself on drop.
#[derive(Clone)]
pub struct KeyPair {
    secret: StaticSecret,
    public: [u8; 32],
}

impl KeyPair {
    pub fn generate() -> Result<Self> {
        Ok(Self::from_secret(*random::<32>()?))
    }

    pub fn from_secret(bytes: [u8; 32]) -> Self {
        let secret = StaticSecret::from(bytes);
        let public = PublicKey::from(&secret).to_bytes();
        KeyPair { secret, public }
    }

    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    pub fn secret_bytes(&self) -> Secret32 {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// Raw X25519, no contributory check (for the known-answer tests).
    pub fn x25519(secret: [u8; 32], public: [u8; 32]) -> [u8; 32] {
        x25519_dalek::x25519(secret, public)
    }

    /// X25519 with `their` public key. An all-zero result (a small-order
    /// point) is refused: every DH in keyward must contribute.
    pub fn dh(&self, their: &[u8; 32]) -> Result<Secret32> {
        let shared = self.secret.diffie_hellman(&PublicKey::from(*their));
        if !shared.was_contributory() {
            return Err(Error::Decryption);
        }
        Ok(Zeroizing::new(shared.to_bytes()))
    }
}
