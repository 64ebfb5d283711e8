//! The Double Ratchet (Signal spec, revision 4): a root chain stepped by
//! X25519, sending and receiving chains stepped by HMAC-SHA256, skipped
//! message keys kept within libsignal's limits.
//!
//! Two departures, both invisible on the wire:
//! - The DH step that follows a receive ("step 4": new ratchet key, new
//!   sending chain) is taken at the next send instead of at once. The peer
//!   cannot move its ratchet again until it has seen our new key, so the
//!   order of root-chain steps is the same; a session that only receives
//!   pays for no key generation.
//! - A session can start knowing the peer's next ratchet key before any
//!   message on it (`Pending::Announced`, the Noise start): it is stepped to
//!   on the first send or the first message under that key.
//!
//! Every decryption is computed before anything is stored, so a message
//! that fails (tampered, replayed, too far ahead) leaves the state as it was.

use std::collections::{BTreeMap, VecDeque};

use zeroize::Zeroizing;

use crate::aead::{open_once, seal_once, TAG_LEN};
use crate::codec::{Reader, Writer};
pub use crate::consts::{MAX_FORWARD_JUMPS, MAX_RECEIVE_CHAINS, MAX_SKIPPED_PER_CHAIN};
use crate::error::{Error, Result};
use crate::kdf::{kdf_ck, kdf_rk};
use crate::keys::{KeyPair, Secret32};

/// Stored keys live in their own heap blocks: moving one (into a map, out
/// of a queue) moves a pointer, so no stale copy is left in a collection's
/// memory, and each is zeroized where it lives when dropped.
type Key = Box<Secret32>;

fn boxed(k: Secret32) -> Key {
    Box::new(k)
}

pub const VERSION: u8 = 1;
pub const KIND_MESSAGE: u8 = 0x01;
/// version, kind, ratchet public key, previous chain length, message number.
pub const HEADER_LEN: usize = 1 + 1 + 32 + 4 + 4;

pub struct Header {
    pub dh: [u8; 32],
    pub pn: u32,
    pub n: u32,
}

impl Header {
    pub fn parse(message: &[u8]) -> Result<Header> {
        if message.len() < HEADER_LEN + TAG_LEN {
            return Err(Error::format(
                "the message is too short to be a session message",
            ));
        }
        let mut r = Reader::new(&message[..HEADER_LEN], "session message");
        r.header(VERSION, KIND_MESSAGE)?;
        Ok(Header {
            dh: r.x25519()?,
            pn: r.u32()?,
            n: r.u32()?,
        })
    }
}

struct Chain {
    key: Key,
    n: u32,
}

/// Skipped keys of one receiving chain, by message number.
struct ReceiveChain {
    ratchet: [u8; 32],
    skipped: BTreeMap<u32, Key>,
    /// Keys of messages below this number that are not in `skipped` were dropped.
    dropped_below: u32,
}

impl ReceiveChain {
    fn new(ratchet: [u8; 32]) -> Self {
        ReceiveChain {
            ratchet,
            skipped: BTreeMap::new(),
            dropped_below: 0,
        }
    }

    fn store(&mut self, keys: Skipped) {
        self.dropped_below = self.dropped_below.max(keys.dropped_below);
        self.skipped.extend(keys.keys);
        while self.skipped.len() > MAX_SKIPPED_PER_CHAIN {
            if let Some((n, _)) = self.skipped.pop_first() {
                self.dropped_below = self.dropped_below.max(n + 1);
            }
        }
    }

    fn missing(&self, n: u32) -> Error {
        if n < self.dropped_below {
            Error::KeyExpired
        } else {
            Error::Duplicate
        }
    }
}

/// Message keys derived on the way to a message, newest `MAX_SKIPPED_PER_CHAIN` only.
#[derive(Default)]
struct Skipped {
    keys: VecDeque<(u32, Key)>,
    dropped_below: u32,
}

/// Steps `chain` (at message `from`) to message `to`: the keys in between,
/// the key for `to`, and the chain key after it.
fn advance(chain: &Secret32, from: u32, to: u32) -> Result<(Skipped, Secret32, Key)> {
    if to < from || to - from > MAX_FORWARD_JUMPS {
        return Err(Error::TooFarAhead);
    }
    let mut skipped = Skipped::default();
    let mut key = boxed(chain.clone());
    for n in from..to {
        let (next, mk) = kdf_ck(&key);
        skipped.keys.push_back((n, boxed(mk)));
        if skipped.keys.len() > MAX_SKIPPED_PER_CHAIN {
            skipped.keys.pop_front();
            skipped.dropped_below = n + 1 - MAX_SKIPPED_PER_CHAIN as u32;
        }
        **key = *next;
    }
    let (next, mk) = kdf_ck(&key);
    Ok((skipped, mk, boxed(next)))
}

