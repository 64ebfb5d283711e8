//! Every Wycheproof case for the curves the sessions use (X25519, Ed25519),
//! through keyward's own entry points, with the expected result for invalid
//! and acceptable cases. The AEADs are the sealed-data core's primitives;
//! `crates/seal/tests/wycheproof.rs` runs the ChaCha20-Poly1305 and
//! XChaCha20-Poly1305 files against them.

use keyward_session::keys::KeyPair;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!(
        "{}/../../fixtures/vectors/wycheproof/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

fn hex(case: &Value, field: &str) -> Vec<u8> {
    hex::decode(case[field].as_str().unwrap_or_else(|| panic!("{field}"))).expect("hex")
}

fn each_case(file: &str, mut check: impl FnMut(&Value, &Value, &str)) {
    let doc = load(file);
    let mut count = 0;
    for group in doc["testGroups"].as_array().unwrap() {
        for case in group["tests"].as_array().unwrap() {
            check(group, case, case["result"].as_str().unwrap());
            count += 1;
        }
    }
    assert_eq!(
        count as u64,
        doc["numberOfTests"].as_u64().unwrap(),
        "{file}"
    );
}

/// Through the X25519 this build uses (`x25519::BACKEND`; CI also runs the
/// suite with `--no-default-features` for the x25519-dalek fallback).
#[test]
fn x25519() {
    each_case("x25519_test.json", |_, case, result| {
        let id = &case["tcId"];
        let secret: [u8; 32] = hex(case, "private").try_into().unwrap();
        let public: [u8; 32] = hex(case, "public").try_into().unwrap();
        let shared = hex(case, "shared");
        let ours = keyward_session::x25519::shared(&secret, &public);
        let dh = KeyPair::from_secret(secret).dh(&public);
        if shared.iter().all(|b| *b == 0) {
            // Low-order public keys: keyward refuses the all-zero result.
            assert!(
                ours.is_none() && dh.is_err(),
                "tc {id}: an all-zero shared secret must be refused"
            );
            assert_ne!(result, "valid", "tc {id}");
        } else {
            assert_eq!(
                ours.unwrap().to_vec(),
                shared,
                "tc {id} ({})",
                keyward_session::x25519::BACKEND
            );
            assert_eq!(dh.unwrap().to_vec(), shared, "tc {id}");
        }
    });
}

#[test]
fn ed25519() {
    each_case("ed25519_test.json", |group, case, result| {
        let id = &case["tcId"];
        let public = hex(&group["publicKey"], "pk");
        let ok = keyward_session::verify(&public, &hex(case, "msg"), &hex(case, "sig"));
        assert_eq!(ok, result == "valid", "tc {id} ({result})");
    });
}
