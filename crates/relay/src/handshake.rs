//! The Noise_IK handshake that opens every relay connection, through
//! crates/session's `noise::Handshake` (snow). The client pins the relay's
//! static X25519 key; its own static key is the X25519 form of the Ed25519
//! identity it claims in message 1's payload, and the relay refuses any
//! other. Message 1 is replayable, so reading it has no effect but a reply:
//! the channel it yields runs nothing until a frame decrypts (channel.rs).

use keyward_session::identity::PeerIdentity;
use keyward_session::noise::{Handshake, Keys};
use keyward_session::IdentityKey;
use zeroize::Zeroizing;

use crate::channel::{Channel, Role};
use crate::error::{Error, ErrorCode, Result};
use crate::frame::VERSION;
use crate::limits::KEY_LEN;

pub const PROTOCOL: &str = "Noise_IK_25519_ChaChaPoly_BLAKE2s";
pub const PROLOGUE: &[u8] = b"keyward relay";
/// Message 1's payload: `version ‖ claimed Ed25519 identity`.
pub const MESSAGE1_PAYLOAD_LEN: usize = 1 + KEY_LEN;
/// Message 2's payload: `version ‖ status (u16; 0 = accepted, else an ErrorCode)`.
pub const MESSAGE2_PAYLOAD_LEN: usize = 3;
/// e ‖ encrypted s ‖ encrypted payload.
pub const MESSAGE1_LEN: usize = 32 + (32 + 16) + (MESSAGE1_PAYLOAD_LEN + 16);
/// e ‖ encrypted payload.
pub const MESSAGE2_LEN: usize = 32 + (MESSAGE2_PAYLOAD_LEN + 16);

fn handshake_error(e: keyward_session::Error) -> Error {
    match e {
        keyward_session::Error::Handshake(why) => Error::Handshake(why),
        _ => Error::Handshake("the handshake failed"),
    }
}

/// The relay's static X25519 key: the secret stays here and is wiped on
/// drop; clients pin [`RelayKey::public_key`].
pub struct RelayKey(Zeroizing<[u8; 32]>);

impl RelayKey {
    pub fn generate() -> Result<Self> {
        keyward_session::keys::random::<32>()
            .map(RelayKey)
            .map_err(|_| Error::Handshake("the system random generator failed"))
    }

    /// Any 32 bytes are a valid X25519 secret (it is clamped when used).
    pub fn from_bytes(secret: &[u8]) -> Result<Self> {
        let secret: [u8; 32] = secret
            .try_into()
            .map_err(|_| Error::Argument("a relay key is 32 bytes"))?;
        Ok(RelayKey(Zeroizing::new(secret)))
    }

    pub fn public_key(&self) -> [u8; 32] {
        relay_public_key(&self.0)
    }

    /// The secret, for whoever stores the key.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// [`respond`] with this key.
    pub fn respond(&self, message1: &[u8]) -> Result<Answer> {
        respond(&self.0, message1)
    }
}

/// The relay's static public key, to publish and pin.
pub fn relay_public_key(relay_secret: &[u8; 32]) -> [u8; 32] {
    keyward_session::x25519::public_key(relay_secret)
}

pub struct ClientHandshake {
    handshake: Handshake,
}

impl ClientHandshake {
    /// Message 1 to the relay whose static key is `relay_public`.
    pub fn start(identity: &IdentityKey, relay_public: &[u8; 32]) -> Result<(Self, Vec<u8>)> {
        Self::start_with(identity, relay_public, None)
    }

    pub(crate) fn start_with(
        identity: &IdentityKey,
        relay_public: &[u8; 32],
        ephemeral: Option<&[u8]>,
    ) -> Result<(Self, Vec<u8>)> {
        // The static key is the identity's X25519 form, which crates/session
        // keeps: the seed never leaves it.
        let mut handshake = Handshake::with_identity(
            PROTOCOL,
            true,
            identity,
            &Keys {
                local_static: None,
                remote_static: Some(relay_public),
                prologue: PROLOGUE,
                fixed_ephemeral: ephemeral,
            },
        )
        .map_err(handshake_error)?;
        let mut payload = vec![VERSION];
        payload.extend_from_slice(&identity.public_key());
        let message = handshake.write(&payload).map_err(handshake_error)?;
        Ok((ClientHandshake { handshake }, message))
    }

