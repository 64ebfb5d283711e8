//! A session between two identities: started online by Noise_IK or offline
//! from a prekey bundle, then carried by the Double Ratchet.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::codec::{Reader, Writer};
pub use crate::consts::MAX_HANDSHAKE_PAYLOAD;
use crate::error::{Error, Result};
use crate::identity::{check_peer, ExpectedPeer, IdentityKey, PeerIdentity};
use crate::kdf::kdf_rk;
use crate::keys::KeyPair;
use crate::noise::{Handshake, Keys};
use crate::prekeys::{self, Bundle, PreKeyHeader, PreKeySet, KIND_PREKEY_MESSAGE};
use crate::ratchet::{self, Ratchet, KIND_MESSAGE};
use crate::record;

pub const PROTOCOL: &str = "Noise_IK_25519_ChaChaPoly_BLAKE2s";
pub const VERSION: u8 = 1;
pub const KIND_HANDSHAKE_INIT: u8 = 0x10;
pub const KIND_HANDSHAKE_REPLY: u8 = 0x11;
const PROLOGUE_DOMAIN: &[u8] = b"keyward noise_ik v1\0";

pub struct Session {
    ratchet: Ratchet,
    local: [u8; 32],
    peer: [u8; 32],
    /// Both identities, initiator first: authenticated with every message.
    prefix: [u8; 64],
    /// Offline initiator: the header each message carries until a reply arrives.
    outgoing_prekey: Option<Vec<u8>>,
    /// Offline responder: SHA-256 of the accepted start's header, to
    /// recognise its later copies (the header itself carries a 1 KiB KEM
    /// ciphertext the record need not keep).
    incoming_prekey: Option<Vec<u8>>,
}

fn prefix(initiator: &[u8; 32], responder: &[u8; 32]) -> [u8; 64] {
    let mut p = [0u8; 64];
    p[..32].copy_from_slice(initiator);
    p[32..].copy_from_slice(responder);
    p
}

fn prologue(user: &[u8]) -> Vec<u8> {
    [PROLOGUE_DOMAIN, user].concat()
}

fn payload_arg(payload: &[u8]) -> Result<()> {
    if payload.len() > MAX_HANDSHAKE_PAYLOAD {
        return Err(Error::InvalidArgument(format!(
            "a handshake payload is at most {MAX_HANDSHAKE_PAYLOAD} bytes"
        )));
    }
    Ok(())
}

fn handshake_body(message: &[u8], kind: u8) -> Result<&[u8]> {
    let mut r = Reader::new(message, "handshake message");
    r.header(VERSION, kind)?;
    Ok(r.rest())
}

/// The initiator between `initiate` and `complete`.
pub struct Initiating {
    handshake: Handshake,
    ratchet_key: KeyPair,
    local: [u8; 32],
    peer: [u8; 32],
}

pub struct Responded {
    pub session: Session,
    pub reply: Vec<u8>,
    /// The initiator's Ed25519 identity: the caller decides whether to trust it.
    pub peer: [u8; 32],
    pub payload: Zeroizing<Vec<u8>>,
}

impl Initiating {
    pub fn complete(mut self, reply: &[u8]) -> Result<(Session, Zeroizing<Vec<u8>>)> {
        let body = handshake_body(reply, KIND_HANDSHAKE_REPLY)?;
        let inner = self.handshake.read(body)?;
        if inner.len() < 32 {
            return Err(Error::Handshake("the reply carries no ratchet key"));
        }
        let theirs: [u8; 32] = inner[..32].try_into().expect("length checked");
        let root = self.handshake.root_key()?;
        let session = Session::new(
            Ratchet::announced(root, self.ratchet_key, theirs),
            self.local,
            self.peer,
            prefix(&self.local, &self.peer),
        );
        Ok((session, Zeroizing::new(inner[32..].to_vec())))
    }
}

impl Session {
    fn new(ratchet: Ratchet, local: [u8; 32], peer: [u8; 32], prefix: [u8; 64]) -> Self {
        Session {
            ratchet,
            local,
            peer,
            prefix,
            outgoing_prekey: None,
            incoming_prekey: None,
        }
    }

