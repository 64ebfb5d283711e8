//! Prekeys through the relay: an upload made by crates/session's
//! `PreKeySet::upload`, verified as the relay does; the bundle the relay
//! composes is byte for byte the one the set makes, and
//! `Session::from_bundle_with_kem` and `Session::accept` run on it with the
//! one-time keys it hands out; every bad signature and stale id is refused.

mod common;

use common::identity;
use keyward_relay::frame::{OneTimePrekey, PrekeyStatus, PrekeyUpload};
use keyward_relay::limits::{KEM_PUBLIC_LEN, MAX_ONE_TIME_PER_UPLOAD};
use keyward_relay::prekeys::{
    check_upload_against, compose_bundle, sign_one_time_kem, split_upload, verify_upload,
};
use keyward_relay::{Body, Frame};
use keyward_session::{ExpectedPeer, IdentityKey, PreKeySet, Session};
use ml_kem::{DecapsulationKey, KeyExport, MlKem768};

fn kem_public(seed: u8) -> Box<[u8; KEM_PUBLIC_LEN]> {
    let key = DecapsulationKey::<MlKem768>::from_seed([seed; 64].into());
    let bytes = key.encapsulation_key().to_bytes();
    Box::new(bytes.as_slice().try_into().unwrap())
}

/// Bob's set with `one_time` keys of each kind, and its upload.
fn bob_upload(bob: &IdentityKey, one_time: u32) -> (PreKeySet, PrekeyUpload) {
    let mut set = PreKeySet::generate(bob, one_time, true).unwrap();
    set.add_one_time_kem(one_time).unwrap();
    let upload = PrekeyUpload::from(set.upload(bob).unwrap());
    assert_eq!(upload.one_time.len(), one_time as usize);
    assert_eq!(upload.one_time_kem.len(), one_time as usize);
    (set, upload)
}

#[test]
fn the_relay_composes_the_bundle_the_set_made_and_sessions_start_from_it() {
    let (alice, bob) = (identity(1), identity(2));
    let (mut set, upload) = bob_upload(&bob, 3);
    // Over the wire and back, then the relay's checks.
    let frame = Frame::new(1, Body::UploadPrekeys(upload));
    let Body::UploadPrekeys(upload) = Frame::decode(&frame.encode().unwrap()).unwrap().body else {
        unreachable!()
    };
    verify_upload(&bob.public_key(), &upload).unwrap();
    let signed = upload.signed.as_ref().unwrap();
    // The upload published every one-time key: the set's own bundle now
    // carries none, and is the relay's last-resort bundle byte for byte.
    let last_resort = compose_bundle(&bob.public_key(), signed, None);
    assert_eq!(set.bundle(), last_resort);
    // Alice starts from a composed bundle and the one-time ML-KEM key the
    // relay hands out beside it; Bob accepts with his set and consumes both.
    let bundle = compose_bundle(&bob.public_key(), signed, Some(&upload.one_time[1]));
    let kem = upload.one_time_kem[1].to_bytes();
    let mut a = Session::from_bundle_with_kem(
        &alice,
        &bundle,
        Some(&kem),
        Some(ExpectedPeer::PublicKey(&bob.public_key())),
    )
    .unwrap();
    let m = a.encrypt(b"hello bob", b"").unwrap();
    let (_, plain) = Session::accept(&bob, &mut set, &m, b"", None).unwrap();
    assert_eq!(&plain[..], b"hello bob");
    assert_eq!((set.one_time_count(), set.one_time_kem_count()), (2, 2));
    // A relay handing the same one-time ML-KEM key out twice is caught.
    let mut again = Session::from_bundle_with_kem(&alice, &last_resort, Some(&kem), None).unwrap();
    let m = again.encrypt(b"twice", b"").unwrap();
    assert_eq!(
        Session::accept(&bob, &mut set, &m, b"", None)
            .err()
            .map(|e| e.code()),
        Some("ERR_SESSION_PREKEY_REUSED")
    );
    // With no one-time key left: the last-resort bundle still starts a session.
    let mut a = Session::from_bundle(&alice, &last_resort, None).unwrap();
    let m = a.encrypt(b"again", b"").unwrap();
    let (_, plain) = Session::accept(&bob, &mut set, &m, b"", None).unwrap();
    assert_eq!(&plain[..], b"again");
}

