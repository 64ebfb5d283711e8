//! Every limit of the protocol, named once. docs/relay.md states each one;
//! the server may be configured below the per-mailbox and rate limits, never
//! above the framing limits (a client sizes its buffers from them).

/// The largest Noise message (the Noise spec's limit): one WebSocket binary
/// message, or one TCP length-prefixed unit.
pub const MAX_NOISE_MESSAGE: usize = 65_535;
/// ChaCha20-Poly1305's tag on every Noise transport message.
pub const NOISE_TAG: usize = 16;
/// Frame bytes one Noise transport message carries at most.
pub const MAX_CHUNK: usize = MAX_NOISE_MESSAGE - NOISE_TAG;
/// The TCP transport's length prefix.
pub const LENGTH_PREFIX: usize = 4;

/// `version ‖ type ‖ request id ‖ body length`.
pub const HEADER_LEN: usize = 10;
/// The largest message body (ciphertext) a SEND carries or a DELIVER pushes: 96 KiB.
pub const MAX_BODY: usize = 96 * 1024;
/// The largest frame (header included): 144 KiB. Above `MAX_BODY` because a
/// full prekey upload (100 one-time ML-KEM keys of 1 252 bytes) needs ~127 KiB.
/// A header announcing more is refused before any more bytes are buffered.
pub const MAX_FRAME: usize = 144 * 1024;

/// Deliveries the relay pushes on one connection before the client acks.
pub const MAX_IN_FLIGHT: usize = 256;
/// One-time X25519 prekeys, and one-time ML-KEM prekeys, per upload.
pub const MAX_ONE_TIME_PER_UPLOAD: usize = 100;
/// One-time prekeys of each kind the relay stores per device.
pub const MAX_ONE_TIME_STORED: usize = 100;
/// The relay pushes PREKEYS_LOW when a device has fewer one-time prekeys of a kind.
pub const PREKEYS_LOW_THRESHOLD: u16 = 20;
/// Devices one identity may register; a DEVICES answer lists at most this many.
pub const MAX_DEVICES: usize = 64;
/// A session bundle (crates/session `PreKeySet::bundle`) with an ML-KEM key is 1 360 bytes.
pub const MAX_SESSION_BUNDLE: usize = 2048;

/// Default time a message waits in a mailbox before it expires: 30 days.
pub const DEFAULT_TTL_MS: u64 = 30 * 24 * 60 * 60 * 1000;
/// Default mailbox quota in messages.
pub const DEFAULT_QUOTA_MESSAGES: u64 = 10_000;
/// Default mailbox quota in body bytes: 100 MiB.
pub const DEFAULT_QUOTA_BYTES: u64 = 100 * 1024 * 1024;
/// Bundle fetches per (requester, target identity) pair per window.
pub const BUNDLE_FETCHES_PER_WINDOW: u32 = 6;
/// The bundle-fetch window: 10 minutes.
pub const BUNDLE_FETCH_WINDOW_MS: u64 = 10 * 60 * 1000;

/// X25519 public keys, Ed25519 identities, their fingerprints.
pub const KEY_LEN: usize = 32;
/// An ML-KEM-768 encapsulation key.
pub const KEM_PUBLIC_LEN: usize = 1184;
/// An Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// A client message id (the sender's idempotency key).
pub const CLIENT_MESSAGE_ID_LEN: usize = 16;
