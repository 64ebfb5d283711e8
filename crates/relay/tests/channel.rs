//! Frames over the Noise transport: chunking of frames above one Noise
//! message, the size refusal before buffering, ordering, frames refused
//! without ending the connection; and the TCP length-prefix decoder.

mod common;

use common::*;
use keyward_relay::frame::{OneTimeKemPrekey, OneTimePrekey, PrekeyUpload};
use keyward_relay::limits::*;
use keyward_relay::{Body, Frame, Received, TcpDecoder};
use keyward_session::noise::Transport;

fn registered() -> (Transport, keyward_relay::Channel) {
    let (mut raw, accepted) = raw_pair(&identity(1));
    let mut relay = accepted.channel;
    let register = Frame::new(1, Body::Register { device: 1 })
        .encode()
        .unwrap();
    let m = raw.encrypt(&register).unwrap();
    assert!(matches!(relay.open(&m).unwrap(), Some(Received::Frame(_))));
    (raw, relay)
}

fn big_send() -> Frame {
    Frame::new(
        7,
        Body::Send {
            client_message_id: [3; 16],
            recipient: [4; 32],
            device: 1,
            body: (0..MAX_BODY).map(|i| i as u8).collect(),
        },
    )
}

#[test]
fn a_96_kib_frame_travels_as_two_noise_messages() {
    let (mut raw, mut relay) = registered();
    let bytes = big_send().encode().unwrap();
    assert_eq!(bytes.len(), HEADER_LEN + 56 + MAX_BODY);
    let chunks: Vec<&[u8]> = bytes.chunks(MAX_CHUNK).collect();
    assert_eq!(chunks.len(), 2);
    let first = raw.encrypt(chunks[0]).unwrap();
    assert_eq!(first.len(), MAX_NOISE_MESSAGE);
    assert_eq!(relay.open(&first).unwrap(), None);
    let second = raw.encrypt(chunks[1]).unwrap();
    assert_eq!(
        relay.open(&second).unwrap(),
        Some(Received::Frame(big_send()))
    );
}

#[test]
fn a_full_prekey_upload_round_trips_through_the_channel() {
    let alice = identity(1);
    let (client, m1) = keyward_relay::ClientHandshake::start(&alice, &relay_public()).unwrap();
    let answer = keyward_relay::respond(&RELAY_SECRET, &m1).unwrap();
    let mut c = client.finish(&answer.message2).unwrap();
    let mut r = answer.outcome.unwrap().channel;
    let register = c
        .seal(&Frame::new(1, Body::Register { device: 1 }))
        .unwrap();
    r.open(&register[0]).unwrap();
    let upload = Frame::new(
        2,
        Body::UploadPrekeys(PrekeyUpload {
            signed: None,
            one_time: (1..=100)
                .map(|id| OneTimePrekey {
                    id,
                    public: [id as u8; 32],
                })
                .collect(),
            one_time_kem: (1..=100)
                .map(|id| OneTimeKemPrekey {
                    id,
                    public: Box::new([id as u8; KEM_PUBLIC_LEN]),
                    signature: [1; 64],
                })
                .collect(),
        }),
    );
    let messages = c.seal(&upload).unwrap();
    assert_eq!(messages.len(), 2);
    assert!(messages.iter().all(|m| m.len() <= MAX_NOISE_MESSAGE));
    assert_eq!(r.open(&messages[0]).unwrap(), None);
    assert_eq!(r.open(&messages[1]).unwrap(), Some(Received::Frame(upload)));
}

#[test]
fn a_frame_over_the_cap_is_refused_from_its_first_chunk() {
    let (mut raw, mut relay) = registered();
    let mut first = big_send().encode().unwrap()[..MAX_CHUNK].to_vec();
    first[6..10].copy_from_slice(&((MAX_FRAME - HEADER_LEN + 1) as u32).to_be_bytes());
    let m = raw.encrypt(&first).unwrap();
    assert_eq!(relay.open(&m).unwrap_err().code(), "ERR_RELAY_TOO_LARGE");
    // Nothing more is accepted on it.
    let next = raw
        .encrypt(&Frame::new(2, Body::Fetch).encode().unwrap())
        .unwrap();
    assert!(relay.open(&next).is_err());
}

#[test]
fn chunks_of_the_wrong_size_end_the_connection() {
    let bytes = big_send().encode().unwrap();
    // A first chunk shorter than MAX_CHUNK for a frame longer than it.
    let (mut raw, mut relay) = registered();
    let m = raw.encrypt(&bytes[..30_000]).unwrap();
    assert_eq!(relay.open(&m).unwrap_err().code(), "ERR_RELAY_MALFORMED");
    // A last chunk longer than the rest of the frame (two frames in one message).
    let (mut raw, mut relay) = registered();
    let fetch = Frame::new(2, Body::Fetch).encode().unwrap();
    let m = raw.encrypt(&[fetch.clone(), fetch].concat()).unwrap();
    assert_eq!(relay.open(&m).unwrap_err().code(), "ERR_RELAY_MALFORMED");
    // A chunk shorter than a header.
    let (mut raw, mut relay) = registered();
    let m = raw.encrypt(&[1, 3, 0]).unwrap();
    assert_eq!(relay.open(&m).unwrap_err().code(), "ERR_RELAY_MALFORMED");
}

