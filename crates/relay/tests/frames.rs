//! The frame codec: every frame type round-trips (property tests), and every
//! way a frame can be wrong is refused with its code.

use keyward_relay::frame::{
    kind, OneTimeKemPrekey, OneTimePrekey, PrekeyStatus, PrekeyUpload, SignedPrekey,
};
use keyward_relay::limits::*;
use keyward_relay::{Body, ErrorCode, Frame, Header};
use proptest::collection::vec;
use proptest::prelude::*;

fn kem_public() -> impl Strategy<Value = Box<[u8; KEM_PUBLIC_LEN]>> {
    (any::<u8>(), any::<u8>()).prop_map(|(a, b)| {
        Box::new(core::array::from_fn(|i| {
            a.wrapping_add(b.wrapping_mul(i as u8))
        }))
    })
}

fn ascending_ids(max: usize) -> impl Strategy<Value = Vec<u32>> {
    (vec(1u32..1000, 0..=max), 1u32..10).prop_map(|(gaps, start)| {
        let mut id = start - 1;
        gaps.into_iter()
            .map(|g| {
                id += g;
                id
            })
            .collect()
    })
}

fn status() -> impl Strategy<Value = PrekeyStatus> {
    any::<(u16, u16, u32, u32, u32)>().prop_map(|(a, b, c, d, e)| PrekeyStatus {
        one_time: a,
        one_time_kem: b,
        signed_id: c,
        last_one_time_id: d,
        last_one_time_kem_id: e,
    })
}

fn upload() -> impl Strategy<Value = PrekeyUpload> {
    let signed = proptest::option::of(
        (
            1u32..,
            any::<[u8; 32]>(),
            proptest::option::of((1u32.., kem_public())),
            any::<[u8; 32]>(),
        )
            .prop_map(|(id, mut public, kem, sig)| SignedPrekey {
                id,
                public: {
                    // X25519 keys on the wire are canonical (top bit clear).
                    public[31] &= 0x7f;
                    public
                },
                kem,
                signature: [sig, sig].concat().try_into().unwrap(),
            }),
    );
    (signed, ascending_ids(100), ascending_ids(3), kem_public()).prop_map(
        |(signed, ids, kem_ids, public)| PrekeyUpload {
            signed,
            one_time: ids
                .iter()
                .map(|&id| OneTimePrekey {
                    id,
                    // Canonical and of large order: 2..=121 in every byte.
                    public: [(id % 120) as u8 + 2; 32],
                })
                .collect(),
            one_time_kem: kem_ids
                .iter()
                .map(|&id| OneTimeKemPrekey {
                    id,
                    public: public.clone(),
                    signature: [id as u8; 64],
                })
                .collect(),
        },
    )
}

