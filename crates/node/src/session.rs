//! End-to-end session exports: identity keys, prekey sets and sessions as
//! classes whose secrets stay in Rust. A handshake step leaves its outgoing
//! message and the peer's payload on the session for the TypeScript layer to
//! collect, because a factory returns one object.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use crate::handles::{Handled, Handles};

use keyward_session::{self as core, Error, Initiating};
use napi::bindgen_prelude::{AsyncTask, Uint8ArraySlice};
use napi::{Env, Task};
use napi_derive::napi;
use zeroize::Zeroizing;

use crate::convert::{guard, secret_out, to_js};
use crate::owned;
use crate::seal::whole_u32;
use crate::workers::on_workers;

fn disposed(what: &'static str) -> napi::Error {
    to_js(Error::InvalidState(what))
}

#[napi]
pub struct IdentityKey {
    inner: Option<core::IdentityKey>,
}

impl IdentityKey {
    fn get(&self) -> napi::Result<&core::IdentityKey> {
        self.inner
            .as_ref()
            .ok_or_else(|| disposed("this identity key was disposed"))
    }
    fn wrap(inner: core::IdentityKey) -> Self {
        IdentityKey { inner: Some(inner) }
    }
}

#[napi]
impl IdentityKey {
    #[napi(factory)]
    pub fn generate() -> napi::Result<Self> {
        guard(core::IdentityKey::generate).map(Self::wrap)
    }

    #[napi(factory)]
    pub fn from_seed(seed: &[u8]) -> napi::Result<Self> {
        guard(|| core::IdentityKey::from_seed_slice(seed)).map(Self::wrap)
    }

    #[napi(factory)]
    pub fn deserialize(record: &[u8], storage_key: &[u8]) -> napi::Result<Self> {
        guard(|| core::IdentityKey::deserialize(record, storage_key)).map(Self::wrap)
    }

    #[napi(getter)]
    pub fn public_key(&self) -> napi::Result<owned::Uint8Array> {
        Ok(owned::Uint8Array::from(&self.get()?.public_key()[..]))
    }

    #[napi(getter)]
    pub fn x25519_public_key(&self) -> napi::Result<owned::Uint8Array> {
        Ok(owned::Uint8Array::from(
            &self.get()?.x25519_public_key()[..],
        ))
    }

    /// SHA-256 over the canonical identity (see `identityFingerprint`).
    #[napi(getter)]
    pub fn fingerprint(&self) -> napi::Result<owned::Uint8Array> {
        Ok(owned::Uint8Array::from(&self.get()?.fingerprint()[..]))
    }

    #[napi]
    pub fn sign(&self, message: &[u8]) -> napi::Result<owned::Uint8Array> {
        Ok(owned::Uint8Array::from(&self.get()?.sign(message)[..]))
    }

    #[napi]
    pub fn export_seed(&self) -> napi::Result<owned::Uint8Array> {
        Ok(secret_out(Zeroizing::new(
            self.get()?.export_seed().to_vec(),
        )))
    }

    #[napi]
    pub fn serialize(&self, storage_key: &[u8]) -> napi::Result<owned::Uint8Array> {
        let identity = self.get()?;
        guard(|| identity.serialize(storage_key)).map(owned::Uint8Array::from)
    }

    #[napi]
    pub fn dispose(&mut self) {
        self.inner = None;
    }
}

/// The fingerprint of an identity public key; refuses keys that are not
/// canonical, small-order or carry a torsion component.
#[napi]
pub fn identity_fingerprint(public_key: &[u8]) -> napi::Result<owned::Uint8Array> {
    guard(|| core::fingerprint(public_key)).map(|f| owned::Uint8Array::from(&f[..]))
}

/// The expected peer as the TypeScript layer passes it: a public key or a
/// fingerprint (never both), or neither for trust on first use.
fn expected<'a>(
    key: Option<&'a [u8]>,
    fingerprint: Option<&'a [u8]>,
) -> napi::Result<Option<core::ExpectedPeer<'a>>> {
    match (key, fingerprint) {
        (None, None) => Ok(None),
        (Some(k), None) => Ok(Some(core::ExpectedPeer::PublicKey(k))),
        (None, Some(f)) => Ok(Some(core::ExpectedPeer::Fingerprint(f))),
        (Some(_), Some(_)) => Err(to_js(Error::InvalidArgument(
            "give the expected peer as a public key or a fingerprint, not both".into(),
        ))),
    }
}

