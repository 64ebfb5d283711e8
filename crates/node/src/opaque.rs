//! OPAQUE exports: the server setup and record classes and the flow functions.

use keyward_opaque::{client, server_login_finish, LoginResult, RegistrationResult};
use napi::bindgen_prelude::AsyncTask;

use crate::owned::Uint8Array;
use napi::{Env, Task};
use napi_derive::napi;
use rand_core::OsRng;
use zeroize::Zeroizing;

use crate::convert::{
    bytes, guard, secret, secret_out, suite, to_js, ClientParamsInput, OwnedParams,
    ServerParamsInput,
};
use crate::states::{ClientLoginState, ClientRegistrationState, ServerLoginState};

fn disposed() -> napi::Error {
    to_js(keyward_opaque::Error::InvalidState(
        "this server setup was disposed",
    ))
}

#[napi]
pub struct ServerSetup {
    inner: Option<keyward_opaque::ServerSetup>,
}

#[napi]
impl ServerSetup {
    #[napi(factory)]
    pub fn generate(suite_name: Option<String>) -> napi::Result<Self> {
        let s = suite(suite_name)?;
        guard(|| keyward_opaque::Result::Ok(keyward_opaque::ServerSetup::generate(s, &mut OsRng)))
            .map(|inner| Self { inner: Some(inner) })
    }

    #[napi(factory)]
    pub fn deserialize(bytes: &[u8]) -> napi::Result<Self> {
        guard(|| keyward_opaque::ServerSetup::deserialize(bytes)).map(|i| Self { inner: Some(i) })
    }

    #[napi(factory)]
    pub fn from_raw(suite_name: String, raw: &[u8]) -> napi::Result<Self> {
        let s = suite(Some(suite_name))?;
        guard(|| keyward_opaque::ServerSetup::from_raw(s, raw)).map(|i| Self { inner: Some(i) })
    }

    fn get(&self) -> napi::Result<&keyward_opaque::ServerSetup> {
        self.inner.as_ref().ok_or_else(disposed)
    }

    #[napi]
    pub fn serialize(&self) -> napi::Result<Uint8Array> {
        Ok(secret_out(self.get()?.serialize()))
    }

    #[napi]
    pub fn serialize_raw(&self) -> napi::Result<Uint8Array> {
        Ok(secret_out(self.get()?.serialize_raw()))
    }

    #[napi(getter)]
    pub fn public_key(&self) -> napi::Result<Uint8Array> {
        Ok(bytes(self.get()?.public_key()))
    }

    #[napi(getter)]
    pub fn suite(&self) -> napi::Result<&'static str> {
        Ok(self.get()?.suite().name())
    }

    #[napi]
    pub fn registration_response(
        &self,
        request: &[u8],
        credential_identifier: &[u8],
    ) -> napi::Result<Uint8Array> {
        let setup = self.get()?;
        guard(|| setup.registration_response(request, credential_identifier)).map(bytes)
    }

    #[napi]
    pub fn login_start(
        &self,
        record: Option<&ServerRegistration>,
        request: &[u8],
        credential_identifier: &[u8],
        params: Option<ServerParamsInput>,
    ) -> napi::Result<ServerLoginStart> {
        let setup = self.get()?;
        let params = OwnedParams::server(params);
        let (response, state) = guard(|| {
            setup.login_start(
                &mut OsRng,
                record.map(|r| &r.inner),
                request,
                credential_identifier,
                &params.as_server(),
            )
        })?;
        Ok(ServerLoginStart {
            response: bytes(response),
            state: ServerLoginState { inner: state },
        })
    }

    #[napi]
    pub fn dispose(&mut self) {
        self.inner = None;
    }
}

#[napi(object, object_from_js = false)]
pub struct ServerLoginStart {
    pub response: Uint8Array,
    pub state: ServerLoginState,
}

#[napi]
pub struct ServerRegistration {
    inner: keyward_opaque::ServerRegistration,
}

#[napi]
impl ServerRegistration {
    #[napi(factory)]
    pub fn from_upload(suite_name: String, upload: &[u8]) -> napi::Result<Self> {
        let s = suite(Some(suite_name))?;
        guard(|| keyward_opaque::ServerRegistration::from_upload(s, upload))
            .map(|inner| Self { inner })
    }

    #[napi(factory)]
    pub fn from_raw(suite_name: String, raw: &[u8]) -> napi::Result<Self> {
        let s = suite(Some(suite_name))?;
        guard(|| keyward_opaque::ServerRegistration::from_raw(s, raw)).map(|inner| Self { inner })
    }

    #[napi(factory)]
    pub fn deserialize(bytes: &[u8]) -> napi::Result<Self> {
        guard(|| keyward_opaque::ServerRegistration::deserialize(bytes)).map(|inner| Self { inner })
    }

    #[napi]
    pub fn serialize(&self) -> Uint8Array {
        bytes(self.inner.serialize())
    }

    #[napi]
    pub fn serialize_raw(&self) -> Uint8Array {
        bytes(self.inner.raw().to_vec())
    }

    #[napi(getter)]
    pub fn suite(&self) -> &'static str {
        self.inner.suite().name()
    }
}

#[napi(object, object_from_js = false)]
pub struct ClientRegistrationStart {
    pub request: Uint8Array,
    pub state: ClientRegistrationState,
}

#[napi(object, object_from_js = false)]
pub struct ClientLoginStart {
    pub request: Uint8Array,
    pub state: ClientLoginState,
}

#[napi]
pub fn client_registration_start(
    suite_name: Option<String>,
    password: &[u8],
) -> napi::Result<ClientRegistrationStart> {
    let s = suite(suite_name)?;
    let password = secret(password);
    let (request, state) = guard(|| client::registration_start(s, &mut OsRng, &password))?;
    Ok(ClientRegistrationStart {
        request: bytes(request),
        state: ClientRegistrationState { inner: state },
    })
}

