//! The manifest: the one file whose atomic replacement commits a save. It
//! lists every entry (namespace path, tag, where its sealed record lies and
//! the SHA-256 of that record) and is itself a sealed box, so it reveals
//! nothing but its size. The digest binds each entry's content: a record put
//! back from an older pack, even at the same place and length, no longer
//! matches (issue 13, finding 4).

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

use crate::encoding::{encode_parts, take_field, take_u64};
use crate::error::{Error, Result};

/// The associated data of every manifest box from format 2 on. It stays the
/// same across format versions, so a newer manifest opens and then reports
/// its version instead of looking like a wrong key.
pub const BOX_AAD: &[u8] = b"keyward vault manifest";
/// The first plaintext field of a format-2 manifest.
pub const MAGIC: &[u8] = b"keyward vault v2";
/// Format 1: box associated data and plaintext magic (read, then migrated).
pub const MAGIC_V1: &[u8] = b"keyward vault v1";
const MAGIC_PREFIX: &[u8] = b"keyward vault v";

pub const PACK_ID_LEN: usize = 16;
pub const VAULT_ID_LEN: usize = 16;
pub const DIGEST_LEN: usize = 32;

pub type PackId = [u8; PACK_ID_LEN];
pub type VaultId = [u8; VAULT_ID_LEN];
pub type Digest = [u8; DIGEST_LEN];

/// Namespace path and tag.
pub type EntryKey = (Vec<Vec<u8>>, Vec<u8>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub pack: PackId,
    pub offset: u64,
    pub len: u64,
    /// SHA-256 of the sealed record; `None` only for entries read from a
    /// format-1 manifest, which did not record it.
    pub digest: Option<Digest>,
}

pub fn digest(sealed: &[u8]) -> Digest {
    Sha256::digest(sealed).into()
}

pub struct Manifest {
    pub generation: u64,
    /// `None` for format 1, which had no vault id.
    pub vault_id: Option<VaultId>,
    pub entries: BTreeMap<EntryKey, Location>,
}

/// Encodes a format-2 manifest. Every location carries its digest (the
/// commit gives every format-1 entry one before it writes format 2).
pub fn encode(
    generation: u64,
    vault_id: &VaultId,
    entries: &BTreeMap<EntryKey, Location>,
) -> Vec<u8> {
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
                loc.digest.as_ref().map_or(&[][..], |d| &d[..]),
            ])
        })
        .collect();
    let generation = generation.to_be_bytes();
    encode_parts(
        [MAGIC, &generation[..], &vault_id[..]]
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

/// Decodes the plaintext of a manifest box opened with `BOX_AAD`.
pub fn decode(input: &[u8]) -> Result<Manifest> {
    decode_version(input, false)
}

/// Decodes the plaintext of a format-1 manifest box (opened with `MAGIC_V1`).
pub fn decode_v1(input: &[u8]) -> Result<Manifest> {
    decode_version(input, true)
}

fn decode_version(mut input: &[u8], v1: bool) -> Result<Manifest> {
    let top = fields(&mut input)?;
    let magic = if v1 { MAGIC_V1 } else { MAGIC };
    if !v1
        && top
            .first()
            .is_some_and(|m| m != &MAGIC && m.starts_with(MAGIC_PREFIX))
    {
        return Err(Error::Format(
            "this vault was written by a newer keyward (unknown vault format version)".into(),
        ));
    }
    let header = if v1 { 2 } else { 3 };
    if !input.is_empty() || top.len() < header || top[0] != magic {
        return Err(corrupt());
    }
    let generation = u64::from_be_bytes(exact(top[1])?);
    let vault_id = if v1 { None } else { Some(exact(top[2])?) };
    let mut entries = BTreeMap::new();
    for mut entry in top[header..].iter().copied() {
        let f = fields(&mut entry)?;
        if !entry.is_empty() || f.len() != if v1 { 5 } else { 6 } {
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
            digest: if v1 { None } else { Some(exact(f[5])?) },
        };
        entries.insert((path, f[1].to_vec()), location);
    }
    Ok(Manifest {
        generation,
        vault_id,
        entries,
    })
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
            digest: Some([9; DIGEST_LEN]),
        };
        entries.insert((vec![], b"top".to_vec()), loc);
        entries.insert((vec![b"a".to_vec(), b"b".to_vec()], b"deep".to_vec()), loc);
        let bytes = encode(42, &[5; VAULT_ID_LEN], &entries);
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded.generation, 42);
        assert_eq!(decoded.vault_id, Some([5; VAULT_ID_LEN]));
        assert_eq!(decoded.entries, entries);
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(&[bytes.clone(), vec![0]].concat()).is_err());
        assert!(decode(&[0xff; 16]).is_err());
        // A format-2 manifest is not a format-1 one, nor the reverse.
        assert!(decode_v1(&bytes).is_err());
    }

    #[test]
    fn a_newer_format_is_named_as_such() {
        let bytes = encode_parts([&b"keyward vault v3"[..], &[0; 8]]);
        let Err(Error::Format(why)) = decode(&bytes) else {
            panic!("a v3 manifest decoded")
        };
        assert!(why.contains("newer keyward"), "{why}");
    }
}
