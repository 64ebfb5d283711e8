//! Password hashing: Argon2id in the standard PHC string format.
//!
//! Two keyward additions stay inside that format, so a plain hash (no pepper,
//! no associated data) verifies in any Argon2 library and theirs verify here:
//! - the pepper and the associated data become Argon2's secret input `K`
//!   (canonically encoded), which is never stored;
//! - the 24-byte salt starts with the time of hashing (ms, big-endian) before
//!   16 random bytes, which lets `verify` enforce a time-to-live; the salt is
//!   an Argon2 input, so the timestamp cannot be changed without the hash
//!   failing.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Params, Version, ARGON2ID_IDENT};
use keyward_argon2::{Costs, Failure};
use rand_core::{CryptoRng, RngCore};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::boxes::check_age;
use crate::encoding::encode_parts;
use crate::error::{Error, Result};

const OUTPUT_LEN: usize = 32;
const RANDOM_SALT_LEN: usize = 16;
const STAMPED_SALT_LEN: usize = 8 + RANDOM_SALT_LEN;
const SECRET_DOMAIN: &[u8] = b"keyward password v1";

/// Calls `$m! { $($args)* { Variant = "name", … } }` with the Argon2id
/// presets (the first is the default): the one place they are named, for
/// [`PasswordPreset`] and for a binding's mirror of it.
#[macro_export]
macro_rules! seal_password_presets {
    ($m:ident $(, $($args:tt)*)?) => {
        $m! { $($($args)*)? {
            #[doc = " m=19456 KiB, t=2, p=1 (OWASP's first recommendation). The default."]
            Owasp = "owasp",
            #[doc = " m=64 MiB, t=3, p=4 (RFC 9106 §4, second recommendation)."]
            Rfc9106LowMemory = "rfc9106-low-memory",
            #[doc = " m=2 GiB, t=1, p=4 (RFC 9106 §4, first recommendation)."]
            Rfc9106HighMemory = "rfc9106-high-memory",
        } }
    };
}

use crate::primitives::named_enum;
seal_password_presets!(
    named_enum,
    #[doc = " A named set of [`PasswordParams`]."]
    PasswordPreset,
    "password preset"
);

