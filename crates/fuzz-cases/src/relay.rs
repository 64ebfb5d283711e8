//! The relay's frame decoding (crates/relay) as a relay meets it, by the
//! selector's low two bits:
//! - 0: one plaintext frame, `Frame::decode`; an accepted frame must encode
//!   back to the same bytes, and an accepted prekey upload goes through the
//!   relay's signature checks.
//! - 1: a TCP byte stream through `TcpDecoder`, fed in pieces of
//!   `(selector >> 2) + 1` bytes; each message as a plaintext frame.
//! - 2: Noise transport chunks into a relay `Channel` after a real handshake
//!   and REGISTER: the input is `length (u16) ‖ chunk` records, each chunk
//!   encrypted by a raw client, so the reassembly sees any sizes and headers.

use keyward_relay::frame::{Direction, OneTimePrekey, PrekeyUpload, SignedPrekey};
use keyward_relay::handshake::{relay_public_key, PROLOGUE, PROTOCOL};
use keyward_relay::limits::{LENGTH_PREFIX, MAX_CHUNK, MAX_NOISE_MESSAGE};
use keyward_relay::prekeys::verify_upload;
use keyward_relay::{respond, Body, ErrorCode, Frame, Received, TcpDecoder};
use keyward_session::noise::{Handshake, Keys};
use keyward_session::IdentityKey;

use crate::{fixtures, seed, split, Outcome};

fn decode_one(bytes: &[u8]) -> Outcome {
    let Ok(frame) = Frame::decode(bytes) else {
        return Outcome::Refused;
    };
    assert_eq!(
        frame.encode().expect("a decoded frame encodes"),
        bytes,
        "frames are canonical"
    );
    if let Body::UploadPrekeys(upload) = &frame.body {
        let _ = verify_upload(&fixtures::key(7), upload);
    }
    Outcome::Accepted
}

fn tcp(piece: usize, stream: &[u8]) -> Outcome {
    let mut decoder = TcpDecoder::new();
    let mut messages = Vec::new();
    for part in stream.chunks(piece) {
        match decoder.push(part) {
            Ok(m) => messages.extend(m),
            Err(_) => return Outcome::Refused,
        }
        assert!(decoder.buffered() <= LENGTH_PREFIX + MAX_NOISE_MESSAGE);
    }
    if !decoder.is_idle() || messages.is_empty() {
        return Outcome::Refused;
    }
    if messages.iter().all(|m| decode_one(m) == Outcome::Accepted) {
        Outcome::Accepted
    } else {
        Outcome::Refused
    }
}

fn chunks(records: &[u8]) -> Outcome {
    let id = IdentityKey::from_seed(&fixtures::key(8));
    let relay_secret = fixtures::key(9);
    let keys = Keys {
        local_static: None,
        remote_static: Some(&relay_public_key(&relay_secret)),
        prologue: PROLOGUE,
        fixed_ephemeral: None,
    };
    let mut client = Handshake::with_identity(PROTOCOL, true, &id, &keys).expect("handshake");
    let m1 = client
        .write(&[&[1u8][..], &id.public_key()].concat())
        .expect("message 1");
    let answer = respond(&relay_secret, &m1).expect("the relay answers");
    client.read(&answer.message2).expect("message 2");
    let mut client = client.into_transport().expect("transport");
    let mut relay = answer.outcome.expect("accepted").channel;
    let register = Frame::new(1, Body::Register { device: 1 })
        .encode()
        .unwrap();
    let m = client.encrypt(&register).unwrap();
    assert!(matches!(relay.open(&m), Ok(Some(Received::Frame(_)))));

    let mut rest = records;
    let mut frames = 0;
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let len = (u16::from_be_bytes(*len) as usize).min(MAX_CHUNK);
        let Some((chunk, tail)) = tail.split_at_checked(len) else {
            return Outcome::Refused;
        };
        rest = tail;
        let m = client
            .encrypt(chunk)
            .expect("a chunk up to MAX_CHUNK encrypts");
        match relay.open(&m) {
            Ok(Some(Received::Frame(f))) => {
                assert!(f.request_id != 0 && f.body.direction() == Direction::Request);
                frames += 1;
            }
            Ok(Some(Received::Refused { error, .. })) => {
                assert!(error
                    .wire_code()
                    .is_some_and(|c| c != ErrorCode::IdentityMismatch));
                return Outcome::Refused;
            }
            Ok(None) => {}
            Err(_) => return Outcome::Refused,
        }
    }
    if rest.is_empty() && frames > 0 {
        Outcome::Accepted
    } else {
        Outcome::Refused
    }
}

