//! End-to-end sessions: identity keys, prekey sets, sessions and plain Noise
//! handshakes as classes whose secrets stay in Rust.

use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use keyward_session::arguments::prekey_count;
use keyward_session::lifecycle::{Lifecycle, DISPOSED};
use keyward_session::{self as core, prekeys::OneTimeBatch, ExpectedPeer};
use napi::bindgen_prelude::{AsyncTask, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use zeroize::Zeroizing;

use crate::errors::{guard, Failure, Result};
use crate::handles::{live_class, Handled, Handles, Live};
use crate::owned;
use crate::workers::{blocking, now, twins, Blocking};

live_class!(IdentityKey(core::IdentityKey, "this identity key was disposed"));

#[napi]
impl IdentityKey {
    #[napi(factory)]
    pub fn generate() -> Result<Self> {
        guard(core::IdentityKey::generate).map(Self::wrap)
    }

    #[napi(factory)]
    pub fn from_seed(seed: &[u8]) -> Result<Self> {
        guard(|| core::IdentityKey::from_seed_slice(seed)).map(Self::wrap)
    }

    #[napi(factory)]
    pub fn deserialize(record: &[u8], storage_key: &[u8]) -> Result<Self> {
        guard(|| core::IdentityKey::deserialize(record, storage_key)).map(Self::wrap)
    }

    #[napi(getter)]
    pub fn public_key(&self) -> Result<owned::Uint8Array> {
        Ok(self.inner.get()?.public_key().into())
    }

    #[napi(getter)]
    pub fn x25519_public_key(&self) -> Result<owned::Uint8Array> {
        Ok(self.inner.get()?.x25519_public_key().into())
    }

    /// SHA-256 over the canonical identity (see `identityFingerprint`).
    #[napi(getter)]
    pub fn fingerprint(&self) -> Result<owned::Uint8Array> {
        Ok(self.inner.get()?.fingerprint().into())
    }

    #[napi]
    pub fn sign(&self, message: &[u8]) -> Result<owned::Uint8Array> {
        Ok(self.inner.get()?.sign(message).into())
    }

    #[napi]
    pub fn export_seed(&self) -> Result<owned::Uint8Array> {
        Ok(self.inner.get()?.export_seed()[..].into())
    }

    #[napi]
    pub fn serialize(&self, storage_key: &[u8]) -> Result<owned::Uint8Array> {
        let identity = self.inner.get()?;
        guard(|| identity.serialize(storage_key)).map(Into::into)
    }
}

/// The fingerprint of an identity public key; refuses keys that are not
/// canonical, small-order or carry a torsion component.
#[napi]
pub fn identity_fingerprint(public_key: &[u8]) -> Result<owned::Uint8Array> {
    guard(|| core::fingerprint(public_key)).map(Into::into)
}

#[napi]
pub fn identity_verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    core::verify(public_key, message, signature)
}

/// One-time prekeys generated off the event loop, waiting to join a set.
#[napi]
pub struct OneTimePreKeyBatch {
    inner: Live<OneTimeBatch>,
}

#[napi(ts_return_type = "Promise<OneTimePreKeyBatch>")]
pub fn generate_one_time_pre_keys(count: f64) -> Result<AsyncTask<Blocking<OneTimePreKeyBatch>>> {
    let count = guard(|| prekey_count(count))?;
    Ok(blocking(true, move || {
        let batch = OneTimeBatch::generate(count)?;
        Ok(OneTimePreKeyBatch { inner: Live::new(batch, "this batch was already added") })
    }))
}

live_class!(PreKeySet(core::PreKeySet, "this prekey set was disposed"));

/// The most one-time ML-KEM prekeys one set holds.
#[napi]
pub const MAX_ONE_TIME_KEM_PRE_KEYS: u32 = keyward_session::prekeys::MAX_ONE_TIME_KEM as u32;

/// A one-time ML-KEM prekey's encoded length: `id (4) ‖ key (1184) ‖ signature (64)`.
#[napi]
pub const ONE_TIME_KEM_PRE_KEY_LEN: u32 = keyward_session::one_time_kem::ENCODED_LEN as u32;

impl PreKeySet {
    /// A set's generation as a job, for both `generate` and `generateAsync`.
    fn generating(
        identity: &IdentityKey,
        one_time: f64,
        with_kem: bool,
    ) -> Result<impl FnOnce() -> Result<Self, Failure> + Send + 'static, Failure> {
        let (one_time, identity) = (prekey_count(one_time)?, identity.inner.get()?.clone());
        Ok(move || Ok(Self::wrap(core::PreKeySet::generate(&identity, one_time, with_kem)?)))
    }
}

