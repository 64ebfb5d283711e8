//! Proof-of-possession keys and the in-process replay cache as JavaScript
//! classes (the key stays in Rust), and `popVerify`, the hot path.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use keyward_pop::rfc9421::{Message, Received, SignParams, Target, MAX_CREATED_S};
use keyward_pop::{Checks, PopKey as CoreKey, ReplayCache as CoreReplay, Request};
use napi_derive::napi;

use crate::args::{clock, millis, whole};
use crate::errors::{guard, Result};
use crate::handles::{live_class, Handled, Handles};
use crate::names::PopOutcome;
use crate::owned;

/// Live keys by handle, for `pop_verify` (see `handles`).
static KEYS: Handles<CoreKey> = Handles::new();
const KEY_DISPOSED: &str = "this PoP key was disposed";

live_class!(PopKey(CoreKey, KEY_DISPOSED, KEYS));

#[napi]
impl PopKey {
    #[napi(factory)]
    pub fn derive(session_key: &[u8], session_id: &[u8]) -> Result<PopKey> {
        guard(|| CoreKey::derive(session_key, session_id)).map(PopKey::wrap)
    }

    #[napi(factory)]
    pub fn from_bytes(bytes: &[u8]) -> Result<PopKey> {
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
    ) -> Result<owned::Uint8Array> {
        let timestamp_ms = millis(timestamp_ms, "the timestamp")?;
        let request = Request { method: &method, target: &target, timestamp_ms, nonce, body };
        let key = self.inner.get()?;
        guard(|| key.sign(&request)).map(Into::into)
    }

    /// The RFC 9421 fields of a request (keyward_pop::rfc9421): `path_and_query`
    /// signs `@path` and `@query` instead of `@target-uri` (`origin` + `target`).
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn sign_rfc9421(
        &self,
        method: String,
        origin: String,
        target: String,
        body: &[u8],
        key_id: String,
        created_s: f64,
        nonce: String,
        path_and_query: bool,
    ) -> Result<Rfc9421Fields> {
        let created_s = whole(created_s, "created", 0, MAX_CREATED_S)?;
        let message = Message { method: &method, origin: &origin, target: &target, body };
        let target = if path_and_query { Target::PathAndQuery } else { Target::Uri };
        let params = SignParams { key_id: &key_id, created_s, nonce: &nonce, target };
        let key = self.inner.get()?;
        let signed = guard(|| key.sign_rfc9421(&message, &params))?;
        Ok(Rfc9421Fields {
            signature_input: signed.signature_input,
            signature: signed.signature,
            content_digest: signed.content_digest,
        })
    }

    /// Copies the key out, for sealing it into a session token.
    #[napi]
    pub fn export_bytes(&self) -> Result<owned::Uint8Array> {
        Ok(self.inner.get()?.expose()[..].into())
    }
}

/// `Signature-Input`, `Signature` and, with a body, `Content-Digest`.
#[napi(object)]
pub struct Rfc9421Fields {
    pub signature_input: String,
    pub signature: String,
    pub content_digest: Option<String>,
}

/// Live replay caches by handle, for `pop_verify`.
static REPLAY: Handles<Mutex<CoreReplay>> = Handles::new();

/// The in-process replay cache (see keyward_pop::ReplayCache). It has no
/// `dispose()`: it lives as long as its JavaScript object.
#[napi]
pub struct ReplayCache {
    cache: Handled<Mutex<CoreReplay>>,
}

fn lock(cache: &Mutex<CoreReplay>) -> MutexGuard<'_, CoreReplay> {
    // A panic cannot leave the table half-updated in a way that matters: at
    // worst one fingerprint is missing or extra.
    cache.lock().unwrap_or_else(PoisonError::into_inner)
}

#[napi]
impl ReplayCache {
    /// `max_per_session`: the live nonces one session may hold (see
    /// `keyward_pop::ReplayCache::add_scoped`); the cache itself has no size bound.
    #[napi(constructor)]
    pub fn new(max_per_session: f64) -> Result<ReplayCache> {
        let max =
            whole(max_per_session, "options.maxNoncesPerSession", 1, keyward_pop::LARGEST_MAX_PER_SCOPE)? as usize;
        let cache = Mutex::new(CoreReplay::new(max));
        Ok(ReplayCache { cache: Handled::new(cache, &REPLAY, "no such replay cache") })
    }

