//! Offline starts (X3DH, with an optional ML-KEM-768 prekey as in PQXDH):
//! the receiver's `PreKeySet`, the signed `PreKeyBundle` it publishes, and
//! the key agreement both sides run. The ML-KEM key is a one-time one when
//! the sender has one (signed on its own, `one_time_kem.rs`), else the
//! last-resort key under the bundle's signature.

use std::collections::BTreeMap;

use ml_kem::{Decapsulate, DecapsulationKey, EncapsulationKey, KeyExport, MlKem768};
use zeroize::Zeroizing;

use crate::codec::{Reader, Writer};
pub use crate::consts::{MAX_ONE_TIME, MAX_ONE_TIME_KEM};
use crate::error::{Error, Result};
use crate::identity::{IdentityKey, PeerIdentity};
use crate::kdf::derive_key;
use crate::keys::{random, KeyPair, Secret32};
pub use crate::one_time_kem::{
    sign as sign_one_time_kem, verify as verify_one_time_kem, OneTimeKemPreKey,
};
use crate::record;

pub const VERSION: u8 = 1;
pub const KIND_BUNDLE: u8 = 0x20;
pub const KIND_PREKEY_MESSAGE: u8 = 0x02;
pub const KEM_PUBLIC_LEN: usize = 1184;
pub const KEM_CIPHERTEXT_LEN: usize = 1088;

const SIGNED_DOMAIN: &[u8] = b"keyward prekey bundle v1";
const X3DH_INFO: &[u8] = b"keyward x3dh v1";
const PQXDH_INFO: &[u8] = b"keyward pqxdh v1";
/// The prekey message's ML-KEM byte: no ciphertext, one to the last-resort
/// key of the signed section, or one to a one-time key (their ids are
/// counted apart, so the byte says which one the id names).
const KEM_NONE: u8 = 0;
const KEM_LAST_RESORT: u8 = 1;
const KEM_ONE_TIME: u8 = 2;

type Kem = DecapsulationKey<MlKem768>;

struct SignedPreKey {
    id: u32,
    key: KeyPair,
}

struct KemPreKey {
    id: u32,
    seed: Zeroizing<[u8; 64]>,
    key: Box<Kem>,
}

impl KemPreKey {
    fn from_seed(id: u32, seed: Zeroizing<[u8; 64]>) -> Self {
        let key = Box::new(Kem::from_seed((*seed).into()));
        KemPreKey { id, seed, key }
    }
    fn public(&self) -> Vec<u8> {
        self.key.encapsulation_key().to_bytes().to_vec()
    }
}

/// The decapsulation key of a one-time ML-KEM seed, derived when needed:
/// a set keeps only the 64-byte seeds (an expanded key is several KiB).
fn kem_from_seed(seed: &[u8; 64]) -> Kem {
    Kem::from_seed((*seed).into())
}

fn kem_public(key: &Kem) -> Box<[u8; KEM_PUBLIC_LEN]> {
    let bytes = key.encapsulation_key().to_bytes();
    Box::new(bytes.as_slice().try_into().expect("ML-KEM-768 key length"))
}

/// The signed section of a bundle as published: what the bundle's signature
/// covers after the owner's identity key, and the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedSection {
    pub id: u32,
    pub public: [u8; 32],
    /// The last-resort ML-KEM-768 key, under the same signature.
    pub kem: Option<(u32, Box<[u8; KEM_PUBLIC_LEN]>)>,
    pub signature: [u8; 64],
}

/// Everything a client uploads to a relay (docs/relay.md, "Prekeys"): the
/// signed section and each one-time key not published before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub owner: [u8; 32],
    pub signed: SignedSection,
    /// `(id, public)`, ascending ids; unsigned, as in X3DH.
    pub one_time: Vec<(u32, [u8; 32])>,
    /// Ascending ids, each signed.
    pub one_time_kem: Vec<OneTimeKemPreKey>,
}

/// Freshly generated one-time prekeys, not yet in a set.
pub struct OneTimeBatch(Vec<KeyPair>);

impl OneTimeBatch {
    pub fn generate(count: u32) -> Result<Self> {
        if count as usize > MAX_ONE_TIME {
            return Err(Error::InvalidArgument(format!(
                "a prekey set holds at most {MAX_ONE_TIME} one-time prekeys"
            )));
        }
        (0..count)
            .map(|_| KeyPair::generate())
            .collect::<Result<_>>()
            .map(OneTimeBatch)
    }
}

