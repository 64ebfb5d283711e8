//! Frames: the plaintext units inside the encrypted channel. Every frame is
//! `version (1) ‖ type (1) ‖ request id (4) ‖ body length (4) ‖ body`, all
//! integers big-endian; the header layout is the same in every version, so a
//! frame of an unknown version or type can be skipped and answered with an
//! ERROR that names its request id. Bodies have exact lengths: a decoder
//! refuses truncated and extended bodies alike. Encoding is canonical:
//! `decode(encode(f)) == f` and `encode(decode(b)) == b`.

use keyward_session::x25519;

use crate::codec::{Reader, Writer};
use crate::error::{Error, ErrorCode, Result};
use crate::limits::*;

/// The protocol version this crate speaks (frames and handshake payloads).
pub const VERSION: u8 = 1;

/// Frame types, by direction.
pub mod kind {
    // Client to relay: requests (request id != 0).
    pub const REGISTER: u8 = 0x01;
    pub const SEND: u8 = 0x02;
    pub const FETCH: u8 = 0x03;
    pub const ACK: u8 = 0x04;
    pub const UPLOAD_PREKEYS: u8 = 0x05;
    pub const GET_BUNDLE: u8 = 0x06;
    pub const LIST_DEVICES: u8 = 0x07;
    // Relay to client: responses (the request's id) ...
    pub const REGISTERED: u8 = 0x81;
    pub const SENT: u8 = 0x82;
    pub const QUEUE_EMPTY: u8 = 0x83;
    pub const ACKED: u8 = 0x84;
    pub const PREKEYS_STORED: u8 = 0x85;
    pub const BUNDLE: u8 = 0x86;
    pub const DEVICES: u8 = 0x87;
    /// ... or an ERROR (the request's id, or 0 for the connection) ...
    pub const ERROR: u8 = 0xFF;
    // ... and pushes (request id 0).
    pub const DELIVER: u8 = 0xC0;
    pub const PREKEYS_LOW: u8 = 0xC1;
    pub const DISPLACED: u8 = 0xC2;
}

pub type KemPublic = Box<[u8; KEM_PUBLIC_LEN]>;

/// The signed prekey section of an upload: exactly what crates/session's
/// bundle signs after the owner's identity key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPrekey {
    pub id: u32,
    pub public: [u8; KEY_LEN],
    /// The ML-KEM-768 prekey under the same signature: the last-resort KEM key.
    pub kem: Option<(u32, KemPublic)>,
    pub signature: [u8; SIGNATURE_LEN],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimePrekey {
    pub id: u32,
    pub public: [u8; KEY_LEN],
}

/// A one-time ML-KEM-768 prekey, signed on its own (docs/relay.md, "Prekeys").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeKemPrekey {
    pub id: u32,
    pub public: KemPublic,
    pub signature: [u8; SIGNATURE_LEN],
}

impl OneTimeKemPrekey {
    /// `id ‖ public ‖ signature`: as on the wire, and as
    /// `Session::from_bundle_with_kem` takes it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        write_kem_prekey(&mut w, self);
        w.buf
    }
}

impl SignedPrekey {
    /// The section as uploaded, and as a store keeps it: `id ‖ public ‖ kem
    /// flag ‖ [kem id ‖ kem public] ‖ signature` (docs/relay.md, "Prekeys").
    pub fn to_section(&self) -> Vec<u8> {
        let mut w = Writer::default();
        write_signed_part(&mut w, self);
        w.raw(&self.signature);
        w.buf
    }

    /// A section from [`SignedPrekey::to_section`], exactly (no trailing bytes).
    pub fn from_section(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let signed = read_signed(&mut r)?;
        r.finish()?;
        Ok(signed)
    }
}

impl OneTimePrekey {
    pub fn from_parts(id: u32, public: &[u8]) -> Result<Self> {
        let public = public
            .try_into()
            .map_err(|_| Error::malformed("a one-time X25519 prekey is 32 bytes"))?;
        Ok(OneTimePrekey { id, public })
    }
}

