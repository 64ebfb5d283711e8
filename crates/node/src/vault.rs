//! The encrypted store. The core `Vault` sits behind a mutex so that `save`,
//! `rekey` and `open` can run on the libuv pool; a call that finds it busy
//! fails at once rather than blocking the event loop.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use keyward_seal::vault::{Kind, Vault, VaultError};
use keyward_seal::Error;
use napi::bindgen_prelude::{AsyncTask, Uint8Array};
use napi::{Env, Task};
use napi_derive::napi;
use rand_core::OsRng;

use crate::convert::{guard, secret_out, to_js, CoreError};
use crate::owned;
use crate::seal::{clock, SecretKey};

type Shared = Arc<Mutex<Option<Vault>>>;

/// The vault's codes: the crate's own plus `ERR_VAULT_INTEGRITY` and
/// `ERR_VAULT_POISONED` (src/errors.ts maps each to its class).
impl CoreError for VaultError {
    fn code(&self) -> &'static str {
        VaultError::code(self)
    }
}

fn copy_key(key: &SecretKey) -> napi::Result<keyward_seal::SecretKey> {
    let key = key.get()?;
    guard(|| keyward_seal::SecretKey::from_bytes(key.expose()))
}

fn path_of(path: Vec<Uint8Array>) -> Vec<Vec<u8>> {
    path.into_iter().map(|p| p.to_vec()).collect()
}

#[napi(object, object_from_js = false)]
pub struct VaultValue {
    /// 0: bytes, 1: JSON text.
    pub kind: u32,
    pub data: owned::Uint8Array,
}

#[napi]
pub struct VaultStore {
    inner: Shared,
}

fn lock(inner: &Shared) -> napi::Result<MutexGuard<'_, Option<Vault>>> {
    inner.try_lock().map_err(|_| {
        to_js(Error::InvalidState(
            "the vault is busy with a save, rekey or open: await it first",
        ))
    })
}

fn with<T>(
    inner: &Shared,
    f: impl FnOnce(&mut Vault) -> keyward_seal::vault::Result<T>,
) -> napi::Result<T> {
    let mut guard_ = lock(inner)?;
    let vault = guard_
        .as_mut()
        .ok_or_else(|| to_js(Error::InvalidState("this vault was closed or destroyed")))?;
    guard(|| f(vault))
}

pub struct OpenTask {
    dir: PathBuf,
    key: Option<keyward_seal::SecretKey>,
    now: u64,
}

impl Task for OpenTask {
    type Output = Vault;
    type JsValue = VaultStore;
    fn compute(&mut self) -> napi::Result<Vault> {
        let key = self
            .key
            .take()
            .ok_or_else(|| to_js(Error::InvalidState("this task already ran")))?;
        guard(|| Vault::open(&self.dir, key, self.now))
    }
    fn resolve(&mut self, _: Env, vault: Vault) -> napi::Result<VaultStore> {
        Ok(VaultStore {
            inner: Arc::new(Mutex::new(Some(vault))),
        })
    }
}

pub enum Commit {
    Save,
    Rekey(Option<keyward_seal::SecretKey>),
}

pub struct CommitTask {
    inner: Shared,
    commit: Commit,
    now: u64,
}

impl CommitTask {
    fn run(&mut self) -> napi::Result<()> {
        let now = self.now;
        match &mut self.commit {
            Commit::Save => with(&self.inner, |v| v.save(now, &mut OsRng)),
            Commit::Rekey(key) => {
                let key = key
                    .take()
                    .ok_or_else(|| to_js(Error::InvalidState("this task already ran")))?;
                with(&self.inner, |v| v.rekey(key, now, &mut OsRng))
            }
        }
    }
}

impl Task for CommitTask {
    type Output = ();
    type JsValue = ();
    fn compute(&mut self) -> napi::Result<()> {
        self.run()
    }
    fn resolve(&mut self, _: Env, _: ()) -> napi::Result<()> {
        Ok(())
    }
}

#[napi]
impl VaultStore {
    #[napi(ts_return_type = "Promise<VaultStore>")]
    pub fn open(
        dir: String,
        key: &SecretKey,
        now_ms: Option<f64>,
    ) -> napi::Result<AsyncTask<OpenTask>> {
        Ok(AsyncTask::new(OpenTask {
            dir: dir.into(),
            key: Some(copy_key(key)?),
            now: clock(now_ms)?,
        }))
    }

