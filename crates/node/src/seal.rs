//! Sealed-data exports: keys, boxes, MACs and the raw primitives under them.

use keyward_seal::primitives::{self, Aead, Hash, TAG_LEN};
use keyward_seal::{boxes, mac, Error};
use napi::bindgen_prelude::{Uint8Array, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use rand_core::OsRng;
use std::sync::Arc;

use crate::handles::{Handled, Handles};

use crate::convert::{bytes, guard, secret_out, to_js};
use crate::owned;

/// A JavaScript number that must be a whole, non-negative count of milliseconds.
pub fn millis(value: f64, what: &str) -> napi::Result<u64> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 2f64.powi(53) {
        Ok(value as u64)
    } else {
        Err(to_js(Error::InvalidArgument(format!(
            "{what} must be a whole number of milliseconds ≥ 0, got {value}"
        ))))
    }
}

/// A JavaScript number that must be a whole number in `min..=max`. Sizes and
/// counts cross the boundary as `f64` and are checked here: napi's own `u32`
/// conversion wraps modulo 2^32 (2^32 + 32 became 32) and turns NaN, negative
/// and fractional numbers into some other count without a word.
pub fn whole(value: f64, what: &str, min: u64, max: u64) -> napi::Result<u64> {
    // `max` is at most 2^53 in every caller, so the comparison is exact.
    if value.is_finite() && value.fract() == 0.0 && value >= min as f64 && value <= max as f64 {
        Ok(value as u64)
    } else {
        Err(to_js(Error::InvalidArgument(format!(
            "{what} must be a whole number from {min} to {max}, got {value}"
        ))))
    }
}

/// A `u32` argument, refused rather than wrapped when out of range.
pub fn whole_u32(value: f64, what: &str, min: u32) -> napi::Result<u32> {
    whole(value, what, min.into(), u32::MAX.into()).map(|v| v as u32)
}

/// The caller's clock reading, or the system clock when JavaScript passed
/// none: reading it here saves a `Date.now()` round trip on every seal.
pub fn clock(now_ms: Option<f64>) -> napi::Result<u64> {
    match now_ms {
        Some(ms) => millis(ms, "the clock"),
        None => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)),
    }
}

fn optional_millis(value: Option<f64>, what: &str) -> napi::Result<Option<u64>> {
    value.map(|v| millis(v, what)).transpose()
}

fn disposed() -> napi::Error {
    to_js(Error::InvalidState("this key was disposed"))
}

/// Live keys by handle, for `seal_box_into`/`open_box_into` (see `handles`).
static HANDLES: Handles<keyward_seal::SecretKey> = Handles::new();

/// The key behind `handle`, or the error a disposed key gives.
pub fn by_handle(handle: f64) -> napi::Result<Arc<keyward_seal::SecretKey>> {
    HANDLES.get(handle).ok_or_else(disposed)
}

#[napi]
pub struct SecretKey {
    key: Handled<keyward_seal::SecretKey>,
}

impl SecretKey {
    pub fn get(&self) -> napi::Result<&keyward_seal::SecretKey> {
        self.key.get().ok_or_else(disposed)
    }

    fn wrap(inner: keyward_seal::SecretKey) -> Self {
        SecretKey {
            key: Handled::new(inner, &HANDLES),
        }
    }
}

#[napi]
impl SecretKey {
    #[napi(factory)]
    pub fn generate() -> Self {
        Self::wrap(keyward_seal::SecretKey::generate(&mut OsRng))
    }

    #[napi(factory)]
    pub fn from_bytes(key: &[u8]) -> napi::Result<Self> {
        guard(|| keyward_seal::SecretKey::from_bytes(key)).map(Self::wrap)
    }

    #[napi]
    pub fn derive(&self, domain: &[u8], context: Vec<Uint8Array>) -> napi::Result<SecretKey> {
        let parts: Vec<&[u8]> = context.iter().map(|c| &c[..]).collect();
        Ok(Self::wrap(self.get()?.derive(domain, &parts)))
    }

    /// Copies the key out: the caller asked for it explicitly.
    #[napi]
    pub fn export_bytes(&self) -> napi::Result<owned::Uint8Array> {
        Ok(owned::Uint8Array::from(&self.get()?.expose()[..]))
    }

    #[napi(getter)]
    pub fn disposed(&self) -> bool {
        self.key.get().is_none()
    }

    /// See `handles`.
    #[napi(getter)]
    pub fn handle(&self) -> f64 {
        self.key.handle()
    }

    #[napi]
    pub fn dispose(&mut self) {
        self.key.dispose();
    }
}

/// Bytes a box adds to its plaintext.
#[napi]
pub const BOX_OVERHEAD: u32 = boxes::BOX_OVERHEAD as u32;

/// Refuses an output buffer that shares memory with an input: the TypeScript
/// layer always passes a fresh one, but this binding is callable directly.
fn check_disjoint(out: &[u8], inputs: &[&[u8]]) -> napi::Result<()> {
    let range = |b: &[u8]| {
        let start = b.as_ptr() as usize;
        start..start + b.len()
    };
    let o = range(out);
    let overlaps = inputs
        .iter()
        .map(|i| range(i))
        .any(|i| !i.is_empty() && !o.is_empty() && i.start < o.end && o.start < i.end);
    if overlaps {
        return Err(to_js(Error::InvalidArgument(
            "the output buffer overlaps an input".into(),
        )));
    }
    Ok(())
}