fn message_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![vec(any::<u8>(), 0..64), Just(vec![0xAB; MAX_BODY])]
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (1u32..).prop_map(|device| Body::Register { device }),
        (
            any::<[u8; 16]>(),
            any::<[u8; 32]>(),
            any::<u32>(),
            message_body()
        )
            .prop_map(|(client_message_id, recipient, device, body)| Body::Send {
                client_message_id,
                recipient,
                device,
                body
            }),
        Just(Body::Fetch),
        any::<u64>().prop_map(|message_id| Body::Ack { message_id }),
        upload().prop_map(Body::UploadPrekeys),
        (any::<[u8; 32]>(), 1u32..)
            .prop_map(|(identity, device)| Body::GetBundle { identity, device }),
        any::<[u8; 32]>().prop_map(|identity| Body::ListDevices { identity }),
        any::<(u32, u16, u64)>().prop_map(|(a, b, c)| Body::Registered {
            max_body: a,
            max_in_flight: b,
            relay_time_ms: c
        }),
        any::<(u64, u16)>().prop_map(|(a, b)| Body::Sent {
            stored_at_ms: a,
            copies: b
        }),
        Just(Body::QueueEmpty),
        Just(Body::Acked),
        status().prop_map(Body::PrekeysStored),
        (
            1u32..,
            vec(any::<u8>(), 1..=MAX_SESSION_BUNDLE),
            proptest::option::of((1u32.., kem_public()))
        )
            .prop_map(|(device, bundle, kem)| Body::Bundle {
                device,
                bundle,
                one_time_kem: kem.map(|(id, public)| OneTimeKemPrekey {
                    id,
                    public,
                    signature: [9; 64]
                }),
            }),
        ascending_ids(MAX_DEVICES).prop_map(|devices| Body::Devices { devices }),
        (
            proptest::sample::select(ErrorCode::ALL.to_vec()),
            any::<u32>()
        )
            .prop_map(|(code, retry_after_ms)| Body::Error {
                code,
                retry_after_ms
            }),
        (
            any::<u64>(),
            any::<[u8; 32]>(),
            1u32..,
            any::<u64>(),
            message_body()
        )
            .prop_map(
                |(message_id, sender, sender_device, received_at_ms, body)| Body::Deliver {
                    message_id,
                    sender,
                    sender_device,
                    received_at_ms,
                    body
                }
            ),
        status().prop_map(Body::PrekeysLow),
        Just(Body::Displaced),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    (body(), 1u32..).prop_map(|(body, id)| {
        use keyward_relay::frame::Direction::*;
        let request_id = match body.direction() {
            Push => 0,
            _ => id,
        };
        Frame::new(request_id, body)
    })
}

fn code_of(bytes: &[u8]) -> &'static str {
    Frame::decode(bytes).expect_err("refused").code()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_frame_round_trips(f in frame()) {
        let bytes = f.encode().unwrap();
        prop_assert!(bytes.len() <= MAX_FRAME);
        prop_assert_eq!(&Frame::decode(&bytes).unwrap(), &f);
        prop_assert_eq!(Frame::decode(&bytes).unwrap().encode().unwrap(), bytes);
    }

    #[test]
    fn every_truncation_and_extension_is_refused(f in frame(), extra in vec(any::<u8>(), 1..4)) {
        let bytes = f.encode().unwrap();
        for cut in 0..bytes.len() {
            prop_assert!(Frame::decode(&bytes[..cut]).is_err());
        }
        // Extended past the header's length, and extended with the header's
        // length fixed up (trailing bytes in the body).
        let mut longer = bytes.clone();
        longer.extend_from_slice(&extra);
        prop_assert_eq!(code_of(&longer), "ERR_RELAY_MALFORMED");
        let body_len = (longer.len() - HEADER_LEN) as u32;
        longer[6..10].copy_from_slice(&body_len.to_be_bytes());
        prop_assert_eq!(code_of(&longer), "ERR_RELAY_MALFORMED");
        // The same truncated body with a consistent header.
        if bytes.len() > HEADER_LEN {
            let mut shorter = bytes[..bytes.len() - 1].to_vec();
            shorter[6..10].copy_from_slice(&(body_len - extra.len() as u32 - 1).to_be_bytes());
            prop_assert_eq!(code_of(&shorter), "ERR_RELAY_MALFORMED");
        }
    }
}

fn register() -> Vec<u8> {
    Frame::new(9, Body::Register { device: 3 })
        .encode()
        .unwrap()
}

#[test]
fn the_register_frame_is_the_documented_bytes() {
    assert_eq!(hex::encode(register()), "0101000000090000000400000003");
}

#[test]
fn a_wrong_version_is_refused_and_its_request_id_still_read() {
    let mut bytes = register();
    for version in [0u8, 2, 0xff] {
        bytes[0] = version;
        assert_eq!(code_of(&bytes), "ERR_RELAY_UNSUPPORTED_VERSION");
        assert_eq!(Header::parse(&bytes).unwrap().request_id, 9);
    }
}