twins!(impl PreKeySet:
    #[doc = " `generate` off the event loop (thousands of prekeys take milliseconds)."]
    true, generate_async / (factory) generate
    (identity: &IdentityKey, one_time: f64, kem: bool) -> "Promise<PreKeySet>" PreKeySet
    = Self::generating(identity, one_time, kem));

#[napi]
impl PreKeySet {
    #[napi(factory)]
    pub fn deserialize(record: &[u8], storage_key: &[u8]) -> Result<Self> {
        guard(|| core::PreKeySet::deserialize(record, storage_key)).map(Self::wrap)
    }

    /// Adds a batch from `generateOneTimePreKeys`; the batch is used up.
    #[napi]
    pub fn add_batch(&mut self, batch: &mut OneTimePreKeyBatch) -> Result<()> {
        let (batch, set) = (batch.inner.take()?, self.inner.get_mut()?);
        guard(|| set.add_batch(batch))
    }

    #[napi]
    pub fn bundle(&mut self) -> Result<owned::Uint8Array> {
        Ok(self.inner.get_mut()?.bundle().into())
    }

    #[napi]
    pub fn add_one_time(&mut self, count: f64) -> Result<()> {
        let (count, set) = (guard(|| prekey_count(count))?, self.inner.get_mut()?);
        guard(|| set.add_one_time(count))
    }

    #[napi]
    pub fn rotate(&mut self, identity: &IdentityKey) -> Result<()> {
        let (identity, set) = (identity.inner.get()?, self.inner.get_mut()?);
        guard(|| set.rotate(identity))
    }

    #[napi(getter)]
    pub fn one_time_count(&self) -> Result<u32> {
        Ok(self.inner.get()?.one_time_count() as u32)
    }

    #[napi(getter)]
    pub fn unpublished_count(&self) -> Result<u32> {
        Ok(self.inner.get()?.unpublished_count() as u32)
    }

    /// Adds `count` one-time ML-KEM-768 prekeys (64-byte seeds: cheap to
    /// add; `relayPrekeyUploads` derives and signs their public keys).
    #[napi]
    pub fn add_one_time_kem(&mut self, count: f64) -> Result<()> {
        let (count, set) = (guard(|| prekey_count(count))?, self.inner.get_mut()?);
        guard(|| set.add_one_time_kem(count))
    }

    /// Drops the oldest published one-time prekeys of each kind, as few as
    /// leave room for `one_time` and `one_time_kem` more; `[x25519, mlKem]`
    /// dropped (keyward_session::PreKeySet::make_room).
    #[napi]
    pub fn make_room(&mut self, one_time: f64, one_time_kem: f64) -> Result<Vec<u32>> {
        let set = self.inner.get_mut()?;
        let (x, kem) = guard(|| {
            let (x, kem) = (prekey_count(one_time)?, prekey_count(one_time_kem)?);
            Ok::<_, core::Error>(set.make_room(x as usize, kem as usize))
        })?;
        Ok(vec![x as u32, kem as u32])
    }

    /// One-time ML-KEM prekeys not yet consumed by a start.
    #[napi(getter)]
    pub fn one_time_kem_count(&self) -> Result<u32> {
        Ok(self.inner.get()?.one_time_kem_count() as u32)
    }

    /// One-time ML-KEM prekeys not yet published by an upload.
    #[napi(getter)]
    pub fn unpublished_kem_count(&self) -> Result<u32> {
        Ok(self.inner.get()?.unpublished_kem_count() as u32)
    }

    #[napi]
    pub fn serialize(&self, storage_key: &[u8]) -> Result<owned::Uint8Array> {
        let set = self.inner.get()?;
        guard(|| set.serialize(storage_key)).map(Into::into)
    }
}

/// Established sessions by handle: async calls take the handle, not the
/// object, so a pending call holds no borrow of it (`dispose()` still works;
/// the call finishes on its own reference, which then wipes the state).
static SESSIONS: Handles<Mutex<core::Session>> = Handles::new();

#[napi]
pub struct Session {
    state: Lifecycle<Handled<Mutex<core::Session>>>,
}

