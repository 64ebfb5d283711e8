//! The keyward relay's wire protocol (docs/relay.md): the frames and their
//! codec, the error codes, the limits, the Noise_IK handshake with its check
//! that the client's static key is the X25519 form of the identity it
//! claims, the frame encryption over Noise transport messages, the TCP
//! length-prefix decoder, and the prekey checks and bundle composition.
//! No I/O and no Node here: the server, its stores and the Messenger client
//! build on this.
#![forbid(unsafe_code)]

pub mod channel;
mod codec;
pub mod error;
pub mod frame;
pub mod handshake;
pub mod limits;
pub mod prekeys;
pub mod transport;

#[cfg(test)]
mod example;

pub use channel::{Channel, Received, Role};
pub use error::{Error, ErrorCode, Result};
pub use frame::{Body, Frame, Header, VERSION};
pub use handshake::{respond, Accepted, Answer, ClientHandshake, RelayKey, Responder};
pub use transport::{tcp_encode, TcpDecoder};