/// The receiver's prekeys: a signed prekey (and the one it replaced, for
/// messages still in flight), one-time prekeys, and optionally an ML-KEM-768
/// prekey. All secrets stay here; `bundle()` publishes public halves.
pub struct PreKeySet {
    owner: [u8; 32],
    signed: SignedPreKey,
    previous: Option<SignedPreKey>,
    kem: Option<KemPreKey>,
    previous_kem: Option<KemPreKey>,
    signature: [u8; 64],
    one_time: BTreeMap<u32, KeyPair>,
    next_id: u32,
    /// One-time prekeys below this id were already put in a bundle.
    published_below: u32,
    /// One-time ML-KEM seeds (wiped on drop), ids counted apart from X25519
    /// ones. Each in its own heap block, as `KeyPair` secrets: the map moves
    /// its values when nodes split or merge, and would leave copies behind.
    one_time_kem: KemSeeds,
    next_kem_id: u32,
    kem_published_below: u32,
}

fn signed_part(owner: &[u8; 32], signed: &SignedPreKey, kem: Option<&KemPreKey>) -> Vec<u8> {
    let mut w = Writer::with_capacity(80 + KEM_PUBLIC_LEN);
    w.raw(owner)
        .u32(signed.id)
        .raw(signed.key.public())
        .flag(kem.is_some());
    if let Some(k) = kem {
        w.u32(k.id).raw(&k.public());
    }
    w.buf
}

fn sign(identity: &IdentityKey, part: &[u8]) -> [u8; 64] {
    identity.sign(&[SIGNED_DOMAIN, part].concat())
}

impl PreKeySet {
    pub fn generate(identity: &IdentityKey, one_time: u32, with_kem: bool) -> Result<Self> {
        let signed = SignedPreKey {
            id: 1,
            key: KeyPair::generate()?,
        };
        let kem = if with_kem {
            Some(KemPreKey::from_seed(1, random::<64>()?))
        } else {
            None
        };
        let owner = identity.public_key();
        let signature = sign(identity, &signed_part(&owner, &signed, kem.as_ref()));
        let mut set = PreKeySet {
            owner,
            signed,
            previous: None,
            kem,
            previous_kem: None,
            signature,
            one_time: BTreeMap::new(),
            next_id: 1,
            published_below: 1,
            one_time_kem: BTreeMap::new(),
            next_kem_id: 1,
            kem_published_below: 1,
        };
        set.add_one_time(one_time)?;
        Ok(set)
    }

    fn check_owner(&self, identity: &IdentityKey) -> Result<()> {
        if identity.public_key() != self.owner {
            return Err(Error::InvalidArgument(
                "this prekey set belongs to another identity".into(),
            ));
        }
        Ok(())
    }

    fn check_room(&self, count: usize) -> Result<()> {
        if self.one_time.len() + count > MAX_ONE_TIME {
            return Err(Error::InvalidArgument(format!(
                "a prekey set holds at most {MAX_ONE_TIME} one-time prekeys"
            )));
        }
        Ok(())
    }

    /// Adds `count` one-time prekeys.
    pub fn add_one_time(&mut self, count: u32) -> Result<()> {
        self.check_room(count as usize)?;
        self.add_batch(OneTimeBatch::generate(count)?)
    }

    /// Adds one-time prekeys generated elsewhere (on a worker thread).
    pub fn add_batch(&mut self, batch: OneTimeBatch) -> Result<()> {
        self.check_room(batch.0.len())?;
        let last = self
            .next_id
            .checked_add(batch.0.len() as u32)
            .ok_or(Error::InvalidState("one-time prekey ids are exhausted"))?;
        for (id, key) in (self.next_id..last).zip(batch.0) {
            self.one_time.insert(id, key);
        }
        self.next_id = last;
        Ok(())
    }