/// Seals into `out` (`plaintext.length + BOX_OVERHEAD` bytes) that the caller
/// allocated: small boxes then come from Node's buffer pool, and nothing is
/// allocated or copied on this side.
#[napi]
pub fn seal_box_into(
    key: f64,
    plaintext: &[u8],
    aad: &[u8],
    now_ms: Option<f64>,
    mut out: Uint8ArraySlice,
) -> napi::Result<()> {
    check_disjoint(&out, &[plaintext, aad])?;
    // SAFETY: `out` overlaps no other argument (checked above), and no
    // JavaScript runs while this function holds the slice.
    let out = unsafe { out.as_mut() };
    let key = by_handle(key)?;
    let now = clock(now_ms)?;
    guard(|| boxes::seal_into(&key, plaintext, aad, now, &mut rand::thread_rng(), out))
}

/// Opens into `out` (`sealed.length - BOX_OVERHEAD` bytes); on failure `out` is zeroed.
#[napi]
pub fn open_box_into(
    key: f64,
    sealed: &[u8],
    aad: &[u8],
    ttl_ms: Option<f64>,
    now_ms: Option<f64>,
    mut out: Uint8ArraySlice,
) -> napi::Result<()> {
    check_disjoint(&out, &[sealed, aad])?;
    // SAFETY: as in `seal_box_into`.
    let out = unsafe { out.as_mut() };
    let key = by_handle(key)?;
    let ttl = optional_millis(ttl_ms, "ttl")?;
    let now = clock(now_ms)?;
    guard(|| boxes::open_into(&key, sealed, aad, ttl, now, out).map(drop))
}

#[napi(js_name = "mac")]
pub fn mac_parts(
    key: &SecretKey,
    parts: Vec<Uint8Array>,
    aad: &[u8],
) -> napi::Result<owned::Uint8Array> {
    let parts: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
    Ok(bytes(mac::mac(key.get()?, &parts, aad)))
}

#[napi]
pub fn verify_mac(
    key: &SecretKey,
    parts: Vec<Uint8Array>,
    aad: &[u8],
    tag: &[u8],
) -> napi::Result<()> {
    let key = key.get()?;
    let parts: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
    guard(|| mac::verify_mac(key, &parts, aad, tag))
}

fn aead(name: &str) -> napi::Result<Aead> {
    match name {
        "xchacha20-poly1305" => Ok(Aead::XChaCha20Poly1305),
        "chacha20-poly1305" => Ok(Aead::ChaCha20Poly1305),
        other => Err(to_js(Error::InvalidArgument(format!(
            "unknown AEAD {other:?} (xchacha20-poly1305, chacha20-poly1305)"
        )))),
    }
}

fn hash(name: &str) -> napi::Result<Hash> {
    match name {
        "sha256" => Ok(Hash::Sha256),
        "sha512" => Ok(Hash::Sha512),
        other => Err(to_js(Error::InvalidArgument(format!(
            "unknown hash {other:?} (sha256, sha512)"
        )))),
    }
}

/// `ciphertext ‖ tag`, written straight into the returned buffer.
#[napi]
pub fn aead_encrypt<'e>(
    env: &'e Env,
    algorithm: String,
    key: &[u8],
    nonce: &[u8],
    plaintext: &[u8],
    aad: &[u8],
) -> napi::Result<Uint8ArraySlice<'e>> {
    let aead = aead(&algorithm)?;
    owned::write_with(env, plaintext.len() + TAG_LEN, |out| {
        let (body, tag) = out.split_at_mut(plaintext.len());
        body.copy_from_slice(plaintext);
        tag.copy_from_slice(&guard(|| aead.encrypt_detached(key, nonce, aad, body))?);
        Ok(())
    })
}

#[napi]
pub fn aead_decrypt<'e>(
    env: &'e Env,
    algorithm: String,
    key: &[u8],
    nonce: &[u8],
    sealed: &[u8],
    aad: &[u8],
) -> napi::Result<Uint8ArraySlice<'e>> {
    let aead = aead(&algorithm)?;
    let Some(len) = sealed.len().checked_sub(TAG_LEN) else {
        return Err(to_js(Error::Decryption("shorter than a tag")));
    };
    owned::write_with(env, len, |out| {
        out.copy_from_slice(&sealed[..len]);
        guard(|| aead.decrypt_detached(key, nonce, aad, out, &sealed[len..]))
            .inspect_err(|_| out.fill(0))
    })
}

#[napi]
pub fn hkdf(
    hash_name: String,
    ikm: &[u8],
    salt: &[u8],
    info: &[u8],
    length: f64,
) -> napi::Result<owned::Uint8Array> {
    let hash = hash(&hash_name)?;
    // Checked before anything is allocated; the core checks again.
    let length = whole(length, "length", 0, hash.hkdf_max_len() as u64)? as usize;
    guard(|| primitives::hkdf(hash, ikm, salt, info, length)).map(secret_out)
}

#[napi]
pub fn hmac(hash_name: String, key: &[u8], message: &[u8]) -> napi::Result<owned::Uint8Array> {
    Ok(bytes(primitives::hmac(hash(&hash_name)?, key, &[message])))
}