    /// Noise_IK message 1 to `peer_public_key` (Ed25519), carrying our identity,
    /// our first ratchet key and `payload` (encrypted, not yet forward-secret).
    pub fn initiate(
        identity: &IdentityKey,
        peer_public_key: &[u8],
        user_prologue: &[u8],
        payload: &[u8],
    ) -> Result<(Initiating, Vec<u8>)> {
        payload_arg(payload)?;
        let peer = PeerIdentity::parse(peer_public_key)?;
        let secret = identity.x25519().secret_bytes();
        let prologue = prologue(user_prologue);
        let mut handshake = Handshake::new(
            PROTOCOL,
            true,
            &Keys {
                local_static: Some(&secret[..]),
                remote_static: Some(&peer.x25519()),
                prologue: &prologue,
                fixed_ephemeral: None,
            },
        )?;
        let ratchet_key = KeyPair::generate()?;
        let local = identity.public_key();
        let inner = Zeroizing::new([&local[..], ratchet_key.public(), payload].concat());
        let mut message = vec![VERSION, KIND_HANDSHAKE_INIT];
        message.extend_from_slice(&handshake.write(&inner)?);
        Ok((
            Initiating {
                handshake,
                ratchet_key,
                local,
                peer: peer.bytes(),
            },
            message,
        ))
    }

    /// Reads message 1 and answers it. `expected_peer` refuses any other
    /// initiator (compared by fingerprint, see `identity::fingerprint`).
    pub fn respond(
        identity: &IdentityKey,
        message: &[u8],
        user_prologue: &[u8],
        payload: &[u8],
        expected_peer: Option<ExpectedPeer>,
    ) -> Result<Responded> {
        payload_arg(payload)?;
        let expected = expected_peer.map(ExpectedPeer::resolve).transpose()?;
        let body = handshake_body(message, KIND_HANDSHAKE_INIT)?;
        let secret = identity.x25519().secret_bytes();
        let prologue = prologue(user_prologue);
        let mut handshake = Handshake::new(
            PROTOCOL,
            false,
            &Keys {
                local_static: Some(&secret[..]),
                remote_static: None,
                prologue: &prologue,
                fixed_ephemeral: None,
            },
        )?;
        let inner = handshake.read(body)?;
        if inner.len() < 64 {
            return Err(Error::Handshake("the first message carries no identity"));
        }
        let peer = PeerIdentity::parse(&inner[..32])
            .map_err(|_| Error::Handshake("the initiator's identity key is invalid"))?;
        let remote_static = handshake
            .remote_static()
            .ok_or(Error::Handshake("no static key was received"))?;
        if !bool::from(peer.x25519().ct_eq(remote_static)) {
            return Err(Error::Handshake(
                "the initiator's identity does not match its static key",
            ));
        }
        check_peer(expected.as_ref(), &peer)?;
        let theirs: [u8; 32] = inner[32..64].try_into().expect("length checked");
        let ours = KeyPair::generate()?;
        let reply_inner = Zeroizing::new([ours.public(), payload].concat());
        let mut reply = vec![VERSION, KIND_HANDSHAKE_REPLY];
        reply.extend_from_slice(&handshake.write(&reply_inner)?);
        let root = handshake.root_key()?;
        let local = identity.public_key();
        let session = Session::new(
            Ratchet::sender(root, ours, theirs),
            local,
            peer.bytes(),
            prefix(&peer.bytes(), &local),
        );
        Ok(Responded {
            session,
            reply,
            peer: peer.bytes(),
            payload: Zeroizing::new(inner[64..].to_vec()),
        })
    }

    /// Offline start from a signed bundle. Messages carry the X3DH header
    /// until the first reply arrives. The bundle proves only that its own
    /// identity signed it, so the caller says whose it must be;
    /// `expected_peer: None` trusts whoever signed it (trust on first use).
    pub fn from_bundle(
        identity: &IdentityKey,
        bundle: &[u8],
        expected_peer: Option<ExpectedPeer>,
    ) -> Result<Session> {
        Self::from_bundle_with_kem(identity, bundle, None, expected_peer)
    }

