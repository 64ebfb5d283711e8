//! The handshake's refusals: a client pinning another relay key, a static
//! key that is not the claimed identity's, a replayed message 1.

mod common;

use common::*;
use keyward_relay::handshake::MESSAGE1_LEN;
use keyward_relay::{respond, Body, ClientHandshake, ErrorCode, Frame, Received, Responder};

fn connect(
    id: &keyward_session::IdentityKey,
) -> (keyward_relay::Channel, keyward_relay::Accepted, Vec<u8>) {
    let (client, m1) = ClientHandshake::start(id, &relay_public()).unwrap();
    assert_eq!(m1.len(), MESSAGE1_LEN);
    let answer = respond(&RELAY_SECRET, &m1).unwrap();
    let accepted = answer.outcome.unwrap();
    (client.finish(&answer.message2).unwrap(), accepted, m1)
}

#[test]
fn a_client_runs_commands_after_the_handshake() {
    let alice = identity(1);
    let (mut c, accepted, _) = connect(&alice);
    assert_eq!(accepted.identity, alice.public_key());
    assert_eq!(accepted.fingerprint, alice.fingerprint());
    let mut r = accepted.channel;
    for f in [
        Frame::new(1, Body::Register { device: 1 }),
        Frame::new(2, Body::Fetch),
    ] {
        let m = c.seal(&f).unwrap();
        assert_eq!(r.open(&m[0]).unwrap(), Some(Received::Frame(f)));
    }
    let reply = Frame::new(2, Body::QueueEmpty);
    let m = r.seal(&reply).unwrap();
    assert_eq!(c.open(&m[0]).unwrap(), Some(Received::Frame(reply)));
}

#[test]
fn a_client_pinning_another_relay_key_is_not_answered() {
    let wrong = keyward_relay::handshake::relay_public_key(&[7; 32]);
    let (_, m1) = ClientHandshake::start(&identity(1), &wrong).unwrap();
    let e = respond(&RELAY_SECRET, &m1).err().expect("refused");
    assert_eq!(e.code(), "ERR_RELAY_HANDSHAKE");
    // A message 1 of garbage, or cut short, likewise.
    assert!(Responder::read(&RELAY_SECRET, &[0u8; MESSAGE1_LEN]).is_err());
    let (_, m1) = ClientHandshake::start(&identity(1), &relay_public()).unwrap();
    assert!(Responder::read(&RELAY_SECRET, &m1[..MESSAGE1_LEN - 1]).is_err());
}

#[test]
fn a_static_key_that_is_not_the_claimed_identitys_is_refused() {
    let (alice, mallory) = (identity(1), identity(2));
    // Mallory's static key, Alice's identity in the payload.
    let (mut h, m1) = raw_message1(&mallory, &relay_public(), &claim(&alice));
    let answer = respond(&RELAY_SECRET, &m1).unwrap();
    let e = answer.outcome.err().expect("refused");
    assert_eq!(e.code(), "ERR_RELAY_IDENTITY_MISMATCH");
    // Message 2 tells the client why: version 1, status 0x000b.
    assert_eq!(&h.read(&answer.message2).unwrap()[..], &[1, 0, 0x0b]);
    // The responder cannot be made to accept it.
    let responder = Responder::read(&RELAY_SECRET, &m1).unwrap();
    assert_eq!(
        responder.claim().unwrap_err().code(),
        "ERR_RELAY_IDENTITY_MISMATCH"
    );
    assert!(responder.accept().is_err());
    // A claim that is not a valid identity key (a small-order point).
    let mut small = vec![1u8];
    small.extend_from_slice(&[0u8; 32]);
    small[1] = 1;
    let (_, m1) = raw_message1(&alice, &relay_public(), &small);
    let e = respond(&RELAY_SECRET, &m1).unwrap().outcome.err().unwrap();
    assert_eq!(e.code(), "ERR_RELAY_IDENTITY_MISMATCH");
}

#[test]
fn the_negated_identity_is_the_same_holder_and_fingerprint() {
    let alice = identity(1);
    let mut minus_a = alice.public_key();
    minus_a[31] ^= 0x80;
    let (_, m1) = raw_message1(&alice, &relay_public(), &[&[1u8][..], &minus_a].concat());
    let accepted = respond(&RELAY_SECRET, &m1).unwrap().outcome.unwrap();
    assert_eq!(accepted.identity, minus_a);
    assert_eq!(accepted.fingerprint, alice.fingerprint());
}

#[test]
fn another_version_or_payload_is_refused_with_its_code() {
    let alice = identity(1);
    let mut v2 = claim(&alice);
    v2[0] = 2;
    let (mut h, m1) = raw_message1(&alice, &relay_public(), &v2);
    let answer = respond(&RELAY_SECRET, &m1).unwrap();
    assert_eq!(
        answer.outcome.err().unwrap().code(),
        "ERR_RELAY_UNSUPPORTED_VERSION"
    );
    assert_eq!(&h.read(&answer.message2).unwrap()[..], &[1, 0, 0x02]);
    for payload in [
        &[][..],
        &claim(&alice)[..32],
        &[claim(&alice), vec![0]].concat(),
    ] {
        let (_, m1) = raw_message1(&alice, &relay_public(), payload);
        let e = respond(&RELAY_SECRET, &m1).unwrap().outcome.err().unwrap();
        assert_eq!(e.code(), "ERR_RELAY_MALFORMED");
    }
}

