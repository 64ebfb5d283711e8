//! Issue 13, findings 3 and 4, against a real directory: the vault touches
//! only its own files, and a single entry cannot be rolled back.

use std::fs;
use std::path::Path;

use keyward_seal::vault::{Kind, Vault};
use keyward_seal::SecretKey;
use rand_core::OsRng;

fn key(byte: u8) -> SecretKey {
    SecretKey::from_bytes(&[byte; 32]).unwrap()
}

fn set(vault: &mut Vault, tag: &str, value: &str) {
    vault
        .set(&[], tag.as_bytes(), Kind::Bytes, value.as_bytes())
        .unwrap();
}

const UNRELATED: [(&str, &[u8]); 4] = [
    ("notes.tmp", b"my notes"),
    ("backup.pack", b"someone else's pack"),
    ("manifest.tmp", b"not the vault's either"),
    // Named like a pack of the first vault format, but no manifest names it.
    ("0123456789abcdef0123456789abcdef.pack", b"stray lookalike"),
];

fn plant_unrelated(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    for (name, bytes) in UNRELATED {
        fs::write(dir.join(name), bytes).unwrap();
    }
}

fn assert_unrelated_intact(dir: &Path, when: &str) {
    for (name, bytes) in UNRELATED {
        assert_eq!(
            fs::read(dir.join(name)).ok().as_deref(),
            Some(bytes),
            "{name} after {when}"
        );
    }
}

#[test]
fn files_the_vault_did_not_create_survive_open_save_compaction_and_destroy() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("v");
    plant_unrelated(&dir);
    let mut vault = Vault::open(&dir, key(1), 0).unwrap();
    assert_unrelated_intact(&dir, "open");
    let big = "x".repeat(4_000);
    for round in 0..6 {
        for i in 0..4 {
            set(&mut vault, &format!("t{i}"), &format!("{round}{big}"));
        }
        vault.save(0, &mut OsRng).unwrap();
        assert_unrelated_intact(&dir, "save and compaction");
    }
    drop(vault);
    let mut vault = Vault::open(&dir, key(1), 0).unwrap();
    assert_unrelated_intact(&dir, "reopen");
    vault.rekey(key(2), 0, &mut OsRng).unwrap();
    assert_unrelated_intact(&dir, "rekey");
    vault.destroy().unwrap();
    assert_unrelated_intact(&dir, "destroy");
    // Only the unrelated files are left, so the directory stays.
    let mut left: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    let mut expected: Vec<String> = UNRELATED.iter().map(|(n, _)| n.to_string()).collect();
    expected.sort();
    assert_eq!(left, expected);
}

fn vault_packs(dir: &Path) -> Vec<std::path::PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pack"))
        .collect()
}

#[test]
fn an_older_record_put_back_in_place_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut vault = Vault::open(dir.path(), key(1), 0).unwrap();
    set(&mut vault, "balance", "0000100");
    vault.save(0, &mut OsRng).unwrap();
    let [old_pack] = &vault_packs(dir.path())[..] else {
        panic!("one pack expected")
    };
    let old = fs::read(old_pack).unwrap();
    set(&mut vault, "balance", "0000001");
    vault.save(0, &mut OsRng).unwrap();
    drop(vault);
    let [new_pack] = &vault_packs(dir.path())[..] else {
        panic!("one pack expected")
    };
    assert_eq!(fs::metadata(new_pack).unwrap().len(), old.len() as u64);
    // Someone who can write the directory puts the old record back.
    fs::write(new_pack, &old).unwrap();

    let mut vault = Vault::open(dir.path(), key(1), 0).unwrap();
    match vault.get(&[], b"balance") {
        Err(e) => assert_eq!(e.code(), "ERR_VAULT_INTEGRITY", "{e}"),
        Ok(v) => panic!(
            "read back {:?}",
            v.map(|v| String::from_utf8_lossy(&v.data).into_owned())
        ),
    }
}

#[test]
fn a_format_1_vault_opens_and_its_next_save_migrates_it() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault-v1");
    let mut v1_packs = Vec::new();
    for entry in fs::read_dir(fixture).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if name.ends_with(".pack") {
            v1_packs.push(name);
        }
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let read = |vault: &mut Vault, path: &[&[u8]], tag: &[u8]| {
        let path: Vec<Vec<u8>> = path.iter().map(|p| p.to_vec()).collect();
        vault
            .get(&path, tag)
            .unwrap()
            .map(|v| (v.kind, v.data.to_vec()))
    };
    let mut vault = Vault::open(dir.path(), key(7), 0).unwrap();
    assert_eq!(
        read(&mut vault, &[], b"alice"),
        Some((Kind::Json, b"{\"role\":\"admin\"}".to_vec()))
    );
    set(&mut vault, "dave", "new");
    vault.save(0, &mut OsRng).unwrap();
    drop(vault);
    // The format-1 packs are gone; the manifest is format 2 (the old reader
    // of format 1 would now see a wrong key).
    for name in &v1_packs {
        assert!(!dir.path().join(name).exists(), "{name}");
    }
    let mut vault = Vault::open(dir.path(), key(7), 0).unwrap();
    assert_eq!(
        read(&mut vault, &[b"users"], b"bob"),
        Some((Kind::Bytes, vec![1, 2, 3]))
    );
    assert_eq!(
        read(&mut vault, &[], b"carol"),
        Some((Kind::Bytes, b"second save".to_vec()))
    );
    assert_eq!(
        read(&mut vault, &[], b"dave"),
        Some((Kind::Bytes, b"new".to_vec()))
    );
    assert_eq!(vault.generation(), 3);
}