    /// `from_bundle` with the one-time ML-KEM prekey a relay delivered beside
    /// the bundle (`id ‖ key ‖ signature`, `one_time_kem::OneTimeKemPreKey`):
    /// its signature must verify as the bundle identity's (`BadSignature`
    /// otherwise), and the start encapsulates to it instead of the
    /// last-resort key. `None` is `from_bundle`.
    pub fn from_bundle_with_kem(
        identity: &IdentityKey,
        bundle: &[u8],
        one_time_kem: Option<&[u8]>,
        expected_peer: Option<ExpectedPeer>,
    ) -> Result<Session> {
        let expected = expected_peer.map(ExpectedPeer::resolve).transpose()?;
        let mut bundle = Bundle::parse(bundle)?;
        check_peer(expected.as_ref(), &bundle.identity)?;
        if let Some(k) = one_time_kem {
            bundle = bundle.with_one_time_kem(k)?;
        }
        let started = prekeys::start(identity, &bundle)?;
        let (root, chain) = kdf_rk(&started.shared, &started.dh3);
        let local = identity.public_key();
        let peer = bundle.identity.bytes();
        let ratchet =
            Ratchet::sender_with_chain(root, chain, started.ephemeral, started.signed_prekey);
        let mut session = Session::new(ratchet, local, peer, prefix(&local, &peer));
        session.outgoing_prekey = Some(started.header);
        Ok(session)
    }

    /// The receiver's side of an offline start: runs the agreement with the
    /// prekeys the message names, decrypts it, and only then consumes the
    /// one-time prekeys (X25519 and ML-KEM; a consumed one named again is
    /// `PreKeyReused`). `expected_peer` refuses any other sender, before any
    /// work or state change.
    pub fn accept(
        identity: &IdentityKey,
        set: &mut PreKeySet,
        message: &[u8],
        ad: &[u8],
        expected_peer: Option<ExpectedPeer>,
    ) -> Result<(Session, Zeroizing<Vec<u8>>)> {
        let expected = expected_peer.map(ExpectedPeer::resolve).transpose()?;
        let header = PreKeyHeader::parse(message)?;
        let sender = PeerIdentity::parse(&header.sender)
            .map_err(|_| Error::format("the sender's identity key is invalid"))?;
        check_peer(expected.as_ref(), &sender)?;
        let accepted = prekeys::accept(identity, set, &header, &sender)?;
        let (root, chain) = kdf_rk(&accepted.shared, &accepted.dh3);
        let local = identity.public_key();
        let ratchet =
            Ratchet::receiver_with_chain(root, chain, accepted.signed_prekey, header.base);
        let mut session = Session::new(
            ratchet,
            local,
            header.sender,
            prefix(&header.sender, &local),
        );
        let plaintext = session.ratchet.decrypt(&session.prefix, header.inner, ad)?;
        session.incoming_prekey = Some(Sha256::digest(header.header).to_vec());
        set.consume(&header);
        Ok((session, plaintext))
    }

    pub fn local_public_key(&self) -> [u8; 32] {
        self.local
    }

    pub fn peer_public_key(&self) -> [u8; 32] {
        self.peer
    }

    pub fn encrypt(&mut self, plaintext: &[u8], ad: &[u8]) -> Result<Vec<u8>> {
        let message = self.ratchet.encrypt(&self.prefix, plaintext, ad)?;
        Ok(match &self.outgoing_prekey {
            Some(header) => [header.as_slice(), &message].concat(),
            None => message,
        })
    }

    pub fn decrypt(&mut self, message: &[u8], ad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let inner = match message.get(..2) {
            Some([ratchet::VERSION, KIND_MESSAGE]) => message,
            Some([prekeys::VERSION, KIND_PREKEY_MESSAGE]) => {
                let header = PreKeyHeader::parse(message)?;
                match &self.incoming_prekey {
                    Some(accepted)
                        if accepted.as_slice() == Sha256::digest(header.header).as_slice() =>
                    {
                        header.inner
                    }
                    _ => {
                        return Err(Error::format(
                            "this prekey message starts a different session",
                        ))
                    }
                }
            }
            _ => {
                return Err(Error::format(
                    "this is not a session message of this version",
                ))
            }
        };
        let plaintext = self.ratchet.decrypt(&self.prefix, inner, ad)?;
        self.outgoing_prekey = None;
        Ok(plaintext)
    }

    pub fn serialize(&self, storage_key: &[u8]) -> Result<Vec<u8>> {
        let headers = [&self.outgoing_prekey, &self.incoming_prekey]
            .iter()
            .map(|h| h.as_ref().map_or(1, |h| 5 + h.len()))
            .sum::<usize>();
        let mut w = Writer::with_capacity(128 + headers + self.ratchet.encoded_len_bound());
        w.raw(&self.local).raw(&self.peer).raw(&self.prefix);
        for header in [&self.outgoing_prekey, &self.incoming_prekey] {
            w.flag(header.is_some());
            if let Some(h) = header {
                w.bytes(h);
            }
        }
        self.ratchet.write(&mut w);
        let plain = Zeroizing::new(w.buf);
        record::seal(record::KIND_SESSION, storage_key, &plain)
    }

