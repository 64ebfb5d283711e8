//! `Vault`: an encrypted key-value store in a directory.
//!
//! A save writes one new pack file with the sealed records of every changed
//! entry, then atomically replaces the manifest, which is the commit point;
//! packs no longer referenced are deleted afterwards. A crash at any moment
//! leaves the old manifest and the packs it references untouched, and the
//! next `open` removes whatever a failed save left behind. File names are
//! random, so they say nothing about tags. On-disk format:
//! `docs/sealed-data.md`.

mod files;
mod manifest;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::boxes;
use crate::encoding::encode_parts;
use crate::error::{Error, Result};
use crate::keys::SecretKey;
use manifest::{EntryKey, Location, PackId, MAGIC, PACK_ID_LEN};

const MANIFEST: &str = "manifest";
const PACK_SUFFIX: &str = ".pack";

/// What a value is: raw bytes, or JSON text the TypeScript layer parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bytes = 0,
    Json = 1,
}

pub struct Value {
    pub kind: Kind,
    pub data: Zeroizing<Vec<u8>>,
}

/// `kind (1) ‖ data`: the plaintext of a record.
type Record = Zeroizing<Vec<u8>>;

pub struct Vault {
    dir: PathBuf,
    root: SecretKey,
    generation: u64,
    committed: BTreeMap<EntryKey, Location>,
    /// `None` marks a deletion.
    pending: BTreeMap<EntryKey, Option<Record>>,
    namespace_keys: HashMap<Vec<Vec<u8>>, SecretKey>,
    destroyed: bool,
}

fn pack_name(id: &PackId) -> String {
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}{PACK_SUFFIX}")
}

/// Internal derivation labels (see `keys.rs`); persisted vaults depend on them.
pub(crate) const MANIFEST_LABEL: &[u8] = b"keyward vault manifest";
pub(crate) const NAMESPACE_LABEL: &[u8] = b"keyward vault namespace";

fn manifest_key(root: &SecretKey) -> SecretKey {
    root.derive_internal(MANIFEST_LABEL, &[])
}

fn record_aad(path: &[Vec<u8>], tag: &[u8]) -> Vec<u8> {
    let path = encode_parts(path.iter().map(Vec::as_slice));
    encode_parts([&b"keyward vault record"[..], &path, tag])
}

