mod common;

use common::{fast, login, register};
use keyward_opaque::{
    server_login_finish, ClientParams, Identifiers, KeyStretching, ServerParams, ServerSetup, Suite,
};
use rand_core::OsRng;

#[test]
fn every_suite_registers_and_logs_in_with_equal_keys() {
    for suite in Suite::ALL {
        let setup = ServerSetup::generate(suite, &mut OsRng);
        let (record, export_at_registration) = register(&setup, b"alice", b"hunter2", &fast());
        let (server_state, result) = login(
            &setup,
            Some(&record),
            b"alice",
            b"hunter2",
            &fast(),
            &ServerParams::default(),
        );
        let result = result.unwrap_or_else(|e| panic!("{}: {e}", suite.name()));
        assert_eq!(result.server_public_key, setup.public_key());
        assert_eq!(*result.export_key, export_at_registration);
        let server_key =
            server_login_finish(server_state, &result.finalization, &ServerParams::default())
                .unwrap();
        assert_eq!(*server_key, *result.session_key, "{}", suite.name());
    }
}

#[test]
fn every_preset_round_trips() {
    for key_stretching in [
        KeyStretching::MemoryConstrained,
        KeyStretching::RfcRecommended,
        KeyStretching::Custom {
            iterations: 2,
            memory: 1024,
            parallelism: 2,
        },
    ] {
        let params = ClientParams {
            key_stretching,
            ..Default::default()
        };
        let setup = ServerSetup::generate(Suite::Ristretto255Sha512, &mut OsRng);
        let (record, _) = register(&setup, b"bob", b"pw", &params);
        let (state, result) = login(
            &setup,
            Some(&record),
            b"bob",
            b"pw",
            &params,
            &Default::default(),
        );
        let result = result.unwrap();
        let key = server_login_finish(state, &result.finalization, &Default::default()).unwrap();
        assert_eq!(*key, *result.session_key);
    }
}

#[test]
fn identifiers_and_context_round_trip_when_both_sides_agree() {
    let ids = Identifiers {
        client: Some(b"alice@example.com"),
        server: Some(b"example.com"),
    };
    let client = ClientParams {
        identifiers: ids,
        context: Some(b"app v1"),
        ..fast()
    };
    let server = ServerParams {
        identifiers: ids,
        context: Some(b"app v1"),
    };
    let setup = ServerSetup::generate(Suite::P256Sha256, &mut OsRng);
    let (record, _) = register(&setup, b"alice", b"pw", &client);
    let (state, result) = login(&setup, Some(&record), b"alice", b"pw", &client, &server);
    let result = result.unwrap();
    let key = server_login_finish(state, &result.finalization, &server).unwrap();
    assert_eq!(*key, *result.session_key);
}

#[test]
fn serialized_objects_round_trip_and_name_their_suite() {
    for suite in Suite::ALL {
        let setup = ServerSetup::generate(suite, &mut OsRng);
        let restored = ServerSetup::deserialize(&setup.serialize()).unwrap();
        assert_eq!(restored.suite(), suite);
        assert_eq!(restored.public_key(), setup.public_key());
        assert_eq!(*restored.serialize_raw(), *setup.serialize_raw());
        let (record, _) = register(&setup, b"u", b"p", &fast());
        let record2 = keyward_opaque::ServerRegistration::deserialize(&record.serialize()).unwrap();
        assert_eq!(record2, record);
    }
}
