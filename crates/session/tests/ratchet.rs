//! The Double Ratchet's behaviour: out-of-order delivery within the limits,
//! and every refusal (duplicate, tampered, too far ahead, dropped keys)
//! leaving the session usable. Plus persistence.

mod common;

use common::{bundle_pair, code, noise_pair, KEY};
use keyward_session::ratchet::{MAX_FORWARD_JUMPS, MAX_SKIPPED_PER_CHAIN};
use keyward_session::Session;

#[test]
fn out_of_order_within_and_across_chains() {
    for (mut a, mut b) in [noise_pair(), bundle_pair(false), bundle_pair(true)] {
        let first: Vec<_> = (0..5).map(|i| a.encrypt(&[i], b"").unwrap()).collect();
        assert_eq!(b.decrypt(&first[4], b"").unwrap().to_vec(), [4]);
        let reply = b.encrypt(b"r", b"").unwrap();
        assert_eq!(a.decrypt(&reply, b"").unwrap().to_vec(), b"r");
        let second = a.encrypt(b"new chain", b"").unwrap();
        assert_eq!(b.decrypt(&second, b"").unwrap().to_vec(), b"new chain");
        // Late messages of the earlier chain still open, once.
        for i in [2, 0, 3, 1] {
            assert_eq!(b.decrypt(&first[i], b"").unwrap().to_vec(), [i as u8]);
        }
        assert_eq!(code(b.decrypt(&first[2], b"")), "ERR_SESSION_DUPLICATE");
    }
}

#[test]
fn duplicates_and_tampering_change_nothing() {
    let (mut a, mut b) = noise_pair();
    let m0 = a.encrypt(b"zero", b"ad").unwrap();
    let m1 = a.encrypt(b"one", b"ad").unwrap();
    assert_eq!(b.decrypt(&m0, b"ad").unwrap().to_vec(), b"zero");
    assert_eq!(code(b.decrypt(&m0, b"ad")), "ERR_SESSION_DUPLICATE");
    for i in [0usize, 1, 2, 20, 38, 42, m1.len() - 1] {
        let mut t = m1.clone();
        t[i] ^= 0x40;
        let c = code(b.decrypt(&t, b"ad"));
        assert!(
            [
                "ERR_DECRYPTION",
                "ERR_SESSION_FORMAT",
                "ERR_SESSION_TOO_FAR_AHEAD",
                "ERR_SESSION_DUPLICATE"
            ]
            .contains(&c),
            "byte {i}: {c}"
        );
    }
    assert_eq!(code(b.decrypt(&m1, b"other")), "ERR_DECRYPTION");
    assert_eq!(code(b.decrypt(&m1[..30], b"ad")), "ERR_SESSION_FORMAT");
    assert_eq!(b.decrypt(&m1, b"ad").unwrap().to_vec(), b"one");
    // A message of one session does not open in another.
    let (mut c, _) = noise_pair();
    let m2 = a.encrypt(b"two", b"").unwrap();
    assert_eq!(code(c.decrypt(&m2, b"")), "ERR_DECRYPTION");
}

#[test]
fn forward_jump_limit() {
    let (mut a, mut b) = noise_pair();
    let mut last = Vec::new();
    for _ in 0..=MAX_FORWARD_JUMPS + 1 {
        last.push(a.encrypt(b"", b"").unwrap());
    }
    let far = last.pop().unwrap();
    assert_eq!(code(b.decrypt(&far, b"")), "ERR_SESSION_TOO_FAR_AHEAD");
    // Exactly at the limit is allowed, and the session goes on.
    let at_limit = last.pop().unwrap();
    assert_eq!(b.decrypt(&at_limit, b"").unwrap().to_vec(), b"");
    assert_eq!(b.decrypt(&far, b"").unwrap().to_vec(), b"");
}

#[test]
fn skipped_keys_are_capped_per_chain() {
    let (mut a, mut b) = noise_pair();
    let n = MAX_SKIPPED_PER_CHAIN + 500;
    let messages: Vec<_> = (0..=n)
        .map(|i| a.encrypt(&(i as u32).to_be_bytes(), b"").unwrap())
        .collect();
    b.decrypt(&messages[n], b"").unwrap().to_vec();
    // The 500 oldest skipped keys were dropped, the newest 2 000 kept.
    assert_eq!(
        code(b.decrypt(&messages[0], b"")),
        "ERR_SESSION_KEY_EXPIRED"
    );
    assert_eq!(
        code(b.decrypt(&messages[499], b"")),
        "ERR_SESSION_KEY_EXPIRED"
    );
    assert_eq!(
        b.decrypt(&messages[500], b"").unwrap().to_vec(),
        500u32.to_be_bytes()
    );
    assert_eq!(
        b.decrypt(&messages[n - 1], b"").unwrap().to_vec(),
        ((n - 1) as u32).to_be_bytes()
    );
    let next = a.encrypt(b"next", b"").unwrap();
    assert_eq!(b.decrypt(&next, b"").unwrap().to_vec(), b"next");
}

#[test]
fn sessions_persist_encrypted_and_refuse_bad_records() {
    let (mut a, mut b) = bundle_pair(true);
    let pending = a.encrypt(b"in flight", b"").unwrap();
    let record = b.serialize(&KEY).unwrap();
    assert_ne!(
        record,
        b.serialize(&KEY).unwrap(),
        "a fresh nonce every time"
    );
    let mut restored = Session::deserialize(&record, &KEY).unwrap();
    assert_eq!(
        restored.decrypt(&pending, b"").unwrap().to_vec(),
        b"in flight"
    );
    let reply = restored.encrypt(b"back", b"").unwrap();
    assert_eq!(a.decrypt(&reply, b"").unwrap().to_vec(), b"back");
    // The original (old) state would accept `pending` again: a stored record
    // is a snapshot, so callers persist after each decrypt.
    assert_eq!(b.decrypt(&pending, b"").unwrap().to_vec(), b"in flight");

    assert_eq!(
        code(Session::deserialize(&record, &[1; 32])),
        "ERR_DECRYPTION"
    );
    assert_eq!(
        code(Session::deserialize(&record, &[1; 16])),
        "ERR_INVALID_ARG_VALUE"
    );
    for i in [0, 1, 5, record.len() - 1] {
        let mut t = record.clone();
        t[i] ^= 1;
        let c = code(Session::deserialize(&t, &KEY));
        assert!(
            c == "ERR_DECRYPTION" || c == "ERR_SESSION_FORMAT",
            "byte {i}: {c}"
        );
    }
    assert_eq!(
        code(Session::deserialize(&record[..20], &KEY)),
        "ERR_SESSION_FORMAT"
    );
}
