//! The concrete opaque-ke cipher suites behind each [`crate::Suite`].

use opaque_ke::{CipherSuite, Ristretto255, TripleDh, TripleDhKem};

use crate::ksf::Ksf;
use crate::ristretto::Ristretto255Cached;

pub struct Ristretto255Sha512;
impl CipherSuite for Ristretto255Sha512 {
    type OprfCs = Ristretto255;
    type KeyExchange = TripleDh<Ristretto255Cached, sha2::Sha512>;
    type Ksf = Ksf;
}

pub struct P256Sha256;
impl CipherSuite for P256Sha256 {
    type OprfCs = p256::NistP256;
    type KeyExchange = TripleDh<p256::NistP256, sha2::Sha256>;
    type Ksf = Ksf;
}

pub struct P384Sha384;
impl CipherSuite for P384Sha384 {
    type OprfCs = p384::NistP384;
    type KeyExchange = TripleDh<p384::NistP384, sha2::Sha384>;
    type Ksf = Ksf;
}

pub struct P521Sha512;
impl CipherSuite for P521Sha512 {
    type OprfCs = p521::NistP521;
    type KeyExchange = TripleDh<p521::NistP521, sha2::Sha512>;
    type Ksf = Ksf;
}

pub struct MlKem768Ristretto255Sha512;
impl CipherSuite for MlKem768Ristretto255Sha512 {
    type OprfCs = Ristretto255;
    type KeyExchange = TripleDhKem<Ristretto255Cached, sha2::Sha512, opaque_ke::ml_kem::MlKem768>;
    type Ksf = Ksf;
}
