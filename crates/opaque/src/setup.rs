//! The server's long-term secret: OPRF seed, static key pair, fake-record key.

use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::envelope::{self, Kind};
use crate::error::{Error, Result};
use crate::ops::{self, by_suite};
use crate::params::ServerParams;
use crate::record::ServerRegistration;
use crate::state::ProtocolState;
use crate::suite::Suite;

/// The parsed setup of one suite; kept parsed so a login does not re-derive keys.
enum Inner {
    Ristretto255Sha512(Box<ops::ristretto255_sha512::Setup>),
    P256Sha256(Box<ops::p256_sha256::Setup>),
    P384Sha384(Box<ops::p384_sha384::Setup>),
    P521Sha512(Box<ops::p521_sha512::Setup>),
    MlKem768Ristretto255Sha512(Box<ops::ml_kem_768_ristretto255_sha512::Setup>),
}

/// Runs `$body` with `$m` bound to the suite's operations and `$s` to its setup.
macro_rules! with_setup {
    ($inner:expr, $m:ident, $s:ident => $body:expr) => {
        match $inner {
            Inner::Ristretto255Sha512($s) => {
                use ops::ristretto255_sha512 as $m;
                $body
            }
            Inner::P256Sha256($s) => {
                use ops::p256_sha256 as $m;
                $body
            }
            Inner::P384Sha384($s) => {
                use ops::p384_sha384 as $m;
                $body
            }
            Inner::P521Sha512($s) => {
                use ops::p521_sha512 as $m;
                $body
            }
            Inner::MlKem768Ristretto255Sha512($s) => {
                use ops::ml_kem_768_ristretto255_sha512 as $m;
                $body
            }
        }
    };
}

pub struct ServerSetup {
    suite: Suite,
    inner: Inner,
}

impl ServerSetup {
    pub fn generate(suite: Suite, rng: &mut dyn CryptoRngCore) -> ServerSetup {
        let inner = match suite {
            Suite::Ristretto255Sha512 => {
                Inner::Ristretto255Sha512(Box::new(ops::ristretto255_sha512::setup_generate(rng)))
            }
            Suite::P256Sha256 => Inner::P256Sha256(Box::new(ops::p256_sha256::setup_generate(rng))),
            Suite::P384Sha384 => Inner::P384Sha384(Box::new(ops::p384_sha384::setup_generate(rng))),
            Suite::P521Sha512 => Inner::P521Sha512(Box::new(ops::p521_sha512::setup_generate(rng))),
            Suite::MlKem768Ristretto255Sha512 => Inner::MlKem768Ristretto255Sha512(Box::new(
                ops::ml_kem_768_ristretto255_sha512::setup_generate(rng),
            )),
        };
        ServerSetup { suite, inner }
    }

    /// Reads the RFC 9807 / opaque-ke / `@serenity-kit/opaque` layout of `suite`:
    /// OPRF seed ‖ server private key ‖ fake-record public key.
    pub fn from_raw(suite: Suite, raw: &[u8]) -> Result<ServerSetup> {
        let inner = match suite {
            Suite::Ristretto255Sha512 => {
                Inner::Ristretto255Sha512(Box::new(ops::ristretto255_sha512::setup_parse(raw)?))
            }
            Suite::P256Sha256 => Inner::P256Sha256(Box::new(ops::p256_sha256::setup_parse(raw)?)),
            Suite::P384Sha384 => Inner::P384Sha384(Box::new(ops::p384_sha384::setup_parse(raw)?)),
            Suite::P521Sha512 => Inner::P521Sha512(Box::new(ops::p521_sha512::setup_parse(raw)?)),
            Suite::MlKem768Ristretto255Sha512 => Inner::MlKem768Ristretto255Sha512(Box::new(
                ops::ml_kem_768_ristretto255_sha512::setup_parse(raw)?,
            )),
        };
        Ok(ServerSetup { suite, inner })
    }

    /// Reads keyward's own serialization (header naming the suite, then the raw bytes).
    pub fn deserialize(bytes: &[u8]) -> Result<ServerSetup> {
        let (suite, raw) = envelope::unwrap(Kind::ServerSetup, bytes)?;
        ServerSetup::from_raw(suite, raw)
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    pub fn serialize(&self) -> Zeroizing<Vec<u8>> {
        envelope::wrap(Kind::ServerSetup, self.suite, &self.serialize_raw())
    }

    pub fn serialize_raw(&self) -> Zeroizing<Vec<u8>> {
        with_setup!(&self.inner, m, s => m::setup_serialize(s))
    }

    pub fn public_key(&self) -> Vec<u8> {
        with_setup!(&self.inner, m, s => m::setup_public_key(s))
    }

    /// Answers a client's registration request for `credential_identifier`.
    pub fn registration_response(
        &self,
        request: &[u8],
        credential_identifier: &[u8],
    ) -> Result<Vec<u8>> {
        with_setup!(&self.inner, m, s => m::server_registration_start(s, request, credential_identifier))
    }

    /// Answers a client's login request. With `record == None` it answers from a
    /// fake record derived from the setup, indistinguishable on the wire.
    pub fn login_start(
        &self,
        rng: &mut dyn CryptoRngCore,
        record: Option<&ServerRegistration>,
        request: &[u8],
        credential_identifier: &[u8],
        params: &ServerParams,
    ) -> Result<(Vec<u8>, ProtocolState)> {
        params.check()?;
        if let Some(r) = record {
            if r.suite() != self.suite {
                return Err(Error::Serialization(format!(
                    "the registration record is for suite {}, the server setup for {}",
                    r.suite().name(),
                    self.suite.name()
                )));
            }
        }
        let parsed_record = record.map(|r| r.parsed());
        let (response, state) = with_setup!(&self.inner, m, s => m::server_login_start(
            rng, s, parsed_record, request, credential_identifier, params
        ))?;
        Ok((
            response,
            ProtocolState::new(Kind::ServerLoginState, self.suite, state),
        ))
    }
}

/// Finishes a login on the server; returns the session key.
pub fn server_login_finish(
    state: ProtocolState,
    finalization: &[u8],
    params: &ServerParams,
) -> Result<Zeroizing<Vec<u8>>> {
    params.check()?;
    let (suite, raw) = state.into_raw(Kind::ServerLoginState)?;
    by_suite!(suite, m => m::server_login_finish(&raw, finalization, params))
}
