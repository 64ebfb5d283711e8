//! Proof-of-possession for HTTP requests (docs/pop.md).
//!
//! After an OPAQUE login both sides hold the session key. Each derives
//! `popKey = HKDF-SHA256(ikm = sessionKey, salt = sessionId, info = "keyward pop v1")`
//! and every protected request carries `HMAC-SHA256(popKey, canonical request)`.
//! The canonical request is a length-prefixed list of: the method in upper
//! case, the request target exactly as sent, the timestamp in milliseconds
//! (decimal), the nonce, and SHA-256 of the raw body bytes.
//!
//! This crate owns the bytes, the header grammar (`headers`; `joined` for
//! the fields as the one string a binding passes), the MAC, the
//! server's checks in their order (`PopKey::verify_request`: timestamp, nonce
//! form, MAC, and only then the nonce is recorded) and the in-process replay
//! cache (`replay`). The caller finds the session and passes the clock.
#![forbid(unsafe_code)]

mod error_code;
mod headers;
mod joined;
mod outcome;
mod replay;
pub mod rfc9421;

use std::borrow::Cow;
use std::sync::{Mutex, PoisonError};

pub use error_code::ErrorCode;
pub use headers::{
    parse_bearer, parse_mac, parse_timestamp, valid_nonce, BEARER_PREFIX, MAC_B64_CHARS,
    MAX_BEARER_BYTES, MAX_TIMESTAMP_MS, NONCE_MAX_BYTES, NONCE_MIN_BYTES,
};
pub use joined::{split_joined, Joined};
pub use outcome::Outcome;
pub use replay::{ReplayCache, DEFAULT_MAX_PER_SCOPE, LARGEST_MAX_PER_SCOPE};

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub const POP_KEY_LEN: usize = 32;
pub const MAC_LEN: usize = 32;
/// The HKDF `info` of the PoP key derivation.
pub const DERIVE_INFO: &str = "keyward pop v1";
/// The domain separator that starts a request's canonical form. v2: the
/// target is signed as sent (v1 sorted the query parameters).
pub const REQUEST_DOMAIN: &str = "keyward pop request v2";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The MAC does not match the request.
    #[error("the request signature does not match")]
    BadMac,
    /// The timestamp is missing, malformed or outside the window.
    #[error("the request timestamp is missing or outside the window")]
    Stale,
    /// The nonce is missing or malformed.
    #[error("missing or malformed nonce")]
    BadNonce,
    /// The nonce was used before, within its lifetime.
    #[error("this nonce was already used")]
    Replay,
    /// The session already holds the most live nonces a session may hold.
    #[error("this session has too many requests within the replay window; retry later")]
    RateLimited,
    /// An RFC 9421 signature that does not follow keyward's profile
    /// (`rfc9421`): a malformed field, another label, parameter or component,
    /// or a required component left out. The reason names no value.
    #[error("the request signature does not follow keyward's RFC 9421 profile: {0}")]
    Profile(&'static str),
    /// An RFC 9421 signature whose `keyid` is not the session's id.
    #[error("the signature's keyid is not this session")]
    KeyId,
    /// An input of the wrong length or form.
    #[error("{0}")]
    InvalidArgument(String),
}

impl Error {
    /// What kind of error this is (a malformed nonce reports as a replay).
    pub fn kind(&self) -> ErrorCode {
        match self {
            Error::BadMac | Error::Profile(_) => ErrorCode::BadMac,
            Error::KeyId => ErrorCode::NoSession,
            Error::Stale => ErrorCode::Stale,
            Error::BadNonce | Error::Replay => ErrorCode::Replay,
            Error::RateLimited => ErrorCode::RateLimited,
            Error::InvalidArgument(_) => ErrorCode::InvalidArgValue,
        }
    }

