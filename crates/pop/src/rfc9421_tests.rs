//! Every refusal of the RFC 9421 profile, and the round trips it allows.

use std::sync::Mutex;

use super::*;
use crate::ReplayCache;

const NOW_MS: u64 = 1_700_000_000_000;
const SESSION: &str = "session-1";
const NONCE: &str = "nonce-0001";

fn key() -> PopKey {
    PopKey::derive(&[7; 64], SESSION.as_bytes()).unwrap()
}

fn message<'a>(target: &'a str, body: &'a [u8]) -> Message<'a> {
    Message {
        method: "POST",
        origin: "https://api.example.com",
        target,
        body,
    }
}

fn params(target: Target) -> SignParams<'static> {
    SignParams {
        key_id: SESSION,
        created_s: NOW_MS / 1000,
        nonce: NONCE,
        target,
    }
}

fn checks() -> Checks<'static> {
    Checks {
        now_ms: NOW_MS,
        window_ms: 30_000,
        replay: None,
    }
}

fn received(signed: &Signed) -> Received<'_> {
    Received {
        signature_input: Some(&signed.signature_input),
        signature: Some(&signed.signature),
        content_digest: signed.content_digest.as_deref(),
    }
}

fn verify(message: &Message<'_>, received: &Received<'_>) -> Result<(), Error> {
    key().verify_rfc9421(message, received, SESSION, checks())
}

/// Verifies `message` with `signed`, its Signature-Input replaced by `input`.
fn with_input(input: &str, message: &Message<'_>, signed: &Signed) -> Result<(), Error> {
    let received = Received {
        signature_input: Some(input),
        ..received(signed)
    };
    verify(message, &received)
}

#[test]
fn signed_requests_verify_in_both_target_forms_with_and_without_a_body() {
    for target in [Target::Uri, Target::PathAndQuery] {
        for body in [&b""[..], b"{\"amount\":1}"] {
            let m = message("/pay?to=alice", body);
            let signed = key().sign_rfc9421(&m, &params(target)).unwrap();
            assert_eq!(signed.content_digest.is_some(), !body.is_empty());
            assert_eq!(verify(&m, &received(&signed)), Ok(()), "{target:?}");
        }
    }
}

#[test]
fn the_fields_have_the_documented_form() {
    let m = message("/pay?to=alice", b"{}");
    let signed = key().sign_rfc9421(&m, &params(Target::Uri)).unwrap();
    assert_eq!(
        signed.signature_input,
        "pop=(\"@method\" \"@target-uri\" \"content-digest\");created=1700000000;\
         keyid=\"session-1\";nonce=\"nonce-0001\";alg=\"hmac-sha256\""
    );
    assert_eq!(
        signed.content_digest.as_deref(),
        Some("sha-256=:RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=:")
    );
    let base = signature_base(&m, &received(&signed)).unwrap();
    assert_eq!(
        base,
        "\"@method\": POST\n\
         \"@target-uri\": https://api.example.com/pay?to=alice\n\
         \"content-digest\": sha-256=:RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=:\n\
         \"@signature-params\": (\"@method\" \"@target-uri\" \"content-digest\");created=1700000000;\
         keyid=\"session-1\";nonce=\"nonce-0001\";alg=\"hmac-sha256\""
    );
    // The MAC is HMAC-SHA256 of the base under the PoP key: an independent computation agrees.
    let tag = <Hmac<Sha256> as Mac>::new_from_slice(key().expose())
        .unwrap()
        .chain_update(base.as_bytes())
        .finalize()
        .into_bytes();
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD.encode(tag);
    assert_eq!(signed.signature, format!("pop=:{expected}:"));
}

#[test]
fn path_and_query_follow_rfc_9421() {
    assert_eq!(path_and_query("/a/b?x=1&y"), ("/a/b", "?x=1&y"));
    assert_eq!(path_and_query("/a"), ("/a", "?"));
    assert_eq!(path_and_query("/a?"), ("/a", "?"));
    assert_eq!(path_and_query("?x"), ("/", "?x"));
}

