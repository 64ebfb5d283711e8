//! End-to-end sessions for keyward: Ed25519 identities with their
//! X25519 form, Noise_IK handshakes through `snow`, X3DH prekey bundles with
//! an optional ML-KEM-768 prekey, the Double Ratchet, and encrypted records
//! for persistence. No Node here; the binding only converts.
#![forbid(unsafe_code)]

mod aead;
pub mod arguments;
mod codec;
pub mod consts;
pub mod error;
pub mod identity;
mod kdf;
pub mod keys;
pub mod lifecycle;
pub mod noise;
pub mod one_time_kem;
pub mod prekeys;
pub mod ratchet;
mod record;
pub mod session;
pub mod x25519;

pub use error::{Error, Result};
pub use identity::{fingerprint, verify, ExpectedPeer, IdentityKey};
pub use prekeys::PreKeySet;
pub use session::{Initiating, Responded, Session};

use zeroize::Zeroize;

/// Overwrites `buffer` with zeros in a way the compiler keeps.
pub fn wipe(buffer: &mut [u8]) {
    buffer.zeroize();
}

/// For the fuzz targets (crates/fuzz-cases): records are authenticated, so
/// random input never reaches the decoders behind them; these wrap fuzzed
/// plaintext in a valid record, and unwrap a real one for the seed corpus.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::record::{KIND_IDENTITY, KIND_PREKEYS, KIND_SESSION, PREKEYS_VERSION};

    pub fn seal_record(kind: u8, key: &[u8], plaintext: &[u8]) -> crate::Result<Vec<u8>> {
        crate::record::seal(kind, key, plaintext)
    }

    pub fn open_record(kind: u8, key: &[u8], record: &[u8]) -> crate::Result<Vec<u8>> {
        crate::record::open(kind, "record", key, record).map(|p| p.to_vec())
    }

    /// `seal_record` at another record version (prekey sets: 1 and 2).
    pub fn seal_record_version(
        version: u8,
        kind: u8,
        key: &[u8],
        plaintext: &[u8],
    ) -> crate::Result<Vec<u8>> {
        crate::record::seal_version(version, kind, key, plaintext)
    }

    /// `open_record` for a record of `version`.
    pub fn open_record_version(
        version: u8,
        kind: u8,
        key: &[u8],
        record: &[u8],
    ) -> crate::Result<Vec<u8>> {
        crate::record::open_versions(&[version], kind, "record", key, record)
            .map(|(_, p)| p.to_vec())
    }
}