    /// Stable code, following the Node convention (the kind's).
    pub fn code(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// The key a session signs its requests with; wiped on drop.
pub struct PopKey(Zeroizing<[u8; POP_KEY_LEN]>);

impl PopKey {
    pub fn derive(session_key: &[u8], session_id: &[u8]) -> Result<PopKey, Error> {
        if session_key.len() < 32 {
            return Err(Error::InvalidArgument(format!(
                "a session key has at least 32 bytes, got {}",
                session_key.len()
            )));
        }
        let mut key = Zeroizing::new([0u8; POP_KEY_LEN]);
        Hkdf::<Sha256>::new(Some(session_id), session_key)
            .expand(DERIVE_INFO.as_bytes(), &mut key[..])
            .expect("32 bytes is a valid HKDF-SHA256 length");
        Ok(PopKey(key))
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<PopKey, Error> {
        let key: [u8; POP_KEY_LEN] = bytes.try_into().map_err(|_| {
            Error::InvalidArgument(format!(
                "a PoP key has {POP_KEY_LEN} bytes, got {}",
                bytes.len()
            ))
        })?;
        Ok(PopKey(Zeroizing::new(key)))
    }

    pub fn expose(&self) -> &[u8; POP_KEY_LEN] {
        &self.0
    }

    fn mac(&self, request: &Request) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0[..]).expect("any key length");
        request.canonical_into(|part| mac.update(part));
        mac
    }

    /// The MAC of a request whose headers the verifier can accept: a nonce
    /// and timestamp it would refuse are refused here, so a signer never
    /// sends a request that cannot pass.
    pub fn sign(&self, request: &Request) -> Result<[u8; MAC_LEN], Error> {
        if !valid_nonce(request.nonce) {
            return Err(Error::InvalidArgument(format!(
                "the nonce must be {NONCE_MIN_BYTES}–{NONCE_MAX_BYTES} bytes of visible ASCII (0x21–0x7E)"
            )));
        }
        if request.timestamp_ms > MAX_TIMESTAMP_MS {
            return Err(Error::InvalidArgument(format!(
                "the timestamp must be at most {MAX_TIMESTAMP_MS} ms"
            )));
        }
        Ok(self.mac(request).finalize().into_bytes().into())
    }

    /// The MAC alone, in constant time.
    pub fn verify(&self, request: &Request, tag: &[u8]) -> Result<(), Error> {
        self.mac(request)
            .verify_slice(tag)
            .map_err(|_| Error::BadMac)
    }

    /// Everything the server checks once it has the session's key, in the
    /// order of docs/pop.md: the timestamp is within the window, the nonce is
    /// well-formed, the MAC matches, and only then (with a replay cache) the
    /// nonce is recorded for this session, atomically, for twice the window
    /// (as long as its timestamp could pass either way).
    ///
    /// The MAC comes before the cache so that requests nobody signed neither
    /// fill the cache nor spend a nonce; two copies of one genuine request
    /// racing each other still cannot both pass, since recording is atomic.
    pub fn verify_request(
        &self,
        request: &Request,
        tag: &[u8],
        checks: Checks<'_>,
    ) -> Result<(), Error> {
        if request.timestamp_ms > MAX_TIMESTAMP_MS
            || request.timestamp_ms.abs_diff(checks.now_ms) > checks.window_ms
        {
            return Err(Error::Stale);
        }
        if !valid_nonce(request.nonce) {
            return Err(Error::BadNonce);
        }
        self.verify(request, tag)?;
        checks.record(request.nonce)
    }
}

impl Checks<'_> {
    /// With a replay cache, records `nonce` under the session for twice the
    /// window, atomically; called only once the MAC matched.
    fn record(&self, nonce: &[u8]) -> Result<(), Error> {
        if let Some((cache, scope)) = self.replay {
            let ttl = self.window_ms.saturating_mul(2);
            // A panic cannot leave the table half-updated in a way that
            // matters: at worst one fingerprint is missing or extra.
            let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache.add_scoped(scope, nonce, ttl, self.now_ms)?;
        }
        Ok(())
    }
}

/// The server's side of `PopKey::verify_request`.
pub struct Checks<'a> {
    pub now_ms: u64,
    /// How far a timestamp may be from now, either way.
    pub window_ms: u64,
    /// Where nonces are recorded, and the session they are recorded under;
    /// `None` when the caller records them (in a cache shared by instances),
    /// which it does only after this returned `Ok`.
    pub replay: Option<(&'a Mutex<ReplayCache>, &'a [u8])>,
}

/// What a signature covers.
pub struct Request<'a> {
    pub method: &'a str,
    /// The request target exactly as sent: path, and `?query` if any. Not
    /// normalised: `?to=alice&to=mallory` and `?to=mallory&to=alice` mean
    /// different things to many servers, so they are different requests.
    pub target: &'a str,
    pub timestamp_ms: u64,
    pub nonce: &'a [u8],
    /// The raw body bytes, whatever the content type; empty when there is none.
    pub body: &'a [u8],
}

