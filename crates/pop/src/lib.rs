//! Proof-of-possession for HTTP requests (DESIGN §2).
//!
//! After an OPAQUE login both sides hold the session key. Each derives
//! `popKey = HKDF-SHA256(ikm = sessionKey, salt = sessionId, info = "keyward pop v1")`
//! and every protected request carries `HMAC-SHA256(popKey, canonical request)`.
//! The canonical request (docs/pop.md) is a length-prefixed list of:
//! the method in upper case, the path with its query parameters sorted, the
//! timestamp in milliseconds (decimal), the nonce, and SHA-256 of the body.
//! Timestamps and sessions are checked by the caller (they need clocks and
//! shared stores); this crate owns the bytes, the MAC and an in-process
//! replay cache (`replay`), and checks nonce then MAC in that order.
#![forbid(unsafe_code)]

mod replay;

use std::borrow::Cow;

use core::fmt;

pub use replay::ReplayCache;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub const POP_KEY_LEN: usize = 32;
pub const MAC_LEN: usize = 32;
const INFO: &[u8] = b"keyward pop v1";
const DOMAIN: &[u8] = b"keyward pop request v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The MAC does not match the request.
    BadMac,
    /// The timestamp is missing, malformed or outside the window.
    Stale,
    /// The nonce is missing or malformed.
    BadNonce,
    /// The nonce was used before, within its lifetime.
    Replay,
    /// An input of the wrong length or form.
    InvalidArgument(String),
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadMac => "ERR_POP_BAD_MAC",
            Error::Stale => "ERR_POP_STALE",
            Error::BadNonce | Error::Replay => "ERR_POP_REPLAY",
            Error::InvalidArgument(_) => "ERR_INVALID_ARG_VALUE",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadMac => f.write_str("the request signature does not match"),
            Error::Stale => f.write_str("the request timestamp is missing or outside the window"),
            Error::BadNonce => f.write_str("missing or malformed nonce"),
            Error::Replay => f.write_str("this nonce was already used"),
            Error::InvalidArgument(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Error {}

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
            .expand(INFO, &mut key[..])
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

    pub fn sign(&self, request: &Request) -> [u8; MAC_LEN] {
        self.mac(request).finalize().into_bytes().into()
    }

    /// Constant-time.
    pub fn verify(&self, request: &Request, tag: &[u8]) -> Result<(), Error> {
        self.mac(request)
            .verify_slice(tag)
            .map_err(|_| Error::BadMac)
    }

    /// Everything the server checks once it has the session's key, in the
    /// order of DESIGN §2: the timestamp is within the window, the nonce is
    /// well-formed and (with a replay cache) not seen before for this
    /// session, then the MAC. The nonce is recorded before the MAC is
    /// checked, so a request is never checked twice, and it lives twice the
    /// window: as long as its timestamp could pass either way.
    pub fn verify_request(
        &self,
        request: &Request,
        tag: &[u8],
        checks: Checks<'_>,
    ) -> Result<(), Error> {
        if request.timestamp_ms.abs_diff(checks.now_ms) > checks.window_ms {
            return Err(Error::Stale);
        }
        let nonce_chars = String::from_utf8_lossy(request.nonce).chars().count();
        if !(NONCE_CHARS.contains(&nonce_chars)) || request.nonce.contains(&b'\n') {
            return Err(Error::BadNonce);
        }
        if let Some((cache, scope)) = checks.replay {
            let ttl = checks.window_ms.saturating_mul(2);
            if !cache.add(&[scope, b":", request.nonce], ttl, checks.now_ms) {
                return Err(Error::Replay);
            }
        }
        self.verify(request, tag)
    }
}

/// A nonce's length in characters.
pub const NONCE_CHARS: core::ops::RangeInclusive<usize> = 8..=128;

/// The server's side of `PopKey::verify_request`.
pub struct Checks<'a> {
    pub now_ms: u64,
    /// How far a timestamp may be from now, either way.
    pub window_ms: u64,
    /// Where nonces are recorded, and the session they are recorded under;
    /// `None` when the caller records them (in a cache shared by instances).
    pub replay: Option<(&'a mut ReplayCache, &'a [u8])>,
}

/// `X-TS` as sent: 1–16 decimal digits without a leading zero, at most
/// 2^53 (a JavaScript-safe integer), so that the text is the one the
/// canonical request renders.
pub fn parse_timestamp(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 16 || (bytes[0] == b'0' && bytes.len() > 1) {
        return None;
    }
    let mut value = 0u64;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(b - b'0');
    }
    (value <= 1 << 53).then_some(value)
}

