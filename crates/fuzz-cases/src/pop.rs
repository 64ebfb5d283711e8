//! Proof-of-possession requests as a server receives them: the header
//! texts (`Authorization`, `X-TS`, `X-NONCE`, `X-POP`) and the request they
//! sign, through the same checks as the HTTP adapters.
//!
//! Input: `authorization \n method \n target \n x-ts \n x-nonce \n x-pop \n body`.
//!
//! With selector bit 7, the RFC 9421 form (`keyward_pop::rfc9421`) instead:
//! `signature-input \n signature \n content-digest \n method \n target \n body`,
//! an empty content-digest line meaning no such field.

use std::sync::Mutex;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use keyward_pop::rfc9421::{self, Message, Received, SignParams};
use keyward_pop::{parse_bearer, parse_mac, parse_timestamp, Checks, PopKey, ReplayCache, Request};

use crate::{fixtures, seed, split, Outcome};

const WINDOW_MS: u64 = 60_000;

fn text(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

fn key() -> PopKey {
    PopKey::from_bytes(&fixtures::key(5)).expect("a 32-byte key")
}

/// The session the RFC 9421 seeds name in `keyid`.
const SESSION: &str = "session";
const ORIGIN: &str = "https://api.example.com";
/// Selects the RFC 9421 form.
const RFC9421: u8 = 0x80;

/// Selector bit 0: verify twice against one replay cache (the second must
/// be refused when the first passed). Bit 7: the RFC 9421 form.
pub fn run(data: &[u8]) -> Outcome {
    let Some((selector, bytes)) = split(data) else {
        return Outcome::Refused;
    };
    if selector & RFC9421 != 0 {
        return rfc9421_form(selector, bytes);
    }
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

fn rfc9421_form(selector: u8, bytes: &[u8]) -> Outcome {
    let mut fields = bytes.splitn(6, |b| *b == b'\n');
    let mut next = || fields.next().unwrap_or_default();
    let (input, signature, digest, method, target, body) =
        (next(), next(), next(), next(), next(), next());
    let (Some(input), Some(signature), Some(digest), Some(method), Some(target)) = (
        text(input),
        text(signature),
        text(digest),
        text(method),
        text(target),
    ) else {
        return Outcome::Refused;
    };
    let message = Message {
        method,
        origin: ORIGIN,
        target,
        body,
    };
    let received = Received {
        signature_input: Some(input),
        signature: Some(signature),
        content_digest: (!digest.is_empty()).then_some(digest),
    };
    let cache = Mutex::new(ReplayCache::new(16));
    let checks = || Checks {
        now_ms: fixtures::NOW_MS,
        window_ms: WINDOW_MS,
        replay: Some((&cache, SESSION.as_bytes())),
    };
    let first = key().verify_rfc9421(&message, &received, SESSION, checks());
    if selector & 1 != 0 && first.is_ok() {
        assert!(
            key()
                .verify_rfc9421(&message, &received, SESSION, checks())
                .is_err(),
            "a nonce passes once"
        );
    }
    first.into()
}

/// Requests signed in the RFC 9421 form, in both target forms.
fn rfc9421_seeds() -> Vec<Vec<u8>> {
    let requests: [(&str, &str, &[u8], rfc9421::Target); 3] = [
        ("GET", "/v1/items?limit=10", b"", rfc9421::Target::Uri),
        (
            "POST",
            "/v1/items",
            b"{\"name\":\"x\"}",
            rfc9421::Target::PathAndQuery,
        ),
        ("PUT", "/", &[0, 1, 2, 255], rfc9421::Target::Uri),
    ];
    requests
        .iter()
        .enumerate()
        .map(|(i, (method, target, body, form))| {
            let nonce = format!("rfc9421-{i:04}-abcdef");
            let message = Message {
                method,
                origin: ORIGIN,
                target,
                body,
            };
            let params = SignParams {
                key_id: SESSION,
                created_s: fixtures::NOW_MS / 1000 - 1,
                nonce: &nonce,
                target: *form,
            };
            let signed = key().sign_rfc9421(&message, &params).unwrap();
            let mut text = format!(
                "{}\n{}\n{}\n{method}\n{target}\n",
                signed.signature_input,
                signed.signature,
                signed.content_digest.unwrap_or_default()
            )
            .into_bytes();
            text.extend_from_slice(body);
            seed(RFC9421 | i as u8, &text)
        })
        .collect()
}

pub fn seeds() -> Vec<Vec<u8>> {
    let mut all = header_seeds();
    all.extend(rfc9421_seeds());
    all
}

fn header_seeds() -> Vec<Vec<u8>> {
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
