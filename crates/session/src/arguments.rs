//! Arguments as loosely typed callers give them (a binding's JavaScript
//! numbers, optional fields): checked here, once, so every caller refuses the
//! same inputs with the same error.

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::identity::ExpectedPeer;
use crate::keys::{KeyPair, Secret32};

impl<'a> ExpectedPeer<'a> {
    /// The expected peer from two optional fields: a public key or a
    /// fingerprint, never both; neither is `None`, trust on first use, which
    /// a caller should only pass when its user asked for it.
    pub fn either(
        public_key: Option<&'a [u8]>,
        fingerprint: Option<&'a [u8]>,
    ) -> Result<Option<Self>> {
        match (public_key, fingerprint) {
            (None, None) => Ok(None),
            (Some(k), None) => Ok(Some(ExpectedPeer::PublicKey(k))),
            (None, Some(f)) => Ok(Some(ExpectedPeer::Fingerprint(f))),
            (Some(_), Some(_)) => Err(Error::InvalidArgument(
                "give the expected peer as a public key or a fingerprint, not both".into(),
            )),
        }
    }
}

/// A prekey count given as a number (JavaScript's `f64`): a whole number in
/// `u32` range, refused rather than wrapped (2^32 + 32 is not 32) or
/// truncated. The set's own limit (`MAX_ONE_TIME`) is checked where it is used.
pub fn prekey_count(value: f64) -> Result<u32> {
    if value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value) {
        // In range and whole, so the cast is exact.
        Ok(value as u32)
    } else {
        Err(Error::InvalidArgument(format!(
            "the prekey count must be a whole number from 0 to {}, got {value}",
            u32::MAX
        )))
    }
}

/// X25519 of a secret and a public key given as byte strings of any length:
/// each must be 32 bytes (the length is named, never the secret's bytes),
/// and an all-zero result (a small-order public key) is refused.
pub fn agree(secret: &[u8], public: &[u8]) -> Result<Secret32> {
    let pair = |b: &[u8], what: &str| -> Result<[u8; 32]> {
        b.try_into().map_err(|_| {
            Error::InvalidArgument(format!("the X25519 {what} is 32 bytes, not {}", b.len()))
        })
    };
    let secret = Zeroizing::new(pair(secret, "secret key")?);
    KeyPair::agree(*secret, pair(public, "public key")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expected_peer_is_a_key_or_a_fingerprint_never_both() {
        let (key, print) = (&[1u8; 32][..], &[2u8; 32][..]);
        assert!(ExpectedPeer::either(None, None).unwrap().is_none());
        let by_key = ExpectedPeer::either(Some(key), None).unwrap();
        assert!(matches!(by_key, Some(ExpectedPeer::PublicKey(k)) if k == key));
        let by_print = ExpectedPeer::either(None, Some(print)).unwrap();
        assert!(matches!(by_print, Some(ExpectedPeer::Fingerprint(f)) if f == print));
        let both = ExpectedPeer::either(Some(key), Some(print));
        assert!(matches!(both, Err(Error::InvalidArgument(why)) if why.ends_with("not both")));
    }

    #[test]
    fn agreement_takes_32_byte_keys_and_refuses_the_rest() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let a_pub = *KeyPair::from_secret(a).public();
        let b_pub = *KeyPair::from_secret(b).public();
        assert_eq!(*agree(&a, &b_pub).unwrap(), *agree(&b, &a_pub).unwrap());
        let short = agree(&a[..31], &b_pub);
        assert!(
            matches!(short, Err(Error::InvalidArgument(why)) if why == "the X25519 secret key is 32 bytes, not 31")
        );
        let long = agree(&a, &[0; 33]);
        assert!(
            matches!(long, Err(Error::InvalidArgument(why)) if why == "the X25519 public key is 32 bytes, not 33")
        );
        assert!(
            agree(&a, &[0; 32]).is_err(),
            "the all-zero result of a small-order key"
        );
    }

    #[test]
    fn counts_are_whole_numbers_in_u32_range_never_wrapped() {
        assert_eq!(prekey_count(0.0), Ok(0));
        assert_eq!(prekey_count(100.0), Ok(100));
        assert_eq!(prekey_count(4_294_967_295.0), Ok(u32::MAX));
        for bad in [
            -1.0,
            0.5,
            f64::NAN,
            f64::INFINITY,
            4_294_967_296.0,
            4_294_967_328.0,
        ] {
            let refused = prekey_count(bad);
            assert!(
                matches!(&refused, Err(Error::InvalidArgument(why)) if why.starts_with("the prekey count must be a whole number from 0 to 4294967295")),
                "{bad}: {refused:?}"
            );
        }
    }
}
