//! Sealed data: keys, boxes, MACs, streams and the raw primitives under them.

use keyward_seal::primitives::{self, TAG_LEN};
use keyward_seal::{boxes, mac, stream};
use napi::bindgen_prelude::{Uint8Array, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use rand_core::OsRng;

use crate::args::{clock, millis, whole};
use crate::errors::{guard, Failure, Result};
use crate::handles::{live_class, Handles};
use crate::names::{Aead, Hash};
use crate::owned;

/// Live keys by handle, for `seal_box_into`/`open_box_into` (see `handles`).
static KEYS: Handles<keyward_seal::SecretKey> = Handles::new();
const DISPOSED: &str = "this key was disposed";

live_class!(SecretKey(keyward_seal::SecretKey, DISPOSED, KEYS));

impl SecretKey {
    pub fn get(&self) -> Result<&keyward_seal::SecretKey, Failure> {
        self.inner.get()
    }
}

fn slices(parts: &[Uint8Array]) -> Vec<&[u8]> {
    parts.iter().map(|p| &p[..]).collect()
}

#[napi]
impl SecretKey {
    #[napi(factory)]
    pub fn generate() -> Self {
        Self::wrap(keyward_seal::SecretKey::generate(&mut OsRng))
    }

    #[napi(factory)]
    pub fn from_bytes(key: &[u8]) -> Result<Self> {
        guard(|| keyward_seal::SecretKey::from_bytes(key)).map(Self::wrap)
    }

    #[napi]
    pub fn derive(&self, domain: &[u8], context: Vec<Uint8Array>) -> Result<SecretKey> {
        Ok(Self::wrap(self.get()?.derive(domain, &slices(&context))))
    }

    /// Copies the key out: the caller asked for it explicitly.
    #[napi]
    pub fn export_bytes(&self) -> Result<owned::Uint8Array> {
        Ok(self.get()?.expose()[..].into())
    }

    #[napi(getter)]
    pub fn disposed(&self) -> bool {
        self.inner.is_disposed()
    }
}

/// Refuses an output buffer that shares memory with an input: the TypeScript
/// layer always passes a fresh one, but this binding is callable directly.
fn check_disjoint(out: &[u8], inputs: &[&[u8]]) -> Result<(), Failure> {
    let range = |b: &[u8]| b.as_ptr() as usize..b.as_ptr() as usize + b.len();
    let o = range(out);
    let overlaps =
        inputs.iter().map(|i| range(i)).any(|i| !i.is_empty() && !o.is_empty() && i.start < o.end && o.start < i.end);
    match overlaps {
        true => Err(Failure::argument("the output buffer overlaps an input")),
        false => Ok(()),
    }
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
) -> Result<()> {
    check_disjoint(&out, &[plaintext, aad])?;
    // SAFETY: `out` overlaps no other argument (checked above), and no
    // JavaScript runs while this function holds the slice.
    let out = unsafe { out.as_mut() };
    let (key, now) = (KEYS.get(key, DISPOSED)?, clock(now_ms)?);
    guard(|| boxes::seal_into(&key, plaintext, aad, now, &mut rand::thread_rng(), out))
}

/// Opens into `out` (`sealed.length - BOX_OVERHEAD` bytes); on failure `out`
/// is zeroed. Takes the `env` to throw `expiredBy` as a property.
#[napi]
pub fn open_box_into(
    env: &Env,
    key: f64,
    sealed: &[u8],
    aad: &[u8],
    ttl_ms: Option<f64>,
    now_ms: Option<f64>,
    mut out: Uint8ArraySlice,
) -> napi::Result<()> {
    crate::workers::now(env, || {
        check_disjoint(&out, &[sealed, aad])?;
        // SAFETY: as in `seal_box_into`.
        let out = unsafe { out.as_mut() };
        let key = KEYS.get(key, DISPOSED)?;
        let ttl = ttl_ms.map(|t| millis(t, "ttl")).transpose()?;
        let now = clock(now_ms)?;
        Ok(boxes::open_into(&key, sealed, aad, ttl, now, out).map(drop)?)
    })
}

#[napi(js_name = "mac")]
pub fn mac_parts(key: &SecretKey, parts: Vec<Uint8Array>, aad: &[u8]) -> Result<owned::Uint8Array> {
    Ok(mac::mac(key.get()?, &slices(&parts), aad).into())
}

#[napi]
pub fn verify_mac(key: &SecretKey, parts: Vec<Uint8Array>, aad: &[u8], tag: &[u8]) -> Result<()> {
    let key = key.get()?;
    guard(|| mac::verify_mac(key, &slices(&parts), aad, tag))
}

/// `ciphertext ‖ tag`, written straight into the returned buffer.
#[napi]
pub fn aead_encrypt<'e>(
    env: &'e Env,
    algorithm: Aead,
    key: &[u8],
    nonce: &[u8],
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Uint8ArraySlice<'e>> {
    let aead = primitives::Aead::from(algorithm);
    owned::write_with(env, plaintext.len() + TAG_LEN, |out| {
        let (body, tag) = out.split_at_mut(plaintext.len());
        body.copy_from_slice(plaintext);
        tag.copy_from_slice(&crate::errors::catch(|| aead.encrypt_detached(key, nonce, aad, body))?);
        Ok(())
    })
}