/// What a signature covers.
pub struct Request<'a> {
    pub method: &'a str,
    /// The request target as sent: path, and `?query` if any.
    pub target: &'a str,
    pub timestamp_ms: u64,
    pub nonce: &'a [u8],
    pub body: &'a [u8],
}

/// `path?query` with the `&`-separated query parameters sorted bytewise and
/// empty ones dropped, so a proxy that reorders parameters does not break
/// the signature. Percent-encoding is left as sent.
pub fn canonical_target(target: &str) -> Cow<'_, str> {
    let Some((path, query)) = target.split_once('?') else {
        return Cow::Borrowed(target);
    };
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if params.is_empty() {
        return Cow::Borrowed(path);
    }
    params.sort_unstable();
    Cow::Owned(format!("{path}?{}", params.join("&")))
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
        let target = canonical_target(self.target);
        let mut digits = [0u8; 20];
        let timestamp = decimal(self.timestamp_ms, &mut digits);
        let body_hash = Sha256::digest(self.body);
        let fields: [&[u8]; 6] = [
            DOMAIN,
            method.as_bytes(),
            target.as_bytes(),
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

    #[test]
    fn sign_and_verify() {
        let key = PopKey::derive(&[7; 64], b"session-1").unwrap();
        let tag = key.sign(&request("/api/transfer?b=2&a=1", b"{}"));
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

    #[test]
    fn canonical_form() {
        assert_eq!(canonical_target("/x"), "/x");
        assert_eq!(canonical_target("/x?"), "/x");
        assert_eq!(canonical_target("/x?b=1&&a=2"), "/x?a=2&b=1");
        let bytes = request("/p", b"").canonical();
        assert_eq!(&bytes[..8], &6u64.to_be_bytes());
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
        assert!(matches!(canonical_target("/a?"), Cow::Borrowed("/a")));
    }

    #[test]
    fn verify_request_checks_time_then_nonce_then_mac() {
        let key = PopKey::derive(&[7; 64], b"session-1").unwrap();
        let mut cache = ReplayCache::new(100);
        let req = request("/p", b"{}");
        let tag = key.sign(&req);
        let sent = req.timestamp_ms;
        let mut check = |tag: &[u8], scope: &[u8], now: u64| {
            let checks = Checks {
                now_ms: now,
                window_ms: 30_000,
                replay: Some((&mut cache, scope)),
            };
            key.verify_request(&req, tag, checks)
        };
        // Stale either way, and nothing recorded: the same request passes in time.
        assert_eq!(check(&tag, b"s1", sent + 30_001), Err(Error::Stale));
        assert_eq!(check(&tag, b"s1", sent - 30_001), Err(Error::Stale));
        // A wrong MAC still spends the nonce: the genuine request after it is a replay.
        assert_eq!(check(&[0; 32], b"s1", sent), Err(Error::BadMac));
        assert_eq!(check(&tag, b"s1", sent + 1), Err(Error::Replay));
        // Nonces are per session.
        assert_eq!(check(&tag, b"s2", sent - 30_000), Ok(()));
        assert_eq!(check(&tag, b"s2", sent + 29_999), Err(Error::Replay));
        // Without a cache only time, form and MAC are checked.
        let alone = |nonce: &[u8]| {
            let req = Request {
                nonce,
                ..request("/p", b"{}")
            };
            let checks = Checks {
                now_ms: sent,
                window_ms: 1,
                replay: None,
            };
            key.verify_request(&req, &key.sign(&req), checks)
        };
        assert_eq!(alone(b"nonce-1"), Err(Error::BadNonce));
        assert_eq!(alone(b"nonce-12"), Ok(()));
        assert_eq!(alone(b"nonce-12\n"), Err(Error::BadNonce));
        assert_eq!(alone(&[b'n'; 129]), Err(Error::BadNonce));
        assert_eq!(alone("é".repeat(128).as_bytes()), Ok(()));
    }

    #[test]
    fn timestamps_parse_only_in_their_canonical_form() {
        for (text, value) in [("0", Some(0)), ("1700000000000", Some(1_700_000_000_000))] {
            assert_eq!(parse_timestamp(text), value);
        }
        assert_eq!(parse_timestamp("9007199254740992"), Some(1 << 53));
        for bad in [
            "",
            "01",
            "+1",
            "-1",
            "1.0",
            " 1",
            "1e3",
            "9007199254740993",
            "12345678901234567",
            "١",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
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
            .chain_update(INFO)
            .chain_update([1u8])
            .finalize()
            .into_bytes();
        assert_eq!(&key.expose()[..], &okm[..]);
    }
}
