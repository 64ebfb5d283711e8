//! Issue 13, finding 2: a commit that fails at any one file step (or at that
//! step and every later one) loses nothing. For each scenario the loop fails
//! step 0, 1, 2, ... of the commit until a run needs fewer steps, and checks:
//! the error says which state holds (`ERR_VAULT_IO`: the old one, with the
//! same key and the changes still staged; `Poisoned`: the new one, with the
//! new key after a rekey; success: the new one), reopening the directory
//! yields exactly that state, and afterwards only the vault's referenced
//! files (and an unrelated one) are left.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use rand_core::OsRng;

use super::files::Step;
use super::*;

type Contents = BTreeMap<EntryKey, Vec<u8>>;

fn key(byte: u8) -> SecretKey {
    SecretKey::from_bytes(&[byte; 32]).unwrap()
}

fn stage(vault: &mut Vault, path: &[&str], tag: &str, value: &str) {
    let path: Vec<Vec<u8>> = path.iter().map(|p| p.as_bytes().to_vec()).collect();
    vault
        .set(&path, tag.as_bytes(), Kind::Bytes, value.as_bytes())
        .unwrap();
}

/// What the handle holds as committed, read from disk (staged changes aside).
fn committed(vault: &mut Vault) -> Contents {
    let entries: Vec<(EntryKey, Location)> = vault
        .committed
        .iter()
        .map(|(k, l)| (k.clone(), *l))
        .collect();
    entries
        .into_iter()
        .map(|(k, l)| {
            let record = vault
                .read_record(&k, l)
                .unwrap_or_else(|e| panic!("a committed entry is lost: {e}"));
            (k, record.to_vec())
        })
        .collect()
}

struct Scenario {
    name: &'static str,
    key: u8,
    /// The key that opens the new state.
    new_key: u8,
    /// Commits the old state into the directory.
    prepare: fn(&Path),
    /// Stages the change and commits it.
    act: fn(&mut Vault) -> Result<()>,
    /// A step every run of this scenario must make (compaction reads a pack).
    must_include: Option<Step>,
}

fn prepare_two(dir: &Path) {
    let mut v = Vault::open(dir, key(1), 0).unwrap();
    stage(&mut v, &[], "a", "one");
    stage(&mut v, &["ns"], "b", "two");
    v.save(0, &mut OsRng).unwrap();
}

fn prepare_compactable(dir: &Path) {
    let mut v = Vault::open(dir, key(1), 0).unwrap();
    for i in 0..4 {
        stage(
            &mut v,
            &[],
            &format!("t{i}"),
            &format!("{i}{}", "x".repeat(1_000)),
        );
    }
    v.save(0, &mut OsRng).unwrap();
}

fn prepare_v1(dir: &Path) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault-v1");
    for entry in fs::read_dir(fixture).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
}

const SCENARIOS: [Scenario; 5] = [
    Scenario {
        name: "first save",
        key: 1,
        new_key: 1,
        prepare: |_| {},
        act: |v| {
            stage(v, &[], "a", "one");
            stage(v, &["ns"], "b", "two");
            v.save(0, &mut OsRng)
        },
        must_include: None,
    },
    Scenario {
        name: "save",
        key: 1,
        new_key: 1,
        prepare: prepare_two,
        act: |v| {
            stage(v, &[], "a", "three");
            v.delete(&[b"ns".to_vec()], b"b").unwrap();
            stage(v, &["ns", "deeper"], "c", "four");
            v.save(0, &mut OsRng)
        },
        must_include: None,
    },
    Scenario {
        name: "save with compaction",
        key: 1,
        new_key: 1,
        prepare: prepare_compactable,
        act: |v| {
            for i in 0..3 {
                stage(v, &[], &format!("t{i}"), "new");
            }
            v.save(0, &mut OsRng)
        },
        must_include: Some(Step::Read),
    },
    Scenario {
        name: "rekey",
        key: 1,
        new_key: 2,
        prepare: prepare_two,
        act: |v| {
            stage(v, &[], "staged", "during rekey");
            v.rekey(key(2), 0, &mut OsRng)
        },
        must_include: None,
    },
    Scenario {
        name: "format-1 migration",
        key: 7,
        new_key: 7,
        prepare: prepare_v1,
        act: |v| {
            stage(v, &[], "dave", "after migration");
            v.save(0, &mut OsRng)
        },
        must_include: Some(Step::Read),
    },
];

/// The old and new contents, from a run without failures.
fn expected(s: &Scenario) -> (Contents, Contents) {
    let dir = tempfile::tempdir().unwrap();
    (s.prepare)(dir.path());
    let mut v = Vault::open(dir.path(), key(s.key), 0).unwrap();
    let old = committed(&mut v);
    (s.act)(&mut v).unwrap();
    let new = committed(&mut v);
    drop(v);
    let mut v = Vault::open(dir.path(), key(s.new_key), 0).unwrap();
    assert_eq!(committed(&mut v), new, "{}: reopened", s.name);
    assert_ne!(old, new, "{}: the change changes nothing", s.name);
    (old, new)
}