#[napi]
pub fn identity_verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    core::verify(public_key, message, signature)
}

pub struct GeneratePreKeysTask {
    identity: core::IdentityKey,
    one_time: u32,
    with_kem: bool,
}

impl Task for GeneratePreKeysTask {
    type Output = core::PreKeySet;
    type JsValue = PreKeySet;
    fn compute(&mut self) -> napi::Result<core::PreKeySet> {
        on_workers(|| {
            guard(|| core::PreKeySet::generate(&self.identity, self.one_time, self.with_kem))
        })
    }
    fn resolve(&mut self, _: Env, set: core::PreKeySet) -> napi::Result<PreKeySet> {
        Ok(PreKeySet { inner: Some(set) })
    }
}

/// One-time prekeys generated off the event loop, waiting to join a set.
#[napi]
pub struct OneTimePreKeyBatch {
    inner: Option<core::prekeys::OneTimeBatch>,
}

pub struct GenerateBatchTask(u32);

impl Task for GenerateBatchTask {
    type Output = core::prekeys::OneTimeBatch;
    type JsValue = OneTimePreKeyBatch;
    fn compute(&mut self) -> napi::Result<core::prekeys::OneTimeBatch> {
        let count = self.0;
        on_workers(|| guard(|| core::prekeys::OneTimeBatch::generate(count)))
    }
    fn resolve(
        &mut self,
        _: Env,
        batch: core::prekeys::OneTimeBatch,
    ) -> napi::Result<OneTimePreKeyBatch> {
        Ok(OneTimePreKeyBatch { inner: Some(batch) })
    }
}

#[napi(ts_return_type = "Promise<OneTimePreKeyBatch>")]
pub fn generate_one_time_pre_keys(count: f64) -> napi::Result<AsyncTask<GenerateBatchTask>> {
    Ok(AsyncTask::new(GenerateBatchTask(count_arg(count)?)))
}

/// Counts cross as numbers and are refused, not wrapped, out of `u32` range.
fn count_arg(count: f64) -> napi::Result<u32> {
    whole_u32(count, "the prekey count", 0)
}

#[napi]
pub struct PreKeySet {
    inner: Option<core::PreKeySet>,
}

impl PreKeySet {
    fn get(&mut self) -> napi::Result<&mut core::PreKeySet> {
        self.inner
            .as_mut()
            .ok_or_else(|| disposed("this prekey set was disposed"))
    }
}

#[napi]
impl PreKeySet {
    #[napi(factory)]
    pub fn generate(identity: &IdentityKey, one_time: f64, with_kem: bool) -> napi::Result<Self> {
        let one_time = count_arg(one_time)?;
        let identity = identity.get()?;
        guard(|| core::PreKeySet::generate(identity, one_time, with_kem))
            .map(|s| PreKeySet { inner: Some(s) })
    }

    #[napi(factory)]
    pub fn deserialize(record: &[u8], storage_key: &[u8]) -> napi::Result<Self> {
        guard(|| core::PreKeySet::deserialize(record, storage_key))
            .map(|s| PreKeySet { inner: Some(s) })
    }

    /// The same as `generate`, off the event loop (thousands of prekeys take milliseconds).
    #[napi(ts_return_type = "Promise<PreKeySet>")]
    pub fn generate_async(
        identity: &IdentityKey,
        one_time: f64,
        with_kem: bool,
    ) -> napi::Result<AsyncTask<GeneratePreKeysTask>> {
        let one_time = count_arg(one_time)?;
        let identity = identity.get()?.clone();
        Ok(AsyncTask::new(GeneratePreKeysTask {
            identity,
            one_time,
            with_kem,
        }))
    }

    /// Adds a batch from `generateOneTimePreKeys`; the batch is used up.
    #[napi]
    pub fn add_batch(&mut self, batch: &mut OneTimePreKeyBatch) -> napi::Result<()> {
        let taken = batch
            .inner
            .take()
            .ok_or_else(|| disposed("this batch was already added"))?;
        let set = self.get()?;
        guard(|| set.add_batch(taken))
    }