    /// Adds `count` one-time ML-KEM-768 prekeys (their seeds; the keys are
    /// derived and signed when `upload` publishes them).
    pub fn add_one_time_kem(&mut self, count: u32) -> Result<()> {
        if self.one_time_kem.len() + count as usize > MAX_ONE_TIME_KEM {
            return Err(Error::InvalidArgument(format!(
                "a prekey set holds at most {MAX_ONE_TIME_KEM} one-time ML-KEM prekeys"
            )));
        }
        let last = self
            .next_kem_id
            .checked_add(count)
            .ok_or(Error::InvalidState(
                "one-time ML-KEM prekey ids are exhausted",
            ))?;
        let seeds = (0..count)
            .map(|_| random::<64>().map(Box::new))
            .collect::<Result<Vec<_>>>()?;
        self.one_time_kem
            .extend((self.next_kem_id..last).zip(seeds));
        self.next_kem_id = last;
        Ok(())
    }

    /// Makes room for `one_time` more one-time X25519 prekeys and
    /// `one_time_kem` more one-time ML-KEM ones by dropping the oldest keys
    /// of each kind that were already published (lowest ids first), as few
    /// as needed; returns how many of each it dropped. A published key that
    /// is still held was handed out by the relay and never used, or is still
    /// waiting there: once a set is full of them, the oldest are the ones a
    /// start is least likely to name. Unpublished keys are never dropped.
    /// Dropped secrets are wiped; a start naming one is refused as one on a
    /// key already used (`ERR_SESSION_PREKEY_REUSED`).
    pub fn make_room(&mut self, one_time: usize, one_time_kem: usize) -> (usize, usize) {
        fn drop_oldest<V>(
            keys: &mut BTreeMap<u32, V>,
            published_below: u32,
            cap: usize,
            room: usize,
        ) -> usize {
            let excess = (keys.len() + room.min(cap)).saturating_sub(cap);
            let old: Vec<u32> = keys
                .range(..published_below)
                .map(|(id, _)| *id)
                .take(excess)
                .collect();
            for id in &old {
                keys.remove(id);
            }
            old.len()
        }
        (
            drop_oldest(
                &mut self.one_time,
                self.published_below,
                MAX_ONE_TIME,
                one_time,
            ),
            drop_oldest(
                &mut self.one_time_kem,
                self.kem_published_below,
                MAX_ONE_TIME_KEM,
                one_time_kem,
            ),
        )
    }

    pub fn one_time_kem_count(&self) -> usize {
        self.one_time_kem.len()
    }

    /// One-time ML-KEM prekeys not yet published by `upload`.
    pub fn unpublished_kem_count(&self) -> usize {
        self.one_time_kem.range(self.kem_published_below..).count()
    }

    /// The signed section and every one-time key (X25519 and ML-KEM) never
    /// published before, which are marked published: a relay hands each out
    /// once. `identity` (the set's owner) signs the one-time ML-KEM keys.
    pub fn upload(&mut self, identity: &IdentityKey) -> Result<Upload> {
        self.check_owner(identity)?;
        let one_time = self
            .one_time
            .range(self.published_below..)
            .map(|(id, k)| (*id, *k.public()))
            .collect::<Vec<_>>();
        let one_time_kem = self
            .one_time_kem
            .range(self.kem_published_below..)
            .map(|(id, seed)| {
                let public = kem_public(&kem_from_seed(seed));
                OneTimeKemPreKey {
                    id: *id,
                    signature: sign_one_time_kem(identity, *id, &public),
                    public,
                }
            })
            .collect::<Vec<_>>();
        self.published_below = self.published_below.max(self.next_id);
        self.kem_published_below = self.kem_published_below.max(self.next_kem_id);
        let kem = self.kem.as_ref().map(|k| {
            let public = k.public();
            (
                k.id,
                Box::new(public.as_slice().try_into().expect("ML-KEM-768 key length")),
            )
        });
        Ok(Upload {
            owner: self.owner,
            signed: SignedSection {
                id: self.signed.id,
                public: *self.signed.key.public(),
                kem,
                signature: self.signature,
            },
            one_time,
            one_time_kem,
        })
    }

    /// A new signed prekey (and KEM prekey, if the set has one); the replaced
    /// signed prekey is kept for messages already on their way.
    pub fn rotate(&mut self, identity: &IdentityKey) -> Result<()> {
        self.check_owner(identity)?;
        let signed = SignedPreKey {
            id: self.signed.id.wrapping_add(1).max(1),
            key: KeyPair::generate()?,
        };
        let kem = match &self.kem {
            Some(k) => Some(KemPreKey::from_seed(
                k.id.wrapping_add(1).max(1),
                random::<64>()?,
            )),
            None => None,
        };
        self.signature = sign(identity, &signed_part(&self.owner, &signed, kem.as_ref()));
        self.previous = Some(std::mem::replace(&mut self.signed, signed));
        self.previous_kem = std::mem::replace(&mut self.kem, kem);
        Ok(())
    }

