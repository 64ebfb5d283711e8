//! Long-term identity: an Ed25519 key that signs, and the X25519 key derived
//! from it (dalek's `to_scalar_bytes` / `to_montgomery`) that takes part in
//! handshakes. Only the 32-byte seed is ever stored.
//!
//! A peer's key is parsed strictly (issue 13, finding 6): X25519 cannot tell
//! `A` from `-A` or from `A` plus a torsion point, so without these checks
//! one secret key could pass as up to 16 identities. Encodings that are not
//! canonical, small-order points and points with a torsion component are
//! refused; `A` and `-A` (whose holders know each other's secret) share one
//! fingerprint, the value to store and compare.

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::{random, KeyPair};
use crate::record;

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

    /// This identity's fingerprint (see `fingerprint`).
    pub fn fingerprint(&self) -> [u8; 32] {
        fingerprint_of(&self.public_key())
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

/// Stored sealed under a storage key (`record.rs`): only the seed.
impl IdentityKey {
    pub fn serialize(&self, storage_key: &[u8]) -> Result<Vec<u8>> {
        record::seal(record::KIND_IDENTITY, storage_key, &self.export_seed()[..])
    }

    pub fn deserialize(bytes: &[u8], storage_key: &[u8]) -> Result<Self> {
        let seed = record::open(record::KIND_IDENTITY, "identity record", storage_key, bytes)?;
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            seed.as_slice()
                .try_into()
                .map_err(|_| Error::format("the identity record has the wrong length"))?,
        );
        Ok(IdentityKey::from_seed(&seed))
    }
}

/// A peer's Ed25519 identity, parsed (the point is decompressed once).
pub struct PeerIdentity {
    key: VerifyingKey,
}

