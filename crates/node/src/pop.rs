//! Proof-of-possession keys as a JavaScript class: the key stays in Rust;
//! signing and verifying take the request parts.

use std::sync::{Mutex, MutexGuard, PoisonError};

use keyward_pop::{
    Checks, Error as PopError, PopKey as CoreKey, ReplayCache as CoreReplay, Request,
};
use napi_derive::napi;

use crate::convert::{guard, to_js};
use crate::handles::{Handled, Handles};
use crate::owned;
use crate::seal::{clock, millis};

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
        let mac = self.get()?.sign(&request).map_err(to_js)?;
        Ok(owned::Uint8Array::from(&mac[..]))
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

/// Live replay caches by handle, for `pop_verify`.
static REPLAY: Handles<Mutex<CoreReplay>> = Handles::new();

/// The in-process replay cache (see keyward_pop::ReplayCache).
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
    pub fn new(max_per_session: f64) -> napi::Result<ReplayCache> {
        if !(max_per_session >= 1.0
            && max_per_session.fract() == 0.0
            && max_per_session <= 2f64.powi(32))
        {
            return Err(napi::Error::from_reason(format!(
                "[ERR_INVALID_ARG_VALUE] maxNoncesPerSession must be a whole number from 1 to 2^32, got {max_per_session}"
            )));
        }
        Ok(ReplayCache {
            cache: Handled::new(
                Mutex::new(CoreReplay::new(max_per_session as usize)),
                &REPLAY,
            ),
        })
    }

    /// `true` only when `key` was not live yet; now it is, for `ttl_ms`.
    #[napi]
    pub fn add(&self, key: String, ttl_ms: f64, now_ms: Option<f64>) -> napi::Result<bool> {
        let ttl = millis(ttl_ms, "ttlMs")?;
        let now = clock(now_ms)?;
        // Never None: a replay cache has no dispose().
        let added = self
            .cache
            .get()
            .map(|c| lock(c).add(&[key.as_bytes()], ttl, now));
        Ok(added.unwrap_or(false))
    }

    #[napi(getter)]
    pub fn size(&self) -> f64 {
        self.cache.get().map_or(0, |c| lock(c).len()) as f64
    }

    #[napi(getter)]
    pub fn handle(&self) -> f64 {
        self.cache.handle()
    }
}

/// What `pop_verify` found: 0 when the request is genuine and fresh, else
/// the first check that failed.
#[repr(u32)]
enum Outcome {
    Ok = 0,
    Stale = 1,
    BadNonce = 2,
    Replay = 3,
    BadMac = 4,
    RateLimited = 5,
}

/// The checks of `PopKey::verify_request` on a request whose session the
/// caller found, in its order: timestamp within `window_ms` of now, nonce
/// well-formed, the MAC in constant time, and then, when `replay` is a
/// replay cache's handle (0 for none), the nonce recorded under the session.
///
/// Takes the key's handle, and session id, method, target, `X-TS`, `X-POP`
/// and `X-NONCE` as one string joined by `\n`. Each string argument costs a
/// conversion out of V8, so one string instead of six is what keeps a
/// verification within a few microseconds. The nonce is the rest of the
/// string and may not hold a line break: a line break in any field leaves
/// one in the nonce, so no field can pass for another.
#[napi]
pub fn pop_verify(
    key: f64,
    parts: String,
    body: &[u8],
    replay: f64,
    window_ms: f64,
    now_ms: Option<f64>,
) -> napi::Result<u32> {
    let key = HANDLES.get(key).ok_or_else(disposed)?;
    let window = millis(window_ms, "windowMs")?;
    let now = clock(now_ms)?;
    let mut split = parts.splitn(6, '\n');
    let (Some(scope), Some(method), Some(target), Some(ts), Some(mac), Some(nonce)) = (
        split.next(),
        split.next(),
        split.next(),
        split.next(),
        split.next(),
        split.next(),
    ) else {
        return Ok(Outcome::BadMac as u32);
    };
    let Some(timestamp_ms) = keyward_pop::parse_timestamp(ts) else {
        return Ok(Outcome::Stale as u32);
    };
    let request = Request {
        method,
        target,
        timestamp_ms,
        nonce: nonce.as_bytes(),
        body,
    };
    // Not a MAC's text: an empty tag, which never matches.
    let tag = keyward_pop::parse_mac(mac);
    let tag = tag.as_ref().map_or(&[][..], |t| &t[..]);
    let cache =
        match replay {
            0.0 => None,
            handle => Some(REPLAY.get(handle).ok_or_else(|| {
                napi::Error::from_reason("[ERR_INVALID_STATE] no such replay cache")
            })?),
        };
    let checks = Checks {
        now_ms: now,
        window_ms: window,
        replay: cache.as_deref().map(|c| (c, scope.as_bytes())),
    };
    Ok(match key.verify_request(&request, tag, checks) {
        Ok(()) => Outcome::Ok,
        Err(PopError::Stale) => Outcome::Stale,
        Err(PopError::BadNonce) => Outcome::BadNonce,
        Err(PopError::Replay) => Outcome::Replay,
        Err(PopError::RateLimited) => Outcome::RateLimited,
        Err(_) => Outcome::BadMac,
    } as u32)
}

/// The header grammar's limits (keyward_pop's `headers`), for the
/// TypeScript layer to use instead of its own copies.
#[napi]
pub const POP_BEARER_PREFIX: &str = keyward_pop::BEARER_PREFIX;
#[napi]
pub const POP_MAX_BEARER_BYTES: u32 = keyward_pop::MAX_BEARER_BYTES as u32;
#[napi]
pub const POP_NONCE_MIN_BYTES: u32 = keyward_pop::NONCE_MIN_BYTES as u32;
#[napi]
pub const POP_NONCE_MAX_BYTES: u32 = keyward_pop::NONCE_MAX_BYTES as u32;
#[napi]
pub const POP_MAX_TIMESTAMP_MS: f64 = keyward_pop::MAX_TIMESTAMP_MS as f64;
#[napi]
pub const POP_MAC_CHARS: u32 = keyward_pop::MAC_B64_CHARS as u32;
#[napi]
pub const POP_DEFAULT_MAX_NONCES_PER_SESSION: u32 = keyward_pop::DEFAULT_MAX_PER_SCOPE as u32;
