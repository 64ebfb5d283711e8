//! The relay's errors. `ErrorCode` is the one list of refusal reasons: its
//! numbers travel in ERROR frames and its names (`as_str`) become the JS
//! error codes; never renumber or rename a published one.

/// A refusal reason, as carried by an ERROR frame (u16, big-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ErrorCode {
    /// A frame or handshake payload that does not parse (bad length, trailing bytes, bad flag).
    Malformed = 0x0001,
    /// A protocol version this end does not speak.
    UnsupportedVersion = 0x0002,
    /// A frame type this end does not know.
    UnknownCommand = 0x0003,
    /// A command in the wrong state (before REGISTER, REGISTER twice, a
    /// relay-to-client frame sent to the relay) or not permitted to this identity.
    NotAllowed = 0x0004,
    /// A body over `MAX_BODY`, or a frame over `MAX_FRAME`.
    TooLarge = 0x0005,
    /// The recipient's mailbox (or the device's prekey store) is full.
    Quota = 0x0006,
    /// Too many requests; the ERROR frame's retry-after says when to try again.
    RateLimited = 0x0007,
    /// No such identity or device registered at this relay.
    UnknownRecipient = 0x0008,
    /// A prekey signature that does not verify, or a key that is not valid.
    BadSignature = 0x0009,
    /// A prekey id not above the highest one already uploaded.
    StaleKeyId = 0x000A,
    /// The handshake's static key is not the X25519 form of the claimed identity.
    IdentityMismatch = 0x000B,
    /// The relay cannot commit right now (store down); retry after the given time.
    Unavailable = 0x000C,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::Malformed,
        ErrorCode::UnsupportedVersion,
        ErrorCode::UnknownCommand,
        ErrorCode::NotAllowed,
        ErrorCode::TooLarge,
        ErrorCode::Quota,
        ErrorCode::RateLimited,
        ErrorCode::UnknownRecipient,
        ErrorCode::BadSignature,
        ErrorCode::StaleKeyId,
        ErrorCode::IdentityMismatch,
        ErrorCode::Unavailable,
    ];

    pub fn to_u16(self) -> u16 {
        self as u16
    }

    pub fn from_u16(value: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.to_u16() == value)
    }

    /// The stable code string (Node convention), the `code` of the JS error.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "ERR_RELAY_MALFORMED",
            ErrorCode::UnsupportedVersion => "ERR_RELAY_UNSUPPORTED_VERSION",
            ErrorCode::UnknownCommand => "ERR_RELAY_UNKNOWN_COMMAND",
            ErrorCode::NotAllowed => "ERR_RELAY_NOT_ALLOWED",
            ErrorCode::TooLarge => "ERR_RELAY_TOO_LARGE",
            ErrorCode::Quota => "ERR_RELAY_QUOTA",
            ErrorCode::RateLimited => "ERR_RELAY_RATE_LIMITED",
            ErrorCode::UnknownRecipient => "ERR_RELAY_UNKNOWN_RECIPIENT",
            ErrorCode::BadSignature => "ERR_RELAY_BAD_SIGNATURE",
            ErrorCode::StaleKeyId => "ERR_RELAY_STALE_KEY_ID",
            ErrorCode::IdentityMismatch => "ERR_RELAY_IDENTITY_MISMATCH",
            ErrorCode::Unavailable => "ERR_RELAY_UNAVAILABLE",
        }
    }
}

/// What this crate refuses. Messages never echo key or body bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Refused input, with the reason an ERROR frame would carry.
    #[error("{}: {detail}", code.as_str())]
    Refused {
        code: ErrorCode,
        detail: &'static str,
    },
    /// The Noise handshake failed: wrong relay key, wrong prologue, a
    /// tampered or replayed-out-of-place message.
    #[error("relay handshake failed: {0}")]
    Handshake(&'static str),
    /// A transport message that does not authenticate, or one out of order:
    /// the connection is over.
    #[error("a relay transport message does not authenticate")]
    Decryption,
    /// The other end refused in its ERROR frame or handshake status.
    #[error("the relay refused: {}", code.as_str())]
    Remote {
        code: ErrorCode,
        retry_after_ms: u32,
    },
}

impl Error {
    pub(crate) fn refused(code: ErrorCode, detail: &'static str) -> Self {
        Error::Refused { code, detail }
    }

    pub(crate) fn malformed(detail: &'static str) -> Self {
        Error::refused(ErrorCode::Malformed, detail)
    }

    /// Stable code string for the binding.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Refused { code, .. } | Error::Remote { code, .. } => code.as_str(),
            Error::Handshake(_) => "ERR_RELAY_HANDSHAKE",
            Error::Decryption => "ERR_RELAY_DECRYPTION",
        }
    }

    /// The wire code when this error is answered with an ERROR frame.
    pub fn wire_code(&self) -> Option<ErrorCode> {
        match self {
            Error::Refused { code, .. } | Error::Remote { code, .. } => Some(*code),
            _ => None,
        }
    }
}

pub type Result<T> = core::result::Result<T, Error>;
