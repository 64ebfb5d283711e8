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

/// Expands an error-code list into its enum, with `ALL` and `as_str`.
macro_rules! code_enum {
    ($(#[$enum_doc:meta])* $enum:ident { $($(#[$doc:meta])* $variant:ident = $code:literal,)* }) => {
        $(#[$enum_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $enum {
            $($(#[$doc])* $variant,)*
        }

        impl $enum {
            pub const ALL: [$enum; [$($code),*].len()] = [$($enum::$variant),*];

            /// The stable code string (Node convention), the `code` of the JS error.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($enum::$variant => $code,)*
                }
            }
        }
    };
}

pop_error_codes!(code_enum,
    /// What kind of [`Error`](crate::Error) this is, as the binding reports it.
    ErrorCode);

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    /// Each code is written once, in the list, and follows the Node convention.
    #[test]
    fn codes_are_unique_and_start_with_err() {
        let codes: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len(), "{codes:?}");
        assert!(codes.iter().all(|c| c.starts_with("ERR_")), "{codes:?}");
    }
}
