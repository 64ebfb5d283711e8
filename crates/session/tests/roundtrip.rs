//! Round-trip properties of every serialized format of the session core
//! (issue 13): identity, prekey-set and session records, prekey bundles,
//! Noise_IK handshake messages, offline first messages and ratchet
//! messages. What is written reads back as it was; a change of any single
//! byte is refused. One part is not authenticated by design: a bundle's
//! one-time prekey (its id and key after the signature, as in X3DH) is not
//! signed, so a changed one may parse; the receiver then refuses the start it
//! leads to and consumes nothing (`prekey_bundles`; `canonical_keys.rs`
//! tries every value of those bytes).

use keyward_session::{ExpectedPeer, IdentityKey, PreKeySet, Session};
use proptest::prelude::*;

const STORAGE_KEY: [u8; 32] = [7; 32];

fn flips(bytes: &[u8], delta: u8) -> impl Iterator<Item = Vec<u8>> + '_ {
    (0..bytes.len()).map(move |i| {
        let mut changed = bytes.to_vec();
        changed[i] ^= delta;
        changed
    })
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn pair(a: [u8; 32], b: [u8; 32]) -> (IdentityKey, IdentityKey) {
    (IdentityKey::from_seed(&a), IdentityKey::from_seed(&b))
}

/// The offset of a bundle's unsigned tail: flag (1), one-time id (4), key (32).
fn unsigned_tail(bundle: &[u8]) -> usize {
    bundle.len() - (1 + 4 + 32)
}

