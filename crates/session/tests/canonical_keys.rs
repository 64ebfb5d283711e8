//! X25519 public keys on the wire must be canonical (below p, top bit
//! clear). RFC 7748 masks the top bit, so a bundle whose unsigned one-time
//! prekey had that bit flipped used to start a session as if unchanged: the
//! round-trip property `prekey_bundles` found it (delta 0x80 on the key's
//! last byte). Every parser now refuses such a key.

use keyward_session::{x25519::is_canonical, IdentityKey, PreKeySet, Session};

fn assert_non_canonical<T>(outcome: keyward_session::Result<T>) {
    let error = outcome.err().expect("refused");
    assert!(
        error.to_string().contains("non-canonical X25519 key"),
        "{error}"
    );
}

#[test]
fn a_flipped_top_bit_of_the_one_time_prekey_is_refused() {
    let alice = IdentityKey::from_seed(&[1; 32]);
    let bob = IdentityKey::from_seed(&[2; 32]);
    for kem in [false, true] {
        let mut set = PreKeySet::generate(&bob, 1, kem).unwrap();
        let mut bundle = set.bundle();
        let last = bundle.len() - 1;
        bundle[last] ^= 0x80;
        assert_non_canonical(Session::from_bundle(&alice, &bundle, None));
        assert_eq!(set.one_time_count(), 1);
    }
}

#[test]
fn a_flipped_top_bit_of_the_base_key_or_ratchet_key_is_refused() {
    let alice = IdentityKey::from_seed(&[1; 32]);
    let bob = IdentityKey::from_seed(&[2; 32]);
    let mut set = PreKeySet::generate(&bob, 1, false).unwrap();
    let mut session = Session::from_bundle(&alice, &set.bundle(), None).unwrap();
    let first = session.encrypt(b"hi", b"").unwrap();
    // version, kind, sender (32), then the base key's 32 bytes.
    let mut changed = first.clone();
    changed[2 + 32 + 31] ^= 0x80;
    assert_non_canonical(Session::accept(&bob, &mut set, &changed, b"", None));
    assert_eq!(set.one_time_count(), 1);

    let (mut bob_side, _) = Session::accept(&bob, &mut set, &first, b"", None).unwrap();
    let mut reply = bob_side.encrypt(b"yo", b"").unwrap();
    // version, kind, then the ratchet key's 32 bytes.
    reply[2 + 31] ^= 0x80;
    assert_non_canonical(session.decrypt(&reply, b""));
}

#[test]
fn canonical_means_below_p() {
    let mut p_minus_1 = [0xff; 32];
    p_minus_1[31] = 0x7f;
    p_minus_1[0] = 0xec;
    assert!(is_canonical(&p_minus_1));
    let mut p = p_minus_1;
    p[0] = 0xed;
    assert!(!is_canonical(&p));
    assert!(!is_canonical(&[0xff; 32]));
    assert!(is_canonical(&[0; 32]));
    let mut high = [9; 32];
    high[31] |= 0x80;
    assert!(!is_canonical(&high));
    let public = keyward_session::x25519::public_key(&[5; 32]);
    assert!(is_canonical(&public));
}

/// Exhaustive over the part of a bundle no signature covers (flag, one-time
/// id, one-time key): every value of every byte other than the original is
/// refused, by `from_bundle` or by `accept`, and consumes no prekey.
#[test]
fn every_change_of_the_unsigned_tail_is_refused() {
    let alice = IdentityKey::from_seed(&[3; 32]);
    let bob = IdentityKey::from_seed(&[4; 32]);
    let mut set = PreKeySet::generate(&bob, 1, false).unwrap();
    let bundle = set.bundle();
    let tail = bundle.len() - (1 + 4 + 32);
    for i in tail..bundle.len() {
        for delta in 1..=255u8 {
            let mut changed = bundle.clone();
            changed[i] ^= delta;
            if let Ok(mut session) = Session::from_bundle(&alice, &changed, None) {
                let first = session.encrypt(b"hi", b"").unwrap();
                assert!(
                    Session::accept(&bob, &mut set, &first, b"", None).is_err(),
                    "byte {i} xor {delta:#04x} started a session"
                );
                assert_eq!(set.one_time_count(), 1);
            }
        }
    }
}
