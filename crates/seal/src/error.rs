//! The sealed-data error type. Each variant has a stable code that the binding
//! passes to JavaScript, where it becomes a typed error class.

use core::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Wrong key, wrong associated data, a flipped bit, or a malformed box.
    Decryption(&'static str),
    /// The value authenticated but is older than its time-to-live.
    Expired {
        /// Seconds past the time-to-live.
        expired_by: f64,
    },
    /// A MAC that does not match.
    InvalidMac,
    /// Bytes of the wrong length where the length is fixed.
    Size {
        what: &'static str,
        expected: usize,
        actual: usize,
    },
    /// A string or record that is not in keyward's format (PHC hash, vault files).
    Format(String),
    /// An argument out of its allowed range.
    InvalidArgument(String),
    /// An object used after `dispose()`, or a finished stream used again.
    InvalidState(&'static str),
    /// The file system refused (vault).
    Io(String),
}

pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// Stable code, following the Node convention. Never change a published one.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Decryption(_) => "ERR_DECRYPTION",
            Error::Expired { .. } => "ERR_TIMESTAMP_EXPIRED",
            Error::InvalidMac => "ERR_INVALID_MAC",
            // A wrong-length key or nonce is an argument error to the caller.
            Error::Size { .. } => "ERR_INVALID_ARG_VALUE",
            Error::Format(_) => "ERR_FORMAT",
            Error::InvalidArgument(_) => "ERR_INVALID_ARG_VALUE",
            Error::InvalidState(_) => "ERR_INVALID_STATE",
            Error::Io(_) => "ERR_VAULT_IO",
        }
    }

    pub(crate) fn check_len(what: &'static str, bytes: &[u8], expected: usize) -> Result<()> {
        if bytes.len() == expected {
            Ok(())
        } else {
            Err(Error::Size {
                what,
                expected,
                actual: bytes.len(),
            })
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Decryption(why) => write!(f, "decryption failed: {why}"),
            // The TypeScript layer reads `expiredBy=` back out of this message.
            Error::Expired { expired_by } => {
                write!(
                    f,
                    "expired: older than its time-to-live by expiredBy={expired_by} s"
                )
            }
            Error::InvalidMac => f.write_str("the MAC does not match"),
            Error::Size {
                what,
                expected,
                actual,
            } => write!(f, "{what} must be {expected} bytes, got {actual}"),
            Error::Format(why) => f.write_str(why),
            Error::InvalidArgument(why) => f.write_str(why),
            Error::InvalidState(why) => f.write_str(why),
            Error::Io(why) => write!(f, "vault storage: {why}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}
