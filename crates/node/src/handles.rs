//! Handles for the hot calls: objects looked up by a number instead of taken
//! as class arguments, whose checks in napi-rs (type tag, borrow registry)
//! cost about 0.8 µs, more than sealing 64 bytes or verifying a request
//! signature. A handle is a random 53-bit number (a JavaScript-safe integer),
//! not an index, and it dies with its object.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use rand::RngCore;

/// Handles are random already, so a multiply spreads them over the table;
/// SipHash's flooding defence buys nothing here and costs on every call.
#[derive(Default)]
struct HandleHasher(u64);

impl Hasher for HandleHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type Map<T> = HashMap<u64, Arc<T>, BuildHasherDefault<HandleHasher>>;

pub struct Handles<T>(LazyLock<RwLock<Map<T>>>);

fn empty<T>() -> RwLock<Map<T>> {
    RwLock::new(Map::default())
}

impl<T> Handles<T> {
    pub const fn new() -> Self {
        Handles(LazyLock::new(empty::<T>))
    }

    pub fn insert(&self, value: &Arc<T>) -> u64 {
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        loop {
            let handle = rand::thread_rng().next_u64() >> 11;
            if handle != 0 && !map.contains_key(&handle) {
                map.insert(handle, value.clone());
                return handle;
            }
        }
    }

    pub fn remove(&self, handle: u64) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&handle);
    }

    /// The object behind `handle`, if it is still alive.
    pub fn get(&self, handle: f64) -> Option<Arc<T>> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(handle as u64))
            .cloned()
    }
}

/// An object of a JavaScript class that is also reachable by handle: it is
/// registered while alive and unregistered on `dispose()` or drop.
pub struct Handled<T: 'static> {
    inner: Option<Arc<T>>,
    handle: u64,
    registry: &'static Handles<T>,
}

impl<T: 'static> Handled<T> {
    pub fn new(value: T, registry: &'static Handles<T>) -> Self {
        let inner = Arc::new(value);
        let handle = registry.insert(&inner);
        Handled {
            inner: Some(inner),
            handle,
            registry,
        }
    }

    pub fn get(&self) -> Option<&T> {
        self.inner.as_deref()
    }

    pub fn handle(&self) -> f64 {
        self.handle as f64
    }

    pub fn dispose(&mut self) {
        self.inner = None;
        self.registry.remove(self.handle);
    }
}

impl<T: 'static> Drop for Handled<T> {
    fn drop(&mut self) {
        self.registry.remove(self.handle);
    }
}
