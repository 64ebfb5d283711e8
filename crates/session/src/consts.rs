//! The limits of the session core, in one place (as libsignal's `consts.rs`).
//! The modules that enforce them re-export them where they have always been
//! (`ratchet::MAX_FORWARD_JUMPS`, `prekeys::MAX_ONE_TIME`, …).

/// At most this many message keys are derived to reach one message (libsignal's limit).
pub const MAX_FORWARD_JUMPS: u32 = 25_000;
/// Skipped message keys kept per receiving chain; older ones are dropped.
pub const MAX_SKIPPED_PER_CHAIN: usize = 2_000;
/// Receiving chains whose skipped keys are kept.
pub const MAX_RECEIVE_CHAINS: usize = 5;
/// One-time prekeys a set may hold.
pub const MAX_ONE_TIME: usize = 100_000;
/// One-time ML-KEM-768 prekeys a set may hold (64-byte seeds; each upload
/// derives and signs a 1184-byte key, so fewer than X25519 ones).
pub const MAX_ONE_TIME_KEM: usize = 10_000;
/// The largest application payload a handshake message carries.
pub const MAX_HANDSHAKE_PAYLOAD: usize = 60_000;
/// The largest Noise message (the spec's limit).
pub const MAX_NOISE_MESSAGE: usize = 65_535;
