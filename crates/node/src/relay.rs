//! The relay protocol (keyward_relay): the relay's key and its answer to a
//! handshake, the client's handshake, the frame channel, TCP framing and the
//! prekey checks. Frames cross as plain objects (`RelayFrame`), converted
//! here field by field; the codec, the rules and the limits are the core's.

use keyward_relay::frame::{OneTimeKemPrekey, OneTimePrekey, PrekeyStatus, PrekeyUpload, SignedPrekey};
use keyward_relay::{prekeys, Body, Channel, ClientHandshake, Frame, Received, TcpDecoder};
use napi::Env;
use napi_derive::napi;

use crate::args::whole;
use crate::errors::{guard, Failure, Result};
use crate::handles::live_class;
use crate::names::RelayErrorCode;
use crate::owned;
use crate::session::{IdentityKey, PreKeySet};

/// Bytes of a fixed length, or an argument error saying what they should be.
fn fixed<const N: usize>(bytes: &[u8], what: &'static str) -> Result<[u8; N], Failure> {
    bytes.try_into().map_err(|_| keyward_relay::Error::Argument(what).into())
}

/// A time or message id: a u64 on the wire, a safe integer in JavaScript.
fn number(value: f64, what: &str) -> Result<u64, Failure> {
    whole(value, what, 0, 1 << 53)
}

fn narrow(value: u32, what: &'static str) -> Result<u16, Failure> {
    u16::try_from(value).map_err(|_| keyward_relay::Error::Argument(what).into())
}

/// The signed prekey section, exactly as uploaded and stored.
#[napi(object)]
pub struct RelaySignedPrekey {
    pub id: u32,
    pub bytes: owned::Uint8Array,
}

/// A one-time prekey: X25519 (32 bytes), or ML-KEM (key ‖ signature, 1 248 bytes).
#[napi(object)]
pub struct RelayOneTimePrekey {
    pub id: u32,
    pub key: owned::Uint8Array,
}

/// A device's prekeys as the relay holds them (PREKEYS_STORED, PREKEYS_LOW).
#[napi(object)]
pub struct RelayPrekeyStatus {
    pub one_time: u32,
    pub one_time_kem: u32,
    pub signed_id: u32,
    pub max_one_time_id: u32,
    pub max_one_time_kem_id: u32,
}

/// What UPLOAD_PREKEYS carries; the body of that frame has the same fields.
#[napi(object)]
pub struct RelayPrekeyUpload {
    pub signed: Option<RelaySignedPrekey>,
    pub one_time: Vec<RelayOneTimePrekey>,
    pub one_time_kem: Vec<RelayOneTimePrekey>,
}

/// A frame's body, by `type` (docs/relay.md, "Bodies"). Times and message
/// ids are whole numbers ≤ 2^53.
#[napi(discriminant = "type")]
pub enum RelayBody {
    Register {
        device: u32,
    },
    Send {
        client_message_id: owned::Uint8Array,
        recipient: owned::Uint8Array,
        device: u32,
        body: owned::Uint8Array,
    },
    Fetch,
    Ack {
        message_id: f64,
    },
    UploadPrekeys {
        signed: Option<RelaySignedPrekey>,
        one_time: Vec<RelayOneTimePrekey>,
        one_time_kem: Vec<RelayOneTimePrekey>,
    },
    GetBundle {
        identity: owned::Uint8Array,
        device: u32,
    },
    ListDevices {
        identity: owned::Uint8Array,
    },
    Registered {
        max_body: u32,
        max_in_flight: u32,
        relay_time_ms: f64,
    },
    Sent {
        stored_at_ms: f64,
        copies: u32,
    },
    QueueEmpty,
    Acked,
    PrekeysStored {
        status: RelayPrekeyStatus,
    },
    Bundle {
        device: u32,
        bundle: owned::Uint8Array,
        one_time_kem: Option<RelayOneTimePrekey>,
    },
    Devices {
        devices: Vec<u32>,
    },
    Error {
        code: RelayErrorCode,
        retry_after_ms: u32,
    },
    Deliver {
        message_id: f64,
        sender: owned::Uint8Array,
        sender_device: u32,
        received_at_ms: f64,
        body: owned::Uint8Array,
    },
    PrekeysLow {
        status: RelayPrekeyStatus,
    },
    Displaced,
}

#[napi(object)]
pub struct RelayFrame {
    pub request_id: u32,
    pub body: RelayBody,
}

