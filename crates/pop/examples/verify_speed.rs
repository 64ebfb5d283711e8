use keyward_pop::{PopKey, ReplayCache, Request};
use std::time::Instant;
fn main() {
    let key = PopKey::derive(&[7; 64], b"sess").unwrap();
    let body = br#"{"to":"bob","amount":1}"#;
    let n = 400_000u32;
    let nonces: Vec<String> = (0..n).map(|i| format!("nonce-{i:016}-abcdef")).collect();
    let tags: Vec<[u8; 32]> = nonces
        .iter()
        .map(|nc| {
            key.sign(&Request {
                method: "POST",
                target: "/api/transfer",
                timestamp_ms: 1_700_000_000_000,
                nonce: nc.as_bytes(),
                body,
            })
        })
        .collect();
    let t = Instant::now();
    for (nc, tag) in nonces.iter().zip(&tags) {
        assert!(key
            .verify(
                &Request {
                    method: "POST",
                    target: "/api/transfer",
                    timestamp_ms: 1_700_000_000_000,
                    nonce: nc.as_bytes(),
                    body
                },
                tag
            )
            .is_ok());
    }
    println!(
        "verify {:.3} µs",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let mut cache = ReplayCache::new(1_000_000);
    let t = Instant::now();
    for (nc, tag) in nonces.iter().zip(&tags) {
        assert!(key
            .verify_request(
                &Request {
                    method: "POST",
                    target: "/api/transfer",
                    timestamp_ms: 1_700_000_000_000,
                    nonce: nc.as_bytes(),
                    body
                },
                tag,
                keyward_pop::Checks {
                    now_ms: 1_700_000_000_000,
                    window_ms: 30_000,
                    replay: Some((&mut cache, b"sess-id-abcdefghijkl"))
                }
            )
            .is_ok());
    }
    println!(
        "verify_once {:.3} µs",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}
