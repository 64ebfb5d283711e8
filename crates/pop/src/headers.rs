//! The grammar of the PoP headers, with one definition of each limit
//! (docs/pop.md, "Header grammar"). The verifier (`pop_verify` in
//! crates/node) parses with these functions, `PopKey::sign` refuses what
//! they would refuse, and the TypeScript layer reads the limits from the
//! binding's constants instead of repeating them.
//!
//! Every limit is in bytes, and every accepted value is ASCII, so a length
//! is the same in bytes, characters and UTF-16 units: whichever language
//! counts, it gets one answer.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::MAC_LEN;

/// `Authorization` starts with this, exactly (the scheme as the signer sends it).
pub const BEARER_PREFIX: &str = "Bearer ";
/// The longest bearer (after the prefix). A sealed session token is about 220 bytes.
pub const MAX_BEARER_BYTES: usize = 4096;
/// `X-NONCE` is 8 to 128 bytes of visible ASCII.
pub const NONCE_MIN_BYTES: usize = 8;
pub const NONCE_MAX_BYTES: usize = 128;
/// The largest `X-TS`: 2^53 − 1, JavaScript's largest safe integer, so
/// that the signer's number and the header's text name one value.
pub const MAX_TIMESTAMP_MS: u64 = (1 << 53) - 1;
/// `X-POP` is the 32-byte MAC in unpadded base64url: exactly this many characters.
pub const MAC_B64_CHARS: usize = 43;

/// The bearer of an `Authorization` header: `"Bearer "`, then 1 to
/// `MAX_BEARER_BYTES` bytes. Only its place is checked here; its form is the
/// business of whoever looks it up (a session token must open).
pub fn parse_bearer(authorization: &str) -> Option<&str> {
    let bearer = authorization.strip_prefix(BEARER_PREFIX)?;
    (!bearer.is_empty() && bearer.len() <= MAX_BEARER_BYTES).then_some(bearer)
}

/// `X-TS` as the signer sends it: decimal digits without a sign, a leading
/// zero or any other decoration, at most `MAX_TIMESTAMP_MS`. One value has
/// one text, which is the text the MAC covers.
pub fn parse_timestamp(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    // 16 digits hold 2^53 − 1; the length bound also keeps the sum below from overflowing.
    if bytes.is_empty() || bytes.len() > 16 || (bytes[0] == b'0' && bytes.len() > 1) {
        return None;
    }
    let mut value = 0u64;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(b - b'0');
    }
    (value <= MAX_TIMESTAMP_MS).then_some(value)
}

/// `X-NONCE`: `NONCE_MIN_BYTES` to `NONCE_MAX_BYTES` bytes, each visible
/// ASCII (0x21–0x7E). No spaces (a proxy may trim them), no line breaks,
/// nothing that an HTTP parser would decode differently from the signer.
pub fn valid_nonce(nonce: &[u8]) -> bool {
    (NONCE_MIN_BYTES..=NONCE_MAX_BYTES).contains(&nonce.len())
        && nonce.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// `X-POP`: exactly `MAC_B64_CHARS` characters of unpadded base64url in its
/// canonical form (the unused low bits of the last character are zero), so
/// one MAC has one text.
pub fn parse_mac(text: &str) -> Option<[u8; MAC_LEN]> {
    if text.len() != MAC_B64_CHARS {
        return None;
    }
    // One byte of room: the decoder sizes its output from the input length.
    let mut out = [0u8; MAC_LEN + 1];
    match URL_SAFE_NO_PAD.decode_slice(text.as_bytes(), &mut out) {
        Ok(MAC_LEN) => {
            let mut mac = [0u8; MAC_LEN];
            mac.copy_from_slice(&out[..MAC_LEN]);
            Some(mac)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors the JavaScript tests run through the verifier and the
    /// signer too (`__test__/pop-headers.test.ts`): one file, one answer.
    const VECTORS: &str = include_str!("../tests/header-vectors.txt");

    /// `kind`, whether it is accepted, and the value's bytes.
    fn vectors() -> Vec<(String, bool, Vec<u8>)> {
        VECTORS
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| {
                let mut fields = line.splitn(3, '\t');
                let (kind, verdict, value) = (
                    fields.next().unwrap(),
                    fields.next().unwrap(),
                    fields
                        .next()
                        .expect("kind, verdict and value, tab-separated"),
                );
                (kind.to_owned(), verdict == "accept", decode(value))
            })
            .collect()
    }

    /// A value as written in the file: text, `hex:` bytes, or `repeat:N:text`.
    fn decode(value: &str) -> Vec<u8> {
        if let Some(hex) = value.strip_prefix("hex:") {
            return (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
        }
        if let Some(rest) = value.strip_prefix("repeat:") {
            let (count, text) = rest.split_once(':').unwrap();
            return text.repeat(count.parse().unwrap()).into_bytes();
        }
        value.as_bytes().to_vec()
    }

    #[test]
    fn the_shared_vectors_get_the_same_answer_here() {
        let all = vectors();
        assert!(all.len() > 30);
        for (kind, accept, value) in all {
            let text = String::from_utf8(value.clone());
            let got = match kind.as_str() {
                "ts" => text.is_ok_and(|t| parse_timestamp(&t).is_some()),
                "nonce" => valid_nonce(&value),
                "mac" => text.is_ok_and(|t| parse_mac(&t).is_some()),
                "bearer" => text.is_ok_and(|t| parse_bearer(&t).is_some()),
                other => panic!("unknown kind {other}"),
            };
            assert_eq!(got, accept, "{kind} {:?}", String::from_utf8_lossy(&value));
        }
    }

    #[test]
    fn timestamps_parse_only_in_their_canonical_form() {
        assert_eq!(parse_timestamp("0"), Some(0));
        assert_eq!(parse_timestamp("1700000000000"), Some(1_700_000_000_000));
        assert_eq!(parse_timestamp("9007199254740991"), Some(MAX_TIMESTAMP_MS));
        assert_eq!(parse_timestamp("9007199254740992"), None);
        assert_eq!(parse_timestamp("9999999999999999"), None);
    }

    #[test]
    fn a_mac_has_one_text() {
        let mac = [0xa5u8; MAC_LEN];
        let text = URL_SAFE_NO_PAD.encode(mac);
        assert_eq!(text.len(), MAC_B64_CHARS);
        assert_eq!(parse_mac(&text), Some(mac));
        // The last character carries 4 bits and 2 unused ones: setting those is another text.
        let last = text.as_bytes()[MAC_B64_CHARS - 1];
        assert_eq!(last, b'U');
        let other = format!("{}V", &text[..MAC_B64_CHARS - 1]);
        assert_eq!(parse_mac(&other), None);
    }

    #[test]
    fn limits_are_consistent() {
        assert_eq!(MAX_TIMESTAMP_MS.to_string().len(), 16);
        assert_eq!(URL_SAFE_NO_PAD.encode([0u8; MAC_LEN]).len(), MAC_B64_CHARS);
        assert_eq!(parse_bearer("Bearer abc"), Some("abc"));
    }
}