    pub fn one_time_count(&self) -> usize {
        self.one_time.len()
    }

    /// One-time prekeys not yet handed out in a bundle.
    pub fn unpublished_count(&self) -> usize {
        self.one_time.range(self.published_below..).count()
    }

    /// The signed bundle with the next one-time prekey that was never
    /// published (none when all were): each one-time prekey goes out once.
    pub fn bundle(&mut self) -> Vec<u8> {
        let next = self
            .one_time
            .range(self.published_below..)
            .next()
            .map(|(id, k)| (*id, *k.public()));
        if let Some((id, _)) = next {
            self.published_below = id + 1;
        }
        let mut w = Writer::with_capacity(150 + KEM_PUBLIC_LEN);
        w.u8(VERSION).u8(KIND_BUNDLE);
        w.raw(&signed_part(&self.owner, &self.signed, self.kem.as_ref()));
        w.raw(&self.signature).flag(next.is_some());
        if let Some((id, public)) = next {
            w.u32(id).raw(&public);
        }
        w.buf
    }

    fn signed_by_id(&self, id: u32) -> Result<&KeyPair> {
        [Some(&self.signed), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|s| s.id == id)
            .map(|s| &s.key)
            .ok_or(Error::UnknownPreKey)
    }

    fn one_time_by_id(&self, id: u32) -> Result<&KeyPair> {
        self.one_time.get(&id).ok_or(if id < self.next_id {
            Error::PreKeyReused
        } else {
            Error::UnknownPreKey
        })
    }

    fn one_time_kem_by_id(&self, id: u32) -> Result<Kem> {
        match self.one_time_kem.get(&id) {
            Some(seed) => Ok(kem_from_seed(seed)),
            // Ids start at 1: 0 was never issued, so it is unknown, not reused.
            None if id != 0 && id < self.next_kem_id => Err(Error::PreKeyReused),
            None => Err(Error::UnknownPreKey),
        }
    }

    /// Removes the one-time keys `header` used (after its message decrypted).
    pub(crate) fn consume(&mut self, header: &PreKeyHeader) {
        if let Some(id) = header.one_time_id {
            self.one_time.remove(&id);
        }
        if let Some((KEM_ONE_TIME, id, _)) = header.kem {
            self.one_time_kem.remove(&id);
        }
    }

