//! Noise handshakes through `snow`, with a resolver whose X25519 keys are
//! zeroized on drop (snow's own keep their bytes). `Handshake` is the general
//! building block (any pattern snow supports; the known-answer tests drive
//! it with fixed keys); `session.rs` uses it for Noise_IK.

use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{CryptoResolver, DefaultResolver};
use snow::types::{Cipher, Dh, Hash, Random};
use snow::{Builder, HandshakeState, TransportState};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::identity::IdentityKey;
use crate::kdf::derive_key;
use crate::keys::Secret32;

/// The largest Noise message (the spec's limit).
pub use crate::consts::MAX_NOISE_MESSAGE as MAX_MESSAGE;

#[derive(Default)]
struct X25519 {
    secret: Zeroizing<[u8; 32]>,
    public: [u8; 32],
}

impl X25519 {
    fn set_secret(&mut self, secret: [u8; 32]) {
        *self.secret = secret;
        self.public = crate::x25519::public_key(&self.secret);
    }
}

impl Dh for X25519 {
    fn name(&self) -> &'static str {
        "25519"
    }
    fn pub_len(&self) -> usize {
        32
    }
    fn priv_len(&self) -> usize {
        32
    }
    fn set(&mut self, privkey: &[u8]) {
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&privkey[..32]);
        self.set_secret(*bytes);
    }
    fn generate(&mut self, rng: &mut dyn Random) -> std::result::Result<(), snow::Error> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.try_fill_bytes(&mut bytes[..])?;
        self.set_secret(*bytes);
        Ok(())
    }
    fn pubkey(&self) -> &[u8] {
        &self.public
    }
    fn privkey(&self) -> &[u8] {
        &self.secret[..]
    }
    fn dh(&self, pubkey: &[u8], out: &mut [u8]) -> std::result::Result<(), snow::Error> {
        let their: [u8; 32] = pubkey
            .get(..32)
            .and_then(|p| p.try_into().ok())
            .ok_or(snow::Error::Dh)?;
        let shared = crate::x25519::shared(&self.secret, &their).ok_or(snow::Error::Dh)?;
        out[..32].copy_from_slice(&shared[..]);
        Ok(())
    }
}

struct Resolver;

impl CryptoResolver for Resolver {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        DefaultResolver.resolve_rng()
    }
    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        match choice {
            DHChoice::Curve25519 => Some(Box::new(X25519::default())),
            _ => None,
        }
    }
    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn Hash>> {
        DefaultResolver.resolve_hash(choice)
    }
    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        DefaultResolver.resolve_cipher(choice)
    }
}

/// What a handshake starts from. `fixed_ephemeral` is for known-answer tests only.
#[derive(Default)]
pub struct Keys<'a> {
    pub local_static: Option<&'a [u8]>,
    pub remote_static: Option<&'a [u8]>,
    pub prologue: &'a [u8],
    pub fixed_ephemeral: Option<&'a [u8]>,
}

fn handshake_error(e: snow::Error) -> Error {
    match e {
        snow::Error::Decrypt => Error::Handshake("a handshake message does not authenticate"),
        snow::Error::Dh => Error::Handshake("a handshake key is invalid"),
        snow::Error::Input => Error::Handshake("a handshake message has the wrong size"),
        snow::Error::State(_) => Error::Handshake("a handshake step came out of order"),
        _ => Error::Handshake("the handshake failed"),
    }
}

pub struct Handshake {
    state: HandshakeState,
}

impl Handshake {
    pub fn new(protocol: &str, initiator: bool, keys: &Keys) -> Result<Self> {
        let params = protocol.parse().map_err(|_| {
            Error::InvalidArgument(format!("unsupported Noise protocol {protocol}"))
        })?;
        let mut b = Builder::with_resolver(params, Box::new(Resolver));
        let invalid = |_| Error::InvalidArgument("invalid Noise handshake keys".into());
        if let Some(k) = keys.local_static {
            b = b.local_private_key(k).map_err(invalid)?;
        }
        if let Some(k) = keys.remote_static {
            b = b.remote_public_key(k).map_err(invalid)?;
        }
        if let Some(k) = keys.fixed_ephemeral {
            b = b.fixed_ephemeral_key_for_testing_only(k);
        }
        b = b.prologue(keys.prologue).map_err(invalid)?;
        let state = if initiator {
            b.build_initiator()
        } else {
            b.build_responder()
        }
        .map_err(handshake_error)?;
        Ok(Handshake { state })
    }

    /// `new` with `identity`'s X25519 secret as the local static key, so the
    /// secret (and the seed it comes from) never leaves this crate.
    /// `keys.local_static` must be `None`.
    pub fn with_identity(
        protocol: &str,
        initiator: bool,
        identity: &IdentityKey,
        keys: &Keys,
    ) -> Result<Self> {
        if keys.local_static.is_some() {
            return Err(Error::InvalidArgument(
                "with_identity takes its local static key from the identity".into(),
            ));
        }
        let secret = identity.x25519().secret_bytes();
        Self::new(
            protocol,
            initiator,
            &Keys {
                local_static: Some(&secret[..]),
                ..*keys
            },
        )
    }

    pub fn write(&mut self, payload: &[u8]) -> Result<Vec<u8>> {
        let mut out = vec![0u8; (payload.len() + 256).min(MAX_MESSAGE)];
        let n = self
            .state
            .write_message(payload, &mut out)
            .map_err(handshake_error)?;
        out.truncate(n);
        Ok(out)
    }

    pub fn read(&mut self, message: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let mut out = Zeroizing::new(vec![0u8; message.len()]);
        let n = self
            .state
            .read_message(message, &mut out)
            .map_err(handshake_error)?;
        out.truncate(n);
        Ok(out)
    }

    pub fn remote_static(&self) -> Option<&[u8]> {
        self.state.get_remote_static()
    }

    pub fn handshake_hash(&self) -> &[u8] {
        self.state.get_handshake_hash()
    }

    /// A 32-byte secret bound to the whole handshake: HKDF over both split keys,
    /// salted with the handshake hash. Seeds the Double Ratchet.
    pub fn root_key(&mut self) -> Result<Secret32> {
        if !self.state.is_handshake_finished() {
            return Err(Error::InvalidState("the handshake is not finished"));
        }
        let (k1, k2) = self.state.dangerously_get_raw_split();
        let ikm = Zeroizing::new([k1, k2].concat());
        let (mut k1, mut k2) = (k1, k2);
        zeroize::Zeroize::zeroize(&mut k1);
        zeroize::Zeroize::zeroize(&mut k2);
        Ok(derive_key(
            self.state.get_handshake_hash(),
            &ikm,
            b"keyward noise root v1",
        ))
    }

    pub fn into_transport(self) -> Result<Transport> {
        Ok(Transport {
            state: self.state.into_transport_mode().map_err(handshake_error)?,
        })
    }
}

/// Noise transport messages, for protocols used as plain Noise.
pub struct Transport {
    state: TransportState,
}

impl Transport {
    pub fn encrypt(&mut self, payload: &[u8]) -> Result<Vec<u8>> {
        let mut out = vec![0u8; payload.len() + 16];
        let n = self
            .state
            .write_message(payload, &mut out)
            .map_err(handshake_error)?;
        out.truncate(n);
        Ok(out)
    }

    pub fn decrypt(&mut self, message: &[u8]) -> Result<Vec<u8>> {
        let mut out = vec![0u8; message.len()];
        let n = self
            .state
            .read_message(message, &mut out)
            .map_err(|_| Error::Decryption)?;
        out.truncate(n);
        Ok(out)
    }
}
