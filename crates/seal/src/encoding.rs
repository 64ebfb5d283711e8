//! The canonical encoding of a list of byte strings: a count, then each part
//! with its length, all as 64-bit big-endian integers. Two different lists
//! never encode to the same bytes, so `["ab", "c"]` and `["a", "bc"]` differ.

pub fn encode_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let parts: Vec<&[u8]> = parts.into_iter().collect();
    let total = 8 + parts.iter().map(|p| 8 + p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(parts.len() as u64).to_be_bytes());
    for part in parts {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// Reads one length-prefixed field off the front of `input`.
pub fn take_field<'a>(input: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = take_u64(input)?;
    let len = usize::try_from(len).ok()?;
    if input.len() < len {
        return None;
    }
    let (field, rest) = input.split_at(len);
    *input = rest;
    Some(field)
}

pub fn take_u64(input: &mut &[u8]) -> Option<u64> {
    if input.len() < 8 {
        return None;
    }
    let (head, rest) = input.split_at(8);
    *input = rest;
    Some(u64::from_be_bytes(head.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_unambiguous() {
        assert_ne!(
            encode_parts([&b"ab"[..], b"c"]),
            encode_parts([&b"a"[..], b"bc"])
        );
        assert_ne!(encode_parts([&b""[..]]), encode_parts(Vec::<&[u8]>::new()));
    }

    #[test]
    fn fields_read_back() {
        let encoded = encode_parts([&b"one"[..], b"", b"three"]);
        let mut input = &encoded[..];
        assert_eq!(take_u64(&mut input), Some(3));
        assert_eq!(take_field(&mut input), Some(&b"one"[..]));
        assert_eq!(take_field(&mut input), Some(&b""[..]));
        assert_eq!(take_field(&mut input), Some(&b"three"[..]));
        assert!(input.is_empty());
        assert_eq!(take_field(&mut &[0, 0, 0, 0, 0, 0, 0, 9, 1][..]), None);
    }
}
