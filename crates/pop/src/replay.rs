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
//!
//! It never refuses a key for want of room: it grows with the load and
//! forgets keys only once they expire. What bounds it is who can add: the
//! verifier records a nonce only after its MAC verified, so only holders of
//! a live session's key add, and each session holds at most `max_per_scope`
//! live nonces (`add_scoped`); past that, that session alone is refused.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use crate::Error;

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

/// Live nonces a session may hold by default: with the default 30 s window
/// (nonces live 60 s) that is 1 666 requests a second, sustained, for one
/// session (a busy service's single session included), and at most about
/// 4 MB of the cache for a session that floods.
pub const DEFAULT_MAX_PER_SCOPE: usize = 100_000;
/// The largest bound a caller may set: far above any real need, and a number
/// a binding can check exactly (it is below 2^53).
pub const LARGEST_MAX_PER_SCOPE: u64 = 1 << 32;

type Table<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;

pub struct ReplayCache {
    /// Fingerprint → expiry (ms since the epoch).
    seen: Table<u64>,
    /// Fingerprint of a scope (a session) → the expiries of its live keys,
    /// ascending: its count of live keys, exact after the expired ones are
    /// dropped from the front.
    scopes: Table<VecDeque<u64>>,
    hasher: RandomState,
    max_per_scope: usize,
    /// Expired entries are swept when the table reaches this size, which
    /// then doubles past what is live: amortised O(1) per add.
    sweep_at: usize,
}

/// Drops the expired expiries at the front of a scope's list.
fn expire(live: &mut VecDeque<u64>, now_ms: u64) {
    while live.front().is_some_and(|&until| until <= now_ms) {
        live.pop_front();
    }
}

