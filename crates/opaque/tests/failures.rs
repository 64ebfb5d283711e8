mod common;

use common::{fast, login, register};
use keyward_opaque::{
    client, server_login_finish, ClientParams, Error, Identifiers, KeyStretching, Kind,
    ProtocolState, ServerParams, ServerRegistration, ServerSetup, Suite,
};
use rand_core::OsRng;

fn setup_with_alice(suite: Suite) -> (ServerSetup, ServerRegistration) {
    let setup = ServerSetup::generate(suite, &mut OsRng);
    let (record, _) = register(&setup, b"alice", b"correct horse", &fast());
    (setup, record)
}

#[test]
fn wrong_password_is_an_invalid_login_for_every_suite() {
    for suite in Suite::ALL {
        let (setup, record) = setup_with_alice(suite);
        let (_, result) = login(
            &setup,
            Some(&record),
            b"alice",
            b"wrong",
            &fast(),
            &Default::default(),
        );
        assert!(
            matches!(result, Err(Error::InvalidLogin(_))),
            "{}",
            suite.name()
        );
    }
}

#[test]
fn unknown_user_gets_a_response_of_the_same_size_and_fails_at_the_client() {
    for suite in Suite::ALL {
        let (setup, record) = setup_with_alice(suite);
        let (request, _) = client::login_start(suite, &mut OsRng, b"pw").unwrap();
        let (real, _) = setup
            .login_start(
                &mut OsRng,
                Some(&record),
                &request,
                b"alice",
                &Default::default(),
            )
            .unwrap();
        let (fake, _) = setup
            .login_start(&mut OsRng, None, &request, b"mallory", &Default::default())
            .unwrap();
        assert_eq!(real.len(), fake.len());
        let (_, result) = login(
            &setup,
            None,
            b"mallory",
            b"pw",
            &fast(),
            &Default::default(),
        );
        assert!(matches!(result, Err(Error::InvalidLogin(_))));
    }
}

#[test]
fn context_or_identifier_mismatch_fails_the_login() {
    let (setup, record) = setup_with_alice(Suite::Ristretto255Sha512);
    let client_ctx = ClientParams {
        context: Some(b"one"),
        ..fast()
    };
    let server_ctx = ServerParams {
        context: Some(b"two"),
        ..Default::default()
    };
    let (_, r) = login(
        &setup,
        Some(&record),
        b"alice",
        b"correct horse",
        &client_ctx,
        &server_ctx,
    );
    assert!(matches!(r, Err(Error::InvalidLogin(_))));

    let server_ids = ServerParams {
        identifiers: Identifiers {
            client: None,
            server: Some(b"other.example"),
        },
        ..Default::default()
    };
    let (_, r) = login(
        &setup,
        Some(&record),
        b"alice",
        b"correct horse",
        &fast(),
        &server_ids,
    );
    assert!(matches!(r, Err(Error::InvalidLogin(_))));
}

#[test]
fn a_bad_finalization_fails_on_the_server() {
    let (setup, record) = setup_with_alice(Suite::Ristretto255Sha512);
    let (state, result) = login(
        &setup,
        Some(&record),
        b"alice",
        b"correct horse",
        &fast(),
        &Default::default(),
    );
    let mut fin = result.unwrap().finalization;
    fin[0] ^= 1;
    let r = server_login_finish(state, &fin, &Default::default());
    assert!(matches!(r, Err(Error::InvalidLogin(_))));
}

#[test]
fn pinned_server_key_must_match() {
    let (setup, record) = setup_with_alice(Suite::Ristretto255Sha512);
    let other = ServerSetup::generate(Suite::Ristretto255Sha512, &mut OsRng).public_key();
    let pinned = ClientParams {
        server_public_key: Some(&other),
        ..fast()
    };
    let (_, r) = login(
        &setup,
        Some(&record),
        b"alice",
        b"correct horse",
        &pinned,
        &Default::default(),
    );
    assert!(matches!(r, Err(Error::InvalidLogin(m)) if m.contains("pinned")));
}

