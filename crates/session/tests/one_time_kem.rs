//! One-time ML-KEM prekeys: generated, signed and published by `upload`,
//! used by `from_bundle_with_kem`, consumed by `accept`, stored in version 2
//! prekey-set records (version 1 still read); and every refusal.

mod common;

use common::{code, KEY};
use keyward_session::one_time_kem::{self, OneTimeKemPreKey, ENCODED_LEN};
use keyward_session::prekeys::{verify_one_time_kem, Upload, MAX_ONE_TIME_KEM};
use keyward_session::{IdentityKey, PreKeySet, Session};

/// The prekey message's ML-KEM byte when it has no one-time X25519 key:
/// version, kind, sender (32), base (32), signed id (4), one-time flag.
const KEM_BYTE: usize = 2 + 32 + 32 + 4 + 1;

fn bob() -> IdentityKey {
    IdentityKey::from_seed(&[2; 32])
}

/// Bob's set with a last-resort ML-KEM key, no one-time X25519 keys (so
/// only the ML-KEM key is one-time) and `kem` one-time ML-KEM keys.
fn set_with(bob: &IdentityKey, kem: u32) -> (PreKeySet, Upload) {
    let mut set = PreKeySet::generate(bob, 0, true).unwrap();
    set.add_one_time_kem(kem).unwrap();
    let upload = set.upload(bob).unwrap();
    (set, upload)
}

fn start(alice: &IdentityKey, set: &mut PreKeySet, kem: Option<&OneTimeKemPreKey>) -> Vec<u8> {
    let bytes = kem.map(OneTimeKemPreKey::to_bytes);
    let mut a =
        Session::from_bundle_with_kem(alice, &set.bundle(), bytes.as_deref(), None).unwrap();
    a.encrypt(b"hello", b"").unwrap()
}

#[test]
fn upload_publishes_every_key_once_signed() {
    let bob = bob();
    let mut set = PreKeySet::generate(&bob, 3, true).unwrap();
    set.add_one_time_kem(2).unwrap();
    assert_eq!(set.one_time_kem_count(), 2);
    assert_eq!(set.unpublished_kem_count(), 2);
    let up = set.upload(&bob).unwrap();
    assert_eq!(up.owner, bob.public_key());
    assert_eq!(
        up.one_time.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        up.one_time_kem.iter().map(|k| k.id).collect::<Vec<_>>(),
        [1, 2]
    );
    for k in &up.one_time_kem {
        assert!(verify_one_time_kem(
            &bob.public_key(),
            k.id,
            &k.public,
            &k.signature
        ));
        assert_eq!(k.to_bytes().len(), ENCODED_LEN);
        assert_eq!(&OneTimeKemPreKey::parse(&k.to_bytes()).unwrap(), k);
    }
    assert_ne!(up.one_time_kem[0].public, up.one_time_kem[1].public);
    assert!(up.signed.kem.is_some());
    // Everything is published now: the next upload has only the signed
    // section, and bundles carry no one-time key.
    assert_eq!(
        (set.unpublished_count(), set.unpublished_kem_count()),
        (0, 0)
    );
    let again = set.upload(&bob).unwrap();
    assert_eq!(again.signed, up.signed);
    assert!(again.one_time.is_empty() && again.one_time_kem.is_empty());
    set.add_one_time_kem(1).unwrap();
    set.add_one_time(1).unwrap();
    let next = set.upload(&bob).unwrap();
    assert_eq!(
        next.one_time.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [4]
    );
    assert_eq!(
        next.one_time_kem.iter().map(|k| k.id).collect::<Vec<_>>(),
        [3]
    );
    // Only the owner signs; the set's room is bounded.
    let carol = IdentityKey::from_seed(&[3; 32]);
    assert_eq!(code(set.upload(&carol)), "ERR_INVALID_ARG_VALUE");
    assert_eq!(
        code(set.add_one_time_kem(MAX_ONE_TIME_KEM as u32)),
        "ERR_INVALID_ARG_VALUE"
    );
    assert_eq!(set.one_time_kem_count(), 3);
}

