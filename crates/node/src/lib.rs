//! The napi-rs binding. It converts between JavaScript values and the core's
//! types, runs slow calls on the libuv pool, and reports core errors as
//! `[CODE] message`, which the TypeScript layer turns into typed classes.
#![deny(clippy::all)]

mod convert;
mod handles;
mod opaque;
mod owned;
mod password;
mod pop;
mod seal;
mod session;
mod states;
mod stream;
mod vault;
mod workers;