/// Upper case, borrowed when it is already (the usual case).
fn canonical_method(method: &str) -> Cow<'_, str> {
    if method.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(method.to_ascii_uppercase())
    } else {
        Cow::Borrowed(method)
    }
}

/// Decimal digits of `n` at the end of `buf`, without an allocation.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

impl Request<'_> {
    /// Feeds the canonical encoding to `sink`, part by part, with no copy of the body.
    fn canonical_into(&self, mut sink: impl FnMut(&[u8])) {
        let method = canonical_method(self.method);
        let mut digits = [0u8; 20];
        let timestamp = decimal(self.timestamp_ms, &mut digits);
        let body_hash = Sha256::digest(self.body);
        let fields: [&[u8]; 6] = [
            REQUEST_DOMAIN.as_bytes(),
            method.as_bytes(),
            self.target.as_bytes(),
            timestamp,
            self.nonce,
            &body_hash,
        ];
        sink(&(fields.len() as u64).to_be_bytes());
        for field in fields {
            sink(&(field.len() as u64).to_be_bytes());
            sink(field);
        }
    }

    /// The canonical bytes, for documentation and tests.
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.canonical_into(|part| out.extend_from_slice(part));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(target: &'a str, body: &'a [u8]) -> Request<'a> {
        Request {
            method: "post",
            target,
            timestamp_ms: 1_700_000_000_000,
            nonce: b"nonce-001",
            body,
        }
    }

    /// The derived messages are the ones the hand-written `Display` gave.
    #[test]
    fn error_messages_are_unchanged() {
        let cases = [
            (Error::BadMac, "the request signature does not match"),
            (
                Error::Stale,
                "the request timestamp is missing or outside the window",
            ),
            (Error::BadNonce, "missing or malformed nonce"),
            (Error::Replay, "this nonce was already used"),
            (
                Error::RateLimited,
                "this session has too many requests within the replay window; retry later",
            ),
            (Error::InvalidArgument("too long".into()), "too long"),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn sign_and_verify() {
        let key = PopKey::derive(&[7; 64], b"session-1").unwrap();
        let tag = key.sign(&request("/api/transfer?a=1&b=2", b"{}")).unwrap();
        assert!(key
            .verify(&request("/api/transfer?a=1&b=2", b"{}"), &tag)
            .is_ok());
        assert_eq!(
            key.verify(&request("/api/transfer?a=1&b=3", b"{}"), &tag),
            Err(Error::BadMac)
        );
        assert_eq!(
            key.verify(&request("/api/transfer?a=1&b=2", b"{ }"), &tag),
            Err(Error::BadMac)
        );
        assert_eq!(
            key.verify(&request("/api/transfer?a=1&b=2", b"{}"), &tag[..31]),
            Err(Error::BadMac)
        );
        let other = PopKey::derive(&[7; 64], b"session-2").unwrap();
        assert_eq!(
            other.verify(&request("/api/transfer?a=1&b=2", b"{}"), &tag),
            Err(Error::BadMac)
        );
        let mut moved = request("/api/transfer?a=1&b=2", b"{}");
        moved.timestamp_ms += 1;
        assert_eq!(key.verify(&moved, &tag), Err(Error::BadMac));
        moved = request("/api/transfer?a=1&b=2", b"{}");
        moved.method = "PUT";
        assert_eq!(key.verify(&moved, &tag), Err(Error::BadMac));
    }

    /// The target is signed as sent: any other order or spelling of the
    /// query is another request, since a server may read it differently.
    #[test]
    fn the_target_is_signed_exactly_as_sent() {
        let key = PopKey::derive(&[7; 64], b"session-1").unwrap();
        for (signed, sent) in [
            ("/pay?to=alice&to=mallory", "/pay?to=mallory&to=alice"),
            ("/pay?b=2&a=1", "/pay?a=1&b=2"),
            ("/pay?a=1&&b=2", "/pay?a=1&b=2"),
            ("/pay?", "/pay"),
            ("/pay?to=alice", "/pay?to=%61lice"),
            ("/pay?memo=a+b", "/pay?memo=a%20b"),
            ("/pay?to=alice", "/pay?to=alice&to=mallory"),
            ("/pay/alice", "/pay/./alice"),
            ("/pay/alice", "/PAY/alice"),
        ] {
            let tag = key.sign(&request(signed, b"")).unwrap();
            assert_eq!(key.verify(&request(signed, b""), &tag), Ok(()));
            assert_eq!(
                key.verify(&request(sent, b""), &tag),
                Err(Error::BadMac),
                "{signed} sent as {sent}"
            );
        }
    }

    /// A request signed without a body does not verify once a body is added, nor the reverse.
    #[test]
    fn the_body_is_signed_as_raw_bytes() {
        let key = PopKey::derive(&[7; 64], b"session-1").unwrap();
        let bare = key.sign(&request("/p", b"")).unwrap();
        assert_eq!(key.verify(&request("/p", b"{}"), &bare), Err(Error::BadMac));
        let with = key.sign(&request("/p", b"{}")).unwrap();
        assert_eq!(key.verify(&request("/p", b""), &with), Err(Error::BadMac));
        // Bytes, not text: an encoding's other spelling of the same text is another body.
        let latin1 = key.sign(&request("/p", b"caf\xe9")).unwrap();
        assert_eq!(
            key.verify(&request("/p", "café".as_bytes()), &latin1),
            Err(Error::BadMac)
        );
    }

    #[test]
    fn canonical_form() {
        let bytes = request("/p?b=1&a=2", b"").canonical();
        assert_eq!(&bytes[..8], &6u64.to_be_bytes());
        let domain = REQUEST_DOMAIN.as_bytes();
        assert_eq!(&bytes[8..16], &(domain.len() as u64).to_be_bytes());
        assert_eq!(&bytes[16..16 + domain.len()], b"keyward pop request v2");
        let target = b"/p?b=1&a=2";
        let at = 16 + domain.len() + 8 + 4;
        assert_eq!(&bytes[at..at + 8], &(target.len() as u64).to_be_bytes());
        assert_eq!(&bytes[at + 8..at + 8 + target.len()], target);
        // Fields are length-prefixed: a nonce cannot spill into the body hash.
        let a = Request {
            nonce: b"ab",
            ..request("/p", b"")
        }
        .canonical();
        let b = Request {
            nonce: b"a",
            ..request("/p", b"")
        }
        .canonical();
        assert_ne!(a, b);
    }

    #[test]
    fn canonical_parts_without_allocation_match_the_allocating_forms() {
        for n in [0u64, 7, 10, 1_700_000_000_000, u64::MAX] {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string().as_bytes());
        }
        assert!(matches!(canonical_method("POST"), Cow::Borrowed("POST")));
        assert_eq!(canonical_method("pOst"), "POST");
    }

    #[test]
    fn signing_refuses_what_the_verifier_would_refuse() {
        let key = PopKey::derive(&[7; 64], b"session-1").unwrap();
        for nonce in [
            &b"nonce-1"[..],
            &[b'n'; 129],
            b"nonce 123",
            "nonce-é1".as_bytes(),
        ] {
            let req = Request {
                nonce,
                ..request("/p", b"")
            };
            assert!(matches!(key.sign(&req), Err(Error::InvalidArgument(_))));
        }
        let mut req = request("/p", b"");
        req.timestamp_ms = MAX_TIMESTAMP_MS + 1;
        assert!(matches!(key.sign(&req), Err(Error::InvalidArgument(_))));
        req.timestamp_ms = MAX_TIMESTAMP_MS;
        assert!(key.sign(&req).is_ok());
    }

    #[test]
    fn verify_request_checks_time_then_nonce_then_mac_then_records() {
        let key = PopKey::derive(&[7; 64], b"session-1").unwrap();
        let cache = Mutex::new(ReplayCache::new(DEFAULT_MAX_PER_SCOPE));
        let req = request("/p", b"{}");
        let tag = key.sign(&req).unwrap();
        let sent = req.timestamp_ms;
        let check = |tag: &[u8], scope: &[u8], now: u64| {
            let checks = Checks {
                now_ms: now,
                window_ms: 30_000,
                replay: Some((&cache, scope)),
            };
            key.verify_request(&req, tag, checks)
        };
        let size = || cache.lock().unwrap().len();
        // Stale either way, and nothing recorded: the same request passes in time.
        assert_eq!(check(&tag, b"s1", sent + 30_001), Err(Error::Stale));
        assert_eq!(check(&tag, b"s1", sent - 30_001), Err(Error::Stale));
        // A wrong MAC records nothing and spends no nonce.
        for forged in [[0u8; 32], [1; 32], [2; 32]] {
            assert_eq!(check(&forged, b"s1", sent), Err(Error::BadMac));
        }
        assert_eq!(check(&[], b"s1", sent), Err(Error::BadMac));
        assert_eq!(size(), 0);
        // So the genuine request with that nonce still passes, once.
        assert_eq!(check(&tag, b"s1", sent + 1), Ok(()));
        assert_eq!(size(), 1);
        assert_eq!(check(&tag, b"s1", sent + 2), Err(Error::Replay));
        // A replay whose MAC is wrong is a bad MAC: the MAC comes first.
        assert_eq!(check(&[0; 32], b"s1", sent + 2), Err(Error::BadMac));
        // Nonces are per session.
        assert_eq!(check(&tag, b"s2", sent - 30_000), Ok(()));
        assert_eq!(check(&tag, b"s2", sent + 29_999), Err(Error::Replay));
        // Without a cache only time, form and MAC are checked.
        let alone = |nonce: &[u8], now: u64| {
            let req = Request {
                nonce,
                ..request("/p", b"{}")
            };
            // Signed with a valid nonce, so that only the verifier's form check can refuse.
            let tag = key
                .sign(&Request {
                    nonce: b"nonce-12",
                    ..request("/p", b"{}")
                })
                .unwrap();
            let checks = Checks {
                now_ms: now,
                window_ms: 1,
                replay: None,
            };
            key.verify_request(&req, &tag, checks)
        };
        assert_eq!(alone(b"nonce-12", sent), Ok(()));
        assert_eq!(alone(b"nonce-1", sent), Err(Error::BadNonce));
        assert_eq!(alone(b"nonce-12\n", sent), Err(Error::BadNonce));
        assert_eq!(alone(&[b'n'; 129], sent), Err(Error::BadNonce));
        assert_eq!(alone("é".repeat(64).as_bytes(), sent), Err(Error::BadNonce));
        // The time comes before the nonce's form.
        assert_eq!(alone(b"nonce-1", sent + 2), Err(Error::Stale));
    }

    #[test]
    fn a_session_over_its_cap_is_refused_and_only_that_session() {
        let key = PopKey::derive(&[7; 64], b"session-1").unwrap();
        let cache = Mutex::new(ReplayCache::new(3));
        let now = 1_700_000_000_000;
        let send = |scope: &[u8], nonce: &[u8], now: u64| {
            let req = Request {
                nonce,
                timestamp_ms: now,
                ..request("/p", b"")
            };
            let checks = Checks {
                now_ms: now,
                window_ms: 1_000,
                replay: Some((&cache, scope)),
            };
            key.verify_request(&req, &key.sign(&req).unwrap(), checks)
        };
        for nonce in [b"nonce-01", b"nonce-02", b"nonce-03"] {
            assert_eq!(send(b"busy", nonce, now), Ok(()));
        }
        assert_eq!(send(b"busy", b"nonce-04", now), Err(Error::RateLimited));
        assert_eq!(send(b"calm", b"nonce-04", now), Ok(()));
        // A replay is still a replay, whatever the count.
        assert_eq!(send(b"busy", b"nonce-01", now), Err(Error::Replay));
        // Once its nonces expire (twice the window), the session may send again.
        assert_eq!(send(b"busy", b"nonce-04", now + 2_000), Ok(()));
    }

    #[test]
    fn derivation_checks_lengths() {
        assert!(PopKey::derive(&[1; 31], b"s").is_err());
        assert!(PopKey::from_bytes(&[1; 31]).is_err());
        let key = PopKey::derive(&[1; 64], b"s").unwrap();
        assert_eq!(
            PopKey::from_bytes(key.expose()).unwrap().expose(),
            key.expose()
        );
    }

    /// The HKDF step is RFC 5869's: a cross-check against an independent computation.
    #[test]
    fn pop_key_is_hkdf_sha256() {
        let key = PopKey::derive(&[0x0b; 32], b"sid").unwrap();
        let prk = <Hmac<Sha256> as Mac>::new_from_slice(b"sid")
            .unwrap()
            .chain_update([0x0b; 32])
            .finalize()
            .into_bytes();
        let okm = <Hmac<Sha256> as Mac>::new_from_slice(&prk)
            .unwrap()
            .chain_update(DERIVE_INFO.as_bytes())
            .chain_update([1u8])
            .finalize()
            .into_bytes();
        assert_eq!(&key.expose()[..], &okm[..]);
    }
}