#[napi]
pub fn aead_decrypt<'e>(
    env: &'e Env,
    algorithm: Aead,
    key: &[u8],
    nonce: &[u8],
    sealed: &[u8],
    aad: &[u8],
) -> Result<Uint8ArraySlice<'e>> {
    let aead = primitives::Aead::from(algorithm);
    let Some(len) = sealed.len().checked_sub(TAG_LEN) else {
        return Err(Failure::from(keyward_seal::Error::Decryption("shorter than a tag")).into());
    };
    owned::write_with(env, len, |out| {
        out.copy_from_slice(&sealed[..len]);
        crate::errors::catch(|| aead.decrypt_detached(key, nonce, aad, out, &sealed[len..]))
            .inspect_err(|_| out.fill(0))
    })
}

#[napi]
pub fn hkdf(hash: Hash, ikm: &[u8], salt: &[u8], info: &[u8], length: f64) -> Result<owned::Uint8Array> {
    let hash = primitives::Hash::from(hash);
    // Checked before anything is allocated; the core checks again.
    let length = whole(length, "length", 0, hash.hkdf_max_len() as u64)? as usize;
    guard(|| primitives::hkdf(hash, ikm, salt, info, length)).map(Into::into)
}

#[napi]
pub fn hmac(hash: Hash, key: &[u8], message: &[u8]) -> owned::Uint8Array {
    primitives::hmac(hash.into(), key, &[message]).into()
}

/// Incremental STREAM sealing (`seal`) or opening; the TypeScript layer wraps
/// it in Web `TransformStream`s and Node `Transform`s.
#[napi]
pub struct StreamCipher {
    inner: Cipher,
}

enum Cipher {
    Seal(stream::StreamSealer),
    Open(stream::StreamOpener),
}

#[napi]
impl StreamCipher {
    #[napi(constructor)]
    pub fn new(key: &SecretKey, aad: &[u8], seal: bool, chunk_size: Option<f64>) -> Result<Self> {
        let key = key.get()?;
        let inner = if seal {
            let chunk = stream::chunk_size(chunk_size);
            Cipher::Seal(guard(|| stream::StreamSealer::new(key, aad, chunk?, &mut OsRng))?)
        } else {
            Cipher::Open(stream::StreamOpener::new(key, aad))
        };
        Ok(StreamCipher { inner })
    }

    /// The next piece of output; `data` undefined finishes the stream.
    #[napi]
    pub fn push(&mut self, data: Option<&[u8]>) -> Result<owned::Uint8Array> {
        guard(|| match (&mut self.inner, data) {
            (Cipher::Seal(s), Some(data)) => s.push(data).map(Into::into),
            (Cipher::Seal(s), None) => s.finish().map(Into::into),
            (Cipher::Open(o), Some(data)) => o.push(data).map(Into::into),
            (Cipher::Open(o), None) => o.finish().map(Into::into),
        })
    }
}
