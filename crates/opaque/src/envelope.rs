//! keyward's header for the objects it persists: a format version, what the
//! bytes are, and the suite. Wire messages carry no header: they are RFC 9807
//! bytes, so serenity and other OPAQUE peers understand them.

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::suite::Suite;

const FORMAT_VERSION: u8 = 1;
pub(crate) const HEADER_LEN: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ServerSetup = 1,
    ServerRegistration = 2,
    ClientRegistrationState = 3,
    ClientLoginState = 4,
    ServerLoginState = 5,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::ServerSetup => "server setup",
            Kind::ServerRegistration => "registration record",
            Kind::ClientRegistrationState => "client registration state",
            Kind::ClientLoginState => "client login state",
            Kind::ServerLoginState => "server login state",
        }
    }
}

pub(crate) fn wrap(kind: Kind, suite: Suite, raw: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(HEADER_LEN + raw.len()));
    out.extend_from_slice(&[FORMAT_VERSION, kind as u8, suite.id()]);
    out.extend_from_slice(raw);
    out
}

/// Splits a header off, checking version and kind; returns the suite and body.
pub(crate) fn unwrap(kind: Kind, bytes: &[u8]) -> Result<(Suite, &[u8])> {
    let what = kind.name();
    if bytes.len() < HEADER_LEN {
        return Err(Error::Serialization(format!(
            "{what} is too short to be a keyward object"
        )));
    }
    if bytes[0] != FORMAT_VERSION {
        return Err(Error::Serialization(format!(
            "{what} has unsupported format version {}",
            bytes[0]
        )));
    }
    if bytes[1] != kind as u8 {
        return Err(Error::Serialization(format!(
            "these bytes are not a {what} (kind {})",
            bytes[1]
        )));
    }
    let suite = Suite::from_id(bytes[2])
        .ok_or_else(|| Error::Serialization(format!("{what} names unknown suite {}", bytes[2])))?;
    Ok((suite, &bytes[HEADER_LEN..]))
}
