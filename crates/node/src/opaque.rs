//! OPAQUE: the server setup, the password file, the single-use protocol
//! states, and the flows. Client finishes run Argon2, so they are `blocking`.

use keyward_opaque::{client, ClientParams, KeyStretching, OwnedParams};
use keyward_opaque::{Kind, LoginResult, ProtocolState, RegistrationResult};
use napi::bindgen_prelude::{AsyncTask, Uint8Array};
use napi::Env;
use napi_derive::napi;
use rand_core::OsRng;
use zeroize::Zeroizing;

use crate::errors::{guard, Failure, Result};
use crate::handles::live_class;
use crate::names::{KeyStretchingPreset, Suite};
use crate::owned;
use crate::workers::{blocking, now, twins, Blocking};

#[napi(object)]
pub struct IdentifiersInput {
    pub client: Option<Uint8Array>,
    pub server: Option<Uint8Array>,
}

/// A preset, or all three Argon2id costs.
#[napi(object)]
pub struct KeyStretchingInput {
    pub preset: Option<KeyStretchingPreset>,
    // Numbers as JavaScript gives them: a u32 here would wrap 2^32 + 1 to 1
    // before the core could see it. The core checks the range.
    pub iterations: Option<f64>,
    pub memory: Option<f64>,
    pub parallelism: Option<f64>,
}

/// The client's parameters; the server's are the first two.
#[napi(object)]
pub struct ParamsInput {
    pub identifiers: Option<IdentifiersInput>,
    pub context: Option<Uint8Array>,
    pub key_stretching: Option<KeyStretchingInput>,
    pub server_public_key: Option<Uint8Array>,
}

fn copy(bytes: &Option<Uint8Array>) -> Option<Vec<u8>> {
    bytes.as_ref().map(|b| b.to_vec())
}

/// The parameters copied out of JavaScript, so they can cross to a worker.
fn owned_params(input: Option<ParamsInput>) -> Result<OwnedParams, Failure> {
    let Some(p) = input else { return Ok(OwnedParams::default()) };
    let (ids, ks) = (p.identifiers.as_ref(), p.key_stretching);
    let key_stretching = match ks {
        None => KeyStretching::default(),
        Some(k) => KeyStretching::preset_or_numbers(k.preset.map(Into::into), k.iterations, k.memory, k.parallelism)?,
    };
    Ok(OwnedParams {
        client_id: ids.and_then(|i| copy(&i.client)),
        server_id: ids.and_then(|i| copy(&i.server)),
        context: copy(&p.context),
        key_stretching,
        server_public_key: copy(&p.server_public_key),
    })
}

live_class!(ServerSetup(keyward_opaque::ServerSetup, "this server setup was disposed"));

#[napi]
impl ServerSetup {
    #[napi(factory)]
    pub fn generate(suite: Option<Suite>) -> Result<Self> {
        let suite = suite.map_or_else(Default::default, Into::into);
        let setup = guard(|| Ok::<_, Failure>(keyward_opaque::ServerSetup::generate(suite, &mut OsRng)));
        setup.map(Self::wrap)
    }

    #[napi(factory)]
    pub fn deserialize(bytes: &[u8]) -> Result<Self> {
        guard(|| keyward_opaque::ServerSetup::deserialize(bytes)).map(Self::wrap)
    }

    #[napi(factory)]
    pub fn from_raw(suite: Suite, raw: &[u8]) -> Result<Self> {
        guard(|| keyward_opaque::ServerSetup::from_raw(suite.into(), raw)).map(Self::wrap)
    }

    #[napi]
    pub fn serialize(&self, raw: bool) -> Result<owned::Uint8Array> {
        let setup = self.inner.get()?;
        Ok(if raw { setup.serialize_raw() } else { setup.serialize() }.into())
    }

    #[napi(getter)]
    pub fn public_key(&self) -> Result<owned::Uint8Array> {
        Ok(self.inner.get()?.public_key().into())
    }

    #[napi(getter)]
    pub fn suite(&self) -> Result<Suite> {
        Ok(self.inner.get()?.suite().into())
    }

