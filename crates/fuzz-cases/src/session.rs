//! Sessions: encrypted records (and the state decoders behind them), public
//! identity keys, prekey bundles, the Noise_IK and prekey first messages,
//! and ratchet messages.
//!
//! Sessions and prekey sets draw their randomness inside the crate, so their
//! fixtures cannot come from a seeded RNG: `write_fixtures` makes them once
//! and they are committed in `fixtures/`, next to the seeds that need them.

use std::{path::PathBuf, sync::OnceLock};

use keyward_session::{
    fingerprint,
    fuzzing::{
        open_record, open_record_version, seal_record, seal_record_version, KIND_IDENTITY,
        KIND_PREKEYS, KIND_SESSION, PREKEYS_VERSION,
    },
    one_time_kem::ENCODED_LEN as ONE_TIME_KEM_LEN,
    IdentityKey, PreKeySet, Session,
};

use crate::{fixtures, seed, split, Outcome};

const STORAGE_KEY: [u8; 32] = fixtures::key(3);
/// Prekey sets: without and with ML-KEM prekeys (last-resort and one-time).
const PREKEY_FILES: [&str; 2] = ["prekeys.record", "prekeys-kem.record"];
/// A version 1 prekey-set record (before one-time ML-KEM prekeys), made by
/// the code of that time; `write_fixtures` leaves it as it is.
const PREKEY_V1_FILE: &str = "prekeys-kem-v1.record";
/// Record selector bit: a prekey-set plaintext of version 2, not 1.
const RECORD_V2: u8 = 0x80;
/// Start selector bit: the bundle is followed by a one-time ML-KEM prekey.
const WITH_KEM: u8 = 0x08;
/// Bob's side of a session, saved before Alice's `RATCHET_SEEDS` messages.
const SESSION_FILE: &str = "session.record";
const RATCHET_SEEDS: &str = "ratchet-messages.bin";

fn alice() -> IdentityKey {
    IdentityKey::from_seed(&fixtures::key(1))
}

fn bob() -> IdentityKey {
    IdentityKey::from_seed(&fixtures::key(2))
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name))
        .unwrap_or_else(|e| panic!("fixture {name}: {e} (run seed-corpora)"))
}

struct Loaded {
    prekeys: [Vec<u8>; 2],
    session: Vec<u8>,
}

fn loaded() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| Loaded {
        prekeys: PREKEY_FILES.map(fixture),
        session: fixture(SESSION_FILE),
    })
}

fn prekeys(kem: bool) -> PreKeySet {
    PreKeySet::deserialize(&loaded().prekeys[usize::from(kem)], &STORAGE_KEY)
        .expect("the prekey fixture")
}

/// Makes the committed fixtures: Bob's two prekey sets, and Bob's session
/// after a Noise_IK start with three messages from Alice it has not read
/// (length-prefixed in `ratchet-messages.bin`).
pub fn write_fixtures() {
    std::fs::create_dir_all(fixture_path("")).unwrap();
    for (file, kem) in PREKEY_FILES.iter().zip([false, true]) {
        let mut set = PreKeySet::generate(&bob(), 4, kem).unwrap();
        if kem {
            set.add_one_time_kem(2).unwrap();
        }
        std::fs::write(fixture_path(file), set.serialize(&STORAGE_KEY).unwrap()).unwrap();
    }
    let (initiating, first) = Session::initiate(&alice(), &bob().public_key(), b"", b"").unwrap();
    let responded = Session::respond(&bob(), &first, b"", b"", None).unwrap();
    let (mut a, _) = initiating.complete(&responded.reply).unwrap();
    std::fs::write(
        fixture_path(SESSION_FILE),
        responded.session.serialize(&STORAGE_KEY).unwrap(),
    )
    .unwrap();
    let mut messages = Vec::new();
    for text in [&b"one"[..], b"two", &[0u8; 500]] {
        let m = a.encrypt(text, b"").unwrap();
        messages.extend_from_slice(&(m.len() as u32).to_be_bytes());
        messages.extend_from_slice(&m);
    }
    std::fs::write(fixture_path(RATCHET_SEEDS), messages).unwrap();
}

/// Selector (mod 5): 0–2 a session, prekey set or identity record's
/// plaintext (wrapped in a valid record here; a prekey set's at version 1,
/// or 2 with bit 7), 3 a whole session record, 4 a public identity key.
pub fn records(data: &[u8]) -> Outcome {
    let Some((selector, bytes)) = split(data) else {
        return Outcome::Refused;
    };
    let wrap = |kind| seal_record(kind, &STORAGE_KEY, bytes).unwrap();
    let canonical = |kind, again: Vec<u8>| {
        assert_eq!(
            open_record(kind, &STORAGE_KEY, &again).unwrap(),
            bytes,
            "records are canonical"
        );
    };
    match selector % 5 {
        0 => Session::deserialize(&wrap(KIND_SESSION), &STORAGE_KEY)
            .inspect(|s| canonical(KIND_SESSION, s.serialize(&STORAGE_KEY).unwrap()))
            .into(),
        1 if selector & RECORD_V2 != 0 => {
            let record =
                seal_record_version(PREKEYS_VERSION, KIND_PREKEYS, &STORAGE_KEY, bytes).unwrap();
            PreKeySet::deserialize(&record, &STORAGE_KEY)
                .inspect(|s| {
                    let again = s.serialize(&STORAGE_KEY).unwrap();
                    let plain =
                        open_record_version(PREKEYS_VERSION, KIND_PREKEYS, &STORAGE_KEY, &again);
                    assert_eq!(plain.unwrap(), bytes, "records are canonical");
                })
                .into()
        }
        // Version 1 is written back as version 2, which then stays as it is.
        1 => PreKeySet::deserialize(&wrap(KIND_PREKEYS), &STORAGE_KEY)
            .inspect(|s| {
                let v2 = s.serialize(&STORAGE_KEY).unwrap();
                let plain = |r: &[u8]| {
                    open_record_version(PREKEYS_VERSION, KIND_PREKEYS, &STORAGE_KEY, r).unwrap()
                };
                let again = PreKeySet::deserialize(&v2, &STORAGE_KEY).expect("v2 of a v1 record");
                assert_eq!(plain(&again.serialize(&STORAGE_KEY).unwrap()), plain(&v2));
            })
            .into(),
        2 => IdentityKey::deserialize(&wrap(KIND_IDENTITY), &STORAGE_KEY)
            .inspect(|s| canonical(KIND_IDENTITY, s.serialize(&STORAGE_KEY).unwrap()))
            .into(),
        3 => Session::deserialize(bytes, &STORAGE_KEY).into(),
        _ => fingerprint(bytes).into(),
    }
}

