//! Incremental STREAM sealing and opening; the TypeScript layer wraps these
//! in Web `TransformStream`s and Node `Transform`s.

use keyward_seal::stream;
use napi_derive::napi;
use rand_core::OsRng;

use crate::convert::{bytes, guard, secret_out};
use crate::owned;
use crate::seal::{whole, SecretKey};

#[napi]
pub struct StreamSealer {
    inner: stream::StreamSealer,
}

#[napi]
impl StreamSealer {
    #[napi(constructor)]
    pub fn new(key: &SecretKey, aad: &[u8], chunk_size: Option<f64>) -> napi::Result<Self> {
        let key = key.get()?;
        let chunk = match chunk_size {
            None => stream::DEFAULT_CHUNK,
            Some(c) => whole(
                c,
                "chunkSize",
                stream::MIN_CHUNK as u64,
                stream::MAX_CHUNK as u64,
            )? as usize,
        };
        guard(|| stream::StreamSealer::new(key, aad, chunk, &mut OsRng)).map(|inner| Self { inner })
    }

    #[napi]
    pub fn push(&mut self, data: &[u8]) -> napi::Result<owned::Uint8Array> {
        guard(|| self.inner.push(data)).map(bytes)
    }

    #[napi]
    pub fn finish(&mut self) -> napi::Result<owned::Uint8Array> {
        guard(|| self.inner.finish()).map(bytes)
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
    pub fn push(&mut self, data: &[u8]) -> napi::Result<owned::Uint8Array> {
        guard(|| self.inner.push(data)).map(secret_out)
    }

    #[napi]
    pub fn finish(&mut self) -> napi::Result<owned::Uint8Array> {
        guard(|| self.inner.finish()).map(secret_out)
    }
}
