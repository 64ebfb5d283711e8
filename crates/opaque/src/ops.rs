//! Byte-level OPAQUE operations, instantiated once per concrete suite.
//!
//! opaque-ke's generic bounds are long typenum expressions; instantiating the
//! same body per concrete suite with a macro keeps them out of our code. Every
//! parse checks the exact length first, because opaque-ke accepts trailing
//! bytes.

use generic_array::{ArrayLength, GenericArray};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};

/// The length of `T`'s serialization, read off the type of its `serialize`.
pub(crate) fn serialized_len<T, N: ArrayLength<u8>>(_: fn(&T) -> GenericArray<u8, N>) -> usize {
    N::USIZE
}

pub(crate) fn check_len(what: &'static str, bytes: &[u8], expected: usize) -> Result<()> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(Error::Size {
            what,
            expected,
            actual: bytes.len(),
        })
    }
}

/// Copies a secret out of an opaque-ke result and wipes the original.
pub(crate) fn take_secret(bytes: &mut [u8]) -> Zeroizing<Vec<u8>> {
    let out = Zeroizing::new(bytes.to_vec());
    bytes.zeroize();
    out
}

/// What a client gets from finishing registration.
pub struct RegistrationResult {
    pub upload: Vec<u8>,
    pub export_key: Zeroizing<Vec<u8>>,
    pub server_public_key: Vec<u8>,
}

/// What a client gets from finishing login.
pub struct LoginResult {
    pub finalization: Vec<u8>,
    pub session_key: Zeroizing<Vec<u8>>,
    pub export_key: Zeroizing<Vec<u8>>,
    pub server_public_key: Vec<u8>,
}