#[test]
fn any_change_to_a_covered_part_is_a_bad_mac() {
    let k = key();
    for target in [Target::Uri, Target::PathAndQuery] {
        let m = message("/pay?to=alice&amount=1", b"{\"a\":1}");
        let signed = k.sign_rfc9421(&m, &params(target)).unwrap();
        let r = received(&signed);
        let changed = [
            Message {
                method: "PUT",
                ..message("/pay?to=alice&amount=1", b"{\"a\":1}")
            },
            message("/pay?to=mallory&amount=1", b"{\"a\":1}"),
            message("/pay?amount=1&to=alice", b"{\"a\":1}"),
            message("/PAY?to=alice&amount=1", b"{\"a\":1}"),
        ];
        for other in &changed {
            assert_eq!(verify(other, &r), Err(Error::BadMac), "{}", other.target);
        }
        // Another body, with its own honest Content-Digest: the digest is signed.
        let other_body = message("/pay?to=alice&amount=1", b"{\"a\":9}");
        let digest = content_digest(other_body.body);
        let swapped = Received {
            content_digest: Some(&digest),
            ..received(&signed)
        };
        assert_eq!(verify(&other_body, &swapped), Err(Error::BadMac));
        // The same digest with another body: the digest does not match.
        assert_eq!(verify(&other_body, &r), Err(Error::BadMac));
        // Another session's key.
        let other_key = PopKey::derive(&[7; 64], b"session-2").unwrap();
        assert_eq!(
            other_key.verify_rfc9421(&m, &r, SESSION, checks()),
            Err(Error::BadMac)
        );
    }
    // The origin is covered by @target-uri, and only by it.
    let m = message("/p", b"");
    let moved = Message {
        origin: "https://evil.example",
        ..message("/p", b"")
    };
    let by_uri = k.sign_rfc9421(&m, &params(Target::Uri)).unwrap();
    assert_eq!(verify(&moved, &received(&by_uri)), Err(Error::BadMac));
    let by_parts = k.sign_rfc9421(&m, &params(Target::PathAndQuery)).unwrap();
    assert_eq!(verify(&moved, &received(&by_parts)), Ok(()));
    // A tampered MAC.
    let forged = Received {
        signature: Some("pop=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:"),
        ..received(&by_uri)
    };
    assert_eq!(verify(&m, &forged), Err(Error::BadMac));
}

#[test]
fn a_body_must_be_covered() {
    let k = key();
    // Signed as a request without a body, then sent with one.
    let bare = k
        .sign_rfc9421(&message("/p", b""), &params(Target::Uri))
        .unwrap();
    assert_eq!(
        verify(&message("/p", b"{}"), &received(&bare)),
        Err(Error::Profile(
            "a request with a body must cover content-digest"
        ))
    );
    // Content-Digest covered but not sent.
    let with = k
        .sign_rfc9421(&message("/p", b"{}"), &params(Target::Uri))
        .unwrap();
    let no_digest = Received {
        content_digest: None,
        ..received(&with)
    };
    assert!(matches!(
        verify(&message("/p", b"{}"), &no_digest),
        Err(Error::Profile(_))
    ));
    // Covering content-digest without a body is allowed, but the digest is
    // then checked and signed like any other: another body's does not pass.
    let empty = content_digest(b"");
    let input = with.signature_input.clone();
    let r = Received {
        signature_input: Some(&input),
        signature: Some(&with.signature),
        content_digest: Some(&empty),
    };
    assert_eq!(verify(&message("/p", b""), &r), Err(Error::BadMac));
}