fn kept(session: core::Session) -> Handled<Mutex<core::Session>> {
    Handled::new(Mutex::new(session), &SESSIONS, DISPOSED)
}

impl Session {
    fn established(session: core::Session) -> Self {
        Session { state: Lifecycle::Established(kept(session)) }
    }

    /// The session for a synchronous call; refused (not waited for) while an
    /// async call holds it, so the event loop never blocks.
    fn lock(&self) -> Result<MutexGuard<'_, core::Session>, Failure> {
        match self.state.established()?.get()?.try_lock() {
            Ok(guard) => Ok(guard),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => {
                Err(Failure::state("the session is busy with an async call: await it first"))
            }
        }
    }
}

#[napi(object, object_from_js = false)]
pub struct Initiated {
    pub session: Session,
    /// The handshake message to send.
    pub message: owned::Uint8Array,
}

#[napi(object, object_from_js = false)]
pub struct Responded {
    pub session: Session,
    pub reply: owned::Uint8Array,
    /// The initiator's handshake payload.
    pub payload: owned::Uint8Array,
}

#[napi(object, object_from_js = false)]
pub struct Accepted {
    pub session: Session,
    /// The initiator's first message, decrypted.
    pub plaintext: owned::Uint8Array,
}

#[napi]
impl Session {
    #[napi]
    pub fn initiate(identity: &IdentityKey, peer: &[u8], prologue: &[u8], payload: &[u8]) -> Result<Initiated> {
        let identity = identity.inner.get()?;
        let (initiating, message) = guard(|| core::Session::initiate(identity, peer, prologue, payload))?;
        let session = Session { state: Lifecycle::Initiating(Box::new(initiating)) };
        Ok(Initiated { session, message: message.into() })
    }

    #[napi]
    pub fn respond(
        identity: &IdentityKey,
        message: &[u8],
        prologue: &[u8],
        payload: &[u8],
        expected_peer: Option<&[u8]>,
        expected_fingerprint: Option<&[u8]>,
    ) -> Result<Responded> {
        let identity = identity.inner.get()?;
        let expected = ExpectedPeer::either(expected_peer, expected_fingerprint);
        let r = guard(|| core::Session::respond(identity, message, prologue, payload, expected?))?;
        let session = Session::established(r.session);
        Ok(Responded { session, reply: r.reply.into(), payload: r.payload.into() })
    }

    /// Neither expected key nor fingerprint: trust on first use, which the
    /// TypeScript layer only passes when the caller asked for it.
    /// The last argument is a one-time ML-KEM prekey claimed beside the
    /// bundle, `id ‖ key ‖ signature` (`keyward_session::one_time_kem`),
    /// checked by the core.
    #[napi(factory)]
    pub fn from_bundle(
        identity: &IdentityKey,
        bundle: &[u8],
        expected_peer: Option<&[u8]>,
        expected_fingerprint: Option<&[u8]>,
        one_time_kem: Option<&[u8]>,
    ) -> Result<Self> {
        let identity = identity.inner.get()?;
        let expected = ExpectedPeer::either(expected_peer, expected_fingerprint);
        guard(|| core::Session::from_bundle_with_kem(identity, bundle, one_time_kem, expected?))
            .map(Session::established)
    }

    #[napi]
    pub fn accept(
        identity: &IdentityKey,
        prekeys: &mut PreKeySet,
        message: &[u8],
        ad: &[u8],
        expected_peer: Option<&[u8]>,
        expected_fingerprint: Option<&[u8]>,
    ) -> Result<Accepted> {
        let (identity, set) = (identity.inner.get()?, prekeys.inner.get_mut()?);
        let expected = ExpectedPeer::either(expected_peer, expected_fingerprint);
        let (session, plaintext) = guard(|| core::Session::accept(identity, set, message, ad, expected?))?;
        Ok(Accepted { session: Session::established(session), plaintext: plaintext.into() })
    }

    #[napi(factory)]
    pub fn deserialize(record: &[u8], storage_key: &[u8]) -> Result<Self> {
        guard(|| core::Session::deserialize(record, storage_key)).map(Session::established)
    }

    /// Reads the reply; returns the responder's payload. A failure leaves
    /// the session disposed (see `Lifecycle::complete`).
    #[napi]
    pub fn complete(&mut self, reply: &[u8]) -> Result<owned::Uint8Array> {
        guard(|| self.state.complete(reply, kept)).map(Into::into)
    }

