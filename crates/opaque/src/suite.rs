//! The five cipher suites, chosen at run time by name.
//!
//! [`with_suites!`] holds the list: it is the one place a suite is named. Every
//! per-suite item is expanded from it, as opaque-ke's own tests expand theirs:
//! the [`Suite`] enum with its names and ids (here), the opaque-ke
//! `CipherSuite`, the operations and the dispatch (in `ops`), and, through
//! [`opaque_suites!`](crate::opaque_suites), the binding's JavaScript enum.

use crate::error::{Error, Result};

/// Calls `$crate::$then!` with the suite list in brackets, followed by `$args`.
///
/// Each entry is the `Suite` variant (its doc and attributes go on the
/// variant), the byte that names it in keyward's serialized objects (never
/// change a published one), its public name, and its opaque-ke types.
/// Exported (hidden) only so that [`opaque_suites!`](crate::opaque_suites),
/// expanded in another crate, can reach it.
#[doc(hidden)]
#[macro_export]
macro_rules! __opaque_with_suites {
    ($($then:ident)::+; $($args:tt)*) => {
        $crate::$($then)::+! { [
            #[default]
            Ristretto255Sha512 = 1 {
                name: "ristretto255_sha512",
                oprf: opaque_ke::Ristretto255,
                key_exchange:
                    opaque_ke::TripleDh<$crate::ristretto::Ristretto255Cached, sha2::Sha512>,
            }
            P256Sha256 = 2 {
                name: "p256_sha256",
                oprf: p256::NistP256,
                key_exchange: opaque_ke::TripleDh<p256::NistP256, sha2::Sha256>,
            }
            P384Sha384 = 3 {
                name: "p384_sha384",
                oprf: p384::NistP384,
                key_exchange: opaque_ke::TripleDh<p384::NistP384, sha2::Sha384>,
            }
            P521Sha512 = 4 {
                name: "p521_sha512",
                oprf: p521::NistP521,
                key_exchange: opaque_ke::TripleDh<p521::NistP521, sha2::Sha512>,
            }
            /// opaque-ke's `TripleDhKem`: ML-KEM-768 mixed into the 3DH key schedule.
            /// Adds passive post-quantum confidentiality; not an RFC 9807 configuration.
            MlKem768Ristretto255Sha512 = 5 {
                name: "ml_kem_768_ristretto255_sha512",
                oprf: opaque_ke::Ristretto255,
                key_exchange: opaque_ke::TripleDhKem<
                    $crate::ristretto::Ristretto255Cached,
                    sha2::Sha512,
                    opaque_ke::ml_kem::MlKem768,
                >,
            }
        ] $($args)* }
    };
}
pub(crate) use crate::__opaque_with_suites as with_suites;

/// Calls `$m! { $($args)* { Variant = "name", … } }` with every suite, in the
/// list's order (the first is the default): what a binding needs to mirror
/// [`Suite`] without spelling a name again.
///
/// `keyward_opaque::opaque_suites!(mirror_strings, Suite => keyward_opaque::Suite)`
/// calls `mirror_strings! { Suite => keyward_opaque::Suite { Ristretto255Sha512 =
/// "ristretto255_sha512", … } }`.
#[macro_export]
macro_rules! opaque_suites {
    ($m:ident $(, $($args:tt)*)?) => {
        $crate::__opaque_with_suites! { __opaque_suite_names; $m $($($args)*)? }
    };
}

/// The list as [`opaque_suites!`](crate::opaque_suites) passes it on: the
/// names only, without the ids, attributes and types.
#[doc(hidden)]
#[macro_export]
macro_rules! __opaque_suite_names {
    ([$($(#[$attr:meta])* $suite:ident = $id:literal { name: $name:literal, $($types:tt)* })*]
        $m:ident $($args:tt)*) => {
        $m! { $($args)* { $($suite = $name,)* } }
    };
}

/// Expands the list into [`Suite`] and its names.
macro_rules! suite_enum {
    ([$($(#[$attr:meta])* $suite:ident = $id:literal { name: $name:literal, $($types:tt)* })*]) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        #[repr(u8)]
        pub enum Suite {
            $($(#[$attr])* $suite = $id,)*
        }

        impl Suite {
            pub const ALL: [Suite; [$($id),*].len()] = [$(Suite::$suite),*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Suite::$suite => $name,)*
                }
            }
        }
    };
}

with_suites!(suite::suite_enum;);
use suite_enum;

impl Suite {
    pub fn from_name(name: &str) -> Result<Suite> {
        Suite::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Suite::ALL.iter().map(|s| s.name()).collect();
                Error::InvalidArgument(format!(
                    "unknown OPAQUE suite {name:?}; expected one of {}",
                    names.join(", ")
                ))
            })
    }

    /// The byte that names the suite in keyward's own serialized objects.
    pub(crate) fn id(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_id(id: u8) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.id() == id)
    }
}
