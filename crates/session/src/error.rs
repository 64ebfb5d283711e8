//! The session error type. Every variant has a stable code that the binding
//! passes to JavaScript, where it becomes a typed error class. A failed call
//! never changes the state it was called on.

use core::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An argument of the wrong size or out of range.
    InvalidArgument(String),
    /// Bytes that are not a keyward message, bundle or record of this version.
    Format(String),
    /// The Noise handshake failed: wrong prologue, tampered message, wrong key.
    Handshake(&'static str),
    /// The peer's identity (a handshake's initiator, a bundle's signer, a
    /// prekey message's sender) is not the one the caller expected.
    UnexpectedPeer,
    /// A prekey bundle whose signature does not verify.
    BadSignature,
    /// The one-time prekey a message names was already consumed.
    PreKeyReused,
    /// The message names a signed, one-time or KEM prekey this set never had.
    UnknownPreKey,
    /// A message or record that does not authenticate (tampered, wrong key, wrong associated data).
    Decryption,
    /// A message that was already decrypted: a duplicate or a replay.
    Duplicate,
    /// A message more than `MAX_FORWARD_JUMPS` ahead of its chain.
    TooFarAhead,
    /// A skipped message whose key was dropped (over the per-chain or chain limit).
    KeyExpired,
    /// An object used after `dispose()`, or a handshake step taken twice.
    InvalidState(&'static str),
    /// The operating system's random number generator failed.
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(m) | Error::Format(m) => f.write_str(m),
            Error::Handshake(m) => write!(f, "the handshake failed: {m}"),
            Error::UnexpectedPeer => f.write_str("the peer's identity key is not the expected one"),
            Error::BadSignature => f.write_str("the prekey bundle's signature does not verify"),
            Error::PreKeyReused => f.write_str("the one-time prekey was already used"),
            Error::UnknownPreKey => f.write_str("the message names a prekey this set does not hold"),
            Error::Decryption => f.write_str("the message does not authenticate"),
            Error::Duplicate => f.write_str("the message was already received (duplicate or replay)"),
            Error::TooFarAhead => write!(
                f,
                "the message is more than {} messages ahead of its chain",
                crate::consts::MAX_FORWARD_JUMPS
            ),
            Error::KeyExpired => f.write_str(
                "the key for this skipped message was dropped (too many skipped messages or chains)",
            ),
            Error::InvalidState(m) => f.write_str(m),
            Error::Random => f.write_str("the system random number generator failed"),
        }
    }
}

impl std::error::Error for Error {}