    /// Copies of every X25519 secret the set holds, then both halves of each
    /// one-time ML-KEM seed, for the zeroization and round-trip tests only.
    #[cfg(feature = "testing")]
    pub fn secrets_for_testing(&self) -> Vec<[u8; 32]> {
        let signed = [Some(&self.signed), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .map(|s| &s.key);
        let kem_halves = self.one_time_kem.values().flat_map(|seed| {
            let (a, b) = seed.split_at(32);
            [a.try_into().unwrap(), b.try_into().unwrap()]
        });
        // Sized once: a growing Vec would free copies the zeroize test finds.
        let mut out = Vec::with_capacity(2 + self.one_time.len() + 2 * self.one_time_kem.len());
        out.extend(
            signed
                .chain(self.one_time.values())
                .map(|k| *k.secret_bytes())
                .chain(kem_halves),
        );
        out
    }

    /// Copies of the one-time ML-KEM seeds, for the round-trip tests only.
    #[cfg(feature = "testing")]
    pub fn kem_seeds_for_testing(&self) -> Vec<(u32, [u8; 64])> {
        self.one_time_kem
            .iter()
            .map(|(id, s)| (*id, ***s))
            .collect()
    }

    pub fn serialize(&self, storage_key: &[u8]) -> Result<Vec<u8>> {
        let mut w =
            Writer::with_capacity(524 + self.one_time.len() * 36 + self.one_time_kem.len() * 68);
        w.raw(&self.owner);
        for s in [Some(&self.signed), self.previous.as_ref()] {
            w.flag(s.is_some());
            if let Some(s) = s {
                w.u32(s.id).raw(&s.key.secret_bytes()[..]);
            }
        }
        for k in [&self.kem, &self.previous_kem] {
            w.flag(k.is_some());
            if let Some(k) = k {
                w.u32(k.id).raw(&k.seed[..]);
            }
        }
        w.raw(&self.signature)
            .u32(self.next_id)
            .u32(self.published_below);
        w.u32(self.one_time.len() as u32);
        for (id, k) in &self.one_time {
            w.u32(*id).raw(&k.secret_bytes()[..]);
        }
        // Version 2: the one-time ML-KEM seeds after everything version 1 held.
        w.u32(self.next_kem_id)
            .u32(self.kem_published_below)
            .u32(self.one_time_kem.len() as u32);
        for (id, seed) in &self.one_time_kem {
            w.u32(*id).raw(&seed[..]);
        }
        let plain = Zeroizing::new(w.buf);
        record::seal_version(
            record::PREKEYS_VERSION,
            record::KIND_PREKEYS,
            storage_key,
            &plain,
        )
    }

    pub fn deserialize(bytes: &[u8], storage_key: &[u8]) -> Result<Self> {
        let (version, plain) = record::open_versions(
            &[record::VERSION, record::PREKEYS_VERSION],
            record::KIND_PREKEYS,
            "prekey set record",
            storage_key,
            bytes,
        )?;
        let mut r = Reader::new(&plain, "prekey set record");
        let owner = r.array()?;
        let mut signed = [None, None];
        for slot in &mut signed {
            if r.flag()? {
                *slot = Some(SignedPreKey {
                    id: r.u32()?,
                    key: KeyPair::from_secret(*Zeroizing::new(r.array()?)),
                });
            }
        }
        let [Some(current), previous] = signed else {
            return Err(Error::format("the prekey set record has no signed prekey"));
        };
        let mut kems = [None, None];
        for slot in &mut kems {
            if r.flag()? {
                *slot = Some(KemPreKey::from_seed(r.u32()?, Zeroizing::new(r.array()?)));
            }
        }
        let [kem, previous_kem] = kems;
        let signature = r.array()?;
        let next_id = r.u32()?;
        let published_below = r.u32()?;
        let count = r.u32()? as usize;
        if count > MAX_ONE_TIME {
            return Err(Error::format(
                "the prekey set record has too many one-time prekeys",
            ));
        }
        let mut one_time = BTreeMap::new();
        for _ in 0..count {
            let id = r.u32()?;
            // Ascending, as `serialize` writes them: one set has one record
            // (an out-of-order record was accepted and rewritten; found by
            // fuzzing, fuzz/corpus/session_records/found-prekeys-out-of-order).
            let ascending = one_time.last_key_value().is_none_or(|(last, _)| id > *last);
            if id >= next_id || !ascending {
                return Err(Error::format(
                    "the prekey set record has an invalid one-time prekey id",
                ));
            }
            one_time.insert(id, KeyPair::from_secret(*Zeroizing::new(r.array()?)));
        }
        let (next_kem_id, kem_published_below, one_time_kem) = if version == record::VERSION {
            (1, 1, BTreeMap::new())
        } else {
            read_one_time_kem(&mut r)?
        };
        r.finish()?;
        Ok(PreKeySet {
            owner,
            signed: current,
            previous,
            kem,
            previous_kem,
            signature,
            one_time,
            next_id,
            published_below,
            one_time_kem,
            next_kem_id,
            kem_published_below,
        })
    }
}

type KemSeeds = BTreeMap<u32, Box<Zeroizing<[u8; 64]>>>;

/// A version 2 record's tail: the next one-time ML-KEM id, the published
/// mark, and the seeds (ascending ids below the next one, as for X25519).
fn read_one_time_kem(r: &mut Reader) -> Result<(u32, u32, KemSeeds)> {
    let next = r.u32()?;
    let published_below = r.u32()?;
    let count = r.u32()? as usize;
    if count > MAX_ONE_TIME_KEM {
        return Err(Error::format(
            "the prekey set record has too many one-time ML-KEM prekeys",
        ));
    }
    let mut seeds = BTreeMap::new();
    for _ in 0..count {
        let id = r.u32()?;
        let ascending = seeds
            .last_key_value()
            .is_none_or(|(last, _): (&u32, _)| id > *last);
        if id >= next || !ascending {
            return Err(Error::format(
                "the prekey set record has an invalid one-time ML-KEM prekey id",
            ));
        }
        seeds.insert(id, Box::new(Zeroizing::new(r.array()?)));
    }
    Ok((next, published_below, seeds))
}

/// A parsed, verified bundle.
pub struct Bundle {
    pub identity: PeerIdentity,
    signed_id: u32,
    signed: [u8; 32],
    kem: Option<(u32, Box<EncapsulationKey<MlKem768>>)>,
    one_time: Option<(u32, [u8; 32])>,
    one_time_kem: Option<(u32, Box<EncapsulationKey<MlKem768>>)>,
}

impl Bundle {
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "prekey bundle");
        r.header(VERSION, KIND_BUNDLE)?;
        let start = 2;
        let identity = PeerIdentity::parse(r.take(32)?)
            .map_err(|_| Error::format("the bundle's identity key is invalid"))?;
        let signed_id = r.u32()?;
        let signed = r.x25519()?;
        let kem = if r.flag()? {
            let id = r.u32()?;
            let public: [u8; KEM_PUBLIC_LEN] = r.array()?;
            let key = EncapsulationKey::<MlKem768>::new(&public.into())
                .map_err(|_| Error::format("the bundle's ML-KEM key is invalid"))?;
            Some((id, Box::new(key)))
        } else {
            None
        };
        let end = bytes.len() - r.rest_len();
        let signature: [u8; 64] = r.array()?;
        let one_time = if r.flag()? {
            Some((r.u32()?, r.x25519()?))
        } else {
            None
        };
        r.finish()?;
        if !identity.verify(&[SIGNED_DOMAIN, &bytes[start..end]].concat(), &signature) {
            return Err(Error::BadSignature);
        }
        Ok(Bundle {
            identity,
            signed_id,
            signed,
            kem,
            one_time,
            one_time_kem: None,
        })
    }

    /// Adds the one-time ML-KEM prekey a relay delivered beside the bundle
    /// (`id ‖ key ‖ signature`), once its signature verifies as the bundle
    /// identity's: the start then encapsulates to it, not to the last-resort key.
    pub fn with_one_time_kem(mut self, encoded: &[u8]) -> Result<Self> {
        let key = OneTimeKemPreKey::parse(encoded)?;
        self.one_time_kem = Some((key.id, key.verified(&self.identity)?));
        Ok(self)
    }
}

