//! The threads that run CPU-heavy Promise work (Argon2 above all).
//!
//! On a machine with few cores, compute threads at normal priority delay the
//! Node event loop when it wakes: the scheduler has no idle core to give it.
//! Async tasks hand their work from the libuv thread to rayon's global pool,
//! built here with its threads at a lower priority (nice 10 on Linux), so the
//! event-loop thread preempts them at once while they still use every idle
//! cycle. Argon2's lane threads are spawned from these and inherit the nice
//! value.

use std::sync::Once;

/// Builds the pool before the first heavy task. Not at module load:
/// spawning threads while the dynamic loader holds its lock deadlocks.
fn ensure_workers() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // Fails only if other code built the global pool first; then that pool is used.
        let _ = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("keyward-worker-{i}"))
            .start_handler(|_| lower_priority())
            .build_global();
    });
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // On Linux, nice values are per thread: `who = 0` is the calling thread.
    // SAFETY: setpriority has no memory-safety preconditions; a failure only
    // leaves the thread at normal priority.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// Runs `f` on the low-priority pool and blocks the calling libuv thread
/// until it is done, so CPU-heavy work never competes with the event loop at
/// equal priority.
pub fn on_workers<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    ensure_workers();
    rayon::scope(|_| f())
}
