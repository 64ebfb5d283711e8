#![allow(dead_code)]

use keyward_session::{ExpectedPeer, IdentityKey, PreKeySet, Session};

pub const KEY: [u8; 32] = [7; 32];

/// Alice and Bob after a Noise_IK start: (initiator, responder).
pub fn noise_pair() -> (Session, Session) {
    let (alice, bob) = (
        IdentityKey::generate().unwrap(),
        IdentityKey::generate().unwrap(),
    );
    let (init, m1) = Session::initiate(&alice, &bob.public_key(), b"", b"").unwrap();
    let r = Session::respond(&bob, &m1, b"", b"", None).unwrap();
    let (a, _) = init.complete(&r.reply).unwrap();
    (a, r.session)
}

/// Alice and Bob after an offline start with one delivered message.
pub fn bundle_pair(kem: bool) -> (Session, Session) {
    let (alice, bob) = (
        IdentityKey::generate().unwrap(),
        IdentityKey::generate().unwrap(),
    );
    let mut set = PreKeySet::generate(&bob, 2, kem).unwrap();
    let mut a = Session::from_bundle(
        &alice,
        &set.bundle(),
        Some(ExpectedPeer::PublicKey(&bob.public_key())),
    )
    .unwrap();
    let first = a.encrypt(b"hello", b"").unwrap();
    let (b, plaintext) = Session::accept(&bob, &mut set, &first, b"", None).unwrap();
    assert_eq!(plaintext.as_slice(), b"hello");
    (a, b)
}

pub fn code<T>(r: keyward_session::Result<T>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}
