//! Sealed data: boxes (and so JSON boxes and tokens, which are boxes in
//! other clothes), streams, the vault's manifest, and PHC password strings.

use keyward_seal::{
    boxes,
    password::{self, Binding, PasswordParams},
    stream::{StreamOpener, StreamSealer},
    vault::{fuzzing, Kind, Vault},
    SecretKey,
};
use rand_core::OsRng;

use crate::{fixtures, seed, split, Outcome};

fn key() -> SecretKey {
    SecretKey::from_bytes(&fixtures::key(9)).expect("a 32-byte key")
}

/// The smallest Argon2id costs: a hash with these is verified in full,
/// others are only parsed (an attacker's PHC string may ask for gigabytes;
/// that it is refused is the password module's own test, not a fuzz case).
const CHEAP: PasswordParams = PasswordParams {
    memory: 8,
    iterations: 1,
    parallelism: 1,
};

/// Selector bit 0: with associated data; bit 1: with a ttl; bit 2: also
/// parse the input as a key.
pub fn boxes(data: &[u8]) -> Outcome {
    let Some((selector, bytes)) = split(data) else {
        return Outcome::Refused;
    };
    if selector & 4 != 0 {
        let _ = SecretKey::from_bytes(bytes);
    }
    let aad: &[u8] = if selector & 1 != 0 { b"aad" } else { b"" };
    let ttl = (selector & 2 != 0).then_some(60_000);
    let opened = boxes::open(&key(), bytes, aad, ttl, fixtures::NOW_MS);
    if let Ok(o) = &opened {
        assert_eq!(boxes::sealed_len(o.plaintext.len()), bytes.len());
    }
    opened.into()
}

pub fn box_seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (selector, plaintext) in [(0u8, &b""[..]), (1, b"{\"a\":1}"), (2, &[7u8; 300][..])] {
        let aad: &[u8] = if selector & 1 != 0 { b"aad" } else { b"" };
        let sealed = boxes::seal(&key(), plaintext, aad, fixtures::NOW_MS, &mut OsRng).unwrap();
        out.push(seed(selector, &sealed));
    }
    out
}

/// The selector is the size (1–256 bytes) of the pieces the ciphertext
/// arrives in, so chunk boundaries fall everywhere.
pub fn stream(data: &[u8]) -> Outcome {
    let Some((selector, bytes)) = split(data) else {
        return Outcome::Refused;
    };
    let mut opener = StreamOpener::new(&key(), b"");
    for piece in bytes.chunks(usize::from(selector) + 1) {
        if opener.push(piece).is_err() {
            return Outcome::Refused;
        }
    }
    opener.finish().into()
}

pub fn stream_seeds() -> Vec<Vec<u8>> {
    [(0u8, 0usize), (63, 100), (255, 5000)]
        .iter()
        .map(|&(selector, len)| {
            let mut sealer = StreamSealer::new(&key(), b"", 1024, &mut OsRng).unwrap();
            let mut sealed = sealer.push(&vec![0x5a; len]).unwrap();
            sealed.extend(sealer.finish().unwrap());
            seed(selector, &sealed)
        })
        .collect()
}

/// Selector bit 0: decode as format 1. The manifest is the plaintext of a
/// sealed box; these are the bytes behind it.
pub fn manifest(data: &[u8]) -> Outcome {
    let Some((selector, bytes)) = split(data) else {
        return Outcome::Refused;
    };
    if fuzzing::decode_manifest(bytes, selector & 1 != 0) {
        Outcome::Accepted
    } else {
        Outcome::Refused
    }
}

pub fn manifest_seeds() -> Vec<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("keyward-fuzz-seed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut out = Vec::new();
    let mut vault = Vault::open(&dir, key(), fixtures::NOW_MS).unwrap();
    for i in 0u8..3 {
        let path = vec![b"users".to_vec(), vec![i]];
        vault.set(&path, b"profile", Kind::Json, b"{}").unwrap();
        vault.set(&[], &[i], Kind::Bytes, &[i; 40]).unwrap();
        vault.save(fixtures::NOW_MS, &mut OsRng).unwrap();
        out.push(seed(0, &fuzzing::manifest_plaintext(&dir, &key())));
    }
    vault.close();
    std::fs::remove_dir_all(&dir).unwrap();
    out
}

/// The input is a PHC string: always parsed, and verified in full when it
/// asks for the cheapest costs. Selector bit 0: with pepper and associated
/// data; bit 1: with a ttl.
pub fn phc(data: &[u8]) -> Outcome {
    let Some((selector, bytes)) = split(data) else {
        return Outcome::Refused;
    };
    let Ok(encoded) = std::str::from_utf8(bytes) else {
        return Outcome::Refused;
    };
    match password::needs_rehash(encoded, CHEAP) {
        Ok(false) => {
            let ttl = (selector & 2 != 0).then_some(60_000);
            password::verify_password(encoded, b"pw", &binding(selector), ttl, fixtures::NOW_MS)
                .into()
        }
        other => other.into(),
    }
}

fn binding(selector: u8) -> Binding<'static> {
    if selector & 1 != 0 {
        Binding {
            pepper: Some(b"pepper"),
            aad: Some(b"user 1"),
        }
    } else {
        Binding {
            pepper: None,
            aad: None,
        }
    }
}

pub fn phc_seeds() -> Vec<Vec<u8>> {
    (0u8..4)
        .map(|selector| {
            let hash = password::hash_password(
                b"pw",
                CHEAP,
                &binding(selector),
                fixtures::NOW_MS,
                &mut OsRng,
            )
            .unwrap();
            seed(selector, hash.as_bytes())
        })
        .collect()
}
