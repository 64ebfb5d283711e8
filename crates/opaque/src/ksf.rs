//! Argon2id key stretching, run on the client only.
//!
//! Parameters and salt match `@serenity-kit/opaque` (16 zero bytes, output
//! length Nh, Argon2 v1.3) so registration records interoperate. Unlike the
//! WASM build, the lanes are filled on several threads, with SIMD.

use generic_array::{ArrayLength, GenericArray};
use keyward_argon2::Costs;
use opaque_ke::errors::InternalError;

use crate::error::{Error, Result};

const SALT: [u8; 16] = [0; 16];

/// Calls `$m! { $($args)* { Variant = "name", … } }` with the named presets of
/// [`KeyStretching`] (the first is the default): the one place they are
/// named, for [`KeyStretching`] itself and for a binding's mirror of them.
/// Docs are written `#[doc = "…"]` so they reach napi-rs typings as text.
#[macro_export]
macro_rules! opaque_key_stretching_presets {
    ($m:ident $(, $($args:tt)*)?) => {
        $m! { $($($args)*)? {
            #[doc = " t=3, m=65536 KiB, p=4 (RFC 9106 §4, second recommendation). The default."]
            MemoryConstrained = "memory-constrained",
            #[doc = " t=1, m=2^21−1 KiB, p=4 (RFC 9807's recommendation, less one KiB as serenity does)."]
            RfcRecommended = "rfc-recommended",
        } }
    };
}

