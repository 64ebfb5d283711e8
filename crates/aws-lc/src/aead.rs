//! XChaCha20-Poly1305 out of place, through AWS-LC's `EVP_AEAD`.
//!
//! ring (which the sealed-data core otherwise uses) only encrypts in place,
//! so sealing into a fresh buffer first copies the input there. On this
//! project's box a 64 KiB copy takes as long as encrypting it; reading the
//! input and writing the output in one pass is what puts 64 KiB boxes ahead
//! of libsodium. The assembly underneath is the same family as ring's.

use aws_lc_sys::{
    EVP_AEAD_CTX_cleanup, EVP_AEAD_CTX_init, EVP_AEAD_CTX_open, EVP_AEAD_CTX_seal,
    EVP_aead_xchacha20_poly1305, OPENSSL_cleanse, EVP_AEAD_CTX,
};

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 24;
pub const TAG_LEN: usize = 16;

/// A keyed context. It lives on the heap and is initialised there, so it is
/// never moved (a move would leave a copy of the key behind in the old
/// place), and it is wiped on drop: `EVP_AEAD_CTX_cleanup` alone does not
/// clear the key AWS-LC's ChaCha20-Poly1305 keeps in the context (its
/// cleanup hook is empty), so the bytes are cleansed after it.
struct Context(Box<EVP_AEAD_CTX>);

impl Context {
    fn new(key: &[u8; KEY_LEN]) -> Option<Context> {
        // SAFETY: an all-zero EVP_AEAD_CTX is the state `EVP_AEAD_CTX_zero`
        // produces; init reads KEY_LEN bytes from `key` and keeps no pointer
        // to it. A failed init leaves the context safe to clean up (and the
        // drop below wipes whatever it wrote).
        let mut ctx = Context(Box::new(unsafe { std::mem::zeroed() }));
        let ok = unsafe {
            EVP_AEAD_CTX_init(
                &mut *ctx.0,
                EVP_aead_xchacha20_poly1305(),
                key.as_ptr(),
                KEY_LEN,
                TAG_LEN,
                std::ptr::null_mut(),
            )
        };
        (ok == 1).then_some(ctx)
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        let ctx: *mut EVP_AEAD_CTX = &mut *self.0;
        // SAFETY: the context was zeroed or initialised; cleanup handles
        // both. It frees nothing this context owns (the key is inline).
        unsafe { EVP_AEAD_CTX_cleanup(ctx) };
        // SAFETY: `ctx` points to one whole, live EVP_AEAD_CTX we own; after
        // cleanup all zeros is a valid (empty) state for it.
        unsafe { OPENSSL_cleanse(ctx.cast(), std::mem::size_of::<EVP_AEAD_CTX>()) };
    }
}

/// `EVP_AEAD_CTX_seal` and `EVP_AEAD_CTX_open` take the same arguments.
type Operation = unsafe extern "C" fn(
    *const EVP_AEAD_CTX,
    *mut u8,
    *mut usize,
    usize,
    *const u8,
    usize,
    *const u8,
    usize,
    *const u8,
    usize,
) -> std::os::raw::c_int;

/// Runs `op` from `input` into all of `out`; true when it succeeded and wrote exactly `out`.
fn run(
    op: Operation,
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    input: &[u8],
    out: &mut [u8],
) -> bool {
    let Some(ctx) = Context::new(key) else {
        return false;
    };
    let mut written = 0usize;
    // SAFETY: every pointer comes with its slice's exact length; `out` is a
    // `&mut` and so cannot overlap `input` or `aad`; AWS-LC keeps none of
    // them after the call.
    let ok = unsafe {
        op(
            &*ctx.0,
            out.as_mut_ptr(),
            &mut written,
            out.len(),
            nonce.as_ptr(),
            NONCE_LEN,
            input.as_ptr(),
            input.len(),
            aad.as_ptr(),
            aad.len(),
        )
    };
    ok == 1 && written == out.len()
}

/// Writes `ciphertext ‖ tag` of `plaintext` into `out`, which must be exactly
/// `plaintext.len() + TAG_LEN` bytes. `None` only for a wrong `out` length.
pub fn seal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut [u8],
) -> Option<()> {
    if out.len() != plaintext.len().checked_add(TAG_LEN)? {
        return None;
    }
    run(EVP_AEAD_CTX_seal, key, nonce, aad, plaintext, out).then_some(())
}

/// Writes the plaintext of `sealed` (`ciphertext ‖ tag`) into `out`, which
/// must be exactly `sealed.len() - TAG_LEN` bytes. `None` when the tag does
/// not verify (then `out` is zeroed) or a length is wrong.
pub fn open(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
    out: &mut [u8],
) -> Option<()> {
    if out.len() != sealed.len().checked_sub(TAG_LEN)? {
        return None;
    }
    if run(EVP_AEAD_CTX_open, key, nonce, aad, sealed, out) {
        Some(())
    } else {
        zeroize::Zeroize::zeroize(out);
        None
    }
}
