//! The password file a server stores per user.

use std::sync::Arc;

use crate::envelope::{self, Kind};
use crate::error::Result;
use crate::ops::{by_suite, Parsed, RecordForm};
use crate::suite::Suite;

/// Kept both as bytes (to store) and parsed (to log in with, without a second parse).
#[derive(Clone)]
pub struct ServerRegistration {
    raw: Vec<u8>,
    /// Shared, so a clone does not copy the parsed record.
    parsed: Arc<Parsed<RecordForm>>,
}

impl ServerRegistration {
    /// Accepts the client's registration upload (RFC 9807 `RegistrationRecord`).
    pub fn from_upload(suite: Suite, upload: &[u8]) -> Result<ServerRegistration> {
        // The upload and the stored record have the same layout.
        ServerRegistration::from_raw(suite, upload)
    }

    /// Reads the raw record of `suite`, as opaque-ke and serenity store it.
    pub fn from_raw(suite: Suite, raw: &[u8]) -> Result<ServerRegistration> {
        let parsed = by_suite!(suite, m => m::into_parsed(m::record_parse(raw)?));
        Ok(ServerRegistration {
            raw: raw.to_vec(),
            parsed: Arc::new(parsed),
        })
    }

    pub fn deserialize(bytes: &[u8]) -> Result<ServerRegistration> {
        let (suite, raw) = envelope::unwrap(Kind::ServerRegistration, bytes)?;
        ServerRegistration::from_raw(suite, raw)
    }

    pub fn serialize(&self) -> Vec<u8> {
        envelope::wrap(Kind::ServerRegistration, self.suite(), &self.raw).to_vec()
    }

    pub fn suite(&self) -> Suite {
        self.parsed.suite()
    }

    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    pub(crate) fn parsed(&self) -> &Parsed<RecordForm> {
        &self.parsed
    }
}

impl PartialEq for ServerRegistration {
    fn eq(&self, other: &Self) -> bool {
        self.suite() == other.suite() && self.raw == other.raw
    }
}

impl Eq for ServerRegistration {}

impl core::fmt::Debug for ServerRegistration {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerRegistration")
            .field("suite", &self.suite())
            .field("len", &self.raw.len())
            .finish()
    }
}
