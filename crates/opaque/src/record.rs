//! The password file a server stores per user.

use crate::envelope::{self, Kind};
use crate::error::Result;
use crate::ops::by_suite;
use crate::suite::Suite;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRegistration {
    suite: Suite,
    raw: Vec<u8>,
}

impl ServerRegistration {
    /// Accepts the client's registration upload (RFC 9807 `RegistrationRecord`).
    pub fn from_upload(suite: Suite, upload: &[u8]) -> Result<ServerRegistration> {
        by_suite!(suite, m => m::upload_check(upload))?;
        Ok(ServerRegistration {
            suite,
            raw: upload.to_vec(),
        })
    }

    /// Reads the raw record of `suite`, as opaque-ke and serenity store it.
    pub fn from_raw(suite: Suite, raw: &[u8]) -> Result<ServerRegistration> {
        by_suite!(suite, m => m::record_parse(raw).map(drop))?;
        Ok(ServerRegistration {
            suite,
            raw: raw.to_vec(),
        })
    }

    pub fn deserialize(bytes: &[u8]) -> Result<ServerRegistration> {
        let (suite, raw) = envelope::unwrap(Kind::ServerRegistration, bytes)?;
        ServerRegistration::from_raw(suite, raw)
    }

    pub fn serialize(&self) -> Vec<u8> {
        envelope::wrap(Kind::ServerRegistration, self.suite, &self.raw).to_vec()
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
}
