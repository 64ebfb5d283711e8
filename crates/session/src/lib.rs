//! End-to-end sessions for keyward: Ed25519 identities with their
//! X25519 form, Noise_IK handshakes through `snow`, X3DH prekey bundles with
//! an optional ML-KEM-768 prekey, the Double Ratchet, and encrypted records
//! for persistence. No Node here; the binding only converts.
#![forbid(unsafe_code)]

mod aead;
mod codec;
pub mod consts;
pub mod error;
pub mod identity;
mod kdf;
pub mod keys;
pub mod noise;
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
