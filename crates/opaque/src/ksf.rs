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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyStretching {
    /// t=3, m=65536 KiB, p=4 (RFC 9106 §4, second recommendation). The default.
    #[default]
    MemoryConstrained,
    /// t=1, m=2^21−1 KiB, p=4 (RFC 9807's recommendation, less one KiB as serenity does).
    RfcRecommended,
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
