//! X25519 through AWS-LC's `X25519` and `X25519_public_from_private`:
//! s2n-bignum's formally verified assembly, about 2.5× faster on x86-64 than
//! curve25519-dalek's portable ladder. Called directly, it also skips the
//! EVP layer aws-lc-rs puts in front (about 8 µs a call here).

use zeroize::Zeroizing;

/// The public key of a 32-byte secret (clamped as RFC 7748 says).
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // SAFETY: both pointers come from 32-byte arrays, the sizes the function
    // reads and writes; it keeps neither pointer.
    unsafe { aws_lc_sys::X25519_public_from_private(out.as_mut_ptr(), secret.as_ptr()) };
    out
}

/// X25519(secret, public), or `None` when the result is all zero (a
/// small-order public key), which AWS-LC reports as failure.
pub fn shared(secret: &[u8; 32], public: &[u8; 32]) -> Option<Zeroizing<[u8; 32]>> {
    let mut out = Zeroizing::new([0u8; 32]);
    // SAFETY: as above: three 32-byte buffers, none kept after the call.
    let ok = unsafe { aws_lc_sys::X25519(out.as_mut_ptr(), secret.as_ptr(), public.as_ptr()) };
    (ok == 1).then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc7748_section_6_1() {
        let hex = |s: &str| -> [u8; 32] {
            let v: Vec<u8> = (0..32)
                .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            v.try_into().unwrap()
        };
        let a = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let b = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        let a_pub = super::public_key(&a);
        assert_eq!(
            a_pub,
            hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        );
        let k = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        assert_eq!(*super::shared(&b, &a_pub).unwrap(), k);
        assert!(super::shared(&a, &[0u8; 32]).is_none());
    }
}
