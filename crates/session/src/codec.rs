//! Fixed-layout binary encoding: big-endian integers, fixed-size keys,
//! length-prefixed byte strings. The reader checks every length and that
//! nothing trails.

use crate::error::{Error, Result};

#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }
    /// A byte string of up to 2^32-1 bytes with its length in front.
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.u32(v.len() as u32).raw(v)
    }
    pub fn flag(&mut self, v: bool) -> &mut Self {
        self.u8(v as u8)
    }
}

pub struct Reader<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, what }
    }

    fn short(&self) -> Error {
        Error::Format(format!("the {} is truncated", self.what))
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.data.len() < n {
            return Err(self.short());
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("length checked"))
    }
    /// An X25519 public key, refused unless canonical (`x25519::is_canonical`).
    pub fn x25519(&mut self) -> Result<[u8; 32]> {
        let key = self.array()?;
        if !crate::x25519::is_canonical(&key) {
            return Err(Error::Format(format!(
                "the {} holds a non-canonical X25519 key",
                self.what
            )));
        }
        Ok(key)
    }
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    pub fn flag(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::Format(format!(
                "the {} has an invalid flag byte",
                self.what
            ))),
        }
    }
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    pub fn rest_len(&self) -> usize {
        self.data.len()
    }
    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }
    /// Fails unless every byte was read.
    pub fn finish(self) -> Result<()> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(Error::Format(format!(
                "the {} has {} trailing bytes",
                self.what,
                self.data.len()
            )))
        }
    }
    /// The version byte and kind byte every keyward structure starts with.
    pub fn header(&mut self, version: u8, kind: u8) -> Result<()> {
        let v = self.u8()?;
        if v != version {
            return Err(Error::Format(format!(
                "the {} has version {v}; this build reads version {version}",
                self.what
            )));
        }
        let k = self.u8()?;
        if k != kind {
            return Err(Error::Format(format!(
                "this is not a {} (kind {k})",
                self.what
            )));
        }
        Ok(())
    }
}