fn status_to_js(s: PrekeyStatus) -> RelayPrekeyStatus {
    RelayPrekeyStatus {
        one_time: s.one_time.into(),
        one_time_kem: s.one_time_kem.into(),
        signed_id: s.signed_id,
        max_one_time_id: s.last_one_time_id,
        max_one_time_kem_id: s.last_one_time_kem_id,
    }
}

fn status_from_js(s: &RelayPrekeyStatus) -> Result<PrekeyStatus, Failure> {
    Ok(PrekeyStatus {
        one_time: narrow(s.one_time, "status.oneTime is at most 65535")?,
        one_time_kem: narrow(s.one_time_kem, "status.oneTimeKem is at most 65535")?,
        signed_id: s.signed_id,
        last_one_time_id: s.max_one_time_id,
        last_one_time_kem_id: s.max_one_time_kem_id,
    })
}

fn signed_to_js(s: &SignedPrekey) -> RelaySignedPrekey {
    RelaySignedPrekey { id: s.id, bytes: s.to_section().into() }
}

/// A section whose own id is not `id` is refused: the store files it by `id`.
fn signed_from_js(s: &RelaySignedPrekey) -> Result<SignedPrekey, Failure> {
    let signed = SignedPrekey::from_section(s.bytes.bytes())?;
    match signed.id == s.id {
        true => Ok(signed),
        false => Err(keyward_relay::Error::Argument("the signed prekey's id is not its section's").into()),
    }
}

fn kem_to_js(k: &OneTimeKemPrekey) -> RelayOneTimePrekey {
    RelayOneTimePrekey { id: k.id, key: k.key_and_signature().into() }
}

fn kem_from_js(k: &RelayOneTimePrekey) -> Result<OneTimeKemPrekey, Failure> {
    Ok(OneTimeKemPrekey::from_parts(k.id, k.key.bytes())?)
}

fn one_time_from_js(k: &RelayOneTimePrekey) -> Result<OneTimePrekey, Failure> {
    Ok(OneTimePrekey::from_parts(k.id, k.key.bytes())?)
}

fn upload_to_js(u: PrekeyUpload) -> RelayPrekeyUpload {
    RelayPrekeyUpload {
        signed: u.signed.as_ref().map(signed_to_js),
        one_time: u.one_time.iter().map(|k| RelayOneTimePrekey { id: k.id, key: k.public.into() }).collect(),
        one_time_kem: u.one_time_kem.iter().map(kem_to_js).collect(),
    }
}

fn upload_from_js(
    signed: &Option<RelaySignedPrekey>,
    one_time: &[RelayOneTimePrekey],
    one_time_kem: &[RelayOneTimePrekey],
) -> Result<PrekeyUpload, Failure> {
    Ok(PrekeyUpload {
        signed: signed.as_ref().map(signed_from_js).transpose()?,
        one_time: one_time.iter().map(one_time_from_js).collect::<Result<_, _>>()?,
        one_time_kem: one_time_kem.iter().map(kem_from_js).collect::<Result<_, _>>()?,
    })
}

fn body_to_js(body: Body) -> RelayBody {
    match body {
        Body::Register { device } => RelayBody::Register { device },
        Body::Send { client_message_id, recipient, device, body } => RelayBody::Send {
            client_message_id: client_message_id.into(),
            recipient: recipient.into(),
            device,
            body: body.into(),
        },
        Body::Fetch => RelayBody::Fetch,
        Body::Ack { message_id } => RelayBody::Ack { message_id: message_id as f64 },
        Body::UploadPrekeys(u) => {
            let RelayPrekeyUpload { signed, one_time, one_time_kem } = upload_to_js(u);
            RelayBody::UploadPrekeys { signed, one_time, one_time_kem }
        }
        Body::GetBundle { identity, device } => RelayBody::GetBundle { identity: identity.into(), device },
        Body::ListDevices { identity } => RelayBody::ListDevices { identity: identity.into() },
        Body::Registered { max_body, max_in_flight, relay_time_ms } => {
            RelayBody::Registered { max_body, max_in_flight: max_in_flight.into(), relay_time_ms: relay_time_ms as f64 }
        }
        Body::Sent { stored_at_ms, copies } => {
            RelayBody::Sent { stored_at_ms: stored_at_ms as f64, copies: copies.into() }
        }
        Body::QueueEmpty => RelayBody::QueueEmpty,
        Body::Acked => RelayBody::Acked,
        Body::PrekeysStored(s) => RelayBody::PrekeysStored { status: status_to_js(s) },
        Body::Bundle { device, bundle, one_time_kem } => {
            RelayBody::Bundle { device, bundle: bundle.into(), one_time_kem: one_time_kem.as_ref().map(kem_to_js) }
        }
        Body::Devices { devices } => RelayBody::Devices { devices },
        Body::Error { code, retry_after_ms } => RelayBody::Error { code: code.into(), retry_after_ms },
        Body::Deliver { message_id, sender, sender_device, received_at_ms, body } => RelayBody::Deliver {
            message_id: message_id as f64,
            sender: sender.into(),
            sender_device,
            received_at_ms: received_at_ms as f64,
            body: body.into(),
        },
        Body::PrekeysLow(s) => RelayBody::PrekeysLow { status: status_to_js(s) },
        Body::Displaced => RelayBody::Displaced,
    }
}

