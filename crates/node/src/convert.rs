//! Conversions and the panic guard shared by every export.

use std::panic::{catch_unwind, AssertUnwindSafe};

use keyward_opaque::{ClientParams, Error, Identifiers, KeyStretching, ServerParams, Suite};
use napi::bindgen_prelude::{FromNapiValue, Uint8Array, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use zeroize::Zeroizing;

/// An error of one of the cores: a stable code and a message.
pub trait CoreError: std::fmt::Display {
    fn code(&self) -> &'static str;
}

impl CoreError for Error {
    fn code(&self) -> &'static str {
        Error::code(self)
    }
}

impl CoreError for keyward_seal::Error {
    fn code(&self) -> &'static str {
        keyward_seal::Error::code(self)
    }
}

/// The one place a core error becomes a JavaScript error.
pub fn to_js<E: CoreError>(e: E) -> napi::Error {
    napi::Error::from_reason(format!("[{}] {}", e.code(), e))
}

/// Runs `f`, turning a panic into an error instead of unwinding into Node.
pub fn guard<T, E: CoreError>(f: impl FnOnce() -> Result<T, E>) -> napi::Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.map_err(to_js),
        Err(_) => Err(napi::Error::from_reason(
            "[ERR_INTERNAL] internal error (panic caught)",
        )),
    }
}

pub fn suite(name: Option<String>) -> napi::Result<Suite> {
    match name {
        None => Ok(Suite::default()),
        Some(n) => Suite::from_name(&n).map_err(to_js),
    }
}

/// Copies `data` into memory V8 owns. Unlike an external buffer, V8 counts
/// it towards its heap and frees it without a finalizer, so a long stream of
/// results (a pipeline that never yields to the event loop) cannot pile up.
pub fn js_bytes<'e>(env: &'e Env, data: &[u8]) -> napi::Result<Uint8ArraySlice<'e>> {
    Uint8ArraySlice::copy_from(env, data)
}

/// A new `Uint8Array` of `len` bytes in memory V8 owns, written by `fill`
/// before JavaScript can see it: the result of a seal or open is written once,
/// where it will live, with no copy out of Rust and no finalizer to run.
pub fn js_bytes_with<'e>(
    env: &'e Env,
    len: usize,
    fill: impl FnOnce(&mut [u8]) -> napi::Result<()>,
) -> napi::Result<Uint8ArraySlice<'e>> {
    use napi::sys;
    let fail = |what: &str| {
        napi::Error::from_reason(format!(
            "[ERR_INTERNAL] could not create {what} of {len} bytes"
        ))
    };
    let mut data = std::ptr::null_mut();
    let mut buffer = std::ptr::null_mut();
    // SAFETY: plain N-API call with out-pointers to locals.
    if unsafe { sys::napi_create_arraybuffer(env.raw(), len, &mut data, &mut buffer) }
        != sys::Status::napi_ok
    {
        return Err(fail("an ArrayBuffer"));
    }
    let slice: &mut [u8] = if len == 0 || data.is_null() {
        &mut []
    } else {
        // SAFETY: V8 just allocated `len` bytes at `data` for this buffer; no
        // JavaScript code can reach it yet, and the slice does not outlive
        // this function.
        unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), len) }
    };
    fill(slice)?;
    let mut array = std::ptr::null_mut();
    // SAFETY: `buffer` is the ArrayBuffer created above, in this scope.
    let status = unsafe {
        sys::napi_create_typedarray(
            env.raw(),
            sys::TypedarrayType::uint8_array,
            len,
            buffer,
            0,
            &mut array,
        )
    };
    if status != sys::Status::napi_ok {
        return Err(fail("a Uint8Array"));
    }
    // SAFETY: `array` is the Uint8Array N-API just created in this scope.
    unsafe { Uint8ArraySlice::from_napi_value(env.raw(), array) }
}

pub fn secret(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(bytes.to_vec())
}

pub fn bytes(v: Vec<u8>) -> Uint8Array {
    Uint8Array::from(v)
}

