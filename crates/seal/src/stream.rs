//! Streaming encryption with the STREAM construction (Hoang, Reyhanitabar,
//! Rogaway, Vizár), as RustCrypto's `aead::stream` implements it, over
//! XChaCha20-Poly1305: each chunk's nonce is `prefix (19) ‖ counter (4, BE) ‖
//! last flag (1)`, so a reordered, dropped or duplicated chunk fails on its
//! counter, a truncated stream lacks its last-flagged chunk, and an extended
//! one has data after it.
//!
//! Layout (docs/sealed-data.md): a 24-byte header `version (1) ‖ chunk size
//! (4, BE) ‖ nonce prefix (19)`, then chunks of `chunk size + 16` bytes, the
//! last one shorter (possibly only its tag). Every chunk authenticates the
//! header and the caller's associated data. Both sides buffer at most one
//! chunk, so memory stays bounded whatever the input size.

use aead::stream::{DecryptorBE32, EncryptorBE32};
use aead::KeyInit;

use crate::chacha::XChaCha20Poly1305;
use rand_core::{CryptoRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};
use crate::keys::SecretKey;
use crate::primitives::TAG_LEN;

pub const STREAM_VERSION: u8 = 1;
pub const HEADER_LEN: usize = 1 + 4 + PREFIX_LEN;
const PREFIX_LEN: usize = 19;
pub const DEFAULT_CHUNK: usize = 64 * 1024;
pub const MIN_CHUNK: usize = 1024;
pub const MAX_CHUNK: usize = 16 * 1024 * 1024;

fn check_chunk(chunk: usize) -> Result<()> {
    if (MIN_CHUNK..=MAX_CHUNK).contains(&chunk) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "chunk size must be between {MIN_CHUNK} and {MAX_CHUNK} bytes, got {chunk}"
        )))
    }
}

/// A sealer's chunk size as a number from JavaScript or JSON (`f64`), or
/// `DEFAULT_CHUNK` for none: a whole number from `MIN_CHUNK` to `MAX_CHUNK`,
/// refused rather than truncated or wrapped.
pub fn chunk_size(value: Option<f64>) -> Result<usize> {
    let Some(v) = value else {
        return Ok(DEFAULT_CHUNK);
    };
    if v.fract() == 0.0 && (MIN_CHUNK as f64..=MAX_CHUNK as f64).contains(&v) {
        // In range and whole, so the cast is exact.
        Ok(v as usize)
    } else {
        Err(Error::InvalidArgument(format!(
            "chunkSize must be a whole number from {MIN_CHUNK} to {MAX_CHUNK}, got {v}"
        )))
    }
}

fn chunk_aad(header: &[u8], aad: &[u8]) -> Vec<u8> {
    [header, aad].concat()
}

/// Plaintext only ever sits in `Zeroizing` buffers whose capacity is
/// reserved up front (one chunk and its tag), so no reallocation leaves a
/// copy behind in freed memory and every buffer is wiped when dropped.
fn chunk_buffer(chunk: usize) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(Vec::with_capacity(chunk + TAG_LEN))
}

pub struct StreamSealer {
    encryptor: Option<EncryptorBE32<XChaCha20Poly1305>>,
    aad: Vec<u8>,
    chunk: usize,
    pending: Zeroizing<Vec<u8>>,
    /// Where a chunk is encrypted in place; wiped after each use.
    body: Zeroizing<Vec<u8>>,
    header: Option<[u8; HEADER_LEN]>,
}

