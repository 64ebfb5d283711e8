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

/// Client or server parameters that own their bytes, so that they can cross
/// to another thread (a binding's worker) before the call borrows them.
#[derive(Debug, Clone, Default)]
pub struct OwnedParams {
    pub client_id: Option<Vec<u8>>,
    pub server_id: Option<Vec<u8>>,
    pub context: Option<Vec<u8>>,
    pub key_stretching: KeyStretching,
    pub server_public_key: Option<Vec<u8>>,
}

impl OwnedParams {
    /// The server's view: identifiers and context.
    pub fn server(&self) -> ServerParams<'_> {
        let identifiers = Identifiers {
            client: self.client_id.as_deref(),
            server: self.server_id.as_deref(),
        };
        ServerParams {
            identifiers,
            context: self.context.as_deref(),
        }
    }

    /// The client's view: the server's, plus key stretching and the pin.
    pub fn client(&self) -> ClientParams<'_> {
        let ServerParams {
            identifiers,
            context,
        } = self.server();
        ClientParams {
            identifiers,
            context,
            key_stretching: self.key_stretching,
            server_public_key: self.server_public_key.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_params_lend_every_field_to_both_views() {
        let owned = OwnedParams {
            client_id: Some(b"alice".to_vec()),
            server_id: Some(b"server".to_vec()),
            context: Some(b"ctx".to_vec()),
            key_stretching: KeyStretching::RfcRecommended,
            server_public_key: Some(vec![7; 32]),
        };
        let client = owned.client();
        assert_eq!(client.identifiers.client, Some(&b"alice"[..]));
        assert_eq!(client.identifiers.server, Some(&b"server"[..]));
        assert_eq!(client.context, Some(&b"ctx"[..]));
        assert_eq!(client.key_stretching, KeyStretching::RfcRecommended);
        assert_eq!(client.server_public_key, Some(&[7u8; 32][..]));
        let server = owned.server();
        assert_eq!(server.identifiers.client, Some(&b"alice"[..]));
        assert_eq!(server.identifiers.server, Some(&b"server"[..]));
        assert_eq!(server.context, Some(&b"ctx"[..]));
        assert!(OwnedParams::default().client().context.is_none());
    }
}