macro_rules! suite_ops {
    ($module:ident, $cs:ty) => {
        pub(crate) mod $module {
            use opaque_ke::{
                ClientLogin, ClientLoginFinishParameters, ClientRegistration,
                ClientRegistrationFinishParameters, CredentialFinalization, CredentialRequest,
                CredentialResponse, RegistrationRequest, RegistrationResponse, ServerLogin,
                ServerLoginParameters, ServerRegistration,
            };
            use rand_core::CryptoRngCore;
            use zeroize::Zeroizing;

            use super::{check_len, serialized_len, take_secret, LoginResult, RegistrationResult};
            use crate::envelope::Kind;
            use crate::error::{Error, Result};
            use crate::params::{ClientParams, ServerParams};

            pub(crate) type Cs = $cs;
            pub(crate) type Setup = opaque_ke::ServerSetup<Cs>;

            fn parse<T, E>(
                what: &'static str,
                bytes: &[u8],
                expected: usize,
                decode: fn(&[u8]) -> core::result::Result<T, opaque_ke::errors::ProtocolError<E>>,
            ) -> Result<T> {
                check_len(what, bytes, expected)?;
                decode(bytes).map_err(|e| Error::decoding(what, e))
            }

            pub(crate) fn setup_len() -> usize {
                serialized_len(Setup::serialize)
            }
            pub(crate) fn record_len() -> usize {
                serialized_len(ServerRegistration::<Cs>::serialize)
            }
            pub(crate) fn client_registration_state_len() -> usize {
                serialized_len(ClientRegistration::<Cs>::serialize)
            }
            pub(crate) fn client_login_state_len() -> usize {
                serialized_len(ClientLogin::<Cs>::serialize)
            }
            pub(crate) fn server_login_state_len() -> usize {
                serialized_len(ServerLogin::<Cs>::serialize)
            }

            pub(crate) fn setup_generate(rng: &mut dyn CryptoRngCore) -> Setup {
                Setup::new(&mut &mut *rng)
            }

            pub(crate) fn setup_parse(raw: &[u8]) -> Result<Setup> {
                parse("server setup", raw, setup_len(), Setup::deserialize)
            }

            pub(crate) fn setup_serialize(setup: &Setup) -> Zeroizing<Vec<u8>> {
                let mut bytes = setup.serialize();
                take_secret(&mut bytes)
            }

            pub(crate) fn setup_public_key(setup: &Setup) -> Vec<u8> {
                setup.keypair().public().serialize().to_vec()
            }

            pub(crate) fn record_parse(raw: &[u8]) -> Result<ServerRegistration<Cs>> {
                parse(
                    "registration record",
                    raw,
                    record_len(),
                    ServerRegistration::<Cs>::deserialize,
                )
            }

            /// A state is checked by decoding it: points and scalars must be valid.
            pub(crate) fn state_check(kind: Kind, raw: &[u8]) -> Result<()> {
                match kind {
                    Kind::ClientRegistrationState => parse(
                        "client registration state",
                        raw,
                        client_registration_state_len(),
                        ClientRegistration::<Cs>::deserialize,
                    )
                    .map(drop),
                    Kind::ClientLoginState => parse(
                        "client login state",
                        raw,
                        client_login_state_len(),
                        ClientLogin::<Cs>::deserialize,
                    )
                    .map(drop),
                    Kind::ServerLoginState => parse(
                        "server login state",
                        raw,
                        server_login_state_len(),
                        ServerLogin::<Cs>::deserialize,
                    )
                    .map(drop),
                    Kind::ServerSetup => setup_parse(raw).map(drop),
                    Kind::ServerRegistration => record_parse(raw).map(drop),
                }
            }

            pub(crate) fn client_registration_start(
                rng: &mut dyn CryptoRngCore,
                password: &[u8],
            ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>)> {
                let start = ClientRegistration::<Cs>::start(&mut &mut *rng, password)?;
                let mut state = start.state.serialize();
                Ok((start.message.serialize().to_vec(), take_secret(&mut state)))
            }

            pub(crate) fn server_registration_start(
                setup: &Setup,
                request: &[u8],
                credential_identifier: &[u8],
            ) -> Result<Vec<u8>> {
                let request = parse(
                    "registration request",
                    request,
                    serialized_len(RegistrationRequest::<Cs>::serialize),
                    RegistrationRequest::<Cs>::deserialize,
                )?;
                let start = ServerRegistration::<Cs>::start(setup, request, credential_identifier)?;
                Ok(start.message.serialize().to_vec())
            }

            pub(crate) fn client_registration_finish(
                rng: &mut dyn CryptoRngCore,
                state: &[u8],
                password: &[u8],
                response: &[u8],
                params: &ClientParams,
            ) -> Result<RegistrationResult> {
                let state = parse(
                    "client registration state",
                    state,
                    client_registration_state_len(),
                    ClientRegistration::<Cs>::deserialize,
                )?;
                let response = parse(
                    "registration response",
                    response,
                    serialized_len(RegistrationResponse::<Cs>::serialize),
                    RegistrationResponse::<Cs>::deserialize,
                )?;
                let ksf = params.key_stretching.build()?;
                let mut finish = state.finish(
                    &mut &mut *rng,
                    password,
                    response,
                    ClientRegistrationFinishParameters::new(params.identifiers.get(), Some(&ksf)),
                )?;
                let server_public_key = finish.server_s_pk.serialize().to_vec();
                params.check_pin(&server_public_key)?;
                Ok(RegistrationResult {
                    upload: finish.message.serialize().to_vec(),
                    export_key: take_secret(&mut finish.export_key),
                    server_public_key,
                })
            }

            pub(crate) fn client_login_start(
                rng: &mut dyn CryptoRngCore,
                password: &[u8],
            ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>)> {
                let start = ClientLogin::<Cs>::start(&mut &mut *rng, password)?;
                let mut state = start.state.serialize();
                Ok((start.message.serialize().to_vec(), take_secret(&mut state)))
            }

            pub(crate) fn server_login_start(
                rng: &mut dyn CryptoRngCore,
                setup: &Setup,
                record: Option<&(dyn core::any::Any + Send + Sync)>,
                request: &[u8],
                credential_identifier: &[u8],
                params: &ServerParams,
            ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>)> {
                let record = record
                    .map(|r| {
                        r.downcast_ref::<ServerRegistration<Cs>>()
                            .cloned()
                            .ok_or_else(|| {
                                Error::serialization("registration record of another suite")
                            })
                    })
                    .transpose()?;
                let request = parse(
                    "credential request",
                    request,
                    serialized_len(CredentialRequest::<Cs>::serialize),
                    CredentialRequest::<Cs>::deserialize,
                )?;
                let start = ServerLogin::start(
                    &mut &mut *rng,
                    setup,
                    record,
                    request,
                    credential_identifier,
                    ServerLoginParameters {
                        context: params.context,
                        identifiers: params.identifiers.get(),
                    },
                )?;
                let mut state = start.state.serialize();
                Ok((start.message.serialize().to_vec(), take_secret(&mut state)))
            }

            pub(crate) fn client_login_finish(
                rng: &mut dyn CryptoRngCore,
                state: &[u8],
                password: &[u8],
                response: &[u8],
                params: &ClientParams,
            ) -> Result<LoginResult> {
                let state = parse(
                    "client login state",
                    state,
                    client_login_state_len(),
                    ClientLogin::<Cs>::deserialize,
                )?;
                let response = parse(
                    "credential response",
                    response,
                    serialized_len(CredentialResponse::<Cs>::serialize),
                    CredentialResponse::<Cs>::deserialize,
                )?;
                let ksf = params.key_stretching.build()?;
                let mut finish = state.finish(
                    &mut &mut *rng,
                    password,
                    response,
                    ClientLoginFinishParameters::new(
                        params.context,
                        params.identifiers.get(),
                        Some(&ksf),
                    ),
                )?;
                let server_public_key = finish.server_s_pk.serialize().to_vec();
                params.check_pin(&server_public_key)?;
                Ok(LoginResult {
                    finalization: finish.message.serialize().to_vec(),
                    session_key: take_secret(&mut finish.session_key),
                    export_key: take_secret(&mut finish.export_key),
                    server_public_key,
                })
            }

            pub(crate) fn server_login_finish(
                state: &[u8],
                finalization: &[u8],
                params: &ServerParams,
            ) -> Result<Zeroizing<Vec<u8>>> {
                let state = parse(
                    "server login state",
                    state,
                    server_login_state_len(),
                    ServerLogin::<Cs>::deserialize,
                )?;
                let finalization = parse(
                    "credential finalization",
                    finalization,
                    serialized_len(CredentialFinalization::<Cs>::serialize),
                    CredentialFinalization::<Cs>::deserialize,
                )?;
                let mut finish = state.finish(
                    finalization,
                    ServerLoginParameters {
                        context: params.context,
                        identifiers: params.identifiers.get(),
                    },
                )?;
                Ok(take_secret(&mut finish.session_key))
            }
        }
    };
}

