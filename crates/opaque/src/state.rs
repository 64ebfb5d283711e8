//! Protocol states between the two halves of a flow. Each is single-use: taking
//! it for a finish leaves the holder spent, and a spent or disposed state
//! refuses every further use.

use zeroize::Zeroizing;

use crate::envelope::{self, Kind};
use crate::error::{Error, Result};
use crate::ops::by_suite;
use crate::suite::Suite;

pub struct ProtocolState {
    kind: Kind,
    suite: Suite,
    bytes: Option<Zeroizing<Vec<u8>>>,
}

impl ProtocolState {
    pub(crate) fn new(kind: Kind, suite: Suite, bytes: Zeroizing<Vec<u8>>) -> ProtocolState {
        ProtocolState {
            kind,
            suite,
            bytes: Some(bytes),
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    pub fn is_spent(&self) -> bool {
        self.bytes.is_none()
    }

    /// Reads a state written by [`ProtocolState::serialize`]; `kind` must match.
    pub fn deserialize(kind: Kind, bytes: &[u8]) -> Result<ProtocolState> {
        let (suite, raw) = envelope::unwrap(kind, bytes)?;
        ProtocolState::from_raw(kind, suite, raw)
    }

    /// Reads the bare opaque-ke bytes of `suite` (the layout `@serenity-kit/opaque` uses).
    pub fn from_raw(kind: Kind, suite: Suite, raw: &[u8]) -> Result<ProtocolState> {
        by_suite!(suite, m => m::state_check(kind, raw))?;
        Ok(ProtocolState::new(
            kind,
            suite,
            Zeroizing::new(raw.to_vec()),
        ))
    }

    pub fn serialize_raw(&self) -> Result<Zeroizing<Vec<u8>>> {
        self.bytes.clone().ok_or(Error::InvalidState(
            "this state was already used or disposed",
        ))
    }

    pub fn serialize(&self) -> Result<Zeroizing<Vec<u8>>> {
        let raw = self.bytes.as_ref().ok_or(Error::InvalidState(
            "this state was already used or disposed",
        ))?;
        Ok(envelope::wrap(self.kind, self.suite, raw))
    }

    /// Moves the state out, leaving this holder spent.
    pub fn take(&mut self) -> Result<ProtocolState> {
        let bytes = self.bytes.take().ok_or(Error::InvalidState(
            "this state was already used or disposed",
        ))?;
        Ok(ProtocolState::new(self.kind, self.suite, bytes))
    }

    /// Wipes the state now rather than when it is dropped.
    pub fn dispose(&mut self) {
        self.bytes = None;
    }

    pub(crate) fn into_raw(mut self, expected: Kind) -> Result<(Suite, Zeroizing<Vec<u8>>)> {
        if self.kind != expected {
            return Err(Error::InvalidState("this state belongs to another step"));
        }
        let bytes = self.bytes.take().ok_or(Error::InvalidState(
            "this state was already used or disposed",
        ))?;
        Ok((self.suite, bytes))
    }
}
