#![allow(dead_code)]

use keyward_opaque::{
    client, ClientParams, KeyStretching, LoginResult, ProtocolState, ServerParams,
    ServerRegistration, ServerSetup, Suite,
};
use rand_core::OsRng;

pub const FAST: KeyStretching = KeyStretching::Custom {
    iterations: 1,
    memory: 64,
    parallelism: 1,
};

pub fn fast() -> ClientParams<'static> {
    ClientParams {
        key_stretching: FAST,
        ..Default::default()
    }
}

pub fn register(
    setup: &ServerSetup,
    user: &[u8],
    password: &[u8],
    params: &ClientParams,
) -> (ServerRegistration, Vec<u8>) {
    let suite = setup.suite();
    let (request, state) = client::registration_start(suite, &mut OsRng, password).unwrap();
    let response = setup.registration_response(&request, user).unwrap();
    let done = client::registration_finish(state, &mut OsRng, password, &response, params).unwrap();
    (
        ServerRegistration::from_upload(suite, &done.upload).unwrap(),
        done.export_key.to_vec(),
    )
}

/// Runs a login up to the client's finish; returns the server state and the client's result.
pub fn login(
    setup: &ServerSetup,
    record: Option<&ServerRegistration>,
    user: &[u8],
    password: &[u8],
    client_params: &ClientParams,
    server_params: &ServerParams,
) -> (ProtocolState, keyward_opaque::Result<LoginResult>) {
    let (request, state) = client::login_start(setup.suite(), &mut OsRng, password).unwrap();
    let (response, server_state) = setup
        .login_start(&mut OsRng, record, &request, user, server_params)
        .unwrap();
    let result = client::login_finish(state, &mut OsRng, password, &response, client_params);
    (server_state, result)
}

pub fn all_suites() -> [Suite; 5] {
    Suite::ALL
}