/// Keys of an ending chain from `from` up to (not including) `end`.
fn remaining(chain: &Chain, end: u32) -> Result<Skipped> {
    if end <= chain.n {
        return Ok(Skipped::default());
    }
    let (mut skipped, last, _) = advance(&chain.key, chain.n, end - 1)?;
    skipped.keys.push_back((end - 1, boxed(last)));
    if skipped.keys.len() > MAX_SKIPPED_PER_CHAIN {
        skipped.keys.pop_front();
        skipped.dropped_below = end - MAX_SKIPPED_PER_CHAIN as u32;
    }
    Ok(skipped)
}

/// What the next send (or the next new ratchet key) must do first.
#[derive(Clone, PartialEq, Eq)]
pub enum Pending {
    None,
    /// Our ratchet key is fresh: derive the first sending chain from it.
    SendChain,
    /// We received a new ratchet key: make a new key pair and sending chain.
    Rotate,
    /// The peer's ratchet key is known but no message used it yet.
    Announced([u8; 32]),
}

pub struct Ratchet {
    root: Key,
    ours: KeyPair,
    theirs: Option<[u8; 32]>,
    send: Option<Chain>,
    recv: Option<Chain>,
    prev_send: u32,
    chains: VecDeque<ReceiveChain>,
    pending: Pending,
}

impl Ratchet {
    fn blank(root: Secret32, ours: KeyPair, pending: Pending) -> Self {
        Ratchet {
            root: boxed(root),
            ours,
            theirs: None,
            send: None,
            recv: None,
            prev_send: 0,
            chains: VecDeque::new(),
            pending,
        }
    }

    /// We send first, from `ours` to `theirs`, deriving the chain at the first send.
    pub fn sender(root: Secret32, ours: KeyPair, theirs: [u8; 32]) -> Self {
        let mut r = Ratchet::blank(root, ours, Pending::SendChain);
        r.theirs = Some(theirs);
        r
    }

    /// We send first and the first sending chain is already derived (X3DH).
    pub fn sender_with_chain(
        root: Secret32,
        chain: Secret32,
        ours: KeyPair,
        theirs: [u8; 32],
    ) -> Self {
        let mut r = Ratchet::blank(root, ours, Pending::None);
        r.theirs = Some(theirs);
        r.send = Some(Chain {
            key: boxed(chain),
            n: 0,
        });
        r
    }

    /// The peer sends first, on a chain already derived (X3DH, receiving side).
    pub fn receiver_with_chain(
        root: Secret32,
        chain: Secret32,
        ours: KeyPair,
        theirs: [u8; 32],
    ) -> Self {
        let mut r = Ratchet::blank(root, ours, Pending::Rotate);
        r.theirs = Some(theirs);
        r.recv = Some(Chain {
            key: boxed(chain),
            n: 0,
        });
        r.chains.push_back(ReceiveChain::new(theirs));
        r
    }

    /// The peer's first ratchet key is known before its first message (Noise start).
    pub fn announced(root: Secret32, ours: KeyPair, theirs: [u8; 32]) -> Self {
        Ratchet::blank(root, ours, Pending::Announced(theirs))
    }

    fn receive_step(&mut self, theirs: [u8; 32]) -> Result<()> {
        let (root, chain) = kdf_rk(&self.root, &self.ours.dh(&theirs)?);
        **self.root = *root;
        self.recv = Some(Chain {
            key: boxed(chain),
            n: 0,
        });
        self.theirs = Some(theirs);
        self.push_chain(ReceiveChain::new(theirs));
        self.pending = Pending::Rotate;
        Ok(())
    }

    fn push_chain(&mut self, chain: ReceiveChain) {
        self.chains.push_back(chain);
        while self.chains.len() > MAX_RECEIVE_CHAINS {
            self.chains.pop_front();
        }
    }

