//! Deterministic inputs shared by the targets and their seeds: the seeds
//! in the committed corpora are only accepted if the fuzzing process builds
//! the very same server setups, keys and states, so everything here comes
//! from fixed seeds or a seeded RNG.

use rand::{rngs::StdRng, SeedableRng};

/// The RNG every fixture is drawn from; one per fixture so that their order
/// of construction does not matter.
pub fn rng(stream: u64) -> StdRng {
    StdRng::seed_from_u64(0x6b65_7977_6172_6400 ^ stream)
}

/// A 32-byte key made of one repeated byte.
pub const fn key(byte: u8) -> [u8; 32] {
    [byte; 32]
}

/// A fixed "now" for boxes, hashes and PoP requests (2026-01-01T00:00:00Z).
pub const NOW_MS: u64 = 1_767_225_600_000;