    #[napi]
    pub fn registration_response(&self, request: &[u8], id: &[u8]) -> Result<owned::Uint8Array> {
        let setup = self.inner.get()?;
        guard(|| setup.registration_response(request, id)).map(Into::into)
    }

    #[napi]
    pub fn login_start(
        &self,
        record: Option<&ServerRegistration>,
        request: &[u8],
        id: &[u8],
        params: Option<ParamsInput>,
    ) -> Result<ServerLoginStart> {
        let (setup, params) = (self.inner.get()?, owned_params(params)?);
        let record = record.map(|r| &r.inner);
        let (response, state) = guard(|| setup.login_start(&mut OsRng, record, request, id, &params.server()))?;
        Ok(ServerLoginStart { response: response.into(), state: ServerLoginState { inner: state } })
    }
}

/// The password file.
#[napi]
pub struct ServerRegistration {
    inner: keyward_opaque::ServerRegistration,
}

#[napi]
impl ServerRegistration {
    #[napi(factory)]
    pub fn from_upload(suite: Suite, upload: &[u8]) -> Result<Self> {
        let inner = guard(|| keyward_opaque::ServerRegistration::from_upload(suite.into(), upload))?;
        Ok(Self { inner })
    }

    #[napi(factory)]
    pub fn from_raw(suite: Suite, raw: &[u8]) -> Result<Self> {
        let inner = guard(|| keyward_opaque::ServerRegistration::from_raw(suite.into(), raw))?;
        Ok(Self { inner })
    }

    #[napi(factory)]
    pub fn deserialize(bytes: &[u8]) -> Result<Self> {
        guard(|| keyward_opaque::ServerRegistration::deserialize(bytes)).map(|inner| Self { inner })
    }

    #[napi]
    pub fn serialize(&self, raw: bool) -> owned::Uint8Array {
        if raw {
            self.inner.raw().into()
        } else {
            self.inner.serialize().into()
        }
    }

    #[napi(getter)]
    pub fn suite(&self) -> Suite {
        self.inner.suite().into()
    }
}

/// The three single-use states, one class each so a state cannot be passed
/// to the wrong step.
macro_rules! state_class {
    ($class:ident, $kind:expr) => {
        #[napi]
        pub struct $class {
            inner: ProtocolState,
        }

        #[napi]
        impl $class {
            #[napi(factory)]
            pub fn deserialize(bytes: &[u8]) -> Result<Self> {
                guard(|| ProtocolState::deserialize($kind, bytes)).map(|inner| Self { inner })
            }

            #[napi(factory)]
            pub fn from_raw(suite: Suite, raw: &[u8]) -> Result<Self> {
                guard(|| ProtocolState::from_raw($kind, suite.into(), raw)).map(|inner| Self { inner })
            }

            /// Copies the state out. Whoever holds these bytes can finish the flow.
            #[napi]
            pub fn serialize(&self, raw: bool) -> Result<owned::Uint8Array> {
                let state = &self.inner;
                guard(|| if raw { state.serialize_raw() } else { state.serialize() }).map(Into::into)
            }

            #[napi(getter)]
            pub fn suite(&self) -> Suite {
                self.inner.suite().into()
            }

            #[napi(getter)]
            pub fn is_spent(&self) -> bool {
                self.inner.is_spent()
            }

            #[napi]
            pub fn dispose(&mut self) {
                self.inner.dispose();
            }
        }
    };
}

state_class!(ClientRegistrationState, Kind::ClientRegistrationState);
state_class!(ClientLoginState, Kind::ClientLoginState);
state_class!(ServerLoginState, Kind::ServerLoginState);

#[napi(object, object_from_js = false)]
pub struct ServerLoginStart {
    pub response: owned::Uint8Array,
    pub state: ServerLoginState,
}

#[napi(object, object_from_js = false)]
pub struct ClientRegistrationStart {
    pub request: owned::Uint8Array,
    pub state: ClientRegistrationState,
}

#[napi(object, object_from_js = false)]
pub struct ClientLoginStart {
    pub request: owned::Uint8Array,
    pub state: ClientLoginState,
}

