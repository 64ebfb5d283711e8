//! Argon2id for keyward's cores: the OPAQUE KSF and password hashing.
//!
//! The work is done by argon2-rust, a port of the reference implementation
//! with run-time-dispatched SIMD backends, about twice as fast here as a
//! portable implementation. Its `Hasher` keeps its working memory between
//! calls (and wipes it after each); this crate keeps a few of them in a pool,
//! so the common sizes never pay for page faults again. Arenas of more than
//! 128 MiB (the 2 GiB presets) are handed back to the allocator, wiped.
//!
//! Costs are checked against `MAX_MEMORY_KIB` (2 GiB), `MAX_ITERATIONS` (64)
//! and `MAX_PARALLELISM` (16) before anything is allocated, since they may
//! come from a stored hash or OPAQUE parameters an attacker wrote.
//!
//! Lanes run on threads the hasher spawns; they inherit the priority of the
//! calling thread, which the binding lowers for Promise-returning calls.
#![forbid(unsafe_code)]

use std::sync::Mutex;

use argon2_rust::params::{Memory, TagLen};
use argon2_rust::{Algorithm, Argon2, Hasher, Params, Version};

/// Arenas larger than this are freed after use, not pooled.
const MAX_POOLED_BLOCKS: usize = 128 * 1024; // 128 MiB
/// At most this many hashers wait in the pool.
const MAX_POOLED: usize = 4;

static POOL: Mutex<Vec<Hasher>> = Mutex::new(Vec::new());

/// The most memory a hash may ask for: 2 GiB, RFC 9106's first
/// recommendation and keyward's largest preset. Costs can come from a stored
/// PHC string or OPAQUE parameters an attacker may have changed; above this,
/// one login would allocate what the attacker wrote.
pub const MAX_MEMORY_KIB: u32 = 2 * 1024 * 1024;
/// The most passes a hash may ask for; the presets use 1 to 3, OWASP's table
/// at most 5. Bounds the time one verification can take.
pub const MAX_ITERATIONS: u32 = 64;
/// The most lanes a hash may ask for; each lane runs on a thread of its own,
/// and the presets use at most 4.
pub const MAX_PARALLELISM: u32 = 16;

/// Argon2id cost parameters; memory in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Costs {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The working memory could not be allocated.
    #[error("Argon2's working memory could not be allocated")]
    OutOfMemory,
    /// Parameters or input lengths Argon2 does not accept.
    #[error("{0}")]
    Invalid(String),
}

impl Costs {
    /// `Failure::Invalid` for costs above `MAX_MEMORY_KIB`, `MAX_ITERATIONS`
    /// or `MAX_PARALLELISM`; checked before anything is allocated.
    pub fn check_limits(&self) -> Result<(), Failure> {
        let over = |what: &str, value: u32, max: u32| {
            Failure::Invalid(format!(
                "{what} {value} is above keyward's maximum of {max}"
            ))
        };
        if self.memory_kib > MAX_MEMORY_KIB {
            return Err(over("memory (KiB)", self.memory_kib, MAX_MEMORY_KIB));
        }
        if self.iterations > MAX_ITERATIONS {
            return Err(over("iterations", self.iterations, MAX_ITERATIONS));
        }
        if self.parallelism > MAX_PARALLELISM {
            return Err(over("parallelism", self.parallelism, MAX_PARALLELISM));
        }
        Ok(())
    }

