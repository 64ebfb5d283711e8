//! Every name, enum and limit that reaches JavaScript, mirrored from the core
//! that holds it: the enums are expanded from the cores' own lists
//! (`keyward_opaque::opaque_suites!` and the like) and the constants read the
//! cores' constants, so no name or number is spelled here. The TypeScript
//! layer derives its literal types from the generated native/binding.d.ts
//! (template literal types) and reads the values at run time, so nothing is
//! copied by hand on that side either.

use napi_derive::napi;

/// A JavaScript string enum mirroring a core enum, from the core's own list
/// (`keyward_opaque::opaque_suites!(strings, …)` and the like), so no name is
/// written here. `both` converts either way; `into` only into the core type
/// (whose other variants have no name). The enum's doc is written `#[doc = "…"]`,
/// as for `workers::twins!`.
macro_rules! strings {
    ($mode:ident $(#[$doc:meta])* $js:ident => $core:ty
        { $($(#[$variant_doc:meta])* $variant:ident = $name:literal,)* }) => {
        $(#[$doc])*
        #[napi(string_enum)]
        #[derive(Clone, Copy)]
        pub enum $js { $($(#[$variant_doc])* #[napi(value = $name)] $variant,)* }

        impl From<$js> for $core {
            fn from(v: $js) -> Self {
                match v { $($js::$variant => <$core>::$variant,)* }
            }
        }

        strings!(@$mode $js => $core { $($variant)* });
    };
    (@both $js:ident => $core:ty { $($variant:ident)* }) => {
        impl From<$core> for $js {
            fn from(v: $core) -> Self {
                match v { $(<$core>::$variant => $js::$variant,)* }
            }
        }
    };
    (@into $js:ident => $core:ty { $($variant:ident)* }) => {};
}

/// A JavaScript numeric enum mirroring a core enum of the same numbers, from
/// the core's own list, converting from the core's value.
macro_rules! numbers {
    ($(#[$doc:meta])* $js:ident => $core:ty { $($(#[$variant_doc:meta])* $variant:ident = $number:literal,)* }) => {
        $(#[$doc])*
        #[napi]
        pub enum $js { $($(#[$variant_doc])* $variant = $number,)* }

        impl From<$core> for $js {
            fn from(v: $core) -> Self {
                match v { $(<$core>::$variant => $js::$variant,)* }
            }
        }
    };
}

keyward_opaque::opaque_suites!(strings, both
    #[doc = " The OPAQUE cipher suites (keyward_opaque::Suite); the first is the default."]
    Suite => keyward_opaque::Suite);

keyward_opaque::opaque_key_stretching_presets!(strings, into
    #[doc = " The OPAQUE key-stretching presets (keyward_opaque::KeyStretching)."]
    KeyStretchingPreset => keyward_opaque::KeyStretching);

keyward_seal::seal_aeads!(strings, both
    #[doc = " The AEADs of the raw primitives."]
    Aead => keyward_seal::primitives::Aead);

keyward_seal::seal_hashes!(strings, both
    #[doc = " The hashes of HKDF and HMAC."]
    Hash => keyward_seal::primitives::Hash);

keyward_seal::seal_password_presets!(strings, both
    #[doc = " The Argon2id presets of password hashing; `owasp` is the default."]
    PasswordPreset => keyward_seal::password::PasswordPreset);

keyward_seal::seal_vault_kinds!(numbers,
    #[doc = " What a vault value holds (keyward_seal::vault::Kind)."]
    VaultKind => keyward_seal::vault::Kind);

keyward_pop::pop_outcomes!(numbers,
    #[doc = " What `popVerify` found: `Ok` when the request is genuine and fresh, else"]
    #[doc = " the first check that failed."]
    PopOutcome => keyward_pop::Outcome);

keyward_relay::relay_error_codes!(strings, both
    #[doc = " Why the relay refused (keyward_relay::ErrorCode): an ERROR frame's code and the JS error's."]
    RelayErrorCode => keyward_relay::ErrorCode);

// The codes of each core's errors, the JS errors' `code` (src/errors.ts derives
// its unions from these). Shared codes (ERR_INVALID_ARG_VALUE, ...) appear in
// several lists.
keyward_opaque::opaque_error_codes!(strings, both
    #[doc = " The codes of OPAQUE's errors (keyward_opaque::ErrorCode)."]
    OpaqueErrorCode => keyward_opaque::ErrorCode);

keyward_pop::pop_error_codes!(strings, both
    #[doc = " The codes of proof-of-possession's errors (keyward_pop::ErrorCode)."]
    PopErrorCode => keyward_pop::ErrorCode);

keyward_seal::seal_error_codes!(strings, both
    #[doc = " The codes of sealing's errors (keyward_seal::ErrorCode)."]
    SealErrorCode => keyward_seal::ErrorCode);

keyward_seal::seal_vault_error_codes!(strings, both
    #[doc = " The codes only a vault's errors have (keyward_seal::vault::VaultErrorCode)."]
    VaultErrorCode => keyward_seal::vault::VaultErrorCode);

keyward_session::session_error_codes!(strings, both
    #[doc = " The codes of the end-to-end sessions' errors (keyward_session::error::ErrorCode)."]
    SessionErrorCode => keyward_session::error::ErrorCode);

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
/// The longest session id (the RFC 9421 `keyid`), in characters.
#[napi]
pub const POP_MAX_SESSION_ID_CHARS: u32 = keyward_pop::rfc9421::MAX_KEYID_BYTES as u32;
// What the browser's signer (src/web/pop.ts) must compute exactly as the core does.
#[napi]
pub const POP_DERIVE_INFO: &str = keyward_pop::DERIVE_INFO;
#[napi]
pub const POP_REQUEST_DOMAIN: &str = keyward_pop::REQUEST_DOMAIN;
#[napi]
pub const POP_KEY_BYTES: u32 = keyward_pop::POP_KEY_LEN as u32;
#[napi]
pub const POP_RFC9421_LABEL: &str = keyward_pop::rfc9421::LABEL;
#[napi]
pub const POP_RFC9421_ALG: &str = keyward_pop::rfc9421::ALG;
#[napi]
pub const POP_RFC9421_DIGEST_ALG: &str = keyward_pop::rfc9421::DIGEST_ALG;
#[napi]
pub const POP_DEFAULT_MAX_NONCES_PER_SESSION: u32 = keyward_pop::DEFAULT_MAX_PER_SCOPE as u32;

// The relay protocol's limits and defaults (keyward_relay::limits).
#[napi]
pub const RELAY_MAX_NOISE_MESSAGE: u32 = keyward_relay::limits::MAX_NOISE_MESSAGE as u32;
#[napi]
pub const RELAY_MAX_FRAME: u32 = keyward_relay::limits::MAX_FRAME as u32;
#[napi]
pub const RELAY_MAX_BODY: u32 = keyward_relay::limits::MAX_BODY as u32;
#[napi]
pub const RELAY_MAX_IN_FLIGHT: u32 = keyward_relay::limits::MAX_IN_FLIGHT as u32;
#[napi]
pub const RELAY_MAX_ONE_TIME_PER_UPLOAD: u32 = keyward_relay::limits::MAX_ONE_TIME_PER_UPLOAD as u32;
#[napi]
pub const RELAY_MAX_ONE_TIME_STORED: u32 = keyward_relay::limits::MAX_ONE_TIME_STORED as u32;
#[napi]
pub const RELAY_PREKEYS_LOW_THRESHOLD: u32 = keyward_relay::limits::PREKEYS_LOW_THRESHOLD as u32;
#[napi]
pub const RELAY_MAX_DEVICES: u32 = keyward_relay::limits::MAX_DEVICES as u32;
#[napi]
pub const RELAY_DEFAULT_TTL_MS: f64 = keyward_relay::limits::DEFAULT_TTL_MS as f64;
#[napi]
pub const RELAY_DEFAULT_QUOTA_MESSAGES: f64 = keyward_relay::limits::DEFAULT_QUOTA_MESSAGES as f64;
#[napi]
pub const RELAY_DEFAULT_QUOTA_BYTES: f64 = keyward_relay::limits::DEFAULT_QUOTA_BYTES as f64;
#[napi]
pub const RELAY_BUNDLE_FETCHES_PER_WINDOW: u32 = keyward_relay::limits::BUNDLE_FETCHES_PER_WINDOW;
#[napi]
pub const RELAY_BUNDLE_FETCH_WINDOW_MS: f64 = keyward_relay::limits::BUNDLE_FETCH_WINDOW_MS as f64;
#[napi]
pub const RELAY_KEY_LEN: u32 = keyward_relay::limits::KEY_LEN as u32;
#[napi]
pub const RELAY_CLIENT_MESSAGE_ID_LEN: u32 = keyward_relay::limits::CLIENT_MESSAGE_ID_LEN as u32;
