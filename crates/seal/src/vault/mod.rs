//! `Vault`: an encrypted key-value store in a directory.
//!
//! A save writes one new pack file with the sealed records of every changed
//! entry, then atomically replaces the manifest, which is the commit point;
//! packs no longer referenced are deleted afterwards. A failure or a crash at
//! any step leaves the old or the new manifest readable, with every pack it
//! references (`commit`); the next `open` removes what a failed save left
//! behind. The vault touches only files it names: `manifest`, and packs and a
//! temporary file named with its own random vault id. File names say nothing
//! about tags. On-disk format: `docs/sealed-data.md`.

mod error;
mod files;
mod manifest;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use rand_core::{CryptoRng, RngCore};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::boxes;
use crate::encoding::encode_parts;
use crate::error::Error;
use crate::keys::SecretKey;
pub use error::{Result, VaultError, VaultErrorCode};
use files::Files;
use manifest::{EntryKey, Location, PackId, VaultId, PACK_ID_LEN, VAULT_ID_LEN};

const MANIFEST: &str = "manifest";
const PACK_SUFFIX: &str = ".pack";
const TEMP_SUFFIX: &str = ".manifest.tmp";

/// Calls `$m! { $($args)* { Variant = byte, … } }` with the kinds of a vault
/// value and the byte that marks each in a record (never change a published
/// one): the one place they are numbered, for [`Kind`] and for a binding's
/// mirror of it.
#[macro_export]
macro_rules! seal_vault_kinds {
    ($m:ident $(, $($args:tt)*)?) => {
        $m! { $($($args)*)? {
            Bytes = 0,
            Json = 1,
        } }
    };
}

/// Expands the list into [`Kind`].
macro_rules! kind_enum {
    ({ $($kind:ident = $byte:literal,)* }) => {
        /// What a value is: raw bytes, or JSON text the TypeScript layer parses.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Kind {
            $($kind = $byte,)*
        }

        impl Kind {
            pub const ALL: [Kind; [$($byte),*].len()] = [$(Kind::$kind),*];

            /// The kind a record's first byte marks, if any.
            pub fn from_byte(byte: u8) -> Option<Kind> {
                match byte {
                    $($byte => Some(Kind::$kind),)*
                    _ => None,
                }
            }
        }
    };
}

seal_vault_kinds!(kind_enum);

pub struct Value {
    pub kind: Kind,
    pub data: Zeroizing<Vec<u8>>,
}

/// `kind (1) ‖ data`: the plaintext of a record.
type Record = Zeroizing<Vec<u8>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Live,
    /// Closed or destroyed.
    Closed,
    /// A commit failed after its commit point (`VaultError::Poisoned`).
    Poisoned,
}

pub struct Vault {
    dir: PathBuf,
    root: SecretKey,
    /// Names this vault's packs and temporary file. `None` until the first
    /// commit of a new vault, or of one read from format 1 (which had none).
    vault_id: Option<VaultId>,
    /// The committed state is format 1: packs named by pack id alone, and no
    /// digests. The next commit moves every record into a format-2 pack.
    legacy: bool,
    generation: u64,
    committed: BTreeMap<EntryKey, Location>,
    /// `None` marks a deletion.
    pending: BTreeMap<EntryKey, Option<Record>>,
    namespace_keys: HashMap<Vec<Vec<u8>>, SecretKey>,
    state: State,
    files: Files,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    // Lower-case only: exactly the names `hex` writes.
    let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if text.len() != 2 * N || !text.bytes().all(lower_hex) {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
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

/// Opens a manifest box: format 2 (or newer, refused by name), else format 1.
fn open_manifest(root: &SecretKey, sealed: &[u8], now_ms: u64) -> Result<manifest::Manifest> {
    let key = manifest_key(root);
    if let Ok(opened) = boxes::open(&key, sealed, manifest::BOX_AAD, None, now_ms) {
        return Ok(manifest::decode(&opened.plaintext)?);
    }
    if let Ok(opened) = boxes::open(&key, sealed, manifest::MAGIC_V1, None, now_ms) {
        return Ok(manifest::decode_v1(&opened.plaintext)?);
    }
    Err(Error::Decryption("wrong vault key, or the manifest was tampered with").into())
}

/// A missing or short pack is a pack that is not what the manifest says.
fn pack_error(e: std::io::Error) -> VaultError {
    match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::UnexpectedEof => {
            VaultError::Integrity("a pack the manifest names is missing or shorter than it says")
        }
        _ => e.into(),
    }
}

/// Checks a sealed record against the digest its manifest entry recorded.
fn check_digest(location: &Location, sealed: &[u8]) -> Result<()> {
    match location.digest {
        Some(expected) if !bool::from(expected.ct_eq(&manifest::digest(sealed))) => Err(
            VaultError::Integrity("a record is not the one the manifest recorded"),
        ),
        _ => Ok(()),
    }
}

/// Where a commit failed: before its commit point nothing changed; after it,
/// the handle can no longer say which state is durable.
enum Failure {
    Before(VaultError),
    After,
}

impl<E: Into<VaultError>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Before(e.into())
    }
}