#[test]
fn a_start_uses_the_one_time_kem_key_and_accept_consumes_it() {
    let (alice, bob) = (IdentityKey::from_seed(&[1; 32]), bob());
    let (mut set, up) = set_with(&bob, 2);
    let m = start(&alice, &mut set, Some(&up.one_time_kem[1]));
    // The header names one-time key 2, not the last-resort key (byte 1).
    assert_eq!(m[KEM_BYTE], 2);
    assert_eq!(&m[KEM_BYTE + 1..KEM_BYTE + 5], &2u32.to_be_bytes());
    let (mut b, plain) = Session::accept(&bob, &mut set, &m, b"", None).unwrap();
    assert_eq!(&plain[..], b"hello");
    assert_eq!(set.one_time_kem_count(), 1);
    // The session works both ways after it.
    let reply = b.encrypt(b"hi", b"").unwrap();
    assert!(Session::deserialize(&b.serialize(&KEY).unwrap(), &KEY).is_ok());
    assert!(!reply.is_empty());
    // Without a one-time key the last-resort key is used, and stays.
    let m = start(&alice, &mut set, None);
    assert_eq!(m[KEM_BYTE], 1);
    Session::accept(&bob, &mut set, &m, b"", None).unwrap();
    assert_eq!(set.one_time_kem_count(), 1);
}

#[test]
fn a_reused_one_time_kem_key_is_refused_and_changes_nothing() {
    let (alice, bob) = (IdentityKey::from_seed(&[1; 32]), bob());
    let (mut set, up) = set_with(&bob, 1);
    let first = start(&alice, &mut set, Some(&up.one_time_kem[0]));
    let second = start(&alice, &mut set, Some(&up.one_time_kem[0]));
    Session::accept(&bob, &mut set, &first, b"", None).unwrap();
    let record = set.serialize(&KEY).unwrap();
    for m in [&first, &second] {
        assert_eq!(
            code(Session::accept(&bob, &mut set, m, b"", None)),
            "ERR_SESSION_PREKEY_REUSED"
        );
    }
    // Also once the set went through its record.
    let mut restored = PreKeySet::deserialize(&record, &KEY).unwrap();
    assert_eq!(
        code(Session::accept(&bob, &mut restored, &second, b"", None)),
        "ERR_SESSION_PREKEY_REUSED"
    );
}

#[test]
fn an_unknown_one_time_kem_id_is_refused() {
    let (alice, bob) = (IdentityKey::from_seed(&[1; 32]), bob());
    let (mut set, _) = set_with(&bob, 1);
    // A key Bob signed, from another of his sets, with an id this one never had.
    let (_, other) = set_with(&bob, 3);
    let m = start(&alice, &mut set, Some(&other.one_time_kem[2]));
    assert_eq!(
        code(Session::accept(&bob, &mut set, &m, b"", None)),
        "ERR_SESSION_UNKNOWN_PREKEY"
    );
    assert_eq!(set.one_time_kem_count(), 1);
    // Id 0, below every id issued, was never issued either.
    let public = other.one_time_kem[0].public.clone();
    let zero = OneTimeKemPreKey {
        id: 0,
        signature: one_time_kem::sign(&bob, 0, &public),
        public,
    };
    let m = start(&alice, &mut set, Some(&zero));
    assert_eq!(
        code(Session::accept(&bob, &mut set, &m, b"", None)),
        "ERR_SESSION_UNKNOWN_PREKEY"
    );
    // A header byte that is neither kind of ML-KEM key.
    let mut bad = start(&alice, &mut set, None);
    bad[KEM_BYTE] = 3;
    assert_eq!(
        code(Session::accept(&bob, &mut set, &bad, b"", None)),
        "ERR_SESSION_FORMAT"
    );
}

