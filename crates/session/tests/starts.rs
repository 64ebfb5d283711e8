//! Starting sessions: Noise_IK online, X3DH (optionally with ML-KEM) from a
//! bundle, and every way a start must fail.

mod common;

use common::{code, KEY};
use keyward_session::{ExpectedPeer, IdentityKey, PreKeySet, Session};

fn ids() -> (IdentityKey, IdentityKey) {
    (
        IdentityKey::generate().unwrap(),
        IdentityKey::generate().unwrap(),
    )
}

#[test]
fn identity_keys_sign_verify_and_derive_x25519() {
    let seed = [9u8; 32];
    let id = IdentityKey::from_seed(&seed);
    assert_eq!(&id.export_seed()[..], &seed);
    let sig = id.sign(b"m");
    assert!(keyward_session::verify(&id.public_key(), b"m", &sig));
    assert!(!keyward_session::verify(&id.public_key(), b"n", &sig));
    let peer = keyward_session::identity::PeerIdentity::parse(&id.public_key()).unwrap();
    assert_eq!(peer.x25519(), id.x25519_public_key());
    let record = id.serialize(&KEY).unwrap();
    assert_eq!(
        IdentityKey::deserialize(&record, &KEY)
            .unwrap()
            .public_key(),
        id.public_key()
    );
    assert_eq!(
        code(IdentityKey::deserialize(&record, &[8; 32])),
        "ERR_DECRYPTION"
    );
    assert_eq!(
        code(IdentityKey::from_seed_slice(&[1; 31])),
        "ERR_INVALID_ARG_VALUE"
    );
}

#[test]
fn noise_start_carries_payloads_and_both_sides_send_at_once() {
    let (alice, bob) = ids();
    let (init, m1) = Session::initiate(&alice, &bob.public_key(), b"app v1", b"hi bob").unwrap();
    let r = Session::respond(
        &bob,
        &m1,
        b"app v1",
        b"hi alice",
        Some(ExpectedPeer::PublicKey(&alice.public_key())),
    )
    .unwrap();
    assert_eq!(r.peer, alice.public_key());
    assert_eq!(&r.payload[..], b"hi bob");
    let (mut a, payload) = init.complete(&r.reply).unwrap();
    assert_eq!(&payload[..], b"hi alice");
    let mut b = r.session;
    let from_b = b.encrypt(b"b0", b"").unwrap();
    let from_a = a.encrypt(b"a0", b"").unwrap();
    assert_eq!(b.decrypt(&from_a, b"").unwrap().to_vec(), b"a0");
    assert_eq!(a.decrypt(&from_b, b"").unwrap().to_vec(), b"b0");
    assert_eq!(a.peer_public_key(), bob.public_key());
    assert_eq!(b.peer_public_key(), alice.public_key());
}

#[test]
fn noise_start_failures() {
    let (alice, bob) = ids();
    let mallory = IdentityKey::generate().unwrap();
    let (_, m1) = Session::initiate(&alice, &bob.public_key(), b"v1", b"").unwrap();
    assert_eq!(
        code(Session::respond(&bob, &m1, b"v2", b"", None)),
        "ERR_SESSION_HANDSHAKE"
    );
    let mut tampered = m1.clone();
    tampered[40] ^= 1;
    assert_eq!(
        code(Session::respond(&bob, &tampered, b"v1", b"", None)),
        "ERR_SESSION_HANDSHAKE"
    );
    // Sent to Bob's key but read by Mallory.
    assert_eq!(
        code(Session::respond(&mallory, &m1, b"v1", b"", None)),
        "ERR_SESSION_HANDSHAKE"
    );
    assert_eq!(
        code(Session::respond(
            &bob,
            &m1,
            b"v1",
            b"",
            Some(ExpectedPeer::PublicKey(&mallory.public_key()))
        )),
        "ERR_SESSION_UNEXPECTED_PEER"
    );
    assert_eq!(
        code(Session::respond(&bob, &m1[..50], b"v1", b"", None)),
        "ERR_SESSION_HANDSHAKE"
    );
    let mut wrong_version = m1.clone();
    wrong_version[0] = 9;
    assert_eq!(
        code(Session::respond(&bob, &wrong_version, b"v1", b"", None)),
        "ERR_SESSION_FORMAT"
    );
    assert_eq!(
        code(Session::initiate(&alice, &[1; 31], b"", b"")),
        "ERR_INVALID_ARG_VALUE"
    );

    let (init, m1) = Session::initiate(&alice, &bob.public_key(), b"", b"").unwrap();
    let r = Session::respond(&bob, &m1, b"", b"", None).unwrap();
    let mut reply = r.reply.clone();
    let last = reply.len() - 1;
    reply[last] ^= 1;
    assert_eq!(code(init.complete(&reply)), "ERR_SESSION_HANDSHAKE");
}

