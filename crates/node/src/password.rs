//! Argon2id password hashing: Promise forms on the low-priority workers and
//! `…Sync` twins running the same job.

use keyward_seal::password::{self, Binding, PasswordParams, PasswordPreset as Preset};
use napi::bindgen_prelude::{AsyncTask, Uint8Array};
use napi::Env;
use napi_derive::napi;
use rand_core::OsRng;
use zeroize::Zeroizing;

use crate::args::{clock, millis};
use crate::errors::{guard, Failure, Result};
use crate::names::PasswordPreset;
use crate::workers::{blocking, now, twins, Blocking};

#[napi(object)]
#[derive(Default)]
pub struct PasswordOptions {
    pub pepper: Option<Uint8Array>,
    pub aad: Option<Uint8Array>,
    pub preset: Option<PasswordPreset>,
    /// Costs cross as numbers, checked by the core, never wrapped.
    pub memory: Option<f64>,
    pub iterations: Option<f64>,
    pub parallelism: Option<f64>,
    pub ttl_ms: Option<f64>,
}

fn params_of(o: &PasswordOptions) -> Result<PasswordParams, Failure> {
    let preset = o.preset.map(|p| PasswordParams::from(Preset::from(p)));
    Ok(PasswordParams::preset_or_numbers(preset, o.memory, o.iterations, o.parallelism)?)
}

/// Everything a hash or verify needs, owned, so it can cross to a worker.
struct Job {
    password: Zeroizing<Vec<u8>>,
    pepper: Option<Zeroizing<Vec<u8>>>,
    aad: Option<Vec<u8>>,
    params: PasswordParams,
    ttl_ms: Option<u64>,
    now_ms: u64,
}

impl Job {
    fn new(
        password: &[u8],
        options: Option<PasswordOptions>,
        now_ms: Option<f64>,
        hashing: bool,
    ) -> Result<Self, Failure> {
        let o = options.unwrap_or_default();
        Ok(Job {
            password: Zeroizing::new(password.to_vec()),
            pepper: o.pepper.as_ref().map(|p| Zeroizing::new(p.to_vec())),
            aad: o.aad.as_ref().map(|a| a.to_vec()),
            params: if hashing { params_of(&o)? } else { PasswordParams::OWASP },
            ttl_ms: o.ttl_ms.map(|t| millis(t, "ttl")).transpose()?,
            now_ms: clock(now_ms)?,
        })
    }

    fn binding(&self) -> Binding<'_> {
        Binding { pepper: self.pepper.as_deref().map(Vec::as_slice), aad: self.aad.as_deref() }
    }

    fn hash(self) -> Result<String, Failure> {
        let (params, now) = (self.params, self.now_ms);
        Ok(password::hash_password(&self.password, params, &self.binding(), now, &mut OsRng)?)
    }

    fn verify(self, hash: String) -> Result<bool, Failure> {
        let (ttl, now) = (self.ttl_ms, self.now_ms);
        Ok(password::verify_password(&hash, &self.password, &self.binding(), ttl, now)?)
    }
}

twins!(true, hash_password / hash_password_sync
    (password: &[u8], options: Option<PasswordOptions>, now_ms: Option<f64>) -> "Promise<string>" String
    = Job::new(password, options, now_ms, true).map(|job| move || job.hash()));

twins!(true, verify_password / verify_password_sync
    (hash: String, password: &[u8], options: Option<PasswordOptions>, now_ms: Option<f64>) -> "Promise<boolean>" bool
    = Job::new(password, options, now_ms, false).map(|job| move || job.verify(hash)));

#[napi]
pub fn needs_rehash(hash: String, options: Option<PasswordOptions>) -> Result<bool> {
    let params = options.as_ref().map_or(Ok(PasswordParams::OWASP), params_of)?;
    guard(|| password::needs_rehash(&hash, params))
}
