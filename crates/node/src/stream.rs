//! Incremental STREAM sealing and opening; the TypeScript layer wraps these
//! in Web `TransformStream`s and Node `Transform`s.

use keyward_seal::stream;
use napi::bindgen_prelude::Uint8ArraySlice;
use napi::Env;
use napi_derive::napi;
use rand_core::OsRng;

use crate::convert::{guard, js_bytes};
use crate::seal::SecretKey;

#[napi]
pub struct StreamSealer {
    inner: stream::StreamSealer,
}

#[napi]
impl StreamSealer {
    #[napi(constructor)]
    pub fn new(key: &SecretKey, aad: &[u8], chunk_size: Option<u32>) -> napi::Result<Self> {
        let key = key.get()?;
        let chunk = chunk_size.map_or(stream::DEFAULT_CHUNK, |c| c as usize);
        guard(|| stream::StreamSealer::new(key, aad, chunk, &mut OsRng)).map(|inner| Self { inner })
    }

    #[napi]
    pub fn push<'e>(&mut self, env: &'e Env, data: &[u8]) -> napi::Result<Uint8ArraySlice<'e>> {
        js_bytes(env, &guard(|| self.inner.push(data))?)
    }

    #[napi]
    pub fn finish<'e>(&mut self, env: &'e Env) -> napi::Result<Uint8ArraySlice<'e>> {
        js_bytes(env, &guard(|| self.inner.finish())?)
    }
}

#[napi]
pub struct StreamOpener {
    inner: stream::StreamOpener,
}

#[napi]
impl StreamOpener {
    #[napi(constructor)]
    pub fn new(key: &SecretKey, aad: &[u8]) -> napi::Result<Self> {
        Ok(Self {
            inner: stream::StreamOpener::new(key.get()?, aad),
        })
    }

    #[napi]
    pub fn push<'e>(&mut self, env: &'e Env, data: &[u8]) -> napi::Result<Uint8ArraySlice<'e>> {
        js_bytes(env, &guard(|| self.inner.push(data))?)
    }

    #[napi]
    pub fn finish<'e>(&mut self, env: &'e Env) -> napi::Result<Uint8ArraySlice<'e>> {
        js_bytes(env, &guard(|| self.inner.finish())?)
    }
}
