//! A replay cache for one process: remembers keys (a session's nonces, a
//! login state's number) until they expire.
//!
//! It stores a 64-bit keyed fingerprint of each key, not the key. Equal keys
//! always have equal fingerprints, so a replay is always refused; two
//! different keys share one only by chance (about n / 2^64 for n live
//! entries), and then an honest request is refused, never a replay accepted.
//! The hash key is random per cache, so a client cannot aim at a collision.
//! Fingerprints in a flat table keep an entry at 16 bytes and a lookup at
//! one probe, where a JavaScript `Map` of strings costs a few cache misses.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// Fingerprints are keyed hashes already: the table uses them as they are.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 fingerprints are hashed")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Sweeps never run on a table smaller than this.
const MIN_SWEEP: usize = 1024;

pub struct ReplayCache {
    /// Fingerprint → expiry (ms since the epoch).
    seen: HashMap<u64, u64, BuildHasherDefault<Prehashed>>,
    hasher: RandomState,
    max_entries: usize,
    /// Expired entries are swept when the table reaches this size, which
    /// then doubles past what is live: amortised O(1) per add.
    sweep_at: usize,
}

impl ReplayCache {
    pub fn new(max_entries: usize) -> ReplayCache {
        ReplayCache {
            seen: HashMap::default(),
            hasher: RandomState::new(),
            max_entries,
            sweep_at: MIN_SWEEP,
        }
    }

    /// The fingerprint of the concatenation of `parts`.
    fn fingerprint(&self, parts: &[&[u8]]) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        for part in parts {
            hasher.write(part);
        }
        hasher.finish()
    }

    /// Records the concatenation of `parts` for `ttl_ms`; `true` only if it
    /// was not live already. When the cache is full of live entries it
    /// refuses (`false`) rather than forget one that may be replayed.
    pub fn add(&mut self, parts: &[&[u8]], ttl_ms: u64, now_ms: u64) -> bool {
        let fingerprint = self.fingerprint(parts);
        if let Some(&until) = self.seen.get(&fingerprint) {
            if until > now_ms {
                return false;
            }
        } else if self.seen.len() >= self.sweep_at.min(self.max_entries) {
            self.sweep(now_ms);
            if self.seen.len() >= self.max_entries {
                return false;
            }
        }
        self.seen.insert(fingerprint, now_ms.saturating_add(ttl_ms));
        true
    }

    fn sweep(&mut self, now_ms: u64) {
        self.seen.retain(|_, until| *until > now_ms);
        self.sweep_at = (self.seen.len() * 2).max(MIN_SWEEP);
    }

    /// Live and expired-but-not-yet-swept entries.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_live_key_and_takes_it_again_after_expiry() {
        let mut cache = ReplayCache::new(10);
        assert!(cache.add(&[b"s1:", b"n1"], 100, 1_000));
        assert!(!cache.add(&[b"s1:", b"n1"], 100, 1_050));
        // The same bytes split differently are the same key.
        assert!(!cache.add(&[b"s1:n1"], 100, 1_099));
        assert!(cache.add(&[b"s1:n2"], 100, 1_050));
        assert!(cache.add(&[b"s1:n1"], 100, 1_100));
    }

    #[test]
    fn full_of_live_entries_it_refuses_rather_than_forgets() {
        let mut cache = ReplayCache::new(2);
        assert!(cache.add(&[b"a"], 10, 0));
        assert!(cache.add(&[b"b"], 10, 0));
        assert!(!cache.add(&[b"c"], 10, 5));
        assert!(!cache.add(&[b"a"], 10, 5));
        // Once they expire, the sweep makes room.
        assert!(cache.add(&[b"c"], 10, 10));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn sweeps_keep_the_table_near_its_live_size() {
        let mut cache = ReplayCache::new(1_000_000);
        for i in 0u32..100_000 {
            // Each key lives 10 ms; time advances 1 ms per add.
            assert!(cache.add(&[&i.to_le_bytes()], 10, u64::from(i)));
        }
        assert!(cache.len() < 2 * MIN_SWEEP + 20, "{}", cache.len());
    }

    #[test]
    fn caches_hash_with_their_own_keys() {
        let (a, b) = (ReplayCache::new(1), ReplayCache::new(1));
        assert_ne!(a.fingerprint(&[b"x"]), b.fingerprint(&[b"x"]));
    }
}