    #[napi(factory)]
    pub fn open_sync(
        dir: String,
        key: &SecretKey,
        now_ms: Option<f64>,
    ) -> napi::Result<VaultStore> {
        let mut task = OpenTask {
            dir: dir.into(),
            key: Some(copy_key(key)?),
            now: clock(now_ms)?,
        };
        let vault = task.compute()?;
        Ok(VaultStore {
            inner: Arc::new(Mutex::new(Some(vault))),
        })
    }

    #[napi]
    pub fn get(&self, path: Vec<Uint8Array>, tag: &[u8]) -> napi::Result<Option<VaultValue>> {
        let path = path_of(path);
        let value = with(&self.inner, |v| v.get(&path, tag))?;
        Ok(value.map(|v| VaultValue {
            kind: v.kind as u32,
            data: secret_out(v.data),
        }))
    }

    #[napi]
    pub fn set(
        &self,
        path: Vec<Uint8Array>,
        tag: &[u8],
        kind: f64,
        data: &[u8],
    ) -> napi::Result<()> {
        // A number, not `u32`: napi would wrap 2^32 + 1 to 1 (JSON).
        let kind = match kind {
            0.0 => Kind::Bytes,
            1.0 => Kind::Json,
            _ => {
                return Err(to_js(Error::InvalidArgument(
                    "value kind must be 0 (bytes) or 1 (JSON)".into(),
                )))
            }
        };
        let path = path_of(path);
        with(&self.inner, |v| v.set(&path, tag, kind, data))
    }

    #[napi]
    pub fn has(&self, path: Vec<Uint8Array>, tag: &[u8]) -> napi::Result<bool> {
        let path = path_of(path);
        with(&self.inner, |v| v.has(&path, tag))
    }

    #[napi]
    pub fn delete(&self, path: Vec<Uint8Array>, tag: &[u8]) -> napi::Result<bool> {
        let path = path_of(path);
        with(&self.inner, |v| v.delete(&path, tag))
    }

    #[napi]
    pub fn tags(&self, path: Vec<Uint8Array>) -> napi::Result<Vec<owned::Uint8Array>> {
        let path = path_of(path);
        let tags = with(&self.inner, |v| v.tags(&path))?;
        Ok(tags.into_iter().map(owned::Uint8Array::from).collect())
    }

    #[napi]
    pub fn has_changes(&self) -> napi::Result<bool> {
        with(&self.inner, |v| Ok(v.has_changes()))
    }

    #[napi]
    pub fn rollback(&self) -> napi::Result<()> {
        with(&self.inner, |v| v.rollback())
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn save(&self, now_ms: Option<f64>) -> napi::Result<AsyncTask<CommitTask>> {
        Ok(AsyncTask::new(CommitTask {
            inner: self.inner.clone(),
            commit: Commit::Save,
            now: clock(now_ms)?,
        }))
    }

    #[napi]
    pub fn save_sync(&self, now_ms: Option<f64>) -> napi::Result<()> {
        CommitTask {
            inner: self.inner.clone(),
            commit: Commit::Save,
            now: clock(now_ms)?,
        }
        .run()
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn rekey(
        &self,
        key: &SecretKey,
        now_ms: Option<f64>,
    ) -> napi::Result<AsyncTask<CommitTask>> {
        let commit = Commit::Rekey(Some(copy_key(key)?));
        Ok(AsyncTask::new(CommitTask {
            inner: self.inner.clone(),
            commit,
            now: clock(now_ms)?,
        }))
    }

    #[napi]
    pub fn rekey_sync(&self, key: &SecretKey, now_ms: Option<f64>) -> napi::Result<()> {
        let commit = Commit::Rekey(Some(copy_key(key)?));
        CommitTask {
            inner: self.inner.clone(),
            commit,
            now: clock(now_ms)?,
        }
        .run()
    }

    #[napi]
    pub fn destroy(&self) -> napi::Result<()> {
        with(&self.inner, |v| v.destroy())?;
        *lock(&self.inner)? = None;
        Ok(())
    }

    /// Drops the vault's keys and staged values; unsaved changes are lost.
    #[napi]
    pub fn close(&self) -> napi::Result<()> {
        *lock(&self.inner)? = None;
        Ok(())
    }
}