    /// Argon2id v1.3 with these costs and an `output_len`-byte tag; costs
    /// above the limits are refused (`check_limits`).
    pub fn argon2(&self, output_len: usize) -> Result<Argon2, Failure> {
        self.check_limits()?;
        let params = Params::builder()
            .memory(Memory::kib(self.memory_kib.into()))
            .passes(self.iterations)
            .lanes(self.parallelism)
            .threads(self.parallelism)
            .tag_len(TagLen::bytes(output_len as u64))
            .build()
            .map_err(|e| Failure::Invalid(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

fn take(argon: Argon2) -> Hasher {
    let pooled = POOL.lock().ok().and_then(|mut pool| pool.pop());
    match pooled {
        Some(mut hasher) => {
            hasher.set_argon2(argon);
            hasher
        }
        None => argon.hasher(),
    }
}

fn give_back(mut hasher: Hasher) {
    if hasher.reserved_blocks() > MAX_POOLED_BLOCKS {
        hasher.clear();
        return;
    }
    if let Ok(mut pool) = POOL.lock() {
        if pool.len() < MAX_POOLED {
            pool.push(hasher);
        }
    }
}

/// Argon2id of `password` and `salt`, keyed by `secret` (empty for none), into `out`.
pub fn hash_into(
    costs: Costs,
    password: &[u8],
    salt: &[u8],
    secret: &[u8],
    out: &mut [u8],
) -> Result<(), Failure> {
    let mut hasher = take(costs.argon2(out.len())?);
    let result = hasher.hash_into_with_ad(password, salt, secret, &[], out);
    give_back(hasher);
    result.map_err(|e| match e {
        argon2_rust::Error::MemoryAllocationError => Failure::OutOfMemory,
        other => Failure::Invalid(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9106 §5.3: the Argon2id test vector (secret and associated data included).
    #[test]
    fn rfc9106_vector_through_the_reference_port() {
        let params = Params::builder()
            .memory(Memory::kib(32))
            .passes(3)
            .lanes(4)
            .threads(4)
            .tag_len(TagLen::bytes(32))
            .build()
            .unwrap();
        let mut out = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_into_with_ad(&[1; 32], &[2; 16], &[3; 8], &[4; 12], &mut out)
            .unwrap();
        let expected = "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659";
        assert_eq!(
            out.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            expected
        );
    }

    #[test]
    fn pooled_hashers_give_the_same_tags() {
        let costs = Costs {
            memory_kib: 64,
            iterations: 1,
            parallelism: 2,
        };
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        hash_into(costs, b"pw", b"saltsalt", b"", &mut a).unwrap();
        hash_into(
            Costs {
                memory_kib: 128,
                ..costs
            },
            b"pw",
            b"saltsalt",
            b"",
            &mut b,
        )
        .unwrap();
        assert_ne!(a, b);
        hash_into(costs, b"pw", b"saltsalt", b"", &mut b).unwrap();
        assert_eq!(a, b);
        hash_into(costs, b"pw", b"saltsalt", b"k", &mut b).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn costs_above_the_limits_are_refused_before_any_allocation() {
        let fine = Costs {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let mut out = [0u8; 32];
        for costs in [
            Costs {
                memory_kib: u32::MAX,
                ..fine
            },
            Costs {
                memory_kib: MAX_MEMORY_KIB + 1,
                ..fine
            },
            Costs {
                iterations: u32::MAX,
                ..fine
            },
            Costs {
                iterations: MAX_ITERATIONS + 1,
                ..fine
            },
            Costs {
                memory_kib: 16_777_215 * 8,
                parallelism: 16_777_215,
                ..fine
            },
            Costs {
                memory_kib: 1024,
                parallelism: MAX_PARALLELISM + 1,
                ..fine
            },
        ] {
            let refused = hash_into(costs, b"pw", b"saltsalt", b"", &mut out);
            assert!(
                matches!(&refused, Err(Failure::Invalid(why)) if why.contains("maximum")),
                "{costs:?}: {refused:?}"
            );
        }
        let edge = Costs {
            memory_kib: 8 * MAX_PARALLELISM,
            iterations: MAX_ITERATIONS,
            parallelism: MAX_PARALLELISM,
        };
        assert_eq!(edge.check_limits(), Ok(()));
        hash_into(edge, b"pw", b"saltsalt", b"", &mut out).unwrap();
    }

    #[test]
    fn invalid_costs_are_errors() {
        let mut out = [0u8; 32];
        let bad = Costs {
            memory_kib: 1,
            iterations: 1,
            parallelism: 1,
        };
        assert!(matches!(
            hash_into(bad, b"pw", b"saltsalt", b"", &mut out),
            Err(Failure::Invalid(_))
        ));
        let zero_t = Costs {
            memory_kib: 64,
            iterations: 0,
            parallelism: 1,
        };
        assert!(matches!(
            hash_into(zero_t, b"pw", b"saltsalt", b"", &mut out),
            Err(Failure::Invalid(_))
        ));
    }
}