    /// `true` only when `key` was not live yet; now it is, for `ttl_ms`.
    #[napi]
    pub fn add(&self, key: String, ttl_ms: f64, now_ms: Option<f64>) -> Result<bool> {
        let (ttl, now) = (millis(ttl_ms, "ttlMs")?, clock(now_ms)?);
        Ok(lock(self.cache.get()?).add(&[key.as_bytes()], ttl, now))
    }

    #[napi(getter)]
    pub fn size(&self) -> Result<f64> {
        Ok(lock(self.cache.get()?).len() as f64)
    }

    #[napi(getter)]
    pub fn handle(&self) -> f64 {
        self.cache.handle()
    }
}

/// The checks of `PopKey::verify_request` on a request whose session the
/// caller found, in its order: timestamp within `window_ms` of now, nonce
/// well-formed, the MAC in constant time, and then, when `replay` is a
/// replay cache's handle (0 for none), the nonce recorded under the session.
/// Takes the key's handle, and the header fields as one string (see
/// `keyward_pop::PopKey::verify_joined`).
#[napi]
pub fn pop_verify(
    key: f64,
    parts: String,
    body: &[u8],
    replay: f64,
    window_ms: f64,
    now_ms: Option<f64>,
) -> Result<PopOutcome> {
    let (key, cache) = (KEYS.get(key, KEY_DISPOSED)?, replay_cache(replay)?);
    let (window_ms, now_ms) = (millis(window_ms, "windowMs")?, clock(now_ms)?);
    Ok(keyward_pop::Outcome::of(&key.verify_joined(&parts, body, now_ms, window_ms, cache.as_deref())).into())
}

/// The replay cache of `handle`; `None` for 0.
fn replay_cache(handle: f64) -> Result<Option<Arc<Mutex<CoreReplay>>>> {
    Ok(if handle == 0.0 { None } else { Some(REPLAY.get(handle, "no such replay cache")?) })
}

/// The checks of `PopKey::verify_rfc9421` on a request whose session the
/// caller found (its id is `session_id`); otherwise as `pop_verify`. The
/// fields are `None` when absent.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn pop_verify_rfc9421(
    key: f64,
    session_id: String,
    method: String,
    origin: String,
    target: String,
    body: &[u8],
    signature_input: Option<String>,
    signature: Option<String>,
    content_digest: Option<String>,
    replay: f64,
    window_ms: f64,
    now_ms: Option<f64>,
) -> Result<Rfc9421Verified> {
    let key = KEYS.get(key, KEY_DISPOSED)?;
    let (window_ms, now_ms) = (millis(window_ms, "windowMs")?, clock(now_ms)?);
    let cache = replay_cache(replay)?;
    let replay = cache.as_deref().map(|c| (c, session_id.as_bytes()));
    let message = Message { method: &method, origin: &origin, target: &target, body };
    let received = Received {
        signature_input: signature_input.as_deref(),
        signature: signature.as_deref(),
        content_digest: content_digest.as_deref(),
    };
    let verified = key.verify_rfc9421(&message, &received, &session_id, Checks { now_ms, window_ms, replay });
    // The nonce, for a replay cache the caller keeps (shared by instances).
    let nonce = match (&verified, &signature_input) {
        (Ok(()), Some(input)) => keyward_pop::rfc9421::signed_nonce(input),
        _ => None,
    };
    Ok(Rfc9421Verified { outcome: keyward_pop::Outcome::of(&verified).into(), nonce })
}

/// The code and message a refusal with `outcome` reports.
#[napi(object)]
pub struct PopRefusal {
    pub outcome: PopOutcome,
    pub code: String,
    pub message: String,
}

/// Every refusing outcome's code and message, keyward_pop's own
/// (`Outcome::error`), so that the TypeScript layer spells none of them.
#[napi]
pub fn pop_refusals() -> Vec<PopRefusal> {
    let refusals = keyward_pop::Outcome::ALL.into_iter().filter_map(|outcome| outcome.error().map(|e| (outcome, e)));
    refusals
        .map(|(outcome, e)| PopRefusal { outcome: outcome.into(), code: e.code().into(), message: e.to_string() })
        .collect()
}

/// What `pop_verify_rfc9421` found, and on `Ok` the nonce it checked.
#[napi(object)]
pub struct Rfc9421Verified {
    pub outcome: PopOutcome,
    pub nonce: Option<String>,
}