#[test]
fn bundle_start_with_and_without_kem() {
    for kem in [false, true] {
        let (alice, bob) = ids();
        let mut set = PreKeySet::generate(&bob, 3, kem).unwrap();
        let bundle = set.bundle();
        assert_eq!(bundle.len() > 1184, kem);
        let mut a = Session::from_bundle(
            &alice,
            &bundle,
            Some(ExpectedPeer::PublicKey(&bob.public_key())),
        )
        .unwrap();
        let m1 = a.encrypt(b"one", b"ad").unwrap();
        let m2 = a.encrypt(b"two", b"ad").unwrap();
        // The second copy of the start arrives first: it starts the session.
        let (mut b, p2) = Session::accept(&bob, &mut set, &m2, b"ad", None).unwrap();
        assert_eq!(p2.as_slice(), b"two");
        assert_eq!(set.one_time_count(), 2);
        assert_eq!(b.decrypt(&m1, b"ad").unwrap().to_vec(), b"one");
        // The same start again: the one-time prekey is gone.
        assert_eq!(
            code(Session::accept(&bob, &mut set, &m1, b"ad", None)),
            "ERR_SESSION_PREKEY_REUSED"
        );
        let reply = b.encrypt(b"three", b"").unwrap();
        assert_eq!(reply[1], 0x01, "replies carry no prekey header");
        assert_eq!(a.decrypt(&reply, b"").unwrap().to_vec(), b"three");
        let after = a.encrypt(b"four", b"").unwrap();
        assert_eq!(after[1], 0x01, "after a reply the header is dropped");
        assert_eq!(b.decrypt(&after, b"").unwrap().to_vec(), b"four");
    }
}

#[test]
fn bundles_hand_out_each_one_time_prekey_once() {
    let (alice, bob) = ids();
    let mut set = PreKeySet::generate(&bob, 2, false).unwrap();
    let bundles = [set.bundle(), set.bundle(), set.bundle()];
    assert_ne!(bundles[0], bundles[1]);
    assert_eq!(set.unpublished_count(), 0);
    // The third has no one-time prekey and still works (three DHs).
    let mut a = Session::from_bundle(
        &alice,
        &bundles[2],
        Some(ExpectedPeer::PublicKey(&bob.public_key())),
    )
    .unwrap();
    let m = a.encrypt(b"x", b"").unwrap();
    assert_eq!(
        *Session::accept(&bob, &mut set, &m, b"", None).unwrap().1,
        b"x"
    );
    set.add_one_time(5).unwrap();
    assert_eq!(set.unpublished_count(), 5);
}