#[test]
fn a_large_upload_goes_out_in_frames_the_relay_takes() {
    let bob = identity(2);
    let n = MAX_ONE_TIME_PER_UPLOAD as u32 * 2 + 1;
    let mut set = PreKeySet::generate(&bob, n, true).unwrap();
    set.add_one_time_kem(3).unwrap();
    let parts = split_upload(set.upload(&bob).unwrap().into());
    assert_eq!(parts.len(), 3);
    assert!(parts[0].signed.is_some() && parts[1..].iter().all(|p| p.signed.is_none()));
    assert_eq!(
        parts.iter().map(|p| p.one_time.len()).collect::<Vec<_>>(),
        [100, 100, 1]
    );
    assert_eq!(
        parts
            .iter()
            .map(|p| p.one_time_kem.len())
            .collect::<Vec<_>>(),
        [3, 0, 0]
    );
    let ids: Vec<u32> = parts
        .iter()
        .flat_map(|p| &p.one_time)
        .map(|k| k.id)
        .collect();
    assert_eq!(ids, (1..=n).collect::<Vec<_>>());
    let mut status = PrekeyStatus::default();
    for part in &parts {
        verify_upload(&bob.public_key(), part).unwrap();
        Frame::new(1, Body::UploadPrekeys(part.clone()))
            .encode()
            .unwrap();
        check_upload_against(&status, part).unwrap();
        // The relay's bookkeeping after it stores the part and hands all out.
        status.signed_id = 1;
        status.last_one_time_id = part
            .one_time
            .last()
            .map_or(status.last_one_time_id, |k| k.id);
        status.last_one_time_kem_id = part
            .one_time_kem
            .last()
            .map_or(status.last_one_time_kem_id, |k| k.id);
    }
    // Nothing left: the next upload is the signed section alone.
    assert_eq!(split_upload(set.upload(&bob).unwrap().into()).len(), 1);
}

#[test]
fn every_bad_signature_or_key_is_refused() {
    let bob = identity(2);
    let (_, upload) = bob_upload(&bob, 2);
    let owner = bob.public_key();
    let code = |u: &PrekeyUpload, owner: &[u8; 32]| verify_upload(owner, u).unwrap_err().code();

    // Someone else's identity.
    assert_eq!(
        code(&upload, &identity(3).public_key()),
        "ERR_RELAY_BAD_SIGNATURE"
    );
    // The signed prekey, its KEM key, its signature, each changed.
    let mut u = upload.clone();
    u.signed.as_mut().unwrap().public[0] ^= 1;
    assert_eq!(code(&u, &owner), "ERR_RELAY_BAD_SIGNATURE");
    let mut u = upload.clone();
    u.signed.as_mut().unwrap().kem.as_mut().unwrap().1[5] ^= 1;
    assert_eq!(code(&u, &owner), "ERR_RELAY_BAD_SIGNATURE");
    let mut u = upload.clone();
    u.signed.as_mut().unwrap().signature[0] ^= 1;
    assert_eq!(code(&u, &owner), "ERR_RELAY_BAD_SIGNATURE");
    // A one-time ML-KEM key with another id, another key, or a bad signature.
    let mut u = upload.clone();
    u.one_time_kem[0].id = 3;
    assert_eq!(code(&u, &owner), "ERR_RELAY_BAD_SIGNATURE");
    let mut u = upload.clone();
    u.one_time_kem[1].public = kem_public(9);
    assert_eq!(code(&u, &owner), "ERR_RELAY_BAD_SIGNATURE");
    let mut u = upload.clone();
    u.one_time_kem[0].signature[63] ^= 0x10;
    assert_eq!(code(&u, &owner), "ERR_RELAY_BAD_SIGNATURE");
    // Signed correctly but not a valid ML-KEM key (coefficients over q).
    let mut u = upload.clone();
    u.one_time_kem[0] = sign_one_time_kem(&bob, 1, Box::new([0xff; KEM_PUBLIC_LEN]));
    assert_eq!(code(&u, &owner), "ERR_RELAY_BAD_SIGNATURE");
    // The untouched upload passes.
    verify_upload(&owner, &upload).unwrap();
}