/// Alice's side: the session key, her ephemeral key (also her first ratchet
/// key), and the header that lets Bob run the same agreement.
pub struct Started {
    pub shared: Secret32,
    pub ephemeral: KeyPair,
    /// DH(ephemeral, signed prekey): also the first ratchet step's DH.
    pub dh3: Secret32,
    pub signed_prekey: [u8; 32],
    pub header: Vec<u8>,
}

fn shared_key(parts: &[&[u8]], kem: bool) -> Secret32 {
    let mut ikm = Zeroizing::new(vec![0xFF; 32]);
    for p in parts {
        ikm.extend_from_slice(p);
    }
    derive_key(&[0u8; 32], &ikm, if kem { PQXDH_INFO } else { X3DH_INFO })
}

pub fn start(identity: &IdentityKey, bundle: &Bundle) -> Result<Started> {
    let ephemeral = KeyPair::generate()?;
    let dh1 = identity.x25519().dh(&bundle.signed)?;
    let dh2 = ephemeral.dh(&bundle.identity.x25519())?;
    let dh3 = ephemeral.dh(&bundle.signed)?;
    let dh4 = match &bundle.one_time {
        Some((_, k)) => Some(ephemeral.dh(k)?),
        None => None,
    };
    let kem = match (&bundle.one_time_kem, &bundle.kem) {
        (Some((id, key)), _) => Some((KEM_ONE_TIME, *id, key)),
        (None, Some((id, key))) => Some((KEM_LAST_RESORT, *id, key)),
        (None, None) => None,
    };
    let encapsulated = match kem {
        Some((which, id, key)) => {
            let m = random::<32>()?;
            let (ct, ss) = key.encapsulate_deterministic(&(*m).into());
            Some((which, id, ct, Zeroizing::new(<[u8; 32]>::from(ss))))
        }
        None => None,
    };
    let mut parts: Vec<&[u8]> = vec![&dh1[..], &dh2[..], &dh3[..]];
    if let Some(d) = &dh4 {
        parts.push(&d[..]);
    }
    if let Some((_, _, _, ss)) = &encapsulated {
        parts.push(&ss[..]);
    }
    let shared = shared_key(&parts, encapsulated.is_some());

    let mut w = Writer::with_capacity(90 + KEM_CIPHERTEXT_LEN);
    w.u8(VERSION)
        .u8(KIND_PREKEY_MESSAGE)
        .raw(&identity.public_key())
        .raw(ephemeral.public());
    w.u32(bundle.signed_id).flag(bundle.one_time.is_some());
    if let Some((id, _)) = bundle.one_time {
        w.u32(id);
    }
    match &encapsulated {
        Some((which, id, ct, _)) => w.u8(*which).u32(*id).raw(ct.as_slice()),
        None => w.u8(KEM_NONE),
    };
    Ok(Started {
        shared,
        ephemeral,
        dh3,
        signed_prekey: bundle.signed,
        header: w.buf,
    })
}

