//! The session error type. Every variant has a stable code that the binding
//! passes to JavaScript, where it becomes a typed error class. A failed call
//! never changes the state it was called on.

/// Calls `$m! { $($args)* { Variant = "ERR_…", … } }` with the codes of
/// [`Error`]: the one place they are written, for [`ErrorCode`] and a binding's
/// mirror of it, as `keyward_seal::seal_aeads!` does for the AEADs. Never
/// change a published one.
#[macro_export]
macro_rules! session_error_codes {
    ($m:ident $(, $($args:tt)*)?) => {
        $m! { $($($args)*)? {
            InvalidArgValue = "ERR_INVALID_ARG_VALUE",
            Format = "ERR_SESSION_FORMAT",
            Handshake = "ERR_SESSION_HANDSHAKE",
            UnexpectedPeer = "ERR_SESSION_UNEXPECTED_PEER",
            BadSignature = "ERR_SESSION_BAD_SIGNATURE",
            PreKeyReused = "ERR_SESSION_PREKEY_REUSED",
            UnknownPreKey = "ERR_SESSION_UNKNOWN_PREKEY",
            Decryption = "ERR_DECRYPTION",
            Duplicate = "ERR_SESSION_DUPLICATE",
            TooFarAhead = "ERR_SESSION_TOO_FAR_AHEAD",
            KeyExpired = "ERR_SESSION_KEY_EXPIRED",
            InvalidState = "ERR_INVALID_STATE",
            Random = "ERR_SESSION_RANDOM",
        } }
    };
}

use keyward_codes::code_enum;

session_error_codes!(code_enum,
    /// What kind of [`Error`] this is, as the binding reports it.
    ErrorCode);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An argument of the wrong size or out of range.
    #[error("{0}")]
    InvalidArgument(String),
    /// Bytes that are not a keyward message, bundle or record of this version.
    #[error("{0}")]
    Format(String),
    /// The Noise handshake failed: wrong prologue, tampered message, wrong key.
    #[error("the handshake failed: {0}")]
    Handshake(&'static str),
    /// The peer's identity (a handshake's initiator, a bundle's signer, a
    /// prekey message's sender) is not the one the caller expected.
    #[error("the peer's identity key is not the expected one")]
    UnexpectedPeer,
    /// A prekey bundle whose signature does not verify.
    #[error("the prekey bundle's signature does not verify")]
    BadSignature,
    /// The one-time prekey a message names was already consumed.
    #[error("the one-time prekey was already used")]
    PreKeyReused,
    /// The message names a signed, one-time or KEM prekey this set never had.
    #[error("the message names a prekey this set does not hold")]
    UnknownPreKey,
    /// A message or record that does not authenticate (tampered, wrong key, wrong associated data).
    #[error("the message does not authenticate")]
    Decryption,
    /// A message that was already decrypted: a duplicate or a replay.
    #[error("the message was already received (duplicate or replay)")]
    Duplicate,
    /// A message more than `MAX_FORWARD_JUMPS` ahead of its chain.
    #[error(
        "the message is more than {} messages ahead of its chain",
        crate::consts::MAX_FORWARD_JUMPS
    )]
    TooFarAhead,
    /// A skipped message whose key was dropped (over the per-chain or chain limit).
    #[error("the key for this skipped message was dropped (too many skipped messages or chains)")]
    KeyExpired,
    /// An object used after `dispose()`, or a handshake step taken twice.
    #[error("{0}")]
    InvalidState(&'static str),
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// What kind of error this is.
    pub fn kind(&self) -> ErrorCode {
        match self {
            Error::InvalidArgument(_) => ErrorCode::InvalidArgValue,
            Error::Format(_) => ErrorCode::Format,
            Error::Handshake(_) => ErrorCode::Handshake,
            Error::UnexpectedPeer => ErrorCode::UnexpectedPeer,
            Error::BadSignature => ErrorCode::BadSignature,
            Error::PreKeyReused => ErrorCode::PreKeyReused,
            Error::UnknownPreKey => ErrorCode::UnknownPreKey,
            Error::Decryption => ErrorCode::Decryption,
            Error::Duplicate => ErrorCode::Duplicate,
            Error::TooFarAhead => ErrorCode::TooFarAhead,
            Error::KeyExpired => ErrorCode::KeyExpired,
            Error::InvalidState(_) => ErrorCode::InvalidState,
            Error::Random => ErrorCode::Random,
        }
    }

    /// Stable code, following the Node convention (the kind's).
    pub fn code(&self) -> &'static str {
        self.kind().as_str()
    }

    pub(crate) fn format(what: impl Into<String>) -> Self {
        Error::Format(what.into())
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    /// The derived messages are the ones the hand-written `Display` gave.
    #[test]
    fn messages_are_unchanged() {
        let cases = [
            (Error::InvalidArgument("too long".into()), "too long"),
            (Error::Format("truncated".into()), "truncated"),
            (Error::Handshake("bad MAC"), "the handshake failed: bad MAC"),
            (
                Error::UnexpectedPeer,
                "the peer's identity key is not the expected one",
            ),
            (
                Error::BadSignature,
                "the prekey bundle's signature does not verify",
            ),
            (Error::PreKeyReused, "the one-time prekey was already used"),
            (
                Error::UnknownPreKey,
                "the message names a prekey this set does not hold",
            ),
            (Error::Decryption, "the message does not authenticate"),
            (
                Error::Duplicate,
                "the message was already received (duplicate or replay)",
            ),
            (
                Error::TooFarAhead,
                "the message is more than 25000 messages ahead of its chain",
            ),
            (
                Error::KeyExpired,
                "the key for this skipped message was dropped (too many skipped messages or chains)",
            ),
            (Error::InvalidState("disposed"), "disposed"),
            (Error::Random, "the system random number generator failed"),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }
}
