//! Two parties exchange 10 000 messages in both directions with random
//! reordering, drops and replays, and both sessions are persisted and
//! restored mid-way. Every delivered message decrypts exactly once.

mod common;

use std::collections::VecDeque;

use common::{bundle_pair, code, noise_pair, KEY};
use keyward_session::Session;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

struct InFlight {
    bytes: Vec<u8>,
    plaintext: Vec<u8>,
    sent_at: usize,
}

fn converse(mut a: Session, mut b: Session, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut queues: [VecDeque<InFlight>; 2] = [VecDeque::new(), VecDeque::new()];
    let mut delivered: Vec<(usize, Vec<u8>)> = Vec::new();
    let (mut sent, mut opened, mut dropped) = (0, 0, 0);
    let mut step = 0;
    while sent < 10_000 || queues.iter().any(|q| !q.is_empty()) {
        step += 1;
        if step == 4_000 || step == 7_000 {
            a = Session::deserialize(&a.serialize(&KEY).unwrap(), &KEY).unwrap();
            b = Session::deserialize(&b.serialize(&KEY).unwrap(), &KEY).unwrap();
        }
        let side = rng.gen_range(0..2);
        if sent < 10_000 && rng.gen_bool(0.5) {
            // Bursts in one direction, then turns: both ratchets keep stepping.
            let plaintext = format!("message {sent} from {side}").into_bytes();
            let sender = if side == 0 { &mut a } else { &mut b };
            let bytes = sender.encrypt(&plaintext, b"").unwrap();
            sent += 1;
            if rng.gen_bool(0.05) {
                dropped += 1;
            } else {
                queues[side].push_back(InFlight {
                    bytes,
                    plaintext,
                    sent_at: step,
                });
            }
            continue;
        }
        let queue = &mut queues[side];
        if queue.is_empty() {
            continue;
        }
        // Reorder within a window; nothing waits so long its chain is forgotten.
        let i = if step - queue[0].sent_at > 40 {
            0
        } else {
            rng.gen_range(0..queue.len().min(8))
        };
        let m = queue.remove(i).unwrap();
        let receiver = if side == 0 { &mut b } else { &mut a };
        assert_eq!(
            receiver.decrypt(&m.bytes, b"").unwrap().to_vec(),
            m.plaintext,
            "step {step}"
        );
        opened += 1;
        delivered.push((side, m.bytes));
        if rng.gen_bool(0.02) {
            // A recent message is recognised as a duplicate; one whose chain
            // was forgotten no longer authenticates. Either way nothing changes.
            let recent = delivered.len().saturating_sub(3);
            let (side, replay) = &delivered[rng.gen_range(recent..delivered.len())];
            let receiver = if *side == 0 { &mut b } else { &mut a };
            assert_eq!(code(receiver.decrypt(replay, b"")), "ERR_SESSION_DUPLICATE");
            let (side, replay) = &delivered[rng.gen_range(0..delivered.len())];
            let receiver = if *side == 0 { &mut b } else { &mut a };
            let c = code(receiver.decrypt(replay, b""));
            assert!(
                [
                    "ERR_SESSION_DUPLICATE",
                    "ERR_SESSION_KEY_EXPIRED",
                    "ERR_DECRYPTION"
                ]
                .contains(&c),
                "{c}"
            );
        }
    }
    assert_eq!(opened + dropped, 10_000);
    assert!(dropped > 300 && opened > 9_000);
}

#[test]
fn ten_thousand_messages_noise_start() {
    let (a, b) = noise_pair();
    converse(a, b, 1);
}

#[test]
fn ten_thousand_messages_bundle_start() {
    let (a, b) = bundle_pair(true);
    converse(a, b, 2);
}