impl OneTimeKemPrekey {
    /// `public ‖ signature`: what a store keeps under the id.
    pub fn key_and_signature(&self) -> Vec<u8> {
        [&self.public[..], &self.signature[..]].concat()
    }

    /// From an id and [`OneTimeKemPrekey::key_and_signature`], exactly.
    pub fn from_parts(id: u32, key_and_signature: &[u8]) -> Result<Self> {
        let mut r = Reader::new(key_and_signature);
        let (public, signature) = (read_kem_public(&mut r)?, r.array()?);
        r.finish()?;
        Ok(OneTimeKemPrekey {
            id,
            public,
            signature,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrekeyUpload {
    pub signed: Option<SignedPrekey>,
    /// Ascending ids, at most `MAX_ONE_TIME_PER_UPLOAD`.
    pub one_time: Vec<OneTimePrekey>,
    /// Ascending ids, at most `MAX_ONE_TIME_PER_UPLOAD`.
    pub one_time_kem: Vec<OneTimeKemPrekey>,
}

/// A device's prekeys as the relay holds them (PREKEYS_STORED, PREKEYS_LOW).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrekeyStatus {
    pub one_time: u16,
    pub one_time_kem: u16,
    /// 0 when none was uploaded yet.
    pub signed_id: u32,
    /// The highest one-time ids ever accepted (0: none); new ones must be above.
    pub last_one_time_id: u32,
    pub last_one_time_kem_id: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Register {
        device: u32,
    },
    Send {
        client_message_id: [u8; CLIENT_MESSAGE_ID_LEN],
        recipient: [u8; KEY_LEN],
        /// 0: every device of the recipient.
        device: u32,
        body: Vec<u8>,
    },
    Fetch,
    Ack {
        message_id: u64,
    },
    UploadPrekeys(PrekeyUpload),
    GetBundle {
        identity: [u8; KEY_LEN],
        device: u32,
    },
    ListDevices {
        identity: [u8; KEY_LEN],
    },
    Registered {
        max_body: u32,
        max_in_flight: u16,
        relay_time_ms: u64,
    },
    Sent {
        stored_at_ms: u64,
        copies: u16,
    },
    QueueEmpty,
    Acked,
    PrekeysStored(PrekeyStatus),
    Bundle {
        device: u32,
        /// A crates/session bundle (`Session::from_bundle` takes it as is).
        bundle: Vec<u8>,
        /// The claimed one-time ML-KEM prekey; none: use the bundle's last-resort key.
        one_time_kem: Option<OneTimeKemPrekey>,
    },
    Devices {
        /// Ascending, non-zero.
        devices: Vec<u32>,
    },
    Error {
        code: ErrorCode,
        /// Milliseconds; non-zero only for RateLimited and Unavailable.
        retry_after_ms: u32,
    },
    Deliver {
        message_id: u64,
        sender: [u8; KEY_LEN],
        sender_device: u32,
        received_at_ms: u64,
        body: Vec<u8>,
    },
    PrekeysLow(PrekeyStatus),
    Displaced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A request a client sends; its request id is non-zero.
    Request,
    /// A relay's answer to a request, with the request's id (ERROR may carry 0).
    Response,
    /// A relay push; its request id is 0.
    Push,
}

impl Body {
    pub fn kind(&self) -> u8 {
        use kind::*;
        match self {
            Body::Register { .. } => REGISTER,
            Body::Send { .. } => SEND,
            Body::Fetch => FETCH,
            Body::Ack { .. } => ACK,
            Body::UploadPrekeys(_) => UPLOAD_PREKEYS,
            Body::GetBundle { .. } => GET_BUNDLE,
            Body::ListDevices { .. } => LIST_DEVICES,
            Body::Registered { .. } => REGISTERED,
            Body::Sent { .. } => SENT,
            Body::QueueEmpty => QUEUE_EMPTY,
            Body::Acked => ACKED,
            Body::PrekeysStored(_) => PREKEYS_STORED,
            Body::Bundle { .. } => BUNDLE,
            Body::Devices { .. } => DEVICES,
            Body::Error { .. } => ERROR,
            Body::Deliver { .. } => DELIVER,
            Body::PrekeysLow(_) => PREKEYS_LOW,
            Body::Displaced => DISPLACED,
        }
    }

    pub fn direction(&self) -> Direction {
        direction_of(self.kind()).expect("every body has a known kind")
    }
}

fn direction_of(k: u8) -> Option<Direction> {
    use kind::*;
    match k {
        REGISTER | SEND | FETCH | ACK | UPLOAD_PREKEYS | GET_BUNDLE | LIST_DEVICES => {
            Some(Direction::Request)
        }
        REGISTERED | SENT | QUEUE_EMPTY | ACKED | PREKEYS_STORED | BUNDLE | DEVICES | ERROR => {
            Some(Direction::Response)
        }
        DELIVER | PREKEYS_LOW | DISPLACED => Some(Direction::Push),
        _ => None,
    }
}

/// A frame's fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub kind: u8,
    pub request_id: u32,
    pub body_len: u32,
}

impl Header {
    /// Reads the header from the first `HEADER_LEN` bytes (more may follow).
    /// Refuses a frame longer than `MAX_FRAME`: this is the check that runs
    /// before the rest of a frame is buffered.
    pub fn parse(bytes: &[u8]) -> Result<Header> {
        let h: [u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(Error::malformed("a frame is shorter than its header"))?;
        let header = Header {
            version: h[0],
            kind: h[1],
            request_id: u32::from_be_bytes([h[2], h[3], h[4], h[5]]),
            body_len: u32::from_be_bytes([h[6], h[7], h[8], h[9]]),
        };
        if header.frame_len() > MAX_FRAME {
            return Err(Error::refused(
                ErrorCode::TooLarge,
                "a frame is longer than MAX_FRAME",
            ));
        }
        Ok(header)
    }

    /// Header and body.
    pub fn frame_len(&self) -> usize {
        HEADER_LEN + self.body_len as usize
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub request_id: u32,
    pub body: Body,
}

fn too_large(detail: &'static str) -> Error {
    Error::refused(ErrorCode::TooLarge, detail)
}

fn write_status(w: &mut Writer, s: &PrekeyStatus) {
    w.u16(s.one_time)
        .u16(s.one_time_kem)
        .u32(s.signed_id)
        .u32(s.last_one_time_id)
        .u32(s.last_one_time_kem_id);
}

fn read_status(r: &mut Reader) -> Result<PrekeyStatus> {
    Ok(PrekeyStatus {
        one_time: r.u16()?,
        one_time_kem: r.u16()?,
        signed_id: r.u32()?,
        last_one_time_id: r.u32()?,
        last_one_time_kem_id: r.u32()?,
    })
}

fn write_kem_prekey(w: &mut Writer, k: &OneTimeKemPrekey) {
    w.u32(k.id).raw(&k.public[..]).raw(&k.signature);
}

fn read_kem_public(r: &mut Reader) -> Result<KemPublic> {
    let mut public = Box::new([0u8; KEM_PUBLIC_LEN]);
    public.copy_from_slice(r.take(KEM_PUBLIC_LEN)?);
    Ok(public)
}

fn read_kem_prekey(r: &mut Reader) -> Result<OneTimeKemPrekey> {
    Ok(OneTimeKemPrekey {
        id: r.u32()?,
        public: read_kem_public(r)?,
        signature: r.array()?,
    })
}

/// The signed section as uploaded: `id ‖ public ‖ kem flag ‖ [kem id ‖ kem public] ‖ signature`.
pub(crate) fn write_signed_part(w: &mut Writer, s: &SignedPrekey) {
    w.u32(s.id).raw(&s.public).flag(s.kem.is_some());
    if let Some((id, public)) = &s.kem {
        w.u32(*id).raw(&public[..]);
    }
}

fn read_signed(r: &mut Reader) -> Result<SignedPrekey> {
    let id = r.u32()?;
    let public = r.array()?;
    let kem = if r.flag()? {
        Some((r.u32()?, read_kem_public(r)?))
    } else {
        None
    };
    Ok(SignedPrekey {
        id,
        public,
        kem,
        signature: r.array()?,
    })
}

/// Ids strictly ascending and non-zero.
fn ascending(ids: impl Iterator<Item = u32>) -> bool {
    let mut last = 0;
    ids.into_iter().all(|id| {
        let ok = id > last;
        last = id;
        ok
    })
}

fn check_upload(u: &PrekeyUpload) -> Result<()> {
    if u.one_time.len() > MAX_ONE_TIME_PER_UPLOAD || u.one_time_kem.len() > MAX_ONE_TIME_PER_UPLOAD
    {
        return Err(too_large(
            "an upload carries at most 100 one-time prekeys of each kind",
        ));
    }
    if !ascending(u.one_time.iter().map(|k| k.id))
        || !ascending(u.one_time_kem.iter().map(|k| k.id))
    {
        return Err(Error::malformed(
            "one-time prekey ids are not ascending from 1 up",
        ));
    }
    if let Some(s) = &u.signed {
        if s.id == 0 || s.kem.as_ref().is_some_and(|(id, _)| *id == 0) {
            return Err(Error::malformed("a signed prekey id is 0"));
        }
    }
    // The session core refuses a bundle with a non-canonical key, and a
    // start on a small-order one (its agreement is all zeros); refusing them
    // at upload keeps the relay from storing a prekey no one could use.
    let usable = |k: &[u8; 32]| x25519::is_canonical(k) && !x25519::is_small_order(k);
    let signed = u.signed.iter().map(|s| &s.public);
    if !signed
        .chain(u.one_time.iter().map(|k| &k.public))
        .all(usable)
    {
        return Err(Error::malformed(
            "a prekey is not a canonical X25519 key of large order",
        ));
    }
    Ok(())
}

fn check_devices(devices: &[u32]) -> Result<()> {
    if devices.len() > MAX_DEVICES {
        return Err(too_large("a device list is longer than MAX_DEVICES"));
    }
    if !ascending(devices.iter().copied()) {
        return Err(Error::malformed("device ids are not ascending from 1 up"));
    }
    Ok(())
}

fn check_body_len(len: usize) -> Result<()> {
    if len > MAX_BODY {
        return Err(too_large("a message body is longer than MAX_BODY"));
    }
    Ok(())
}

impl Frame {
    pub fn new(request_id: u32, body: Body) -> Self {
        Frame { request_id, body }
    }

    /// The request-id rule of the frame's direction.
    fn check_request_id(&self) -> Result<()> {
        let ok = match self.body.direction() {
            Direction::Request => self.request_id != 0,
            Direction::Push => self.request_id == 0,
            Direction::Response => self.request_id != 0 || matches!(self.body, Body::Error { .. }),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::malformed(
                "the request id breaks its frame type's rule",
            ))
        }
    }

    /// Checks the frame's values (what `decode` refuses, `encode` refuses too).
    pub fn validate(&self) -> Result<()> {
        self.check_request_id()?;
        match &self.body {
            Body::Register { device } if *device == 0 => {
                Err(Error::malformed("device 0 cannot register"))
            }
            Body::GetBundle { device, .. } if *device == 0 => {
                Err(Error::malformed("a bundle is fetched for one device"))
            }
            Body::Bundle { device, bundle, .. } => {
                if *device == 0 || bundle.is_empty() {
                    return Err(Error::malformed("a bundle names no device or is empty"));
                }
                if bundle.len() > MAX_SESSION_BUNDLE {
                    return Err(too_large(
                        "a session bundle is longer than MAX_SESSION_BUNDLE",
                    ));
                }
                Ok(())
            }
            Body::Send { body, .. } => check_body_len(body.len()),
            Body::Deliver {
                sender_device,
                body,
                ..
            } => {
                if *sender_device == 0 {
                    return Err(Error::malformed("a delivery names sender device 0"));
                }
                check_body_len(body.len())
            }
            Body::UploadPrekeys(u) => check_upload(u),
            Body::Devices { devices } => check_devices(devices),
            _ => Ok(()),
        }
    }

    /// The frame's bytes, or the refusal `decode` would give them.
    pub fn encode(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let mut w = Writer::default();
        match &self.body {
            Body::Register { device } => {
                w.u32(*device);
            }
            Body::Send {
                client_message_id,
                recipient,
                device,
                body,
            } => {
                w.raw(client_message_id)
                    .raw(recipient)
                    .u32(*device)
                    .u32(body.len() as u32)
                    .raw(body);
            }
            Body::Fetch | Body::QueueEmpty | Body::Acked | Body::Displaced => {}
            Body::Ack { message_id } => {
                w.u64(*message_id);
            }
            Body::UploadPrekeys(u) => {
                w.flag(u.signed.is_some());
                if let Some(s) = &u.signed {
                    write_signed_part(&mut w, s);
                    w.raw(&s.signature);
                }
                w.u8(u.one_time.len() as u8);
                for k in &u.one_time {
                    w.u32(k.id).raw(&k.public);
                }
                w.u8(u.one_time_kem.len() as u8);
                for k in &u.one_time_kem {
                    write_kem_prekey(&mut w, k);
                }
            }
            Body::GetBundle { identity, device } => {
                w.raw(identity).u32(*device);
            }
            Body::ListDevices { identity } => {
                w.raw(identity);
            }
            Body::Registered {
                max_body,
                max_in_flight,
                relay_time_ms,
            } => {
                w.u32(*max_body).u16(*max_in_flight).u64(*relay_time_ms);
            }
            Body::Sent {
                stored_at_ms,
                copies,
            } => {
                w.u64(*stored_at_ms).u16(*copies);
            }
            Body::PrekeysStored(s) | Body::PrekeysLow(s) => write_status(&mut w, s),
            Body::Bundle {
                device,
                bundle,
                one_time_kem,
            } => {
                w.u32(*device)
                    .u16(bundle.len() as u16)
                    .raw(bundle)
                    .flag(one_time_kem.is_some());
                if let Some(k) = one_time_kem {
                    write_kem_prekey(&mut w, k);
                }
            }
            Body::Devices { devices } => {
                w.u16(devices.len() as u16);
                for d in devices {
                    w.u32(*d);
                }
            }
            Body::Error {
                code,
                retry_after_ms,
            } => {
                w.u16(code.to_u16()).u32(*retry_after_ms);
            }
            Body::Deliver {
                message_id,
                sender,
                sender_device,
                received_at_ms,
                body,
            } => {
                w.u64(*message_id)
                    .raw(sender)
                    .u32(*sender_device)
                    .u64(*received_at_ms)
                    .u32(body.len() as u32)
                    .raw(body);
            }
        }
        let body = w.buf;
        let mut out = Writer::default();
        out.u8(VERSION)
            .u8(self.body.kind())
            .u32(self.request_id)
            .u32(body.len() as u32)
            .raw(&body);
        if out.buf.len() > MAX_FRAME {
            return Err(too_large("a frame is longer than MAX_FRAME"));
        }
        Ok(out.buf)
    }

    /// Parses one whole frame. The refusal's code is what the receiver
    /// answers in an ERROR frame for `Header::parse(bytes)?.request_id`.
    pub fn decode(bytes: &[u8]) -> Result<Frame> {
        let header = Header::parse(bytes)?;
        if bytes.len() != header.frame_len() {
            return Err(Error::malformed("the frame's length is not its header's"));
        }
        if header.version != VERSION {
            return Err(Error::refused(
                ErrorCode::UnsupportedVersion,
                "the frame's protocol version is not 1",
            ));
        }
        if direction_of(header.kind).is_none() {
            return Err(Error::refused(
                ErrorCode::UnknownCommand,
                "the frame type is unknown",
            ));
        }
        let mut r = Reader::new(&bytes[HEADER_LEN..]);
        let body = decode_body(header.kind, &mut r)?;
        r.finish()?;
        let frame = Frame {
            request_id: header.request_id,
            body,
        };
        frame.validate()?;
        Ok(frame)
    }
}

fn read_body(r: &mut Reader) -> Result<Vec<u8>> {
    let len = r.u32()? as usize;
    check_body_len(len)?;
    Ok(r.take(len)?.to_vec())
}

fn decode_body(k: u8, r: &mut Reader) -> Result<Body> {
    use kind::*;
    Ok(match k {
        REGISTER => Body::Register { device: r.u32()? },
        SEND => Body::Send {
            client_message_id: r.array()?,
            recipient: r.array()?,
            device: r.u32()?,
            body: read_body(r)?,
        },
        FETCH => Body::Fetch,
        ACK => Body::Ack {
            message_id: r.u64()?,
        },
        UPLOAD_PREKEYS => {
            let signed = if r.flag()? {
                Some(read_signed(r)?)
            } else {
                None
            };
            let n = r.u8()? as usize;
            if n > MAX_ONE_TIME_PER_UPLOAD {
                return Err(too_large("an upload carries at most 100 one-time prekeys"));
            }
            let one_time = (0..n)
                .map(|_| {
                    Ok(OneTimePrekey {
                        id: r.u32()?,
                        public: r.array()?,
                    })
                })
                .collect::<Result<_>>()?;
            let n = r.u8()? as usize;
            if n > MAX_ONE_TIME_PER_UPLOAD {
                return Err(too_large("an upload carries at most 100 one-time prekeys"));
            }
            let one_time_kem = (0..n).map(|_| read_kem_prekey(r)).collect::<Result<_>>()?;
            Body::UploadPrekeys(PrekeyUpload {
                signed,
                one_time,
                one_time_kem,
            })
        }
        GET_BUNDLE => Body::GetBundle {
            identity: r.array()?,
            device: r.u32()?,
        },
        LIST_DEVICES => Body::ListDevices {
            identity: r.array()?,
        },
        REGISTERED => Body::Registered {
            max_body: r.u32()?,
            max_in_flight: r.u16()?,
            relay_time_ms: r.u64()?,
        },
        SENT => Body::Sent {
            stored_at_ms: r.u64()?,
            copies: r.u16()?,
        },
        QUEUE_EMPTY => Body::QueueEmpty,
        ACKED => Body::Acked,
        PREKEYS_STORED => Body::PrekeysStored(read_status(r)?),
        BUNDLE => {
            let device = r.u32()?;
            let len = r.u16()? as usize;
            if len > MAX_SESSION_BUNDLE {
                return Err(too_large(
                    "a session bundle is longer than MAX_SESSION_BUNDLE",
                ));
            }
            let bundle = r.take(len)?.to_vec();
            let one_time_kem = if r.flag()? {
                Some(read_kem_prekey(r)?)
            } else {
                None
            };
            Body::Bundle {
                device,
                bundle,
                one_time_kem,
            }
        }
        DEVICES => {
            let n = r.u16()? as usize;
            if n > MAX_DEVICES {
                return Err(too_large("a device list is longer than MAX_DEVICES"));
            }
            Body::Devices {
                devices: (0..n).map(|_| r.u32()).collect::<Result<_>>()?,
            }
        }
        ERROR => Body::Error {
            code: ErrorCode::from_u16(r.u16()?)
                .ok_or(Error::malformed("the error code is unknown"))?,
            retry_after_ms: r.u32()?,
        },
        DELIVER => Body::Deliver {
            message_id: r.u64()?,
            sender: r.array()?,
            sender_device: r.u32()?,
            received_at_ms: r.u64()?,
            body: read_body(r)?,
        },
        PREKEYS_LOW => Body::PrekeysLow(read_status(r)?),
        DISPLACED => Body::Displaced,
        _ => {
            return Err(Error::refused(
                ErrorCode::UnknownCommand,
                "the frame type is unknown",
            ))
        }
    })
}