#[test]
fn malformed_or_foreign_content_digests_are_refused() {
    let m = message("/p", b"{}");
    let signed = key().sign_rfc9421(&m, &params(Target::Uri)).unwrap();
    for digest in [
        "sha-256=:not base64:",
        "sha-256=\"RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=\"",
        "sha-512=:RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=:",
        "sha-256=:RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=:;x=1",
        "sha-256=:RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=:, sha-512=:AA==:",
    ] {
        let r = Received {
            content_digest: Some(digest),
            ..received(&signed)
        };
        assert!(matches!(verify(&m, &r), Err(Error::Profile(_))), "{digest}");
    }
    // Whitespace around the field is not part of its value.
    let padded = format!(" {} ", signed.content_digest.as_deref().unwrap());
    let r = Received {
        content_digest: Some(&padded),
        ..received(&signed)
    };
    assert_eq!(verify(&m, &r), Ok(()));
}

#[test]
fn fields_that_are_missing_or_not_dictionaries_are_refused() {
    let m = message("/p", b"");
    let signed = key().sign_rfc9421(&m, &params(Target::Uri)).unwrap();
    let missing_input = Received {
        signature_input: None,
        ..received(&signed)
    };
    assert!(matches!(verify(&m, &missing_input), Err(Error::Profile(_))));
    let missing_sig = Received {
        signature: None,
        ..received(&signed)
    };
    assert!(matches!(verify(&m, &missing_sig), Err(Error::Profile(_))));
    for signature in [
        "pop=:AAAA",
        "pop=\"AAAA\"",
        "pop=:AAAA:;x=1",
        "other=:AAAA:",
        "pop=(:AAAA:)",
        "",
    ] {
        let r = Received {
            signature: Some(signature),
            ..received(&signed)
        };
        assert!(
            matches!(verify(&m, &r), Err(Error::Profile(_))),
            "{signature}"
        );
    }
    // A short MAC is a bad MAC.
    let short = Received {
        signature: Some("pop=:AAAA:"),
        ..received(&signed)
    };
    assert_eq!(verify(&m, &short), Err(Error::BadMac));
    let long = "a".repeat(MAX_FIELD_BYTES + 1);
    let r = Received {
        signature_input: Some(&long),
        ..received(&signed)
    };
    assert!(matches!(verify(&m, &r), Err(Error::Profile(_))));
}

/// Each Signature-Input that leaves the profile, whatever its MAC.
#[test]
fn signature_inputs_outside_the_profile_are_refused() {
    let m = message("/p?q", b"{}");
    let signed = key().sign_rfc9421(&m, &params(Target::Uri)).unwrap();
    let tail = ";created=1700000000;keyid=\"session-1\";nonce=\"nonce-0001\";alg=\"hmac-sha256\"";
    let all = "(\"@method\" \"@target-uri\" \"content-digest\")";
    let cases = [
        // Label and shape.
        format!("sig1={all}{tail}"),
        format!("pop={all}{tail}, sig1={all}{tail}"),
        "pop=\"@method\"".to_owned(),
        "pop=(\"@method\"".to_owned(),
        // Components.
        format!("pop=(\"@method\" \"@target-uri\"){tail}"),
        format!("pop=(\"@target-uri\" \"content-digest\"){tail}"),
        format!("pop=(\"@method\" \"content-digest\"){tail}"),
        format!("pop=(\"@method\" \"@path\" \"content-digest\"){tail}"),
        format!("pop=(\"@method\" \"@query\" \"content-digest\"){tail}"),
        format!("pop=(\"@method\" \"@target-uri\" \"@path\" \"@query\" \"content-digest\"){tail}"),
        format!("pop=(\"@method\" \"@method\" \"@target-uri\" \"content-digest\"){tail}"),
        format!("pop=(\"@method\" \"@target-uri\" \"content-digest\" \"authorization\"){tail}"),
        format!("pop=(\"@method\" \"@target-uri\" \"content-digest\";sf){tail}"),
        format!("pop=(\"@method\" \"@target-uri\" \"content-digest\";req){tail}"),
        format!("pop=(@method \"@target-uri\" \"content-digest\"){tail}"),
        format!("pop=(\"@METHOD\" \"@target-uri\" \"content-digest\"){tail}"),
        format!("pop=(\"@authority\" \"@method\" \"@target-uri\" \"content-digest\"){tail}"),
        // Parameters.
        format!("pop={all};created=1700000000;keyid=\"session-1\";nonce=\"nonce-0001\""),
        format!("pop={all};created=1700000000;keyid=\"session-1\";nonce=\"nonce-0001\";alg=\"hmac-sha512\""),
        format!("pop={all};created=1700000000;keyid=\"session-1\";nonce=\"nonce-0001\";alg=hmac-sha256"),
        format!("pop={all};keyid=\"session-1\";nonce=\"nonce-0001\";alg=\"hmac-sha256\""),
        format!("pop={all};created=1700000000;nonce=\"nonce-0001\";alg=\"hmac-sha256\""),
        format!("pop={all};created=1700000000;keyid=\"session-1\";alg=\"hmac-sha256\""),
        format!("pop={all};created=\"1700000000\";keyid=\"session-1\";nonce=\"nonce-0001\";alg=\"hmac-sha256\""),
        format!("pop={all};created=1700000000.0;keyid=\"session-1\";nonce=\"nonce-0001\";alg=\"hmac-sha256\""),
        format!("pop={all};created=1700000000;keyid=session-1;nonce=\"nonce-0001\";alg=\"hmac-sha256\""),
        format!("pop={all};created=1700000000;keyid=\"session-1\";nonce=:bm9uY2UtMDAwMQ==:;alg=\"hmac-sha256\""),
        format!("pop={all}{tail};expires=1700000060"),
        format!("pop={all}{tail};tag=\"x\""),
    ];
    for input in &cases {
        assert!(
            matches!(with_input(input, &m, &signed), Err(Error::Profile(_))),
            "{input}"
        );
    }
}