impl PeerIdentity {
    /// Refuses everything but the canonical encoding of a point in the
    /// prime-order subgroup (and not the neutral element).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
            Error::InvalidArgument(format!(
                "an identity public key is 32 bytes, not {}",
                bytes.len()
            ))
        })?;
        let invalid = |why: &str| Error::InvalidArgument(format!("the identity public key {why}"));
        let point = CompressedEdwardsY(bytes)
            .decompress()
            .ok_or_else(|| invalid("is not a valid Ed25519 point"))?;
        if point.compress().to_bytes() != bytes {
            return Err(invalid("is not canonically encoded"));
        }
        if point.is_small_order() {
            return Err(invalid("is a small-order point"));
        }
        if !point.is_torsion_free() {
            return Err(invalid("has a torsion component"));
        }
        VerifyingKey::from_bytes(&bytes)
            .map(|key| PeerIdentity { key })
            .map_err(|_| invalid("is not a valid Ed25519 point"))
    }

    /// See `fingerprint`.
    pub fn fingerprint(&self) -> [u8; 32] {
        fingerprint_of(&self.key.to_bytes())
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

const FINGERPRINT_DOMAIN: &[u8] = b"keyward identity fingerprint v1\0";

/// SHA-256 over a domain label and the canonical encoding with the sign bit
/// of x cleared: the Edwards y coordinate, which fixes the X25519 key a
/// handshake proves. `A` and `-A` differ only in that bit and share it.
fn fingerprint_of(canonical: &[u8; 32]) -> [u8; 32] {
    let mut y = *canonical;
    y[31] &= 0x7f;
    Sha256::new()
        .chain_update(FINGERPRINT_DOMAIN)
        .chain_update(y)
        .finalize()
        .into()
}

/// The fingerprint of an identity public key, parsed strictly first: the one
/// value an application stores and compares for an identity.
pub fn fingerprint(public_key: &[u8]) -> Result<[u8; 32]> {
    PeerIdentity::parse(public_key).map(|p| p.fingerprint())
}

/// Who a caller expects at the other end of a session.
#[derive(Clone, Copy, Debug)]
pub enum ExpectedPeer<'a> {
    /// The peer's Ed25519 identity public key.
    PublicKey(&'a [u8]),
    /// The peer's `fingerprint`.
    Fingerprint(&'a [u8]),
}

impl ExpectedPeer<'_> {
    /// The expected fingerprint; an invalid key or a fingerprint of the wrong
    /// length is an argument error.
    pub(crate) fn resolve(self) -> Result<[u8; 32]> {
        match self {
            ExpectedPeer::PublicKey(key) => fingerprint(key),
            ExpectedPeer::Fingerprint(f) => f.try_into().map_err(|_| {
                Error::InvalidArgument(format!("a fingerprint is 32 bytes, not {}", f.len()))
            }),
        }
    }
}

/// `Err(UnexpectedPeer)` unless `peer` has the `expected` fingerprint.
pub(crate) fn check_peer(expected: Option<&[u8; 32]>, peer: &PeerIdentity) -> Result<()> {
    match expected {
        Some(e) if !bool::from(e.ct_eq(&peer.fingerprint())) => Err(Error::UnexpectedPeer),
        _ => Ok(()),
    }
}

/// `verify(publicKey, message, signature)`: false for any invalid input.
pub fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    PeerIdentity::parse(public_key).is_ok_and(|p| p.verify(message, signature))
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;

    fn code<T>(r: Result<T>) -> String {
        match r {
            Ok(_) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    /// Issue 13, finding 6, with crafted points.
    #[test]
    fn parse_refuses_every_other_form_of_a_key() {
        let id = IdentityKey::from_seed(&[3; 32]);
        let a = id.public_key();
        let point = CompressedEdwardsY(a).decompress().unwrap();
        assert!(PeerIdentity::parse(&a).is_ok());
        // Small-order points, the neutral element among them.
        for t in &EIGHT_TORSION {
            let enc = t.compress().to_bytes();
            let message = code(PeerIdentity::parse(&enc));
            assert!(message.contains("small-order"), "{message}");
        }
        // A plus a torsion point: the same X25519 key after clamping.
        for t in &EIGHT_TORSION[1..] {
            let enc = (point + t).compress().to_bytes();
            let message = code(PeerIdentity::parse(&enc));
            assert!(message.contains("torsion"), "{message}");
            assert!(fingerprint(&enc).is_err());
        }
        // y >= p: p + y for y < 19 still fits in 255 bits.
        let mut decoded = 0;
        for y in 0u8..19 {
            for sign in [0u8, 0x80] {
                let mut enc = [0xffu8; 32];
                enc[0] = 0xed + y;
                enc[31] = 0x7f | sign;
                if CompressedEdwardsY(enc).decompress().is_some() {
                    decoded += 1;
                    let message = code(PeerIdentity::parse(&enc));
                    assert!(message.contains("canonically"), "{message}");
                }
            }
        }
        assert!(decoded > 0, "no non-canonical encoding decoded");
        // x = 0 with the sign bit set (a "negative zero").
        let mut neg_zero = [0u8; 32];
        neg_zero[0] = 1;
        neg_zero[31] = 0x80;
        assert!(PeerIdentity::parse(&neg_zero).is_err());
        // -A is a valid key of the same holder: one fingerprint for both.
        let mut minus_a = a;
        minus_a[31] ^= 0x80;
        assert_eq!(
            (-point).compress().to_bytes(),
            minus_a,
            "the sign bit negates"
        );
        assert!(PeerIdentity::parse(&minus_a).is_ok());
        assert_eq!(fingerprint(&minus_a).unwrap(), id.fingerprint());
        assert_eq!(fingerprint(&a).unwrap(), id.fingerprint());
        let other = IdentityKey::from_seed(&[4; 32]);
        assert_ne!(other.fingerprint(), id.fingerprint());
    }

    #[test]
    fn expected_peers_compare_by_fingerprint() {
        let id = IdentityKey::from_seed(&[5; 32]);
        let peer = PeerIdentity::parse(&id.public_key()).unwrap();
        let fp = id.fingerprint();
        for expected in [
            ExpectedPeer::PublicKey(&id.public_key()),
            ExpectedPeer::Fingerprint(&fp),
        ] {
            assert!(check_peer(Some(&expected.resolve().unwrap()), &peer).is_ok());
        }
        let other = IdentityKey::from_seed(&[6; 32]).fingerprint();
        assert_eq!(check_peer(Some(&other), &peer), Err(Error::UnexpectedPeer));
        assert!(ExpectedPeer::Fingerprint(&fp[..31]).resolve().is_err());
        assert!(ExpectedPeer::PublicKey(&[0; 32]).resolve().is_err());
    }
}
