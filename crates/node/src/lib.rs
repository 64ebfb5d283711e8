//! The napi-rs binding: it converts between JavaScript values and the
//! cores' types and runs slow calls off the event loop; nothing else. Core
//! errors cross with their `code` (see `errors`), and every name and limit
//! JavaScript needs is in `names`. `args` checks numbers from JavaScript,
//! `handles` holds the one wrapper of a disposable object (`live_class!`) and
//! the hot calls' handles, `workers` the one Promise task type, its
//! low-priority threads and `twins!` (a Promise export and its `…Sync` twin
//! over one job), `owned` results in V8-owned memory; the other modules
//! expose one core area each. Rules about arguments (presets or numbers, an
//! expected peer, counts, key lengths) live in the cores, not here.
#![deny(clippy::all)]

mod args;
mod errors;
mod handles;
mod names;
mod opaque;
mod owned;
mod password;
mod pop;
mod relay;
mod seal;
mod session;
mod vault;
mod workers;