#[test]
fn unknown_commands_are_refused() {
    let mut bytes = register();
    let known = [
        kind::REGISTER,
        kind::SEND,
        kind::FETCH,
        kind::ACK,
        kind::UPLOAD_PREKEYS,
        kind::GET_BUNDLE,
        kind::LIST_DEVICES,
        kind::REGISTERED,
        kind::SENT,
        kind::QUEUE_EMPTY,
        kind::ACKED,
        kind::PREKEYS_STORED,
        kind::BUNDLE,
        kind::DEVICES,
        kind::ERROR,
        kind::DELIVER,
        kind::PREKEYS_LOW,
        kind::DISPLACED,
    ];
    for k in 0..=255u8 {
        if known.contains(&k) {
            continue;
        }
        bytes[1] = k;
        assert_eq!(code_of(&bytes), "ERR_RELAY_UNKNOWN_COMMAND", "type {k:#x}");
    }
}

#[test]
fn an_oversized_length_is_refused_from_the_header_alone() {
    let mut header = register()[..HEADER_LEN].to_vec();
    let over = (MAX_FRAME - HEADER_LEN + 1) as u32;
    header[6..10].copy_from_slice(&over.to_be_bytes());
    let e = Header::parse(&header).unwrap_err();
    assert_eq!(e.code(), "ERR_RELAY_TOO_LARGE");
    header[6..10].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        Header::parse(&header).unwrap_err().code(),
        "ERR_RELAY_TOO_LARGE"
    );
    let at_cap = (MAX_FRAME - HEADER_LEN) as u32;
    header[6..10].copy_from_slice(&at_cap.to_be_bytes());
    assert!(Header::parse(&header).is_ok());
}

#[test]
fn a_body_over_96_kib_is_too_large_but_framed() {
    let send = |len| {
        Frame::new(
            1,
            Body::Send {
                client_message_id: [1; 16],
                recipient: [2; 32],
                device: 0,
                body: vec![0; len],
            },
        )
    };
    assert!(send(MAX_BODY).encode().is_ok());
    assert_eq!(
        send(MAX_BODY + 1).encode().unwrap_err().code(),
        "ERR_RELAY_TOO_LARGE"
    );
    // The same refusal from bytes a peer made (the header itself is within MAX_FRAME).
    let mut bytes = send(MAX_BODY).encode().unwrap();
    bytes.push(0);
    let body_len = (bytes.len() - HEADER_LEN) as u32;
    bytes[6..10].copy_from_slice(&body_len.to_be_bytes());
    let len_at = HEADER_LEN + 16 + 32 + 4;
    bytes[len_at..len_at + 4].copy_from_slice(&(MAX_BODY as u32 + 1).to_be_bytes());
    assert_eq!(code_of(&bytes), "ERR_RELAY_TOO_LARGE");
}

#[test]
fn request_ids_follow_their_direction() {
    let cases = [
        Frame::new(0, Body::Fetch),
        Frame::new(0, Body::Acked),
        Frame::new(5, Body::Displaced),
    ];
    for f in cases {
        assert_eq!(
            f.encode().unwrap_err().code(),
            "ERR_RELAY_MALFORMED",
            "{f:?}"
        );
    }
    // A connection-level ERROR carries 0.
    let e = Frame::new(
        0,
        Body::Error {
            code: ErrorCode::NotAllowed,
            retry_after_ms: 0,
        },
    );
    assert_eq!(Frame::decode(&e.encode().unwrap()).unwrap(), e);
    // Decoding checks it too: FETCH with request id 0.
    let mut bytes = Frame::new(1, Body::Fetch).encode().unwrap();
    bytes[5] = 0;
    assert_eq!(code_of(&bytes), "ERR_RELAY_MALFORMED");
}

