//! The session error type. Every variant has a stable code that the binding
//! passes to JavaScript, where it becomes a typed error class. A failed call
//! never changes the state it was called on.

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
    /// Stable code, following the Node convention. Never change a published one.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidArgument(_) => "ERR_INVALID_ARG_VALUE",
            Error::Format(_) => "ERR_SESSION_FORMAT",
            Error::Handshake(_) => "ERR_SESSION_HANDSHAKE",
            Error::UnexpectedPeer => "ERR_SESSION_UNEXPECTED_PEER",
            Error::BadSignature => "ERR_SESSION_BAD_SIGNATURE",
            Error::PreKeyReused => "ERR_SESSION_PREKEY_REUSED",
            Error::UnknownPreKey => "ERR_SESSION_UNKNOWN_PREKEY",
            Error::Decryption => "ERR_DECRYPTION",
            Error::Duplicate => "ERR_SESSION_DUPLICATE",
            Error::TooFarAhead => "ERR_SESSION_TOO_FAR_AHEAD",
            Error::KeyExpired => "ERR_SESSION_KEY_EXPIRED",
            Error::InvalidState(_) => "ERR_INVALID_STATE",
            Error::Random => "ERR_SESSION_RANDOM",
        }
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