fn body_from_js(body: RelayBody) -> Result<Body, Failure> {
    Ok(match body {
        RelayBody::Register { device } => Body::Register { device },
        RelayBody::Send { client_message_id, recipient, device, body } => Body::Send {
            client_message_id: fixed(client_message_id.bytes(), "a client message id is 16 bytes")?,
            recipient: fixed(recipient.bytes(), "a recipient identity is 32 bytes")?,
            device,
            body: body.into_vec(),
        },
        RelayBody::Fetch => Body::Fetch,
        RelayBody::Ack { message_id } => Body::Ack { message_id: number(message_id, "messageId")? },
        RelayBody::UploadPrekeys { signed, one_time, one_time_kem } => {
            Body::UploadPrekeys(upload_from_js(&signed, &one_time, &one_time_kem)?)
        }
        RelayBody::GetBundle { identity, device } => {
            Body::GetBundle { identity: fixed(identity.bytes(), "an identity is 32 bytes")?, device }
        }
        RelayBody::ListDevices { identity } => {
            Body::ListDevices { identity: fixed(identity.bytes(), "an identity is 32 bytes")? }
        }
        RelayBody::Registered { max_body, max_in_flight, relay_time_ms } => Body::Registered {
            max_body,
            max_in_flight: narrow(max_in_flight, "maxInFlight is at most 65535")?,
            relay_time_ms: number(relay_time_ms, "relayTimeMs")?,
        },
        RelayBody::Sent { stored_at_ms, copies } => Body::Sent {
            stored_at_ms: number(stored_at_ms, "storedAtMs")?,
            copies: narrow(copies, "copies is at most 65535")?,
        },
        RelayBody::QueueEmpty => Body::QueueEmpty,
        RelayBody::Acked => Body::Acked,
        RelayBody::PrekeysStored { status } => Body::PrekeysStored(status_from_js(&status)?),
        RelayBody::Bundle { device, bundle, one_time_kem } => Body::Bundle {
            device,
            bundle: bundle.into_vec(),
            one_time_kem: one_time_kem.as_ref().map(kem_from_js).transpose()?,
        },
        RelayBody::Devices { devices } => Body::Devices { devices },
        RelayBody::Error { code, retry_after_ms } => Body::Error { code: code.into(), retry_after_ms },
        RelayBody::Deliver { message_id, sender, sender_device, received_at_ms, body } => Body::Deliver {
            message_id: number(message_id, "messageId")?,
            sender: fixed(sender.bytes(), "a sender identity is 32 bytes")?,
            sender_device,
            received_at_ms: number(received_at_ms, "receivedAtMs")?,
            body: body.into_vec(),
        },
        RelayBody::PrekeysLow { status } => Body::PrekeysLow(status_from_js(&status)?),
        RelayBody::Displaced => Body::Displaced,
    })
}

fn frame_to_js(frame: Frame) -> RelayFrame {
    RelayFrame { request_id: frame.request_id, body: body_to_js(frame.body) }
}

fn frame_from_js(frame: RelayFrame) -> Result<Frame, Failure> {
    Ok(Frame::new(frame.request_id, body_from_js(frame.body)?))
}

live_class!(RelayKey(keyward_relay::RelayKey, "this relay key was disposed"));

/// The client a handshake accepted: its identity (Ed25519), fingerprint and channel.
#[napi(object, object_from_js = false)]
pub struct RelayAccepted {
    pub identity: owned::Uint8Array,
    pub fingerprint: owned::Uint8Array,
    pub channel: RelayChannel,
}

/// The answer to message 1: always send `message2`; then either go on with
/// `accepted`, or close after it when `refusal` says why not.
#[napi(object, object_from_js = false)]
pub struct RelayAnswer {
    pub message2: owned::Uint8Array,
    pub accepted: Option<RelayAccepted>,
    pub refusal: Option<RelayErrorCode>,
}

