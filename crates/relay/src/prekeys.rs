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
//! One-time ML-KEM keys each carry their own signature over
//! `ONE_TIME_KEM_DOMAIN ‖ owner ‖ id ‖ public`, made and checked by
//! crates/session (`keyward_session::one_time_kem`), and travel beside the
//! bundle (`Session::from_bundle_with_kem` takes them).
//!
//! A client's upload comes from `PreKeySet::upload` (`From<Upload>` below).

use keyward_session::one_time_kem;
use keyward_session::prekeys::{Bundle, Upload};
use keyward_session::IdentityKey;
use ml_kem::{EncapsulationKey, MlKem768};

use crate::codec::Writer;
use crate::error::{Error, ErrorCode, Result};
use crate::frame::{
    write_signed_part, KemPublic, OneTimeKemPrekey, OneTimePrekey, PrekeyStatus, PrekeyUpload,
    SignedPrekey,
};
use crate::limits::{KEM_PUBLIC_LEN, MAX_ONE_TIME_PER_UPLOAD, MAX_ONE_TIME_STORED};

/// crates/session's bundle header.
pub const SESSION_BUNDLE_VERSION: u8 = 1;
pub const SESSION_BUNDLE_KIND: u8 = 0x20;
/// What a one-time ML-KEM prekey's signature covers, after this label.
pub use keyward_session::one_time_kem::DOMAIN as ONE_TIME_KEM_DOMAIN;

fn bad_signature(detail: &'static str) -> Error {
    Error::refused(ErrorCode::BadSignature, detail)
}

/// The bytes a one-time ML-KEM prekey's signature covers.
pub fn one_time_kem_message(owner: &[u8; 32], id: u32, public: &[u8; KEM_PUBLIC_LEN]) -> Vec<u8> {
    one_time_kem::message(owner, id, public)
}

/// Signs a one-time ML-KEM prekey with crates/session's signer: for keys
/// that do not come from a `PreKeySet` (tests of the relay's checks).
pub fn sign_one_time_kem(identity: &IdentityKey, id: u32, public: KemPublic) -> OneTimeKemPrekey {
    let signature = one_time_kem::sign(identity, id, &public);
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

/// An upload frame's contents from `PreKeySet::upload()`: its signed
/// section and every one-time key it had not published. The owner is not
/// sent: the relay knows it from the handshake. More than
/// `MAX_ONE_TIME_PER_UPLOAD` keys of a kind go out in several uploads
/// (`split_upload`).
impl From<Upload> for PrekeyUpload {
    fn from(u: Upload) -> Self {
        PrekeyUpload {
            signed: Some(SignedPrekey {
                id: u.signed.id,
                public: u.signed.public,
                kem: u.signed.kem,
                signature: u.signed.signature,
            }),
            one_time: u
                .one_time
                .into_iter()
                .map(|(id, public)| OneTimePrekey { id, public })
                .collect(),
            one_time_kem: u
                .one_time_kem
                .into_iter()
                .map(|k| OneTimeKemPrekey {
                    id: k.id,
                    public: k.public,
                    signature: k.signature,
                })
                .collect(),
        }
    }
}

/// `upload` as frames the relay takes: at most `MAX_ONE_TIME_PER_UPLOAD`
/// one-time keys of each kind per frame, the signed section in the first.
pub fn split_upload(upload: PrekeyUpload) -> Vec<PrekeyUpload> {
    let PrekeyUpload {
        mut signed,
        one_time,
        one_time_kem,
    } = upload;
    let mut one_time = one_time.into_iter().peekable();
    let mut one_time_kem = one_time_kem.into_iter().peekable();
    let mut out = Vec::new();
    loop {
        let part = PrekeyUpload {
            signed: signed.take(),
            one_time: one_time.by_ref().take(MAX_ONE_TIME_PER_UPLOAD).collect(),
            one_time_kem: one_time_kem
                .by_ref()
                .take(MAX_ONE_TIME_PER_UPLOAD)
                .collect(),
        };
        out.push(part);
        if one_time.peek().is_none() && one_time_kem.peek().is_none() {
            return out;
        }
    }
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
        if !one_time_kem::verify(owner, k.id, &k.public, &k.signature) {
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
/// bytes as `current`, the stored section: a retried upload); room for
/// `max_stored` one-time keys of each kind (at most `MAX_ONE_TIME_STORED`).
/// `Ok(true)` when the upload's signed section replaces the stored one.
pub fn check_upload_against(
    status: &PrekeyStatus,
    current: Option<&[u8]>,
    upload: &PrekeyUpload,
    max_stored: usize,
) -> Result<bool> {
    let stale = |detail| Error::refused(ErrorCode::StaleKeyId, detail);
    let first = status.signed_id == 0;
    let replace = match &upload.signed {
        None if first && (!upload.one_time.is_empty() || !upload.one_time_kem.is_empty()) => {
            return Err(Error::refused(
                ErrorCode::NotAllowed,
                "a device's first prekey upload must carry a signed prekey",
            ))
        }
        None => false,
        Some(_) if first => true,
        Some(s) if s.id < status.signed_id => {
            return Err(stale("the signed prekey id is below the current one"))
        }
        Some(s) if s.id == status.signed_id => {
            if current != Some(&s.to_section()[..]) {
                return Err(stale(
                    "the signed prekey id is the current one with other bytes",
                ));
            }
            false
        }
        Some(_) => true,
    };
    let kinds = [
        (
            upload.one_time.first().map(|k| k.id),
            upload.one_time.len(),
            status.last_one_time_id,
            status.one_time,
        ),
        (
            upload.one_time_kem.first().map(|k| k.id),
            upload.one_time_kem.len(),
            status.last_one_time_kem_id,
            status.one_time_kem,
        ),
    ];
    let max_stored = max_stored.min(MAX_ONE_TIME_STORED);
    for (first_id, adding, highest, held) in kinds {
        if first_id.is_some_and(|id| id <= highest) {
            return Err(stale(
                "a one-time prekey id is not above the highest ever accepted",
            ));
        }
        if held as usize + adding > max_stored {
            return Err(Error::refused(
                ErrorCode::Quota,
                "the device would hold more one-time prekeys of a kind than the relay keeps",
            ));
        }
    }
    Ok(replace)
}