impl From<PasswordPreset> for PasswordParams {
    fn from(preset: PasswordPreset) -> Self {
        match preset {
            PasswordPreset::Owasp => Self::OWASP,
            PasswordPreset::Rfc9106LowMemory => Self::RFC9106_LOW_MEMORY,
            PasswordPreset::Rfc9106HighMemory => Self::RFC9106_HIGH_MEMORY,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    pub memory: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl PasswordParams {
    /// OWASP's first recommendation: m=19456 KiB, t=2, p=1. The default.
    pub const OWASP: Self = Self {
        memory: 19_456,
        iterations: 2,
        parallelism: 1,
    };
    /// RFC 9106 §4, second recommendation: m=64 MiB, t=3, p=4.
    pub const RFC9106_LOW_MEMORY: Self = Self {
        memory: 65_536,
        iterations: 3,
        parallelism: 4,
    };
    /// RFC 9106 §4, first recommendation: m=2 GiB, t=1, p=4.
    pub const RFC9106_HIGH_MEMORY: Self = Self {
        memory: 2_097_152,
        iterations: 1,
        parallelism: 4,
    };

    /// The costs of the preset of that name (see [`PasswordPreset`]).
    pub fn preset(name: &str) -> Result<Self> {
        PasswordPreset::from_name(name).map(Self::from)
    }

    /// Costs as an options object gives them: a preset (none is `OWASP`), or
    /// all three costs as numbers (JavaScript's or JSON's `f64`), never a mix.
    /// Each number must be a whole number from 1 to 2^32 − 1: nothing is
    /// truncated or wrapped (2^32 + 1 is not 1). Argon2's own limits are
    /// checked where the costs are used.
    pub fn preset_or_numbers(
        preset: Option<Self>,
        memory: Option<f64>,
        iterations: Option<f64>,
        parallelism: Option<f64>,
    ) -> Result<Self> {
        let whole = |v: f64, what: &str| -> Result<u32> {
            if v.fract() == 0.0 && (1.0..=f64::from(u32::MAX)).contains(&v) {
                // In range and whole, so the cast is exact.
                Ok(v as u32)
            } else {
                Err(Error::InvalidArgument(format!(
                    "{what} must be a whole number from 1 to {}, got {v}",
                    u32::MAX
                )))
            }
        };
        match (memory, iterations, parallelism, preset) {
            (None, None, None, preset) => Ok(preset.unwrap_or(Self::OWASP)),
            (Some(m), Some(t), Some(p), None) => Ok(Self {
                memory: whole(m, "memory")?,
                iterations: whole(t, "iterations")?,
                parallelism: whole(p, "parallelism")?,
            }),
            _ => Err(Error::InvalidArgument(
                "give either a preset or all of memory, iterations and parallelism".into(),
            )),
        }
    }

    fn costs(&self) -> Costs {
        Costs {
            memory_kib: self.memory,
            iterations: self.iterations,
            parallelism: self.parallelism,
        }
    }

    /// RustCrypto's `Params` for the PHC string, after keyward's limits
    /// (`keyward_argon2::MAX_MEMORY_KIB`, `MAX_ITERATIONS`, `MAX_PARALLELISM`).
    fn argon2(&self, output_len: usize) -> Result<Params> {
        self.costs().check_limits().map_err(|e| {
            Error::InvalidArgument(format!("invalid Argon2id parameters: {}", why(e)))
        })?;
        Params::new(
            self.memory,
            self.iterations,
            self.parallelism,
            Some(output_len),
        )
        .map_err(|e| {
            Error::InvalidArgument(format!(
                "invalid Argon2id parameters (memory={} KiB, iterations={}, parallelism={}): {e}",
                self.memory, self.iterations, self.parallelism
            ))
        })
    }
}

fn why(failure: Failure) -> String {
    match failure {
        Failure::OutOfMemory => "not enough memory".into(),
        Failure::Invalid(why) => why,
    }
}

/// What a hash is bound to besides the password; none of it is stored.
#[derive(Default, Clone, Copy)]
pub struct Binding<'a> {
    pub pepper: Option<&'a [u8]>,
    pub aad: Option<&'a [u8]>,
}

impl Binding<'_> {
    fn secret(&self) -> Option<Zeroizing<Vec<u8>>> {
        if self.pepper.is_none() && self.aad.is_none() {
            return None;
        }
        let field = |v: Option<&[u8]>| v.map(|b| encode_parts([b])).unwrap_or_default();
        Some(Zeroizing::new(encode_parts([
            SECRET_DOMAIN,
            &field(self.pepper)[..],
            &field(self.aad)[..],
        ])))
    }
}

/// Argon2id on the SIMD implementation; `params` only carries the costs and
/// the tag length (RustCrypto's types parse and print the PHC string).
fn run(
    params: &Params,
    binding: &Binding,
    password: &[u8],
    salt: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let secret = binding.secret().unwrap_or_default();
    let costs = Costs {
        memory_kib: params.m_cost(),
        iterations: params.t_cost(),
        parallelism: params.p_cost(),
    };
    let mut out = Zeroizing::new(vec![0u8; params.output_len().unwrap_or(OUTPUT_LEN)]);
    keyward_argon2::hash_into(costs, password, salt, &secret, &mut out).map_err(|e| match e {
        Failure::OutOfMemory => {
            Error::InvalidArgument("not enough memory for these Argon2id parameters".into())
        }
        Failure::Invalid(why) => Error::InvalidArgument(format!("Argon2id: {why}")),
    })?;
    Ok(out)
}

pub fn hash_password(
    password: &[u8],
    params: PasswordParams,
    binding: &Binding,
    now_ms: u64,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<String> {
    let argon_params = params.argon2(OUTPUT_LEN)?;
    let mut salt = [0u8; STAMPED_SALT_LEN];
    salt[..8].copy_from_slice(&now_ms.to_be_bytes());
    rng.fill_bytes(&mut salt[8..]);
    let output = run(&argon_params, binding, password, &salt)?;
    let phc = |e: argon2::password_hash::phc::Error| Error::Format(format!("PHC encoding: {e}"));
    let hash = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&argon_params)
            .map_err(|e| Error::Format(format!("PHC encoding: {e}")))?,
        salt: Some(Salt::new(&salt).map_err(phc)?),
        hash: Some(Output::new(&output).map_err(phc)?),
    };
    Ok(hash.to_string())
}