#[test]
fn a_repeated_or_reordered_message_does_not_decrypt() {
    let (mut raw, mut relay) = registered();
    let a = raw
        .encrypt(&Frame::new(2, Body::Fetch).encode().unwrap())
        .unwrap();
    let b = raw
        .encrypt(&Frame::new(3, Body::Fetch).encode().unwrap())
        .unwrap();
    assert_eq!(relay.open(&b).unwrap_err().code(), "ERR_RELAY_DECRYPTION");
    let _ = a;
    let (mut raw, mut relay) = registered();
    let a = raw
        .encrypt(&Frame::new(2, Body::Fetch).encode().unwrap())
        .unwrap();
    assert!(relay.open(&a).unwrap().is_some());
    assert_eq!(relay.open(&a).unwrap_err().code(), "ERR_RELAY_DECRYPTION");
}

#[test]
fn a_refused_frame_is_answered_and_the_connection_goes_on() {
    let (mut raw, mut relay) = registered();
    let mut send = |bytes: Vec<u8>| relay_open(&mut relay, raw.encrypt(&bytes).unwrap());
    fn relay_open(r: &mut keyward_relay::Channel, m: Vec<u8>) -> Received {
        r.open(&m).unwrap().unwrap()
    }
    let mut unknown = Frame::new(5, Body::Fetch).encode().unwrap();
    unknown[1] = 0x30;
    let refused = |r: Received| match r {
        Received::Refused { request_id, error } => (request_id, error.code()),
        other => panic!("{other:?}"),
    };
    assert_eq!(refused(send(unknown)), (5, "ERR_RELAY_UNKNOWN_COMMAND"));
    let mut v2 = Frame::new(6, Body::Fetch).encode().unwrap();
    v2[0] = 2;
    assert_eq!(refused(send(v2)), (6, "ERR_RELAY_UNSUPPORTED_VERSION"));
    let pushed = Frame::new(0, Body::Displaced).encode().unwrap();
    assert_eq!(refused(send(pushed)), (0, "ERR_RELAY_NOT_ALLOWED"));
    let again = Frame::new(8, Body::Register { device: 2 })
        .encode()
        .unwrap();
    assert_eq!(refused(send(again)), (8, "ERR_RELAY_NOT_ALLOWED"));
    let fetch = Frame::new(9, Body::Fetch);
    assert_eq!(send(fetch.encode().unwrap()), Received::Frame(fetch));
}

#[test]
fn each_end_sends_only_its_own_frames() {
    let alice = identity(1);
    let (client, m1) = keyward_relay::ClientHandshake::start(&alice, &relay_public()).unwrap();
    let answer = keyward_relay::respond(&RELAY_SECRET, &m1).unwrap();
    let mut c = client.finish(&answer.message2).unwrap();
    let mut r = answer.outcome.unwrap().channel;
    assert_eq!(
        c.seal(&Frame::new(1, Body::Acked)).unwrap_err().code(),
        "ERR_RELAY_NOT_ALLOWED"
    );
    assert_eq!(
        r.seal(&Frame::new(1, Body::Fetch)).unwrap_err().code(),
        "ERR_RELAY_NOT_ALLOWED"
    );
    // A response before REGISTER is allowed (the ERROR refusing it), a push is not.
    assert!(r.seal(&Frame::new(1, Body::QueueEmpty)).is_ok());
    assert!(r.seal(&Frame::new(0, Body::Displaced)).is_err());
}

#[test]
fn the_tcp_decoder_splits_a_stream_fed_byte_by_byte() {
    let messages = [vec![1u8; 1], vec![2; 300], vec![3; MAX_NOISE_MESSAGE]];
    let stream: Vec<u8> = messages
        .iter()
        .flat_map(|m| keyward_relay::tcp_encode(m).unwrap())
        .collect();
    let mut d = TcpDecoder::new();
    let mut out = Vec::new();
    for b in &stream {
        out.extend(d.push(std::slice::from_ref(b)).unwrap());
    }
    assert_eq!(out, messages);
    assert!(d.is_idle());
    // All at once, too.
    assert_eq!(TcpDecoder::new().push(&stream).unwrap(), messages);
}

#[test]
fn the_tcp_decoder_refuses_a_length_before_buffering_the_message() {
    for len in [0u32, MAX_NOISE_MESSAGE as u32 + 1, u32::MAX] {
        let mut d = TcpDecoder::new();
        assert!(d.push(&len.to_be_bytes()[..3]).unwrap().is_empty());
        let e = d.push(&len.to_be_bytes()[3..]).unwrap_err();
        assert_eq!(e.code(), "ERR_RELAY_TOO_LARGE");
        assert_eq!(d.buffered(), 0, "nothing of the message was kept");
        assert!(d.push(&[1, 2, 3]).is_err(), "the stream stays failed");
    }
    assert!(keyward_relay::tcp_encode(&[]).is_err());
    assert!(keyward_relay::tcp_encode(&vec![0; MAX_NOISE_MESSAGE + 1]).is_err());
}

#[test]
fn a_stream_cut_mid_message_is_not_idle() {
    let mut d = TcpDecoder::new();
    let wire = keyward_relay::tcp_encode(&[9; 10]).unwrap();
    assert!(d.push(&wire[..7]).unwrap().is_empty());
    assert!(!d.is_idle());
    assert_eq!(d.buffered(), 3);
}
