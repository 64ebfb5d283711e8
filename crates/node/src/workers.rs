//! The Promise exports' one task type, and the threads that run CPU-heavy
//! Promise work (Argon2 above all).
//!
//! On a machine with few cores, compute threads at normal priority delay the
//! Node event loop when it wakes: the scheduler has no idle core to give it.
//! Async tasks hand their work from the libuv thread to rayon's global pool,
//! built here with its threads at a lower priority (nice 10 on Linux), so the
//! event-loop thread preempts them at once while they still use every idle
//! cycle. Argon2's lane threads are spawned from these and inherit the nice
//! value.

use std::sync::Once;

use napi::bindgen_prelude::{AsyncTask, ToNapiValue, TypeName};
use napi::{Env, Task};

use crate::errors::{catch, Failure};

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
fn on_workers<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    ensure_workers();
    rayon::scope(|_| f())
}

type Job<R> = Box<dyn FnOnce() -> Result<R, Failure> + Send>;

/// Every Promise export: a job run off the event loop, whose result is
/// already its JavaScript value. CPU-heavy jobs (`pooled`) run on the
/// low-priority workers, short ones on the libuv thread itself.
pub struct Blocking<R> {
    job: Option<Job<R>>,
    pooled: bool,
    /// Kept for `reject`, which has the `env` to throw it with its fields.
    failure: Option<Failure>,
}

pub fn blocking<R>(pooled: bool, job: impl FnOnce() -> Result<R, Failure> + Send + 'static) -> AsyncTask<Blocking<R>>
where
    Blocking<R>: Task,
{
    AsyncTask::new(Blocking { job: Some(Box::new(job)), pooled, failure: None })
}

/// The `…Sync` twin of a `blocking` job: the same closure, on the caller's thread.
pub fn now<R>(env: &Env, job: impl FnOnce() -> Result<R, Failure>) -> napi::Result<R> {
    catch(job).map_err(|f| f.throw(env))
}

impl<R: ToNapiValue + TypeName + Send + 'static> Task for Blocking<R> {
    type Output = R;
    type JsValue = R;

    fn compute(&mut self) -> napi::Result<R> {
        let job = self.job.take().ok_or_else(|| Failure::state("this task already ran"));
        let result = match job {
            Ok(job) if self.pooled => on_workers(|| catch(job)),
            Ok(job) => catch(job),
            Err(f) => Err(f),
        };
        result.map_err(|f| {
            self.failure = Some(f);
            napi::Error::from_status(napi::Status::GenericFailure)
        })
    }

    fn resolve(&mut self, _: Env, value: R) -> napi::Result<R> {
        Ok(value)
    }

    fn reject(&mut self, env: Env, error: napi::Error) -> napi::Result<R> {
        Err(self.failure.take().map_or(error, |f| f.throw(&env)))
    }
}

/// A Promise export and its `…Sync` twin over one job. `$job` runs on the
/// calling thread in both (argument checks, copies out of JavaScript) and
/// gives the closure that does the work: `blocking` runs that off the event
/// loop (on the low-priority workers when `$pooled`), `now` at once. With
/// `impl Class`, the pair are static methods of the class (`&self` ones with
/// `&self` first); `(factory)` before the sync name makes it `#[napi(factory)]`.
/// Docs are written `#[doc = "…"]`: a `///` comment passed through a macro
/// reaches napi-rs as a raw string, which its typings would print as `r"…`.
macro_rules! twins {
    ($(#[$doc:meta])* $pooled:literal, $promise:ident / $(($($attr:tt)*))? $sync:ident
        ($($arg:ident: $ty:ty),*) -> $ts:tt $out:ty = $job:expr) => {
        $(#[$doc])*
        #[napi(ts_return_type = $ts)]
        pub fn $promise($($arg: $ty),*) -> Result<AsyncTask<Blocking<$out>>> {
            Ok(blocking($pooled, $job?))
        }

        #[napi $(($($attr)*))?]
        pub fn $sync(env: &Env, $($arg: $ty),*) -> napi::Result<$out> {
            now(env, || $job?())
        }
    };
    (impl $class:ident: $(#[$doc:meta])* $pooled:literal, $promise:ident / $(($($attr:tt)*))? $sync:ident
        ($(&$this:ident,)? $($arg:ident: $ty:ty),*) -> $ts:tt $out:ty = $job:expr) => {
        #[napi]
        impl $class {
            $(#[$doc])*
            #[napi(ts_return_type = $ts)]
            pub fn $promise($(&$this,)? $($arg: $ty),*) -> Result<AsyncTask<Blocking<$out>>> {
                Ok(blocking($pooled, $job?))
            }

            #[napi $(($($attr)*))?]
            pub fn $sync($(&$this,)? env: &Env, $($arg: $ty),*) -> napi::Result<$out> {
                now(env, || $job?())
            }
        }
    };
}
pub(crate) use twins;
