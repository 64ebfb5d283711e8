//! Every Wycheproof XChaCha20-Poly1305 case through this crate's out-of-place
//! seal and open (the X25519 file runs in keyward-session's tests).

use serde_json::Value;

fn hex(case: &Value, field: &str) -> Vec<u8> {
    hex::decode(case[field].as_str().unwrap()).unwrap()
}

#[test]
fn xchacha20_poly1305() {
    let path = format!(
        "{}/../../fixtures/vectors/wycheproof/xchacha20_poly1305_test.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut count = 0;
    for group in doc["testGroups"].as_array().unwrap() {
        for case in group["tests"].as_array().unwrap() {
            count += 1;
            let (id, valid) = (&case["tcId"], case["result"] == "valid");
            let (key, iv, aad, msg) = (
                hex(case, "key"),
                hex(case, "iv"),
                hex(case, "aad"),
                hex(case, "msg"),
            );
            let sealed = [hex(case, "ct"), hex(case, "tag")].concat();
            let (Ok(key), Ok(nonce)) = (
                <[u8; 32]>::try_from(key.as_slice()),
                <[u8; 24]>::try_from(iv.as_slice()),
            ) else {
                assert!(!valid, "tc {id}");
                continue;
            };
            let mut opened = vec![0u8; sealed.len().saturating_sub(16)];
            let result = keyward_aws_lc::aead::open(&key, &nonce, &aad, &sealed, &mut opened);
            if valid {
                let mut out = vec![0u8; msg.len() + 16];
                keyward_aws_lc::aead::seal(&key, &nonce, &aad, &msg, &mut out).unwrap();
                assert_eq!(out, sealed, "tc {id}");
                assert!(result.is_some(), "tc {id}");
                assert_eq!(opened, msg, "tc {id}");
            } else {
                assert!(result.is_none(), "tc {id} must fail");
                assert!(
                    opened.iter().all(|b| *b == 0),
                    "tc {id}: nothing unauthenticated left"
                );
            }
        }
    }
    assert_eq!(count as u64, doc["numberOfTests"].as_u64().unwrap());
}