#[napi]
pub fn client_registration_start(suite: Option<Suite>, password: &[u8]) -> Result<ClientRegistrationStart> {
    let suite = suite.map_or_else(Default::default, Into::into);
    let (request, inner) = guard(|| client::registration_start(suite, &mut OsRng, password))?;
    Ok(ClientRegistrationStart { request: request.into(), state: ClientRegistrationState { inner } })
}

#[napi]
pub fn client_login_start(suite: Option<Suite>, password: &[u8]) -> Result<ClientLoginStart> {
    let suite = suite.map_or_else(Default::default, Into::into);
    let (request, inner) = guard(|| client::login_start(suite, &mut OsRng, password))?;
    Ok(ClientLoginStart { request: request.into(), state: ClientLoginState { inner } })
}

#[napi(object, object_from_js = false)]
pub struct ClientRegistrationFinish {
    pub upload: owned::Uint8Array,
    pub export_key: owned::Uint8Array,
    pub server_public_key: owned::Uint8Array,
}

#[napi(object, object_from_js = false)]
pub struct ClientLoginFinish {
    pub finalization: owned::Uint8Array,
    pub session_key: owned::Uint8Array,
    pub export_key: owned::Uint8Array,
    pub server_public_key: owned::Uint8Array,
}

type Finish<R> = fn(ProtocolState, &[u8], &[u8], &ClientParams) -> keyward_opaque::Result<R>;

/// A client finish as a job; the state is spent as soon as the call is made,
/// but only once the parameters are accepted: a refused cost leaves it usable.
fn finish<R: 'static>(
    take: impl FnOnce() -> keyward_opaque::Result<ProtocolState>,
    password: &[u8],
    response: &[u8],
    params: Option<ParamsInput>,
    run: Finish<R>,
) -> Result<impl FnOnce() -> Result<R, Failure> + Send + 'static, Failure> {
    let params = owned_params(params)?;
    let state = take()?;
    let (password, response) = (Zeroizing::new(password.to_vec()), response.to_vec());
    Ok(move || Ok(run(state, &password, &response, &params.client())?))
}

fn registration(
    state: ProtocolState,
    password: &[u8],
    response: &[u8],
    params: &ClientParams,
) -> keyward_opaque::Result<ClientRegistrationFinish> {
    let r: RegistrationResult = client::registration_finish(state, &mut OsRng, password, response, params)?;
    Ok(ClientRegistrationFinish {
        upload: r.upload.into(),
        export_key: r.export_key.into(),
        server_public_key: r.server_public_key.into(),
    })
}

fn login(
    state: ProtocolState,
    password: &[u8],
    response: &[u8],
    params: &ClientParams,
) -> keyward_opaque::Result<ClientLoginFinish> {
    let r: LoginResult = client::login_finish(state, &mut OsRng, password, response, params)?;
    Ok(ClientLoginFinish {
        finalization: r.finalization.into(),
        session_key: r.session_key.into(),
        export_key: r.export_key.into(),
        server_public_key: r.server_public_key.into(),
    })
}

twins!(
    #[doc = " Runs Argon2 on the low-priority workers."]
    true, client_registration_finish / client_registration_finish_sync
    (state: &mut ClientRegistrationState, password: &[u8], response: &[u8], params: Option<ParamsInput>)
    -> "Promise<ClientRegistrationFinish>" ClientRegistrationFinish
    = finish(|| state.inner.take(), password, response, params, registration)
);

twins!(
    #[doc = " Runs Argon2 on the low-priority workers."]
    true, client_login_finish / client_login_finish_sync
    (state: &mut ClientLoginState, password: &[u8], response: &[u8], params: Option<ParamsInput>)
    -> "Promise<ClientLoginFinish>" ClientLoginFinish
    = finish(|| state.inner.take(), password, response, params, login)
);

#[napi]
pub fn server_login_finish(
    state: &mut ServerLoginState,
    finalization: &[u8],
    params: Option<ParamsInput>,
) -> Result<owned::Uint8Array> {
    // The parameters first: a refused cost leaves the state usable.
    let params = owned_params(params)?;
    let state = guard(|| state.inner.take())?;
    guard(|| keyward_opaque::server_login_finish(state, finalization, &params.server())).map(Into::into)
}
