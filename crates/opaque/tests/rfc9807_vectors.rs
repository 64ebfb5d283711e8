//! RFC 9807 Appendix C vectors, reproduced byte for byte through the public API.
//! The RNG hands out the vectors' blinds, seeds and nonces in the order the
//! protocol draws them.

use keyward_opaque::{
    client, server_login_finish, ClientParams, Identifiers, KeyStretching, ServerParams,
    ServerRegistration, ServerSetup, Suite,
};
use rand_core::{CryptoRng, RngCore};
use serde_json::Value;

/// Yields its buffer in order, cycling; a request longer than the buffer gets
/// the whole buffer and zeros after it (the convention the vectors assume).
struct ScriptedRng(Vec<u8>);

impl RngCore for ScriptedRng {
    fn next_u32(&mut self) -> u32 {
        panic!("the protocol draws bytes, not words")
    }
    fn next_u64(&mut self) -> u64 {
        panic!("the protocol draws bytes, not words")
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let n = dest.len().min(self.0.len());
        dest[..n].copy_from_slice(&self.0[..n]);
        dest[n..].fill(0);
        self.0.rotate_left(n);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl CryptoRng for ScriptedRng {}

fn rng(parts: &[&[u8]]) -> ScriptedRng {
    ScriptedRng(parts.concat())
}

fn vectors() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/vectors/opaque/cfrg_opaque_vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn suite_of(v: &Value) -> Option<Suite> {
    match v["config"]["Group"].as_str().unwrap() {
        "ristretto255" => Some(Suite::Ristretto255Sha512),
        "P256_XMD:SHA-256_SSWU_RO_" => Some(Suite::P256Sha256),
        // keyward offers no curve25519 key-exchange suite.
        _ => None,
    }
}

fn field(v: &Value, section: &str, key: &str) -> Option<Vec<u8>> {
    v[section][key].as_str().map(|s| hex::decode(s).unwrap())
}

fn input(v: &Value, key: &str) -> Vec<u8> {
    field(v, "inputs", key).unwrap_or_else(|| panic!("missing input {key}"))
}

fn output(v: &Value, key: &str) -> String {
    v["outputs"][key].as_str().unwrap().to_string()
}

/// The bytes the OPRF draws for a blind: ristretto255 reduces 64 little-endian
/// bytes, so the vector's scalar followed by zeros is that scalar; P-256 draws
/// exactly one 32-byte big-endian scalar.
fn blind_draw(suite: Suite, blind: Vec<u8>) -> Vec<u8> {
    match suite {
        Suite::Ristretto255Sha512 => [blind, vec![0; 32]].concat(),
        _ => blind,
    }
}

fn hash_len(v: &Value) -> usize {
    v["config"]["Nh"].as_str().unwrap().parse().unwrap()
}

#[test]
fn real_record_vectors() {
    let mut checked = 0;
    for v in vectors().iter().filter(|v| v["config"]["Fake"] == "False") {
        let Some(suite) = suite_of(v) else { continue };
        let client_id = field(v, "inputs", "client_identity");
        let server_id = field(v, "inputs", "server_identity");
        let identifiers = Identifiers {
            client: client_id.as_deref(),
            server: server_id.as_deref(),
        };
        let context = hex::decode(v["config"]["Context"].as_str().unwrap()).unwrap();
        let password = input(v, "password");
        let credential_id = input(v, "credential_identifier");
        let client_params = ClientParams {
            identifiers,
            context: Some(&context),
            key_stretching: KeyStretching::InsecureIdentity,
            server_public_key: Some(&input(v, "server_public_key")),
        };
        let server_params = ServerParams {
            identifiers,
            context: Some(&context),
        };

        // A real record never uses the fake public key; any valid point will do.
        let setup = ServerSetup::from_raw(
            suite,
            &[
                input(v, "oprf_seed"),
                input(v, "server_private_key"),
                input(v, "server_public_key"),
            ]
            .concat(),
        )
        .unwrap();
        assert_eq!(
            hex::encode(setup.public_key()),
            hex::encode(input(v, "server_public_key"))
        );

        let (request, reg_state) = client::registration_start(
            suite,
            &mut rng(&[&blind_draw(suite, input(v, "blind_registration"))]),
            &password,
        )
        .unwrap();
        assert_eq!(hex::encode(&request), output(v, "registration_request"));

        let response = setup
            .registration_response(&request, &credential_id)
            .unwrap();
        assert_eq!(hex::encode(&response), output(v, "registration_response"));

        let registered = client::registration_finish(
            reg_state,
            &mut rng(&[&input(v, "envelope_nonce")]),
            &password,
            &response,
            &client_params,
        )
        .unwrap();
        assert_eq!(
            hex::encode(&registered.upload),
            output(v, "registration_upload")
        );
        assert_eq!(
            hex::encode(&*registered.export_key),
            output(v, "export_key")
        );

        let (ke1, login_state) = client::login_start(
            suite,
            &mut rng(&[
                &blind_draw(suite, input(v, "blind_login")),
                &input(v, "client_keyshare_seed"),
                &input(v, "client_nonce"),
            ]),
            &password,
        )
        .unwrap();
        assert_eq!(hex::encode(&ke1), output(v, "KE1"));

        let record = ServerRegistration::from_upload(suite, &registered.upload).unwrap();
        // The server always draws a masking key for the fake path first.
        let unused_masking_key = vec![0u8; hash_len(v)];
        let (ke2, server_state) = setup
            .login_start(
                &mut rng(&[
                    &unused_masking_key,
                    &input(v, "masking_nonce"),
                    &input(v, "server_keyshare_seed"),
                    &input(v, "server_nonce"),
                ]),
                Some(&record),
                &ke1,
                &credential_id,
                &server_params,
            )
            .unwrap();
        assert_eq!(hex::encode(&ke2), output(v, "KE2"));

        let logged_in = client::login_finish(
            login_state,
            &mut rng(&[&[0u8; 1]]),
            &password,
            &ke2,
            &client_params,
        )
        .unwrap();
        assert_eq!(hex::encode(&logged_in.finalization), output(v, "KE3"));
        assert_eq!(
            hex::encode(&*logged_in.session_key),
            output(v, "session_key")
        );
        assert_eq!(hex::encode(&*logged_in.export_key), output(v, "export_key"));

        let session_key =
            server_login_finish(server_state, &logged_in.finalization, &server_params).unwrap();
        assert_eq!(hex::encode(&*session_key), output(v, "session_key"));
        checked += 1;
    }
    assert_eq!(
        checked, 4,
        "two ristretto255 and two P-256 real-record vectors"
    );
}

#[test]
fn fake_record_vectors() {
    let mut checked = 0;
    for v in vectors().iter().filter(|v| v["config"]["Fake"] == "True") {
        let Some(suite) = suite_of(v) else { continue };
        let client_id = input(v, "client_identity");
        let server_id = input(v, "server_identity");
        let context = hex::decode(v["config"]["Context"].as_str().unwrap()).unwrap();
        // The fake record's public key is part of the server setup.
        let setup = ServerSetup::from_raw(
            suite,
            &[
                input(v, "oprf_seed"),
                input(v, "server_private_key"),
                input(v, "client_public_key"),
            ]
            .concat(),
        )
        .unwrap();
        let (ke2, _state) = setup
            .login_start(
                &mut rng(&[
                    &input(v, "masking_key"),
                    &input(v, "masking_nonce"),
                    &input(v, "server_keyshare_seed"),
                    &input(v, "server_nonce"),
                ]),
                None,
                &input(v, "KE1"),
                &input(v, "credential_identifier"),
                &ServerParams {
                    identifiers: Identifiers {
                        client: Some(&client_id),
                        server: Some(&server_id),
                    },
                    context: Some(&context),
                },
            )
            .unwrap();
        assert_eq!(hex::encode(&ke2), output(v, "KE2"));
        checked += 1;
    }
    assert_eq!(
        checked, 2,
        "one ristretto255 and one P-256 fake-record vector"
    );
}
