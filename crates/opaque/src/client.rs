//! The client's half of registration and login.

use rand_core::CryptoRngCore;

use crate::envelope::Kind;
use crate::error::Result;
use crate::ops::{by_suite, LoginResult, RegistrationResult};
use crate::params::ClientParams;
use crate::state::ProtocolState;
use crate::suite::Suite;

pub fn registration_start(
    suite: Suite,
    rng: &mut dyn CryptoRngCore,
    password: &[u8],
) -> Result<(Vec<u8>, ProtocolState)> {
    let (request, state) = by_suite!(suite, m => m::client_registration_start(rng, password))?;
    Ok((
        request,
        ProtocolState::new(Kind::ClientRegistrationState, suite, state),
    ))
}

/// Runs the key stretching function: slow on purpose.
pub fn registration_finish(
    state: ProtocolState,
    rng: &mut dyn CryptoRngCore,
    password: &[u8],
    response: &[u8],
    params: &ClientParams,
) -> Result<RegistrationResult> {
    params.check()?;
    let (suite, raw) = state.into_raw(Kind::ClientRegistrationState)?;
    by_suite!(suite, m => m::client_registration_finish(rng, &raw, password, response, params))
}

pub fn login_start(
    suite: Suite,
    rng: &mut dyn CryptoRngCore,
    password: &[u8],
) -> Result<(Vec<u8>, ProtocolState)> {
    let (request, state) = by_suite!(suite, m => m::client_login_start(rng, password))?;
    Ok((
        request,
        ProtocolState::new(Kind::ClientLoginState, suite, state),
    ))
}

/// Runs the key stretching function: slow on purpose.
pub fn login_finish(
    state: ProtocolState,
    rng: &mut dyn CryptoRngCore,
    password: &[u8],
    response: &[u8],
    params: &ClientParams,
) -> Result<LoginResult> {
    params.check()?;
    let (suite, raw) = state.into_raw(Kind::ClientLoginState)?;
    by_suite!(suite, m => m::client_login_finish(rng, &raw, password, response, params))
}
