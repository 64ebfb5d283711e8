//! Encrypted, versioned records for persisting sessions, prekey sets and
//! identities: `version ‖ kind ‖ nonce(24) ‖ XChaCha20-Poly1305(state)`,
//! with a fresh random nonce every time and the first two bytes authenticated.

use zeroize::Zeroizing;

use crate::aead::{xchacha_open, xchacha_seal, TAG_LEN};
use crate::codec::Reader;
use crate::error::{Error, Result};
use crate::keys::random;

pub const VERSION: u8 = 1;
/// Prekey-set records are at version 2 since they hold one-time ML-KEM
/// prekeys; version 1 records (without them) are still read.
pub const PREKEYS_VERSION: u8 = 2;
pub const KIND_SESSION: u8 = 0x30;
pub const KIND_PREKEYS: u8 = 0x31;
pub const KIND_IDENTITY: u8 = 0x32;

const DOMAIN: &[u8] = b"keyward record v1";

fn storage_key(key: &[u8]) -> Result<&[u8; 32]> {
    key.try_into().map_err(|_| {
        Error::InvalidArgument(format!("a storage key is 32 bytes, not {}", key.len()))
    })
}

fn aad(version: u8, kind: u8) -> Vec<u8> {
    let mut aad = DOMAIN.to_vec();
    aad.extend_from_slice(&[version, kind]);
    aad
}

pub fn seal(kind: u8, key: &[u8], state: &[u8]) -> Result<Vec<u8>> {
    seal_version(VERSION, kind, key, state)
}

/// `seal` with another version byte (authenticated like the kind).
pub fn seal_version(version: u8, kind: u8, key: &[u8], state: &[u8]) -> Result<Vec<u8>> {
    let key = storage_key(key)?;
    let nonce = random::<24>()?;
    let mut out = Vec::with_capacity(2 + 24 + state.len() + TAG_LEN);
    out.extend_from_slice(&[version, kind]);
    out.extend_from_slice(&nonce[..]);
    xchacha_seal(key, &nonce, &aad(version, kind), state, &mut out);
    Ok(out)
}

pub fn open(kind: u8, what: &'static str, key: &[u8], record: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    open_versions(&[VERSION], kind, what, key, record).map(|(_, plain)| plain)
}

/// `open` for a record of any of `versions`: its version and plaintext.
pub fn open_versions(
    versions: &[u8],
    kind: u8,
    what: &'static str,
    key: &[u8],
    record: &[u8],
) -> Result<(u8, Zeroizing<Vec<u8>>)> {
    let key = storage_key(key)?;
    let mut r = Reader::new(record, what);
    let version = match record.first() {
        Some(v) if versions.contains(v) => *v,
        _ => versions[versions.len() - 1],
    };
    r.header(version, kind)?;
    let nonce: [u8; 24] = r.array()?;
    let sealed = r.rest();
    if sealed.len() < TAG_LEN {
        return Err(Error::Format(format!("the {what} is truncated")));
    }
    xchacha_open(key, &nonce, &aad(version, kind), sealed).map(|plain| (version, plain))
}
