//! Byte-level OPAQUE operations, instantiated once per suite of the list in
//! `suite.rs`, and the dispatch from a run-time [`Suite`] to them.
//!
//! opaque-ke's generic bounds are long typenum expressions; instantiating the
//! same body per concrete suite with a macro keeps them out of our code. Every
//! parse checks the exact length first, because opaque-ke accepts trailing
//! bytes, and then that the value encodes back to the same bytes, because
//! opaque-ke accepts a second encoding of NIST-curve points (`canonical`).

use generic_array::{ArrayLength, GenericArray};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};
use crate::suite::{with_suites, Suite};

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

/// Decodes `bytes` after checking they are exactly `expected` long.
pub(crate) fn parse<T, E>(
    what: &'static str,
    bytes: &[u8],
    expected: usize,
    decode: fn(&[u8]) -> core::result::Result<T, opaque_ke::errors::ProtocolError<E>>,
) -> Result<T> {
    check_len(what, bytes, expected)?;
    decode(bytes).map_err(|e| Error::decoding(what, e))
}

/// Refuses bytes that decode but are not what the decoded value encodes to.
/// opaque-ke's NIST-curve points accept SEC1's compact form (tag 0x05, x
/// only) beside the compressed one, so a P-256 KE1 with its ephemeral key's
/// tag changed to 0x05 still logged in when the key's y was the smaller
/// one: one message, two encodings. Found by a round-trip property
/// (issue 13); `tests/failures.rs` holds it. Constant time: states and
/// setups hold secrets.
pub(crate) fn canonical(what: &'static str, bytes: &[u8], mut again: Vec<u8>) -> Result<()> {
    let same = bool::from(subtle::ConstantTimeEq::ct_eq(bytes, again.as_slice()));
    again.zeroize();
    if same {
        Ok(())
    } else {
        Err(Error::Serialization(format!(
            "{what} is not in its canonical encoding"
        )))
    }
}

/// Parses `$bytes` as a `$ty` of exactly its serialized length, in its one
/// canonical encoding.
macro_rules! parse_exact {
    ($what:literal, $bytes:expr, $ty:ty $(,)?) => {
        $crate::ops::parse(
            $what,
            $bytes,
            $crate::ops::serialized_len(<$ty>::serialize),
            <$ty>::deserialize,
        )
        .and_then(|value| {
            $crate::ops::canonical($what, $bytes, value.serialize().to_vec()).map(|()| value)
        })
    };
}

/// Copies a secret out of an opaque-ke result and wipes the original.
pub(crate) fn take_secret(bytes: &mut [u8]) -> Zeroizing<Vec<u8>> {
    let out = Zeroizing::new(bytes.to_vec());
    bytes.zeroize();
    out
}