#[test]
fn ids_only_grow_and_the_store_has_room() {
    let bob = identity(2);
    let (_, upload) = bob_upload(&bob, 2);
    let fresh = PrekeyStatus::default();
    check_upload_against(&fresh, &upload).unwrap();
    // One-time keys before any signed prekey.
    let no_signed = PrekeyUpload {
        signed: None,
        ..upload.clone()
    };
    assert_eq!(
        check_upload_against(&fresh, &no_signed).unwrap_err().code(),
        "ERR_RELAY_NOT_ALLOWED"
    );
    check_upload_against(&fresh, &PrekeyUpload::default()).unwrap();
    // After the first upload: the same ids again are stale.
    let after = PrekeyStatus {
        one_time: 2,
        one_time_kem: 2,
        signed_id: 1,
        last_one_time_id: 2,
        last_one_time_kem_id: 2,
    };
    let code = |s: &PrekeyStatus, u: &PrekeyUpload| check_upload_against(s, u).unwrap_err().code();
    assert_eq!(code(&after, &upload), "ERR_RELAY_STALE_KEY_ID");
    let only_kem = PrekeyUpload {
        one_time: vec![],
        ..upload.clone()
    };
    assert_eq!(code(&after, &only_kem), "ERR_RELAY_STALE_KEY_ID");
    let older_signed = PrekeyStatus {
        signed_id: 2,
        ..after
    };
    let signed_only = PrekeyUpload {
        signed: upload.signed.clone(),
        ..Default::default()
    };
    assert_eq!(code(&older_signed, &signed_only), "ERR_RELAY_STALE_KEY_ID");
    check_upload_against(&after, &signed_only).unwrap();
    let next = PrekeyUpload {
        signed: None,
        one_time: vec![OneTimePrekey {
            id: 3,
            public: [5; 32],
        }],
        one_time_kem: vec![],
    };
    check_upload_against(&after, &next).unwrap();
    // Room: 100 of a kind at most.
    let full = PrekeyStatus {
        one_time: 100,
        ..after
    };
    assert_eq!(code(&full, &next), "ERR_RELAY_QUOTA");
    let nearly = PrekeyStatus {
        one_time: 99,
        ..after
    };
    check_upload_against(&nearly, &next).unwrap();
}

/// What a store keeps (the signed section, each ML-KEM key with its
/// signature) turns back into the same prekeys, and wrong lengths are refused.
#[test]
fn stored_parts_round_trip_and_wrong_lengths_are_refused() {
    use keyward_relay::frame::{OneTimeKemPrekey, SignedPrekey};
    let bob = identity(2);
    let (_, upload) = bob_upload(&bob, 2);
    let signed = upload.signed.clone().unwrap();
    let section = signed.to_section();
    assert_eq!(SignedPrekey::from_section(&section).unwrap(), signed);
    for cut in [0, 1, section.len() - 1] {
        let err = SignedPrekey::from_section(&section[..cut]).unwrap_err();
        assert_eq!(err.code(), "ERR_RELAY_MALFORMED");
    }
    let longer = [&section[..], &[0]].concat();
    assert_eq!(
        SignedPrekey::from_section(&longer).unwrap_err().code(),
        "ERR_RELAY_MALFORMED"
    );
    let kem = &upload.one_time_kem[0];
    let parts = kem.key_and_signature();
    assert_eq!(&OneTimeKemPrekey::from_parts(kem.id, &parts).unwrap(), kem);
    for bad in [&parts[..parts.len() - 1], &[&parts[..], &[0]].concat()[..]] {
        assert_eq!(
            OneTimeKemPrekey::from_parts(kem.id, bad)
                .unwrap_err()
                .code(),
            "ERR_RELAY_MALFORMED"
        );
    }
    let x = &upload.one_time[0];
    assert_eq!(&OneTimePrekey::from_parts(x.id, &x.public).unwrap(), x);
    assert_eq!(
        OneTimePrekey::from_parts(x.id, &x.public[1..])
            .unwrap_err()
            .code(),
        "ERR_RELAY_MALFORMED"
    );
}
