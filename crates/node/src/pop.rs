//! Proof-of-possession keys as a JavaScript class: the key stays in Rust;
//! signing and verifying take the request parts.

use keyward_pop::{PopKey as CoreKey, Request};
use napi_derive::napi;

use crate::convert::guard;
use crate::owned;
use crate::seal::millis;

#[napi]
pub struct PopKey {
    inner: Option<CoreKey>,
}

impl PopKey {
    fn get(&self) -> napi::Result<&CoreKey> {
        self.inner.as_ref().ok_or_else(|| {
            napi::Error::from_reason("[ERR_INVALID_STATE] this PoP key was disposed")
        })
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
        guard(|| CoreKey::derive(session_key, session_id)).map(|k| PopKey { inner: Some(k) })
    }

    #[napi(factory)]
    pub fn from_bytes(bytes: &[u8]) -> napi::Result<PopKey> {
        guard(|| CoreKey::from_bytes(bytes)).map(|k| PopKey { inner: Some(k) })
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

    /// `false` for a MAC that does not match; compared in constant time.
    #[napi]
    pub fn verify(
        &self,
        method: String,
        target: String,
        timestamp_ms: f64,
        nonce: &[u8],
        body: &[u8],
        mac: &[u8],
    ) -> napi::Result<bool> {
        let request = request(&method, &target, timestamp_ms, nonce, body)?;
        Ok(self.get()?.verify(&request, mac).is_ok())
    }

    /// Copies the key out, for sealing it into a session token.
    #[napi]
    pub fn export_bytes(&self) -> napi::Result<owned::Uint8Array> {
        Ok(owned::Uint8Array::from(&self.get()?.expose()[..]))
    }

    #[napi]
    pub fn dispose(&mut self) {
        self.inner = None;
    }
}

#[napi]
pub fn pop_canonical_target(target: String) -> String {
    keyward_pop::canonical_target(&target)
}