#[test]
fn values_out_of_range_are_refused() {
    let bad = [
        Body::Register { device: 0 },
        Body::GetBundle {
            identity: [0; 32],
            device: 0,
        },
        Body::Devices {
            devices: vec![2, 1],
        },
        Body::Devices { devices: vec![0] },
        Body::Devices {
            devices: (1..=MAX_DEVICES as u32 + 1).collect(),
        },
        Body::Bundle {
            device: 1,
            bundle: vec![],
            one_time_kem: None,
        },
        Body::Bundle {
            device: 1,
            bundle: vec![1; MAX_SESSION_BUNDLE + 1],
            one_time_kem: None,
        },
        Body::UploadPrekeys(PrekeyUpload {
            one_time: vec![
                OneTimePrekey {
                    id: 2,
                    public: [0; 32],
                },
                OneTimePrekey {
                    id: 2,
                    public: [0; 32],
                },
            ],
            ..Default::default()
        }),
        Body::UploadPrekeys(PrekeyUpload {
            one_time: vec![OneTimePrekey {
                id: 1,
                public: [0xff; 32],
            }],
            ..Default::default()
        }),
        Body::UploadPrekeys(PrekeyUpload {
            one_time: (1..=101)
                .map(|id| OneTimePrekey {
                    id,
                    public: [2; 32],
                })
                .collect(),
            ..Default::default()
        }),
    ];
    for body in bad {
        let f = Frame::new(1, body);
        assert!(f.encode().is_err(), "{f:?}");
    }
}

#[test]
fn bad_flags_and_error_codes_are_refused() {
    let mut bytes = Frame::new(
        1,
        Body::Error {
            code: ErrorCode::Quota,
            retry_after_ms: 0,
        },
    )
    .encode()
    .unwrap();
    bytes[HEADER_LEN..HEADER_LEN + 2].copy_from_slice(&0x0999u16.to_be_bytes());
    assert_eq!(code_of(&bytes), "ERR_RELAY_MALFORMED");
    let mut upload = Frame::new(1, Body::UploadPrekeys(PrekeyUpload::default()))
        .encode()
        .unwrap();
    assert_eq!(hex::encode(&upload[HEADER_LEN..]), "000000");
    upload[HEADER_LEN] = 2;
    assert_eq!(code_of(&upload), "ERR_RELAY_MALFORMED");
    // 101 one-time keys announced: refused from the count byte.
    upload[HEADER_LEN] = 0;
    upload[HEADER_LEN + 1] = 101;
    assert_eq!(code_of(&upload), "ERR_RELAY_TOO_LARGE");
}

#[test]
fn error_codes_are_one_stable_list() {
    let mut seen = std::collections::HashSet::new();
    for c in ErrorCode::ALL {
        assert_eq!(ErrorCode::from_u16(c.to_u16()), Some(c));
        assert!(c.as_str().starts_with("ERR_RELAY_"));
        assert!(seen.insert(c.as_str()));
    }
    assert_eq!(ErrorCode::from_u16(0), None);
    assert_eq!(ErrorCode::RateLimited.to_u16(), 7);
    assert_eq!(ErrorCode::Quota.as_str(), "ERR_RELAY_QUOTA");
}

/// A one-time or signed prekey of small order is refused both ways: no one
/// could start a session on it (the agreement is all zeros).
#[test]
fn small_order_prekeys_are_refused() {
    let mut minus_one = [0xff; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    let mut one = [0; 32];
    one[0] = 1;
    let upload = |public: [u8; 32]| {
        Frame::new(
            1,
            Body::UploadPrekeys(PrekeyUpload {
                one_time: vec![OneTimePrekey { id: 1, public }],
                ..Default::default()
            }),
        )
    };
    let good = upload([2; 32]).encode().unwrap();
    let at = good.windows(32).position(|w| w == [2; 32]).unwrap();
    for point in [[0; 32], one, minus_one] {
        let refused = upload(point).encode().unwrap_err();
        assert_eq!(refused.code(), "ERR_RELAY_MALFORMED");
        let mut bytes = good.clone();
        bytes[at..at + 32].copy_from_slice(&point);
        assert_eq!(code_of(&bytes), "ERR_RELAY_MALFORMED");
    }
}