impl StreamSealer {
    pub fn new(
        key: &SecretKey,
        aad: &[u8],
        chunk: usize,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Self> {
        check_chunk(chunk)?;
        let mut header = [0u8; HEADER_LEN];
        header[0] = STREAM_VERSION;
        header[1..5].copy_from_slice(&(chunk as u32).to_be_bytes());
        rng.fill_bytes(&mut header[5..]);
        let aead = XChaCha20Poly1305::new((&key.stream_key[..]).into());
        Ok(StreamSealer {
            encryptor: Some(EncryptorBE32::from_aead(aead, (&header[5..]).into())),
            aad: chunk_aad(&header, aad),
            chunk,
            pending: chunk_buffer(chunk),
            body: chunk_buffer(chunk),
            header: Some(header),
        })
    }

    fn output(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(header) = self.header.take() {
            out.extend_from_slice(&header);
        }
        out
    }

    /// Seals every full chunk that `data` completes; keeps the rest.
    pub fn push(&mut self, mut data: &[u8]) -> Result<Vec<u8>> {
        if self.encryptor.is_none() {
            return Err(Error::InvalidState("this stream is finished"));
        }
        let total = self.pending.len() + data.len();
        // A chunk that ends exactly at the end of the input stays pending: it may be the last.
        let full = if total.is_multiple_of(self.chunk) {
            (total / self.chunk).saturating_sub(1)
        } else {
            total / self.chunk
        };
        // Only ciphertext is written to `out`.
        let mut out = Vec::with_capacity(HEADER_LEN + full * (self.chunk + TAG_LEN));
        out.extend_from_slice(&self.output());
        for _ in 0..full {
            let take = self.chunk - self.pending.len();
            self.body.extend_from_slice(&self.pending);
            self.body.extend_from_slice(&data[..take]);
            data = &data[take..];
            self.pending.zeroize();
            self.seal_body(false)?;
            out.extend_from_slice(&self.body);
            self.body.zeroize();
        }
        self.pending.extend_from_slice(data);
        Ok(out)
    }

    /// Encrypts `body` in place as the next chunk (or the last); wipes it on failure.
    fn seal_body(&mut self, last: bool) -> Result<()> {
        let result = if last {
            let encryptor = self.encryptor.take().expect("checked by the caller");
            encryptor.encrypt_last_in_place(&self.aad[..], &mut *self.body)
        } else {
            let encryptor = self.encryptor.as_mut().expect("checked by the caller");
            encryptor.encrypt_next_in_place(&self.aad[..], &mut *self.body)
        };
        result.map_err(|_| {
            self.body.zeroize();
            Error::InvalidArgument("stream too long: chunk counter exhausted".into())
        })
    }

    /// Seals what is left as the last chunk; the sealer is spent afterwards.
    pub fn finish(&mut self) -> Result<Vec<u8>> {
        if self.encryptor.is_none() {
            return Err(Error::InvalidState("this stream is finished"));
        }
        let mut out = self.output();
        self.body.extend_from_slice(&self.pending);
        self.pending.zeroize();
        self.seal_body(true)?;
        out.extend_from_slice(&self.body);
        self.body.zeroize();
        Ok(out)
    }
}

pub struct StreamOpener {
    key: Zeroizing<[u8; 32]>,
    user_aad: Vec<u8>,
    decryptor: Option<DecryptorBE32<XChaCha20Poly1305>>,
    aad: Vec<u8>,
    chunk: usize,
    /// Ciphertext not opened yet.
    pending: Vec<u8>,
    /// Where a chunk is decrypted in place; wiped after each use.
    body: Zeroizing<Vec<u8>>,
    done: bool,
}

impl StreamOpener {
    pub fn new(key: &SecretKey, aad: &[u8]) -> Self {
        StreamOpener {
            key: key.stream_key.clone(),
            user_aad: aad.to_vec(),
            decryptor: None,
            aad: Vec::new(),
            chunk: 0,
            pending: Vec::new(),
            body: Zeroizing::new(Vec::new()),
            done: false,
        }
    }

    fn fail(&mut self, why: &'static str) -> Error {
        self.done = true;
        self.pending.clear();
        Error::Decryption(why)
    }