#[napi]
impl RelayKey {
    #[napi(factory)]
    pub fn generate() -> Result<Self> {
        guard(keyward_relay::RelayKey::generate).map(Self::wrap)
    }

    #[napi(factory)]
    pub fn from_bytes(secret: &[u8]) -> Result<Self> {
        guard(|| keyward_relay::RelayKey::from_bytes(secret)).map(Self::wrap)
    }

    #[napi(getter)]
    pub fn public_key(&self) -> Result<owned::Uint8Array> {
        Ok(self.inner.get()?.public_key().into())
    }

    /// Copies the secret out, for whoever stores the key.
    #[napi]
    pub fn export_bytes(&self) -> Result<owned::Uint8Array> {
        Ok(self.inner.get()?.expose()[..].into())
    }

    /// Reads message 1 and answers it; throws `ERR_RELAY_HANDSHAKE` when it
    /// does not authenticate (then there is nothing to answer).
    #[napi]
    pub fn respond(&self, message1: &[u8]) -> Result<RelayAnswer> {
        let key = self.inner.get()?;
        let answer = guard(|| key.respond(message1))?;
        let (accepted, refusal) = match answer.outcome {
            Ok(a) => (Some(a), None),
            Err(e) => (None, Some(e.wire_code().unwrap_or(keyward_relay::ErrorCode::Malformed).into())),
        };
        let accepted = accepted.map(|a| RelayAccepted {
            identity: a.identity.into(),
            fingerprint: a.fingerprint.into(),
            channel: RelayChannel::wrap(a.channel),
        });
        Ok(RelayAnswer { message2: answer.message2.into(), accepted, refusal })
    }
}

live_class!(RelayClientHandshake(ClientHandshake, "this handshake was already finished"));

#[napi(object, object_from_js = false)]
pub struct RelayClientStart {
    pub handshake: RelayClientHandshake,
    pub message1: owned::Uint8Array,
}

#[napi]
impl RelayClientHandshake {
    #[napi]
    pub fn start(identity: &IdentityKey, relay_public_key: &[u8]) -> Result<RelayClientStart> {
        let identity = identity.inner.get()?;
        let relay = fixed(relay_public_key, "the relay's public key is 32 bytes")?;
        let (handshake, message1) = guard(|| ClientHandshake::start(identity, &relay))?;
        Ok(RelayClientStart { handshake: Self::wrap(handshake), message1: message1.into() })
    }

    /// Reads message 2. Throws `ERR_RELAY_HANDSHAKE`, or the relay's refusal
    /// code (`ERR_RELAY_IDENTITY_MISMATCH`, …); the handshake is used up either way.
    #[napi]
    pub fn finish(&mut self, env: &Env, message2: &[u8]) -> napi::Result<RelayChannel> {
        crate::workers::now(env, || Ok(RelayChannel::wrap(self.inner.take()?.finish(message2)?)))
    }
}

live_class!(RelayChannel(Channel, "this relay channel was disposed"));

/// A whole frame, or one that decoded wrong but leaves the connection
/// usable: answer it with an ERROR frame of that code and request id.
#[napi(object, object_from_js = false)]
pub struct RelayReceived {
    pub frame: Option<RelayFrame>,
    pub refused: Option<RelayRefused>,
}

#[napi(object, object_from_js = false)]
pub struct RelayRefused {
    pub request_id: u32,
    pub code: RelayErrorCode,
}

#[napi]
impl RelayChannel {
    #[napi(getter)]
    pub fn registered(&self) -> Result<bool> {
        Ok(self.inner.get()?.is_registered())
    }

    /// The frame as Noise transport messages, in order.
    #[napi]
    pub fn seal(&mut self, frame: RelayFrame) -> Result<Vec<owned::Uint8Array>> {
        let (frame, channel) = (frame_from_js(frame)?, self.inner.get_mut()?);
        let messages = guard(|| channel.seal(&frame))?;
        Ok(messages.into_iter().map(Into::into).collect())
    }

    /// An already encoded frame (`relayEncodeFrame`), unchecked beyond its
    /// header: for tests and independent implementations.
    #[napi]
    pub fn seal_bytes(&mut self, frame: &[u8]) -> Result<Vec<owned::Uint8Array>> {
        let channel = self.inner.get_mut()?;
        let messages = guard(|| channel.seal_bytes(frame))?;
        Ok(messages.into_iter().map(Into::into).collect())
    }

