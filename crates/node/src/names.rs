//! Every name, enum and limit that reaches JavaScript, written once here:
//! the TypeScript layer derives its literal types from the generated
//! native/binding.d.ts (template literal types) and reads the values at run
//! time, so nothing here is copied by hand on that side.

use keyward_seal::password::PasswordParams;
use napi_derive::napi;

/// A JavaScript string enum mirroring a core enum of the same variants. Docs
/// are written `#[doc = "…"]`, as for `workers::twins!`.
macro_rules! mirror {
    ($(#[$doc:meta])* $js:ident => $core:ty { $($variant:ident = $name:literal,)* }) => {
        $(#[$doc])*
        #[napi(string_enum)]
        #[derive(Clone, Copy)]
        pub enum $js { $(#[napi(value = $name)] $variant,)* }

        impl From<$js> for $core {
            fn from(v: $js) -> Self {
                match v { $($js::$variant => <$core>::$variant,)* }
            }
        }
    };
}

mirror!(
    #[doc = " The OPAQUE cipher suites (keyward_opaque::Suite); the first is the default."]
    Suite => keyward_opaque::Suite {
        Ristretto255Sha512 = "ristretto255_sha512",
        P256Sha256 = "p256_sha256",
        P384Sha384 = "p384_sha384",
        P521Sha512 = "p521_sha512",
        MlKem768Ristretto255Sha512 = "ml_kem_768_ristretto255_sha512",
    }
);

impl From<keyward_opaque::Suite> for Suite {
    fn from(s: keyward_opaque::Suite) -> Self {
        use keyward_opaque::Suite as S;
        match s {
            S::Ristretto255Sha512 => Suite::Ristretto255Sha512,
            S::P256Sha256 => Suite::P256Sha256,
            S::P384Sha384 => Suite::P384Sha384,
            S::P521Sha512 => Suite::P521Sha512,
            S::MlKem768Ristretto255Sha512 => Suite::MlKem768Ristretto255Sha512,
        }
    }
}

mirror!(
    #[doc = " The OPAQUE key-stretching presets (keyward_opaque::KeyStretching)."]
    KeyStretchingPreset => keyward_opaque::KeyStretching {
        MemoryConstrained = "memory-constrained",
        RfcRecommended = "rfc-recommended",
    }
);

mirror!(
    #[doc = " The AEADs of the raw primitives."]
    Aead => keyward_seal::primitives::Aead {
        XChaCha20Poly1305 = "xchacha20-poly1305",
        ChaCha20Poly1305 = "chacha20-poly1305",
    }
);

mirror!(
    #[doc = " The hashes of HKDF and HMAC."]
    Hash => keyward_seal::primitives::Hash {
        Sha256 = "sha256",
        Sha512 = "sha512",
    }
);

/// The Argon2id presets of password hashing; `owasp` is the default.
#[napi(string_enum)]
#[derive(Clone, Copy)]
pub enum PasswordPreset {
    #[napi(value = "owasp")]
    Owasp,
    #[napi(value = "rfc9106-low-memory")]
    Rfc9106LowMemory,
    #[napi(value = "rfc9106-high-memory")]
    Rfc9106HighMemory,
}

impl From<PasswordPreset> for PasswordParams {
    fn from(p: PasswordPreset) -> Self {
        match p {
            PasswordPreset::Owasp => PasswordParams::OWASP,
            PasswordPreset::Rfc9106LowMemory => PasswordParams::RFC9106_LOW_MEMORY,
            PasswordPreset::Rfc9106HighMemory => PasswordParams::RFC9106_HIGH_MEMORY,
        }
    }
}

/// What a vault value holds (keyward_seal::vault::Kind).
#[napi]
pub enum VaultKind {
    Bytes = 0,
    Json = 1,
}

/// What `popVerify` found: `Ok` when the request is genuine and fresh, else
/// the first check that failed.
#[napi]
pub enum PopOutcome {
    Ok = 0,
    Stale = 1,
    BadNonce = 2,
    Replay = 3,
    BadMac = 4,
    RateLimited = 5,
    /// An RFC 9421 signature whose `keyid` is not the session's id.
    NoSession = 6,
}

/// Bytes a sealed box adds to its plaintext.
#[napi]
pub const BOX_OVERHEAD: u32 = keyward_seal::boxes::BOX_OVERHEAD as u32;
/// The most one-time prekeys one set holds.
#[napi]
pub const MAX_ONE_TIME_PRE_KEYS: u32 = keyward_session::prekeys::MAX_ONE_TIME as u32;

// The PoP header grammar's limits (keyward_pop's `headers`).
#[napi]
pub const POP_BEARER_PREFIX: &str = keyward_pop::BEARER_PREFIX;
#[napi]
pub const POP_MAX_BEARER_BYTES: u32 = keyward_pop::MAX_BEARER_BYTES as u32;
#[napi]
pub const POP_NONCE_MIN_BYTES: u32 = keyward_pop::NONCE_MIN_BYTES as u32;
#[napi]
pub const POP_NONCE_MAX_BYTES: u32 = keyward_pop::NONCE_MAX_BYTES as u32;
#[napi]
pub const POP_MAX_TIMESTAMP_MS: f64 = keyward_pop::MAX_TIMESTAMP_MS as f64;
#[napi]
pub const POP_MAC_CHARS: u32 = keyward_pop::MAC_B64_CHARS as u32;
#[napi]
pub const POP_DEFAULT_MAX_NONCES_PER_SESSION: u32 = keyward_pop::DEFAULT_MAX_PER_SCOPE as u32;