#[test]
fn the_keyid_must_be_the_session() {
    let m = message("/p", b"");
    let signed = key().sign_rfc9421(&m, &params(Target::Uri)).unwrap();
    assert_eq!(
        key().verify_rfc9421(&m, &received(&signed), "session-2", checks()),
        Err(Error::KeyId)
    );
    assert_eq!(Error::KeyId.code(), "ERR_POP_NO_SESSION");
}

#[test]
fn created_must_be_within_the_window() {
    let k = key();
    let m = message("/p", b"");
    let at = |created_s: u64| {
        k.sign_rfc9421(
            &m,
            &SignParams {
                created_s,
                ..params(Target::Uri)
            },
        )
        .unwrap()
    };
    let now_s = NOW_MS / 1000;
    for (created, expected) in [
        (now_s - 30, Ok(())),
        (now_s + 30, Ok(())),
        (now_s - 31, Err(Error::Stale)),
        (now_s + 31, Err(Error::Stale)),
        (0, Err(Error::Stale)),
        (MAX_CREATED_S, Err(Error::Stale)),
    ] {
        assert_eq!(verify(&m, &received(&at(created))), expected, "{created}");
    }
    let signed = at(now_s);
    for created in ["-1", "9007199254741", "999999999999999"] {
        let input = signed.signature_input.replace("1700000000", created);
        assert_eq!(
            with_input(&input, &m, &signed),
            Err(Error::Stale),
            "{created}"
        );
    }
    // The keyid is checked before the time.
    assert_eq!(
        k.verify_rfc9421(&m, &received(&at(0)), "session-2", checks()),
        Err(Error::KeyId)
    );
}

#[test]
fn the_nonce_follows_the_x_nonce_grammar() {
    let m = message("/p", b"");
    let signed = key().sign_rfc9421(&m, &params(Target::Uri)).unwrap();
    for nonce in ["nonce-1", "nonce 123", &"n".repeat(129), ""] {
        let input = signed
            .signature_input
            .replace("nonce=\"nonce-0001\"", &format!("nonce=\"{nonce}\""));
        assert_eq!(
            with_input(&input, &m, &signed),
            Err(Error::BadNonce),
            "{nonce}"
        );
    }
    // The signer refuses what the verifier would refuse.
    for nonce in ["nonce-1", "nonce 123", "nonce-é1", "nonce\"quote"] {
        let p = SignParams {
            nonce,
            ..params(Target::Uri)
        };
        let signed = key().sign_rfc9421(&m, &p);
        if valid_nonce(nonce.as_bytes()) {
            // Escaped in the string, and it verifies.
            assert_eq!(verify(&m, &received(&signed.unwrap())), Ok(()));
        } else {
            assert!(matches!(signed, Err(Error::InvalidArgument(_))), "{nonce}");
        }
    }
}

