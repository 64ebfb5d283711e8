//! The calls keyward makes into AWS-LC's C API, each behind a safe function
//! with its SAFETY argument. Apart from the binding's own calls (Node-API,
//! and `setpriority` for its workers), this crate is the only place keyward
//! calls C, so the core crates keep `#![forbid(unsafe_code)]`.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod aead;
pub mod x25519;
