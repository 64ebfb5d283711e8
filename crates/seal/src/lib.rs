//! Sealed data for keyward, on standard primitives (ring's ChaCha20-Poly1305,
//! AWS-LC's for large boxes, RustCrypto's HKDF, HMAC and STREAM): AEAD boxes
//! with associated data and a time-to-live, canonical keyed MACs, key
//! derivation, Argon2id password hashes, STREAM encryption and an encrypted
//! key-value store. Formats are documented in `docs/sealed-data.md`.
#![forbid(unsafe_code)]

pub mod boxes;
mod chacha;
pub mod encoding;
mod error;
pub mod keys;
pub mod mac;
pub mod password;
pub mod primitives;
pub mod stream;

pub use error::{Error, ErrorCode, Result};
pub use keys::SecretKey;
pub mod vault;
