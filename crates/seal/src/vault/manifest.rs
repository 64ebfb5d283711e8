//! The manifest: the one file whose atomic replacement commits a save. It
//! lists every entry (namespace path, tag, kind, and where its sealed record
//! lies) and is itself a sealed box, so it reveals nothing but its size.

use std::collections::BTreeMap;

use crate::encoding::{encode_parts, take_field, take_u64};
use crate::error::{Error, Result};

pub const MAGIC: &[u8] = b"keyward vault v1";
pub const PACK_ID_LEN: usize = 16;

pub type PackId = [u8; PACK_ID_LEN];

/// Namespace path and tag.
pub type EntryKey = (Vec<Vec<u8>>, Vec<u8>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub pack: PackId,
    pub offset: u64,
    pub len: u64,
}

pub fn encode(generation: u64, entries: &BTreeMap<EntryKey, Location>) -> Vec<u8> {
    let encoded: Vec<Vec<u8>> = entries
        .iter()
        .map(|((path, tag), loc)| {
            let path = encode_parts(path.iter().map(Vec::as_slice));
            encode_parts([
                &path[..],
                tag,
                &loc.pack[..],
                &loc.offset.to_be_bytes()[..],
                &loc.len.to_be_bytes()[..],
            ])
        })
        .collect();
    let generation = generation.to_be_bytes();
    encode_parts(
        [MAGIC, &generation[..]]
            .into_iter()
            .chain(encoded.iter().map(Vec::as_slice)),
    )
}

fn corrupt() -> Error {
    Error::Format("the vault manifest is malformed".into())
}

fn fields<'a>(input: &mut &'a [u8]) -> Result<Vec<&'a [u8]>> {
    let count = take_u64(input).ok_or_else(corrupt)?;
    // Each field takes at least 8 bytes, which bounds the count before allocating.
    if count > (input.len() / 8) as u64 {
        return Err(corrupt());
    }
    (0..count)
        .map(|_| take_field(input).ok_or_else(corrupt))
        .collect()
}

fn exact<const N: usize>(field: &[u8]) -> Result<[u8; N]> {
    field.try_into().map_err(|_| corrupt())
}

pub fn decode(mut input: &[u8]) -> Result<(u64, BTreeMap<EntryKey, Location>)> {
    let top = fields(&mut input)?;
    if !input.is_empty() || top.len() < 2 || top[0] != MAGIC {
        return Err(corrupt());
    }
    let generation = u64::from_be_bytes(exact(top[1])?);
    let mut entries = BTreeMap::new();
    for mut entry in top[2..].iter().copied() {
        let f = fields(&mut entry)?;
        if !entry.is_empty() || f.len() != 5 {
            return Err(corrupt());
        }
        let mut path_bytes = f[0];
        let path = fields(&mut path_bytes)?
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect();
        let location = Location {
            pack: exact(f[2])?,
            offset: u64::from_be_bytes(exact(f[3])?),
            len: u64::from_be_bytes(exact(f[4])?),
        };
        entries.insert((path, f[1].to_vec()), location);
    }
    Ok((generation, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects_garbage() {
        let mut entries = BTreeMap::new();
        let loc = Location {
            pack: [3; PACK_ID_LEN],
            offset: 7,
            len: 99,
        };
        entries.insert((vec![], b"top".to_vec()), loc);
        entries.insert((vec![b"a".to_vec(), b"b".to_vec()], b"deep".to_vec()), loc);
        let bytes = encode(42, &entries);
        assert_eq!(decode(&bytes).unwrap(), (42, entries));
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(&[bytes.clone(), vec![0]].concat()).is_err());
        assert!(decode(&[0xff; 16]).is_err());
    }
}