#[test]
fn the_client_reads_a_refusal_from_message_2() {
    let (client, m1) = ClientHandshake::start(&identity(1), &relay_public()).unwrap();
    let m2 = Responder::read(&RELAY_SECRET, &m1)
        .unwrap()
        .refuse(ErrorCode::Unavailable)
        .unwrap();
    let e = client.finish(&m2).err().unwrap();
    assert_eq!(e.code(), "ERR_RELAY_UNAVAILABLE");
    // A tampered message 2 does not authenticate.
    let (client, m1) = ClientHandshake::start(&identity(1), &relay_public()).unwrap();
    let mut m2 = respond(&RELAY_SECRET, &m1).unwrap().message2;
    *m2.last_mut().unwrap() ^= 1;
    assert_eq!(
        client.finish(&m2).err().unwrap().code(),
        "ERR_RELAY_HANDSHAKE"
    );
}

#[test]
fn a_replayed_message_1_yields_a_channel_that_runs_nothing() {
    let alice = identity(1);
    let (mut c, accepted, m1) = connect(&alice);
    let mut real = accepted.channel;
    let register = c
        .seal(&Frame::new(1, Body::Register { device: 1 }))
        .unwrap();
    assert!(matches!(
        real.open(&register[0]),
        Ok(Some(Received::Frame(_)))
    ));
    let fetch = c.seal(&Frame::new(2, Body::Fetch)).unwrap();

    // The attacker replays message 1: the relay cannot tell, and answers.
    let replayed = respond(&RELAY_SECRET, &m1).unwrap().outcome.unwrap();
    assert_eq!(replayed.identity, alice.public_key());
    let mut fake = replayed.channel;
    assert!(!fake.is_registered());
    // Nothing is pushed to it before a REGISTER decrypts ...
    let deliver = Frame::new(
        0,
        Body::Deliver {
            message_id: 1,
            sender: [9; 32],
            sender_device: 1,
            received_at_ms: 0,
            body: vec![1],
        },
    );
    assert_eq!(
        fake.seal(&deliver).unwrap_err().code(),
        "ERR_RELAY_NOT_ALLOWED"
    );
    // ... and none of the real client's transport messages decrypts on it:
    // its keys depend on the relay's fresh ephemeral key.
    for recorded in [&register[0], &fetch[0]] {
        let mut fresh = respond(&RELAY_SECRET, &m1)
            .unwrap()
            .outcome
            .unwrap()
            .channel;
        assert_eq!(
            fresh.open(recorded).unwrap_err().code(),
            "ERR_RELAY_DECRYPTION"
        );
        assert!(!fresh.is_registered());
    }
    assert_eq!(
        fake.open(&[0u8; 40]).unwrap_err().code(),
        "ERR_RELAY_DECRYPTION"
    );
    // The failed channel stays closed.
    assert!(fake.open(&register[0]).is_err());
}

#[test]
fn the_first_frame_must_be_register() {
    let (mut c, accepted, _) = connect(&identity(1));
    let mut r = accepted.channel;
    let fetch = c.seal(&Frame::new(1, Body::Fetch)).unwrap();
    assert_eq!(
        r.open(&fetch[0]).unwrap_err().code(),
        "ERR_RELAY_NOT_ALLOWED"
    );
    let register = c
        .seal(&Frame::new(2, Body::Register { device: 1 }))
        .unwrap();
    assert!(r.open(&register[0]).is_err(), "the connection is over");
}

/// The relay's key object answers as `respond` does with its secret, keeps
/// the public key stable, and refuses a secret of the wrong length.
#[test]
fn a_relay_key_answers_its_clients() {
    use keyward_relay::handshake::RelayKey;
    let key = RelayKey::generate().unwrap();
    let again = RelayKey::from_bytes(key.expose()).unwrap();
    assert_eq!(again.public_key(), key.public_key());
    assert_ne!(RelayKey::generate().unwrap().public_key(), key.public_key());
    let alice = common::identity(1);
    let (client, message1) = ClientHandshake::start(&alice, &key.public_key()).unwrap();
    let answer = again.respond(&message1).unwrap();
    let accepted = answer.outcome.unwrap();
    assert_eq!(accepted.identity, alice.public_key());
    client.finish(&answer.message2).unwrap();
    for len in [0, 31, 33] {
        let err = RelayKey::from_bytes(&vec![7; len]).err().unwrap();
        assert_eq!(err.code(), "ERR_INVALID_ARG_VALUE");
    }
}