    #[napi]
    pub fn bundle(&mut self) -> napi::Result<owned::Uint8Array> {
        Ok(owned::Uint8Array::from(self.get()?.bundle()))
    }

    #[napi]
    pub fn add_one_time(&mut self, count: f64) -> napi::Result<()> {
        let count = count_arg(count)?;
        let set = self.get()?;
        guard(|| set.add_one_time(count))
    }

    #[napi]
    pub fn rotate(&mut self, identity: &IdentityKey) -> napi::Result<()> {
        let identity = identity.get()?;
        let set = self.get()?;
        guard(|| set.rotate(identity))
    }

    #[napi(getter)]
    pub fn one_time_count(&mut self) -> napi::Result<u32> {
        Ok(self.get()?.one_time_count() as u32)
    }

    #[napi(getter)]
    pub fn unpublished_count(&mut self) -> napi::Result<u32> {
        Ok(self.get()?.unpublished_count() as u32)
    }

    #[napi]
    pub fn serialize(&mut self, storage_key: &[u8]) -> napi::Result<owned::Uint8Array> {
        let set = self.get()?;
        guard(|| set.serialize(storage_key)).map(owned::Uint8Array::from)
    }

    #[napi]
    pub fn dispose(&mut self) {
        self.inner = None;
    }
}

/// Established sessions by handle: async calls take the handle, not the
/// object, so a pending call holds no borrow of it (`dispose()` still works;
/// the call finishes on its own reference, which then wipes the state).
static SESSIONS: Handles<Mutex<core::Session>> = Handles::new();

enum State {
    Initiating(Box<Initiating>),
    Established(Handled<Mutex<core::Session>>),
    Disposed,
}

fn established(session: core::Session) -> State {
    State::Established(Handled::new(Mutex::new(session), &SESSIONS))
}

#[napi]
pub struct Session {
    state: State,
    /// The handshake message to send, once.
    outgoing: Option<Vec<u8>>,
    /// The peer's handshake payload or first plaintext, once.
    incoming: Option<Zeroizing<Vec<u8>>>,
}

impl Session {
    fn new(state: State, outgoing: Option<Vec<u8>>, incoming: Option<Zeroizing<Vec<u8>>>) -> Self {
        Session {
            state,
            outgoing,
            incoming,
        }
    }

    fn shared(&self) -> napi::Result<&Mutex<core::Session>> {
        match &self.state {
            State::Established(s) => s.get().ok_or_else(|| disposed("this session was disposed")),
            State::Initiating(_) => Err(disposed(
                "the handshake is not complete: call complete(reply) first",
            )),
            State::Disposed => Err(disposed("this session was disposed")),
        }
    }

    /// The session for a synchronous call; refused (not waited for) while an
    /// async call holds it, so the event loop never blocks.
    fn established(&self) -> napi::Result<MutexGuard<'_, core::Session>> {
        match self.shared()?.try_lock() {
            Ok(guard) => Ok(guard),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(disposed(
                "the session is busy with an async call: await it first",
            )),
        }
    }
}

/// `encrypt`/`decrypt` on a worker thread for the session behind `handle`.
#[napi(ts_return_type = "Promise<Uint8Array>")]
pub fn session_crypt_async(
    handle: f64,
    input: &[u8],
    ad: &[u8],
    encrypt: bool,
) -> napi::Result<AsyncTask<CryptTask>> {
    let session = SESSIONS
        .get(handle)
        .ok_or_else(|| disposed("this session was disposed, or its handshake is not complete"))?;
    Ok(AsyncTask::new(CryptTask {
        session,
        input: Zeroizing::new(input.to_vec()),
        ad: ad.to_vec(),
        encrypt,
    }))
}

pub struct CryptTask {
    session: Arc<Mutex<core::Session>>,
    input: Zeroizing<Vec<u8>>,
    ad: Vec<u8>,
    encrypt: bool,
}

