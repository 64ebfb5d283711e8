//! Frames inside the Noise transport. A frame of N bytes travels as
//! ceil(N / MAX_CHUNK) Noise transport messages: every one but the last
//! carries exactly MAX_CHUNK frame bytes, and a new frame always starts a new
//! message. The first chunk holds the whole header, so the frame's length is
//! known (and refused when over MAX_FRAME) before the rest is buffered.
//! Noise's own nonce counter (from 0 in each direction) orders messages: a
//! lost, repeated or reordered message fails to decrypt, and the connection
//! ends.
//!
//! On the relay's side the channel is the replay gate: a replayed handshake
//! message 1 yields a channel whose peer cannot encrypt, so nothing may run
//! and nothing may be pushed until a first frame has decrypted, and that
//! frame must be REGISTER.

use keyward_session::noise::Transport;

use crate::error::{Error, ErrorCode, Result};
use crate::frame::{Body, Direction, Frame, Header};
use crate::limits::MAX_CHUNK;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Client,
    Relay,
}

/// One received frame, or a frame the receiver refuses but can answer (an
/// ERROR frame with its request id) without closing the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Frame(Frame),
    Refused { request_id: u32, error: Error },
}

struct Partial {
    total: usize,
    bytes: Vec<u8>,
}

pub struct Channel {
    transport: Transport,
    role: Role,
    partial: Option<Partial>,
    /// Relay side: a REGISTER has decrypted (the peer holds the session keys).
    registered: bool,
    failed: bool,
}

fn not_allowed(detail: &'static str) -> Error {
    Error::refused(ErrorCode::NotAllowed, detail)
}

impl Channel {
    pub(crate) fn new(transport: Transport, role: Role) -> Self {
        Channel {
            transport,
            role,
            partial: None,
            registered: false,
            failed: false,
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Relay side: whether the client has proven it holds the session keys.
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// Encodes `frame` and encrypts it into the Noise messages to send, in
    /// order. A client sends requests only; a relay sends responses, and
    /// pushes only after the client's REGISTER.
    pub fn seal(&mut self, frame: &Frame) -> Result<Vec<Vec<u8>>> {
        let allowed = match (self.role, frame.body.direction()) {
            (Role::Client, Direction::Request) => true,
            (Role::Relay, Direction::Response) => true,
            (Role::Relay, Direction::Push) => self.registered,
            _ => false,
        };
        if !allowed {
            return Err(not_allowed("this end may not send this frame now"));
        }
        let bytes = frame.encode()?;
        self.seal_bytes(&bytes)
    }

    /// Encrypts already-encoded frame bytes as they are: for forwarding, and
    /// for tests that need a frame this crate would not encode. The header
    /// must be whole and its length must match.
    pub fn seal_bytes(&mut self, frame: &[u8]) -> Result<Vec<Vec<u8>>> {
        let header = Header::parse(frame)?;
        if header.frame_len() != frame.len() {
            return Err(Error::malformed("the frame's length is not its header's"));
        }
        if self.failed {
            return Err(Error::Decryption);
        }
        frame
            .chunks(MAX_CHUNK)
            .map(|chunk| {
                self.transport.encrypt(chunk).map_err(|_| {
                    self.failed = true;
                    Error::Decryption
                })
            })
            .collect()
    }

    fn fail(&mut self, error: Error) -> Error {
        self.failed = true;
        self.partial = None;
        error
    }

    /// Decrypts one Noise transport message. `Ok(None)`: a frame is
    /// incomplete. `Err`: the connection is over (decryption, chunking, a
    /// frame over MAX_FRAME, or on the relay a first frame that is not REGISTER).
    pub fn open(&mut self, message: &[u8]) -> Result<Option<Received>> {
        if self.failed {
            return Err(Error::Decryption);
        }
        let chunk = match self.transport.decrypt(message) {
            Ok(c) => c,
            Err(_) => return Err(self.fail(Error::Decryption)),
        };
        let mut partial = match self.partial.take() {
            Some(p) => p,
            None => {
                let header = match Header::parse(&chunk) {
                    Ok(h) => h,
                    Err(e) => return Err(self.fail(e)),
                };
                Partial {
                    total: header.frame_len(),
                    bytes: Vec::with_capacity(header.frame_len()),
                }
            }
        };
        let expected = (partial.total - partial.bytes.len()).min(MAX_CHUNK);
        if chunk.len() != expected {
            return Err(self.fail(Error::malformed(
                "a chunk is not the size its frame's length gives",
            )));
        }
        partial.bytes.extend_from_slice(&chunk);
        if partial.bytes.len() < partial.total {
            self.partial = Some(partial);
            return Ok(None);
        }
        let received = self.classify(&partial.bytes);
        if self.role == Role::Relay && !self.registered {
            return match received {
                Received::Frame(Frame {
                    body: Body::Register { .. },
                    ..
                }) => {
                    self.registered = true;
                    Ok(Some(received))
                }
                _ => Err(self.fail(not_allowed("the first frame must be REGISTER"))),
            };
        }
        Ok(Some(received))
    }

    fn classify(&self, bytes: &[u8]) -> Received {
        let request_id = Header::parse(bytes).map(|h| h.request_id).unwrap_or(0);
        let frame = match Frame::decode(bytes) {
            Ok(f) => f,
            Err(error) => return Received::Refused { request_id, error },
        };
        let direction = frame.body.direction();
        let allowed = match self.role {
            Role::Relay => direction == Direction::Request,
            Role::Client => direction != Direction::Request,
        };
        if !allowed {
            return Received::Refused {
                request_id,
                error: not_allowed("this frame type does not travel in this direction"),
            };
        }
        if self.role == Role::Relay
            && self.registered
            && matches!(frame.body, Body::Register { .. })
        {
            return Received::Refused {
                request_id,
                error: not_allowed("a connection registers once"),
            };
        }
        Received::Frame(frame)
    }
}
