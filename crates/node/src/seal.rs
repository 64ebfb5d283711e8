//! Sealed-data exports: keys, boxes, MACs and the raw primitives under them.

use keyward_seal::primitives::{self, Aead, Hash, TAG_LEN};
use keyward_seal::{boxes, mac, Error};
use napi::bindgen_prelude::{Uint8Array, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use rand_core::OsRng;

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

fn optional_millis(value: Option<f64>, what: &str) -> napi::Result<Option<u64>> {
    value.map(|v| millis(v, what)).transpose()
}

fn disposed() -> napi::Error {
    to_js(Error::InvalidState("this key was disposed"))
}

#[napi]
pub struct SecretKey {
    inner: Option<keyward_seal::SecretKey>,
}

impl SecretKey {
    pub fn get(&self) -> napi::Result<&keyward_seal::SecretKey> {
        self.inner.as_ref().ok_or_else(disposed)
    }

    fn wrap(inner: keyward_seal::SecretKey) -> Self {
        SecretKey { inner: Some(inner) }
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
        self.inner.is_none()
    }

    #[napi]
    pub fn dispose(&mut self) {
        self.inner = None;
    }
}

#[napi]
pub fn seal_box<'e>(
    env: &'e Env,
    key: &SecretKey,
    plaintext: &[u8],
    aad: &[u8],
    now_ms: f64,
) -> napi::Result<Uint8ArraySlice<'e>> {
    let key = key.get()?;
    let now = millis(now_ms, "the clock")?;
    owned::write_with(env, boxes::sealed_len(plaintext.len()), |out| {
        guard(|| boxes::seal_into(key, plaintext, aad, now, &mut rand::thread_rng(), out))
    })
}

#[napi]
pub fn open_box<'e>(
    env: &'e Env,
    key: &SecretKey,
    sealed: &[u8],
    aad: &[u8],
    ttl_ms: Option<f64>,
    now_ms: f64,
) -> napi::Result<Uint8ArraySlice<'e>> {
    let key = key.get()?;
    let ttl = optional_millis(ttl_ms, "ttl")?;
    let now = millis(now_ms, "the clock")?;
    let len = guard(|| boxes::opened_len(sealed.len()))?;
    owned::write_with(env, len, |out| {
        guard(|| boxes::open_into(key, sealed, aad, ttl, now, out).map(drop))
    })
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
    length: u32,
) -> napi::Result<owned::Uint8Array> {
    let hash = hash(&hash_name)?;
    guard(|| primitives::hkdf(hash, ikm, salt, info, length as usize)).map(secret_out)
}

#[napi]
pub fn hmac(hash_name: String, key: &[u8], message: &[u8]) -> napi::Result<owned::Uint8Array> {
    Ok(bytes(primitives::hmac(hash(&hash_name)?, key, &[message])))
}
