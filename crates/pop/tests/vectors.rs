//! docs/pop-vectors.json: test vectors made by this crate for both request
//! forms (the `X-TS`/`X-NONCE`/`X-POP` headers and the RFC 9421 profile),
//! which the Node client, the web client and the server's verifier all run.
//! This test fails when the file is not what the core makes now;
//! `KEYWARD_UPDATE_VECTORS=1 cargo test -p keyward-pop --test vectors`
//! writes it.

use std::path::PathBuf;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use keyward_pop::rfc9421::{self, Message, Received, SignParams, Target};
use keyward_pop::{Checks, Error, PopKey, Request};
use serde_json::{json, Value};

const SESSION_ID: &str = "kw-vector-session-0001";
const ORIGIN: &str = "https://api.example.com";
const NOW_MS: u64 = 1_767_225_600_000;
const WINDOW_MS: u64 = 30_000;

fn session_key() -> Vec<u8> {
    (0u8..64).collect()
}

fn key() -> PopKey {
    PopKey::derive(&session_key(), SESSION_ID.as_bytes()).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct Case {
    name: &'static str,
    method: &'static str,
    target: &'static str,
    body: &'static [u8],
    nonce: &'static str,
    /// ms before `NOW_MS` the request was made.
    age_ms: u64,
    form: Target,
}

const CASES: [Case; 4] = [
    Case {
        name: "get with a query",
        method: "GET",
        target: "/v1/items?limit=10&to=alice&to=bob",
        body: b"",
        nonce: "vector-nonce-0001",
        age_ms: 1_500,
        form: Target::Uri,
    },
    Case {
        name: "post json",
        method: "POST",
        target: "/v1/transfer",
        body: b"{\"to\":\"alice\",\"amount\":12.5}",
        nonce: "vector-nonce-0002",
        age_ms: 0,
        form: Target::Uri,
    },
    Case {
        name: "put bytes, path and query",
        method: "PUT",
        target: "/v1/blobs/7?replace",
        body: &[0, 1, 2, 0xfe, 0xff],
        nonce: "vector-nonce-0003",
        age_ms: 20_000,
        form: Target::PathAndQuery,
    },
    Case {
        name: "delete without a query, path and query",
        method: "DELETE",
        target: "/v1/items/42",
        body: b"",
        nonce: "vector-nonce-0004",
        age_ms: 999,
        form: Target::PathAndQuery,
    },
];

fn checks() -> Checks<'static> {
    Checks {
        now_ms: NOW_MS,
        window_ms: WINDOW_MS,
        replay: None,
    }
}

fn case(c: &Case) -> Value {
    let k = key();
    let timestamp_ms = NOW_MS - c.age_ms;
    let request = Request {
        method: c.method,
        target: c.target,
        timestamp_ms,
        nonce: c.nonce.as_bytes(),
        body: c.body,
    };
    let mac = k.sign(&request).unwrap();
    k.verify_request(&request, &mac, checks()).unwrap();
    let message = Message {
        method: c.method,
        origin: ORIGIN,
        target: c.target,
        body: c.body,
    };
    let created_s = timestamp_ms / 1000;
    let params = SignParams {
        key_id: SESSION_ID,
        created_s,
        nonce: c.nonce,
        target: c.form,
    };
    let signed = k.sign_rfc9421(&message, &params).unwrap();
    let received = Received {
        signature_input: Some(&signed.signature_input),
        signature: Some(&signed.signature),
        content_digest: signed.content_digest.as_deref(),
    };
    k.verify_rfc9421(&message, &received, SESSION_ID, checks())
        .unwrap();
    let mut rfc = json!({
        "created": created_s,
        "components": match c.form { Target::Uri => "target-uri", Target::PathAndQuery => "path-query" },
        "signatureBase": rfc9421::signature_base(&message, &received).unwrap(),
        "headers": {
            "signature-input": signed.signature_input,
            "signature": signed.signature,
        },
    });
    if let Some(digest) = &signed.content_digest {
        rfc["headers"]["content-digest"] = json!(digest);
    }
    json!({
        "name": c.name,
        "request": {
            "method": c.method,
            "origin": ORIGIN,
            "target": c.target,
            "bodyBase64": STANDARD.encode(c.body),
            "nonce": c.nonce,
        },
        "keyward": {
            "timestamp": timestamp_ms,
            "headers": {
                "x-ts": timestamp_ms.to_string(),
                "x-nonce": c.nonce,
                "x-pop": URL_SAFE_NO_PAD.encode(mac),
            },
        },
        "rfc9421": rfc,
    })
}

