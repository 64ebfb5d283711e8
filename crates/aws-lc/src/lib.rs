//! The calls keyward makes into AWS-LC's C API, each behind a safe function
//! with its SAFETY argument. This crate is the only place keyward calls C,
//! so the core crates keep `#![forbid(unsafe_code)]`.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod aead;
pub mod x25519;