/// Copies a secret into a JavaScript-owned array; the Rust copy is wiped on drop.
pub fn secret_out(v: Zeroizing<Vec<u8>>) -> Uint8Array {
    Uint8Array::from(v.as_slice())
}

#[napi(object)]
pub struct IdentifiersInput {
    pub client: Option<Uint8Array>,
    pub server: Option<Uint8Array>,
}

#[napi(object)]
pub struct KeyStretchingInput {
    /// `memory-constrained`, `rfc-recommended` or `argon2id-custom`.
    pub preset: String,
    pub iterations: Option<u32>,
    pub memory: Option<u32>,
    pub parallelism: Option<u32>,
}

#[napi(object)]
pub struct ClientParamsInput {
    pub identifiers: Option<IdentifiersInput>,
    pub context: Option<Uint8Array>,
    pub key_stretching: Option<KeyStretchingInput>,
    pub server_public_key: Option<Uint8Array>,
}

#[napi(object)]
pub struct ServerParamsInput {
    pub identifiers: Option<IdentifiersInput>,
    pub context: Option<Uint8Array>,
}

/// Parameters copied out of JavaScript so they can cross to a worker thread.
#[derive(Default)]
pub struct OwnedParams {
    client_id: Option<Vec<u8>>,
    server_id: Option<Vec<u8>>,
    context: Option<Vec<u8>>,
    key_stretching: KeyStretching,
    server_public_key: Option<Vec<u8>>,
}

fn key_stretching(input: Option<KeyStretchingInput>) -> napi::Result<KeyStretching> {
    let Some(ks) = input else {
        return Ok(KeyStretching::default());
    };
    match ks.preset.as_str() {
        "memory-constrained" => Ok(KeyStretching::MemoryConstrained),
        "rfc-recommended" => Ok(KeyStretching::RfcRecommended),
        "argon2id-custom" => match (ks.iterations, ks.memory, ks.parallelism) {
            (Some(iterations), Some(memory), Some(parallelism)) => Ok(KeyStretching::Custom {
                iterations,
                memory,
                parallelism,
            }),
            _ => Err(to_js(Error::InvalidArgument(
                "argon2id-custom needs iterations, memory and parallelism".into(),
            ))),
        },
        other => Err(to_js(Error::InvalidArgument(format!(
            "unknown key stretching preset {other:?}"
        )))),
    }
}

fn ids(input: Option<IdentifiersInput>) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    match input {
        None => (None, None),
        Some(i) => (i.client.map(|c| c.to_vec()), i.server.map(|s| s.to_vec())),
    }
}

impl OwnedParams {
    pub fn client(input: Option<ClientParamsInput>) -> napi::Result<OwnedParams> {
        let Some(p) = input else {
            return Ok(OwnedParams::default());
        };
        let (client_id, server_id) = ids(p.identifiers);
        Ok(OwnedParams {
            client_id,
            server_id,
            context: p.context.map(|c| c.to_vec()),
            key_stretching: key_stretching(p.key_stretching)?,
            server_public_key: p.server_public_key.map(|k| k.to_vec()),
        })
    }

    pub fn server(input: Option<ServerParamsInput>) -> OwnedParams {
        let Some(p) = input else {
            return OwnedParams::default();
        };
        let (client_id, server_id) = ids(p.identifiers);
        OwnedParams {
            client_id,
            server_id,
            context: p.context.map(|c| c.to_vec()),
            ..Default::default()
        }
    }

    fn identifiers(&self) -> Identifiers<'_> {
        Identifiers {
            client: self.client_id.as_deref(),
            server: self.server_id.as_deref(),
        }
    }

    pub fn as_client(&self) -> ClientParams<'_> {
        ClientParams {
            identifiers: self.identifiers(),
            context: self.context.as_deref(),
            key_stretching: self.key_stretching,
            server_public_key: self.server_public_key.as_deref(),
        }
    }

    pub fn as_server(&self) -> ServerParams<'_> {
        ServerParams {
            identifiers: self.identifiers(),
            context: self.context.as_deref(),
        }
    }
}