/// Requests each verifier must refuse, with the code it refuses them with.
fn refusals() -> Vec<Value> {
    let k = key();
    let sign = |target: &str, body: &[u8], nonce: &str, created_s: u64| {
        let message = Message {
            method: "POST",
            origin: ORIGIN,
            target,
            body,
        };
        let params = SignParams {
            key_id: SESSION_ID,
            created_s,
            nonce,
            target: Target::Uri,
        };
        k.sign_rfc9421(&message, &params).unwrap()
    };
    let now_s = NOW_MS / 1000;
    let mut out = Vec::new();
    let mut push = |name: &str,
                    target: &str,
                    body: &[u8],
                    signed: &rfc9421::Signed,
                    error: Error| {
        let received = Received {
            signature_input: Some(&signed.signature_input),
            signature: Some(&signed.signature),
            content_digest: signed.content_digest.as_deref(),
        };
        let message = Message {
            method: "POST",
            origin: ORIGIN,
            target,
            body,
        };
        let got = k.verify_rfc9421(&message, &received, SESSION_ID, checks());
        assert_eq!(
            got.as_ref().err().map(Error::code),
            Some(error.code()),
            "{name}"
        );
        let mut headers = json!({
            "signature-input": signed.signature_input,
            "signature": signed.signature,
        });
        if let Some(digest) = &signed.content_digest {
            headers["content-digest"] = json!(digest);
        }
        out.push(json!({
            "name": name,
            "request": { "method": "POST", "origin": ORIGIN, "target": target, "bodyBase64": STANDARD.encode(body) },
            "headers": headers,
            "code": error.code(),
        }));
    };
    let signed = sign("/v1/pay?to=alice", b"", "vector-nonce-0101", now_s);
    push(
        "query changed",
        "/v1/pay?to=mallory",
        b"",
        &signed,
        Error::BadMac,
    );
    push(
        "body added to a request signed without one",
        "/v1/pay?to=alice",
        b"{}",
        &signed,
        Error::Profile("a request with a body must cover content-digest"),
    );
    let signed = sign("/v1/pay", b"{\"amount\":1}", "vector-nonce-0102", now_s);
    push(
        "body changed",
        "/v1/pay",
        b"{\"amount\":9}",
        &signed,
        Error::BadMac,
    );
    let signed = sign("/v1/pay", b"", "vector-nonce-0103", now_s - 31);
    push(
        "created outside the window",
        "/v1/pay",
        b"",
        &signed,
        Error::Stale,
    );
    let mut other = sign("/v1/pay", b"", "vector-nonce-0104", now_s);
    other.signature_input = other.signature_input.replace(
        &format!("keyid=\"{SESSION_ID}\""),
        "keyid=\"another-session\"",
    );
    push(
        "keyid of another session",
        "/v1/pay",
        b"",
        &other,
        Error::KeyId,
    );
    out
}

fn vectors() -> String {
    let k = key();
    let doc = json!({
        "description": "keyward PoP test vectors (docs/pop.md), made by crates/pop/tests/vectors.rs: \
            KEYWARD_UPDATE_VECTORS=1 cargo test -p keyward-pop --test vectors",
        "sessionKeyHex": hex(&session_key()),
        "sessionId": SESSION_ID,
        "popKeyHex": hex(k.expose()),
        "nowMs": NOW_MS,
        "windowMs": WINDOW_MS,
        "cases": CASES.iter().map(case).collect::<Vec<_>>(),
        "refusals": refusals(),
    });
    serde_json::to_string_pretty(&doc).unwrap() + "\n"
}

#[test]
fn docs_pop_vectors_json_is_what_the_core_makes() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/pop-vectors.json");
    let made = vectors();
    if std::env::var_os("KEYWARD_UPDATE_VECTORS").is_some() {
        std::fs::write(&path, &made).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == made,
        "docs/pop-vectors.json is out of date: KEYWARD_UPDATE_VECTORS=1 cargo test -p keyward-pop --test vectors"
    );
}