impl Vault {
    /// Opens the vault in `dir`, creating an empty one if there is none. A
    /// format-1 vault opens and is migrated by its next commit.
    pub fn open(dir: &Path, root: SecretKey, now_ms: u64) -> Result<Vault> {
        fs::create_dir_all(dir)?;
        let files = Files::default();
        let loaded = match files.read_if_exists(&dir.join(MANIFEST))? {
            Some(sealed) => Some(open_manifest(&root, &sealed, now_ms)?),
            None => None,
        };
        let (generation, vault_id, committed, legacy) = match loaded {
            Some(m) => (m.generation, m.vault_id, m.entries, m.vault_id.is_none()),
            None => (0, None, BTreeMap::new(), false),
        };
        let vault = Vault {
            dir: dir.to_path_buf(),
            root,
            vault_id,
            legacy,
            generation,
            committed,
            pending: BTreeMap::new(),
            namespace_keys: HashMap::new(),
            state: State::Live,
            files,
        };
        vault.remove_leftovers();
        Ok(vault)
    }

    fn live(&self) -> Result<()> {
        match self.state {
            State::Live => Ok(()),
            State::Closed => Err(Error::InvalidState("this vault was closed or destroyed").into()),
            State::Poisoned => Err(VaultError::Poisoned),
        }
    }

    fn pack_path(&self, id: &PackId, legacy: bool) -> PathBuf {
        let name = match (legacy, &self.vault_id) {
            (false, Some(vault_id)) => format!("{}-{}{PACK_SUFFIX}", hex(vault_id), hex(id)),
            // Format 1 named packs by their id alone.
            _ => format!("{}{PACK_SUFFIX}", hex(id)),
        };
        self.dir.join(name)
    }

    /// The temporary manifest of a commit, named for this vault alone.
    fn temp_path(&self, vault_id: &VaultId) -> PathBuf {
        self.dir.join(format!("{}{TEMP_SUFFIX}", hex(vault_id)))
    }