pub fn record_seeds() -> Vec<Vec<u8>> {
    let plain = |kind, record: &[u8]| open_record(kind, &STORAGE_KEY, record).unwrap();
    let session = &loaded().session;
    let identity = bob().serialize(&STORAGE_KEY).unwrap();
    let mut out = vec![
        seed(0, &plain(KIND_SESSION, session)),
        seed(2, &plain(KIND_IDENTITY, &identity)),
        seed(3, session),
        seed(4, &bob().public_key()),
    ];
    for set in &loaded().prekeys {
        let v2 = open_record_version(PREKEYS_VERSION, KIND_PREKEYS, &STORAGE_KEY, set).unwrap();
        // 0x83: bit 7 set, and 131 mod 5 = 1.
        out.push(seed(RECORD_V2 | 3, &v2));
    }
    out.push(seed(1, &plain(KIND_PREKEYS, &fixture(PREKEY_V1_FILE))));
    out
}

/// Selector (mod 4): 0 a Noise_IK first message to Bob; 1 a prekey message
/// to Bob (bit 2: to the set with ML-KEM prekeys); 2 a prekey bundle,
/// started from by Alice (bit 3: its last `ONE_TIME_KEM_LEN` bytes are a
/// one-time ML-KEM prekey); 3 a Noise_IK reply to a fresh start of Alice's.
pub fn starts(data: &[u8]) -> Outcome {
    let Some((selector, bytes)) = split(data) else {
        return Outcome::Refused;
    };
    match selector % 4 {
        0 => Session::respond(&bob(), bytes, b"", b"", None).into(),
        1 => Session::accept(&bob(), &mut prekeys(selector & 4 != 0), bytes, b"", None).into(),
        2 if selector & WITH_KEM != 0 => match bytes.len().checked_sub(ONE_TIME_KEM_LEN) {
            Some(at) => {
                let (bundle, kem) = bytes.split_at(at);
                Session::from_bundle_with_kem(&alice(), bundle, Some(kem), None).into()
            }
            None => Outcome::Refused,
        },
        2 => Session::from_bundle(&alice(), bytes, None).into(),
        _ => {
            let (initiating, _) =
                Session::initiate(&alice(), &bob().public_key(), b"", b"").unwrap();
            initiating.complete(bytes).into()
        }
    }
}

pub fn start_seeds() -> Vec<Vec<u8>> {
    let (_, first) = Session::initiate(&alice(), &bob().public_key(), b"", b"hi").unwrap();
    let mut out = vec![seed(0, &first)];
    for kem in [false, true] {
        let bundle = prekeys(kem).bundle();
        let mut session = Session::from_bundle(&alice(), &bundle, None).unwrap();
        out.push(seed(2, &bundle));
        out.push(seed(
            1 | u8::from(kem) << 2,
            &session.encrypt(b"hello", b"").unwrap(),
        ));
    }
    // From the bundle and a one-time ML-KEM prekey of the set's upload.
    let mut set = prekeys(true);
    let kem = set.upload(&bob()).unwrap().one_time_kem[0].to_bytes();
    let bundle = set.bundle();
    let mut session = Session::from_bundle_with_kem(&alice(), &bundle, Some(&kem), None).unwrap();
    out.push(seed(2 | WITH_KEM, &[&bundle[..], &kem].concat()));
    out.push(seed(1 | 4, &session.encrypt(b"hello", b"").unwrap()));
    out
}

/// Selector bit 0: also parse the header alone. The rest is a message to
/// Bob's saved session.
pub fn ratchet(data: &[u8]) -> Outcome {
    let Some((selector, bytes)) = split(data) else {
        return Outcome::Refused;
    };
    if selector & 1 != 0 {
        let _ = keyward_session::ratchet::Header::parse(bytes);
    }
    let mut session =
        Session::deserialize(&loaded().session, &STORAGE_KEY).expect("the session fixture");
    session.decrypt(bytes, b"").into()
}

pub fn ratchet_seeds() -> Vec<Vec<u8>> {
    let all = fixture(RATCHET_SEEDS);
    let mut rest = &all[..];
    let mut out = Vec::new();
    while let Some((len, tail)) = rest.split_first_chunk::<4>() {
        let len = u32::from_be_bytes(*len) as usize;
        out.push(seed(0, &tail[..len]));
        rest = &tail[len..];
    }
    out
}