    pub fn deserialize(bytes: &[u8], storage_key: &[u8]) -> Result<Session> {
        let plain = record::open(record::KIND_SESSION, "session record", storage_key, bytes)?;
        let mut r = Reader::new(&plain, "session record");
        let local = r.array()?;
        let peer = r.array()?;
        let prefix = r.array()?;
        let mut headers = [None, None];
        for h in &mut headers {
            if r.flag()? {
                *h = Some(r.bytes()?.to_vec());
            }
        }
        let ratchet = Ratchet::read(&mut r)?;
        r.finish()?;
        let [outgoing_prekey, incoming_prekey] = headers;
        Ok(Session {
            ratchet,
            local,
            peer,
            prefix,
            outgoing_prekey,
            incoming_prekey,
        })
    }

    #[cfg(feature = "testing")]
    pub fn secrets_for_testing(&self) -> Vec<[u8; 32]> {
        self.ratchet.secrets_for_testing()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::fingerprint;
    use crate::noise::Keys;

    /// `Session::initiate`, but claiming `claimed` as the identity: what a
    /// modified client holding `identity`'s secret could send.
    fn initiate_claiming(identity: &IdentityKey, claimed: &[u8; 32], peer: &[u8]) -> Vec<u8> {
        let peer = PeerIdentity::parse(peer).unwrap();
        let secret = identity.x25519().secret_bytes();
        let prologue = prologue(b"");
        let keys = Keys {
            local_static: Some(&secret[..]),
            remote_static: Some(&peer.x25519()),
            prologue: &prologue,
            fixed_ephemeral: None,
        };
        let mut handshake = Handshake::new(PROTOCOL, true, &keys).unwrap();
        let ratchet_key = KeyPair::generate().unwrap();
        let inner = [&claimed[..], ratchet_key.public()].concat();
        let mut message = vec![VERSION, KIND_HANDSHAKE_INIT];
        message.extend_from_slice(&handshake.write(&inner).unwrap());
        message
    }

    /// Issue 13, finding 6: the responder sees the initiator's identity only
    /// through its X25519 form, which `A` and `-A` share. The holder of `A`
    /// can claim `-A`; both have one fingerprint, and expected peers are
    /// compared by fingerprint, so the claim cannot pass as anyone else.
    #[test]
    fn an_initiator_claiming_minus_a_keeps_its_one_identity() {
        let alice = IdentityKey::from_seed(&[1; 32]);
        let bob = IdentityKey::from_seed(&[2; 32]);
        let carol = IdentityKey::from_seed(&[3; 32]);
        let mut minus_a = alice.public_key();
        minus_a[31] ^= 0x80;
        let message = initiate_claiming(&alice, &minus_a, &bob.public_key());
        let r = Session::respond(&bob, &message, b"", b"", None).unwrap();
        assert_eq!(r.peer, minus_a);
        assert_eq!(fingerprint(&r.peer).unwrap(), alice.fingerprint());
        let alice_fp = alice.fingerprint();
        let alice_key = alice.public_key();
        for expected in [
            ExpectedPeer::PublicKey(&alice_key),
            ExpectedPeer::Fingerprint(&alice_fp),
        ] {
            assert!(Session::respond(&bob, &message, b"", b"", Some(expected)).is_ok());
        }
        let carol_key = carol.public_key();
        assert_eq!(
            Session::respond(
                &bob,
                &message,
                b"",
                b"",
                Some(ExpectedPeer::PublicKey(&carol_key))
            )
            .err(),
            Some(Error::UnexpectedPeer)
        );
    }

    #[test]
    fn an_initiator_claiming_a_torsion_or_non_canonical_form_is_refused() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        use curve25519_dalek::edwards::CompressedEdwardsY;
        let alice = IdentityKey::from_seed(&[1; 32]);
        let bob = IdentityKey::from_seed(&[2; 32]);
        let a = CompressedEdwardsY(alice.public_key()).decompress().unwrap();
        for claimed in [
            (a + EIGHT_TORSION[2]).compress().to_bytes(),
            EIGHT_TORSION[3].compress().to_bytes(),
        ] {
            let message = initiate_claiming(&alice, &claimed, &bob.public_key());
            assert_eq!(
                Session::respond(&bob, &message, b"", b"", None)
                    .err()
                    .map(|e| e.code()),
                Some("ERR_SESSION_HANDSHAKE")
            );
        }
    }
}
