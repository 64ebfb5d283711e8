//! Bytes returned to JavaScript in memory V8 owns.
//!
//! napi-rs's own `Uint8Array` hands a Rust allocation to V8 as an external
//! buffer whose finalizer Node runs only on a later turn of the event loop;
//! a synchronous loop of calls (a benchmark, a batch job, a stream pipeline
//! that never yields) then piles up memory V8 does not even count. Copying
//! into an `ArrayBuffer` V8 allocates costs one `memcpy` and makes the memory
//! ordinary garbage. The type is named after the JavaScript type it becomes,
//! because that name is what napi-rs's typings generator reads; always write
//! it as `owned::Uint8Array` so it is not mistaken for napi-rs's.

use napi::bindgen_prelude::{FromNapiValue, ToNapiValue, TypeName, Uint8ArraySlice, ValueType};
use napi::{sys, Env};
use zeroize::Zeroizing;

use crate::errors::Failure;

/// A byte string on its way to JavaScript; the Rust copy is wiped once copied.
pub struct Uint8Array(Zeroizing<Vec<u8>>);

impl From<Vec<u8>> for Uint8Array {
    fn from(bytes: Vec<u8>) -> Self {
        Uint8Array(Zeroizing::new(bytes))
    }
}

impl From<Zeroizing<Vec<u8>>> for Uint8Array {
    fn from(bytes: Zeroizing<Vec<u8>>) -> Self {
        Uint8Array(bytes)
    }
}

impl From<&[u8]> for Uint8Array {
    fn from(bytes: &[u8]) -> Self {
        Uint8Array(Zeroizing::new(bytes.to_vec()))
    }
}

impl<const N: usize> From<[u8; N]> for Uint8Array {
    fn from(bytes: [u8; N]) -> Self {
        Uint8Array::from(&bytes[..])
    }
}

fn status(code: sys::napi_status, what: &str, len: usize) -> Result<(), Failure> {
    if code == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Failure::internal(format!("could not create {what} of {len} bytes")))
    }
}

/// A new `Uint8Array` of `len` bytes in V8's memory, written by `fill` before
/// any JavaScript can see it.
///
/// # Safety
/// `env` must be the environment of the current call.
unsafe fn create(
    env: sys::napi_env,
    len: usize,
    fill: impl FnOnce(&mut [u8]) -> Result<(), Failure>,
) -> Result<sys::napi_value, Failure> {
    let mut data = std::ptr::null_mut();
    let mut buffer = std::ptr::null_mut();
    // SAFETY: a plain N-API call with out-pointers to locals.
    status(unsafe { sys::napi_create_arraybuffer(env, len, &mut data, &mut buffer) }, "an ArrayBuffer", len)?;
    let slice: &mut [u8] = if len == 0 || data.is_null() {
        &mut []
    } else {
        // SAFETY: V8 just allocated `len` bytes at `data` for this buffer; no
        // JavaScript code can reach it yet and the slice dies in this function.
        unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), len) }
    };
    fill(slice)?;
    let mut array = std::ptr::null_mut();
    // SAFETY: `buffer` is the ArrayBuffer created above, in this scope.
    status(
        unsafe { sys::napi_create_typedarray(env, sys::TypedarrayType::uint8_array, len, buffer, 0, &mut array) },
        "a Uint8Array",
        len,
    )?;
    Ok(array)
}

/// For results computed straight into JavaScript memory (a sealed box, an
/// opened plaintext): no copy at all.
pub fn write_with<'e>(
    env: &'e Env,
    len: usize,
    fill: impl FnOnce(&mut [u8]) -> Result<(), Failure>,
) -> crate::errors::Result<Uint8ArraySlice<'e>> {
    // SAFETY: `env` is this call's environment, and `create` returns a Uint8Array.
    let array = unsafe { create(env.raw(), len, fill)? };
    // SAFETY: as above.
    unsafe { Uint8ArraySlice::from_napi_value(env.raw(), array) }.map_err(|e| Failure::internal(e.reason).into())
}

impl ToNapiValue for Uint8Array {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: napi-rs calls this with the current call's environment.
        let array = unsafe {
            create(env, val.0.len(), |out| {
                out.copy_from_slice(&val.0);
                Ok(())
            })
        };
        array.map_err(|f| napi::Error::from_reason(f.to_string()))
    }
}

/// Bytes from JavaScript, copied (inside `#[napi(object)]` values that travel
/// both ways, such as relay frames).
impl FromNapiValue for Uint8Array {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: napi-rs calls this with the current call's environment and value.
        let slice = unsafe { Uint8ArraySlice::from_napi_value(env, value)? };
        Ok(Uint8Array::from(&slice[..]))
    }
}

impl Uint8Array {
    /// The bytes, for a conversion into a core type.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes moved out, for a core type that owns them (a relay frame's
    /// body): no second copy. Only for bytes that are not secret, since the
    /// `Vec` is no longer wiped on drop.
    pub fn into_vec(mut self) -> Vec<u8> {
        std::mem::take(&mut *self.0)
    }
}

impl TypeName for Uint8Array {
    fn type_name() -> &'static str {
        "Uint8Array"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}
