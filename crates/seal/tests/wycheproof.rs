//! Every Wycheproof case for the primitives under the sealed-data formats,
//! run through keyward's own functions: valid cases must round-trip to the
//! expected bytes, invalid ones must be refused.

use keyward_seal::primitives::{hkdf, hmac, Aead, Hash};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!(
        "{}/../../fixtures/vectors/wycheproof/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture present")).expect("JSON")
}

fn hex(case: &Value, field: &str) -> Vec<u8> {
    hex::decode(case[field].as_str().unwrap_or_else(|| panic!("{field}"))).expect("hex")
}

/// Calls `check(group, case)` for every case; returns how many ran.
fn each_case(file: &str, mut check: impl FnMut(&Value, &Value, &str)) -> usize {
    let doc = load(file);
    let mut count = 0;
    for group in doc["testGroups"].as_array().expect("groups") {
        for case in group["tests"].as_array().expect("tests") {
            let result = case["result"].as_str().expect("result");
            check(group, case, result);
            count += 1;
        }
    }
    assert_eq!(
        count as u64,
        doc["numberOfTests"].as_u64().expect("count"),
        "{file}"
    );
    count
}

fn aead_file(file: &str, aead: Aead) {
    each_case(file, |_, case, result| {
        let id = &case["tcId"];
        let (key, iv, aad, msg) = (
            hex(case, "key"),
            hex(case, "iv"),
            hex(case, "aad"),
            hex(case, "msg"),
        );
        let sealed = [hex(case, "ct"), hex(case, "tag")].concat();
        let opened = aead.decrypt(&key, &iv, &aad, &sealed);
        match result {
            "valid" => {
                assert_eq!(
                    aead.encrypt(&key, &iv, &aad, &msg).expect("encrypts"),
                    sealed,
                    "tc {id}"
                );
                assert_eq!(&opened.expect("opens")[..], &msg[..], "tc {id}");
            }
            // Wrong tags, wrong nonce sizes: nothing may open.
            _ => assert!(opened.is_err(), "tc {id} must fail"),
        }
    });
}

#[test]
fn xchacha20_poly1305() {
    aead_file("xchacha20_poly1305_test.json", Aead::XChaCha20Poly1305);
}

#[test]
fn chacha20_poly1305() {
    aead_file("chacha20_poly1305_test.json", Aead::ChaCha20Poly1305);
}

fn hmac_file(file: &str, hash: Hash) {
    each_case(file, |group, case, result| {
        let id = &case["tcId"];
        let tag_len = group["tagSize"].as_u64().expect("tagSize") as usize / 8;
        let computed = hmac(hash, &hex(case, "key"), &[&hex(case, "msg")]);
        let matches = computed[..tag_len] == hex(case, "tag")[..];
        assert_eq!(matches, result == "valid", "tc {id}");
    });
}

#[test]
fn hmac_sha256() {
    hmac_file("hmac_sha256_test.json", Hash::Sha256);
}

#[test]
fn hmac_sha512() {
    hmac_file("hmac_sha512_test.json", Hash::Sha512);
}

fn hkdf_file(file: &str, hash: Hash) {
    each_case(file, |_, case, result| {
        let id = &case["tcId"];
        let size = case["size"].as_u64().expect("size") as usize;
        let okm = hkdf(
            hash,
            &hex(case, "ikm"),
            &hex(case, "salt"),
            &hex(case, "info"),
            size,
        );
        match result {
            "valid" => assert_eq!(&okm.expect("derives")[..], &hex(case, "okm")[..], "tc {id}"),
            // The only invalid HKDF cases ask for more than 255 hash lengths.
            _ => assert!(okm.is_err(), "tc {id} must fail"),
        }
    });
}

#[test]
fn hkdf_sha256() {
    hkdf_file("hkdf_sha256_test.json", Hash::Sha256);
}

#[test]
fn hkdf_sha512() {
    hkdf_file("hkdf_sha512_test.json", Hash::Sha512);
}