/// Expands the preset list into [`KeyStretching`] and its preset names.
macro_rules! key_stretching_enum {
    ({ $(#[$first_doc:meta])* $first:ident = $first_name:literal,
       $($(#[$doc:meta])* $preset:ident = $name:literal,)* }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub enum KeyStretching {
            $(#[$first_doc])*
            #[default]
            $first,
            $($(#[$doc])* $preset,)*
            /// Explicit Argon2id parameters; memory in KiB.
            Custom {
                iterations: u32,
                memory: u32,
                parallelism: u32,
            },
            /// No stretching at all: only for the RFC's test vectors.
            #[cfg(feature = "insecure-identity-ksf")]
            InsecureIdentity,
        }

        impl KeyStretching {
            /// The named presets, the default first.
            pub const PRESETS: [KeyStretching; [$first_name, $($name),*].len()] =
                [KeyStretching::$first, $(KeyStretching::$preset),*];

            /// The preset's name; `None` for explicit costs.
            pub fn preset_name(&self) -> Option<&'static str> {
                match self {
                    KeyStretching::$first => Some($first_name),
                    $(KeyStretching::$preset => Some($name),)*
                    _ => None,
                }
            }
        }
    };
}

opaque_key_stretching_presets!(key_stretching_enum);

impl KeyStretching {
    /// The preset of that name; anything else is `InvalidArgument`, naming the presets.
    pub fn preset(name: &str) -> Result<Self> {
        KeyStretching::PRESETS
            .into_iter()
            .find(|p| p.preset_name() == Some(name))
            .ok_or_else(|| {
                let names: Vec<_> = KeyStretching::PRESETS
                    .iter()
                    .filter_map(|p| p.preset_name())
                    .collect();
                Error::InvalidArgument(format!(
                    "unknown key stretching preset {name:?}; expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

impl KeyStretching {
    /// `(iterations, memory KiB, parallelism)`, or `None` for the identity.
    pub fn argon2_params(&self) -> Option<(u32, u32, u32)> {
        match *self {
            KeyStretching::MemoryConstrained => Some((3, 1 << 16, 4)),
            KeyStretching::RfcRecommended => Some((1, (1 << 21) - 1, 4)),
            KeyStretching::Custom {
                iterations,
                memory,
                parallelism,
            } => Some((iterations, memory, parallelism)),
            #[cfg(feature = "insecure-identity-ksf")]
            KeyStretching::InsecureIdentity => None,
        }
    }

    /// `Custom` costs from numbers as JavaScript or JSON carry them (`f64`).
    /// Each must be a whole number from 1 to 2^32 − 1, and together within
    /// Argon2's rules and keyward's limits (`keyward_argon2::MAX_MEMORY_KIB`,
    /// `MAX_ITERATIONS`, `MAX_PARALLELISM`); anything else is
    /// `InvalidArgument`. Nothing is truncated or wrapped: 2^32 + 1 is not 1.
    pub fn custom_from_numbers(iterations: f64, memory: f64, parallelism: f64) -> Result<Self> {
        let whole = |name: &str, v: f64| -> Result<u32> {
            if v.fract() == 0.0 && (1.0..=f64::from(u32::MAX)).contains(&v) {
                // In range and whole, so the cast is exact.
                Ok(v as u32)
            } else {
                Err(Error::InvalidArgument(format!(
                    "keyStretching.{name} must be a whole number from 1 to 4294967295"
                )))
            }
        };
        let custom = KeyStretching::Custom {
            iterations: whole("iterations", iterations)?,
            memory: whole("memory", memory)?,
            parallelism: whole("parallelism", parallelism)?,
        };
        custom.build()?;
        Ok(custom)
    }

    /// Key stretching as an options object gives it: a preset, or all three
    /// costs as numbers (see `custom_from_numbers`): never a mix, and never
    /// nothing (an absent options object is the default, an empty one a mistake).
    pub fn preset_or_numbers(
        preset: Option<KeyStretching>,
        iterations: Option<f64>,
        memory: Option<f64>,
        parallelism: Option<f64>,
    ) -> Result<Self> {
        match (preset, iterations, memory, parallelism) {
            (Some(preset), None, None, None) => Ok(preset),
            (None, Some(t), Some(m), Some(p)) => KeyStretching::custom_from_numbers(t, m, p),
            _ => Err(Error::InvalidArgument(
                "key stretching is a preset or all of iterations, memory and parallelism".into(),
            )),
        }
    }

    /// Builds the KSF, rejecting parameters Argon2 does not accept.
    pub(crate) fn build(&self) -> Result<Ksf> {
        let Some((t, m, p)) = self.argon2_params() else {
            return Ok(Ksf(None));
        };
        let costs = Costs {
            memory_kib: m,
            iterations: t,
            parallelism: p,
        };
        // Checked now, with a tag length every suite's Nh satisfies.
        costs.argon2(64).map_err(|e| {
            Error::InvalidArgument(format!(
                "invalid Argon2id parameters (iterations={t}, memory={m} KiB, parallelism={p}): {e:?}"
            ))
        })?;
        Ok(Ksf(Some(costs)))
    }
}

/// The opaque-ke `Ksf` of every keyward suite.
#[derive(Clone)]
pub struct Ksf(Option<Costs>);

impl Default for Ksf {
    fn default() -> Self {
        KeyStretching::MemoryConstrained
            .build()
            .expect("the default parameters are valid")
    }
}

impl opaque_ke::ksf::Ksf for Ksf {
    fn hash<L: ArrayLength<u8>>(
        &self,
        input: GenericArray<u8, L>,
    ) -> core::result::Result<GenericArray<u8, L>, InternalError> {
        let Some(costs) = self.0 else {
            return Ok(input);
        };
        let mut output = GenericArray::default();
        keyward_argon2::hash_into(costs, &input, &SALT, &[], &mut output)
            .map_err(|_| InternalError::KsfError)?;
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_found_by_their_names_and_only_by_them() {
        assert_eq!(KeyStretching::default(), KeyStretching::PRESETS[0]);
        for preset in KeyStretching::PRESETS {
            let name = preset.preset_name().unwrap();
            assert_eq!(KeyStretching::preset(name), Ok(preset));
        }
        assert_eq!(
            KeyStretching::preset("memory-constrained"),
            Ok(KeyStretching::MemoryConstrained)
        );
        let custom = KeyStretching::custom_from_numbers(2.0, 64.0, 1.0).unwrap();
        assert_eq!(custom.preset_name(), None);
        assert!(matches!(
            KeyStretching::preset("Memory-Constrained"),
            Err(Error::InvalidArgument(why)) if why.contains("rfc-recommended")
        ));
    }

    #[test]
    fn a_preset_or_all_three_numbers_never_a_mix() {
        let rfc = Some(KeyStretching::RfcRecommended);
        let pick = KeyStretching::preset_or_numbers;
        assert_eq!(
            pick(rfc, None, None, None),
            Ok(KeyStretching::RfcRecommended)
        );
        assert_eq!(
            pick(None, Some(2.0), Some(64.0), Some(1.0)),
            KeyStretching::custom_from_numbers(2.0, 64.0, 1.0)
        );
        for mix in [
            pick(None, None, None, None),
            pick(rfc, Some(2.0), None, None),
            pick(None, Some(2.0), Some(64.0), None),
            pick(rfc, Some(2.0), Some(64.0), Some(1.0)),
        ] {
            assert!(
                matches!(mix, Err(Error::InvalidArgument(why)) if why.contains("preset or all"))
            );
        }
    }

    #[test]
    fn numbers_out_of_range_are_refused_not_wrapped() {
        let two_32 = 4_294_967_296.0;
        for (t, m, p) in [
            (two_32 + 1.0, 64.0, 1.0),
            (1.0, two_32 + 64.0, 1.0),
            (1.0, 64.0, two_32 + 1.0),
            (-1.0, 64.0, 1.0),
            (0.0, 64.0, 1.0),
            (1.5, 64.0, 1.0),
            (f64::NAN, 64.0, 1.0),
            (1.0, f64::INFINITY, 1.0),
            (1.0, 64.0, 9_007_199_254_740_993.0),
        ] {
            assert!(
                matches!(
                    KeyStretching::custom_from_numbers(t, m, p),
                    Err(Error::InvalidArgument(_))
                ),
                "{t} {m} {p}"
            );
        }
    }

    #[test]
    fn numbers_above_the_argon2_limits_are_refused() {
        for (t, m, p) in [
            (1.0, f64::from(keyward_argon2::MAX_MEMORY_KIB) + 1.0, 1.0),
            (f64::from(keyward_argon2::MAX_ITERATIONS) + 1.0, 64.0, 1.0),
            (
                1.0,
                1024.0,
                f64::from(keyward_argon2::MAX_PARALLELISM) + 1.0,
            ),
            (1.0, 4_294_967_295.0, 1.0),
        ] {
            assert!(
                matches!(
                    KeyStretching::custom_from_numbers(t, m, p),
                    Err(Error::InvalidArgument(why)) if why.contains("maximum")
                ),
                "{t} {m} {p}"
            );
        }
    }

    #[test]
    fn whole_numbers_in_range_are_kept_exactly() {
        assert_eq!(
            KeyStretching::custom_from_numbers(2.0, 64.0, 1.0),
            Ok(KeyStretching::Custom {
                iterations: 2,
                memory: 64,
                parallelism: 1
            })
        );
    }
}