impl ReplayCache {
    /// `max_per_scope` (at least 1) bounds the live keys of one scope in `add_scoped`.
    pub fn new(max_per_scope: usize) -> ReplayCache {
        ReplayCache {
            seen: HashMap::default(),
            scopes: HashMap::default(),
            hasher: RandomState::new(),
            max_per_scope: max_per_scope.max(1),
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
    /// was not live already. For keys no client chooses freely (a login
    /// state's number, sealed by the server): no per-scope bound.
    pub fn add(&mut self, parts: &[&[u8]], ttl_ms: u64, now_ms: u64) -> bool {
        let fingerprint = self.fingerprint(parts);
        self.insert(fingerprint, ttl_ms, now_ms)
    }

    /// Records `scope ":" key` for `ttl_ms`, as `add(&[scope, b":", key])`
    /// would, and counts it against `scope`: `Replay` if it is live already,
    /// `RateLimited` if the scope holds `max_per_scope` live keys (then
    /// nothing is recorded).
    pub fn add_scoped(
        &mut self,
        scope: &[u8],
        key: &[u8],
        ttl_ms: u64,
        now_ms: u64,
    ) -> Result<(), Error> {
        // One pass of the hash over the bytes: the scope's fingerprint on the way.
        let mut hasher = self.hasher.build_hasher();
        hasher.write(scope);
        let scope_fingerprint = hasher.finish();
        hasher.write(b":");
        hasher.write(key);
        let fingerprint = hasher.finish();
        if self
            .seen
            .get(&fingerprint)
            .is_some_and(|&until| until > now_ms)
        {
            return Err(Error::Replay);
        }
        let live = self.scopes.entry(scope_fingerprint).or_default();
        expire(live, now_ms);
        if live.len() >= self.max_per_scope {
            return Err(Error::RateLimited);
        }
        let until = now_ms.saturating_add(ttl_ms);
        // Expiries arrive in order unless the clock steps back or ttls differ.
        if live.back().is_none_or(|&last| last <= until) {
            live.push_back(until);
        } else {
            let at = live.partition_point(|&u| u <= until);
            live.insert(at, until);
        }
        self.insert(fingerprint, ttl_ms, now_ms);
        Ok(())
    }

    fn insert(&mut self, fingerprint: u64, ttl_ms: u64, now_ms: u64) -> bool {
        let until = now_ms.saturating_add(ttl_ms);
        if let Some(entry) = self.seen.get_mut(&fingerprint) {
            if *entry > now_ms {
                return false;
            }
            // Expired and not swept yet: the slot is reused.
            *entry = until;
            return true;
        }
        if self.seen.len() >= self.sweep_at {
            self.sweep(now_ms);
        }
        self.seen.insert(fingerprint, until);
        true
    }

    fn sweep(&mut self, now_ms: u64) {
        self.seen.retain(|_, until| *until > now_ms);
        self.scopes.retain(|_, live| {
            expire(live, now_ms);
            // A session that was busy once does not keep its peak's memory.
            if live.capacity() > 64 && live.len() < live.capacity() / 4 {
                live.shrink_to(live.len() * 2);
            }
            !live.is_empty()
        });
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
        // A scoped key is `scope ":" key`.
        assert_eq!(
            cache.add_scoped(b"s1", b"n2", 100, 1_100),
            Err(Error::Replay)
        );
        assert_eq!(cache.add_scoped(b"s1", b"n3", 100, 1_100), Ok(()));
        assert!(!cache.add(&[b"s1:n3"], 100, 1_100));
    }

    /// No size refuses: a table of live keys only grows, and each key stays a replay.
    #[test]
    fn never_full_it_grows_with_the_load() {
        let mut cache = ReplayCache::new(1);
        let n = 50_000u32;
        for i in 0..n {
            assert!(cache.add(&[&i.to_le_bytes()], 1_000_000, u64::from(i)));
            // One key per scope: the per-scope bound of 1 never bites.
            assert_eq!(
                cache.add_scoped(&i.to_le_bytes(), b"nonce", 1_000_000, u64::from(i)),
                Ok(())
            );
        }
        assert_eq!(cache.len(), 2 * n as usize);
        for i in (0..n).step_by(997) {
            assert!(!cache.add(&[&i.to_le_bytes()], 1_000_000, u64::from(n)));
            assert_eq!(
                cache.add_scoped(&i.to_le_bytes(), b"nonce", 1_000_000, u64::from(n)),
                Err(Error::Replay)
            );
        }
    }

    #[test]
    fn sweeps_keep_the_table_near_its_live_size() {
        let mut cache = ReplayCache::new(100);
        for i in 0u32..100_000 {
            // Each key lives 10 ms; time advances 1 ms per add.
            let now = u64::from(i);
            assert!(cache.add(&[&i.to_le_bytes()], 10, now));
            assert_eq!(cache.add_scoped(b"s", &i.to_le_bytes(), 10, now), Ok(()));
        }
        assert!(cache.len() < 2 * MIN_SWEEP + 40, "{}", cache.len());
        assert!(cache.scopes.len() <= 1);
    }

    #[test]
    fn a_scope_holds_at_most_its_bound_of_live_keys() {
        let mut cache = ReplayCache::new(3);
        assert_eq!(cache.add_scoped(b"a", b"1", 100, 0), Ok(()));
        assert_eq!(cache.add_scoped(b"a", b"2", 50, 10), Ok(()));
        assert_eq!(cache.add_scoped(b"a", b"3", 100, 20), Ok(()));
        assert_eq!(
            cache.add_scoped(b"a", b"4", 100, 30),
            Err(Error::RateLimited)
        );
        // Refused keys are not recorded; other scopes are not affected.
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.add_scoped(b"b", b"4", 100, 30), Ok(()));
        // A replay is a replay, also at the bound.
        assert_eq!(cache.add_scoped(b"a", b"2", 100, 30), Err(Error::Replay));
        // The key with the shortest life expires first (at 60, though it came second).
        assert_eq!(cache.add_scoped(b"a", b"4", 100, 60), Ok(()));
        assert_eq!(
            cache.add_scoped(b"a", b"5", 100, 60),
            Err(Error::RateLimited)
        );
        assert_eq!(cache.add_scoped(b"a", b"5", 100, 100), Ok(()));
        // Unscoped keys do not count against a scope.
        assert!(cache.add(&[b"a:6"], 100, 100));
        assert_eq!(cache.add_scoped(b"a", b"6", 100, 100), Err(Error::Replay));
    }

    #[test]
    fn caches_hash_with_their_own_keys() {
        let (a, b) = (ReplayCache::new(1), ReplayCache::new(1));
        assert_ne!(a.fingerprint(&[b"x"]), b.fingerprint(&[b"x"]));
    }
}