pub fn frames(data: &[u8]) -> Outcome {
    let Some((selector, bytes)) = split(data) else {
        return Outcome::Refused;
    };
    match selector & 3 {
        0 => decode_one(bytes),
        1 => tcp((selector >> 2) as usize + 1, bytes),
        2 => chunks(bytes),
        _ => Outcome::Refused,
    }
}

fn sample_frames() -> Vec<Frame> {
    let upload = PrekeyUpload {
        signed: Some(SignedPrekey {
            id: 1,
            public: fixtures::key(3),
            kem: None,
            signature: [4; 64],
        }),
        one_time: vec![OneTimePrekey {
            id: 1,
            public: fixtures::key(5),
        }],
        one_time_kem: vec![],
    };
    vec![
        Frame::new(1, Body::Register { device: 1 }),
        Frame::new(
            2,
            Body::Send {
                client_message_id: [1; 16],
                recipient: fixtures::key(2),
                device: 0,
                body: b"ciphertext".to_vec(),
            },
        ),
        Frame::new(3, Body::Fetch),
        Frame::new(4, Body::Ack { message_id: 9 }),
        Frame::new(5, Body::UploadPrekeys(upload)),
        Frame::new(
            6,
            Body::GetBundle {
                identity: fixtures::key(2),
                device: 1,
            },
        ),
        Frame::new(
            0,
            Body::Deliver {
                message_id: 9,
                sender: fixtures::key(6),
                sender_device: 1,
                received_at_ms: fixtures::NOW_MS,
                body: b"ciphertext".to_vec(),
            },
        ),
        Frame::new(
            7,
            Body::Error {
                code: ErrorCode::RateLimited,
                retry_after_ms: 60_000,
            },
        ),
    ]
}

pub fn frame_seeds() -> Vec<Vec<u8>> {
    let encoded: Vec<Vec<u8>> = sample_frames()
        .iter()
        .map(|f| f.encode().expect("a sample frame encodes"))
        .collect();
    let mut seeds: Vec<Vec<u8>> = encoded.iter().map(|f| seed(0, f)).collect();
    let stream: Vec<u8> = encoded
        .iter()
        .flat_map(|f| keyward_relay::tcp_encode(f).unwrap())
        .collect();
    seeds.push(seed(1, &stream));
    seeds.push(seed(1 | (6 << 2), &stream));
    // Requests only (the relay's channel refuses the others), one record each,
    // and one frame split across two chunks.
    let mut records = Vec::new();
    for f in encoded.iter().take(6).skip(1) {
        records.extend_from_slice(&(f.len() as u16).to_be_bytes());
        records.extend_from_slice(f);
    }
    seeds.push(seed(2, &records));
    let big = Frame::new(
        8,
        Body::Send {
            client_message_id: [2; 16],
            recipient: fixtures::key(2),
            device: 1,
            body: vec![0x5a; MAX_CHUNK],
        },
    )
    .encode()
    .unwrap();
    let mut records = Vec::new();
    for part in big.chunks(MAX_CHUNK) {
        records.extend_from_slice(&(part.len() as u16).to_be_bytes());
        records.extend_from_slice(part);
    }
    seeds.push(seed(2, &records));
    seeds
}
