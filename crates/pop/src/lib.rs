//! Proof-of-possession for HTTP requests (DESIGN §2).
//!
//! After an OPAQUE login both sides hold the session key. Each derives
//! `popKey = HKDF-SHA256(ikm = sessionKey, salt = sessionId, info = "keyward pop v1")`
//! and every protected request carries `HMAC-SHA256(popKey, canonical request)`.
//! The canonical request (docs/pop.md) is a length-prefixed list of:
//! the method in upper case, the path with its query parameters sorted, the
//! timestamp in milliseconds (decimal), the nonce, and SHA-256 of the body.
//! Timestamps, nonces and sessions are checked by the caller (they need
//! clocks and shared stores); this crate owns the bytes and the MAC.
#![forbid(unsafe_code)]

use core::fmt;

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
    /// An input of the wrong length or form.
    InvalidArgument(String),
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadMac => "ERR_POP_BAD_MAC",
            Error::InvalidArgument(_) => "ERR_INVALID_ARG_VALUE",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadMac => f.write_str("the request signature does not match"),
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
pub fn canonical_target(target: &str) -> String {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, query),
        None => (target, ""),
    };
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if params.is_empty() {
        return path.to_owned();
    }
    params.sort_unstable();
    format!("{path}?{}", params.join("&"))
}

impl Request<'_> {
    /// Feeds the canonical encoding to `sink`, part by part, with no copy of the body.
    fn canonical_into(&self, mut sink: impl FnMut(&[u8])) {
        let method = self.method.to_ascii_uppercase();
        let target = canonical_target(self.target);
        let timestamp = self.timestamp_ms.to_string();
        let body_hash = Sha256::digest(self.body);
        let fields: [&[u8]; 6] = [
            DOMAIN,
            method.as_bytes(),
            target.as_bytes(),
            timestamp.as_bytes(),
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
            nonce: b"nonce-1",
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
