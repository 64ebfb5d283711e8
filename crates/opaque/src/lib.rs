//! OPAQUE (RFC 9807) for keyward, on opaque-ke.
//!
//! Five suites chosen at run time by name, all named once in `suite.rs` and
//! dispatched in `ops.rs`; every input parsed at its exact length and only in
//! its one canonical encoding; Argon2id key stretching with parallel lanes
//! and bounded costs; single-use protocol states; and secrets that are wiped
//! when they are no longer needed.
#![forbid(unsafe_code)]

pub mod client;
mod envelope;
mod error;
mod ksf;
mod ops;
mod params;
mod record;
mod ristretto;
mod setup;
mod state;
mod suite;

pub use envelope::Kind;
pub use error::{Error, ErrorCode, Result};
pub use ksf::KeyStretching;
pub use ops::{LoginResult, RegistrationResult};
pub use params::{ClientParams, Identifiers, OwnedParams, ServerParams};
pub use record::ServerRegistration;
pub use setup::{server_login_finish, ServerSetup};
pub use state::ProtocolState;
pub use suite::Suite;
