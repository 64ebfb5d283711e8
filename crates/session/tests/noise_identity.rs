//! `noise::Handshake::with_identity`: a Noise handshake whose static key is
//! an identity's X25519 form, without the seed leaving crates/session.

use keyward_session::noise::{Handshake, Keys};
use keyward_session::IdentityKey;

const PROTOCOL: &str = "Noise_IK_25519_ChaChaPoly_BLAKE2s";

#[test]
fn the_static_key_is_the_identitys_x25519_form() {
    let (alice, bob) = (
        IdentityKey::from_seed(&[1; 32]),
        IdentityKey::from_seed(&[2; 32]),
    );
    let keys = Keys {
        remote_static: Some(&bob.x25519_public_key()),
        prologue: b"p",
        ..Keys::default()
    };
    let mut initiator = Handshake::with_identity(PROTOCOL, true, &alice, &keys).unwrap();
    let responder_keys = Keys {
        prologue: b"p",
        ..Keys::default()
    };
    let mut responder = Handshake::with_identity(PROTOCOL, false, &bob, &responder_keys).unwrap();
    let m1 = initiator.write(b"one").unwrap();
    assert_eq!(&responder.read(&m1).unwrap()[..], b"one");
    assert_eq!(
        responder.remote_static(),
        Some(&alice.x25519_public_key()[..])
    );
    let m2 = responder.write(b"two").unwrap();
    assert_eq!(&initiator.read(&m2).unwrap()[..], b"two");
    assert_eq!(initiator.root_key().unwrap(), responder.root_key().unwrap());
}

#[test]
fn a_second_static_key_is_refused() {
    let alice = IdentityKey::from_seed(&[1; 32]);
    let keys = Keys {
        local_static: Some(&[5; 32]),
        ..Keys::default()
    };
    let e = Handshake::with_identity(PROTOCOL, false, &alice, &keys)
        .err()
        .unwrap();
    assert_eq!(e.code(), "ERR_INVALID_ARG_VALUE");
}