#[test]
fn wrong_lengths_and_trailing_bytes_are_size_errors() {
    let (setup, record) = setup_with_alice(Suite::Ristretto255Sha512);
    let (mut request, _) =
        client::login_start(Suite::Ristretto255Sha512, &mut OsRng, b"pw").unwrap();
    request.push(0);
    let r = setup.login_start(
        &mut OsRng,
        Some(&record),
        &request,
        b"alice",
        &Default::default(),
    );
    assert!(matches!(
        r,
        Err(Error::Size {
            expected: 96,
            actual: 97,
            ..
        })
    ));
    request.truncate(95);
    let r = setup.login_start(
        &mut OsRng,
        Some(&record),
        &request,
        b"alice",
        &Default::default(),
    );
    assert!(matches!(r, Err(Error::Size { .. })));

    let mut raw = setup.serialize_raw().to_vec();
    raw.push(0);
    assert!(matches!(
        ServerSetup::from_raw(Suite::Ristretto255Sha512, &raw),
        Err(Error::Size { .. })
    ));
    let mut rec = record.raw().to_vec();
    rec.push(1);
    assert!(matches!(
        ServerRegistration::from_raw(Suite::Ristretto255Sha512, &rec),
        Err(Error::Size { .. })
    ));
}

#[test]
fn invalid_points_are_serialization_errors() {
    let setup = ServerSetup::generate(Suite::P256Sha256, &mut OsRng);
    let (mut request, _) =
        client::registration_start(Suite::P256Sha256, &mut OsRng, b"pw").unwrap();
    request[0] = 0x07; // not a SEC1 compressed-point tag
    let r = setup.registration_response(&request, b"alice");
    assert!(matches!(r, Err(Error::Serialization(_))), "{r:?}");

    let (mut request, _) =
        client::registration_start(Suite::Ristretto255Sha512, &mut OsRng, b"pw").unwrap();
    request.fill(0xff); // not a canonical ristretto255 encoding
    let setup = ServerSetup::generate(Suite::Ristretto255Sha512, &mut OsRng);
    let r = setup.registration_response(&request, b"alice");
    assert!(matches!(r, Err(Error::Serialization(_))), "{r:?}");
}

#[test]
fn a_wrong_suite_is_refused() {
    let setup = ServerSetup::generate(Suite::Ristretto255Sha512, &mut OsRng);
    let (_, p256_record) = setup_with_alice(Suite::P256Sha256);
    let (request, _) = client::login_start(Suite::Ristretto255Sha512, &mut OsRng, b"pw").unwrap();
    let r = setup.login_start(
        &mut OsRng,
        Some(&p256_record),
        &request,
        b"alice",
        &Default::default(),
    );
    assert!(matches!(r, Err(Error::Serialization(m)) if m.contains("suite")));

    // A P-256 request is the wrong length for ristretto255.
    let (p256_request, _) = client::login_start(Suite::P256Sha256, &mut OsRng, b"pw").unwrap();
    let r = setup.login_start(
        &mut OsRng,
        None,
        &p256_request,
        b"alice",
        &Default::default(),
    );
    assert!(matches!(r, Err(Error::Size { .. })));

    // A serialized record is not a setup, and an unknown suite byte is refused.
    let (_, rec) = setup_with_alice(Suite::Ristretto255Sha512);
    assert!(matches!(
        ServerSetup::deserialize(&rec.serialize()),
        Err(Error::Serialization(_))
    ));
    let mut bytes = setup.serialize().to_vec();
    bytes[2] = 99;
    assert!(matches!(
        ServerSetup::deserialize(&bytes),
        Err(Error::Serialization(_))
    ));
    bytes[2] = 1;
    bytes[0] = 2;
    assert!(matches!(
        ServerSetup::deserialize(&bytes),
        Err(Error::Serialization(_))
    ));
}

