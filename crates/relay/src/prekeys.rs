//! Prekeys at the relay: the checks an upload must pass (every signature,
//! every key, monotonic ids, room), and the bundle the relay composes for a
//! fetch, in crates/session's bundle format so `Session::from_bundle` takes
//! it as it is.
//!
//! crates/session's bundle today: `0x01 ‖ 0x20 ‖ owner (32) ‖ signed id (4) ‖
//! signed public (32) ‖ kem flag ‖ [kem id (4) ‖ kem public (1184)] ‖
//! signature (64) ‖ one-time flag ‖ [one-time id (4) ‖ one-time public (32)]`,
//! the signature by the owner over `"keyward prekey bundle v1" ‖ owner ‖ …
//! through the kem fields`. One-time X25519 keys are unsigned (as in X3DH).
//! One-time ML-KEM keys are not in that format yet: each carries its own
//! signature over `ONE_TIME_KEM_DOMAIN ‖ owner ‖ id ‖ public` and travels
//! beside the bundle (docs/relay.md lists the crates/session change).

use keyward_session::prekeys::Bundle;
use keyward_session::IdentityKey;
use ml_kem::{EncapsulationKey, MlKem768};

use crate::codec::{Reader, Writer};
use crate::error::{Error, ErrorCode, Result};
use crate::frame::{
    write_signed_part, KemPublic, OneTimeKemPrekey, OneTimePrekey, PrekeyStatus, PrekeyUpload,
    SignedPrekey,
};
use crate::limits::{KEM_PUBLIC_LEN, MAX_ONE_TIME_STORED};

/// crates/session's bundle header.
pub const SESSION_BUNDLE_VERSION: u8 = 1;
pub const SESSION_BUNDLE_KIND: u8 = 0x20;
/// What a one-time ML-KEM prekey's signature covers, after this label.
pub const ONE_TIME_KEM_DOMAIN: &[u8] = b"keyward one-time kem prekey v1";

fn bad_signature(detail: &'static str) -> Error {
    Error::refused(ErrorCode::BadSignature, detail)
}

/// The bytes a one-time ML-KEM prekey's signature covers.
pub fn one_time_kem_message(owner: &[u8; 32], id: u32, public: &[u8; KEM_PUBLIC_LEN]) -> Vec<u8> {
    [ONE_TIME_KEM_DOMAIN, owner, &id.to_be_bytes(), public].concat()
}

/// Signs a one-time ML-KEM prekey (the client side, until crates/session's
/// `PreKeySet` makes and signs them itself).
pub fn sign_one_time_kem(identity: &IdentityKey, id: u32, public: KemPublic) -> OneTimeKemPrekey {
    let signature = identity.sign(&one_time_kem_message(&identity.public_key(), id, &public));
    OneTimeKemPrekey {
        id,
        public,
        signature,
    }
}

/// The session bundle for `owner` with `one_time` (none: the bundle carries
/// no one-time key, and the last-resort ML-KEM key is its signed one).
pub fn compose_bundle(
    owner: &[u8; 32],
    signed: &SignedPrekey,
    one_time: Option<&OneTimePrekey>,
) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(SESSION_BUNDLE_VERSION)
        .u8(SESSION_BUNDLE_KIND)
        .raw(owner);
    write_signed_part(&mut w, signed);
    w.raw(&signed.signature).flag(one_time.is_some());
    if let Some(k) = one_time {
        w.u32(k.id).raw(&k.public);
    }
    w.buf
}

/// Splits a crates/session bundle (`PreKeySet::bundle()`) into the pieces an
/// upload carries, after verifying it. Each call of `bundle()` publishes the
/// next one-time key, so a client collects a batch by calling it repeatedly.
pub fn split_session_bundle(
    bundle: &[u8],
) -> Result<([u8; 32], SignedPrekey, Option<OneTimePrekey>)> {
    Bundle::parse(bundle).map_err(|_| bad_signature("the session bundle does not verify"))?;
    let mut r = Reader::new(bundle);
    let _header: [u8; 2] = r.array()?;
    let owner = r.array()?;
    let id = r.u32()?;
    let public = r.array()?;
    let kem = if r.flag()? {
        let kem_id = r.u32()?;
        let mut key = Box::new([0u8; KEM_PUBLIC_LEN]);
        key.copy_from_slice(r.take(KEM_PUBLIC_LEN)?);
        Some((kem_id, key))
    } else {
        None
    };
    let signature = r.array()?;
    let one_time = if r.flag()? {
        Some(OneTimePrekey {
            id: r.u32()?,
            public: r.array()?,
        })
    } else {
        None
    };
    r.finish()?;
    let signed = SignedPrekey {
        id,
        public,
        kem,
        signature,
    };
    Ok((owner, signed, one_time))
}

/// Every signature and key of an upload from `owner` (the identity the
/// handshake proved): the signed prekey through crates/session's own bundle
/// check, each one-time ML-KEM key by its signature and as a valid key.
pub fn verify_upload(owner: &[u8; 32], upload: &PrekeyUpload) -> Result<()> {
    if let Some(signed) = &upload.signed {
        Bundle::parse(&compose_bundle(owner, signed, None))
            .map_err(|_| bad_signature("the signed prekey does not verify"))?;
    }
    for k in &upload.one_time_kem {
        if !keyward_session::verify(
            owner,
            &one_time_kem_message(owner, k.id, &k.public),
            &k.signature,
        ) {
            return Err(bad_signature("a one-time ML-KEM prekey does not verify"));
        }
        EncapsulationKey::<MlKem768>::new(&(*k.public).into())
            .map_err(|_| bad_signature("a one-time ML-KEM prekey is not a valid key"))?;
    }
    Ok(())
}

/// The rules an upload must meet against what the device has stored, for
/// the store to run inside the transaction that applies it: a signed prekey
/// first; ids above every id ever accepted (a re-upload never brings back a
/// claimed key; a signed id equal to the stored one must carry the same
/// bytes, which the store compares); room for the one-time keys.
pub fn check_upload_against(status: &PrekeyStatus, upload: &PrekeyUpload) -> Result<()> {
    let stale = || {
        Error::refused(
            ErrorCode::StaleKeyId,
            "a prekey id is not above the highest one uploaded",
        )
    };
    match &upload.signed {
        None if status.signed_id == 0 => {
            let any = !upload.one_time.is_empty() || !upload.one_time_kem.is_empty();
            if any {
                return Err(Error::refused(
                    ErrorCode::NotAllowed,
                    "the first upload carries a signed prekey",
                ));
            }
        }
        Some(s) if s.id < status.signed_id => return Err(stale()),
        _ => {}
    }
    if upload
        .one_time
        .first()
        .is_some_and(|k| k.id <= status.last_one_time_id)
        || upload
            .one_time_kem
            .first()
            .is_some_and(|k| k.id <= status.last_one_time_kem_id)
    {
        return Err(stale());
    }
    let room = |held: u16, adding: usize| held as usize + adding <= MAX_ONE_TIME_STORED;
    if !room(status.one_time, upload.one_time.len())
        || !room(status.one_time_kem, upload.one_time_kem.len())
    {
        return Err(Error::refused(
            ErrorCode::Quota,
            "the device would hold more than 100 one-time prekeys of a kind",
        ));
    }
    Ok(())
}
