//! A client built from crates/session's raw Noise API rather than this
//! crate's `ClientHandshake`: it can claim any identity with any static key
//! and encrypt any bytes, as a hostile or independent client would.
#![allow(dead_code)]

use keyward_relay::handshake::{relay_public_key, PROLOGUE, PROTOCOL};
use keyward_relay::{respond, Accepted, Answer};
use keyward_session::noise::{Handshake, Keys, Transport};
use keyward_session::IdentityKey;

pub const RELAY_SECRET: [u8; 32] = [0x42; 32];

pub fn relay_public() -> [u8; 32] {
    relay_public_key(&RELAY_SECRET)
}

pub fn identity(n: u8) -> IdentityKey {
    IdentityKey::from_seed(&[n; 32])
}

/// Message 1 with `static_of`'s X25519 key, carrying `payload`.
pub fn raw_message1(
    static_of: &IdentityKey,
    relay: &[u8; 32],
    payload: &[u8],
) -> (Handshake, Vec<u8>) {
    let mut h = Handshake::with_identity(
        PROTOCOL,
        true,
        static_of,
        &Keys {
            local_static: None,
            remote_static: Some(relay),
            prologue: PROLOGUE,
            fixed_ephemeral: None,
        },
    )
    .unwrap();
    let m = h.write(payload).unwrap();
    (h, m)
}

pub fn claim(identity: &IdentityKey) -> Vec<u8> {
    [&[1u8][..], &identity.public_key()].concat()
}

/// A raw client connected to a relay channel.
pub fn raw_pair(id: &IdentityKey) -> (Transport, Accepted) {
    let (mut h, m1) = raw_message1(id, &relay_public(), &claim(id));
    let Answer { message2, outcome } = respond(&RELAY_SECRET, &m1).unwrap();
    assert_eq!(&h.read(&message2).unwrap()[..], &[1, 0, 0]);
    (h.into_transport().unwrap(), outcome.unwrap())
}