    fn read_header(&mut self) -> Result<()> {
        let header: [u8; HEADER_LEN] = self.pending[..HEADER_LEN]
            .try_into()
            .expect("length checked");
        if header[0] != STREAM_VERSION {
            return Err(self.fail("unknown stream version"));
        }
        let chunk = u32::from_be_bytes(header[1..5].try_into().expect("4 bytes")) as usize;
        if check_chunk(chunk).is_err() {
            return Err(self.fail("the stream header names an invalid chunk size"));
        }
        let aead = XChaCha20Poly1305::new((&self.key[..]).into());
        self.decryptor = Some(DecryptorBE32::from_aead(aead, (&header[5..]).into()));
        self.aad = chunk_aad(&header, &self.user_aad);
        self.chunk = chunk;
        self.body = chunk_buffer(chunk);
        self.pending.drain(..HEADER_LEN);
        Ok(())
    }

    /// Opens every chunk that is certainly not the last one; keeps the rest.
    pub fn push(&mut self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if self.done {
            return Err(Error::InvalidState("this stream is finished"));
        }
        self.pending.extend_from_slice(data);
        if self.decryptor.is_none() {
            if self.pending.len() < HEADER_LEN {
                return Ok(Zeroizing::new(Vec::new()));
            }
            self.read_header()?;
        }
        let sealed = self.chunk + TAG_LEN;
        let full = self.pending.len().saturating_sub(1) / sealed;
        // Sized for every chunk opened here: it never reallocates.
        let mut out = Zeroizing::new(Vec::with_capacity(full * self.chunk));
        let mut offset = 0;
        for _ in 0..full {
            self.body
                .extend_from_slice(&self.pending[offset..offset + sealed]);
            offset += sealed;
            if !self.open_body(false) {
                return Err(self.fail(
                    "a chunk does not authenticate (tampered, reordered, dropped or duplicated)",
                ));
            }
            out.extend_from_slice(&self.body);
            self.body.zeroize();
        }
        self.pending.drain(..offset);
        Ok(out)
    }

    /// Decrypts `body` in place as the next chunk (or the last).
    fn open_body(&mut self, last: bool) -> bool {
        let ok = if last {
            let decryptor = self.decryptor.take().expect("checked by the caller");
            decryptor.decrypt_last_in_place(&self.aad[..], &mut *self.body)
        } else {
            let decryptor = self.decryptor.as_mut().expect("header read");
            decryptor.decrypt_next_in_place(&self.aad[..], &mut *self.body)
        }
        .is_ok();
        if !ok {
            self.body.zeroize();
        }
        ok
    }

    /// Opens the last chunk; a stream that ends anywhere else fails here.
    pub fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        if self.done {
            return Err(Error::InvalidState("this stream is finished"));
        }
        if self.decryptor.is_none() {
            return Err(self.fail("the stream ended inside its header"));
        }
        // What is left is at most one sealed chunk (push opened the rest).
        self.body.extend_from_slice(&self.pending);
        self.pending.clear();
        if !self.open_body(true) {
            return Err(self
                .fail("the stream is truncated or extended, or its last chunk was tampered with"));
        }
        self.done = true;
        let mut out = Zeroizing::new(Vec::with_capacity(self.body.len()));
        out.extend_from_slice(&self.body);
        self.body.zeroize();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    #[test]
    fn chunk_sizes_are_whole_numbers_in_range_or_the_default() {
        assert_eq!(chunk_size(None), Ok(DEFAULT_CHUNK));
        assert_eq!(chunk_size(Some(MIN_CHUNK as f64)), Ok(MIN_CHUNK));
        assert_eq!(chunk_size(Some(MAX_CHUNK as f64)), Ok(MAX_CHUNK));
        let two_32 = 4_294_967_296.0;
        for bad in [
            0.0,
            1023.0,
            1024.5,
            f64::NAN,
            f64::INFINITY,
            MAX_CHUNK as f64 + 1.0,
            two_32 + 1024.0,
        ] {
            let refused = chunk_size(Some(bad));
            assert!(
                matches!(&refused, Err(Error::InvalidArgument(why)) if why.starts_with("chunkSize must be a whole number from 1024 to 16777216")),
                "{bad}: {refused:?}"
            );
        }
    }

