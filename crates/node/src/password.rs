//! Argon2id password hashing: Promise forms on the libuv pool (the lanes on
//! the low-priority workers) and `…Sync` twins.

use keyward_seal::password::{self, Binding, PasswordParams};
use keyward_seal::Error;
use napi::bindgen_prelude::{AsyncTask, Uint8Array};
use napi::{Env, Task};
use napi_derive::napi;
use rand_core::OsRng;
use zeroize::Zeroizing;

use crate::convert::{guard, secret, to_js};
use crate::seal::{clock, millis, whole_u32};
use crate::workers::on_workers;

#[napi(object)]
pub struct PasswordOptions {
    pub pepper: Option<Uint8Array>,
    pub aad: Option<Uint8Array>,
    /// `owasp` (default), `rfc9106-low-memory` or `rfc9106-high-memory`.
    pub preset: Option<String>,
    /// Costs cross as numbers and are checked (see `seal::whole`), never wrapped.
    pub memory: Option<f64>,
    pub iterations: Option<f64>,
    pub parallelism: Option<f64>,
    pub ttl_ms: Option<f64>,
}

pub fn params_of(o: &PasswordOptions) -> napi::Result<PasswordParams> {
    match (o.memory, o.iterations, o.parallelism, &o.preset) {
        (None, None, None, preset) => {
            guard(|| PasswordParams::preset(preset.as_deref().unwrap_or("owasp")))
        }
        (Some(memory), Some(iterations), Some(parallelism), None) => Ok(PasswordParams {
            memory: whole_u32(memory, "memory", 1)?,
            iterations: whole_u32(iterations, "iterations", 1)?,
            parallelism: whole_u32(parallelism, "parallelism", 1)?,
        }),
        _ => Err(to_js(Error::InvalidArgument(
            "give either a preset or all of memory, iterations and parallelism".into(),
        ))),
    }
}

/// Everything a hash or verify needs, owned, so it can cross to a worker.
pub struct PasswordJob {
    password: Zeroizing<Vec<u8>>,
    pepper: Option<Zeroizing<Vec<u8>>>,
    aad: Option<Vec<u8>>,
    params: PasswordParams,
    ttl_ms: Option<u64>,
    now_ms: u64,
    hash: String,
}

impl PasswordJob {
    fn new(
        password: &[u8],
        hash: String,
        options: Option<PasswordOptions>,
        now_ms: Option<f64>,
        hashing: bool,
    ) -> napi::Result<Self> {
        let options = options.unwrap_or(PasswordOptions {
            pepper: None,
            aad: None,
            preset: None,
            memory: None,
            iterations: None,
            parallelism: None,
            ttl_ms: None,
        });
        Ok(PasswordJob {
            password: secret(password),
            pepper: options.pepper.as_ref().map(|p| secret(p)),
            aad: options.aad.as_ref().map(|a| a.to_vec()),
            params: if hashing {
                params_of(&options)?
            } else {
                PasswordParams::OWASP
            },
            ttl_ms: options.ttl_ms.map(|t| millis(t, "ttl")).transpose()?,
            now_ms: clock(now_ms)?,
            hash,
        })
    }

    fn binding(&self) -> Binding<'_> {
        Binding {
            pepper: self.pepper.as_deref().map(Vec::as_slice),
            aad: self.aad.as_deref(),
        }
    }

    fn hash(&self) -> napi::Result<String> {
        guard(|| {
            password::hash_password(
                &self.password,
                self.params,
                &self.binding(),
                self.now_ms,
                &mut OsRng,
            )
        })
    }

    fn verify(&self) -> napi::Result<bool> {
        guard(|| {
            password::verify_password(
                &self.hash,
                &self.password,
                &self.binding(),
                self.ttl_ms,
                self.now_ms,
            )
        })
    }
}

pub struct HashTask(PasswordJob);

impl Task for HashTask {
    type Output = String;
    type JsValue = String;
    fn compute(&mut self) -> napi::Result<String> {
        on_workers(|| self.0.hash())
    }
    fn resolve(&mut self, _: Env, output: String) -> napi::Result<String> {
        Ok(output)
    }
}

pub struct VerifyTask(PasswordJob);

impl Task for VerifyTask {
    type Output = bool;
    type JsValue = bool;
    fn compute(&mut self) -> napi::Result<bool> {
        on_workers(|| self.0.verify())
    }
    fn resolve(&mut self, _: Env, output: bool) -> napi::Result<bool> {
        Ok(output)
    }
}

#[napi(ts_return_type = "Promise<string>")]
pub fn hash_password(
    password: &[u8],
    options: Option<PasswordOptions>,
    now_ms: Option<f64>,
) -> napi::Result<AsyncTask<HashTask>> {
    Ok(AsyncTask::new(HashTask(PasswordJob::new(
        password,
        String::new(),
        options,
        now_ms,
        true,
    )?)))
}

#[napi]
pub fn hash_password_sync(
    password: &[u8],
    options: Option<PasswordOptions>,
    now_ms: Option<f64>,
) -> napi::Result<String> {
    PasswordJob::new(password, String::new(), options, now_ms, true)?.hash()
}

#[napi(ts_return_type = "Promise<boolean>")]
pub fn verify_password(
    hash: String,
    password: &[u8],
    options: Option<PasswordOptions>,
    now_ms: Option<f64>,
) -> napi::Result<AsyncTask<VerifyTask>> {
    Ok(AsyncTask::new(VerifyTask(PasswordJob::new(
        password, hash, options, now_ms, false,
    )?)))
}

#[napi]
pub fn verify_password_sync(
    hash: String,
    password: &[u8],
    options: Option<PasswordOptions>,
    now_ms: Option<f64>,
) -> napi::Result<bool> {
    PasswordJob::new(password, hash, options, now_ms, false)?.verify()
}

#[napi]
pub fn needs_rehash(hash: String, options: Option<PasswordOptions>) -> napi::Result<bool> {
    let params = match &options {
        Some(o) => params_of(o)?,
        None => PasswordParams::OWASP,
    };
    guard(|| password::needs_rehash(&hash, params))
}