    fn prepare_send(&mut self) -> Result<()> {
        let theirs = match (&self.pending, self.theirs) {
            (Pending::None, _) => return Ok(()),
            (Pending::Announced(announced), _) => {
                let announced = *announced;
                self.receive_step(announced)?;
                announced
            }
            (_, Some(theirs)) => theirs,
            (_, None) => return Err(Error::InvalidState("the session has no peer ratchet key")),
        };
        if self.pending == Pending::Rotate {
            let ours = KeyPair::generate()?;
            let (root, chain) = kdf_rk(&self.root, &ours.dh(&theirs)?);
            self.prev_send = self.send.as_ref().map_or(0, |c| c.n);
            self.ours = ours;
            **self.root = *root;
            self.send = Some(Chain {
                key: boxed(chain),
                n: 0,
            });
        } else {
            let (root, chain) = kdf_rk(&self.root, &self.ours.dh(&theirs)?);
            **self.root = *root;
            self.send = Some(Chain {
                key: boxed(chain),
                n: 0,
            });
        }
        self.pending = Pending::None;
        Ok(())
    }

    /// `header ‖ ciphertext ‖ tag`, authenticated with `prefix ‖ header ‖ ad`.
    pub fn encrypt(&mut self, prefix: &[u8], plaintext: &[u8], ad: &[u8]) -> Result<Vec<u8>> {
        self.prepare_send()?;
        let send = self
            .send
            .as_mut()
            .expect("prepare_send leaves a sending chain");
        if send.n == u32::MAX {
            return Err(Error::InvalidState("the sending chain is exhausted"));
        }
        let (next, mk) = kdf_ck(&send.key);
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        let mut w = Writer { buf: out };
        w.u8(VERSION)
            .u8(KIND_MESSAGE)
            .raw(self.ours.public())
            .u32(self.prev_send)
            .u32(send.n);
        out = w.buf;
        let aad = associated(prefix, &out[..HEADER_LEN], ad);
        seal_once(&mk, &aad, plaintext, &mut out);
        **send.key = *next;
        send.n += 1;
        Ok(out)
    }

    pub fn decrypt(
        &mut self,
        prefix: &[u8],
        message: &[u8],
        ad: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let header = Header::parse(message)?;
        let aad = associated(prefix, &message[..HEADER_LEN], ad);
        let body = &message[HEADER_LEN..];
        if let Some(i) = self.chains.iter().position(|c| c.ratchet == header.dh) {
            if let Some(mk) = self.chains[i].skipped.get(&header.n) {
                let plaintext = open_once(mk, &aad, body)?;
                self.chains[i].skipped.remove(&header.n);
                return Ok(plaintext);
            }
            if Some(header.dh) != self.theirs {
                return Err(self.chains[i].missing(header.n));
            }
            let recv = self.recv.as_mut().expect("the current chain has a key");
            if header.n < recv.n {
                return Err(self.chains[i].missing(header.n));
            }
            let (skipped, mk, next) = advance(&recv.key, recv.n, header.n)?;
            let plaintext = open_once(&mk, &aad, body)?;
            recv.key = next;
            recv.n = header.n + 1;
            self.chains[i].store(skipped);
            return Ok(plaintext);
        }
        self.decrypt_new_chain(&header, &aad, body)
    }

    fn decrypt_new_chain(
        &mut self,
        header: &Header,
        aad: &[u8],
        body: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        match &self.pending {
            // The peer moves its ratchet only after seeing our new key.
            Pending::Rotate => return Err(Error::Decryption),
            Pending::Announced(k) if *k != header.dh => return Err(Error::Decryption),
            _ => {}
        }
        let mut root: Secret32 = (*self.root).clone();
        if self.pending == Pending::SendChain {
            let theirs = self
                .theirs
                .ok_or(Error::InvalidState("the session has no peer ratchet key"))?;
            root = kdf_rk(&root, &self.ours.dh(&theirs)?).0;
        }
        let ending = match &self.recv {
            Some(recv) => remaining(recv, header.pn)?,
            None => Skipped::default(),
        };
        let (root, chain) = kdf_rk(&root, &self.ours.dh(&header.dh)?);
        let (skipped, mk, next) = advance(&chain, 0, header.n)?;
        let plaintext = open_once(&mk, aad, body)?;

        if let Some(current) = self.chains.back_mut() {
            current.store(ending);
        }
        let mut fresh = ReceiveChain::new(header.dh);
        fresh.store(skipped);
        self.push_chain(fresh);
        **self.root = *root;
        self.recv = Some(Chain {
            key: next,
            n: header.n + 1,
        });
        self.theirs = Some(header.dh);
        if self.pending == Pending::SendChain {
            self.send = None;
        }
        self.pending = Pending::Rotate;
        Ok(plaintext)
    }

    /// An upper bound on `write`'s output, so the buffer holding secrets is
    /// never reallocated (which would free a copy without zeroizing it).
    pub fn encoded_len_bound(&self) -> usize {
        let keys: usize = self.chains.iter().map(|c| 40 + 36 * c.skipped.len()).sum();
        256 + keys
    }