proptest! {
    #![proptest_config(config(12))]

    #[test]
    fn identity_records(seed in any::<[u8; 32]>(), delta in 1u8..) {
        let identity = IdentityKey::from_seed(&seed);
        let record = identity.serialize(&STORAGE_KEY).unwrap();
        let restored = IdentityKey::deserialize(&record, &STORAGE_KEY).unwrap();
        prop_assert_eq!(restored.public_key(), identity.public_key());
        prop_assert_eq!(&restored.export_seed()[..], &seed[..]);
        for changed in flips(&record, delta) {
            prop_assert!(IdentityKey::deserialize(&changed, &STORAGE_KEY).is_err());
        }
    }

    #[test]
    fn prekey_set_records(seed in any::<[u8; 32]>(), one_time in 0u32..3, kem in any::<bool>(), one_time_kem in 0u32..3, delta in 1u8..) {
        let identity = IdentityKey::from_seed(&seed);
        let mut set = PreKeySet::generate(&identity, one_time, kem).unwrap();
        set.add_one_time_kem(one_time_kem).unwrap();
        let record = set.serialize(&STORAGE_KEY).unwrap();
        let mut restored = PreKeySet::deserialize(&record, &STORAGE_KEY).unwrap();
        prop_assert_eq!(restored.one_time_count(), set.one_time_count());
        prop_assert_eq!(restored.one_time_kem_count(), set.one_time_kem_count());
        prop_assert_eq!(restored.secrets_for_testing(), set.secrets_for_testing());
        // The restored set still starts sessions.
        let peer = IdentityKey::from_seed(&[1; 32]);
        let mut a = Session::from_bundle(&peer, &restored.bundle(), Some(ExpectedPeer::PublicKey(&identity.public_key()))).unwrap();
        let first = a.encrypt(b"hi", b"").unwrap();
        prop_assert!(Session::accept(&identity, &mut restored, &first, b"", None).is_ok());
        for changed in flips(&record, delta) {
            prop_assert!(PreKeySet::deserialize(&changed, &STORAGE_KEY).is_err());
        }
    }

    /// A changed byte of the signed part (or the signature) is refused by
    /// `from_bundle`; one of the unsigned one-time prekey may parse, but the
    /// first message it leads to is refused by `accept`, which then
    /// consumes no prekey.
    #[test]
    fn prekey_bundles(a in any::<[u8; 32]>(), b in any::<[u8; 32]>(), kem in any::<bool>(), delta in 1u8..) {
        let (alice, bob) = pair(a, b);
        let mut set = PreKeySet::generate(&bob, 1, kem).unwrap();
        let bundle = set.bundle();
        let tail = unsigned_tail(&bundle);
        for (i, changed) in flips(&bundle, delta).enumerate() {
            match Session::from_bundle(&alice, &changed, None) {
                Err(_) => {}
                Ok(mut session) => {
                    prop_assert!(i > tail, "byte {} of the signed part was accepted", i);
                    let first = session.encrypt(b"hi", b"").unwrap();
                    prop_assert!(Session::accept(&bob, &mut set, &first, b"", None).is_err());
                    prop_assert_eq!(set.one_time_count(), 1);
                }
            }
        }
        let mut session = Session::from_bundle(&alice, &bundle, Some(ExpectedPeer::PublicKey(&bob.public_key()))).unwrap();
        let first = session.encrypt(b"hi", b"ad").unwrap();
        let (_, plaintext) = Session::accept(&bob, &mut set, &first, b"ad", None).unwrap();
        prop_assert_eq!(plaintext.as_slice(), b"hi");
    }

    /// An offline first message (the X3DH/PQXDH header and the ratchet message in it).
    #[test]
    fn offline_first_messages(a in any::<[u8; 32]>(), b in any::<[u8; 32]>(), kem in any::<bool>(),
                              text in proptest::collection::vec(any::<u8>(), 0..64), delta in 1u8..) {
        let (alice, bob) = pair(a, b);
        let mut set = PreKeySet::generate(&bob, 1, kem).unwrap();
        let mut session = Session::from_bundle(&alice, &set.bundle(), None).unwrap();
        let first = session.encrypt(&text, b"").unwrap();
        for changed in flips(&first, delta) {
            prop_assert!(Session::accept(&bob, &mut set, &changed, b"", None).is_err());
        }
        prop_assert_eq!(set.one_time_count(), 1);
        let (_, plaintext) = Session::accept(&bob, &mut set, &first, b"", None).unwrap();
        prop_assert_eq!(plaintext.as_slice(), &text[..]);
    }

    #[test]
    fn handshake_messages(a in any::<[u8; 32]>(), b in any::<[u8; 32]>(),
                          p1 in proptest::collection::vec(any::<u8>(), 0..32),
                          p2 in proptest::collection::vec(any::<u8>(), 0..32), delta in 1u8..) {
        let (alice, bob) = pair(a, b);
        let (_, m1) = Session::initiate(&alice, &bob.public_key(), b"pro", &p1).unwrap();
        for changed in flips(&m1, delta) {
            prop_assert!(Session::respond(&bob, &changed, b"pro", b"", None).is_err());
        }
        let responded = Session::respond(&bob, &m1, b"pro", &p2, None).unwrap();
        prop_assert_eq!(responded.payload.as_slice(), &p1[..]);
        for changed in flips(&responded.reply, delta) {
            let (init, _) = Session::initiate(&alice, &bob.public_key(), b"pro", &p1).unwrap();
            prop_assert!(init.complete(&changed).is_err());
        }
        // The reply answers this very message 1: a fresh initiation to complete is needed.
        let (init, m1) = Session::initiate(&alice, &bob.public_key(), b"pro", &p1).unwrap();
        let responded = Session::respond(&bob, &m1, b"pro", &p2, None).unwrap();
        let (_, payload) = init.complete(&responded.reply).unwrap();
        prop_assert_eq!(payload.as_slice(), &p2[..]);
    }

    /// Ratchet messages, and session records between them.
    #[test]
    fn ratchet_messages_and_session_records(a in any::<[u8; 32]>(), b in any::<[u8; 32]>(),
                                            text in proptest::collection::vec(any::<u8>(), 0..64),
                                            ad in proptest::collection::vec(any::<u8>(), 0..16), delta in 1u8..) {
        let (alice, bob) = pair(a, b);
        let (init, m1) = Session::initiate(&alice, &bob.public_key(), b"", b"").unwrap();
        let responded = Session::respond(&bob, &m1, b"", b"", None).unwrap();
        let (mut a_session, _) = init.complete(&responded.reply).unwrap();
        let mut b_session = responded.session;
        let message = a_session.encrypt(&text, &ad).unwrap();
        for changed in flips(&message, delta) {
            prop_assert!(b_session.decrypt(&changed, &ad).is_err());
        }
        let opened = b_session.decrypt(&message, &ad).unwrap();
        prop_assert_eq!(opened.as_slice(), &text[..]);

        let record = b_session.serialize(&STORAGE_KEY).unwrap();
        let mut restored = Session::deserialize(&record, &STORAGE_KEY).unwrap();
        prop_assert_eq!(restored.secrets_for_testing(), b_session.secrets_for_testing());
        let reply = restored.encrypt(&text, b"").unwrap();
        let opened = a_session.decrypt(&reply, b"").unwrap();
        prop_assert_eq!(opened.as_slice(), &text[..]);
        for changed in flips(&record, delta) {
            prop_assert!(Session::deserialize(&changed, &STORAGE_KEY).is_err());
        }
    }
}