/// A parsed prekey-message header.
pub struct PreKeyHeader<'a> {
    pub sender: [u8; 32],
    pub base: [u8; 32],
    signed_id: u32,
    pub one_time_id: Option<u32>,
    /// `(KEM_LAST_RESORT or KEM_ONE_TIME, id, ciphertext)`.
    kem: Option<(u8, u32, &'a [u8])>,
    /// The ratchet message that follows the header.
    pub inner: &'a [u8],
    pub header: &'a [u8],
}

impl<'a> PreKeyHeader<'a> {
    pub fn parse(message: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(message, "prekey message");
        r.header(VERSION, KIND_PREKEY_MESSAGE)?;
        let sender = r.array()?;
        let base = r.x25519()?;
        let signed_id = r.u32()?;
        let one_time_id = if r.flag()? { Some(r.u32()?) } else { None };
        let kem = match r.u8()? {
            KEM_NONE => None,
            which @ (KEM_LAST_RESORT | KEM_ONE_TIME) => {
                Some((which, r.u32()?, r.take(KEM_CIPHERTEXT_LEN)?))
            }
            _ => {
                return Err(Error::format(
                    "the prekey message has an invalid ML-KEM byte",
                ))
            }
        };
        let inner = r.rest();
        let header = &message[..message.len() - inner.len()];
        Ok(PreKeyHeader {
            sender,
            base,
            signed_id,
            one_time_id,
            kem,
            inner,
            header,
        })
    }
}

/// Bob's side of the agreement: the session key and the keys his ratchet starts from.
pub struct Accepted {
    pub shared: Secret32,
    pub dh3: Secret32,
    pub signed_prekey: KeyPair,
}

pub fn accept(
    identity: &IdentityKey,
    set: &PreKeySet,
    header: &PreKeyHeader,
    sender: &PeerIdentity,
) -> Result<Accepted> {
    set.check_owner(identity)?;
    let signed = set.signed_by_id(header.signed_id)?;
    let one_time = header
        .one_time_id
        .map(|id| set.one_time_by_id(id))
        .transpose()?;
    let decapsulated = match header.kem {
        None => None,
        Some((which, id, ct)) => {
            let one_time;
            let key = if which == KEM_ONE_TIME {
                one_time = set.one_time_kem_by_id(id)?;
                &one_time
            } else {
                [&set.kem, &set.previous_kem]
                    .into_iter()
                    .flatten()
                    .find(|k| k.id == id)
                    .map(|k| &*k.key)
                    .ok_or(Error::UnknownPreKey)?
            };
            let ct: [u8; KEM_CIPHERTEXT_LEN] = ct.try_into().expect("length read exactly");
            Some(Zeroizing::new(<[u8; 32]>::from(
                key.decapsulate(&ct.into()),
            )))
        }
    };
    let dh1 = signed.dh(&sender.x25519())?;
    let dh2 = identity.x25519().dh(&header.base)?;
    let dh3 = signed.dh(&header.base)?;
    let dh4 = match one_time {
        Some(k) => Some(k.dh(&header.base)?),
        None => None,
    };
    let mut parts: Vec<&[u8]> = vec![&dh1[..], &dh2[..], &dh3[..]];
    if let Some(d) = &dh4 {
        parts.push(&d[..]);
    }
    if let Some(ss) = &decapsulated {
        parts.push(&ss[..]);
    }
    let shared = shared_key(&parts, decapsulated.is_some());
    Ok(Accepted {
        shared,
        dh3,
        signed_prekey: signed.clone(),
    })
}
