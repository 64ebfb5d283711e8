//! A request's header fields joined into one string, the form a binding
//! passes them in: each string that crosses from JavaScript costs a
//! conversion, so one string instead of six keeps a verification within a
//! few microseconds.

use std::sync::Mutex;

use crate::headers::{parse_mac, parse_timestamp};
use crate::{Checks, Error, PopKey, ReplayCache, Request, MAC_LEN};

/// The fields of `split_joined`, parsed.
pub struct Joined<'a> {
    /// The session the nonce is recorded under (the replay cache's scope).
    pub scope: &'a str,
    pub request: Request<'a>,
    mac: Option<[u8; MAC_LEN]>,
}

impl Joined<'_> {
    /// The MAC; text that is not a MAC gives an empty tag, which never matches.
    pub fn tag(&self) -> &[u8] {
        self.mac.as_ref().map_or(&[][..], |t| &t[..])
    }
}

/// Session id, method, target, `X-TS`, `X-POP` and `X-NONCE` joined by `\n`,
/// with the body. The nonce is the rest of the string and may not hold a
/// line break: a line break in any field leaves one in the nonce, so no
/// field can pass for another. Fewer than six fields is `BadMac`; a
/// timestamp that does not parse is `Stale`, as `verify_request` would call it.
pub fn split_joined<'a>(joined: &'a str, body: &'a [u8]) -> Result<Joined<'a>, Error> {
    let mut split = joined.splitn(6, '\n');
    let mut next = || split.next();
    let (Some(scope), Some(method), Some(target), Some(ts), Some(mac), Some(nonce)) =
        (next(), next(), next(), next(), next(), next())
    else {
        return Err(Error::BadMac);
    };
    let timestamp_ms = parse_timestamp(ts).ok_or(Error::Stale)?;
    let request = Request {
        method,
        target,
        timestamp_ms,
        nonce: nonce.as_bytes(),
        body,
    };
    Ok(Joined {
        scope,
        request,
        mac: parse_mac(mac),
    })
}

impl PopKey {
    /// `verify_request` on the fields as one string (see [`split_joined`]),
    /// a binding's hot path: with `cache`, the nonce is recorded under the
    /// fields' own scope (the session); without, the caller records it.
    pub fn verify_joined(
        &self,
        joined: &str,
        body: &[u8],
        now_ms: u64,
        window_ms: u64,
        cache: Option<&Mutex<ReplayCache>>,
    ) -> Result<(), Error> {
        let joined = split_joined(joined, body)?;
        let replay = cache.map(|c| (c, joined.scope.as_bytes()));
        let checks = Checks {
            now_ms,
            window_ms,
            replay,
        };
        self.verify_request(&joined.request, joined.tag(), checks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    #[test]
    fn six_fields_verify_like_the_request_they_name() {
        let key = PopKey::derive(&[7; 64], b"session").unwrap();
        let nonce = "n".repeat(22);
        let request = Request {
            method: "POST",
            target: "/x?y=1",
            timestamp_ms: 1_000,
            nonce: nonce.as_bytes(),
            body: b"{}",
        };
        let mac = URL_SAFE_NO_PAD.encode(key.sign(&request).unwrap());
        let joined = format!("session\nPOST\n/x?y=1\n1000\n{mac}\n{nonce}");
        let parsed = split_joined(&joined, b"{}").unwrap();
        assert_eq!(parsed.scope, "session");
        let checks = || Checks {
            now_ms: 1_000,
            window_ms: 10,
            replay: None,
        };
        assert_eq!(
            key.verify_request(&parsed.request, parsed.tag(), checks()),
            Ok(())
        );
        let other_body = split_joined(&joined, b"[]").unwrap();
        assert_eq!(
            key.verify_request(&other_body.request, other_body.tag(), checks()),
            Err(Error::BadMac)
        );
    }

    #[test]
    fn short_or_malformed_fields_fail_as_the_checks_would() {
        assert!(matches!(
            split_joined("s\nGET\n/\n1000\nmac", b""),
            Err(Error::BadMac)
        ));
        assert!(matches!(
            split_joined("s\nGET\n/\nsoon\nmac\nnonce", b""),
            Err(Error::Stale)
        ));
        let not_a_mac = split_joined("s\nGET\n/\n1000\n!!\nnonce", b"").unwrap();
        assert!(not_a_mac.tag().is_empty());
        // A line break in a field leaves one in the nonce.
        let shifted = split_joined("s\nGET\n/a\nb\n1000\nmac\nnonce", b"");
        assert!(matches!(shifted, Err(Error::Stale)));
        let extra = split_joined("s\nGET\n/\n1000\nmac\nnon\nce", b"").unwrap();
        assert_eq!(extra.request.nonce, b"non\nce");
    }

    #[test]
    fn joined_fields_verify_and_their_nonce_is_recorded_under_their_scope() {
        let key = PopKey::derive(&[7; 64], b"session").unwrap();
        let nonce = "n".repeat(22);
        let request = Request {
            method: "POST",
            target: "/x",
            timestamp_ms: 1_000,
            nonce: nonce.as_bytes(),
            body: b"{}",
        };
        let mac = URL_SAFE_NO_PAD.encode(key.sign(&request).unwrap());
        let joined = |scope: &str| format!("{scope}\nPOST\n/x\n1000\n{mac}\n{nonce}");
        let cache = Mutex::new(ReplayCache::new(10));
        let verify = |j: &str, body: &[u8]| key.verify_joined(j, body, 1_000, 10, Some(&cache));
        assert_eq!(verify(&joined("a"), b"{}"), Ok(()));
        assert_eq!(verify(&joined("a"), b"{}"), Err(Error::Replay));
        // Another scope is another session's nonces.
        assert_eq!(verify(&joined("b"), b"{}"), Ok(()));
        assert_eq!(verify(&joined("c"), b"[]"), Err(Error::BadMac));
        assert_eq!(verify("c\nPOST\n/x", b"{}"), Err(Error::BadMac));
        assert_eq!(
            verify(&joined("c").replace("1000", "later"), b"{}"),
            Err(Error::Stale)
        );
        // Without a cache nothing is recorded.
        let unrecorded = || key.verify_joined(&joined("d"), b"{}", 1_000, 10, None);
        assert_eq!(unrecorded(), Ok(()));
        assert_eq!(unrecorded(), Ok(()));
    }
}