impl Task for CryptTask {
    type Output = Zeroizing<Vec<u8>>;
    type JsValue = owned::Uint8Array;
    fn compute(&mut self) -> napi::Result<Zeroizing<Vec<u8>>> {
        let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        if self.encrypt {
            guard(|| session.encrypt(&self.input, &self.ad)).map(Zeroizing::new)
        } else {
            guard(|| session.decrypt(&self.input, &self.ad))
        }
    }
    fn resolve(&mut self, _: Env, out: Zeroizing<Vec<u8>>) -> napi::Result<owned::Uint8Array> {
        Ok(owned::Uint8Array::from(out))
    }
}

#[napi]
impl Session {
    #[napi(factory)]
    pub fn initiate(
        identity: &IdentityKey,
        peer_public_key: &[u8],
        prologue: &[u8],
        payload: &[u8],
    ) -> napi::Result<Self> {
        let identity = identity.get()?;
        let (initiating, message) =
            guard(|| core::Session::initiate(identity, peer_public_key, prologue, payload))?;
        Ok(Session::new(
            State::Initiating(Box::new(initiating)),
            Some(message),
            None,
        ))
    }

    #[napi(factory)]
    pub fn respond(
        identity: &IdentityKey,
        message: &[u8],
        prologue: &[u8],
        payload: &[u8],
        expected_peer: Option<&[u8]>,
        expected_fingerprint: Option<&[u8]>,
    ) -> napi::Result<Self> {
        let identity = identity.get()?;
        let expected = expected(expected_peer, expected_fingerprint)?;
        let r = guard(|| core::Session::respond(identity, message, prologue, payload, expected))?;
        Ok(Session::new(
            established(r.session),
            Some(r.reply),
            Some(r.payload),
        ))
    }

    /// Neither expected key nor fingerprint: trust on first use, which the
    /// TypeScript layer only passes when the caller asked for it.
    #[napi(factory)]
    pub fn from_bundle(
        identity: &IdentityKey,
        bundle: &[u8],
        expected_peer: Option<&[u8]>,
        expected_fingerprint: Option<&[u8]>,
    ) -> napi::Result<Self> {
        let identity = identity.get()?;
        let expected = expected(expected_peer, expected_fingerprint)?;
        let session = guard(|| core::Session::from_bundle(identity, bundle, expected))?;
        Ok(Session::new(established(session), None, None))
    }

    #[napi(factory)]
    pub fn accept(
        identity: &IdentityKey,
        prekeys: &mut PreKeySet,
        message: &[u8],
        ad: &[u8],
        expected_peer: Option<&[u8]>,
        expected_fingerprint: Option<&[u8]>,
    ) -> napi::Result<Self> {
        let identity = identity.get()?;
        let expected = expected(expected_peer, expected_fingerprint)?;
        let set = prekeys.get()?;
        let (session, plaintext) =
            guard(|| core::Session::accept(identity, set, message, ad, expected))?;
        Ok(Session::new(established(session), None, Some(plaintext)))
    }

    #[napi(factory)]
    pub fn deserialize(record: &[u8], storage_key: &[u8]) -> napi::Result<Self> {
        let session = guard(|| core::Session::deserialize(record, storage_key))?;
        Ok(Session::new(established(session), None, None))
    }

    /// Reads the reply; returns the responder's payload.
    #[napi]
    pub fn complete(&mut self, reply: &[u8]) -> napi::Result<owned::Uint8Array> {
        if !matches!(self.state, State::Initiating(_)) {
            return Err(disposed(
                "complete() belongs to an initiator waiting for its reply",
            ));
        }
        // A handshake whose reply failed cannot be retried (snow's state is
        // spent), so the session is left disposed on error.
        let State::Initiating(initiating) = std::mem::replace(&mut self.state, State::Disposed)
        else {
            unreachable!("checked above");
        };
        let (session, payload) = guard(|| initiating.complete(reply))?;
        self.state = established(session);
        Ok(secret_out(payload))
    }

    #[napi]
    pub fn take_outgoing(&mut self) -> Option<owned::Uint8Array> {
        self.outgoing.take().map(owned::Uint8Array::from)
    }

    #[napi]
    pub fn take_incoming(&mut self) -> Option<owned::Uint8Array> {
        self.incoming.take().map(owned::Uint8Array::from)
    }

