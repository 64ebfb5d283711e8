//! Proof-of-possession keys as a JavaScript class: the key stays in Rust;
//! signing and verifying take the request parts.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keyward_pop::{PopKey as CoreKey, Request};
use napi_derive::napi;

use crate::convert::guard;
use crate::handles::{Handled, Handles};
use crate::owned;
use crate::seal::millis;

/// Live keys by handle, for `pop_verify` (see `handles`).
static HANDLES: Handles<CoreKey> = Handles::new();

fn disposed() -> napi::Error {
    napi::Error::from_reason("[ERR_INVALID_STATE] this PoP key was disposed")
}

#[napi]
pub struct PopKey {
    key: Handled<CoreKey>,
}

impl PopKey {
    fn get(&self) -> napi::Result<&CoreKey> {
        self.key.get().ok_or_else(disposed)
    }

    fn wrap(key: CoreKey) -> Self {
        PopKey {
            key: Handled::new(key, &HANDLES),
        }
    }
}

fn request<'a>(
    method: &'a str,
    target: &'a str,
    timestamp_ms: f64,
    nonce: &'a [u8],
    body: &'a [u8],
) -> napi::Result<Request<'a>> {
    Ok(Request {
        method,
        target,
        timestamp_ms: millis(timestamp_ms, "the timestamp")?,
        nonce,
        body,
    })
}

#[napi]
impl PopKey {
    #[napi(factory)]
    pub fn derive(session_key: &[u8], session_id: &[u8]) -> napi::Result<PopKey> {
        guard(|| CoreKey::derive(session_key, session_id)).map(PopKey::wrap)
    }

    #[napi(factory)]
    pub fn from_bytes(bytes: &[u8]) -> napi::Result<PopKey> {
        guard(|| CoreKey::from_bytes(bytes)).map(PopKey::wrap)
    }

    #[napi]
    pub fn sign(
        &self,
        method: String,
        target: String,
        timestamp_ms: f64,
        nonce: &[u8],
        body: &[u8],
    ) -> napi::Result<owned::Uint8Array> {
        let request = request(&method, &target, timestamp_ms, nonce, body)?;
        Ok(owned::Uint8Array::from(&self.get()?.sign(&request)[..]))
    }

    /// Copies the key out, for sealing it into a session token.
    #[napi]
    pub fn export_bytes(&self) -> napi::Result<owned::Uint8Array> {
        Ok(owned::Uint8Array::from(&self.get()?.expose()[..]))
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

/// `false` for a MAC that does not match (or is not base64url); compared in
/// constant time. Takes the key's handle, and method, target, nonce and MAC
/// as one string joined by `\n` (none of them may contain one: a request
/// whose parts do not split into exactly four is refused). Each string
/// argument costs a conversion out of V8, so one string instead of four is
/// what keeps a verification within a few microseconds.
#[napi]
pub fn pop_verify(key: f64, parts: String, timestamp_ms: f64, body: &[u8]) -> napi::Result<bool> {
    let key = HANDLES.get(key).ok_or_else(disposed)?;
    let mut split = parts.split('\n');
    let (Some(method), Some(target), Some(nonce), Some(mac), None) = (
        split.next(),
        split.next(),
        split.next(),
        split.next(),
        split.next(),
    ) else {
        return Ok(false);
    };
    let request = request(method, target, timestamp_ms, nonce.as_bytes(), body)?;
    let Ok(mac) = URL_SAFE_NO_PAD.decode(mac.as_bytes()) else {
        return Ok(false);
    };
    Ok(key.verify(&request, &mac).is_ok())
}

#[napi]
pub fn pop_canonical_target(target: String) -> String {
    keyward_pop::canonical_target(&target)
}
