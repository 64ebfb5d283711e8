//! Conversions and the panic guard shared by every export.

use std::panic::{catch_unwind, AssertUnwindSafe};

use keyward_opaque::{ClientParams, Error, Identifiers, KeyStretching, ServerParams, Suite};
use napi::bindgen_prelude::Uint8Array;

use crate::owned;
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

impl CoreError for keyward_pop::Error {
    fn code(&self) -> &'static str {
        keyward_pop::Error::code(self)
    }
}

impl CoreError for keyward_session::Error {
    fn code(&self) -> &'static str {
        keyward_session::Error::code(self)
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

pub fn secret(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(bytes.to_vec())
}

pub fn bytes(v: Vec<u8>) -> owned::Uint8Array {
    owned::Uint8Array::from(v)
}

/// Copies a secret into a JavaScript-owned array; the Rust copy is wiped.
pub fn secret_out(v: Zeroizing<Vec<u8>>) -> owned::Uint8Array {
    owned::Uint8Array::from(v)
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
    // Numbers as JavaScript gives them: a u32 here would wrap 2^32 + 1 to 1
    // before the core could see it. The core checks the range.
    pub iterations: Option<f64>,
    pub memory: Option<f64>,
    pub parallelism: Option<f64>,
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
            (Some(iterations), Some(memory), Some(parallelism)) => {
                KeyStretching::custom_from_numbers(iterations, memory, parallelism).map_err(to_js)
            }
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
