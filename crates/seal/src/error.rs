//! The sealed-data error type. Each variant has a stable code that the binding
//! passes to JavaScript, where it becomes a typed error class.

/// Calls `$m! { $($args)* { Variant = "ERR_…", … } }` with the codes of
/// [`Error`]: the one place they are written, for [`ErrorCode`] and a binding's
/// mirror of it, as [`seal_aeads!`](crate::seal_aeads) does for the AEADs.
/// Never change a published one.
#[macro_export]
macro_rules! seal_error_codes {
    ($m:ident $(, $($args:tt)*)?) => {
        $m! { $($($args)*)? {
            Decryption = "ERR_DECRYPTION",
            TimestampExpired = "ERR_TIMESTAMP_EXPIRED",
            InvalidMac = "ERR_INVALID_MAC",
            InvalidArgValue = "ERR_INVALID_ARG_VALUE",
            Format = "ERR_FORMAT",
            InvalidState = "ERR_INVALID_STATE",
            VaultIo = "ERR_VAULT_IO",
        } }
    };
}

pub(crate) use keyward_codes::code_enum;

seal_error_codes!(code_enum,
    /// What kind of [`Error`] this is, as the binding reports it.
    ErrorCode);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Wrong key, wrong associated data, a flipped bit, or a malformed box.
    #[error("decryption failed: {0}")]
    Decryption(&'static str),
    /// The value authenticated but is older than its time-to-live.
    // The binding passes `expired_by` on as the JS error's `expiredBy` property.
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
    /// What kind of error this is.
    pub fn kind(&self) -> ErrorCode {
        match self {
            Error::Decryption(_) => ErrorCode::Decryption,
            Error::Expired { .. } => ErrorCode::TimestampExpired,
            Error::InvalidMac => ErrorCode::InvalidMac,
            // A wrong-length key or nonce is an argument error to the caller.
            Error::Size { .. } => ErrorCode::InvalidArgValue,
            Error::Format(_) => ErrorCode::Format,
            Error::InvalidArgument(_) => ErrorCode::InvalidArgValue,
            Error::InvalidState(_) => ErrorCode::InvalidState,
            Error::Io(_) => ErrorCode::VaultIo,
        }
    }

    /// Stable code, following the Node convention (the kind's).
    pub fn code(&self) -> &'static str {
        self.kind().as_str()
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
