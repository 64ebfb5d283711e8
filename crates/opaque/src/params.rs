//! Parameter objects shared by the client and server calls.

use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::ksf::KeyStretching;

/// RFC 9807 encodes identifiers and the context with a two-byte length.
const MAX_FIELD_LEN: usize = u16::MAX as usize;

/// Optional client and server identities (default: the public keys).
#[derive(Debug, Clone, Copy, Default)]
pub struct Identifiers<'a> {
    pub client: Option<&'a [u8]>,
    pub server: Option<&'a [u8]>,
}

impl<'a> Identifiers<'a> {
    pub(crate) fn get(&self) -> opaque_ke::Identifiers<'a> {
        opaque_ke::Identifiers {
            client: self.client,
            server: self.server,
        }
    }

    fn check(&self) -> Result<()> {
        check_field("client identifier", self.client)?;
        check_field("server identifier", self.server)
    }
}

fn check_field(what: &str, value: Option<&[u8]>) -> Result<()> {
    match value {
        Some(v) if v.len() > MAX_FIELD_LEN => Err(Error::InvalidArgument(format!(
            "{what} must be at most {MAX_FIELD_LEN} bytes, got {}",
            v.len()
        ))),
        _ => Ok(()),
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ClientParams<'a> {
    pub identifiers: Identifiers<'a>,
    pub context: Option<&'a [u8]>,
    pub key_stretching: KeyStretching,
    /// When set, the server's static public key must equal it.
    pub server_public_key: Option<&'a [u8]>,
}

impl ClientParams<'_> {
    pub(crate) fn check(&self) -> Result<()> {
        self.identifiers.check()?;
        check_field("context", self.context)
    }

    pub(crate) fn check_pin(&self, actual: &[u8]) -> Result<()> {
        match self.server_public_key {
            Some(expected) if !bool::from(expected.ct_eq(actual)) => Err(Error::InvalidLogin(
                "the server's public key does not match the pinned key",
            )),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ServerParams<'a> {
    pub identifiers: Identifiers<'a>,
    pub context: Option<&'a [u8]>,
}

impl ServerParams<'_> {
    pub(crate) fn check(&self) -> Result<()> {
        self.identifiers.check()?;
        check_field("context", self.context)
    }
}
