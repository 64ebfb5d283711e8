//! The sealed-data error type. Each variant has a stable code that the binding
//! passes to JavaScript, where it becomes a typed error class.

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Wrong key, wrong associated data, a flipped bit, or a malformed box.
    #[error("decryption failed: {0}")]
    Decryption(&'static str),
    /// The value authenticated but is older than its time-to-live.
    // The TypeScript layer reads `expiredBy=` back out of this message.
    #[error("expired: older than its time-to-live by expiredBy={expired_by} s")]
    Expired {
        /// Seconds past the time-to-live.
        expired_by: f64,
    },
    /// A MAC that does not match.
    #[error("the MAC does not match")]
    InvalidMac,
    /// Bytes of the wrong length where the length is fixed.
    #[error("{what} must be {expected} bytes, got {actual}")]
    Size {
        what: &'static str,
        expected: usize,
        actual: usize,
    },
    /// A string or record that is not in keyward's format (PHC hash, vault files).
    #[error("{0}")]
    Format(String),
    /// An argument out of its allowed range.
    #[error("{0}")]
    InvalidArgument(String),
    /// An object used after `dispose()`, or a finished stream used again.
    #[error("{0}")]
    InvalidState(&'static str),
    /// The file system refused (vault).
    #[error("vault storage: {0}")]
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

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    /// The derived messages are the ones the hand-written `Display` gave.
    #[test]
    fn messages_are_unchanged() {
        let cases = [
            (Error::Decryption("bad tag"), "decryption failed: bad tag"),
            (
                Error::Expired { expired_by: 1.5 },
                "expired: older than its time-to-live by expiredBy=1.5 s",
            ),
            (Error::InvalidMac, "the MAC does not match"),
            (
                Error::Size {
                    what: "key",
                    expected: 32,
                    actual: 31,
                },
                "key must be 32 bytes, got 31",
            ),
            (Error::Format("not a PHC string".into()), "not a PHC string"),
            (Error::InvalidArgument("too long".into()), "too long"),
            (Error::InvalidState("disposed"), "disposed"),
            (Error::Io("denied".into()), "vault storage: denied"),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }
}