    /// Reads message 2: a channel, or the relay's refusal as `Error::Remote`.
    pub fn finish(mut self, message2: &[u8]) -> Result<Channel> {
        let payload = self.handshake.read(message2).map_err(handshake_error)?;
        if payload.len() != MESSAGE2_PAYLOAD_LEN || payload[0] != VERSION {
            return Err(Error::refused(
                ErrorCode::UnsupportedVersion,
                "the relay answered with another protocol version",
            ));
        }
        let status = u16::from_be_bytes([payload[1], payload[2]]);
        if status != 0 {
            let code = ErrorCode::from_u16(status)
                .ok_or(Error::malformed("the relay's status is unknown"))?;
            return Err(Error::Remote {
                code,
                retry_after_ms: 0,
            });
        }
        let transport = self.handshake.into_transport().map_err(handshake_error)?;
        Ok(Channel::new(transport, Role::Client))
    }
}

/// The client the relay accepted. `identity` is the key as claimed (A and
/// -A are one holder); key mailboxes and prekeys by `fingerprint`.
pub struct Accepted {
    pub identity: [u8; 32],
    pub fingerprint: [u8; 32],
    pub channel: Channel,
}

/// The relay between message 1 and message 2.
pub struct Responder {
    handshake: Handshake,
    claim: Result<PeerIdentity>,
}

fn check_claim(payload: &[u8], remote_static: Option<&[u8]>) -> Result<PeerIdentity> {
    match payload.first() {
        Some(&VERSION) => {}
        Some(_) => {
            return Err(Error::refused(
                ErrorCode::UnsupportedVersion,
                "the client speaks another protocol version",
            ))
        }
        None => return Err(Error::malformed("message 1 carries no payload")),
    }
    if payload.len() != MESSAGE1_PAYLOAD_LEN {
        return Err(Error::malformed("message 1's payload has the wrong length"));
    }
    let mismatch = || {
        Error::refused(
            ErrorCode::IdentityMismatch,
            "the static key is not the claimed identity's",
        )
    };
    let claimed = PeerIdentity::parse(&payload[1..]).map_err(|_| mismatch())?;
    if remote_static != Some(&claimed.x25519()[..]) {
        return Err(mismatch());
    }
    Ok(claimed)
}

impl Responder {
    /// Reads message 1. `Err`: it does not decrypt under this relay's key
    /// (a client pinning another key, or garbage): close without a reply.
    pub fn read(relay_secret: &[u8; 32], message1: &[u8]) -> Result<Responder> {
        Self::read_with(relay_secret, message1, None)
    }

    pub(crate) fn read_with(
        relay_secret: &[u8; 32],
        message1: &[u8],
        ephemeral: Option<&[u8]>,
    ) -> Result<Responder> {
        let mut handshake = Handshake::new(
            PROTOCOL,
            false,
            &Keys {
                local_static: Some(relay_secret),
                remote_static: None,
                prologue: PROLOGUE,
                fixed_ephemeral: ephemeral,
            },
        )
        .map_err(handshake_error)?;
        let payload = handshake.read(message1).map_err(handshake_error)?;
        let claim = check_claim(&payload, handshake.remote_static());
        Ok(Responder { handshake, claim })
    }

    /// The claimed identity when it passed the check, else the refusal.
    pub fn claim(&self) -> Result<[u8; 32]> {
        self.claim.as_ref().map(|p| p.bytes()).map_err(Clone::clone)
    }

    /// Message 2 (status 0) and the relay's channel. Refuses when the claim failed.
    pub fn accept(mut self) -> Result<(Vec<u8>, Accepted)> {
        let peer = self.claim?;
        let message = self
            .handshake
            .write(&[VERSION, 0, 0])
            .map_err(handshake_error)?;
        let transport = self.handshake.into_transport().map_err(handshake_error)?;
        Ok((
            message,
            Accepted {
                identity: peer.bytes(),
                fingerprint: peer.fingerprint(),
                channel: Channel::new(transport, Role::Relay),
            },
        ))
    }

    /// Message 2 carrying `code`: the client learns why, then both close.
    pub fn refuse(mut self, code: ErrorCode) -> Result<Vec<u8>> {
        let [hi, lo] = code.to_u16().to_be_bytes();
        self.handshake
            .write(&[VERSION, hi, lo])
            .map_err(handshake_error)
    }
}

/// What the relay sends back for message 1 and what it got.
pub struct Answer {
    pub message2: Vec<u8>,
    pub outcome: Result<Accepted>,
}

/// `Responder::read`, then accept, or refuse with the claim's error code.
pub fn respond(relay_secret: &[u8; 32], message1: &[u8]) -> Result<Answer> {
    answer(Responder::read(relay_secret, message1)?)
}

pub(crate) fn answer(responder: Responder) -> Result<Answer> {
    match responder.claim() {
        Ok(_) => {
            let (message2, accepted) = responder.accept()?;
            Ok(Answer {
                message2,
                outcome: Ok(accepted),
            })
        }
        Err(error) => {
            let code = error.wire_code().unwrap_or(ErrorCode::Malformed);
            Ok(Answer {
                message2: responder.refuse(code)?,
                outcome: Err(error),
            })
        }
    }
}
