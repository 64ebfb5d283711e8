//! A session as an application holds one: an initiator waiting for the
//! reply to its handshake, an established session, or a disposed one. The
//! holder chooses how it keeps an established session (`T`): a binding keeps
//! it shareable with its worker threads.

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::session::{Initiating, Session};

/// The message of every use after `dispose()`.
pub const DISPOSED: &str = "this session was disposed";

pub enum Lifecycle<T> {
    Initiating(Box<Initiating>),
    Established(T),
    Disposed,
}

impl<T> Lifecycle<T> {
    /// The established session; else an `InvalidState` error that says why
    /// there is none.
    pub fn established(&self) -> Result<&T> {
        match self {
            Lifecycle::Established(kept) => Ok(kept),
            Lifecycle::Initiating(_) => Err(Error::InvalidState(
                "the handshake is not complete: call complete(reply) first",
            )),
            Lifecycle::Disposed => Err(Error::InvalidState(DISPOSED)),
        }
    }

    /// Reads the reply to an initiator's handshake, keeps the session as
    /// `keep` makes it, and returns the responder's payload. Anything but an
    /// initiator is refused. Either way a failure leaves it disposed: a
    /// handshake whose reply failed cannot be retried (snow's state is spent).
    pub fn complete(
        &mut self,
        reply: &[u8],
        keep: impl FnOnce(Session) -> T,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let Lifecycle::Initiating(initiating) = std::mem::replace(self, Lifecycle::Disposed) else {
            return Err(Error::InvalidState(
                "complete() belongs to an initiator waiting for its reply",
            ));
        };
        let (session, payload) = initiating.complete(reply)?;
        *self = Lifecycle::Established(keep(session));
        Ok(payload)
    }

    pub fn dispose(&mut self) {
        *self = Lifecycle::Disposed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IdentityKey;

    fn initiator(payload: &[u8]) -> (Lifecycle<Session>, Vec<u8>) {
        let (alice, bob) = (
            IdentityKey::generate().unwrap(),
            IdentityKey::generate().unwrap(),
        );
        let (initiating, message) =
            Session::initiate(&alice, &bob.public_key(), b"", b"hi").unwrap();
        let responded = Session::respond(&bob, &message, b"", payload, None).unwrap();
        (Lifecycle::Initiating(Box::new(initiating)), responded.reply)
    }

    fn refused<T>(result: Result<T>, why: &str) -> bool {
        matches!(result, Err(Error::InvalidState(w)) if w == why)
    }

    #[test]
    fn an_initiator_is_established_by_its_reply_and_only_then() {
        let (mut life, reply) = initiator(b"yo");
        assert!(refused(
            life.established(),
            "the handshake is not complete: call complete(reply) first"
        ));
        assert_eq!(&life.complete(&reply, |s| s).unwrap()[..], b"yo");
        assert!(life.established().is_ok());
        life.dispose();
        assert!(refused(life.established(), DISPOSED));
    }

    #[test]
    fn a_failed_or_misplaced_complete_leaves_it_disposed() {
        let (mut life, mut reply) = initiator(b"yo");
        reply[10] ^= 1;
        assert!(life.complete(&reply, |s| s).is_err());
        assert!(refused(life.established(), DISPOSED));
        let (mut life, reply) = initiator(b"yo");
        life.complete(&reply, |s| s).unwrap();
        let again = life.complete(&reply, |s| s);
        assert!(refused(
            again,
            "complete() belongs to an initiator waiting for its reply"
        ));
        assert!(refused(life.established(), DISPOSED));
    }
}
