//! Core errors on their way to JavaScript. The thrown error's `code` is the
//! core's stable code and extra fields (`expiredBy`) are properties of it, so
//! src/errors.ts picks the class by `code` and reads nothing out of messages.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::JsObjectValue;
use napi::{Env, JsError, JsValue};

/// What the exports return: the error's status becomes the JavaScript `code`.
pub type Result<T, E = napi::Error<&'static str>> = std::result::Result<T, E>;

/// A failure of any core, or of an argument or state check here.
#[derive(Debug)]
pub struct Failure {
    code: &'static str,
    message: String,
    /// A number the caller acts on, as a property of the JavaScript error:
    /// `expiredBy` (seconds past a value's time-to-live) or `retryAfterMs`.
    field: Option<(&'static str, f64)>,
}

/// The one conversion of core errors: their own code and message.
macro_rules! from_core {
    ($($error:ty),*) => {$(
        impl From<$error> for Failure {
            fn from(e: $error) -> Self {
                Failure { code: e.code(), message: e.to_string(), field: None }
            }
        }
    )*};
}
from_core!(keyward_opaque::Error, keyward_pop::Error, keyward_session::Error);
from_core!(keyward_seal::vault::VaultError);

impl From<keyward_seal::Error> for Failure {
    fn from(e: keyward_seal::Error) -> Self {
        let field = match e {
            keyward_seal::Error::Expired { expired_by } => Some(("expiredBy", expired_by)),
            _ => None,
        };
        Failure { code: e.code(), message: e.to_string(), field }
    }
}

impl From<keyward_relay::Error> for Failure {
    fn from(e: keyward_relay::Error) -> Self {
        let field = match e {
            keyward_relay::Error::Remote { retry_after_ms, .. } => Some(("retryAfterMs", retry_after_ms.into())),
            _ => None,
        };
        Failure { code: e.code(), message: e.to_string(), field }
    }
}

impl Failure {
    /// An argument out of range (the seal core's code for it).
    pub fn argument(message: impl Into<String>) -> Self {
        keyward_seal::Error::InvalidArgument(message.into()).into()
    }

    /// An object used after `dispose()`, or while busy: one code for every class.
    pub fn state(message: &'static str) -> Self {
        keyward_seal::Error::InvalidState(message).into()
    }

    /// A failure of this binding itself, not of the input.
    pub fn internal(message: impl Into<String>) -> Self {
        Failure { code: "ERR_INTERNAL", message: message.into(), field: None }
    }

    /// The error as JavaScript sees it, with its fields as properties. Needs
    /// the JavaScript thread; `From` below serves every other path.
    pub fn throw(self, env: &Env) -> napi::Error {
        let field = self.field;
        let error = JsError::from(napi::Error::new(self.code, self.message)).into_unknown(*env);
        if let (Some((name, value)), Ok(mut object)) = (field, error.coerce_to_object()) {
            // Best effort: a failure leaves the error without the property.
            let _ = object.set_named_property(name, value);
        }
        napi::Error::from(error)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A field reaches JavaScript only through `throw` (the calls that can fail
/// with one take the `env`: box opening, password verification, the relay
/// client's handshake).
impl From<Failure> for napi::Error<&'static str> {
    fn from(f: Failure) -> Self {
        napi::Error::new(f.code, f.message)
    }
}

/// Runs `f`, turning a panic into an error instead of unwinding into Node.
pub fn catch<T, E: Into<Failure>>(f: impl FnOnce() -> Result<T, E>) -> Result<T, Failure> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(Failure::internal("internal error (panic caught)")),
    }
}

/// `catch` for an export: the failure becomes the thrown error.
pub fn guard<T, E: Into<Failure>>(f: impl FnOnce() -> Result<T, E>) -> Result<T> {
    Ok(catch(f)?)
}
