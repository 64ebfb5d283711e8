//! The raw TCP transport: every Noise message (handshake or transport) as
//! `length (u32, big-endian) ‖ message`. `TcpDecoder` takes bytes as they
//! arrive and refuses a length over `MAX_NOISE_MESSAGE` (or 0) as soon as
//! the 4 prefix bytes are in, before buffering anything of the message.
//! Over WebSocket each binary message is one Noise message, without prefix.

use crate::error::{Error, ErrorCode, Result};
use crate::limits::{LENGTH_PREFIX, MAX_NOISE_MESSAGE};

/// `message` with its length prefix.
pub fn tcp_encode(message: &[u8]) -> Result<Vec<u8>> {
    if message.is_empty() || message.len() > MAX_NOISE_MESSAGE {
        return Err(Error::refused(
            ErrorCode::TooLarge,
            "a Noise message is 1 to 65535 bytes",
        ));
    }
    let mut out = Vec::with_capacity(LENGTH_PREFIX + message.len());
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    Ok(out)
}

/// Splits a TCP byte stream into Noise messages. After an error the stream
/// is unusable: the caller closes the connection.
#[derive(Default)]
pub struct TcpDecoder {
    prefix: Vec<u8>,
    /// The announced length once the prefix is complete.
    expected: Option<usize>,
    message: Vec<u8>,
    failed: bool,
}

impl TcpDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds `bytes`; returns every message they complete, in order.
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
        if self.failed {
            return Err(Error::refused(
                ErrorCode::Malformed,
                "the stream already failed",
            ));
        }
        let mut out = Vec::new();
        while !bytes.is_empty() {
            match self.expected {
                None => {
                    let n = (LENGTH_PREFIX - self.prefix.len()).min(bytes.len());
                    self.prefix.extend_from_slice(&bytes[..n]);
                    bytes = &bytes[n..];
                    if self.prefix.len() == LENGTH_PREFIX {
                        let len =
                            u32::from_be_bytes(self.prefix[..].try_into().expect("four bytes"))
                                as usize;
                        self.prefix.clear();
                        if len == 0 || len > MAX_NOISE_MESSAGE {
                            self.failed = true;
                            return Err(Error::refused(
                                ErrorCode::TooLarge,
                                "a length prefix is 0 or over 65535",
                            ));
                        }
                        self.expected = Some(len);
                        self.message = Vec::with_capacity(len);
                    }
                }
                Some(len) => {
                    let n = (len - self.message.len()).min(bytes.len());
                    self.message.extend_from_slice(&bytes[..n]);
                    bytes = &bytes[n..];
                    if self.message.len() == len {
                        out.push(std::mem::take(&mut self.message));
                        self.expected = None;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Bytes held for a message not yet complete (at most a prefix and
    /// `MAX_NOISE_MESSAGE`).
    pub fn buffered(&self) -> usize {
        self.prefix.len() + self.message.len()
    }

    /// True between messages: a clean place for the stream to end.
    pub fn is_idle(&self) -> bool {
        self.prefix.is_empty() && self.expected.is_none()
    }
}
