//! Handles for the hot calls: objects looked up by a number instead of taken
//! as class arguments, whose checks in napi-rs (type tag, borrow registry)
//! cost about 0.8 µs, more than sealing 64 bytes or verifying a request
//! signature. A handle is a random 53-bit number (a JavaScript-safe integer),
//! not an index, and it dies with its object.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use rand::RngCore;

use crate::errors::Failure;

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
        self.0.write().unwrap_or_else(PoisonError::into_inner).remove(&handle);
    }

    /// The object behind `handle`, or `gone` if it is not alive.
    pub fn get(&self, handle: f64, gone: &'static str) -> Result<Arc<T>, Failure> {
        let map = self.0.read().unwrap_or_else(PoisonError::into_inner);
        map.get(&(handle as u64)).cloned().ok_or_else(|| Failure::state(gone))
    }
}

/// A live object that `dispose()` wipes: every later use fails with the one
/// invalid-state error, naming the object.
pub struct Live<T> {
    inner: Option<T>,
    disposed: &'static str,
}

impl<T> Live<T> {
    /// `disposed`: the message of a use after `dispose()`.
    pub fn new(value: T, disposed: &'static str) -> Self {
        Live { inner: Some(value), disposed }
    }

    pub fn get(&self) -> Result<&T, Failure> {
        self.inner.as_ref().ok_or_else(|| Failure::state(self.disposed))
    }

    pub fn get_mut(&mut self) -> Result<&mut T, Failure> {
        self.inner.as_mut().ok_or_else(|| Failure::state(self.disposed))
    }

    /// The object, leaving this one disposed.
    pub fn take(&mut self) -> Result<T, Failure> {
        self.inner.take().ok_or_else(|| Failure::state(self.disposed))
    }

    pub fn is_disposed(&self) -> bool {
        self.inner.is_none()
    }

    pub fn dispose(&mut self) {
        self.inner = None;
    }
}

/// A `Live` object that is also reachable by handle: registered while alive,
/// unregistered on `dispose()` or drop.
pub struct Handled<T: 'static> {
    live: Live<Arc<T>>,
    handle: u64,
    registry: &'static Handles<T>,
}

impl<T: 'static> Handled<T> {
    pub fn new(value: T, registry: &'static Handles<T>, disposed: &'static str) -> Self {
        let inner = Arc::new(value);
        let handle = registry.insert(&inner);
        Handled { live: Live::new(inner, disposed), handle, registry }
    }

    pub fn get(&self) -> Result<&T, Failure> {
        self.live.get().map(|a| &**a)
    }

    pub fn is_disposed(&self) -> bool {
        self.live.is_disposed()
    }

    pub fn handle(&self) -> f64 {
        self.handle as f64
    }

    pub fn dispose(&mut self) {
        self.live.dispose();
        self.registry.remove(self.handle);
    }
}

impl<T: 'static> Drop for Handled<T> {
    fn drop(&mut self) {
        self.registry.remove(self.handle);
    }
}

/// A JavaScript class over a core object that `dispose()` wipes: the struct
/// (its `inner` is a `Live`), `wrap`, and `dispose()`. Given a registry, the
/// object is also reachable by handle (`inner` is a `Handled`, with a `handle`
/// getter). The class's other methods are in `#[napi] impl` blocks of their own.
macro_rules! live_class {
    ($class:ident($core:ty, $disposed:expr)) => {
        #[napi]
        pub struct $class {
            pub(crate) inner: $crate::handles::Live<$core>,
        }

        impl $class {
            fn wrap(core: $core) -> Self {
                $class { inner: $crate::handles::Live::new(core, $disposed) }
            }
        }

        #[napi]
        impl $class {
            #[napi]
            pub fn dispose(&mut self) {
                self.inner.dispose();
            }
        }
    };
    ($class:ident($core:ty, $disposed:expr, $registry:ident)) => {
        #[napi]
        pub struct $class {
            inner: $crate::handles::Handled<$core>,
        }

        impl $class {
            fn wrap(core: $core) -> Self {
                $class { inner: $crate::handles::Handled::new(core, &$registry, $disposed) }
            }
        }

        #[napi]
        impl $class {
            /// See `handles`.
            #[napi(getter)]
            pub fn handle(&self) -> f64 {
                self.inner.handle()
            }

            #[napi]
            pub fn dispose(&mut self) {
                self.inner.dispose();
            }
        }
    };
}
pub(crate) use live_class;
