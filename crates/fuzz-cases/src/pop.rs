//! Proof-of-possession requests as a server receives them: the header
//! texts (`Authorization`, `X-TS`, `X-NONCE`, `X-POP`) and the request they
//! sign, through the same checks as the HTTP adapters.
//!
//! Input: `authorization \n method \n target \n x-ts \n x-nonce \n x-pop \n body`.

use std::sync::Mutex;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use keyward_pop::{parse_bearer, parse_mac, parse_timestamp, Checks, PopKey, ReplayCache, Request};

use crate::{fixtures, seed, split, Outcome};

const WINDOW_MS: u64 = 60_000;

fn text(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

fn key() -> PopKey {
    PopKey::from_bytes(&fixtures::key(5)).expect("a 32-byte key")
}

/// Selector bit 0: verify twice against one replay cache (the second must
/// be refused when the first passed).
pub fn run(data: &[u8]) -> Outcome {
    let Some((selector, bytes)) = split(data) else {
        return Outcome::Refused;
    };
    let mut fields = bytes.splitn(7, |b| *b == b'\n');
    let mut next = || fields.next().unwrap_or_default();
    let (authorization, method, target, ts, nonce, mac, body) =
        (next(), next(), next(), next(), next(), next(), next());
    let (Some(authorization), Some(method), Some(target), Some(ts), Some(mac)) = (
        text(authorization),
        text(method),
        text(target),
        text(ts),
        text(mac),
    ) else {
        return Outcome::Refused;
    };
    let (Some(_bearer), Some(timestamp_ms), Some(tag)) = (
        parse_bearer(authorization),
        parse_timestamp(ts),
        parse_mac(mac),
    ) else {
        return Outcome::Refused;
    };
    let request = Request {
        method,
        target,
        timestamp_ms,
        nonce,
        body,
    };
    let cache = Mutex::new(ReplayCache::new(16));
    let checks = || Checks {
        now_ms: fixtures::NOW_MS,
        window_ms: WINDOW_MS,
        replay: Some((&cache, b"session")),
    };
    let first = key().verify_request(&request, &tag, checks());
    if selector & 1 != 0 && first.is_ok() {
        assert!(
            key().verify_request(&request, &tag, checks()).is_err(),
            "a nonce passes once"
        );
    }
    first.into()
}

pub fn seeds() -> Vec<Vec<u8>> {
    let requests: [(&str, &str, &[u8]); 3] = [
        ("GET", "/v1/items?limit=10", b""),
        ("post", "/v1/items", b"{\"name\":\"x\"}"),
        ("PUT", "/", &[0, 1, 2, 255]),
    ];
    requests
        .iter()
        .enumerate()
        .map(|(i, (method, target, body))| {
            let nonce = format!("nonce-{i:04}-abcdef");
            let request = Request {
                method,
                target,
                timestamp_ms: fixtures::NOW_MS - 1000,
                nonce: nonce.as_bytes(),
                body,
            };
            let mac = URL_SAFE_NO_PAD.encode(key().sign(&request).unwrap());
            let mut text = format!(
                "Bearer tok{i}\n{method}\n{target}\n{}\n{nonce}\n{mac}\n",
                request.timestamp_ms
            )
            .into_bytes();
            text.extend_from_slice(body);
            seed(i as u8, &text)
        })
        .collect()
}
