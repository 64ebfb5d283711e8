//! Round-trip properties of the PoP headers (issue 13): the `X-TS`,
//! `X-NONCE` and `X-POP` texts a signer writes parse back to what was signed
//! and verify, and a change of any single byte of them, or of the method,
//! target or body they sign, is refused. One change is not a change: the
//! method is compared upper-cased (RFC 9110 methods are case-sensitive, but
//! keyward signs them canonically), so `get` signs as `GET` (asserted).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keyward_pop::{parse_mac, parse_timestamp, valid_nonce, PopKey, Request, MAX_TIMESTAMP_MS};
use proptest::prelude::*;

/// The three header texts of a signed request.
struct Headers {
    ts: String,
    nonce: Vec<u8>,
    pop: String,
}

/// Parses the headers and verifies them over `method`, `target` and `body`.
fn accepted(key: &PopKey, h: &Headers, method: &[u8], target: &[u8], body: &[u8]) -> bool {
    let (Ok(method), Ok(target), Ok(ts)) = (
        std::str::from_utf8(method),
        std::str::from_utf8(target),
        std::str::from_utf8(h.ts.as_bytes()),
    ) else {
        return false;
    };
    let (Some(timestamp_ms), Some(tag)) = (parse_timestamp(ts), parse_mac(&h.pop)) else {
        return false;
    };
    if !valid_nonce(&h.nonce) {
        return false;
    }
    let request = Request {
        method,
        target,
        timestamp_ms,
        nonce: &h.nonce,
        body,
    };
    key.verify(&request, &tag).is_ok()
}

fn flipped(bytes: &[u8], i: usize, delta: u8) -> Vec<u8> {
    let mut changed = bytes.to_vec();
    changed[i] ^= delta;
    changed
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn pop_headers(key in any::<[u8; 32]>(), method in "[A-Z]{3,7}", target in "/[a-z0-9/?=&]{0,30}",
                   timestamp_ms in 0..=MAX_TIMESTAMP_MS, nonce in "[!-~]{8,40}",
                   body in proptest::collection::vec(any::<u8>(), 0..64), delta in 1u8..0x80) {
        let key = PopKey::from_bytes(&key).unwrap();
        let request = Request { method: &method, target: &target, timestamp_ms, nonce: nonce.as_bytes(), body: &body };
        let tag = key.sign(&request).unwrap();
        let headers = Headers { ts: timestamp_ms.to_string(), nonce: nonce.clone().into_bytes(), pop: URL_SAFE_NO_PAD.encode(tag) };
        prop_assert_eq!(parse_timestamp(&headers.ts), Some(timestamp_ms));
        prop_assert_eq!(parse_mac(&headers.pop), Some(tag));
        prop_assert!(accepted(&key, &headers, method.as_bytes(), target.as_bytes(), &body));

        // Header texts (ASCII changes only: they arrive as header text).
        for i in 0..headers.ts.len() {
            let ts = String::from_utf8(flipped(headers.ts.as_bytes(), i, delta)).unwrap();
            let h = Headers { ts, ..clone(&headers) };
            prop_assert!(!accepted(&key, &h, method.as_bytes(), target.as_bytes(), &body));
        }
        for i in 0..headers.nonce.len() {
            let h = Headers { nonce: flipped(&headers.nonce, i, delta), ..clone(&headers) };
            prop_assert!(!accepted(&key, &h, method.as_bytes(), target.as_bytes(), &body));
        }
        for i in 0..headers.pop.len() {
            let pop = String::from_utf8(flipped(headers.pop.as_bytes(), i, delta)).unwrap();
            let h = Headers { pop, ..clone(&headers) };
            prop_assert!(!accepted(&key, &h, method.as_bytes(), target.as_bytes(), &body));
        }
        // What the headers sign.
        for i in 0..method.len() {
            let changed = flipped(method.as_bytes(), i, delta);
            let same = changed.to_ascii_uppercase() == method.as_bytes();
            prop_assert_eq!(accepted(&key, &headers, &changed, target.as_bytes(), &body), same);
        }
        for i in 0..target.len() {
            prop_assert!(!accepted(&key, &headers, method.as_bytes(), &flipped(target.as_bytes(), i, delta), &body));
        }
        for i in 0..body.len() {
            prop_assert!(!accepted(&key, &headers, method.as_bytes(), target.as_bytes(), &flipped(&body, i, delta)));
        }
    }
}

fn clone(h: &Headers) -> Headers {
    Headers {
        ts: h.ts.clone(),
        nonce: h.nonce.clone(),
        pop: h.pop.clone(),
    }
}