/// A parsed Argon2id PHC string.
struct Parsed {
    params: Params,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn parse(encoded: &str) -> Result<Parsed> {
    let bad = |why: &str| Error::Format(format!("not an Argon2id PHC hash: {why}"));
    let phc = PasswordHash::new(encoded).map_err(|e| bad(&e.to_string()))?;
    if phc.algorithm != ARGON2ID_IDENT {
        return Err(bad("the algorithm is not argon2id"));
    }
    if phc.version != Some(Version::V0x13.into()) {
        return Err(bad("only version 19 (0x13) is accepted"));
    }
    // The PHC grammar lets a name repeat or be left out (its default then
    // applies), so `m=8,t=1,t=1` would read as `m=8,t=1,p=1`: two strings
    // for one hash. Only the form this module writes is read.
    let names: Vec<String> = phc
        .params
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    if names != ["m", "t", "p"] {
        return Err(bad(
            "the parameters must be m, t and p, once each and in that order",
        ));
    }
    let salt = phc.salt.ok_or_else(|| bad("no salt"))?.to_vec();
    let hash = phc.hash.ok_or_else(|| bad("no hash"))?.as_bytes().to_vec();
    let costs = Params::try_from(&phc).map_err(|e| bad(&e.to_string()))?;
    // The costs are as trustworthy as the row they were read from: refuse
    // what is above the limits before anything is allocated for them.
    Costs {
        memory_kib: costs.m_cost(),
        iterations: costs.t_cost(),
        parallelism: costs.p_cost(),
    }
    .check_limits()
    .map_err(|e| bad(&why(e)))?;
    let params = Params::new(
        costs.m_cost(),
        costs.t_cost(),
        costs.p_cost(),
        Some(hash.len()),
    )
    .map_err(|e| bad(&e.to_string()))?;
    Ok(Parsed { params, salt, hash })
}

/// `Ok(false)` for a wrong password (or pepper, or associated data). A hash
/// older than `ttl_ms` is `Expired`, reported only once the password matched.
pub fn verify_password(
    encoded: &str,
    password: &[u8],
    binding: &Binding,
    ttl_ms: Option<u64>,
    now_ms: u64,
) -> Result<bool> {
    let parsed = parse(encoded)?;
    if ttl_ms.is_some() && parsed.salt.len() != STAMPED_SALT_LEN {
        return Err(Error::Format(
            "this hash carries no keyward timestamp, so a ttl cannot be checked".into(),
        ));
    }
    let computed = run(&parsed.params, binding, password, &parsed.salt)?;
    if !bool::from(computed.ct_eq(&parsed.hash)) {
        return Ok(false);
    }
    if ttl_ms.is_some() {
        let stamp = u64::from_be_bytes(parsed.salt[..8].try_into().expect("8 bytes"));
        check_age(stamp, ttl_ms, now_ms)?;
    }
    Ok(true)
}

/// True when `encoded` was made with other costs than `params` (or is not
/// keyward's Argon2id with a 32-byte output); then hash the password afresh
/// at the next successful login.
pub fn needs_rehash(encoded: &str, params: PasswordParams) -> Result<bool> {
    let parsed = parse(encoded)?;
    params.argon2(OUTPUT_LEN)?;
    Ok(parsed.params.m_cost() != params.memory
        || parsed.params.t_cost() != params.iterations
        || parsed.params.p_cost() != params.parallelism
        || parsed.hash.len() != OUTPUT_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    const FAST: PasswordParams = PasswordParams {
        memory: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn a_preset_or_all_three_whole_numbers_never_a_mix() {
        let pick = PasswordParams::preset_or_numbers;
        let high = Some(PasswordParams::RFC9106_HIGH_MEMORY);
        assert_eq!(pick(None, None, None, None), Ok(PasswordParams::OWASP));
        assert_eq!(
            pick(high, None, None, None),
            Ok(PasswordParams::RFC9106_HIGH_MEMORY)
        );
        assert_eq!(pick(None, Some(64.0), Some(1.0), Some(1.0)), Ok(FAST));
        let mixes = [
            pick(high, Some(64.0), Some(1.0), Some(1.0)),
            pick(None, Some(64.0), None, Some(1.0)),
        ];
        for mix in mixes {
            assert!(
                matches!(mix, Err(Error::InvalidArgument(why)) if why.starts_with("give either"))
            );
        }
        let two_32 = 4_294_967_296.0;
        for bad in [
            0.0,
            -1.0,
            1.5,
            f64::NAN,
            f64::INFINITY,
            two_32,
            two_32 + 1.0,
        ] {
            let refused = pick(None, Some(bad), Some(1.0), Some(1.0));
            assert!(
                matches!(&refused, Err(Error::InvalidArgument(why)) if why.starts_with("memory must be a whole number from 1 to 4294967295")),
                "{bad}: {refused:?}"
            );
        }
    }

    #[test]
    fn round_trip_and_bindings() {
        let pepper = Binding {
            pepper: Some(b"pepper"),
            aad: None,
        };
        let hash = hash_password(b"hunter2", FAST, &pepper, 1_000, &mut OsRng).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(verify_password(&hash, b"hunter2", &pepper, None, 0).unwrap());
        assert!(!verify_password(&hash, b"hunter3", &pepper, None, 0).unwrap());
        assert!(!verify_password(&hash, b"hunter2", &Binding::default(), None, 0).unwrap());
        let aad = Binding {
            pepper: Some(b"pepper"),
            aad: Some(b""),
        };
        assert!(!verify_password(&hash, b"hunter2", &aad, None, 0).unwrap());
        assert!(verify_password(&hash, b"hunter2", &pepper, Some(10_000), 11_000).unwrap());
        assert_eq!(
            verify_password(&hash, b"hunter2", &pepper, Some(10_000), 13_000),
            Err(Error::Expired { expired_by: 2.0 })
        );
        // A wrong password is just false, even when the hash is old.
        assert!(!verify_password(&hash, b"nope", &pepper, Some(10_000), 13_000).unwrap());
    }

    #[test]
    fn malformed_and_foreign_hashes() {
        for bad in [
            "",
            "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "plain",
        ] {
            assert!(
                matches!(
                    verify_password(bad, b"x", &Binding::default(), None, 0),
                    Err(Error::Format(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            hash_password(
                b"x",
                PasswordParams {
                    memory: 1,
                    iterations: 1,
                    parallelism: 1
                },
                &Binding::default(),
                0,
                &mut OsRng
            ),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            PasswordParams::preset("fast"),
            Err(Error::InvalidArgument(why)) if why.contains("owasp, rfc9106-low-memory, rfc9106-high-memory")
        ));
        assert_eq!(PasswordParams::preset("owasp"), Ok(PasswordParams::OWASP));
        assert_eq!(
            PasswordParams::preset("rfc9106-high-memory"),
            Ok(PasswordParams::RFC9106_HIGH_MEMORY)
        );
    }

    /// Found by the `phc_strings` property: `p=1` changed to `t=1` still
    /// verified, since a repeated name was read and a missing one defaulted.
    #[test]
    fn parameters_other_than_m_t_p_in_order_are_refused() {
        let hash = hash_password(b"pw", FAST, &Binding::default(), 0, &mut OsRng).unwrap();
        assert!(verify_password(&hash, b"pw", &Binding::default(), None, 0).unwrap());
        for params in [
            "m=64,t=1,t=1",
            "m=64,t=1",
            "m=64,m=64,t=1,p=1",
            "t=1,m=64,p=1",
            "m=64,t=1,p=1,keyid=AAAA",
        ] {
            let changed = hash.replace("m=64,t=1,p=1", params);
            assert!(
                matches!(
                    verify_password(&changed, b"pw", &Binding::default(), None, 0),
                    Err(Error::Format(_))
                ),
                "{changed}"
            );
        }
    }

    #[test]
    fn costs_above_the_limits_are_refused_from_a_hash_and_for_hashing() {
        let hash = hash_password(b"pw", FAST, &Binding::default(), 0, &mut OsRng).unwrap();
        for costs in [
            "m=4294967295,t=1,p=1",
            "m=2097153,t=1,p=1",
            "m=64,t=4294967295,p=1",
            "m=64,t=65,p=1",
            "m=134217720,t=1,p=16777215",
            "m=1024,t=1,p=17",
        ] {
            let tampered = hash.replace("m=64,t=1,p=1", costs);
            let refused = verify_password(&tampered, b"pw", &Binding::default(), None, 0);
            assert!(
                matches!(&refused, Err(Error::Format(why)) if why.contains("maximum")),
                "{costs}: {refused:?}"
            );
            assert!(matches!(
                needs_rehash(&tampered, FAST),
                Err(Error::Format(_))
            ));
        }
        for params in [
            PasswordParams {
                memory: keyward_argon2::MAX_MEMORY_KIB + 1,
                ..FAST
            },
            PasswordParams {
                iterations: keyward_argon2::MAX_ITERATIONS + 1,
                ..FAST
            },
            PasswordParams {
                memory: 1024,
                parallelism: keyward_argon2::MAX_PARALLELISM + 1,
                ..FAST
            },
        ] {
            let refused = hash_password(b"pw", params, &Binding::default(), 0, &mut OsRng);
            assert!(
                matches!(&refused, Err(Error::InvalidArgument(why)) if why.contains("maximum")),
                "{params:?}: {refused:?}"
            );
        }
    }

    #[test]
    fn rehash_when_costs_change() {
        let hash = hash_password(b"pw", FAST, &Binding::default(), 0, &mut OsRng).unwrap();
        assert!(!needs_rehash(&hash, FAST).unwrap());
        assert!(needs_rehash(
            &hash,
            PasswordParams {
                iterations: 2,
                ..FAST
            }
        )
        .unwrap());
    }
}