#[napi]
pub fn client_login_start(
    suite_name: Option<String>,
    password: &[u8],
) -> napi::Result<ClientLoginStart> {
    let s = suite(suite_name)?;
    let password = secret(password);
    let (request, state) = guard(|| client::login_start(s, &mut OsRng, &password))?;
    Ok(ClientLoginStart {
        request: bytes(request),
        state: ClientLoginState { inner: state },
    })
}

#[napi(object, object_from_js = false)]
pub struct ClientRegistrationFinish {
    pub upload: Uint8Array,
    pub export_key: Uint8Array,
    pub server_public_key: Uint8Array,
}

#[napi(object, object_from_js = false)]
pub struct ClientLoginFinish {
    pub finalization: Uint8Array,
    pub session_key: Uint8Array,
    pub export_key: Uint8Array,
    pub server_public_key: Uint8Array,
}

fn registration_out(r: RegistrationResult) -> ClientRegistrationFinish {
    ClientRegistrationFinish {
        upload: bytes(r.upload),
        export_key: secret_out(r.export_key),
        server_public_key: bytes(r.server_public_key),
    }
}

fn login_out(r: LoginResult) -> ClientLoginFinish {
    ClientLoginFinish {
        finalization: bytes(r.finalization),
        session_key: secret_out(r.session_key),
        export_key: secret_out(r.export_key),
        server_public_key: bytes(r.server_public_key),
    }
}

/// Everything a client finish needs, owned, so it can run on a worker thread.
pub struct ClientFinish {
    state: Option<keyward_opaque::ProtocolState>,
    password: Zeroizing<Vec<u8>>,
    response: Vec<u8>,
    params: OwnedParams,
}

impl ClientFinish {
    fn new(
        state: keyward_opaque::ProtocolState,
        password: &[u8],
        response: &[u8],
        params: Option<ClientParamsInput>,
    ) -> napi::Result<Self> {
        Ok(ClientFinish {
            state: Some(state),
            password: secret(password),
            response: response.to_vec(),
            params: OwnedParams::client(params)?,
        })
    }

    fn state(&mut self) -> keyward_opaque::Result<keyward_opaque::ProtocolState> {
        self.state
            .take()
            .ok_or(keyward_opaque::Error::InvalidState("this task already ran"))
    }

    fn registration(&mut self) -> napi::Result<RegistrationResult> {
        guard(|| {
            let state = self.state()?;
            client::registration_finish(
                state,
                &mut OsRng,
                &self.password,
                &self.response,
                &self.params.as_client(),
            )
        })
    }

    fn login(&mut self) -> napi::Result<LoginResult> {
        guard(|| {
            let state = self.state()?;
            client::login_finish(
                state,
                &mut OsRng,
                &self.password,
                &self.response,
                &self.params.as_client(),
            )
        })
    }
}

pub struct RegistrationFinishTask(ClientFinish);

impl Task for RegistrationFinishTask {
    type Output = RegistrationResult;
    type JsValue = ClientRegistrationFinish;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        crate::workers::on_workers(|| self.0.registration())
    }

    fn resolve(&mut self, _: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(registration_out(output))
    }
}

pub struct LoginFinishTask(ClientFinish);

impl Task for LoginFinishTask {
    type Output = LoginResult;
    type JsValue = ClientLoginFinish;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        crate::workers::on_workers(|| self.0.login())
    }

    fn resolve(&mut self, _: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(login_out(output))
    }
}

/// Runs Argon2 on the libuv pool. The state is spent as soon as this is called.
#[napi(ts_return_type = "Promise<ClientRegistrationFinish>")]
pub fn client_registration_finish(
    state: &mut ClientRegistrationState,
    password: &[u8],
    response: &[u8],
    params: Option<ClientParamsInput>,
) -> napi::Result<AsyncTask<RegistrationFinishTask>> {
    let finish = ClientFinish::new(state.take()?, password, response, params)?;
    Ok(AsyncTask::new(RegistrationFinishTask(finish)))
}

#[napi]
pub fn client_registration_finish_sync(
    state: &mut ClientRegistrationState,
    password: &[u8],
    response: &[u8],
    params: Option<ClientParamsInput>,
) -> napi::Result<ClientRegistrationFinish> {
    let mut finish = ClientFinish::new(state.take()?, password, response, params)?;
    finish.registration().map(registration_out)
}

/// Runs Argon2 on the libuv pool. The state is spent as soon as this is called.
#[napi(ts_return_type = "Promise<ClientLoginFinish>")]
pub fn client_login_finish(
    state: &mut ClientLoginState,
    password: &[u8],
    response: &[u8],
    params: Option<ClientParamsInput>,
) -> napi::Result<AsyncTask<LoginFinishTask>> {
    let finish = ClientFinish::new(state.take()?, password, response, params)?;
    Ok(AsyncTask::new(LoginFinishTask(finish)))
}

#[napi]
pub fn client_login_finish_sync(
    state: &mut ClientLoginState,
    password: &[u8],
    response: &[u8],
    params: Option<ClientParamsInput>,
) -> napi::Result<ClientLoginFinish> {
    let mut finish = ClientFinish::new(state.take()?, password, response, params)?;
    finish.login().map(login_out)
}

#[napi]
pub fn server_login_finish_native(
    state: &mut ServerLoginState,
    finalization: &[u8],
    params: Option<ServerParamsInput>,
) -> napi::Result<Uint8Array> {
    let taken = state.take()?;
    let params = OwnedParams::server(params);
    guard(|| server_login_finish(taken, finalization, &params.as_server())).map(secret_out)
}