#[test]
fn the_signer_refuses_what_the_verifier_would_refuse() {
    let k = key();
    let bad_key_ids = ["", "sess\nion", "séssion", &"s".repeat(MAX_KEYID_BYTES + 1)];
    for key_id in bad_key_ids {
        let p = SignParams {
            key_id,
            ..params(Target::Uri)
        };
        assert!(matches!(
            k.sign_rfc9421(&message("/p", b""), &p),
            Err(Error::InvalidArgument(_))
        ));
    }
    let p = SignParams {
        created_s: MAX_CREATED_S + 1,
        ..params(Target::Uri)
    };
    assert!(matches!(
        k.sign_rfc9421(&message("/p", b""), &p),
        Err(Error::InvalidArgument(_))
    ));
    for target in ["/p\n\"@method\": GET", "/caf\u{e9}"] {
        assert!(matches!(
            k.sign_rfc9421(&message(target, b""), &params(Target::Uri)),
            Err(Error::InvalidArgument(_))
        ));
    }
    // And the verifier refuses such a component too.
    let signed = k
        .sign_rfc9421(&message("/p", b""), &params(Target::Uri))
        .unwrap();
    let injected = message("/p\n\"@method\": GET", b"");
    assert!(matches!(
        verify(&injected, &received(&signed)),
        Err(Error::Profile(_))
    ));
}

#[test]
fn nonces_are_recorded_only_after_the_mac_and_shared_with_the_header_form() {
    let k = key();
    let cache = Mutex::new(ReplayCache::new(100));
    let with_cache = || Checks {
        now_ms: NOW_MS,
        window_ms: 30_000,
        replay: Some((&cache, SESSION.as_bytes())),
    };
    let m = message("/p", b"{}");
    let signed = k.sign_rfc9421(&m, &params(Target::Uri)).unwrap();
    let forged = Received {
        signature: Some("pop=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:"),
        ..received(&signed)
    };
    assert_eq!(
        k.verify_rfc9421(&m, &forged, SESSION, with_cache()),
        Err(Error::BadMac)
    );
    assert_eq!(cache.lock().unwrap().len(), 0);
    assert_eq!(
        k.verify_rfc9421(&m, &received(&signed), SESSION, with_cache()),
        Ok(())
    );
    assert_eq!(
        k.verify_rfc9421(&m, &received(&signed), SESSION, with_cache()),
        Err(Error::Replay)
    );
    // The same nonce in the X-NONCE form is a replay too: one cache, one scope.
    let request = crate::Request {
        method: "POST",
        target: "/p",
        timestamp_ms: NOW_MS,
        nonce: NONCE.as_bytes(),
        body: b"{}",
    };
    let tag = k.sign(&request).unwrap();
    assert_eq!(
        k.verify_request(&request, &tag, with_cache()),
        Err(Error::Replay)
    );
}

#[test]
fn profile_errors_name_no_value_and_map_to_bad_mac() {
    let m = message("/p", b"");
    let signed = key().sign_rfc9421(&m, &params(Target::Uri)).unwrap();
    let input = signed.signature_input.replace(
        "keyid=\"session-1\"",
        "keyid=\"session-1\";secret=\"hunter2\"",
    );
    let error = with_input(&input, &m, &signed).unwrap_err();
    assert_eq!(error.code(), "ERR_POP_BAD_MAC");
    assert!(!error.to_string().contains("hunter2"));
}