    fn seal_all(key: &SecretKey, data: &[u8], pieces: usize) -> Vec<u8> {
        let mut sealer = StreamSealer::new(key, b"aad", MIN_CHUNK, &mut OsRng).unwrap();
        let mut out = Vec::new();
        for piece in data.chunks(pieces.max(1)) {
            out.extend(sealer.push(piece).unwrap());
        }
        out.extend(sealer.finish().unwrap());
        out
    }

    fn open_all(key: &SecretKey, sealed: &[u8], pieces: usize) -> Result<Vec<u8>> {
        let mut opener = StreamOpener::new(key, b"aad");
        let mut out = Vec::new();
        for piece in sealed.chunks(pieces.max(1)) {
            out.extend_from_slice(&opener.push(piece)?);
        }
        out.extend_from_slice(&opener.finish()?);
        Ok(out)
    }

    #[test]
    fn round_trips_at_every_boundary() {
        let key = SecretKey::generate(&mut OsRng);
        for len in [
            0,
            1,
            MIN_CHUNK - 1,
            MIN_CHUNK,
            MIN_CHUNK + 1,
            3 * MIN_CHUNK,
            3 * MIN_CHUNK + 5,
        ] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            for pieces in [1, 7, MIN_CHUNK, 5000] {
                let sealed = seal_all(&key, &data, pieces);
                let chunks = len.div_ceil(MIN_CHUNK).max(1);
                assert_eq!(sealed.len(), HEADER_LEN + len + chunks * TAG_LEN);
                assert_eq!(
                    open_all(&key, &sealed, pieces).unwrap(),
                    data,
                    "len {len} pieces {pieces}"
                );
            }
        }
    }

    #[test]
    fn detects_every_kind_of_tampering() {
        let key = SecretKey::generate(&mut OsRng);
        let data = vec![42u8; 3 * MIN_CHUNK + 100];
        let sealed = seal_all(&key, &data, 999);
        let c = MIN_CHUNK + TAG_LEN;
        let chunk =
            |i: usize| &sealed[HEADER_LEN + i * c..(HEADER_LEN + (i + 1) * c).min(sealed.len())];
        let header = &sealed[..HEADER_LEN];
        let join = |parts: &[&[u8]]| parts.concat();

        let reordered = join(&[header, chunk(1), chunk(0), chunk(2), chunk(3)]);
        let dropped = join(&[header, chunk(0), chunk(2), chunk(3)]);
        let duplicated = join(&[header, chunk(0), chunk(0), chunk(1), chunk(2), chunk(3)]);
        let truncated = join(&[header, chunk(0), chunk(1), chunk(2)]);
        let extended = join(&[&sealed[..], chunk(0)]);
        let mut flipped = sealed.clone();
        flipped[HEADER_LEN + 5] ^= 1;
        let mut header_flipped = sealed.clone();
        header_flipped[10] ^= 1;
        for (name, bad) in [
            ("reordered", reordered),
            ("dropped", dropped),
            ("duplicated", duplicated),
            ("truncated", truncated),
            ("extended", extended),
            ("flipped", flipped),
            ("header flipped", header_flipped),
            ("header only", header.to_vec()),
            ("half a header", header[..10].to_vec()),
        ] {
            assert!(
                matches!(open_all(&key, &bad, 500), Err(Error::Decryption(_))),
                "{name}"
            );
        }
        let mut other_aad = StreamOpener::new(&key, b"other");
        let failed = other_aad.push(&sealed).and_then(|_| other_aad.finish());
        assert!(failed.is_err());
        assert!(matches!(other_aad.push(b"x"), Err(Error::InvalidState(_))));
    }
}