    /// For `sessionCryptAsync`; 0 until the handshake is complete.
    #[napi(getter)]
    pub fn handle(&self) -> f64 {
        match &self.state {
            State::Established(s) => s.handle(),
            _ => 0.0,
        }
    }

    #[napi]
    pub fn encrypt(&mut self, plaintext: &[u8], ad: &[u8]) -> napi::Result<owned::Uint8Array> {
        let mut session = self.established()?;
        guard(|| session.encrypt(plaintext, ad)).map(owned::Uint8Array::from)
    }

    #[napi]
    pub fn decrypt(&mut self, message: &[u8], ad: &[u8]) -> napi::Result<owned::Uint8Array> {
        let mut session = self.established()?;
        guard(|| session.decrypt(message, ad)).map(owned::Uint8Array::from)
    }

    #[napi]
    pub fn serialize(&mut self, storage_key: &[u8]) -> napi::Result<owned::Uint8Array> {
        let session = self.established()?;
        guard(|| session.serialize(storage_key)).map(owned::Uint8Array::from)
    }

    #[napi(getter)]
    pub fn peer_public_key(&mut self) -> napi::Result<owned::Uint8Array> {
        Ok(owned::Uint8Array::from(
            &self.established()?.peer_public_key()[..],
        ))
    }

    #[napi(getter)]
    pub fn established_state(&self) -> bool {
        matches!(self.state, State::Established(_))
    }

    #[napi]
    pub fn dispose(&mut self) {
        self.state = State::Disposed;
        self.outgoing = None;
        self.incoming = None;
    }
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
pub fn x25519(secret: &[u8], public: &[u8]) -> napi::Result<owned::Uint8Array> {
    let pair = |b: &[u8], what: &str| -> napi::Result<[u8; 32]> {
        b.try_into().map_err(|_| {
            to_js(Error::InvalidArgument(format!(
                "the X25519 {what} is 32 bytes, not {}",
                b.len()
            )))
        })
    };
    let secret = Zeroizing::new(pair(secret, "secret key")?);
    let public = pair(public, "public key")?;
    guard(|| core::keys::KeyPair::agree(*secret, public))
        .map(|s| secret_out(Zeroizing::new(s.to_vec())))
}

/// A plain Noise handshake (any pattern snow knows over 25519 and
/// ChaChaPoly): the building block under `Session`, exposed for
/// interoperating with other Noise implementations.
#[napi]
pub struct NoiseHandshake {
    inner: Option<core::noise::Handshake>,
}

impl NoiseHandshake {
    fn get(&mut self) -> napi::Result<&mut core::noise::Handshake> {
        self.inner
            .as_mut()
            .ok_or_else(|| disposed("this handshake was disposed"))
    }
}

#[napi]
impl NoiseHandshake {
    #[napi(constructor)]
    pub fn new(
        protocol: String,
        initiator: bool,
        local_static: Option<&[u8]>,
        remote_static: Option<&[u8]>,
        prologue: &[u8],
    ) -> napi::Result<Self> {
        let keys = core::noise::Keys {
            local_static,
            remote_static,
            prologue,
            fixed_ephemeral: None,
        };
        let inner = guard(|| core::noise::Handshake::new(&protocol, initiator, &keys))?;
        Ok(NoiseHandshake { inner: Some(inner) })
    }

    #[napi]
    pub fn write(&mut self, payload: &[u8]) -> napi::Result<owned::Uint8Array> {
        let h = self.get()?;
        guard(|| h.write(payload)).map(owned::Uint8Array::from)
    }

    #[napi]
    pub fn read(&mut self, message: &[u8]) -> napi::Result<owned::Uint8Array> {
        let h = self.get()?;
        guard(|| h.read(message)).map(owned::Uint8Array::from)
    }

    #[napi(getter)]
    pub fn handshake_hash(&mut self) -> napi::Result<owned::Uint8Array> {
        Ok(owned::Uint8Array::from(self.get()?.handshake_hash()))
    }

    #[napi(getter)]
    pub fn remote_static(&mut self) -> napi::Result<Option<owned::Uint8Array>> {
        Ok(self.get()?.remote_static().map(owned::Uint8Array::from))
    }

    #[napi]
    pub fn dispose(&mut self) {
        self.inner = None;
    }
}
