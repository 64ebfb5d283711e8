//! One error type for the whole core. Each variant has a stable code that the
//! binding passes to JavaScript, where it becomes a typed error class.

use opaque_ke::errors::{InternalError, ProtocolError};

/// Calls `$m! { $($args)* { Variant = "ERR_…", … } }` with the codes of
/// [`Error`]: the one place they are written, for [`ErrorCode`] and a binding's
/// mirror of it, as `keyward_seal::seal_aeads!` does for the AEADs. Never
/// change a published one.
#[macro_export]
macro_rules! opaque_error_codes {
    ($m:ident $(, $($args:tt)*)?) => {
        $m! { $($($args)*)? {
            InvalidLogin = "ERR_OPAQUE_INVALID_LOGIN",
            InvalidState = "ERR_OPAQUE_INVALID_STATE",
            Serialization = "ERR_OPAQUE_SERIALIZATION",
            Size = "ERR_OPAQUE_SIZE",
            ReflectedValue = "ERR_OPAQUE_REFLECTED_VALUE",
            InvalidArgValue = "ERR_INVALID_ARG_VALUE",
            Library = "ERR_OPAQUE_LIBRARY",
        } }
    };
}

use keyward_codes::code_enum;

opaque_error_codes!(code_enum,
    /// What kind of [`Error`] this is, as the binding reports it.
    ErrorCode);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Wrong password, tampered message, mismatched identifiers or context.
    #[error("{0}")]
    InvalidLogin(&'static str),
    /// A state was used twice, or after `dispose()`.
    #[error("{0}")]
    InvalidState(&'static str),
    /// Bytes that do not decode: bad point, wrong suite, bad header.
    #[error("{0}")]
    Serialization(String),
    /// Bytes of the wrong length.
    #[error("{what} must be {expected} bytes, got {actual}")]
    Size {
        what: &'static str,
        expected: usize,
        actual: usize,
    },
    /// The server reflected the client's blinded element.
    #[error("the server reflected the client's blinded element")]
    ReflectedValue,
    /// An argument out of its allowed range (suite name, KSF parameters, …).
    #[error("{0}")]
    InvalidArgument(String),
    /// Anything else the underlying library reported.
    #[error("{0}")]
    Library(String),
}

pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// What kind of error this is.
    pub fn kind(&self) -> ErrorCode {
        match self {
            Error::InvalidLogin(_) => ErrorCode::InvalidLogin,
            Error::InvalidState(_) => ErrorCode::InvalidState,
            Error::Serialization(_) => ErrorCode::Serialization,
            Error::Size { .. } => ErrorCode::Size,
            Error::ReflectedValue => ErrorCode::ReflectedValue,
            Error::InvalidArgument(_) => ErrorCode::InvalidArgValue,
            Error::Library(_) => ErrorCode::Library,
        }
    }

    /// Stable code, following the Node convention (the kind's).
    pub fn code(&self) -> &'static str {
        self.kind().as_str()
    }

    pub(crate) fn serialization(what: &str) -> Self {
        Error::Serialization(format!("{what} could not be decoded"))
    }

    /// Maps an opaque-ke error that arose while decoding `what`.
    pub(crate) fn decoding<T>(what: &'static str, e: ProtocolError<T>) -> Self {
        match e {
            ProtocolError::SizeError {
                len, actual_len, ..
            } => Error::Size {
                what,
                expected: len,
                actual: actual_len,
            },
            _ => Error::serialization(what),
        }
    }
}

impl<T> From<ProtocolError<T>> for Error {
    fn from(e: ProtocolError<T>) -> Self {
        match e {
            ProtocolError::InvalidLoginError => {
                Error::InvalidLogin("the login could not be verified")
            }
            ProtocolError::ReflectedValueError => Error::ReflectedValue,
            ProtocolError::SerializationError => Error::serialization("a protocol message"),
            ProtocolError::SizeError {
                name,
                len,
                actual_len,
            } => Error::Size {
                what: name,
                expected: len,
                actual: actual_len,
            },
            // A bad envelope MAC is what a wrong password looks like to the client.
            ProtocolError::LibraryError(InternalError::SealOpenHmacError) => {
                Error::InvalidLogin("the password or the server response is wrong")
            }
            ProtocolError::LibraryError(InternalError::KsfError) => {
                Error::InvalidArgument("key stretching failed: check its parameters".into())
            }
            ProtocolError::LibraryError(InternalError::OprfError(_)) => {
                Error::Serialization("a group element in the message is invalid".into())
            }
            ProtocolError::LibraryError(other) => Error::Library(format!("{other:?}")),
            ProtocolError::Custom(_) => Error::Library("custom error".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    /// The derived messages are the ones the hand-written `Display` gave.
    #[test]
    fn messages_are_unchanged() {
        let cases = [
            (Error::InvalidLogin("wrong"), "wrong"),
            (Error::InvalidState("spent"), "spent"),
            (Error::Serialization("bad point".into()), "bad point"),
            (
                Error::Size {
                    what: "credential request",
                    expected: 96,
                    actual: 95,
                },
                "credential request must be 96 bytes, got 95",
            ),
            (
                Error::ReflectedValue,
                "the server reflected the client's blinded element",
            ),
            (
                Error::InvalidArgument("out of range".into()),
                "out of range",
            ),
            (Error::Library("KsfError".into()), "KsfError"),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }
}
