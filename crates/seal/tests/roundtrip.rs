//! Round-trip properties of every serialized format of the seal core
//! (issue 13): what is written reads back as it was, and a change of any
//! single byte of the written form is refused. Sealed boxes, streams and the
//! vault's files are authenticated in full; in a PHC string every byte is an
//! input of the hash or of its parser (see `phc_strings`).

use keyward_seal::password::{hash_password, verify_password, Binding, PasswordParams};
use keyward_seal::stream::{StreamOpener, StreamSealer, MIN_CHUNK};
use keyward_seal::vault::{Kind, Vault};
use keyward_seal::{boxes, SecretKey};
use proptest::prelude::*;
use rand_core::OsRng;

/// Every single-byte change of `bytes`: each position xored with `delta` (≠ 0).
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

/// Seals `data` in pieces of `piece` bytes.
fn seal_stream(key: &SecretKey, aad: &[u8], data: &[u8], piece: usize) -> Vec<u8> {
    let mut sealer = StreamSealer::new(key, aad, MIN_CHUNK, &mut OsRng).unwrap();
    let mut out = Vec::new();
    for part in data.chunks(piece.max(1)) {
        out.extend(sealer.push(part).unwrap());
    }
    out.extend(sealer.finish().unwrap());
    out
}

fn open_stream(
    key: &SecretKey,
    aad: &[u8],
    sealed: &[u8],
    piece: usize,
) -> keyward_seal::Result<Vec<u8>> {
    let mut opener = StreamOpener::new(key, aad);
    let mut out = Vec::new();
    for part in sealed.chunks(piece.max(1)) {
        out.extend_from_slice(&opener.push(part)?);
    }
    out.extend_from_slice(&opener.finish()?);
    Ok(out)
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn sealed_boxes(plaintext in proptest::collection::vec(any::<u8>(), 0..200),
                    aad in proptest::collection::vec(any::<u8>(), 0..40),
                    now in 0u64..(1 << 48), delta in 1u8..) {
        let key = SecretKey::generate(&mut OsRng);
        let sealed = boxes::seal(&key, &plaintext, &aad, now, &mut OsRng).unwrap();
        let opened = boxes::open(&key, &sealed, &aad, None, now).unwrap();
        prop_assert_eq!(&opened.plaintext[..], &plaintext[..]);
        prop_assert_eq!(opened.timestamp_ms, now);
        for changed in flips(&sealed, delta) {
            prop_assert!(boxes::open(&key, &changed, &aad, None, now).is_err());
        }
    }

    #[test]
    fn streams(data in proptest::collection::vec(any::<u8>(), 0..2 * MIN_CHUNK + 64),
               aad in proptest::collection::vec(any::<u8>(), 0..16),
               piece in 1usize..2000, delta in 1u8..) {
        let key = SecretKey::generate(&mut OsRng);
        let sealed = seal_stream(&key, &aad, &data, piece);
        prop_assert_eq!(open_stream(&key, &aad, &sealed, piece).unwrap(), data);
        // Header (version, chunk size, nonce prefix) and every chunk.
        for changed in flips(&sealed, delta) {
            prop_assert!(open_stream(&key, &aad, &changed, piece).is_err());
        }
    }
}

/// Tiny costs: the property is about the string, not the work factor.
const TINY: PasswordParams = PasswordParams {
    memory: 8,
    iterations: 1,
    parallelism: 1,
};

proptest! {
    #![proptest_config(config(16))]

    /// Every byte of a PHC string is the algorithm, version, costs, salt or
    /// tag, each an input of the hash or checked by the parser. A changed
    /// byte never verifies: it is a `Format` error or `Ok(false)`. (Changes
    /// that leave the string's ASCII are not tried: it arrives as UTF-8 text.)
    #[test]
    fn phc_strings(password in proptest::collection::vec(any::<u8>(), 0..32), now in 0u64..(1 << 48), delta in 1u8..0x80) {
        let hash = hash_password(&password, TINY, &Binding::default(), now, &mut OsRng).unwrap();
        prop_assert!(verify_password(&hash, &password, &Binding::default(), None, now).unwrap());
        for changed in flips(hash.as_bytes(), delta) {
            let changed = String::from_utf8(changed).unwrap();
            let outcome = verify_password(&changed, &password, &Binding::default(), None, now);
            prop_assert!(!matches!(outcome, Ok(true)), "{} verified", changed);
        }
    }
}

/// The files of a saved vault: the manifest (a sealed box) and the packs.
fn vault_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Opens the vault and reads every entry back; any failure is an `Err`.
fn read_vault(
    dir: &std::path::Path,
    key: &[u8; 32],
    entries: &[(Vec<u8>, Vec<u8>)],
) -> Result<Vec<Vec<u8>>, String> {
    let mut vault =
        Vault::open(dir, SecretKey::from_bytes(key).unwrap(), 0).map_err(|e| e.to_string())?;
    let mut values = Vec::new();
    for (tag, _) in entries {
        let value = vault
            .get(&[], tag)
            .map_err(|e| e.to_string())?
            .ok_or("missing entry")?;
        values.push(value.data.to_vec());
    }
    vault.close();
    Ok(values)
}

proptest! {
    #![proptest_config(config(4))]

    /// A saved vault reopens to the same entries; a changed byte in the
    /// manifest stops the open, one in a pack stops the read of its entry.
    #[test]
    fn vault_files_on_disk(values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..48), 1..4), delta in 1u8..) {
        let dir = tempfile::tempdir().unwrap();
        let key: [u8; 32] = rand::random();
        let entries: Vec<(Vec<u8>, Vec<u8>)> = values.into_iter().enumerate().map(|(i, v)| (format!("tag{i}").into_bytes(), v)).collect();
        let mut vault = Vault::open(dir.path(), SecretKey::from_bytes(&key).unwrap(), 0).unwrap();
        for (tag, value) in &entries {
            vault.set(&[], tag, Kind::Bytes, value).unwrap();
        }
        vault.save(0, &mut OsRng).unwrap();
        vault.close();
        let expected: Vec<Vec<u8>> = entries.iter().map(|(_, v)| v.clone()).collect();
        prop_assert_eq!(read_vault(dir.path(), &key, &entries).unwrap(), expected);
        for file in vault_files(dir.path()) {
            let original = std::fs::read(&file).unwrap();
            for changed in flips(&original, delta) {
                std::fs::write(&file, &changed).unwrap();
                prop_assert!(read_vault(dir.path(), &key, &entries).is_err(), "{:?}", file);
            }
            std::fs::write(&file, &original).unwrap();
        }
    }
}