impl Vault {
    /// Opens the vault in `dir`, creating an empty one if there is none.
    pub fn open(dir: &Path, root: SecretKey, now_ms: u64) -> Result<Vault> {
        fs::create_dir_all(dir)?;
        let (generation, committed) = match fs::read(dir.join(MANIFEST)) {
            Ok(sealed) => {
                let opened = boxes::open(&manifest_key(&root), &sealed, MAGIC, None, now_ms)
                    .map_err(|_| {
                        Error::Decryption("wrong vault key, or the manifest was tampered with")
                    })?;
                manifest::decode(&opened.plaintext)?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (0, BTreeMap::new()),
            Err(e) => return Err(e.into()),
        };
        let vault = Vault {
            dir: dir.to_path_buf(),
            root,
            generation,
            committed,
            pending: BTreeMap::new(),
            namespace_keys: HashMap::new(),
            destroyed: false,
        };
        vault.remove_unreferenced()?;
        Ok(vault)
    }

    fn live(&self) -> Result<()> {
        if self.destroyed {
            Err(Error::InvalidState("this vault was closed or destroyed"))
        } else {
            Ok(())
        }
    }

    /// Deletes packs the manifest does not reference and leftover temporary files.
    fn remove_unreferenced(&self) -> Result<()> {
        let keep: BTreeSet<String> = self
            .committed
            .values()
            .map(|l| pack_name(&l.pack))
            .collect();
        let mut removed = false;
        for entry in fs::read_dir(&self.dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let stray_pack = name.ends_with(PACK_SUFFIX) && !keep.contains(&name);
            if stray_pack || name.ends_with(".tmp") {
                fs::remove_file(self.dir.join(&name))?;
                removed = true;
            }
        }
        if removed {
            files::sync_dir(&self.dir)?;
        }
        Ok(())
    }

    fn namespace_key(&mut self, path: &[Vec<u8>]) -> &SecretKey {
        let root = &self.root;
        self.namespace_keys.entry(path.to_vec()).or_insert_with(|| {
            let parts: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
            root.derive_internal(NAMESPACE_LABEL, &parts)
        })
    }

    fn read_record(&mut self, key: &EntryKey, location: Location) -> Result<Record> {
        let sealed = files::read_range(
            &self.dir.join(pack_name(&location.pack)),
            location.offset,
            usize::try_from(location.len).map_err(|_| Error::Format("record too large".into()))?,
        )?;
        let aad = record_aad(&key.0, &key.1);
        let opened = boxes::open(self.namespace_key(&key.0), &sealed, &aad, None, 0)?;
        Ok(opened.plaintext)
    }

    pub fn get(&mut self, path: &[Vec<u8>], tag: &[u8]) -> Result<Option<Value>> {
        self.live()?;
        let key = (path.to_vec(), tag.to_vec());
        let record = match self.pending.get(&key) {
            Some(Some(record)) => record.clone(),
            Some(None) => return Ok(None),
            None => match self.committed.get(&key).copied() {
                Some(location) => self.read_record(&key, location)?,
                None => return Ok(None),
            },
        };
        let kind = match record.first() {
            Some(0) => Kind::Bytes,
            Some(1) => Kind::Json,
            _ => return Err(Error::Format("a vault record has an unknown kind".into())),
        };
        Ok(Some(Value {
            kind,
            data: Zeroizing::new(record[1..].to_vec()),
        }))
    }

    pub fn has(&self, path: &[Vec<u8>], tag: &[u8]) -> Result<bool> {
        self.live()?;
        let key = (path.to_vec(), tag.to_vec());
        Ok(match self.pending.get(&key) {
            Some(change) => change.is_some(),
            None => self.committed.contains_key(&key),
        })
    }

    /// Stages a value; it is on disk after the next `save`.
    pub fn set(&mut self, path: &[Vec<u8>], tag: &[u8], kind: Kind, data: &[u8]) -> Result<()> {
        self.live()?;
        let mut record = Zeroizing::new(Vec::with_capacity(1 + data.len()));
        record.push(kind as u8);
        record.extend_from_slice(data);
        self.pending
            .insert((path.to_vec(), tag.to_vec()), Some(record));
        Ok(())
    }

    /// Stages a deletion; returns whether the tag existed.
    pub fn delete(&mut self, path: &[Vec<u8>], tag: &[u8]) -> Result<bool> {
        let existed = self.has(path, tag)?;
        self.pending.insert((path.to_vec(), tag.to_vec()), None);
        Ok(existed)
    }

    /// The tags directly in namespace `path`, with staged changes applied.
    pub fn tags(&self, path: &[Vec<u8>]) -> Result<Vec<Vec<u8>>> {
        self.live()?;
        let mut tags: BTreeSet<Vec<u8>> = self
            .committed
            .keys()
            .filter(|(p, _)| p == path)
            .map(|(_, t)| t.clone())
            .collect();
        for ((p, tag), change) in &self.pending {
            if p == path {
                match change {
                    Some(_) => tags.insert(tag.clone()),
                    None => tags.remove(tag),
                };
            }
        }
        Ok(tags.into_iter().collect())
    }

    pub fn has_changes(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Forgets the staged changes.
    pub fn rollback(&mut self) -> Result<()> {
        self.live()?;
        self.pending.clear();
        Ok(())
    }

    /// Commits the staged changes durably.
    pub fn save(&mut self, now_ms: u64, rng: &mut (impl RngCore + CryptoRng)) -> Result<()> {
        self.live()?;
        if self.pending.is_empty() {
            return Ok(());
        }
        let changes = std::mem::take(&mut self.pending);
        let base = self.committed.clone();
        let result = self.commit(base, &changes, None, now_ms, rng);
        if result.is_err() {
            self.pending = changes;
        }
        result
    }

    /// Re-encrypts every entry under `new_root` (staged changes included) and
    /// deletes everything the old key could open.
    pub fn rekey(
        &mut self,
        new_root: SecretKey,
        now_ms: u64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<()> {
        self.live()?;
        let mut everything = BTreeMap::new();
        for (key, location) in self.committed.clone() {
            if !self.pending.contains_key(&key) {
                let record = self.read_record(&key, location)?;
                everything.insert(key, Some(record));
            }
        }
        for (key, change) in &self.pending {
            if change.is_some() {
                everything.insert(key.clone(), change.clone());
            }
        }
        self.commit(BTreeMap::new(), &everything, Some(new_root), now_ms, rng)?;
        self.pending.clear();
        Ok(())
    }

    fn commit(
        &mut self,
        mut next: BTreeMap<EntryKey, Location>,
        changes: &BTreeMap<EntryKey, Option<Record>>,
        new_root: Option<SecretKey>,
        now_ms: u64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<()> {
        let rekeying = new_root.is_some();
        let old_root = new_root.map(|root| {
            self.namespace_keys.clear();
            std::mem::replace(&mut self.root, root)
        });
        let result = self.write_generation(&mut next, changes, rekeying, now_ms, rng);
        if result.is_err() {
            if let Some(root) = old_root {
                self.namespace_keys.clear();
                self.root = root;
            }
            return result;
        }
        let obsolete: BTreeSet<PackId> = self
            .committed
            .values()
            .map(|l| l.pack)
            .collect::<BTreeSet<_>>()
            .difference(&next.values().map(|l| l.pack).collect())
            .copied()
            .collect();
        self.committed = next;
        self.generation += 1;
        // The commit has happened; a failure to tidy up is repaired at the next open.
        for pack in obsolete {
            let _ = fs::remove_file(self.dir.join(pack_name(&pack)));
        }
        let _ = files::sync_dir(&self.dir);
        Ok(())
    }

    /// Writes the new pack and the manifest that commits it.
    fn write_generation(
        &mut self,
        next: &mut BTreeMap<EntryKey, Location>,
        changes: &BTreeMap<EntryKey, Option<Record>>,
        rekeying: bool,
        now_ms: u64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<()> {
        let mut pack_id = [0u8; PACK_ID_LEN];
        rng.fill_bytes(&mut pack_id);
        let mut pack = Vec::new();
        for (key, change) in changes {
            let Some(record) = change else {
                next.remove(key);
                continue;
            };
            let aad = record_aad(&key.0, &key.1);
            let sealed = boxes::seal(self.namespace_key(&key.0), record, &aad, now_ms, rng)?;
            next.insert(
                key.clone(),
                Location {
                    pack: pack_id,
                    offset: pack.len() as u64,
                    len: sealed.len() as u64,
                },
            );
            pack.extend_from_slice(&sealed);
        }
        if !rekeying {
            self.compact_into(next, pack_id, &mut pack)?;
        }
        let pack_path = self.dir.join(pack_name(&pack_id));
        if !pack.is_empty() {
            files::write_new(&pack_path, &pack)?;
        }
        let manifest = boxes::seal(
            &manifest_key(&self.root),
            &manifest::encode(self.generation + 1, next),
            MAGIC,
            now_ms,
            rng,
        )?;
        files::replace(&self.dir, MANIFEST, &manifest).inspect_err(|_| {
            let _ = fs::remove_file(&pack_path);
        })
    }

    /// Moves the live records of packs that are mostly garbage into the new
    /// pack, so disk use stays within about twice the live data. Records are
    /// copied sealed: their associated data names the entry, not the pack.
    fn compact_into(
        &self,
        next: &mut BTreeMap<EntryKey, Location>,
        pack_id: PackId,
        pack: &mut Vec<u8>,
    ) -> Result<()> {
        let mut live: HashMap<PackId, u64> = HashMap::new();
        for location in next.values().filter(|l| l.pack != pack_id) {
            *live.entry(location.pack).or_default() += location.len;
        }
        for (id, live_bytes) in live {
            let size = fs::metadata(self.dir.join(pack_name(&id)))?.len();
            if live_bytes * 2 >= size {
                continue;
            }
            let old = fs::read(self.dir.join(pack_name(&id)))?;
            for location in next.values_mut().filter(|l| l.pack == id) {
                let start = location.offset as usize;
                let record = old
                    .get(start..start + location.len as usize)
                    .ok_or_else(|| {
                        Error::Format("a vault pack is shorter than its manifest says".into())
                    })?;
                *location = Location {
                    pack: pack_id,
                    offset: pack.len() as u64,
                    len: location.len,
                };
                pack.extend_from_slice(record);
            }
        }
        Ok(())
    }

    /// Deletes every file of the vault and the directory if it is then empty.
    pub fn destroy(&mut self) -> Result<()> {
        self.live()?;
        for location in self.committed.values() {
            let _ = fs::remove_file(self.dir.join(pack_name(&location.pack)));
        }
        fs::remove_file(self.dir.join(MANIFEST)).or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(()),
            _ => Err(e),
        })?;
        self.remove_unreferenced_after_destroy()?;
        self.destroyed = true;
        self.pending.clear();
        self.committed.clear();
        Ok(())
    }

    fn remove_unreferenced_after_destroy(&mut self) -> Result<()> {
        self.committed.clear();
        self.remove_unreferenced()?;
        let _ = fs::remove_dir(&self.dir);
        Ok(())
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Marks the vault unusable and wipes its keys and staged values.
    pub fn close(&mut self) {
        self.destroyed = true;
        self.pending.clear();
        self.namespace_keys.clear();
    }
}