suite_ops!(
    ristretto255_sha512,
    crate::cipher_suites::Ristretto255Sha512
);
suite_ops!(p256_sha256, crate::cipher_suites::P256Sha256);
suite_ops!(p384_sha384, crate::cipher_suites::P384Sha384);
suite_ops!(p521_sha512, crate::cipher_suites::P521Sha512);
suite_ops!(
    ml_kem_768_ristretto255_sha512,
    crate::cipher_suites::MlKem768Ristretto255Sha512
);

/// Runs `$body` with `$m` bound to the operations module of `$suite`.
macro_rules! by_suite {
    ($suite:expr, $m:ident => $body:expr) => {
        match $suite {
            $crate::Suite::Ristretto255Sha512 => {
                use $crate::ops::ristretto255_sha512 as $m;
                $body
            }
            $crate::Suite::P256Sha256 => {
                use $crate::ops::p256_sha256 as $m;
                $body
            }
            $crate::Suite::P384Sha384 => {
                use $crate::ops::p384_sha384 as $m;
                $body
            }
            $crate::Suite::P521Sha512 => {
                use $crate::ops::p521_sha512 as $m;
                $body
            }
            $crate::Suite::MlKem768Ristretto255Sha512 => {
                use $crate::ops::ml_kem_768_ristretto255_sha512 as $m;
                $body
            }
        }
    };
}
pub(crate) use by_suite;