/// Only the manifest, the packs it references and the unrelated file remain.
/// `also` may remain too.
fn assert_tidy(vault: &Vault, dir: &Path, also: &BTreeSet<String>, context: &str) {
    let mut expected: BTreeSet<String> = vault
        .committed
        .values()
        .map(|l| {
            let path = vault.pack_path(&l.pack, vault.legacy);
            path.file_name().unwrap().to_str().unwrap().to_owned()
        })
        .collect();
    expected.insert("notes.tmp".into());
    if vault.generation > 0 {
        expected.insert(MANIFEST.into());
    }
    let found: BTreeSet<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| !also.contains(name))
        .collect();
    assert_eq!(found, expected, "{context}");
}

#[derive(Default, Debug)]
struct Outcomes {
    io: usize,
    poisoned: usize,
    ok: usize,
}

fn run(s: &Scenario, sticky: bool) -> Outcomes {
    let (old, new) = expected(s);
    let mut outcomes = Outcomes::default();
    for step in 0.. {
        let dir = tempfile::tempdir().unwrap();
        (s.prepare)(dir.path());
        fs::write(dir.path().join("notes.tmp"), b"not the vault's").unwrap();
        let mut v = Vault::open(dir.path(), key(s.key), 0).unwrap();
        v.files.failpoint.arm(step, sticky);
        let result = (s.act)(&mut v);
        v.files.failpoint.disarm();
        let log = v.files.failpoint.log.borrow().clone();
        if let Some(must) = s.must_include {
            assert!(log.contains(&must), "{}: no {must:?} in {log:?}", s.name);
        }
        if step >= log.len() {
            // Every step ran without an injected failure: the loop is done.
            result.unwrap();
            return outcomes;
        }
        let context = format!(
            "{} (sticky {sticky}): failing step {step} {:?} of {log:?}",
            s.name, log[step]
        );
        let (reopen_key, expect) = match &result {
            Ok(()) => {
                outcomes.ok += 1;
                assert_eq!(committed(&mut v), new, "{context}: handle");
                (s.new_key, &new)
            }
            Err(VaultError::Seal(Error::Io(_))) => {
                outcomes.io += 1;
                // Nothing changed: same state, same key, the change still staged.
                assert_eq!(committed(&mut v), old, "{context}: handle");
                assert!(v.has_changes() || s.name == "rekey", "{context}: unstaged");
                (s.key, &old)
            }
            Err(VaultError::Poisoned) => {
                outcomes.poisoned += 1;
                assert!(
                    matches!(v.get(&[], b"a"), Err(VaultError::Poisoned)),
                    "{context}"
                );
                (s.new_key, &new)
            }
            Err(e) => panic!("{context}: {e}"),
        };
        let mut reopened = Vault::open(dir.path(), key(reopen_key), 0)
            .unwrap_or_else(|e| panic!("{context}: reopen: {e}"));
        assert_eq!(&committed(&mut reopened), expect, "{context}: reopened");
        // A format-1 pack is named by its id alone, so once a format-2
        // manifest is in place nothing marks it as this vault's: a migration
        // that fails after its commit point (to sync, or to remove them)
        // leaves the old packs behind.
        let also: BTreeSet<String> = match (&result, s.name) {
            (Ok(()) | Err(VaultError::Poisoned), "format-1 migration") => fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n.len() == 32 + PACK_SUFFIX.len() && n.ends_with(PACK_SUFFIX))
                .collect(),
            _ => BTreeSet::new(),
        };
        if !sticky || s.name != "first save" && s.name != "format-1 migration" {
            assert_tidy(&reopened, dir.path(), &also, &context);
        }
        drop(reopened);
        if matches!(result, Err(VaultError::Seal(_))) {
            // The same handle commits once the file system works again.
            (s.act)(&mut v).unwrap_or_else(|e| panic!("{context}: retry: {e}"));
            drop(v);
            let mut reopened = Vault::open(dir.path(), key(s.new_key), 0).unwrap();
            assert_eq!(committed(&mut reopened), new, "{context}: after retry");
            let context = format!("{context}: after retry");
            assert_tidy(&reopened, dir.path(), &BTreeSet::new(), &context);
        }
    }
    unreachable!()
}

#[test]
fn a_failure_at_any_step_of_a_commit_keeps_the_old_or_the_new_state() {
    for s in &SCENARIOS {
        for sticky in [false, true] {
            let outcomes = run(s, sticky);
            // Every kind of failure point was reached: before the commit
            // point, the directory sync after it, and the tidying after that.
            assert!(outcomes.io >= 5, "{}: {outcomes:?}", s.name);
            assert!(outcomes.poisoned >= 1, "{}: {outcomes:?}", s.name);
        }
    }
}

#[test]
fn a_kind_is_read_back_from_its_byte_and_no_other_byte_is_a_kind() {
    for kind in Kind::ALL {
        assert_eq!(Kind::from_byte(kind as u8), Some(kind));
    }
    assert_eq!(Kind::from_byte(1), Some(Kind::Json));
    assert_eq!(Kind::from_byte(2), None);
    assert_eq!(Kind::from_byte(u8::MAX), None);
}