    /// One transport message in: `null` while a frame is incomplete. Throws
    /// when the connection must end (see keyward_relay::Channel::open).
    #[napi]
    pub fn open(&mut self, message: &[u8]) -> Result<Option<RelayReceived>> {
        let channel = self.inner.get_mut()?;
        Ok(guard(|| channel.open(message))?.map(|received| match received {
            Received::Frame(frame) => RelayReceived { frame: Some(frame_to_js(frame)), refused: None },
            Received::Refused { request_id, error } => {
                let code = error.wire_code().unwrap_or(keyward_relay::ErrorCode::Malformed).into();
                RelayReceived { frame: None, refused: Some(RelayRefused { request_id, code }) }
            }
        }))
    }
}

/// A frame's bytes (header and body), as a channel would seal them.
#[napi]
pub fn relay_encode_frame(frame: RelayFrame) -> Result<owned::Uint8Array> {
    let frame = frame_from_js(frame)?;
    guard(|| frame.encode()).map(Into::into)
}

/// TCP framing: whole Noise messages out of a byte stream.
#[napi(js_name = "RelayTcpDecoder")]
pub struct RelayTcpDecoder {
    inner: TcpDecoder,
}

#[napi]
impl RelayTcpDecoder {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        RelayTcpDecoder { inner: TcpDecoder::new() }
    }

    /// Throws `ERR_RELAY_TOO_LARGE` on a length of 0 or over 65 535: end the connection.
    #[napi]
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<owned::Uint8Array>> {
        Ok(guard(|| self.inner.push(bytes))?.into_iter().map(Into::into).collect())
    }

    #[napi(getter)]
    pub fn buffered(&self) -> u32 {
        self.inner.buffered() as u32
    }
}

/// A Noise message with its 4-byte big-endian length.
#[napi]
pub fn relay_tcp_encode(message: &[u8]) -> Result<owned::Uint8Array> {
    guard(|| keyward_relay::tcp_encode(message)).map(Into::into)
}

/// The signature and key checks on an upload by `owner` (BAD_SIGNATURE).
#[napi]
pub fn relay_verify_upload(owner: &[u8], upload: RelayPrekeyUpload) -> Result<()> {
    let owner = fixed(owner, "an owner identity is 32 bytes")?;
    let upload = upload_from_js(&upload.signed, &upload.one_time, &upload.one_time_kem)?;
    guard(|| prekeys::verify_upload(&owner, &upload))
}

/// The id and room checks of an upload against a device's status and its
/// stored signed section (STALE_KEY_ID, NOT_ALLOWED, QUOTA), with room for
/// `max_one_time_stored` keys of each kind; `true` when the upload's signed
/// section replaces the stored one.
#[napi]
pub fn relay_check_upload(
    status: RelayPrekeyStatus,
    current: Option<&[u8]>,
    upload: RelayPrekeyUpload,
    max_one_time_stored: f64,
) -> Result<bool> {
    let max = whole(max_one_time_stored, "maxOneTimeStored", 0, keyward_relay::limits::MAX_ONE_TIME_STORED as u64)?;
    let (status, upload) =
        (status_from_js(&status)?, upload_from_js(&upload.signed, &upload.one_time, &upload.one_time_kem)?);
    guard(|| prekeys::check_upload_against(&status, current, &upload, max as usize))
}

/// The bundle the relay hands out for `owner`'s stored section and one-time key.
#[napi]
pub fn relay_compose_bundle(
    owner: &[u8],
    signed: RelaySignedPrekey,
    one_time: Option<RelayOneTimePrekey>,
) -> Result<owned::Uint8Array> {
    let owner = fixed(owner, "an owner identity is 32 bytes")?;
    let (signed, one_time) = (signed_from_js(&signed)?, one_time.as_ref().map(one_time_from_js).transpose()?);
    Ok(prekeys::compose_bundle(&owner, &signed, one_time.as_ref()).into())
}

/// Every prekey of `prekeys` not yet published, as uploads of at most 100
/// one-time keys of each kind (the first carries the signed section).
#[napi]
pub fn relay_prekey_uploads(prekeys: &mut PreKeySet, identity: &IdentityKey) -> Result<Vec<RelayPrekeyUpload>> {
    let (set, identity) = (prekeys.inner.get_mut()?, identity.inner.get()?);
    let upload = guard(|| set.upload(identity))?;
    Ok(prekeys::split_upload(upload.into()).into_iter().map(upload_to_js).collect())
}