#[test]
fn a_one_time_kem_key_must_be_signed_by_the_bundle_identity() {
    let (alice, bob, carol) = (
        IdentityKey::from_seed(&[1; 32]),
        bob(),
        IdentityKey::from_seed(&[3; 32]),
    );
    let (mut set, up) = set_with(&bob, 1);
    let bundle = set.bundle();
    let good = &up.one_time_kem[0];
    let from = |k: &OneTimeKemPreKey| {
        Session::from_bundle_with_kem(&alice, &bundle, Some(&k.to_bytes()), None)
    };
    assert!(from(good).is_ok());
    // Bad signature: each of signature, id and key changed.
    let mut k = good.clone();
    k.signature[0] ^= 1;
    assert_eq!(code(from(&k)), "ERR_SESSION_BAD_SIGNATURE");
    let mut k = good.clone();
    k.id += 1;
    assert_eq!(code(from(&k)), "ERR_SESSION_BAD_SIGNATURE");
    let mut k = good.clone();
    k.public[100] ^= 1;
    assert_eq!(code(from(&k)), "ERR_SESSION_BAD_SIGNATURE");
    // Wrong owner: Carol's own key, validly signed by her, beside Bob's bundle.
    let (_, carols) = set_with(&carol, 1);
    assert!(verify_one_time_kem(
        &carol.public_key(),
        1,
        &carols.one_time_kem[0].public,
        &carols.one_time_kem[0].signature
    ));
    assert_eq!(
        code(from(&carols.one_time_kem[0])),
        "ERR_SESSION_BAD_SIGNATURE"
    );
    // Bob's key re-signed by Carol.
    let mut k = good.clone();
    k.signature = one_time_kem::sign(&carol, k.id, &k.public);
    assert_eq!(code(from(&k)), "ERR_SESSION_BAD_SIGNATURE");
    // Signed by Bob but not an ML-KEM-768 key; and the wrong length.
    let invalid = OneTimeKemPreKey {
        id: 9,
        public: Box::new([0xff; 1184]),
        signature: one_time_kem::sign(&bob, 9, &[0xff; 1184]),
    };
    assert_eq!(code(from(&invalid)), "ERR_SESSION_FORMAT");
    let bytes = good.to_bytes();
    assert_eq!(
        code(Session::from_bundle_with_kem(
            &alice,
            &bundle,
            Some(&bytes[1..]),
            None
        )),
        "ERR_SESSION_FORMAT"
    );
}

#[test]
fn records_keep_one_time_kem_seeds() {
    let bob = bob();
    let mut set = PreKeySet::generate(&bob, 2, true).unwrap();
    set.add_one_time_kem(3).unwrap();
    let first = set.upload(&bob).unwrap();
    set.add_one_time_kem(1).unwrap();
    let record = set.serialize(&KEY).unwrap();
    assert_eq!(record[0], 2, "prekey-set records are at version 2");
    let mut restored = PreKeySet::deserialize(&record, &KEY).unwrap();
    assert_eq!(
        restored.kem_seeds_for_testing(),
        set.kem_seeds_for_testing()
    );
    assert_eq!(restored.kem_seeds_for_testing().len(), 4);
    assert_eq!(restored.unpublished_kem_count(), 1);
    // The same keys, signed the same: only the unpublished one goes out.
    let up = restored.upload(&bob).unwrap();
    assert_eq!(
        up.one_time_kem.iter().map(|k| k.id).collect::<Vec<_>>(),
        [4]
    );
    assert_eq!(up.signed, first.signed);
    // A record of an unknown version is refused by name.
    let mut v3 = record.clone();
    v3[0] = 3;
    assert_eq!(
        code(PreKeySet::deserialize(&v3, &KEY)),
        "ERR_SESSION_FORMAT"
    );
    // The version byte is authenticated: a v2 record relabelled v1 fails.
    let mut v1 = record;
    v1[0] = 1;
    assert_eq!(code(PreKeySet::deserialize(&v1, &KEY)), "ERR_DECRYPTION");
}

