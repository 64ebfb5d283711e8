//! OPAQUE: every message, state, setup and record of every suite, on the
//! server's side and the client's. Selector: low nibble picks the suite
//! (modulo five), high nibble the operation.

use std::sync::OnceLock;

use keyward_opaque::{
    client, server_login_finish, ClientParams, KeyStretching, Kind, ProtocolState, ServerParams,
    ServerRegistration, ServerSetup, Suite,
};
use rand_core::OsRng;

use crate::{fixtures, seed, split, Outcome};

const USER: &[u8] = b"alice";
const PASSWORD: &[u8] = b"correct horse";
const STATE_KINDS: [Kind; 3] = [
    Kind::ClientRegistrationState,
    Kind::ClientLoginState,
    Kind::ServerLoginState,
];

fn params() -> ClientParams<'static> {
    ClientParams {
        key_stretching: KeyStretching::Custom {
            iterations: 1,
            memory: 64,
            parallelism: 1,
        },
        ..Default::default()
    }
}

/// One suite's complete registration and login, drawn from a seeded RNG:
/// every message a peer can receive, and the states that expect them.
struct Run {
    setup: ServerSetup,
    record: ServerRegistration,
    registration_request: Vec<u8>,
    registration_response: Vec<u8>,
    registration_state: Vec<u8>,
    upload: Vec<u8>,
    login_request: Vec<u8>,
    login_response: Vec<u8>,
    client_login_state: Vec<u8>,
    server_login_state: Vec<u8>,
    finalization: Vec<u8>,
}

fn run_for(index: usize, suite: Suite) -> Run {
    let mut rng = fixtures::rng(index as u64);
    let setup = ServerSetup::generate(suite, &mut rng);
    let (registration_request, state) =
        client::registration_start(suite, &mut rng, PASSWORD).unwrap();
    let registration_state = state.serialize().unwrap().to_vec();
    let registration_response = setup
        .registration_response(&registration_request, USER)
        .unwrap();
    let done =
        client::registration_finish(state, &mut rng, PASSWORD, &registration_response, &params())
            .unwrap();
    let record = ServerRegistration::from_upload(suite, &done.upload).unwrap();
    let (login_request, state) = client::login_start(suite, &mut rng, PASSWORD).unwrap();
    let client_login_state = state.serialize().unwrap().to_vec();
    let (login_response, server_state) = setup
        .login_start(
            &mut rng,
            Some(&record),
            &login_request,
            USER,
            &ServerParams::default(),
        )
        .unwrap();
    let server_login_state = server_state.serialize().unwrap().to_vec();
    let result =
        client::login_finish(state, &mut rng, PASSWORD, &login_response, &params()).unwrap();
    Run {
        setup,
        record,
        registration_request,
        registration_response,
        registration_state,
        upload: done.upload.to_vec(),
        login_request,
        login_response,
        client_login_state,
        server_login_state,
        finalization: result.finalization.to_vec(),
    }
}

fn runs() -> &'static [Run] {
    static RUNS: OnceLock<Vec<Run>> = OnceLock::new();
    RUNS.get_or_init(|| {
        Suite::ALL
            .iter()
            .enumerate()
            .map(|(i, s)| run_for(i, *s))
            .collect()
    })
}

fn state(kind: Kind, bytes: &[u8]) -> ProtocolState {
    ProtocolState::deserialize(kind, bytes).expect("a fixture state")
}

pub fn run(data: &[u8]) -> Outcome {
    let Some((selector, bytes)) = split(data) else {
        return Outcome::Refused;
    };
    let index = usize::from(selector & 0x0f) % Suite::ALL.len();
    let (suite, r) = (Suite::ALL[index], &runs()[index]);
    match selector >> 4 {
        0 => ServerSetup::deserialize(bytes)
            .inspect(|s| assert_eq!(&s.serialize()[..], bytes, "server setups are canonical"))
            .into(),
        1 => ServerRegistration::deserialize(bytes)
            .inspect(|s| assert_eq!(s.serialize(), bytes, "records are canonical"))
            .into(),
        2 => STATE_KINDS
            .iter()
            .map(|k| Outcome::from(ProtocolState::deserialize(*k, bytes)))
            .find(|o| *o == Outcome::Accepted)
            .unwrap_or(Outcome::Refused),
        3 => r.setup.registration_response(bytes, USER).into(),
        4 => ServerRegistration::from_upload(suite, bytes).into(),
        5 => r
            .setup
            .login_start(
                &mut OsRng,
                Some(&r.record),
                bytes,
                USER,
                &ServerParams::default(),
            )
            .into(),
        6 => server_login_finish(
            state(Kind::ServerLoginState, &r.server_login_state),
            bytes,
            &ServerParams::default(),
        )
        .into(),
        7 => client::registration_finish(
            state(Kind::ClientRegistrationState, &r.registration_state),
            &mut OsRng,
            PASSWORD,
            bytes,
            &params(),
        )
        .into(),
        8 => client::login_finish(
            state(Kind::ClientLoginState, &r.client_login_state),
            &mut OsRng,
            PASSWORD,
            bytes,
            &params(),
        )
        .into(),
        9 => ServerSetup::from_raw(suite, bytes).into(),
        10 => ServerRegistration::from_raw(suite, bytes).into(),
        11 => STATE_KINDS
            .iter()
            .map(|k| Outcome::from(ProtocolState::from_raw(*k, suite, bytes)))
            .find(|o| *o == Outcome::Accepted)
            .unwrap_or(Outcome::Refused),
        _ => Outcome::Refused,
    }
}

pub fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (i, r) in runs().iter().enumerate() {
        let s = i as u8;
        let raw_state = state(Kind::ServerLoginState, &r.server_login_state)
            .serialize_raw()
            .unwrap();
        let parts: [(u8, &[u8]); 12] = [
            (0, &r.setup.serialize()),
            (1, &r.record.serialize()),
            (2, &r.client_login_state),
            (3, &r.registration_request),
            (4, &r.upload),
            (5, &r.login_request),
            (6, &r.finalization),
            (7, &r.registration_response),
            (8, &r.login_response),
            (9, &r.setup.serialize_raw()),
            (10, r.record.raw()),
            (11, &raw_state),
        ];
        out.extend(parts.iter().map(|(op, bytes)| seed(op << 4 | s, bytes)));
    }
    out
}
