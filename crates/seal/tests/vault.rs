//! The vault against a real directory: persistence, namespaces, staging,
//! re-keying, tampering and what file names reveal.

use keyward_seal::vault::{Kind, Vault, VaultError};
use keyward_seal::{Error, SecretKey};
use rand_core::OsRng;

fn key(byte: u8) -> SecretKey {
    SecretKey::from_bytes(&[byte; 32]).unwrap()
}

fn get(vault: &mut Vault, path: &[&str], tag: &str) -> Option<Vec<u8>> {
    let path: Vec<Vec<u8>> = path.iter().map(|p| p.as_bytes().to_vec()).collect();
    vault
        .get(&path, tag.as_bytes())
        .unwrap()
        .map(|v| v.data.to_vec())
}

fn set(vault: &mut Vault, path: &[&str], tag: &str, value: &str) {
    let path: Vec<Vec<u8>> = path.iter().map(|p| p.as_bytes().to_vec()).collect();
    vault
        .set(&path, tag.as_bytes(), Kind::Bytes, value.as_bytes())
        .unwrap();
}

#[test]
fn persists_namespaces_and_staging() {
    let dir = tempfile::tempdir().unwrap();
    let mut vault = Vault::open(dir.path(), key(1), 0).unwrap();
    set(&mut vault, &[], "alice", "one");
    set(&mut vault, &["users"], "alice", "two");
    set(&mut vault, &["users", "admins"], "alice", "three");
    vault.save(0, &mut OsRng).unwrap();
    set(&mut vault, &[], "bob", "staged");
    assert_eq!(get(&mut vault, &[], "bob").as_deref(), Some(&b"staged"[..]));
    vault.rollback().unwrap();
    assert_eq!(get(&mut vault, &[], "bob"), None);
    assert!(vault.delete(&[], b"alice").unwrap());
    assert!(!vault.has(&[], b"alice").unwrap());
    vault.rollback().unwrap();
    drop(vault);

    let mut vault = Vault::open(dir.path(), key(1), 0).unwrap();
    assert_eq!(get(&mut vault, &[], "alice").as_deref(), Some(&b"one"[..]));
    assert_eq!(
        get(&mut vault, &["users"], "alice").as_deref(),
        Some(&b"two"[..])
    );
    assert_eq!(
        get(&mut vault, &["users", "admins"], "alice").as_deref(),
        Some(&b"three"[..])
    );
    assert_eq!(
        vault.tags(&[b"users".to_vec()]).unwrap(),
        vec![b"alice".to_vec()]
    );
    assert_eq!(vault.generation(), 1);

    // No file name mentions a tag or a namespace.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(!name.contains("alice") && !name.contains("users"), "{name}");
    }
}

#[test]
fn wrong_key_tampering_and_rekey() {
    let dir = tempfile::tempdir().unwrap();
    let mut vault = Vault::open(dir.path(), key(1), 0).unwrap();
    set(&mut vault, &[], "secret", "value");
    vault.save(0, &mut OsRng).unwrap();
    drop(vault);
    assert!(matches!(
        Vault::open(dir.path(), key(2), 0),
        Err(VaultError::Seal(Error::Decryption(_)))
    ));

    let mut vault = Vault::open(dir.path(), key(1), 0).unwrap();
    vault.rekey(key(3), 0, &mut OsRng).unwrap();
    drop(vault);
    assert!(matches!(
        Vault::open(dir.path(), key(1), 0),
        Err(VaultError::Seal(Error::Decryption(_)))
    ));
    let mut vault = Vault::open(dir.path(), key(3), 0).unwrap();
    assert_eq!(
        get(&mut vault, &[], "secret").as_deref(),
        Some(&b"value"[..])
    );
    drop(vault);

    // Flip a byte of the pack: the record is not the one the manifest recorded.
    let pack = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pack"))
        .unwrap();
    let mut bytes = std::fs::read(&pack).unwrap();
    bytes[40] ^= 1;
    std::fs::write(&pack, bytes).unwrap();
    let mut vault = Vault::open(dir.path(), key(3), 0).unwrap();
    assert!(matches!(
        vault.get(&[], b"secret"),
        Err(VaultError::Integrity(_))
    ));
}

#[test]
fn compaction_keeps_disk_use_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut vault = Vault::open(dir.path(), key(1), 0).unwrap();
    let big = "x".repeat(10_000);
    for round in 0..20 {
        for i in 0..10 {
            set(&mut vault, &[], &format!("t{i}"), &format!("{round}{big}"));
        }
        set(&mut vault, &[], "stable", "kept");
        if round > 0 {
            vault.delete(&[], b"stable").unwrap();
            set(&mut vault, &[], "stable", "kept");
        }
        vault.save(0, &mut OsRng).unwrap();
    }
    let used: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(used < 3 * 10 * 10_100, "{used} bytes on disk");
    drop(vault);
    let mut vault = Vault::open(dir.path(), key(1), 0).unwrap();
    assert_eq!(
        get(&mut vault, &[], "t3").unwrap(),
        format!("19{big}").into_bytes()
    );
    assert_eq!(
        get(&mut vault, &[], "stable").as_deref(),
        Some(&b"kept"[..])
    );
}

#[test]
fn destroy_removes_everything() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("v");
    let mut vault = Vault::open(&dir, key(1), 0).unwrap();
    set(&mut vault, &[], "a", "b");
    vault.save(0, &mut OsRng).unwrap();
    vault.destroy().unwrap();
    assert!(!dir.exists());
    assert!(matches!(
        vault.get(&[], b"a"),
        Err(VaultError::Seal(Error::InvalidState(_)))
    ));
}