/// A version 1 record written by the code before one-time ML-KEM keys (the
/// fuzz fixture it made: Bob `[2; 32]`, four one-time keys, a last-resort
/// ML-KEM key, storage key `[3; 32]`) still opens, starts sessions, and is
/// written back as version 2.
#[test]
fn version_1_records_are_still_read() {
    let (alice, bob) = (IdentityKey::from_seed(&[1; 32]), bob());
    let record = include_bytes!("fixtures/prekeys-v1.record");
    assert_eq!(record[0], 1);
    let mut set = PreKeySet::deserialize(record, &[3; 32]).unwrap();
    assert_eq!((set.one_time_count(), set.one_time_kem_count()), (4, 0));
    let m = start(&alice, &mut set, None);
    Session::accept(&bob, &mut set, &m, b"", None).unwrap();
    // Upgraded: one-time ML-KEM keys can be added, and it saves as version 2.
    set.add_one_time_kem(1).unwrap();
    let up = set.upload(&bob).unwrap();
    let again = PreKeySet::deserialize(&set.serialize(&[3; 32]).unwrap(), &[3; 32]).unwrap();
    assert_eq!(again.one_time_count(), 3);
    assert_eq!(again.one_time_kem_count(), 1);
    let m = start(&alice, &mut set, Some(&up.one_time_kem[0]));
    Session::accept(&bob, &mut set, &m, b"", None).unwrap();
}

#[test]
fn make_room_drops_the_oldest_published_keys_only_as_many_as_needed() {
    let (alice, bob) = (IdentityKey::from_seed(&[1; 32]), bob());
    // Ten keys published (ids 1–10), then the set filled to its cap with
    // unpublished seeds (cheap: only seeds are kept until an upload).
    let (mut set, up) = set_with(&bob, 10);
    let claimed = start(&alice, &mut set, Some(&up.one_time_kem[0]));
    set.add_one_time_kem(MAX_ONE_TIME_KEM as u32 - 10).unwrap();
    assert_eq!(code(set.add_one_time_kem(1)), "ERR_INVALID_ARG_VALUE");
    // Room for nothing more, or a set with room already: nothing dropped.
    assert_eq!(set.make_room(0, 0), (0, 0));
    // Room for 5: the 5 oldest published keys go (ids 1–5).
    assert_eq!(set.make_room(0, 5), (0, 5));
    assert_eq!(set.one_time_kem_count(), MAX_ONE_TIME_KEM - 5);
    set.add_one_time_kem(5).unwrap();
    // A start on a dropped key is refused as one on a key already used.
    assert_eq!(
        code(Session::accept(&bob, &mut set, &claimed, b"", None)),
        "ERR_SESSION_PREKEY_REUSED"
    );
    // One on a published key still held works.
    let kept = start(&alice, &mut set, Some(&up.one_time_kem[9]));
    Session::accept(&bob, &mut set, &kept, b"", None).unwrap();
    // Room for 20 with 4 published keys left (6–9): those 4 go, unpublished
    // ones never do, so the set still has room for only 5.
    assert_eq!(set.make_room(0, 20), (0, 4));
    assert_eq!(set.one_time_kem_count(), MAX_ONE_TIME_KEM - 5);
    assert_eq!(set.unpublished_kem_count(), MAX_ONE_TIME_KEM - 5);
    assert_eq!(code(set.add_one_time_kem(6)), "ERR_INVALID_ARG_VALUE");
    set.add_one_time_kem(5).unwrap();
    // X25519 keys: the same rule (a set far from its cap drops nothing).
    set.add_one_time(3).unwrap();
    assert_eq!(set.make_room(1000, 0), (0, 0));
    assert_eq!(set.one_time_count(), 3);
    // The record keeps what is left.
    let restored = PreKeySet::deserialize(&set.serialize(&KEY).unwrap(), &KEY).unwrap();
    assert_eq!(restored.one_time_kem_count(), MAX_ONE_TIME_KEM);
}