#[test]
fn bundle_and_start_failures() {
    let (alice, bob) = ids();
    let mut set = PreKeySet::generate(&bob, 2, true).unwrap();
    let bundle = set.bundle();
    for i in [3, 40, 100, 1300] {
        let mut b = bundle.clone();
        b[i] ^= 1;
        let c = code(Session::from_bundle(
            &alice,
            &b,
            Some(ExpectedPeer::PublicKey(&bob.public_key())),
        ));
        assert!(
            c == "ERR_SESSION_BAD_SIGNATURE" || c == "ERR_SESSION_FORMAT",
            "byte {i}: {c}"
        );
    }
    assert_eq!(
        code(Session::from_bundle(
            &alice,
            &bundle[..bundle.len() - 1],
            None
        )),
        "ERR_SESSION_FORMAT"
    );
    assert_eq!(
        code(Session::from_bundle(
            &alice,
            &[bundle.clone(), vec![0]].concat(),
            None
        )),
        "ERR_SESSION_FORMAT"
    );

    let mut a = Session::from_bundle(
        &alice,
        &bundle,
        Some(ExpectedPeer::PublicKey(&bob.public_key())),
    )
    .unwrap();
    let m = a.encrypt(b"x", b"").unwrap();
    // A tampered start fails and consumes nothing.
    let mut t = m.clone();
    let last = t.len() - 1;
    t[last] ^= 1;
    assert_eq!(
        code(Session::accept(&bob, &mut set, &t, b"", None)),
        "ERR_DECRYPTION"
    );
    assert_eq!(
        code(Session::accept(&bob, &mut set, &m, b"other ad", None)),
        "ERR_DECRYPTION"
    );
    assert_eq!(set.one_time_count(), 2);
    // Another identity cannot use Bob's prekeys.
    assert_eq!(
        code(Session::accept(&alice, &mut set, &m, b"", None)),
        "ERR_INVALID_ARG_VALUE"
    );
    // After a rotation the previous signed prekey still accepts; two rotations drop it.
    set.rotate(&bob).unwrap();
    assert!(Session::accept(&bob, &mut set, &m, b"", None).is_ok());
    let mut a2 = Session::from_bundle(
        &alice,
        &bundle,
        Some(ExpectedPeer::PublicKey(&bob.public_key())),
    )
    .unwrap();
    let m2 = a2.encrypt(b"y", b"").unwrap();
    set.rotate(&bob).unwrap();
    assert_eq!(
        code(Session::accept(&bob, &mut set, &m2, b"", None)),
        "ERR_SESSION_UNKNOWN_PREKEY"
    );
}

#[test]
fn prekey_sets_persist_encrypted() {
    let (alice, bob) = ids();
    let mut set = PreKeySet::generate(&bob, 3, true).unwrap();
    let bundle = set.bundle();
    let record = set.serialize(&KEY).unwrap();
    assert_ne!(
        record,
        set.serialize(&KEY).unwrap(),
        "fresh nonce every time"
    );
    let mut restored = PreKeySet::deserialize(&record, &KEY).unwrap();
    assert_eq!(restored.unpublished_count(), 2);
    let mut a = Session::from_bundle(
        &alice,
        &bundle,
        Some(ExpectedPeer::PublicKey(&bob.public_key())),
    )
    .unwrap();
    let m = a.encrypt(b"x", b"").unwrap();
    assert_eq!(
        Session::accept(&bob, &mut restored, &m, b"", None)
            .unwrap()
            .1
            .to_vec(),
        b"x"
    );
    assert_eq!(
        code(PreKeySet::deserialize(&record, &[0; 32])),
        "ERR_DECRYPTION"
    );
    assert_eq!(
        code(PreKeySet::deserialize(&record, &[0; 31])),
        "ERR_INVALID_ARG_VALUE"
    );
    let mut t = record.clone();
    t[30] ^= 1;
    assert_eq!(code(PreKeySet::deserialize(&t, &KEY)), "ERR_DECRYPTION");
    let identity_record = bob.serialize(&KEY).unwrap();
    assert_eq!(
        code(PreKeySet::deserialize(&identity_record, &KEY)),
        "ERR_SESSION_FORMAT"
    );
}

