//! Numbers from JavaScript. Sizes, counts and times cross as `f64` and are
//! checked here, or by the core whose limit they meet (Argon2 costs, prekey
//! counts, stream chunk sizes): napi's own `u32` conversion wraps modulo 2^32
//! (2^32 + 32 became 32) and turns NaN, negative and fractional numbers into
//! some other count without a word.

use crate::errors::Failure;

/// A whole number in `min..=max` (`max` ≤ 2^53, so the comparison is exact).
pub fn whole(value: f64, what: &str, min: u64, max: u64) -> Result<u64, Failure> {
    if value.is_finite() && value.fract() == 0.0 && value >= min as f64 && value <= max as f64 {
        Ok(value as u64)
    } else {
        Err(Failure::argument(format!("{what} must be a whole number from {min} to {max}, got {value}")))
    }
}

/// A whole, non-negative count of milliseconds.
pub fn millis(value: f64, what: &str) -> Result<u64, Failure> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 2f64.powi(53) {
        Ok(value as u64)
    } else {
        Err(Failure::argument(format!("{what} must be a whole number of milliseconds ≥ 0, got {value}")))
    }
}

/// The caller's clock reading, or the system clock when JavaScript passed
/// none: reading it here saves a `Date.now()` round trip on every seal.
pub fn clock(now_ms: Option<f64>) -> Result<u64, Failure> {
    match now_ms {
        Some(ms) => millis(ms, "the clock"),
        None => {
            Ok(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64))
        }
    }
}
