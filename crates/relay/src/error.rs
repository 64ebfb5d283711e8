//! The relay's errors. `ErrorCode` is the one list of refusal reasons: its
//! numbers travel in ERROR frames and its names (`as_str`) become the JS
//! error codes; never renumber or rename a published one.

/// Calls `$crate::$then! { [ … ] $($args)* }` with every refusal reason: its doc, its
/// variant, its wire number and its JS code. The one place they are listed,
/// for [`ErrorCode`] and (through [`relay_error_codes!`](crate::relay_error_codes))
/// a binding's mirror of it.
#[doc(hidden)]
#[macro_export]
macro_rules! __relay_error_list {
    ($then:ident $($args:tt)*) => {
        $crate::$then! { [
            #[doc = " A frame or handshake payload that does not parse (bad length, trailing bytes, bad flag)."]
            Malformed = 0x0001 => "ERR_RELAY_MALFORMED",
            #[doc = " A protocol version this end does not speak."]
            UnsupportedVersion = 0x0002 => "ERR_RELAY_UNSUPPORTED_VERSION",
            #[doc = " A frame type this end does not know."]
            UnknownCommand = 0x0003 => "ERR_RELAY_UNKNOWN_COMMAND",
            #[doc = " A command in the wrong state (before REGISTER, REGISTER twice, a"]
            #[doc = " relay-to-client frame sent to the relay) or not permitted to this identity."]
            NotAllowed = 0x0004 => "ERR_RELAY_NOT_ALLOWED",
            #[doc = " A body over `MAX_BODY`, or a frame over `MAX_FRAME`."]
            TooLarge = 0x0005 => "ERR_RELAY_TOO_LARGE",
            #[doc = " The recipient's mailbox (or the device's prekey store) is full."]
            Quota = 0x0006 => "ERR_RELAY_QUOTA",
            #[doc = " Too many requests; the ERROR frame's retry-after says when to try again."]
            RateLimited = 0x0007 => "ERR_RELAY_RATE_LIMITED",
            #[doc = " No such identity or device registered at this relay."]
            UnknownRecipient = 0x0008 => "ERR_RELAY_UNKNOWN_RECIPIENT",
            #[doc = " A prekey signature that does not verify, or a key that is not valid."]
            BadSignature = 0x0009 => "ERR_RELAY_BAD_SIGNATURE",
            #[doc = " A prekey id not above the highest one already uploaded."]
            StaleKeyId = 0x000A => "ERR_RELAY_STALE_KEY_ID",
            #[doc = " The handshake's static key is not the X25519 form of the claimed identity."]
            IdentityMismatch = 0x000B => "ERR_RELAY_IDENTITY_MISMATCH",
            #[doc = " The relay cannot commit right now (store down); retry after the given time."]
            Unavailable = 0x000C => "ERR_RELAY_UNAVAILABLE",
        ] $($args)* }
    };
}

/// Calls `$m! { $($args)* { Variant = "ERR_RELAY_…", … } }` with the refusal
/// reasons' JS codes, as `keyward_seal::seal_aeads!` does for the AEADs.
#[macro_export]
macro_rules! relay_error_codes {
    ($m:ident $(, $($args:tt)*)?) => {
        $crate::__relay_error_list! { __relay_error_names $m $($($args)*)? }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __relay_error_names {
    ([$($(#[$doc:meta])* $variant:ident = $number:literal => $name:literal,)*] $m:ident $($args:tt)*) => {
        $m! { $($args)* { $($(#[$doc])* $variant = $name,)* } }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __relay_error_code_enum {
    ([$($list:tt)*]) => {
        keyward_codes::code_enum!(
            /// A refusal reason, as carried by an ERROR frame (u16, big-endian).
            ErrorCode: u16 { $($list)* }
        );
    };
}

__relay_error_list!(__relay_error_code_enum);

impl ErrorCode {
    pub fn to_u16(self) -> u16 {
        self as u16
    }

    pub fn from_u16(value: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.to_u16() == value)
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
    /// An argument of the wrong length or out of range (a relay key, a prekey
    /// section): the caller's mistake, not the peer's.
    #[error("{0}")]
    Argument(&'static str),
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
            Error::Argument(_) => "ERR_INVALID_ARG_VALUE",
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

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn wire_numbers_are_unique_and_round_trip() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_u16(code.to_u16()), Some(code));
        }
        assert_eq!(ErrorCode::from_u16(0), None);
    }
}
