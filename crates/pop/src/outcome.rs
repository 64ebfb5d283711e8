//! What a verification found, as a number a binding hands to JavaScript
//! (which compares it with no exception thrown on the hot path of a server).

use crate::Error;

/// Calls `$m! { $($args)* { Variant = number, … } }` with the outcomes of a
/// verification: the one place they are numbered, for [`Outcome`] and for a
/// binding's mirror of it. Docs are written `#[doc = "…"]` so they reach
/// napi-rs typings as text.
#[macro_export]
macro_rules! pop_outcomes {
    ($m:ident $(, $($args:tt)*)?) => {
        $m! { $($($args)*)? {
            Ok = 0,
            Stale = 1,
            BadNonce = 2,
            Replay = 3,
            BadMac = 4,
            RateLimited = 5,
            #[doc = " An RFC 9421 signature whose `keyid` is not the session's id."]
            NoSession = 6,
        } }
    };
}

/// Expands the list into [`Outcome`].
macro_rules! outcome_enum {
    ({ $($(#[$doc:meta])* $outcome:ident = $number:literal,)* }) => {
        /// `Ok` when the request is genuine and fresh, else the first check that failed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Outcome {
            $($(#[$doc])* $outcome = $number,)*
        }

        impl Outcome {
            pub const ALL: [Outcome; [$($number),*].len()] = [$(Outcome::$outcome),*];
        }
    };
}

pop_outcomes!(outcome_enum);

impl Outcome {
    /// The outcome of `PopKey::verify_request` or `verify_rfc9421` (or of
    /// splitting the fields before them). A replayed nonce and one already
    /// malformed stay apart here although they share an error code; anything
    /// the profile refuses, and an invalid argument, is `BadMac`.
    pub fn of(verified: &Result<(), Error>) -> Outcome {
        match verified {
            Ok(()) => Outcome::Ok,
            Err(Error::Stale) => Outcome::Stale,
            Err(Error::BadNonce) => Outcome::BadNonce,
            Err(Error::Replay) => Outcome::Replay,
            Err(Error::RateLimited) => Outcome::RateLimited,
            Err(Error::KeyId) => Outcome::NoSession,
            Err(Error::BadMac | Error::Profile(_) | Error::InvalidArgument(_)) => Outcome::BadMac,
        }
    }
}

impl Outcome {
    /// The error a refusal with this outcome reports, for its code and
    /// message; `None` for `Ok`. A binding hands these to JavaScript so that
    /// no code or message is written there again.
    pub fn error(self) -> Option<Error> {
        match self {
            Outcome::Ok => None,
            Outcome::Stale => Some(Error::Stale),
            Outcome::BadNonce => Some(Error::BadNonce),
            Outcome::Replay => Some(Error::Replay),
            Outcome::BadMac => Some(Error::BadMac),
            Outcome::RateLimited => Some(Error::RateLimited),
            Outcome::NoSession => Some(Error::KeyId),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_outcome_and_the_numbers_are_the_published_ones() {
        let cases = [
            (Ok(()), Outcome::Ok, 0),
            (Err(Error::Stale), Outcome::Stale, 1),
            (Err(Error::BadNonce), Outcome::BadNonce, 2),
            (Err(Error::Replay), Outcome::Replay, 3),
            (Err(Error::BadMac), Outcome::BadMac, 4),
            (Err(Error::Profile("label")), Outcome::BadMac, 4),
            (Err(Error::InvalidArgument("x".into())), Outcome::BadMac, 4),
            (Err(Error::RateLimited), Outcome::RateLimited, 5),
            (Err(Error::KeyId), Outcome::NoSession, 6),
        ];
        for (verified, outcome, number) in cases {
            assert_eq!(Outcome::of(&verified), outcome, "{verified:?}");
            assert_eq!(outcome as u8, number);
        }
        assert_eq!(Outcome::ALL.len(), 7);
    }

    #[test]
    fn each_refusal_reports_the_error_it_came_from() {
        assert_eq!(Outcome::Ok.error(), None);
        for error in [
            Error::Stale,
            Error::BadNonce,
            Error::Replay,
            Error::BadMac,
            Error::RateLimited,
            Error::KeyId,
        ] {
            let outcome = Outcome::of(&Err(error.clone()));
            assert_eq!(outcome.error(), Some(error));
        }
        assert_eq!(
            Outcome::NoSession.error().unwrap().code(),
            "ERR_POP_NO_SESSION"
        );
        assert_eq!(Outcome::BadNonce.error().unwrap().code(), "ERR_POP_REPLAY");
    }
}