#[test]
fn states_are_single_use_and_disposable() {
    let (mut state, _) = {
        let (request, state) =
            client::login_start(Suite::Ristretto255Sha512, &mut OsRng, b"pw").unwrap();
        (state, request)
    };
    let serialized = state.serialize().unwrap();
    let taken = state.take().unwrap();
    assert!(state.is_spent());
    assert!(matches!(state.take(), Err(Error::InvalidState(_))));
    assert!(matches!(state.serialize(), Err(Error::InvalidState(_))));
    drop(taken);

    let mut restored = ProtocolState::deserialize(Kind::ClientLoginState, &serialized).unwrap();
    restored.dispose();
    assert!(matches!(restored.take(), Err(Error::InvalidState(_))));

    // A login state cannot finish a registration.
    let wrong = ProtocolState::deserialize(Kind::ClientLoginState, &serialized).unwrap();
    let r = client::registration_finish(wrong, &mut OsRng, b"pw", &[0; 64], &fast());
    assert!(matches!(r, Err(Error::InvalidState(_))));
    assert!(matches!(
        ProtocolState::deserialize(Kind::ServerLoginState, &serialized),
        Err(Error::Serialization(_))
    ));
}

#[test]
fn bad_key_stretching_parameters_are_argument_errors() {
    let setup = ServerSetup::generate(Suite::Ristretto255Sha512, &mut OsRng);
    let (request, state) =
        client::registration_start(Suite::Ristretto255Sha512, &mut OsRng, b"pw").unwrap();
    let response = setup.registration_response(&request, b"u").unwrap();
    let params = ClientParams {
        key_stretching: KeyStretching::Custom {
            iterations: 0,
            memory: 64,
            parallelism: 1,
        },
        ..Default::default()
    };
    let r = client::registration_finish(state, &mut OsRng, b"pw", &response, &params);
    assert!(matches!(r, Err(Error::InvalidArgument(_))));
}

#[test]
fn suite_names_parse_and_unknown_names_are_refused() {
    for suite in Suite::ALL {
        assert_eq!(Suite::from_name(suite.name()).unwrap(), suite);
    }
    assert!(matches!(
        Suite::from_name("curve448"),
        Err(Error::InvalidArgument(_))
    ));
}

/// SEC1's compact form (tag 0x05, x only) of a NIST-curve point decodes in
/// opaque-ke, and a P-256 KE1 whose ephemeral key was rewritten that way
/// still logged in when the key's y was the smaller root (the round-trip
/// property found it). Every point of every message must be in its one
/// compressed encoding.
#[test]
fn points_in_compact_form_are_refused() {
    // (suite, length of an element: the tag and x)
    for (suite, element) in [
        (Suite::P256Sha256, 33),
        (Suite::P384Sha384, 49),
        (Suite::P521Sha512, 67),
    ] {
        let (setup, record) = setup_with_alice(suite);
        let compact = |bytes: &[u8], at: usize| {
            let mut changed = bytes.to_vec();
            changed[at] = 0x05;
            changed
        };
        let (request, state) = client::login_start(suite, &mut OsRng, b"correct horse").unwrap();
        // KE1: blinded element, then a 32-byte nonce, then the ephemeral key.
        for at in [0, element + 32] {
            let refused = setup.login_start(
                &mut OsRng,
                Some(&record),
                &compact(&request, at),
                b"alice",
                &ServerParams::default(),
            );
            assert!(
                matches!(refused, Err(Error::Serialization(_))),
                "{suite:?} KE1 byte {at}"
            );
        }
        // KE2 as the client reads it: the evaluated element first.
        let (response, _) = setup
            .login_start(
                &mut OsRng,
                Some(&record),
                &request,
                b"alice",
                &ServerParams::default(),
            )
            .unwrap();
        let refused = client::login_finish(
            state,
            &mut OsRng,
            b"correct horse",
            &compact(&response, 0),
            &fast(),
        );
        assert!(
            matches!(refused, Err(Error::Serialization(_))),
            "{suite:?} KE2"
        );
    }
}
