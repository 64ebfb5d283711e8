//! The encrypted store. The core `Vault` sits behind a mutex so that `save`,
//! `rekey` and `open` can run on the libuv pool; a call that finds it busy
//! fails at once rather than blocking the event loop.

use std::sync::{Arc, Mutex, MutexGuard};

use keyward_seal::vault::{self, Kind, Vault};
use napi::bindgen_prelude::{AsyncTask, Uint8Array};
use napi::Env;
use napi_derive::napi;
use rand_core::OsRng;

use crate::args::{clock, whole};
use crate::errors::{catch, Failure, Result};
use crate::names::VaultKind;
use crate::owned;
use crate::seal::SecretKey;
use crate::workers::{blocking, now, twins, Blocking};

type Shared = Arc<Mutex<Option<Vault>>>;

fn copy_key(key: &SecretKey) -> Result<keyward_seal::SecretKey, Failure> {
    Ok(keyward_seal::SecretKey::from_bytes(key.get()?.expose())?)
}

fn path_of(path: Vec<Uint8Array>) -> Vec<Vec<u8>> {
    path.into_iter().map(|p| p.to_vec()).collect()
}

fn lock(inner: &Shared) -> Result<MutexGuard<'_, Option<Vault>>, Failure> {
    let busy = "the vault is busy with a save, rekey or open: await it first";
    inner.try_lock().map_err(|_| Failure::state(busy))
}

/// Runs `f` on the open vault, as a job or at once.
fn with<T>(inner: &Shared, f: impl FnOnce(&mut Vault) -> vault::Result<T>) -> Result<T, Failure> {
    let mut guard = lock(inner)?;
    let vault = guard.as_mut().ok_or_else(|| Failure::state("this vault was closed or destroyed"))?;
    catch(|| f(vault))
}

#[napi(object, object_from_js = false)]
pub struct VaultValue {
    pub kind: VaultKind,
    pub data: owned::Uint8Array,
}

#[napi]
pub struct VaultStore {
    inner: Shared,
}

fn opening(
    dir: String,
    key: &SecretKey,
    now_ms: Option<f64>,
) -> Result<impl FnOnce() -> Result<VaultStore, Failure> + Send + 'static, Failure> {
    let (key, now) = (copy_key(key)?, clock(now_ms)?);
    Ok(move || {
        let vault = Vault::open(dir.as_ref(), key, now)?;
        Ok(VaultStore { inner: Arc::new(Mutex::new(Some(vault))) })
    })
}

/// A save, or a rekey to `key`, as a job.
fn commit(
    inner: &Shared,
    key: Option<&SecretKey>,
    now_ms: Option<f64>,
) -> Result<impl FnOnce() -> Result<(), Failure> + Send + 'static, Failure> {
    let (inner, key, now) = (inner.clone(), key.map(copy_key).transpose()?, clock(now_ms)?);
    Ok(move || match key {
        None => with(&inner, |v| v.save(now, &mut OsRng)),
        Some(key) => with(&inner, |v| v.rekey(key, now, &mut OsRng)),
    })
}

twins!(impl VaultStore: false, open / open_sync
    (dir: String, key: &SecretKey, now_ms: Option<f64>) -> "Promise<VaultStore>" VaultStore
    = opening(dir, key, now_ms));

twins!(impl VaultStore:
    #[doc = " A save, or with `key` a rekey."]
    false, commit / commit_sync
    (&self, key: Option<&SecretKey>, now_ms: Option<f64>) -> "Promise<void>" ()
    = commit(&self.inner, key, now_ms));

#[napi]
impl VaultStore {
    #[napi]
    pub fn get(&self, path: Vec<Uint8Array>, tag: &[u8]) -> Result<Option<VaultValue>> {
        let value = with(&self.inner, |v| v.get(&path_of(path), tag))?;
        Ok(value.map(|v| VaultValue { kind: v.kind.into(), data: v.data.into() }))
    }

    /// `kind` is a number, not a `VaultKind`: napi would wrap 2^32 + 1 to 1.
    #[napi]
    pub fn set(&self, path: Vec<Uint8Array>, tag: &[u8], kind: f64, data: &[u8]) -> Result<()> {
        let known = whole(kind, "the value kind", 0, u8::MAX.into()).ok().and_then(|k| Kind::from_byte(k as u8));
        let kind = known.ok_or_else(|| {
            let kinds: Vec<_> = Kind::ALL.iter().map(|k| (*k as u8).to_string()).collect();
            Failure::argument(format!("the value kind must be one of {}, got {kind}", kinds.join(", ")))
        })?;
        Ok(with(&self.inner, |v| v.set(&path_of(path), tag, kind, data))?)
    }

    #[napi]
    pub fn has(&self, path: Vec<Uint8Array>, tag: &[u8]) -> Result<bool> {
        Ok(with(&self.inner, |v| v.has(&path_of(path), tag))?)
    }

    #[napi]
    pub fn delete(&self, path: Vec<Uint8Array>, tag: &[u8]) -> Result<bool> {
        Ok(with(&self.inner, |v| v.delete(&path_of(path), tag))?)
    }

    #[napi]
    pub fn tags(&self, path: Vec<Uint8Array>) -> Result<Vec<owned::Uint8Array>> {
        let tags = with(&self.inner, |v| v.tags(&path_of(path)))?;
        Ok(tags.into_iter().map(Into::into).collect())
    }

    #[napi]
    pub fn has_changes(&self) -> Result<bool> {
        Ok(with(&self.inner, |v| Ok(v.has_changes()))?)
    }

    #[napi]
    pub fn rollback(&self) -> Result<()> {
        Ok(with(&self.inner, |v| v.rollback())?)
    }

    #[napi]
    pub fn destroy(&self) -> Result<()> {
        with(&self.inner, |v| v.destroy())?;
        *lock(&self.inner)? = None;
        Ok(())
    }

    /// Drops the vault's keys and staged values; unsaved changes are lost.
    #[napi]
    pub fn close(&self) -> Result<()> {
        *lock(&self.inner)? = None;
        Ok(())
    }
}
