//! The cacophony Noise vectors (NN, XX, IK, IKpsk2 excluded: keyward has no
//! PSK option) through keyward's `noise::Handshake` with the vectors' fixed
//! keys: every handshake and transport message byte for byte, and the
//! handshake hash.

use keyward_session::noise::{Handshake, Keys, Transport};
use serde_json::Value;

fn hex(v: &Value, field: &str) -> Option<Vec<u8>> {
    v[field].as_str().map(|s| hex::decode(s).expect("hex"))
}

/// One side's keys as the vector gives them.
struct Side {
    local_static: Option<Vec<u8>>,
    ephemeral: Option<Vec<u8>>,
    remote_static: Option<Vec<u8>>,
    prologue: Vec<u8>,
}

impl Side {
    fn of(vector: &Value, prefix: &str) -> Side {
        Side {
            local_static: hex(vector, &format!("{prefix}_static")),
            ephemeral: hex(vector, &format!("{prefix}_ephemeral")),
            remote_static: hex(vector, &format!("{prefix}_remote_static")),
            prologue: hex(vector, &format!("{prefix}_prologue")).unwrap(),
        }
    }

    fn handshake(&self, name: &str, initiator: bool) -> Handshake {
        let keys = Keys {
            local_static: self.local_static.as_deref(),
            fixed_ephemeral: self.ephemeral.as_deref(),
            remote_static: self.remote_static.as_deref(),
            prologue: &self.prologue,
        };
        Handshake::new(name, initiator, &keys).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

fn run(vector: &Value) {
    let name = vector["protocol_name"].as_str().unwrap();
    let mut init = Side::of(vector, "init").handshake(name, true);
    let mut resp = Side::of(vector, "resp").handshake(name, false);
    let messages = vector["messages"].as_array().unwrap();
    let handshake_len = match &name[6..8] {
        "NN" | "IK" => 2,
        "XX" => 3,
        other => panic!("unexpected pattern {other}"),
    };
    for (i, m) in messages.iter().take(handshake_len).enumerate() {
        let (payload, ciphertext) = (hex(m, "payload").unwrap(), hex(m, "ciphertext").unwrap());
        let (writer, reader) = if i % 2 == 0 {
            (&mut init, &mut resp)
        } else {
            (&mut resp, &mut init)
        };
        assert_eq!(
            writer.write(&payload).unwrap(),
            ciphertext,
            "{name} message {i}"
        );
        assert_eq!(
            &reader.read(&ciphertext).unwrap()[..],
            &payload[..],
            "{name} message {i}"
        );
    }
    let hash = hex(vector, "handshake_hash").unwrap();
    assert_eq!(init.handshake_hash(), &hash[..], "{name} handshake hash");
    assert_eq!(resp.handshake_hash(), &hash[..], "{name} handshake hash");
    let (mut ti, mut tr): (Transport, Transport) = (
        init.into_transport().unwrap(),
        resp.into_transport().unwrap(),
    );
    for (i, m) in messages.iter().enumerate().skip(handshake_len) {
        let (payload, ciphertext) = (hex(m, "payload").unwrap(), hex(m, "ciphertext").unwrap());
        // After the handshake the initiator sends on even turns of the whole exchange.
        let initiator_sends = i % 2 == 0;
        let (writer, reader) = if initiator_sends {
            (&mut ti, &mut tr)
        } else {
            (&mut tr, &mut ti)
        };
        assert_eq!(
            writer.encrypt(&payload).unwrap(),
            ciphertext,
            "{name} transport {i}"
        );
        assert_eq!(
            reader.decrypt(&ciphertext).unwrap(),
            payload,
            "{name} transport {i}"
        );
    }
}

#[test]
fn cacophony_vectors_reproduce_byte_for_byte() {
    let path = format!(
        "{}/../../fixtures/vectors/noise/cacophony_25519_chachapoly.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut ran = Vec::new();
    for v in doc["vectors"].as_array().unwrap() {
        let name = v["protocol_name"].as_str().unwrap();
        if name.starts_with("Noise_IKpsk2") {
            continue;
        }
        run(v);
        ran.push(name.to_string());
    }
    for hash in ["BLAKE2s", "BLAKE2b", "SHA256", "SHA512"] {
        for pattern in ["IK", "XX", "NN"] {
            let name = format!("Noise_{pattern}_25519_ChaChaPoly_{hash}");
            assert!(ran.contains(&name), "{name} was not among the vectors");
        }
    }
}

#[test]
fn a_changed_handshake_byte_or_prologue_fails() {
    let path = format!(
        "{}/../../fixtures/vectors/noise/cacophony_25519_chachapoly.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let v = doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["protocol_name"] == "Noise_IK_25519_ChaChaPoly_BLAKE2s")
        .unwrap();
    let rs = hex(v, "resp_static").unwrap();
    let m0 = hex(&v["messages"][0], "ciphertext").unwrap();
    for (prologue, flip) in [(&b"John Galt"[..], Some(40)), (&b"John Gal"[..], None)] {
        let mut resp = Handshake::new(
            "Noise_IK_25519_ChaChaPoly_BLAKE2s",
            false,
            &Keys {
                local_static: Some(&rs),
                prologue,
                ..Keys::default()
            },
        )
        .unwrap();
        let mut m = m0.clone();
        if let Some(i) = flip {
            m[i] ^= 1;
        }
        assert!(resp.read(&m).is_err());
    }
}