    /// For `sessionCryptAsync`; 0 until the handshake is complete.
    #[napi(getter)]
    pub fn handle(&self) -> f64 {
        self.state.established().map_or(0.0, |s| s.handle())
    }

    /// Encrypts `input`, or decrypts it unless `encrypt`.
    #[napi]
    pub fn crypt(&self, input: &[u8], ad: &[u8], encrypt: bool) -> Result<owned::Uint8Array> {
        let mut session = self.lock()?;
        crypt(&mut session, input, ad, encrypt).map_err(Into::into)
    }

    #[napi]
    pub fn serialize(&self, storage_key: &[u8]) -> Result<owned::Uint8Array> {
        let session = self.lock()?;
        guard(|| session.serialize(storage_key)).map(Into::into)
    }

    #[napi(getter)]
    pub fn peer_public_key(&self) -> Result<owned::Uint8Array> {
        Ok(self.lock()?.peer_public_key().into())
    }

    #[napi(getter)]
    pub fn established_state(&self) -> bool {
        matches!(self.state, Lifecycle::Established(_))
    }

    #[napi]
    pub fn dispose(&mut self) {
        self.state.dispose();
    }
}

fn crypt(session: &mut core::Session, input: &[u8], ad: &[u8], encrypt: bool) -> Result<owned::Uint8Array, Failure> {
    crate::errors::catch(|| match encrypt {
        true => session.encrypt(input, ad).map(Into::into),
        false => session.decrypt(input, ad).map(Into::into),
    })
}

/// `crypt` on the libuv pool for the session behind `handle`.
#[napi(ts_return_type = "Promise<Uint8Array>")]
pub fn session_crypt_async(
    handle: f64,
    input: &[u8],
    ad: &[u8],
    encrypt: bool,
) -> Result<AsyncTask<Blocking<owned::Uint8Array>>> {
    let session = SESSIONS.get(handle, "this session was disposed, or its handshake is not complete")?;
    let (input, ad) = (Zeroizing::new(input.to_vec()), ad.to_vec());
    Ok(blocking(false, move || {
        let mut session = session.lock().unwrap_or_else(PoisonError::into_inner);
        crypt(&mut session, &input, &ad, encrypt)
    }))
}

#[napi]
pub fn secure_wipe(mut buffer: Uint8ArraySlice) {
    // SAFETY: the only slice of this buffer in the call, and no JavaScript
    // runs while it is held; src/session/session.ts refuses views over a
    // SharedArrayBuffer, which another thread could write meanwhile.
    core::wipe(unsafe { buffer.as_mut() });
}

/// X25519 of a 32-byte secret and public key; an all-zero result (a
/// small-order public key) is refused.
#[napi]
pub fn x25519(secret: &[u8], public: &[u8]) -> Result<owned::Uint8Array> {
    guard(|| core::arguments::agree(secret, public)).map(|s| s[..].into())
}

// A plain Noise handshake (any pattern snow knows over 25519 and
// ChaChaPoly): the building block under `Session`, exposed for
// interoperating with other Noise implementations.
live_class!(NoiseHandshake(core::noise::Handshake, "this handshake was disposed"));

#[napi]
impl NoiseHandshake {
    #[napi(constructor)]
    pub fn new(
        protocol: String,
        initiator: bool,
        local_static: Option<&[u8]>,
        remote_static: Option<&[u8]>,
        prologue: &[u8],
    ) -> Result<Self> {
        let keys = core::noise::Keys { local_static, remote_static, prologue, fixed_ephemeral: None };
        let handshake = guard(|| core::noise::Handshake::new(&protocol, initiator, &keys))?;
        Ok(NoiseHandshake::wrap(handshake))
    }

    /// Writes the next message with `payload`, or reads `message` unless `write`.
    #[napi]
    pub fn step(&mut self, data: &[u8], write: bool) -> Result<owned::Uint8Array> {
        let h = self.inner.get_mut()?;
        guard(|| if write { h.write(data).map(Into::into) } else { h.read(data).map(Into::into) })
    }

    #[napi(getter)]
    pub fn handshake_hash(&self) -> Result<owned::Uint8Array> {
        Ok(self.inner.get()?.handshake_hash().into())
    }

    #[napi(getter)]
    pub fn remote_static(&self) -> Result<Option<owned::Uint8Array>> {
        Ok(self.inner.get()?.remote_static().map(Into::into))
    }
}