    pub fn write(&self, w: &mut Writer) {
        w.raw(&self.root[..]).raw(&self.ours.secret_bytes()[..]);
        write_opt_key(w, self.theirs.as_ref());
        for chain in [&self.send, &self.recv] {
            w.flag(chain.is_some());
            if let Some(c) = chain {
                w.raw(&c.key[..]).u32(c.n);
            }
        }
        w.u32(self.prev_send);
        match &self.pending {
            Pending::None => w.u8(0),
            Pending::SendChain => w.u8(1),
            Pending::Rotate => w.u8(2),
            Pending::Announced(k) => w.u8(3).raw(k),
        };
        w.u8(self.chains.len() as u8);
        for c in &self.chains {
            w.raw(&c.ratchet)
                .u32(c.dropped_below)
                .u32(c.skipped.len() as u32);
            for (n, k) in &c.skipped {
                w.u32(*n).raw(&k[..]);
            }
        }
    }

    pub fn read(r: &mut Reader) -> Result<Self> {
        let root = secret(r)?;
        let ours = KeyPair::from_secret(**secret(r)?);
        let theirs = read_opt_key(r)?;
        let mut chains = [None, None];
        for slot in &mut chains {
            if r.flag()? {
                *slot = Some(Chain {
                    key: secret(r)?,
                    n: r.u32()?,
                });
            }
        }
        let [send, recv] = chains;
        let prev_send = r.u32()?;
        let pending = match r.u8()? {
            0 => Pending::None,
            1 => Pending::SendChain,
            2 => Pending::Rotate,
            3 => Pending::Announced(r.array()?),
            _ => {
                return Err(Error::format(
                    "the session record has an unknown ratchet state",
                ))
            }
        };
        let count = r.u8()? as usize;
        if count > MAX_RECEIVE_CHAINS {
            return Err(Error::format(
                "the session record has too many receiving chains",
            ));
        }
        let mut list = VecDeque::with_capacity(count);
        for _ in 0..count {
            let mut c = ReceiveChain::new(r.array()?);
            c.dropped_below = r.u32()?;
            let keys = r.u32()? as usize;
            if keys > MAX_SKIPPED_PER_CHAIN {
                return Err(Error::format(
                    "the session record has too many skipped keys",
                ));
            }
            for _ in 0..keys {
                let n = r.u32()?;
                if c.skipped.insert(n, secret(r)?).is_some() {
                    return Err(Error::format("the session record repeats a skipped key"));
                }
            }
            list.push_back(c);
        }
        let consistent = match (&pending, theirs, &send, &recv) {
            (Pending::Announced(_), None, None, None) => list.is_empty(),
            (Pending::SendChain, Some(_), None, _) => true,
            (Pending::None, Some(_), Some(_), _) => true,
            (Pending::Rotate, Some(t), _, Some(_)) => list.back().is_some_and(|c| c.ratchet == t),
            _ => false,
        };
        if !consistent {
            return Err(Error::format(
                "the session record's ratchet state is inconsistent",
            ));
        }
        Ok(Ratchet {
            root,
            ours,
            theirs,
            send,
            recv,
            prev_send,
            chains: list,
            pending,
        })
    }

    /// Copies of every chain and message key this state holds, for the
    /// zeroization test only.
    #[cfg(feature = "testing")]
    pub fn secrets_for_testing(&self) -> Vec<[u8; 32]> {
        let mut out: Vec<[u8; 32]> = vec![**self.root];
        out.extend(self.send.iter().chain(self.recv.iter()).map(|c| **c.key));
        for c in &self.chains {
            out.extend(c.skipped.values().map(|k| ***k));
        }
        out
    }
}

fn secret(r: &mut Reader) -> Result<Key> {
    let mut key = boxed(Zeroizing::new([0u8; 32]));
    key.copy_from_slice(r.take(32)?);
    Ok(key)
}

pub fn write_opt_key(w: &mut Writer, key: Option<&[u8; 32]>) {
    w.flag(key.is_some());
    if let Some(k) = key {
        w.raw(k);
    }
}

pub fn read_opt_key(r: &mut Reader) -> Result<Option<[u8; 32]>> {
    Ok(if r.flag()? { Some(r.array()?) } else { None })
}

fn associated(prefix: &[u8], header: &[u8], ad: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(prefix.len() + header.len() + ad.len());
    aad.extend_from_slice(prefix);
    aad.extend_from_slice(header);
    aad.extend_from_slice(ad);
    aad
}
