//! The server's long-term secret: OPRF seed, static key pair, fake-record key.

use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::envelope::{self, Kind};
use crate::error::{Error, Result};
use crate::ops::{by_parsed, by_suite, Parsed, SetupForm};
use crate::params::ServerParams;
use crate::record::ServerRegistration;
use crate::state::ProtocolState;
use crate::suite::Suite;

pub struct ServerSetup {
    inner: Parsed<SetupForm>,
}

impl ServerSetup {
    pub fn generate(suite: Suite, rng: &mut dyn CryptoRngCore) -> ServerSetup {
        let inner = by_suite!(suite, m => m::into_parsed(Box::new(m::setup_generate(rng))));
        ServerSetup { inner }
    }

    /// Reads the RFC 9807 / opaque-ke / `@serenity-kit/opaque` layout of `suite`:
    /// OPRF seed ‖ server private key ‖ fake-record public key.
    pub fn from_raw(suite: Suite, raw: &[u8]) -> Result<ServerSetup> {
        let inner = by_suite!(suite, m => m::into_parsed(Box::new(m::setup_parse(raw)?)));
        Ok(ServerSetup { inner })
    }

    /// Reads keyward's own serialization (header naming the suite, then the raw bytes).
    pub fn deserialize(bytes: &[u8]) -> Result<ServerSetup> {
        let (suite, raw) = envelope::unwrap(Kind::ServerSetup, bytes)?;
        ServerSetup::from_raw(suite, raw)
    }

    pub fn suite(&self) -> Suite {
        self.inner.suite()
    }

    pub fn serialize(&self) -> Zeroizing<Vec<u8>> {
        envelope::wrap(Kind::ServerSetup, self.suite(), &self.serialize_raw())
    }

    pub fn serialize_raw(&self) -> Zeroizing<Vec<u8>> {
        by_parsed!(&self.inner, m, s => m::setup_serialize(s))
    }

    pub fn public_key(&self) -> Vec<u8> {
        by_parsed!(&self.inner, m, s => m::setup_public_key(s))
    }

    /// Answers a client's registration request for `credential_identifier`.
    pub fn registration_response(
        &self,
        request: &[u8],
        credential_identifier: &[u8],
    ) -> Result<Vec<u8>> {
        by_parsed!(&self.inner, m, s => {
            m::server_registration_start(s, request, credential_identifier)
        })
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
        let (response, state) = by_parsed!(&self.inner, m, s => {
            let record = match record {
                Some(r) => Some(m::from_parsed(r.parsed()).ok_or_else(|| self.mismatch(r))?),
                None => None,
            };
            m::server_login_start(rng, s, record, request, credential_identifier, params)
        })?;
        Ok((
            response,
            ProtocolState::new(Kind::ServerLoginState, self.suite(), state),
        ))
    }

    fn mismatch(&self, record: &ServerRegistration) -> Error {
        Error::Serialization(format!(
            "the registration record is for suite {}, the server setup for {}",
            record.suite().name(),
            self.suite().name()
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
