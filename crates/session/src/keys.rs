//! X25519 key pairs and Diffie-Hellman (through `x25519`), and the
//! randomness everything else draws from.

use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::x25519;

pub type Secret32 = Zeroizing<[u8; 32]>;

pub fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>> {
    let mut out = Zeroizing::new([0u8; N]);
    OsRng
        .try_fill_bytes(&mut out[..])
        .map_err(|_| Error::Random)?;
    Ok(out)
}

/// An X25519 key pair; the secret is wiped on drop. It sits in its own heap
/// block, so moving a key pair (into a map, out of a batch) leaves no copy.
#[derive(Clone)]
pub struct KeyPair {
    secret: Box<Secret32>,
    public: [u8; 32],
}

impl KeyPair {
    pub fn generate() -> Result<Self> {
        Ok(Self::from_secret(*random::<32>()?))
    }

    pub fn from_secret(bytes: [u8; 32]) -> Self {
        let secret = Box::new(Zeroizing::new(bytes));
        let public = x25519::public_key(&secret);
        KeyPair { secret, public }
    }

    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    pub fn secret_bytes(&self) -> Secret32 {
        (*self.secret).clone()
    }

    /// X25519 with `their` public key. An all-zero result (a small-order
    /// point) is refused: every DH in keyward must contribute.
    pub fn dh(&self, their: &[u8; 32]) -> Result<Secret32> {
        Self::agree(**self.secret, *their)
    }

    /// X25519 of a raw secret and public key, refusing an all-zero result.
    pub fn agree(secret: [u8; 32], public: [u8; 32]) -> Result<Secret32> {
        let secret = Zeroizing::new(secret);
        x25519::shared(&secret, &public).ok_or(Error::Decryption)
    }
}
