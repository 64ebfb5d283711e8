//! The codes of the PoP errors, written once: for [`ErrorCode`] and a
//! binding's mirror of it.

/// Calls `$m! { $($args)* { Variant = "ERR_…", … } }` with the codes of
/// [`Error`](crate::Error): the one place they are written, for [`ErrorCode`]
/// and a binding's mirror of it, as `keyward_seal::seal_aeads!` does for the
/// AEADs. Never change a published one.
#[macro_export]
macro_rules! pop_error_codes {
    ($m:ident $(, $($args:tt)*)?) => {
        $m! { $($($args)*)? {
            BadMac = "ERR_POP_BAD_MAC",
            NoSession = "ERR_POP_NO_SESSION",
            Stale = "ERR_POP_STALE",
            Replay = "ERR_POP_REPLAY",
            RateLimited = "ERR_POP_RATE_LIMITED",
            InvalidArgValue = "ERR_INVALID_ARG_VALUE",
        } }
    };
}

use keyward_codes::code_enum;

pop_error_codes!(code_enum,
    /// What kind of [`Error`](crate::Error) this is, as the binding reports it.
    ErrorCode);
