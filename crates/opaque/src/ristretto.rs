//! ristretto255 for the OPAQUE key exchange, with the same bytes as
//! opaque-ke's own group and two costs removed.
//!
//! opaque-ke's group computes public keys as a variable-base multiplication
//! of the base point and re-compresses a public key every time it is
//! serialized; one server `startLogin` serializes the server's and the
//! client's static keys and its ephemeral key several times over. Here a
//! public key carries its encoding from the moment it is parsed or made, and
//! public keys come from curve25519-dalek's precomputed base-point table.
//! Scalar derivation is delegated to opaque-ke, so the key schedule is the
//! RFC's exactly; the RFC 9807 vectors check that through every suite using it.

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use generic_array::typenum::U32;
use generic_array::GenericArray;
use opaque_ke::errors::{InternalError, ProtocolError};
use opaque_ke::key_exchange::group::Group;
use opaque_ke::key_exchange::tripledh::DiffieHellman;
use opaque_ke::rand::{CryptoRng, RngCore};
use zeroize::ZeroizeOnDrop;

/// The key-exchange group of the ristretto255 suites.
pub struct Ristretto255Cached;

/// A non-identity point together with its canonical encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicPoint {
    point: RistrettoPoint,
    encoded: [u8; 32],
}

impl PublicPoint {
    fn from_point(point: RistrettoPoint) -> Self {
        Self {
            point,
            encoded: point.compress().to_bytes(),
        }
    }
}

/// A non-zero scalar, wiped on drop.
#[derive(Clone, Debug, PartialEq, Eq, ZeroizeOnDrop)]
pub struct SecretScalar(Scalar);

impl SecretScalar {
    fn from_canonical(bytes: [u8; 32]) -> Result<Self, ProtocolError> {
        Option::<Scalar>::from(Scalar::from_canonical_bytes(bytes))
            .filter(|s| *s != Scalar::ZERO)
            .map(Self)
            .ok_or(ProtocolError::SerializationError)
    }
}

fn take_32(bytes: &mut &[u8], name: &'static str) -> Result<[u8; 32], ProtocolError> {
    if bytes.len() < 32 {
        return Err(ProtocolError::SizeError {
            name,
            len: 32,
            actual_len: bytes.len(),
        });
    }
    let (front, back) = bytes.split_at(32);
    *bytes = back;
    let mut out = [0u8; 32];
    out.copy_from_slice(front);
    Ok(out)
}

impl Group for Ristretto255Cached {
    type Pk = PublicPoint;
    type PkLen = U32;
    type Sk = SecretScalar;
    type SkLen = U32;

    fn serialize_pk(pk: &Self::Pk) -> GenericArray<u8, Self::PkLen> {
        pk.encoded.into()
    }

    fn deserialize_take_pk(bytes: &mut &[u8]) -> Result<Self::Pk, ProtocolError> {
        let encoded = take_32(bytes, "public key")?;
        let point = CompressedRistretto(encoded)
            .decompress()
            .filter(|p| !p.is_identity())
            .ok_or(ProtocolError::SerializationError)?;
        Ok(PublicPoint { point, encoded })
    }

    fn random_sk<R: RngCore + CryptoRng>(rng: &mut R) -> Self::Sk {
        // The same draw as opaque-ke's group, so scripted-RNG vectors agree.
        loop {
            let scalar = Scalar::random(rng);
            if scalar != Scalar::ZERO {
                break SecretScalar(scalar);
            }
        }
    }

    fn derive_scalar(seed: GenericArray<u8, Self::SkLen>) -> Result<Self::Sk, InternalError> {
        let sk = <opaque_ke::Ristretto255 as Group>::derive_scalar(seed)?;
        let bytes = <opaque_ke::Ristretto255 as Group>::serialize_sk(&sk);
        // opaque-ke only hands out canonical, non-zero scalars.
        SecretScalar::from_canonical(bytes.into()).map_err(|_| InternalError::HashToScalar)
    }

    fn public_key(sk: &Self::Sk) -> Self::Pk {
        PublicPoint::from_point(RistrettoPoint::mul_base(&sk.0))
    }

    fn serialize_sk(sk: &Self::Sk) -> GenericArray<u8, Self::SkLen> {
        sk.0.to_bytes().into()
    }

    fn deserialize_take_sk(bytes: &mut &[u8]) -> Result<Self::Sk, ProtocolError> {
        SecretScalar::from_canonical(take_32(bytes, "secret key")?)
    }
}

impl DiffieHellman<Ristretto255Cached> for SecretScalar {
    fn diffie_hellman(&self, pk: &PublicPoint) -> GenericArray<u8, U32> {
        (pk.point * self.0).compress().to_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    type Theirs = opaque_ke::Ristretto255;

    #[test]
    fn encodings_and_shared_secrets_match_opaque_ke() {
        for _ in 0..32 {
            let sk = Ristretto255Cached::random_sk(&mut OsRng);
            let sk_bytes = Ristretto255Cached::serialize_sk(&sk);
            let theirs = Theirs::deserialize_take_sk(&mut &sk_bytes[..]).unwrap();
            let pk = Ristretto255Cached::public_key(&sk);
            assert_eq!(
                Ristretto255Cached::serialize_pk(&pk),
                Theirs::serialize_pk(&Theirs::public_key(&theirs))
            );

            let peer = Ristretto255Cached::public_key(&Ristretto255Cached::random_sk(&mut OsRng));
            let peer_bytes = Ristretto255Cached::serialize_pk(&peer);
            let their_peer = Theirs::deserialize_take_pk(&mut &peer_bytes[..]).unwrap();
            assert_eq!(
                sk.diffie_hellman(&peer),
                DiffieHellman::<Theirs>::diffie_hellman(&theirs, &their_peer)
            );

            let seed = GenericArray::clone_from_slice(&sk_bytes);
            assert_eq!(
                Ristretto255Cached::serialize_sk(&Ristretto255Cached::derive_scalar(seed).unwrap()),
                Theirs::serialize_sk(&Theirs::derive_scalar(seed).unwrap())
            );
        }
    }

    #[test]
    fn rejects_identity_zero_and_short_input() {
        let zero = [0u8; 32];
        assert!(Ristretto255Cached::deserialize_take_pk(&mut &zero[..]).is_err());
        assert!(Ristretto255Cached::deserialize_take_sk(&mut &zero[..]).is_err());
        assert!(Ristretto255Cached::deserialize_take_pk(&mut &zero[..31]).is_err());
        let non_canonical = [0xffu8; 32];
        assert!(Ristretto255Cached::deserialize_take_sk(&mut &non_canonical[..]).is_err());
        assert!(Ristretto255Cached::deserialize_take_pk(&mut &non_canonical[..]).is_err());
    }
}