    /// This vault's own files in the directory that the manifest does not
    /// reference: packs and the temporary manifest a failed commit left.
    /// Nothing else in the directory is ever touched.
    fn own_leftovers(&self) -> Vec<PathBuf> {
        let Some(vault_id) = self.vault_id else {
            return Vec::new();
        };
        let Ok(names) = self.files.list(&self.dir) else {
            return Vec::new();
        };
        let keep: BTreeSet<PackId> = self.committed.values().map(|l| l.pack).collect();
        let prefix = format!("{}-", hex(&vault_id));
        let temp = format!("{}{TEMP_SUFFIX}", hex(&vault_id));
        names
            .into_iter()
            .filter(|name| {
                let stray_pack = name
                    .strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix(PACK_SUFFIX))
                    .and_then(unhex::<PACK_ID_LEN>)
                    .is_some_and(|id| !keep.contains(&id));
                stray_pack || *name == temp
            })
            .map(|name| self.dir.join(name))
            .collect()
    }

    /// Deletes what failed commits left. The directory is synced first: the
    /// manifest just read may be one whose rename is not yet durable, and
    /// the packs of the one before must stay until it is. Best effort: what
    /// stays is removed by a later open.
    fn remove_leftovers(&self) {
        let leftovers = self.own_leftovers();
        if leftovers.is_empty() || self.files.sync_dir(&self.dir).is_err() {
            return;
        }
        for path in leftovers {
            let _ = self.files.remove(&path);
        }
    }

    fn namespace_key(&mut self, path: &[Vec<u8>]) -> &SecretKey {
        let root = &self.root;
        self.namespace_keys.entry(path.to_vec()).or_insert_with(|| {
            let parts: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
            root.derive_internal(NAMESPACE_LABEL, &parts)
        })
    }

    fn read_record(&mut self, key: &EntryKey, location: Location) -> Result<Record> {
        let len =
            usize::try_from(location.len).map_err(|_| Error::Format("record too large".into()))?;
        let sealed = self
            .files
            .read_range(
                &self.pack_path(&location.pack, self.legacy),
                location.offset,
                len,
            )
            .map_err(pack_error)?;
        check_digest(&location, &sealed)?;
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
        let Some(kind) = record.first().copied().and_then(Kind::from_byte) else {
            return Err(Error::Format("a vault record has an unknown kind".into()).into());
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

    /// Commits the staged changes durably. On `ERR_VAULT_IO` nothing changed
    /// (on disk or here) and the changes stay staged; on `Poisoned` the new
    /// state is in place and this object is closed.
    pub fn save(&mut self, now_ms: u64, rng: &mut (impl RngCore + CryptoRng)) -> Result<()> {
        self.live()?;
        if self.pending.is_empty() {
            return Ok(());
        }
        let changes = std::mem::take(&mut self.pending);
        let base = self.committed.clone();
        let result = self.commit(base, &changes, None, now_ms, rng);
        if result.is_err() && self.state == State::Live {
            self.pending = changes;
        }
        result
    }

    /// Re-encrypts every entry under `new_root` (staged changes included) and
    /// deletes everything the old key could open. Failures as for `save`:
    /// before the commit point the old key still opens the vault; after it
    /// (`Poisoned`) the new one does.
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
        match self.write_generation(&mut next, changes, rekeying, now_ms, rng) {
            Ok(()) => {}
            Err(Failure::Before(e)) => {
                if let Some(root) = old_root {
                    self.namespace_keys.clear();
                    self.root = root;
                }
                return Err(e);
            }
            Err(Failure::After) => {
                self.poison();
                return Err(VaultError::Poisoned);
            }
        }
        let kept: BTreeSet<PackId> = next.values().map(|l| l.pack).collect();
        let obsolete: BTreeSet<PathBuf> = self
            .committed
            .values()
            .filter(|l| !kept.contains(&l.pack))
            .map(|l| self.pack_path(&l.pack, self.legacy))
            .collect();
        self.committed = next;
        self.generation += 1;
        self.legacy = false;
        // The new manifest is durable; a pack that fails to go is removed by
        // the next open (it carries this vault's id).
        for path in obsolete {
            let _ = self.files.remove(&path);
        }
        Ok(())
    }

    /// Writes the new pack and the manifest that commits it.
    ///
    /// Steps: pack (create, write, fsync), temporary manifest (create, write,
    /// fsync), directory sync (both names durable before the manifest refers
    /// to them), rename over `manifest` (the commit point), directory sync.
    /// A failure up to the rename leaves the old manifest and removes what
    /// this commit wrote. The rename does not happen when it fails. Once it
    /// has happened nothing is removed: both manifests' packs stay, and a
    /// failed directory sync poisons the handle.
    fn write_generation(
        &mut self,
        next: &mut BTreeMap<EntryKey, Location>,
        changes: &BTreeMap<EntryKey, Option<Record>>,
        rekeying: bool,
        now_ms: u64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> core::result::Result<(), Failure> {
        let vault_id = match self.vault_id {
            Some(id) => id,
            None => {
                let mut id = [0u8; VAULT_ID_LEN];
                rng.fill_bytes(&mut id);
                // Kept even if this commit fails, so its leftovers stay recognisable.
                self.vault_id = Some(id);
                id
            }
        };
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
                    digest: Some(manifest::digest(&sealed)),
                },
            );
            pack.extend_from_slice(&sealed);
        }
        if !rekeying {
            self.compact_into(next, pack_id, &mut pack)?;
        }
        let sealed_manifest = boxes::seal(
            &manifest_key(&self.root),
            &manifest::encode(self.generation + 1, &vault_id, next),
            manifest::BOX_AAD,
            now_ms,
            rng,
        )?;
        let pack_path = self.pack_path(&pack_id, false);
        let temp = self.temp_path(&vault_id);
        let manifest_path = self.dir.join(MANIFEST);
        let files = &self.files;
        let before_commit = || -> std::io::Result<()> {
            if !pack.is_empty() {
                files.write_new(&pack_path, &pack)?;
            }
            // A temporary manifest of this vault left by an earlier failure.
            files.remove(&temp)?;
            files.write_new(&temp, &sealed_manifest)?;
            files.sync_dir(&self.dir)?;
            files.rename(&temp, &manifest_path)
        };
        if let Err(e) = before_commit() {
            let _ = files.remove(&temp);
            if !pack.is_empty() {
                let _ = files.remove(&pack_path);
            }
            return Err(Failure::Before(e.into()));
        }
        files.sync_dir(&self.dir).map_err(|_| Failure::After)
    }

    /// Moves the live records of packs that are mostly garbage into the new
    /// pack, so disk use stays within about twice the live data, and every
    /// record of a format-1 vault, so that each gets its digest. Records are
    /// copied sealed (their associated data names the entry, not the pack),
    /// after checking their digest: a replaced record is never re-bound.
    fn compact_into(
        &self,
        next: &mut BTreeMap<EntryKey, Location>,
        pack_id: PackId,
        pack: &mut Vec<u8>,
    ) -> Result<()> {
        let mut live: BTreeMap<PackId, u64> = BTreeMap::new();
        for location in next.values().filter(|l| l.pack != pack_id) {
            *live.entry(location.pack).or_default() += location.len;
        }
        for (id, live_bytes) in live {
            let path = self.pack_path(&id, self.legacy);
            if !self.legacy {
                let size = self.files.len(&path).map_err(pack_error)?;
                if live_bytes * 2 >= size {
                    continue;
                }
            }
            let old = self.files.read(&path).map_err(pack_error)?;
            for location in next.values_mut().filter(|l| l.pack == id) {
                let record = usize::try_from(location.offset)
                    .ok()
                    .zip(usize::try_from(location.len).ok())
                    .and_then(|(start, len)| old.get(start..start.checked_add(len)?))
                    .ok_or(VaultError::Integrity(
                        "a vault pack is shorter than its manifest says",
                    ))?;
                check_digest(location, record)?;
                *location = Location {
                    pack: pack_id,
                    offset: pack.len() as u64,
                    len: location.len,
                    digest: Some(manifest::digest(record)),
                };
                pack.extend_from_slice(record);
            }
        }
        Ok(())
    }

    /// Deletes the vault's own files (its packs, leftovers of failed commits,
    /// then the manifest) and the directory if that leaves it empty. Other
    /// files in the directory are left alone. A failure before the manifest
    /// goes leaves a vault that opens, so `destroy` can be run again.
    pub fn destroy(&mut self) -> Result<()> {
        self.live()?;
        let mut own: BTreeSet<PathBuf> = self
            .committed
            .values()
            .map(|l| self.pack_path(&l.pack, self.legacy))
            .collect();
        own.extend(self.own_leftovers());
        for path in own {
            self.files.remove(&path)?;
        }
        self.files.remove(&self.dir.join(MANIFEST))?;
        let _ = self.files.sync_dir(&self.dir);
        // Fails, as it should, when the directory holds anything else.
        let _ = fs::remove_dir(&self.dir);
        self.close();
        self.committed.clear();
        Ok(())
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Marks the vault unusable and wipes its keys and staged values.
    pub fn close(&mut self) {
        self.state = State::Closed;
        self.pending.clear();
        self.namespace_keys.clear();
    }

    fn poison(&mut self) {
        self.close();
        self.committed.clear();
        self.state = State::Poisoned;
    }
}

/// Entry points for the fuzz targets (fuzz/, crates/fuzz-cases): the
/// manifest decoders sit behind an AEAD that random input never passes, so
/// the fuzzer reaches them directly. Not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    pub fn decode_manifest(plaintext: &[u8], v1: bool) -> bool {
        if v1 {
            manifest::decode_v1(plaintext).is_ok()
        } else {
            manifest::decode(plaintext).is_ok()
        }
    }

    /// The plaintext of the manifest in `dir` (a seed for the corpus).
    pub fn manifest_plaintext(dir: &Path, root: &SecretKey) -> Vec<u8> {
        let sealed = fs::read(dir.join(MANIFEST)).expect("a manifest");
        boxes::open(&manifest_key(root), &sealed, manifest::BOX_AAD, None, 0)
            .expect("a format-2 manifest")
            .plaintext
            .to_vec()
    }
}
