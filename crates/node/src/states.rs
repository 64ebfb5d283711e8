//! The single-use protocol states as JavaScript classes.

use crate::owned::Uint8Array;
use keyward_opaque::{Kind, ProtocolState};
use napi_derive::napi;

use crate::convert::{guard, secret_out, suite};

macro_rules! state_class {
    ($class:ident, $kind:expr) => {
        #[napi]
        pub struct $class {
            pub(crate) inner: ProtocolState,
        }

        #[napi]
        impl $class {
            #[napi(factory)]
            pub fn deserialize(bytes: &[u8]) -> napi::Result<Self> {
                guard(|| ProtocolState::deserialize($kind, bytes)).map(|inner| Self { inner })
            }

            #[napi(factory)]
            pub fn from_raw(suite_name: String, raw: &[u8]) -> napi::Result<Self> {
                let s = suite(Some(suite_name))?;
                guard(|| ProtocolState::from_raw($kind, s, raw)).map(|inner| Self { inner })
            }

            #[napi]
            pub fn serialize_raw(&self) -> napi::Result<Uint8Array> {
                guard(|| self.inner.serialize_raw()).map(secret_out)
            }

            /// Copies the state out. Whoever holds these bytes can finish the flow.
            #[napi]
            pub fn serialize(&self) -> napi::Result<Uint8Array> {
                guard(|| self.inner.serialize()).map(secret_out)
            }

            #[napi(getter)]
            pub fn suite(&self) -> &'static str {
                self.inner.suite().name()
            }

            #[napi(getter)]
            pub fn is_spent(&self) -> bool {
                self.inner.is_spent()
            }

            #[napi]
            pub fn dispose(&mut self) {
                self.inner.dispose();
            }
        }

        impl $class {
            pub(crate) fn take(&mut self) -> napi::Result<ProtocolState> {
                guard(|| self.inner.take())
            }
        }
    };
}

state_class!(ClientRegistrationState, Kind::ClientRegistrationState);
state_class!(ClientLoginState, Kind::ClientLoginState);
state_class!(ServerLoginState, Kind::ServerLoginState);