/// Issue 13, finding 1: a bundle proves only who signed it. A directory that
/// serves Mallory's bundle for Bob must not give Alice a session with Mallory.
#[test]
fn bundle_and_prekey_starts_check_the_expected_peer() {
    let (alice, bob) = ids();
    let mallory = IdentityKey::generate().unwrap();
    let mut mallorys = PreKeySet::generate(&mallory, 1, false).unwrap();
    let served = mallorys.bundle();
    let bob_key = bob.public_key();
    let bob_fingerprint = bob.fingerprint();
    for expected in [
        ExpectedPeer::PublicKey(&bob_key),
        ExpectedPeer::Fingerprint(&bob_fingerprint),
    ] {
        assert_eq!(
            code(Session::from_bundle(&alice, &served, Some(expected))),
            "ERR_SESSION_UNEXPECTED_PEER"
        );
    }
    // The expected peer is checked as an argument first.
    assert_eq!(
        code(Session::from_bundle(
            &alice,
            &served,
            Some(ExpectedPeer::PublicKey(&[0; 32]))
        )),
        "ERR_INVALID_ARG_VALUE"
    );
    assert_eq!(
        code(Session::from_bundle(
            &alice,
            &served,
            Some(ExpectedPeer::Fingerprint(&bob_fingerprint[..31]))
        )),
        "ERR_INVALID_ARG_VALUE"
    );
    // Trust on first use is an explicit None.
    let mut a = Session::from_bundle(&alice, &served, None).unwrap();
    assert_eq!(a.peer_public_key(), mallory.public_key());

    // The responder side: Mallory's start is refused before it consumes anything.
    let mut set = PreKeySet::generate(&bob, 1, false).unwrap();
    let mut m = Session::from_bundle(
        &mallory,
        &set.bundle(),
        Some(ExpectedPeer::Fingerprint(&bob_fingerprint)),
    )
    .unwrap();
    let first = m.encrypt(b"hi", b"").unwrap();
    let alice_key = alice.public_key();
    assert_eq!(
        code(Session::accept(
            &bob,
            &mut set,
            &first,
            b"",
            Some(ExpectedPeer::PublicKey(&alice_key))
        )),
        "ERR_SESSION_UNEXPECTED_PEER"
    );
    assert_eq!(set.one_time_count(), 1);
    let mallory_fp = mallory.fingerprint();
    let (_, plaintext) = Session::accept(
        &bob,
        &mut set,
        &first,
        b"",
        Some(ExpectedPeer::Fingerprint(&mallory_fp)),
    )
    .unwrap();
    assert_eq!(plaintext.as_slice(), b"hi");
    let _ = a.encrypt(b"x", b"").unwrap();
}

/// Issue 13, finding 6: crafted identity keys are refused wherever an
/// identity is parsed from a caller or from the wire.
#[test]
fn crafted_identity_keys_are_refused_at_every_entry() {
    use curve25519_dalek::constants::EIGHT_TORSION;
    use curve25519_dalek::edwards::CompressedEdwardsY;
    let (alice, bob) = ids();
    let a = CompressedEdwardsY(bob.public_key()).decompress().unwrap();
    let mut non_canonical = [0xffu8; 32];
    non_canonical[0] = 0xed; // p itself: y = 0 encoded as y + p
    non_canonical[31] = 0x7f;
    let crafted = [
        EIGHT_TORSION[1].compress().to_bytes(),
        (a + EIGHT_TORSION[1]).compress().to_bytes(),
        (a + EIGHT_TORSION[4]).compress().to_bytes(),
        non_canonical,
    ];
    for key in &crafted {
        assert_eq!(
            code(Session::initiate(&alice, key, b"", b"")),
            "ERR_INVALID_ARG_VALUE"
        );
        assert_eq!(
            code(keyward_session::fingerprint(key)),
            "ERR_INVALID_ARG_VALUE"
        );
        assert!(!keyward_session::verify(key, b"m", &[0; 64]));
        assert_eq!(
            code(Session::from_bundle(
                &alice,
                &PreKeySet::generate(&bob, 0, false).unwrap().bundle(),
                Some(ExpectedPeer::PublicKey(key))
            )),
            "ERR_INVALID_ARG_VALUE"
        );
        // In a bundle, the identity field is refused as malformed (before the
        // signature is even checked).
        let mut bundle = PreKeySet::generate(&bob, 0, false).unwrap().bundle();
        bundle[2..34].copy_from_slice(key);
        assert_eq!(
            code(Session::from_bundle(&alice, &bundle, None)),
            "ERR_SESSION_FORMAT"
        );
    }
}
