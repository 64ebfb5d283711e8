//! The five cipher suites, chosen at run time by name.

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Suite {
    #[default]
    Ristretto255Sha512,
    P256Sha256,
    P384Sha384,
    P521Sha512,
    /// opaque-ke's `TripleDhKem`: ML-KEM-768 mixed into the 3DH key schedule.
    /// Adds passive post-quantum confidentiality; not an RFC 9807 configuration.
    MlKem768Ristretto255Sha512,
}

impl Suite {
    pub const ALL: [Suite; 5] = [
        Suite::Ristretto255Sha512,
        Suite::P256Sha256,
        Suite::P384Sha384,
        Suite::P521Sha512,
        Suite::MlKem768Ristretto255Sha512,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Suite::Ristretto255Sha512 => "ristretto255_sha512",
            Suite::P256Sha256 => "p256_sha256",
            Suite::P384Sha384 => "p384_sha384",
            Suite::P521Sha512 => "p521_sha512",
            Suite::MlKem768Ristretto255Sha512 => "ml_kem_768_ristretto255_sha512",
        }
    }

    pub fn from_name(name: &str) -> Result<Suite> {
        Suite::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Suite::ALL.iter().map(|s| s.name()).collect();
                Error::InvalidArgument(format!(
                    "unknown OPAQUE suite {name:?}; expected one of {}",
                    names.join(", ")
                ))
            })
    }

    /// The byte that names the suite in keyward's own serialized objects.
    pub(crate) fn id(self) -> u8 {
        match self {
            Suite::Ristretto255Sha512 => 1,
            Suite::P256Sha256 => 2,
            Suite::P384Sha384 => 3,
            Suite::P521Sha512 => 4,
            Suite::MlKem768Ristretto255Sha512 => 5,
        }
    }

    pub(crate) fn from_id(id: u8) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.id() == id)
    }
}