/// A start's message to send and its state to keep, as bytes; the state is wiped.
pub(crate) fn message_and_state<M: ArrayLength<u8>, S: ArrayLength<u8>>(
    message: GenericArray<u8, M>,
    mut state: GenericArray<u8, S>,
) -> (Vec<u8>, Zeroizing<Vec<u8>>) {
    (message.to_vec(), take_secret(&mut state))
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

/// A kind of parsed opaque-ke object, one type per cipher suite.
pub(crate) trait Form {
    type Of<Cs: opaque_ke::CipherSuite>;
}

/// A parsed `opaque_ke::ServerSetup`: kept parsed so a login does not re-derive keys.
pub(crate) struct SetupForm;
impl Form for SetupForm {
    type Of<Cs: opaque_ke::CipherSuite> = Box<opaque_ke::ServerSetup<Cs>>;
}

/// A parsed `opaque_ke::ServerRegistration`: kept parsed so a login does not parse it again.
pub(crate) struct RecordForm;
impl Form for RecordForm {
    type Of<Cs: opaque_ke::CipherSuite> = opaque_ke::ServerRegistration<Cs>;
}

/// Expands the list into one module of operations per suite (named after its
/// [`Suite`] variant) and [`Parsed`], the typed enum over the suites.
macro_rules! suite_ops {
    ([$($(#[$attr:meta])* $suite:ident = $id:literal {
        name: $name:literal,
        oprf: $oprf:ty,
        key_exchange: $ke:ty $(,)?
    })*]) => {
        /// A parsed object of one suite; the variant says which.
        pub(crate) enum Parsed<F: Form> {
            $($suite(F::Of<$suite::Cs>),)*
        }

        impl<F: Form> Parsed<F> {
            pub(crate) fn suite(&self) -> Suite {
                match self {
                    $(Parsed::$suite(_) => Suite::$suite,)*
                }
            }
        }

        $(
        #[allow(non_snake_case)] // named after its `Suite` variant, so the list names it once
        pub(crate) mod $suite {
            use opaque_ke::{
                ClientLogin, ClientLoginFinishParameters, ClientRegistration,
                ClientRegistrationFinishParameters, CredentialFinalization, CredentialRequest,
                CredentialResponse, RegistrationRequest, RegistrationResponse, ServerLogin,
                ServerLoginParameters, ServerRegistration,
            };
            use rand_core::CryptoRngCore;
            use zeroize::Zeroizing;

            use super::{
                message_and_state, take_secret, Form, LoginResult, Parsed, RegistrationResult,
            };
            use crate::envelope::Kind;
            use crate::error::Result;
            use crate::params::{ClientParams, ServerParams};

            pub(crate) struct Cs;
            impl opaque_ke::CipherSuite for Cs {
                type OprfCs = $oprf;
                type KeyExchange = $ke;
                type Ksf = crate::ksf::Ksf;
            }

            pub(crate) type Setup = opaque_ke::ServerSetup<Cs>;
            pub(crate) type Record = ServerRegistration<Cs>;

            pub(crate) fn into_parsed<F: Form>(value: F::Of<Cs>) -> Parsed<F> {
                Parsed::$suite(value)
            }

            /// `None` when `parsed` is of another suite.
            pub(crate) fn from_parsed<F: Form>(parsed: &Parsed<F>) -> Option<&F::Of<Cs>> {
                match parsed {
                    Parsed::$suite(value) => Some(value),
                    _ => None,
                }
            }

            pub(crate) fn setup_generate(rng: &mut dyn CryptoRngCore) -> Setup {
                Setup::new(&mut &mut *rng)
            }

            pub(crate) fn setup_parse(raw: &[u8]) -> Result<Setup> {
                parse_exact!("server setup", raw, Setup)
            }

            pub(crate) fn setup_serialize(setup: &Setup) -> Zeroizing<Vec<u8>> {
                let mut bytes = setup.serialize();
                take_secret(&mut bytes)
            }

            pub(crate) fn setup_public_key(setup: &Setup) -> Vec<u8> {
                setup.keypair().public().serialize().to_vec()
            }

            pub(crate) fn record_parse(raw: &[u8]) -> Result<Record> {
                parse_exact!("registration record", raw, Record)
            }

            /// A state is checked by decoding it: points and scalars must be valid.
            pub(crate) fn state_check(kind: Kind, raw: &[u8]) -> Result<()> {
                match kind {
                    Kind::ClientRegistrationState => {
                        parse_exact!("client registration state", raw, ClientRegistration<Cs>)
                            .map(drop)
                    }
                    Kind::ClientLoginState => {
                        parse_exact!("client login state", raw, ClientLogin<Cs>).map(drop)
                    }
                    Kind::ServerLoginState => {
                        parse_exact!("server login state", raw, ServerLogin<Cs>).map(drop)
                    }
                    Kind::ServerSetup => setup_parse(raw).map(drop),
                    Kind::ServerRegistration => record_parse(raw).map(drop),
                }
            }

            pub(crate) fn client_registration_start(
                rng: &mut dyn CryptoRngCore,
                password: &[u8],
            ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>)> {
                let start = ClientRegistration::<Cs>::start(&mut &mut *rng, password)?;
                Ok(message_and_state(start.message.serialize(), start.state.serialize()))
            }

            pub(crate) fn server_registration_start(
                setup: &Setup,
                request: &[u8],
                credential_identifier: &[u8],
            ) -> Result<Vec<u8>> {
                let request = parse_exact!(
                    "registration request",
                    request,
                    RegistrationRequest<Cs>,
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
                let state = parse_exact!(
                    "client registration state",
                    state,
                    ClientRegistration<Cs>,
                )?;
                let response = parse_exact!(
                    "registration response",
                    response,
                    RegistrationResponse<Cs>,
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
                Ok(message_and_state(start.message.serialize(), start.state.serialize()))
            }

            pub(crate) fn server_login_start(
                rng: &mut dyn CryptoRngCore,
                setup: &Setup,
                record: Option<&Record>,
                request: &[u8],
                credential_identifier: &[u8],
                params: &ServerParams,
            ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>)> {
                let request = parse_exact!("credential request", request, CredentialRequest<Cs>)?;
                let start = ServerLogin::start(
                    &mut &mut *rng,
                    setup,
                    record.cloned(),
                    request,
                    credential_identifier,
                    ServerLoginParameters {
                        context: params.context,
                        identifiers: params.identifiers.get(),
                    },
                )?;
                Ok(message_and_state(start.message.serialize(), start.state.serialize()))
            }

            pub(crate) fn client_login_finish(
                rng: &mut dyn CryptoRngCore,
                state: &[u8],
                password: &[u8],
                response: &[u8],
                params: &ClientParams,
            ) -> Result<LoginResult> {
                let state = parse_exact!("client login state", state, ClientLogin<Cs>)?;
                let response = parse_exact!(
                    "credential response",
                    response,
                    CredentialResponse<Cs>,
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
                let state = parse_exact!("server login state", state, ServerLogin<Cs>)?;
                let finalization = parse_exact!(
                    "credential finalization",
                    finalization,
                    CredentialFinalization<Cs>,
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
        )*
    };
}

with_suites!(ops::suite_ops;);
use suite_ops;

/// Matches the list against a `suite` or a `parsed` value; see [`by_suite`] and [`by_parsed`].
macro_rules! dispatch {
    ([$($(#[$attr:meta])* $suite:ident = $id:literal $types:tt)*]
        suite $value:expr, $m:ident => $body:expr) => {
        match $value {
            $($crate::Suite::$suite => {
                use $crate::ops::$suite as $m;
                $body
            })*
        }
    };
    ([$($(#[$attr:meta])* $suite:ident = $id:literal $types:tt)*]
        parsed $value:expr, $m:ident, $x:ident => $body:expr) => {
        match $value {
            $($crate::ops::Parsed::$suite($x) => {
                use $crate::ops::$suite as $m;
                $body
            })*
        }
    };
}
pub(crate) use dispatch;

/// Runs `$body` with `$m` bound to the operations module of `$suite`.
macro_rules! by_suite {
    ($suite:expr, $m:ident => $body:expr) => {
        $crate::suite::with_suites!(ops::dispatch; suite $suite, $m => $body)
    };
}
pub(crate) use by_suite;

/// Runs `$body` with `$x` bound to the value inside a [`Parsed`] and `$m` to
/// the operations of its suite.
macro_rules! by_parsed {
    ($parsed:expr, $m:ident, $x:ident => $body:expr) => {
        $crate::suite::with_suites!(ops::dispatch; parsed $parsed, $m, $x => $body)
    };
}
pub(crate) use by_parsed;
